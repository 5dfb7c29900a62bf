/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nbd_server.c - the NBD server of nbd.h.
 *
 * Shape: nbd_server_listen() polls its listening sockets and the stop pipe,
 * and runs each accepted client in a detached thread through
 * nbd_server_serve_fd().  A connection has `threads` threads (the serving
 * thread is one of them), each looping as nbdkit's do:
 *   take conn->rlock; read one request header, check it (magic, length,
 *   range, read-only), read a write's payload into the thread's own buffer;
 *   drop rlock; run the request on the bdev; send the reply under wlock.
 * A request never changes threads (no queue, no wake-up per request), and
 * as many requests are in flight as there are threads.  Replies go out
 * whole under wlock, so they never interleave; their order is free (NBD
 * allows it).  Flush semantics hold because a write is acknowledged only
 * after bdev_write() returned and flush reaches the whole shared stack;
 * that is also why CAN_MULTI_CONN is advertised.
 *
 * Bounds against a hostile client: a header with a bad magic or a WRITE
 * longer than s->max_payload disconnects (the stream cannot be resynced);
 * a READ that long, a request out of range or an unknown command gets
 * EINVAL; a write to a read-only export gets EPERM after its payload was
 * drained.  Options are limited in size (OPT_MAX_LEN) and number
 * (OPT_MAX_COUNT), the negotiation in time (handshake_timeout_ms).
 *
 * Memory: a READ or WRITE payload is charged to its connection and to the
 * server (mem_charge) before its buffer is allocated, and released once
 * the reply went out.  The first NBD_CONN_RESERVE bytes of a connection are
 * its own; only what it holds beyond them counts against s->mem_max, so a
 * client sending small requests always makes progress, whatever the others
 * hold.  A request that would pass conn_mem_max or mem_max waits (timed
 * waits on s->mem_cv, rechecking stop and the connection's death) while
 * its thread holds rlock: nobody reads that socket meanwhile, so the
 * client's further requests stay in its socket buffer (back-pressure).
 * Payloads over KEEP_BUF are mmap'ed and unmapped after their request (so
 * RSS falls back, whatever malloc's thresholds), smaller ones are kept by
 * their thread for the next request (at most threads x KEEP_BUF a
 * connection, outside the caps).  max_payload <= both caps, so a request
 * on an idle connection always fits in the end: what holds the budget is
 * replies being sent, and a client that does not read them is cut off
 * after send_timeout_ms (conn_wait_writable), which releases its share.
 * nbd_server_listen() serves at most max_clients connections; one more is
 * accepted, logged and closed at once.
 *
 * Stop: nbd_server_stop() sets a flag and writes one byte to a pipe that is
 * never drained, so every poll() on its read end wakes for good.  The
 * reading thread polls that pipe whenever the socket has nothing to read;
 * the others finish their request and find the connection closing.  A
 * reply to a client that does not read gets STOP_GRACE_MS after a stop,
 * then the socket is shut down.  At the end the stack is flushed.
 *
 * Locking: conn->rlock serializes reading from the socket and guards
 * closing/error; conn->wlock serializes writing to it and guards
 * werror/wd; s->lock guards the client count of listen, the last error and
 * the memory accounting (s->mem_used/mem_total, every conn->mem_used; a
 * thread may take s->lock while holding rlock, never the other way round).
 * Statistics are atomics.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <liveroot/nbd.h>
#include <liveroot/util.h>

/* Protocol constants (NetworkBlockDevice doc/proto.md). */
#define NBD_MAGIC		0x4e42444d41474943ULL	/* "NBDMAGIC" */
#define NBD_OPTS_MAGIC		0x49484156454f5054ULL	/* "IHAVEOPT" */
#define NBD_REP_MAGIC		0x0003e889045565a9ULL
#define NBD_REQUEST_MAGIC	0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC	0x67446698u

#define NBD_FLAG_FIXED_NEWSTYLE	0x0001
#define NBD_FLAG_NO_ZEROES	0x0002
#define NBD_FLAG_C_FIXED_NEWSTYLE 0x00000001u
#define NBD_FLAG_C_NO_ZEROES	0x00000002u

#define NBD_OPT_EXPORT_NAME	1
#define NBD_OPT_ABORT		2
#define NBD_OPT_LIST		3
#define NBD_OPT_INFO		6
#define NBD_OPT_GO		7

#define NBD_REP_ACK		1
#define NBD_REP_SERVER		2
#define NBD_REP_INFO		3
#define NBD_REP_ERR_UNSUP	0x80000001u
#define NBD_REP_ERR_INVALID	0x80000003u
#define NBD_REP_ERR_UNKNOWN	0x80000006u

#define NBD_INFO_EXPORT		0
#define NBD_INFO_NAME		1
#define NBD_INFO_BLOCK_SIZE	3

#define NBD_FLAG_HAS_FLAGS	0x0001
#define NBD_FLAG_READ_ONLY	0x0002
#define NBD_FLAG_SEND_FLUSH	0x0004
#define NBD_FLAG_SEND_FUA	0x0008
#define NBD_FLAG_SEND_TRIM	0x0020
#define NBD_FLAG_SEND_WRITE_ZEROES 0x0040
#define NBD_FLAG_CAN_MULTI_CONN	0x0100

#define NBD_CMD_READ		0
#define NBD_CMD_WRITE		1
#define NBD_CMD_DISC		2
#define NBD_CMD_FLUSH		3
#define NBD_CMD_TRIM		4
#define NBD_CMD_WRITE_ZEROES	6

#define NBD_CMD_FLAG_FUA	0x0001

#define NBD_EPERM		1
#define NBD_EIO			5
#define NBD_ENOMEM		12
#define NBD_EINVAL		22
#define NBD_ENOSPC		28
#define NBD_EOVERFLOW		75
#define NBD_ENOTSUP		95
#define NBD_ESHUTDOWN		108

#define NBD_NAME_MAX		4096
#define OPT_MAX_LEN		(NBD_NAME_MAX + 1024)
#define OPT_MAX_COUNT		1024
#define MAX_THREADS		64
#define STOP_GRACE_MS		5000
#define KEEP_BUF		(1024 * 1024)	/* larger buffers are freed */
#define MEM_WAIT_MS		100	/* recheck stop while waiting */
#define DEF_MAX_CLIENTS		16

struct nbd_server {
	struct bdev		*b;		/* borrowed */
	char			*name;
	size_t			 namelen;
	int			 readonly;
	unsigned		 threads;
	uint16_t		 tflags;
	int			 stopping;	/* atomic (lock-free, so
						 * signal-safe) */
	int			 stop_pipe[2];
	pthread_mutex_t		 lock;
	pthread_cond_t		 idle;
	unsigned		 clients;	/* listen's client threads */
	uint64_t		 next_id;	/* listen's client numbers */
	uint32_t		 max_payload;
	unsigned		 max_clients;
	unsigned		 send_timeout_ms;
	unsigned		 hs_timeout_ms;
	uint64_t		 conn_mem_max;
	uint64_t		 mem_max;
	uint64_t		 mem_used;	/* beyond the reserves; lock */
	uint64_t		 mem_total;	/* every byte charged; lock */
	pthread_cond_t		 mem_cv;	/* memory was released */
	nbd_ready_fn		*ready;
	void			*ready_arg;
	nbd_log_fn		*log;
	void			*log_arg;
	struct nbd_server_stats	 st;		/* atomics */
	struct diag		 last;		/* under lock */
};

struct nbd_req {
	uint16_t	 flags;
	uint16_t	 type;
	uint64_t	 handle;
	uint64_t	 off;
	uint32_t	 len;
	uint32_t	 error;		/* NBD error decided by the reader */
	uint8_t		*buf;		/* payload (write) or data (read) */
	size_t		 bufcap;	/* bytes allocated at buf */
	int		 mapped;	/* buf is an mmap, not a malloc */
	uint32_t	 charged;	/* bytes charged by mem_charge */
};

struct nbd_conn {
	struct nbd_server	*s;
	int			 fd;
	int			 is_sock;
	int			 dead;		/* socket failed; atomic */
	pthread_mutex_t		 rlock;		/* one reader at a time */
	pthread_mutex_t		 wlock;		/* one reply at a time */
	int			 closing;	/* under rlock */
	int			 error;		/* first error, under rlock */
	struct diag		 d;
	int			 werror;	/* a reply timed out; wlock */
	struct diag		 wd;		/* its detail, under wlock */
	uint64_t		 mem_used;	/* bytes charged; s->lock */
	uint64_t		 deadline;	/* of the handshake, now_ms()
						 * clock, 0 = none; set before
						 * the workers start */
	pthread_t		 workers[MAX_THREADS];
	unsigned		 nworkers;
};

static inline int
stopped(struct nbd_server *s)
{
	return (__atomic_load_n(&s->stopping, __ATOMIC_RELAXED));
}

#define STAT_ADD(s, field, n)	\
	__atomic_fetch_add(&(s)->st.field, (n), __ATOMIC_RELAXED)

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/*
 * The poll() timeout left before the connection's handshake deadline
 * (-1: none); ETIMEDOUT in *error when it has passed.
 */
static int
conn_deadline_left(const struct nbd_conn *c, int *error)
{
	uint64_t now;

	*error = 0;
	if (c->deadline == 0)
		return (-1);
	if ((now = now_ms()) >= c->deadline) {
		*error = ETIMEDOUT;
		return (0);
	}
	return ((int)LR_MIN(c->deadline - now, (uint64_t)INT32_MAX));
}

/* "30 s" or "250 ms", for messages about a timeout. */
static const char *
fmt_ms(char *buf, size_t len, unsigned ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%u s", ms / 1000);
	else
		snprintf(buf, len, "%u ms", ms);
	return (buf);
}

static void
be16enc(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t
nbd_errno(int error)
{
	switch (error) {
	case 0:
		return (0);
	case EPERM:
	case EROFS:
	case EACCES:
		return (NBD_EPERM);
	case ENOMEM:
		return (NBD_ENOMEM);
	case EINVAL:
	case ERANGE:
		return (NBD_EINVAL);
	case ENOSPC:
	case EFBIG:
	case EDQUOT:
		return (NBD_ENOSPC);
	case EOVERFLOW:
		return (NBD_EOVERFLOW);
	case ENOTSUP:
		return (NBD_ENOTSUP);
	case ESHUTDOWN:
		return (NBD_ESHUTDOWN);
	default:
		return (NBD_EIO);
	}
}

/* --- socket I/O -------------------------------------------------------- */

/*
 * Waits until fd is readable or the server stops.  0, ESHUTDOWN, ETIMEDOUT
 * (the handshake deadline passed) or errno.
 */
static int
conn_wait_readable(struct nbd_conn *c)
{
	struct pollfd pfd[2];
	int tmo, error;

	for (;;) {
		if (stopped(c->s))
			return (ESHUTDOWN);
		tmo = conn_deadline_left(c, &error);
		if (error != 0)
			return (error);
		pfd[0].fd = c->fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = c->s->stop_pipe[0];
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, tmo) < 0) {
			if (errno == EINTR)
				continue;
			return (errno);
		}
		if (pfd[1].revents != 0)
			return (ESHUTDOWN);
		if (pfd[0].revents != 0)
			return (0);
	}
}

