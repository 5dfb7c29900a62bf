/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uzip.c - header and TOC of FreeBSD uzip images (mkuzip, geom_uzip).
 *
 * Acceptance follows the FreeBSD kernel: "#!/bin/sh\n" preamble, codec
 * letter V/L/Z (lowercase = dedup) with version >= 2/3/4, blksz a multiple
 * of 512 and at most 1 MiB, the TOC inside the image, every offset inside
 * [data_off, data_end].
 *
 * TOC semantics, decided in one linear pass with no allocation:
 *  - hi is the offset of the last non-back-reference cluster.  toc[i] < hi
 *    marks a back-reference (dedup); it repeats the last non-back-reference
 *    cluster with exactly that offset, which must hold data (length > 0).
 *    That cluster is found by binary search over the non-decreasing key
 *    out[out[k].anchor].off, so a crafted TOC cannot make this quadratic.
 *    A back-reference to the immediately previous written cluster cannot be
 *    expressed (toc[i] == hi is not < hi): it would read as a zero cluster
 *    followed by a data cluster, so writers never emit it.
 *  - a non-back-reference cluster ends where the next non-back-reference
 *    one starts; length 0 is a zero cluster.  The last one ends at data_end:
 *    toc[nblocks] when the version is >= 4 and it is non-zero, else the
 *    image size (v2 images then include the 512-byte padding, which the
 *    decompressors ignore).
 *  - every compressed length is at most fmt_uzip_max_clen(): the codec's
 *    worst-case bound for blksz bytes, as geom_uzip checks it.
 * The codecs are one const table (uzip_codecs[]: letter, minimum version,
 * name, that bound); their userland operations are lib/codec/codec.c.
 * Kernel-clean: no allocation, no I/O, no printing.
 */
#include <liveroot/fmt_uzip.h>
#include <liveroot/util.h>

static const char uzip_shebang[] = "#!/bin/sh\n";

static uint64_t
uzip_max_clen_zlib(uint32_t blksz)		/* zlib's compressBound() */
{
	uint64_t n = blksz;

	return (n + (n >> 12) + (n >> 14) + (n >> 25) + 13);
}

static uint64_t
uzip_max_clen_lzma(uint32_t blksz)	/* g_uzip_lzma.c: LZ4_COMPRESSBOUND() */
{
	uint64_t n = blksz;

	return (n + n / 255 + 16);
}

static uint64_t
uzip_max_clen_zstd(uint32_t blksz)		/* ZSTD_COMPRESSBOUND() */
{
	uint64_t n = blksz;

	return (n + (n >> 8) +
	    (n < (128u << 10) ? ((128u << 10) - n) >> 11 : 0));
}

static const struct fmt_uzip_codec uzip_codecs[] = {
	{ UZIP_CODEC_ZLIB, 'V', 2, "zlib", uzip_max_clen_zlib },
	{ UZIP_CODEC_LZMA, 'L', 3, "lzma", uzip_max_clen_lzma },
	{ UZIP_CODEC_ZSTD, 'Z', 4, "zstd", uzip_max_clen_zstd },
};

const struct fmt_uzip_codec *
fmt_uzip_codec(int id)
{
	size_t i;

	for (i = 0; i < LR_NELEM(uzip_codecs); i++)
		if (uzip_codecs[i].id == id)
			return (&uzip_codecs[i]);
	return (NULL);
}

const struct fmt_uzip_codec *
fmt_uzip_codec_by_letter(int c)
{
	size_t i;

	if (c >= 'a' && c <= 'z')
		c -= 'a' - 'A';
	for (i = 0; i < LR_NELEM(uzip_codecs); i++)
		if (uzip_codecs[i].letter == c)
			return (&uzip_codecs[i]);
	return (NULL);
}

const char *
fmt_uzip_codec_name(int codec)
{
	const struct fmt_uzip_codec *c = fmt_uzip_codec(codec);

	return (c != NULL ? c->name : "?");
}

uint64_t
fmt_uzip_max_clen(int codec, uint32_t blksz)
{
	const struct fmt_uzip_codec *c = fmt_uzip_codec(codec);

	return (c != NULL ? c->max_clen(blksz) : 0);
}

int
fmt_uzip_probe(const void *buf, size_t len)
{
	const uint8_t *b = buf;

	if (len < FMT_UZIP_OFS_VERSN + 1)
		return (0);
	if (memcmp(b, uzip_shebang, sizeof(uzip_shebang) - 1) != 0)
		return (0);
	return (b[10] == '#' &&
	    fmt_uzip_codec_by_letter(b[FMT_UZIP_OFS_COMPR]) != NULL);
}

