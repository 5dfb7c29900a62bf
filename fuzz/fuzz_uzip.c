/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_uzip.c - the uzip header/TOC parser on the raw input (exact-size
 * buffers), then the read layer: a bdev_uzip over the input held in a mem
 * bdev, reading the start of every cluster (bounded, so a crafted TOC of
 * many 1 MiB clusters cannot make one input slow) and a sequential stretch
 * with read-ahead workers.  Any result is fine; a crash, a leak or an
 * over-read is not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/bdev.h>
#include <liveroot/fmt_uzip.h>
#include <liveroot/uzip.h>

#define FZ_MAXREADS	64

static void
fz_parse(const uint8_t *data, size_t size)
{
	struct fmt_uzip_hdr h;
	struct fmt_uzip_cluster *cl;
	struct fmt_uzip_tocinfo ti;
	struct diag d;
	uint8_t *hb, *tb;

	(void)fmt_uzip_probe(data, size);
	if (size < FMT_UZIP_HDRLEN)
		return;
	hb = malloc(FMT_UZIP_HDRLEN);
	memcpy(hb, data, FMT_UZIP_HDRLEN);
	if (fmt_uzip_header(hb, FMT_UZIP_HDRLEN, size, &h, &d) == 0) {
		tb = malloc(h.toc_len);
		cl = calloc(h.nblocks + 1, sizeof(*cl));
		memcpy(tb, data + h.toc_off, h.toc_len);
		(void)fmt_uzip_toc(&h, tb, h.toc_len, size, cl, &ti, &d);
		free(tb);
		free(cl);
	}
	free(hb);
}

static void
fz_read(const uint8_t *data, size_t size, unsigned workers)
{
	struct bdev_uzip_opts uo = { 4, workers };
	struct fmt_uzip_hdr h;
	struct bdev *m, *u;
	struct diag d;
	uint8_t *copy, buf[700];
	uint64_t i, off;

	if ((copy = malloc(size ? size : 1)) == NULL)
		return;
	memcpy(copy, data, size);
	if (bdev_mem_adopt(copy, size, 0, &m, &d) != 0) {
		free(copy);
		return;
	}
	if (bdev_uzip_new(m, &uo, &u, &d) != 0) {
		bdev_destroy(m);
		return;
	}
	bdev_uzip_info(u, &h, NULL);
	for (i = 0; i < h.nblocks && i < FZ_MAXREADS; i++) {
		off = i * h.blksz + (i * 131) % h.blksz;
		if (off + sizeof(buf) > u->size)
			continue;
		(void)bdev_read(u, buf, sizeof(buf), off, &d);
	}
	/* A sequential stretch (read-ahead when workers > 1). */
	for (off = 0; off + sizeof(buf) <= u->size && off < 16 * 1024;
	    off += sizeof(buf))
		(void)bdev_read(u, buf, sizeof(buf), off, &d);
	bdev_destroy(u);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_parse(data, size);
	fz_read(data, size, size % 3 == 0 ? 2 : 1);
	return (0);
}
