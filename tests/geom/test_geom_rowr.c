/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_geom_rowr.c - the geom_rowr kernel class, unchanged, on the GEOM
 * harness: the rowr unit checks (tests/unit/test_rowr.c) replayed through
 * the class's bios, plus what only a GEOM class has: concurrent overlapping
 * bios completing out of order, orphaning of the lower or the upper while
 * bios are in flight, and create/destroy/revert/commit through gctl.
 */
#include "gh.h"

#include <unistd.h>

#include <liveroot/rowrmap.h>

#include "g_rowr.h"
#include "../unit/t.h"

extern struct g_class g_rowr_class;

static int nmd;

struct rig {
	struct gh_md	*lower, *upper;
	char		 lname[32], uname[32];
	struct g_consumer *cp;
	uint64_t	 size;		/* union */
	uint64_t	 lsize;
};

static void
fill(uint8_t *p, uint64_t len, uint64_t seed)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 9)) ^ seed);
}

static int
create(const char *name, const char *lower, const char *upper,
    intmax_t granule, intmax_t size, char *msg, size_t msglen)
{
	return (gh_ctl(&g_rowr_class, "create", msg, msglen,
	    "version", 'u', (uint32_t)G_ROWR_VERSION, "verbose", 'i', 1,
	    "nargs", 'i', 3, "arg0", 's', name, "arg1", 's', lower,
	    "arg2", 's', upper, "granule", 'j', granule, "size", 'j', size,
	    (char *)NULL));
}

static int
verb(const char *v, const char *name, int force, char *msg, size_t msglen)
{
	return (gh_ctl(&g_rowr_class, v, msg, msglen,
	    "version", 'u', (uint32_t)G_ROWR_VERSION, "verbose", 'i', 1,
	    "nargs", 'i', 1, "arg0", 's', name, "force", 'i', force,
	    (char *)NULL));
}

/* A lower filled with a pattern, an upper, rowr "name" on them, opened. */
static int
rig_up(struct rig *r, const char *name, uint64_t lsize, u_int lss,
    uint64_t usize, u_int uss, intmax_t granule, intmax_t size)
{
	char msg[512];
	int error;

	memset(r, 0, sizeof(*r));
	snprintf(r->lname, sizeof(r->lname), "lo%d", nmd);
	snprintf(r->uname, sizeof(r->uname), "up%d", nmd++);
	r->lower = gh_md_new(r->lname, lsize, lss);
	r->upper = gh_md_new(r->uname, usize, uss);
	fill(gh_md_data(r->lower), lsize, 1);
	r->lsize = lsize;
	if ((error = create(name, r->lname, r->uname, granule, size, msg,
	    sizeof(msg))) != 0) {
		fprintf(stderr, "create: %s\n", msg);
		return (error);
	}
	r->cp = gh_open(name, 1, 1, 1, &error);
	r->size = r->cp != NULL ? (uint64_t)r->cp->provider->mediasize : 0;
	return (error);
}

static void
rig_down(struct rig *r, const char *name)
{
	char msg[256];

	if (r->cp != NULL)
		gh_close(r->cp);
	CHECK_EQ(verb("destroy", name, 0, msg, sizeof(msg)), 0);
	gh_settle();
	CHECK(gh_find_geom(&g_rowr_class, name) == NULL);
	gh_md_destroy(r->lower);
	gh_md_destroy(r->upper);
	gh_settle();
}

/* Union content expected: the lower's pattern, or zeros past its end. */
static void
expect_lower(const struct rig *r, uint8_t *m)
{
	memset(m, 0, r->size);
	fill(m, r->lsize < r->size ? r->lsize : r->size, 1);
}

/*
 * rig_up with a lower and an upper of size bytes (512-byte sectors) and
 * the granule; *mp is then malloc'd to what the union reads (the lower).
 */
static int
rig_up_same(struct rig *r, const char *name, uint64_t size, intmax_t granule,
    uint8_t **mp)
{
	int error;

	if ((error = rig_up(r, name, size, 512, size, 512, granule, 0)) != 0)
		return (error);
	*mp = malloc(r->size);
	expect_lower(r, *mp);
	return (0);
}

