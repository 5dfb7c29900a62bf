/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http.c - a read-only bdev over a remote file, read with HTTP Range
 * requests through libcurl; see http.h.
 *
 * Shape: a pool of `nconn` connections (struct conn), each a libcurl easy
 * handle with its own kept-alive connection and the state of the one request
 * it runs.  A read takes a free connection (waiting on `cv` when all are
 * busy), runs its attempts on it, and gives it back; reads on different
 * connections run in parallel, outside the lock.  Open runs on conn[0].
 *
 * Per response, on_header() feeds every header line to the parser
 * (bdev_http_hdr_line) and, at the blank line that ends a final response,
 * judges it once (bdev_http_judge, or probe_judge() at open) before any body
 * byte is kept: a response of another version of the file, of another
 * range, or of another kind stops the transfer there.  on_data() then puts
 * exactly the bytes asked for into the caller's buffer, never more.
 *
 * Invariants of a read of [off, off + len): the bytes [off, off + got) are in
 * the buffer, each from a 206 judged against the identity pinned at open;
 * an attempt asks [off + got, off + len) only.  A callback that stops a
 * transfer sets code and msg, and final when another attempt cannot help.
 * Once a response shows another version, `stale` is set (under the lock)
 * and every read fails with the same message: never a device of two files.
 *
 * Locking: mtx guards the pool's busy flags, the stats and the stale
 * message.  The identity, the final URL and the options are set at open and
 * read-only afterwards.  A conn is used by one thread at a time (the one
 * that took it).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <liveroot/fetch.h>
#include <liveroot/http.h>
#include <liveroot/os.h>
#include <liveroot/util.h>

#define DISP_LEN	120	/* a URL in a message, redacted */
#define BACKOFF_MAX_MS	8000

struct bdev_http;

struct conn {
	struct bdev_http	*h;
	CURL			*c;
	int			 busy;
	/* the request on this connection */
	int			 probe;		/* open's request: no body kept */
	uint8_t			*buf;
	uint64_t		 off, len, got;	/* the read and its progress */
	uint64_t		 body;		/* bytes of this response */
	int			 judged;	/* the header passed */
	int			 code;		/* a callback stopped the transfer */
	int			 final;
	char			 msg[DIAG_MSGLEN];
	char			 cur[DISP_LEN];	/* the URL of this request */
	char			 range[48];
	char			 errbuf[CURL_ERROR_SIZE];
	struct bdev_http_hdr	 hdr;
};

struct bdev_http {
	struct bdev		 b;
	/* set at open, read-only afterwards */
	char			*url;		/* the final URL */
	char			*ca_file, *agent;
	char			 url0[DISP_LEN];	/* the URL asked for */
	char			 disp[DISP_LEN];	/* the final one */
	char			 etag[BDEV_HTTP_TAGLEN];
	char			 lm[BDEV_HTTP_DATELEN];
	unsigned		 redirects;
	unsigned		 window, min_speed, open_s, read_s, retries;
	unsigned		 backoff_ms;
	void			(*log)(const char *, void *);
	void			*arg;
	unsigned		 nconn;
	struct conn		*conn;
	/* under mtx */
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cv;
	struct bdev_http_stats	 st;
	char			 stale_msg[DIAG_MSGLEN];
};

static const struct bdev_ops http_ops;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
logf_(struct bdev_http *h, const char *fmt, ...) LR_PRINTF(2, 3);

static void
logf_(struct bdev_http *h, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (h->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	h->log(msg, h->arg);
}

static int
is_scheme(const char *url, const char *scheme)
{
	return (strncasecmp(url, scheme, strlen(scheme)) == 0);
}

/* --- the header parser ----------------------------------------------------- */

void
bdev_http_hdr_reset(struct bdev_http_hdr *h)
{
	memset(h, 0, sizeof(*h));
}

/* "HTTP/x[.y] NNN[ reason]" -> NNN, or -1. */
static long
status_line(const char *p, size_t len)
{
	size_t i = 5;
	long v = 0;
	int k;

	while (i < len && i < 16 && p[i] != ' ')
		i++;
	if (i >= len || p[i] != ' ' || i == 5)
		return (-1);
	i++;
	for (k = 0; k < 3; k++, i++) {
		if (i >= len || p[i] < '0' || p[i] > '9')
			return (-1);
		v = v * 10 + (p[i] - '0');
	}
	if ((i < len && p[i] != ' ') || v < 100)
		return (-1);
	return (v);
}

/* Copies a value of at most cap - 1 bytes into a NUL-terminated buffer. */
static int
value_copy(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		return (-1);
	memcpy(dst, v, n);
	dst[n] = '\0';
	return (0);
}

/* [W/]"etagc*" with etagc = %x21 / %x23-7E (RFC 9110 8.8.3; no obs-text) */
static int
etag_ok(const char *v, size_t n)
{
	size_t i = 0;

	if (n >= 2 && v[0] == 'W' && v[1] == '/')
		i = 2;
	if (n - i < 2 || v[i] != '"' || v[n - 1] != '"')
		return (0);
	for (i++; i < n - 1; i++)
		if (v[i] < 0x21 || v[i] > 0x7e || v[i] == '"')
			return (0);
	return (1);
}

static int
printable(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return (0);
	return (1);
}

static int
name_is(const char *p, size_t n, const char *name)
{
	return (n == strlen(name) && strncasecmp(p, name, n) == 0);
}

/* Whether the comma-separated list v holds the token tok. */
static int
has_token(const char *v, size_t n, const char *tok)
{
	size_t i = 0, s, e, tl = strlen(tok);

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return (1);
	}
	return (0);
}

