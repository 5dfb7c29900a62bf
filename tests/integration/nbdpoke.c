/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nbdpoke - a raw NBD client for the tests of `liveroot serve` (nbd_limits.sh,
 * nbd_interop.sh) that does what well-behaved clients (nbdinfo, qemu-io)
 * will not.  Not installed.
 *
 *   nbdpoke SOCKET hold N COUNT LEN WAIT_MS
 *	Opens N connections to the unix socket SOCKET, negotiates (OPT_GO),
 *	sends COUNT READs of LEN bytes at offset 0 on each and never reads a
 *	reply (the "stuck client" attack).  Prints "sent N" once every request
 *	went out (or "sent N partial" when the server stopped taking them:
 *	back-pressure), then waits up to WAIT_MS for the server to hang up on
 *	every connection and prints "cut K of N".  With COUNT 0 it then sends
 *	a 4 KiB READ on each connection still open and prints "alive K".
 *	Exit 0 unless a connection or negotiation failed.
 *   nbdpoke SOCKET write OFF LEN BYTE
 *	Negotiates and sends one WRITE of LEN bytes of BYTE at OFF, even when
 *	the export says it is read-only; prints "error E" (the reply's NBD
 *	error, 0 = written, 1 = EPERM) and disconnects.
 *
 * Exit 2 on a usage, connection or protocol error (message on stderr).
 */
#define _GNU_SOURCE	/* POLLRDHUP */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OPTS_MAGIC	0x49484156454f5054ULL
#define REP_MAGIC	0x0003e889045565a9ULL
#define REQ_MAGIC	0x25609513u
#define REPLY_MAGIC	0x67446698u
#define OPT_GO		7
#define REP_ACK		1
#define REP_INFO	3
#define CMD_READ	0
#define CMD_WRITE	1
#define CMD_DISC	2
#define MAXCONN		64
#ifndef POLLRDHUP
#define POLLRDHUP	0	/* then POLLHUP tells the peer closed */
#endif

static void
enc32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
enc64(uint8_t *p, uint64_t v)
{
	enc32(p, (uint32_t)(v >> 32));
	enc32(p + 4, (uint32_t)v);
}

static uint32_t
dec32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static uint64_t
dec64(const uint8_t *p)
{
	return ((uint64_t)dec32(p) << 32 | dec32(p + 4));
}