static int
read_eq(struct rig *r, const uint8_t *m, uint64_t off, uint64_t len)
{
	uint8_t *b = malloc(len);
	int ok;

	ok = gh_io(r->cp, BIO_READ, off, len, b) == 0 &&
	    memcmp(b, m + off, len) == 0;
	free(b);
	return (ok);
}

static uint64_t
dump_u64(const char *name, const char *tag)
{
	char *x = gh_dumpconf(&g_rowr_class, name), open[64], *p;
	uint64_t v = UINT64_MAX;

	if (x == NULL)
		return (v);
	snprintf(open, sizeof(open), "<%s>", tag);
	if ((p = strstr(x, open)) != NULL)
		v = strtoull(p + strlen(open), NULL, 10);
	free(x);
	return (v);
}

static void
test_mixed_reads(void)
{
	struct rig r;
	uint8_t *m, *w;

	CHECK_EQ(rig_up_same(&r, "rowr0", 64 * 1024, 4096, &m), 0);
	w = malloc(8192);
	CHECK(read_eq(&r, m, 0, r.size));
	/* granules 2 and 3 written whole, granule 5 half (copy-up). */
	fill(w, 8192, 9);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 8192, 8192, w), 0);
	memcpy(m + 8192, w, 8192);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 5 * 4096 + 1024, 2048, w), 0);
	memcpy(m + 5 * 4096 + 1024, w, 2048);
	CHECK(read_eq(&r, m, 0, r.size));
	CHECK(read_eq(&r, m, 4096 + 512, 5 * 4096));
	CHECK_EQ(dump_u64("rowr0", "GranulesWritten"), 3);
	CHECK_EQ(dump_u64("rowr0", "Granule"), 4096);
	/* The lower is untouched. */
	expect_lower(&r, m);
	CHECK(memcmp(gh_md_data(r.lower), m, r.lsize) == 0);
	free(m);
	free(w);
	rig_down(&r, "rowr0");
}

static void
test_every_alignment(void)
{
	struct rig r;
	uint8_t *m, *w;
	uint64_t off, len, n = 0;

	CHECK_EQ(rig_up(&r, "rowr1", 16 * 1024, 512, 32 * 1024, 512, 2048,
	    0), 0);
	m = malloc(r.size);
	w = malloc(r.size);
	expect_lower(&r, m);
	for (off = 0; off < 3 * 2048; off += 512)
		for (len = 512; off + len <= 4 * 2048; len += 512) {
			fill(w, len, ++n);
			CHECK_EQ(gh_io(r.cp, BIO_WRITE, off + 4096, len, w), 0);
			memcpy(m + off + 4096, w, len);
		}
	CHECK(read_eq(&r, m, 0, r.size));
	free(m);
	free(w);
	rig_down(&r, "rowr1");
}

/*
 * Many bios in flight at once: byte-disjoint writes into the same granules
 * (each a read-modify-write) all land; overlapping writes come out whole,
 * one of them, never a mix inside a granule.
 */
static void
test_concurrent(void)
{
	struct rig r;
	struct bio *bp[64];
	uint8_t *m, *w[64], *b;
	int i, j, ok;

	CHECK_EQ(rig_up_same(&r, "rowr2", 64 * 1024, 8192, &m), 0);
	b = malloc(r.size);
	for (i = 0; i < 64; i++) {
		w[i] = malloc(512);
		fill(w[i], 512, 100 + i);
		memcpy(m + i * 1024 + 512, w[i], 512);
	}
	for (i = 0; i < 64; i++)
		bp[i] = gh_io_submit(r.cp, BIO_WRITE, i * 1024 + 512, 512,
		    w[i]);
	for (i = 0; i < 64; i++)
		CHECK_EQ(gh_io_wait(bp[i]), 0);
	CHECK(read_eq(&r, m, 0, r.size));
	/* 16 overlapping whole-range writes and reads in flight. */
	for (i = 0; i < 32; i++) {
		free(w[i]);
		w[i] = malloc(16384);
		fill(w[i], 16384, 200 + i);
	}
	for (i = 0; i < 32; i++)
		bp[i] = (i & 1) ? gh_io_submit(r.cp, BIO_READ, 4096, 16384,
		    w[16 + i / 2]) : gh_io_submit(r.cp, BIO_WRITE, 4096, 16384,
		    w[i / 2]);
	for (i = 0; i < 32; i++)
		CHECK_EQ(gh_io_wait(bp[i]), 0);
	CHECK_EQ(gh_io(r.cp, BIO_READ, 0, r.size, b), 0);
	for (ok = 0, j = 0; j < 16; j++)
		ok |= memcmp(b + 4096, w[j], 16384) == 0;
	CHECK(ok);
	CHECK(memcmp(b, m, 4096) == 0);
	CHECK(memcmp(b + 20480, m + 20480, r.size - 20480) == 0);
	for (i = 0; i < 64; i++)
		free(w[i]);
	free(m);
	free(b);
	rig_down(&r, "rowr2");
}

