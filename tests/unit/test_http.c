/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_http.c - the response header parser and judge of the HTTP block
 * layer (http.h), without a network: nginx's 206 passes; a 206 of another
 * range, total or length, a missing or repeated Content-Range, a changed
 * or missing ETag or Last-Modified, a 416 naming another size, a 200 to a
 * partial Range, an encoded body, a redirect and 4xx/5xx are each refused
 * with the right code and a message naming the thing; an ETag or header
 * value beyond its bound is malformed, never cut; the shared Content-Range
 * parser of fetch.h takes "bytes * /T" (416) and refuses overflow.
 */
#include <errno.h>

#include <liveroot/fetch.h>
#include <liveroot/http.h>

#include "t.h"

#define ETAG	"\"6b0d6b9a-4e2003\""
#define LM	"Mon, 30 Nov 2026 12:00:00 GMT"

static struct bdev_http_hdr h;
static struct diag d;

/* Parses the lines of text (each ending in \n) as one response. */
static void
parse(const char *text)
{
	const char *p = text, *nl;

	bdev_http_hdr_reset(&h);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		bdev_http_hdr_line(&h, p, (size_t)(nl - p) + 1);
		p = nl + 1;
	}
}

static int
judge(uint64_t size, uint64_t off, uint64_t len)
{
	struct bdev_http_want w = { size, ETAG, LM, off, len };

	diag_clear(&d);
	return (bdev_http_judge(&h, &w, "http://srv/img", &d));
}

static const char *
resp(const char *status, const char *cr, const char *clen, const char *etag,
    const char *lm)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "HTTP/1.1 %s\r\n%s%s%s%s%s%s%s%s"
	    "Server: x\r\n\r\n", status, cr ? "Content-Range: " : "",
	    cr ? cr : "", cr ? "\r\n" : "", clen ? "Content-Length: " : "",
	    clen ? clen : "", clen ? "\r\n" : "", etag ? etag : "",
	    lm ? lm : "");
	return (buf);
}

#define E	"ETag: " ETAG "\r\n"
#define L	"Last-Modified: " LM "\r\n"

