/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shaper.c - bench/netboot's link: a relay from a unix socket to an HTTP
 * server on loopback whose server-to-client direction, summed over every
 * connection, is held to RATE bytes per second (a token bucket), as one
 * network link of that speed would be.  nginx's limit_rate limits each
 * connection on its own, so a client with four connections would get four
 * links; this shapes what all of a guest's connections share.
 *
 * usage: netboot_shaper UNIX-PATH PORT RATE COUNTFILE
 *   UNIX-PATH  the socket to listen on (QEMU's guestfwd runs
 *              "socat STDIO UNIX-CONNECT:UNIX-PATH" for each connection)
 *   PORT       the server: 127.0.0.1:PORT
 *   RATE       bytes per second, server to client (e.g. 12500000 for
 *              100 Mbit/s); the bucket holds at most RATE/50 bytes (20 ms)
 *              and is drawn from in reads of at least 16 KiB
 *   COUNTFILE  on SIGUSR1 the shaper writes "BYTES" there: the bytes
 *              relayed to clients so far (bench/netboot: at the marker)
 * Runs until SIGTERM or SIGINT.  At most 64 connections at once (more
 * wait in the listen queue).  One thread, poll(2); client-to-server bytes
 * (requests) are not shaped.  A benchmark tool, not a test.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SH_MAXCONN	64
#define SH_BUF		(64u << 10)

struct pipe_buf {
	uint8_t		data[SH_BUF];
	size_t		off, len;
};

struct conn {
	int		cfd, sfd;	/* client (unix), server (tcp); -1 free */
	struct pipe_buf	up;		/* client -> server */
	struct pipe_buf	down;		/* server -> client */
	int		ceof, seof;
};

static volatile sig_atomic_t sh_stop, sh_report;

static void
on_stop(int sig)
{
	(void)sig;
	sh_stop = 1;
}

static void
on_usr1(int sig)
{
	(void)sig;
	sh_report = 1;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
conn_close(struct conn *c)
{
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->sfd >= 0)
		close(c->sfd);
	c->cfd = c->sfd = -1;
}

static int
server_connect(int port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (-1);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return (-1);
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	return (fd);
}

/* Write what b holds to fd; 0, or -1 when the peer is gone. */
static int
flush_buf(int fd, struct pipe_buf *b)
{
	ssize_t n;

	while (b->len > 0) {
		n = write(fd, b->data + b->off, b->len);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return (0);
			return (-1);
		}
		b->off += (size_t)n;
		b->len -= (size_t)n;
	}
	b->off = 0;
	return (0);
}

