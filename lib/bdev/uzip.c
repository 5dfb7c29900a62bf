/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uzip.c - the uzip read layer: a read-only bdev that decompresses a
 * FreeBSD uzip image (zlib, lzma/xz or zstd clusters) from its lower,
 * through the image codec's entry in the codec table (codec.h).
 *
 * Open reads the header and the whole TOC and validates them with
 * fmt_uzip_header()/fmt_uzip_toc() before anything else is read.
 *
 * Hashes (optional, IMAGE.hashes, fmt_uzip_hashes.h): loaded at open once
 * the header is parsed (the file's size must be exactly what the header's
 * cluster count needs, so nothing is allocated from an unchecked count);
 * its cluster count and image size must match, and the SHA-256 of the
 * header+TOC bytes must match before fmt_uzip_toc() even looks at them.
 * Zero clusters must carry the hash of nothing and back-references their
 * target's hash.  Then uz_decompress() hashes the compressed bytes it
 * read from the lower and compares them before the codec sees them: a
 * mismatch is EIO naming the cluster, its offset and both hashes, and the
 * slot stays empty, so wrong data is never decompressed nor cached.  Each
 * decompressor context carries its own SHA-256 context (no allocation per
 * cluster).
 *
 * Cache: a fixed set of slots, each one decompressed cluster, keyed by the
 * DATA cluster index (a dedup back-reference shares its target's slot; zero
 * clusters take no slot).  Slot states: EMPTY, QUEUED (a read-ahead job
 * waits for a worker), LOADING (one thread decompresses into it), READY.
 * A slot in use by a thread is pinned and never evicted; the victim is the
 * least recently used EMPTY or READY unpinned slot.  A reader that needs a
 * QUEUED cluster claims it and decompresses it itself instead of waiting; a
 * reader that needs a LOADING cluster waits for it.  A reader that wants a
 * whole cluster nobody holds (or that is only QUEUED) decompresses it
 * straight into its own buffer, without a slot.  A failed decompression
 * empties the slot; the reader that needs it again decompresses it itself
 * and reports EIO naming the cluster and its image offset.
 *
 * Read-ahead: when a read starts in the cluster where the previous one
 * ended (or the next), the following `ra` clusters are queued for the
 * worker threads (a ring of jobs; a stale job, whose slot was claimed or
 * reused, is skipped).  workers == 1 means no threads: decompress inline.
 *
 * Locking: one mutex guards slots, hash, LRU, job ring, context pool and
 * statistics; decompression and copies run unlocked on pinned slots.  The
 * lower is read concurrently (bdev ops are thread-safe by contract).
 */
#include <sys/stat.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/codec.h>
#include <liveroot/fmt_uzip_hashes.h>
#include <liveroot/os.h>
#include <liveroot/uzip.h>
#include <liveroot/util.h>

enum { SLOT_EMPTY, SLOT_QUEUED, SLOT_LOADING, SLOT_READY };

/* A decompressor of the image's codec and a buffer for one cluster. */
struct uz_dec {
	struct uz_dec	*next;
	void		*dx;
	uint8_t		*cbuf;
	struct os_sha256 *sh;		/* with hashes only */
};

struct uz_slot {
	uint32_t	 idx;
	int		 state;
	int		 pins;
	struct uz_slot	*prev, *next;	/* LRU list, head = most recent */
	struct uz_slot	*hnext;
	uint8_t		*data;
};

struct uz_job {
	struct uz_slot	*slot;
	uint32_t	 idx;
};

struct bdev_uzip {
	struct bdev		 b;
	const struct lr_codec	*codec;
	struct fmt_uzip_hdr	 hdr;
	struct fmt_uzip_tocinfo	 info;
	struct fmt_uzip_cluster	*cl;
	uint32_t		 cbufsz;
	uint8_t			*hbuf;		/* header+TOC hash, then: */
	uint8_t			*hashes;	/* 32 * nblocks, or NULL */
	char			*hname;		/* the hashes file, for messages */

