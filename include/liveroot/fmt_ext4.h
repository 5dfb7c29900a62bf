/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_ext4.h - a read-only ext2/ext3/ext4 reader: superblock, group
 * descriptors (32- and 64-bit, classic and meta_bg placement; flex_bg needs
 * nothing), inodes, extent trees and the direct/indirect block maps of
 * ext2/3, directories read linearly (htree directories included: the dx
 * root hides behind "..", interior dx blocks behind an empty entry), path
 * lookup (case-sensitive, '/'-separated), listing through a callback and a
 * file's extent list.
 *
 * Kernel-clean.  The caller owns a struct fmt_ext4 (about 4.3 KB: it embeds
 * a 4 KB read window) and supplies the volume as a struct fmt_src whose byte
 * 0 is the start of the file system.  Nothing is allocated; fmt_ext4_close()
 * exists for the shape the other readers share.  One struct fmt_ext4 is used
 * by one thread at a time; a listing callback may call fmt_ext4_lookup() and
 * fmt_ext4_extents() on the same struct.
 *
 * On-disk layout (all little-endian; offsets into the 1024-byte superblock
 * at byte 1024 of the volume): 0x00 s_inodes_count, 0x04 s_blocks_count_lo,
 * 0x14 s_first_data_block, 0x18 s_log_block_size (block = 1024 << v),
 * 0x1c s_log_cluster_size, 0x20 s_blocks_per_group, 0x28
 * s_inodes_per_group, 0x38 s_magic 0xEF53, 0x4c s_rev_level, 0x58
 * s_inode_size, 0x5c/0x60/0x64 compat/incompat/ro_compat features, 0x68
 * s_uuid, 0x78 s_volume_name[16], 0xfe s_desc_size, 0x104 s_first_meta_bg,
 * 0x150 s_blocks_count_hi, 0x24c s_backup_bgs[2].  A group descriptor:
 * 0x08 bg_inode_table_lo, 0x28 bg_inode_table_hi (64-bit descriptors).  An
 * inode: 0x00 i_mode, 0x04 i_size_lo, 0x20 i_flags, 0x28 i_block[60],
 * 0x6c i_size_high.  A directory entry: le32 inode, le16 rec_len, u8
 * name_len, u8 file_type (le16 name_len without the filetype feature), the
 * name.  An extent node: a 12-byte header (magic 0xF30A, entries, max,
 * depth) then 12-byte entries: index (le32 logical block, le32 + le16
 * child block) or leaf (le32 logical block, le16 length, > 32768 =
 * unwritten, le16 + le32 start block).
 *
 * Checks: the magic, revision 0 or 1, block size 1 KiB..64 KiB, every
 * incompat feature known (compression, dirdata, an external journal
 * device: refused by name; inline_data and encrypt are accepted: inline
 * directories are read (i_block, then the in-inode "system.data"
 * attribute), an inline file or anything encrypted is refused by name
 * when met), inode size a power of
 * two in 128..block size, descriptor size, the group counts, the group
 * descriptor table and the whole file system inside the medium, the root
 * inode a directory.  Inodes: the number inside 1..s_inodes_count, the
 * inode table inside the volume.  Mapping: extent headers (magic, entries
 * <= max <= what fits, depth <= 5 and one less per level), every run
 * inside the volume and past the superblock, logical blocks in order with
 * no overlap; a hole or an unwritten extent inside the file is an error
 * naming the file (an ISO with holes cannot be remapped); a file larger
 * than the volume is corrupt, which bounds every walk by the volume.
 * Directories: rec_len a multiple of 4, >= 12, inside its block; the name
 * inside rec_len, without '/' or NUL.
 *
 * The journal is not replayed: a volume that needs recovery
 * (needs_recovery) is read as it is on disk.
 *
 * Return values: 0 or a positive errno with detail in the optional diag:
 * ENOENT, ENOTDIR, ELOOP (path too deep), EINVAL (corrupt), ENOTSUP (a
 * feature liveroot does not read: compression, dirdata, inline data,
 * encryption, a symlink where a file is wanted), ENOSPC (extent array too
 * small: *nextents says how many are needed), or the read callback's error.
 */
