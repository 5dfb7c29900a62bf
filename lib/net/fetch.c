/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fetch.c - HTTP(S) into RAM or into a file with libcurl; see fetch.h.
 *
 * fetch_run() is the one engine; a sink (a growing buffer, or a file
 * descriptor written with pwrite) takes the bytes.  One attempt is a GET
 * (with Range when resuming) whose redirects request() follows by hand, and,
 * when the body came without a length and no size is known, a HEAD for the
 * size.  Between attempts: exponential backoff, inside the total bound.
 *
 * Per response, on_header() records the status line, Content-Length and
 * Content-Range; check_response() judges them once, before the first body
 * byte is kept (or after an empty body): a 206 must answer our Range, at our
 * offset, of the size known so far; a 200 to a Range restarts at zero; a
 * length must match the size known so far.  on_progress() enforces the
 * deadline and the minimum speed.  The SHA-256 is computed as the bytes
 * arrive (from scratch again on a restart), the same for both sinks.
 *
 * Invariants: the bytes [0, got) are in the sink and hashed, in order;
 * have_total says total is the size every response so far agreed on, and
 * then got <= total.  A callback that stops the transfer sets abort_code and
 * msg, and final when another attempt cannot help (a protocol violation,
 * the deadline, a changed file); otherwise the attempt is retried.
 * Messages name URLs only through net_url_redact().
 *
 * SHA-256 comes from OpenSSL's libcrypto, which libcurl links anyway.
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
#include <unistd.h>

#include <curl/curl.h>
#include <liveroot/fetch.h>
#include <liveroot/os.h>
#include <liveroot/util.h>

#define DISP_LEN	120	/* a URL in a message, redacted */

struct xfer {
	const struct fetch_opts *o;
	CURL		*c;
	struct diag	*d;
	struct fetch_result *r;

	/* the sink: a file when fd >= 0, else buf */
	int		 fd;
	const char	*fdname;
	uint8_t		*buf;
	uint64_t	 cap;		/* allocated */
	uint64_t	 avail;		/* RAM for the image; 0: unchecked */
	struct os_sha256 *md;

	uint64_t	 got;		/* bytes in the sink */
	uint64_t	 total;		/* valid when have_total */
	int		 have_total;

	/* the request and its response (reset by setup()) */
	uint64_t	 start;		/* offset asked for with Range */
	int		 ranged;	/* this request carried Range */
	int		 head;
	int		 checked;	/* check_response() ran */
	long		 status;
	int64_t		 clen;		/* -1: no Content-Length */
	int		 has_cr;	/* 1 parsed, -1 present but bad */
	uint64_t	 cr_a, cr_b, cr_t;	/* cr_t 0: "*" */
	char		 rangebuf[32];

	/* bounds */
	double		 deadline;
	unsigned	 total_s, window, min_speed;
	double		 win_start;
	curl_off_t	 win_bytes;