void
bdev_http_hdr_line(struct bdev_http_hdr *h, const char *p, size_t len)
{
	char tmp[96];
	const char *v;
	size_t n, vn;
	uint64_t u = 0;
	int r;

	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		bdev_http_hdr_reset(h);
		h->status = status_line(p, len);
		return;
	}
	if (h->status == 0 || h->ended)
		return;		/* no response yet, or a trailer */
	if (len == 0) {
		h->ended = 1;
		return;
	}
	for (n = 0; n < len && p[n] != ':'; n++)
		;
	if (n == len)
		return;		/* not a field */
	v = p + n + 1;
	vn = len - n - 1;
	while (vn > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vn--;
	}
	while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	if (name_is(p, n, "Content-Length")) {
		r = value_copy(tmp, sizeof(tmp), v, vn) == 0 &&
		    net_http_number(tmp, &u) == 0 && u <= INT64_MAX ? 1 : -1;
		if (h->has_clen != 0 && (r < 0 || u != h->clen))
			h->has_clen = -1;	/* two lengths */
		else if (h->has_clen == 0) {
			h->has_clen = r;
			h->clen = r > 0 ? u : 0;
		}
	} else if (name_is(p, n, "Content-Range")) {
		r = -1;
		if (h->has_cr == 0 && value_copy(tmp, sizeof(tmp), v, vn) == 0)
			r = net_http_content_range(tmp, &h->cr_a, &h->cr_b,
			    &h->cr_t);
		if (r == 0 && (h->cr_b < h->cr_a || (h->cr_t != 0 &&
		    h->cr_b >= h->cr_t) || h->cr_t > INT64_MAX))
			r = -1;
		if (r == 1 && (h->cr_t > INT64_MAX))
			r = -1;
		h->has_cr = r == 0 ? 1 : r == 1 ? 2 : -1;
		if (h->has_cr < 0)
			h->cr_a = h->cr_b = h->cr_t = 0;
	} else if (name_is(p, n, "ETag")) {
		if (h->has_etag == 0 && etag_ok(v, vn) &&
		    value_copy(h->etag, sizeof(h->etag), v, vn) == 0)
			h->has_etag = 1;
		else {
			h->has_etag = -1;
			h->etag[0] = '\0';
		}
	} else if (name_is(p, n, "Last-Modified")) {
		if (h->has_lm == 0 && vn > 0 && printable(v, vn) &&
		    value_copy(h->lm, sizeof(h->lm), v, vn) == 0)
			h->has_lm = 1;
		else {
			h->has_lm = -1;
			h->lm[0] = '\0';
		}
	} else if (name_is(p, n, "Accept-Ranges")) {
		if (has_token(v, vn, "bytes"))
			h->ranges = 1;
		else if (has_token(v, vn, "none"))
			h->ranges = -1;
	} else if (name_is(p, n, "Content-Encoding")) {
		if (vn != 8 || strncasecmp(v, "identity", 8) != 0)
			h->encoded = 1;
	}
}

/* --- judging a response ---------------------------------------------------- */

/* One version of the file for a message: `ETag "x" (size N)`. */
static void
version(char *buf, size_t len, const struct bdev_http_want *w, int has_etag,
    const char *etag, int has_lm, const char *lm, int has_size, uint64_t size)
{
	char sz[40];

	if (has_size)
		snprintf(sz, sizeof(sz), "size %ju", (uintmax_t)size);
	else
		snprintf(sz, sizeof(sz), "size not given");
	if (w->etag != NULL && w->etag[0] != '\0') {
		if (has_etag)
			snprintf(buf, len, "ETag %.60s (%s)", etag, sz);
		else
			snprintf(buf, len, "no ETag (%s)", sz);
	} else if (w->lm != NULL && w->lm[0] != '\0') {
		if (has_lm)
			snprintf(buf, len, "Last-Modified %.40s (%s)", lm, sz);
		else
			snprintf(buf, len, "no Last-Modified (%s)", sz);
	} else
		snprintf(buf, len, "%s", sz);
}

