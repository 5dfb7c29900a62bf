/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fetch.c - HTTP(S) into RAM with libcurl; see fetch.h.
 *
 * One attempt is one curl transfer.  The write callback checks, on the first
 * bytes of each attempt, the HTTP status (206 continues at `got`, 200 restarts
 * at zero) and, when the length is first known, free RAM; then it appends to
 * the buffer.  Between attempts: exponential backoff.  SHA-256 comes from
 * OpenSSL's libcrypto, which libcurl links anyway.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include <liveroot/fetch.h>
#include <liveroot/util.h>

struct xfer {
	const struct fetch_opts *o;
	CURL		*c;
	uint8_t		*buf;
	uint64_t	 cap;		/* allocated */
	uint64_t	 got;		/* valid bytes */
	uint64_t	 total;		/* announced total, 0 unknown */
	uint64_t	 avail;		/* RAM available for the image */
	uint64_t	 start;		/* resume offset of this attempt */
	int		 first;		/* no byte seen yet in this attempt */
	int		 abort_code;	/* set by the callback to stop */
	struct diag	*d;
	struct fetch_result *r;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
net_sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0, i;

	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

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
too_big(struct xfer *x, uint64_t need)
{
	if (x->avail == 0 || need <= x->avail)
		return (0);
	x->abort_code = diag_set(x->d, EFBIG, "%s is %ju MiB but only %ju MiB "
	    "of RAM are free for it (%ju MiB available, %ju MiB kept for the "
	    "overlay): give the machine more memory, or lower live.overlay=",
	    x->o->url, (uintmax_t)(need >> 20), (uintmax_t)(x->avail >> 20),
	    (uintmax_t)((x->avail + x->o->reserve_bytes) >> 20),
	    (uintmax_t)(x->o->reserve_bytes >> 20));
	return (1);
}

static int
ensure(struct xfer *x, uint64_t need)
{
	uint64_t ncap;
	uint8_t *nb;

	if (need <= x->cap)
		return (0);
	if (too_big(x, need))
		return (-1);
	ncap = x->total >= need ? x->total : LR_MAX(need, x->cap * 2);
	if (ncap < (1 << 20))
		ncap = 1 << 20;
	if (x->avail != 0 && ncap > x->avail)
		ncap = need;
	if (ncap > SIZE_MAX || (nb = realloc(x->buf, (size_t)ncap)) == NULL) {
		x->abort_code = diag_set(x->d, ENOMEM, "out of memory for "
		    "%ju bytes of %s", (uintmax_t)ncap, x->o->url);
		return (-1);
	}
	x->buf = nb;
	x->cap = ncap;
	return (0);
}

/*
 * A 206 reply must continue exactly where this attempt resumed, and of the
 * same whole: a server that answers another range, or whose file changed
 * size, would splice foreign bytes into the image.
 */
static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = sz * n;
	unsigned long long a, b, t;
	char line[256];

	if (len >= sizeof(line) || len < 15 ||
	    strncasecmp(p, "Content-Range:", 14) != 0)
		return (len);
	memcpy(line, p, len);
	line[len] = '\0';
	if (sscanf(line + 14, " bytes %llu-%llu/%llu", &a, &b, &t) != 3)
		return (len);
	if (a != x->start || (x->total != 0 && t != x->total)) {
		x->abort_code = diag_set(x->d, EIO, "%s answered the resume at "
		    "byte %ju with bytes %llu-%llu of %llu: the file on the "
		    "server changed; fetch it again", x->o->url,
		    (uintmax_t)x->start, a, b, t);
		return (0);
	}
	return (len);
}