static void
test_judge(void)
{
	char big[400];

	parse(resp("206 Partial Content", "bytes 10-29/1000", "20", E, L));
	CHECK_EQ(h.status, 206);
	CHECK_EQ(h.has_cr, 1);
	CHECK_EQ(h.cr_a, 10);
	CHECK_EQ(h.cr_b, 29);
	CHECK_EQ(h.cr_t, 1000);
	CHECK(strcmp(h.etag, ETAG) == 0 && strcmp(h.lm, LM) == 0);
	CHECK_EQ(judge(1000, 10, 20), 0);
	/* the same response asked for another range, or of another size */
	CHECK_EQ(judge(1000, 11, 19), EIO);
	CHECK_MSG(&d, "answered bytes 11-29 with bytes 10-29/1000");
	CHECK_EQ(judge(1001, 10, 20), ESTALE);
	CHECK_MSG(&d, "http://srv/img: the server now serves another file: "
	    "ETag " ETAG " (size 1001) at open, ETag " ETAG " (size 1000) "
	    "now");
	/* a wrong length, no length (chunked: fine), a bad one */
	parse(resp("206 Partial Content", "bytes 10-29/1000", "21", E, L));
	CHECK_EQ(judge(1000, 10, 20), EIO);
	parse(resp("206 Partial Content", "bytes 10-29/1000", NULL, E, L));
	CHECK_EQ(judge(1000, 10, 20), 0);
	parse(resp("206 Partial Content", "bytes 10-29/1000", "-20", E, L));
	CHECK_EQ(h.has_clen, -1);
	CHECK_EQ(judge(1000, 10, 20), EIO);
	/* a 206 without a Content-Range, or with "*" as its total */
	parse(resp("206 Partial Content", NULL, "20", E, L));
	CHECK_EQ(judge(1000, 10, 20), EPROTO);
	parse(resp("206 Partial Content", "bytes 10-29/*", "20", E, L));
	CHECK_EQ(judge(1000, 10, 20), EPROTO);
	/* two Content-Ranges, two lengths that differ */
	parse("HTTP/1.1 206 x\r\nContent-Range: bytes 10-29/1000\r\n"
	    "Content-Range: bytes 10-29/1000\r\n" E L "\r\n");
	CHECK_EQ(h.has_cr, -1);
	CHECK(judge(1000, 10, 20) != 0);
	parse("HTTP/1.1 206 x\r\nContent-Range: bytes 10-29/1000\r\n"
	    "Content-Length: 20\r\nContent-Length: 30\r\n" E L "\r\n");
	CHECK_EQ(h.has_clen, -1);
	CHECK(judge(1000, 10, 20) != 0);
	/* another ETag, none, a repeated one; another Last-Modified */
	parse(resp("206 x", "bytes 10-29/1000", "20",
	    "ETag: \"other\"\r\n", L));
	CHECK_EQ(judge(1000, 10, 20), ESTALE);
	CHECK_MSG(&d, "ETag " ETAG " (size 1000) at open, ETag \"other\" "
	    "(size 1000) now");
	parse(resp("206 x", "bytes 10-29/1000", "20", NULL, L));
	CHECK_EQ(judge(1000, 10, 20), ESTALE);
	CHECK_MSG(&d, "at open, no ETag (size 1000) now");
	parse(resp("206 x", "bytes 10-29/1000", "20", E E, L));
	CHECK_EQ(h.has_etag, -1);
	CHECK_EQ(judge(1000, 10, 20), ESTALE);
	parse(resp("206 x", "bytes 10-29/1000", "20", E,
	    "Last-Modified: Tue, 01 Dec 2026 00:00:00 GMT\r\n"));
	CHECK_EQ(judge(1000, 10, 20), ESTALE);
	/* a 416 naming another size: the file changed */
	parse(resp("416 Requested Range Not Satisfiable", "bytes */400", "0",
	    NULL, NULL));
	CHECK_EQ(h.has_cr, 2);
	CHECK_EQ(judge(1000, 990, 10), ESTALE);
	CHECK_MSG(&d, "(size 1000) at open, no ETag (size 400) now");
	/* 200: only for the whole file */
	parse(resp("200 OK", NULL, "1000", E, L));
	CHECK_EQ(judge(1000, 0, 1000), 0);
	CHECK_EQ(judge(1000, 0, 999), EIO);
	CHECK_MSG(&d, "ignored the Range request for bytes 0-998");
	parse(resp("200 OK", NULL, "999", E, L));
	CHECK_EQ(judge(1000, 0, 1000), ESTALE);
	/* statuses */
	parse(resp("503 Busy", NULL, "0", NULL, NULL));
	CHECK_EQ(judge(1000, 0, 10), EAGAIN);
	parse(resp("429 Slow down", NULL, "0", NULL, NULL));
	CHECK_EQ(judge(1000, 0, 10), EAGAIN);
	parse(resp("404 Not Found", NULL, "0", NULL, NULL));
	CHECK_EQ(judge(1000, 0, 10), ENOENT);
	CHECK_MSG(&d, "the file is no longer on the server");
	parse(resp("403 Forbidden", NULL, "0", NULL, NULL));
	CHECK_EQ(judge(1000, 0, 10), EACCES);
	parse(resp("302 Found", NULL, "0", NULL, NULL));
	CHECK_EQ(judge(1000, 0, 10), EIO);
	CHECK_MSG(&d, "now redirects");
	/* an encoded range */
	parse("HTTP/1.1 206 x\r\nContent-Range: bytes 10-29/1000\r\n"
	    "Content-Encoding: gzip\r\n" E L "\r\n");
	CHECK_EQ(judge(1000, 10, 20), EPROTO);
	parse("HTTP/1.1 206 x\r\nContent-Range: bytes 10-29/1000\r\n"
	    "Content-Encoding: identity\r\n" E L "\r\n");
	CHECK_EQ(judge(1000, 10, 20), 0);
	/* an interim 100, then HTTP/2's status line, lower-case names */
	parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/2 206 \r\n"
	    "content-range: bytes 10-29/1000\r\netag: " ETAG "\r\n"
	    "last-modified: " LM "\r\n\r\n");
	CHECK_EQ(h.status, 206);
	CHECK_EQ(judge(1000, 10, 20), 0);
	/* a header that has not ended is not judged as a whole */
	parse("HTTP/1.1 206 x\r\nContent-Range: bytes 10-29/1000\r\n" E L);
	CHECK_EQ(judge(1000, 10, 20), EPROTO);
	/* a request outside the file */
	parse(resp("206 x", "bytes 10-29/1000", "20", E, L));
	CHECK_EQ(judge(1000, 990, 20), EINVAL);
	CHECK_EQ(judge(1000, 0, 0), EINVAL);
	/* an ETag or a Content-Range longer than their bounds: malformed */
	memset(big, 'a', sizeof(big));
	snprintf(big, sizeof(big), "HTTP/1.1 206 x\r\nETag: \"%0*d\"\r\n\r\n",
	    BDEV_HTTP_TAGLEN - 2, 0);
	parse(big);
	CHECK_EQ(h.has_etag, -1);
	CHECK_EQ(h.etag[0], '\0');
	snprintf(big, sizeof(big), "HTTP/1.1 206 x\r\nETag: \"%0*d\"\r\n\r\n",
	    BDEV_HTTP_TAGLEN - 3, 0);
	parse(big);
	CHECK_EQ(h.has_etag, 1);
	CHECK_EQ(strlen(h.etag), BDEV_HTTP_TAGLEN - 1);
	snprintf(big, sizeof(big), "HTTP/1.1 206 x\r\nContent-Range: bytes "
	    "%090d-1/2\r\n\r\n", 0);
	parse(big);
	CHECK_EQ(h.has_cr, -1);
	parse("HTTP/1.1 206 x\r\nETag: \"a b\"\r\nLast-Modified: x\001\r\n\r\n");
	CHECK_EQ(h.has_etag, -1);
	CHECK_EQ(h.has_lm, -1);
	parse("HTTP/1.1 206 x\r\nETag: W/\"weak\"\r\n\r\n");
	CHECK(h.has_etag == 1 && strcmp(h.etag, "W/\"weak\"") == 0);
	/* broken status lines */
	parse("HTTP/1.1 20\r\n\r\n");
	CHECK_EQ(h.status, -1);
	parse("HTTP/1.1 2066 x\r\n\r\n");
	CHECK_EQ(h.status, -1);
}

