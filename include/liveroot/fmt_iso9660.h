/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_iso9660.h - a read-only ISO 9660 (ECMA-119) reader: volume descriptors,
 * the label, path lookup and directory listing, with Rock Ridge (NM names,
 * CL/RE relocated directories), Joliet (UCS-2BE names) and plain ISO names.
 *
 * Kernel-clean and allocation-free: the caller owns a struct fmt_iso (about
 * 7 KB: it embeds one directory-sector buffer, one continuation-area buffer
 * and the walk stack) and supplies the medium as a struct fmt_src.  Nothing
 * is cached across calls except the last sector read.  One struct fmt_iso is
 * used by one thread at a time; a listing callback may call fmt_iso_lookup()
 * on the same struct but not fmt_iso_list()/fmt_iso_walk().
 *
 * Every extent taken from the medium is checked against the volume size and
 * the medium size before it is returned or read; directory records are
 * bounded inside their 2048-byte sector; SUSP walks, CE continuation chains,
 * multi-extent chains, directory sizes and directory depth are all bounded;
 * a directory that is its own ancestor is ELOOP.
 *
 * Names: with Rock Ridge the NM name (exact match); else Joliet (UTF-8 from
 * UCS-2BE, ";1" stripped, ASCII case-insensitive match); else the plain ISO
 * name with ";N" and a trailing '.' stripped (ASCII case-insensitive match).
 * Paths are '/'-separated, relative to the root; "", "/" and "." components
 * mean the root / the same directory; ".." is refused (EINVAL).
 *
 * Return values: 0 or a positive errno, with detail in the optional diag:
 *   ENOENT  not found (which component), ENOTDIR, ELOOP (directory cycle or
 *   depth over FMT_ISO_MAXDEPTH), EINVAL (corrupt: names the file), ENOSPC
 *   (more extents than the caller's array: ent->nextents says how many are
 *   needed), ENOTSUP (interleaved files), ENAMETOOLONG (a walk path over
 *   FMT_ISO_PATHMAX), a callback's own non-zero value, or the read
 *   callback's errno.
 */
#ifndef LIVEROOT_FMT_ISO9660_H
#define LIVEROOT_FMT_ISO9660_H

#include "diag.h"
#include "fmt.h"

#define FMT_ISO_SECTOR		2048
#define FMT_ISO_VDOFF		0x8000	/* sector 16: the first descriptor */
#define FMT_ISO_MAXVD		64	/* volume descriptors walked at most */
#define FMT_ISO_MAXDEPTH	64	/* directory levels */
#define FMT_ISO_NAMEMAX		511	/* UTF-8 bytes of one name */
#define FMT_ISO_PATHMAX		1024	/* bytes of a path given to walk callbacks */
#define FMT_ISO_MAXDIRSIZE	(64u << 20)	/* bytes of one directory */
#define FMT_ISO_MAXCE		16	/* CE continuation areas per record */

/* fmt_iso_open() flags */
#define FMT_ISO_NORR		0x01	/* ignore Rock Ridge */
#define FMT_ISO_NOJOLIET	0x02	/* ignore Joliet */

enum fmt_iso_names {
	FMT_ISO_NAMES_PLAIN = 0,
	FMT_ISO_NAMES_JOLIET,
	FMT_ISO_NAMES_RR,
};

/* One directory entry (a multi-extent file is one entry). */
struct fmt_iso_dirent {
	char		name[FMT_ISO_NAMEMAX + 1];	/* UTF-8, NUL-ended */
	bool		is_dir;
	bool		is_symlink;	/* Rock Ridge SL (not followed) */
	uint64_t	size;		/* bytes; sum over all extents */
	uint64_t	off;		/* byte offset of the first extent */
	uint32_t	nextents;	/* records in the multi-extent chain */
};

struct fmt_iso_level {
	uint64_t	off;		/* directory extent, bytes */
	uint64_t	size;
	uint64_t	pos;		/* next record, bytes into the directory */
	size_t		pathlen;
};

struct fmt_iso {
	struct fmt_src	src;
	uint32_t	blksz;		/* logical block size (512..2048) */
	uint64_t	volsize;	/* bytes: volume space size * blksz */
	char		label[33];	/* primary volume id, trailing spaces cut */
	char		system_id[33];
	bool		has_joliet;
	bool		has_rr;		/* SUSP SP found in the root "." record */
	enum fmt_iso_names names;	/* the tree and naming in use */
	uint8_t		rr_skip;	/* SUSP LEN_SKP */
	uint64_t	root_off;	/* root directory of the tree in use */
	uint64_t	root_size;
	uint64_t	pvd_root_off, pvd_root_size;
	uint64_t	svd_root_off, svd_root_size;	/* Joliet */
	/* scratch */
	uint64_t	sec_off;	/* medium offset cached in sec, or ~0 */
	size_t		sec_len;
	uint8_t		sec[FMT_ISO_SECTOR];
	uint8_t		ce[FMT_ISO_SECTOR];
	char		path[FMT_ISO_PATHMAX];
	struct fmt_iso_level stack[FMT_ISO_MAXDEPTH];
};

/*
 * Cheap: is there an ISO 9660 volume descriptor ("\x01CD001" or any
 * "?CD001\x01") at byte 0x8000 of buf?  buf holds len bytes from offset 0
 * of the medium; needs len >= 0x8006.  "Not mine" is false, not an error.
 */
bool	fmt_iso_probe(const void *buf, size_t len);

/* Strict: walk the descriptors, pick the tree (see flags), check the root. */
int	fmt_iso_open(struct fmt_iso *iso, const struct fmt_src *src, int flags,
	    struct diag *d);

/*
 * Look a path up.  ent receives the entry; ext[0..cap) receives its extents
 * (medium byte offsets; ext may be NULL when cap is 0, e.g. for a directory).
 */
int	fmt_iso_lookup(struct fmt_iso *iso, const char *path,
	    struct fmt_iso_dirent *ent, struct fmt_extent *ext, size_t cap,
	    struct diag *d);

/*
 * Called per entry ("." and "..", RR-relocated directories (RE) and
 * associated files (flag 0x04) are hidden).
 * path is the entry's full path from the root, "/dir/name" (walk), or its
 * bare name (list); it stays valid only during the call.
 * Return 0 to go on; anything else stops the listing and is returned.
 */
typedef int (*fmt_iso_list_fn)(void *arg, const char *path,
    const struct fmt_iso_dirent *ent);

/* The entries of one directory. */
int	fmt_iso_list(struct fmt_iso *iso, const char *dirpath,
	    fmt_iso_list_fn fn, void *arg, struct diag *d);

/* Every entry below dirpath, depth first, directories before their contents. */
int	fmt_iso_walk(struct fmt_iso *iso, const char *dirpath,
	    fmt_iso_list_fn fn, void *arg, struct diag *d);

/* Read len bytes at byte pos of a file given by its extents. */
int	fmt_iso_read_extents(const struct fmt_src *src,
	    const struct fmt_extent *ext, size_t n, void *buf, size_t len,
	    uint64_t pos, struct diag *d);

#endif
