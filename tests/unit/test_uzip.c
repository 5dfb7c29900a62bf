/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_uzip.c - the uzip header/TOC parser (on exact-size buffers, so ASan
 * sees a one-byte over-read), the codec tables (fmt_uzip_codec, lr_codec),
 * the writer's golden header bytes, round trips through uzip_write() and
 * bdev_uzip for every codec with and without dedup, a corrupt cluster,
 * concurrent readers, and the writer's signal-free partial-output hook.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include <liveroot/bdev.h>
#include <liveroot/codec.h>
#include <liveroot/fmt_uzip.h>
#include <liveroot/util.h>
#include <liveroot/uzip.h>
#include <liveroot/uzip_write.h>

#include "t.h"

static char tdir[256];

/* --- hand-made headers and TOCs ---------------------------------------- */

struct img {
	uint8_t		*hdr;		/* exactly FMT_UZIP_HDRLEN bytes */
	uint8_t		*toc;		/* exactly 8 * (n + 1) bytes */
	uint32_t	 n;
};

static void
img_make(struct img *im, char letter, char ver, uint32_t blksz, uint32_t n,
    const uint64_t *toc)
{
	uint32_t i;

	im->hdr = calloc(1, FMT_UZIP_HDRLEN);
	memcpy(im->hdr, FMT_UZIP_MAGIC_ZLIB, strlen(FMT_UZIP_MAGIC_ZLIB));
	im->hdr[FMT_UZIP_OFS_COMPR] = (uint8_t)letter;
	im->hdr[FMT_UZIP_OFS_VERSN] = (uint8_t)ver;
	lr_be32enc(im->hdr + 128, blksz);
	lr_be32enc(im->hdr + 132, n);
	im->n = n;
	im->toc = malloc(8 * ((size_t)n + 1));
	for (i = 0; i <= n && toc != NULL; i++)
		lr_be64enc(im->toc + 8 * i, toc[i]);
}

static void
img_free(struct img *im)
{
	free(im->hdr);
	free(im->toc);
}

/* Parses header + TOC; returns the error, fills cl (n entries). */
static int
img_parse(struct img *im, uint64_t isize, struct fmt_uzip_cluster *cl,
    struct fmt_uzip_tocinfo *ti, struct diag *d)
{
	struct fmt_uzip_hdr h;
	int error;

	diag_clear(d);
	if ((error = fmt_uzip_header(im->hdr, FMT_UZIP_HDRLEN, isize, &h,
	    d)) != 0)
		return (error);
	return (fmt_uzip_toc(&h, im->toc, h.toc_len, isize, cl, ti, d));
}

static void
test_probe(void)
{
	uint8_t b[FMT_UZIP_HDRLEN];

	memset(b, 0, sizeof(b));
	memcpy(b, FMT_UZIP_MAGIC_ZSTD, strlen(FMT_UZIP_MAGIC_ZSTD));
	CHECK(fmt_uzip_probe(b, sizeof(b)));
	CHECK(fmt_uzip_probe(b, 13));
	CHECK(!fmt_uzip_probe(b, 12));
	b[11] = 'X';
	CHECK(!fmt_uzip_probe(b, sizeof(b)));
	b[11] = 'l';
	CHECK(fmt_uzip_probe(b, sizeof(b)));
	b[0] = 'x';
	CHECK(!fmt_uzip_probe(b, sizeof(b)));
	CHECK(strlen(FMT_UZIP_MAGIC_ZLIB) < FMT_UZIP_MAGICLEN);
	CHECK(strlen(FMT_UZIP_MAGIC_LZMA) < FMT_UZIP_MAGICLEN);
	CHECK(strlen(FMT_UZIP_MAGIC_ZSTD) < FMT_UZIP_MAGICLEN);
}

#define D1	(FMT_UZIP_HDRLEN + 8 * 2)	/* data_off for n = 1 */
#define D2	(FMT_UZIP_HDRLEN + 8 * 3)	/* data_off for n = 2 */
#define D4	(FMT_UZIP_HDRLEN + 8 * 5)	/* data_off for n = 4 */

static void
test_header_errors(void)
{
	struct fmt_uzip_cluster cl[4];
	struct img im;
	struct diag d;
	uint64_t toc1[2] = { D1, D1 + 10 };

	img_make(&im, 'V', '2', 1000, 1, toc1);
	CHECK_EQ(img_parse(&im, D1 + 10, cl, NULL, &d), EINVAL);
	CHECK_MSG(&d, "cluster size 1000 is not a multiple of 512");
	img_free(&im);

	img_make(&im, 'V', '2', 2u << 20, 1, toc1);
	CHECK_EQ(img_parse(&im, D1 + 10, cl, NULL, &d), EINVAL);
	CHECK_MSG(&d, "larger than 1048576");
	img_free(&im);

	img_make(&im, 'Z', '3', 16384, 1, toc1);
	CHECK_EQ(img_parse(&im, D1 + 10, cl, NULL, &d), EINVAL);
	CHECK_MSG(&d, "zstd image of version 3, need at least 4");
	img_free(&im);

	img_make(&im, 'Q', '2', 16384, 1, toc1);
	CHECK_EQ(img_parse(&im, D1 + 10, cl, NULL, &d), EINVAL);
	CHECK_MSG(&d, "unknown codec letter");
	img_free(&im);

	/* A TOC longer than the file: 1000 clusters in a 500-byte image. */
	img_make(&im, 'V', '2', 16384, 1000, NULL);
	CHECK_EQ(img_parse(&im, 500, cl, NULL, &d), EINVAL);
	CHECK_MSG(&d, "longer than the 500-byte image");
	img_free(&im);

	/* nblocks = 2^32-1: the TOC size must not overflow anything. */
	img_make(&im, 'V', '2', 512, 0, NULL);
	lr_be32enc(im.hdr + 132, UINT32_MAX);
	{
		struct fmt_uzip_hdr h;

		CHECK_EQ(fmt_uzip_header(im.hdr, FMT_UZIP_HDRLEN, 1u << 30,
		    &h, &d), EINVAL);
		CHECK_MSG(&d, "TOC of");
	}
	img_free(&im);

	/* A truncated header. */
	{
		uint8_t *h = malloc(100);
		struct fmt_uzip_hdr hh;

		memcpy(h, FMT_UZIP_MAGIC_ZLIB, 100);
		CHECK_EQ(fmt_uzip_header(h, 100, 100, &hh, &d), EINVAL);
		CHECK_MSG(&d, "header truncated");
		free(h);
	}
}

