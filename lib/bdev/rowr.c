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
#include <sys/file.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/fmt_uzip.h>
#include <liveroot/os.h>
#include <liveroot/rowr.h>
#include <liveroot/rowrmap.h>
#include <liveroot/util.h>
#include <liveroot/uzip.h>

#define ROWR_COPY_CHUNK	(1u << 20)
#define ID_SAMPLES	64	/* blocks hashed for a lower's identity */
#define ID_BLOCK	4096u
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
	int		 force_save;	/* next flush saves (new identity) */
	uint32_t	 mapflags;	/* LR_ROWRMAP_F_*, saved in the map */
	struct lr_rowrmap_ident ident;	/* the lower's, saved in the map */
	int		 lockfd;	/* the lower, flock'ed; -1: none */
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

/* A read of the union; the caller holds a lock over the span. */
static int
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

static int
rowr_read(struct bdev *b, void *buf, size_t len, uint64_t off, struct diag *d)
{
	struct bdev_rowr *r = (struct bdev_rowr *)b;
	uint64_t g0, g1;
	uint32_t slot;
	int error;

	lr_rowrmap_span(&r->map, off, len, &g0, &g1);
	slot = rowr_lock(r, g0, g1, 0);
	error = rowr_read_locked(r, buf, len, off, d);
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
	if (r->lockfd >= 0)
		close(r->lockfd);
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

static struct bdev_rowr *
to_rowr(struct bdev *b)
{
	return (bdev_is_rowr(b) ? (struct bdev_rowr *)b : NULL);
}

/* --- the lower's identity and lock (rules in rowr.h) --------------------- */

typedef int (*id_read_fn)(void *arg, void *buf, size_t len, uint64_t off,
    struct diag *d);

static int
id_read_bdev(void *arg, void *buf, size_t len, uint64_t off, struct diag *d)
{
	return (bdev_read(arg, buf, len, off, d));
}

/* The union, as a commit leaves the lower; the whole-device lock is held. */
static int
id_read_union(void *arg, void *buf, size_t len, uint64_t off, struct diag *d)
{
	return (rowr_read_locked(arg, buf, len, off, d));
}

_Static_assert(LR_ROWRMAP_HASHLEN == OS_SHA256_LEN,
    "the identity hash is a SHA-256");

static int
sha_start(struct os_sha256 **c, struct diag *d)
{
	if (os_sha256_new(c) != 0)
		return (diag_set(d, ENOMEM, "cannot start a SHA-256 of the "
		    "lower (out of memory?)"));
	return (0);
}

static int
sha_end(struct os_sha256 *c, int ok, uint8_t *out, struct diag *d)
{
	if (ok && os_sha256_final(c, out) != 0)
		ok = 0;
	os_sha256_free(c);
	return (ok ? 0 : diag_set(d, EIO, "SHA-256 of the lower failed"));
}

/*
 * Adds size (8 bytes LE) and ID_SAMPLES blocks of ID_BLOCK bytes spread
 * evenly over [0, size), the first and the last included, to c; all of it
 * when it is no bigger than the samples.  *ok turns 0 when c fails.
 */
static int
id_add_samples(struct os_sha256 *c, id_read_fn rd, void *arg, uint64_t size,
    int *ok, struct diag *d)
{
	uint8_t buf[ID_BLOCK], le[8];
	uint64_t span, q, rem, off;
	size_t n;
	int i, error = 0;

	lr_le64enc(le, size);
	*ok = *ok && os_sha256_update(c, le, sizeof(le)) == 0;
	if (size <= (uint64_t)ID_SAMPLES * ID_BLOCK) {
		for (off = 0; off < size && *ok && error == 0; off += n) {
			n = (size_t)LR_MIN(size - off, ID_BLOCK);
			if ((error = rd(arg, buf, n, off, d)) == 0)
				*ok = os_sha256_update(c, buf, n) == 0;
		}
		return (error);
	}
	span = size - ID_BLOCK;
	q = span / (ID_SAMPLES - 1);
	rem = span % (ID_SAMPLES - 1);
	for (i = 0; i < ID_SAMPLES && *ok && error == 0; i++) {
		off = q * (uint64_t)i + rem * (uint64_t)i / (ID_SAMPLES - 1);
		if ((error = rd(arg, buf, ID_BLOCK, off, d)) == 0)
			*ok = os_sha256_update(c, buf, ID_BLOCK) == 0;
	}
	return (error);
}

/* The sampled identity: SHA-256 of id_add_samples() over the lower. */
static int
id_hash_samples(id_read_fn rd, void *arg, uint64_t size, uint8_t *out,
    struct diag *d)
{
	struct os_sha256 *c;
	int ok = 1, error;

	if ((error = sha_start(&c, d)) != 0)
		return (error);
	if ((error = id_add_samples(c, rd, arg, size, &ok, d)) != 0) {
		os_sha256_free(c);
		return (diag_prefix(d, "hashing the lower: "));
	}
	return (sha_end(c, ok, out, d));
}

/*
 * The uzip identity: SHA-256 of the image file's bytes [0, data_off) (its
 * header and table of contents), then of samples of the whole file (a table
 * alone does not tell apart two images of incompressible clusters).
 */
static int
id_hash_uzip(struct bdev *raw, uint64_t data_off, uint8_t *out,
    struct diag *d)
{
	uint64_t off;
	uint8_t *buf;
	struct os_sha256 *c;
	size_t n;
	int ok = 1, error = 0;

	if ((buf = malloc(ROWR_COPY_CHUNK)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory hashing the lower"));
	if ((error = sha_start(&c, d)) != 0) {
		free(buf);
		return (error);
	}
	for (off = 0; off < data_off && ok; off += n) {
		n = (size_t)LR_MIN(data_off - off, ROWR_COPY_CHUNK);
		if ((error = bdev_read(raw, buf, n, off, d)) != 0)
			break;
		ok = os_sha256_update(c, buf, n) == 0;
	}
	free(buf);
	if (error == 0)
		error = id_add_samples(c, id_read_bdev, raw, raw->size, &ok, d);
	if (error != 0) {
		os_sha256_free(c);
		return (diag_prefix(d, "hashing the lower uzip image: "));
	}
	return (sha_end(c, ok, out, d));
}

/* The hints: device, inode and mtime of the lower's path, when it has one. */
static void
id_stat(const char *path, struct lr_rowrmap_ident *id)
{
	struct stat st;

	if (path == NULL || path[0] == '\0' || stat(path, &st) != 0)
		return;
	id->dev = (uint64_t)st.st_dev;
	id->ino = (uint64_t)st.st_ino;
	id->mtime_sec = (int64_t)st.st_mtim.tv_sec;
	id->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
}

/* The identity of a lower device: a uzip layer's table, else samples. */
static int
id_of_lower(struct bdev *lower, const char *path, struct lr_rowrmap_ident *id,
    struct diag *d)
{
	struct fmt_uzip_hdr uh;
	int error;

	memset(id, 0, sizeof(*id));
	if (bdev_uzip_info(lower, &uh, NULL) == 0 && lower->lower != NULL) {
		id->kind = LR_ROWRMAP_ID_UZIP;
		id->size = lower->lower->size;
		error = id_hash_uzip(lower->lower, uh.data_off, id->hash, d);
	} else {
		id->kind = LR_ROWRMAP_ID_SAMPLED;
		id->size = lower->size;
		error = id_hash_samples(id_read_bdev, lower, lower->size,
		    id->hash, d);
	}
	if (error == 0)
		id_stat(path, id);
	return (error);
}

/*
 * The identity of the file at path, taken as `kind` says (a uzip image's
 * table, or samples of the raw file); a file that is no uzip image any more
 * gets sampled, so its kind differs.
 */
static int
id_of_path(const char *path, uint32_t kind, struct lr_rowrmap_ident *id,
    struct diag *d)
{
	uint8_t hdr[FMT_UZIP_HDRLEN];
	struct fmt_uzip_hdr uh;
	struct bdev *raw;
	int error;

	memset(id, 0, sizeof(*id));
	if ((error = bdev_file_open(path, BDEV_FILE_RDONLY, 0, &raw, d)) != 0)
		return (diag_prefix(d, "lower: "));
	id->size = raw->size;
	if (kind == LR_ROWRMAP_ID_UZIP && raw->size >= sizeof(hdr) &&
	    bdev_read(raw, hdr, sizeof(hdr), 0, NULL) == 0 &&
	    fmt_uzip_probe(hdr, sizeof(hdr)) &&
	    fmt_uzip_header(hdr, sizeof(hdr), raw->size, &uh, NULL) == 0) {
		id->kind = LR_ROWRMAP_ID_UZIP;
		error = id_hash_uzip(raw, uh.data_off, id->hash, d);
	} else {
		id->kind = LR_ROWRMAP_ID_SAMPLED;
		error = id_hash_samples(id_read_bdev, raw, raw->size, id->hash,
		    d);
	}
	bdev_destroy(raw);
	if (error == 0)
		id_stat(path, id);
	return (error);
}

static int
id_same(const struct lr_rowrmap_ident *a, const struct lr_rowrmap_ident *b)
{
	return (a->kind == b->kind &&
	    memcmp(a->hash, b->hash, LR_ROWRMAP_HASHLEN) == 0);
}

static int
id_same_file(const struct lr_rowrmap_ident *a, const struct lr_rowrmap_ident *b)
{
	return (a->dev != 0 && a->dev == b->dev && a->ino == b->ino);
}

/* Refuse a lower that is not the recorded one, naming both. */
static int
id_refuse(const char *map_path, const char *rec_path,
    const struct lr_rowrmap_ident *rec, const char *found,
    const struct lr_rowrmap_ident *cur, struct diag *d)
{
	char rh[13], ch[13];
	const char *why;

	os_hex(rec->hash, 6, rh);
	os_hex(cur->hash, 6, ch);
	if (rec->kind != cur->kind)
		why = rec->kind == LR_ROWRMAP_ID_UZIP ? "it was a uzip image" :
		    "it is a uzip image now";
	else if (id_same_file(rec, cur))
		why = "the same file, changed since";
	else
		why = "another file";
	return (diag_set(d, BDEV_ROWR_ELOWER, "%s: made on another lower "
	    "(%s): recorded %s, %ju bytes, sha256 %s; found %s, %ju bytes, "
	    "sha256 %s; its written granules would sit on the wrong base: "
	    "put the recorded lower back, or drop the overlay", map_path, why,
	    rec_path, (uintmax_t)rec->size, rh, found, (uintmax_t)cur->size,
	    ch));
}

/*
 * Check the lower of a just-decoded map against rec (the map's record) and
 * set r->ident.  A commit in progress accepts the lower before (hash), after
 * (hash_after) or, the same file, half-way.
 */
static int
id_verify(struct bdev_rowr *r, const char *map_path,
    const struct lr_rowrmap_ident *rec, struct diag *d)
{
	struct lr_rowrmap_ident cur;
	int error;

	if ((error = id_of_lower(r->b.lower, r->lower_path, &cur, d)) != 0)
		return (diag_prefix(d, "%s: checking the lower: ", map_path));
	if (rec->kind == LR_ROWRMAP_ID_NONE) {
		r->ident = cur;		/* a version 1 map: record it */
		r->force_save = 1;
		return (0);
	}
	if (r->mapflags & LR_ROWRMAP_F_COMMIT) {
		if (id_same(rec, &cur) || (rec->kind == cur.kind &&
		    (memcmp(rec->hash_after, cur.hash,
		    LR_ROWRMAP_HASHLEN) == 0 || (id_same_file(rec, &cur) &&
		    rec->size == cur.size)))) {
			r->ident = *rec;
			return (0);
		}
	} else if (id_same(rec, &cur)) {
		if (rec->dev != cur.dev || rec->ino != cur.ino ||
		    rec->size != cur.size || rec->mtime_sec != cur.mtime_sec ||
		    rec->mtime_nsec != cur.mtime_nsec)
			r->force_save = 1;	/* a copy, or touched */
		r->ident = cur;
		return (0);
	}
	return (id_refuse(map_path, r->lower_path, rec, r->b.lower->desc, &cur,
	    d));
}

/* The shared lock on the lower (rowr.h); EBUSY while a commit holds it. */
static int
lower_lock_shared(struct bdev_rowr *r, struct diag *d)
{
	int fd, error;

	if (r->lower_path == NULL || r->lower_path[0] == '\0')
		return (0);
	/* The lower was opened by other means when this fails: no lock. */
	if ((fd = open(r->lower_path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return (0);
	if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
		error = errno;
		close(fd);
		if (error == EWOULDBLOCK)
			return (diag_set(d, EBUSY, "the lower %s is in use by "
			    "a commit into it (another process holds it "
			    "locked): wait for the commit to finish",
			    r->lower_path));
		return (0);		/* no flock on this file system */
	}
	r->lockfd = fd;
	return (0);
}

/* Turn the lower's lock exclusive for a commit (excl) or back to shared. */
static int
lower_lock_commit(struct bdev_rowr *r, int excl, struct diag *d)
{
	if (r->lockfd < 0)
		return (0);
	if (!excl) {
		(void)flock(r->lockfd, LOCK_SH | LOCK_NB);
		return (0);
	}
	if (flock(r->lockfd, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		return (0);
	/* A failed conversion dropped the shared lock: take it back. */
	(void)flock(r->lockfd, LOCK_SH | LOCK_NB);
	return (diag_set(d, EBUSY, "cannot commit into the lower %s now: it "
	    "is in use (another overlay on it is open, or a commit into it "
	    "runs): stop that first", r->lower_path));
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
	struct bdev_rowr *r = to_rowr(b);
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

/*
 * Record the commit in the map, durably, before the lower is touched: the
 * COMMIT flag and the hash the lower will have once the union is in it.
 * The whole-device lock is held.
 */
static int
commit_begin(struct bdev_rowr *r, struct diag *d)
{
	uint8_t after[LR_ROWRMAP_HASHLEN];
	int error;

	memset(after, 0, sizeof(after));
	if (r->ident.kind == LR_ROWRMAP_ID_SAMPLED && (error =
	    id_hash_samples(id_read_union, r, r->b.size, after, d)) != 0)
		return (diag_prefix(d, "commit: "));
	pthread_mutex_lock(&r->save_mtx);
	memcpy(r->ident.hash_after, after, sizeof(after));
	r->mapflags |= LR_ROWRMAP_F_COMMIT;
	if ((error = rowr_save_locked(r, 1, d)) != 0) {
		r->mapflags &= ~LR_ROWRMAP_F_COMMIT;
		memset(r->ident.hash_after, 0, sizeof(after));
	}
	pthread_mutex_unlock(&r->save_mtx);
	if (error != 0)
		diag_prefix(d, "commit: recording it in the map before the "
		    "lower is touched: ");
	return (error);
}

/* The lower holds the union now: record its new identity, drop COMMIT. */
static int
commit_end(struct bdev_rowr *r, struct diag *d)
{
	struct lr_rowrmap_ident id;
	int error;

	if ((error = id_of_lower(r->b.lower, r->lower_path, &id, d)) != 0)
		return (diag_prefix(d, "commit: "));
	pthread_mutex_lock(&r->save_mtx);
	r->ident = id;
	r->mapflags &= ~LR_ROWRMAP_F_COMMIT;
	pthread_mutex_unlock(&r->save_mtx);
	return (0);
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
	if ((error = lower_lock_commit(r, 1, d)) != 0) {
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
		if ((error = commit_begin(r, d)) != 0)
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
		error = commit_end(r, d);
	if (error == 0)
		error = rowr_forget_all(r, d);
out:
	rowr_unlock(r, slot);
	(void)lower_lock_commit(r, 0, NULL);
	free(buf);
	return (error);
}

void
bdev_rowr_get_stats(struct bdev *b, struct bdev_rowr_stats *st)
{
	struct bdev_rowr *r = to_rowr(b);

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

/* --- persistence --------------------------------------------------------- */

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
	if ((error = lr_rowrmap_encode_ext(&r->map, r->generation + 1,
	    r->mapflags, &r->ident, r->lower_path, pathlen, buf,
	    (size_t)len)) != 0) {
		error = diag_set(d, error, "%s: internal error encoding the "
		    "overlay map", r->map_path);
		goto out;
	}
	if ((error = bdev_flush(r->upper, d)) != 0) {
		diag_prefix(d, "overlay flush of the upper: ");
		goto out;
	}
	if (!force && !r->force_save && changes == r->saved_changes)
		goto out;
	if ((error = os_atomic_write(r->map_path, buf, (size_t)len,
	    "the overlay map", d)) != 0)
		goto out;
	r->generation++;
	r->saved_changes = changes;
	r->force_save = 0;
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

#define MAP_FIX	"restore it from a backup, or drop the overlay"

static int
map_corrupt(const char *path, struct diag *d)
{
	size_t l;

	diag_prefix(d, "%s: overlay map is corrupt: ", path);
	if (d != NULL && (l = strlen(d->msg)) + 3 < sizeof(d->msg))
		snprintf(d->msg + l, sizeof(d->msg) - l, "; %s", MAP_FIX);
	if (d != NULL)
		d->code = BDEV_ROWR_ECORRUPT;
	return (BDEV_ROWR_ECORRUPT);
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
			    "(not an overlay, or it was destroyed)", path));
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
	info->version = h.version;
	info->commit_pending = (h.flags & LR_ROWRMAP_F_COMMIT) != 0;
	info->lower_kind = h.ident.kind;
	info->lower_size = h.ident.size;
	if (h.ident.kind != LR_ROWRMAP_ID_NONE)
		os_hex(h.ident.hash, LR_ROWRMAP_HASHLEN, info->lower_sha256);
	memcpy(info->lower_path, p, h.pathlen);
	info->lower_path[h.pathlen] = '\0';
	for (i = 0; i < h.bitmap_bytes; i++)
		info->granules_written += (uint64_t)__builtin_popcount(
		    buf[h.pathoff + h.pathlen + i]);
	free(buf);
	return (0);
}

/* Loads and decodes a whole map file: header, identity and lower path. */
static int
map_read_head(const char *map_path, struct lr_rowrmap_hdr *h, char **lower,
    struct diag *d)
{
	const char *p;
	uint8_t *buf;
	size_t len;
	int error;

	if ((error = map_file_load(map_path, &buf, &len, h, d)) != 0)
		return (error);
	if ((error = lr_rowrmap_decode(buf, len, h, &p, NULL, d)) != 0) {
		free(buf);
		return (map_corrupt(map_path, d));
	}
	if ((*lower = strndup(p, h->pathlen)) == NULL)
		error = diag_set(d, ENOMEM, "out of memory");
	free(buf);
	return (error);
}

static int
commit_refuse(const char *map_path, const char *lower, struct diag *d)
{
	return (diag_set(d, BDEV_ROWR_ECOMMIT, "%s: a commit into the lower "
	    "%s was interrupted, so the lower may be half-written: the overlay "
	    "must not be used until the commit is run again and completes "
	    "(the upper still holds every written granule)", map_path,
	    lower));
}

int
bdev_rowr_check_lower(const char *map_path, struct diag *d)
{
	struct lr_rowrmap_ident cur;
	struct lr_rowrmap_hdr h;
	char *lower = NULL;
	int error, fd;

	if ((error = map_read_head(map_path, &h, &lower, d)) != 0)
		return (error);
	if (h.flags & LR_ROWRMAP_F_COMMIT) {
		/* Running now, or interrupted?  The commit holds the lock. */
		error = commit_refuse(map_path, lower, d);
		if ((fd = open(lower, O_RDONLY | O_CLOEXEC | O_NOCTTY)) >= 0) {
			if (flock(fd, LOCK_SH | LOCK_NB) != 0 &&
			    errno == EWOULDBLOCK)
				error = diag_set(d, EBUSY, "%s: a commit into "
				    "the lower %s is running now: wait for it "
				    "to finish", map_path, lower);
			close(fd);
		}
		goto out;
	}
	if (h.ident.kind == LR_ROWRMAP_ID_NONE)
		goto out;
	if ((error = id_of_path(lower, h.ident.kind, &cur, d)) != 0) {
		diag_prefix(d, "%s: ", map_path);
		goto out;
	}
	if (!id_same(&h.ident, &cur))
		error = id_refuse(map_path, lower, &h.ident, lower, &cur, d);
out:
	free(lower);
	return (error);
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
		if (upper->readonly)
			return (diag_set(d, EROFS, "cannot create an overlay "
			    "on the read-only upper %s", upper->desc));
		if (lstat(map_path, &st) == 0)
			return (diag_set(d, EEXIST, "%s already exists: the "
			    "upper is already an overlay (use it, or drop it "
			    "first)", map_path));
		if ((error = rowr_alloc(lower, upper, o != NULL ? o->granule :
		    0, &r, d)) != 0)
			return (error);
		if ((r->lower_path = strdup(lower_path != NULL ? lower_path :
		    "")) == NULL) {
			rowr_free(r);
			return (diag_set(d, ENOMEM, "out of memory"));
		}
	} else {
		if ((error = map_file_load(map_path, &buf, &len, &h, d)) != 0)
			return (error);
		if (h.size != lower->size) {
			free(buf);
			return (diag_set(d, BDEV_ROWR_ELOWER, "%s: the overlay "
			    "was made for a %ju-byte lower, but %s is %ju "
			    "bytes: another lower, or it changed since; put "
			    "the recorded lower back, or drop the overlay",
			    map_path, (uintmax_t)h.size, lower->desc,
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
		r->mapflags = h.flags;
		r->lower_path = strndup(p, h.pathlen);
		free(buf);
		if (r->lower_path == NULL) {
			rowr_free(r);
			return (diag_set(d, ENOMEM, "out of memory"));
		}
		if ((h.flags & LR_ROWRMAP_F_COMMIT) &&
		    !(flags & BDEV_ROWR_RESUME)) {
			error = commit_refuse(map_path, r->lower_path, d);
			rowr_free(r);
			return (error);
		}
	}
	if ((r->map_path = strdup(map_path)) == NULL) {
		rowr_free(r);
		return (diag_set(d, ENOMEM, "out of memory"));
	}
	if ((error = lower_lock_shared(r, d)) != 0) {
		rowr_free(r);
		return (error);
	}
	if (flags & BDEV_ROWR_CREATE)
		error = id_of_lower(lower, r->lower_path, &r->ident, d);
	else
		error = id_verify(r, map_path, &h.ident, d);
	if (error != 0) {
		rowr_free(r);
		return (error);
	}
	if (flags & BDEV_ROWR_CREATE) {
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
	    NULL, flags & BDEV_ROWR_RESUME, &b, d)) != 0)
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
		    "exists): use it, or drop it first", upper_path,
		    map_path);
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
bdev_rowr_destroy_files(const char *upper_path, int flags, struct diag *d)
{
	struct lr_rowrmap_hdr h;
	char *map_path, *lower = NULL, tmp[PATH_MAX + 8];
	struct stat st;
	struct diag ld;
	int fd, error = 0;

	if ((map_path = bdev_rowr_map_path(upper_path)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if (lstat(map_path, &st) != 0) {
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
	/* A corrupt map can go; one whose commit is pending needs forcing. */
	if (!(flags & BDEV_ROWR_DESTROY_FORCE) &&
	    map_read_head(map_path, &h, &lower, &ld) == 0 &&
	    (h.flags & LR_ROWRMAP_F_COMMIT)) {
		error = diag_set(d, BDEV_ROWR_ECOMMIT, "%s: a commit into the "
		    "lower %s was interrupted: the lower may be half-written "
		    "and only this overlay can complete it; finish the commit, "
		    "or force the removal", map_path, lower);
		goto out;
	}
	if (unlink(map_path) != 0) {
		error = diag_set(d, errno, "%s: %s", map_path, strerror(errno));
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", map_path);
	(void)unlink(tmp);
	if ((flags & BDEV_ROWR_DESTROY_REMOVE) && unlink(upper_path) != 0 &&
	    errno != ENOENT)
		error = diag_set(d, errno, "%s: %s", upper_path,
		    strerror(errno));
out:
	free(lower);
	free(map_path);
	return (error);
}
