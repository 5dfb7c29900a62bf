/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uzip_write.h - write a FreeBSD uzip image (mkuzip's output, byte for byte
 * in header and layout) from a regular file or a block device.  Userland
 * only: threads, files, signals.
 */
#ifndef LIVEROOT_UZIP_WRITE_H
#define LIVEROOT_UZIP_WRITE_H

#include "diag.h"
#include "fmt_uzip.h"

struct uzip_write_opts {
	int		codec;		/* UZIP_CODEC_ZLIB, _LZMA, _ZSTD */
	int		level;		/* -1 = codec default (9, 6, 9) */
	uint32_t	blksz;		/* 0 = 16384; multiple of 512, <= 1 MiB */
	unsigned	jobs;		/* compression threads; 0 = ncpu (<= 24) */
	int		dedup;		/* -d: back-reference repeated clusters */
	int		no_zero_elide;	/* -Z: compress zero clusters too */
	int		verbose;	/* -v: mkuzip's per-cluster lines on stderr */
	void		(*progress)(uint64_t done, uint64_t total, void *arg);
	void		*arg;
};

struct uzip_write_stats {
	uint64_t	in_bytes, out_bytes, clusters, zero_clusters,
			dedup_clusters;
	double		seconds;
};

/*
 * Compresses in_path into out_path.  The output is written to a temporary
 * name beside out_path and renamed at the end; on any failure, and on
 * SIGINT/SIGTERM/SIGHUP while it runs, the partial output is removed.
 * st may be NULL.  Returns 0 or an errno with d naming the problem.
 */
int	uzip_write(const char *in_path, const char *out_path,
	    const struct uzip_write_opts *o, struct uzip_write_stats *st,
	    struct diag *d);

/* The default level of a codec (zlib 9, lzma 6, zstd 9). */
int	uzip_write_default_level(int codec);

#endif
