/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_exfat.h - a read-only exFAT reader: boot sector and boot checksum
 * (sector 11), FAT chains, the up-case table, entry sets (SetChecksum and
 * NameHash checked), NoFatChain and FAT-chain files and directories, the
 * volume label, path lookup, listing through a callback and a file's extent
 * list.
 *
 * Kernel-clean.  The caller owns a struct fmt_exfat (about 4.5 KB: it embeds
 * one sector buffer) and supplies the volume as a struct fmt_src whose byte 0
 * is the boot sector.  The expanded up-case table (128 KB) is the only
 * allocation, made through the caller's lr_allocator at open; with a NULL
 * allocator, or when the volume has no up-case table, names are compared with
 * ASCII/Latin-1/Greek/Cyrillic simple folding instead (and NameHash is then
 * only checked for names it can fold exactly: all-ASCII ones).
 * fmt_exfat_close() frees the table.  One struct fmt_exfat is used by one
 * thread at a time; a listing callback may call fmt_exfat_lookup() and
 * fmt_exfat_extents() on the same struct.
 *
 * Checks: "EXFAT   " and 55 AA, the must-be-zero bytes, BytesPerSectorShift
 * 9..12, cluster size <= 32 MiB, one or two FATs, FAT, cluster heap and root
 * inside the volume and the medium, the boot checksum.  Chains: every
 * cluster number in 2..ClusterCount+1 (else EINVAL), bad-cluster marks
 * EINVAL, a chain longer than ClusterCount -> ELOOP, DataLength <= chain
 * length (EINVAL naming the file).  An entry set whose SetChecksum or
 * NameHash does not match, or that is truncated -> EINVAL naming the entry;
 * a listing or lookup stops at the first such set of the directory it
 * reads (open reads the root directory, so a corrupt set there fails open).
 *
 * Stack: open and lookup keep about 2.5 KB of walk state on the stack.
 *
 * Extents cover DataLength bytes; bytes past ValidDataLength read as zero on
 * a real exFAT driver, so a caller that exposes the file must zero them
 * (the dirent reports valid_size and partial_valid).
 *
 * Return values: 0 or a positive errno with detail in the optional diag:
 * ENOENT, ENOTDIR, ELOOP, EINVAL, ENOMEM (up-case table allocation), ENOSPC
 * (extent array too small: *nextents says how many are needed), or the read
 * callback's error.
 */
#ifndef LIVEROOT_FMT_EXFAT_H
#define LIVEROOT_FMT_EXFAT_H

#include "diag.h"
#include "fmt.h"

#define FMT_EXFAT_NAMEMAX	765	/* UTF-8 bytes of 255 UTF-16 units */
#define FMT_EXFAT_MAXDEPTH	64
#define FMT_EXFAT_ATTR_DIR	0x10

struct fmt_exfat_dirent {
	char		name[FMT_EXFAT_NAMEMAX + 1];	/* UTF-8 */
	uint16_t	name16[255];			/* as stored */
	uint8_t		name_len;			/* UTF-16 units */
	uint16_t	attr;
	bool		is_dir;
	bool		is_root;
	bool		nofatchain;	/* one contiguous run, FAT unused */
	bool		partial_valid;	/* valid_size < size */
	uint32_t	first_cluster;	/* 0: no data */
	uint64_t	size;		/* DataLength, bytes */
	uint64_t	valid_size;	/* ValidDataLength, bytes */
};

struct fmt_exfat {
	struct fmt_src	src;
	uint32_t	bps;		/* bytes per sector */
	uint32_t	cluster_size;
	uint32_t	nclusters;	/* valid numbers 2..nclusters+1 */
	uint32_t	root_cluster;
	uint64_t	volsize;	/* bytes */
	uint64_t	fat_off;	/* bytes: the active FAT */
	uint64_t	heap_off;	/* bytes: cluster 2 */
	uint32_t	serial;
	uint16_t	flags;		/* VolumeFlags */
	char		label[34];	/* UTF-8, up to 11 UTF-16 units */
	bool		has_upcase;	/* the table was read and is used */
	/* private */
	uint16_t	*upcase;	/* 65536 entries or NULL */
	struct lr_allocator alloc;
	uint64_t	buf_off;
	bool		buf_ok;
	uint8_t		buf[4096];
};

/* Cheap check of a boot sector (>= 512 bytes): "EXFAT   " and sane shifts. */
bool	fmt_exfat_probe(const void *boot, size_t len);

/*
 * Validates the boot region, reads the up-case table (when a is not NULL)
 * and the label.  src is copied.  On failure nothing stays allocated.
 */
int	fmt_exfat_open(struct fmt_exfat *fs, const struct fmt_src *src,
	    const struct lr_allocator *a, struct diag *d);
void	fmt_exfat_close(struct fmt_exfat *fs);

int	fmt_exfat_lookup(struct fmt_exfat *fs, const char *path,
	    struct fmt_exfat_dirent *ent, struct diag *d);

/* Like fmt_fat_list(): dir NULL = the root; cb non-zero stops. */
typedef int (*fmt_exfat_list_fn)(void *arg,
    const struct fmt_exfat_dirent *ent);
int	fmt_exfat_list(struct fmt_exfat *fs, const struct fmt_exfat_dirent *dir,
	    fmt_exfat_list_fn cb, void *arg, struct diag *d);

/*
 * The byte runs of ent (DataLength bytes; the root: its whole chain), in
 * order, contiguous clusters coalesced.  *nextents is always the number
 * needed; ENOSPC when it exceeds max.
 */
int	fmt_exfat_extents(struct fmt_exfat *fs,
	    const struct fmt_exfat_dirent *ent, struct fmt_extent *ext,
	    size_t max, size_t *nextents, struct diag *d);

/* The exFAT checksums, exposed for tests and image forgers. */
uint32_t fmt_exfat_boot_checksum(const uint8_t *sectors, size_t len);
uint16_t fmt_exfat_set_checksum(const uint8_t *set, size_t len);

#endif
