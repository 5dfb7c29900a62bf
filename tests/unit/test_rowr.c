/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rowr.c - the rowr overlay against a flat byte-array model: split
 * reads, sub-granule writes at every alignment, concurrent overlapping
 * writers, trim, write-zeroes, revert, commit, failing and full uppers,
 * size refusals, map memory, and the persistent overlay on files (reopen,
 * corrupt and truncated maps).  Also the map's range-lock table.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/faulty.h>
#include <liveroot/rowr.h>
#include <liveroot/rowrmap.h>
#include <liveroot/stack.h>
#include <liveroot/util.h>

#include "t.h"

static char tmpdir[256];

static void
fill_pattern(uint8_t *p, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(t_rand(&seed) >> 56);
}

static void
put_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		abort();
}

/*
 * The files of a persistent-overlay test: TMP/TAGlower holding the pattern
 * of seed (also left in model), TMP/TAGupper and its map path.
 */
static void
ovl_files(const char *tag, char lp[300], char up[300], char mp[320],
    uint8_t *model, size_t sz, uint64_t seed)
{
	snprintf(lp, 300, "%s/%slower", tmpdir, tag);
	snprintf(up, 300, "%s/%supper", tmpdir, tag);
	snprintf(mp, 320, "%s.rowrmap", up);
	fill_pattern(model, sz, seed);
	put_file(lp, model, sz);
}

/* A lower whose contents are a copy of model (read-only). */
static struct bdev *
mk_lower(const uint8_t *model, size_t size, int writable)
{
	struct bdev *b = NULL;
	uint8_t *buf = malloc(size);

	memcpy(buf, model, size);
	if (bdev_mem_adopt(buf, size, writable, &b, NULL) != 0)
		abort();
	return (b);
}

static int
same_as(struct bdev *b, const uint8_t *model, size_t size)
{
	uint8_t *buf = malloc(size);
	int ok;

	ok = bdev_read(b, buf, size, 0, NULL) == 0 &&
	    memcmp(buf, model, size) == 0;
	free(buf);
	return (ok);
}

static void
test_mixed_reads(void)
{
	enum { SZ = 64 * 4096 + 1000 };	/* last granule short */
	static uint8_t model[SZ], buf[SZ];
	struct bdev *lower, *upper, *r;
	struct bdev_rowr_stats st;
	struct diag d;
	uint64_t s = 7;
	int i;

	fill_pattern(model, SZ, 1);
	lower = mk_lower(model, SZ, 0);
	CHECK_EQ(bdev_mem_new(SZ, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, &d), 0);
	CHECK_EQ(r->size, SZ);
	/* Write every third granule, the short last one too. */
	for (i = 0; i < 65; i += 3) {
		uint64_t off = (uint64_t)i * 4096;
		size_t n = off + 4096 > SZ ? SZ - off : 4096;

		memset(model + off, 0xA0 + i % 16, n);
		CHECK_EQ(bdev_write(r, model + off, n, off, NULL), 0);
	}
	CHECK(same_as(r, model, SZ));
	for (i = 0; i < 500; i++) {
		uint64_t off = t_rand(&s) % SZ;
		size_t n = (size_t)(t_rand(&s) % (SZ - off)) % 40000 + 1;

		if (off + n > SZ)
			n = SZ - off;
		memset(buf, 0, n);
		CHECK_EQ(bdev_read(r, buf, n, off, NULL), 0);
		if (memcmp(buf, model + off, n) != 0) {
			CHECK(!"mixed read differs from the model");
			break;
		}
	}
	bdev_rowr_get_stats(r, &st);
	CHECK_EQ(st.granules_written, 22);
	CHECK_EQ(st.granule, 4096);
	CHECK(st.bytes_read_lower > 0 && st.bytes_read_upper > 0);
	CHECK_EQ(st.upper_bytes_used, 22 * 4096);
	bdev_destroy(r);
}

static void
test_every_alignment(uint32_t g)
{
	enum { NG = 6 };
	size_t sz = (size_t)g * NG, lens[] = { 1, 7, g - 1, g, g + 1,
	    2 * (size_t)g + 3 };
	uint8_t *model = malloc(sz), *data = malloc(3 * (size_t)g + 8);
	struct bdev *lower, *upper, *r;
	struct bdev_rowr_opts o = { g };
	uint64_t off;
	size_t li;
	int bad = 0;
	uint8_t v = 1;

	fill_pattern(model, sz, 2);
	lower = mk_lower(model, sz, 0);
	CHECK_EQ(bdev_mem_new(sz, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, &o, &r, NULL), 0);
	for (li = 0; li < LR_NELEM(lens); li++) {
		for (off = 0; off + lens[li] <= sz && off < 2 * g + 3; off++) {
			/* At 512: every offset; larger: edges and a sample. */
			if (g > 512 && (off % g) > 8 && (off % g) < g - 8 &&
			    off % 61 != 0)
				continue;
			memset(data, v++, lens[li]);
			if (bdev_write(r, data, lens[li], off, NULL) != 0)
				bad++;
			memcpy(model + off, data, lens[li]);
			if (!same_as(r, model, sz))
				bad++;
		}
		/* Revert between lengths, so each starts from the lower. */
		CHECK_EQ(bdev_rowr_revert(r, NULL), 0);
		fill_pattern(model, sz, 2);
		if (!same_as(r, model, sz))
			bad++;
	}
	CHECK_EQ(bad, 0);
	bdev_destroy(r);
	free(model);
	free(data);
}

/* Writers overwrite the same unaligned range; readers must never see a mix. */
struct thr {
	struct bdev	*r;
	int		 id;
	int		 writer;
	int		 errors;
};

#define THR_OFF		1000
#define THR_LEN		(3 * 4096 + 123)
#define THR_ITERS	2000

static int thr_go, thr_writers_left;

static void *
thr_main(void *arg)
{
	struct thr *t = arg;
	uint8_t buf[THR_LEN];
	int i, j;

	while (!__atomic_load_n(&thr_go, __ATOMIC_ACQUIRE))
		;
	for (i = 0; t->writer ? i < THR_ITERS :
	    __atomic_load_n(&thr_writers_left, __ATOMIC_ACQUIRE) > 0; i++) {
		if (t->writer) {
			memset(buf, (uint8_t)(t->id * 16 + i % 16), sizeof(buf));
			if (bdev_write(t->r, buf, sizeof(buf), THR_OFF, NULL))
				t->errors++;
		} else {
			if (bdev_read(t->r, buf, sizeof(buf), THR_OFF, NULL))
				t->errors++;
			for (j = 1; j < THR_LEN; j++)
				if (buf[j] != buf[0]) {
					t->errors++;
					break;
				}
		}
	}
	if (t->writer)
		__atomic_sub_fetch(&thr_writers_left, 1, __ATOMIC_RELEASE);
	return (NULL);
}

