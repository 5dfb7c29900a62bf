/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_stack.c - whole block stacks against a flat byte-array model.  The
 * first input byte picks a stack, the second its shape; the rest is a list
 * of operations (read, write, trim, write-zeroes, flush, revert, commit):
 *
 *   0  extmap(slice(file)): a memfd file, a slice at 4 KiB, three extents
 *      mapped out of order (issue 2's stack);
 *   1  mem: sparse RAM;
 *   2  rowr(mem lower, writable, + mem upper), with commit;
 *   3  rowr(faulty(mem) lower that fails reads in an input-chosen range,
 *      + a capped mem upper that runs out of space).
 *
 * The model holds the union's bytes, which bytes are known (a failed rowr
 * write may leave already-written granules half-new, as a disk may), and
 * which granules rowr has written.  Every read is compared; a read or a
 * write must fail exactly when the model says the faulty lower is touched
 * (a write then changes nothing).  Any divergence aborts.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/faulty.h>
#include <liveroot/rowr.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXSZ		(80 * 1024)
#define MAXOPS		200

struct model {
	uint8_t		 u[MAXSZ];	/* union contents */
	uint8_t		 known[MAXSZ];
	uint8_t		 lower[MAXSZ];	/* rowr: the lower's contents */
	uint8_t		 wr[MAXSZ / 512 + 1];	/* rowr: granule written */
	uint64_t	 size;
	uint32_t	 g;		/* rowr granule, 0 otherwise */
	int		 kind;
	uint64_t	 bad_off, bad_len;	/* kind 3: failing lower range */
};

static struct model M;
static uint8_t buf[MAXSZ], pat[MAXSZ];

#define DIE(...) do {							\
	fprintf(stderr, "fuzz_stack: " __VA_ARGS__);			\
	fputc('\n', stderr);						\
	abort();							\
} while (0)

static int
overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return (an > 0 && bn > 0 && a < b + bn && b < a + an);
}

/*
 * Kind 3: does reading [off, off+len) of the union touch the bad lower?
 * 0 no, 1 yes, 2 maybe (a granule whose written state is uncertain).
 */
static int
read_hits_bad(uint64_t off, uint64_t len)
{
	uint64_t g, s, e, end = off + len;
	int r = 0;

	if (M.kind != 3)
		return (0);
	for (g = off / M.g; g * M.g < end; g++) {
		if (M.wr[g] == 1)
			continue;
		s = g * M.g > off ? g * M.g : off;
		e = (g + 1) * M.g < end ? (g + 1) * M.g : end;
		if (overlaps(s, e - s, M.bad_off, M.bad_len)) {
			if (M.wr[g] == 0)
				return (1);
			r = 2;
		}
	}
	return (r);
}

/* Kind 3: does a write need a copy-up of a granule on the bad lower?
 * 0 no, 1 yes, 2 maybe. */
static int
write_hits_bad(uint64_t off, uint64_t len)
{
	uint64_t g[2], end = off + len, s, e;
	int i, r = 0;

	if (M.kind != 3 || len == 0)
		return (0);
	g[0] = off / M.g;
	g[1] = (end - 1) / M.g;
	for (i = 0; i < 2; i++) {
		if (i == 1 && g[1] == g[0])
			break;
		s = g[i] * M.g;
		e = s + M.g < M.size ? s + M.g : M.size;
		if (M.wr[g[i]] == 1 || (off <= s && end >= e))
			continue;
		if (overlaps(s, e - s, M.bad_off, M.bad_len)) {
			if (M.wr[g[i]] == 0)
				return (1);
			r = 2;
		}
	}
	return (r);
}

static void
check_read(struct bdev *b, uint64_t off, uint64_t len)
{
	uint64_t i;
	int error, hit = read_hits_bad(off, len);

	error = bdev_read(b, buf, (size_t)len, off, NULL);
	if (error != 0 && hit == 0)
		DIE("read %ju+%ju failed (%d) off the bad range",
		    (uintmax_t)off, (uintmax_t)len, error);
	if (error == 0 && hit == 1)
		DIE("read %ju+%ju of the bad lower succeeded", (uintmax_t)off,
		    (uintmax_t)len);
	if (error != 0 || memcmp(buf, M.u + off, (size_t)len) == 0)
		return;
	for (i = 0; i < len; i++)
		if (M.known[off + i] && buf[i] != M.u[off + i])
			DIE("read %ju+%ju: byte %ju is %02x, model %02x",
			    (uintmax_t)off, (uintmax_t)len, (uintmax_t)(off + i),
			    buf[i], M.u[off + i]);
}

/* Granules of [off, off+len) become written (w = 1) or uncertain (2). */
static void
mark_written(uint64_t off, uint64_t len, uint8_t w)
{
	uint64_t g;

	if (M.g == 0 || len == 0)
		return;
	for (g = off / M.g; g * M.g < off + len; g++)
		if (M.wr[g] != 1)
			M.wr[g] = w;
}