/*
 * Reads exactly n bytes.  0; EPIPE on end of stream (with *got the bytes
 * read before it); ESHUTDOWN when stopped; another errno on error.
 */
static int
conn_recv(struct nbd_conn *c, void *buf, size_t n, size_t *got)
{
	uint8_t *p = buf;
	size_t done = 0;
	ssize_t r;
	int error;

	while (done < n) {
		if (stopped(c->s)) {
			error = ESHUTDOWN;
			goto out;
		}
		if (c->is_sock)
			r = recv(c->fd, p + done, n - done, MSG_DONTWAIT);
		else {
			if ((error = conn_wait_readable(c)) != 0)
				goto out;
			r = read(c->fd, p + done, n - done);
		}
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r == 0) {
			error = EPIPE;
			goto out;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if ((error = conn_wait_readable(c)) != 0)
				goto out;
			continue;
		}
		error = errno;
		goto out;
	}
	error = 0;
out:
	if (got != NULL)
		*got = done;
	return (error);
}

/* Reads and drops n bytes (the payload of a refused write). */
static int
conn_skip(struct nbd_conn *c, uint64_t n)
{
	uint8_t tmp[4096];
	int error;

	while (n > 0) {
		size_t k = (size_t)LR_MIN(n, sizeof(tmp));

		if ((error = conn_recv(c, tmp, k, NULL)) != 0)
			return (error);
		n -= k;
	}
	return (0);
}