	pthread_mutex_t		 mtx;
	pthread_cond_t		 cv;		/* a slot changed state */
	pthread_cond_t		 wcv;		/* a job was queued */
	struct uz_slot		*slots;
	unsigned		 nslots;
	struct uz_slot		**hash;
	unsigned		 hmask;
	struct uz_slot		*head, *tail;
	struct uz_job		*jobs;
	unsigned		 njobs, jhead, jcount;
	struct uz_dec		*decfree;
	pthread_t		*thr;
	unsigned		 nthr;
	unsigned		 workers;
	int			 stop;
	unsigned		 ra;
	uint64_t		 prev_last;	/* last cluster of the last read + 1 */
	uint64_t		 ra_next;
	struct bdev_uzip_stats	 st;
};

static const struct bdev_ops uzip_ops;

static void
uz_dec_free(struct bdev_uzip *u, struct uz_dec *x)
{
	if (x == NULL)
		return;
	u->codec->dfree(x->dx);
	os_sha256_free(x->sh);
	free(x->cbuf);
	free(x);
}

static struct uz_dec *
uz_dec_new(struct bdev_uzip *u)
{
	struct uz_dec *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return (NULL);
	if ((x->cbuf = malloc(u->cbufsz + 1)) == NULL ||
	    u->codec->dnew(&x->dx) != 0 ||
	    (u->hashes != NULL && os_sha256_new(&x->sh) != 0)) {
		uz_dec_free(u, x);
		return (NULL);
	}
	return (x);
}

static struct uz_dec *
uz_dec_get(struct bdev_uzip *u)
{
	struct uz_dec *x;

	pthread_mutex_lock(&u->mtx);
	if ((x = u->decfree) != NULL)
		u->decfree = x->next;
	pthread_mutex_unlock(&u->mtx);
	return (x != NULL ? x : uz_dec_new(u));
}

static void
uz_dec_put(struct bdev_uzip *u, struct uz_dec *x)
{
	pthread_mutex_lock(&u->mtx);
	x->next = u->decfree;
	u->decfree = x;
	pthread_mutex_unlock(&u->mtx);
}

static int
uz_corrupt(struct bdev_uzip *u, uint32_t ci, const char *why,
    struct diag *d)
{
	const struct fmt_uzip_cluster *c = &u->cl[ci];

	return (diag_set(d, EIO, "%s: cluster %u at offset %ju does not "
	    "decompress (%s: %s): the image is corrupt, rebuild or "
	    "re-download it", u->b.lower->desc, ci, (uintmax_t)c->off,
	    fmt_uzip_codec_name(u->hdr.codec), why));
}

/*
 * Checks the c->len compressed bytes of DATA cluster r in x->cbuf (asked
 * for as cluster ci) against the hashes file.
 */
static int
uz_verify(struct bdev_uzip *u, struct uz_dec *x, uint32_t ci, uint32_t r,
    struct diag *d)
{
	const struct fmt_uzip_cluster *c = &u->cl[r];
	const uint8_t *want = u->hashes + (size_t)r * FMT_UZHASH_LEN;
	uint8_t got[OS_SHA256_LEN];
	char gh[2 * OS_SHA256_LEN + 1], wh[2 * OS_SHA256_LEN + 1];

	if (os_sha256_reset(x->sh) != 0 ||
	    os_sha256_update(x->sh, x->cbuf, c->len) != 0 ||
	    os_sha256_final(x->sh, got) != 0)
		return (diag_set(d, EIO, "%s: cluster %u: SHA-256 failed "
		    "(libcrypto)", u->b.lower->desc, ci));
	if (memcmp(got, want, OS_SHA256_LEN) == 0) {
		__atomic_fetch_add(&u->st.verified, 1, __ATOMIC_RELAXED);
		return (0);
	}
	__atomic_fetch_add(&u->st.hash_bad, 1, __ATOMIC_RELAXED);
	os_hex(got, OS_SHA256_LEN, gh);
	os_hex(want, OS_SHA256_LEN, wh);
	return (diag_set(d, EIO, "%.50s: cluster %u at offset %ju (%u bytes) "
	    "has sha256 %s, %.50s says %s: the image was changed or is "
	    "corrupt; it was not decompressed", u->b.lower->desc, ci,
	    (uintmax_t)c->off, c->len, gh, u->hname, wh));
}

