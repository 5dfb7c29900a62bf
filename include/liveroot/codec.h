/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * codec.h - the uzip codecs as one table of operations (mkuzip's
 * uzip_fmts[], g_uzip's decompressor modules): the writer (uzip_write.c)
 * compresses clusters through it, the read layer (bdev/uzip.c)
 * decompresses them, and every verb that takes a codec name looks it up
 * here.  Userland: zlib, liblzma, libzstd.  The kernel-clean facts of the
 * format (header letter, minimum version, geom_uzip's compressed-size
 * bound) are struct fmt_uzip_codec in fmt_uzip.h.
 *
 * A context (cnew/dnew) is used by one thread at a time; different
 * contexts of one codec may run concurrently.  The table is const.
 */
#ifndef LIVEROOT_CODEC_H
#define LIVEROOT_CODEC_H

#include "diag.h"
#include "fmt_uzip.h"

struct lr_codec {
	int		 id;		/* UZIP_CODEC_* */
	const char	*name;		/* "zlib", "lzma", "zstd" */
	const char	*suffix;	/* mkuzip's default output suffix */
	const char	*magic;		/* the image preamble, FMT_UZIP_MAGIC_* */
	int		 def_level;	/* mkuzip's default level */
	/* The accepted compression levels, lo..hi. */
	void		(*levels)(int *lo, int *hi);
	/* Room for the compressed form of len bytes (the library's bound). */
	size_t		(*bound)(uint32_t len);

	/*
	 * A compressor for clusters of blksz bytes at level (in levels()).
	 * Returns 0, or an errno with d saying why (*cx is then NULL).
	 */
	int		(*cnew)(void **cx, int level, uint32_t blksz,
			    struct diag *d);
	/*
	 * Compresses len bytes of in into one self-contained stream in
	 * out[0 .. cap-1] (cap >= bound(len)) and sets *outlen.  cluster is
	 * the cluster's index, for the message in d on failure.
	 */
	int		(*compress)(void *cx, const void *in, size_t len,
			    void *out, size_t cap, size_t *outlen,
			    uint64_t cluster, struct diag *d);
	void		(*cfree)(void *cx);	/* NULL is a no-op */

	/* A decompressor: 0 or ENOMEM. */
	int		(*dnew)(void **dx);
	/*
	 * Decompresses the one stream at the start of in[0 .. len-1]
	 * (trailing bytes, such as padding, are ignored) into out[0 ..
	 * cap-1] and sets *got.  EIO with *why a short reason when the
	 * stream is corrupt, truncated, or holds more than cap bytes.
	 */
	int		(*decompress)(void *dx, const void *in, size_t len,
			    void *out, size_t cap, size_t *got,
			    const char **why);
	void		(*dfree)(void *dx);	/* NULL is a no-op */
};

/* The codec called name ("zlib", "lzma", "zstd"), or NULL. */
const struct lr_codec *lr_codec_by_name(const char *name);
/* The codec of id (UZIP_CODEC_*), or NULL. */
const struct lr_codec *lr_codec_by_id(int id);

#endif
