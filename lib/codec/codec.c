/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * codec.c - the uzip codecs' userland operations, one const table
 * (codec.h): zlib (an RFC 1950 stream per cluster), lzma (an .xz stream
 * with a CRC32 check per cluster, as mkuzip -L writes) and zstd (one frame
 * with a checksum per cluster).
 *
 * Each cluster is compressed or decompressed on its own, so a context only
 * saves the allocation of the codec's state between clusters.  A
 * decompressor never writes more than cap bytes: output beyond it is
 * detected with a one-byte probe and reported as corruption.
 */
#include <stdlib.h>
#include <string.h>

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <liveroot/codec.h>
#include <liveroot/util.h>

/*
 * An xz header names its own dictionary size; a crafted one could ask for
 * 1.5 GiB.  128 MiB covers mkuzip -L -C 9 (64 MiB dictionary).
 */
#define CODEC_LZMA_MEMLIMIT	(128u << 20)

static const char codec_more[] = "more than one cluster of output";

static void
codec_levels_0_9(int *lo, int *hi)
{
	*lo = 0;
	*hi = 9;
}

/* --- zlib ----------------------------------------------------------------- */

static size_t
codec_zlib_bound(uint32_t len)
{
	return (compressBound(len));
}

static int
codec_zlib_cnew(void **cx, int level, uint32_t blksz, struct diag *d)
{
	z_stream *zs;

	*cx = NULL;
	if ((zs = calloc(1, sizeof(*zs))) == NULL)
		return (diag_set(d, ENOMEM, "zlib: out of memory"));
	if (deflateInit(zs, level) != Z_OK) {
		free(zs);
		return (diag_set(d, EINVAL, "zlib: level %d refused", level));
	}
	*cx = zs;
	return (0);
}

static int
codec_zlib_compress(void *cx, const void *in, size_t len, void *out, size_t cap,
    size_t *outlen, uint64_t cluster, struct diag *d)
{
	z_stream *zs = cx;
	int zret;

	deflateReset(zs);
	zs->next_in = (Bytef *)(uintptr_t)in;
	zs->avail_in = (uInt)len;
	zs->next_out = out;
	zs->avail_out = (uInt)cap;
	zret = deflate(zs, Z_FINISH);
	if (zret != Z_STREAM_END)
		return (diag_set(d, EIO, "zlib: deflate failed (%d) on cluster "
		    "%ju", zret, (uintmax_t)cluster));
	*outlen = cap - zs->avail_out;
	return (0);
}

static void
codec_zlib_cfree(void *cx)
{
	if (cx == NULL)
		return;
	deflateEnd(cx);
	free(cx);
}

static int
codec_zlib_dnew(void **dx)
{
	z_stream *zs;

	*dx = NULL;
	if ((zs = calloc(1, sizeof(*zs))) == NULL)
		return (ENOMEM);
	if (inflateInit(zs) != Z_OK) {
		free(zs);
		return (ENOMEM);
	}
	*dx = zs;
	return (0);
}

static int
codec_zlib_decompress(void *dx, const void *in, size_t len, void *out,
    size_t cap, size_t *got, const char **why)
{
	z_stream *zs = dx;
	uint8_t extra;
	int zret;

	if (inflateReset(zs) != Z_OK) {
		*why = "inflateReset failed";
		return (EIO);
	}
	zs->next_in = (Bytef *)(uintptr_t)in;
	zs->avail_in = (uInt)len;
	zs->next_out = out;
	zs->avail_out = (uInt)cap;
	zret = inflate(zs, Z_FINISH);
	if (zret != Z_STREAM_END && zs->avail_out == 0) {
		zs->next_out = &extra;
		zs->avail_out = 1;
		zret = inflate(zs, Z_FINISH);
		if (zs->avail_out == 0) {
			*why = codec_more;
			return (EIO);
		}
	}
	if (zret != Z_STREAM_END) {
		*why = zs->msg != NULL ? zs->msg : "truncated stream";
		return (EIO);
	}
	*got = cap - (zs->next_out == &extra ? 0 : zs->avail_out);
	return (0);
}

static void
codec_zlib_dfree(void *dx)
{
	if (dx == NULL)
		return;
	inflateEnd(dx);
	free(dx);
}

/* --- lzma ----------------------------------------------------------------- */

struct codec_lzma_cx {
	lzma_stream		ls;
	lzma_options_lzma	lo;
	lzma_filter		filt[2];
};