static void
test_toc(void)
{
	struct fmt_uzip_cluster cl[4];
	struct fmt_uzip_tocinfo ti;
	struct img im;
	struct diag d;

	/* zero clusters: 0 data, 1 zero, 2 zero, 3 data */
	{
		uint64_t toc[5] = { D4, D4 + 30, D4 + 30, D4 + 30, D4 + 50 };

		img_make(&im, 'Z', '4', 16384, 4, toc);
		CHECK_EQ(img_parse(&im, D4 + 512, cl, &ti, &d), 0);
		CHECK_EQ(cl[0].kind, FMT_UZIP_DATA);
		CHECK_EQ(cl[0].len, 30);
		CHECK_EQ(cl[1].kind, FMT_UZIP_ZERO);
		CHECK_EQ(cl[2].kind, FMT_UZIP_ZERO);
		CHECK_EQ(cl[3].kind, FMT_UZIP_DATA);
		CHECK_EQ(cl[3].len, 20);
		CHECK_EQ(ti.zero_clusters, 2);
		CHECK_EQ(ti.data_clusters, 2);
		CHECK_EQ(ti.data_end, D4 + 50);
		img_free(&im);
	}
	/* back-reference: 0 data, 1 data, 2 -> 0, 3 data */
	{
		uint64_t toc[5] = { D4, D4 + 10, D4, D4 + 25, D4 + 40 };

		img_make(&im, 'z', '4', 16384, 4, toc);
		CHECK_EQ(img_parse(&im, D4 + 512, cl, &ti, &d), 0);
		CHECK_EQ(cl[1].len, 15);
		CHECK_EQ(cl[2].kind, FMT_UZIP_BACKREF);
		CHECK_EQ(cl[2].ref, 0);
		CHECK_EQ(cl[2].len, 10);
		CHECK_EQ(cl[3].kind, FMT_UZIP_DATA);
		CHECK_EQ(cl[3].len, 15);
		CHECK_EQ(ti.backref_clusters, 1);
		img_free(&im);
	}
	/* back-reference into the middle of a cluster: refused */
	{
		uint64_t toc[5] = { D4, D4 + 10, D4 + 5, D4 + 25, D4 + 40 };

		img_make(&im, 'z', '4', 16384, 4, toc);
		CHECK_EQ(img_parse(&im, D4 + 512, cl, &ti, &d), EINVAL);
		CHECK_MSG(&d, "cluster 2 is a back-reference to offset");
		img_free(&im);
	}
	/* back-reference before the first cluster: refused */
	{
		uint64_t toc[5] = { D4 + 8, D4 + 18, D4, D4 + 28, D4 + 40 };

		img_make(&im, 'v', '3', 16384, 4, toc);
		CHECK_EQ(img_parse(&im, D4 + 512, cl, &ti, &d), EINVAL);
		CHECK_MSG(&d, "no earlier cluster with data");
		img_free(&im);
	}
	/* back-reference to a zero cluster's offset with no data there */
	{
		uint64_t toc[5] = { D4, D4 + 10, D4 + 10, D4, D4 + 40 };

		/* 0 data [D4,D4+10), 1 zero at D4+10?  No: 1 is data up to
		 * the next forward entry (D4+10 == its own start => zero),
		 * 2 data from D4+10 to D4+40 (3 is a back-ref to 0). */
		img_make(&im, 'v', '3', 16384, 4, toc);
		CHECK_EQ(img_parse(&im, D4 + 40, cl, &ti, &d), 0);
		CHECK_EQ(cl[1].kind, FMT_UZIP_ZERO);
		CHECK_EQ(cl[2].len, 30);
		CHECK_EQ(cl[3].kind, FMT_UZIP_BACKREF);
		img_free(&im);
	}
	/*
	 * A back-reference to the immediately previous written cluster is
	 * not expressible: toc = {D, D, D+10} reads as a zero cluster then
	 * a 10-byte data cluster (the writer never emits it).
	 */
	{
		uint64_t toc[3] = { FMT_UZIP_HDRLEN + 24, FMT_UZIP_HDRLEN + 24,
		    FMT_UZIP_HDRLEN + 34 };

		img_make(&im, 'v', '3', 16384, 2, toc);
		CHECK_EQ(img_parse(&im, FMT_UZIP_HDRLEN + 34, cl, &ti, &d), 0);
		CHECK_EQ(cl[0].kind, FMT_UZIP_ZERO);
		CHECK_EQ(cl[1].kind, FMT_UZIP_DATA);
		CHECK_EQ(cl[1].len, 10);
		img_free(&im);
	}
	/* offset past the end of the image */
	{
		uint64_t toc[5] = { D4, D4 + 10, D4 + 9999, D4 + 20, D4 + 30 };

		img_make(&im, 'V', '2', 16384, 4, toc);
		CHECK_EQ(img_parse(&im, D4 + 512, cl, &ti, &d), EINVAL);
		CHECK_MSG(&d, "cluster 2 at offset");
		CHECK_MSG(&d, "outside the data area");
		img_free(&im);
	}
	/* offset inside the TOC */
	{
		uint64_t toc[5] = { D4 - 8, D4 + 10, D4 + 20, D4 + 20, 0 };

		img_make(&im, 'V', '2', 16384, 4, toc);
		CHECK_EQ(img_parse(&im, D4 + 512, cl, &ti, &d), EINVAL);
		CHECK_MSG(&d, "cluster 0 at offset");
		img_free(&im);
	}
	/* a cluster longer than geom_uzip accepts */
	{
		uint64_t toc[3] = { D2, D2 + 100000, 0 };

		img_make(&im, 'V', '2', 512, 2, toc);
		CHECK_EQ(img_parse(&im, D2 + 100100, cl, &ti, &d), EINVAL);
		CHECK_MSG(&d, "cluster 0 at offset");
		CHECK_MSG(&d, "bytes long");
		img_free(&im);
	}
	/*
	 * Regression (uzip TOC lies about a cluster's length): 16 KiB zlib
	 * clusters, cluster 0 is 17000 bytes.  The old bound (blksz * 1.5 +
	 * 4 KiB) let it through and a zlib stream that ends early "worked";
	 * g_uzip refuses anything over compressBound(16384) = 16402 at taste.
	 * The same for zstd (16504) and lzma (16464, the kernel's bound).
	 */
	{
		static const struct { char letter, ver; uint64_t max; } cs[] = {
			{ 'V', '2', 16402 }, { 'Z', '4', 16504 },
			{ 'L', '3', 16464 },
		};
		size_t k;

		CHECK_EQ(fmt_uzip_max_clen(UZIP_CODEC_ZLIB, 16384), 16402);
		CHECK_EQ(fmt_uzip_max_clen(UZIP_CODEC_ZSTD, 16384), 16504);
		for (k = 512; k <= (1u << 20); k *= 2) {
			CHECK_EQ(fmt_uzip_max_clen(UZIP_CODEC_ZLIB, (uint32_t)k),
			    compressBound(k));
			CHECK_EQ(fmt_uzip_max_clen(UZIP_CODEC_ZSTD, (uint32_t)k),
			    ZSTD_compressBound(k));
		}
		CHECK_EQ(fmt_uzip_max_clen(UZIP_CODEC_LZMA, 16384), 16464);
		CHECK_EQ(fmt_uzip_max_clen(UZIP_CODEC_ZSTD, 1u << 20),
		    (1u << 20) + 4096);
		for (k = 0; k < sizeof(cs) / sizeof(cs[0]); k++) {
			uint64_t toc[3] = { D2, D2 + cs[k].max + 1, 0 };
			uint64_t ok[3] = { D2, D2 + cs[k].max, 0 };

			img_make(&im, cs[k].letter, cs[k].ver, 16384, 2, toc);
			CHECK_EQ(img_parse(&im, D2 + cs[k].max + 600, cl, &ti,
			    &d), EINVAL);
			CHECK_MSG(&d, "more than the");
			CHECK_MSG(&d, "that geom_uzip accepts");
			img_free(&im);
			img_make(&im, cs[k].letter, cs[k].ver, 16384, 2, ok);
			CHECK_EQ(img_parse(&im, D2 + cs[k].max + 600, cl, &ti,
			    &d), 0);
			img_free(&im);
		}
	}
	/* the last cluster with data may run into the padding: trimmed */
	{
		uint64_t toc[2] = { D1, 0 };

		img_make(&im, 'V', '2', 512, 1, toc);
		CHECK_EQ(img_parse(&im, D1 + 100000, cl, &ti, &d), 0);
		CHECK_EQ(cl[0].len, fmt_uzip_max_clen(UZIP_CODEC_ZLIB, 512));
		img_free(&im);
	}
	/*
	 * toc[n] of a one-cluster image of D1 + 100 bytes: ignored by v2 and
	 * v3 (the image size is the end); used by v4 when non-zero, where it
	 * must lie inside the image; zero in v4 means the image size.
	 */
	{
		static const struct {
			char		letter, ver;
			uint64_t	end;		/* toc[1] */
			int		error;
			uint64_t	len;		/* of cluster 0 */
		} tc[] = {
			{ 'V', '2', 7, 0, 100 },
			{ 'L', '3', 7, 0, 100 },
			{ 'Z', '4', D1 + 60, 0, 60 },
			{ 'Z', '4', D1 + 101, EINVAL, 0 },
			{ 'Z', '4', 0, 0, 100 },
		};
		size_t k;

		for (k = 0; k < sizeof(tc) / sizeof(tc[0]); k++) {
			uint64_t toc[2] = { D1, tc[k].end };

			img_make(&im, tc[k].letter, tc[k].ver, 16384, 1, toc);
			CHECK_EQ(img_parse(&im, D1 + 100, cl, &ti, &d),
			    tc[k].error);
			if (tc[k].error != 0)
				CHECK_MSG(&d, "end of data");
			else {
				CHECK_EQ(cl[0].len, tc[k].len);
				CHECK_EQ(ti.data_end, D1 + tc[k].len);
			}
			img_free(&im);
		}
	}
}

