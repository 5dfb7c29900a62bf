/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_uzip_hashes.c - IMAGE.hashes (fmt_uzip_hashes.h): the parser's
 * bounds on exact-size buffers (so ASan sees a one-byte over-read), the
 * writer's hashes (mkuzip --hashes) equal to those of an existing image
 * (uzip_write_hashes) for every codec, with dedup, zero clusters and a
 * padded last cluster, and the reader (bdev_uzip with hashes): a flipped
 * byte in one cluster is EIO naming the cluster, its offset and both
 * hashes while every other cluster still reads; the hashes of another
 * image, a changed header, a truncated hashes file and a hashes file
 * whose zero-cluster entry lies are refused at open.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/fmt_uzip_hashes.h>
#include <liveroot/os.h>
#include <liveroot/util.h>
#include <liveroot/uzip.h>
#include <liveroot/uzip_write.h>

#include "t.h"

#define BS	4096u
#define NCL	40u

static char tdir[256];

static void
path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tdir, name);
}

static uint8_t *
slurp(const char *p, size_t *lenp)
{
	char *buf = NULL;

	if (os_read_file(p, 1u << 30, &buf, lenp, NULL) != 0)
		return (NULL);
	return ((uint8_t *)buf);
}

static void
spill(const char *p, const void *buf, size_t len)
{
	CHECK_EQ(os_write_file(p, buf, len, 0644, NULL), 0);
}

/*
 * The input: NCL - 1 clusters and a short tail.  Clusters 3, 4 and 38 are
 * all zero (38: the last full one, so a version-2 image stores it
 * compressed), 10 and 20 repeat cluster 7 (dedup), the rest are
 * compressible pseudo-random text.
 */
static uint8_t *
make_input(size_t *lenp, int zero_tail)
{
	size_t len = (size_t)(NCL - 1) * BS + 1000, i;
	uint8_t *b = calloc(1, len);
	uint64_t s = 12345;
	uint32_t c;

	for (c = 0; c < NCL; c++) {
		if (c == 3 || c == 4 || c == 38)
			continue;
		for (i = (size_t)c * BS; i < LR_MIN(len, (size_t)(c + 1) * BS);
		    i++)
			b[i] = "abcdefgh\n"[t_rand(&s) % 9];
	}
	memcpy(b + 10 * BS, b + 7 * BS, BS);
	memcpy(b + 20 * BS, b + 7 * BS, BS);
	if (zero_tail)
		memset(b + 39 * BS, 0, 1000);
	*lenp = len;
	return (b);
}

/* --- the parser ---------------------------------------------------------- */

static uint8_t *
hfile_make(uint32_t n, uint64_t isize, size_t *lenp)
{
	size_t len = (size_t)fmt_uzhash_size(n);
	uint8_t *b = malloc(len), head[32];
	uint32_t i;

	memset(head, 0xab, sizeof(head));
	fmt_uzhash_encode(b, n, isize, head);
	for (i = 0; i < n; i++)
		memset(b + FMT_UZHASH_HDRLEN + 32 * (size_t)i, (int)i, 32);
	*lenp = len;
	return (b);
}

/* Parses an exact-size copy of buf[0, len). */
static int
parse_exact(const uint8_t *buf, size_t len, struct fmt_uzhash *h,
    struct diag *d)
{
	uint8_t *c = malloc(len ? len : 1);
	int error;

	memcpy(c, buf, len);
	diag_clear(d);
	error = fmt_uzhash_parse(c, len, h, d);
	free(c);
	return (error);
}