/*
 * Waits until fd takes more data.  A client that takes nothing for
 * send_timeout_ms (or past the handshake deadline) gets ETIMEDOUT; once
 * the server stops, it gets STOP_GRACE_MS more, then ESHUTDOWN.
 */
static int
conn_wait_writable(struct nbd_conn *c)
{
	struct pollfd pfd[2];
	int n, stop, tmo, dl, bydl, error;

	for (;;) {
		stop = stopped(c->s);
		tmo = stop ? STOP_GRACE_MS : c->s->send_timeout_ms != 0 ?
		    (int)LR_MIN(c->s->send_timeout_ms, (unsigned)INT32_MAX) :
		    -1;
		dl = conn_deadline_left(c, &error);
		if (error != 0)
			return (error);
		if ((bydl = dl >= 0 && (tmo < 0 || dl <= tmo)))
			tmo = dl;
		pfd[0].fd = c->fd;
		pfd[0].events = POLLOUT;
		pfd[1].fd = c->s->stop_pipe[0];
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if ((n = poll(pfd, stop ? 1 : 2, tmo)) < 0) {
			if (errno == EINTR)
				continue;
			return (errno);
		}
		if (pfd[0].revents != 0)
			return (0);
		if (n == 0 && bydl)
			continue;	/* conn_deadline_left decides */
		if (n == 0)
			return (stop ? ESHUTDOWN : ETIMEDOUT);
	}
}

/* Sends the iovecs whole; the caller holds wlock (or is the only writer). */
static int
conn_sendv(struct nbd_conn *c, struct iovec *iov, int iovcnt)
{
	struct msghdr mh;
	ssize_t r;
	int error;

	while (iovcnt > 0) {
		if (__atomic_load_n(&c->dead, __ATOMIC_RELAXED))
			return (EPIPE);
		if (c->is_sock) {
			memset(&mh, 0, sizeof(mh));
			mh.msg_iov = iov;
			mh.msg_iovlen = (size_t)iovcnt;
			r = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		} else
			r = writev(c->fd, iov, iovcnt);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((error = conn_wait_writable(c)) != 0)
					return (error);
				continue;
			}
			return (errno);
		}
		while (iovcnt > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return (0);
}

static int
conn_send(struct nbd_conn *c, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf,
	    .iov_len = len };

	return (conn_sendv(c, &iov, 1));
}

static void
conn_kill(struct nbd_conn *c)
{
	__atomic_store_n(&c->dead, 1, __ATOMIC_RELAXED);
	(void)shutdown(c->fd, SHUT_RDWR);
}

/* --- handshake ---------------------------------------------------------- */

static int
opt_reply(struct nbd_conn *c, uint32_t opt, uint32_t type, const void *data,
    uint32_t len)
{
	uint8_t h[20];
	struct iovec iov[2];

	lr_be64enc(h, NBD_REP_MAGIC);
	lr_be32enc(h + 8, opt);
	lr_be32enc(h + 12, type);
	lr_be32enc(h + 16, len);
	iov[0].iov_base = h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = len;
	return (conn_sendv(c, iov, len > 0 ? 2 : 1));
}

static int
name_matches(const struct nbd_server *s, const uint8_t *name, size_t len)
{
	if (len == 0)
		return (1);
	return (len == s->namelen && memcmp(name, s->name, len) == 0);
}

static int
send_info_export(struct nbd_conn *c, uint32_t opt)
{
	uint8_t info[12];

	be16enc(info, NBD_INFO_EXPORT);
	lr_be64enc(info + 2, c->s->b->size);
	be16enc(info + 10, c->s->tflags);
	return (opt_reply(c, opt, NBD_REP_INFO, info, sizeof(info)));
}

/* NBD_OPT_INFO / NBD_OPT_GO: name, info requests; infos, then ACK. */
static int
opt_info_go(struct nbd_conn *c, uint32_t opt, const uint8_t *data,
    uint32_t len, int *go)
{
	struct nbd_server *s = c->s;
	uint32_t namelen, i;
	uint16_t nreq;
	uint8_t bs[14];
	int error, want_name = 0;

	*go = 0;
	if (len < 6)
		return (opt_reply(c, opt, NBD_REP_ERR_INVALID, NULL, 0));
	namelen = lr_be32dec(data);
	if (namelen > len - 6)
		return (opt_reply(c, opt, NBD_REP_ERR_INVALID, NULL, 0));
	nreq = lr_be16dec(data + 4 + namelen);
	if ((uint64_t)namelen + 6 + 2 * (uint64_t)nreq != len)
		return (opt_reply(c, opt, NBD_REP_ERR_INVALID, NULL, 0));
	if (!name_matches(s, data + 4, namelen))
		return (opt_reply(c, opt, NBD_REP_ERR_UNKNOWN, NULL, 0));
	for (i = 0; i < nreq; i++)
		if (lr_be16dec(data + 4 + namelen + 2 + 2 * i) ==
		    NBD_INFO_NAME)
			want_name = 1;
	if ((error = send_info_export(c, opt)) != 0)
		return (error);
	if (want_name) {
		uint8_t *ni = malloc(2 + s->namelen);

		if (ni == NULL)
			return (ENOMEM);
		be16enc(ni, NBD_INFO_NAME);
		memcpy(ni + 2, s->name, s->namelen);
		error = opt_reply(c, opt, NBD_REP_INFO, ni,
		    (uint32_t)(2 + s->namelen));
		free(ni);
		if (error != 0)
			return (error);
	}
	be16enc(bs, NBD_INFO_BLOCK_SIZE);
	lr_be32enc(bs + 2, 1);
	lr_be32enc(bs + 6, LR_MAX(s->b->blksize, 512u));
	lr_be32enc(bs + 10, s->max_payload);
	if ((error = opt_reply(c, opt, NBD_REP_INFO, bs, sizeof(bs))) != 0)
		return (error);
	if ((error = opt_reply(c, opt, NBD_REP_ACK, NULL, 0)) != 0)
		return (error);
	*go = (opt == NBD_OPT_GO);
	return (0);
}

