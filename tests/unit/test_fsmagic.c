/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fsmagic.c - the root image's file system by its magic (fmt_fs.h).
 * Each image is a malloc'd buffer of exactly the length handed in, so ASan
 * sees a one-byte over-read.  Covers: every kind at its offset; a buffer
 * one byte short of a magic's end does not match (and is not read past);
 * the order of precedence (squashfs over a stale ext magic, erofs and
 * f2fs apart); the first bytes of real images made by mksquashfs,
 * mkfs.erofs, mke2fs, mkfs.xfs, mkfs.btrfs and mkfs.f2fs when they are
 * installed (each said when not); names and the read-only split.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/fmt_fs.h>

#include "t.h"

/* A zeroed buffer of exactly len bytes with magic m (mlen) at off. */
static unsigned char *
img(size_t len, size_t off, const void *m, size_t mlen)
{
	unsigned char *b = calloc(1, len ? len : 1);

	if (b != NULL && m != NULL && off + mlen <= len)
		memcpy(b + off, m, mlen);
	return (b);
}

static enum fmt_fs
detect_at(size_t len, size_t off, const void *m, size_t mlen)
{
	unsigned char *b = img(len, off, m, mlen);
	enum fmt_fs fs = fmt_fs_detect(b, len);

	free(b);
	return (fs);
}

static const struct {
	enum fmt_fs	fs;
	size_t		off;
	const char	*magic;
	size_t		len;
} kinds[] = {
	{ FMT_FS_SQUASHFS, 0, "hsqs", 4 },
	{ FMT_FS_XFS, 0, "XFSB", 4 },
	{ FMT_FS_EROFS, 1024, "\xe2\xe1\xf5\xe0", 4 },
	{ FMT_FS_F2FS, 1024, "\x10\x20\xf5\xf2", 4 },
	{ FMT_FS_EXT, 1080, "\x53\xef", 2 },
	{ FMT_FS_BTRFS, 0x10040, "_BHRfS_M", 8 },
};

static void
test_each_kind(void)
{
	size_t i, end;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		end = kinds[i].off + kinds[i].len;
		CHECK_EQ(detect_at(FMT_FS_PROBE_LEN, kinds[i].off,
		    kinds[i].magic, kinds[i].len), kinds[i].fs);
		/* Exactly to the magic's end: found. */
		CHECK_EQ(detect_at(end, kinds[i].off, kinds[i].magic,
		    kinds[i].len), kinds[i].fs);
		/* One byte short: not read, not found. */
		CHECK_EQ(detect_at(end - 1, kinds[i].off, kinds[i].magic,
		    kinds[i].len - 1), FMT_FS_UNKNOWN);
	}
	CHECK_EQ(FMT_FS_PROBE_LEN, 0x10048);
}

static void
test_not_mine(void)
{
	unsigned char *b;

	CHECK_EQ(fmt_fs_detect(NULL, 0), FMT_FS_UNKNOWN);
	b = img(1, 0, NULL, 0);
	CHECK_EQ(fmt_fs_detect(b, 0), FMT_FS_UNKNOWN);
	free(b);
	CHECK_EQ(detect_at(FMT_FS_PROBE_LEN, 0, NULL, 0), FMT_FS_UNKNOWN);
	/* Byte-swapped magics are not the kinds (xfs is big-endian). */
	CHECK_EQ(detect_at(4096, 0, "sqsh", 4), FMT_FS_UNKNOWN);
	CHECK_EQ(detect_at(4096, 0, "BSFX", 4), FMT_FS_UNKNOWN);
	CHECK_EQ(detect_at(4096, 1080, "\xef\x53", 2), FMT_FS_UNKNOWN);
	CHECK_EQ(detect_at(4096, 1024, "\xe0\xf5\xe1\xe2", 4),
	    FMT_FS_UNKNOWN);
	/* A uzip image (not decompressed) is not a file system. */
	CHECK_EQ(detect_at(4096, 0, "#!/bin/sh\n#V2.0", 15), FMT_FS_UNKNOWN);
}