	int		 abort_code;
	int		 final;
	char		 msg[DIAG_MSGLEN];
	char		 url0[DISP_LEN];	/* the URL asked for */
	char		 cur[DISP_LEN];		/* the URL of this request */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* --- URLs in messages ------------------------------------------------------ */

struct put {
	char	*out;
	size_t	 len, o;
	int	 cut;
};

static void
put_span(struct put *p, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (p->o + 1 >= p->len) {
			p->cut = 1;
			return;
		}
		p->out[p->o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
}

void
net_url_redact(const char *url, char *out, size_t len)
{
	struct put p = { out, len, 0, 0 };
	const char *sep, *auth, *host, *at, *rest;
	size_t alen;

	if (len == 0)
		return;
	if (url == NULL)
		url = "";
	rest = url;
	sep = strstr(url, "://");
	if (sep != NULL && (size_t)(sep - url) < strcspn(url, "/?#")) {
		auth = sep + 3;
		put_span(&p, url, (size_t)(auth - url));
		alen = strcspn(auth, "/?#");
		host = auth;
		for (at = auth; at < auth + alen; at++)
			if (*at == '@')
				host = at + 1;	/* the last '@' ends userinfo */
		put_span(&p, host, (size_t)(auth + alen - host));
		rest = auth + alen;
	}
	put_span(&p, rest, strcspn(rest, "?#"));
	if (p.cut && len >= 4)
		memcpy(out + p.o - 3, "...", 3);
	out[p.o] = '\0';
}

void
net_fetch_hint(struct diag *d, const struct fetch_result *r,
    const char *const *hints)
{
	size_t n;

	if (d == NULL || r->fix <= FETCH_FIX_NONE || r->fix >= FETCH_FIX_COUNT ||
	    hints[r->fix] == NULL)
		return;
	n = strlen(d->msg);
	snprintf(d->msg + n, sizeof(d->msg) - n, "%s", hints[r->fix]);
}

/* "host[:port]" of a redacted URL. */
static void
url_host(const char *disp, char *out, size_t len)
{
	const char *h = strstr(disp, "://");

	h = h != NULL ? h + 3 : disp;
	snprintf(out, len, "%.*s", (int)strcspn(h, "/"), h);
}

static int
is_scheme(const char *url, const char *scheme)
{
	return (strncasecmp(url, scheme, strlen(scheme)) == 0);
}

/* --- small helpers --------------------------------------------------------- */

static uint64_t
mem_available(void)
{
	char line[256];
	unsigned long long kb;
	FILE *f;
	uint64_t v = 0;

	if ((f = fopen("/proc/meminfo", "r")) == NULL)
		return (0);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
			v = (uint64_t)kb * 1024;
			break;
		}
	fclose(f);
	return (v);
}

static void
logf_(const struct fetch_opts *o, const char *fmt, ...) LR_PRINTF(2, 3);

static void
logf_(const struct fetch_opts *o, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (o->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->log(msg, o->arg);
}

static int
stop(struct xfer *x, int final, int code, const char *fmt, ...)
    LR_PRINTF(4, 5);

/* Stops the transfer from a callback; returns code. */
static int
stop(struct xfer *x, int final, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
	x->abort_code = code;
	x->final = final;
	return (code);
}

static void
fmt_total(const struct xfer *x, char *buf, size_t len)
{
	if (x->have_total)
		snprintf(buf, len, "%ju", (uintmax_t)x->total);
	else
		snprintf(buf, len, "?");
}

/* "N of M bytes", or "N bytes (size unknown)" */
static void
fmt_done(const struct xfer *x, char *buf, size_t len)
{
	if (x->have_total)
		snprintf(buf, len, "%ju of %ju bytes", (uintmax_t)x->got,
		    (uintmax_t)x->total);
	else
		snprintf(buf, len, "%ju bytes (size unknown)",
		    (uintmax_t)x->got);
}

static void
bound_msg(struct xfer *x, char *buf, size_t len)
{
	char done[64];

	fmt_done(x, done, sizeof(done));
	x->r->fix = FETCH_FIX_TIME;
	snprintf(buf, len, "%s: not fetched within %u s (raise the time bound, "
	    "or check the network and the server): %s in %u attempt(s)%s%.60s",
	    x->url0, x->total_s, done, x->r->attempts, x->r->error[0] ?
	    "; last: " : "", x->r->error);
	buf[len - 1] = '\0';
}

/* --- the sink -------------------------------------------------------------- */

static int
too_big(struct xfer *x, uint64_t need)
{
	if (x->avail == 0 || need <= x->avail)
		return (0);
	x->r->fix = FETCH_FIX_RESERVE;
	stop(x, 1, EFBIG, "%s is %ju MiB but only %ju MiB of RAM are free "
	    "for it (%ju MiB available, %ju MiB kept for the overlay): give "
	    "the machine more memory, or keep less for the overlay", x->url0,
	    (uintmax_t)(need >> 20), (uintmax_t)(x->avail >> 20),
	    (uintmax_t)((x->avail + x->o->reserve_bytes) >> 20),
	    (uintmax_t)(x->o->reserve_bytes >> 20));
	return (1);
}

/* Room for need bytes in the buffer (a file needs none). */
static int
sink_reserve(struct xfer *x, uint64_t need)
{
	uint64_t ncap;
	uint8_t *nb;

	if (x->fd >= 0 || need <= x->cap)
		return (0);
	if (too_big(x, need))
		return (-1);
	ncap = x->have_total && x->total >= need ? x->total :
	    LR_MAX(need, x->cap * 2);
	if (ncap < (1 << 20))
		ncap = 1 << 20;
	if (x->avail != 0 && ncap > x->avail)
		ncap = need;
	if (ncap > SIZE_MAX || (nb = realloc(x->buf, (size_t)ncap)) == NULL) {
		stop(x, 1, ENOMEM, "out of memory for %ju bytes of %s",
		    (uintmax_t)ncap, x->url0);
		return (-1);
	}
	x->buf = nb;
	x->cap = ncap;
	return (0);
}

/* Back to zero bytes: the start of a fetch, or a server ignoring Range. */
static int
sink_reset(struct xfer *x)
{
	x->got = 0;
	if (x->fd >= 0 && ftruncate(x->fd, 0) != 0)
		return (stop(x, 1, errno, "truncating %s: %s", x->fdname,
		    strerror(errno)));
	if (os_sha256_reset(x->md) != 0)
		return (stop(x, 1, ENOMEM, "cannot start SHA-256"));
	return (0);
}

static int
sink_put(struct xfer *x, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t left = len;
	ssize_t w;

	if (x->fd < 0) {
		if (sink_reserve(x, x->got + len) != 0)
			return (-1);
		memcpy(x->buf + x->got, p, len);
	} else {
		while (left > 0) {
			w = pwrite(x->fd, b, left, (off_t)(x->got + (len - left)));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				stop(x, 1, w < 0 ? errno : EIO, "writing %s: %s",
				    x->fdname, w < 0 ? strerror(errno) :
				    "short write");
				return (-1);
			}
			b += w;
			left -= (size_t)w;
		}
	}
	if (os_sha256_update(x->md, p, len) != 0) {
		stop(x, 1, EIO, "SHA-256 failed");
		return (-1);
	}
	x->got += len;
	return (0);
}

/* --- one response ---------------------------------------------------------- */

/* Decimal digits only, no sign, no overflow. */
static int
parse_u64(const char **sp, uint64_t *v)
{
	const char *s = *sp;
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return (-1);
	for (; *s >= '0' && *s <= '9'; s++)
		if (__builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(*s - '0'), &n))
			return (-1);
	*sp = s;
	*v = n;
	return (0);
}

