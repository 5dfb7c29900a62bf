/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rowr.c - the rowr overlay layer's I/O engine (geom_rowr / gunion
 * semantics): a read-only lower (b.lower), a writable upper and a
 * written-granule map, range locks, revert and commit; see rowr.h for the
 * semantics and rowrmap.h for the map.  The map file, the lower's identity
 * and lock and the files on disk are in rowr_persist.c (rowr_impl.h).
 *
 * Invariants:
 *  - a granule's bit is set only after the upper holds the whole granule
 *    (a full-granule write, or a read-modify-write copy-up) and that upper
 *    write returned success; bits are cleared only by revert and commit;
 *  - every request holds a range lock over the granules it touches for its
 *    whole duration: reads shared, writes/trims exclusive; commit and revert
 *    hold an exclusive lock over the whole device;
 *  - for a write, every read of the lower (copy-up of the partial head and
 *    tail granules) happens before the first upper write, so a lower error
 *    changes nothing.
 *
 *  - persistent: while the saved map carries COMMIT, the lower may be
 *    half-written; the flag is saved durably before the first byte goes to
 *    the lower and cleared only with the bits, after the lower's flush.
 *
 * Locking: `mtx` guards the lock table (waiters sleep on `cv`) and the
 * fixed list of waiting writers: a reader does not start over a range a
 * writer waits for, so a stream of readers cannot starve a writer.  `save_mtx`
 * serialises map saves, and a save snapshots the bits before flushing the
 * upper, so the saved map never names data the upper has not made durable;
 * it also guards mapflags and ident.  Statistics are atomic counters.
 * Between processes: the upper is flock'ed by the file helpers, the lower
 * by every persistent open (shared; exclusive during a commit, see rowr.h).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/rowr.h>
#include <liveroot/rowrmap.h>
#include <liveroot/util.h>

#include "rowr_impl.h"

static int
pending_writer(const struct bdev_rowr *r, uint64_t g0, uint64_t g1)
{
	int i;

	for (i = 0; i < ROWR_NPEND; i++)
		if (r->pend[i].used && r->pend[i].g0 < g1 && g0 < r->pend[i].g1)
			return (1);
	return (0);
}

static uint32_t
rowr_lock(struct bdev_rowr *r, uint64_t g0, uint64_t g1, int writer)
{
	uint32_t slot;
	int p = -1, i;

	pthread_mutex_lock(&r->mtx);
	for (;;) {
		if ((writer || !pending_writer(r, g0, g1)) &&
		    lr_rowrmap_lock_try(&r->map, g0, g1, writer, &slot) == 0)
			break;
		if (writer && p < 0) {	/* announce ourselves, if room */
			for (i = 0; i < ROWR_NPEND && r->pend[i].used; i++)
				;
			if (i < ROWR_NPEND) {
				p = i;
				r->pend[p] = (struct rowr_pend){ g0, g1, 1 };
			}
		}
		pthread_cond_wait(&r->cv, &r->mtx);
	}
	if (p >= 0)
		r->pend[p].used = 0;
	pthread_mutex_unlock(&r->mtx);
	return (slot);
}

static void
rowr_unlock(struct bdev_rowr *r, uint32_t slot)
{
	pthread_mutex_lock(&r->mtx);
	lr_rowrmap_unlock(&r->map, slot);
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mtx);
}

/* Byte range [*s, *e) of granule g (the last one may be short). */
static void
granule_range(const struct bdev_rowr *r, uint64_t g, uint64_t *s, uint64_t *e)
{
	*s = g << r->map.shift;
	*e = LR_MIN(*s + r->map.granule, r->b.size);
}

/* A read of the union; the caller holds a lock over the span. */
int
rowr_read_locked(struct bdev_rowr *r, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	struct bdev *b = &r->b;
	uint64_t g0, g1, pos, end, g, ge, rend;
	uint8_t *p = buf;
	int error = 0, up;

	lr_rowrmap_span(&r->map, off, len, &g0, &g1);
	pos = off;
	end = off + len;
	while (pos < end) {
		g = pos >> r->map.shift;
		up = lr_bitmap_test(&r->map.bm, g);
		ge = lr_bitmap_run_end(&r->map.bm, g, g1);
		rend = LR_MIN(ge << r->map.shift, end);
		error = bdev_read(up ? r->upper : b->lower, p + (pos - off),
		    (size_t)(rend - pos), pos, d);
		if (error != 0) {
			diag_prefix(d, "overlay read from the %s: ",
			    up ? "upper" : "lower");
			break;
		}
		STAT_ADD(up ? &r->rd_upper : &r->rd_lower, rend - pos);
		pos = rend;
	}
	return (error);
}