/* --- files -------------------------------------------------------------- */

static void
put_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || (len > 0 && fwrite(buf, 1, len, f) != len)) {
		perror(path);
		exit(2);
	}
	fclose(f);
}

static uint8_t *
get_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (f == NULL)
		return (NULL);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		n = -1;
	fclose(f);
	*len = (size_t)n;
	return (b);
}

static int
open_uzip(const char *path, unsigned workers, unsigned cache,
    struct bdev **out, struct diag *d)
{
	struct bdev_uzip_opts uo = { cache, workers };
	struct bdev *f;
	int error;

	if ((error = bdev_file_open(path, BDEV_FILE_RDONLY, 0, &f, d)) != 0)
		return (error);
	if ((error = bdev_uzip_new(f, &uo, out, d)) != 0)
		bdev_destroy(f);
	return (error);
}

/* Mixed content: text-like runs, random bytes, zeros, repeats. */
static void
fill(uint8_t *b, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((i / 3000) % 3 == 0)
			b[i] = (uint8_t)t_rand(&seed);
		else
			b[i] = (uint8_t)("liveroot uzip "[i % 14]);
	}
}

/* Writes buf to TDIR/NAME.in; in and out (300 bytes) get that name and
 * TDIR/NAME.uzip. */
static void
put_input(const char *name, const void *buf, size_t len, char *in, char *out)
{
	snprintf(in, 300, "%s/%s.in", tdir, name);
	snprintf(out, 300, "%s/%s.uzip", tdir, name);
	put_file(in, buf, len);
}