/*
 * Decompresses DATA cluster r (asked for as cluster ci) into out (blksz).
 * Short output is zero-filled; output longer than blksz is corruption.
 */
static int
uz_decompress(struct bdev_uzip *u, struct uz_dec *x, uint32_t ci, uint32_t r,
    uint8_t *out, struct diag *d)
{
	const struct fmt_uzip_cluster *c = &u->cl[r];
	uint32_t bs = u->hdr.blksz;
	const char *why;
	size_t got = 0;
	int error;

	if ((error = bdev_read(u->b.lower, x->cbuf, c->len, c->off, d)) != 0)
		return (diag_prefix(d, "cluster %u: ", ci));
	if (u->hashes != NULL && (error = uz_verify(u, x, ci, r, d)) != 0)
		return (error);
	if (u->codec->decompress(x->dx, x->cbuf, c->len, out, bs, &got,
	    &why) != 0)
		return (uz_corrupt(u, ci, why, d));
	if (got < bs)
		memset(out + got, 0, bs - got);
	return (0);
}

/* --- cache (all under u->mtx) ------------------------------------------- */

static unsigned
uz_h(struct bdev_uzip *u, uint32_t idx)
{
	return ((idx * 2654435761u) & u->hmask);
}

static struct uz_slot *
uz_lookup(struct bdev_uzip *u, uint32_t idx)
{
	struct uz_slot *s;

	for (s = u->hash[uz_h(u, idx)]; s != NULL; s = s->hnext)
		if (s->idx == idx && s->state != SLOT_EMPTY)
			return (s);
	return (NULL);
}

