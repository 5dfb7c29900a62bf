/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fetch.h - fetch a root image over HTTP(S) (libcurl), strictly and within
 * bounds: into RAM for the `net` strategy of the /init (net_fetch_mem), or
 * into a file for `liveroot fetch` (net_fetch_fd).  Both run the same
 * engine with the same defaults; only where the bytes go differs.
 *
 * Bounds:
 *  - total_s bounds the whole fetch: every attempt, the waits between them,
 *    the redirects and the HEAD.  Retries never extend it: a retry whose
 *    wait would end past the bound is not started.
 *  - a minimum speed: an attempt that receives fewer than min_speed bytes/s
 *    over timeout_s seconds (headers and connection set-up included) is cut
 *    ("sent N bytes in the last S s: too slow") and retried like a dropped
 *    connection, so a trickling or stalled server ends, never hangs.
 *  - in RAM, the announced size is checked against free RAM minus what the
 *    caller must keep (the overlay's need); a refusal names both numbers.
 *
 * Strictness:
 *  - redirects are followed here, not by libcurl: at most FETCH_MAX_REDIRS,
 *    HTTP(S) only, never from HTTPS to plain HTTP, and a loop (a target seen
 *    before in the chain) ends at once; each is a final error.
 *  - a dropped connection resumes with a Range request; a 206 must answer a
 *    Range request, name its range in Content-Range, start where asked and
 *    be of the same total; a 200 to a Range request restarts from zero.
 *  - a body without Content-Length that ends before the size known from an
 *    earlier response (or, when none said, from a HEAD) is a dropped
 *    connection, never a complete image.
 *  - a TLS certificate that does not verify is a final error naming the
 *    host and libcurl's reason; HTTPS uses ca_file (the initramfs has the
 *    build machine's bundle at FETCH_CA_PATH of initramfs.h, see
 *    liveroot-mklive(8)).
 *  - HTTP 4xx (but 408, 429) is final; other failures retry with
 *    exponential backoff.
 *  - with sha256 the image is verified before it is handed out: a mismatch
 *    is an error, never a silently used image.
 *
 * Every message names the URL without its query string, fragment or
 * user:password@ (net_url_redact).  Not thread-safe per call; calls on
 * different threads are independent.
 */
#ifndef LIVEROOT_FETCH_H
#define LIVEROOT_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "bdev.h"

#define FETCH_MAX_REDIRS	5
#define FETCH_TOTAL_DEFAULT	1800	/* s, the whole fetch */
#define FETCH_WINDOW_DEFAULT	20	/* s, connect timeout and speed window */
#define FETCH_SPEED_DEFAULT	1024	/* bytes/s over the window */

struct fetch_opts {
	const char	*url;		/* http:// or https:// */
	const char	*sha256;	/* 64 hex digits, or NULL */
	const char	*ca_file;	/* CA bundle (PEM); NULL: libcurl's */
	uint64_t	 reserve_bytes;	/* RAM to keep free beyond the image */
	uint64_t	 mem_available;	/* 0: read MemAvailable from /proc/meminfo */
	unsigned	 retries;	/* 0: 5 */
	unsigned	 total_s;	/* the whole fetch; 0: FETCH_TOTAL_DEFAULT */
	unsigned	 timeout_s;	/* connect timeout and speed window;
					   0: FETCH_WINDOW_DEFAULT */
	unsigned	 min_speed;	/* bytes/s; 0: FETCH_SPEED_DEFAULT */
	unsigned	 backoff_ms;	/* first retry delay, doubled each time; 0: 1000 */
	void		(*progress)(uint64_t done, uint64_t total, void *arg);
	void		(*log)(const char *msg, void *arg);
	void		*arg;
};

/*
 * What would fix a failed fetch, for the caller to name in its own terms (a
 * kernel argument, a command-line option): messages say the fix ("check
 * the URL"), never the name of a setting.
 */
enum fetch_fix {
	FETCH_FIX_NONE = 0,
	FETCH_FIX_URL,		/* none given, or the server has no such file */
	FETCH_FIX_SHA256,	/* the expected sha256: malformed, or mismatch */
	FETCH_FIX_TIME,		/* the bound on the whole fetch (total_s) */
	FETCH_FIX_CA,		/* a CA for the server's certificate (ca_file) */
	FETCH_FIX_RESERVE,	/* the RAM kept beside the image (reserve_bytes) */
	FETCH_FIX_COUNT
};

struct fetch_result {
	long		 http_status;	/* last HTTP status seen (0: none) */
	uint64_t	 size;		/* bytes fetched */
	unsigned	 attempts;
	unsigned	 resumes;	/* attempts that continued with Range */
	unsigned	 redirects;	/* hops followed in the last attempt */
	int		 size_known;	/* the size was announced (checked) */
	char		 sha256[65];	/* hex of what was fetched */
	char		 error[256];	/* last transport error, for diagnostics */
	enum fetch_fix	 fix;		/* on failure: what would fix it */
};

/*
 * Appends to d's message the caller's words for r->fix: hints[fix], an
 * array of FETCH_FIX_COUNT strings (NULL adds nothing).
 */
void	net_fetch_hint(struct diag *d, const struct fetch_result *r,
	    const char *const *hints);

/* Into RAM: *out is a read-only mem bdev holding the image. */
int	net_fetch_mem(const struct fetch_opts *o, struct bdev **out,
	    struct fetch_result *r, struct diag *d);

/*
 * Into fd, a regular file opened for writing (name is for messages).  The
 * file is truncated first and may hold a partial image on failure: the
 * caller writes to a temporary name and renames on success only.
 */
int	net_fetch_fd(const struct fetch_opts *o, int fd, const char *name,
	    struct fetch_result *r, struct diag *d);

/*
 * The engine's rules, shared with the HTTP block layer (http.h), so both
 * judge responses and redirects the same way.
 */
/* A header's decimal value: digits only, blanks around, no overflow; 0/-1. */
int	net_http_number(const char *s, uint64_t *v);
/*
 * A Content-Range value (after the colon): "bytes A-B/T" gives 0 (*total 0
 * for a star), "bytes * /T" (a 416's current size, without the blank) gives
 * 1 with *a = *b = 0; anything else -1.  Numbers as net_http_number().
 */
int	net_http_content_range(const char *s, uint64_t *a, uint64_t *b,
	    uint64_t *total);
/* An HTTP status that another attempt cannot fix: 4xx but 408 and 429. */
int	net_http_final(long status);
/* A libcurl result (CURLcode) saying the TLS certificate did not verify. */
int	net_curl_tls_error(int cc);
/*
 * Whether a redirect to loc may be followed: HTTP(S) only, never from HTTPS
 * (https: the chain has been on HTTPS) down to HTTP, not back to a URL of
 * the chain chain[0..n], at most FETCH_MAX_REDIRS hops.  0, or an errno with
 * d naming cur (the redirecting URL, redacted), or url0 (the first, for the
 * count), and the fix.
 */
int	net_redirect_check(const char *url0, const char *cur, const char *loc,
	    char *const *chain, unsigned n, int https, struct diag *d);

/*
 * url for messages and logs: without user:password@, ?query and #fragment,
 * control bytes as '?', cut to len - 1 bytes with "..." when longer.
 */
void	net_url_redact(const char *url, char *out, size_t len);

#endif
