/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fill.c - see fill.h: a RAM copy of a slow read-only lower, filled on
 * demand and by one background thread.
 *
 * Memory: the whole image is one anonymous mmap(MAP_NORESERVE) of the
 * lower's size, written only where chunks arrive, so the kernel backs with
 * pages only what was fetched (and the whole image once complete).  One
 * mapping keeps a chunk's address arithmetic (img + off) and a read that
 * spans chunks a single memcpy, with no table of chunk pointers and no
 * allocation on the I/O path; a chunk-by-chunk malloc would buy nothing but
 * that table.  (A 32-bit build needs the address space for the image.)
 *
 * State per chunk, two bitmaps under mtx: `have` (its bytes are in img and
 * never change again) and `busy` (a lower read of it is in flight, by a
 * demand reader or the filler).  Invariants:
 *  - a chunk is never both have and busy; only the thread that set busy
 *    writes its bytes into img, and only img bytes of have chunks are read,
 *    so img is read and written without the lock;
 *  - nhave counts the have bits; complete <=> nhave == nchunks, and then
 *    lower is NULL (dropped by the thread that set the last bit);
 *  - lower is used outside the lock only by a thread holding busy chunks
 *    (the device is then not complete, so lower is alive); destroy joins
 *    the filler first, and readers are gone by the bdev contract.
 *
 * Readers: a read copies from img when its chunks are all have; otherwise
 * it fetches the first run of missing (neither have nor busy) chunks it
 * covers, one lower read, and loops; when only busy chunks are left, it
 * waits on cv for them.  demand counts readers fetching or waiting: the
 * filler starts no run while it is non-zero (demand first).
 *
 * The filler: from a cursor that starts at 0, the next missing chunk and
 * the missing ones after it up to o->run bytes, one lower read; then, while
 * the device is being read (a demand fetch ended less than FILL_QUIET_MS
 * ago: a boot), a pause so that its transfer takes share_pct of the wall
 * clock; once demand is quiet it runs at full speed.  (bench/netboot: at
 * full speed all the time, the fill kept a 100 Mbit/s link busy while
 * systemd booted, and the boot's own reads waited behind it.)  At the
 * end it starts again from 0 for chunks a failed demand read left missing.
 * A failed run (not ESTALE) is retried after a backoff doubled from
 * FILL_BACKOFF_MIN_MS to FILL_BACKOFF_MAX_MS, with STALLED once per streak
 * and RESUMED at the next success; ESTALE stops it (STOPPED), and every
 * later fetch fails with the same message.  Every wait is a timed wait on
 * cv, so stop (destroy) ends it at once, except a lower read in flight,
 * which ends within the lower's own time bound.
 *
 * Events and the lower's destruction happen outside the lock.  PROGRESS
 * comes from the filler only; COMPLETE from whichever thread fetched the
 * last chunk.
 */
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <liveroot/fill.h>
#include <liveroot/util.h>

#define FILL_CHUNK_MIN		4096u
#define FILL_CHUNK_MAX		(64u << 20)
#define FILL_RUN_MAX		(256u << 20)
#define FILL_BACKOFF_MIN_MS	250u
#define FILL_BACKOFF_MAX_MS	30000u
#define FILL_PAUSE_MAX_MS	60000u
#define FILL_QUIET_MS		2000u	/* no demand fetch this long: quiet */

struct bdev_fill {
	struct bdev		 b;
	struct bdev		*lower;		/* NULL once complete */
	struct bdev_fill_opts	 o;
	unsigned		 shift;		/* log2(chunk) */
	uint64_t		 nchunks;
	uint8_t			*img;		/* mmap of b.size bytes */
	size_t			 maplen;
	uint64_t		*have;		/* bitmaps of nchunks bits */
	uint64_t		*busy;

	pthread_mutex_t		 mtx;
	pthread_cond_t		 cv;		/* chunks landed, demand gone,
						   stop */
	pthread_t		 thr;
	int			 started;
	int			 stop;
	unsigned		 demand;	/* readers fetching, waiting */
	uint64_t		 demand_ms;	/* now_ms() at the last demand
						   fetch's end */
	uint64_t		 nhave;
	unsigned		 pct_told;	/* progress reported, in 5% */
	int			 stale;		/* ESTALE seen: fetches fail */
	struct diag		 stale_d;
	struct bdev_fill_stats	 st;
};

static const struct bdev_ops fill_ops;

static int
bit_get(const uint64_t *m, uint64_t i)
{
	return ((m[i / 64] >> (i % 64)) & 1);
}

static void
bits_set(uint64_t *m, uint64_t i, uint64_t n, int v)
{
	for (; n > 0; i++, n--) {
		if (v)
			m[i / 64] |= (uint64_t)1 << (i % 64);
		else
			m[i / 64] &= ~((uint64_t)1 << (i % 64));
	}
}

static int
missing(const struct bdev_fill *f, uint64_t i)
{
	return (!bit_get(f->have, i) && !bit_get(f->busy, i));
}

/* The byte range of chunks [c, c + n): off and len (the last one short). */
static void
chunk_span(const struct bdev_fill *f, uint64_t c, uint64_t n, uint64_t *off,
    size_t *len)
{
	uint64_t end = (c + n) << f->shift;

	*off = c << f->shift;
	*len = (size_t)(LR_MIN(end, f->b.size) - *off);
}

static size_t
span_len(const struct bdev_fill *f, uint64_t c, uint64_t n)
{
	uint64_t off;
	size_t len;

	chunk_span(f, c, n, &off, &len);
	return (len);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Waits on cv for ms at most (mtx held); cv uses CLOCK_MONOTONIC. */
static void
wait_ms(struct bdev_fill *f, uint64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&f->cv, &f->mtx, &ts);
}

/* Sleeps ms (mtx held), woken early by stop only. */
static void
pause_ms(struct bdev_fill *f, uint64_t ms)
{
	uint64_t end = now_ms() + ms, t;

	while (!f->stop && (t = now_ms()) < end)
		wait_ms(f, end - t);
}

static void
event(struct bdev_fill *f, enum bdev_fill_event ev, uint64_t have,
    const char *msg)
{
	if (f->o.event != NULL)
		f->o.event(ev, have, f->b.size, msg, f->o.arg);
}

/*
 * Marks [c, c + n) fetched (mtx held).  Returns the lower to drop when this
 * completed the device (the caller destroys it and reports COMPLETE outside
 * the lock), and in *pct the progress step to report (0: none).  Progress
 * is reported by the filler only (bg), as fill.h promises: a step reached
 * by readers is reported at the filler's next run.
 */
static struct bdev *
landed(struct bdev_fill *f, uint64_t c, uint64_t n, int bg, unsigned *pct)
{
	struct bdev *l = NULL;
	uint64_t off;
	size_t len;
	unsigned p;

	bits_set(f->busy, c, n, 0);
	bits_set(f->have, c, n, 1);
	f->nhave += n;
	chunk_span(f, c, n, &off, &len);
	f->st.have += len;
	*pct = 0;
	p = (unsigned)(f->nhave * 20 / f->nchunks);
	if (bg && p > f->pct_told) {
		f->pct_told = p;
		if (p < 20)
			*pct = p;
	}
	if (f->nhave == f->nchunks) {
		f->st.complete = 1;
		l = f->lower;
		f->lower = NULL;
	}
	pthread_cond_broadcast(&f->cv);
	return (l);
}

/* After landed(), outside the lock. */
static void
after_landed(struct bdev_fill *f, struct bdev *drop, unsigned pct,
    uint64_t have)
{
	if (pct != 0)
		event(f, BDEV_FILL_PROGRESS, have, NULL);
	if (drop != NULL) {
		bdev_destroy(drop);
		event(f, BDEV_FILL_COMPLETE, f->b.size, NULL);
	}
}

/* A lower read into img of the chunks [c, c + n), already marked busy. */
static int
fetch(struct bdev_fill *f, uint64_t c, uint64_t n, struct diag *d)
{
	uint64_t off;
	size_t len;

	chunk_span(f, c, n, &off, &len);
	return (bdev_read(f->lower, f->img + off, len, off, d));
}

/* A failed fetch of [c, c + n) (mtx held): the chunks are missing again. */
static void
failed(struct bdev_fill *f, uint64_t c, uint64_t n, int error,
    const struct diag *d)
{
	bits_set(f->busy, c, n, 0);
	if (error == ESTALE && !f->stale) {
		f->stale = 1;
		f->st.stopped = 1;
		f->stale_d = *d;
	}
	pthread_cond_broadcast(&f->cv);
}

static int
fill_read(struct bdev *b, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	struct bdev_fill *f = (struct bdev_fill *)b;
	struct bdev *drop;
	struct diag ld;
	uint64_t c0, c1, c, n, have;
	unsigned pct;
	int error, waiting = 0;

	if (len == 0)
		return (0);
	c0 = off >> f->shift;
	c1 = (off + len - 1) >> f->shift;
	pthread_mutex_lock(&f->mtx);
	for (;;) {
		for (c = c0; c <= c1 && !missing(f, c); c++)
			;
		if (c > c1) {
			for (c = c0; c <= c1 && bit_get(f->have, c); c++)
				;
			if (c > c1)
				break;
		}
		if (!waiting) {
			f->demand++;
			waiting = 1;
		}
		if (bit_get(f->busy, c)) {
			/* Only chunks other threads fetch are left. */
			pthread_cond_wait(&f->cv, &f->mtx);
			continue;
		}
		if (f->stale) {
			error = diag_set(d, ESTALE, "%s", f->stale_d.msg);
			goto out;
		}
		for (n = 1; c + n <= c1 && missing(f, c + n); n++)
			;
		bits_set(f->busy, c, n, 1);
		pthread_mutex_unlock(&f->mtx);
		diag_clear(&ld);
		error = fetch(f, c, n, &ld);
		pthread_mutex_lock(&f->mtx);
		if (error != 0) {
			failed(f, c, n, error, &ld);
			diag_set(d, error, "%s", ld.msg);
			goto out;
		}
		f->st.demand_fetches++;
		f->st.demand_bytes += span_len(f, c, n);
		f->demand_ms = now_ms();
		drop = landed(f, c, n, 0, &pct);
		have = f->st.have;
		if (drop != NULL || pct != 0) {
			pthread_mutex_unlock(&f->mtx);
			after_landed(f, drop, pct, have);
			pthread_mutex_lock(&f->mtx);
		}
	}
	if (!waiting)
		f->st.hits++;
	error = 0;
out:
	if (waiting && --f->demand == 0)
		pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mtx);
	if (error == 0)
		memcpy(buf, f->img + off, len);
	return (error);
}