static void
test_content_range(void)
{
	uint64_t a, b, t, v;

	CHECK_EQ(net_http_content_range(" bytes 0-0/1", &a, &b, &t), 0);
	CHECK(a == 0 && b == 0 && t == 1);
	CHECK_EQ(net_http_content_range("bytes */77 ", &a, &b, &t), 1);
	CHECK_EQ(t, 77);
	CHECK_EQ(net_http_content_range("bytes 1-2/*", &a, &b, &t), 0);
	CHECK_EQ(t, 0);
	CHECK_EQ(net_http_content_range("bytes 1-2/0", &a, &b, &t), -1);
	CHECK_EQ(net_http_content_range("bytes */*", &a, &b, &t), -1);
	CHECK_EQ(net_http_content_range("bytes 1-18446744073709551616/3", &a,
	    &b, &t), -1);
	CHECK_EQ(net_http_content_range("items 1-2/3", &a, &b, &t), -1);
	CHECK_EQ(net_http_content_range("bytes 1-2/3x", &a, &b, &t), -1);
	CHECK_EQ(net_http_number(" 42 ", &v), 0);
	CHECK_EQ(v, 42);
	CHECK_EQ(net_http_number("4 2", &v), -1);
	CHECK_EQ(net_http_number("", &v), -1);
	CHECK_EQ(net_http_final(404), 1);
	CHECK_EQ(net_http_final(408), 0);
	CHECK_EQ(net_http_final(503), 0);
}

int
main(void)
{
	test_judge();
	test_content_range();
	return (t_done());
}