/*
 * The identity of a response against the pinned one; ESTALE naming both.
 * Only a 2xx says which version it is; an error status (416) only its size.
 */
static int
same_file(const struct bdev_http_hdr *h, const struct bdev_http_want *w,
    const char *url, struct diag *d)
{
	char then[112], now[112];
	uint64_t size = 0;
	int has_size = 0, ok = 1;

	if (h->status == 206 && h->has_cr == 1 && h->cr_t != 0) {
		size = h->cr_t;
		has_size = 1;
	} else if (h->status == 416 && h->has_cr == 2) {
		size = h->cr_t;
		has_size = 1;
	} else if (h->status == 200 && h->has_clen == 1) {
		size = h->clen;
		has_size = 1;
	}
	if (has_size && size != w->size)
		ok = 0;
	if (h->status >= 200 && h->status < 300) {
		if (w->etag != NULL && w->etag[0] != '\0' &&
		    (h->has_etag != 1 || strcmp(h->etag, w->etag) != 0))
			ok = 0;
		if (w->lm != NULL && w->lm[0] != '\0' &&
		    (h->has_lm != 1 || strcmp(h->lm, w->lm) != 0))
			ok = 0;
	}
	if (ok)
		return (0);
	version(then, sizeof(then), w, 1, w->etag, 1, w->lm, 1, w->size);
	version(now, sizeof(now), w, h->has_etag == 1, h->etag,
	    h->has_lm == 1, h->lm, has_size, size);
	return (diag_set(d, ESTALE, "%s: the server now serves another file: "
	    "%s at open, %s now; the image changed while in use: restart "
	    "with the new image, or put the old file back", url, then, now));
}

int
bdev_http_judge(const struct bdev_http_hdr *h,
    const struct bdev_http_want *w, const char *url, struct diag *d)
{
	char lenbuf[32];
	uint64_t last;
	int e;

	if (w->len == 0 || !lr_range_ok(w->off, w->len, w->size))
		return (diag_set(d, EINVAL, "%s: bytes %ju+%ju asked of a file "
		    "of %ju", url, (uintmax_t)w->off, (uintmax_t)w->len,
		    (uintmax_t)w->size));
	last = w->off + w->len - 1;
	if (!h->ended || h->status < 200)
		return (diag_set(d, EPROTO, "%s: the response to bytes "
		    "%ju-%ju ended in its header: fix the server", url,
		    (uintmax_t)w->off, (uintmax_t)last));
	if (h->status >= 500 || h->status == 408 || h->status == 429)
		return (diag_set(d, EAGAIN, "HTTP %ld", h->status));
	if ((e = same_file(h, w, url, d)) != 0)
		return (e);
	if (h->status >= 300 && h->status < 400)
		return (diag_set(d, EIO, "%s now redirects (HTTP %ld) where it "
		    "answered at open: the server changed; restart with the "
		    "image's final URL", url, h->status));
	if (h->status == 404)
		return (diag_set(d, ENOENT, "HTTP 404 for %s: the file is no "
		    "longer on the server; put it back, or restart with the "
		    "new image", url));
	if (h->status >= 400)
		return (diag_set(d, EACCES, "HTTP %ld for bytes %ju-%ju of %s: "
		    "the server refused the request; check the server", h->status,
		    (uintmax_t)w->off, (uintmax_t)last, url));
	if (h->encoded)
		return (diag_set(d, EPROTO, "%s sent bytes %ju-%ju with a "
		    "Content-Encoding: a range of an encoded body is not the "
		    "file's; make the server send it as is", url,
		    (uintmax_t)w->off, (uintmax_t)last));
	if (h->status == 200) {
		if (w->off == 0 && w->len == w->size && h->has_clen == 1 &&
		    h->clen == w->size)
			return (0);	/* the whole file was asked */
		return (diag_set(d, EIO, "%s ignored the Range request for "
		    "bytes %ju-%ju (HTTP 200, the whole file): the server no "
		    "longer serves ranges; fix it, or download the image whole",
		    url, (uintmax_t)w->off, (uintmax_t)last));
	}
	if (h->status != 206)
		return (diag_set(d, EPROTO, "%s answered HTTP %ld to a Range "
		    "request: fix the server", url, h->status));
	if (h->has_cr != 1 || h->cr_t == 0)
		return (diag_set(d, EPROTO, "%s answered bytes %ju-%ju with 206 "
		    "but no valid Content-Range of a known size: fix the "
		    "server", url, (uintmax_t)w->off, (uintmax_t)last));
	if (h->cr_a != w->off || h->cr_b != last || h->has_clen < 0 ||
	    (h->has_clen == 1 && h->clen != w->len)) {
		if (h->has_clen == 1)
			snprintf(lenbuf, sizeof(lenbuf), "%ju bytes",
			    (uintmax_t)h->clen);
		else
			snprintf(lenbuf, sizeof(lenbuf), "%s", h->has_clen ?
			    "a bad length" : "no length");
		return (diag_set(d, EIO, "%s answered bytes %ju-%ju with bytes "
		    "%ju-%ju/%ju (%s): not the range asked for; fix the server "
		    "(or the proxy before it)", url, (uintmax_t)w->off,
		    (uintmax_t)last, (uintmax_t)h->cr_a, (uintmax_t)h->cr_b,
		    (uintmax_t)h->cr_t, lenbuf));
	}
	return (0);
}