static void
uz_hash_remove(struct bdev_uzip *u, struct uz_slot *s)
{
	struct uz_slot **pp;

	for (pp = &u->hash[uz_h(u, s->idx)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	s->hnext = NULL;
}

static void
uz_touch(struct bdev_uzip *u, struct uz_slot *s)
{
	if (u->head == s)
		return;
	/* unlink */
	if (s->prev != NULL)
		s->prev->next = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	if (u->tail == s)
		u->tail = s->prev;
	/* push front */
	s->prev = NULL;
	s->next = u->head;
	if (u->head != NULL)
		u->head->prev = s;
	u->head = s;
	if (u->tail == NULL)
		u->tail = s;
}

/* Takes the least recently used free slot for idx, or NULL. */
static struct uz_slot *
uz_claim(struct bdev_uzip *u, uint32_t idx, int state)
{
	struct uz_slot *s;

	for (s = u->tail; s != NULL; s = s->prev)
		if (s->pins == 0 && (s->state == SLOT_EMPTY ||
		    s->state == SLOT_READY))
			break;
	if (s == NULL)
		return (NULL);
	if (s->state != SLOT_EMPTY)
		uz_hash_remove(u, s);
	s->idx = idx;
	s->state = state;
	s->hnext = u->hash[uz_h(u, idx)];
	u->hash[uz_h(u, idx)] = s;
	uz_touch(u, s);
	return (s);
}

static void
uz_fail_slot(struct bdev_uzip *u, struct uz_slot *s)
{
	uz_hash_remove(u, s);
	s->state = SLOT_EMPTY;
}

/* Queues read-ahead of clusters [from, to). */
static void
uz_readahead(struct bdev_uzip *u, uint64_t from, uint64_t to)
{
	struct uz_slot *s;
	uint32_t r;
	uint64_t i;

	if (to > u->hdr.nblocks)
		to = u->hdr.nblocks;
	for (i = from; i < to; i++) {
		if (u->jcount == u->njobs)
			break;
		if (u->cl[i].kind == FMT_UZIP_ZERO)
			continue;
		r = u->cl[i].ref;
		if (uz_lookup(u, r) != NULL)
			continue;
		if ((s = uz_claim(u, r, SLOT_QUEUED)) == NULL)
			break;
		u->jobs[(u->jhead + u->jcount) % u->njobs] =
		    (struct uz_job){ s, r };
		u->jcount++;
		pthread_cond_signal(&u->wcv);
	}
	if (i > u->ra_next)
		u->ra_next = i;
}

static void *
uz_worker(void *arg)
{
	struct bdev_uzip *u = arg;
	struct uz_dec *x;
	struct uz_job j;
	struct diag d;
	int error;

	x = uz_dec_new(u);
	pthread_mutex_lock(&u->mtx);
	while (!u->stop) {
		if (u->jcount == 0) {
			pthread_cond_wait(&u->wcv, &u->mtx);
			continue;
		}
		j = u->jobs[u->jhead];
		u->jhead = (u->jhead + 1) % u->njobs;
		u->jcount--;
		if (j.slot->state != SLOT_QUEUED || j.slot->idx != j.idx)
			continue;
		if (x == NULL) {
			uz_fail_slot(u, j.slot);
			pthread_cond_broadcast(&u->cv);
			continue;
		}
		j.slot->state = SLOT_LOADING;
		j.slot->pins++;
		pthread_mutex_unlock(&u->mtx);
		error = uz_decompress(u, x, j.idx, j.idx, j.slot->data, &d);
		pthread_mutex_lock(&u->mtx);
		j.slot->pins--;
		if (error != 0)
			uz_fail_slot(u, j.slot);
		else {
			j.slot->state = SLOT_READY;
			u->st.readahead++;
		}
		pthread_cond_broadcast(&u->cv);
	}
	pthread_mutex_unlock(&u->mtx);
	uz_dec_free(u, x);
	return (NULL);
}

/* Copies n bytes at co of cluster ci into dst. */
static int
uz_get(struct bdev_uzip *u, uint32_t ci, uint8_t *dst, uint32_t co,
    uint32_t n, struct diag *d)
{
	struct uz_slot *s;
	struct uz_dec *x;
	uint32_t r;
	int error;

	if (u->cl[ci].kind == FMT_UZIP_ZERO) {
		memset(dst, 0, n);
		__atomic_fetch_add(&u->st.zero, 1, __ATOMIC_RELAXED);
		return (0);
	}
	r = u->cl[ci].ref;
	pthread_mutex_lock(&u->mtx);
	for (;;) {
		s = uz_lookup(u, r);
		if (s != NULL && s->state == SLOT_READY) {
			s->pins++;
			uz_touch(u, s);
			u->st.hits++;
			pthread_mutex_unlock(&u->mtx);
			memcpy(dst, s->data + co, n);
			pthread_mutex_lock(&u->mtx);
			s->pins--;
			pthread_mutex_unlock(&u->mtx);
			return (0);
		}
		if (s != NULL && s->state == SLOT_QUEUED && n == u->hdr.blksz) {
			uz_fail_slot(u, s);	/* unqueue: read it directly */
			s = NULL;
			break;
		}
		if (s != NULL && s->state == SLOT_QUEUED) {
			s->state = SLOT_LOADING;
			break;
		}
		if (s != NULL) {		/* LOADING elsewhere */
			u->st.waits++;
			pthread_cond_wait(&u->cv, &u->mtx);
			continue;
		}
		if (n == u->hdr.blksz)		/* whole cluster: no slot */
			break;
		if ((s = uz_claim(u, r, SLOT_LOADING)) != NULL)
			break;
		pthread_cond_wait(&u->cv, &u->mtx);
	}
	u->st.misses++;
	if (s == NULL) {
		/*
		 * The reader wants the whole cluster and nobody holds it:
		 * decompress straight into its buffer, saving a copy (a
		 * sequential stream reads each cluster once).
		 */
		pthread_mutex_unlock(&u->mtx);
		if ((x = uz_dec_get(u)) == NULL)
			return (diag_set(d, ENOMEM, "out of memory for a %s "
			    "decompressor", fmt_uzip_codec_name(u->hdr.codec)));
		error = uz_decompress(u, x, ci, r, dst, d);
		uz_dec_put(u, x);
		return (error);
	}
	s->pins++;
	pthread_mutex_unlock(&u->mtx);

	if ((x = uz_dec_get(u)) == NULL)
		error = diag_set(d, ENOMEM, "out of memory for a %s "
		    "decompressor", fmt_uzip_codec_name(u->hdr.codec));
	else {
		error = uz_decompress(u, x, ci, r, s->data, d);
		uz_dec_put(u, x);
	}
	if (error == 0)
		memcpy(dst, s->data + co, n);

	pthread_mutex_lock(&u->mtx);
	s->pins--;
	if (error != 0)
		uz_fail_slot(u, s);
	else
		s->state = SLOT_READY;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mtx);
	return (error);
}

static int
uzip_read(struct bdev *b, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	struct bdev_uzip *u = (struct bdev_uzip *)b;
	uint8_t *p = buf;
	uint64_t first, last, ci;
	uint32_t bs = u->hdr.blksz, co, n;
	int error;

	if (len == 0)
		return (0);
	first = off / bs;
	last = (off + len - 1) / bs;
	if (u->nthr > 0) {
		pthread_mutex_lock(&u->mtx);
		if (first == u->prev_last || first + 1 == u->prev_last) {
			if (u->ra_next < last + 1)
				u->ra_next = last + 1;
			/* Top the window up once half of it is consumed. */
			if (u->ra_next < last + 1 + u->ra / 2)
				uz_readahead(u, u->ra_next, last + 1 + u->ra);
		} else
			u->ra_next = 0;
		u->prev_last = last + 1;
		pthread_mutex_unlock(&u->mtx);
	}
	while (len > 0) {
		ci = off / bs;
		co = (uint32_t)(off % bs);
		n = (uint32_t)LR_MIN((uint64_t)len, (uint64_t)(bs - co));
		if ((error = uz_get(u, (uint32_t)ci, p, co, n, d)) != 0)
			return (error);
		p += n;
		off += n;
		len -= n;
	}
	return (0);
}

static void
uzip_destroy(struct bdev *b)
{
	struct bdev_uzip *u = (struct bdev_uzip *)b;
	struct uz_dec *x;
	unsigned i;

	if (u->thr != NULL) {
		pthread_mutex_lock(&u->mtx);
		u->stop = 1;
		pthread_cond_broadcast(&u->wcv);
		pthread_mutex_unlock(&u->mtx);
		for (i = 0; i < u->nthr; i++)
			pthread_join(u->thr[i], NULL);
		free(u->thr);
	}
	while ((x = u->decfree) != NULL) {
		u->decfree = x->next;
		uz_dec_free(u, x);
	}
	if (u->slots != NULL)
		for (i = 0; i < u->nslots; i++)
			free(u->slots[i].data);
	free(u->slots);
	free(u->hash);
	free(u->jobs);
	free(u->cl);
	free(u->hbuf);
	free(u->hname);
	pthread_cond_destroy(&u->cv);
	pthread_cond_destroy(&u->wcv);
	pthread_mutex_destroy(&u->mtx);
	free(u);
}

static const struct bdev_ops uzip_ops = {
	.name = "uzip",
	.read = uzip_read,
	.destroy = uzip_destroy,
};

/* --- the hashes file ----------------------------------------------------- */

/* Reads exactly `want` bytes of the hashes file at path into *out. */
static int
uz_hashes_read(const char *path, const char *image, uint32_t n,
    uint64_t want, uint8_t **out, struct diag *d)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t got;
	ssize_t r;
	int fd, error = 0;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "%s: cannot open the hashes file of "
		    "%s: %s", path, image, strerror(errno)));
	if (fstat(fd, &sb) != 0) {
		error = diag_set(d, errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != want) {
		error = diag_set(d, EINVAL, "%s is %ju bytes, but %s has %u "
		    "clusters, whose hashes file is exactly %ju bytes: it is "
		    "truncated, or the hashes of another image; rewrite it "
		    "with 'liveroot uzip hashes %s'", path,
		    (uintmax_t)sb.st_size, image, n, (uintmax_t)want, image);
		goto out;
	}
	if ((buf = malloc(want)) == NULL) {
		error = diag_set(d, ENOMEM, "%s: out of memory for %ju bytes",
		    path, (uintmax_t)want);
		goto out;
	}
	for (got = 0; got < want; got += (size_t)r) {
		r = pread(fd, buf + got, want - got, (off_t)got);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0) {
			error = diag_set(d, r < 0 ? errno : EIO, "%s: read "
			    "failed: %s", path, r < 0 ? strerror(errno) :
			    "the file shrank");
			goto out;
		}
	}
	*out = buf;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return (error);
}