static void
test_threads(void)
{
	enum { SZ = 8 * 4096, NT = 6 };
	static uint8_t model[SZ], buf[SZ];
	struct bdev *lower, *upper, *r;
	struct thr t[NT];
	pthread_t th[NT];
	int i, errors = 0;
	char up[300];

	/* A file upper: pread/pwrite are not atomic against each other, so
	 * only the range locks keep readers from seeing a torn write. */
	snprintf(up, sizeof(up), "%s/thr-upper", tmpdir);
	memset(model, 0x5A, SZ);
	lower = mk_lower(model, SZ, 0);
	CHECK_EQ(bdev_file_open(up, BDEV_FILE_CREATE, SZ, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, NULL), 0);
	/* First write a uniform value so readers start from a whole write. */
	memset(buf, 0x01, THR_LEN);
	CHECK_EQ(bdev_write(r, buf, THR_LEN, THR_OFF, NULL), 0);
	thr_writers_left = NT / 2;
	for (i = 0; i < NT; i++) {
		t[i].r = r;
		t[i].id = i + 1;
		t[i].writer = i < NT / 2;
		t[i].errors = 0;
		pthread_create(&th[i], NULL, thr_main, &t[i]);
	}
	__atomic_store_n(&thr_go, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		errors += t[i].errors;
	}
	CHECK_EQ(errors, 0);
	CHECK_EQ(bdev_read(r, buf, SZ, 0, NULL), 0);
	for (i = 0; i < SZ; i++) {
		int in = i >= THR_OFF && i < THR_OFF + THR_LEN;

		if ((!in && buf[i] != 0x5A) ||
		    (in && buf[i] != buf[THR_OFF])) {
			CHECK(!"a granule mixes two writes or lost the lower");
			break;
		}
	}
	bdev_destroy(r);
}

/* Neighbours in one granule: concurrent copy-ups must not lose a write. */
struct nb {
	struct bdev	*r;
	int		 id;
	int		 round;
	int		 errors;
};

#define NB_N	5
#define NB_LEN	700	/* five 700-byte pieces share granule 0 */

static pthread_barrier_t nb_bar;

static void *
nb_main(void *arg)
{
	struct nb *t = arg;
	uint8_t buf[NB_LEN];

	pthread_barrier_wait(&nb_bar);
	memset(buf, (uint8_t)(t->id * 40 + t->round), sizeof(buf));
	if (bdev_write(t->r, buf, sizeof(buf), 100 + (uint64_t)t->id * NB_LEN,
	    NULL) != 0)
		t->errors++;
	return (NULL);
}

static void
test_neighbours(void)
{
	enum { SZ = 4 * 4096 };
	static uint8_t lowerb[SZ], buf[SZ];
	struct bdev *lower, *upper, *r;
	struct nb t[NB_N];
	pthread_t th[NB_N];
	int round, i, j, bad = 0;

	fill_pattern(lowerb, SZ, 9);
	lower = mk_lower(lowerb, SZ, 0);
	CHECK_EQ(bdev_mem_new(SZ, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, NULL), 0);
	pthread_barrier_init(&nb_bar, NULL, NB_N);
	for (round = 0; round < 200; round++) {
		if (bdev_rowr_revert(r, NULL) != 0)
			bad++;
		for (i = 0; i < NB_N; i++) {
			t[i] = (struct nb){ r, i, round % 40, 0 };
			pthread_create(&th[i], NULL, nb_main, &t[i]);
		}
		for (i = 0; i < NB_N; i++) {
			pthread_join(th[i], NULL);
			bad += t[i].errors;
		}
		if (bdev_read(r, buf, SZ, 0, NULL) != 0)
			bad++;
		for (j = 0; j < SZ; j++) {
			int in = j >= 100 && j < 100 + NB_N * NB_LEN;
			uint8_t want = in ? (uint8_t)(((j - 100) / NB_LEN) * 40 +
			    round % 40) : lowerb[j];

			if (buf[j] != want) {
				bad++;
				break;
			}
		}
	}
	pthread_barrier_destroy(&nb_bar);
	CHECK_EQ(bad, 0);
	bdev_destroy(r);
}

static void
test_trim_zeroes(void)
{
	enum { SZ = 16 * 4096 };
	static uint8_t model[SZ];
	struct bdev *lower, *upper, *r;
	struct bdev_rowr_stats st;

	fill_pattern(model, SZ, 3);
	lower = mk_lower(model, SZ, 0);
	CHECK_EQ(bdev_mem_new(SZ, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, NULL), 0);
	memset(model, 0x77, SZ);
	CHECK_EQ(bdev_write(r, model, SZ, 0, NULL), 0);
	bdev_rowr_get_stats(r, &st);
	CHECK_EQ(st.upper_bytes_used, SZ);
	/* Trim [100, 5*4096+10): granules 1..4 become zero, the ends stay. */
	CHECK_EQ(bdev_trim(r, 100, 5 * 4096 - 90, NULL), 0);
	memset(model + 4096, 0, 4 * 4096);
	CHECK(same_as(r, model, SZ));
	bdev_rowr_get_stats(r, &st);
	CHECK_EQ(st.upper_bytes_used, SZ - 4 * 4096);	/* RAM freed */
	/* Trim of never-written granules reads as zeros too. */
	CHECK_EQ(bdev_rowr_revert(r, NULL), 0);
	fill_pattern(model, SZ, 3);
	CHECK_EQ(bdev_trim(r, 8 * 4096, 2 * 4096, NULL), 0);
	memset(model + 8 * 4096, 0, 2 * 4096);
	CHECK(same_as(r, model, SZ));
	/* Write-zeroes zeroes the partial ends too. */
	CHECK_EQ(bdev_write_zeroes(r, 4096 + 7, 2 * 4096, NULL), 0);
	memset(model + 4096 + 7, 0, 2 * 4096);
	CHECK(same_as(r, model, SZ));
	CHECK_EQ(bdev_write_zeroes(r, 12 * 4096 + 5, 10, NULL), 0);
	memset(model + 12 * 4096 + 5, 0, 10);
	CHECK(same_as(r, model, SZ));
	bdev_destroy(r);
}

/*
 * An upper like a disk without deterministic read-zero-after-trim: a
 * discarded range reads back as whatever the device likes (0xA5 here), and
 * it has no write-zeroes of its own (the core passes it to the RAM below).
 */
static int
dtrim_read(struct bdev *b, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	return (bdev_read(b->lower, buf, len, off, d));
}

static int
dtrim_write(struct bdev *b, const void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	return (bdev_write(b->lower, buf, len, off, d));
}

static int
dtrim_trim(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	uint8_t junk[4096];

	memset(junk, 0xa5, sizeof(junk));
	while (len > 0) {
		size_t n = len < sizeof(junk) ? (size_t)len : sizeof(junk);

		if (bdev_write(b->lower, junk, n, off, d) != 0)
			return (EIO);
		off += n;
		len -= n;
	}
	return (0);
}

static void
dtrim_destroy(struct bdev *b)
{
	free(b);
}

static const struct bdev_ops dtrim_ops = {
	.name = "dtrim",
	.read = dtrim_read,
	.write = dtrim_write,
	.trim = dtrim_trim,
	.destroy = dtrim_destroy,
};

/*
 * Trim and write-zeroes of whole granules on an upper whose own trim does
 * not read back as zeros: the overlay still reads zeros there.
 */
static void
test_zeroed_granules_on_upper_with_nonzero_trim(void)
{
	enum { SZ = 16 * 4096 };
	static uint8_t model[SZ];
	struct bdev *lower, *mem, *upper, *r;

	fill_pattern(model, SZ, 5);
	lower = mk_lower(model, SZ, 0);
	CHECK_EQ(bdev_mem_new(SZ, 0, &mem, NULL), 0);
	upper = calloc(1, sizeof(*upper));
	bdev_init(upper, &dtrim_ops, SZ, 4096, 0, mem, "dtrim");
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, NULL), 0);
	CHECK_EQ(bdev_trim(r, 2 * 4096, 3 * 4096, NULL), 0);
	memset(model + 2 * 4096, 0, 3 * 4096);
	CHECK(same_as(r, model, SZ));
	CHECK_EQ(bdev_write_zeroes(r, 8 * 4096, 2 * 4096, NULL), 0);
	memset(model + 8 * 4096, 0, 2 * 4096);
	CHECK(same_as(r, model, SZ));
	bdev_destroy(r);
}

