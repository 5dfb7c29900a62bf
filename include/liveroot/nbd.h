/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nbd.h - an NBD server (userland, pthreads) exporting one struct bdev.
 *
 * Fixed-newstyle handshake (OPT_EXPORT_NAME, OPT_GO, OPT_INFO, OPT_LIST,
 * OPT_ABORT; everything else is answered NBD_REP_ERR_UNSUP), simple replies
 * only, commands READ, WRITE, FLUSH, TRIM, WRITE_ZEROES, DISC with FUA.  Per
 * connection `threads` threads (the caller of nbd_server_serve_fd is one)
 * take turns reading a request, then run it against the bdev and send the
 * reply (replies serialized by a per-connection lock), so that many
 * requests are in flight.  The bdev is borrowed: it must outlive the server
 * and is used from many threads at once (bdev.h says every layer allows
 * that).  Threads inherit the caller's signal mask and prctl flags (an
 * /init sets PR_SET_IO_FLUSHER before serving).
 *
 * Errors: 0 or a positive errno, the human detail in the caller's diag.  A
 * hostile client (bad magic, a length over NBD_MAX_PAYLOAD, a request out of
 * range) gets an error reply or is disconnected; the export and the other
 * clients are not affected.
 */
#ifndef LIVEROOT_NBD_H
#define LIVEROOT_NBD_H

#include <stdint.h>

#include "bdev.h"
#include "diag.h"

/* The largest READ/WRITE payload the server accepts (and advertises). */
#define NBD_MAX_PAYLOAD		(32u * 1024 * 1024)

struct nbd_export_opts {
	const char	*name;		/* "" (or NULL) = the default export */
	int		 readonly;
	unsigned	 threads;	/* workers per connection, 0 = 4 */
};

struct nbd_server;

int	nbd_server_new(struct bdev *b /* borrowed */,
	    const struct nbd_export_opts *o, struct nbd_server **out,
	    struct diag *d);
/*
 * Serve one connection on fd until disconnect or stop.  handshake=1:
 * fixed-newstyle negotiation first; handshake=0: transmission phase only
 * (the Linux kernel driver after NBD_SET_SOCK speaks no handshake).
 * Blocking.  Closes fd at the end.  Returns 0 on an orderly end (NBD_CMD_DISC,
 * the client closing, nbd_server_stop()), else an errno with a diag.
 */
int	nbd_server_serve_fd(struct nbd_server *s, int fd, int handshake,
	    struct diag *d);
/*
 * Listen on a unix socket (unix_path non-NULL; an existing socket file there
 * is replaced) and/or TCP (tcp_port non-NULL; tcp_host NULL = loopback) and
 * serve every client in its own thread until nbd_server_stop().  Returns
 * after all clients have ended.
 */
int	nbd_server_listen(struct nbd_server *s, const char *unix_path_or_NULL,
	    const char *tcp_host, const char *tcp_port, struct diag *d);
/* Async-signal-safe: ends listen and every connection (after their
 * in-flight requests and a flush). */
void	nbd_server_stop(struct nbd_server *s);
void	nbd_server_destroy(struct nbd_server *s);

/* --- extras beyond the mandated API ------------------------------------ */

/*
 * Called once by nbd_server_listen() when every socket is bound and
 * listening, with a printable address per socket ("unix:/run/x.sock",
 * "tcp:127.0.0.1:10809"; the real port when 0 was asked for).
 */
typedef void nbd_ready_fn(void *arg, const char *where);
void	nbd_server_set_ready_cb(struct nbd_server *s, nbd_ready_fn *fn,
	    void *arg);

struct nbd_server_stats {
	uint64_t	connections;	/* accepted or served, total */
	uint64_t	active;		/* connections now open */
	uint64_t	reads, writes, flushes, trims, zeroes;
	uint64_t	bytes_read, bytes_written;
	uint64_t	errors;		/* error replies sent */
	uint64_t	protocol_errors;	/* clients dropped for misbehaving */
};
void	nbd_server_get_stats(struct nbd_server *s, struct nbd_server_stats *st);
/* The transmission flags the export advertises (NBD_FLAG_HAS_FLAGS,
 * READ_ONLY, SEND_FLUSH, ...): what handshake=0 users hand the Linux kernel
 * with the NBD_SET_FLAGS ioctl. */
uint16_t nbd_server_tflags(const struct nbd_server *s);
/* The last error a request met on the bdev (code 0 = none yet), copied to
 * d; returns its code. */
int	nbd_server_last_error(struct nbd_server *s, struct diag *d);

#endif