/*
 * Runs the fixed-newstyle negotiation.  0 when transmission may begin;
 * ECONNABORTED when the client ended it (NBD_OPT_ABORT, unknown export
 * with OPT_EXPORT_NAME); another errno with a diag on a protocol error.
 */
static int
conn_handshake(struct nbd_conn *c, struct diag *d)
{
	struct nbd_server *s = c->s;
	uint8_t hello[18], cf[4], oh[16], *data = NULL;
	uint32_t cflags, opt, len;
	unsigned count;
	int error, go;

	lr_be64enc(hello, NBD_MAGIC);
	lr_be64enc(hello + 8, NBD_OPTS_MAGIC);
	be16enc(hello + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	if ((error = conn_send(c, hello, sizeof(hello))) != 0)
		return (diag_set(d, error, "nbd: sending the greeting: %s",
		    strerror(error)));
	if ((error = conn_recv(c, cf, sizeof(cf), NULL)) != 0)
		return (diag_set(d, error, "nbd: reading the client flags: %s",
		    strerror(error)));
	cflags = lr_be32dec(cf);
	if ((cflags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) !=
	    0)
		return (diag_set(d, EPROTO, "nbd: client sent unknown "
		    "handshake flags 0x%x: disconnected", cflags));
	if ((data = malloc(OPT_MAX_LEN)) == NULL)
		return (diag_set(d, ENOMEM, "nbd: out of memory"));
	for (count = 0; count < OPT_MAX_COUNT; count++) {
		if ((error = conn_recv(c, oh, sizeof(oh), NULL)) != 0) {
			diag_set(d, error, "nbd: reading an option: %s",
			    strerror(error));
			goto out;
		}
		if (lr_be64dec(oh) != NBD_OPTS_MAGIC) {
			error = diag_set(d, EPROTO, "nbd: option with a bad "
			    "magic 0x%016jx: disconnected",
			    (uintmax_t)lr_be64dec(oh));
			goto out;
		}
		opt = lr_be32dec(oh + 8);
		len = lr_be32dec(oh + 12);
		if (len > OPT_MAX_LEN) {
			error = diag_set(d, EPROTO, "nbd: option %u of %u "
			    "bytes is over the %u byte limit: disconnected",
			    opt, len, OPT_MAX_LEN);
			goto out;
		}
		if ((error = conn_recv(c, data, len, NULL)) != 0) {
			diag_set(d, error, "nbd: reading option %u: %s", opt,
			    strerror(error));
			goto out;
		}
		switch (opt) {
		case NBD_OPT_EXPORT_NAME:
			if (!name_matches(s, data, len)) {
				error = diag_set(d, ECONNABORTED, "nbd: client "
				    "asked for an unknown export");
				goto out;
			} else {
				uint8_t r[10 + 124];
				size_t rl = 10;

				memset(r, 0, sizeof(r));
				lr_be64enc(r, s->b->size);
				be16enc(r + 8, s->tflags);
				if (!(cflags & NBD_FLAG_C_NO_ZEROES))
					rl += 124;
				error = conn_send(c, r, rl);
				goto out;
			}
		case NBD_OPT_ABORT:
			(void)opt_reply(c, opt, NBD_REP_ACK, NULL, 0);
			error = ECONNABORTED;
			goto out;
		case NBD_OPT_LIST:
			if (len != 0) {
				error = opt_reply(c, opt, NBD_REP_ERR_INVALID,
				    NULL, 0);
				break;
			} else {
				uint8_t *r = malloc(4 + s->namelen);

				if (r == NULL) {
					error = ENOMEM;
					goto out;
				}
				lr_be32enc(r, (uint32_t)s->namelen);
				memcpy(r + 4, s->name, s->namelen);
				error = opt_reply(c, opt, NBD_REP_SERVER, r,
				    (uint32_t)(4 + s->namelen));
				free(r);
				if (error == 0)
					error = opt_reply(c, opt, NBD_REP_ACK,
					    NULL, 0);
			}
			break;
		case NBD_OPT_INFO:
		case NBD_OPT_GO:
			error = opt_info_go(c, opt, data, len, &go);
			if (error == 0 && go)
				goto out;
			break;
		default:
			error = opt_reply(c, opt, NBD_REP_ERR_UNSUP, NULL, 0);
			break;
		}
		if (error != 0) {
			diag_set(d, error, "nbd: answering option %u: %s", opt,
			    strerror(error));
			goto out;
		}
	}
	error = diag_set(d, EPROTO, "nbd: client sent more than %d options: "
	    "disconnected", OPT_MAX_COUNT);
out:
	free(data);
	return (error);
}

/* --- transmission ------------------------------------------------------- */

static int
req_send_reply(struct nbd_conn *c, struct nbd_req *r)
{
	uint8_t h[16];
	struct iovec iov[2];
	int n = 1, error;

	lr_be32enc(h, NBD_SIMPLE_REPLY_MAGIC);
	lr_be32enc(h + 4, r->error);
	lr_be64enc(h + 8, r->handle);
	iov[0].iov_base = h;
	iov[0].iov_len = sizeof(h);
	if (r->type == NBD_CMD_READ && r->error == 0 && r->len > 0) {
		iov[1].iov_base = r->buf;
		iov[1].iov_len = r->len;
		n = 2;
	}
	pthread_mutex_lock(&c->wlock);
	error = conn_sendv(c, iov, n);
	if (error == ETIMEDOUT && c->werror == 0) {
		char t[32];

		c->werror = error;
		diag_set(&c->wd, error, "nbd: the client read nothing of a "
		    "reply for %s (the send timeout): disconnected",
		    fmt_ms(t, sizeof(t), c->s->send_timeout_ms));
		STAT_ADD(c->s, timeouts, 1);
	}
	pthread_mutex_unlock(&c->wlock);
	if (error != 0)
		conn_kill(c);
	return (error);
}

static void
req_run(struct nbd_conn *c, struct nbd_req *r)
{
	struct nbd_server *s = c->s;
	struct bdev *b = s->b;
	struct diag d;
	int error = 0;

	diag_clear(&d);
	switch (r->type) {
	case NBD_CMD_READ:
		error = bdev_read(b, r->buf, r->len, r->off, &d);
		STAT_ADD(s, reads, 1);
		if (error == 0)
			STAT_ADD(s, bytes_read, r->len);
		break;
	case NBD_CMD_WRITE:
		error = bdev_write(b, r->buf, r->len, r->off, &d);
		STAT_ADD(s, writes, 1);
		if (error == 0)
			STAT_ADD(s, bytes_written, r->len);
		break;
	case NBD_CMD_FLUSH:
		error = bdev_flush(b, &d);
		STAT_ADD(s, flushes, 1);
		break;
	case NBD_CMD_TRIM:
		error = bdev_trim(b, r->off, r->len, &d);
		STAT_ADD(s, trims, 1);
		break;
	case NBD_CMD_WRITE_ZEROES:
		error = bdev_write_zeroes(b, r->off, r->len, &d);
		STAT_ADD(s, zeroes, 1);
		break;
	}
	if (error == 0 && (r->flags & NBD_CMD_FLAG_FUA) &&
	    (r->type == NBD_CMD_WRITE || r->type == NBD_CMD_WRITE_ZEROES ||
	    r->type == NBD_CMD_TRIM))
		error = bdev_flush(b, &d);
	if (error != 0) {
		pthread_mutex_lock(&s->lock);
		diag_default(&d, error, b->desc);
		s->last = d;
		pthread_mutex_unlock(&s->lock);
	}
	r->error = nbd_errno(error);
}

static int
req_range_ok(const struct nbd_server *s, uint64_t off, uint32_t len)
{
	return (lr_range_ok(off, len, s->b->size));
}

static void
req_buf_free(struct nbd_req *r)
{
	if (r->mapped)
		(void)munmap(r->buf, r->bufcap);
	else
		free(r->buf);
	r->buf = NULL;
	r->bufcap = 0;
	r->mapped = 0;
}

/* Makes r->buf hold at least len bytes: malloc up to KEEP_BUF, else mmap. */
static int
req_reserve(struct nbd_req *r, uint32_t len)
{
	void *nb;

	if (len <= r->bufcap)
		return (0);
	req_buf_free(r);
	if (len > KEEP_BUF) {
		nb = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (nb == MAP_FAILED)
			return (ENOMEM);
		r->mapped = 1;
	} else if ((nb = malloc(len)) == NULL)
		return (ENOMEM);
	r->buf = nb;
	r->bufcap = len;
	return (0);
}

/* What a connection holding n bytes takes from the shared budget. */
static uint64_t
mem_shared(uint64_t n)
{
	return (n > NBD_CONN_RESERVE ? n - NBD_CONN_RESERVE : 0);
}

/*
 * Charges n payload bytes to the connection and the server, waiting while
 * either cap would be passed.  0, or ESHUTDOWN when the server stops or the
 * connection dies meanwhile.  The caller holds rlock (back-pressure).
 */
static int
mem_charge(struct nbd_conn *c, uint32_t n)
{
	struct nbd_server *s = c->s;
	struct timespec ts;
	uint64_t cu, extra;
	int waited = 0;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		if (stopped(s) || __atomic_load_n(&c->dead, __ATOMIC_RELAXED)) {
			pthread_mutex_unlock(&s->lock);
			return (ESHUTDOWN);
		}
		cu = c->mem_used;
		extra = mem_shared(cu + n) - mem_shared(cu);
		if (cu + n <= s->conn_mem_max &&
		    s->mem_used + extra <= s->mem_max)
			break;
		if (!waited) {
			waited = 1;
			STAT_ADD(s, mem_waits, 1);
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += MEM_WAIT_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&s->mem_cv, &s->lock, &ts);
	}
	c->mem_used = cu + n;
	s->mem_used += extra;
	s->mem_total += n;
	if (s->mem_total > s->st.mem_peak)
		__atomic_store_n(&s->st.mem_peak, s->mem_total,
		    __ATOMIC_RELAXED);
	pthread_mutex_unlock(&s->lock);
	return (0);
}