static size_t
on_data(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = sz * n;
	curl_off_t cl = -1;
	long code = 0;

	if (x->first) {
		x->first = 0;
		curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
		x->r->http_status = code;
		if (x->start > 0 && code == 200) {
			logf_(x->o, "server ignored the Range request; "
			    "restarting from the beginning");
			x->got = 0;
			x->start = 0;
		}
		curl_easy_getinfo(x->c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
		    &cl);
		if (cl >= 0) {
			uint64_t t = (uint64_t)cl + x->start;

			if (x->total != 0 && t != x->total) {
				x->abort_code = diag_set(x->d, EIO, "%s changed "
				    "size while downloading (%ju, now %ju "
				    "bytes)", x->o->url, (uintmax_t)x->total,
				    (uintmax_t)t);
				return (0);
			}
			x->total = t;
			if (ensure(x, t) != 0)
				return (0);
		}
	}
	if (x->total != 0 && x->got + len > x->total) {
		x->abort_code = diag_set(x->d, EIO, "%s sent more than its "
		    "announced %ju bytes", x->o->url, (uintmax_t)x->total);
		return (0);
	}
	if (ensure(x, x->got + len) != 0)
		return (0);
	memcpy(x->buf + x->got, p, len);
	x->got += len;
	if (x->o->progress != NULL)
		x->o->progress(x->got, x->total, x->o->arg);
	return (len);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
http_final(long code)
{
	return (code >= 400 && code < 500 && code != 408 && code != 429);
}

int
net_fetch_mem(const struct fetch_opts *o, struct bdev **out,
    struct fetch_result *r, struct diag *d)
{
	struct fetch_result rlocal;
	struct xfer x;
	char errbuf[CURL_ERROR_SIZE];
	unsigned retries, timeout, delay, attempt;
	CURLcode cc = CURLE_OK;
	uint64_t avail;
	int error;

	if (r == NULL)
		r = &rlocal;
	memset(r, 0, sizeof(*r));
	if (o->url == NULL || o->url[0] == '\0')
		return (diag_set(d, EINVAL, "no URL given (set live.url=)"));
	if (o->sha256 != NULL && (strlen(o->sha256) != 64 ||
	    strspn(o->sha256, "0123456789abcdefABCDEF") != 64))
		return (diag_set(d, EINVAL, "live.sha256=%s is not 64 hex "
		    "digits", o->sha256));
	pthread_once(&curl_once, curl_init_once);
	retries = o->retries ? o->retries : 5;
	timeout = o->timeout_s ? o->timeout_s : 20;
	delay = o->backoff_ms ? o->backoff_ms : 1000;
	avail = o->mem_available ? o->mem_available : mem_available();

	memset(&x, 0, sizeof(x));
	x.o = o;
	x.d = d;
	x.r = r;
	if (avail != 0)
		x.avail = avail > o->reserve_bytes ? avail - o->reserve_bytes :
		    1;
	if ((x.c = curl_easy_init()) == NULL)
		return (diag_set(d, ENOMEM, "cannot start libcurl"));

	for (attempt = 0; attempt <= retries; attempt++) {
		if (attempt > 0) {
			logf_(o, "retrying %s in %u.%u s (attempt %u of %u, "
			    "%ju bytes so far)", o->url, delay / 1000,
			    (delay % 1000) / 100, attempt + 1, retries + 1,
			    (uintmax_t)x.got);
			sleep_ms(delay);
			delay = LR_MIN(delay * 2, 16000);
		}
		r->attempts++;
		curl_easy_reset(x.c);
		errbuf[0] = '\0';
		curl_easy_setopt(x.c, CURLOPT_URL, o->url);
		curl_easy_setopt(x.c, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(x.c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(x.c, CURLOPT_FAILONERROR, 1L);
		curl_easy_setopt(x.c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(x.c, CURLOPT_CONNECTTIMEOUT, (long)timeout);
		curl_easy_setopt(x.c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(x.c, CURLOPT_LOW_SPEED_TIME, (long)timeout);
		curl_easy_setopt(x.c, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(x.c, CURLOPT_WRITEDATA, &x);
		curl_easy_setopt(x.c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(x.c, CURLOPT_HEADERDATA, &x);
		curl_easy_setopt(x.c, CURLOPT_USERAGENT, "liveroot");
		x.start = x.got;
		if (x.got > 0) {
			curl_easy_setopt(x.c, CURLOPT_RESUME_FROM_LARGE,
			    (curl_off_t)x.got);
			r->resumes++;
		}
		x.first = 1;
		x.abort_code = 0;
		cc = curl_easy_perform(x.c);
		if (cc == CURLE_OK && x.first) {
			/* An empty body: status and length come from here. */
			long code = 0;

			curl_easy_getinfo(x.c, CURLINFO_RESPONSE_CODE, &code);
			r->http_status = code;
		}
		if (x.abort_code != 0) {
			error = x.abort_code;
			goto fail;
		}
		if (cc == CURLE_OK &&
		    (x.total == 0 || x.got == x.total))
			break;
		if (cc == CURLE_RANGE_ERROR) {
			logf_(o, "%s: the server cannot resume (no Range "
			    "support); restarting from the beginning", o->url);
			x.got = 0;
			snprintf(r->error, sizeof(r->error), "no Range support");
			continue;
		}
		if (cc == CURLE_HTTP_RETURNED_ERROR) {
			long code = 0;

			curl_easy_getinfo(x.c, CURLINFO_RESPONSE_CODE, &code);
			r->http_status = code;
			if (code == 416 && x.total != 0 && x.got == x.total)
				break;
			snprintf(r->error, sizeof(r->error), "HTTP %ld", code);
			if (http_final(code)) {
				error = diag_set(d, code == 404 ? ENOENT :
				    EACCES, "HTTP %ld for %s: %s", code, o->url,
				    code == 404 ? "the image is not on the "
				    "server; check live.url=" : "the server "
				    "refused the request; check live.url= and "
				    "the server's configuration");
				goto fail;
			}
		} else
			snprintf(r->error, sizeof(r->error), "%s",
			    errbuf[0] ? errbuf : curl_easy_strerror(cc));
		logf_(o, "%s: %s after %ju bytes", o->url, r->error,
		    (uintmax_t)x.got);
	}
	if (attempt > retries) {
		error = diag_set(d, EIO, "could not fetch %s after %u attempts "
		    "(last: %s, %ju of %ju bytes): check the network and the "
		    "server", o->url, r->attempts, r->error,
		    (uintmax_t)x.got, (uintmax_t)x.total);
		goto fail;
	}
	if (x.got == 0) {
		error = diag_set(d, EIO, "%s is empty (0 bytes): check the "
		    "server's file", o->url);
		goto fail;
	}
	r->size = x.got;
	net_sha256_hex(x.buf, (size_t)x.got, r->sha256);
	if (o->sha256 != NULL && strcasecmp(o->sha256, r->sha256) != 0) {
		error = diag_set(d, EBADMSG, "sha256 mismatch for %s: got %s, "
		    "expected %s: the download is corrupt or live.sha256= is "
		    "wrong", o->url, r->sha256, o->sha256);
		goto fail;
	}
	if (x.cap > x.got) {	/* give back the slack of a grown buffer */
		uint8_t *nb = realloc(x.buf, (size_t)x.got);

		if (nb != NULL)
			x.buf = nb;
	}
	curl_easy_cleanup(x.c);
	if ((error = bdev_mem_adopt(x.buf, x.got, 0, out, d)) != 0) {
		free(x.buf);
		return (error);
	}
	snprintf((*out)->desc, sizeof((*out)->desc), "ram(%s)", o->url);
	return (0);
fail:
	curl_easy_cleanup(x.c);
	free(x.buf);
	return (error);
}