static void
progress_cb(uint64_t done, uint64_t total, void *arg)
{
	uint64_t *last = arg;

	if (done > total || done < *last)
		last[1]++;
	last[0] = done;
}

static void
test_revert_commit(void)
{
	enum { SZ = 32 * 4096 };
	static uint8_t model[SZ], orig[SZ], data[3 * 4096];
	struct bdev *lower, *upper, *r;
	struct bdev_rowr_stats st;
	uint64_t prog[2] = { 0, 0 };
	struct diag d;

	fill_pattern(orig, SZ, 4);
	memcpy(model, orig, SZ);
	lower = mk_lower(model, SZ, 1);
	CHECK_EQ(bdev_mem_new(SZ, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, NULL), 0);
	memset(data, 0xEE, sizeof(data));
	CHECK_EQ(bdev_write(r, data, 100, 5000, NULL), 0);
	CHECK_EQ(bdev_write(r, data, sizeof(data), 20 * 4096 + 1, NULL), 0);
	memcpy(model + 5000, data, 100);
	memcpy(model + 20 * 4096 + 1, data, sizeof(data));
	CHECK(same_as(r, model, SZ));
	CHECK(same_as(lower, orig, SZ));	/* the lower is untouched */
	CHECK_EQ(bdev_rowr_commit(r, progress_cb, prog, &d), 0);
	CHECK_EQ(prog[0], 5 * 4096);		/* 1 + 4 granules copied */
	CHECK_EQ(prog[1], 0);
	CHECK(same_as(lower, model, SZ));	/* now it is the union */
	CHECK(same_as(r, model, SZ));
	bdev_rowr_get_stats(r, &st);
	CHECK_EQ(st.granules_written, 0);
	CHECK_EQ(st.upper_bytes_used, 0);
	/* Revert forgets everything written since. */
	CHECK_EQ(bdev_write(r, data, 10, 0, NULL), 0);
	CHECK_EQ(bdev_rowr_revert(r, NULL), 0);
	CHECK(same_as(r, model, SZ));
	bdev_rowr_get_stats(r, &st);
	CHECK_EQ(st.granules_written, 0);
	bdev_destroy(r);

	/* Commit into a read-only lower is refused, naming it. */
	lower = mk_lower(model, SZ, 0);
	CHECK_EQ(bdev_mem_new(SZ, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, NULL), 0);
	CHECK_EQ(bdev_write(r, data, 10, 0, NULL), 0);
	CHECK_EQ(bdev_rowr_commit(r, NULL, NULL, &d), EROFS);
	CHECK_MSG(&d, "read-only");
	bdev_destroy(r);
}

static void
test_failing_upper(void)
{
	enum { SZ = 16 * 4096 };
	static uint8_t model[SZ], data[2 * 4096];
	struct bdev *lower, *mem, *upper, *r;
	struct bdev_faulty_opts fo = { 0 };
	struct bdev_rowr_stats st;
	struct diag d;

	fill_pattern(model, SZ, 5);
	lower = mk_lower(model, SZ, 0);
	CHECK_EQ(bdev_mem_new(SZ, 0, &mem, NULL), 0);
	CHECK_EQ(bdev_faulty_new(mem, NULL, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, NULL), 0);
	memset(data, 0x11, sizeof(data));
	CHECK_EQ(bdev_write(r, data, 4096, 0, NULL), 0);
	memcpy(model, data, 4096);
	/* The second upper write of the next request fails (head RMW ok,
	 * body fails): EIO, no new bit, old data everywhere. */
	fo.fail_write_after = 2;
	bdev_faulty_set(upper, &fo);
	memset(data, 0x22, sizeof(data));
	diag_clear(&d);
	CHECK_EQ(bdev_write(r, data, sizeof(data), 3 * 4096 + 10, &d), EIO);
	CHECK_MSG(&d, "injected write error");
	CHECK_MSG(&d, "nothing of it is visible");
	bdev_rowr_get_stats(r, &st);
	CHECK_EQ(st.granules_written, 1);
	CHECK(same_as(r, model, SZ));
	/* Upper healthy again: the same write works. */
	bdev_faulty_set(upper, NULL);
	CHECK_EQ(bdev_write(r, data, sizeof(data), 3 * 4096 + 10, NULL), 0);
	memcpy(model + 3 * 4096 + 10, data, sizeof(data));
	CHECK(same_as(r, model, SZ));
	/* A failing upper flush reaches the caller. */
	fo.fail_write_after = 0;
	fo.range_ops = BDEV_FAULTY_FLUSH;
	fo.range_len = 1;
	bdev_faulty_set(upper, &fo);
	CHECK_EQ(bdev_flush(r, &d), EIO);
	bdev_destroy(r);
}

static void
test_failing_lower(void)
{
	enum { SZ = 8 * 4096 };
	static uint8_t model[SZ], data[100];
	struct bdev *mem, *lower, *upper, *r;
	struct bdev_faulty_opts fo = { 0 };
	struct bdev_rowr_stats st;
	struct diag d;

	fill_pattern(model, SZ, 6);
	mem = mk_lower(model, SZ, 0);
	fo.range_off = 2 * 4096;
	fo.range_len = 4096;
	fo.range_ops = BDEV_FAULTY_READ;
	fo.error = EIO;
	CHECK_EQ(bdev_faulty_new(mem, &fo, &lower, NULL), 0);
	CHECK_EQ(bdev_mem_new(SZ, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, NULL), 0);
	memset(data, 0x33, sizeof(data));
	/* A sub-granule write whose copy-up read fails changes nothing. */
	CHECK_EQ(bdev_write(r, data, sizeof(data), 2 * 4096 + 50, &d), EIO);
	CHECK_MSG(&d, "copy-up");
	/* Regression (found by fuzz_stack): with a NULL diag the copy-up
	 * error was lost and the write acknowledged. */
	CHECK_EQ(bdev_write(r, data, sizeof(data), 2 * 4096 + 50, NULL), EIO);
	bdev_rowr_get_stats(r, &st);
	CHECK_EQ(st.granules_written, 0);
	CHECK_EQ(st.bytes_written, 0);
	/* A whole-granule write needs no lower read and then hides the
	 * bad lower granule. */
	memset(model + 2 * 4096, 0x44, 4096);
	CHECK_EQ(bdev_write(r, model + 2 * 4096, 4096, 2 * 4096, NULL), 0);
	CHECK(same_as(r, model, SZ));
	bdev_destroy(r);
}

static void
test_enospc(void)
{
	enum { SZ = 4 << 20 };
	struct bdev *lower, *upper, *r;
	struct bdev_rowr_stats st;
	uint8_t *data = malloc(2 << 20);
	struct diag d;
	uint8_t c;

	CHECK_EQ(bdev_mem_new(SZ, 0, &lower, NULL), 0);
	CHECK_EQ(bdev_mem_new(SZ, 1 << 20, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, NULL), 0);
	memset(data, 0x99, 2 << 20);
	CHECK_EQ(bdev_write(r, data, 512 << 10, 0, NULL), 0);
	diag_clear(&d);
	CHECK_EQ(bdev_write(r, data, 1 << 20, 1 << 20, &d), ENOSPC);
	CHECK_MSG(&d, "1 MiB cap");
	bdev_rowr_get_stats(r, &st);
	CHECK_EQ(st.granules_written, 128);
	CHECK_EQ(bdev_read(r, &c, 1, (1 << 20) + 5, NULL), 0);
	CHECK_EQ(c, 0);			/* still the lower's zero */
	CHECK_EQ(bdev_read(r, &c, 1, 5, NULL), 0);
	CHECK_EQ(c, 0x99);		/* acknowledged data kept */
	bdev_destroy(r);
	free(data);
}

