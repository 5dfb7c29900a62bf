/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compress.c - the initramfs compressors of pack.h, a table: zstd (level
 * 12, with the frame checksum), gzip (zlib's deflate, level 9, a gzip
 * header: what the kernel's decompressors read) and none.  Whole buffer
 * in, whole buffer out; fixed parameters, so the output is reproducible.
 * No state between calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include <liveroot/pack.h>

#define GZ_CHUNK	(1U << 30)	/* fits zlib's uInt */

static int
compress_gzip(const unsigned char *in, size_t len, unsigned char **out,
    size_t *olen)
{
	z_stream z;
	size_t cap = len + len / 100 + 1024, inleft, outleft;
	unsigned char *buf;
	int r;

	if ((buf = malloc(cap)) == NULL)
		return (ENOMEM);
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		free(buf);
		return (ENOMEM);
	}
	z.next_in = (unsigned char *)in;
	z.next_out = buf;
	/* chunked so that sizes above 4 GiB cannot overflow uInt */
	for (;;) {
		inleft = len - (size_t)((const unsigned char *)z.next_in - in);
		outleft = cap - (size_t)(z.next_out - buf);
		z.avail_in = inleft > GZ_CHUNK ? GZ_CHUNK : (uInt)inleft;
		z.avail_out = outleft > GZ_CHUNK ? GZ_CHUNK : (uInt)outleft;
		r = deflate(&z, inleft > z.avail_in ? Z_NO_FLUSH : Z_FINISH);
		if (r == Z_STREAM_END)
			break;
		if ((r != Z_OK && r != Z_BUF_ERROR) ||
		    (z.avail_out == 0 && outleft <= GZ_CHUNK)) {
			deflateEnd(&z);
			free(buf);
			return (r != Z_OK && r != Z_BUF_ERROR ? EIO : EFBIG);
		}
	}
	*olen = (size_t)(z.next_out - buf);
	deflateEnd(&z);
	*out = buf;
	return (0);
}

static int
compress_zstd(const unsigned char *in, size_t len, unsigned char **out,
    size_t *olen)
{
	size_t cap = ZSTD_compressBound(len), r;
	unsigned char *buf;
	ZSTD_CCtx *cc;

	if ((buf = malloc(cap)) == NULL)
		return (ENOMEM);
	if ((cc = ZSTD_createCCtx()) == NULL) {
		free(buf);
		return (ENOMEM);
	}
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 12);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	r = ZSTD_compress2(cc, buf, cap, in, len);
	ZSTD_freeCCtx(cc);
	if (ZSTD_isError(r)) {
		free(buf);
		return (EIO);
	}
	*out = buf;
	*olen = r;
	return (0);
}

static const struct pack_compressor compressors[] = {
	{ "zstd", compress_zstd },
	{ "gzip", compress_gzip },
	{ "none", NULL },
};

const struct pack_compressor *
pack_compressor(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(compressors) / sizeof(compressors[0]); i++)
		if (strcmp(compressors[i].name, name) == 0)
			return (&compressors[i]);
	return (NULL);
}