int
fmt_uzip_header(const void *buf, size_t len, uint64_t image_size,
    struct fmt_uzip_hdr *hdr, struct diag *d)
{
	const uint8_t *b = buf;
	const struct fmt_uzip_codec *c;
	uint64_t toclen, end, size;
	int ver;

	memset(hdr, 0, sizeof(*hdr));
	if (len < FMT_UZIP_HDRLEN || image_size < FMT_UZIP_HDRLEN)
		return (diag_set(d, EINVAL, "uzip header truncated: %ju bytes, "
		    "need %u: the image is truncated or not a uzip image",
		    (uintmax_t)LR_MIN((uint64_t)len, image_size),
		    FMT_UZIP_HDRLEN));
	if (memcmp(b, uzip_shebang, sizeof(uzip_shebang) - 1) != 0)
		return (diag_set(d, EINVAL, "not a uzip image: no "
		    "\"#!/bin/sh\" preamble"));
	if ((c = fmt_uzip_codec_by_letter(b[FMT_UZIP_OFS_COMPR])) == NULL)
		return (diag_set(d, EINVAL, "not a uzip image: unknown codec "
		    "letter 0x%02x at offset %d (want V, L or Z)",
		    b[FMT_UZIP_OFS_COMPR], FMT_UZIP_OFS_COMPR));
	hdr->codec = c->id;
	hdr->dedup = b[FMT_UZIP_OFS_COMPR] != c->letter;
	if (b[FMT_UZIP_OFS_VERSN] < '0' || b[FMT_UZIP_OFS_VERSN] > '9')
		return (diag_set(d, EINVAL, "uzip header: version byte 0x%02x "
		    "is not a digit", b[FMT_UZIP_OFS_VERSN]));
	ver = b[FMT_UZIP_OFS_VERSN] - '0';
	if (ver < c->minver)
		return (diag_set(d, EINVAL, "uzip header: %s image of version "
		    "%d, need at least %d", c->name, ver, c->minver));
	hdr->version = ver;
	hdr->blksz = lr_be32dec(b + 128);
	hdr->nblocks = lr_be32dec(b + 132);
	if (hdr->blksz == 0 || hdr->blksz % 512 != 0)
		return (diag_set(d, EINVAL, "uzip header: cluster size %u is "
		    "not a multiple of 512", hdr->blksz));
	if (hdr->blksz > FMT_UZIP_MAXBLKSZ)
		return (diag_set(d, EINVAL, "uzip header: cluster size %u is "
		    "larger than %u (1 MiB)", hdr->blksz, FMT_UZIP_MAXBLKSZ));
	toclen = ((uint64_t)hdr->nblocks + 1) * 8;
	if (lr_add_overflow(FMT_UZIP_HDRLEN, toclen, &end) ||
	    end > image_size)
		return (diag_set(d, EINVAL, "uzip header: %u clusters need a "
		    "TOC of %ju bytes, longer than the %ju-byte image: the "
		    "image is truncated or corrupt", hdr->nblocks,
		    (uintmax_t)toclen, (uintmax_t)image_size));
	if (lr_mul_overflow(hdr->nblocks, hdr->blksz, &size))
		return (diag_set(d, EINVAL, "uzip header: device size "
		    "overflows"));
	hdr->toc_off = FMT_UZIP_HDRLEN;
	hdr->toc_len = toclen;
	hdr->data_off = end;
	hdr->size = size;
	return (0);
}

/* The last index k < n whose anchor offset is <= t, or -1. */
static int64_t
uzip_find(const struct fmt_uzip_cluster *out, uint32_t n, uint64_t t)
{
	int64_t lo = 0, hi = (int64_t)n - 1, mid, best = -1;

	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		if (out[out[mid].anchor].off <= t) {
			best = mid;
			lo = mid + 1;
		} else
			hi = mid - 1;
	}
	return (best);
}

/*
 * Ends cluster c (index idx) at `end`.  A cluster longer than geom_uzip's
 * bound is corrupt, unless it is the last one with data (`last`): there the
 * excess is the image's padding and is trimmed, as g_uzip_parse_toc() does.
 */