/* Writer options: codec at its default level, blksz; the rest zero. */
static void
opts_init(struct uzip_write_opts *o, int codec, uint32_t blksz)
{
	memset(o, 0, sizeof(*o));
	o->codec = codec;
	o->level = -1;
	o->blksz = blksz;
}

static void
test_golden(void)
{
	static const struct {
		int codec, dedup;
		const char *magic;
		char letter, ver;
	} g[] = {
		{ UZIP_CODEC_ZLIB, 0, FMT_UZIP_MAGIC_ZLIB, 'V', '2' },
		{ UZIP_CODEC_ZLIB, 1, FMT_UZIP_MAGIC_ZLIB, 'v', '3' },
		{ UZIP_CODEC_LZMA, 0, FMT_UZIP_MAGIC_LZMA, 'L', '3' },
		{ UZIP_CODEC_LZMA, 1, FMT_UZIP_MAGIC_LZMA, 'l', '3' },
		{ UZIP_CODEC_ZSTD, 0, FMT_UZIP_MAGIC_ZSTD, 'Z', '4' },
		{ UZIP_CODEC_ZSTD, 1, FMT_UZIP_MAGIC_ZSTD, 'z', '4' },
	};
	struct uzip_write_opts o;
	struct diag d;
	char in[300], out[300];
	uint8_t buf[5000], want[128], *img;
	size_t i, len;

	fill(buf, sizeof(buf), 1);
	put_input("golden", buf, sizeof(buf), in, out);
	for (i = 0; i < LR_NELEM(g); i++) {
		opts_init(&o, g[i].codec, 0);
		o.dedup = g[i].dedup;
		o.jobs = 2;
		CHECK_EQ(uzip_write(in, out, &o, NULL, &d), 0);
		img = get_file(out, &len);
		CHECK(img != NULL && len >= 512 && len % 512 == 0);
		if (img == NULL || len < 512)
			continue;
		memset(want, 0, sizeof(want));
		memcpy(want, g[i].magic, strlen(g[i].magic));
		want[11] = (uint8_t)g[i].letter;
		want[12] = (uint8_t)g[i].ver;
		CHECK(memcmp(img, want, 128) == 0);
		CHECK_EQ(lr_be32dec(img + 128), 16384);
		CHECK_EQ(lr_be32dec(img + 132), 1);
		CHECK_EQ(lr_be64dec(img + 136), 152);	/* 136 + 2 * 8 */
		CHECK(lr_be64dec(img + 144) > 152);	/* toc[n] = data end */
		CHECK(lr_be64dec(img + 144) <= len);
		free(img);
	}
	/* The magic of a zlib image, byte for byte (mkuzip's). */
	CHECK(memcmp(FMT_UZIP_MAGIC_ZLIB, "#!/bin/sh\n#V2.0 Format\n(kldstat "
	    "-qm g_uzip||kldload geom_uzip)>&-&&mount_cd9660 /dev/`mdconfig "
	    "-af $0`.uzip $1\nexit $?\n", sizeof(FMT_UZIP_MAGIC_ZLIB)) == 0);
	unlink(in);
	unlink(out);
}

/* Writes buf as a uzip with the given options and reads it all back. */
static void
roundtrip(const char *what, const uint8_t *buf, size_t len, int codec,
    int dedup, uint32_t blksz, unsigned workers, struct uzip_write_stats *stp)
{
	struct uzip_write_opts o;
	struct uzip_write_stats st;
	struct bdev *b = NULL;
	struct diag d;
	char in[300], out[300];
	uint8_t *rb;
	uint64_t dev;
	size_t off, n;
	int ok = 1;

	put_input("rt", buf, len, in, out);
	opts_init(&o, codec, blksz);
	o.level = codec == UZIP_CODEC_ZSTD ? 3 : 1;
	o.dedup = dedup;
	o.jobs = 3;
	/* the reader's ring: the default, a third of the input ahead, and
	 * more than the whole input (clamped to the cluster count) */
	o.readahead = dedup ? len / 3 : codec == UZIP_CODEC_ZLIB ?
	    2 * (uint64_t)len : 0;
	diag_clear(&d);
	if (uzip_write(in, out, &o, &st, &d) != 0) {
		fprintf(stderr, "%s: write: %s\n", what, d.msg);
		CHECK(0);
		unlink(in);
		return;
	}
	if (stp != NULL)
		*stp = st;
	CHECK_EQ(st.in_bytes, len);
	if (open_uzip(out, workers, 8, &b, &d) != 0) {
		fprintf(stderr, "%s: open: %s\n", what, d.msg);
		CHECK(0);
		unlink(in);
		unlink(out);
		return;
	}
	dev = lr_div_roundup(len, blksz) * blksz;
	CHECK_EQ(bdev_size(b), dev);
	rb = malloc(dev + 1);
	/* Odd-sized sequential reads to cross cluster boundaries. */
	for (off = 0; off < dev; off += n) {
		n = LR_MIN((size_t)(dev - off), (size_t)7777);
		if (bdev_read(b, rb + off, n, off, &d) != 0) {
			fprintf(stderr, "%s: read: %s\n", what, d.msg);
			ok = 0;
			break;
		}
	}
	if (ok && (memcmp(rb, buf, len) != 0 ||
	    !lr_is_zero(rb + len, dev - len)))
		ok = 0;
	if (!ok)
		fprintf(stderr, "%s: codec %d dedup %d: data differs\n", what,
		    codec, dedup);
	CHECK(ok);
	free(rb);
	bdev_destroy(b);
	unlink(in);
	unlink(out);
}