static void
test_parse(void)
{
	struct fmt_uzhash h;
	struct diag d;
	uint8_t *b, big[FMT_UZHASH_HDRLEN], head[32];
	size_t len;
	uint8_t *c;

	b = hfile_make(3, 4096, &len);
	CHECK_EQ(len, 56 + 3 * 32);
	CHECK(fmt_uzhash_probe(b, len));
	c = malloc(len);
	memcpy(c, b, len);
	CHECK_EQ(fmt_uzhash_parse(c, len, &h, &d), 0);
	CHECK_EQ(h.nclusters, 3);
	CHECK_EQ(h.image_size, 4096);
	CHECK(h.head == c + 24 && h.head[0] == 0xab);
	CHECK(fmt_uzhash_cluster(&h, 2) == c + 56 + 64);
	CHECK_EQ(fmt_uzhash_cluster(&h, 2)[31], 2);
	free(c);
	/* a byte short: truncated; a byte long: corrupt */
	CHECK_EQ(parse_exact(b, len - 1, &h, &d), EINVAL);
	CHECK_MSG(&d, "truncated");
	CHECK_EQ(parse_exact(b, len + 0, &h, &d), 0);
	c = calloc(1, len + 1);
	memcpy(c, b, len);
	CHECK_EQ(parse_exact(c, len + 1, &h, &d), EINVAL);
	CHECK_MSG(&d, "need exactly 152");
	free(c);
	/* shorter than the header, empty */
	CHECK_EQ(parse_exact(b, 55, &h, &d), EINVAL);
	CHECK_MSG(&d, "truncated");
	CHECK_EQ(parse_exact(b, 0, &h, &d), EINVAL);
	CHECK(!fmt_uzhash_probe(b, 7));
	/* magic, version */
	b[0] ^= 1;
	CHECK_EQ(parse_exact(b, len, &h, &d), EINVAL);
	CHECK_MSG(&d, "magic");
	b[0] ^= 1;
	b[11] = 2;
	CHECK_EQ(parse_exact(b, len, &h, &d), EINVAL);
	CHECK_MSG(&d, "version 2");
	b[11] = 1;
	/* an image too small for the header and TOC of 3 clusters */
	lr_be64enc(b + 16, 136 + 8 * 4 - 1);
	CHECK_EQ(parse_exact(b, len, &h, &d), EINVAL);
	CHECK_MSG(&d, "cannot hold");
	lr_be64enc(b + 16, 136 + 8 * 4);
	CHECK_EQ(parse_exact(b, len, &h, &d), 0);
	free(b);
	/* a huge count with a header-only buffer: no overflow, refused */
	memset(head, 0, sizeof(head));
	fmt_uzhash_encode(big, UINT32_MAX, UINT64_MAX, head);
	CHECK_EQ(parse_exact(big, sizeof(big), &h, &d), EINVAL);
	CHECK_MSG(&d, "truncated");
	CHECK_EQ(fmt_uzhash_size(UINT32_MAX), 56 + 32 * (uint64_t)UINT32_MAX);
	/* zero clusters: the header alone */
	fmt_uzhash_encode(big, 0, 144, head);
	CHECK_EQ(parse_exact(big, sizeof(big), &h, &d), 0);
	CHECK_EQ(h.nclusters, 0);
}

/* --- writer and reader ------------------------------------------------------ */

/* mkuzip --hashes of in into NAME and NAME.hashes. */
static int
write_img(const char *in, const char *name, int codec, int dedup,
    unsigned jobs)
{
	struct uzip_write_opts o;
	struct diag d;
	char out[512], hp[600];
	int error;

	path(out, sizeof(out), name);
	snprintf(hp, sizeof(hp), "%s.hashes", out);
	memset(&o, 0, sizeof(o));
	o.codec = codec;
	o.level = -1;
	o.blksz = BS;
	o.jobs = jobs;
	o.dedup = dedup;
	o.hashes_path = hp;
	diag_clear(&d);
	if ((error = uzip_write(in, out, &o, NULL, &d)) != 0)
		fprintf(stderr, "uzip_write: %s\n", d.msg);
	return (error);
}

static int
open_img(const char *img, const char *hashes, unsigned workers,
    struct bdev **out, struct diag *d)
{
	struct bdev_uzip_opts uo = { .workers = workers,
	    .hashes_path = hashes };
	struct bdev *f;
	int error;

	diag_clear(d);
	if ((error = bdev_file_open(img, BDEV_FILE_RDONLY, 0, &f, d)) != 0)
		return (error);
	if ((error = bdev_uzip_new(f, &uo, out, d)) != 0)
		bdev_destroy(f);
	return (error);
}

/*
 * For each codec, with and without dedup, with a zero or a data tail: the
 * writer's hashes equal uzip_write_hashes()'s, and the image reads back
 * whole through the checking reader.
 */
