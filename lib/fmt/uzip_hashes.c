/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uzip_hashes.c - IMAGE.hashes, the per-cluster SHA-256 list of a uzip
 * image (layout: fmt_uzip_hashes.h).
 *
 * Invariants after fmt_uzhash_parse() succeeds: the magic and version are
 * ours, the buffer is exactly 56 + 32 * nclusters bytes (so every
 * fmt_uzhash_cluster(h, i) with i < nclusters lies inside it), and
 * image_size can hold a uzip header and a TOC of nclusters entries.
 * Whether the file belongs to a given image (same cluster count, same
 * size, same header+TOC hash) is the reader's check (lib/bdev/uzip.c):
 * hashing is userland (lib/os/sha256.c), this file stays kernel-clean.
 */
#include <liveroot/fmt_uzip.h>
#include <liveroot/fmt_uzip_hashes.h>
#include <liveroot/util.h>

int
fmt_uzhash_probe(const void *buf, size_t len)
{
	return (len >= FMT_UZHASH_MAGICLEN &&
	    memcmp(buf, FMT_UZHASH_MAGIC, FMT_UZHASH_MAGICLEN) == 0);
}

uint64_t
fmt_uzhash_size(uint32_t n)
{
	return (FMT_UZHASH_HDRLEN + (uint64_t)n * FMT_UZHASH_LEN);
}

int
fmt_uzhash_parse(const void *buf, size_t len, struct fmt_uzhash *h,
    struct diag *d)
{
	const uint8_t *b = buf;
	uint64_t want, toc_end;
	uint32_t ver;

	memset(h, 0, sizeof(*h));
	if (len < FMT_UZHASH_HDRLEN)
		return (diag_set(d, EINVAL, "uzip hashes file truncated: %zu "
		    "bytes, the header alone is %u: rewrite it with "
		    "'liveroot uzip hashes'", len, FMT_UZHASH_HDRLEN));
	if (!fmt_uzhash_probe(b, len))
		return (diag_set(d, EINVAL, "not a uzip hashes file: no "
		    "\"%s\" magic", FMT_UZHASH_MAGIC));
	ver = lr_be32dec(b + FMT_UZHASH_OFS_VERSION);
	if (ver != FMT_UZHASH_VERSION)
		return (diag_set(d, EINVAL, "uzip hashes file of version %u: "
		    "this liveroot reads version %u only", ver,
		    FMT_UZHASH_VERSION));
	h->nclusters = lr_be32dec(b + FMT_UZHASH_OFS_NCL);
	h->image_size = lr_be64dec(b + FMT_UZHASH_OFS_ISIZE);
	want = fmt_uzhash_size(h->nclusters);
	if ((uint64_t)len != want)
		return (diag_set(d, EINVAL, "uzip hashes file is %zu bytes, "
		    "%u clusters need exactly %ju: the file is %s", len,
		    h->nclusters, (uintmax_t)want, (uint64_t)len < want ?
		    "truncated" : "corrupt"));
	toc_end = FMT_UZIP_HDRLEN + ((uint64_t)h->nclusters + 1) * 8;
	if (h->image_size < toc_end)
		return (diag_set(d, EINVAL, "uzip hashes file: an image of "
		    "%ju bytes cannot hold the header and TOC of %u clusters "
		    "(%ju bytes): the file is corrupt",
		    (uintmax_t)h->image_size, h->nclusters,
		    (uintmax_t)toc_end));
	h->head = b + FMT_UZHASH_OFS_HEAD;
	h->clusters = b + FMT_UZHASH_HDRLEN;
	return (0);
}

void
fmt_uzhash_encode(uint8_t out[FMT_UZHASH_HDRLEN], uint32_t nclusters,
    uint64_t image_size, const uint8_t head[FMT_UZHASH_LEN])
{
	memcpy(out, FMT_UZHASH_MAGIC, FMT_UZHASH_MAGICLEN);
	lr_be32enc(out + FMT_UZHASH_OFS_VERSION, FMT_UZHASH_VERSION);
	lr_be32enc(out + FMT_UZHASH_OFS_NCL, nclusters);
	lr_be64enc(out + FMT_UZHASH_OFS_ISIZE, image_size);
	memcpy(out + FMT_UZHASH_OFS_HEAD, head, FMT_UZHASH_LEN);
}
