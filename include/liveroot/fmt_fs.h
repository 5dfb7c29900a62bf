/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_fs.h - which file system a root image holds, by its magic number.
 * Kernel-clean and pure: the caller reads the image's first bytes (after
 * uzip decompression) and hands them in; nothing is allocated.
 *
 * The magics, each at a fixed offset:
 *   squashfs  "hsqs"              at 0       (le32 0x73717368, s_magic)
 *   xfs       "XFSB"              at 0       (be32 0x58465342, sb_magicnum)
 *   erofs     le32 0xE0F5E1E2     at 1024    (EROFS_SUPER_OFFSET + 0)
 *   f2fs      le32 0xF2F52010     at 1024    (F2FS_SUPER_OFFSET + 0)
 *   ext2/3/4  le16 0xEF53         at 1080    (1024 + s_magic at 0x38)
 *   btrfs     "_BHRfS_M"          at 0x10040 (64 KiB + magic at 0x40)
 * The first match in that order wins: a magic at 0 names the whole image's
 * own format (squashfs and xfs start there), the 1024 ones cannot both
 * match, and ext's two bytes and btrfs's far superblock come last because
 * a file system made over an old one may leave them behind.
 *
 * The kinds split two ways: block file systems the kernel writes (ext,
 * xfs, btrfs, f2fs: liveroot's block-level rowr overlay makes them
 * writable) and read-only ones (squashfs, erofs: mounted read-only with
 * an overlayfs on top).  Bytes short of an offset simply do not match.
 */
#ifndef LIVEROOT_FMT_FS_H
#define LIVEROOT_FMT_FS_H

#include "lr_deps.h"

enum fmt_fs {
	FMT_FS_UNKNOWN = 0,
	FMT_FS_EXT,		/* ext2, ext3, ext4: mounted as ext4 */
	FMT_FS_XFS,
	FMT_FS_BTRFS,
	FMT_FS_F2FS,
	FMT_FS_SQUASHFS,
	FMT_FS_EROFS,
	FMT_FS_COUNT
};

#define FMT_FS_OFS_SQUASHFS	0
#define FMT_FS_OFS_XFS		0
#define FMT_FS_OFS_EROFS	1024
#define FMT_FS_OFS_F2FS		1024
#define FMT_FS_OFS_EXT		1080
#define FMT_FS_OFS_BTRFS	0x10040
/* Bytes that reach every magic: hand in this many when the image has them. */
#define FMT_FS_PROBE_LEN	(FMT_FS_OFS_BTRFS + 8)

/* The file system whose magic buf (the image's first len bytes) holds. */
enum fmt_fs	fmt_fs_detect(const void *buf, size_t len);
/* The kernel's name for it ("ext4", "squashfs", ...); "unknown". */
const char	*fmt_fs_name(enum fmt_fs fs);
/* 1 for squashfs and erofs (no block-level overlay: overlayfs on top). */
int		fmt_fs_readonly(enum fmt_fs fs);

#endif