static size_t
codec_lzma_bound(uint32_t len)
{
	return (lzma_stream_buffer_bound(len));
}

static int
codec_lzma_cnew(void **cx, int level, uint32_t blksz, struct diag *d)
{
	lzma_stream init = LZMA_STREAM_INIT;
	struct codec_lzma_cx *c;

	*cx = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (diag_set(d, ENOMEM, "lzma: out of memory"));
	c->ls = init;
	if (lzma_lzma_preset(&c->lo, (uint32_t)level)) {
		free(c);
		return (diag_set(d, EINVAL, "lzma: level %d refused (0-9)",
		    level));
	}
	/* A dictionary larger than a cluster buys nothing. */
	if (c->lo.dict_size > LR_MAX(blksz, LZMA_DICT_SIZE_MIN))
		c->lo.dict_size = LR_MAX(blksz, LZMA_DICT_SIZE_MIN);
	c->filt[0].id = LZMA_FILTER_LZMA2;
	c->filt[0].options = &c->lo;
	c->filt[1].id = LZMA_VLI_UNKNOWN;
	*cx = c;
	return (0);
}

static int
codec_lzma_compress(void *cx, const void *in, size_t len, void *out, size_t cap,
    size_t *outlen, uint64_t cluster, struct diag *d)
{
	struct codec_lzma_cx *c = cx;
	lzma_ret lr;

	if ((lr = lzma_stream_encoder(&c->ls, c->filt,
	    LZMA_CHECK_CRC32)) != LZMA_OK)
		return (diag_set(d, ENOMEM, "lzma: encoder setup failed (%d)",
		    (int)lr));
	c->ls.next_in = in;
	c->ls.avail_in = len;
	c->ls.next_out = out;
	c->ls.avail_out = cap;
	lr = lzma_code(&c->ls, LZMA_FINISH);
	if (lr != LZMA_STREAM_END)
		return (diag_set(d, EIO, "lzma: encoding cluster %ju failed "
		    "(%d)", (uintmax_t)cluster, (int)lr));
	*outlen = cap - c->ls.avail_out;
	return (0);
}

static void
codec_lzma_cfree(void *cx)
{
	struct codec_lzma_cx *c = cx;

	if (c == NULL)
		return;
	lzma_end(&c->ls);
	free(c);
}

static int
codec_lzma_dnew(void **dx)
{
	lzma_stream init = LZMA_STREAM_INIT;
	lzma_stream *ls;

	*dx = NULL;
	if ((ls = malloc(sizeof(*ls))) == NULL)
		return (ENOMEM);
	*ls = init;
	*dx = ls;
	return (0);
}

static const char *
codec_lzma_why(lzma_ret lr)
{
	switch (lr) {
	case LZMA_DATA_ERROR:
		return ("corrupt data");
	case LZMA_FORMAT_ERROR:
		return ("not an xz stream");
	case LZMA_MEMLIMIT_ERROR:
		return ("needs more than 128 MiB to decode");
	case LZMA_BUF_ERROR:
		return ("truncated stream");
	default:
		return ("decoder error");
	}
}

static int
codec_lzma_decompress(void *dx, const void *in, size_t len, void *out,
    size_t cap, size_t *got, const char **why)
{
	lzma_stream *ls = dx;
	uint8_t extra;
	lzma_ret lr;

	if (lzma_stream_decoder(ls, CODEC_LZMA_MEMLIMIT, 0) != LZMA_OK) {
		*why = "decoder setup failed";
		return (EIO);
	}
	ls->next_in = in;
	ls->avail_in = len;
	ls->next_out = out;
	ls->avail_out = cap;
	lr = lzma_code(ls, LZMA_FINISH);
	if (lr == LZMA_OK && ls->avail_out == 0) {
		ls->next_out = &extra;
		ls->avail_out = 1;
		lr = lzma_code(ls, LZMA_FINISH);
		if (ls->avail_out == 0) {
			*why = codec_more;
			return (EIO);
		}
	}
	if (lr != LZMA_STREAM_END) {
		*why = codec_lzma_why(lr);
		return (EIO);
	}
	*got = cap - (ls->next_out == &extra ? 0 : ls->avail_out);
	return (0);
}

static void
codec_lzma_dfree(void *dx)
{
	if (dx == NULL)
		return;
	lzma_end(dx);
	free(dx);
}

/* --- zstd ----------------------------------------------------------------- */