int
main(int argc, char **argv)
{
	static struct conn conns[SH_MAXCONN];
	struct pollfd pfd[1 + 2 * SH_MAXCONN];
	struct sockaddr_un su;
	struct sigaction sa;
	double rate, burst, quantum, tokens, last, t;
	uint64_t total = 0;
	int lfd, port, i, n, timeout, start = 0;
	char *end;

	if (argc != 5) {
		fprintf(stderr, "usage: netboot_shaper UNIX-PATH PORT RATE "
		    "COUNTFILE\n");
		return (2);
	}
	port = (int)strtol(argv[2], &end, 10);
	if (*end != '\0' || port < 1 || port > 65535) {
		fprintf(stderr, "netboot_shaper: PORT '%s': 1..65535\n",
		    argv[2]);
		return (2);
	}
	rate = strtod(argv[3], &end);
	if (*end != '\0' || !(rate >= 1000)) {
		fprintf(stderr, "netboot_shaper: RATE '%s': bytes per second, "
		    "at least 1000\n", argv[3]);
		return (2);
	}
	burst = rate / 50;
	quantum = burst < 16384 ? burst : 16384;
	if (strlen(argv[1]) >= sizeof(su.sun_path)) {
		fprintf(stderr, "netboot_shaper: %s: path too long\n", argv[1]);
		return (2);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	memcpy(su.sun_path, argv[1], strlen(argv[1]));
	(void)unlink(argv[1]);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&su, sizeof(su)) != 0 ||
	    listen(lfd, 64) != 0) {
		fprintf(stderr, "netboot_shaper: %s: %s\n", argv[1],
		    strerror(errno));
		return (2);
	}
	(void)fcntl(lfd, F_SETFL, O_NONBLOCK);
	for (i = 0; i < SH_MAXCONN; i++)
		conns[i].cfd = conns[i].sfd = -1;
	tokens = burst;
	last = now();
	while (!sh_stop) {
		if (sh_report) {
			FILE *f;

			sh_report = 0;
			if ((f = fopen(argv[4], "w")) != NULL) {
				fprintf(f, "%" PRIu64 "\n", total);
				fclose(f);
			}
		}
		t = now();
		tokens += (t - last) * rate;
		if (tokens > burst)
			tokens = burst;
		last = t;
		n = 0;
		pfd[n].fd = lfd;
		pfd[n].events = POLLIN;
		n++;
		timeout = 1000;
		for (i = 0; i < SH_MAXCONN; i++) {
			struct conn *c = &conns[i];
			short ce = 0, se = 0;

			if (c->cfd < 0)
				continue;
			if (!c->ceof && c->up.len == 0)
				ce |= POLLIN;
			if (c->down.len > 0)
				ce |= POLLOUT;
			if (c->up.len > 0)
				se |= POLLOUT;
			if (!c->seof && c->down.len == 0) {
				if (tokens >= quantum)
					se |= POLLIN;
				else	/* until the bucket holds a quantum */
					timeout = 1 + (int)((quantum - tokens) /
					    rate * 1000);
			}
			pfd[n].fd = c->cfd;
			pfd[n].events = ce;
			n++;
			pfd[n].fd = c->sfd;
			pfd[n].events = se;
			n++;
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "netboot_shaper: poll: %s\n",
			    strerror(errno));
			return (2);
		}
		if (pfd[0].revents & POLLIN) {
			int cfd;

			while ((cfd = accept(lfd, NULL, NULL)) >= 0) {
				(void)fcntl(cfd, F_SETFL, O_NONBLOCK);
				(void)fcntl(cfd, F_SETFD, FD_CLOEXEC);
				for (i = 0; i < SH_MAXCONN &&
				    conns[i].cfd >= 0; i++)
					;
				if (i == SH_MAXCONN) {
					close(cfd);
					continue;
				}
				memset(&conns[i], 0, sizeof(conns[i]));
				conns[i].cfd = cfd;
				if ((conns[i].sfd = server_connect(port)) < 0) {
					fprintf(stderr, "netboot_shaper: "
					    "127.0.0.1:%d: %s\n", port,
					    strerror(errno));
					close(cfd);
					conns[i].cfd = -1;
				}
			}
		}
		/* serve the connections round robin, so none starves */
		for (int k = 0; k < SH_MAXCONN; k++) {
			struct conn *c = &conns[(start + k) % SH_MAXCONN];
			ssize_t r;
			size_t want;

			if (c->cfd < 0)
				continue;
			/* client -> server, unshaped */
			if (!c->ceof && c->up.len == 0) {
				r = read(c->cfd, c->up.data, SH_BUF);
				if (r == 0)
					c->ceof = 1;
				else if (r > 0)
					c->up.len = (size_t)r;
				else if (errno != EAGAIN && errno != EINTR)
					c->ceof = 1;
			}
			if (flush_buf(c->sfd, &c->up) != 0) {
				conn_close(c);
				continue;
			}
			if (c->ceof && c->up.len == 0)
				(void)shutdown(c->sfd, SHUT_WR);
			/* server -> client, within the bucket */
			if (!c->seof && c->down.len == 0 && tokens >= quantum) {
				want = tokens < SH_BUF ? (size_t)tokens : SH_BUF;
				r = read(c->sfd, c->down.data, want);
				if (r == 0)
					c->seof = 1;
				else if (r > 0) {
					c->down.len = (size_t)r;
					tokens -= (double)r;
					total += (uint64_t)r;
				} else if (errno != EAGAIN && errno != EINTR)
					c->seof = 1;
			}
			if (flush_buf(c->cfd, &c->down) != 0) {
				conn_close(c);
				continue;
			}
			if (c->seof && c->down.len == 0) {
				conn_close(c);
				continue;
			}
			if (c->ceof && c->seof)
				conn_close(c);
		}
		start = (start + 1) % SH_MAXCONN;
	}
	for (i = 0; i < SH_MAXCONN; i++)
		conn_close(&conns[i]);
	close(lfd);
	(void)unlink(argv[1]);
	return (0);
}
