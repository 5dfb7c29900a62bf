/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_http.c - the response header parser and judge of the HTTP block
 * layer (http.h) on hostile bytes: the input, cut at each '\n', is fed line
 * by line (exact-size spans, no NUL after them) to bdev_http_hdr_line, as
 * libcurl would.  After every line the parser's promises are checked: ETag
 * and Last-Modified NUL-terminated inside their arrays, a kept ETag quoted,
 * a kept Content-Range ordered (a <= b < total) and within INT64_MAX.  At
 * the end, the header is judged against the identity it names itself and
 * against a fixed one; a judge that lets a response through must have seen
 * exactly the range, size, ETag and length asked for.  A broken promise
 * aborts (a finding); any other result is fine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/http.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_hdr(const struct bdev_http_hdr *h)
{
	if (memchr(h->etag, '\0', sizeof(h->etag)) == NULL ||
	    memchr(h->lm, '\0', sizeof(h->lm)) == NULL)
		abort();
	if (h->has_etag == 1 && h->etag[0] != '"' &&
	    strncmp(h->etag, "W/\"", 3) != 0)
		abort();
	if (h->has_etag != 1 && h->etag[0] != '\0')
		abort();
	if (h->has_cr == 1 && (h->cr_a > h->cr_b || (h->cr_t != 0 &&
	    h->cr_b >= h->cr_t) || h->cr_t > INT64_MAX))
		abort();
	if (h->has_clen == 1 && h->clen > INT64_MAX)
		abort();
}

static void
judge(const struct bdev_http_hdr *h, const struct bdev_http_want *w)
{
	struct diag d;
	int e;

	diag_clear(&d);
	e = bdev_http_judge(h, w, "http://fuzz/x", &d);
	if (memchr(d.msg, '\0', sizeof(d.msg)) == NULL)
		abort();
	if (e != 0)
		return;
	if (h->encoded || !h->ended)
		abort();
	if (w->etag != NULL && w->etag[0] != '\0' &&
	    (h->has_etag != 1 || strcmp(h->etag, w->etag) != 0))
		abort();
	if (w->lm != NULL && w->lm[0] != '\0' &&
	    (h->has_lm != 1 || strcmp(h->lm, w->lm) != 0))
		abort();
	if (h->status == 206) {
		if (h->has_cr != 1 || h->cr_a != w->off ||
		    h->cr_b != w->off + w->len - 1 || h->cr_t != w->size ||
		    h->has_clen < 0 || (h->has_clen == 1 && h->clen != w->len))
			abort();
	} else if (h->status == 200) {
		if (w->off != 0 || w->len != w->size || h->has_clen != 1 ||
		    h->clen != w->size)
			abort();
	} else
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bdev_http_hdr h;
	struct bdev_http_want w;
	const uint8_t *p = data, *nl;
	size_t left = size, n;

	bdev_http_hdr_reset(&h);
	while (left > 0) {
		nl = memchr(p, '\n', left);
		n = nl != NULL ? (size_t)(nl - p) + 1 : left;
		bdev_http_hdr_line(&h, (const char *)p, n);
		check_hdr(&h);
		p += n;
		left -= n;
	}
	/* against the identity the header names */
	if (h.has_cr == 1 && h.cr_t != 0) {
		w.size = h.cr_t;
		w.etag = h.etag;
		w.lm = h.lm;
		w.off = h.cr_a;
		w.len = h.cr_b - h.cr_a + 1;
		judge(&h, &w);
		w.off = h.cr_a + 1 < h.cr_t ? h.cr_a + 1 : 0;
		w.len = 1;
		judge(&h, &w);
	}
	/* against a fixed one */
	w.size = 1000;
	w.etag = "\"abc\"";
	w.lm = "";
	w.off = 10;
	w.len = 20;
	judge(&h, &w);
	w.etag = NULL;
	w.lm = "Mon, 30 Nov 2026 12:00:00 GMT";
	w.off = 0;
	w.len = 1000;
	judge(&h, &w);
	return (0);
}
