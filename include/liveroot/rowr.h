/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rowr.h - the rowr overlay layer: a read-only lower plus a writable upper
 * with a written-granule map (geom_rowr / gunion semantics; the map's
 * on-disk form is in rowrmap.h).
 *
 * Reads of never-written granules come from the lower, reads of written ones
 * from the upper; a read spanning both is split per run of the map.  A write
 * goes to the upper; the part of a granule it does not cover is first copied
 * up from the lower (read-modify-write), under a range lock.  A granule's bit
 * is set only after its upper write succeeded, so an upper error (ENOSPC from
 * a capped RAM upper, EIO) reaches the caller and never exposes half-written
 * granules that were not written before.
 *
 * Range locks: readers share, writers exclude overlapping ranges (gunion's
 * rule).  The lock table and the map are allocated once, at creation; the
 * I/O path allocates only a granule-sized bounce for a read-modify-write.
 *
 * Trim and write-zeroes: whole granules become "written as zero" (the upper
 * gets write_zeroes and a trim, so a RAM upper frees its pages).  The
 * partial-granule head and tail of a trim are ignored (trim is advisory: those
 * bytes keep their data); the partial head and tail of a write-zeroes are
 * written as zeros through the ordinary write path.
 *
 * Sizes: the union is the lower's size.  The upper must be at least that big
 * (a RAM upper needs only a cap); a too-small upper is refused at creation
 * with a message naming the size to use.  Map memory is one bit per granule,
 * 32 KiB per GiB at the default 4 KiB granule.
 *
 * Persistence (bdev_rowr_open_persistent; stack_open for overlays on
 * files): the map is kept in a sidecar file (UPPER.rowrmap for overlays on
 * files), format in docs/liveroot-overlay.8 and rowrmap.h.  bdev_flush() on
 * a persistent overlay flushes the upper, then saves the map atomically (a
 * temporary MAP.tmp created with O_EXCL|O_NOFOLLOW, fsync, rename, fsync of
 * the directory), so everything acknowledged before a flush survives a crash,
 * as on a disk with a volatile write cache.  Closing (bdev_destroy) saves too.
 *
 * The lower's identity is recorded in the map and checked at every open.
 * Samples of a device are its size (8 bytes LE) and 64 blocks of 4 KiB
 * spread evenly over it, the first and the last included (all of it up to
 * 256 KiB).  The identity is a SHA-256: for a uzip lower, of the image
 * file's header and TOC (bytes 0 up to its first cluster) followed by the
 * file's samples; for any other lower, of its samples.  The content hash
 * decides: equal, the lower is accepted even when its device, inode or
 * mtime differ (a copy of the image, e.g. on a new stick; the new hints are
 * recorded at the next save); different, the open is refused with
 * BDEV_ROWR_ELOWER.  Device, inode and mtime are recorded only as hints for
 * the messages.  A map without an identity (version 1) is accepted; the
 * identity of the lower it is opened with is recorded at its next save.
 *
 * Commit is crash-safe: before the first byte is copied into the lower the
 * map is saved durably with a COMMIT flag (and the hash the lower will have
 * afterwards); the flag is cleared with the map when the commit is done.
 * While the flag is set every open is refused with BDEV_ROWR_ECOMMIT
 * unless it asks for BDEV_ROWR_RESUME, which only a commit should do:
 * running the commit again copies every written granule again (the upper
 * still holds them) and completes it.
 *
 * Lock on the lower (flock on the lower's path): every persistent open holds
 * it shared, a commit exclusive for its duration, so a commit is refused
 * while another overlay on the same lower is open, and an open is refused
 * while a commit into its lower runs (EBUSY).  On a file system without
 * flock the lock is skipped.
 *
 * Library messages name the map, the lower and the fix, never a command:
 * the error codes below let the caller add its own command.
 *
 * All functions are thread-safe; many callers may do I/O at once.  Commit and
 * revert take an exclusive lock over the whole device for their duration.
 */
#ifndef LIVEROOT_ROWR_H
#define LIVEROOT_ROWR_H

#include "bdev.h"

/* Specific errors (a caller may add its command for the fix). */
#define BDEV_ROWR_ECOMMIT	EINPROGRESS	/* a commit was cut short */
#define BDEV_ROWR_ELOWER	ESTALE		/* not the map's lower */
#define BDEV_ROWR_ECORRUPT	EBADMSG		/* the map fails a check */

struct bdev_rowr_opts {
	/* 0 = default 4096 (or the lower's blksize if larger); a power of 2,
	 * 512..65536. */
	uint32_t	granule;
};

/* Owns both lower and upper on success; the caller keeps both on failure. */
int	bdev_rowr_new(struct bdev *lower, struct bdev *upper,
	    const struct bdev_rowr_opts *o, struct bdev **out, struct diag *d);

/* Forget every write: clear the map (saving it when persistent), then trim
 * the upper. */
int	bdev_rowr_revert(struct bdev *b, struct diag *d);

/*
 * Copy every written run from the upper into the lower (which must be
 * writable), in bounded chunks, flush the lower, then clear the map (saving
 * it when persistent) and trim the upper.  progress (may be NULL) gets bytes
 * done and the total to copy.
 */
int	bdev_rowr_commit(struct bdev *b,
	    void (*progress)(uint64_t done, uint64_t total, void *arg),
	    void *arg, struct diag *d);

struct bdev_rowr_stats {
	uint64_t	size;		/* union size, bytes */
	uint64_t	granule;	/* bytes */
	uint64_t	map_bytes;	/* memory: the map and the lock table */
	uint64_t	granules_written;
	uint64_t	bytes_read_lower;
	uint64_t	bytes_read_upper;
	uint64_t	bytes_written;	/* to the upper, copy-ups included */
	uint64_t	upper_bytes_used; /* RAM pages / file blocks in use */
};
void	bdev_rowr_get_stats(struct bdev *b, struct bdev_rowr_stats *st);

/* True when b is a rowr device. */
int	bdev_is_rowr(const struct bdev *b);

/* Map bytes for a union of `size` bytes at `granule` (the map alone). */
uint64_t bdev_rowr_map_bytes(uint64_t size, uint32_t granule);

/* --- persistence --------------------------------------------------------- */

#define BDEV_ROWR_CREATE	0x01	/* make a new, empty map file */
#define BDEV_ROWR_RDONLY	0x02	/* (open_files) read-only union */
/* (open_files) open the lower writable, for commit */
#define BDEV_ROWR_LOWER_RW	0x04
/* Open a map whose commit was interrupted, to run the commit again. */
#define BDEV_ROWR_RESUME	0x08

/*
 * Like bdev_rowr_new, with the map kept in map_path.  With BDEV_ROWR_CREATE
 * the map file must not exist yet and lower_path (recorded in it, may be
 * NULL) names the lower for later opens; the granule comes from o.  Without
 * it the map file is read and checked (magic, CRCs, sizes, the union size
 * against the lower's size) and o is ignored; a corrupt or truncated map is
 * refused with BDEV_ROWR_ECORRUPT and a message naming the file.  The
 * lower's identity is checked (BDEV_ROWR_ELOWER), an interrupted commit
 * refused (BDEV_ROWR_ECOMMIT, unless BDEV_ROWR_RESUME), and the lower
 * locked shared (EBUSY while a commit into it runs).  Owns lower and upper
 * on success.
 */
int	bdev_rowr_open_persistent(struct bdev *lower, struct bdev *upper,
	    const char *map_path, const char *lower_path,
	    const struct bdev_rowr_opts *o, int flags, struct bdev **out,
	    struct diag *d);

/* Flush the upper, then write the map file atomically (a new generation). */
int	bdev_rowr_save(struct bdev *b, struct diag *d);

/* What a map file says, without opening the overlay. */
struct bdev_rowr_info {
	uint64_t	size;
	uint32_t	granule;
	uint64_t	generation;
	uint64_t	granules_written;
	uint32_t	version;	/* of the map file */
	int		commit_pending;	/* a commit started, not done */
	uint32_t	lower_kind;	/* LR_ROWRMAP_ID_*: 0 not recorded */
	uint64_t	lower_size;	/* recorded (uzip: the file's) */
	char		lower_sha256[65]; /* hex; "" when not recorded */
	char		lower_path[4096];
};
int	bdev_rowr_read_info(const char *map_path,
	    struct bdev_rowr_info *info, struct diag *d);

/*
 * Check, without opening the overlay, that it can be used: no commit
 * pending (BDEV_ROWR_ECOMMIT; EBUSY while the commit runs), and the lower
 * at the recorded path has the recorded identity (BDEV_ROWR_ELOWER; 0 when
 * the map records none).
 */
int	bdev_rowr_check_lower(const char *map_path, struct diag *d);

/* The sidecar map path of an overlay on files: UPPER.rowrmap (malloc'd). */
char	*bdev_rowr_map_path(const char *upper_path);

/*
 * Open an upper file, flock'ed against a second writer: shared when
 * rdonly, else exclusive (EBUSY, naming it, while another process holds
 * it).  Overlays on files are built by stack_open (stack.h).
 */
int	bdev_rowr_open_upper(const char *path, int rdonly, struct bdev **out,
	    struct diag *d);

#define BDEV_ROWR_DESTROY_REMOVE 0x01	/* also delete the upper file */
#define BDEV_ROWR_DESTROY_FORCE	0x02	/* even if a commit is pending */
/*
 * Remove UPPER.rowrmap (BDEV_ROWR_DESTROY_* flags).  A map whose commit was
 * interrupted is kept (BDEV_ROWR_ECOMMIT: the upper is needed to finish it)
 * unless forced.
 */
int	bdev_rowr_destroy_files(const char *upper_path, int flags,
	    struct diag *d);

#endif