static void
test_sizes(void)
{
	struct bdev *lower, *upper, *r;
	struct bdev_rowr_opts o = { 1000 };
	struct bdev_rowr_stats st;
	char lp[300], up[300];
	struct diag d;
	FILE *f;

	/* A too-small file upper is refused with the size to use. */
	snprintf(lp, sizeof(lp), "%s/lower", tmpdir);
	snprintf(up, sizeof(up), "%s/small", tmpdir);
	f = fopen(lp, "w");
	fclose(f);
	truncate(lp, 1 << 20);
	f = fopen(up, "w");
	fclose(f);
	truncate(up, 512 << 10);
	CHECK_EQ(bdev_file_open(lp, BDEV_FILE_RDONLY, 0, &lower, NULL), 0);
	CHECK_EQ(bdev_file_open(up, 0, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, &d), EINVAL);
	CHECK_MSG(&d, "at least 1048576 bytes");
	CHECK_EQ(bdev_rowr_create_files(lp, up, NULL, &d), EINVAL);
	CHECK_MSG(&d, "truncate -s 1048576");
	/* A bigger upper is fine: no byte-exact match needed. */
	bdev_destroy(upper);
	truncate(up, 3 << 20);
	CHECK_EQ(bdev_file_open(up, 0, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, &d), 0);
	CHECK_EQ(r->size, 1 << 20);
	bdev_destroy(r);
	/* Bad granule. */
	CHECK_EQ(bdev_mem_new(1 << 20, 0, &lower, NULL), 0);
	CHECK_EQ(bdev_mem_new(1 << 20, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, &o, &r, &d), EINVAL);
	CHECK_MSG(&d, "power of 2");
	o.granule = 131072;
	CHECK_EQ(bdev_rowr_new(lower, upper, &o, &r, &d), EINVAL);
	bdev_destroy(lower);
	bdev_destroy(upper);
	/* Map memory: 32 KiB per GiB at 4 KiB granules, reported. */
	CHECK_EQ(bdev_rowr_map_bytes(1ULL << 30, 4096), 32768);
	CHECK_EQ(bdev_rowr_map_bytes(1ULL << 30, 65536), 2048);
	CHECK_EQ(bdev_mem_new(1ULL << 30, 0, &lower, NULL), 0);
	CHECK_EQ(bdev_mem_new(1ULL << 30, 64 << 20, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, NULL), 0);
	bdev_rowr_get_stats(r, &st);
	printf("map memory per GiB at 4 KiB granules: %ju bytes (bitmap "
	    "32768 + lock table %ju)\n", (uintmax_t)st.map_bytes,
	    (uintmax_t)(st.map_bytes - 32768));
	CHECK(st.map_bytes >= 32768 && st.map_bytes <= 32768 + 4096);
	bdev_destroy(r);
}

/* A lower with a big block size (a uzip image with 256 KiB clusters). */
static int
big_read(struct bdev *b, void *buf, size_t len, uint64_t off, struct diag *d)
{
	memset(buf, 0x42, len);
	return (0);
}

static void
big_destroy(struct bdev *b)
{
	free(b);
}

static const struct bdev_ops big_ops = {
	.name = "big", .read = big_read, .destroy = big_destroy,
};

static void
test_default_granule(void)
{
	struct bdev *lower, *upper, *r;
	struct bdev_rowr_stats st;

	lower = calloc(1, sizeof(*lower));
	bdev_init(lower, &big_ops, 1 << 20, 262144, 1, NULL, "big");
	CHECK_EQ(bdev_mem_new(1 << 20, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, NULL), 0);
	bdev_rowr_get_stats(r, &st);
	CHECK_EQ(st.granule, 65536);	/* the lower's, capped */
	bdev_destroy(r);
	lower = calloc(1, sizeof(*lower));
	bdev_init(lower, &big_ops, 1 << 20, 16384, 1, NULL, "big");
	CHECK_EQ(bdev_mem_new(1 << 20, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_new(lower, upper, NULL, &r, NULL), 0);
	bdev_rowr_get_stats(r, &st);
	CHECK_EQ(st.granule, 16384);
	bdev_destroy(r);
}

static void
test_lock_table(void)
{
	struct lr_rowrmap m;
	uint32_t a, b, c, slots[4];
	int i;

	CHECK_EQ(lr_rowrmap_init(&m, 1 << 20, 4096, 4, &lr_libc_allocator,
	    NULL), 0);
	CHECK_EQ(lr_rowrmap_lock_try(&m, 0, 10, 0, &a), 0);
	CHECK_EQ(lr_rowrmap_lock_try(&m, 5, 15, 0, &b), 0);	/* readers share */
	CHECK_EQ(lr_rowrmap_lock_try(&m, 9, 12, 1, &c), EBUSY);
	CHECK_EQ(lr_rowrmap_lock_try(&m, 15, 20, 1, &c), 0);	/* disjoint */
	CHECK_EQ(lr_rowrmap_lock_try(&m, 19, 21, 0, &slots[0]), EBUSY);
	lr_rowrmap_unlock(&m, a);
	lr_rowrmap_unlock(&m, b);
	lr_rowrmap_unlock(&m, c);
	for (i = 0; i < 4; i++)
		CHECK_EQ(lr_rowrmap_lock_try(&m, i, i + 1, 1, &slots[i]), 0);
	CHECK_EQ(lr_rowrmap_lock_try(&m, 100, 101, 0, &a), EAGAIN);
	lr_rowrmap_fini(&m);
	CHECK_EQ(lr_rowrmap_init(&m, 1 << 20, 3000, 0, &lr_libc_allocator,
	    NULL), EINVAL);
}

static void
test_persistent(void)
{
	enum { SZ = 1 << 20 };
	static uint8_t model[SZ], data[10000];
	char lp[300], up[300], mp[320];
	struct bdev_rowr_info info;
	struct bdev_rowr_opts o = { 8192 };
	struct bdev *r, *r2;
	struct diag d;
	struct stat st;
	FILE *f;
	uint8_t byte;

	ovl_files("p", lp, up, mp, model, SZ, 8);
	CHECK_EQ(bdev_rowr_create_files(lp, up, &o, &d), 0);
	CHECK(stat(up, &st) == 0 && st.st_size == SZ);	/* made sparse */
	CHECK_EQ(bdev_rowr_create_files(lp, up, &o, &d), EEXIST);
	CHECK_MSG(&d, "already an overlay");
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r, &d), 0);
	/* A second writer is refused while the first holds it. */
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r2, &d), EBUSY);
	CHECK_MSG(&d, "in use");
	memset(data, 0xC3, sizeof(data));
	CHECK_EQ(bdev_write(r, data, sizeof(data), 12345, NULL), 0);
	memcpy(model + 12345, data, sizeof(data));
	CHECK_EQ(bdev_write(r, data, 1, SZ - 1, NULL), 0);
	model[SZ - 1] = 0xC3;
	CHECK_EQ(bdev_flush(r, &d), 0);
	CHECK_EQ(bdev_rowr_read_info(mp, &info, &d), 0);
	CHECK_EQ(info.granule, 8192);
	CHECK_EQ(info.granules_written, 3);
	CHECK(strstr(info.lower_path, "plower") != NULL);
	CHECK_EQ(bdev_write(r, data, 5, 500000, NULL), 0);	/* saved at close */
	memcpy(model + 500000, data, 5);
	bdev_destroy(r);
	/* Reopen: every write is still there, the lower untouched. */
	CHECK_EQ(bdev_rowr_open_files(up, 1, &r, &d), 0);
	CHECK(same_as(r, model, SZ));
	CHECK(r->readonly);
	CHECK_EQ(bdev_write(r, data, 1, 0, &d), EROFS);
	bdev_destroy(r);
	CHECK_EQ(bdev_rowr_read_info(mp, &info, &d), 0);
	CHECK_EQ(info.granules_written, 4);
	/* Commit through the files API. */
	CHECK_EQ(bdev_rowr_open_files_flags(up, BDEV_ROWR_LOWER_RW, &r, &d), 0);
	CHECK_EQ(bdev_rowr_commit(r, NULL, NULL, &d), 0);
	bdev_destroy(r);
	CHECK_EQ(bdev_rowr_read_info(mp, &info, &d), 0);
	CHECK_EQ(info.granules_written, 0);
	CHECK_EQ(bdev_file_open(lp, BDEV_FILE_RDONLY, 0, &r, NULL), 0);
	CHECK(same_as(r, model, SZ));
	bdev_destroy(r);

	/* A corrupt map is refused, naming the file. */
	f = fopen(mp, "r+b");
	fseek(f, 70, SEEK_SET);
	byte = 0x5A;
	fwrite(&byte, 1, 1, f);
	fclose(f);
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r, &d), BDEV_ROWR_ECORRUPT);
	CHECK_MSG(&d, "pupper.rowrmap: overlay map is corrupt");
	CHECK_MSG(&d, "checksum");
	/* A truncated map too. */
	CHECK(stat(mp, &st) == 0);
	truncate(mp, st.st_size - 1);
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r, &d), BDEV_ROWR_ECORRUPT);
	CHECK_MSG(&d, "truncated");
	truncate(mp, 10);
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r, &d), BDEV_ROWR_ECORRUPT);
	CHECK_MSG(&d, "corrupt");
	/* A lower whose size changed is refused. */
	CHECK_EQ(bdev_rowr_destroy_files(up, 0, &d), 0);
	CHECK(stat(up, &st) == 0);	/* kept */
	CHECK_EQ(bdev_rowr_create_files(lp, up, NULL, &d), 0);
	truncate(lp, SZ + 4096);
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r, &d), BDEV_ROWR_ELOWER);
	CHECK_MSG(&d, "1048576-byte lower");
	CHECK_EQ(bdev_rowr_destroy_files(up, 1, &d), 0);
	CHECK(stat(up, &st) != 0);
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r, &d), ENOENT);
	CHECK_MSG(&d, "no overlay map");
	unlink(lp);
}