static void
test_roundtrips(void)
{
	static const int codecs[] = { UZIP_CODEC_ZLIB, UZIP_CODEC_LZMA,
	    UZIP_CODEC_ZSTD };
	struct uzip_write_stats st;
	const uint32_t bs = 4096;
	uint8_t *buf;
	size_t i, k, big = 40 * bs;
	int dd;

	buf = calloc(1, big + bs);
	for (i = 0; i < LR_NELEM(codecs); i++) {
		for (dd = 0; dd <= 1; dd++) {
			int c = codecs[i];

			fill(buf, big, 7);
			roundtrip("0 bytes", buf, 0, c, dd, bs, 1, &st);
			CHECK_EQ(st.clusters, 0);
			roundtrip("1 byte", buf, 1, c, dd, bs, 1, NULL);
			roundtrip("one cluster", buf, bs, c, dd, bs, 2, NULL);
			roundtrip("one byte over", buf, bs + 1, c, dd, bs, 2,
			    &st);
			CHECK_EQ(st.clusters, 2);
			/* long zero run in the middle */
			memset(buf + 3 * bs + 100, 0, 20 * bs);
			roundtrip("zero run", buf, big, c, dd, bs, 3, &st);
			CHECK(st.zero_clusters >= 19);
			/* repeated clusters: 0 1 2 then 0 1 2 ... */
			fill(buf, 3 * bs, 9);
			for (k = 3; k < 40; k++)
				memcpy(buf + k * bs, buf + (k % 3) * bs, bs);
			roundtrip("repeats", buf, big, c, dd, bs, 2, &st);
			/*
			 * 37 repeats, less cluster 5: it repeats 2, the last
			 * cluster written, which a back-reference cannot name.
			 */
			if (dd)
				CHECK_EQ(st.dedup_clusters, 36);
			else
				CHECK_EQ(st.dedup_clusters, 0);
			/* short last cluster */
			roundtrip("short last", buf, big - 1000, c, dd, bs, 1,
			    NULL);
		}
	}
	free(buf);
}

/*
 * Two identical clusters in a row: the second must not back-reference the
 * first (it would read as zeros); the third identical one may.
 */
static void
test_dedup_not_previous(void)
{
	struct uzip_write_opts o;
	const struct fmt_uzip_cluster *cl;
	struct bdev *b;
	struct diag d;
	char in[300], out[300];
	uint8_t buf[3 * 4096];

	fill(buf, 4096, 3);
	memcpy(buf + 4096, buf, 4096);
	memcpy(buf + 8192, buf, 4096);
	put_input("dd", buf, sizeof(buf), in, out);
	opts_init(&o, UZIP_CODEC_ZSTD, 4096);
	o.dedup = 1;
	CHECK_EQ(uzip_write(in, out, &o, NULL, &d), 0);
	CHECK_EQ(open_uzip(out, 1, 0, &b, &d), 0);
	cl = bdev_uzip_clusters(b);
	CHECK_EQ(cl[0].kind, FMT_UZIP_DATA);
	CHECK_EQ(cl[1].kind, FMT_UZIP_DATA);
	CHECK_EQ(cl[2].kind, FMT_UZIP_BACKREF);
	CHECK_EQ(cl[2].ref, 0);
	bdev_destroy(b);
	unlink(in);
	unlink(out);
}

/*
 * Regression: X Y X Y 0 X with zlib -d (v3).  The zero cluster is the last
 * one that is not a back-reference; before v4 a reader ends it at the
 * image size, so its 512-byte padding would read as a corrupt cluster.
 * The writer stores such a cluster compressed.
 */
static void
test_trailing_zero_before_backrefs(void)
{
	uint8_t buf[6 * 512];
	uint64_t s = 42;
	size_t i;
	int codec;

	for (i = 0; i < 1024; i++)
		buf[i] = (uint8_t)(t_rand(&s) % 4);
	memcpy(buf + 1024, buf, 1024);
	memset(buf + 2048, 0, 512);
	memcpy(buf + 2560, buf, 512);
	for (codec = UZIP_CODEC_ZLIB; codec <= UZIP_CODEC_ZSTD; codec++)
		roundtrip("trailing zero before back-refs", buf, sizeof(buf),
		    codec, 1, 512, 1, NULL);
}

/*
 * mkuzip-style short last cluster: it decompresses to fewer than blksz
 * bytes; the reader zero-fills the rest.
 */
