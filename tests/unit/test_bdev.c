/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_bdev.c - the boundary checks, the forwarding of ops a layer leaves
 * NULL, asked capabilities, the file, mem, slice, extmap layers, and the
 * bdev_src adapter the parsers read through.
 */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/faulty.h>
#include <liveroot/fmt_part.h>
#include <liveroot/rowr.h>
#include <liveroot/util.h>

#include "t.h"

static char tmpl[] = "/tmp/lr_test_bdev_XXXXXX";

static void
test_file(void)
{
	struct bdev *b = NULL;
	struct diag d;
	uint8_t buf[8192], rb[8192];
	int fd, i;

	fd = mkstemp(tmpl);
	CHECK(fd >= 0);
	for (i = 0; i < 8192; i++)
		buf[i] = (uint8_t)(i * 7);
	CHECK(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	close(fd);

	CHECK_EQ(bdev_file_open(tmpl, BDEV_FILE_RDONLY, 0, &b, &d), 0);
	CHECK_EQ(bdev_size(b), 8192);
	CHECK_EQ(bdev_read(b, rb, 100, 8000, &d), 0);
	CHECK(memcmp(rb, buf + 8000, 100) == 0);
	/* Boundary: past the end, overflowing offsets, read-only. */
	CHECK_EQ(bdev_read(b, rb, 2, 8191, &d), EINVAL);
	CHECK_MSG(&d, "outside");
	CHECK_EQ(bdev_read(b, rb, 1, UINT64_MAX, &d), EINVAL);
	CHECK_EQ(bdev_write(b, rb, 1, 0, &d), EROFS);
	CHECK_MSG(&d, "read-only");
	CHECK_EQ(bdev_trim(b, 0, 1, &d), EROFS);
	bdev_destroy(b);

	CHECK_EQ(bdev_file_open(tmpl, BDEV_FILE_DIRECT, 0, &b, &d), 0);
	CHECK_EQ(bdev_write(b, "hello", 5, 4093, &d), 0);
	CHECK_EQ(bdev_read(b, rb, 9, 4091, &d), 0);
	CHECK(memcmp(rb + 2, "hello", 5) == 0 && rb[0] == buf[4091]);
	CHECK_EQ(bdev_flush(b, &d), 0);
	/* write-zeroes punches a hole (or writes zeros): reads as zeros. */
	CHECK_EQ(bdev_write_zeroes(b, 4100, 4000, &d), 0);
	CHECK_EQ(bdev_read(b, rb, 4002, 4099, &d), 0);
	CHECK(rb[0] == buf[4099] && lr_is_zero(rb + 1, 4000));
	CHECK(rb[4001] == buf[8100]);
	CHECK_EQ(bdev_size(b), 8192);
	bdev_destroy(b);

	CHECK_EQ(bdev_file_open("/nonexistent/x.img", 0, 0, &b, &d), ENOENT);
	CHECK_MSG(&d, "/nonexistent/x.img");
	bdev_destroy(NULL);
	unlink(tmpl);

	/* CREATE makes a sparse file of the asked size. */
	CHECK_EQ(bdev_file_open(tmpl, BDEV_FILE_CREATE, 1 << 20, &b, &d), 0);
	CHECK_EQ(bdev_size(b), 1 << 20);
	bdev_destroy(b);
	unlink(tmpl);
}

static void
test_mem(void)
{
	struct bdev *m;
	struct diag d;
	uint8_t buf[16384];

	CHECK_EQ(bdev_mem_new(1 << 20, 8192, &m, &d), 0);
	memset(buf, 0x5a, sizeof(buf));
	CHECK_EQ(bdev_write(m, buf, 8192, 4096, &d), 0);
	CHECK_EQ(bdev_mem_bytes_used(m), 8192);
	CHECK_EQ(bdev_write(m, buf, 1, 0, &d), ENOSPC);
	CHECK_MSG(&d, "raise the cap");
	/* the caller names its setting (it said "--upper-size", no option) */
	CHECK(strstr(d.msg, "live.") == NULL && strstr(d.msg, "--") == NULL);
	CHECK_EQ(bdev_read(m, buf, 16384, 0, &d), 0);
	CHECK(lr_is_zero(buf, 4096) && buf[4096] == 0x5a && buf[12287] == 0x5a);
	CHECK(lr_is_zero(buf + 12288, 4096));
	CHECK_EQ(bdev_trim(m, 4096, 4096, &d), 0);
	CHECK_EQ(bdev_mem_bytes_used(m), 4096);
	CHECK_EQ(bdev_write_zeroes(m, 8192, 4096, &d), 0);
	CHECK_EQ(bdev_mem_bytes_used(m), 0);
	bdev_destroy(m);
}

static void
test_slice_extmap(void)
{
	struct bdev *m, *s, *e;
	struct diag d;
	uint8_t buf[64], all[1024];
	struct bdev_extent ext[3] = {
		{ 0, 512, 100 },	/* v[0,100)   = l[512,612) */
		{ 100, 0, 50 },		/* v[100,150) = l[0,50) */
		{ 200, 900, 100 },	/* v[150,200) hole, v[200,300) = l[900,1000) */
	};
	struct bdev_extent bad[2] = { { 0, 0, 100 }, { 50, 200, 10 } };
	int i;

	CHECK_EQ(bdev_mem_new(1024, 0, &m, &d), 0);
	for (i = 0; i < 1024; i++)
		all[i] = (uint8_t)(i % 251);
	CHECK_EQ(bdev_write(m, all, 1024, 0, &d), 0);

	CHECK_EQ(bdev_slice_new(m, 1000, 100, &s, &d), EINVAL);
	CHECK_MSG(&d, "does not fit");
	CHECK_EQ(bdev_slice_new(m, 100, 200, &s, &d), 0);
	CHECK_EQ(bdev_read(s, buf, 10, 190, &d), 0);
	CHECK(memcmp(buf, all + 290, 10) == 0);
	CHECK_EQ(bdev_read(s, buf, 11, 190, &d), EINVAL);

	/* The slice holds a reference: the extmap takes another one. */
	bdev_ref(m);
	CHECK_EQ(bdev_extmap_new(m, bad, 2, 300, &e, &d), EINVAL);
	CHECK_MSG(&d, "overlaps");
	ext[2].loff = 1000;
	CHECK_EQ(bdev_extmap_new(m, ext, 3, 300, &e, &d), EINVAL);
	CHECK_MSG(&d, "past the end of the underlying");
	ext[2].loff = 900;
	CHECK_EQ(bdev_extmap_new(m, ext, 3, 250, &e, &d), EINVAL);
	CHECK_EQ(bdev_extmap_new(m, ext, 3, 300, &e, &d), 0);
	CHECK_EQ(bdev_read(e, buf, 60, 90, &d), 0);
	CHECK(memcmp(buf, all + 602, 10) == 0);
	CHECK(memcmp(buf + 10, all, 50) == 0);
	CHECK_EQ(bdev_read(e, buf, 60, 140, &d), 0);
	CHECK(memcmp(buf, all + 40, 10) == 0);
	CHECK(lr_is_zero(buf + 10, 50));
	CHECK_EQ(bdev_read(e, buf, 10, 290, &d), 0);
	CHECK(memcmp(buf, all + 990, 10) == 0);
	CHECK_EQ(bdev_write(e, "xy", 2, 160, &d), EIO);
	CHECK_MSG(&d, "hole");
	CHECK_EQ(bdev_write(e, "xy", 2, 99, &d), 0);
	CHECK_EQ(bdev_read(m, buf, 1, 611, &d), 0);
	CHECK(buf[0] == 'x');
	CHECK_EQ(bdev_read(m, buf, 1, 0, &d), 0);
	CHECK(buf[0] == 'y');
	bdev_destroy(e);
	/* m is still alive through the slice. */
	CHECK_EQ(bdev_read(s, buf, 1, 0, &d), 0);
	bdev_destroy(s);
}

/*
 * Remapped ops: write-zeroes and trim through a slice and an extmap land on
 * the lower where the data is, never at the unmoved offset (the core would
 * forward them unmoved); trim skips a hole, write-zeroes refuses it.
 */
static void
test_slice_extmap_zeroes_trim(void)
{
	struct bdev *m, *s, *e;
	struct diag d;
	uint8_t buf[4 * 4096], ones[3 * 4096];
	struct bdev_extent ext[2] = {
		{ 0, 8 * 4096, 4096 },		/* v[0,4K)   = l[32K,36K) */
		{ 2 * 4096, 2 * 4096, 4096 },	/* v[8K,12K) = l[8K,12K) */
	};

	CHECK_EQ(bdev_mem_new(16 * 4096, 0, &m, &d), 0);
	memset(ones, 0xff, sizeof(ones));
	CHECK_EQ(bdev_write(m, ones, sizeof(ones), 0, &d), 0);
	CHECK_EQ(bdev_write(m, ones, sizeof(ones), 7 * 4096, &d), 0);
	CHECK_EQ(bdev_mem_bytes_used(m), 6 * 4096);
	/* slice at 4K: its [4K,8K) is the lower's [8K,12K) */
	bdev_ref(m);
	CHECK_EQ(bdev_slice_new(m, 4096, 8 * 4096, &s, &d), 0);
	CHECK_EQ(bdev_write_zeroes(s, 4096, 4096, &d), 0);
	CHECK_EQ(bdev_read(m, buf, sizeof(buf), 0, &d), 0);
	CHECK(buf[0] == 0xff && buf[2 * 4096 - 1] == 0xff);
	CHECK(lr_is_zero(buf + 2 * 4096, 4096));
	CHECK_EQ(bdev_mem_bytes_used(m), 5 * 4096);	/* freed below */
	CHECK_EQ(bdev_trim(s, 0, 4096, &d), 0);		/* lower [4K,8K) */
	CHECK_EQ(bdev_mem_bytes_used(m), 4 * 4096);
	CHECK_EQ(bdev_read(m, buf, 4096, 0, &d), 0);
	CHECK(buf[0] == 0xff);
	bdev_destroy(s);

	CHECK_EQ(bdev_extmap_new(m, ext, 2, 3 * 4096, &e, &d), 0);
	CHECK_EQ(bdev_trim(e, 0, 3 * 4096, &d), 0);	/* skips the hole */
	CHECK_EQ(bdev_read(m, buf, 4096, 8 * 4096, &d), 0);
	CHECK(lr_is_zero(buf, 4096));
	CHECK_EQ(bdev_read(m, buf, 4096, 7 * 4096, &d), 0);
	CHECK(buf[0] == 0xff);			/* not mapped: untouched */
	CHECK_EQ(bdev_mem_bytes_used(m), 3 * 4096);
	CHECK_EQ(bdev_write_zeroes(e, 4096, 4096, &d), EIO);
	CHECK_MSG(&d, "hole");
	CHECK_EQ(bdev_write(e, ones, 4096, 0, &d), 0);
	CHECK_EQ(bdev_write_zeroes(e, 0, 4096, &d), 0);
	CHECK_EQ(bdev_read(m, buf, 4096, 8 * 4096, &d), 0);
	CHECK(lr_is_zero(buf, 4096));
	CHECK_EQ(bdev_read(m, buf, 4096, 0, &d), 0);
	CHECK(buf[0] == 0xff);			/* the unmoved offset */
	bdev_destroy(e);
}

/*
 * A tap that sets only read, the shape of a logger, and calls itself "mem"
 * to show that no capability is guessed from a name.
 */
static int tap_reads;

static int
tap_read(struct bdev *b, void *buf, size_t len, uint64_t off, struct diag *d)
{
	tap_reads++;
	return (bdev_read(b->lower, buf, len, off, d));
}

static void
tap_destroy(struct bdev *b)
{
	free(b);
}

static const struct bdev_ops tap_ops = {
	.name = "mem", .read = tap_read, .destroy = tap_destroy,
};

static struct bdev *
tap_new(struct bdev *lower)
{
	struct bdev *t = calloc(1, sizeof(*t));

	bdev_init(t, &tap_ops, bdev_size(lower), 4096, 0, lower, "tap(%s)",
	    lower->desc);
	return (t);
}

/*
 * Ops a layer leaves NULL go to its lower, unmoved: write, write-zeroes,
 * trim and flush of the tap reach the RAM below (it was read-only, its trim
 * a no-op).  What the tap holds is asked, not guessed from its name: rowr's
 * stats fall back to the written granules (they read a mem device's
 * counters out of the tap).
 */
static void
test_forward_and_ask(void)
{
	struct bdev *m, *t, *lower, *r;
	struct bdev_rowr_stats st;
	struct diag d;
	uint8_t buf[8192];
	uint64_t n = 0;

	CHECK_EQ(bdev_mem_new(1 << 20, 0, &m, &d), 0);
	t = tap_new(m);
	CHECK(!t->readonly);
	memset(buf, 0x5a, sizeof(buf));
	CHECK_EQ(bdev_write(t, buf, sizeof(buf), 0, &d), 0);
	CHECK_EQ(bdev_mem_bytes_used(m), 8192);
	CHECK_EQ(bdev_trim(t, 0, 4096, &d), 0);
	CHECK_EQ(bdev_mem_bytes_used(m), 4096);
	CHECK_EQ(bdev_write_zeroes(t, 4096, 4096, &d), 0);
	CHECK_EQ(bdev_mem_bytes_used(m), 0);
	CHECK_EQ(bdev_flush(t, &d), 0);
	tap_reads = 0;
	CHECK_EQ(bdev_read(t, buf, 10, 0, &d), 0);
	CHECK_EQ(tap_reads, 1);
	CHECK_EQ(bdev_allocated(m, &n), 0);
	CHECK_EQ(bdev_allocated(t, &n), ENOTSUP);	/* never forwarded */

	CHECK_EQ(bdev_mem_new(1 << 20, 0, &lower, &d), 0);
	CHECK_EQ(bdev_rowr_new(lower, t, NULL, &r, &d), 0);
	CHECK_EQ(bdev_write(r, buf, 100, 0, &d), 0);
	bdev_rowr_get_stats(r, &st);
	CHECK_EQ(st.granules_written, 1);
	CHECK_EQ(st.upper_bytes_used, st.granule);
	bdev_destroy(r);

	/* A leaf without write is read-only; without write-zeroes the core
	 * writes zero buffers through its write. */
	buf[0] = 0x77;
	CHECK_EQ(bdev_mem_wrap(buf, sizeof(buf), &m, &d), 0);
	CHECK(m->readonly);
	CHECK_EQ(bdev_write(m, buf, 1, 0, &d), EROFS);
	CHECK_EQ(bdev_write_zeroes(m, 0, 1, &d), EROFS);
	buf[1] = 0;
	CHECK_EQ(bdev_read(m, buf + 1, 1, 0, &d), 0);
	CHECK(buf[1] == 0x77);
	bdev_destroy(m);			/* the stack buffer is not freed */
}

/* A leaf with read and write only, over a static array. */
static uint8_t leaf_data[3 * 65536];

static int
leaf_read(struct bdev *b, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	(void)b;
	(void)d;
	memcpy(buf, leaf_data + off, len);
	return (0);
}

static int
leaf_write(struct bdev *b, const void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	(void)b;
	(void)d;
	memcpy(leaf_data + off, buf, len);
	return (0);
}

static const struct bdev_ops leaf_ops = {
	.name = "leaf", .read = leaf_read, .write = leaf_write,
	.destroy = tap_destroy,
};

/* Without a lower, write-zeroes becomes zero buffers through write; trim
 * and flush have nothing to do. */
static void
test_leaf_defaults(void)
{
	struct bdev *b = calloc(1, sizeof(*b));
	struct diag d;

	bdev_init(b, &leaf_ops, sizeof(leaf_data), 512, 0, NULL, "leaf");
	memset(leaf_data, 0xaa, sizeof(leaf_data));
	CHECK_EQ(bdev_write_zeroes(b, 1, sizeof(leaf_data) - 2, &d), 0);
	CHECK(leaf_data[0] == 0xaa && leaf_data[sizeof(leaf_data) - 1] ==
	    0xaa);
	CHECK(lr_is_zero(leaf_data + 1, sizeof(leaf_data) - 2));
	CHECK_EQ(bdev_trim(b, 0, 10, &d), 0);
	CHECK(leaf_data[0] == 0xaa);
	CHECK_EQ(bdev_flush(b, &d), 0);
	bdev_destroy(b);
}

/*
 * The gate of a tap sees every request before the core forwards it: a
 * faulty layer fails flush, trim and write-zeroes without an op of its own.
 */
static void
test_gate(void)
{
	struct bdev_faulty_opts fo;
	struct bdev *m, *f;
	struct diag d;

	CHECK_EQ(bdev_mem_new(1 << 20, 0, &m, &d), 0);
	memset(&fo, 0, sizeof(fo));
	fo.range_ops = BDEV_FAULTY_FLUSH | BDEV_FAULTY_TRIM;
	fo.range_off = 4096;
	fo.range_len = 4096;
	CHECK_EQ(bdev_faulty_new(m, &fo, &f, &d), 0);
	CHECK_EQ(bdev_flush(f, &d), EIO);
	CHECK_MSG(&d, "injected flush error");
	CHECK_EQ(bdev_trim(f, 0, 4096, &d), 0);
	CHECK_EQ(bdev_trim(f, 4000, 200, &d), EIO);
	CHECK_MSG(&d, "injected trim error");
	fo.range_ops = 0;
	fo.fail_write_after = 2;
	bdev_faulty_set(f, &fo);
	CHECK_EQ(bdev_write(f, "x", 1, 0, &d), 0);
	CHECK_EQ(bdev_write_zeroes(f, 0, 10, &d), EIO);	/* the 2nd write */
	CHECK_EQ(bdev_faulty_injected(f), 3);
	bdev_destroy(f);
}

/* A reader that fails without saying why. */
static int
mute_read(void *arg, void *buf, size_t len, uint64_t off, struct diag *d)
{
	(void)arg;
	(void)buf;
	(void)len;
	(void)off;
	(void)d;
	return (EIO);
}

/*
 * The parsers' medium over a bdev: cached reads are the device's bytes
 * across block boundaries and at the short last block; a read error reaches
 * the parser's diag in the device's words (it was "read of 512 bytes at
 * offset 0 failed (error 5)"), and leaves no stale cache block behind.
 */
static void
test_src(void)
{
	enum { SZ = 3 * BDEV_SRC_BLK + 1000 };
	struct bdev_faulty_opts fo;
	struct fmt_part_table *pt = calloc(1, sizeof(*pt));
	struct fmt_part parts[4];
	struct fmt_src mute = { mute_read, NULL, 1024 };
	struct bdev_src s;
	struct bdev *m, *f;
	struct diag d;
	static uint8_t img[SZ], buf[BDEV_SRC_BLK + 10];
	uint64_t seed = 7;
	size_t i;

	for (i = 0; i < SZ; i++)
		img[i] = (uint8_t)t_rand(&seed);
	CHECK_EQ(bdev_mem_wrap(img, SZ, &m, &d), 0);
	memset(&fo, 0, sizeof(fo));
	CHECK_EQ(bdev_faulty_new(m, &fo, &f, &d), 0);
	bdev_src_init(&s, f, 1);
	CHECK(s.cache != NULL);
	CHECK_EQ(s.src.size, SZ);
	CHECK_EQ(fmt_src_read(&s.src, buf, 100, BDEV_SRC_BLK - 50, &d), 0);
	CHECK(memcmp(buf, img + BDEV_SRC_BLK - 50, 100) == 0);
	CHECK_EQ(fmt_src_read(&s.src, buf, 1000, SZ - 1000, &d), 0);
	CHECK(memcmp(buf, img + SZ - 1000, 1000) == 0);
	CHECK_EQ(fmt_src_read(&s.src, buf, BDEV_SRC_BLK + 10, 5, &d), 0);
	CHECK(memcmp(buf, img + 5, BDEV_SRC_BLK + 10) == 0);
	CHECK_EQ(s.nreads, 3);
	CHECK_EQ(s.maxread, BDEV_SRC_BLK + 10);
	CHECK_EQ(fmt_src_read(&s.src, buf, 2, SZ - 1, &d), EINVAL);
	CHECK_MSG(&d, "past the end of the medium");
	CHECK_EQ(s.src.read(s.src.arg, buf, 2, SZ - 1, &d), EIO);
	CHECK_MSG(&d, "past the end of faulty(");

	fo.range_ops = BDEV_FAULTY_READ;
	fo.range_off = 2 * BDEV_SRC_BLK + 7;
	fo.range_len = 1;
	bdev_faulty_set(f, &fo);
	CHECK_EQ(fmt_src_read(&s.src, buf, 10, 2 * BDEV_SRC_BLK, &d), EIO);
	CHECK_MSG(&d, "injected read error");
	CHECK_MSG(&d, "for 10 bytes");		/* what was asked */
	/* a bad byte elsewhere in the block does not fail this read */
	CHECK_EQ(fmt_src_read(&s.src, buf, 10, 2 * BDEV_SRC_BLK + 100, &d),
	    0);
	CHECK(memcmp(buf, img + 2 * BDEV_SRC_BLK + 100, 10) == 0);
	bdev_faulty_set(f, NULL);
	CHECK_EQ(fmt_src_read(&s.src, buf, 10, 2 * BDEV_SRC_BLK, &d), 0);
	CHECK(memcmp(buf, img + 2 * BDEV_SRC_BLK, 10) == 0);

	/* A parser on top: the partition table names the device's failure. */
	fo.range_off = 0;
	bdev_faulty_set(f, &fo);
	bdev_src_fini(&s);
	bdev_src_init(&s, f, 1);
	diag_clear(&d);
	CHECK_EQ(fmt_part_open(&s.src, pt, parts, 4, &d), EIO);
	CHECK_MSG(&d, "injected read error");
	bdev_src_fini(&s);
	bdev_destroy(f);

	/* A reader that gives no detail still gets a message. */
	CHECK_EQ(fmt_src_read(&mute, buf, 10, 0, &d), EIO);
	CHECK_MSG(&d, "read of 10 bytes at offset 0 failed (error 5)");
	free(pt);
}

struct bounce_arg {
	struct bdev	*b;
	uint64_t	 off;	/* this thread's 512 bytes of block 0 */
	int		 lost;
	int		 errors;
};

static void *
bounce_writer(void *arg)
{
	struct bounce_arg *a = arg;
	uint8_t w[512], r[512];
	struct diag d;
	int i;

	for (i = 0; i < 1500; i++) {
		memset(w, (uint8_t)(i + a->off), sizeof(w));
		if (bdev_write(a->b, w, sizeof(w), a->off, &d) != 0 ||
		    bdev_read(a->b, r, sizeof(r), a->off, &d) != 0) {
			a->errors++;
			continue;
		}
		/* nobody else writes these bytes: they must be ours */
		if (memcmp(w, r, sizeof(w)) != 0)
			a->lost++;
	}
	return (NULL);
}

/*
 * Two threads write disjoint 512-byte pieces of one 4 KiB block through an
 * O_DIRECT descriptor: each unaligned write is a read-modify-write of the
 * whole block, and neither may put back the other's old bytes.
 */
static void
test_file_direct_concurrent_unaligned_writes_same_block(void)
{
	struct bounce_arg a[2];
	pthread_t th[2];
	struct bdev *b = NULL;
	struct diag d;
	int i;

	unlink(tmpl);
	CHECK_EQ(bdev_file_open(tmpl, BDEV_FILE_CREATE | BDEV_FILE_DIRECT,
	    1 << 16, &b, &d), 0);
	if (b == NULL)
		return;
	for (i = 0; i < 2; i++) {
		a[i] = (struct bounce_arg){ b, (uint64_t)i * 1024, 0, 0 };
		CHECK_EQ(pthread_create(&th[i], NULL, bounce_writer, &a[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(a[i].errors, 0);
		CHECK_EQ(a[i].lost, 0);
	}
	bdev_destroy(b);
	unlink(tmpl);
}

/* O_DIRECT on a file whose size is not a multiple of 4 KiB: the tail. */
static void
test_file_direct_tail_not_4k_multiple(void)
{
	struct bdev *b = NULL;
	struct diag d;
	uint8_t buf[100], rb[100];
	int fd;

	unlink(tmpl);
	fd = open(tmpl, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, 8192 + 100), 0);
	close(fd);
	CHECK_EQ(bdev_file_open(tmpl, BDEV_FILE_DIRECT, 0, &b, &d), 0);
	if (b == NULL)
		return;
	memset(buf, 0xa5, sizeof(buf));
	CHECK_EQ(bdev_write(b, buf, sizeof(buf), 8192, &d), 0);
	CHECK_EQ(bdev_read(b, rb, sizeof(rb), 8192, &d), 0);
	CHECK(memcmp(buf, rb, sizeof(rb)) == 0);
	CHECK_EQ(bdev_read(b, rb, 50, 8192 + 50, &d), 0);
	CHECK_EQ(bdev_size(b), 8192 + 100);
	bdev_destroy(b);
	unlink(tmpl);
}

/* Threads write, overwrite, trim and read their own regions at once. */
struct mt_arg {
	struct bdev	*m;
	int		 id;
	int		 ok;
};

static void *
mt_worker(void *p)
{
	struct mt_arg *a = p;
	uint8_t buf[3 * 4096 + 17], rb[sizeof(buf)];
	uint64_t base = (uint64_t)a->id << 20, s = (uint64_t)a->id + 1;
	int round;

	a->ok = 1;
	for (round = 0; round < 400; round++) {
		uint64_t off = base + t_rand(&s) % ((1 << 20) - sizeof(buf));
		size_t i;

		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(round + i + a->id);
		a->ok &= bdev_write(a->m, buf, sizeof(buf), off, NULL) == 0;
		a->ok &= bdev_read(a->m, rb, sizeof(rb), off, NULL) == 0;
		a->ok &= memcmp(buf, rb, sizeof(buf)) == 0;
		a->ok &= bdev_trim(a->m, off, 8192, NULL) == 0;
		a->ok &= bdev_read(a->m, rb, 8192, off, NULL) == 0;
		a->ok &= lr_is_zero(rb, 8192);
	}
	return (NULL);
}

static void
test_mem_threads(void)
{
	struct mt_arg a[4];
	pthread_t th[4];
	struct bdev *m;
	int i;

	CHECK_EQ(bdev_mem_new(4 << 20, 0, &m, NULL), 0);
	for (i = 0; i < 4; i++) {
		a[i].m = m;
		a[i].id = i;
		pthread_create(&th[i], NULL, mt_worker, &a[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(a[i].ok);
	}
	/* Trimming everything gives every page back. */
	CHECK_EQ(bdev_trim(m, 0, 4 << 20, NULL), 0);
	CHECK_EQ(bdev_mem_bytes_used(m), 0);
	bdev_destroy(m);
}

int
main(void)
{
	test_file();
	test_file_direct_concurrent_unaligned_writes_same_block();
	test_file_direct_tail_not_4k_multiple();
	test_mem();
	test_mem_threads();
	test_slice_extmap();
	test_slice_extmap_zeroes_trim();
	test_forward_and_ask();
	test_leaf_defaults();
	test_gate();
	test_src();
	return (t_done());
}