/* --- the map's version 2 fields, the lower's identity, commit safety ----- */


static int
file_is(const char *path, const uint8_t *model, size_t size)
{
	struct bdev *b;
	int ok;

	if (bdev_file_open(path, BDEV_FILE_RDONLY, 0, &b, NULL) != 0)
		return (0);
	ok = b->size == size && same_as(b, model, size);
	bdev_destroy(b);
	return (ok);
}

/* No library message names a command: the CLI adds those. */
#define CHECK_NO_CMD(d)	CHECK(strstr((d)->msg, "'liveroot") == NULL)

static void
test_map_format_v2(void)
{
	struct lr_rowrmap m, m2;
	struct lr_rowrmap_ident id, zero;
	struct lr_rowrmap_hdr h;
	const char *path;
	uint8_t buf[512], v1[128];
	struct diag d;
	uint64_t len;

	memset(&zero, 0, sizeof(zero));
	CHECK_EQ(lr_rowrmap_init(&m, 100000, 4096, 0, &lr_libc_allocator,
	    NULL), 0);
	lr_bitmap_set_range(&m.bm, 3, 5);
	len = lr_rowrmap_encoded_len(&m, 4);
	CHECK_EQ(len, 64 + 128 + 4 + 4);
	memset(&id, 0, sizeof(id));
	id.kind = LR_ROWRMAP_ID_SAMPLED;
	id.dev = 7;
	id.ino = 8;
	id.size = 100000;
	id.mtime_sec = -5;
	id.mtime_nsec = 999999999;
	memset(id.hash, 0xA5, sizeof(id.hash));
	memset(id.hash_after, 0x5A, sizeof(id.hash_after));
	/* hash_after without COMMIT, unknown flags, bad ns: not encodable. */
	CHECK_EQ(lr_rowrmap_encode_ext(&m, 3, 0, &id, "/low", 4, buf, len),
	    EINVAL);
	CHECK_EQ(lr_rowrmap_encode_ext(&m, 3, 2, NULL, "/low", 4, buf, len),
	    EINVAL);
	id.mtime_nsec = 1000000000;
	CHECK_EQ(lr_rowrmap_encode_ext(&m, 3, LR_ROWRMAP_F_COMMIT, &id, "/low",
	    4, buf, len), EINVAL);
	id.mtime_nsec = 999999999;
	CHECK_EQ(lr_rowrmap_encode_ext(&m, 3, LR_ROWRMAP_F_COMMIT, &id, "/low",
	    4, buf, len), 0);
	CHECK_EQ(lr_rowrmap_decode(buf, len, &h, &path, NULL, &d), 0);
	CHECK_EQ(h.version, 2);
	CHECK_EQ(h.flags, LR_ROWRMAP_F_COMMIT);
	CHECK_EQ(h.pathoff, 192);
	CHECK_EQ(h.ident.kind, LR_ROWRMAP_ID_SAMPLED);
	CHECK_EQ(h.ident.mtime_sec, -5);
	CHECK_EQ(h.ident.mtime_nsec, 999999999);
	CHECK_EQ(h.ident.ino, 8);
	CHECK(memcmp(h.ident.hash_after, id.hash_after, 32) == 0);
	CHECK(memcmp(path, "/low", 4) == 0);
	CHECK_EQ(lr_rowrmap_init(&m2, 100000, 4096, 0, &lr_libc_allocator,
	    NULL), 0);
	CHECK_EQ(lr_rowrmap_decode(buf, len, &h, &path, &m2, &d), 0);
	CHECK_EQ(lr_bitmap_count(&m2.bm, 0, m2.ngranules), 5);
	/* A set flag bit the decoder does not know is refused. */
	buf[48] |= 2;
	lr_le32enc(buf + 60, lr_crc32(0, buf, 60));
	CHECK_EQ(lr_rowrmap_decode(buf, len, &h, &path, NULL, &d), EINVAL);
	CHECK_MSG(&d, "flags");
	/* Kind 0 with bytes in the identity is refused. */
	CHECK_EQ(lr_rowrmap_encode(&m, 3, "/low", 4, buf, len), 0);
	buf[64 + 20] = 1;
	lr_le32enc(buf + 44, lr_crc32(0, buf + 64, len - 64));
	lr_le32enc(buf + 60, lr_crc32(0, buf, 60));
	CHECK_EQ(lr_rowrmap_decode(buf, len, &h, &path, NULL, &d), EINVAL);
	CHECK_MSG(&d, "not recorded");
	/* Version 1 (64-byte header, path at 64) still decodes, kind 0. */
	memset(v1, 0, sizeof(v1));
	memcpy(v1, "LRROWRMP", 8);
	lr_le32enc(v1 + 8, 1);
	lr_le32enc(v1 + 12, 4096);
	lr_le64enc(v1 + 16, 100000);
	lr_le64enc(v1 + 24, 9);
	lr_le64enc(v1 + 32, 4);
	lr_le32enc(v1 + 40, 4);
	memcpy(v1 + 64, "/old", 4);
	v1[68] = 0x81;
	lr_le32enc(v1 + 44, lr_crc32(0, v1 + 64, 8));
	lr_le32enc(v1 + 60, lr_crc32(0, v1, 60));
	CHECK_EQ(lr_rowrmap_decode(v1, 72, &h, &path, &m2, &d), 0);
	CHECK_EQ(h.version, 1);
	CHECK_EQ(h.pathoff, 64);
	CHECK_EQ(h.ident.kind, LR_ROWRMAP_ID_NONE);
	CHECK(memcmp(path, "/old", 4) == 0);
	CHECK_EQ(lr_bitmap_count(&m2.bm, 0, m2.ngranules), 2);
	/* A version 1 header with bytes in 48..59 is refused. */
	v1[50] = 1;
	lr_le32enc(v1 + 60, lr_crc32(0, v1, 60));
	CHECK_EQ(lr_rowrmap_decode(v1, 72, &h, &path, NULL, &d), EINVAL);
	lr_rowrmap_fini(&m);
	lr_rowrmap_fini(&m2);
}