/* Copy granule g up from the lower into gbuf, then lay the request over it. */
static int
rowr_copy_up(struct bdev_rowr *r, uint64_t g, uint8_t *gbuf, const uint8_t *buf,
    uint64_t off, uint64_t len, struct diag *d)
{
	uint64_t s, e, a, z;
	int error;

	granule_range(r, g, &s, &e);
	if ((error = bdev_read(r->b.lower, gbuf, (size_t)(e - s), s, d)) != 0) {
		diag_prefix(d, "overlay copy-up of granule %ju from the "
		    "lower: ", (uintmax_t)g);
		return (error);
	}
	STAT_ADD(&r->rd_lower, e - s);
	a = LR_MAX(s, off);
	z = LR_MIN(e, off + len);
	memcpy(gbuf + (a - s), buf + (a - off), (size_t)(z - a));
	return (0);
}

/*
 * The write itself; the caller holds an exclusive lock over the span.  The
 * partial first/last granules are copied up first when they are not written
 * yet (all lower reads before any upper write), then up to three upper
 * writes, then the bits.
 */
static int
rowr_write_locked(struct bdev_rowr *r, const void *data, size_t len,
    uint64_t off, struct diag *d)
{
	const uint8_t *buf = data;
	uint64_t g0, g1, fs, fe, ls, le, bs, be, end = off + len;
	uint8_t *hbuf = NULL, *tbuf = NULL;
	int need_head, need_tail, error = 0;

	lr_rowrmap_span(&r->map, off, len, &g0, &g1);
	granule_range(r, g0, &fs, &fe);
	granule_range(r, g1 - 1, &ls, &le);
	need_head = !(off <= fs && end >= fe) &&
	    !lr_bitmap_test(&r->map.bm, g0);
	need_tail = g1 - 1 != g0 && !(off <= ls && end >= le) &&
	    !lr_bitmap_test(&r->map.bm, g1 - 1);
	if (need_head || need_tail) {
		if ((hbuf = malloc(2 * (size_t)r->map.granule)) == NULL)
			return (diag_set(d, ENOMEM, "out of memory for an "
			    "overlay copy-up"));
		tbuf = hbuf + r->map.granule;
	}
	if (need_head && (error = rowr_copy_up(r, g0, hbuf, buf, off, len,
	    d)) != 0)
		goto out;
	if (need_tail && (error = rowr_copy_up(r, g1 - 1, tbuf, buf, off, len,
	    d)) != 0)
		goto out;
	if (need_head) {
		if ((error = bdev_write(r->upper, hbuf, (size_t)(fe - fs), fs,
		    d)) != 0)
			goto uerr;
		STAT_ADD(&r->wr, fe - fs);
	}
	bs = need_head ? fe : off;
	be = need_tail ? ls : end;
	if (be > bs) {
		if ((error = bdev_write(r->upper, buf + (bs - off),
		    (size_t)(be - bs), bs, d)) != 0)
			goto uerr;
		STAT_ADD(&r->wr, be - bs);
	}
	if (need_tail) {
		if ((error = bdev_write(r->upper, tbuf, (size_t)(le - ls), ls,
		    d)) != 0)
			goto uerr;
		STAT_ADD(&r->wr, le - ls);
	}
	lr_bitmap_set_range(&r->map.bm, g0, g1 - g0);
	CHANGED(r);
	goto out;
uerr:
	diag_prefix(d, "overlay write of %zu bytes at offset %ju to the upper "
	    "failed, nothing of it is visible: ", len, (uintmax_t)off);
out:
	free(hbuf);
	return (error);
}

/* A read (wbuf NULL) or a write under the range lock of its granules. */
static int
rowr_io(struct bdev *b, void *rbuf, const void *wbuf, size_t len,
    uint64_t off, struct diag *d)
{
	struct bdev_rowr *r = (struct bdev_rowr *)b;
	uint64_t g0, g1;
	uint32_t slot;
	int error;

	lr_rowrmap_span(&r->map, off, len, &g0, &g1);
	slot = rowr_lock(r, g0, g1, wbuf != NULL);
	error = wbuf != NULL ? rowr_write_locked(r, wbuf, len, off, d) :
	    rowr_read_locked(r, rbuf, len, off, d);
	rowr_unlock(r, slot);
	return (error);
}

