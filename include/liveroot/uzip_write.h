/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uzip_write.h - write a FreeBSD uzip image (mkuzip's output, byte for byte
 * in header and layout) from a regular file or a block device.  Userland
 * only: threads and files.  The codecs are the table of codec.h.
 */
#ifndef LIVEROOT_UZIP_WRITE_H
#define LIVEROOT_UZIP_WRITE_H

#include "codec.h"
#include "diag.h"
#include "fmt_uzip.h"

struct uzip_write_opts {
	int		codec;		/* lr_codec id: UZIP_CODEC_* */
	int		level;		/* -1 = codec default (9, 6, 9) */
	uint32_t	blksz;		/* 0 = 16384; multiple of 512, <= 1 MiB */
	unsigned	jobs;		/* compression threads; 0 = ncpu (<= 24) */
	int		dedup;		/* -d: back-reference repeated clusters */
	int		no_zero_elide;	/* -Z: compress zero clusters too */
	/* -v: mkuzip's per-cluster lines, one call a line (no newline). */
	void		(*verbose)(const char *line, void *arg);
	void		(*progress)(uint64_t done, uint64_t total, void *arg);
	void		*arg;		/* for verbose and progress */
	/*
	 * The input read through this instead of opening in_path (which
	 * then only names it in messages): in_size bytes, each call 0 or an
	 * errno with d filled; called from one reader thread.
	 */
	int		(*in_read)(void *in_arg, void *buf, size_t len,
			    uint64_t off, struct diag *d);
	void		*in_arg;
	uint64_t	in_size;
	/*
	 * Also write IMAGE.hashes (fmt_uzip_hashes.h) at this path, from
	 * the bytes as they are written (the image is not read back); it
	 * is in place before the image takes its name.  NULL: none.
	 */
	const char	*hashes_path;
	/*
	 * How far the reader may run ahead of the compressors, in bytes of
	 * input; 0: 4 clusters per job.  remaster sets it large so that the
	 * input (a frozen root) is read, and released, well before the last
	 * cluster is compressed.  Each cluster ahead costs its input and its
	 * output buffer (about twice the cluster size).
	 */
	uint64_t	readahead;
};

struct uzip_write_stats {
	uint64_t	in_bytes, out_bytes, clusters, zero_clusters,
			dedup_clusters;
	double		seconds;
};

/*
 * Compresses in_path into out_path.  The output is written to a temporary
 * name beside out_path ("OUT.XXXXXX") and renamed at the end; on any
 * failure the partial output is removed.  st may be NULL.  Returns 0 or an
 * errno with d naming the problem.  The library installs no signal
 * handler: a caller that wants no partial output left behind by SIGINT or
 * SIGTERM calls uzip_write_remove_partial() from its handler.
 */
int	uzip_write(const char *in_path, const char *out_path,
	    const struct uzip_write_opts *o, struct uzip_write_stats *st,
	    struct diag *d);

/*
 * Async-signal-safe: unlinks the temporary output of the uzip_write() that
 * is running in this process, if any.  When several run at once, the first
 * one that created its temporary file is covered.  uzip_write() then fails.
 */
void	uzip_write_remove_partial(void);

/*
 * Writes the hashes file (fmt_uzip_hashes.h) of the existing uzip image
 * at image_path to out_path (os_atomic_write), reading the image once.
 * The image is checked as the reader checks it (header and TOC).
 */
int	uzip_write_hashes(const char *image_path, const char *out_path,
	    struct diag *d);

/* The default level of a codec (zlib 9, lzma 6, zstd 9). */
int	uzip_write_default_level(int codec);

#endif
