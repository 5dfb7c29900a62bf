/* SPDX-License-Identifier: BSD-2-Clause */
/* test_bdev.c - the boundary checks and the file, mem, slice, extmap layers. */
#include <fcntl.h>
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

int
main(void)
{
	test_file();
	test_mem();
	test_slice_extmap();
	return (t_done());
}
