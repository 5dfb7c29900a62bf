/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rowr.c - the rowr overlay layer (geom_rowr / gunion semantics): a read-only
 * lower (b.lower), a writable upper and a written-granule map; see rowr.h for
 * the semantics and rowrmap.h for the map and its on-disk form.
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
 * Locking: `mtx` guards the lock table (waiters sleep on `cv`) and the
 * fixed list of waiting writers: a reader does not start over a range a
 * writer waits for, so a stream of readers cannot starve a writer.  `save_mtx`
 * serialises map saves, and a save snapshots the bits before flushing the
 * upper, so the saved map never names data the upper has not made durable.
 * Statistics are atomic counters.
 */
#define _GNU_SOURCE
#include <sys/file.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/rowr.h>
#include <liveroot/rowrmap.h>
#include <liveroot/util.h>

#define ROWR_COPY_CHUNK	(1u << 20)
#define ROWR_NPEND	64	/* waiting writers that hold readers back */

struct rowr_pend {
	uint64_t	g0, g1;
	int		used;
};

struct bdev_rowr {
	struct bdev	 b;		/* b.lower: the read-only lower */
	struct bdev	*upper;
	struct lr_rowrmap map;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	struct rowr_pend pend[ROWR_NPEND];
	uint64_t	 rd_lower;	/* atomic statistics */
	uint64_t	 rd_upper;
	uint64_t	 wr;
	uint64_t	 changes;	/* atomic: map-changing requests */
	/* persistence */
	pthread_mutex_t	 save_mtx;
	char		*map_path;	/* NULL: not persistent */
	char		*lower_path;	/* recorded in the map file */
	char		*upper_path;	/* for stats; may be NULL */
	uint64_t	 generation;
	uint64_t	 saved_changes;
};

static const struct bdev_ops rowr_ops;

#define STAT_ADD(p, n)	__atomic_add_fetch((p), (n), __ATOMIC_RELAXED)
/*
 * After the bits of a request are set: release, so that a save whose acquire
 * load sees the new count also sees those (relaxed) bits in its snapshot;
 * relaxed, a weakly ordered CPU could save the new count without the bits
 * and never save them again.
 */
#define CHANGED(r)	__atomic_add_fetch(&(r)->changes, 1, __ATOMIC_RELEASE)

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

