/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fill.h - a RAM copy of a slow read-only lower (bdev_http), filled on
 * demand and in the background: the lazy network root of issue 13.
 *
 * The device has the lower's size.  Its RAM image is kept in chunks
 * (o->chunk bytes, a power of 2); a bitmap says which are present.  A read
 * of present chunks is a copy from RAM; a read that touches missing chunks
 * fetches them (the whole run of missing chunks it covers, one request,
 * chunk-aligned) from the lower first, and they stay.  Demand reads go
 * first: the background filler, started by bdev_fill_start(), fetches the
 * missing chunks in order, in runs of up to o->run bytes, and leaves the
 * lower alone while a demand read waits; while the device is being read
 * (a demand fetch in the last 2 s: a boot) o->share_pct paces it (it
 * sleeps so that its own transfer takes about that share of the wall
 * clock); when demand is quiet it runs at full speed.
 * Chunks in flight are locked: two readers of one chunk fetch it once.
 *
 * When every chunk is present the device is complete: the lower is
 * destroyed (the network is no longer needed; its sockets are closed), and
 * o->event is called once with BDEV_FILL_COMPLETE.  A lower error on a
 * demand read is that read's error (EIO, ESTALE: the lower's diag is
 * passed on); on a background fetch the filler waits and retries (a server
 * restarted later resumes the fill) and reports BDEV_FILL_STALLED /
 * BDEV_FILL_RESUMED through o->event.  ESTALE (another file on the server)
 * stops the filler for good: every later read of a missing chunk fails.
 *
 * Memory: the RAM image is allocated chunk by chunk as it fills (mmap'd
 * anonymous memory, so a machine needs RAM for what was fetched, and for
 * the whole image once complete); bdev_fill_ram_needed() says how much.
 *
 * Threads: the filler is one thread, started by bdev_fill_start() (call it
 * in the process that serves the device: a fork does not copy threads).
 * Reads are thread-safe.
 */
#ifndef LIVEROOT_FILL_H
#define LIVEROOT_FILL_H

#include <stdint.h>

#include "bdev.h"

#define BDEV_FILL_CHUNK_DEFAULT	(256u << 10)	/* 256 KiB */
#define BDEV_FILL_RUN_DEFAULT	(8u << 20)	/* 8 MiB per background request */

enum bdev_fill_event {
	BDEV_FILL_PROGRESS,	/* another ~5% present (have/total) */
	BDEV_FILL_STALLED,	/* a background fetch failed; retrying (msg) */
	BDEV_FILL_RESUMED,	/* the lower answers again */
	BDEV_FILL_COMPLETE,	/* all present; the lower was dropped */
	BDEV_FILL_STOPPED	/* the filler gave up for good (msg says why) */
};

struct bdev_fill_opts {
	uint32_t	chunk;		/* 0: BDEV_FILL_CHUNK_DEFAULT */
	uint32_t	run;		/* 0: BDEV_FILL_RUN_DEFAULT */
	unsigned	share_pct;	/* background's share of the time while
					   demand reads come, 1..100;
					   0 = 100 (as fast as it can) */
	int		prefetch;	/* 0: no background fill at all */
	/* Called from the filler thread (or a reader, for COMPLETE when a
	 * demand read fetched the last chunk); msg may be NULL. */
	void		(*event)(enum bdev_fill_event ev, uint64_t have,
			    uint64_t total, const char *msg, void *arg);
	void		*arg;
};

struct bdev_fill_stats {
	uint64_t	total;		/* bytes (the lower's size) */
	uint64_t	have;		/* bytes present in RAM */
	uint64_t	demand_fetches;	/* lower reads for demand reads */
	uint64_t	demand_bytes;
	uint64_t	bg_fetches;	/* lower reads by the filler */
	uint64_t	bg_bytes;
	uint64_t	hits;		/* reads served from RAM alone */
	int		complete;
	int		stopped;
};

/* Owns lower on success. */
int	bdev_fill_new(struct bdev *lower, const struct bdev_fill_opts *o,
	    struct bdev **out, struct diag *d);
/* Start the background filler (when o->prefetch); 0 or an errno. */
int	bdev_fill_start(struct bdev *b, struct diag *d);
/* 0, or EINVAL when b is not a fill device. */
int	bdev_fill_stats(struct bdev *b, struct bdev_fill_stats *st);
/* RAM the device needs once complete (the image, the bitmap). */
uint64_t bdev_fill_ram_needed(uint64_t size, uint32_t chunk);
/* 1 when b is a fill device. */
int	bdev_is_fill(const struct bdev *b);

#endif