/* A failed rowr write: bytes in (maybe) written granules may be new. */
static void
mark_unknown_written(uint64_t off, uint64_t len)
{
	uint64_t i;

	for (i = off; i < off + len; i++)
		if (M.wr[i / M.g] != 0)
			M.known[i] = 0;
}

static void
apply(uint64_t off, uint64_t len, const uint8_t *src)
{
	if (src != NULL)
		memcpy(M.u + off, src, (size_t)len);
	else
		memset(M.u + off, 0, (size_t)len);
	memset(M.known + off, 1, (size_t)len);
	mark_written(off, len, 1);
}

static void
do_write(struct bdev *b, uint64_t off, uint64_t len, uint8_t seed)
{
	int error, hit = write_hits_bad(off, len);
	uint64_t i;

	for (i = 0; i < len; i++)
		pat[i] = (uint8_t)(seed + i * 7 + (i >> 8));
	error = bdev_write(b, pat, (size_t)len, off, NULL);
	if (error == 0) {
		if (hit == 1)
			DIE("write %ju+%ju copied up from the bad lower",
			    (uintmax_t)off, (uintmax_t)len);
		apply(off, len, pat);
		return;
	}
	if (M.kind != 3)
		DIE("write %ju+%ju failed (%d)", (uintmax_t)off,
		    (uintmax_t)len, error);
	if (error == EIO && hit == 0)
		DIE("write %ju+%ju: EIO off the bad range", (uintmax_t)off,
		    (uintmax_t)len);
	if (error == ENOSPC)
		mark_unknown_written(off, len);
	else if (error != EIO)
		DIE("write %ju+%ju: unexpected error %d", (uintmax_t)off,
		    (uintmax_t)len, error);
}

/* rowr write-zeroes: whole granules, then the partial head and tail
 * through the write path, in that order (as rowr.c does it). */
static void
rowr_zero_model(uint64_t off, uint64_t len, uint64_t a, uint64_t e, int error)
{
	uint64_t pieces[2][2] = { { off, a - off }, { e, off + len - e } };
	int i, k, hit;

	if (e > a)
		apply(a, e - a, NULL);
	for (i = 0; i < 2; i++) {
		if (pieces[i][1] == 0 || (i == 1 && pieces[1][0] < a))
			continue;
		hit = write_hits_bad(pieces[i][0], pieces[i][1]);
		if (error == EIO && hit != 0)
			return;		/* this piece failed, nothing changed */
		if (error == ENOSPC) {
			for (k = i; k < 2; k++) {
				if (pieces[k][1] == 0)
					continue;
				mark_written(pieces[k][0], pieces[k][1], 2);
				memset(M.known + pieces[k][0], 0,
				    (size_t)pieces[k][1]);
			}
			return;
		}
		if (hit == 1)
			DIE("zero %ju+%ju succeeded over the bad lower",
			    (uintmax_t)off, (uintmax_t)len);
		apply(pieces[i][0], pieces[i][1], NULL);
	}
	if (error != 0)
		DIE("zero %ju+%ju failed (%d) off the bad range",
		    (uintmax_t)off, (uintmax_t)len, error);
}

static void
do_zero(struct bdev *b, uint64_t off, uint64_t len, int trim)
{
	uint64_t a, e, end = off + len, g = M.g;
	int error;

	error = trim ? bdev_trim(b, off, len, NULL) :
	    bdev_write_zeroes(b, off, len, NULL);
	if (g != 0) {
		a = (off + g - 1) / g * g;
		if (a > end)
			a = end;
		e = end == M.size ? end : end / g * g;
		if (e < a)
			e = a;
		if (!trim) {
			rowr_zero_model(off, len, a, e, error);
			return;
		}
		if (error != 0)
			DIE("trim %ju+%ju failed (%d)", (uintmax_t)off,
			    (uintmax_t)len, error);
		/* rowr trim: whole granules (the short last one too) only. */
		if (e > a)
			apply(a, e - a, NULL);
		return;
	}
	if (error != 0)
		DIE("%s %ju+%ju failed (%d)", trim ? "trim" : "zero",
		    (uintmax_t)off, (uintmax_t)len, error);
	if (M.kind == 0 && trim)	/* advisory: the file may keep data */
		memset(M.known + off, 0, (size_t)len);
	else
		apply(off, len, NULL);
}

static uint64_t
take(const uint8_t **p, const uint8_t *end, int n)
{
	uint64_t v = 0;

	while (n-- > 0) {
		v = (v << 8) | (*p < end ? **p : 0);
		if (*p < end)
			(*p)++;
	}
	return (v);
}