static int
only_space(const char *s)
{
	return (s[strspn(s, " \t\r\n")] == '\0');
}

int
net_http_number(const char *s, uint64_t *v)
{
	s += strspn(s, " \t");
	return (parse_u64(&s, v) == 0 && only_space(s) ? 0 : -1);
}

int
net_http_content_range(const char *s, uint64_t *a, uint64_t *b,
    uint64_t *total)
{
	s += strspn(s, " \t");
	if (strncasecmp(s, "bytes", 5) != 0)
		return (-1);
	s += 5;
	s += strspn(s, " \t");
	if (*s == '*') {	/* a 416 naming the current size */
		s++;
		*a = *b = 0;
		if (*s++ != '/' || parse_u64(&s, total) != 0)
			return (-1);
		return (only_space(s) ? 1 : -1);
	}
	if (parse_u64(&s, a) != 0 || *s++ != '-' ||
	    parse_u64(&s, b) != 0 || *s++ != '/')
		return (-1);
	if (*s == '*') {
		*total = 0;
		s++;
	} else if (parse_u64(&s, total) != 0 || *total == 0)
		return (-1);
	return (only_space(s) ? 0 : -1);
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = sz * n;
	char line[256];
	uint64_t u = 0;
	long code;

	if (len >= sizeof(line))
		return (len);		/* long headers are none of ours */
	memcpy(line, p, len);
	line[len] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		/* a new response (after a 1xx, or the first) */
		if (sscanf(line, "HTTP/%*s %ld", &code) == 1)
			x->status = code;
		x->clen = -1;
		x->has_cr = 0;
	} else if (strncasecmp(line, "Content-Length:", 15) == 0) {
		if (net_http_number(line + 15, &u) == 0 && u <= INT64_MAX)
			x->clen = (int64_t)u;
	} else if (strncasecmp(line, "Content-Range:", 14) == 0)
		x->has_cr = net_http_content_range(line + 14, &x->cr_a,
		    &x->cr_b, &x->cr_t) == 0 ? 1 : -1;
	return (len);
}