/* The next run of missing chunks from *cursor (mtx held); 0 when none. */
static uint64_t
next_run(struct bdev_fill *f, uint64_t *cursor, uint64_t *start)
{
	uint64_t c, n, max = LR_MAX((uint64_t)1, (uint64_t)f->o.run >>
	    f->shift), k;

	for (k = 0; k < f->nchunks; k++) {
		c = (*cursor + k) % f->nchunks;
		if (!missing(f, c))
			continue;
		for (n = 1; n < max && c + n < f->nchunks &&
		    missing(f, c + n); n++)
			;
		*start = c;
		*cursor = c + n;
		return (n);
	}
	return (0);
}

static void *
filler(void *arg)
{
	struct bdev_fill *f = arg;
	struct bdev *drop;
	struct diag ld;
	uint64_t cursor = 0, c, n, t0, dt, have, backoff = 0;
	unsigned pct, share = f->o.share_pct != 0 ? f->o.share_pct : 100;
	int error, stalled = 0;

	pthread_mutex_lock(&f->mtx);
	while (!f->stop && !f->st.complete && !f->stale) {
		if (f->demand > 0) {
			wait_ms(f, 1000);
			continue;
		}
		if ((n = next_run(f, &cursor, &c)) == 0) {
			/* What is left is in flight for readers. */
			wait_ms(f, 1000);
			continue;
		}
		bits_set(f->busy, c, n, 1);
		pthread_mutex_unlock(&f->mtx);
		diag_clear(&ld);
		t0 = now_ms();
		error = fetch(f, c, n, &ld);
		dt = now_ms() - t0;
		pthread_mutex_lock(&f->mtx);
		if (error != 0) {
			failed(f, c, n, error, &ld);
			cursor = c;
			if (error == ESTALE)
				break;
			backoff = backoff == 0 ? FILL_BACKOFF_MIN_MS :
			    LR_MIN(backoff * 2, FILL_BACKOFF_MAX_MS);
			if (!stalled) {
				stalled = 1;
				have = f->st.have;
				pthread_mutex_unlock(&f->mtx);
				event(f, BDEV_FILL_STALLED, have, ld.msg);
				pthread_mutex_lock(&f->mtx);
			}
			pause_ms(f, backoff);
			continue;
		}
		backoff = 0;
		f->st.bg_fetches++;
		f->st.bg_bytes += span_len(f, c, n);
		drop = landed(f, c, n, 1, &pct);
		have = f->st.have;
		pthread_mutex_unlock(&f->mtx);
		if (stalled) {
			stalled = 0;
			event(f, BDEV_FILL_RESUMED, have, NULL);
		}
		after_landed(f, drop, pct, have);
		pthread_mutex_lock(&f->mtx);
		if (share < 100 && !f->st.complete && f->demand_ms != 0 &&
		    now_ms() - f->demand_ms < FILL_QUIET_MS)
			pause_ms(f, LR_MIN(dt * (100 - share) / share,
			    (uint64_t)FILL_PAUSE_MAX_MS));
	}
	if (f->stale && !f->stop) {
		have = f->st.have;
		pthread_mutex_unlock(&f->mtx);
		event(f, BDEV_FILL_STOPPED, have, f->stale_d.msg);
		return (NULL);
	}
	pthread_mutex_unlock(&f->mtx);
	return (NULL);
}