static void
test_roundtrip(void)
{
	static const int codecs[] = { UZIP_CODEC_ZLIB, UZIP_CODEC_LZMA,
	    UZIP_CODEC_ZSTD };
	struct bdev_uzip_stats st;
	struct bdev *b;
	struct diag d;
	char in[512], img[512], hp[600], hp2[600];
	uint8_t *data, *h1, *h2, *got;
	size_t len, l1, l2;
	unsigned ci, dd, zt;
	int error;

	for (zt = 0; zt < 2; zt++)
	for (ci = 0; ci < LR_NELEM(codecs); ci++)
	for (dd = 0; dd < 2; dd++) {
		data = make_input(&len, zt);
		path(in, sizeof(in), "in.img");
		spill(in, data, len);
		CHECK_EQ(write_img(in, "rt.uzip", codecs[ci], dd, 3), 0);
		path(img, sizeof(img), "rt.uzip");
		snprintf(hp, sizeof(hp), "%s.hashes", img);
		snprintf(hp2, sizeof(hp2), "%s.h2", img);
		diag_clear(&d);
		CHECK_EQ(uzip_write_hashes(img, hp2, &d), 0);
		h1 = slurp(hp, &l1);
		h2 = slurp(hp2, &l2);
		CHECK(h1 != NULL && h2 != NULL);
		CHECK_EQ(l1, fmt_uzhash_size(NCL));
		CHECK(h1 != NULL && h2 != NULL && l1 == l2 &&
		    memcmp(h1, h2, l1) == 0);
		if (h1 != NULL && h2 != NULL && l1 == l2 &&
		    memcmp(h1, h2, l1) != 0)
			fprintf(stderr, "codec %d dedup %u tail %u: writer "
			    "and uzip_write_hashes differ\n", codecs[ci], dd,
			    zt);
		free(h1);
		free(h2);
		error = open_img(img, hp, 1 + 2 * dd, &b, &d);
		CHECK_EQ(error, 0);
		if (error != 0) {
			fprintf(stderr, "open: %s\n", d.msg);
			free(data);
			continue;
		}
		got = malloc(NCL * BS);
		CHECK_EQ(bdev_read(b, got, NCL * BS, 0, &d), 0);
		CHECK(memcmp(got, data, len) == 0);
		CHECK_EQ(bdev_uzip_stats(b, &st), 0);
		CHECK(st.hashes);
		CHECK(st.verified > 0);
		CHECK_EQ(st.hash_bad, 0);
		bdev_destroy(b);
		free(got);
		free(data);
	}
}

/* The offset and length of cluster ci of img (through the reader). */
static void
cluster_of(const char *img, uint32_t ci, uint64_t *off, uint32_t *len)
{
	struct bdev *b;
	struct diag d;

	*off = 0;
	*len = 0;
	if (open_img(img, NULL, 1, &b, &d) != 0)
		return;
	*off = bdev_uzip_clusters(b)[ci].off;
	*len = bdev_uzip_clusters(b)[ci].len;
	bdev_destroy(b);
}

/*
 * Regression (the tamper test of issue 13): one flipped byte in the middle
 * of cluster 12 of a copy of the image.  Reading cluster 12 is EIO naming
 * cluster 12, its offset and both hashes, and the bad bytes never reach
 * the codec; every other cluster still reads, with or without workers.
 */
static void
test_tamper(void)
{
	struct bdev_uzip_stats st;
	struct bdev *b;
	struct diag d;
	char in[512], img[512], hp[600], want[64];
	uint8_t *data, *im, *got;
	size_t len, ilen;
	uint64_t off;
	uint32_t clen, c;
	unsigned w;

	data = make_input(&len, 0);
	path(in, sizeof(in), "in.img");
	spill(in, data, len);
	CHECK_EQ(write_img(in, "t.uzip", UZIP_CODEC_ZSTD, 0, 2), 0);
	path(img, sizeof(img), "t.uzip");
	snprintf(hp, sizeof(hp), "%s.hashes", img);
	cluster_of(img, 12, &off, &clen);
	CHECK(clen > 4);
	im = slurp(img, &ilen);
	CHECK(im != NULL && off + clen <= ilen);
	if (im == NULL || off + clen > ilen)
		return;
	im[off + clen / 2] ^= 0x01;
	path(img, sizeof(img), "t-bad.uzip");
	spill(img, im, ilen);
	free(im);
	got = malloc(BS);
	for (w = 1; w <= 3; w += 2) {
		b = NULL;
		CHECK_EQ(open_img(img, hp, w, &b, &d), 0);
		if (b == NULL)
			continue;
		diag_clear(&d);
		CHECK_EQ(bdev_read(b, got, BS, 12 * BS, &d), EIO);
		CHECK_MSG(&d, "cluster 12 at offset");
		snprintf(want, sizeof(want), "offset %ju", (uintmax_t)off);
		CHECK_MSG(&d, want);
		CHECK_MSG(&d, "t-bad.uzip");
		CHECK_MSG(&d, "t.uzip.hashes says");
		CHECK(strstr(d.msg, "does not decompress") == NULL);
		/* a part of the cluster: the cached path fails too */
		CHECK_EQ(bdev_read(b, got, 512, 12 * BS + 512, &d), EIO);
		for (c = 0; c < NCL; c++) {
			if (c == 12)
				continue;
			diag_clear(&d);
			CHECK_EQ(bdev_read(b, got, BS, (uint64_t)c * BS, &d),
			    0);
			CHECK(memcmp(got, data + (size_t)c * BS,
			    LR_MIN((size_t)BS, len - (size_t)c * BS)) == 0);
		}
		CHECK_EQ(bdev_uzip_stats(b, &st), 0);
		CHECK(st.hash_bad >= 2);
		bdev_destroy(b);
		b = NULL;
	}
	/* without the hashes file the flipped byte is the codec's problem */
	CHECK_EQ(open_img(img, NULL, 1, &b, &d), 0);
	if (b != NULL) {
		CHECK_EQ(bdev_read(b, got, BS, 12 * BS, &d), EIO);
		CHECK_MSG(&d, "does not decompress");
		bdev_destroy(b);
	}
	free(got);
	free(data);
}