/*
 * Loads and parses the hashes file of o (u's header is parsed): its
 * cluster count and image size must be the image's.  Keeps the header+TOC
 * hash and the cluster hashes in u->hbuf.
 */
static int
uz_hashes_load(struct bdev_uzip *u, const struct bdev_uzip_opts *o,
    struct bdev *lower, struct diag *d)
{
	struct fmt_uzhash h;
	const uint8_t *buf;
	uint8_t *fbuf = NULL;
	const char *name;
	uint64_t want = fmt_uzhash_size(u->hdr.nblocks);
	size_t len;
	int error;

	name = o->hashes_path != NULL ? o->hashes_path : (o->hashes_name !=
	    NULL ? o->hashes_name : "the hashes file");
	if ((u->hname = strdup(name)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if (o->hashes_path != NULL) {
		if ((error = uz_hashes_read(o->hashes_path, lower->desc,
		    u->hdr.nblocks, want, &fbuf, d)) != 0)
			return (error);
		buf = fbuf;
		len = (size_t)want;
	} else {
		buf = o->hashes;
		len = o->hashes_len;
	}
	if ((error = fmt_uzhash_parse(buf, len, &h, d)) != 0) {
		diag_prefix(d, "%s: ", name);
		goto out;
	}
	if (h.nclusters != u->hdr.nblocks || h.image_size != lower->size) {
		error = diag_set(d, EINVAL, "%.120s is the hashes file of an "
		    "image of %u clusters and %ju bytes, but %.120s has %u "
		    "clusters and %ju bytes: give the hashes file of this "
		    "image", name, h.nclusters, (uintmax_t)h.image_size,
		    lower->desc, u->hdr.nblocks, (uintmax_t)lower->size);
		goto out;
	}
	/* One buffer: the header+TOC hash, then the cluster hashes. */
	if ((u->hbuf = malloc((size_t)want - FMT_UZHASH_HDRLEN +
	    FMT_UZHASH_LEN)) == NULL) {
		error = diag_set(d, ENOMEM, "%s: out of memory for the hashes "
		    "of %u clusters", name, h.nclusters);
		goto out;
	}
	memcpy(u->hbuf, h.head, FMT_UZHASH_LEN);
	memcpy(u->hbuf + FMT_UZHASH_LEN, h.clusters,
	    (size_t)h.nclusters * FMT_UZHASH_LEN);
	u->hashes = u->hbuf + FMT_UZHASH_LEN;
out:
	free(fbuf);
	return (error);
}

/* The header+TOC bytes of the image against the hashes file. */
static int
uz_hashes_head(struct bdev_uzip *u, const uint8_t *hb, const uint8_t *toc,
    struct bdev *lower, struct diag *d)
{
	struct os_sha256 *sh;
	uint8_t got[OS_SHA256_LEN];
	const uint8_t *want = u->hbuf;
	char gh[2 * OS_SHA256_LEN + 1], wh[2 * OS_SHA256_LEN + 1];
	int error;

	if (os_sha256_new(&sh) != 0)
		return (diag_set(d, ENOMEM, "out of memory"));
	error = os_sha256_update(sh, hb, FMT_UZIP_HDRLEN);
	if (error == 0)
		error = os_sha256_update(sh, toc, u->hdr.toc_len);
	if (error == 0)
		error = os_sha256_final(sh, got);
	os_sha256_free(sh);
	if (error != 0)
		return (diag_set(d, EIO, "%s: SHA-256 failed (libcrypto)",
		    lower->desc));
	if (memcmp(got, want, OS_SHA256_LEN) == 0)
		return (0);
	os_hex(got, OS_SHA256_LEN, gh);
	os_hex(want, OS_SHA256_LEN, wh);
	return (diag_set(d, EINVAL, "%.55s does not match %.55s: its header "
	    "and TOC have sha256 %s, the hashes file says %s: the hashes of "
	    "another image, or the image was changed", u->hname, lower->desc,
	    gh, wh));
}

/* Zero clusters carry the hash of nothing, back-references their target's. */
static int
uz_hashes_table(struct bdev_uzip *u, struct bdev *lower, struct diag *d)
{
	uint8_t empty[OS_SHA256_LEN];
	const uint8_t *hi, *want;
	uint32_t i;

	if (os_sha256_buf("", 0, empty) != 0)
		return (diag_set(d, EIO, "SHA-256 failed (libcrypto)"));
	for (i = 0; i < u->hdr.nblocks; i++) {
		hi = u->hashes + (size_t)i * FMT_UZHASH_LEN;
		if (u->cl[i].kind == FMT_UZIP_ZERO)
			want = empty;
		else if (u->cl[i].kind == FMT_UZIP_BACKREF)
			want = u->hashes + (size_t)u->cl[i].ref *
			    FMT_UZHASH_LEN;
		else
			continue;
		if (memcmp(hi, want, OS_SHA256_LEN) != 0)
			return (diag_set(d, EINVAL, "%.120s does not match "
			    "%.120s: cluster %u is %s, but its hash is not "
			    "%s: the hashes file is corrupt; rewrite it with "
			    "'liveroot uzip hashes'", u->hname, lower->desc, i,
			    u->cl[i].kind == FMT_UZIP_ZERO ? "a zero cluster" :
			    "a back-reference", u->cl[i].kind ==
			    FMT_UZIP_ZERO ? "the hash of nothing" :
			    "its target's"));
	}
	return (0);
}

static unsigned
uz_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return (n < 1 ? 1 : (unsigned)n);
}

int
bdev_uzip_new(struct bdev *lower, const struct bdev_uzip_opts *o,
    struct bdev **out, struct diag *d)
{
	struct bdev_uzip *u;
	uint8_t hb[FMT_UZIP_HDRLEN];
	uint8_t *toc = NULL;
	uint64_t isz = lower->size;
	unsigned i, hs;
	int error;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	pthread_mutex_init(&u->mtx, NULL);
	pthread_cond_init(&u->cv, NULL);
	pthread_cond_init(&u->wcv, NULL);
	u->b.lower = NULL;
	if (isz < FMT_UZIP_HDRLEN) {
		error = diag_set(d, EINVAL, "%s: %ju bytes is too short for "
		    "a uzip image (header is %u bytes): the image is "
		    "truncated", lower->desc, (uintmax_t)isz, FMT_UZIP_HDRLEN);
		goto fail;
	}
	if ((error = bdev_read(lower, hb, sizeof(hb), 0, d)) != 0)
		goto fail;
	if ((error = fmt_uzip_header(hb, sizeof(hb), isz, &u->hdr, d)) != 0) {
		diag_prefix(d, "%s: ", lower->desc);
		goto fail;
	}
	if (o != NULL && (o->hashes_path != NULL || o->hashes != NULL) &&
	    (error = uz_hashes_load(u, o, lower, d)) != 0)
		goto fail;
	if ((toc = malloc(u->hdr.toc_len)) == NULL ||
	    (u->cl = calloc(u->hdr.nblocks, sizeof(*u->cl))) == NULL) {
		error = diag_set(d, ENOMEM, "%s: out of memory for a TOC of "
		    "%u clusters", lower->desc, u->hdr.nblocks);
		goto fail;
	}
	if ((error = bdev_read(lower, toc, u->hdr.toc_len, u->hdr.toc_off,
	    d)) != 0)
		goto fail;
	if (u->hashes != NULL && (error = uz_hashes_head(u, hb, toc, lower,
	    d)) != 0)
		goto fail;
	if ((error = fmt_uzip_toc(&u->hdr, toc, u->hdr.toc_len, isz, u->cl,
	    &u->info, d)) != 0) {
		diag_prefix(d, "%s: ", lower->desc);
		goto fail;
	}
	if (u->hashes != NULL && (error = uz_hashes_table(u, lower, d)) != 0)
		goto fail;
	free(toc);
	toc = NULL;
	if ((u->codec = lr_codec_by_id(u->hdr.codec)) == NULL) {
		error = diag_set(d, EINVAL, "%s: uzip codec %s has no "
		    "decompressor here", lower->desc,
		    fmt_uzip_codec_name(u->hdr.codec));
		goto fail;
	}
	u->cbufsz = u->info.max_clen;

