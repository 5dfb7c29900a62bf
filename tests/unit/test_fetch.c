/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fetch.c - net_fetch_mem and net_fetch_fd against a small HTTP/1.1
 * server in this test (loopback, a thread per connection): whole downloads,
 * Range resume after a cut connection, a server that ignores Range, no
 * Content-Length, 404, a wrong sha256, the refusal before download when RAM
 * is short; and the strict rules: a 206 to a request without Range, a 206
 * without Content-Range or of another total, a body without length that
 * ends early, redirect chains (5 followed, 6 refused), a redirect loop, a
 * redirect to another scheme, a server trickling 2 B/s (the minimum speed),
 * the total bound that retries never extend, and URLs redacted (no query,
 * no user:password@) in every message and log line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <liveroot/fetch.h>
#include <liveroot/os.h>
#include <liveroot/util.h>

#include "t.h"

#define IMG_SIZE	(3 * 1024 * 1024 + 123)
#define CUT		1000000

static uint8_t *img;
static int lfd;
static int port;
static int cut_count;		/* connections of /cut so far */
static int norange_count;
static int nolencut_count;
static int nocr_count;
static int loop_count;

static char logbuf[16384];
static size_t loglen;

static int
bump(int *c)
{
	return (__atomic_fetch_add(c, 1, __ATOMIC_SEQ_CST));
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static int
send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w <= 0)
			return (-1);
		b += w;
		n -= (size_t)w;
	}
	return (0);
}

static void
send_str(int fd, const char *s)
{
	(void)send_all(fd, s, strlen(s));
}

/* What one reply holds. */
struct resp {
	int		 partial;	/* 206 */
	int		 withlen;	/* Content-Length */
	int		 withcr;	/* Content-Range (206) */
	unsigned long long from;	/* first byte of the body */
	unsigned long long crtotal;	/* the "/total" of Content-Range */
	size_t		 limit;		/* stop sending at this image offset */
	size_t		 lenclaim;	/* Content-Length of a HEAD (0: real) */
};

static void
reply(int fd, int head, const struct resp *r)
{
	char hdr[512];
	size_t body = IMG_SIZE - (size_t)r->from, o = 0;

	if (r->partial)
		o += (size_t)snprintf(hdr + o, sizeof(hdr) - o, "HTTP/1.1 206 "
		    "Partial Content\r\n");
	else
		o += (size_t)snprintf(hdr + o, sizeof(hdr) - o, "HTTP/1.1 200 "
		    "OK\r\n");
	if (r->withlen)
		o += (size_t)snprintf(hdr + o, sizeof(hdr) - o,
		    "Content-Length: %zu\r\n", head && r->lenclaim ?
		    r->lenclaim : body);
	if (r->partial && r->withcr)
		o += (size_t)snprintf(hdr + o, sizeof(hdr) - o,
		    "Content-Range: bytes %llu-%d/%llu\r\n", r->from,
		    IMG_SIZE - 1, r->crtotal ? r->crtotal :
		    (unsigned long long)IMG_SIZE);
	snprintf(hdr + o, sizeof(hdr) - o, "Connection: close\r\n\r\n");
	send_str(fd, hdr);
	if (head)
		return;
	if (r->limit > r->from)
		(void)send_all(fd, img + r->from, LR_MIN(r->limit, IMG_SIZE) -
		    (size_t)r->from);
}

static void
redirect(int fd, const char *loc)
{
	char hdr[512];

	snprintf(hdr, sizeof(hdr), "HTTP/1.1 302 Found\r\nLocation: %s\r\n"
	    "Content-Length: 5\r\nConnection: close\r\n\r\nmoved", loc);
	send_str(fd, hdr);
}

/* 2 bytes a second, up to 12 s: above libcurl's old 1 B/s floor. */
static void
trickle(int fd)
{
	char hdr[128];
	int i;

	snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
	    "Connection: close\r\n\r\n", IMG_SIZE);
	send_str(fd, hdr);
	for (i = 0; i < 24; i++) {
		if (send_all(fd, img + i, 1) != 0)
			return;
		usleep(500 * 1000);
	}
}

