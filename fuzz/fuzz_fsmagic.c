/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_fsmagic.c - the file system detector (fmt_fs.h) on the raw input
 * (an exact-size buffer) and on every prefix length that ends at or just
 * before a magic's end.  Its promises: the answer is a valid kind, has a
 * name, and agrees with the magic the bytes really hold at the offset the
 * table names (checked here independently); a prefix too short for a
 * magic never reports that kind.  A broken promise aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_fs.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
has(const uint8_t *d, size_t size, size_t off, const char *m, size_t len)
{
	return (size >= off + len && memcmp(d + off, m, len) == 0);
}

/* What the header documents, written out again: the oracle. */
static enum fmt_fs
oracle(const uint8_t *d, size_t size)
{
	if (has(d, size, 0, "hsqs", 4))
		return (FMT_FS_SQUASHFS);
	if (has(d, size, 0, "XFSB", 4))
		return (FMT_FS_XFS);
	if (has(d, size, 1024, "\xe2\xe1\xf5\xe0", 4))
		return (FMT_FS_EROFS);
	if (has(d, size, 1024, "\x10\x20\xf5\xf2", 4))
		return (FMT_FS_F2FS);
	if (has(d, size, 1080, "\x53\xef", 2))
		return (FMT_FS_EXT);
	if (has(d, size, 0x10040, "_BHRfS_M", 8))
		return (FMT_FS_BTRFS);
	return (FMT_FS_UNKNOWN);
}

static void
one(const uint8_t *d, size_t size)
{
	enum fmt_fs fs = fmt_fs_detect(d, size);

	if ((unsigned)fs >= FMT_FS_COUNT || fmt_fs_name(fs) == NULL ||
	    fs != oracle(d, size))
		abort();
	if (fmt_fs_readonly(fs) != (fs == FMT_FS_SQUASHFS ||
	    fs == FMT_FS_EROFS))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t ends[] = { 4, 1028, 1082, 0x10048 };
	size_t i;

	one(data, size);
	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		if (ends[i] <= size)
			one(data, ends[i]);
		if (ends[i] - 1 <= size)
			one(data, ends[i] - 1);
	}
	return (0);
}
