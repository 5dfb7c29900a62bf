/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fsmagic.c - the root image's file system by its magic (fmt_fs.h).
 *
 * A table of (kind, offset, bytes) tried in order; a magic is compared only
 * when offset + its length lies within len (checked arithmetic is not
 * needed: both are small constants).  No state, no allocation.
 */
#include <liveroot/fmt_fs.h>

struct fs_magic {
	enum fmt_fs	fs;
	size_t		off;
	size_t		len;
	unsigned char	magic[8];
};

/* In order of precedence (fmt_fs.h says why). */
static const struct fs_magic magics[] = {
	{ FMT_FS_SQUASHFS, FMT_FS_OFS_SQUASHFS, 4, { 'h', 's', 'q', 's' } },
	{ FMT_FS_XFS, FMT_FS_OFS_XFS, 4, { 'X', 'F', 'S', 'B' } },
	{ FMT_FS_EROFS, FMT_FS_OFS_EROFS, 4, { 0xe2, 0xe1, 0xf5, 0xe0 } },
	{ FMT_FS_F2FS, FMT_FS_OFS_F2FS, 4, { 0x10, 0x20, 0xf5, 0xf2 } },
	{ FMT_FS_EXT, FMT_FS_OFS_EXT, 2, { 0x53, 0xef } },
	{ FMT_FS_BTRFS, FMT_FS_OFS_BTRFS, 8,
	    { '_', 'B', 'H', 'R', 'f', 'S', '_', 'M' } },
};

static const char *const names[FMT_FS_COUNT] = {
	[FMT_FS_UNKNOWN] = "unknown",
	[FMT_FS_EXT] = "ext4",
	[FMT_FS_XFS] = "xfs",
	[FMT_FS_BTRFS] = "btrfs",
	[FMT_FS_F2FS] = "f2fs",
	[FMT_FS_SQUASHFS] = "squashfs",
	[FMT_FS_EROFS] = "erofs",
};

enum fmt_fs
fmt_fs_detect(const void *buf, size_t len)
{
	const unsigned char *b = buf;
	size_t i;

	if (b == NULL)
		return (FMT_FS_UNKNOWN);
	for (i = 0; i < LR_NELEM(magics); i++) {
		if (magics[i].off > len || len - magics[i].off < magics[i].len)
			continue;
		if (memcmp(b + magics[i].off, magics[i].magic,
		    magics[i].len) == 0)
			return (magics[i].fs);
	}
	return (FMT_FS_UNKNOWN);
}

const char *
fmt_fs_name(enum fmt_fs fs)
{
	if ((unsigned)fs >= FMT_FS_COUNT)
		return ("unknown");
	return (names[fs]);
}

int
fmt_fs_readonly(enum fmt_fs fs)
{
	return (fs == FMT_FS_SQUASHFS || fs == FMT_FS_EROFS);
}