/* A magic at 0 wins over a stale ext or btrfs one further in. */
static void
test_precedence(void)
{
	unsigned char *b = img(FMT_FS_PROBE_LEN, 1080, "\x53\xef", 2);

	if (b == NULL)
		abort();
	memcpy(b + 0x10040, "_BHRfS_M", 8);
	CHECK_EQ(fmt_fs_detect(b, FMT_FS_PROBE_LEN), FMT_FS_EXT);
	memcpy(b, "hsqs", 4);
	CHECK_EQ(fmt_fs_detect(b, FMT_FS_PROBE_LEN), FMT_FS_SQUASHFS);
	memcpy(b, "XFSB", 4);
	CHECK_EQ(fmt_fs_detect(b, FMT_FS_PROBE_LEN), FMT_FS_XFS);
	memset(b, 0, 4);
	memcpy(b + 1024, "\xe2\xe1\xf5\xe0", 4);
	CHECK_EQ(fmt_fs_detect(b, FMT_FS_PROBE_LEN), FMT_FS_EROFS);
	memcpy(b + 1024, "\x10\x20\xf5\xf2", 4);
	CHECK_EQ(fmt_fs_detect(b, FMT_FS_PROBE_LEN), FMT_FS_F2FS);
	memset(b + 1024, 0, 64);
	CHECK_EQ(fmt_fs_detect(b, FMT_FS_PROBE_LEN), FMT_FS_BTRFS);
	free(b);
}

static void
test_names(void)
{
	CHECK(strcmp(fmt_fs_name(FMT_FS_EXT), "ext4") == 0);
	CHECK(strcmp(fmt_fs_name(FMT_FS_SQUASHFS), "squashfs") == 0);
	CHECK(strcmp(fmt_fs_name(FMT_FS_EROFS), "erofs") == 0);
	CHECK(strcmp(fmt_fs_name(FMT_FS_XFS), "xfs") == 0);
	CHECK(strcmp(fmt_fs_name(FMT_FS_BTRFS), "btrfs") == 0);
	CHECK(strcmp(fmt_fs_name(FMT_FS_F2FS), "f2fs") == 0);
	CHECK(strcmp(fmt_fs_name(FMT_FS_UNKNOWN), "unknown") == 0);
	CHECK(strcmp(fmt_fs_name(FMT_FS_COUNT), "unknown") == 0);
	CHECK(strcmp(fmt_fs_name((enum fmt_fs)-1), "unknown") == 0);
	CHECK(fmt_fs_readonly(FMT_FS_SQUASHFS));
	CHECK(fmt_fs_readonly(FMT_FS_EROFS));
	CHECK(!fmt_fs_readonly(FMT_FS_EXT));
	CHECK(!fmt_fs_readonly(FMT_FS_XFS));
	CHECK(!fmt_fs_readonly(FMT_FS_BTRFS));
	CHECK(!fmt_fs_readonly(FMT_FS_F2FS));
	CHECK(!fmt_fs_readonly(FMT_FS_UNKNOWN));
}

/*
 * Real images: the tool makes one in a temporary directory, its first
 * FMT_FS_PROBE_LEN bytes (or fewer) are read into an exact-size buffer.
 */
static void
real(const char *tool, const char *cmd, enum fmt_fs want)
{
	char dir[] = "/tmp/test_fsmagic.XXXXXX", sh[1024], path[300];
	unsigned char *b;
	FILE *f;
	size_t n;

	snprintf(sh, sizeof(sh), "command -v %s >/dev/null 2>&1", tool);
	if (system(sh) != 0) {
		printf("SKIP: %s not installed: no real %s image checked "
		    "(install its Debian package)\n",
		    tool, fmt_fs_name(want));
		return;
	}
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/img", dir);
	snprintf(sh, sizeof(sh), "cd %s && mkdir t && echo hi > t/f && "
	    "%s >/dev/null 2>&1", dir, cmd);
	CHECK_EQ(system(sh), 0);
	if ((f = fopen(path, "rb")) != NULL) {
		b = malloc(FMT_FS_PROBE_LEN);
		if (b == NULL)
			abort();
		n = fread(b, 1, FMT_FS_PROBE_LEN, f);
		fclose(f);
		CHECK_EQ(fmt_fs_detect(b, n), want);
		free(b);
	} else
		CHECK(!"the tool made no image");
	snprintf(sh, sizeof(sh), "rm -rf %s", dir);
	(void)system(sh);
}

static void
test_real(void)
{
	real("mksquashfs", "mksquashfs t img -quiet -no-progress",
	    FMT_FS_SQUASHFS);
	real("mkfs.erofs", "mkfs.erofs img t", FMT_FS_EROFS);
	real("mke2fs", "mke2fs -q -F -t ext4 -d t img 4M", FMT_FS_EXT);
	real("mkfs.xfs", "truncate -s 300M img && mkfs.xfs -q img",
	    FMT_FS_XFS);
	real("mkfs.btrfs", "truncate -s 120M img && mkfs.btrfs -q img",
	    FMT_FS_BTRFS);
	real("mkfs.f2fs", "truncate -s 64M img && mkfs.f2fs -q img",
	    FMT_FS_F2FS);
}

int
main(void)
{
	test_each_kind();
	test_not_mine();
	test_precedence();
	test_names();
	test_real();
	return (t_done());
}