static void
mem_release(struct nbd_conn *c, uint32_t n)
{
	struct nbd_server *s = c->s;
	uint64_t cu;

	if (n == 0)
		return;
	pthread_mutex_lock(&s->lock);
	cu = c->mem_used;
	s->mem_used -= mem_shared(cu) - mem_shared(cu - n);
	s->mem_total -= n;
	c->mem_used = cu - n;
	pthread_cond_broadcast(&s->mem_cv);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Reads and checks one request (the caller holds rlock).  0: r is ready to
 * run (r->error may already say why it will not); CONN_END: an orderly end
 * (NBD_CMD_DISC, the client closed between requests, stop); another errno
 * with a diag: the client is dropped.
 */
#define CONN_END	(-1)

static int
conn_read_request(struct nbd_conn *c, struct nbd_req *r, struct diag *d)
{
	struct nbd_server *s = c->s;
	uint8_t h[28];
	uint32_t magic, len;
	uint16_t type;
	uint64_t off;
	size_t got;
	int error, ro = (s->tflags & NBD_FLAG_READ_ONLY) != 0, payload = 0;

	error = conn_recv(c, h, sizeof(h), &got);
	if ((error == EPIPE && got == 0) || error == ESHUTDOWN)
		return (CONN_END);
	if (error != 0)
		return (diag_set(d, error, "nbd: reading a request: %s",
		    strerror(error)));
	magic = lr_be32dec(h);
	type = lr_be16dec(h + 6);
	off = lr_be64dec(h + 16);
	len = lr_be32dec(h + 24);
	if (magic != NBD_REQUEST_MAGIC) {
		STAT_ADD(s, protocol_errors, 1);
		return (diag_set(d, EPROTO, "nbd: request with a bad magic "
		    "0x%08x: disconnected", magic));
	}
	if (type == NBD_CMD_DISC)
		return (CONN_END);
	if (type == NBD_CMD_WRITE && len > s->max_payload) {
		STAT_ADD(s, protocol_errors, 1);
		return (diag_set(d, EPROTO, "nbd: write of %u bytes is over "
		    "the %u byte limit: disconnected", len, s->max_payload));
	}
	r->flags = lr_be16dec(h + 4);
	r->type = type;
	r->handle = lr_be64dec(h + 8);
	r->off = off;
	r->len = len;
	r->error = 0;
	r->charged = 0;
	switch (type) {
	case NBD_CMD_READ:
		if (len > s->max_payload || !req_range_ok(s, off, len))
			r->error = NBD_EINVAL;
		else
			payload = 1;
		break;
	case NBD_CMD_WRITE:
		if (ro)
			r->error = NBD_EPERM;
		else if (!req_range_ok(s, off, len))
			r->error = NBD_EINVAL;
		else
			payload = 1;
		if (r->error != 0 && (error = conn_skip(c, len)) != 0)
			return (error == ESHUTDOWN ? CONN_END :
			    diag_set(d, error, "nbd: reading a write payload: "
			    "%s", strerror(error)));
		break;
	case NBD_CMD_TRIM:
	case NBD_CMD_WRITE_ZEROES:
		if (ro)
			r->error = NBD_EPERM;
		else if (!req_range_ok(s, off, len))
			r->error = NBD_EINVAL;
		break;
	case NBD_CMD_FLUSH:
		break;
	default:
		r->error = NBD_EINVAL;
		break;
	}
	if (!payload)
		return (0);
	if (mem_charge(c, len) != 0)
		return (CONN_END);
	r->charged = len;
	if (req_reserve(r, len) != 0) {
		/* Answer ENOMEM; a write's payload must still be drained. */
		r->error = NBD_ENOMEM;
		if (type == NBD_CMD_WRITE && (error = conn_skip(c, len)) != 0)
			return (error == ESHUTDOWN ? CONN_END :
			    diag_set(d, error, "nbd: reading a write payload: "
			    "%s", strerror(error)));
		return (0);
	}
	if (type == NBD_CMD_WRITE &&
	    (error = conn_recv(c, r->buf, len, NULL)) != 0)
		return (error == ESHUTDOWN ? CONN_END : diag_set(d, error,
		    "nbd: reading a write payload: %s", strerror(error)));
	return (0);
}

/*
 * One of the connection's threads: take the read lock, read one request,
 * let go of the lock, run the request, send its reply; until the
 * connection closes.  So a request is never handed from thread to thread,
 * and there are as many requests in flight as threads.
 */
static void *
conn_thread(void *arg)
{
	struct nbd_conn *c = arg;
	struct nbd_req r;
	struct diag d;
	int error;

	memset(&r, 0, sizeof(r));
	for (;;) {
		pthread_mutex_lock(&c->rlock);
		if (c->closing) {
			pthread_mutex_unlock(&c->rlock);
			break;
		}
		diag_clear(&d);
		if ((error = conn_read_request(c, &r, &d)) != 0) {
			c->closing = 1;
			if (error != CONN_END && c->error == 0) {
				c->error = error;
				c->d = d;
			}
			pthread_mutex_unlock(&c->rlock);
			break;
		}
		pthread_mutex_unlock(&c->rlock);

		if (r.error == 0)
			req_run(c, &r);
		if (r.error != 0)
			STAT_ADD(c->s, errors, 1);
		if (!__atomic_load_n(&c->dead, __ATOMIC_RELAXED))
			(void)req_send_reply(c, &r);
		if (r.bufcap > KEEP_BUF)
			req_buf_free(&r);
		mem_release(c, r.charged);
		r.charged = 0;
	}
	mem_release(c, r.charged);
	req_buf_free(&r);
	return (NULL);
}

int
nbd_server_serve_fd(struct nbd_server *s, int fd, int handshake,
    struct diag *d)
{
	struct nbd_conn *c;
	struct diag fd_;
	socklen_t sl;
	int error = 0, type, one = 1;
	unsigned i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return (diag_set(d, ENOMEM, "nbd: out of memory"));
	}
	c->s = s;
	c->fd = fd;
	sl = sizeof(type);
	c->is_sock = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == 0;
	if (c->is_sock)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	pthread_mutex_init(&c->wlock, NULL);
	pthread_mutex_init(&c->rlock, NULL);
	STAT_ADD(s, connections, 1);
	STAT_ADD(s, active, 1);

	if (handshake) {
		if (s->hs_timeout_ms != 0)
			c->deadline = now_ms() + s->hs_timeout_ms;
		error = conn_handshake(c, d);
		c->deadline = 0;
		if (error == ECONNABORTED || error == ESHUTDOWN ||
		    error == EPIPE) {
			error = 0;	/* the client's choice, or stop */
			goto done;
		}
		if (error == ETIMEDOUT) {
			char t[32];

			STAT_ADD(s, timeouts, 1);
			diag_set(d, error, "nbd: the client did not finish "
			    "negotiating within %s (the handshake timeout): "
			    "disconnected", fmt_ms(t, sizeof(t),
			    s->hs_timeout_ms));
			goto done;
		}
		if (error != 0) {
			STAT_ADD(s, protocol_errors, 1);
			goto done;
		}
	}
	/* The calling thread is one of the s->threads. */
	for (i = 0; i + 1 < s->threads; i++) {
		if (pthread_create(&c->workers[i], NULL, conn_thread, c) != 0)
			break;
		c->nworkers++;
	}
	(void)conn_thread(c);
	for (i = 0; i < c->nworkers; i++)
		pthread_join(c->workers[i], NULL);
	if (c->error != 0) {
		error = c->error;
		if (d != NULL)
			*d = c->d;
	} else if (c->werror != 0) {
		error = c->werror;
		if (d != NULL)
			*d = c->wd;
	}
	if (!(s->tflags & NBD_FLAG_READ_ONLY)) {
		diag_clear(&fd_);
		if (bdev_flush(s->b, &fd_) != 0 && error == 0)
			error = diag_set(d, fd_.code, "nbd: flush at "
			    "disconnect: %s", fd_.msg);
	}
done:
	close(fd);
	STAT_ADD(s, active, (uint64_t)-1);
	pthread_mutex_destroy(&c->rlock);
	pthread_mutex_destroy(&c->wlock);
	free(c);
	return (error);
}