static int
rowr_read(struct bdev *b, void *buf, size_t len, uint64_t off, struct diag *d)
{
	return (rowr_io(b, buf, NULL, len, off, d));
}

static int
rowr_write(struct bdev *b, const void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	return (rowr_io(b, NULL, buf, len, off, d));
}

/*
 * Trim (is_trim) or write-zeroes.  Whole granules become written-as-zero:
 * write_zeroes on the upper (a RAM upper frees, a file punches a hole), then
 * the bits.  Never a trim of the upper there: a device's discard need not
 * read back as zeros, and those granules are read from the upper.  Partial
 * granules: ignored by trim, zero-written by write-zeroes.
 */
static int
rowr_zero(struct bdev *b, uint64_t off, uint64_t len, int is_trim,
    struct diag *d)
{
	static const uint8_t zeros[LR_ROWRMAP_GRANULE_MAX];
	struct bdev_rowr *r = (struct bdev_rowr *)b;
	uint64_t g0, g1, end = off + len, gsz = r->map.granule, a, e;
	uint32_t slot;
	int error = 0;

	a = lr_div_roundup(off, gsz) * gsz;
	if (a > end)
		a = end;
	e = end == b->size ? end : end / gsz * gsz;
	if (e < a)
		e = a;
	lr_rowrmap_span(&r->map, off, len, &g0, &g1);
	slot = rowr_lock(r, g0, g1, 1);
	if (e > a) {
		if ((error = bdev_write_zeroes(r->upper, a, e - a, d)) != 0) {
			diag_prefix(d, "overlay %s of %ju bytes at offset %ju "
			    "on the upper: ", is_trim ? "trim" : "zeroing",
			    (uintmax_t)(e - a), (uintmax_t)a);
			goto out;
		}
		lr_bitmap_set_range(&r->map.bm, a >> r->map.shift,
		    lr_div_roundup(e, gsz) - (a >> r->map.shift));
		CHANGED(r);
	}
	if (is_trim)
		goto out;
	/* Partial head [off, a) and tail [e, end), each within one granule. */
	if (a > off && (error = rowr_write_locked(r, zeros, (size_t)(a - off),
	    off, d)) != 0)
		goto out;
	if (end > e)
		error = rowr_write_locked(r, zeros, (size_t)(end - e), e, d);
out:
	rowr_unlock(r, slot);
	return (error);
}

static int
rowr_trim(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	return (rowr_zero(b, off, len, 1, d));
}

static int
rowr_write_zeroes(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	return (rowr_zero(b, off, len, 0, d));
}

static int
rowr_flush(struct bdev *b, struct diag *d)
{
	struct bdev_rowr *r = (struct bdev_rowr *)b;
	int error;

	if (r->map_path != NULL && !b->readonly) {
		pthread_mutex_lock(&r->save_mtx);
		error = rowr_save_locked(r, 0, d);
		pthread_mutex_unlock(&r->save_mtx);
		return (error);
	}
	if ((error = bdev_flush(r->upper, d)) != 0)
		diag_prefix(d, "overlay flush of the upper: ");
	return (error);
}

/* Frees a device from rowr_alloc without touching lower/upper. */
void
rowr_free(struct bdev_rowr *r)
{
	lr_rowrmap_fini(&r->map);
	pthread_mutex_destroy(&r->mtx);
	pthread_mutex_destroy(&r->save_mtx);
	pthread_cond_destroy(&r->cv);
	if (r->lockfd >= 0)
		close(r->lockfd);
	free(r->map_path);
	free(r->lower_path);
	free(r);
}

static void
rowr_destroy(struct bdev *b)
{
	struct bdev_rowr *r = (struct bdev_rowr *)b;

	/* Errors cannot be reported here: bdev_flush() first shows them. */
	if (r->map_path != NULL && !b->readonly) {
		pthread_mutex_lock(&r->save_mtx);
		(void)rowr_save_locked(r, 0, NULL);
		pthread_mutex_unlock(&r->save_mtx);
	}
	bdev_destroy(r->upper);
	rowr_free(r);
}

static const struct bdev_ops rowr_ops = {
	.name = "rowr",
	.read = rowr_read,
	.write = rowr_write,
	.flush = rowr_flush,
	.trim = rowr_trim,
	.write_zeroes = rowr_write_zeroes,
	.destroy = rowr_destroy,
};

