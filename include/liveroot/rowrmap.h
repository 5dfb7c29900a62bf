/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rowrmap.h - the rowr overlay's written-granule map, its range-lock table
 * and the on-disk form of the map.  Kernel-clean (only lr_deps.h): the same
 * code compiles into the FreeBSD geom_rowr module.
 *
 * Memory: lr_rowrmap_init() allocates the bitmap (one bit per granule) and a
 * fixed lock table through the caller's lr_allocator, once.  Nothing on the
 * I/O path allocates or sleeps.
 *
 * Locking: bitmap updates are atomic per word (bitmap.h), queries relaxed.
 * The range-lock table is plain data: the caller serialises lock_try/unlock
 * with its own mutex and decides how to wait on EBUSY/EAGAIN (a condition
 * variable in userland, a deferred bio queue in GEOM).  Ranges are in
 * granules, [g0, g1).  Readers share, writers exclude overlapping ranges.
 *
 * On-disk map (all integers little-endian).  Version 2; the file is exactly
 * 64 + 128 + pathlen + bitmap_bytes long:
 *   0  8  magic "LRROWRMP"
 *   8  4  version (2; version 1, below, is still read)
 *  12  4  granule (power of 2, 512..65536)
 *  16  8  union size in bytes (> 0)
 *  24  8  generation (incremented by every save)
 *  32  8  bitmap_bytes = ceil(ngranules / 8), ngranules = ceil(size/granule)
 *  40  4  pathlen: bytes of the lower's path (< 4096)
 *  44  4  CRC-32 of the bytes after the header (identity, path and bitmap)
 *  48  4  flags: bit 0 COMMIT, a commit into the lower was started and has
 *         not finished (the lower may be half-written); other bits zero
 *  52  8  reserved, zero
 *  60  4  CRC-32 of header bytes 0..59
 *  64 128 the lower's identity (how the hashes are taken: rowr.h):
 *          +0  4  kind: 0 not recorded (then all 128 bytes are zero),
 *                 1 SHA-256 of sampled blocks, 2 SHA-256 of a uzip
 *                 image's header and TOC, then of sampled blocks
 *          +4  4  reserved, zero
 *          +8  8  st_dev of the lower when recorded (a hint; 0 unknown)
 *         +16  8  st_ino (a hint)
 *         +24  8  the lower's size in bytes (a uzip lower: its file's)
 *         +32  8  st_mtime, seconds (signed; a hint)
 *         +40  4  st_mtime, nanoseconds (< 1000000000)
 *         +44  4  reserved, zero
 *         +48 32  SHA-256 of the lower
 *         +80 32  with COMMIT: the SHA-256 the lower will have once the
 *                 commit is done (may be zero); without COMMIT zero
 *        +112 16  reserved, zero
 * 192     the lower's path (no NUL), then the bitmap: bit i of the map is
 *         bit (i % 8) of byte (i / 8); bits past ngranules are zero.
 * Version 1 (older liveroot) is the same without flags and identity: header
 * bytes 48..59 are zero, the path starts at 64, the file is exactly
 * 64 + pathlen + bitmap_bytes long.  It decodes as flags 0, kind 0; the
 * encoder writes version 2 only.
 */
#ifndef LIVEROOT_ROWRMAP_H
#define LIVEROOT_ROWRMAP_H

#include "bitmap.h"
#include "diag.h"
#include "lr_deps.h"

#define LR_ROWRMAP_GRANULE_MIN	512u
#define LR_ROWRMAP_GRANULE_MAX	65536u
#define LR_ROWRMAP_NLOCKS	128u

struct lr_rowrmap_lock {
	uint64_t	g0, g1;		/* granules [g0, g1) */
	uint8_t		used;
	uint8_t		writer;
};

struct lr_rowrmap {
	uint64_t		 size;		/* union bytes */
	uint32_t		 granule;
	uint32_t		 shift;		/* log2(granule) */
	uint64_t		 ngranules;
	struct lr_bitmap	 bm;
	struct lr_rowrmap_lock	*locks;
	uint32_t		 nlocks;
	uint32_t		 nused;
	const struct lr_allocator *a;
};

/* 0, or EINVAL when granule is not a power of 2 in 512..65536. */
int	lr_rowrmap_check_granule(uint32_t granule);
/* Bytes of bitmap for size at granule (granule valid). */
uint64_t lr_rowrmap_bitmap_bytes(uint64_t size, uint32_t granule);

/* Allocates the bitmap (zero) and nlocks lock slots (0 = default). */
int	lr_rowrmap_init(struct lr_rowrmap *m, uint64_t size,
	    uint32_t granule, uint32_t nlocks, const struct lr_allocator *a,
	    struct diag *d);
void	lr_rowrmap_fini(struct lr_rowrmap *m);
/* Memory held: bitmap plus lock table. */
uint64_t lr_rowrmap_mem_bytes(const struct lr_rowrmap *m);

/* Granule of a byte offset, and the granule range covering [off, off+len). */
static inline uint64_t
lr_rowrmap_gof(const struct lr_rowrmap *m, uint64_t off)
{
	return (off >> m->shift);
}