/* --- server, listen ------------------------------------------------------ */

int
nbd_server_new(struct bdev *b, const struct nbd_export_opts *o,
    struct nbd_server **out, struct diag *d)
{
	struct nbd_server *s;
	const char *name = (o != NULL && o->name != NULL) ? o->name : "";
	uint64_t cm = 2 * (uint64_t)NBD_MAX_PAYLOAD;
	uint64_t gm = 4 * (uint64_t)NBD_MAX_PAYLOAD;
	size_t i;

	if (strlen(name) > NBD_NAME_MAX)
		return (diag_set(d, EINVAL, "nbd: export name longer than %d "
		    "bytes", NBD_NAME_MAX));
	if (o != NULL && o->conn_mem_max != 0)
		cm = o->conn_mem_max;
	if (o != NULL && o->mem_max != 0)
		gm = o->mem_max;
	if (cm < NBD_MIN_MEM || gm < NBD_MIN_MEM)
		return (diag_set(d, EINVAL, "nbd: a memory cap of %ju bytes "
		    "is under the %u byte minimum", (uintmax_t)LR_MIN(cm, gm),
		    NBD_MIN_MEM));
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->name = strdup(name)) == NULL) {
		free(s);
		return (diag_set(d, ENOMEM, "nbd: out of memory"));
	}
	s->namelen = strlen(name);
	s->b = b;
	s->readonly = (o != NULL && o->readonly) || b->readonly;
	s->threads = (o != NULL && o->threads != 0) ? o->threads : 4;
	if (s->threads > MAX_THREADS)
		s->threads = MAX_THREADS;
	s->conn_mem_max = cm;
	s->mem_max = gm;
	/* A multiple of 4 KiB, at most both caps: it always fits in the end. */
	s->max_payload = (uint32_t)(LR_MIN(LR_MIN(cm, gm),
	    (uint64_t)NBD_MAX_PAYLOAD) & ~(uint64_t)4095);
	s->max_clients = (o != NULL && o->max_clients != 0) ? o->max_clients :
	    DEF_MAX_CLIENTS;
	s->send_timeout_ms = o != NULL ? o->send_timeout_ms : 0;
	s->hs_timeout_ms = o != NULL ? o->handshake_timeout_ms : 0;
	s->tflags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
	    NBD_FLAG_CAN_MULTI_CONN;
	if (s->readonly)
		s->tflags |= NBD_FLAG_READ_ONLY;
	else
		s->tflags |= NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM |
		    NBD_FLAG_SEND_WRITE_ZEROES;
	if (pipe(s->stop_pipe) != 0) {
		int error = errno;

		free(s->name);
		free(s);
		return (diag_set(d, error, "nbd: pipe: %s", strerror(error)));
	}
	for (i = 0; i < 2; i++) {
		(void)fcntl(s->stop_pipe[i], F_SETFD, FD_CLOEXEC);
		(void)fcntl(s->stop_pipe[i], F_SETFL, O_NONBLOCK);
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	pthread_cond_init(&s->mem_cv, NULL);
	*out = s;
	return (0);
}