static int
memfd_file(uint64_t size, struct bdev **out)
{
	int fd = memfd_create("fuzz_stack", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
		DIE("memfd: %s", strerror(errno));
	if (bdev_file_from_fd(fd, "memfd", 0, out, NULL) != 0)
		DIE("file layer on a memfd");
	return (0);
}

static struct bdev *
build(int kind, uint8_t shape, const uint8_t **p, const uint8_t *end)
{
	struct bdev *f, *s, *b, *lower, *upper, *lm;
	struct bdev_extent ext[3];
	struct bdev_faulty_opts fo = { 0 };
	struct bdev_rowr_opts ro = { 0 };
	uint64_t i, cap;
	uint8_t *lb;

	memset(&M, 0, sizeof(M));
	M.kind = kind;
	switch (kind) {
	case 0:
		M.size = 64 * 1024;
		memfd_file(4096 + 96 * 1024, &f);
		if (bdev_slice_new(f, 4096, 96 * 1024, &s, NULL) != 0)
			DIE("slice");
		ext[0] = (struct bdev_extent){ 0, 32 * 1024, 16 * 1024 };
		ext[1] = (struct bdev_extent){ 16 * 1024, 0, 16 * 1024 };
		ext[2] = (struct bdev_extent){ 32 * 1024, 60 * 1024, 32 * 1024 };
		if (bdev_extmap_new(s, ext, 3, M.size, &b, NULL) != 0)
			DIE("extmap");
		memset(M.known, 1, M.size);	/* a fresh file reads zeros */
		return (b);
	case 1:
		M.size = 40000 + shape * 37;
		if (bdev_mem_new(M.size, 0, &b, NULL) != 0)
			DIE("mem");
		memset(M.known, 1, M.size);
		return (b);
	default:
		break;
	}
	M.g = 512u << (shape % 4);
	M.size = 30000 + (uint64_t)(shape / 4) * 613;
	if ((lb = malloc(M.size)) == NULL)
		DIE("oom");
	for (i = 0; i < M.size; i++)
		lb[i] = (uint8_t)(i * 131 + (i >> 9));
	memcpy(M.u, lb, M.size);
	memcpy(M.lower, lb, M.size);
	memset(M.known, 1, M.size);
	if (bdev_mem_adopt(lb, M.size, kind == 2, &lm, NULL) != 0)
		DIE("adopt");
	lower = lm;
	cap = 0;
	if (kind == 3) {
		M.bad_off = take(p, end, 2) % M.size;
		M.bad_len = take(p, end, 1) * 64;
		fo.range_off = M.bad_off;
		fo.range_len = M.bad_len;
		fo.range_ops = BDEV_FAULTY_READ;
		if (bdev_faulty_new(lm, &fo, &lower, NULL) != 0)
			DIE("faulty");
		cap = (take(p, end, 1) % 8 + 1) * 4096;
	}
	if (bdev_mem_new(M.size, cap, &upper, NULL) != 0)
		DIE("upper");
	ro.granule = M.g;
	if (bdev_rowr_new(lower, upper, &ro, &b, NULL) != 0)
		DIE("rowr");
	return (b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct bdev *b;
	int kind, n;

	if (size < 2)
		return (0);
	kind = (int)(take(&p, end, 1) % 4);
	b = build(kind, (uint8_t)take(&p, end, 1), &p, end);
	for (n = 0; n < MAXOPS && p < end; n++) {
		uint8_t op = (uint8_t)take(&p, end, 1);
		uint64_t off = take(&p, end, 2) * 3 % M.size;
		uint64_t len = take(&p, end, 2) % (M.size - off + 1);
		uint8_t seed = (uint8_t)take(&p, end, 1);

		if (op & 0x80)		/* short, unaligned requests too */
			len %= 700;
		switch (op % 8) {
		case 0:
		case 1:
			check_read(b, off, len);
			break;
		case 2:
		case 3:
			do_write(b, off, len, seed);
			break;
		case 4:
			do_zero(b, off, len, 1);
			break;
		case 5:
			do_zero(b, off, len, 0);
			break;
		case 6:
			if (bdev_flush(b, NULL) != 0)
				DIE("flush failed");
			break;
		case 7:
			if (M.g == 0)
				break;
			if (kind == 2 && (seed & 1)) {
				if (bdev_rowr_commit(b, NULL, NULL, NULL) != 0)
					DIE("commit failed");
				memcpy(M.lower, M.u, M.size);
			} else {
				if (bdev_rowr_revert(b, NULL) != 0)
					DIE("revert failed");
				memcpy(M.u, M.lower, M.size);
				memset(M.known, 1, M.size);
			}
			memset(M.wr, 0, sizeof(M.wr));
			break;
		}
	}
	check_read(b, 0, M.size);
	bdev_destroy(b);
	return (0);
}