/*
 * Regression: a lower replaced by other data of the same size was accepted
 * (only path and size were recorded), so every written granule sat on the
 * wrong base.  Now refused by the file helpers, by open_persistent (the
 * serve path) and by check_lower (status), naming both lowers; a copy of
 * the right bytes at a new inode is accepted.
 */
static void
test_lower_identity(void)
{
	enum { SZ = 3 << 20 };
	static uint8_t model[SZ], other[SZ];
	char lp[300], up[300], mp[320], cp[300];
	struct bdev_rowr_info info;
	struct bdev *r, *lower, *upper;
	struct diag d;
	uint8_t x = 0x77;

	snprintf(lp, sizeof(lp), "%s/ilower", tmpdir);
	snprintf(cp, sizeof(cp), "%s/ilower.copy", tmpdir);
	snprintf(up, sizeof(up), "%s/iupper", tmpdir);
	snprintf(mp, sizeof(mp), "%s.rowrmap", up);
	fill_pattern(model, SZ, 21);
	memcpy(other, model, SZ);
	other[SZ - 1] ^= 1;	/* the last sampled block differs */
	put_file(lp, model, SZ);
	CHECK_EQ(bdev_rowr_create_files(lp, up, NULL, &d), 0);
	CHECK_EQ(bdev_rowr_read_info(mp, &info, &d), 0);
	CHECK_EQ(info.version, 2);
	CHECK_EQ(info.lower_kind, LR_ROWRMAP_ID_SAMPLED);
	CHECK_EQ(info.lower_size, SZ);
	CHECK_EQ(strlen(info.lower_sha256), 64);
	CHECK_EQ(bdev_rowr_check_lower(mp, &d), 0);
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r, &d), 0);
	CHECK_EQ(bdev_write(r, &x, 1, 5000, NULL), 0);
	bdev_destroy(r);

	/* Same size, other bytes: refused everywhere, both named. */
	put_file(lp, other, SZ);
	diag_clear(&d);
	CHECK_EQ(bdev_rowr_check_lower(mp, &d), BDEV_ROWR_ELOWER);
	CHECK_MSG(&d, "iupper.rowrmap: made on another lower");
	CHECK_MSG(&d, "the same file, changed since");
	CHECK_MSG(&d, "recorded ");
	CHECK_MSG(&d, "found ");
	CHECK_MSG(&d, "3145728 bytes, sha256 ");
	{
		char want[32];

		snprintf(want, sizeof(want), "sha256 %.12s;",
		    info.lower_sha256);
		CHECK_MSG(&d, want);
	}
	CHECK_NO_CMD(&d);
	CHECK_EQ(bdev_rowr_open_files(up, 1, &r, &d), BDEV_ROWR_ELOWER);
	CHECK_MSG(&d, "made on another lower");
	CHECK_EQ(bdev_rowr_open_files_flags(up, BDEV_ROWR_LOWER_RW |
	    BDEV_ROWR_RESUME, &r, &d), BDEV_ROWR_ELOWER);
	CHECK_EQ(bdev_file_open(lp, BDEV_FILE_RDONLY, 0, &lower, NULL), 0);
	CHECK_EQ(bdev_file_open(up, 0, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_open_persistent(lower, upper, mp, NULL, NULL, 0,
	    &r, &d), BDEV_ROWR_ELOWER);
	CHECK_MSG(&d, "made on another lower");
	bdev_destroy(upper);
	bdev_destroy(lower);

	/* The right bytes again, as a copy at a new inode: accepted. */
	put_file(cp, model, SZ);
	CHECK_EQ(rename(cp, lp), 0);
	CHECK_EQ(bdev_rowr_check_lower(mp, &d), 0);
	CHECK_EQ(bdev_rowr_open_files(up, 1, &r, &d), 0);
	model[5000] = x;
	CHECK(same_as(r, model, SZ));
	bdev_destroy(r);
	CHECK_EQ(bdev_rowr_destroy_files(up, BDEV_ROWR_DESTROY_REMOVE, &d), 0);

	/* Devices without a path (the serve path's shape): mem lowers. */
	lower = mk_lower(model, SZ, 0);
	CHECK_EQ(bdev_mem_new(SZ, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_open_persistent(lower, upper, mp, NULL, NULL,
	    BDEV_ROWR_CREATE, &r, &d), 0);
	bdev_destroy(r);
	lower = mk_lower(other, SZ, 0);
	CHECK_EQ(bdev_mem_new(SZ, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_open_persistent(lower, upper, mp, NULL, NULL, 0,
	    &r, &d), BDEV_ROWR_ELOWER);
	CHECK_MSG(&d, "made on another lower");
	bdev_destroy(lower);
	lower = mk_lower(model, SZ, 0);
	CHECK_EQ(bdev_rowr_open_persistent(lower, upper, mp, NULL, NULL, 0,
	    &r, &d), 0);
	bdev_destroy(r);
	unlink(mp);
	/* Up to 256 KiB a lower is hashed whole: one byte in the middle. */
	lower = mk_lower(model, 256 << 10, 0);
	CHECK_EQ(bdev_mem_new(256 << 10, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_open_persistent(lower, upper, mp, NULL, NULL,
	    BDEV_ROWR_CREATE, &r, &d), 0);
	bdev_destroy(r);
	memcpy(other, model, 256 << 10);
	other[100001] ^= 0x40;
	lower = mk_lower(other, 256 << 10, 0);
	CHECK_EQ(bdev_mem_new(256 << 10, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_open_persistent(lower, upper, mp, NULL, NULL, 0,
	    &r, &d), BDEV_ROWR_ELOWER);
	bdev_destroy(lower);
	bdev_destroy(upper);
	unlink(mp);
	unlink(lp);
}

/* A map from before identities (version 1) opens and is upgraded. */
static void
test_v1_map(void)
{
	enum { SZ = 1 << 20 };
	static uint8_t model[SZ];
	char lp[300], up[300], mp[320];
	struct bdev_rowr_info info;
	uint8_t hdr[64], bits[32];
	struct bdev *r;
	struct diag d;
	FILE *f;
	uint32_t crc;

	ovl_files("v1", lp, up, mp, model, SZ, 5);
	memset(model, 0xEE, 8192);	/* granules 0 and 1, in the upper */
	put_file(up, model, SZ);
	memset(hdr, 0, sizeof(hdr));
	memset(bits, 0, sizeof(bits));
	bits[0] = 0x03;
	memcpy(hdr, "LRROWRMP", 8);
	lr_le32enc(hdr + 8, 1);
	lr_le32enc(hdr + 12, 4096);
	lr_le64enc(hdr + 16, SZ);
	lr_le64enc(hdr + 24, 4);
	lr_le64enc(hdr + 32, sizeof(bits));
	lr_le32enc(hdr + 40, (uint32_t)strlen(lp));
	crc = lr_crc32(0, lp, strlen(lp));
	crc = lr_crc32(crc, bits, sizeof(bits));
	lr_le32enc(hdr + 44, crc);
	lr_le32enc(hdr + 60, lr_crc32(0, hdr, 60));
	f = fopen(mp, "wb");
	fwrite(hdr, 1, 64, f);
	fwrite(lp, 1, strlen(lp), f);
	fwrite(bits, 1, sizeof(bits), f);
	fclose(f);
	CHECK_EQ(bdev_rowr_read_info(mp, &info, &d), 0);
	CHECK_EQ(info.version, 1);
	CHECK_EQ(info.lower_kind, LR_ROWRMAP_ID_NONE);
	CHECK_EQ(info.granules_written, 2);
	CHECK_EQ(bdev_rowr_check_lower(mp, &d), 0);	/* not recorded */
	/* Read-only: served as it is, the map untouched. */
	CHECK_EQ(bdev_rowr_open_files(up, 1, &r, &d), 0);
	CHECK(same_as(r, model, SZ));
	bdev_destroy(r);
	CHECK_EQ(bdev_rowr_read_info(mp, &info, &d), 0);
	CHECK_EQ(info.version, 1);
	/* Writable: the identity is recorded at close, as version 2. */
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r, &d), 0);
	CHECK(same_as(r, model, SZ));
	bdev_destroy(r);
	CHECK_EQ(bdev_rowr_read_info(mp, &info, &d), 0);
	CHECK_EQ(info.version, 2);
	CHECK_EQ(info.lower_kind, LR_ROWRMAP_ID_SAMPLED);
	CHECK_EQ(info.granules_written, 2);
	CHECK_EQ(info.generation, 5);
	CHECK_EQ(bdev_rowr_check_lower(mp, &d), 0);
	CHECK_EQ(bdev_rowr_destroy_files(up, BDEV_ROWR_DESTROY_REMOVE, &d), 0);
	unlink(lp);
}

struct busy_probe {
	const char	*other_upper;
	int		 calls;
	int		 open_error;
	char		 msg[DIAG_MSGLEN];
};

/* Progress callback: while the commit runs, try the other overlay. */
static void
probe_other(uint64_t done, uint64_t total, void *arg)
{
	struct busy_probe *p = arg;
	struct bdev *b;
	struct diag d;

	if (p->calls++ != 0)
		return;
	diag_clear(&d);
	p->open_error = bdev_rowr_open_files(p->other_upper, 1, &b, &d);
	if (p->open_error == 0)
		bdev_destroy(b);
	memcpy(p->msg, d.msg, sizeof(p->msg));
}

/*
 * Regression: an interrupted commit left the lower torn and nothing said
 * so; the next open served the overlay (and revert or destroy would lose
 * the only copy of the data).  Now the map records the commit before the
 * first byte reaches the lower; every open refuses until the commit is run
 * again, and that run completes it.  The interruption here is a lower whose
 * third write fails (the kill test is tests/integration/overlay_commit.sh).
 */
/* Commits the persistent overlay UP into the file LP through a lower whose
 * nth write fails: the commit must fail with EIO. */
static void
commit_failing(const char *lp, const char *up, const char *mp, unsigned n)
{
	struct bdev_faulty_opts fo = { 0 };
	struct bdev *r, *lower, *flower, *upper;
	struct diag d;

	CHECK_EQ(bdev_file_open(lp, 0, 0, &lower, NULL), 0);
	fo.fail_write_after = n;
	CHECK_EQ(bdev_faulty_new(lower, &fo, &flower, NULL), 0);
	CHECK_EQ(bdev_file_open(up, 0, 0, &upper, NULL), 0);
	CHECK_EQ(bdev_rowr_open_persistent(flower, upper, mp, NULL, NULL, 0,
	    &r, &d), 0);
	CHECK_EQ(bdev_rowr_commit(r, NULL, NULL, &d), EIO);
	bdev_destroy(r);
}

/* Re-runs the interrupted commit of UP: it must complete. */
static void
commit_resume(const char *up)
{
	struct bdev *r;
	struct diag d;

	CHECK_EQ(bdev_rowr_open_files_flags(up, BDEV_ROWR_LOWER_RW |
	    BDEV_ROWR_RESUME, &r, &d), 0);
	CHECK_EQ(bdev_rowr_commit(r, NULL, NULL, &d), 0);
	bdev_destroy(r);
}

static void
test_interrupted_commit(void)
{
	enum { SZ = 4 << 20 };
	static uint8_t model[SZ], want[SZ], chunk[1 << 20];
	char lp[300], up[300], mp[320];
	struct bdev_rowr_info info;
	struct bdev *r;
	struct diag d;
	int i;

	ovl_files("c", lp, up, mp, model, SZ, 31);
	memcpy(want, model, SZ);
	CHECK_EQ(bdev_rowr_create_files(lp, up, NULL, &d), 0);
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r, &d), 0);
	for (i = 0; i < 4; i++) {	/* four 1 MiB runs, a gap between */
		memset(chunk, 0x10 + i, sizeof(chunk));
		CHECK_EQ(bdev_write(r, chunk, sizeof(chunk) - 4096,
		    (uint64_t)i << 20, NULL), 0);
		memcpy(want + ((size_t)i << 20), chunk, sizeof(chunk) - 4096);
	}
	bdev_destroy(r);

	/* Commit into a lower whose third write fails: torn. */
	commit_failing(lp, up, mp, 3);
	CHECK(!file_is(lp, model, SZ) && !file_is(lp, want, SZ));

	/* Every open refuses, naming the fix without a command. */
	CHECK_EQ(bdev_rowr_read_info(mp, &info, &d), 0);
	CHECK(info.commit_pending);
	CHECK_EQ(info.granules_written, 4 * 255);
	diag_clear(&d);
	CHECK_EQ(bdev_rowr_open_files(up, 1, &r, &d), BDEV_ROWR_ECOMMIT);
	CHECK_MSG(&d, "cupper.rowrmap: a commit into the lower");
	CHECK_MSG(&d, "was interrupted");
	CHECK_NO_CMD(&d);
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r, &d), BDEV_ROWR_ECOMMIT);
	CHECK_EQ(bdev_rowr_check_lower(mp, &d), BDEV_ROWR_ECOMMIT);
	CHECK_MSG(&d, "interrupted");
	CHECK_EQ(bdev_rowr_destroy_files(up, 0, &d), BDEV_ROWR_ECOMMIT);
	CHECK(access(mp, F_OK) == 0);
	/* Opened to resume, it is not reverted. */
	CHECK_EQ(bdev_rowr_open_files_flags(up, BDEV_ROWR_RESUME, &r, &d), 0);
	CHECK_EQ(bdev_rowr_revert(r, &d), BDEV_ROWR_ECOMMIT);
	CHECK_NO_CMD(&d);
	bdev_destroy(r);

	/* Running it again completes it: the lower is the union. */
	commit_resume(up);
	CHECK(file_is(lp, want, SZ));
	CHECK_EQ(bdev_rowr_read_info(mp, &info, &d), 0);
	CHECK(!info.commit_pending);
	CHECK_EQ(info.granules_written, 0);
	CHECK_EQ(bdev_rowr_check_lower(mp, &d), 0);	/* new identity */
	CHECK_EQ(bdev_rowr_open_files(up, 1, &r, &d), 0);
	CHECK(same_as(r, want, SZ));
	bdev_destroy(r);

	/* Interrupted before a byte was copied (the first write fails). */
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r, &d), 0);
	CHECK_EQ(bdev_write(r, chunk, 4096, 0, NULL), 0);
	memcpy(want, chunk, 4096);
	bdev_destroy(r);
	commit_failing(lp, up, mp, 1);
	CHECK_EQ(bdev_rowr_open_files(up, 1, &r, &d), BDEV_ROWR_ECOMMIT);
	commit_resume(up);
	CHECK(file_is(lp, want, SZ));
	/* A forced destroy drops a pending overlay. */
	CHECK_EQ(bdev_rowr_destroy_files(up, BDEV_ROWR_DESTROY_REMOVE |
	    BDEV_ROWR_DESTROY_FORCE, &d), 0);
	unlink(lp);
}