void
nbd_server_stop(struct nbd_server *s)
{
	int saved = errno;

	__atomic_store_n(&s->stopping, 1, __ATOMIC_SEQ_CST);
	(void)write(s->stop_pipe[1], "x", 1);
	errno = saved;
}

void
nbd_server_destroy(struct nbd_server *s)
{
	if (s == NULL)
		return;
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	pthread_cond_destroy(&s->mem_cv);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s->name);
	free(s);
}

void
nbd_server_set_ready_cb(struct nbd_server *s, nbd_ready_fn *fn, void *arg)
{
	s->ready = fn;
	s->ready_arg = arg;
}

void
nbd_server_set_log_cb(struct nbd_server *s, nbd_log_fn *fn, void *arg)
{
	s->log = fn;
	s->log_arg = arg;
}

static void
server_log(struct nbd_server *s, const char *fmt, ...) LR_PRINTF(2, 3);

static void
server_log(struct nbd_server *s, const char *fmt, ...)
{
	char msg[DIAG_MSGLEN + 128];
	va_list ap;

	if (s->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->log(s->log_arg, msg);
}

uint32_t
nbd_server_max_payload(const struct nbd_server *s)
{
	return (s->max_payload);
}

void
nbd_server_get_stats(struct nbd_server *s, struct nbd_server_stats *st)
{
	uint64_t *dst = (uint64_t *)st, *src = (uint64_t *)&s->st;
	size_t i;

	for (i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

uint16_t
nbd_server_tflags(const struct nbd_server *s)
{
	return (s->tflags);
}

int
nbd_server_last_error(struct nbd_server *s, struct diag *d)
{
	int code;

	pthread_mutex_lock(&s->lock);
	code = s->last.code;
	if (d != NULL)
		*d = s->last;
	pthread_mutex_unlock(&s->lock);
	return (code);
}

struct client_arg {
	struct nbd_server	*s;
	int			 fd;
	uint64_t		 id;
	char			 peer[INET6_ADDRSTRLEN + 16];
};

static void *
client_thread(void *arg)
{
	struct client_arg *ca = arg;
	struct nbd_server *s = ca->s;
	struct diag d;
	const char *m;

	diag_clear(&d);
	if (nbd_server_serve_fd(s, ca->fd, 1, &d) != 0) {
		m = strncmp(d.msg, "nbd: ", 5) == 0 ? d.msg + 5 : d.msg;
		server_log(s, "nbd: client #%ju (%s): %s", (uintmax_t)ca->id,
		    ca->peer, m[0] != '\0' ? m : strerror(d.code));
	}
	free(ca);
	pthread_mutex_lock(&s->lock);
	s->clients--;
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	return (NULL);
}

#define MAX_LISTEN	8

/* "unix:PATH", "tcp:HOST:PORT" of the socket (peer = 0) or its peer. */
static void
describe_sock(int fd, int peer, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN + 2], port[16];

	memset(&ss, 0, sizeof(ss));
	if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &sl) :
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) != 0) {
		snprintf(buf, len, "?");
		return;
	}
	if (ss.ss_family == AF_UNIX) {
		/* ss was zeroed and is larger: sun_path ends in a NUL. */
		snprintf(buf, len, "unix%s%s", peer ? "" : ":",
		    peer ? "" : ((struct sockaddr_un *)&ss)->sun_path);
		return;
	}
	if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, len, "tcp:?");
		return;
	}
	if (ss.ss_family == AF_INET6)
		snprintf(buf, len, "tcp:[%s]:%s", host, port);
	else
		snprintf(buf, len, "tcp:%s:%s", host, port);
}

