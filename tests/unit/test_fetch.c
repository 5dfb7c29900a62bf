/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fetch.c - net_fetch_mem against a small HTTP/1.1 server in a thread
 * of this test (loopback): whole downloads, Range resume after a cut
 * connection, a server that ignores Range, no Content-Length, 404, a wrong
 * sha256, and the refusal before download when RAM is short.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <liveroot/fetch.h>
#include <liveroot/util.h>

#include "t.h"

#define IMG_SIZE	(3 * 1024 * 1024 + 123)

static uint8_t *img;
static int lfd;
static int port;
static int cut_count;		/* connections of /cut so far */
static int norange_count;

static void
send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

static void
serve_one(int fd)
{
	char req[4096], path[256], hdr[512];
	unsigned long long from = 0;
	size_t n = 0, body, limit;
	ssize_t r;
	char *rg;
	int range = 0, honor = 1, withlen = 1;

	while (n < sizeof(req) - 1) {
		r = recv(fd, req + n, sizeof(req) - 1 - n, 0);
		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	if (sscanf(req, "GET %255s", path) != 1)
		return;
	if ((rg = strcasestr(req, "\r\nRange: bytes=")) != NULL &&
	    sscanf(rg + 15, "%llu-", &from) == 1)
		range = 1;
	limit = IMG_SIZE;
	if (strcmp(path, "/404") == 0) {
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 404 Not Found\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n");
		send_all(fd, hdr, strlen(hdr));
		return;
	}
	if (strcmp(path, "/cut") == 0 && cut_count++ < 2)
		limit = (size_t)from + 1000000;	/* drop after ~1 MB */
	if (strcmp(path, "/norange") == 0) {
		honor = 0;
		if (norange_count++ == 0)
			limit = 500000;
	}
	if (strcmp(path, "/badrange") == 0) {
		if (from == 0)
			limit = 1000000;
		else
			from = 0;	/* answers the resume with the wrong bytes */
	}
	if (strcmp(path, "/nolen") == 0)
		withlen = 0;
	if (!honor)
		range = 0, from = 0;
	if (from > IMG_SIZE)
		from = IMG_SIZE;
	body = IMG_SIZE - (size_t)from;
	if (range)
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 206 Partial Content\r\n"
		    "Content-Length: %zu\r\nContent-Range: bytes %llu-%d/%d\r\n"
		    "Connection: close\r\n\r\n", body, from, IMG_SIZE - 1,
		    IMG_SIZE);
	else if (withlen)
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length:"
		    " %d\r\nConnection: close\r\n\r\n", IMG_SIZE);
	else
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\n"
		    "Connection: close\r\n\r\n");
	send_all(fd, hdr, strlen(hdr));
	if (limit > IMG_SIZE)
		limit = IMG_SIZE;
	if (limit > from)
		send_all(fd, img + from, limit - (size_t)from);
}

static void *
server(void *arg)
{
	int fd;

	(void)arg;
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		serve_one(fd);
		shutdown(fd, SHUT_RDWR);
		close(fd);
	}
	return (NULL);
}

static int
fetch(const char *path, const char *sha, uint64_t avail,
    struct bdev **b, struct fetch_result *r, struct diag *d)
{
	struct fetch_opts o;
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.sha256 = sha;
	o.mem_available = avail;
	o.reserve_bytes = 1 << 20;
	o.retries = 3;
	o.backoff_ms = 10;
	o.timeout_s = 5;
	diag_clear(d);
	return (net_fetch_mem(&o, b, r, d));
}

static int
same(struct bdev *b)
{
	uint8_t *buf = malloc(IMG_SIZE);
	int ok;

	ok = bdev_size(b) == IMG_SIZE &&
	    bdev_read(b, buf, IMG_SIZE, 0, NULL) == 0 &&
	    memcmp(buf, img, IMG_SIZE) == 0;
	free(buf);
	return (ok);
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
	char sha[65];
	uint64_t s = 99;
	size_t i;

	img = malloc(IMG_SIZE);
	for (i = 0; i < IMG_SIZE; i++)
		img[i] = (uint8_t)t_rand(&s);
	net_sha256_hex(img, IMG_SIZE, sha);
	CHECK(strcmp(sha, "") != 0);
	/* The standard test vector. */
	net_sha256_hex("abc", 3, sha);
	CHECK(strcmp(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
	    "b410ff61f20015ad") == 0);
	net_sha256_hex(img, IMG_SIZE, sha);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(lfd, 16) == 0);
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	port = ntohs(sa.sin_port);
	pthread_create(&th, NULL, server, NULL);

	CHECK_EQ(fetch("/img", sha, 0, &b, &r, &d), 0);
	CHECK(same(b));
	CHECK_EQ(r.http_status, 200);
	CHECK_EQ(r.attempts, 1);
	CHECK(bdev_write(b, "x", 1, 0, NULL) == EROFS);
	bdev_destroy(b);

	/* Cut twice mid-download: resumed with Range, bytes intact. */
	CHECK_EQ(fetch("/cut", sha, 0, &b, &r, &d), 0);
	CHECK(same(b));
	CHECK_EQ(r.resumes, 2);
	CHECK_EQ(r.http_status, 206);
	bdev_destroy(b);

	/* A server that ignores Range: restart from zero, still right. */
	CHECK_EQ(fetch("/norange", NULL, 0, &b, &r, &d), 0);
	CHECK(same(b));
	bdev_destroy(b);

	/* No Content-Length: the buffer grows. */
	CHECK_EQ(fetch("/nolen", sha, 0, &b, &r, &d), 0);
	CHECK(same(b));
	bdev_destroy(b);

	/* A 206 that does not continue where the resume asked: refused. */
	CHECK_EQ(fetch("/badrange", NULL, 0, &b, &r, &d), EIO);
	CHECK_MSG(&d, "changed");

	CHECK_EQ(fetch("/404", NULL, 0, &b, &r, &d), ENOENT);
	CHECK_MSG(&d, "HTTP 404");
	CHECK_MSG(&d, "live.url=");
	CHECK_EQ(r.attempts, 1);

	sha[0] = sha[0] == '0' ? '1' : '0';
	CHECK_EQ(fetch("/img", sha, 0, &b, &r, &d), EBADMSG);
	CHECK_MSG(&d, "sha256 mismatch");
	CHECK_EQ(fetch("/img", "abc", 0, &b, &r, &d), EINVAL);
	CHECK_MSG(&d, "64 hex");

	/* 2 MiB free, 1 MiB kept for the overlay: a 3 MiB image is refused
	 * on its announced length, naming both numbers. */
	CHECK_EQ(fetch("/img", NULL, 2 << 20, &b, &r, &d), EFBIG);
	CHECK_MSG(&d, "is 3 MiB but only 1 MiB");
	CHECK_MSG(&d, "1 MiB kept for the overlay");
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
	}
	shutdown(lfd, SHUT_RDWR);
	close(lfd);
	pthread_join(th, NULL);
	free(img);
	return (t_done());
}