/*
 * The status and lengths of a GET's response, before its body is kept.  A
 * 206 that is not exactly the continuation asked for would splice foreign
 * bytes into the image; a short or changed file would be an image that
 * boots half.
 */
static int
check_response(struct xfer *x)
{
	char t1[24], t2[24];

	x->checked = 1;
	x->r->http_status = x->status;
	if (x->status == 206) {
		if (!x->ranged)
			return (stop(x, 1, EPROTO, "%s answered 206 Partial "
			    "Content to a request for the whole file: the "
			    "server (or a proxy before it) is broken; fix it",
			    x->cur));
		if (x->has_cr != 1)
			return (stop(x, 1, EPROTO, "%s answered the resume at "
			    "byte %ju with 206 but no valid Content-Range: fix "
			    "the server", x->cur, (uintmax_t)x->start));
		if (x->cr_a != x->start || x->cr_b < x->cr_a ||
		    (x->cr_t != 0 && x->cr_b >= x->cr_t) ||
		    (x->clen >= 0 && (uint64_t)x->clen != x->cr_b - x->cr_a +
		    1) || (x->have_total && x->cr_t != 0 &&
		    x->cr_t != x->total)) {
			if (x->cr_t != 0)
				snprintf(t1, sizeof(t1), "%ju",
				    (uintmax_t)x->cr_t);
			else
				snprintf(t1, sizeof(t1), "*");
			fmt_total(x, t2, sizeof(t2));
			return (stop(x, 1, EIO, "%s answered the resume at "
			    "byte %ju of %s with bytes %ju-%ju/%s: the file on "
			    "the server changed; fetch it again", x->cur,
			    (uintmax_t)x->start, t2, (uintmax_t)x->cr_a,
			    (uintmax_t)x->cr_b, t1));
		}
		if (!x->have_total && x->cr_t != 0) {
			x->total = x->cr_t;
			x->have_total = 1;
		}
	} else if (x->status >= 200 && x->status < 300) {
		if (x->ranged) {
			logf_(x->o, "%s ignored the Range request; restarting "
			    "from the beginning", x->cur);
			if (sink_reset(x) != 0)
				return (x->abort_code);
			x->start = 0;
			x->ranged = 0;
		}
		if (x->clen >= 0) {
			if (x->have_total && (uint64_t)x->clen != x->total)
				return (stop(x, 1, EIO, "%s changed size while "
				    "downloading (%ju, now %jd bytes): fetch it "
				    "again", x->cur, (uintmax_t)x->total,
				    (intmax_t)x->clen));
			x->total = (uint64_t)x->clen;
			x->have_total = 1;
		}
	} else
		return (stop(x, 1, EPROTO, "%s answered HTTP %ld, not the "
		    "image: check the URL", x->cur, x->status));
	if (x->have_total && sink_reserve(x, x->total) != 0)
		return (x->abort_code);
	return (0);
}

static size_t
on_data(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = sz * n;

	if (x->head || (x->status >= 300 && x->status < 400))
		return (len);		/* a redirect's body is not the image */
	if (!x->checked && check_response(x) != 0)
		return (0);
	if (x->have_total && len > x->total - x->got) {
		stop(x, 1, EIO, "%s sent more than its announced %ju bytes: "
		    "fix the server", x->cur, (uintmax_t)x->total);
		return (0);
	}
	if (sink_put(x, p, len) != 0)
		return (0);
	if (x->o->progress != NULL)
		x->o->progress(x->got, x->have_total ? x->total : 0,
		    x->o->arg);
	return (len);
}