static int
listen_unix(const char *path, int *fdp, struct diag *d)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, error;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return (diag_set(d, ENAMETOOLONG, "%s: socket path longer "
		    "than %zu bytes: use a shorter path", path,
		    sizeof(sun.sun_path) - 1));
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return (diag_set(d, EEXIST, "%s exists and is not a "
			    "socket: remove it or choose another path", path));
		(void)unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (diag_set(d, errno, "socket: %s", strerror(errno)));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, 64) != 0) {
		error = errno;
		close(fd);
		return (diag_set(d, error, "%s: cannot listen: %s", path,
		    strerror(error)));
	}
	*fdp = fd;
	return (0);
}

static int
listen_tcp(const char *host, const char *port, int *fds, int *nfds,
    struct diag *d)
{
	struct addrinfo hints, *res, *ai;
	int fd, rc, one = 1, error = 0, start = *nfds;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (host != NULL && (host[0] == '\0' || strcmp(host, "*") == 0)) {
		host = NULL;
		hints.ai_flags = AI_PASSIVE;
	}
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return (diag_set(d, EINVAL, "%s:%s: %s", host ? host :
		    "localhost", port, gai_strerror(rc)));
	for (ai = res; ai != NULL && *nfds < MAX_LISTEN; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			error = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
		    listen(fd, 64) != 0) {
			error = errno;
			close(fd);
			continue;
		}
		fds[(*nfds)++] = fd;
	}
	freeaddrinfo(res);
	if (*nfds == start)
		return (diag_set(d, error ? error : EADDRNOTAVAIL, "%s:%s: "
		    "cannot listen: %s", host ? host : "localhost", port,
		    strerror(error ? error : EADDRNOTAVAIL)));
	return (0);
}

int
nbd_server_listen(struct nbd_server *s, const char *unix_path,
    const char *tcp_host, const char *tcp_port, struct diag *d)
{
	struct pollfd pfd[MAX_LISTEN + 1];
	int fds[MAX_LISTEN], nfds = 0, i, fd, error = 0;
	char where[256];

	if (unix_path == NULL && tcp_port == NULL)
		return (diag_set(d, EINVAL, "nbd: nothing to listen on: give "
		    "a unix socket path or a TCP port"));
	if (unix_path != NULL &&
	    (error = listen_unix(unix_path, &fds[nfds], d)) == 0)
		nfds++;
	if (error == 0 && tcp_port != NULL)
		error = listen_tcp(tcp_host, tcp_port, fds, &nfds, d);
	if (error != 0)
		goto out;
	if (s->ready != NULL)
		for (i = 0; i < nfds; i++) {
			describe_sock(fds[i], 0, where, sizeof(where));
			s->ready(s->ready_arg, where);
		}
	while (!stopped(s)) {
		for (i = 0; i < nfds; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		pfd[nfds].fd = s->stop_pipe[0];
		pfd[nfds].events = POLLIN;
		pfd[nfds].revents = 0;
		if (poll(pfd, (nfds_t)nfds + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			error = diag_set(d, errno, "nbd: poll: %s",
			    strerror(errno));
			break;
		}
		if (pfd[nfds].revents != 0)
			break;
		for (i = 0; i < nfds; i++) {
			struct client_arg *ca;
			pthread_attr_t attr;
			pthread_t t;

			if (pfd[i].revents == 0)
				continue;
			fd = accept(fds[i], NULL, NULL);
			if (fd < 0)
				continue;	/* EAGAIN, ECONNABORTED, EMFILE */
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
			if ((ca = malloc(sizeof(*ca))) == NULL) {
				close(fd);
				continue;
			}
			ca->s = s;
			ca->fd = fd;
			describe_sock(fd, 1, ca->peer, sizeof(ca->peer));
			pthread_mutex_lock(&s->lock);
			ca->id = ++s->next_id;
			if (s->clients >= s->max_clients) {
				pthread_mutex_unlock(&s->lock);
				STAT_ADD(s, refused, 1);
				server_log(s, "nbd: client #%ju (%s) refused: "
				    "already serving %u clients, the limit",
				    (uintmax_t)ca->id, ca->peer,
				    s->max_clients);
				close(fd);
				free(ca);
				continue;
			}
			s->clients++;
			pthread_mutex_unlock(&s->lock);
			pthread_attr_init(&attr);
			pthread_attr_setdetachstate(&attr,
			    PTHREAD_CREATE_DETACHED);
			if (pthread_create(&t, &attr, client_thread, ca) != 0) {
				close(fd);
				free(ca);
				pthread_mutex_lock(&s->lock);
				s->clients--;
				pthread_mutex_unlock(&s->lock);
			}
			pthread_attr_destroy(&attr);
		}
	}
out:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (unix_path != NULL && nfds > 0)
		(void)unlink(unix_path);
	pthread_mutex_lock(&s->lock);
	while (s->clients > 0)
		pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
	return (error);
}