int
bdev_is_rowr(const struct bdev *b)
{
	return (b != NULL && b->ops == &rowr_ops);
}

uint64_t
bdev_rowr_map_bytes(uint64_t size, uint32_t granule)
{
	if (lr_rowrmap_check_granule(granule) != 0)
		return (0);
	return (lr_bitmap_bytes(lr_div_roundup(size, granule)));
}

/* Builds the device without taking ownership of lower/upper. */
int
rowr_alloc(struct bdev *lower, struct bdev *upper, uint32_t granule,
    struct bdev_rowr **out, struct diag *d)
{
	struct bdev_rowr *r;
	int error;

	if (granule == 0)	/* the lower's block size, within bounds */
		granule = LR_MIN(LR_MAX(4096u, lower->blksize),
		    LR_ROWRMAP_GRANULE_MAX);
	if (lr_rowrmap_check_granule(granule) != 0)
		return (diag_set(d, EINVAL, "overlay granule %u is invalid: "
		    "use a power of 2 from %u to %u (default 4096)", granule,
		    LR_ROWRMAP_GRANULE_MIN, LR_ROWRMAP_GRANULE_MAX));
	if (upper->size < lower->size)
		return (diag_set(d, EINVAL, "the upper %s is %ju bytes, "
		    "smaller than the union (the lower %s, %ju bytes): make the upper "
		    "at least %ju bytes", upper->desc, (uintmax_t)upper->size,
		    lower->desc, (uintmax_t)lower->size,
		    (uintmax_t)lower->size));
	if (upper == lower)
		return (diag_set(d, EINVAL, "the upper and the lower are the "
		    "same device (%s)", lower->desc));
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if ((error = lr_rowrmap_init(&r->map, lower->size, granule, 0,
	    &lr_libc_allocator, d)) != 0) {
		free(r);
		diag_prefix(d, "overlay on %s: ", lower->desc);
		return (error);
	}
	pthread_mutex_init(&r->mtx, NULL);
	pthread_mutex_init(&r->save_mtx, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->lockfd = -1;
	r->upper = upper;
	bdev_init(&r->b, &rowr_ops, lower->size, LR_MIN(granule, 4096u),
	    upper->readonly,
	    lower, "rowr(%s, %s)", lower->desc, upper->desc);
	*out = r;
	return (0);
}


int
bdev_rowr_new(struct bdev *lower, struct bdev *upper,
    const struct bdev_rowr_opts *o, struct bdev **out, struct diag *d)
{
	struct bdev_rowr *r;
	int error;

	if ((error = rowr_alloc(lower, upper, o != NULL ? o->granule : 0, &r,
	    d)) != 0)
		return (error);
	*out = &r->b;
	return (0);
}

struct bdev_rowr *
rowr_of(struct bdev *b)
{
	return (bdev_is_rowr(b) ? (struct bdev_rowr *)b : NULL);
}

/*
 * Revert and commit end alike: every granule back to the lower, the map
 * saved, then the upper's space given back.  The caller holds an exclusive
 * lock over the whole device.
 */
static int
rowr_forget_all(struct bdev_rowr *r, struct diag *d)
{
	int error = 0;

	lr_bitmap_clear_all(&r->map.bm);
	CHANGED(r);
	if (r->map_path != NULL) {
		pthread_mutex_lock(&r->save_mtx);
		error = rowr_save_locked(r, 1, d);
		pthread_mutex_unlock(&r->save_mtx);
	}
	if (error == 0)
		(void)bdev_trim(r->upper, 0, r->b.size, NULL);
	return (error);
}

static int
commit_pending(struct bdev_rowr *r)
{
	uint32_t f;

	pthread_mutex_lock(&r->save_mtx);
	f = r->mapflags;
	pthread_mutex_unlock(&r->save_mtx);
	return ((f & LR_ROWRMAP_F_COMMIT) != 0);
}

int
bdev_rowr_revert(struct bdev *b, struct diag *d)
{
	struct bdev_rowr *r = rowr_of(b);
	uint32_t slot;
	int error = 0;

	if (r == NULL)
		return (diag_set(d, EINVAL, "%s is not an overlay", b->desc));
	if (b->readonly)
		return (diag_set(d, EROFS, "%s is open read-only: cannot "
		    "revert", b->desc));
	if (commit_pending(r))
		return (diag_set(d, BDEV_ROWR_ECOMMIT, "%s: a commit into the "
		    "lower %s was interrupted: reverting now would leave the "
		    "lower half-written; finish the commit first", r->map_path,
		    r->lower_path));
	slot = rowr_lock(r, 0, r->map.ngranules, 1);
	error = rowr_forget_all(r, d);
	rowr_unlock(r, slot);
	return (error);
}

int
bdev_rowr_commit(struct bdev *b,
    void (*progress)(uint64_t done, uint64_t total, void *arg), void *arg,
    struct diag *d)
{
	struct bdev_rowr *r = rowr_of(b);
	uint64_t g, ge, s, e, total = 0, done = 0, ng;
	uint8_t *buf = NULL;
	uint32_t slot;
	int error = 0, pending;