static inline void
lr_rowrmap_span(const struct lr_rowrmap *m, uint64_t off, uint64_t len,
    uint64_t *g0, uint64_t *g1)
{
	*g0 = off >> m->shift;
	*g1 = (off + len + m->granule - 1) >> m->shift;
	if (*g1 > m->ngranules)
		*g1 = m->ngranules;
}

/*
 * Try to take a range lock over granules [g0, g1).  0 and *slot on success;
 * EBUSY when an overlapping holder conflicts (a writer, or we are a writer);
 * EAGAIN when the table is full.  The caller serialises these calls.
 */
int	lr_rowrmap_lock_try(struct lr_rowrmap *m, uint64_t g0, uint64_t g1,
	    int writer, uint32_t *slot);
void	lr_rowrmap_unlock(struct lr_rowrmap *m, uint32_t slot);

/* --- on-disk form -------------------------------------------------------- */
#define LR_ROWRMAP_HDR		64u
#define LR_ROWRMAP_VERSION	2u	/* written */
#define LR_ROWRMAP_VERSION_1	1u	/* still read */
#define LR_ROWRMAP_IDLEN	128u	/* identity block, version 2 */
#define LR_ROWRMAP_PATHMAX	4095u
#define LR_ROWRMAP_HASHLEN	32u

#define LR_ROWRMAP_F_COMMIT	0x1u	/* a commit is in progress */

#define LR_ROWRMAP_ID_NONE	0u	/* not recorded */
#define LR_ROWRMAP_ID_SAMPLED	1u	/* hash of sampled blocks */
#define LR_ROWRMAP_ID_UZIP	2u	/* hash of a uzip TOC and samples */

/* The lower's identity as the map records it (bytes 64..191). */
struct lr_rowrmap_ident {
	uint32_t	kind;		/* LR_ROWRMAP_ID_* */
	uint64_t	dev;
	uint64_t	ino;
	uint64_t	size;
	int64_t		mtime_sec;
	uint32_t	mtime_nsec;
	uint8_t		hash[LR_ROWRMAP_HASHLEN];
	uint8_t		hash_after[LR_ROWRMAP_HASHLEN];
};

struct lr_rowrmap_hdr {
	uint32_t	version;
	uint32_t	granule;
	uint64_t	size;
	uint64_t	generation;
	uint64_t	bitmap_bytes;
	uint32_t	pathlen;
	uint32_t	data_crc;
	uint32_t	flags;		/* LR_ROWRMAP_F_*; 0 in v1 */
	uint32_t	pathoff;	/* the path's offset: 192 (v1: 64) */
	/* Filled by lr_rowrmap_decode (kind NONE for version 1). */
	struct lr_rowrmap_ident ident;
};

/* Cheap: true when buf starts with the magic. */
bool	lr_rowrmap_probe(const void *buf, size_t len);
/*
 * Strict header check: magic, version (1 or 2), header CRC, flags and
 * reserved bytes, granule, size, bitmap_bytes consistent with size/granule,
 * pathlen bounded, and the file length (filelen) exactly what the version
 * makes of pathlen and bitmap_bytes.  EINVAL with a diag naming the field
 * otherwise.  h->ident is left zero (it follows the header).
 */
int	lr_rowrmap_hdr_decode(const void *buf, size_t len, uint64_t filelen,
	    struct lr_rowrmap_hdr *h, struct diag *d);
/*
 * Whole-file check and load: buf holds the entire file (len bytes).  Checks
 * the header, the data CRC, the identity block (kind known, reserved bytes
 * and, for kind 0, everything zero; nanoseconds bounded; hash_after zero
 * without COMMIT) and the padding bits, fills h->ident, then (when m is
 * not NULL) loads the bits into m, which must have been initialised with
 * the header's size and granule.  *path/pathlen point into buf.
 */
int	lr_rowrmap_decode(const void *buf, size_t len,
	    struct lr_rowrmap_hdr *h, const char **path, struct lr_rowrmap *m,
	    struct diag *d);
/* File length (version 2) for a map m with a path of pathlen bytes. */
uint64_t lr_rowrmap_encoded_len(const struct lr_rowrmap *m, uint32_t pathlen);
/*
 * Encode m (its bits as they are now) as version 2 into buf of exactly
 * lr_rowrmap_encoded_len() bytes, with flags (LR_ROWRMAP_F_*) and the
 * lower's identity (NULL: not recorded).  EINVAL when len does not match,
 * flags has unknown bits, or ident is not encodable (unknown kind,
 * nanoseconds >= 1e9, hash_after set without COMMIT, kind 0 not all zero).
 */
int	lr_rowrmap_encode_ext(const struct lr_rowrmap *m,
	    uint64_t generation, uint32_t flags, const struct lr_rowrmap_ident *ident,
	    const char *path, uint32_t pathlen, void *buf, size_t len);
/* The same with flags 0 and no identity. */
int	lr_rowrmap_encode(const struct lr_rowrmap *m, uint64_t generation,
	    const char *path, uint32_t pathlen, void *buf, size_t len);

#endif
