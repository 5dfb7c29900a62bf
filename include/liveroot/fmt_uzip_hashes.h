/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_uzip_hashes.h - IMAGE.hashes: the SHA-256 of a uzip image's header
 * and TOC and of every compressed cluster as stored, so a reader that
 * fetches clusters one at a time (a lazy network root) checks each one
 * before it decompresses it, without the whole image.  Kernel-clean and
 * pure: the caller reads the bytes, hashes and compares.
 *
 * Layout, integers big-endian (as in the uzip image itself):
 *
 *   offset  size   field
 *   0       8      magic "LRUZHASH"
 *   8       4      version, 1
 *   12      4      nclusters: the image's nblocks (header offset 132)
 *   16      8      image size in bytes (the whole file, padding included)
 *   24      32     SHA-256 of the image's bytes [0, data_off): the
 *                  136-byte header and the TOC, data_off = 136 +
 *                  8 * (nblocks + 1), where a mkuzip image's first
 *                  cluster starts
 *   56      32 * nclusters
 *                  SHA-256 of cluster i's compressed bytes, in TOC order:
 *                  the [off, off + len) that fmt_uzip_toc() gives it (the
 *                  last cluster of a version 2/3 image includes the
 *                  padding the reader reads with it); a zero cluster
 *                  (len 0) holds the SHA-256 of nothing (e3b0c442...); a
 *                  dedup back-reference holds its target's hash
 *
 * The file is exactly 56 + 32 * nclusters bytes: a file of any other
 * length is refused, so a truncated or padded file never parses.  It is
 * written by mkuzip --hashes, `liveroot uzip hashes` and mklive, and it is
 * signed (signify) or pinned (live.sha256=) as a whole, like the image.
 */
#ifndef LIVEROOT_FMT_UZIP_HASHES_H
#define LIVEROOT_FMT_UZIP_HASHES_H

#include "diag.h"
#include "lr_deps.h"

#define FMT_UZHASH_MAGIC	"LRUZHASH"
#define FMT_UZHASH_MAGICLEN	8
#define FMT_UZHASH_VERSION	1
#define FMT_UZHASH_OFS_VERSION	8
#define FMT_UZHASH_OFS_NCL	12
#define FMT_UZHASH_OFS_ISIZE	16
#define FMT_UZHASH_OFS_HEAD	24
#define FMT_UZHASH_HDRLEN	56	/* the cluster hashes start here */
#define FMT_UZHASH_LEN		32	/* one SHA-256 */

struct fmt_uzhash {
	uint32_t	 nclusters;
	uint64_t	 image_size;
	const uint8_t	*head;		/* borrowed: 32 bytes in the buffer */
	const uint8_t	*clusters;	/* borrowed: 32 * nclusters bytes */
};

/* 1 when buf starts with the magic ("is this mine?"). */
int	fmt_uzhash_probe(const void *buf, size_t len);

/* The exact file length for n clusters (fits: n < 2^32). */
uint64_t fmt_uzhash_size(uint32_t n);

/*
 * Strict parse of a whole file of len bytes: magic, version 1, len exactly
 * fmt_uzhash_size(nclusters), image size at least the header and TOC of
 * nclusters clusters.  h points into buf.  EINVAL with a diag naming what
 * is wrong.
 */
int	fmt_uzhash_parse(const void *buf, size_t len, struct fmt_uzhash *h,
	    struct diag *d);

/*
 * Writes the 56-byte header of a hashes file into out: magic, version,
 * nclusters, image_size and the header+TOC hash head (32 bytes).
 */
void	fmt_uzhash_encode(uint8_t out[FMT_UZHASH_HDRLEN], uint32_t nclusters,
	    uint64_t image_size, const uint8_t head[FMT_UZHASH_LEN]);

/* The hash of cluster i (i < h->nclusters). */
static inline const uint8_t *
fmt_uzhash_cluster(const struct fmt_uzhash *h, uint32_t i)
{
	return (h->clusters + (size_t)i * FMT_UZHASH_LEN);
}

#endif