static void
test_failing_upper(void)
{
	struct rig r;
	uint8_t *m, w[4096];

	CHECK_EQ(rig_up_same(&r, "rowr3", 32 * 1024, 4096, &m), 0);
	fill(w, sizeof(w), 5);
	gh_md_fail(r.upper, BIO_WRITE, EIO, 0, 1);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 1024, 4096, w), EIO);
	CHECK(read_eq(&r, m, 0, r.size));
	CHECK_EQ(dump_u64("rowr3", "GranulesWritten"), 0);
	/* The second of three upper writes fails: no bit set at all. */
	gh_md_fail(r.upper, BIO_WRITE, EIO, 1, 1);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 1024, 4096, w), EIO);
	CHECK_EQ(dump_u64("rowr3", "GranulesWritten"), 0);
	CHECK(read_eq(&r, m, 0, r.size));
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 1024, 4096, w), 0);
	memcpy(m + 1024, w, 4096);
	CHECK(read_eq(&r, m, 0, r.size));
	/* A failing upper read fails the union's read. */
	gh_md_fail(r.upper, BIO_READ, EIO, 0, 1);
	CHECK_EQ(gh_io(r.cp, BIO_READ, 0, 8192, w), EIO);
	/* Flush reaches the upper, and so does its error. */
	CHECK_EQ(gh_io(r.cp, BIO_FLUSH, 0, 0, NULL), 0);
	gh_md_fail(r.upper, BIO_FLUSH, EIO, 0, 1);
	CHECK_EQ(gh_io(r.cp, BIO_FLUSH, 0, 0, NULL), EIO);
	free(m);
	rig_down(&r, "rowr3");
}

static void
test_failing_lower(void)
{
	struct rig r;
	uint8_t *m, w[1024];

	CHECK_EQ(rig_up_same(&r, "rowr4", 32 * 1024, 4096, &m), 0);
	fill(w, sizeof(w), 6);
	/* The copy-up read fails: nothing reaches the upper. */
	gh_md_fail(r.lower, BIO_READ, EIO, 0, 1);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 512, 1024, w), EIO);
	CHECK_EQ(gh_md_used(r.upper), 0);
	CHECK_EQ(dump_u64("rowr4", "GranulesWritten"), 0);
	CHECK(read_eq(&r, m, 0, r.size));
	/* A whole-granule write needs no lower. */
	gh_md_fail(r.lower, BIO_READ, EIO, 0, -1);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 8192, 1024, w), EIO);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 8192, 4096, m + 8192), 0);
	CHECK_EQ(gh_io(r.cp, BIO_READ, 8192, 4096, m + 16384), 0);
	CHECK_EQ(gh_io(r.cp, BIO_READ, 0, 4096, w), EIO);
	gh_md_fail(r.lower, BIO_READ, 0, 0, 0);
	free(m);
	rig_down(&r, "rowr4");
}

static void
test_enospc(void)
{
	struct rig r;
	uint8_t *m, w[8192];

	CHECK_EQ(rig_up_same(&r, "rowr5", 64 * 1024, 4096, &m), 0);
	gh_md_cap(r.upper, 8192);
	fill(w, sizeof(w), 7);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 0, 8192, w), 0);
	memcpy(m, w, 8192);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 16384, 512, w), ENOSPC);
	CHECK_EQ(dump_u64("rowr5", "GranulesWritten"), 2);
	CHECK(read_eq(&r, m, 0, r.size));
	/* BIO_DELETE gives the space back; the granules read the lower. */
	CHECK_EQ(gh_io(r.cp, BIO_DELETE, 0, 8192, NULL), 0);
	fill(m, 8192, 1);
	CHECK_EQ(gh_md_used(r.upper), 0);
	CHECK_EQ(dump_u64("rowr5", "GranulesWritten"), 0);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 16384, 512, w), 0);
	memcpy(m + 16384, w, 512);
	CHECK(read_eq(&r, m, 0, r.size));
	free(m);
	rig_down(&r, "rowr5");
}

