/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http.h - a read-only bdev over a remote file, read with HTTP Range
 * requests (libcurl): the lowest layer of a root image booted lazily over
 * the network (http -> cluster cache -> uzip -> rowr).
 *
 * Open pins the file: one GET of byte 0 (Range: bytes=0-0), its redirects
 * followed by the rules of fetch.h (net_redirect_check), gives the final
 * URL, the size (Content-Range: bytes 0-0/SIZE) and the identity (ETag
 * and/or Last-Modified).  Every later request goes to that final URL and its
 * response must be a 206 naming exactly the range asked for, of the same
 * total, with the same ETag and Last-Modified, and a body of exactly that
 * length: bytes of two versions of a file never meet in one device.  A
 * response of another version fails the read with ESTALE and a message
 * naming both ("the server now serves another file: ETag "x" (size N) at
 * open, "y" (size M) now"); from then on every read fails so.
 *
 * A server that answers the Range request of open with the whole file (200)
 * does not serve ranges: bdev_http_open() fails with ENOTSUP and says so;
 * the caller falls back to downloading the whole file (net_fetch_mem() of
 * fetch.h).  Other failures of open: ENOENT (404), EACCES (another 4xx, or
 * a certificate that does not verify), EPROTO (a broken answer or refused
 * redirect), ELOOP (redirects), ETIMEDOUT, EIO.
 *
 * Reads are thread-safe and run in parallel over a pool of `connections`
 * libcurl handles, each keeping its connection alive (HTTP/1.1 keep-alive;
 * HTTP/2 over TLS where the server offers it).  A read waits for a free
 * handle, then asks its range; a dropped connection, a timeout, 5xx, 408 or
 * 429 is retried for the part still missing, with exponential backoff, as
 * long as the read's time bound (read_s) allows; another 4xx, a redirect or
 * a broken answer is final (EIO).  A read never returns before its bytes
 * are all in, or an error.
 *
 * Bounds: header lines are judged within fixed lengths (an ETag of more
 * than BDEV_HTTP_TAGLEN - 1 bytes is malformed); a body longer than asked
 * is an error, never an overflow; the size is at most INT64_MAX.
 *
 * The device is read-only, blksize 512, bdev_size() the remote size.  Every
 * message names the URL without query, fragment or user:password@
 * (net_url_redact).  The log callback may be called from any reading thread.
 */
#ifndef LIVEROOT_HTTP_H
#define LIVEROOT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "bdev.h"

#define BDEV_HTTP_CONNS_DEFAULT	4
#define BDEV_HTTP_CONNS_MAX	32
#define BDEV_HTTP_READ_DEFAULT	60	/* s, one read with its retries */
#define BDEV_HTTP_TAGLEN	130	/* ETag, with quotes and W/, and NUL */
#define BDEV_HTTP_DATELEN	64	/* Last-Modified and NUL */

struct bdev_http_opts {
	const char	*url;		/* http:// or https:// */
	const char	*ca_file;	/* CA bundle (PEM); NULL: libcurl's */
	const char	*user_agent;	/* NULL: "liveroot" */
	unsigned	 connections;	/* 0: BDEV_HTTP_CONNS_DEFAULT; at most
					   BDEV_HTTP_CONNS_MAX */
	unsigned	 timeout_s;	/* connect timeout and speed window;
					   0: FETCH_WINDOW_DEFAULT */
	unsigned	 min_speed;	/* bytes/s; 0: FETCH_SPEED_DEFAULT */
	unsigned	 open_s;	/* open with its retries; 0: read_s */
	unsigned	 read_s;	/* one read with its retries;
					   0: BDEV_HTTP_READ_DEFAULT */
	unsigned	 retries;	/* per read; 0: 8 */
	unsigned	 backoff_ms;	/* first retry delay, doubled; 0: 250 */
	void		(*log)(const char *msg, void *arg);
	void		*arg;
};

/* What the device has done so far (for logs and the fleet test). */
struct bdev_http_stats {
	uint64_t	 requests;	/* HTTP requests sent, open's included */
	uint64_t	 bytes;		/* body bytes received for reads */
	uint64_t	 retries;	/* requests that repeated a failed one */
	uint64_t	 reads;		/* reads completed */
	uint64_t	 failed;	/* reads failed */
	int		 stale;		/* the server changed the file */
};

/* The identity pinned at open. */
struct bdev_http_info {
	char		 url[120];	/* the final URL, redacted */
	char		 etag[BDEV_HTTP_TAGLEN];	/* "" when none */
	char		 last_modified[BDEV_HTTP_DATELEN];	/* "" when none */
	uint64_t	 size;
	unsigned	 redirects;	/* hops followed at open */
};

int	bdev_http_open(const struct bdev_http_opts *o, struct bdev **out,
	    struct diag *d);
/* 0, or EINVAL when b is not an http device. */
int	bdev_http_stats(struct bdev *b, struct bdev_http_stats *st);
int	bdev_http_info(struct bdev *b, struct bdev_http_info *info);

/*
 * The response header parser, public for the fuzz target.  Feed it every
 * header line of a response as libcurl hands them (with CRLF, not
 * NUL-terminated); a status line starts a new response.  Values are kept
 * only when well-formed; a malformed or repeated field we judge is marked
 * bad (-1), never ignored.
 */
struct bdev_http_hdr {
	long		 status;	/* 0: no status line yet */
	int		 ended;		/* the blank line after the fields */
	int		 has_clen;	/* 1 valid, -1 bad or repeated */
	int		 has_cr;	/* 1 "a-b/t", 2 "* /t", -1 bad */
	int		 has_etag;	/* 1 valid, -1 malformed or repeated */
	int		 has_lm;	/* likewise for Last-Modified */
	int		 ranges;	/* Accept-Ranges: 1 bytes, -1 none */
	int		 encoded;	/* a Content-Encoding but identity */
	uint64_t	 clen;
	uint64_t	 cr_a, cr_b, cr_t;	/* cr_t 0: "*" */
	char		 etag[BDEV_HTTP_TAGLEN];
	char		 lm[BDEV_HTTP_DATELEN];
};

void	bdev_http_hdr_reset(struct bdev_http_hdr *h);
void	bdev_http_hdr_line(struct bdev_http_hdr *h, const char *p, size_t len);

/* The identity a response must match, and the range it must hold. */
struct bdev_http_want {
	uint64_t	 size;
	const char	*etag;		/* "" or NULL: none pinned */
	const char	*lm;		/* likewise */
	uint64_t	 off, len;	/* len > 0 */
};

/*
 * Judges a complete header (ended, a final status) against w: 0 when it is
 * a 206 of exactly [off, off + len) of the pinned file; ESTALE (the file
 * changed: d names both versions), or EIO/EPROTO (a broken or refused
 * answer) otherwise.  url (redacted) names the server in d.
 */
/* EAGAIN: a status another attempt may fix (5xx, 408, 429). */
int	bdev_http_judge(const struct bdev_http_hdr *h,
	    const struct bdev_http_want *w, const char *url, struct diag *d);

#endif