	u->workers = (o != NULL && o->workers > 0) ? o->workers :
	    LR_MIN(uz_ncpu(), 4u);
	u->nthr = u->workers > 1 ? u->workers : 0;
	u->ra = LR_MAX(4 * u->nthr, (2u << 20) / u->hdr.blksz);
	u->nslots = (o != NULL && o->cache_clusters > 0) ?
	    o->cache_clusters : LR_MAX(16u, (16u << 20) / u->hdr.blksz);
	if (u->nthr > 0 && u->nslots < 2 * u->ra + 4)
		u->ra = u->nslots > 8 ? (u->nslots - 4) / 2 : 0;
	if (u->ra == 0)
		u->nthr = 0;
	u->njobs = u->nslots * 2;
	for (hs = 1; hs < 2 * u->nslots; hs <<= 1)
		;
	u->hmask = hs - 1;
	if ((u->slots = calloc(u->nslots, sizeof(*u->slots))) == NULL ||
	    (u->hash = calloc(hs, sizeof(*u->hash))) == NULL ||
	    (u->jobs = calloc(u->njobs, sizeof(*u->jobs))) == NULL) {
		error = diag_set(d, ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < u->nslots; i++) {
		if ((u->slots[i].data = malloc(u->hdr.blksz)) == NULL) {
			error = diag_set(d, ENOMEM, "out of memory for a cache "
			    "of %u clusters of %u bytes", u->nslots,
			    u->hdr.blksz);
			goto fail;
		}
		u->slots[i].state = SLOT_EMPTY;
		uz_touch(u, &u->slots[i]);
	}
	u->prev_last = UINT64_MAX;
	if (u->nthr > 0) {
		if ((u->thr = calloc(u->nthr, sizeof(*u->thr))) == NULL) {
			error = diag_set(d, ENOMEM, "out of memory");
			goto fail;
		}
		for (i = 0; i < u->nthr; i++)
			if ((error = pthread_create(&u->thr[i], NULL,
			    uz_worker, u)) != 0) {
				u->nthr = i;
				diag_set(d, error, "cannot start a uzip "
				    "worker thread");
				goto fail;
			}
	}
	u->st.cache_clusters = u->nslots;
	u->st.workers = u->workers;
	u->st.hashes = u->hashes != NULL;
	bdev_init(&u->b, &uzip_ops, u->hdr.size, 512, 1, lower, "uzip(%s)",
	    lower->desc);
	*out = &u->b;
	return (0);
fail:
	free(toc);
	uzip_destroy(&u->b);
	return (error);
}

int
bdev_uzip_stats(struct bdev *b, struct bdev_uzip_stats *st)
{
	struct bdev_uzip *u = (struct bdev_uzip *)b;

	if (b == NULL || b->ops != &uzip_ops)
		return (EINVAL);
	pthread_mutex_lock(&u->mtx);
	*st = u->st;
	st->zero = __atomic_load_n(&u->st.zero, __ATOMIC_RELAXED);
	st->verified = __atomic_load_n(&u->st.verified, __ATOMIC_RELAXED);
	st->hash_bad = __atomic_load_n(&u->st.hash_bad, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&u->mtx);
	return (0);
}

int
bdev_uzip_info(struct bdev *b, struct fmt_uzip_hdr *hdr,
    struct fmt_uzip_tocinfo *info)
{
	struct bdev_uzip *u = (struct bdev_uzip *)b;

	if (b == NULL || b->ops != &uzip_ops)
		return (EINVAL);
	if (hdr != NULL)
		*hdr = u->hdr;
	if (info != NULL)
		*info = u->info;
	return (0);
}

const struct fmt_uzip_cluster *
bdev_uzip_clusters(struct bdev *b)
{
	if (b == NULL || b->ops != &uzip_ops)
		return (NULL);
	return (((struct bdev_uzip *)b)->cl);
}
