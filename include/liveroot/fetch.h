/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fetch.h - fetch a root image over HTTP(S) (libcurl) into RAM, for the
 * `net` strategy of the /init.
 *
 * The whole image lands in one buffer, wrapped as a read-only mem bdev.
 * Before downloading, the announced size is checked against free RAM minus
 * what the caller must keep (the overlay's need); a refusal names both
 * numbers.  A dropped connection resumes with a Range request (a server that
 * ignores Range restarts from zero); transient failures retry with
 * exponential backoff; HTTP 4xx errors are final.  When sha256 is given, the
 * image is verified before it is handed out: a mismatch is an error, never a
 * silently used image.
 */
#ifndef LIVEROOT_FETCH_H
#define LIVEROOT_FETCH_H

#include <stdint.h>

#include "bdev.h"

struct fetch_opts {
	const char	*url;
	const char	*sha256;	/* 64 hex digits, or NULL */
	uint64_t	 reserve_bytes;	/* RAM to keep free beyond the image */
	uint64_t	 mem_available;	/* 0: read MemAvailable from /proc/meminfo */
	unsigned	 retries;	/* 0: 5 */
	unsigned	 timeout_s;	/* connect and stall timeout; 0: 20 */
	unsigned	 backoff_ms;	/* first retry delay, doubled each time; 0: 1000 */
	void		(*progress)(uint64_t done, uint64_t total, void *arg);
	void		(*log)(const char *msg, void *arg);
	void		*arg;
};

struct fetch_result {
	long		 http_status;	/* last HTTP status seen (0: none) */
	uint64_t	 size;		/* bytes fetched */
	unsigned	 attempts;
	unsigned	 resumes;	/* attempts that continued with Range */
	char		 sha256[65];	/* hex of what was fetched */
	char		 error[256];	/* last transport error, for diagnostics */
};

int	net_fetch_mem(const struct fetch_opts *o, struct bdev **out,
	    struct fetch_result *r, struct diag *d);

/* SHA-256 of a buffer as 64 lowercase hex digits + NUL. */
void	net_sha256_hex(const void *buf, size_t len, char out[65]);

#endif