/* The deadline and the minimum speed; libcurl calls this about once a
 * second even when nothing arrives. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = arg;
	double now = os_now_s(), el;
	uint64_t bytes;

	(void)dltotal;
	(void)ultotal;
	(void)ulnow;
	if (now >= x->deadline) {
		bound_msg(x, x->msg, sizeof(x->msg));
		x->abort_code = ETIMEDOUT;
		x->final = 1;
		return (1);
	}
	el = now - x->win_start;
	if (el < x->window)
		return (0);
	bytes = dlnow > x->win_bytes ? (uint64_t)(dlnow - x->win_bytes) : 0;
	if ((double)bytes < (double)x->min_speed * el) {
		stop(x, 0, ETIMEDOUT, "sent %ju bytes in the last %.0f s: too "
		    "slow (at least %u bytes/s are needed)", (uintmax_t)bytes,
		    el, x->min_speed);
		return (1);
	}
	x->win_start = now;
	x->win_bytes = dlnow;
	return (0);
}

/* --- one request, its redirects followed here ------------------------------ */

static void
setup(struct xfer *x, const char *url, int head, char *errbuf)
{
	const struct fetch_opts *o = x->o;
	double left = x->deadline - os_now_s();
	long ms = left > 0 ? (long)(left * 1000) : 1;

	curl_easy_reset(x->c);
	errbuf[0] = '\0';
	net_url_redact(url, x->cur, sizeof(x->cur));
	x->head = head;
	x->ranged = !head && x->got > 0;
	x->start = x->ranged ? x->got : 0;
	x->checked = 0;
	x->status = 0;
	x->clen = -1;
	x->has_cr = 0;
	x->win_start = os_now_s();
	x->win_bytes = 0;
	curl_easy_setopt(x->c, CURLOPT_URL, url);
	curl_easy_setopt(x->c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(x->c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* request() follows redirects itself; should libcurl ever follow
	 * one, the same rules hold */
	curl_easy_setopt(x->c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->c, CURLOPT_REDIR_PROTOCOLS_STR,
	    is_scheme(url, "https://") ? "https" : "http,https");
	curl_easy_setopt(x->c, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
	curl_easy_setopt(x->c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(x->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->c, CURLOPT_CONNECTTIMEOUT_MS,
	    LR_MIN((long)x->window * 1000, ms));
	/* the backstop; on_progress() stops at the deadline with a message */
	curl_easy_setopt(x->c, CURLOPT_TIMEOUT_MS, ms + 2000);
	curl_easy_setopt(x->c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(x->c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(x->c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(x->c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(x->c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->c, CURLOPT_USERAGENT, "liveroot");
	if (o->ca_file != NULL)
		curl_easy_setopt(x->c, CURLOPT_CAINFO, o->ca_file);
	if (head)
		curl_easy_setopt(x->c, CURLOPT_NOBODY, 1L);
	if (x->ranged) {
		snprintf(x->rangebuf, sizeof(x->rangebuf), "%ju-",
		    (uintmax_t)x->start);
		curl_easy_setopt(x->c, CURLOPT_RANGE, x->rangebuf);
	}
}

int
net_redirect_check(const char *url0, const char *cur, const char *loc,
    char *const *chain, unsigned n, int https, struct diag *d)
{
	char to[DISP_LEN];
	unsigned i;

	net_url_redact(loc, to, sizeof(to));
	if (!is_scheme(loc, "http://") && !is_scheme(loc, "https://"))
		return (diag_set(d, EPROTO, "%s redirects to %s: only http:// "
		    "and https:// are fetched; fix the redirect", cur, to));
	if (https && !is_scheme(loc, "https://"))
		return (diag_set(d, EPROTO, "%s redirects from HTTPS to plain "
		    "HTTP (%s): refused; make the server redirect to an "
		    "https:// URL", cur, to));
	for (i = 0; i <= n; i++)
		if (strcmp(loc, chain[i]) == 0)
			return (diag_set(d, ELOOP, "%s redirects back to %s: a "
			    "redirect loop; fix the server's redirects", cur,
			    to));
	if (n >= FETCH_MAX_REDIRS)
		return (diag_set(d, ELOOP, "%s: more than %d redirects (the "
		    "next to %s): use the final URL", url0, FETCH_MAX_REDIRS,
		    to));
	return (0);
}

static int
check_redirect(struct xfer *x, const char *loc, char *const *chain,
    unsigned n, int https)
{
	struct diag d;
	int e;

	diag_clear(&d);
	if ((e = net_redirect_check(x->url0, x->cur, loc, chain, n, https,
	    &d)) != 0)
		return (stop(x, 1, e, "%s", d.msg));
	return (0);
}

static CURLcode
request(struct xfer *x, int head, char *errbuf)
{
	char *chain[FETCH_MAX_REDIRS + 2], to[DISP_LEN];
	const char *url = x->o->url;
	char *loc;
	int https = is_scheme(url, "https://");
	unsigned n, i;
	CURLcode cc;

	chain[0] = (char *)url;		/* borrowed; the hops are ours */
	for (n = 0;; n++) {
		setup(x, url, head, errbuf);
		cc = curl_easy_perform(x->c);
		if (cc != CURLE_OK || x->abort_code != 0 || x->status < 300 ||
		    x->status >= 400)
			break;
		loc = NULL;
		curl_easy_getinfo(x->c, CURLINFO_REDIRECT_URL, &loc);
		x->r->http_status = x->status;
		if (loc == NULL) {
			stop(x, 1, EPROTO, "%s answered HTTP %ld without a "
			    "Location: check the URL", x->cur, x->status);
			break;
		}
		if (check_redirect(x, loc, chain, n, https) != 0)
			break;
		if ((chain[n + 1] = strdup(loc)) == NULL) {
			stop(x, 1, ENOMEM, "out of memory");
			break;
		}
		url = chain[n + 1];
		https |= is_scheme(url, "https://");
		net_url_redact(url, to, sizeof(to));
		logf_(x->o, "%s redirects to %s", x->cur, to);
	}
	x->r->redirects = n;
	for (i = 1; i <= n; i++)
		free(chain[i]);
	return (cc);
}

/* --- attempts -------------------------------------------------------------- */

int
net_http_final(long code)
{
	return (code >= 400 && code < 500 && code != 408 && code != 429);
}

int
net_curl_tls_error(int cc)
{
	return (cc == CURLE_PEER_FAILED_VERIFICATION ||
	    cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CERTPROBLEM ||
	    cc == CURLE_SSL_ISSUER_ERROR || cc == CURLE_SSL_CRL_BADFILE ||
	    cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH);
}

/*
 * The body ended without a length and none was known: ask HEAD.  0 done,
 * -1 truncated (retry), else a final error.
 */
static int
size_by_head(struct xfer *x, char *errbuf)
{
	struct fetch_result *r = x->r;
	uint64_t got = x->got;
	CURLcode cc;

	x->abort_code = 0;
	cc = request(x, 1, errbuf);
	if (x->abort_code != 0 && x->final)
		return (diag_set(x->d, x->abort_code, "%s", x->msg));
	if (cc != CURLE_OK || x->abort_code != 0 || x->status < 200 ||
	    x->status >= 300 || x->clen < 0) {
		logf_(x->o, "%s announces no size (no Content-Length, also not "
		    "to HEAD): a cut download cannot be told from a whole one; "
		    "give a sha256", x->url0);
		return (0);
	}
	if (got > (uint64_t)x->clen)
		return (diag_set(x->d, EIO, "%s sent %ju bytes but HEAD "
		    "announces %jd: the file on the server changed; fetch it "
		    "again", x->url0, (uintmax_t)got, (intmax_t)x->clen));
	x->total = (uint64_t)x->clen;
	x->have_total = 1;
	if (got == x->total)
		return (0);
	snprintf(r->error, sizeof(r->error), "the body (no Content-Length) "
	    "ended at byte %ju of the %ju that HEAD announces", (uintmax_t)got,
	    (uintmax_t)x->total);
	logf_(x->o, "%s: %s", x->url0, r->error);
	return (-1);
}

/* One attempt's outcome: 0 the image is complete, -1 retry, else final. */
static int
judge(struct xfer *x, CURLcode cc, const char *errbuf)
{
	struct fetch_result *r = x->r;
	char host[DISP_LEN];
	long code = 0;

	if (x->abort_code != 0) {
		if (x->final)
			return (diag_set(x->d, x->abort_code, "%s", x->msg));
		lr_scopy(r->error, sizeof(r->error), x->msg);
	} else if (cc == CURLE_OK) {
		if (!x->have_total)
			return (size_by_head(x, (char *)errbuf));
		if (x->got == x->total)
			return (0);
		snprintf(r->error, sizeof(r->error), "the connection closed "
		    "at byte %ju of %ju", (uintmax_t)x->got,
		    (uintmax_t)x->total);
	} else if (cc == CURLE_HTTP_RETURNED_ERROR) {
		curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
		r->http_status = code;
		if (code == 416 && x->have_total && x->got == x->total)
			return (0);
		snprintf(r->error, sizeof(r->error), "HTTP %ld", code);
		if (net_http_final(code)) {
			r->fix = FETCH_FIX_URL;
			return (diag_set(x->d, code == 404 ? ENOENT : EACCES,
			    "HTTP %ld for %s: %s", code, x->cur, code == 404 ?
			    "the image is not on the server; check the URL" :
			    "the server refused the request; check the URL and "
			    "the server"));
		}
	} else if (cc == CURLE_OPERATION_TIMEDOUT && os_now_s() >= x->deadline) {
		bound_msg(x, x->msg, sizeof(x->msg));
		return (diag_set(x->d, ETIMEDOUT, "%s", x->msg));
	} else if (net_curl_tls_error(cc)) {
		url_host(x->cur, host, sizeof(host));
		r->fix = FETCH_FIX_CA;
		return (diag_set(x->d, EACCES, "%s: cannot verify the TLS "
		    "certificate of %s (%s): give the CA that signed it",
		    x->url0, host, errbuf[0] ? errbuf :
		    curl_easy_strerror(cc)));
	} else
		snprintf(r->error, sizeof(r->error), "%s", errbuf[0] ? errbuf :
		    curl_easy_strerror(cc));
	logf_(x->o, "%s: %s after %ju bytes", x->url0, r->error,
	    (uintmax_t)x->got);
	return (-1);
}

static int
fetch_run(struct xfer *x)
{
	const struct fetch_opts *o = x->o;
	struct fetch_result *r = x->r;
	char errbuf[CURL_ERROR_SIZE], done[64];
	uint8_t md[OS_SHA256_LEN];
	unsigned retries, delay, attempt;
	CURLcode cc;
	int e;

	if (o->url == NULL || o->url[0] == '\0') {
		r->fix = FETCH_FIX_URL;
		return (diag_set(x->d, EINVAL, "no URL given"));
	}
	net_url_redact(o->url, x->url0, sizeof(x->url0));
	if (!is_scheme(o->url, "http://") && !is_scheme(o->url, "https://"))
		return (diag_set(x->d, EINVAL, "%s: only http:// and https:// "
		    "URLs are fetched", x->url0));
	if (o->sha256 != NULL && !os_sha256_hex_ok(o->sha256)) {
		r->fix = FETCH_FIX_SHA256;
		return (diag_set(x->d, EINVAL, "the sha256 %.80s is not 64 hex "
		    "digits", o->sha256));
	}
	pthread_once(&curl_once, curl_init_once);
	retries = o->retries ? o->retries : 5;
	delay = o->backoff_ms ? o->backoff_ms : 1000;
	x->total_s = o->total_s ? o->total_s : FETCH_TOTAL_DEFAULT;
	x->window = o->timeout_s ? o->timeout_s : FETCH_WINDOW_DEFAULT;
	x->min_speed = o->min_speed ? o->min_speed : FETCH_SPEED_DEFAULT;
	x->deadline = os_now_s() + x->total_s;
	if (os_sha256_new(&x->md) != 0)
		return (diag_set(x->d, ENOMEM, "cannot start SHA-256"));
	if ((x->c = curl_easy_init()) == NULL)
		return (diag_set(x->d, ENOMEM, "cannot start libcurl"));
	if (sink_reset(x) != 0)
		return (diag_set(x->d, x->abort_code, "%s", x->msg));

	for (attempt = 0;; attempt++) {
		if (attempt > 0) {
			if (attempt > retries) {
				fmt_done(x, done, sizeof(done));
				return (diag_set(x->d, EIO, "could not fetch %s "
				    "after %u attempts (last: %s; %s): check "
				    "the network and the server", x->url0,
				    r->attempts, r->error, done));
			}
			if (os_now_s() + delay / 1000.0 >= x->deadline) {
				bound_msg(x, x->msg, sizeof(x->msg));
				return (diag_set(x->d, ETIMEDOUT, "%s",
				    x->msg));
			}
			logf_(o, "retrying %s in %u.%u s (attempt %u of %u, "
			    "%ju bytes so far)", x->url0, delay / 1000,
			    (delay % 1000) / 100, attempt + 1, retries + 1,
			    (uintmax_t)x->got);
			os_sleep_ms(delay);
			delay = LR_MIN(delay * 2, 16000);
		}
		r->attempts++;
		if (x->got > 0)
			r->resumes++;
		x->abort_code = 0;
		x->final = 0;
		cc = request(x, 0, errbuf);
		if (cc == CURLE_OK && x->abort_code == 0 && !x->checked)
			(void)check_response(x);	/* an empty body */
		e = judge(x, cc, errbuf);
		if (e == 0)
			break;
		if (e > 0)
			return (e);
	}
	if (x->got == 0)
		return (diag_set(x->d, EIO, "%s is empty (0 bytes): check the "
		    "server's file", x->url0));
	r->size = x->got;
	r->size_known = x->have_total;
	if (os_sha256_final(x->md, md) != 0)
		return (diag_set(x->d, EIO, "%s: SHA-256 failed", x->url0));
	os_hex(md, sizeof(md), r->sha256);
	if (o->sha256 != NULL && strcasecmp(o->sha256, r->sha256) != 0) {
		r->fix = FETCH_FIX_SHA256;
		return (diag_set(x->d, EBADMSG, "sha256 mismatch for %s: got "
		    "%s, expected %s: the download is corrupt or the expected "
		    "sha256 is wrong", x->url0, r->sha256, o->sha256));
	}
	return (0);
}

static void
xfer_init(struct xfer *x, const struct fetch_opts *o, struct fetch_result *r,
    struct diag *d)
{
	memset(r, 0, sizeof(*r));
	memset(x, 0, sizeof(*x));
	x->o = o;
	x->r = r;
	x->d = d;
	x->fd = -1;
}

static void
xfer_fini(struct xfer *x)
{
	if (x->c != NULL)
		curl_easy_cleanup(x->c);
	os_sha256_free(x->md);
	free(x->buf);
}

int
net_fetch_mem(const struct fetch_opts *o, struct bdev **out,
    struct fetch_result *r, struct diag *d)
{
	struct fetch_result rlocal;
	struct xfer x;
	uint64_t avail;
	int error;

	xfer_init(&x, o, r != NULL ? r : &rlocal, d);
	avail = o->mem_available ? o->mem_available : mem_available();
	if (avail != 0)
		x.avail = avail > o->reserve_bytes ? avail - o->reserve_bytes :
		    1;
	if ((error = fetch_run(&x)) != 0) {
		xfer_fini(&x);
		return (error);
	}
	if (x.cap > x.got) {	/* give back the slack of a grown buffer */
		uint8_t *nb = realloc(x.buf, (size_t)x.got);

		if (nb != NULL)
			x.buf = nb;
	}
	if ((error = bdev_mem_adopt(x.buf, x.got, 0, out, d)) != 0) {
		xfer_fini(&x);
		return (error);
	}
	x.buf = NULL;		/* the bdev owns it */
	snprintf((*out)->desc, sizeof((*out)->desc), "ram(%s)", x.url0);
	xfer_fini(&x);
	return (0);
}

int
net_fetch_fd(const struct fetch_opts *o, int fd, const char *name,
    struct fetch_result *r, struct diag *d)
{
	struct fetch_result rlocal;
	struct xfer x;
	int error;

	xfer_init(&x, o, r != NULL ? r : &rlocal, d);
	if (fd < 0)
		return (diag_set(d, EBADF, "no file to fetch into"));
	x.fd = fd;
	x.fdname = name != NULL ? name : "the output file";
	error = fetch_run(&x);
	xfer_fini(&x);
	return (error);
}
