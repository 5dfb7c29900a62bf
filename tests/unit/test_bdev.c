/* SPDX-License-Identifier: BSD-2-Clause */
/* test_bdev.c - the boundary checks and the file, mem, slice, extmap layers. */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <liveroot/bdev.h>
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
	CHECK_MSG(&d, "cap");
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
	return (t_done());
}
