/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_uzip_hashes.c - IMAGE.hashes (fmt_uzip_hashes.h).  The input is
 * parsed whole as a hashes file (on an exact-size copy), then read as
 * "4-byte big-endian length k, k bytes of hashes file, a uzip image": a
 * bdev_uzip over the image in a mem bdev opens with that hashes buffer and
 * reads the start of a bounded number of clusters, so every refusal at
 * open and every cluster check runs on crafted pairs.  Any result is
 * fine; a crash, a leak or an over-read is not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/bdev.h>
#include <liveroot/fmt_uzip_hashes.h>
#include <liveroot/util.h>
#include <liveroot/uzip.h>

#define FZ_MAXREADS	32

static void
fz_parse(const uint8_t *data, size_t size)
{
	struct fmt_uzhash h;
	struct diag d;
	uint8_t *c;
	uint32_t i;

	if ((c = malloc(size ? size : 1)) == NULL)
		return;
	memcpy(c, data, size);
	(void)fmt_uzhash_probe(c, size);
	if (fmt_uzhash_parse(c, size, &h, &d) == 0) {
		/* every entry is inside the buffer: touch the last byte */
		for (i = 0; i < h.nclusters; i++)
			(void)fmt_uzhash_cluster(&h, i)[FMT_UZHASH_LEN - 1];
		(void)h.head[FMT_UZHASH_LEN - 1];
	}
	free(c);
}

static void
fz_pair(const uint8_t *data, size_t size)
{
	struct bdev_uzip_opts uo = { .cache_clusters = 4, .workers = 1,
	    .hashes_name = "fuzz.hashes" };
	struct fmt_uzip_hdr hdr;
	struct bdev *m, *u;
	struct diag d;
	uint8_t *hcopy, *icopy, buf[512];
	size_t k, ilen;
	uint64_t i, off;

	if (size < 4)
		return;
	k = lr_be32dec(data);
	if (k > size - 4)
		return;
	ilen = size - 4 - k;
	hcopy = malloc(k ? k : 1);
	icopy = malloc(ilen ? ilen : 1);
	if (hcopy == NULL || icopy == NULL) {
		free(hcopy);
		free(icopy);
		return;
	}
	memcpy(hcopy, data + 4, k);
	memcpy(icopy, data + 4 + k, ilen);
	uo.hashes = hcopy;
	uo.hashes_len = k;
	if (bdev_mem_adopt(icopy, ilen, 0, &m, &d) != 0) {
		free(icopy);
		free(hcopy);
		return;
	}
	if (bdev_uzip_new(m, &uo, &u, &d) != 0) {
		bdev_destroy(m);
		free(hcopy);
		return;
	}
	free(hcopy);		/* borrowed for the open only */
	bdev_uzip_info(u, &hdr, NULL);
	for (i = 0; i < hdr.nblocks && i < FZ_MAXREADS; i++) {
		off = i * hdr.blksz;
		if (off + sizeof(buf) > u->size)
			continue;
		(void)bdev_read(u, buf, sizeof(buf), off, &d);
	}
	bdev_destroy(u);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_parse(data, size);
	fz_pair(data, size);
	return (0);
}