/* Reads (wr 0) or sends (wr 1) all n bytes of buf: 0, or -1. */
static int
xio(int fd, uint8_t *p, size_t n, int wr)
{
	ssize_t r;

	while (n > 0) {
		r = wr ? send(fd, p, n, MSG_NOSIGNAL) : read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1);
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

static int
xread(int fd, void *buf, size_t n)
{
	return (xio(fd, buf, n, 0));
}

static int
xwrite(int fd, const void *buf, size_t n)
{
	return (xio(fd, (uint8_t *)(uintptr_t)buf, n, 1));
}

static _Noreturn void
die(const char *what)
{
	fprintf(stderr, "nbdpoke: %s: %s\n", what,
	    errno != 0 ? strerror(errno) : "protocol error");
	exit(2);
}

/* Connects and negotiates the default export with OPT_GO. */
static int
nbd_open(const char *path)
{
	struct sockaddr_un sun;
	uint8_t g[18], f[4], oh[16 + 6], rh[20], junk[256];
	uint32_t len;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		die("socket path too long");
	memcpy(sun.sun_path, path, strlen(path));
	errno = 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		die(path);
	errno = 0;
	if (xread(fd, g, sizeof(g)) != 0 || memcmp(g, "NBDMAGIC", 8) != 0 ||
	    dec64(g + 8) != OPTS_MAGIC)
		die("greeting");
	enc32(f, 3);		/* FIXED_NEWSTYLE | NO_ZEROES */
	enc64(oh, OPTS_MAGIC);
	enc32(oh + 8, OPT_GO);
	enc32(oh + 12, 6);	/* name length 0, no info requests */
	memset(oh + 16, 0, 6);
	if (xwrite(fd, f, sizeof(f)) != 0 || xwrite(fd, oh, sizeof(oh)) != 0)
		die("negotiation");
	for (;;) {
		if (xread(fd, rh, sizeof(rh)) != 0 || dec64(rh) != REP_MAGIC)
			die("option reply");
		len = dec32(rh + 16);
		if (len > sizeof(junk) || xread(fd, junk, len) != 0)
			die("option reply data");
		if (dec32(rh + 12) == REP_ACK)
			return (fd);
		if (dec32(rh + 12) != REP_INFO) {
			errno = 0;
			die("OPT_GO refused");
		}
	}
}

static int
req(int fd, uint16_t type, uint64_t handle, uint64_t off, uint32_t len)
{
	uint8_t h[28];

	enc32(h, REQ_MAGIC);
	h[4] = h[5] = 0;
	h[6] = (uint8_t)(type >> 8);
	h[7] = (uint8_t)type;
	enc64(h + 8, handle);
	enc64(h + 16, off);
	enc32(h + 24, len);
	return (xwrite(fd, h, sizeof(h)));
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
}

/* Sends n request headers without blocking for longer than 2 s in total. */
static int
send_reads(int fd, unsigned n, uint32_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	uint8_t h[28];
	unsigned i;
	size_t done;
	ssize_t r;

	for (i = 0; i < n; i++) {
		enc32(h, REQ_MAGIC);
		h[4] = h[5] = h[6] = h[7] = 0;
		enc64(h + 8, i);
		enc64(h + 16, 0);
		enc32(h + 24, len);
		for (done = 0; done < sizeof(h); ) {
			r = send(fd, h + done, sizeof(h) - done,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r > 0) {
				done += (size_t)r;
				continue;
			}
			if (r < 0 && (errno == EAGAIN || errno == EINTR) &&
			    poll(&p, 1, 2000) > 0)
				continue;
			return (-1);
		}
	}
	return (0);
}

static int
do_hold(const char *path, unsigned n, unsigned count, uint32_t len,
    unsigned wait_ms)
{
	struct pollfd p[MAXCONN];
	uint8_t rh[16], buf[4096];
	unsigned i, cut = 0, alive = 0, partial = 0;
	double end;
	int fds[MAXCONN];

	if (n == 0 || n > MAXCONN)
		die("N must be 1..64");
	for (i = 0; i < n; i++)
		fds[i] = nbd_open(path);
	for (i = 0; i < n; i++)
		if (send_reads(fds[i], count, len) != 0)
			partial = 1;
	printf("sent %u%s\n", n, partial ? " partial" : "");
	fflush(stdout);
	end = now_ms() + wait_ms;
	while (count > 0 && cut < n && now_ms() < end) {
		for (i = 0; i < n; i++) {
			p[i].fd = fds[i];
			p[i].events = POLLRDHUP;
			p[i].revents = 0;
		}
		if (poll(p, n, 100) < 0 && errno != EINTR)
			die("poll");
		for (i = 0, cut = 0; i < n; i++)
			if (p[i].revents & (POLLRDHUP | POLLHUP | POLLERR))
				cut++;
	}
	if (count == 0 && wait_ms > 0)
		(void)poll(NULL, 0, (int)wait_ms);
	printf("cut %u of %u\n", cut, n);
	if (count == 0) {
		for (i = 0; i < n; i++)
			if (req(fds[i], CMD_READ, 1, 0, sizeof(buf)) == 0 &&
			    xread(fds[i], rh, sizeof(rh)) == 0 &&
			    dec32(rh) == REPLY_MAGIC && dec32(rh + 4) == 0 &&
			    xread(fds[i], buf, sizeof(buf)) == 0)
				alive++;
		printf("alive %u\n", alive);
	}
	fflush(stdout);
	for (i = 0; i < n; i++)
		close(fds[i]);
	return (0);
}

static int
do_write(const char *path, uint64_t off, uint32_t len, int byte)
{
	uint8_t *buf, rh[16];
	int fd;

	if ((buf = malloc(len ? len : 1)) == NULL)
		die("malloc");
	memset(buf, byte, len);
	fd = nbd_open(path);
	if (req(fd, CMD_WRITE, 42, off, len) != 0 || xwrite(fd, buf, len) != 0)
		die("sending the write");
	errno = 0;
	if (xread(fd, rh, sizeof(rh)) != 0 || dec32(rh) != REPLY_MAGIC ||
	    dec64(rh + 8) != 42)
		die("reading the reply");
	printf("error %u\n", dec32(rh + 4));
	(void)req(fd, CMD_DISC, 43, 0, 0);
	close(fd);
	free(buf);
	return (0);
}

static unsigned long
num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || *end != '\0' || end == s) {
		fprintf(stderr, "nbdpoke: '%s' is not a number\n", s);
		exit(2);
	}
	return (v);
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 7 && strcmp(argv[2], "hold") == 0)
		return (do_hold(argv[1], (unsigned)num(argv[3]),
		    (unsigned)num(argv[4]), (uint32_t)num(argv[5]),
		    (unsigned)num(argv[6])));
	if (argc == 6 && strcmp(argv[2], "write") == 0)
		return (do_write(argv[1], num(argv[3]), (uint32_t)num(argv[4]),
		    (int)num(argv[5])));
	fprintf(stderr, "usage: nbdpoke SOCKET hold N COUNT LEN WAIT_MS\n"
	    "       nbdpoke SOCKET write OFF LEN BYTE\n");
	return (2);
}