static void
codec_zstd_levels(int *lo, int *hi)
{
	*lo = ZSTD_minCLevel();
	*hi = ZSTD_maxCLevel();
}

static size_t
codec_zstd_bound(uint32_t len)
{
	return (ZSTD_compressBound(len));
}

static int
codec_zstd_cnew(void **cx, int level, uint32_t blksz, struct diag *d)
{
	ZSTD_CCtx *zc;

	*cx = NULL;
	if ((zc = ZSTD_createCCtx()) == NULL)
		return (diag_set(d, ENOMEM, "zstd: out of memory"));
	if (ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel,
	    level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_checksumFlag, 1))) {
		ZSTD_freeCCtx(zc);
		return (diag_set(d, EINVAL, "zstd: level %d refused", level));
	}
	*cx = zc;
	return (0);
}

static int
codec_zstd_compress(void *cx, const void *in, size_t len, void *out, size_t cap,
    size_t *outlen, uint64_t cluster, struct diag *d)
{
	size_t zr;

	zr = ZSTD_compress2(cx, out, cap, in, len);
	if (ZSTD_isError(zr))
		return (diag_set(d, EIO, "zstd: compressing cluster %ju "
		    "failed: %s", (uintmax_t)cluster, ZSTD_getErrorName(zr)));
	*outlen = zr;
	return (0);
}

static void
codec_zstd_cfree(void *cx)
{
	ZSTD_freeCCtx(cx);
}

static int
codec_zstd_dnew(void **dx)
{
	*dx = ZSTD_createDCtx();
	return (*dx != NULL ? 0 : ENOMEM);
}

static int
codec_zstd_decompress(void *dx, const void *in, size_t len, void *out,
    size_t cap, size_t *got, const char **why)
{
	size_t fl, zr;

	fl = ZSTD_findFrameCompressedSize(in, len);
	if (ZSTD_isError(fl)) {
		*why = ZSTD_getErrorName(fl);
		return (EIO);
	}
	zr = ZSTD_decompressDCtx(dx, out, cap, in, fl);
	if (ZSTD_isError(zr)) {
		*why = ZSTD_getErrorName(zr);
		return (EIO);
	}
	*got = zr;
	return (0);
}

static void
codec_zstd_dfree(void *dx)
{
	ZSTD_freeDCtx(dx);
}

/* --- the table ------------------------------------------------------------ */

static const struct lr_codec codecs[] = {
	{
		.id = UZIP_CODEC_ZLIB, .name = "zlib", .suffix = ".uzip",
		.magic = FMT_UZIP_MAGIC_ZLIB, .def_level = 9,
		.levels = codec_levels_0_9, .bound = codec_zlib_bound,
		.cnew = codec_zlib_cnew, .compress = codec_zlib_compress,
		.cfree = codec_zlib_cfree, .dnew = codec_zlib_dnew,
		.decompress = codec_zlib_decompress, .dfree = codec_zlib_dfree,
	},
	{
		.id = UZIP_CODEC_LZMA, .name = "lzma", .suffix = ".ulzma",
		.magic = FMT_UZIP_MAGIC_LZMA, .def_level = 6,
		.levels = codec_levels_0_9, .bound = codec_lzma_bound,
		.cnew = codec_lzma_cnew, .compress = codec_lzma_compress,
		.cfree = codec_lzma_cfree, .dnew = codec_lzma_dnew,
		.decompress = codec_lzma_decompress, .dfree = codec_lzma_dfree,
	},
	{
		.id = UZIP_CODEC_ZSTD, .name = "zstd", .suffix = ".uzst",
		.magic = FMT_UZIP_MAGIC_ZSTD, .def_level = 9,
		.levels = codec_zstd_levels, .bound = codec_zstd_bound,
		.cnew = codec_zstd_cnew, .compress = codec_zstd_compress,
		.cfree = codec_zstd_cfree, .dnew = codec_zstd_dnew,
		.decompress = codec_zstd_decompress, .dfree = codec_zstd_dfree,
	},
};

const struct lr_codec *
lr_codec_by_name(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < LR_NELEM(codecs); i++)
		if (strcmp(codecs[i].name, name) == 0)
			return (&codecs[i]);
	return (NULL);
}

const struct lr_codec *
lr_codec_by_id(int id)
{
	size_t i;

	for (i = 0; i < LR_NELEM(codecs); i++)
		if (codecs[i].id == id)
			return (&codecs[i]);
	return (NULL);
}