/* --- one request ----------------------------------------------------------- */

static int
conn_stop(struct conn *c, int final, int code, const char *msg)
{
	lr_scopy(c->msg, sizeof(c->msg), msg);
	c->code = code;
	c->final = final;
	return (code);
}

/*
 * Open's request of byte 0: a 206 of "bytes 0-0/SIZE" pins the file; a 200
 * says the server does not serve ranges.  Redirects and retryable statuses
 * are left to the caller.
 */
static int
probe_judge(struct conn *c)
{
	struct bdev_http_hdr *hd = &c->hdr;
	struct diag d;

	diag_clear(&d);
	if ((hd->status == 416 && hd->has_cr == 2 && hd->cr_t == 0) ||
	    (hd->status == 200 && hd->has_clen == 1 && hd->clen == 0)) {
		diag_set(&d, EINVAL, "%s is empty (0 bytes): check the server's "
		    "file", c->cur);
		return (conn_stop(c, 1, d.code, d.msg));
	}
	if (hd->status == 200) {
		diag_set(&d, ENOTSUP, "%s does not serve ranges: it answered "
		    "a request for byte 0 with the whole file (HTTP 200%s); "
		    "it can only be downloaded whole", c->cur, hd->ranges < 0 ?
		    ", Accept-Ranges: none" : "");
		return (conn_stop(c, 1, d.code, d.msg));
	}
	if (hd->status != 206)
		return (0);	/* judged by status after the transfer */
	if (hd->encoded) {
		diag_set(&d, EPROTO, "%s sends its ranges with a "
		    "Content-Encoding: a range of an encoded body is not the "
		    "file's; make the server send it as is", c->cur);
		return (conn_stop(c, 1, d.code, d.msg));
	}
	if (hd->has_cr != 1 || hd->cr_a != 0 || hd->cr_b != 0 ||
	    hd->cr_t == 0 || hd->has_clen < 0 || (hd->has_clen == 1 &&
	    hd->clen != 1)) {
		diag_set(&d, EPROTO, "%s answered a request for byte 0 with "
		    "206 but not with \"Content-Range: bytes 0-0/SIZE\" and 1 "
		    "byte: fix the server", c->cur);
		return (conn_stop(c, 1, d.code, d.msg));
	}
	c->judged = 1;
	return (0);
}

/* The header of a final response of a read, before its body. */
static int
read_judge(struct conn *c)
{
	struct bdev_http *h = c->h;
	struct bdev_http_want w = { h->b.size, h->etag, h->lm,
	    c->off + c->got, c->len - c->got };
	struct diag d;
	int e;

	diag_clear(&d);
	if ((e = bdev_http_judge(&c->hdr, &w, h->disp, &d)) == 0) {
		c->judged = 1;
		return (0);
	}
	return (conn_stop(c, e != EAGAIN, e, d.msg));
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct conn *c = arg;
	size_t len = sz * n;
	long st;

	bdev_http_hdr_line(&c->hdr, p, len);
	if (!c->hdr.ended)
		return (len);
	st = c->hdr.status;
	if (st >= 100 && st < 200)
		return (len);		/* an interim response; the next follows */
	if (c->probe) {
		if (st >= 300 && st < 400)
			return (len);	/* request() follows it */
		return (probe_judge(c) == 0 ? len : 0);
	}
	return (read_judge(c) == 0 ? len : 0);
}