	if (r == NULL)
		return (diag_set(d, EINVAL, "%s is not an overlay", b->desc));
	if (b->readonly)
		return (diag_set(d, EROFS, "%s is open read-only: cannot "
		    "commit", b->desc));
	if (b->lower->readonly)
		return (diag_set(d, EROFS, "cannot commit: the lower %s is "
		    "read-only (open it writable to commit into it)",
		    b->lower->desc));
	if ((buf = malloc(ROWR_COPY_CHUNK)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory for the commit "
		    "buffer"));
	if ((error = rowr_lower_lock_commit(r, 1, d)) != 0) {
		free(buf);
		return (error);
	}
	ng = r->map.ngranules;
	slot = rowr_lock(r, 0, ng, 1);
	for (g = lr_bitmap_next_set(&r->map.bm, 0, ng); g < ng;
	    g = lr_bitmap_next_set(&r->map.bm, ge, ng)) {
		ge = lr_bitmap_run_end(&r->map.bm, g, ng);
		total += LR_MIN(ge << r->map.shift, b->size) -
		    (g << r->map.shift);
	}
	pending = commit_pending(r);
	if (r->map_path != NULL && !pending && total > 0) {
		if ((error = rowr_commit_begin(r, d)) != 0)
			goto out;
		pending = 1;
	}
	for (g = lr_bitmap_next_set(&r->map.bm, 0, ng); g < ng && error == 0;
	    g = lr_bitmap_next_set(&r->map.bm, ge, ng)) {
		ge = lr_bitmap_run_end(&r->map.bm, g, ng);
		s = g << r->map.shift;
		e = LR_MIN(ge << r->map.shift, b->size);
		while (s < e) {
			size_t n = (size_t)LR_MIN(e - s, ROWR_COPY_CHUNK);

			if ((error = bdev_read(r->upper, buf, n, s, d)) != 0) {
				diag_prefix(d, "commit: reading the upper: ");
				break;
			}
			if ((error = bdev_write(b->lower, buf, n, s, d)) != 0) {
				diag_prefix(d, "commit: writing the lower: ");
				break;
			}
			s += n;
			done += n;
			if (progress != NULL)
				progress(done, total, arg);
		}
	}
	if (error == 0 && (error = bdev_flush(b->lower, d)) != 0)
		diag_prefix(d, "commit: flushing the lower: ");
	if (error == 0 && pending && r->map_path != NULL)
		error = rowr_commit_end(r, d);
	if (error == 0)
		error = rowr_forget_all(r, d);
out:
	rowr_unlock(r, slot);
	(void)rowr_lower_lock_commit(r, 0, NULL);
	free(buf);
	return (error);
}

void
bdev_rowr_get_stats(struct bdev *b, struct bdev_rowr_stats *st)
{
	struct bdev_rowr *r = rowr_of(b);

	memset(st, 0, sizeof(*st));
	if (r == NULL)
		return;
	st->size = b->size;
	st->granule = r->map.granule;
	st->map_bytes = lr_rowrmap_mem_bytes(&r->map);
	st->granules_written = lr_bitmap_count(&r->map.bm, 0,
	    r->map.ngranules);
	st->bytes_read_lower = __atomic_load_n(&r->rd_lower, __ATOMIC_RELAXED);
	st->bytes_read_upper = __atomic_load_n(&r->rd_upper, __ATOMIC_RELAXED);
	st->bytes_written = __atomic_load_n(&r->wr, __ATOMIC_RELAXED);
	if (bdev_allocated(r->upper, &st->upper_bytes_used) != 0)
		st->upper_bytes_used = st->granules_written * st->granule;
}