static int
uzip_close(const struct fmt_uzip_hdr *hdr, struct fmt_uzip_cluster *c,
    uint32_t idx, uint64_t end, int last, struct fmt_uzip_tocinfo *inf,
    struct diag *d)
{
	uint64_t len = end - c->off;
	uint64_t max = fmt_uzip_max_clen(hdr->codec, hdr->blksz);

	if (len > max && last)
		len = max;
	if (len > max)
		return (diag_set(d, EINVAL, "uzip TOC: cluster %u at offset %ju "
		    "is %ju bytes long, more than the %ju that geom_uzip "
		    "accepts for %u-byte %s clusters: the image is corrupt",
		    idx, (uintmax_t)c->off, (uintmax_t)len, (uintmax_t)max,
		    hdr->blksz, fmt_uzip_codec_name(hdr->codec)));
	c->len = (uint32_t)len;
	if (len == 0) {
		c->kind = FMT_UZIP_ZERO;
		inf->zero_clusters++;
	} else {
		c->kind = FMT_UZIP_DATA;
		inf->data_clusters++;
		inf->compressed_bytes += len;
		if (len > inf->max_clen)
			inf->max_clen = (uint32_t)len;
	}
	return (0);
}

int
fmt_uzip_toc(const struct fmt_uzip_hdr *hdr, const void *toc, size_t toclen,
    uint64_t image_size, struct fmt_uzip_cluster *out,
    struct fmt_uzip_tocinfo *info, struct diag *d)
{
	const uint8_t *tb = toc;
	struct fmt_uzip_tocinfo inf;
	uint64_t t, hi, end, last_toc;
	uint32_t i, last;
	int64_t k;
	uint32_t a;
	int error;

	memset(&inf, 0, sizeof(inf));
	if (toclen != hdr->toc_len ||
	    !lr_range_ok(hdr->toc_off, hdr->toc_len, image_size))
		return (diag_set(d, EINVAL, "uzip TOC: %zu bytes given, the "
		    "header needs %ju inside a %ju-byte image", toclen,
		    (uintmax_t)hdr->toc_len, (uintmax_t)image_size));
	end = image_size;
	last_toc = lr_be64dec(tb + (size_t)hdr->nblocks * 8);
	if (hdr->version >= 4 && last_toc != 0) {
		if (last_toc < hdr->data_off || last_toc > image_size)
			return (diag_set(d, EINVAL, "uzip TOC: end of data %ju "
			    "(entry %u) lies outside [%ju, %ju]: the image is "
			    "truncated or corrupt", (uintmax_t)last_toc,
			    hdr->nblocks, (uintmax_t)hdr->data_off,
			    (uintmax_t)image_size));
		end = last_toc;
	}
	hi = 0;
	last = 0;
	if (hdr->nblocks == 0)		/* an empty input: a 0-byte device */
		goto done;
	for (i = 0; i < hdr->nblocks; i++) {
		t = lr_be64dec(tb + (size_t)i * 8);
		if (t < hdr->data_off || t > end)
			return (diag_set(d, EINVAL, "uzip TOC: cluster %u at "
			    "offset %ju lies outside the data area [%ju, %ju]: "
			    "the image is truncated or corrupt", i,
			    (uintmax_t)t, (uintmax_t)hdr->data_off,
			    (uintmax_t)end));
		if (i > 0 && t < hi) {
			k = uzip_find(out, i, t);
			if (k < 0 || out[a = out[k].anchor].off != t ||
			    out[a].kind != FMT_UZIP_DATA)
				return (diag_set(d, EINVAL, "uzip TOC: cluster "
				    "%u is a back-reference to offset %ju, "
				    "where no earlier cluster with data "
				    "starts: the image is corrupt", i,
				    (uintmax_t)t));
			out[i].off = t;
			out[i].len = out[a].len;
			out[i].kind = FMT_UZIP_BACKREF;
			out[i].ref = a;
			out[i].anchor = last;
			inf.backref_clusters++;
			continue;
		}
		if (i > 0 && (error = uzip_close(hdr, &out[last], last, t, 0,
		    &inf, d)) != 0)
			return (error);
		out[i].off = t;
		out[i].len = 0;
		out[i].kind = FMT_UZIP_DATA;
		out[i].ref = i;
		out[i].anchor = i;
		last = i;
		hi = t;
	}
	if ((error = uzip_close(hdr, &out[last], last, end, 1, &inf,
	    d)) != 0)
		return (error);
done:
	inf.data_end = end;
	if (info != NULL)
		*info = inf;
	return (0);
}
