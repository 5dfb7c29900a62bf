/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_nbd.c - the NBD server against a tiny in-test client over a
 * socketpair (and one unix socket for nbd_server_listen): option haggling,
 * commands, read-only refusal, range errors, requests in flight, and hostile
 * clients that must be disconnected without harming the export; the limits
 * on what a client may cost (memory in flight, clients, send and handshake
 * timeouts).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/nbd.h>
#include <liveroot/util.h>

#include "t.h"

#define OPTS_MAGIC	0x49484156454f5054ULL
#define REP_MAGIC	0x0003e889045565a9ULL
#define REQ_MAGIC	0x25609513u
#define REPLY_MAGIC	0x67446698u

#define DEVSZ		(1024 * 1024)

struct srv {
	struct nbd_server	*s;
	int			 fd;
	int			 handshake;
	int			 rc;
	struct diag		 d;
	pthread_t		 t;
};

static void *
srv_main(void *arg)
{
	struct srv *v = arg;

	diag_clear(&v->d);
	v->rc = nbd_server_serve_fd(v->s, v->fd, v->handshake, &v->d);
	return (NULL);
}

/* Starts serving one end of a socketpair; returns the client end. */
static int
srv_start(struct srv *v, struct nbd_server *s, int handshake)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	v->s = s;
	v->fd = sv[1];
	v->handshake = handshake;
	pthread_create(&v->t, NULL, srv_main, v);
	return (sv[0]);
}

static int
srv_join(struct srv *v)
{
	pthread_join(v->t, NULL);
	return (v->rc);
}