static void
test_short_output(void)
{
	struct bdev *m, *u;
	struct diag d;
	uint8_t *img, src[1000], rb[4096];
	uLongf clen = 2000;
	size_t total;

	fill(src, sizeof(src), 5);
	img = calloc(1, 4096);
	memcpy(img, FMT_UZIP_MAGIC_ZLIB, strlen(FMT_UZIP_MAGIC_ZLIB));
	lr_be32enc(img + 128, 4096);
	lr_be32enc(img + 132, 1);
	CHECK_EQ(compress2(img + D1, &clen, src, sizeof(src), 9), Z_OK);
	lr_be64enc(img + 136, D1);
	lr_be64enc(img + 144, D1 + clen);
	total = (D1 + clen + 511) / 512 * 512;
	CHECK_EQ(bdev_mem_adopt(img, total, 0, &m, &d), 0);
	CHECK_EQ(bdev_uzip_new(m, NULL, &u, &d), 0);
	CHECK_EQ(bdev_read(u, rb, sizeof(rb), 0, &d), 0);
	CHECK(memcmp(rb, src, sizeof(src)) == 0);
	CHECK(lr_is_zero(rb + 1000, sizeof(rb) - 1000));
	bdev_destroy(u);
}

static void
test_corrupt_cluster(void)
{
	struct uzip_write_opts o;
	struct bdev *m, *u;
	struct diag d;
	char in[300], out[300], want[64];
	uint8_t *buf, *img, rb[4096];
	uint64_t off2;
	size_t len;
	int codec;

	buf = malloc(8 * 4096);
	fill(buf, 8 * 4096, 11);
	put_input("cc", buf, 8 * 4096, in, out);
	for (codec = UZIP_CODEC_ZLIB; codec <= UZIP_CODEC_ZSTD; codec++) {
		opts_init(&o, codec, 4096);
		CHECK_EQ(uzip_write(in, out, &o, NULL, &d), 0);
		img = get_file(out, &len);
		off2 = lr_be64dec(img + 136 + 2 * 8);
		/* Smash the middle of cluster 2's compressed bytes. */
		memset(img + off2 + 4, 0xa5, 24);
		CHECK_EQ(bdev_mem_adopt(img, len, 0, &m, &d), 0);
		CHECK_EQ(bdev_uzip_new(m, &(struct bdev_uzip_opts){ 4, 1 },
		    &u, &d), 0);
		CHECK_EQ(bdev_read(u, rb, 4096, 4096, &d), 0);
		diag_clear(&d);
		CHECK_EQ(bdev_read(u, rb, 100, 2 * 4096 + 50, &d), EIO);
		snprintf(want, sizeof(want), "cluster 2 at offset %ju ",
		    (uintmax_t)off2);
		CHECK_MSG(&d, want);
		CHECK_MSG(&d, "does not decompress");
		/* Still corrupt the second time (not cached as good). */
		CHECK_EQ(bdev_read(u, rb, 100, 2 * 4096, &d), EIO);
		CHECK_EQ(bdev_read(u, rb, 4096, 3 * 4096, &d), 0);
		CHECK(memcmp(rb, buf + 3 * 4096, 4096) == 0);
		bdev_destroy(u);
	}
	free(buf);
	unlink(in);
	unlink(out);
}

struct conc {
	struct bdev	*b;
	const uint8_t	*src;
	size_t		 len;
	uint64_t	 seed;
	int		 bad;
};

static void *
conc_reader(void *arg)
{
	struct conc *c = arg;
	struct diag d;
	uint8_t rb[20000];
	uint64_t off;
	size_t n;
	int i;

	for (i = 0; i < 400; i++) {
		if (i % 100 < 50) {		/* sequential stretches */
			off = (uint64_t)(i % 100) * 9000 % c->len;
		} else
			off = t_rand(&c->seed) % c->len;
		n = (size_t)(t_rand(&c->seed) % sizeof(rb)) + 1;
		if (off + n > c->len)
			n = c->len - off;
		if (bdev_read(c->b, rb, n, off, &d) != 0 ||
		    memcmp(rb, c->src + off, n) != 0)
			c->bad++;
	}
	return (NULL);
}

/*
 * Two sequential reads queue read-ahead; with the reader idle the workers
 * decompress it.  (Asserted apart from test_concurrent, where busy readers
 * may claim every queued cluster themselves: that made it flaky.)
 */
static void
check_readahead(const char *path)
{
	struct bdev_uzip_stats st;
	struct bdev *b;
	struct diag d;
	uint8_t rb[100];
	int i;

	CHECK_EQ(open_uzip(path, 3, 12, &b, &d), 0);
	CHECK_EQ(bdev_read(b, rb, sizeof(rb), 0, &d), 0);
	CHECK_EQ(bdev_read(b, rb, sizeof(rb), 4096, &d), 0);
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 1000 && st.readahead == 0; i++) {
		usleep(10000);
		if (bdev_uzip_stats(b, &st) != 0)
			break;
	}
	CHECK(st.readahead > 0);
	bdev_destroy(b);
}

static void
test_concurrent(void)
{
	struct uzip_write_opts o;
	struct bdev_uzip_stats st;
	struct conc c[4];
	pthread_t t[4];
	struct bdev *b;
	struct diag d;
	char in[300], out[300];
	uint8_t *buf;
	size_t len = 64 * 4096, k;
	int i, w;

	buf = malloc(len);
	fill(buf, len, 13);
	memset(buf + 10 * 4096, 0, 5 * 4096);
	for (k = 30; k < 40; k++)
		memcpy(buf + k * 4096, buf + 20 * 4096, 4096);
	put_input("cr", buf, len, in, out);
	opts_init(&o, UZIP_CODEC_ZSTD, 4096);
	o.level = 1;
	o.dedup = 1;
	CHECK_EQ(uzip_write(in, out, &o, NULL, &d), 0);
	for (w = 1; w <= 3; w += 2) {
		CHECK_EQ(open_uzip(out, (unsigned)w, 12, &b, &d), 0);
		for (i = 0; i < 4; i++) {
			c[i] = (struct conc){ b, buf, len, 100 + i, 0 };
			pthread_create(&t[i], NULL, conc_reader, &c[i]);
		}
		for (i = 0; i < 4; i++) {
			pthread_join(t[i], NULL);
			CHECK_EQ(c[i].bad, 0);
		}
		CHECK_EQ(bdev_uzip_stats(b, &st), 0);
		CHECK(st.hits > 0 && st.misses > 0);
		CHECK_EQ(st.workers, (unsigned)w);
		bdev_destroy(b);
	}
	check_readahead(out);
	free(buf);
	unlink(in);
	unlink(out);
}