static int
rowr_read(struct bdev *b, void *buf, size_t len, uint64_t off, struct diag *d)
{
	struct bdev_rowr *r = (struct bdev_rowr *)b;
	uint64_t g0, g1, pos, end, g, ge, rend;
	uint8_t *p = buf;
	uint32_t slot;
	int error = 0, up;

	lr_rowrmap_span(&r->map, off, len, &g0, &g1);
	slot = rowr_lock(r, g0, g1, 0);
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
	rowr_unlock(r, slot);
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

static int
rowr_write(struct bdev *b, const void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	struct bdev_rowr *r = (struct bdev_rowr *)b;
	uint64_t g0, g1;
	uint32_t slot;
	int error;

	lr_rowrmap_span(&r->map, off, len, &g0, &g1);
	slot = rowr_lock(r, g0, g1, 1);
	error = rowr_write_locked(r, buf, len, off, d);
	rowr_unlock(r, slot);
	return (error);
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

static int rowr_save_locked(struct bdev_rowr *r, int force, struct diag *d);

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
static void
rowr_free(struct bdev_rowr *r)
{
	lr_rowrmap_fini(&r->map);
	pthread_mutex_destroy(&r->mtx);
	pthread_mutex_destroy(&r->save_mtx);
	pthread_cond_destroy(&r->cv);
	free(r->map_path);
	free(r->lower_path);
	free(r->upper_path);
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
static int
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

static struct bdev_rowr *
to_rowr(struct bdev *b)
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

int
bdev_rowr_revert(struct bdev *b, struct diag *d)
{
	struct bdev_rowr *r = to_rowr(b);
	uint32_t slot;
	int error = 0;

	if (r == NULL)
		return (diag_set(d, EINVAL, "%s is not an overlay", b->desc));
	if (b->readonly)
		return (diag_set(d, EROFS, "%s is open read-only: cannot "
		    "revert", b->desc));
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
	struct bdev_rowr *r = to_rowr(b);
	uint64_t g, ge, s, e, total = 0, done = 0, ng;
	uint8_t *buf = NULL;
	uint32_t slot;
	int error = 0;

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
	ng = r->map.ngranules;
	slot = rowr_lock(r, 0, ng, 1);
	for (g = lr_bitmap_next_set(&r->map.bm, 0, ng); g < ng;
	    g = lr_bitmap_next_set(&r->map.bm, ge, ng)) {
		ge = lr_bitmap_run_end(&r->map.bm, g, ng);
		total += LR_MIN(ge << r->map.shift, b->size) -
		    (g << r->map.shift);
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
	if (error == 0)
		error = rowr_forget_all(r, d);
	rowr_unlock(r, slot);
	free(buf);
	return (error);
}

void
bdev_rowr_get_stats(struct bdev *b, struct bdev_rowr_stats *st)
{
	struct bdev_rowr *r = to_rowr(b);
	struct stat sb;

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
	if (strcmp(r->upper->ops->name, "mem") == 0)
		st->upper_bytes_used = bdev_mem_bytes_used(r->upper);
	else if (r->upper_path != NULL && stat(r->upper_path, &sb) == 0)
		st->upper_bytes_used = (uint64_t)sb.st_blocks * 512;
	else
		st->upper_bytes_used = st->granules_written * st->granule;
}

/* --- persistence --------------------------------------------------------- */

static int
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return (errno);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

static void
fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (copy == NULL)
		return;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >=
	    0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

/* Write buf to path atomically: path.tmp, fsync, rename, fsync the dir. */
static int
atomic_write(const char *path, const void *buf, size_t len, struct diag *d)
{
	char tmp[PATH_MAX + 8];
	int fd, error;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return (diag_set(d, ENAMETOOLONG, "%s: path too long", path));
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
	    0)
		return (diag_set(d, errno, "%s: cannot create: %s", tmp,
		    strerror(errno)));
	error = write_all(fd, buf, len);
	if (error == 0 && fsync(fd) != 0)
		error = errno;
	if (close(fd) != 0 && error == 0)
		error = errno;
	if (error == 0 && rename(tmp, path) != 0)
		error = errno;
	if (error != 0) {
		(void)unlink(tmp);
		return (diag_set(d, error, "%s: cannot save the overlay map: "
		    "%s (is the disk full or read-only?)", path,
		    strerror(error)));
	}
	fsync_dir_of(path);
	return (0);
}

/* Save the map if it changed since the last save (or force); save_mtx held. */
static int
rowr_save_locked(struct bdev_rowr *r, int force, struct diag *d)
{
	uint64_t changes, len;
	uint32_t pathlen;
	uint8_t *buf;
	int error;

	changes = __atomic_load_n(&r->changes, __ATOMIC_ACQUIRE);
	pathlen = r->lower_path != NULL ? (uint32_t)strlen(r->lower_path) : 0;
	len = lr_rowrmap_encoded_len(&r->map, pathlen);
	if ((buf = malloc((size_t)len)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory saving the overlay "
		    "map (%ju bytes)", (uintmax_t)len));
	/* Snapshot first: every bit in it names data already written. */
	(void)lr_rowrmap_encode(&r->map, r->generation + 1, r->lower_path,
	    pathlen, buf, (size_t)len);
	if ((error = bdev_flush(r->upper, d)) != 0) {
		diag_prefix(d, "overlay flush of the upper: ");
		goto out;
	}
	if (!force && changes == r->saved_changes)
		goto out;
	if ((error = atomic_write(r->map_path, buf, (size_t)len, d)) != 0)
		goto out;
	r->generation++;
	r->saved_changes = changes;
out:
	free(buf);
	return (error);
}

int
bdev_rowr_save(struct bdev *b, struct diag *d)
{
	struct bdev_rowr *r = to_rowr(b);
	int error;

	if (r == NULL || r->map_path == NULL)
		return (diag_set(d, EINVAL, "%s is not a persistent overlay",
		    b->desc));
	if (b->readonly)
		return (0);
	pthread_mutex_lock(&r->save_mtx);
	error = rowr_save_locked(r, 1, d);
	pthread_mutex_unlock(&r->save_mtx);
	return (error);
}

#define MAP_FIX	"restore it from a backup, or drop the overlay with " \
	"'liveroot overlay destroy'"

static int
map_corrupt(const char *path, struct diag *d)
{
	size_t l;

	diag_prefix(d, "%s: overlay map is corrupt: ", path);
	if (d != NULL && (l = strlen(d->msg)) + 3 < sizeof(d->msg))
		snprintf(d->msg + l, sizeof(d->msg) - l, "; %s", MAP_FIX);
	return (d != NULL ? d->code : EINVAL);
}

/* Reads and checks a whole map file; *bufp (malloc'd) holds it. */
static int
map_file_load(const char *path, uint8_t **bufp, size_t *lenp,
    struct lr_rowrmap_hdr *h, struct diag *d)
{
	uint8_t hdr[LR_ROWRMAP_HDR], *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd, error;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		error = errno;
		if (error == ENOENT)
			return (diag_set(d, error, "%s: no overlay map here "
			    "(not an overlay, or it was destroyed; make one "
			    "with 'liveroot overlay create')", path));
		return (diag_set(d, error, "%s: %s", path, strerror(error)));
	}
	if (fstat(fd, &st) != 0) {
		error = errno;
		close(fd);
		return (diag_set(d, error, "%s: %s", path, strerror(error)));
	}
	n = pread(fd, hdr, sizeof(hdr), 0);
	if (n < 0) {
		error = errno;
		close(fd);
		return (diag_set(d, error, "%s: %s", path, strerror(error)));
	}
	if ((error = lr_rowrmap_hdr_decode(hdr, (size_t)n,
	    (uint64_t)st.st_size, h, d)) != 0) {
		close(fd);
		return (map_corrupt(path, d));
	}
	if ((uint64_t)st.st_size > SIZE_MAX / 2 ||
	    (buf = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return (diag_set(d, ENOMEM, "%s: out of memory for a %ju-byte "
		    "map", path, (uintmax_t)st.st_size));
	}
	n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		error = n < 0 ? errno : EIO;
		free(buf);
		close(fd);
		return (diag_set(d, error, "%s: short read of the overlay map",
		    path));
	}
	close(fd);
	*bufp = buf;
	*lenp = (size_t)st.st_size;
	return (0);
}


int
bdev_rowr_read_info(const char *map_path, struct bdev_rowr_info *info,
    struct diag *d)
{
	struct lr_rowrmap_hdr h;
	const char *p;
	uint8_t *buf;
	size_t len, i;
	int error;

	memset(info, 0, sizeof(*info));
	if ((error = map_file_load(map_path, &buf, &len, &h, d)) != 0)
		return (error);
	if ((error = lr_rowrmap_decode(buf, len, &h, &p, NULL, d)) != 0) {
		free(buf);
		return (map_corrupt(map_path, d));
	}
	info->size = h.size;
	info->granule = h.granule;
	info->generation = h.generation;
	memcpy(info->lower_path, p, h.pathlen);
	info->lower_path[h.pathlen] = '\0';
	for (i = 0; i < h.bitmap_bytes; i++)
		info->granules_written += (uint64_t)__builtin_popcount(
		    buf[LR_ROWRMAP_HDR + h.pathlen + i]);
	free(buf);
	return (0);
}

int
bdev_rowr_open_persistent(struct bdev *lower, struct bdev *upper,
    const char *map_path, const char *lower_path,
    const struct bdev_rowr_opts *o, int flags, struct bdev **out,
    struct diag *d)
{
	struct lr_rowrmap_hdr h;
	struct bdev_rowr *r;
	struct stat st;
	const char *p;
	uint8_t *buf = NULL;
	size_t len;
	int error;

	if (flags & BDEV_ROWR_CREATE) {
		if (lower_path != NULL && strlen(lower_path) >
		    LR_ROWRMAP_PATHMAX)
			return (diag_set(d, ENAMETOOLONG, "lower path is over "
			    "%u bytes", LR_ROWRMAP_PATHMAX));
		if (stat(map_path, &st) == 0)
			return (diag_set(d, EEXIST, "%s already exists: the "
			    "upper is already an overlay (use it, or drop it "
			    "with 'liveroot overlay destroy')", map_path));
		if ((error = rowr_alloc(lower, upper, o != NULL ? o->granule :
		    0, &r, d)) != 0)
			return (error);
		if (lower_path != NULL &&
		    (r->lower_path = strdup(lower_path)) == NULL) {
			rowr_free(r);
			return (diag_set(d, ENOMEM, "out of memory"));
		}
	} else {
		if ((error = map_file_load(map_path, &buf, &len, &h, d)) != 0)
			return (error);
		if (h.size != lower->size) {
			free(buf);
			return (diag_set(d, EINVAL, "%s: the overlay was made "
			    "for a %ju-byte lower, but %s is %ju bytes: wrong "
			    "lower, or it changed since", map_path,
			    (uintmax_t)h.size, lower->desc,
			    (uintmax_t)lower->size));
		}
		if ((error = rowr_alloc(lower, upper, h.granule, &r, d)) != 0) {
			free(buf);
			return (error);
		}
		if ((error = lr_rowrmap_decode(buf, len, &h, &p, &r->map,
		    d)) != 0) {
			free(buf);
			rowr_free(r);
			return (map_corrupt(map_path, d));
		}
		r->generation = h.generation;
		if ((r->lower_path = malloc(h.pathlen + 1)) == NULL) {
			free(buf);
			rowr_free(r);
			return (diag_set(d, ENOMEM, "out of memory"));
		}
		memcpy(r->lower_path, p, h.pathlen);
		r->lower_path[h.pathlen] = '\0';
		free(buf);
	}
	if ((r->map_path = strdup(map_path)) == NULL) {
		rowr_free(r);
		return (diag_set(d, ENOMEM, "out of memory"));
	}
	if (flags & BDEV_ROWR_CREATE) {
		if (upper->readonly) {
			rowr_free(r);
			return (diag_set(d, EROFS, "cannot create an overlay "
			    "on the read-only upper %s", upper->desc));
		}
		pthread_mutex_lock(&r->save_mtx);
		error = rowr_save_locked(r, 1, d);
		pthread_mutex_unlock(&r->save_mtx);
		if (error != 0) {
			rowr_free(r);
			return (error);
		}
	}
	*out = &r->b;
	return (0);
}

char *
bdev_rowr_map_path(const char *upper_path)
{
	size_t n = strlen(upper_path) + sizeof(".rowrmap");
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s.rowrmap", upper_path);
	return (p);
}

/* Open the upper file, locked: shared when read-only, else exclusive. */
static int
open_upper(const char *path, int rdonly, struct bdev **out, struct diag *d)
{
	int fd, error;

	if ((fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC)) < 0) {
		error = errno;
		return (diag_set(d, error, "upper %s: %s%s", path,
		    strerror(error), error == ENOENT ? " (was it moved or "
		    "removed? the map names it by path)" : ""));
	}
	if (flock(fd, (rdonly ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
		error = errno;
		close(fd);
		if (error == EWOULDBLOCK)
			return (diag_set(d, EBUSY, "overlay %s is in use by "
			    "another process (an NBD server?): stop it first",
			    path));
		return (diag_set(d, error, "%s: cannot lock: %s", path,
		    strerror(error)));
	}
	if ((error = bdev_file_from_fd(fd, path, rdonly ? BDEV_FILE_RDONLY :
	    0, out, d)) != 0)
		close(fd);
	return (error);
}

int
bdev_rowr_open_files_flags(const char *upper_path, int flags,
    struct bdev **out, struct diag *d)
{
	struct bdev_rowr_info info;
	struct bdev *lower = NULL, *upper = NULL, *b;
	char *map_path;
	int error, rdonly = (flags & BDEV_ROWR_RDONLY) != 0;

	if ((map_path = bdev_rowr_map_path(upper_path)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if ((error = bdev_rowr_read_info(map_path, &info, d)) != 0)
		goto out;
	if ((error = bdev_file_open(info.lower_path,
	    (flags & BDEV_ROWR_LOWER_RW) ? 0 : BDEV_FILE_RDONLY, 0, &lower,
	    d)) != 0) {
		diag_prefix(d, "overlay %s: lower: ", upper_path);
		goto out;
	}
	if ((error = open_upper(upper_path, rdonly, &upper, d)) != 0)
		goto out;
	if ((error = bdev_rowr_open_persistent(lower, upper, map_path, NULL,
	    NULL, 0, &b, d)) != 0)
		goto out;
	lower = upper = NULL;
	if ((((struct bdev_rowr *)b)->upper_path = strdup(upper_path)) ==
	    NULL) {
		bdev_destroy(b);
		error = diag_set(d, ENOMEM, "out of memory");
		goto out;
	}
	*out = b;
out:
	bdev_destroy(upper);
	bdev_destroy(lower);
	free(map_path);
	return (error);
}

int
bdev_rowr_open_files(const char *upper_path, int readonly, struct bdev **out,
    struct diag *d)
{
	return (bdev_rowr_open_files_flags(upper_path,
	    readonly ? BDEV_ROWR_RDONLY : 0, out, d));
}

int
bdev_rowr_create_files(const char *lower_path, const char *upper_path,
    const struct bdev_rowr_opts *o, struct diag *d)
{
	struct bdev *lower = NULL, *upper = NULL, *b = NULL;
	struct stat lst, ust;
	char *map_path = NULL, *abs = NULL;
	int error, created = 0;

	if ((map_path = bdev_rowr_map_path(upper_path)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if (stat(map_path, &ust) == 0) {
		error = diag_set(d, EEXIST, "%s is already an overlay (%s "
		    "exists): use it, or drop it with 'liveroot overlay "
		    "destroy %s' first", upper_path, map_path, upper_path);
		goto out;
	}
	if ((error = bdev_file_open(lower_path, BDEV_FILE_RDONLY, 0, &lower,
	    d)) != 0) {
		diag_prefix(d, "lower: ");
		goto out;
	}
	if ((abs = realpath(lower_path, NULL)) == NULL) {
		error = diag_set(d, errno, "%s: %s", lower_path,
		    strerror(errno));
		goto out;
	}
	if (stat(upper_path, &ust) == 0) {
		if (stat(abs, &lst) == 0 && lst.st_dev == ust.st_dev &&
		    lst.st_ino == ust.st_ino) {
			error = diag_set(d, EINVAL, "the upper %s is the lower "
			    "itself: name another file", upper_path);
			goto out;
		}
		if (S_ISREG(ust.st_mode) && (uint64_t)ust.st_size <
		    lower->size) {
			error = diag_set(d, EINVAL, "the upper %s is %ju "
			    "bytes, smaller than the union (the lower %s, %ju bytes): "
			    "make it at least %ju bytes (truncate -s %ju %s), "
			    "or remove it and let create make it", upper_path,
			    (uintmax_t)ust.st_size, lower_path,
			    (uintmax_t)lower->size, (uintmax_t)lower->size,
			    (uintmax_t)lower->size, upper_path);
			goto out;
		}
	} else
		created = 1;
	if ((error = bdev_file_open(upper_path, created ? BDEV_FILE_CREATE :
	    0, lower->size, &upper, d)) != 0) {
		diag_prefix(d, "upper: ");
		goto out;
	}
	if ((error = bdev_rowr_open_persistent(lower, upper, map_path, abs, o,
	    BDEV_ROWR_CREATE, &b, d)) != 0)
		goto out;
	lower = upper = NULL;
	bdev_destroy(b);
out:
	bdev_destroy(upper);
	bdev_destroy(lower);
	if (error != 0 && created)
		(void)unlink(upper_path);
	free(abs);
	free(map_path);
	return (error);
}

int
bdev_rowr_destroy_files(const char *upper_path, int remove_files,
    struct diag *d)
{
	char *map_path, tmp[PATH_MAX + 8];
	struct stat st;
	int fd, error = 0;

	if ((map_path = bdev_rowr_map_path(upper_path)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if (stat(map_path, &st) != 0) {
		error = diag_set(d, ENOENT, "%s is not an overlay (no %s)",
		    upper_path, map_path);
		goto out;
	}
	if ((fd = open(upper_path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) != 0 &&
		    errno == EWOULDBLOCK) {
			close(fd);
			error = diag_set(d, EBUSY, "overlay %s is in use by "
			    "another process: stop it first", upper_path);
			goto out;
		}
		close(fd);
	}
	if (unlink(map_path) != 0) {
		error = diag_set(d, errno, "%s: %s", map_path, strerror(errno));
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", map_path);
	(void)unlink(tmp);
	if (remove_files && unlink(upper_path) != 0 && errno != ENOENT)
		error = diag_set(d, errno, "%s: %s", upper_path,
		    strerror(errno));
out:
	free(map_path);
	return (error);
}