static int
xread(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return (-1);
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

static void
xwrite(int fd, const void *buf, size_t n)
{
	if (write(fd, buf, n) != (ssize_t)n)
		fprintf(stderr, "short write to the server\n");
}

static void
be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Greeting, client flags. Returns the server's handshake flags or -1. */
static int
cl_hello(int fd, uint32_t cflags)
{
	uint8_t g[18], f[4];

	if (xread(fd, g, sizeof(g)) != 0)
		return (-1);
	if (memcmp(g, "NBDMAGIC", 8) != 0 || lr_be64dec(g + 8) != OPTS_MAGIC)
		return (-1);
	lr_be32enc(f, cflags);
	xwrite(fd, f, 4);
	return (lr_be16dec(g + 16));
}

static void
cl_opt(int fd, uint32_t opt, const void *data, uint32_t len)
{
	uint8_t h[16];

	lr_be64enc(h, OPTS_MAGIC);
	lr_be32enc(h + 8, opt);
	lr_be32enc(h + 12, len);
	xwrite(fd, h, 16);
	if (len > 0)
		xwrite(fd, data, len);
}

/* Reads one option reply; returns its type (or 0 on EOF), data in buf. */
static uint32_t
cl_opt_reply(int fd, uint32_t opt, uint8_t *buf, uint32_t *len)
{
	uint8_t h[20];

	if (xread(fd, h, 20) != 0)
		return (0);
	if (lr_be64dec(h) != REP_MAGIC || lr_be32dec(h + 8) != opt)
		return (0);
	*len = lr_be32dec(h + 16);
	if (*len > 4096 || xread(fd, buf, *len) != 0)
		return (0);
	return (lr_be32dec(h + 12));
}

/* INFO/GO with name and info requests; returns tflags, size via *size. */
static int
cl_go(int fd, uint32_t opt, const char *name, uint64_t *size,
    uint32_t *blk_pref, int *got_name)
{
	uint8_t d[64], buf[4096];
	uint32_t nl = (uint32_t)strlen(name), len, type;
	int tflags = -1;

	lr_be32enc(d, nl);
	memcpy(d + 4, name, nl);
	be16(d + 4 + nl, 2);
	be16(d + 6 + nl, 1);	/* NBD_INFO_NAME */
	be16(d + 8 + nl, 3);	/* NBD_INFO_BLOCK_SIZE */
	cl_opt(fd, opt, d, nl + 10);
	for (;;) {
		type = cl_opt_reply(fd, opt, buf, &len);
		if (type == 1)		/* ACK */
			return (tflags);
		if (type != 3)		/* an error */
			return (-(int)(type & 0xff));
		switch (lr_be16dec(buf)) {
		case 0:
			*size = lr_be64dec(buf + 2);
			tflags = lr_be16dec(buf + 10);
			break;
		case 1:
			if (got_name != NULL)
				*got_name = (len == 2 + nl &&
				    memcmp(buf + 2, name, nl) == 0);
			break;
		case 3:
			if (blk_pref != NULL)
				*blk_pref = lr_be32dec(buf + 6);
			break;
		}
	}
}

static void
cl_req(int fd, uint16_t type, uint16_t flags, uint64_t handle, uint64_t off,
    uint32_t len, const void *payload)
{
	uint8_t h[28];

	lr_be32enc(h, REQ_MAGIC);
	be16(h + 4, flags);
	be16(h + 6, type);
	lr_be64enc(h + 8, handle);
	lr_be64enc(h + 16, off);
	lr_be32enc(h + 24, len);
	xwrite(fd, h, 28);
	if (payload != NULL && len > 0)
		xwrite(fd, payload, len);
}

/* Reads a simple reply header; returns the error or -1 on EOF/garbage. */
static int
cl_reply(int fd, uint64_t *handle)
{
	uint8_t h[16];

	if (xread(fd, h, 16) != 0 || lr_be32dec(h) != REPLY_MAGIC)
		return (-1);
	if (handle != NULL)
		*handle = lr_be64dec(h + 8);
	return ((int)lr_be32dec(h + 4));
}

/* One request, one reply (data read into rbuf for READ). */
static int
cl_cmd(int fd, uint16_t type, uint16_t flags, uint64_t off, uint32_t len,
    const void *payload, void *rbuf)
{
	uint64_t h = 0;
	int e;

	cl_req(fd, type, flags, 77, off, len, payload);
	e = cl_reply(fd, &h);
	if (e < 0 || h != 77)
		return (-1);
	if (type == 0 && e == 0 && xread(fd, rbuf, len) != 0)
		return (-1);
	return (e);
}

static int
at_eof(int fd)
{
	uint8_t c;

	return (read(fd, &c, 1) == 0);
}

/* DISC on fd (eof: the server then closes it); v ends with 0; fd closed. */
static void
cl_disc(int fd, struct srv *v, int eof)
{
	cl_req(fd, 2, 0, 1, 0, 0, NULL);
	if (eof)
		CHECK(at_eof(fd));
	CHECK_EQ(srv_join(v), 0);
	close(fd);
}

static struct bdev *
mkdev(void)
{
	struct bdev *b;

	if (bdev_mem_new(DEVSZ, 0, &b, NULL) != 0)
		abort();
	return (b);
}

static void
test_haggling_and_commands(void)
{
	struct nbd_export_opts o = { .name = "exp", .readonly = 0 };
	struct nbd_server *s;
	struct srv v;
	struct bdev *b = mkdev();
	uint8_t buf[4096], wb[8192], rb[8192];
	uint32_t len, pref = 0;
	uint64_t size = 0;
	int fd, tf, gotname = 0;
	size_t i;

	CHECK_EQ(nbd_server_new(b, &o, &s, NULL), 0);
	fd = srv_start(&v, s, 1);
	CHECK_EQ(cl_hello(fd, 3), 3);	/* FIXED_NEWSTYLE | NO_ZEROES */

	/* Unknown option (STRUCTURED_REPLY, 8): ERR_UNSUP, still talking. */
	cl_opt(fd, 8, NULL, 0);
	CHECK_EQ(cl_opt_reply(fd, 8, buf, &len), 0x80000001u);
	cl_opt(fd, 0x1234, "junk", 4);
	CHECK_EQ(cl_opt_reply(fd, 0x1234, buf, &len), 0x80000001u);

	/* LIST: one SERVER reply with the name, then ACK. */
	cl_opt(fd, 3, NULL, 0);
	CHECK_EQ(cl_opt_reply(fd, 3, buf, &len), 2);
	CHECK_EQ(len, 7);
	CHECK(lr_be32dec(buf) == 3 && memcmp(buf + 4, "exp", 3) == 0);
	CHECK_EQ(cl_opt_reply(fd, 3, buf, &len), 1);

	/* INFO on an unknown name: ERR_UNKNOWN (6). */
	CHECK_EQ(cl_go(fd, 6, "nope", &size, NULL, NULL), -6);
	/* INFO with a truncated payload: ERR_INVALID (3). */
	cl_opt(fd, 6, "\0\0\0\x09xx", 6);
	CHECK_EQ(cl_opt_reply(fd, 6, buf, &len), 0x80000003u);
	/* INFO: export, name, block size; haggling goes on. */
	tf = cl_go(fd, 6, "exp", &size, &pref, &gotname);
	CHECK_EQ(size, DEVSZ);
	CHECK(gotname);
	CHECK(pref >= 512);
	CHECK(tf > 0 && (tf & 0x01));			/* HAS_FLAGS */
	CHECK(tf > 0 && !(tf & 0x02));			/* not READ_ONLY */
	CHECK(tf > 0 && (tf & 0x04) && (tf & 0x08));	/* FLUSH, FUA */
	CHECK(tf > 0 && (tf & 0x20) && (tf & 0x40));	/* TRIM, ZEROES */
	/* GO on the default name "". */
	tf = cl_go(fd, 7, "", &size, NULL, NULL);
	CHECK(tf > 0);

	/* Write at an odd offset, read back. */
	for (i = 0; i < sizeof(wb); i++)
		wb[i] = (uint8_t)(i * 7 + 3);
	CHECK_EQ(cl_cmd(fd, 1, 0, 4097, 5000, wb, NULL), 0);
	CHECK_EQ(cl_cmd(fd, 0, 0, 4097, 5000, NULL, rb), 0);
	CHECK(memcmp(rb, wb, 5000) == 0);
	/* FUA write, flush. */
	CHECK_EQ(cl_cmd(fd, 1, 1, 0, 512, wb, NULL), 0);
	CHECK_EQ(cl_cmd(fd, 3, 0, 0, 0, NULL, NULL), 0);
	/* Write-zeroes and trim read back as zeros. */
	CHECK_EQ(cl_cmd(fd, 6, 0, 4097, 100, NULL, NULL), 0);
	CHECK_EQ(cl_cmd(fd, 0, 0, 4097, 100, NULL, rb), 0);
	CHECK(lr_is_zero(rb, 100));
	CHECK_EQ(cl_cmd(fd, 1, 0, 65536, 8192, wb, NULL), 0);
	CHECK_EQ(cl_cmd(fd, 4, 0, 65536, 8192, NULL, NULL), 0);
	CHECK_EQ(cl_cmd(fd, 0, 0, 65536, 8192, NULL, rb), 0);
	CHECK(lr_is_zero(rb, 8192));

	/* Out of range: EINVAL, connection stays usable. */
	CHECK_EQ(cl_cmd(fd, 0, 0, DEVSZ - 10, 11, NULL, rb), 22);
	CHECK_EQ(cl_cmd(fd, 0, 0, UINT64_MAX - 5, 11, NULL, rb), 22);
	CHECK_EQ(cl_cmd(fd, 1, 0, DEVSZ, 512, wb, NULL), 22);
	CHECK_EQ(cl_cmd(fd, 4, 0, DEVSZ - 1, 2, NULL, NULL), 22);
	/* A read over the payload limit: EINVAL, no payload to drain. */
	CHECK_EQ(cl_cmd(fd, 0, 0, 0, NBD_MAX_PAYLOAD + 1, NULL, rb), 22);
	/* An unknown command: EINVAL. */
	CHECK_EQ(cl_cmd(fd, 42, 0, 0, 0, NULL, NULL), 22);
	CHECK_EQ(cl_cmd(fd, 0, 0, 4097, 5000, NULL, rb), 0);
	CHECK(memcmp(rb + 100, wb + 100, 4900) == 0);

	/* DISC: orderly end. */
	cl_disc(fd, &v, 1);
	nbd_server_destroy(s);
	bdev_destroy(b);
}

/* 48 reads and writes sent before any reply is read. */
static void
test_in_flight(void)
{
	struct nbd_export_opts o = { .name = "", .threads = 8 };
	struct nbd_server_stats st;
	struct nbd_server *s;
	struct srv v;
	struct bdev *b = mkdev();
	static uint8_t pat[48][4096], rb[4096];
	int seen[96] = { 0 };
	uint64_t size, h;
	int fd, i, ok = 1;

	CHECK_EQ(nbd_server_new(b, &o, &s, NULL), 0);
	fd = srv_start(&v, s, 1);
	CHECK_EQ(cl_hello(fd, 1), 3);
	CHECK(cl_go(fd, 7, "", &size, NULL, NULL) > 0);
	for (i = 0; i < 48; i++) {
		memset(pat[i], i + 1, sizeof(pat[i]));
		cl_req(fd, 1, 0, (uint64_t)i, (uint64_t)i * 4096, 4096,
		    pat[i]);
	}
	for (i = 0; i < 48; i++) {
		if (cl_reply(fd, &h) != 0 || h >= 48) {
			ok = 0;
			break;
		}
		seen[h]++;
	}
	CHECK(ok);
	for (i = 0; i < 48; i++)
		cl_req(fd, 0, 0, (uint64_t)(48 + i), (uint64_t)i * 4096, 4096,
		    NULL);
	for (i = 0; i < 48; i++) {
		if (cl_reply(fd, &h) != 0 || h < 48 || h >= 96 ||
		    xread(fd, rb, sizeof(rb)) != 0) {
			ok = 0;
			break;
		}
		seen[h]++;
		if (memcmp(rb, pat[h - 48], sizeof(rb)) != 0)
			ok = 0;
	}
	CHECK(ok);
	for (i = 0; i < 96; i++)
		if (seen[i] != 1)
			ok = 0;
	CHECK(ok);
	close(fd);			/* no DISC: the client just goes */
	CHECK_EQ(srv_join(&v), 0);
	nbd_server_get_stats(s, &st);
	CHECK_EQ(st.writes, 48);
	CHECK_EQ(st.reads, 48);
	CHECK_EQ(st.bytes_written, 48 * 4096);
	CHECK_EQ(st.active, 0);
	nbd_server_destroy(s);
	bdev_destroy(b);
}

static void
test_readonly_refusal(void)
{
	struct nbd_export_opts o = { .name = "", .readonly = 1 };
	struct nbd_server *s;
	struct srv v;
	struct bdev *b = mkdev();
	uint8_t wb[4096], rb[4096];
	uint64_t size;
	int fd, tf;

	memset(wb, 0xab, sizeof(wb));
	CHECK_EQ(bdev_write(b, wb, sizeof(wb), 0, NULL), 0);
	CHECK_EQ(nbd_server_new(b, &o, &s, NULL), 0);
	fd = srv_start(&v, s, 1);
	CHECK_EQ(cl_hello(fd, 3), 3);
	tf = cl_go(fd, 7, "", &size, NULL, NULL);
	CHECK_EQ(tf, nbd_server_tflags(s));
	CHECK(tf > 0 && (tf & 0x02));		/* READ_ONLY */
	CHECK(tf > 0 && !(tf & 0x20));		/* no TRIM */
	memset(wb, 0x11, sizeof(wb));
	CHECK_EQ(cl_cmd(fd, 1, 0, 0, 4096, wb, NULL), 1);	/* EPERM */
	CHECK_EQ(cl_cmd(fd, 4, 0, 0, 4096, NULL, NULL), 1);
	CHECK_EQ(cl_cmd(fd, 6, 0, 0, 4096, NULL, NULL), 1);
	/* The refused payload was drained: the stream is still in sync. */
	CHECK_EQ(cl_cmd(fd, 0, 0, 0, 4096, NULL, rb), 0);
	memset(wb, 0xab, sizeof(wb));
	CHECK(memcmp(rb, wb, sizeof(rb)) == 0);
	CHECK_EQ(cl_cmd(fd, 3, 0, 0, 0, NULL, NULL), 0);
	cl_disc(fd, &v, 0);
	nbd_server_destroy(s);
	bdev_destroy(b);
}

/* A client that talks (handshake=0, as the Linux kernel after NBD_SET_SOCK)
 * and NBD_OPT_EXPORT_NAME with and without NO_ZEROES. */
static void
test_no_handshake_and_export_name(void)
{
	struct nbd_server *s;
	struct srv v;
	struct bdev *b = mkdev();
	uint8_t wb[512], rb[512], r[134];
	int fd;

	CHECK_EQ(nbd_server_new(b, NULL, &s, NULL), 0);
	fd = srv_start(&v, s, 0);
	memset(wb, 0x5a, sizeof(wb));
	CHECK_EQ(cl_cmd(fd, 1, 0, 1024, 512, wb, NULL), 0);
	CHECK_EQ(cl_cmd(fd, 0, 0, 1024, 512, NULL, rb), 0);
	CHECK(memcmp(rb, wb, sizeof(rb)) == 0);
	cl_disc(fd, &v, 0);

	fd = srv_start(&v, s, 1);
	CHECK_EQ(cl_hello(fd, 1), 3);		/* zeroes wanted */
	cl_opt(fd, 1, "", 0);
	CHECK_EQ(xread(fd, r, 134), 0);
	CHECK_EQ(lr_be64dec(r), DEVSZ);
	CHECK(lr_is_zero(r + 10, 124));
	CHECK_EQ(cl_cmd(fd, 0, 0, 1024, 512, NULL, rb), 0);
	CHECK(memcmp(rb, wb, sizeof(rb)) == 0);
	close(fd);
	CHECK_EQ(srv_join(&v), 0);

	fd = srv_start(&v, s, 1);
	CHECK_EQ(cl_hello(fd, 3), 3);
	cl_opt(fd, 1, "wrong", 5);		/* unknown: closed */
	CHECK(at_eof(fd));
	srv_join(&v);
	close(fd);

	/* NBD_OPT_ABORT: ACK, then close, not an error. */
	fd = srv_start(&v, s, 1);
	CHECK_EQ(cl_hello(fd, 3), 3);
	cl_opt(fd, 2, NULL, 0);
	CHECK_EQ(cl_opt_reply(fd, 2, r, &(uint32_t){ 0 }), 1);
	CHECK(at_eof(fd));
	CHECK_EQ(srv_join(&v), 0);
	close(fd);
	nbd_server_destroy(s);
	bdev_destroy(b);
}

/* Connects, negotiates GO; returns fd. */
static int
go_client(struct srv *v, struct nbd_server *s)
{
	uint64_t size;
	int fd = srv_start(v, s, 1);

	if (cl_hello(fd, 3) != 3 || cl_go(fd, 7, "", &size, NULL, NULL) <= 0)
		fprintf(stderr, "go_client: negotiation failed\n");
	return (fd);
}

static void
test_hostile_bad_magic_disconnects(void)
{
	struct nbd_server *s;
	struct srv v, v2;
	struct bdev *b = mkdev();
	uint8_t junk[28], rb[512], wb[512];
	int fd, fd2;

	CHECK_EQ(nbd_server_new(b, NULL, &s, NULL), 0);
	/* A second, well-behaved client is connected throughout. */
	fd2 = go_client(&v2, s);
	memset(wb, 0x42, sizeof(wb));
	CHECK_EQ(cl_cmd(fd2, 1, 0, 0, 512, wb, NULL), 0);

	fd = go_client(&v, s);
	memset(junk, 0xee, sizeof(junk));
	xwrite(fd, junk, sizeof(junk));
	CHECK(at_eof(fd));
	CHECK_EQ(srv_join(&v), EPROTO);
	CHECK_MSG(&v.d, "bad magic");
	close(fd);

	/* A write over the payload limit: disconnected. */
	fd = go_client(&v, s);
	cl_req(fd, 1, 0, 9, 0, NBD_MAX_PAYLOAD + 1, NULL);
	CHECK(at_eof(fd));
	CHECK_EQ(srv_join(&v), EPROTO);
	CHECK_MSG(&v.d, "over the");
	close(fd);

	/* A huge length on a trim is just out of range. */
	fd = go_client(&v, s);
	CHECK_EQ(cl_cmd(fd, 4, 0, 0, 0xffffffffu, NULL, NULL), 22);
	/* A client that dies in the middle of a write payload. */
	cl_req(fd, 1, 0, 9, 0, 4096, NULL);
	xwrite(fd, wb, 100);
	close(fd);
	CHECK(srv_join(&v) != 0);

	/* Bad option magic and an oversized option: disconnected. */
	fd = srv_start(&v, s, 1);
	CHECK_EQ(cl_hello(fd, 3), 3);
	xwrite(fd, junk, 16);
	CHECK(at_eof(fd));
	CHECK_EQ(srv_join(&v), EPROTO);
	close(fd);
	fd = srv_start(&v, s, 1);
	CHECK_EQ(cl_hello(fd, 3), 3);
	{
		uint8_t h[16];

		lr_be64enc(h, OPTS_MAGIC);
		lr_be32enc(h + 8, 7);
		lr_be32enc(h + 12, 0xfffffff0u);
		xwrite(fd, h, 16);
	}
	CHECK(at_eof(fd));
	CHECK_EQ(srv_join(&v), EPROTO);
	close(fd);
	/* Unknown client flags: disconnected. */
	fd = srv_start(&v, s, 1);
	CHECK_EQ(cl_hello(fd, 0x80000001u), 3);
	CHECK(at_eof(fd));
	CHECK_EQ(srv_join(&v), EPROTO);
	close(fd);

	/* The other client and the export are unharmed. */
	CHECK_EQ(cl_cmd(fd2, 0, 0, 0, 512, NULL, rb), 0);
	CHECK(memcmp(rb, wb, sizeof(rb)) == 0);
	cl_disc(fd2, &v2, 0);
	nbd_server_destroy(s);
	bdev_destroy(b);
}

/* A capped RAM device: a write past the cap is ENOSPC (28). */
static void
test_enospc_mapped(void)
{
	struct nbd_server *s;
	struct srv v;
	struct bdev *b;
	static uint8_t wb[256 * 1024];
	struct diag d;
	int fd;

	CHECK_EQ(bdev_mem_new(DEVSZ, 64 * 1024, &b, NULL), 0);
	CHECK_EQ(nbd_server_new(b, NULL, &s, NULL), 0);
	fd = go_client(&v, s);
	memset(wb, 1, sizeof(wb));
	CHECK_EQ(nbd_server_last_error(s, NULL), 0);
	CHECK_EQ(cl_cmd(fd, 1, 0, 0, sizeof(wb), wb, NULL), 28);
	close(fd);
	srv_join(&v);
	CHECK_EQ(nbd_server_last_error(s, &d), ENOSPC);
	CHECK(d.msg[0] != '\0');
	nbd_server_destroy(s);
	bdev_destroy(b);
}

static void
test_stop_ends_connection(void)
{
	struct nbd_server *s;
	struct srv v;
	struct bdev *b = mkdev();
	int fd;

	CHECK_EQ(nbd_server_new(b, NULL, &s, NULL), 0);
	fd = go_client(&v, s);
	usleep(20000);
	nbd_server_stop(s);
	CHECK(at_eof(fd));
	CHECK_EQ(srv_join(&v), 0);
	close(fd);
	nbd_server_destroy(s);
	bdev_destroy(b);
}

/* A client that floods reads and never reads a reply must not keep stop
 * from ending its connection (the grace period, then a forced close). */
static void
test_stop_with_a_client_that_does_not_read(void)
{
	struct nbd_server *s;
	struct srv v;
	struct bdev *b = mkdev();
	struct timespec t0, t1;
	int fd, i;

	CHECK_EQ(nbd_server_new(b, NULL, &s, NULL), 0);
	fd = go_client(&v, s);
	/* 100 requests: 64 in flight, whose 4 MiB of replies fill the
	 * socket, the rest in the socket buffer (the client's writes must
	 * not block, or the test would). */
	for (i = 0; i < 100; i++)
		cl_req(fd, 0, 0, (uint64_t)i, 0, 65536, NULL);
	usleep(100000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	nbd_server_stop(s);
	CHECK_EQ(srv_join(&v), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 20);
	close(fd);
	nbd_server_destroy(s);
	bdev_destroy(b);
}


/* --- limits ---------------------------------------------------------------- */

#define BIGSZ		(4 * 1024 * 1024)
#define MIB		(1024 * 1024)

static struct bdev *
mkbig(void)
{
	struct bdev *b;
	uint8_t pat[4096];
	uint64_t off;

	if (bdev_mem_new(BIGSZ, 0, &b, NULL) != 0)
		abort();
	for (off = 0; off < BIGSZ; off += sizeof(pat)) {
		memset(pat, (int)(off / MIB) + 1, sizeof(pat));
		if (bdev_write(b, pat, sizeof(pat), off, NULL) != 0)
			abort();
	}
	return (b);
}

static uint64_t
stat_of(struct nbd_server *s, size_t field)
{
	struct nbd_server_stats st;

	nbd_server_get_stats(s, &st);
	return (((uint64_t *)&st)[field / sizeof(uint64_t)]);
}
#define STAT(s, f)	stat_of((s), offsetof(struct nbd_server_stats, f))

/* Waits (up to 10 s: the machine may be busy) until a request waits for
 * memory; returns that count. */
static uint64_t
wait_mem_waits(struct nbd_server *s)
{
	int i;

	for (i = 0; i < 1000 && STAT(s, mem_waits) == 0; i++)
		usleep(10000);
	return (STAT(s, mem_waits));
}

/* Reads one READ reply of len bytes; returns its error, -1 on EOF. */
static int
read_reply(int fd, uint32_t len, uint8_t *buf, uint64_t *handle)
{
	int e = cl_reply(fd, handle);

	if (e == 0 && xread(fd, buf, len) != 0)
		return (-1);
	return (e);
}

/*
 * Regression (issue 8, item 3): a client that sends large READs and never
 * reads a reply made the server allocate every one of them (8 clients x 4
 * x 32 MiB took it to 1 GiB).  Now a connection holds at most conn_mem_max
 * of payloads; the next request waits and its socket is not read.
 */
static void
test_conn_mem_cap_backpressure(void)
{
	struct nbd_export_opts o = { .name = "", .threads = 8,
	    .conn_mem_max = 2 * MIB, .mem_max = 8 * MIB };
	struct nbd_server *s;
	struct srv v;
	struct bdev *b = mkbig();
	static uint8_t rb[MIB];
	uint64_t size, h;
	uint32_t pref = 0;
	int fd, i, seen = 0, ok = 1;

	CHECK_EQ(nbd_server_new(b, &o, &s, NULL), 0);
	CHECK_EQ(nbd_server_max_payload(s), 2 * MIB);
	fd = srv_start(&v, s, 1);
	CHECK_EQ(cl_hello(fd, 3), 3);
	CHECK(cl_go(fd, 7, "", &size, &pref, NULL) > 0);
	for (i = 0; i < 4; i++)
		cl_req(fd, 0, 0, (uint64_t)i, (uint64_t)i * MIB, MIB, NULL);
	/* Two in flight (their replies stuck in a full socket), two wait. */
	CHECK(wait_mem_waits(s) >= 1);
	usleep(100000);
	CHECK(STAT(s, mem_peak) <= 2 * MIB);
	CHECK(STAT(s, reads) <= 2);
	for (i = 0; i < 4; i++) {
		if (read_reply(fd, MIB, rb, &h) != 0 || h >= 4) {
			ok = 0;
			break;
		}
		seen |= 1 << h;
		if (rb[0] != (uint8_t)(h + 1) || rb[MIB - 1] != (uint8_t)(h + 1))
			ok = 0;
	}
	CHECK(ok);
	CHECK_EQ(seen, 15);
	CHECK(STAT(s, mem_peak) <= 2 * MIB);
	/* A read over the (lowered) payload limit: EINVAL. */
	CHECK_EQ(cl_cmd(fd, 0, 0, 0, 2 * MIB + 4096, NULL, rb), 22);
	close(fd);
	CHECK_EQ(srv_join(&v), 0);
	nbd_server_destroy(s);
	bdev_destroy(b);
}

/*
 * The shared budget (mem_max) full with one client's stuck replies does
 * not starve another client: its first NBD_CONN_RESERVE bytes are its own.
 */
static void
test_reserve_serves_others(void)
{
	struct nbd_export_opts o = { .name = "", .threads = 4,
	    .conn_mem_max = 3 * MIB, .mem_max = MIB };
	struct nbd_server *s;
	struct srv v1, v2;
	struct bdev *b = mkbig();
	static uint8_t rb[MIB];
	uint64_t h;
	int fd1, fd2, i, ok = 1;

	CHECK_EQ(nbd_server_new(b, &o, &s, NULL), 0);
	CHECK_EQ(nbd_server_max_payload(s), MIB);
	fd1 = go_client(&v1, s);
	for (i = 0; i < 4; i++)		/* 1 MiB reserve + 1 MiB shared */
		cl_req(fd1, 0, 0, (uint64_t)i, 0, MIB, NULL);
	CHECK(wait_mem_waits(s) >= 1);
	CHECK(STAT(s, mem_peak) <= 2 * MIB);
	fd2 = go_client(&v2, s);
	CHECK_EQ(cl_cmd(fd2, 0, 0, 2 * MIB, MIB, NULL, rb), 0);
	CHECK_EQ(rb[0], 3);
	CHECK_EQ(cl_cmd(fd2, 0, 0, 3 * MIB, 4096, NULL, rb), 0);
	CHECK_EQ(rb[0], 4);
	cl_req(fd2, 2, 0, 9, 0, 0, NULL);	/* DISC */
	CHECK_EQ(srv_join(&v2), 0);
	close(fd2);
	for (i = 0; i < 4; i++)
		if (read_reply(fd1, MIB, rb, &h) != 0 || rb[0] != 1)
			ok = 0;
	CHECK(ok);
	close(fd1);
	CHECK_EQ(srv_join(&v1), 0);
	nbd_server_destroy(s);
	bdev_destroy(b);
}

/*
 * Regression (issue 8, item 3): a client that does not read its replies
 * held a server thread and its buffer for ever.  Now it is cut off after
 * send_timeout_ms and its connection ends with ETIMEDOUT.
 */
static void
test_send_timeout_cuts_a_client_that_does_not_read(void)
{
	struct nbd_export_opts o = { .name = "", .send_timeout_ms = 300 };
	struct nbd_server *s;
	struct srv v;
	struct bdev *b = mkbig();
	struct timespec t0, t1;
	int fd, i;

	CHECK_EQ(nbd_server_new(b, &o, &s, NULL), 0);
	fd = go_client(&v, s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 4; i++)
		cl_req(fd, 0, 0, (uint64_t)i, 0, MIB, NULL);
	CHECK_EQ(srv_join(&v), ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 10);
	CHECK_MSG(&v.d, "send timeout");
	CHECK_EQ(STAT(s, timeouts), 1);
	CHECK_EQ(STAT(s, active), 0);
	close(fd);
	nbd_server_destroy(s);
	bdev_destroy(b);
}

static void
test_handshake_timeout(void)
{
	struct nbd_export_opts o = { .name = "",
	    .handshake_timeout_ms = 200 };
	struct nbd_server *s;
	struct srv v;
	struct bdev *b = mkdev();
	uint8_t g[18], rb[512];
	int fd;

	CHECK_EQ(nbd_server_new(b, &o, &s, NULL), 0);
	/* Greeting read, then silence: cut off. */
	fd = srv_start(&v, s, 1);
	CHECK_EQ(xread(fd, g, sizeof(g)), 0);
	CHECK_EQ(srv_join(&v), ETIMEDOUT);
	CHECK_MSG(&v.d, "handshake timeout");
	CHECK(at_eof(fd));
	close(fd);
	/* In time: served, and idle after the handshake is fine. */
	fd = go_client(&v, s);
	usleep(400000);
	CHECK_EQ(cl_cmd(fd, 0, 0, 0, 512, NULL, rb), 0);
	close(fd);
	CHECK_EQ(srv_join(&v), 0);
	CHECK_EQ(STAT(s, timeouts), 1);
	nbd_server_destroy(s);
	bdev_destroy(b);
}

static void
test_mem_cap_minimum(void)
{
	struct nbd_export_opts o = { .name = "", .mem_max = 4096 };
	struct nbd_server *s = NULL;
	struct bdev *b = mkdev();
	struct diag d;

	diag_clear(&d);
	CHECK_EQ(nbd_server_new(b, &o, &s, &d), EINVAL);
	CHECK_MSG(&d, "minimum");
	o.mem_max = 0;
	o.conn_mem_max = 1000;
	CHECK_EQ(nbd_server_new(b, &o, &s, NULL), EINVAL);
	o.conn_mem_max = 0;
	CHECK_EQ(nbd_server_new(b, &o, &s, NULL), 0);
	CHECK_EQ(nbd_server_max_payload(s), NBD_MAX_PAYLOAD);
	nbd_server_destroy(s);
	bdev_destroy(b);
}

struct lst {
	struct nbd_server	*s;
	const char		*path;
	int			 rc;
	int			 ready;
	char			 where[256];
	char			 log[512];	/* the last log line */
	int			 nlog;
	pthread_mutex_t		 m;
};

static void
lst_log(void *arg, const char *msg)
{
	struct lst *l = arg;

	pthread_mutex_lock(&l->m);
	snprintf(l->log, sizeof(l->log), "%s", msg);
	l->nlog++;
	pthread_mutex_unlock(&l->m);
}

static void
lst_ready(void *arg, const char *where)
{
	struct lst *l = arg;

	pthread_mutex_lock(&l->m);
	snprintf(l->where, sizeof(l->where), "%s", where);
	l->ready = 1;
	pthread_mutex_unlock(&l->m);
}

static void *
lst_main(void *arg)
{
	struct lst *l = arg;

	l->rc = nbd_server_listen(l->s, l->path, NULL, NULL, NULL);
	return (NULL);
}

static int
unix_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Starts nbd_server_listen on a unix socket in a thread; 1 once ready. */
static int
lst_start(struct lst *l, pthread_t *t, struct bdev *b,
    const struct nbd_export_opts *o, char *path, size_t plen)
{
	int i, ready = 0;

	snprintf(path, plen, "/tmp/test_nbd.%d.sock", (int)getpid());
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->m, NULL);
	l->path = path;
	if (nbd_server_new(b, o, &l->s, NULL) != 0)
		return (0);
	nbd_server_set_ready_cb(l->s, lst_ready, l);
	nbd_server_set_log_cb(l->s, lst_log, l);
	pthread_create(t, NULL, lst_main, l);
	for (i = 0; i < 500 && !ready; i++) {
		pthread_mutex_lock(&l->m);
		ready = l->ready;
		pthread_mutex_unlock(&l->m);
		usleep(2000);
	}
	return (ready);
}

/* Frees what lst_start made (after nbd_server_stop), and b. */
static void
lst_free(struct lst *l, struct bdev *b)
{
	nbd_server_destroy(l->s);
	pthread_mutex_destroy(&l->m);
	bdev_destroy(b);
}

/* Whether the last log line of l holds sub. */
static int
lst_logged(struct lst *l, const char *sub)
{
	int found;

	pthread_mutex_lock(&l->m);
	found = strstr(l->log, sub) != NULL;
	pthread_mutex_unlock(&l->m);
	return (found);
}

static void
test_listen_two_clients(void)
{
	struct lst l;
	struct bdev *b = mkdev();
	pthread_t t;
	uint8_t wb[512], rb[512];
	uint64_t size;
	char path[64];
	int fd1, fd2;

	CHECK(lst_start(&l, &t, b, NULL, path, sizeof(path)));
	CHECK(strncmp(l.where, "unix:", 5) == 0);
	fd1 = unix_connect(path);
	fd2 = unix_connect(path);
	CHECK(fd1 >= 0 && fd2 >= 0);
	CHECK_EQ(cl_hello(fd1, 3), 3);
	CHECK_EQ(cl_hello(fd2, 3), 3);
	CHECK(cl_go(fd1, 7, "", &size, NULL, NULL) > 0);
	CHECK(cl_go(fd2, 7, "", &size, NULL, NULL) > 0);
	memset(wb, 0x77, sizeof(wb));
	CHECK_EQ(cl_cmd(fd1, 1, 0, 2048, 512, wb, NULL), 0);
	CHECK_EQ(cl_cmd(fd2, 0, 0, 2048, 512, NULL, rb), 0);
	CHECK(memcmp(rb, wb, sizeof(rb)) == 0);
	nbd_server_stop(l.s);
	CHECK(at_eof(fd1));
	CHECK(at_eof(fd2));
	pthread_join(t, NULL);
	CHECK_EQ(l.rc, 0);
	CHECK(access(path, F_OK) != 0);		/* socket removed */
	close(fd1);
	close(fd2);
	lst_free(&l, b);
}

/*
 * Regression (issue 8, item 3): nbd_server_listen took any number of
 * clients.  With max_clients 2, a third is closed at once (and logged);
 * the two go on, and a new client gets in once one of them left.
 */
static void
test_max_clients(void)
{
	struct nbd_export_opts o = { .name = "", .max_clients = 2 };
	struct lst l;
	struct bdev *b = mkdev();
	pthread_t t;
	uint8_t rb[512];
	uint64_t size;
	char path[64];
	int fd1, fd2, fd3, i, got = -1;

	CHECK(lst_start(&l, &t, b, &o, path, sizeof(path)));
	fd1 = unix_connect(path);
	fd2 = unix_connect(path);
	CHECK_EQ(cl_hello(fd1, 3), 3);
	CHECK_EQ(cl_hello(fd2, 3), 3);
	CHECK(cl_go(fd1, 7, "", &size, NULL, NULL) > 0);
	fd3 = unix_connect(path);
	CHECK(fd3 >= 0);
	CHECK(at_eof(fd3));		/* closed without a greeting */
	close(fd3);
	CHECK(lst_logged(&l, "refused"));
	CHECK(lst_logged(&l, "2 clients"));
	CHECK_EQ(STAT(l.s, refused), 1);
	CHECK(cl_go(fd2, 7, "", &size, NULL, NULL) > 0);
	CHECK_EQ(cl_cmd(fd1, 0, 0, 0, 512, NULL, rb), 0);
	CHECK_EQ(cl_cmd(fd2, 0, 0, 0, 512, NULL, rb), 0);
	/* One leaves: a new client is served (its thread may take a moment
	 * to end). */
	cl_req(fd1, 2, 0, 1, 0, 0, NULL);
	CHECK(at_eof(fd1));
	close(fd1);
	for (i = 0; i < 200 && got != 3; i++) {
		fd3 = unix_connect(path);
		got = cl_hello(fd3, 3);
		if (got != 3) {
			close(fd3);
			usleep(10000);
		}
	}
	CHECK_EQ(got, 3);
	CHECK(cl_go(fd3, 7, "", &size, NULL, NULL) > 0);
	CHECK_EQ(cl_cmd(fd3, 0, 0, 0, 512, NULL, rb), 0);
	nbd_server_stop(l.s);
	CHECK(at_eof(fd2));
	CHECK(at_eof(fd3));
	pthread_join(t, NULL);
	CHECK_EQ(l.rc, 0);
	close(fd2);
	close(fd3);
	lst_free(&l, b);
}

/* A client cut off by the send timeout under listen is logged. */
static void
test_listen_logs_a_cut_client(void)
{
	struct nbd_export_opts o = { .name = "", .send_timeout_ms = 200 };
	struct lst l;
	struct bdev *b = mkdev();
	pthread_t t;
	uint64_t size;
	char path[64];
	int fd, i, n = 0;

	CHECK(lst_start(&l, &t, b, &o, path, sizeof(path)));
	fd = unix_connect(path);
	CHECK_EQ(cl_hello(fd, 3), 3);
	CHECK(cl_go(fd, 7, "", &size, NULL, NULL) > 0);
	for (i = 0; i < 8; i++)
		cl_req(fd, 0, 0, (uint64_t)i, 0, DEVSZ, NULL);
	for (i = 0; i < 1000 && n == 0; i++) {
		usleep(10000);
		pthread_mutex_lock(&l.m);
		n = l.nlog;
		pthread_mutex_unlock(&l.m);
	}
	CHECK(lst_logged(&l, "client #1"));
	CHECK(lst_logged(&l, "send timeout"));
	nbd_server_stop(l.s);
	pthread_join(t, NULL);
	close(fd);
	lst_free(&l, b);
}

int
main(void)
{
	test_haggling_and_commands();
	test_in_flight();
	test_readonly_refusal();
	test_no_handshake_and_export_name();
	test_hostile_bad_magic_disconnects();
	test_enospc_mapped();
	test_stop_ends_connection();
	test_stop_with_a_client_that_does_not_read();
	test_listen_two_clients();
	test_conn_mem_cap_backpressure();
	test_reserve_serves_others();
	test_send_timeout_cuts_a_client_that_does_not_read();
	test_handshake_timeout();
	test_mem_cap_minimum();
	test_max_clients();
	test_listen_logs_a_cut_client();
	return (t_done());
}