static void
serve_one(int fd)
{
	char req[4096], method[8], path[256], loc[300];
	unsigned long long from = 0;
	struct resp r;
	size_t n = 0;
	ssize_t got;
	char *rg;
	int range = 0, head, k;

	while (n < sizeof(req) - 1) {
		got = recv(fd, req + n, sizeof(req) - 1 - n, 0);
		if (got <= 0)
			return;
		n += (size_t)got;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	if (sscanf(req, "%7s %255s", method, path) != 2)
		return;
	path[strcspn(path, "?")] = '\0';
	head = strcmp(method, "HEAD") == 0;
	if ((rg = strcasestr(req, "\r\nRange: bytes=")) != NULL &&
	    sscanf(rg + 15, "%llu-", &from) == 1)
		range = 1;
	if (from > IMG_SIZE)
		from = IMG_SIZE;
	memset(&r, 0, sizeof(r));
	r.withlen = 1;
	r.withcr = 1;
	r.limit = IMG_SIZE;
	if (range) {
		r.partial = 1;
		r.from = from;
	}

	if (strcmp(path, "/404") == 0) {
		send_str(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
		return;
	}
	if (strcmp(path, "/503") == 0) {
		send_str(fd, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
		return;
	}
	if (strncmp(path, "/redir/", 7) == 0) {
		k = atoi(path + 7);
		if (k > 0) {
			snprintf(loc, sizeof(loc), "/redir/%d", k - 1);
			redirect(fd, loc);
			return;
		}
	}
	if (strcmp(path, "/loopa") == 0 || strcmp(path, "/loopb") == 0) {
		if (bump(&loop_count) > 60)	/* old code: end somehow */
			send_str(fd, "HTTP/1.1 404 Not Found\r\nContent-Length:"
			    " 0\r\nConnection: close\r\n\r\n");
		else
			redirect(fd, path[5] == 'a' ? "/loopb" : "/loopa");
		return;
	}
	if (strcmp(path, "/toftp") == 0) {
		redirect(fd, "ftp://127.0.0.1/rootfs.uzip");
		return;
	}
	if (strcmp(path, "/noloc") == 0) {
		send_str(fd, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
		return;
	}
	if (strcmp(path, "/trickle") == 0) {
		trickle(fd);
		return;
	}
	if (strcmp(path, "/cut") == 0 && !head && bump(&cut_count) < 2)
		r.limit = (size_t)from + CUT;	/* drop after ~1 MB */
	if (strcmp(path, "/norange") == 0) {
		r.partial = 0;
		r.from = 0;
		if (!head && bump(&norange_count) == 0)
			r.limit = 500000;
	}
	if (strcmp(path, "/badrange") == 0) {
		if (from == 0)
			r.limit = CUT;
		else
			r.from = 0;	/* answers the resume with the wrong bytes */
	}
	if (strcmp(path, "/nolen") == 0)
		r.withlen = 0;		/* and no length to HEAD either */
	/* 200 without a length, cut at 1 MB once; HEAD knows the size;
	 * Range honoured. */
	if (strcmp(path, "/nolencut") == 0) {
		if (!head && !range && bump(&nolencut_count) == 0)
			r.limit = CUT;
		if (!range && !head)
			r.withlen = 0;
	}
	/* Always cut at 1 MB, no length, Range ignored. */
	if (strcmp(path, "/nolenshort") == 0) {
		r.partial = 0;
		r.from = 0;
		if (!head) {
			r.withlen = 0;
			r.limit = CUT;
		}
	}
	/* Learns its size by HEAD, then answers the resume of another total. */
	if (strcmp(path, "/nolen206total") == 0) {
		if (!range && !head) {
			r.withlen = 0;
			r.limit = CUT;
		}
		r.crtotal = IMG_SIZE + 5;
		if (head)
			r.crtotal = 0;
	}
	/* A 206 (bytes 0-999999 of the whole) to a request without Range. */
	if (strcmp(path, "/206whole") == 0 && !range) {
		char hdr[256];

		snprintf(hdr, sizeof(hdr), "HTTP/1.1 206 Partial Content\r\n"
		    "Content-Length: %d\r\nContent-Range: bytes 0-%d/%d\r\n"
		    "Connection: close\r\n\r\n", CUT, CUT - 1, IMG_SIZE);
		send_str(fd, hdr);
		(void)send_all(fd, img, CUT);
		return;
	}
	/* Cut once, then a 206 without Content-Range, of the wrong bytes. */
	if (strcmp(path, "/nocr") == 0) {
		if (!range && bump(&nocr_count) == 0)
			r.limit = CUT;
		if (range) {
			r.withcr = 0;
			r.from = 0;
		}
	}
	reply(fd, head, &r);
}

static void *
conn(void *arg)
{
	int fd = (int)(intptr_t)arg;

	serve_one(fd);
	shutdown(fd, SHUT_RDWR);
	close(fd);
	return (NULL);
}

static void *
server(void *arg)
{
	pthread_attr_t at;
	pthread_t th;
	int fd;

	(void)arg;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	while ((fd = accept(lfd, NULL, NULL)) >= 0)
		if (pthread_create(&th, &at, conn, (void *)(intptr_t)fd) != 0)
			close(fd);
	pthread_attr_destroy(&at);
	return (NULL);
}

static void
keep_log(const char *msg, void *arg)
{
	(void)arg;
	loglen += (size_t)snprintf(logbuf + loglen, sizeof(logbuf) - loglen,
	    "%s\n", msg);
	if (loglen >= sizeof(logbuf))
		loglen = sizeof(logbuf) - 1;
}

static void
opts(struct fetch_opts *o, const char *url, const char *sha, uint64_t avail)
{
	memset(o, 0, sizeof(*o));
	o->url = url;
	o->sha256 = sha;
	o->mem_available = avail;
	o->reserve_bytes = 1 << 20;
	o->retries = 3;
	o->backoff_ms = 10;
	o->timeout_s = 5;
	o->log = keep_log;
}

static int
fetch(const char *path, const char *sha, uint64_t avail,
    struct bdev **b, struct fetch_result *r, struct diag *d)
{
	struct fetch_opts o;
	char url[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	opts(&o, url, sha, avail);
	diag_clear(d);
	*b = NULL;
	return (net_fetch_mem(&o, b, r, d));
}

/*
 * The library names no kernel argument and no command-line option in its
 * messages (it did: "live.url=", "--timeout"): the caller adds its own.
 */
static int
names_no_knob(const struct diag *d)
{
	return (strstr(d->msg, "live.") == NULL &&
	    strstr(d->msg, "--") == NULL);
}

static const char *const hints[FETCH_FIX_COUNT] = {
	[FETCH_FIX_URL] = " (url-knob)",
	[FETCH_FIX_SHA256] = " (sha-knob)",
};

static int
same(struct bdev *b)
{
	uint8_t *buf = malloc(IMG_SIZE);
	int ok;

	ok = b != NULL && bdev_size(b) == IMG_SIZE &&
	    bdev_read(b, buf, IMG_SIZE, 0, NULL) == 0 &&
	    memcmp(buf, img, IMG_SIZE) == 0;
	free(buf);
	return (ok);
}

static void
test_redact(void)
{
	char b[64];

	net_url_redact("https://user:pw@host.example:8443/a/b.uzip?tok=S#f",
	    b, sizeof(b));
	CHECK(strcmp(b, "https://host.example:8443/a/b.uzip") == 0);
	net_url_redact("http://h/p#frag", b, sizeof(b));
	CHECK(strcmp(b, "http://h/p") == 0);
	net_url_redact("http://h/a@b?c=d", b, sizeof(b));
	CHECK(strcmp(b, "http://h/a@b") == 0);
	net_url_redact("http://a@b@h?x", b, sizeof(b));
	CHECK(strcmp(b, "http://h") == 0);
	net_url_redact("/x?y", b, sizeof(b));
	CHECK(strcmp(b, "/x") == 0);
	net_url_redact("http://h/\033[2J", b, sizeof(b));
	CHECK(strcmp(b, "http://h/?[2J") == 0);
	net_url_redact("http://h/0123456789", b, 12);
	CHECK(strcmp(b, "http://h...") == 0);
	CHECK_EQ(strlen(b), 11);
}

/* 206 and length rules; each case used to yield a short or spliced image. */
static void
test_strict(void)
{
	struct fetch_result r;
	struct bdev *b;
	struct diag d;

	/* A 206 to a request without Range: refused at once. */
	CHECK_EQ(fetch("/206whole", NULL, 0, &b, &r, &d), EPROTO);
	CHECK_MSG(&d, "206 Partial Content to a request for the whole file");
	CHECK_EQ(r.attempts, 1);
	CHECK(b == NULL);

	/* A body without length cut at 1 MB: HEAD tells the size, the rest
	 * comes by Range. */
	CHECK_EQ(fetch("/nolencut", NULL, 0, &b, &r, &d), 0);
	CHECK(same(b));
	CHECK_EQ(r.resumes, 1);
	CHECK_EQ(r.size_known, 1);
	bdev_destroy(b);

	/* ...and when it is always cut: an error, never a 1 MB image. */
	CHECK_EQ(fetch("/nolenshort", NULL, 0, &b, &r, &d), EIO);
	CHECK_MSG(&d, "at byte 1000000 of 3145851");
	CHECK_MSG(&d, "after 4 attempts");
	CHECK(b == NULL);

	/* The resume answered with another total than HEAD announced. */
	CHECK_EQ(fetch("/nolen206total", NULL, 0, &b, &r, &d), EIO);
	CHECK_MSG(&d, "bytes 1000000-3145850/3145856");
	CHECK_MSG(&d, "changed");

	/* A 206 without Content-Range (and of the wrong bytes). */
	CHECK_EQ(fetch("/nocr", NULL, 0, &b, &r, &d), EPROTO);
	CHECK_MSG(&d, "no valid Content-Range");
}

static void
test_redirects(void)
{
	struct fetch_result r;
	struct bdev *b;
	struct diag d;
	double t0;

	CHECK_EQ(fetch("/redir/5", NULL, 0, &b, &r, &d), 0);
	CHECK(same(b));
	CHECK_EQ(r.redirects, 5);
	bdev_destroy(b);

	CHECK_EQ(fetch("/redir/6", NULL, 0, &b, &r, &d), ELOOP);
	CHECK_MSG(&d, "more than 5 redirects");
	CHECK_MSG(&d, "/redir/0");
	CHECK_EQ(r.attempts, 1);

	t0 = now();
	CHECK_EQ(fetch("/loopa", NULL, 0, &b, &r, &d), ELOOP);
	CHECK_MSG(&d, "/loopb redirects back to");
	CHECK_MSG(&d, "redirect loop");
	CHECK_EQ(r.attempts, 1);
	CHECK(now() - t0 < 2);
	CHECK(loop_count <= 2);

	CHECK_EQ(fetch("/toftp", NULL, 0, &b, &r, &d), EPROTO);
	CHECK_MSG(&d, "only http:// and https://");
	CHECK_MSG(&d, "ftp://127.0.0.1/rootfs.uzip");

	CHECK_EQ(fetch("/noloc", NULL, 0, &b, &r, &d), EPROTO);
	CHECK_MSG(&d, "without a Location");
}

static void
test_bounds(void)
{
	struct fetch_opts o;
	struct fetch_result r;
	struct bdev *b = NULL;
	struct diag d;
	char url[128];
	double t0, el;

	/* 2 B/s with a 1 s window: cut for being too slow, retried once,
	 * then the error says so, long before the server gives up (12 s). */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/trickle", port);
	opts(&o, url, NULL, 0);
	o.timeout_s = 1;
	o.retries = 1;
	o.total_s = 60;
	diag_clear(&d);
	t0 = now();
	CHECK_EQ(net_fetch_mem(&o, &b, &r, &d), EIO);
	el = now() - t0;
	CHECK_MSG(&d, "too slow");
	CHECK_MSG(&d, "bytes in the last ");
	CHECK_MSG(&d, "after 2 attempts");
	CHECK(el < 8);
	CHECK_EQ(r.resumes, 1);

	/* The total bound ends it even with a long speed window. */
	opts(&o, url, NULL, 0);
	o.timeout_s = 30;
	o.total_s = 3;
	diag_clear(&d);
	t0 = now();
	CHECK_EQ(net_fetch_mem(&o, &b, &r, &d), ETIMEDOUT);
	el = now() - t0;
	CHECK_MSG(&d, "not fetched within 3 s");
	CHECK(names_no_knob(&d));
	CHECK_EQ(r.fix, FETCH_FIX_TIME);
	CHECK(el >= 2.5 && el < 6);

	/* Retries never extend the bound: backoff 0.4, 0.8, 1.6 s... stops
	 * before a wait that would end past 2 s. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/503", port);
	opts(&o, url, NULL, 0);
	o.retries = 10;
	o.backoff_ms = 400;
	o.total_s = 2;
	diag_clear(&d);
	t0 = now();
	CHECK_EQ(net_fetch_mem(&o, &b, &r, &d), ETIMEDOUT);
	el = now() - t0;
	CHECK_MSG(&d, "not fetched within 2 s");
	CHECK_MSG(&d, "last: HTTP 503");
	CHECK(el < 2.5);
	CHECK(r.attempts >= 2 && r.attempts <= 4);
}

/* No query string and no user:password@ in any message or log line. */
static void
test_secrets(void)
{
	struct fetch_opts o;
	struct fetch_result r;
	struct bdev *b = NULL;
	struct diag d;
	char url[256];

	snprintf(url, sizeof(url), "http://alice:hunter2@127.0.0.1:%d/404"
	    "?token=SECRET", port);
	opts(&o, url, NULL, 0);
	diag_clear(&d);
	CHECK_EQ(net_fetch_mem(&o, &b, &r, &d), ENOENT);
	CHECK_MSG(&d, "127.0.0.1");
	CHECK(strstr(d.msg, "SECRET") == NULL);
	CHECK(strstr(d.msg, "hunter2") == NULL);
	CHECK(strstr(d.msg, "alice") == NULL);

	/* A resumed download logs its retries: no secret there either. */
	loglen = 0;
	logbuf[0] = '\0';
	cut_count = 0;
	snprintf(url, sizeof(url), "http://alice:hunter2@127.0.0.1:%d/cut"
	    "?token=SECRET", port);
	opts(&o, url, NULL, 0);
	diag_clear(&d);
	CHECK_EQ(net_fetch_mem(&o, &b, &r, &d), 0);
	CHECK(same(b));
	CHECK(strstr(logbuf, "retrying http://127.0.0.1:") != NULL);
	CHECK(strstr(logbuf, "SECRET") == NULL);
	CHECK(strstr(logbuf, "hunter2") == NULL);
	CHECK(strstr(b->desc, "SECRET") == NULL);
	bdev_destroy(b);

	/* Neither in a sha256 mismatch. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/img?token=SECRET",
	    port);
	opts(&o, url, "00000000000000000000000000000000"
	    "00000000000000000000000000000000", 0);
	diag_clear(&d);
	CHECK_EQ(net_fetch_mem(&o, &b, &r, &d), EBADMSG);
	CHECK(strstr(d.msg, "SECRET") == NULL);
}

/* The file sink: the same engine, a restart truncates the file. */
static void
test_fd(const char *sha)
{
	char path[] = "/tmp/test_fetch.XXXXXX", url[128];
	struct fetch_opts o;
	struct fetch_result r;
	struct diag d;
	struct stat st;
	uint8_t *buf;
	int fd;

	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	norange_count = 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/norange", port);
	opts(&o, url, sha, 0);
	diag_clear(&d);
	/* a longer file first: the fetch truncates it */
	CHECK_EQ(ftruncate(fd, IMG_SIZE + 4096), 0);
	CHECK_EQ(net_fetch_fd(&o, fd, path, &r, &d), 0);
	CHECK_EQ(fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, IMG_SIZE);
	buf = malloc(IMG_SIZE);
	CHECK(pread(fd, buf, IMG_SIZE, 0) == IMG_SIZE &&
	    memcmp(buf, img, IMG_SIZE) == 0);
	free(buf);
	CHECK(strcmp(r.sha256, sha) == 0);

	cut_count = 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cut", port);
	opts(&o, url, sha, 0);
	diag_clear(&d);
	CHECK_EQ(net_fetch_fd(&o, fd, path, &r, &d), 0);
	CHECK_EQ(r.resumes, 2);
	CHECK_EQ(fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, IMG_SIZE);
	close(fd);
	unlink(path);
}

int
main(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct fetch_result r;
	struct bdev *b;
	struct diag d;
	pthread_t th;
	char sha[65], bad[65];
	uint8_t dig[OS_SHA256_LEN];
	uint64_t s = 99;
	size_t i;

	img = malloc(IMG_SIZE);
	for (i = 0; i < IMG_SIZE; i++)
		img[i] = (uint8_t)t_rand(&s);
	/* The standard test vector. */
	CHECK_EQ(os_sha256_buf("abc", 3, dig), 0);
	os_hex(dig, sizeof(dig), sha);
	CHECK(strcmp(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
	    "b410ff61f20015ad") == 0);
	CHECK_EQ(os_sha256_buf(img, IMG_SIZE, dig), 0);
	os_hex(dig, sizeof(dig), sha);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(lfd, 16) == 0);
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	port = ntohs(sa.sin_port);
	pthread_create(&th, NULL, server, NULL);

	test_redact();

	CHECK_EQ(fetch("/img", sha, 0, &b, &r, &d), 0);
	CHECK(same(b));
	CHECK_EQ(r.http_status, 200);
	CHECK_EQ(r.attempts, 1);
	CHECK(strcmp(r.sha256, sha) == 0);
	CHECK(bdev_write(b, "x", 1, 0, NULL) == EROFS);
	bdev_destroy(b);

	/* Cut twice mid-download: resumed with Range, bytes intact. */
	CHECK_EQ(fetch("/cut", sha, 0, &b, &r, &d), 0);
	CHECK(same(b));
	CHECK_EQ(r.resumes, 2);
	CHECK_EQ(r.http_status, 206);
	bdev_destroy(b);

	/* A server that ignores Range: restart from zero, still right. */
	CHECK_EQ(fetch("/norange", sha, 0, &b, &r, &d), 0);
	CHECK(same(b));
	bdev_destroy(b);

	/* No Content-Length anywhere (not to HEAD either): the buffer grows,
	 * the image is taken as it came; the sha256 still checks it. */
	CHECK_EQ(fetch("/nolen", sha, 0, &b, &r, &d), 0);
	CHECK(same(b));
	CHECK_EQ(r.size_known, 0);
	bdev_destroy(b);

	/* A 206 that does not continue where the resume asked: refused. */
	CHECK_EQ(fetch("/badrange", NULL, 0, &b, &r, &d), EIO);
	CHECK_MSG(&d, "changed");

	/* The library says what fixes it; only the caller names its knob. */
	CHECK_EQ(fetch("/404", NULL, 0, &b, &r, &d), ENOENT);
	CHECK_MSG(&d, "HTTP 404");
	CHECK_MSG(&d, "check the URL");
	CHECK(names_no_knob(&d));
	CHECK_EQ(r.fix, FETCH_FIX_URL);
	CHECK_EQ(r.attempts, 1);
	net_fetch_hint(&d, &r, hints);
	CHECK_MSG(&d, "check the URL (url-knob)");

	snprintf(bad, sizeof(bad), "%s", sha);
	bad[0] = bad[0] == '0' ? '1' : '0';
	CHECK_EQ(fetch("/img", bad, 0, &b, &r, &d), EBADMSG);
	CHECK_MSG(&d, "sha256 mismatch");
	CHECK(names_no_knob(&d));
	CHECK_EQ(r.fix, FETCH_FIX_SHA256);
	CHECK_EQ(fetch("/img", "abc", 0, &b, &r, &d), EINVAL);
	CHECK_MSG(&d, "64 hex");
	CHECK(names_no_knob(&d));
	CHECK_EQ(r.fix, FETCH_FIX_SHA256);
	net_fetch_hint(&d, &r, hints);
	CHECK_MSG(&d, "digits (sha-knob)");
	CHECK_EQ(fetch("/img", NULL, 0, &b, &r, &d), 0);
	bdev_destroy(b);

	/* 2 MiB free, 1 MiB kept for the overlay: a 3 MiB image is refused
	 * on its announced length, naming both numbers. */
	CHECK_EQ(fetch("/img", NULL, 2 << 20, &b, &r, &d), EFBIG);
	CHECK_MSG(&d, "is 3 MiB but only 1 MiB");
	CHECK_MSG(&d, "1 MiB kept for the overlay");
	CHECK(names_no_knob(&d));
	CHECK_EQ(r.fix, FETCH_FIX_RESERVE);
	/* Without a length the growing buffer hits the same wall. */
	CHECK_EQ(fetch("/nolen", NULL, 2 << 20, &b, &r, &d), EFBIG);

	/* Nobody listening: retries, then a message naming the URL. */
	{
		struct fetch_opts o;

		memset(&o, 0, sizeof(o));
		o.url = "http://127.0.0.1:1/x.uzip";
		o.retries = 1;
		o.backoff_ms = 10;
		CHECK_EQ(net_fetch_mem(&o, &b, &r, &d), EIO);
		CHECK_MSG(&d, "after 2 attempts");
		CHECK_MSG(&d, "127.0.0.1:1/x.uzip");
		o.url = "ftp://127.0.0.1/x.uzip";
		CHECK_EQ(net_fetch_mem(&o, &b, &r, &d), EINVAL);
		CHECK_MSG(&d, "only http:// and https://");
	}

	test_strict();
	test_redirects();
	test_bounds();
	test_secrets();
	test_fd(sha);

	shutdown(lfd, SHUT_RDWR);
	close(lfd);
	pthread_join(th, NULL);
	/* img stays: an abandoned /trickle connection may still be sending */
	return (t_done());
}