static size_t
on_data(char *p, size_t sz, size_t n, void *arg)
{
	struct conn *c = arg;
	size_t len = sz * n;
	char m[DIAG_MSGLEN];

	if (c->probe) {
		if (!c->judged)
			return (len);	/* a redirect's or an error's body */
		if (c->body + len > 1) {
			snprintf(m, sizeof(m), "%s sent more than the 1 byte "
			    "asked for: fix the server", c->cur);
			conn_stop(c, 1, EIO, m);
			return (0);
		}
		c->body += len;
		return (len);
	}
	if (!c->judged) {
		snprintf(m, sizeof(m), "%s sent a body before a complete "
		    "header: fix the server", c->cur);
		conn_stop(c, 1, EPROTO, m);
		return (0);
	}
	if (len > c->len - c->got) {
		snprintf(m, sizeof(m), "%s sent more than the %ju bytes asked "
		    "for at %ju: fix the server", c->cur,
		    (uintmax_t)(c->len - (c->got - c->body)),
		    (uintmax_t)(c->off + c->got - c->body));
		conn_stop(c, 1, EIO, m);
		return (0);
	}
	memcpy(c->buf + c->got, p, len);
	c->got += len;
	c->body += len;
	return (len);
}

/* Options a handle keeps for all its requests. */
static void
conn_setup(struct bdev_http *h, struct conn *c)
{
	curl_easy_setopt(c->c, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->c, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c->c, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(c->c, CURLOPT_LOW_SPEED_LIMIT, (long)h->min_speed);
	curl_easy_setopt(c->c, CURLOPT_LOW_SPEED_TIME, (long)h->window);
	curl_easy_setopt(c->c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->c, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->c, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->c, CURLOPT_USERAGENT,
	    h->agent != NULL ? h->agent : "liveroot");
	if (h->ca_file != NULL)
		curl_easy_setopt(c->c, CURLOPT_CAINFO, h->ca_file);
}

/* One request of [from, to] on c, within deadline; the outcome is in c and
 * the returned libcurl code. */
static CURLcode
conn_perform(struct bdev_http *h, struct conn *c, uint64_t from, uint64_t to,
    double deadline)
{
	double left = deadline - os_now_s();
	long ms = left > 0.001 ? (long)(left * 1000) : 1;
	CURLcode cc;

	bdev_http_hdr_reset(&c->hdr);
	c->judged = 0;
	c->code = 0;
	c->final = 0;
	c->msg[0] = '\0';
	c->errbuf[0] = '\0';
	c->body = 0;
	snprintf(c->range, sizeof(c->range), "%ju-%ju", (uintmax_t)from,
	    (uintmax_t)to);
	curl_easy_setopt(c->c, CURLOPT_RANGE, c->range);
	curl_easy_setopt(c->c, CURLOPT_CONNECTTIMEOUT_MS,
	    LR_MIN((long)h->window * 1000, ms));
	curl_easy_setopt(c->c, CURLOPT_TIMEOUT_MS, ms);
	cc = curl_easy_perform(c->c);
	pthread_mutex_lock(&h->mtx);
	h->st.requests++;
	if (!c->probe)
		h->st.bytes += c->body;
	pthread_mutex_unlock(&h->mtx);
	return (cc);
}

#define OUT_RETRY	(-1)	/* c->msg says why */
#define OUT_STATUS	(-2)	/* open: a status for probe() to judge */

/* An attempt's outcome: 0 done, OUT_RETRY, OUT_STATUS, or a final error in
 * d. */
static int
outcome(struct bdev_http *h, struct conn *c, CURLcode cc, double deadline,
    struct diag *d)
{
	char host[DISP_LEN];
	const char *s;

	if (c->code != 0) {
		if (c->final)
			return (diag_set(d, c->code, "%s", c->msg));
		return (OUT_RETRY);
	}
	if (cc == CURLE_OK) {
		if (c->hdr.status >= 100 && !c->judged) {
			/* a response without a body: judged here */
			if (c->probe) {
				if (probe_judge(c) != 0)
					return (diag_set(d, c->code, "%s",
					    c->msg));
				if (!c->judged)
					return (OUT_STATUS);
			} else if (read_judge(c) != 0)
				return (c->final ? diag_set(d, c->code, "%s",
				    c->msg) : OUT_RETRY);
		}
		if (!c->judged) {
			snprintf(c->msg, sizeof(c->msg), "no HTTP response");
			return (OUT_RETRY);
		}
		if (c->probe ? c->body == 1 : c->got == c->len)
			return (0);
		snprintf(c->msg, sizeof(c->msg), "the connection closed after "
		    "%ju of the %ju bytes at %ju", (uintmax_t)c->got,
		    (uintmax_t)c->len, (uintmax_t)c->off);
		return (OUT_RETRY);
	}
	if (net_curl_tls_error((int)cc)) {
		s = strstr(c->cur, "://");
		s = s != NULL ? s + 3 : c->cur;
		snprintf(host, sizeof(host), "%.*s", (int)strcspn(s, "/"), s);
		return (diag_set(d, EACCES, "%s: cannot verify the TLS "
		    "certificate of %s (%s): give the CA that signed it",
		    c->cur, host, c->errbuf[0] ? c->errbuf :
		    curl_easy_strerror(cc)));
	}
	if (cc == CURLE_OPERATION_TIMEDOUT && os_now_s() >= deadline - 0.01) {
		snprintf(c->msg, sizeof(c->msg), "timed out");
		return (OUT_RETRY);
	}
	snprintf(c->msg, sizeof(c->msg), "%s", c->errbuf[0] ? c->errbuf :
	    curl_easy_strerror(cc));
	return (OUT_RETRY);
}

/* Waits before attempt n (1...) within the bound: 0, or 1 when the bound
 * or the count is spent. */
static int
backoff(struct bdev_http *h, unsigned attempt, unsigned *delay,
    double deadline)
{
	if (attempt > h->retries || os_now_s() + *delay / 1000.0 >= deadline)
		return (1);
	os_sleep_ms(*delay);
	*delay = LR_MIN(*delay * 2, BACKOFF_MAX_MS);
	pthread_mutex_lock(&h->mtx);
	h->st.retries++;
	pthread_mutex_unlock(&h->mtx);
	return (0);
}

/* --- open ------------------------------------------------------------------ */

/*
 * Byte 0 of the URL, redirects followed by hand by fetch.h's rules: 0 with
 * the final URL in *final (the caller's), or outcome()'s other answers.
 */
static int
probe_once(struct bdev_http *h, const char *url0, char **final,
    double deadline, struct diag *d)
{
	struct conn *c = &h->conn[0];
	char *chain[FETCH_MAX_REDIRS + 2], to[DISP_LEN];
	const char *url = url0;
	char *loc;
	int https = is_scheme(url0, "https://"), r = OUT_RETRY;
	unsigned n, i;
	CURLcode cc;

	chain[0] = (char *)url0;	/* borrowed; the hops are ours */
	for (n = 0;; n++) {
		net_url_redact(url, c->cur, sizeof(c->cur));
		curl_easy_setopt(c->c, CURLOPT_URL, url);
		curl_easy_setopt(c->c, CURLOPT_REDIR_PROTOCOLS_STR,
		    https ? "https" : "http,https");
		cc = conn_perform(h, c, 0, 0, deadline);
		if (cc != CURLE_OK || c->code != 0 || c->hdr.status < 300 ||
		    c->hdr.status >= 400) {
			r = outcome(h, c, cc, deadline, d);
			break;
		}
		loc = NULL;
		curl_easy_getinfo(c->c, CURLINFO_REDIRECT_URL, &loc);
		if (loc == NULL) {
			r = diag_set(d, EPROTO, "%s answered HTTP %ld without "
			    "a Location: check the URL", c->cur,
			    c->hdr.status);
			break;
		}
		if ((r = net_redirect_check(h->url0, c->cur, loc, chain, n,
		    https, d)) != 0)
			break;
		if ((chain[n + 1] = strdup(loc)) == NULL) {
			r = diag_set(d, ENOMEM, "out of memory");
			break;
		}
		url = chain[n + 1];
		https |= is_scheme(url, "https://");
		net_url_redact(url, to, sizeof(to));
		logf_(h, "%s redirects to %s", c->cur, to);
	}
	if (r == 0 && (*final = strdup(url)) == NULL)
		r = diag_set(d, ENOMEM, "out of memory");
	h->redirects = n;
	for (i = 1; i <= n && i <= FETCH_MAX_REDIRS + 1; i++)
		free(chain[i]);
	return (r);
}

static int
probe(struct bdev_http *h, const char *url, struct diag *d)
{
	struct conn *c = &h->conn[0];
	double deadline = os_now_s() + h->open_s;
	unsigned attempt, delay = h->backoff_ms;
	long st;
	int r;

	c->probe = 1;
	for (attempt = 0;; attempt++) {
		if (attempt > 0) {
			if (backoff(h, attempt, &delay, deadline))
				return (diag_set(d, ETIMEDOUT, "%s: no answer "
				    "within %u s in %u attempt(s) (last: "
				    "%.120s): check the network and the "
				    "server", h->url0, h->open_s, attempt,
				    c->msg));
			logf_(h, "%s: %s; trying again", h->url0, c->msg);
		}
		r = probe_once(h, url, &h->url, deadline, d);
		if (r == 0)
			break;
		if (r > 0)
			return (r);
		if (r == OUT_STATUS) {
			st = c->hdr.status;
			if (st >= 500 || st == 408 || st == 429) {
				snprintf(c->msg, sizeof(c->msg), "HTTP %ld",
				    st);
				continue;
			}
			if (st == 404)
				return (diag_set(d, ENOENT, "HTTP 404 for %s: "
				    "the image is not on the server; check the "
				    "URL", c->cur));
			if (net_http_final(st))
				return (diag_set(d, EACCES, "HTTP %ld for %s: "
				    "the server refused the request; check the "
				    "URL and the server", st, c->cur));
			return (diag_set(d, EPROTO, "%s answered HTTP %ld to a "
			    "request for byte 0: check the URL", c->cur, st));
		}
	}
	c->probe = 0;
	lr_scopy(h->etag, sizeof(h->etag), c->hdr.has_etag == 1 ?
	    c->hdr.etag : "");
	lr_scopy(h->lm, sizeof(h->lm), c->hdr.has_lm == 1 ? c->hdr.lm : "");
	h->b.size = c->hdr.cr_t;
	net_url_redact(h->url, h->disp, sizeof(h->disp));
	if (h->etag[0] == '\0' && h->lm[0] == '\0')
		logf_(h, "%s names no version (no ETag, no Last-Modified): "
		    "only a change of its size can be seen", h->disp);
	return (0);
}

static void
http_free(struct bdev_http *h)
{
	unsigned i;

	if (h->conn != NULL) {
		for (i = 0; i < h->nconn; i++)
			if (h->conn[i].c != NULL)
				curl_easy_cleanup(h->conn[i].c);
		free(h->conn);
	}
	free(h->url);
	free(h->ca_file);
	free(h->agent);
	free(h);
}

int
bdev_http_open(const struct bdev_http_opts *o, struct bdev **out,
    struct diag *d)
{
	struct bdev_http *h;
	unsigned i;
	int error;

	*out = NULL;
	if (o->url == NULL || o->url[0] == '\0')
		return (diag_set(d, EINVAL, "no URL given"));
	if (o->connections > BDEV_HTTP_CONNS_MAX)
		return (diag_set(d, EINVAL, "%u connections asked: at most %d",
		    o->connections, BDEV_HTTP_CONNS_MAX));
	if (!is_scheme(o->url, "http://") && !is_scheme(o->url, "https://")) {
		char disp[DISP_LEN];

		net_url_redact(o->url, disp, sizeof(disp));
		return (diag_set(d, EINVAL, "%s: only http:// and https:// "
		    "URLs are read", disp));
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	net_url_redact(o->url, h->url0, sizeof(h->url0));
	pthread_once(&curl_once, curl_init_once);
	h->nconn = o->connections ? o->connections : BDEV_HTTP_CONNS_DEFAULT;
	h->window = o->timeout_s ? o->timeout_s : FETCH_WINDOW_DEFAULT;
	h->min_speed = o->min_speed ? o->min_speed : FETCH_SPEED_DEFAULT;
	h->read_s = o->read_s ? o->read_s : BDEV_HTTP_READ_DEFAULT;
	h->open_s = o->open_s ? o->open_s : h->read_s;
	h->retries = o->retries ? o->retries : 8;
	h->backoff_ms = o->backoff_ms ? o->backoff_ms : 250;
	h->log = o->log;
	h->arg = o->arg;
	if ((o->ca_file != NULL && (h->ca_file = strdup(o->ca_file)) == NULL) ||
	    (o->user_agent != NULL &&
	    (h->agent = strdup(o->user_agent)) == NULL) ||
	    (h->conn = calloc(h->nconn, sizeof(*h->conn))) == NULL) {
		error = diag_set(d, ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < h->nconn; i++) {
		h->conn[i].h = h;
		if ((h->conn[i].c = curl_easy_init()) == NULL) {
			error = diag_set(d, ENOMEM, "cannot start libcurl");
			goto fail;
		}
		conn_setup(h, &h->conn[i]);
	}
	if (pthread_mutex_init(&h->mtx, NULL) != 0) {
		error = diag_set(d, ENOMEM, "cannot create a mutex");
		goto fail;
	}
	if (pthread_cond_init(&h->cv, NULL) != 0) {
		pthread_mutex_destroy(&h->mtx);
		error = diag_set(d, ENOMEM, "cannot create a condition");
		goto fail;
	}
	if ((error = probe(h, o->url, d)) != 0)
		goto fail_sync;
	for (i = 0; i < h->nconn; i++) {
		curl_easy_setopt(h->conn[i].c, CURLOPT_URL, h->url);
		lr_scopy(h->conn[i].cur, sizeof(h->conn[i].cur), h->disp);
	}
	bdev_init(&h->b, &http_ops, h->b.size, 512, 1, NULL, "http(%s)",
	    h->disp);
	*out = &h->b;
	return (0);

fail_sync:
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mtx);
fail:
	http_free(h);
	return (error);
}

/* --- reads ----------------------------------------------------------------- */

static struct conn *
conn_take(struct bdev_http *h)
{
	unsigned i;

	pthread_mutex_lock(&h->mtx);
	for (;;) {
		for (i = 0; i < h->nconn; i++)
			if (!h->conn[i].busy) {
				h->conn[i].busy = 1;
				pthread_mutex_unlock(&h->mtx);
				return (&h->conn[i]);
			}
		pthread_cond_wait(&h->cv, &h->mtx);
	}
}

static void
conn_give(struct bdev_http *h, struct conn *c, int ok, int stale,
    const char *msg)
{
	c->buf = NULL;
	pthread_mutex_lock(&h->mtx);
	c->busy = 0;
	if (ok)
		h->st.reads++;
	else
		h->st.failed++;
	if (stale && !h->st.stale) {
		h->st.stale = 1;
		lr_scopy(h->stale_msg, sizeof(h->stale_msg), msg);
	}
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mtx);
}

static int
http_read(struct bdev *b, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	struct bdev_http *h = (struct bdev_http *)b;
	struct diag dl;
	struct conn *c;
	double deadline;
	unsigned attempt, delay = h->backoff_ms;
	CURLcode cc;
	int r;

	pthread_mutex_lock(&h->mtx);
	if (h->st.stale) {
		diag_set(d, ESTALE, "%s", h->stale_msg);
		h->st.failed++;
		pthread_mutex_unlock(&h->mtx);
		return (ESTALE);
	}
	pthread_mutex_unlock(&h->mtx);
	diag_clear(&dl);
	c = conn_take(h);
	deadline = os_now_s() + h->read_s;
	c->buf = buf;
	c->off = off;
	c->len = len;
	c->got = 0;
	for (attempt = 0;; attempt++) {
		if (attempt > 0) {
			if (backoff(h, attempt, &delay, deadline)) {
				r = diag_set(&dl, EIO, "%s: bytes %ju-%ju not "
				    "read within %u s in %u attempt(s) (last: "
				    "%.100s; %ju bytes in): check the network "
				    "and the server", h->disp, (uintmax_t)off,
				    (uintmax_t)(off + len - 1), h->read_s,
				    attempt, c->msg, (uintmax_t)c->got);
				break;
			}
			logf_(h, "%s: bytes %ju-%ju: %s; trying again from "
			    "byte %ju", h->disp, (uintmax_t)off,
			    (uintmax_t)(off + len - 1), c->msg,
			    (uintmax_t)(off + c->got));
		}
		cc = conn_perform(h, c, off + c->got, off + len - 1, deadline);
		if ((r = outcome(h, c, cc, deadline, &dl)) >= 0)
			break;
	}
	conn_give(h, c, r == 0, r == ESTALE, dl.msg);
	if (r != 0) {
		if (d != NULL)
			*d = dl;
		return (r);
	}
	return (0);
}

static void
http_destroy(struct bdev *b)
{
	struct bdev_http *h = (struct bdev_http *)b;

	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mtx);
	http_free(h);
}

static const struct bdev_ops http_ops = {
	.name = "http",
	.read = http_read,
	.destroy = http_destroy,
};

int
bdev_http_stats(struct bdev *b, struct bdev_http_stats *st)
{
	struct bdev_http *h = (struct bdev_http *)b;

	if (b == NULL || b->ops != &http_ops)
		return (EINVAL);
	pthread_mutex_lock(&h->mtx);
	*st = h->st;
	pthread_mutex_unlock(&h->mtx);
	return (0);
}

int
bdev_http_info(struct bdev *b, struct bdev_http_info *info)
{
	struct bdev_http *h = (struct bdev_http *)b;

	if (b == NULL || b->ops != &http_ops)
		return (EINVAL);
	memset(info, 0, sizeof(*info));
	lr_scopy(info->url, sizeof(info->url), h->disp);
	lr_scopy(info->etag, sizeof(info->etag), h->etag);
	lr_scopy(info->last_modified, sizeof(info->last_modified), h->lm);
	info->size = h->b.size;
	info->redirects = h->redirects;
	return (0);
}