#ifndef LIVEROOT_FMT_EXT4_H
#define LIVEROOT_FMT_EXT4_H

#include "diag.h"
#include "fmt.h"

#define FMT_EXT4_NAMEMAX	255
#define FMT_EXT4_MAXDEPTH	64	/* path components */
#define FMT_EXT4_ROOT_INO	2
#define FMT_EXT4_PROBE_LEN	2048	/* bytes fmt_ext4_probe() reads */

struct fmt_ext4_dirent {
	char		name[FMT_EXT4_NAMEMAX + 1];	/* as stored */
	uint8_t		name_len;
	uint32_t	ino;
	uint16_t	mode;		/* i_mode */
	uint32_t	flags;		/* i_flags */
	bool		is_dir;
	bool		is_reg;
	bool		is_root;
	uint64_t	size;		/* bytes */
	uint64_t	inode_off;	/* the inode's byte offset */
	uint8_t		iblock[60];	/* extent root or block map */
};

struct fmt_ext4 {
	struct fmt_src	src;
	const char	*kind;		/* "ext2", "ext3" or "ext4" */
	uint32_t	block_size;
	uint64_t	nblocks;	/* s_blocks_count */
	uint64_t	volsize;	/* bytes: nblocks * block_size */
	uint32_t	first_data_block;
	uint32_t	blocks_per_group;
	uint32_t	inodes_per_group;
	uint32_t	ninodes;
	uint32_t	ngroups;
	uint32_t	inode_size;
	uint32_t	desc_size;
	uint32_t	compat, incompat, ro_compat;
	uint32_t	first_meta_bg;
	uint32_t	backup_bgs[2];
	bool		needs_recovery;	/* journal not replayed */
	uint8_t		uuid[16];
	char		label[17];	/* control bytes shown as '_' */
	/* private: the read window */
	uint64_t	buf_off;
	size_t		buf_len;	/* 0: empty */
	uint8_t		buf[4096];
};

/* Cheap check of the first 2048 bytes: the magic and sane shifts. */
bool	fmt_ext4_probe(const void *buf, size_t len);

/* Validates the superblock and reads the root inode.  src is copied. */
int	fmt_ext4_open(struct fmt_ext4 *fs, const struct fmt_src *src,
	    struct diag *d);
void	fmt_ext4_close(struct fmt_ext4 *fs);

/* The inode ino as a dirent with an empty name. */
int	fmt_ext4_inode(struct fmt_ext4 *fs, uint32_t ino,
	    struct fmt_ext4_dirent *ent, struct diag *d);

int	fmt_ext4_lookup(struct fmt_ext4 *fs, const char *path,
	    struct fmt_ext4_dirent *ent, struct diag *d);

/*
 * Every entry of dir (NULL = the root) but "." and "..", in on-disk order;
 * cb non-zero stops the listing (its value is returned when positive, 0 when
 * negative).
 */
typedef int (*fmt_ext4_list_fn)(void *arg,
    const struct fmt_ext4_dirent *ent);
int	fmt_ext4_list(struct fmt_ext4 *fs, const struct fmt_ext4_dirent *dir,
	    fmt_ext4_list_fn cb, void *arg, struct diag *d);

/*
 * The byte runs of a regular file or directory (size bytes, the last run
 * cut at the size), in order, physically contiguous blocks coalesced.
 * *nextents is always the number needed; ENOSPC when it exceeds max.
 */
int	fmt_ext4_extents(struct fmt_ext4 *fs,
	    const struct fmt_ext4_dirent *ent, struct fmt_extent *ext,
	    size_t max, size_t *nextents, struct diag *d);

#endif