/* Both tables name the same codecs, and each codec round-trips a cluster. */
static void
test_codec_table(void)
{
	static const struct {
		const char *name, *suffix, *magic;
		int id, letter, minver, level;
	} want[] = {
		{ "zlib", ".uzip", FMT_UZIP_MAGIC_ZLIB, UZIP_CODEC_ZLIB, 'V',
		    2, 9 },
		{ "lzma", ".ulzma", FMT_UZIP_MAGIC_LZMA, UZIP_CODEC_LZMA, 'L',
		    3, 6 },
		{ "zstd", ".uzst", FMT_UZIP_MAGIC_ZSTD, UZIP_CODEC_ZSTD, 'Z',
		    4, 9 },
	};
	const struct fmt_uzip_codec *f;
	const struct lr_codec *c;
	struct diag d;
	uint8_t in[4096], *z, out[4096 + 1];
	size_t i, zlen, got, cap;
	const char *why;
	void *cx, *dx;
	int lo, hi;

	fill(in, sizeof(in), 17);
	for (i = 0; i < LR_NELEM(want); i++) {
		c = lr_codec_by_name(want[i].name);
		CHECK(c != NULL && c == lr_codec_by_id(want[i].id));
		f = fmt_uzip_codec(want[i].id);
		CHECK(f != NULL && f == fmt_uzip_codec_by_letter(want[i].letter));
		if (c == NULL || f == NULL)
			continue;
		CHECK(f == fmt_uzip_codec_by_letter(want[i].letter + 32));
		CHECK(strcmp(c->name, f->name) == 0);
		CHECK(strcmp(fmt_uzip_codec_name(c->id), want[i].name) == 0);
		CHECK_EQ(f->minver, want[i].minver);
		CHECK(strcmp(c->suffix, want[i].suffix) == 0);
		CHECK(strcmp(c->magic, want[i].magic) == 0);
		CHECK_EQ(c->magic[FMT_UZIP_OFS_COMPR], f->letter);
		CHECK_EQ(c->magic[FMT_UZIP_OFS_VERSN] - '0', f->minver);
		CHECK_EQ(c->def_level, want[i].level);
		CHECK_EQ(uzip_write_default_level(c->id), want[i].level);
		c->levels(&lo, &hi);
		CHECK(lo <= c->def_level && c->def_level <= hi);
		/* compress, then decompress with padding after the stream */
		cap = c->bound(sizeof(in));
		CHECK(cap >= sizeof(in));
		z = calloc(1, cap + 512);
		CHECK_EQ(c->cnew(&cx, c->def_level, sizeof(in), &d), 0);
		CHECK_EQ(c->compress(cx, in, sizeof(in), z, cap, &zlen, 0, &d),
		    0);
		CHECK(zlen > 0 && zlen <= fmt_uzip_max_clen(c->id, 4096));
		c->cfree(cx);
		CHECK_EQ(c->dnew(&dx), 0);
		got = 0;
		CHECK_EQ(c->decompress(dx, z, zlen + 512, out, sizeof(in), &got,
		    &why), 0);
		CHECK_EQ(got, sizeof(in));
		CHECK(memcmp(out, in, sizeof(in)) == 0);
		/* more output than cap is corruption, never an overflow */
		why = NULL;
		CHECK_EQ(c->decompress(dx, z, zlen, out, 1000, &got, &why),
		    EIO);
		CHECK(why != NULL);
		/* a damaged stream */
		memset(z + zlen / 2, 0xa5, 16);
		why = NULL;
		CHECK_EQ(c->decompress(dx, z, zlen / 2 + 8, out, sizeof(in),
		    &got, &why), EIO);
		CHECK(why != NULL);
		c->dfree(dx);
		free(z);
		/* zlib and lzma refuse a level past 9 (zstd clamps it) */
		if (c->id != UZIP_CODEC_ZSTD) {
			diag_clear(&d);
			CHECK(c->cnew(&cx, hi + 1, 4096, &d) == EINVAL &&
			    cx == NULL);
			CHECK_MSG(&d, want[i].name);
		}
		c->cfree(NULL);
		c->dfree(NULL);
	}
	CHECK(lr_codec_by_name("lz4") == NULL);
	CHECK(lr_codec_by_name("ZSTD") == NULL);
	CHECK(lr_codec_by_name("") == NULL);
	CHECK(lr_codec_by_name(NULL) == NULL);
	CHECK(lr_codec_by_id(0) == NULL && lr_codec_by_id(4) == NULL);
	CHECK(fmt_uzip_codec(0) == NULL);
	CHECK(fmt_uzip_codec_by_letter('X') == NULL);
	CHECK(fmt_uzip_codec_by_letter(0xd6) == NULL);	/* 'V' | 0x80 */
	CHECK_EQ(fmt_uzip_max_clen(0, 16384), 0);
	CHECK(strcmp(fmt_uzip_codec_name(0), "?") == 0);
}

