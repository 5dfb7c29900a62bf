/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uzip.h - the uzip read layer (geom_uzip's userland twin): a read-only bdev
 * of nblocks * blksz bytes over a lower holding a uzip image (zlib, lzma or
 * zstd clusters).  Decompressed clusters live in a multi-cluster LRU cache
 * shared by all readers; sequential reads trigger read-ahead decompressed by
 * a small worker pool.  With a hashes file (IMAGE.hashes) every cluster
 * fetched from the lower is checked against its SHA-256 first.
 */
#ifndef LIVEROOT_UZIP_H
#define LIVEROOT_UZIP_H

#include "bdev.h"
#include "fmt_uzip.h"

struct bdev_uzip_opts {
	unsigned	cache_clusters;	/* 0 = default (about 16 MiB) */
	unsigned	workers;	/* 0 = default (min(ncpu,4)); 1 = decompress inline */
	/*
	 * Optional IMAGE.hashes (fmt_uzip_hashes.h): a file hashes_path, or
	 * hashes_len bytes at hashes (borrowed for the call; hashes_name
	 * names them in messages).  At open its cluster count, image size
	 * and header+TOC hash must match the image (else EINVAL naming both
	 * files, before the TOC is parsed); then every compressed cluster
	 * read from the lower is checked against its SHA-256 before it is
	 * decompressed, and a mismatch is EIO naming the cluster, its
	 * offset and both hashes.
	 */
	const char	*hashes_path;
	const void	*hashes;
	size_t		 hashes_len;
	const char	*hashes_name;
};

/* Owns lower on success. */
int	bdev_uzip_new(struct bdev *lower, const struct bdev_uzip_opts *o,
	    struct bdev **out, struct diag *d);

struct bdev_uzip_stats {
	uint64_t	hits;		/* cluster found decompressed in the cache */
	uint64_t	misses;		/* cluster decompressed for the reader */
	uint64_t	waits;		/* reader waited for a read-ahead in flight */
	uint64_t	readahead;	/* clusters decompressed by the workers */
	uint64_t	zero;		/* zero clusters served without a cache slot */
	unsigned	cache_clusters;
	unsigned	workers;
	int		hashes;		/* a hashes file is checked */
	uint64_t	verified;	/* clusters fetched whose hash matched */
	uint64_t	hash_bad;	/* clusters fetched whose hash did not */
};

/* b must be a uzip bdev (EINVAL otherwise). */
int	bdev_uzip_stats(struct bdev *b, struct bdev_uzip_stats *st);
/* The parsed header and TOC summary of a uzip bdev (EINVAL otherwise). */
int	bdev_uzip_info(struct bdev *b, struct fmt_uzip_hdr *hdr,
	    struct fmt_uzip_tocinfo *info);
/* The cluster table (hdr.nblocks entries), borrowed for b's lifetime. */
const struct fmt_uzip_cluster *bdev_uzip_clusters(struct bdev *b);

#endif