static void
test_delete(void)
{
	struct rig r;
	uint8_t *m, *w;

	CHECK_EQ(rig_up(&r, "rowr6", 64 * 1024, 512, 64 * 1024, 512, 4096,
	    0), 0);
	m = malloc(r.size);
	w = malloc(r.size);
	fill(w, r.size, 8);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 0, r.size, w), 0);
	memcpy(m, w, r.size);
	/* [1024, 13312): granules 1 and 2 whole, 0 and 3 partly. */
	CHECK_EQ(gh_io(r.cp, BIO_DELETE, 1024, 12288, NULL), 0);
	expect_lower(&r, w);
	memcpy(m + 4096, w + 4096, 8192);
	CHECK(read_eq(&r, m, 0, r.size));
	CHECK_EQ(dump_u64("rowr6", "GranulesWritten"), 14);
	/* A delete to the end covers the last granule; an upper without
	 * delete support still forgets the granules. */
	gh_md_nodelete(r.upper, 1);
	CHECK_EQ(gh_io(r.cp, BIO_DELETE, r.size - 4096, 4096, NULL), 0);
	memcpy(m + r.size - 4096, w + r.size - 4096, 4096);
	CHECK(read_eq(&r, m, 0, r.size));
	/* candelete is ours to answer. */
	{
		int v = 0;
		struct bio *bp = g_alloc_bio();

		bp->bio_cmd = BIO_GETATTR;
		bp->bio_attribute = "GEOM::candelete";
		bp->bio_data = (void *)&v;
		bp->bio_length = sizeof(v);
		g_io_request(bp, r.cp);
		CHECK_EQ(gh_io_wait(bp), 0);
		CHECK_EQ(v, 1);
	}
	free(m);
	free(w);
	rig_down(&r, "rowr6");
}

static void
test_sizes(void)
{
	struct rig r;
	char msg[512];
	uint8_t *m, w[4096];
	struct gh_md *lo, *up;

	/* An upper smaller than the union is refused with the size to use. */
	lo = gh_md_new("szlo", 100 * 512, 512);
	up = gh_md_new("szup", 99 * 512, 512);
	CHECK(create("rowr7", "szlo", "szup", 0, 0, msg, sizeof(msg)) != 0);
	CHECK(strstr(msg, "at least 51200 bytes") != NULL);
	CHECK(gh_find_geom(&g_rowr_class, "rowr7") == NULL);
	CHECK(create("rowr7", "szlo", "szlo", 0, 0, msg, sizeof(msg)) != 0);
	CHECK(strstr(msg, "same provider") != NULL);
	CHECK(create("rowr7", "szlo", "nosuch", 0, 0, msg, sizeof(msg)) != 0);
	CHECK(strstr(msg, "nosuch") != NULL);
	CHECK(create("rowr7", "szlo", "szup", 3000, 0, msg, sizeof(msg)) != 0);
	CHECK(strstr(msg, "granule 3000") != NULL);
	CHECK(create("a/b", "szlo", "szup", 0, 0, msg, sizeof(msg)) != 0);
	CHECK(strstr(msg, "Invalid name") != NULL);
	gh_md_destroy(lo);
	gh_md_destroy(up);
	gh_settle();
	/* A lower not a multiple of the granule; an upper much bigger. */
	CHECK_EQ(rig_up(&r, "rowr7", 100 * 512, 512, 1 << 20, 512, 4096, 0),
	    0);
	CHECK_EQ(r.size, 100 * 512);
	m = malloc(r.size);
	expect_lower(&r, m);
	fill(w, sizeof(w), 10);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, r.size - 1024, 1024, w), 0);
	memcpy(m + r.size - 1024, w, 1024);
	CHECK(read_eq(&r, m, 0, r.size));
	free(m);
	rig_down(&r, "rowr7");
	/* -s past the lower: the tail reads zeros until written; a 4 KiB
	 * upper makes 4 KiB union sectors. */
	CHECK_EQ(rig_up(&r, "rowr8", 100 * 512, 512, 1 << 20, 4096, 0,
	    128 * 1024), 0);
	CHECK_EQ(r.size, 128 * 1024);
	CHECK_EQ(r.cp->provider->sectorsize, 4096);
	m = malloc(r.size);
	expect_lower(&r, m);
	CHECK(read_eq(&r, m, 0, r.size));
	fill(w, sizeof(w), 11);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 49152, 4096, w), 0);
	memcpy(m + 49152, w, 4096);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 90112, 4096, w), 0);
	memcpy(m + 90112, w, 4096);
	CHECK(read_eq(&r, m, 0, r.size));
	free(m);
	rig_down(&r, "rowr8");
}