/*
 * Regression: nothing locked the lower during a commit, so a second
 * overlay on the same lower could be served or committed while the lower
 * changed under it.  Now a commit holds the lower exclusively: it is
 * refused while another overlay on the lower is open, and opening one
 * while the commit runs is refused.
 */
static void
test_commit_lock(void)
{
	enum { SZ = 2 << 20 };
	static uint8_t model[SZ], data[8192];
	char lp[300], ua[300], ub[300], mb[320];
	struct busy_probe probe;
	struct bdev *a, *b;
	struct diag d;

	snprintf(lp, sizeof(lp), "%s/llower", tmpdir);
	snprintf(ua, sizeof(ua), "%s/lupper.a", tmpdir);
	snprintf(ub, sizeof(ub), "%s/lupper.b", tmpdir);
	snprintf(mb, sizeof(mb), "%s.rowrmap", ub);
	fill_pattern(model, SZ, 41);
	put_file(lp, model, SZ);
	CHECK_EQ(bdev_rowr_create_files(lp, ua, NULL, &d), 0);
	CHECK_EQ(bdev_rowr_create_files(lp, ub, NULL, &d), 0);
	CHECK_EQ(bdev_rowr_open_files_flags(ua, BDEV_ROWR_LOWER_RW, &a, &d),
	    0);
	memset(data, 0x42, sizeof(data));
	CHECK_EQ(bdev_write(a, data, sizeof(data), 0, NULL), 0);
	CHECK_EQ(bdev_write(a, data, sizeof(data), SZ - 8192, NULL), 0);
	memcpy(model, data, sizeof(data));
	memcpy(model + SZ - 8192, data, sizeof(data));
	/* B open: A's commit is refused, nothing copied. */
	CHECK_EQ(bdev_rowr_open_files(ub, 1, &b, &d), 0);
	diag_clear(&d);
	CHECK_EQ(bdev_rowr_commit(a, NULL, NULL, &d), EBUSY);
	CHECK_MSG(&d, "llower now: it is in use");
	bdev_destroy(b);
	/* While A commits, B cannot be opened. */
	memset(&probe, 0, sizeof(probe));
	probe.other_upper = ub;
	CHECK_EQ(bdev_rowr_commit(a, probe_other, &probe, &d), 0);
	CHECK(probe.calls > 0);
	CHECK_EQ(probe.open_error, EBUSY);
	CHECK(strstr(probe.msg, "in use by a commit") != NULL);
	bdev_destroy(a);
	CHECK(file_is(lp, model, SZ));
	/* Afterwards B sees a changed lower and refuses it. */
	CHECK_EQ(bdev_rowr_check_lower(mb, &d), BDEV_ROWR_ELOWER);
	CHECK_EQ(bdev_rowr_open_files(ub, 1, &b, &d), BDEV_ROWR_ELOWER);
	CHECK_EQ(bdev_rowr_destroy_files(ua, BDEV_ROWR_DESTROY_REMOVE, &d), 0);
	CHECK_EQ(bdev_rowr_destroy_files(ub, BDEV_ROWR_DESTROY_REMOVE, &d), 0);
	unlink(lp);
}