struct hook {
	char	 dir[300];
	int	 calls;
	int	 sig_default;	/* SIGINT/SIGTERM/SIGHUP untouched */
	int	 tmp_before, tmp_after;
	int	 lines, bad_lines;
	char	 first[200];
};

/* Files in dir whose name starts with "hook.uzip." (the temporary). */
static int
count_tmp(const char *dir)
{
	struct dirent *e;
	DIR *dp;
	int n = 0;

	if ((dp = opendir(dir)) == NULL)
		return (-1);
	while ((e = readdir(dp)) != NULL)
		if (strncmp(e->d_name, "hook.uzip.", 10) == 0)
			n++;
	closedir(dp);
	return (n);
}

static void
hook_progress(uint64_t done, uint64_t total, void *arg)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct hook *h = arg;
	struct sigaction sa;
	size_t i;

	if (h->calls++ != 0)
		return;
	h->sig_default = 1;
	for (i = 0; i < LR_NELEM(sigs); i++)
		if (sigaction(sigs[i], NULL, &sa) != 0 ||
		    sa.sa_handler != SIG_DFL)
			h->sig_default = 0;
	h->tmp_before = count_tmp(h->dir);
	uzip_write_remove_partial();
	h->tmp_after = count_tmp(h->dir);
}

static void
hook_verbose(const char *line, void *arg)
{
	struct hook *h = arg;

	if (h->lines++ == 0)
		snprintf(h->first, sizeof(h->first), "%s", line);
	if (strchr(line, '\n') != NULL)
		h->bad_lines++;
}

/*
 * Regression (the library installed signal handlers): uzip_write() leaves
 * SIGINT, SIGTERM and SIGHUP as they are; a caller's handler removes the
 * temporary output with uzip_write_remove_partial(), after which the write
 * fails and leaves nothing behind.  -v lines go to the callback.
 */
static void
test_partial_hook(void)
{
	struct uzip_write_opts o;
	struct hook h;
	struct diag d;
	char in[300], out[300];
	uint8_t buf[3 * 4096];

	memset(&h, 0, sizeof(h));
	snprintf(h.dir, sizeof(h.dir), "%s", tdir);
	fill(buf, sizeof(buf), 19);
	put_input("hook", buf, sizeof(buf), in, out);
	opts_init(&o, UZIP_CODEC_ZLIB, 4096);
	o.jobs = 1;
	o.progress = hook_progress;
	o.arg = &h;
	diag_clear(&d);
	CHECK(uzip_write(in, out, &o, NULL, &d) != 0);
	CHECK_MSG(&d, "cannot rename");
	CHECK_EQ(h.sig_default, 1);
	CHECK_EQ(h.tmp_before, 1);
	CHECK_EQ(h.tmp_after, 0);
	CHECK(access(out, F_OK) != 0);
	CHECK_EQ(count_tmp(tdir), 0);

	/* Not running: the hook does nothing; the next write succeeds. */
	uzip_write_remove_partial();
	memset(&h, 0, sizeof(h));
	o.progress = NULL;
	o.verbose = hook_verbose;
	CHECK_EQ(uzip_write(in, out, &o, NULL, &d), 0);
	CHECK(access(out, F_OK) == 0);
	CHECK_EQ(h.lines, 5);		/* data size, 3 clusters, padding */
	CHECK_EQ(h.bad_lines, 0);
	CHECK(strcmp(h.first, "data size 12288 bytes, number of clusters 3, "
	    "index length 32 bytes") == 0);
	unlink(in);
	unlink(out);
}

static void
test_write_errors(void)
{
	struct uzip_write_opts o;
	struct diag d;
	char out[300];

	opts_init(&o, UZIP_CODEC_ZSTD, 0);
	snprintf(out, sizeof(out), "%s/none.uzip", tdir);
	CHECK_EQ(uzip_write("/nonexistent/in", out, &o, NULL, &d), ENOENT);
	CHECK_MSG(&d, "/nonexistent/in: cannot open");
	CHECK(access(out, F_OK) != 0);
	o.blksz = 1000;
	CHECK_EQ(uzip_write("/dev/null", out, &o, NULL, &d), EINVAL);
	CHECK_MSG(&d, "multiple of 512");
	o.blksz = 0;
	snprintf(out, sizeof(out), "%s/small.in", tdir);
	put_file(out, "abc", 3);
	CHECK_EQ(uzip_write(out, "/nonexistent/dir/x.uzip", &o, NULL, &d),
	    ENOENT);
	unlink(out);
	CHECK_MSG(&d, "cannot create");
	/*
	 * Regression (a library message named mkuzip's -s flag, wrong for
	 * mklive): 2^32 + 1 clusters of 512 bytes in a sparse input.
	 */
	snprintf(out, sizeof(out), "%s/huge.in", tdir);
	put_file(out, "", 0);
	CHECK_EQ(truncate(out, ((off_t)1 << 41) + 512), 0);
	o.blksz = 512;
	CHECK_EQ(uzip_write(out, "/nonexistent/dir/x.uzip", &o, NULL, &d),
	    EFBIG);
	unlink(out);
	CHECK_MSG(&d, "more than 2^32 clusters of 512 bytes; use a larger "
	    "cluster size");
	CHECK(strstr(d.msg, "-s") == NULL);
}

int
main(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/test_uzip.%d", (int)getpid());
	if (mkdir(tdir, 0755) != 0)
		return (2);
	test_probe();
	test_header_errors();
	test_toc();
	test_golden();
	test_roundtrips();
	test_dedup_not_previous();
	test_trailing_zero_before_backrefs();
	test_short_output();
	test_corrupt_cluster();
	test_concurrent();
	test_write_errors();
	test_codec_table();
	test_partial_hook();
	rmdir(tdir);
	return (t_done());
}