static void
test_revert_commit(void)
{
	struct rig r;
	char msg[512];
	uint8_t *m, w[8192];
	int error;

	CHECK_EQ(rig_up_same(&r, "rowr9", 64 * 1024, 4096, &m), 0);
	fill(w, sizeof(w), 12);
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 2048, 8192, w), 0);
	CHECK(verb("revert", "rowr9", 0, msg, sizeof(msg)) != 0);
	CHECK(strstr(msg, "open") != NULL);
	gh_close(r.cp);
	CHECK_EQ(verb("revert", "rowr9", 0, msg, sizeof(msg)), 0);
	CHECK_EQ(gh_md_used(r.upper), 0);
	r.cp = gh_open("rowr9", 1, 1, 1, &error);
	CHECK(read_eq(&r, m, 0, r.size));
	CHECK_EQ(gh_io(r.cp, BIO_WRITE, 2048, 8192, w), 0);
	memcpy(m + 2048, w, 8192);
	/* Commit: refused while open for writing, and on a read-only lower. */
	CHECK(verb("commit", "rowr9", 1, msg, sizeof(msg)) != 0);
	gh_close(r.cp);
	r.cp = NULL;
	gh_md_readonly(r.lower, 1);
	CHECK(verb("commit", "rowr9", 0, msg, sizeof(msg)) != 0);
	CHECK(strstr(msg, "cannot be opened for writing") != NULL);
	CHECK_EQ(dump_u64("rowr9", "GranulesWritten"), 3);
	gh_md_readonly(r.lower, 0);
	/* A failing lower write aborts it; nothing is forgotten. */
	gh_md_fail(r.lower, BIO_WRITE, EIO, 0, 1);
	CHECK(verb("commit", "rowr9", 0, msg, sizeof(msg)) != 0);
	CHECK(strstr(msg, "nothing was forgotten") != NULL);
	CHECK_EQ(dump_u64("rowr9", "GranulesWritten"), 3);
	/* -f lets a read-only user stay. */
	r.cp = gh_open("rowr9", 1, 0, 0, &error);
	CHECK_EQ(verb("commit", "rowr9", 1, msg, sizeof(msg)), 0);
	CHECK_EQ(dump_u64("rowr9", "GranulesWritten"), 0);
	CHECK(memcmp(gh_md_data(r.lower), m, r.size) == 0);
	CHECK(read_eq(&r, m, 0, r.size));
	CHECK_EQ(gh_md_used(r.upper), 0);
	free(m);
	rig_down(&r, "rowr9");
}

/* The lower or the upper goes away with bios in flight. */
static void
test_orphan(int which)
{
	struct rig r;
	struct bio *bp[48];
	uint8_t *b[48];
	char name[16];
	int i, error;

	struct gh_md *gone;

	snprintf(name, sizeof(name), "rowro%d", which);
	CHECK_EQ(rig_up(&r, name, 256 * 1024, 512, 256 * 1024, 512, 4096, 0),
	    0);
	gone = which ? r.upper : r.lower;
	/* Reads reach the lower and writes the upper, and stay there. */
	gh_md_hold(gone);
	for (i = 0; i < 48; i++) {
		b[i] = malloc(16384);
		fill(b[i], 16384, (uint64_t)i);
		bp[i] = gh_io_submit(r.cp, (i % 3) ? BIO_WRITE : BIO_READ,
		    (uint64_t)(i % 14) * 16384 + (i & 1) * 1024, 15360, b[i]);
	}
	while (gh_md_held(gone) == 0)
		usleep(100);
	gh_md_destroy(gone);
	gh_settle();
	/* Orphaned with bios in flight: the class must wait for them. */
	CHECK_EQ(gh_violations(), 0);
	gh_md_release(gone);
	for (i = 0; i < 48; i++) {
		error = gh_io_wait(bp[i]);
		CHECK(error == 0 || error == ENXIO);
		free(b[i]);
	}
	gh_settle();
	/* The rowr provider errors out; nothing panics, nothing leaks. */
	CHECK_EQ(gh_io(r.cp, BIO_READ, 0, 4096, r.cp), ENXIO);
	gh_close(r.cp);
	r.cp = NULL;
	gh_settle();
	CHECK(gh_find_geom(&g_rowr_class, name) == NULL);
	gh_md_destroy(which ? r.lower : r.upper);
	gh_settle();
}