/*
 * Regression: the map's temporary file was opened with O_CREAT|O_TRUNC, so
 * a symbolic link planted at UPPER.rowrmap.tmp was followed and its target
 * overwritten with the map (and the map became the link).  Now the link is
 * neither followed nor overwritten and the save is refused, naming it; a
 * leftover regular file of ours from a crashed save is replaced.
 */
static void
test_tmp_symlink(void)
{
	enum { SZ = 1 << 20 };
	static uint8_t model[SZ];
	char lp[300], up[300], mp[320], tp[330], vp[300], buf[16];
	struct bdev *r;
	struct diag d;
	struct stat st;
	FILE *f;
	uint8_t x = 1;

	ovl_files("s", lp, up, mp, model, SZ, 51);
	snprintf(tp, sizeof(tp), "%s.tmp", mp);
	snprintf(vp, sizeof(vp), "%s/victim", tmpdir);
	put_file(vp, (const uint8_t *)"precious", 8);
	CHECK_EQ(bdev_rowr_create_files(lp, up, NULL, &d), 0);
	CHECK_EQ(symlink(vp, tp), 0);
	CHECK_EQ(bdev_rowr_open_files(up, 0, &r, &d), 0);
	CHECK_EQ(bdev_write(r, &x, 1, 0, NULL), 0);
	diag_clear(&d);
	CHECK_EQ(bdev_flush(r, &d), EEXIST);
	CHECK_MSG(&d, "supper.rowrmap.tmp: cannot save the overlay map: a "
	    "symbolic link");
	f = fopen(vp, "rb");
	memset(buf, 0, sizeof(buf));
	CHECK(f != NULL && fread(buf, 1, sizeof(buf), f) == 8);
	if (f != NULL)
		fclose(f);
	CHECK(memcmp(buf, "precious", 8) == 0);
	CHECK(lstat(mp, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(lstat(tp, &st) == 0 && S_ISLNK(st.st_mode));
	/* Gone, the next save works; a stale regular tmp of ours too. */
	unlink(tp);
	put_file(tp, (const uint8_t *)"stale", 5);
	CHECK_EQ(bdev_flush(r, &d), 0);
	CHECK(lstat(tp, &st) != 0);
	bdev_destroy(r);
	CHECK_EQ(bdev_rowr_destroy_files(up, BDEV_ROWR_DESTROY_REMOVE, &d), 0);
	unlink(vp);
	unlink(lp);
}

int
main(void)
{
	char cmd[300];

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_rowr.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return (2);
	test_lock_table();
	test_default_granule();
	test_mixed_reads();
	test_every_alignment(512);
	test_every_alignment(4096);
	test_threads();
	test_neighbours();
	test_trim_zeroes();
	test_zeroed_granules_on_upper_with_nonzero_trim();
	test_revert_commit();
	test_failing_upper();
	test_failing_lower();
	test_enospc();
	test_sizes();
	test_persistent();
	test_map_format_v2();
	test_lower_identity();
	test_v1_map();
	test_interrupted_commit();
	test_commit_lock();
	test_tmp_symlink();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	(void)system(cmd);
	return (t_done());
}