/* Refusals at open: every one names both files. */
static void
test_refuse(void)
{
	struct bdev *b = NULL;
	struct diag d;
	char in[512], img[512], img2[512], hp[600], hp2[600], p[600];
	uint8_t *data, *h, *im;
	size_t len, hl, il;
	struct bdev_uzip_opts uo;
	struct bdev *f;

	data = make_input(&len, 0);
	path(in, sizeof(in), "in.img");
	spill(in, data, len);
	CHECK_EQ(write_img(in, "a.uzip", UZIP_CODEC_ZLIB, 0, 1), 0);
	path(img, sizeof(img), "a.uzip");
	snprintf(hp, sizeof(hp), "%s.hashes", img);
	/* another image of the same cluster count: one input byte differs */
	data[5 * BS] ^= 0x20;
	spill(in, data, len);
	CHECK_EQ(write_img(in, "b.uzip", UZIP_CODEC_ZLIB, 0, 1), 0);
	path(img2, sizeof(img2), "b.uzip");
	snprintf(hp2, sizeof(hp2), "%s.hashes", img2);
	CHECK_EQ(open_img(img, hp2, 1, &b, &d), EINVAL);
	CHECK_MSG(&d, "b.uzip.hashes");
	CHECK_MSG(&d, "a.uzip");
	/* another image of another size: refused before any parse */
	CHECK_EQ(write_img(img, "c.uzip", UZIP_CODEC_ZSTD, 0, 1), 0);
	path(p, sizeof(p), "c.uzip.hashes");
	CHECK_EQ(open_img(img, p, 1, &b, &d), EINVAL);
	CHECK_MSG(&d, "c.uzip.hashes is ");
	CHECK_MSG(&d, "another image");
	/* a truncated hashes file */
	h = slurp(hp, &hl);
	path(p, sizeof(p), "trunc.hashes");
	spill(p, h, hl - 1);
	CHECK_EQ(open_img(img, p, 1, &b, &d), EINVAL);
	CHECK_MSG(&d, "truncated");
	CHECK_MSG(&d, "trunc.hashes");
	/* a changed header (a byte of the preamble): the header hash */
	im = slurp(img, &il);
	im[30] ^= 0x01;
	path(p, sizeof(p), "hdr.uzip");
	spill(p, im, il);
	CHECK_EQ(open_img(p, hp, 1, &b, &d), EINVAL);
	CHECK_MSG(&d, "a.uzip.hashes does not match");
	CHECK_MSG(&d, "hdr.uzip");
	CHECK_MSG(&d, "header and TOC");
	free(im);
	/* a zero cluster's entry that is not the hash of nothing */
	memset(h + FMT_UZHASH_HDRLEN + 3 * 32, 0, 32);
	memset(&uo, 0, sizeof(uo));
	uo.workers = 1;
	uo.hashes = h;
	uo.hashes_len = hl;
	uo.hashes_name = "mem.hashes";
	diag_clear(&d);
	CHECK_EQ(bdev_file_open(img, BDEV_FILE_RDONLY, 0, &f, &d), 0);
	CHECK_EQ(bdev_uzip_new(f, &uo, &b, &d), EINVAL);
	CHECK_MSG(&d, "cluster 3 is a zero cluster");
	CHECK_MSG(&d, "mem.hashes");
	/* from memory, a byte short */
	free(h);
	h = slurp(hp, &hl);
	uo.hashes = h;
	uo.hashes_len = hl - 1;
	CHECK_EQ(bdev_uzip_new(f, &uo, &b, &d), EINVAL);
	CHECK_MSG(&d, "mem.hashes: uzip hashes file is");
	/* the same from memory, intact, opens */
	uo.hashes_len = hl;
	CHECK_EQ(bdev_uzip_new(f, &uo, &b, &d), 0);
	bdev_destroy(b);
	free(h);
	free(data);
}

int
main(void)
{
	char cmd[300];

	snprintf(tdir, sizeof(tdir), "/tmp/test_uzip_hashes.XXXXXX");
	if (mkdtemp(tdir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	test_parse();
	test_roundtrip();
	test_tamper();
	test_refuse();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	(void)system(cmd);
	return (t_done());
}