static void
test_destroy(void)
{
	struct rig r;
	char msg[512];
	uint8_t b[4096];

	CHECK_EQ(rig_up(&r, "rowr10", 32 * 1024, 512, 32 * 1024, 512, 4096,
	    0), 0);
	CHECK(verb("destroy", "rowr10", 0, msg, sizeof(msg)) == EBUSY);
	CHECK(strstr(msg, "is open") != NULL);
	CHECK(verb("destroy", "nosuch", 0, msg, sizeof(msg)) != 0);
	CHECK(strstr(msg, "No rowr device nosuch") != NULL);
	CHECK(create("rowr10", r.lname, r.uname, 0, 0, msg, sizeof(msg)) != 0);
	/* The lower is held exclusively: nobody opens it for writing. */
	{
		int error;
		struct g_consumer *cp = gh_open(r.lname, 0, 1, 0, &error);

		CHECK(cp == NULL && error == EPERM);
	}
	CHECK(gh_ctl(&g_rowr_class, "create", msg, sizeof(msg), "version",
	    'u', (uint32_t)99, "nargs", 'i', 0, (char *)NULL) != 0);
	CHECK(strstr(msg, "version") != NULL);
	CHECK(verb("frobnicate", "rowr10", 0, msg, sizeof(msg)) != 0);
	CHECK_EQ(verb("destroy", "/dev/rowr10", 1, msg, sizeof(msg)), 0);
	gh_settle();
	CHECK_EQ(gh_io(r.cp, BIO_READ, 0, 4096, b), ENXIO);
	gh_close(r.cp);
	r.cp = NULL;
	gh_settle();
	CHECK(gh_find_geom(&g_rowr_class, "rowr10") == NULL);
	gh_md_destroy(r.lower);
	gh_md_destroy(r.upper);
	gh_settle();
}

/* M_NOWAIT allocations fail at random: bios fail with ENOMEM, cleanly. */
static void
test_nowait(void)
{
	struct rig r;
	struct bio *bp[32];
	uint8_t *b[32];
	int i, k, error, nomem = 0;

	CHECK_EQ(rig_up(&r, "rowr11", 128 * 1024, 512, 128 * 1024, 512, 4096,
	    0), 0);
	gh_set_nowait_fail(150);
	for (k = 0; k < 4; k++) {
		for (i = 0; i < 32; i++) {
			b[i] = malloc(8192);
			fill(b[i], 8192, (uint64_t)i);
			bp[i] = gh_io_submit(r.cp, i % 4 == 0 ? BIO_READ :
			    i % 4 == 3 ? BIO_DELETE : BIO_WRITE,
			    (uint64_t)(i % 15) * 8192 + (i & 1) * 512, 7168,
			    i % 4 == 3 ? NULL : b[i]);
		}
		for (i = 0; i < 32; i++) {
			error = gh_io_wait(bp[i]);
			CHECK(error == 0 || error == ENOMEM);
			nomem += error == ENOMEM;
			free(b[i]);
		}
	}
	gh_set_nowait_fail(0);
	CHECK(nomem > 0);
	rig_down(&r, "rowr11");
}

int
main(void)
{
	gh_init(3, 2, 42);
	gh_add_class(&g_rowr_class);
	test_mixed_reads();
	test_every_alignment();
	test_concurrent();
	test_failing_upper();
	test_failing_lower();
	test_enospc();
	test_delete();
	test_sizes();
	test_revert_commit();
	test_orphan(0);
	test_orphan(1);
	test_destroy();
	test_nowait();
	CHECK_EQ(gh_remove_class(&g_rowr_class), 0);
	CHECK_EQ(gh_violations(), 0);
	gh_fini();
	return (t_done());
}
