/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_fat.h - a read-only FAT12/16/32 reader: BPB validation, the volume
 * label, path lookup with long names (VFAT LFN, checksum checked, UCS-2 ->
 * UTF-8) and 8.3 names, directory listing through a callback, and a file's
 * extent list (contiguous clusters coalesced into one struct fmt_extent).
 *
 * Kernel-clean and allocation-free: the caller owns a struct fmt_fat (about
 * 1 KB: it embeds a 512-byte read cache) and supplies the volume as a struct
 * fmt_src whose byte 0 is the boot sector (slice a partition in the read
 * callback).  One struct fmt_fat is used by one thread at a time; a listing
 * callback may call fmt_fat_lookup()/fmt_fat_extents() on the same struct.
 *
 * Checks: bytes per sector a power of 2 in 512..4096, sectors per cluster a
 * power of 2, reserved/FAT/root/data regions inside the volume and the
 * medium, the cluster count bounded by the data region and by the FAT size
 * (clamped as Linux does).  The type follows from the cluster count
 * (< 4085 FAT12, < 65525 FAT16, else FAT32); a BPB in FAT32 layout (16-bit
 * FAT size 0, no fixed root directory) is FAT32 whatever the count, as
 * mkfs.vfat -F 32 and every OS accept.  Every cluster chain is bounded by the
 * cluster count (longer -> ELOOP); a cluster number outside 2..count+1, a
 * free or bad cluster inside a chain -> EINVAL; a file larger than its chain
 * -> EINVAL naming the file.
 *
 * Names: the long name when its LFN entries are complete and their checksum
 * matches the 8.3 entry, else the 8.3 name (NT lower-case flags applied).
 * Matching is case-insensitive (ASCII, Latin-1, Greek and Cyrillic simple
 * folding) against either the long or the 8.3 name.  Paths are '/'-separated
 * from the root; "" and "/" are the root.
 *
 * Return values: 0 or a positive errno with detail in the optional diag:
 * ENOENT, ENOTDIR, ELOOP, EINVAL (corrupt), ENOSPC (extent array too small:
 * *nextents says how many are needed), or the read callback's error.
 */
#ifndef LIVEROOT_FMT_FAT_H
#define LIVEROOT_FMT_FAT_H

#include "diag.h"
#include "fmt.h"

#define FMT_FAT_NAMEMAX		765	/* UTF-8 bytes of 255 UTF-16 units */
#define FMT_FAT_MAXDEPTH	64	/* path components */

#define FMT_FAT_ATTR_RO		0x01
#define FMT_FAT_ATTR_HIDDEN	0x02
#define FMT_FAT_ATTR_SYSTEM	0x04
#define FMT_FAT_ATTR_VOLID	0x08
#define FMT_FAT_ATTR_DIR	0x10
#define FMT_FAT_ATTR_ARCHIVE	0x20
#define FMT_FAT_ATTR_LFN	0x0f

struct fmt_fat_dirent {
	char		name[FMT_FAT_NAMEMAX + 1];	/* long or 8.3, UTF-8 */
	char		short_name[13];			/* "NAME.EXT" stored */
	uint8_t		attr;				/* FMT_FAT_ATTR_* */
	bool		is_dir;
	bool		is_root;	/* the root directory (lookup of "/") */
	uint32_t	first_cluster;	/* 0 for an empty file / fixed root */
	uint32_t	size;		/* bytes; 0 for directories */
};

struct fmt_fat {
	struct fmt_src	src;
	int		type;		/* 12, 16 or 32 */
	uint32_t	bps;		/* bytes per sector */
	uint32_t	cluster_size;	/* bytes */
	uint32_t	nclusters;	/* valid numbers 2..nclusters+1 */
	uint32_t	nfats;
	uint64_t	volsize;	/* bytes: total sectors * bps */
	uint64_t	fat_off;	/* bytes: the first FAT */
	uint64_t	fat_len;	/* bytes of one FAT */
	uint64_t	root_off;	/* FAT12/16: fixed root directory */
	uint32_t	root_entries;	/* FAT12/16 */
	uint32_t	root_cluster;	/* FAT32 */
	uint64_t	data_off;	/* bytes: cluster 2 */
	uint32_t	serial;
	char		label[12];	/* root label entry, else BPB */
	/* private: one cached 512-byte block */
	uint64_t	cache_off;
	bool		cache_ok;
	uint8_t		cache[512];
};

/*
 * Cheap check of a boot sector (at least 512 bytes of the volume's start):
 * true when it carries a plausible FAT BPB.  Never an error.
 */
bool	fmt_fat_probe(const void *boot, size_t len);

/* Validates the BPB and reads the label.  src is copied. */
int	fmt_fat_open(struct fmt_fat *fs, const struct fmt_src *src,
	    struct diag *d);

/* True when the volume label equals label (ASCII case-insensitive). */
bool	fmt_fat_label_is(const struct fmt_fat *fs, const char *label);

/* Finds path; ent receives the entry ("/" gives the root, is_root set). */
int	fmt_fat_lookup(struct fmt_fat *fs, const char *path,
	    struct fmt_fat_dirent *ent, struct diag *d);

/*
 * Calls cb for each entry of the directory dir (NULL = the root), skipping
 * ".", "..", deleted entries and the volume label.  A non-zero return of cb
 * stops the listing and is returned.
 */
typedef int (*fmt_fat_list_fn)(void *arg, const struct fmt_fat_dirent *ent);
int	fmt_fat_list(struct fmt_fat *fs, const struct fmt_fat_dirent *dir,
	    fmt_fat_list_fn cb, void *arg, struct diag *d);

/*
 * The byte runs of ent on the volume, in file order, contiguous clusters
 * coalesced; for a file they add up to its size, for a directory to its
 * whole chain (the fixed FAT12/16 root is one run).  Fills at most max
 * entries of ext; *nextents is always the number needed (ENOSPC when it
 * exceeds max; ext may be NULL with max 0 to count).
 */
int	fmt_fat_extents(struct fmt_fat *fs, const struct fmt_fat_dirent *ent,
	    struct fmt_extent *ext, size_t max, size_t *nextents,
	    struct diag *d);

#endif