static void
fill_destroy(struct bdev *b)
{
	struct bdev_fill *f = (struct bdev_fill *)b;

	pthread_mutex_lock(&f->mtx);
	f->stop = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mtx);
	if (f->started)
		pthread_join(f->thr, NULL);
	bdev_destroy(f->lower);
	munmap(f->img, f->maplen);
	free(f->have);
	free(f->busy);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mtx);
	free(f);
}

static int
fill_allocated(struct bdev *b, uint64_t *bytes)
{
	struct bdev_fill *f = (struct bdev_fill *)b;

	pthread_mutex_lock(&f->mtx);
	*bytes = f->st.have;
	pthread_mutex_unlock(&f->mtx);
	return (0);
}

static const struct bdev_ops fill_ops = {
	.name = "fill",
	.read = fill_read,
	.allocated = fill_allocated,
	.destroy = fill_destroy,
};

static int
log2_of(uint32_t v)
{
	int s = 0;

	while (((uint32_t)1 << s) < v)
		s++;
	return (s);
}

int
bdev_fill_new(struct bdev *lower, const struct bdev_fill_opts *o,
    struct bdev **out, struct diag *d)
{
	struct bdev_fill *f;
	pthread_condattr_t ca;
	uint64_t words;
	uint32_t chunk = o->chunk != 0 ? o->chunk : BDEV_FILL_CHUNK_DEFAULT;
	uint32_t run = o->run != 0 ? o->run : BDEV_FILL_RUN_DEFAULT;
	int error;

