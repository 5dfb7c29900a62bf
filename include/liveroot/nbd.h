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
 * hostile client (bad magic, a length over the maximum payload, a request
 * out of range) gets an error reply or is disconnected; the export and the
 * other clients are not affected.
 *
 * What a client can cost is bounded (nbd_export_opts): the payload bytes
 * in flight per connection and over all connections (a request that would
 * pass a cap waits, and its connection's socket is not read meanwhile:
 * back-pressure), the connections nbd_server_listen() serves at once, the
 * time a reply may wait on a client that does not read, and the time a
 * client may take to negotiate.  Every connection may have up to
 * NBD_CONN_RESERVE bytes in flight outside the shared cap, so a small
 * request of one client is never starved by others that hold the shared
 * budget; the whole in flight is at most mem_max + connections x
 * NBD_CONN_RESERVE.  No encryption, no authentication: anyone who can
 * reach a socket can use the export.
 */
#ifndef LIVEROOT_NBD_H
#define LIVEROOT_NBD_H

#include <stdint.h>

#include "bdev.h"
#include "diag.h"

/*
 * The largest READ/WRITE payload the server accepts (and advertises); lower
 * when a memory cap below is smaller.
 */
#define NBD_MAX_PAYLOAD		(32u * 1024 * 1024)
/* Bytes in flight a connection may always have, outside mem_max. */
#define NBD_CONN_RESERVE	(1024u * 1024)
/* The smallest memory cap nbd_server_new() takes. */
#define NBD_MIN_MEM		(1024u * 1024)

/*
 * Zero in a field means its default, so `{ "", 0, 4 }` keeps the shape
 * every caller had before the limits came (the Linux /init's kernel
 * socket: no timeouts).
 */
struct nbd_export_opts {
	const char	*name;		/* "" (or NULL) = the default export */
	int		 readonly;
	unsigned	 threads;	/* workers per connection, 0 = 4 */
	uint64_t	 conn_mem_max;	/* payload bytes in flight on one
					 * connection, 0 = 2 x NBD_MAX_PAYLOAD */
	uint64_t	 mem_max;	/* ... shared by all connections, beyond
					 * their NBD_CONN_RESERVE each,
					 * 0 = 4 x NBD_MAX_PAYLOAD */
	unsigned	 max_clients;	/* listen: connections served at once,
					 * one more is closed at once (and
					 * logged); 0 = 16 */
	unsigned	 send_timeout_ms;	/* a reply that makes no
					 * progress this long (the client
					 * does not read) disconnects the
					 * client; 0 = wait for ever */
	unsigned	 handshake_timeout_ms;	/* a client that has not
					 * finished negotiating by then is
					 * disconnected; 0 = no limit */
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

/*
 * Called (from any thread, possibly at once) with a line about one client:
 * refused for the client limit, cut off (timeout, protocol error).  Without
 * one the server is silent.
 */
typedef void nbd_log_fn(void *arg, const char *msg);
void	nbd_server_set_log_cb(struct nbd_server *s, nbd_log_fn *fn, void *arg);

struct nbd_server_stats {
	uint64_t	connections;	/* accepted or served, total */
	uint64_t	active;		/* connections now open */
	uint64_t	reads, writes, flushes, trims, zeroes;
	uint64_t	bytes_read, bytes_written;
	uint64_t	errors;		/* error replies sent */
	uint64_t	protocol_errors;	/* clients dropped for misbehaving */
	uint64_t	refused;	/* connections over max_clients */
	uint64_t	timeouts;	/* clients cut off by a timeout */
	uint64_t	mem_waits;	/* requests that waited for memory */
	uint64_t	mem_peak;	/* most payload bytes in flight at once */
};
void	nbd_server_get_stats(struct nbd_server *s, struct nbd_server_stats *st);
/* The largest READ/WRITE payload accepted (and advertised). */
uint32_t nbd_server_max_payload(const struct nbd_server *s);
/* The transmission flags the export advertises (NBD_FLAG_HAS_FLAGS,
 * READ_ONLY, SEND_FLUSH, ...): what handshake=0 users hand the Linux kernel
 * with the NBD_SET_FLAGS ioctl. */
uint16_t nbd_server_tflags(const struct nbd_server *s);
/* The last error a request met on the bdev (code 0 = none yet), copied to
 * d; returns its code. */
int	nbd_server_last_error(struct nbd_server *s, struct diag *d);

#endif
