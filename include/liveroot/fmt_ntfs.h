/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_ntfs.h - a read-only NTFS reader: the boot sector (cluster sizes up to
 * 2 MiB, including the negative power-of-two encoding), MFT records with
 * their update sequence fixups applied and checked, the $MFT's own
 * (fragmented) runlist, $ATTRIBUTE_LIST (resident or not) for files whose
 * attributes spill into extension records, directories through $INDEX_ROOT
 * and $INDEX_ALLOCATION ($I30, INDX blocks with fixups), the volume label,
 * path lookup, listing through a callback and a file's extent list.
 * Enough to find an ISO image on a Windows partition and remap its clusters
 * without a kernel driver (Debian's kernel has no ntfs3).
 *
 * Kernel-clean.  The caller owns a struct fmt_ntfs (about 18 KB: it embeds
 * two MFT record buffers, the index root and one index block) and supplies
 * the volume as a struct fmt_src whose byte 0 is the boot sector.  With an
 * lr_allocator, open reads the volume's $UpCase table (128 KB) and names
 * are compared through it; with a NULL allocator they are compared with
 * ASCII/Latin-1/Greek/Cyrillic simple folding (fmt_fold).  The allocator
 * also lets the $MFT runlist grow past the 64 runs held inline.
 * fmt_ntfs_close() frees both.  One struct fmt_ntfs is used by one thread at
 * a time; a listing callback may call fmt_ntfs_lookup(), fmt_ntfs_list()
 * and fmt_ntfs_extents() on the same struct (the walk reloads its node).
 *
 * Directories: every entry of the B+tree is visited (depth-first, with an
 * explicit stack of at most FMT_NTFS_MAXIDXDEPTH levels, and no more
 * descents than the index has blocks, so a loop ends in ELOOP); the order
 * of the keys is not trusted, so lookup does not depend on collation.  A
 * lookup prefers an exact match, else the first case-insensitive one; it
 * also matches DOS 8.3 names, which listings skip (as they skip the entry
 * of the directory itself: the root's ".").
 *
 * Checks: "NTFS    " and 55 AA, bytes per sector 256..4096, cluster size
 * at most 2 MiB, MFT and index records 512..4096 bytes, the MFT inside the
 * volume and the volume inside the medium; every record: magic, fixups
 * (count matching the record size, each sector's tail matching the update
 * sequence number), header offsets, the in-use flag, the sequence number
 * of the reference; every attribute inside the record and its value or
 * mapping pairs inside the attribute; runs inside the volume, segments of
 * an attribute contiguous in VCN and covering its data size; index entries
 * inside their node, nodes ending in an end entry.  Corrupt input gives
 * EINVAL (ELOOP for loops) naming the record and what is wrong.
 *
 * Files whose clusters cannot be remapped: a compressed or encrypted
 * $DATA, a sparse run inside the data, or data held inside the MFT record
 * (resident, non-empty) -> ENOTSUP naming the file and the fix.  Bytes past
 * the initialized size read as zeros through a driver: the dirent reports
 * valid_size and partial_valid, the extents still cover the whole size.
 *
 * Return values: 0 or a positive errno with detail in the optional diag:
 * ENOENT, ENOTDIR, EISDIR (extents of a directory), ELOOP, EINVAL, ENOTSUP,
 * ENOMEM, ENOSPC (extent array too small: *nextents says how many are
 * needed), or the read callback's error.
 */
#ifndef LIVEROOT_FMT_NTFS_H
#define LIVEROOT_FMT_NTFS_H

#include "diag.h"
#include "fmt.h"

#define FMT_NTFS_NAMEMAX	765	/* UTF-8 bytes of 255 UTF-16 units */
#define FMT_NTFS_MAXDEPTH	64	/* path components */
#define FMT_NTFS_MAXIDXDEPTH	16	/* levels of a directory's B+tree */
#define FMT_NTFS_RECMAX		4096	/* MFT and index record bytes */
#define FMT_NTFS_MFTRUNS	64	/* $MFT runs held inline */
#define FMT_NTFS_ROOT		5	/* MFT record of the root directory */

/* $FILE_NAME namespaces */
#define FMT_NTFS_NS_POSIX	0
#define FMT_NTFS_NS_WIN32	1
#define FMT_NTFS_NS_DOS		2
#define FMT_NTFS_NS_BOTH	3

struct fmt_ntfs_dirent {
	char		name[FMT_NTFS_NAMEMAX + 1];	/* UTF-8 */
	uint16_t	name16[255];			/* as stored */
	uint8_t		name_len;			/* UTF-16 units */
	uint8_t		name_space;			/* FMT_NTFS_NS_* */
	bool		is_dir;
	bool		is_root;
	bool		partial_valid;	/* valid_size < size (lookup only) */
	uint32_t	attr;		/* $FILE_NAME file attributes */
	uint64_t	ref;		/* MFT reference: record | seq << 48 */
	uint64_t	parent_ref;
	/*
	 * Listing: as the index key says (it may lag behind the file);
	 * lookup: from the file's own $DATA attribute.
	 */
	uint64_t	size;
	uint64_t	valid_size;
};

struct fmt_ntfs_run {
	uint64_t	vcn;
	uint64_t	lcn;
	uint64_t	len;		/* clusters */
};

struct fmt_ntfs {
	struct fmt_src	src;
	uint32_t	bps;		/* bytes per sector */
	uint32_t	cluster_size;
	uint32_t	rec_size;	/* MFT record */
	uint32_t	idx_size;	/* index record */
	uint64_t	nclusters;
	uint64_t	volsize;	/* bytes */
	uint64_t	mft_lcn;
	uint64_t	nrecords;	/* in $MFT's data */
	uint64_t	serial;
	char		label[128];	/* UTF-8, from $Volume's $VOLUME_NAME */
	bool		has_upcase;	/* $UpCase was read and is used */
	/* private */
	uint16_t	*upcase;	/* 65536 entries or NULL */
	struct lr_allocator alloc;
	struct fmt_ntfs_run	*mft;		/* mft0 or allocated */
	size_t		nmft, mftcap;
	struct fmt_ntfs_run	mft0[FMT_NTFS_MFTRUNS];
	uint8_t		idx_vbits;	/* log2 of an index VCN's bytes */
	uint64_t	root_tag;	/* record whose root is in rootv + 1 */
	uint32_t	root_len;
	uint64_t	idx_tag;	/* record of the block in idx + 1 */
	uint64_t	idx_vcn;
	uint8_t		rec[2][FMT_NTFS_RECMAX];
	uint8_t		rootv[FMT_NTFS_RECMAX];
	uint8_t		idx[FMT_NTFS_RECMAX];
};

/* Cheap check of a boot sector (>= 512 bytes): "NTFS    " and sane sizes. */
bool	fmt_ntfs_probe(const void *boot, size_t len);

/*
 * Validates the boot sector and the $MFT, reads the label, the root
 * directory's record and (when a is not NULL) $UpCase.  src is copied.  On
 * failure nothing stays allocated.
 */
int	fmt_ntfs_open(struct fmt_ntfs *fs, const struct fmt_src *src,
	    const struct lr_allocator *a, struct diag *d);
void	fmt_ntfs_close(struct fmt_ntfs *fs);

int	fmt_ntfs_lookup(struct fmt_ntfs *fs, const char *path,
	    struct fmt_ntfs_dirent *ent, struct diag *d);

/* Like fmt_exfat_list(): dir NULL = the root; cb non-zero stops. */
typedef int (*fmt_ntfs_list_fn)(void *arg,
    const struct fmt_ntfs_dirent *ent);
int	fmt_ntfs_list(struct fmt_ntfs *fs, const struct fmt_ntfs_dirent *dir,
	    fmt_ntfs_list_fn cb, void *arg, struct diag *d);

/*
 * The byte runs of the file's unnamed $DATA (its size in bytes, from the
 * attribute), in order, contiguous clusters coalesced.  *nextents is always
 * the number needed; ENOSPC when it exceeds max.  EISDIR for a
 * directory.
 */
int	fmt_ntfs_extents(struct fmt_ntfs *fs,
	    const struct fmt_ntfs_dirent *ent, struct fmt_extent *ext,
	    size_t max, size_t *nextents, struct diag *d);

#endif