	if (chunk < FILL_CHUNK_MIN || chunk > FILL_CHUNK_MAX ||
	    (chunk & (chunk - 1)) != 0)
		return (diag_set(d, EINVAL, "fill: a chunk of %u bytes: it "
		    "must be a power of 2 from %u to %u", chunk,
		    FILL_CHUNK_MIN, FILL_CHUNK_MAX));
	if (run < chunk || run > FILL_RUN_MAX)
		return (diag_set(d, EINVAL, "fill: a background run of %u "
		    "bytes: it must be from the chunk (%u) to %u bytes", run,
		    chunk, FILL_RUN_MAX));
	if (o->share_pct > 100)
		return (diag_set(d, EINVAL, "fill: a share of %u%%: it must "
		    "be from 1 to 100", o->share_pct));
	if (lower->size == 0)
		return (diag_set(d, EINVAL, "fill: %s is empty", lower->desc));
	if (lower->size > SIZE_MAX - 4096)
		return (diag_set(d, EFBIG, "fill: %s (%ju bytes) does not "
		    "fit in this machine's address space", lower->desc,
		    (uintmax_t)lower->size));
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	f->o = *o;
	f->o.chunk = chunk;
	f->o.run = run & ~(chunk - 1);
	f->shift = (unsigned)log2_of(chunk);
	f->nchunks = (lower->size + chunk - 1) >> f->shift;
	words = (f->nchunks + 63) / 64;
	f->maplen = (size_t)lower->size;
	f->img = mmap(NULL, f->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (f->img == MAP_FAILED) {
		error = diag_set(d, ENOMEM, "fill: cannot map %ju bytes for "
		    "the RAM copy of %s: %s", (uintmax_t)lower->size,
		    lower->desc, strerror(errno));
		free(f);
		return (error);
	}
	if ((f->have = calloc(words, sizeof(uint64_t))) == NULL ||
	    (f->busy = calloc(words, sizeof(uint64_t))) == NULL) {
		error = diag_set(d, ENOMEM, "out of memory");
		goto fail;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if ((error = pthread_cond_init(&f->cv, &ca)) != 0) {
		pthread_condattr_destroy(&ca);
		diag_set(d, error, "fill: a condition variable: %s",
		    strerror(error));
		goto fail;
	}
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&f->mtx, NULL);
	f->st.total = lower->size;
	f->lower = lower;
	/* The lower is kept here, not in b.lower: it goes away while the
	 * device lives on, and nothing is forwarded to it. */
	bdev_init(&f->b, &fill_ops, lower->size, lower->blksize, 1, NULL,
	    "fill(%s)", lower->desc);
	*out = &f->b;
	return (0);
fail:
	munmap(f->img, f->maplen);
	free(f->have);
	free(f->busy);
	free(f);
	return (error);
}

int
bdev_fill_start(struct bdev *b, struct diag *d)
{
	struct bdev_fill *f;
	int error = 0;

	if (!bdev_is_fill(b))
		return (diag_set(d, EINVAL, "%s is not a fill device",
		    b->desc));
	f = (struct bdev_fill *)b;
	pthread_mutex_lock(&f->mtx);
	if (f->o.prefetch && !f->started && !f->st.complete) {
		if ((error = pthread_create(&f->thr, NULL, filler, f)) != 0)
			diag_set(d, error, "fill: cannot start the background "
			    "filler: %s", strerror(error));
		else
			f->started = 1;
	}
	pthread_mutex_unlock(&f->mtx);
	return (error);
}

int
bdev_fill_stats(struct bdev *b, struct bdev_fill_stats *st)
{
	struct bdev_fill *f;

	if (!bdev_is_fill(b))
		return (EINVAL);
	f = (struct bdev_fill *)b;
	pthread_mutex_lock(&f->mtx);
	*st = f->st;
	pthread_mutex_unlock(&f->mtx);
	return (0);
}

uint64_t
bdev_fill_ram_needed(uint64_t size, uint32_t chunk)
{
	uint64_t n, r;

	if (chunk == 0)
		chunk = BDEV_FILL_CHUNK_DEFAULT;
	n = size / chunk + (size % chunk != 0);
	/* The image in whole pages, two bitmaps, the device itself. */
	if (lr_add_overflow(size, 4095, &r))
		return (UINT64_MAX);
	r &= ~(uint64_t)4095;
	if (lr_add_overflow(r, 2 * 8 * ((n + 63) / 64), &r) ||
	    lr_add_overflow(r, sizeof(struct bdev_fill), &r))
		return (UINT64_MAX);
	return (r);
}

int
bdev_is_fill(const struct bdev *b)
{
	return (b != NULL && b->ops == &fill_ops);
}
