/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_uzip.h - the FreeBSD uzip (mkuzip / geom_uzip, cloop v2 compatible)
 * image header and table of contents.  Kernel-clean and pure: the caller
 * reads the bytes and supplies every buffer.
 *
 * Use: fmt_uzip_probe() on the first bytes ("is this mine?"), then
 * fmt_uzip_header() on the first FMT_UZIP_HDRLEN bytes, which bounds nblocks
 * against the image size and says how long the TOC is (hdr.toc_len at
 * hdr.toc_off), then fmt_uzip_toc() on exactly those bytes, which validates
 * the whole TOC before anything is read through it and fills one
 * struct fmt_uzip_cluster per cluster (caller array of hdr.nblocks).
 */
#ifndef LIVEROOT_FMT_UZIP_H
#define LIVEROOT_FMT_UZIP_H

#include "diag.h"
#include "lr_deps.h"

#define FMT_UZIP_MAGICLEN	128
#define FMT_UZIP_HDRLEN		136	/* magic + blksz + nblocks */
#define FMT_UZIP_OFS_COMPR	11	/* codec letter */
#define FMT_UZIP_OFS_VERSN	12	/* version digit */
#define FMT_UZIP_MAXBLKSZ	(1024u * 1024u)	/* FreeBSD maxphys */
#define FMT_UZIP_DEFBLKSZ	16384u

#define UZIP_CODEC_ZLIB		1	/* 'V', RFC 1950 stream */
#define UZIP_CODEC_LZMA		2	/* 'L', .xz stream */
#define UZIP_CODEC_ZSTD		3	/* 'Z', one zstd frame */

/* Byte-exact preambles as mkuzip writes them (NUL-padded to 128). */
#define FMT_UZIP_MAGIC_ZLIB	"#!/bin/sh\n#V2.0 Format\n" \
	"(kldstat -qm g_uzip||kldload geom_uzip)>&-&&" \
	"mount_cd9660 /dev/`mdconfig -af $0`.uzip $1\nexit $?\n"
#define FMT_UZIP_MAGIC_ZSTD	"#!/bin/sh\n#Z4.0 Format\n" \
	"(kldstat -qm g_uzip||kldload geom_uzip)>&-&&" \
	"mount_cd9660 /dev/`mdconfig -af $0`.uzip $1\nexit $?\n"
#define FMT_UZIP_MAGIC_LZMA	"#!/bin/sh\n#L3.0\nn=uncompress\n" \
	"m=geom_$n\n(kldstat -m $m 2>&-||kldload $m)>&-&&" \
	"mount_cd9660 /dev/`mdconfig -af $0`.$n $1\nexit $?\n"

struct fmt_uzip_hdr {
	int		codec;		/* UZIP_CODEC_* */
	int		dedup;		/* lowercase codec letter */
	int		version;	/* the version digit, 2..9 */
	uint32_t	blksz;		/* uncompressed cluster size */
	uint32_t	nblocks;
	uint64_t	toc_off;	/* FMT_UZIP_HDRLEN */
	uint64_t	toc_len;	/* 8 * (nblocks + 1) */
	uint64_t	data_off;	/* toc_off + toc_len: lowest valid offset */
	uint64_t	size;		/* device size: nblocks * blksz */
};

#define FMT_UZIP_DATA		0	/* compressed bytes at off, len > 0 */
#define FMT_UZIP_ZERO		1	/* toc[i] == toc[i+1]: reads as zeros */
#define FMT_UZIP_BACKREF	2	/* repeats cluster `ref` (same off/len) */

struct fmt_uzip_cluster {
	uint64_t	off;		/* image offset of the compressed bytes */
	uint32_t	len;		/* compressed length; 0 for ZERO */
	uint8_t		kind;		/* FMT_UZIP_* */
	uint32_t	ref;		/* BACKREF: the DATA cluster repeated;
					   else this cluster's own index */
	uint32_t	anchor;		/* internal: last non-BACKREF index <= i */
};

struct fmt_uzip_tocinfo {
	uint64_t	data_end;	/* end of the last cluster's bytes */
	uint32_t	data_clusters;
	uint32_t	zero_clusters;
	uint32_t	backref_clusters;
	uint32_t	max_clen;	/* the longest compressed cluster */
	uint64_t	compressed_bytes; /* sum of DATA lengths */
};

/* 1 when buf looks like a uzip image (shell preamble + codec letter). */
int	fmt_uzip_probe(const void *buf, size_t len);

/*
 * Strict header check (the kernel's rules): magic, codec letter and version,
 * blksz a non-zero multiple of 512 and <= 1 MiB, the TOC (nblocks may be 0)
 * inside an image of image_size bytes.  len >= FMT_UZIP_HDRLEN.
 */
int	fmt_uzip_header(const void *buf, size_t len, uint64_t image_size,
	    struct fmt_uzip_hdr *hdr, struct diag *d);

/*
 * Validates the TOC (toclen == hdr->toc_len bytes) of an image of image_size
 * bytes and fills out[0 .. hdr->nblocks-1].  info may be NULL.  EINVAL with a
 * diag naming the cluster on any offset out of bounds, a cluster longer than
 * fmt_uzip_max_clen() (except the last one with data, whose excess is
 * padding and is trimmed off, as geom_uzip does), or a back-reference that
 * matches no earlier cluster.
 */
int	fmt_uzip_toc(const struct fmt_uzip_hdr *hdr, const void *toc,
	    size_t toclen, uint64_t image_size, struct fmt_uzip_cluster *out,
	    struct fmt_uzip_tocinfo *info, struct diag *d);

/*
 * The codecs of the format, one const table (g_uzip's decompressor list):
 * what the header says and what the kernel accepts.  The userland
 * operations (compress, decompress, levels) are struct lr_codec (codec.h).
 */
struct fmt_uzip_codec {
	int		 id;		/* UZIP_CODEC_* */
	char		 letter;	/* header byte 11; lowercase = dedup */
	int		 minver;	/* lowest version digit accepted */
	const char	*name;		/* "zlib", "lzma", "zstd" */
	/*
	 * The longest compressed cluster geom_uzip accepts: the codec's
	 * worst-case bound for blksz input bytes, as g_uzip's decompressor
	 * modules set max_blen (zlib compressBound, ZSTD_COMPRESSBOUND, and
	 * for lzma the kernel's LZ4_COMPRESSBOUND).
	 */
	uint64_t	(*max_clen)(uint32_t blksz);
};

/* The entry of codec id (UZIP_CODEC_*), or NULL. */
const struct fmt_uzip_codec *fmt_uzip_codec(int id);
/* The entry whose letter is c in either case, or NULL. */
const struct fmt_uzip_codec *fmt_uzip_codec_by_letter(int c);

/* fmt_uzip_codec(codec)->max_clen(blksz); 0 for an unknown codec. */
uint64_t fmt_uzip_max_clen(int codec, uint32_t blksz);

/* fmt_uzip_codec(codec)->name: "zlib", "lzma", "zstd"; "?" if unknown. */
const char *fmt_uzip_codec_name(int codec);

#endif
