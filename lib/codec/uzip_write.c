/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uzip_write.c - the uzip writer (mkuzip's twin).
 *
 * Pipeline over a ring of K slots (K = 4 * jobs, or o->readahead's worth),
 * cluster i in slot i % K:
 *   reader thread  FREE -> FILLED   reads cluster i (last one zero-padded)
 *   jobs workers   FILLED -> DONE   claim the next index, compress it (or
 *                                   elide it as a zero cluster), hash it
 *   caller thread  DONE -> FREE     in index order: dedup lookup, append to
 *                                   an 8 MiB write buffer, record the TOC
 * so reading, compressing and writing overlap.  One mutex and one condition
 * variable (broadcast on every state change) guard the ring; the work on a
 * slot runs unlocked by the one thread that owns its state.  Each worker
 * has its own compressor from the codec table (codec.h).
 *
 * Dedup: a 64-bit hash of the compressed bytes finds candidates in an open-
 * addressing table; a candidate is taken only when its bytes compare equal
 * (memcmp against the write buffer or a pread of the output) and it is not
 * the immediately previous written cluster (that back-reference would read
 * as a zero cluster; see lib/fmt/uzip.c).  Identical compressed bytes
 * decompress to identical clusters, so the check is exact.
 *
 * Hashes (o->hashes_path, IMAGE.hashes: fmt_uzip_hashes.h): each worker
 * also takes the SHA-256 of the compressed bytes it made, the writer files
 * it under the cluster's index as it emits it (a back-reference copies
 * its target's, a zero cluster has the hash of nothing), and the end
 * hashes the header and the TOC from memory, so the image is never read
 * back.  One correction there: before version 4 a reader ends the last
 * non-back-reference cluster at the image size, so that cluster's hash
 * covers the padding too (at most up to the codec's bound, as the reader
 * trims it); its bytes are still in the write buffer then.  The hashes
 * file is written (os_atomic_write) before the image takes its name.
 *
 * Output goes to "OUT.XXXXXX" beside OUT and is renamed at the end; a
 * failure unlinks it.  The library installs no signal handler: the first
 * uzip_write() running in the process publishes its temporary name, and a
 * caller's handler removes it with uzip_write_remove_partial().
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/fs.h>
#endif
#ifdef __FreeBSD__
#include <sys/disk.h>
#endif

#include <liveroot/codec.h>
#include <liveroot/fmt_uzip_hashes.h>
#include <liveroot/os.h>
#include <liveroot/uzip_write.h>
#include <liveroot/util.h>

enum { WS_FREE, WS_FILLED, WS_BUSY, WS_DONE };

#define UW_WBUF		(8u << 20)
#define UW_MAXJOBS	24

struct uw_slot {
	int		 state;
	uint64_t	 idx;
	uint8_t		*in;
	uint8_t		*out;
	size_t		 outlen;
	uint64_t	 hash;
	uint8_t		 sha[OS_SHA256_LEN];	/* with hashes_path */
};

struct uw_ent {
	uint64_t	hash;		/* 0 = empty */
	uint64_t	off;
	uint64_t	idx;		/* the cluster first written there */
	uint32_t	len;
};

struct uw {
	const struct uzip_write_opts *o;
	const struct lr_codec *codec;
	int		 level;
	unsigned	 jobs;
	uint32_t	 bs;
	uint64_t	 isize;
	uint64_t	 n;
	int		 ifd, ofd;
	const char	*iname, *oname;
	char		 tmpname[PATH_MAX];
	int		 tmp_made;	/* tmpname exists and is ours */
	int		 published;	/* tmpname is uw_partial */
	size_t		 outcap;
	uint8_t		 hdr[FMT_UZIP_HDRLEN];

	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	struct uw_slot	*slots;
	unsigned	 k;
	uint64_t	 next_comp;
	int		 abort;
	int		 error;
	struct diag	 ed;

	uint8_t		*wbuf;
	size_t		 wlen;
	uint64_t	 woff;		/* file offset of wbuf[0] */
	uint64_t	 cur;		/* file offset of the next cluster */
	uint64_t	 last_off;	/* offset of the last cluster written */
	uint64_t	*toc;
	uint64_t	 last_norm;	/* last cluster that is not a back-ref */
	int		 last_norm_zero;

	struct uw_ent	*ht;
	size_t		 htcap, htn;
	uint8_t		*cmpbuf;
	uint8_t		*hfile;		/* the hashes file being built, or NULL */
	uint8_t		*hashes;	/* hfile's cluster hashes */
};

/* --- the partial output, for a caller's signal handler -------------------- */

static char uw_partial[PATH_MAX];
static volatile sig_atomic_t uw_partial_set;	/* uw_partial is to remove */
static int uw_partial_owned;			/* a uzip_write() holds it */

void
uzip_write_remove_partial(void)
{
	if (uw_partial_set)
		unlink(uw_partial);
}

static void
uw_publish(struct uw *w)
{
	if (__atomic_exchange_n(&uw_partial_owned, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	memcpy(uw_partial, w->tmpname, sizeof(uw_partial));
	__atomic_store_n(&uw_partial_set, 1, __ATOMIC_SEQ_CST);
	w->published = 1;
}

static void
uw_unpublish(struct uw *w)
{
	if (!w->published)
		return;
	__atomic_store_n(&uw_partial_set, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&uw_partial_owned, 0, __ATOMIC_RELEASE);
	w->published = 0;
}

/* --- helpers ------------------------------------------------------------ */

int
uzip_write_default_level(int codec)
{
	const struct lr_codec *c = lr_codec_by_id(codec);

	return (c != NULL ? c->def_level : 9);
}

static void	uw_note(struct uw *w, const char *fmt, ...) LR_PRINTF(2, 3);

/* One -v line to the caller's verbose callback. */
static void
uw_note(struct uw *w, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (w->o->verbose == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	w->o->verbose(line, w->o->arg);
}

static uint64_t
uw_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	return (h != 0 ? h : 1);
}

static void
uw_fail(struct uw *w, int error, const struct diag *d)
{
	pthread_mutex_lock(&w->mtx);
	if (w->error == 0) {
		w->error = error;
		if (d != NULL)
			w->ed = *d;
	}
	w->abort = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mtx);
}

static int
uw_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	ssize_t r;

	while (len > 0) {
		r = pwrite(fd, p, len, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return (errno);
		}
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return (0);
}

/* --- reader thread ------------------------------------------------------- */

static void *
uw_reader(void *arg)
{
	struct uw *w = arg;
	struct uw_slot *s;
	struct diag d;
	uint64_t i, off;
	size_t want, got;
	ssize_t r;
	int ab;

	for (i = 0; i < w->n; i++) {
		s = &w->slots[i % w->k];
		pthread_mutex_lock(&w->mtx);
		while (!w->abort && s->state != WS_FREE)
			pthread_cond_wait(&w->cv, &w->mtx);
		ab = w->abort;
		pthread_mutex_unlock(&w->mtx);
		if (ab)
			return (NULL);
		off = i * w->bs;
		want = (size_t)LR_MIN((uint64_t)w->bs, w->isize - off);
		if (w->o->in_read != NULL) {
			diag_clear(&d);
			if (w->o->in_read(w->o->in_arg, s->in, want, off,
			    &d) != 0) {
				diag_prefix(&d, "%s: ", w->iname);
				uw_fail(w, d.code ? d.code : EIO, &d);
				return (NULL);
			}
		}
		for (got = w->o->in_read != NULL ? want : 0; got < want;
		    got += (size_t)r) {
			r = pread(w->ifd, s->in + got, want - got,
			    (off_t)(off + got));
			if (r < 0 && errno == EINTR) {
				r = 0;
				continue;
			}
			if (r <= 0) {
				diag_set(&d, r < 0 ? errno : EIO, "%s: read at "
				    "offset %ju failed: %s", w->iname,
				    (uintmax_t)(off + got), r < 0 ?
				    strerror(errno) : "the input shrank while "
				    "being compressed");
				uw_fail(w, d.code, &d);
				return (NULL);
			}
		}
		if (want < w->bs)
			memset(s->in + want, 0, w->bs - want);
		pthread_mutex_lock(&w->mtx);
		s->idx = i;
		s->state = WS_FILLED;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mtx);
	}
	return (NULL);
}

/* --- compression workers ------------------------------------------------- */

/*
 * Compresses slot s with the compressor cx, or elides it as a zero cluster
 * (outlen 0) unless force or -Z.
 */
static int
uw_compress(struct uw *w, void *cx, struct uw_slot *s, int force,
    struct diag *d)
{
	uint64_t max;
	int error;

	if (!force && !w->o->no_zero_elide && lr_is_zero(s->in, w->bs)) {
		s->outlen = 0;
		return (0);
	}
	if ((error = w->codec->compress(cx, s->in, w->bs, s->out, w->outcap,
	    &s->outlen, s->idx, d)) != 0)
		return (error);
	max = fmt_uzip_max_clen(w->codec->id, w->bs);
	if (s->outlen > max)
		return (diag_set(d, EIO, "cluster %ju compressed to %zu bytes, "
		    "more than geom_uzip accepts for %u-byte %s clusters "
		    "(%ju): use a larger cluster size", (uintmax_t)s->idx,
		    s->outlen, w->bs, w->codec->name, (uintmax_t)max));
	if (w->o->dedup)
		s->hash = uw_hash(s->out, s->outlen);
	return (0);
}

/* s->sha: the SHA-256 of s's compressed bytes (nothing for a zero cluster). */
static int
uw_sha(struct os_sha256 *sh, struct uw_slot *s, struct diag *d)
{
	if (os_sha256_reset(sh) != 0 ||
	    os_sha256_update(sh, s->out, s->outlen) != 0 ||
	    os_sha256_final(sh, s->sha) != 0)
		return (diag_set(d, EIO, "SHA-256 failed (libcrypto)"));
	return (0);
}

static void *
uw_worker(void *arg)
{
	struct uw *w = arg;
	struct uw_slot *s;
	struct os_sha256 *sh = NULL;
	struct diag d;
	uint64_t i;
	void *cx;
	int error;

	if (w->hashes != NULL && os_sha256_new(&sh) != 0) {
		uw_fail(w, diag_set(&d, ENOMEM, "out of memory for a SHA-256 "
		    "context"), &d);
		return (NULL);
	}
	if ((error = w->codec->cnew(&cx, w->level, w->bs, &d)) != 0) {
		os_sha256_free(sh);
		uw_fail(w, error, &d);
		return (NULL);
	}
	pthread_mutex_lock(&w->mtx);
	for (;;) {
		if (w->abort || w->next_comp >= w->n)
			break;
		i = w->next_comp++;
		s = &w->slots[i % w->k];
		while (!w->abort && !(s->state == WS_FILLED && s->idx == i))
			pthread_cond_wait(&w->cv, &w->mtx);
		if (w->abort)
			break;
		s->state = WS_BUSY;
		pthread_mutex_unlock(&w->mtx);
		error = uw_compress(w, cx, s, 0, &d);
		if (error == 0 && sh != NULL)
			error = uw_sha(sh, s, &d);
		if (error != 0) {
			uw_fail(w, error, &d);
			pthread_mutex_lock(&w->mtx);
			break;
		}
		pthread_mutex_lock(&w->mtx);
		s->state = WS_DONE;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mtx);
	w->codec->cfree(cx);
	os_sha256_free(sh);
	return (NULL);
}

/* --- writer (the calling thread) ------------------------------------------ */

static int
uw_flush(struct uw *w, struct diag *d)
{
	int error;

	if (w->wlen == 0)
		return (0);
	if ((error = uw_pwrite_all(w->ofd, w->wbuf, w->wlen, w->woff)) != 0)
		return (diag_set(d, error, "%s: write failed: %s", w->oname,
		    strerror(error)));
	w->woff += w->wlen;
	w->wlen = 0;
	return (0);
}

static int
uw_append(struct uw *w, const void *p, size_t len, struct diag *d)
{
	int error;

	if (w->wlen + len > UW_WBUF && (error = uw_flush(w, d)) != 0)
		return (error);
	memcpy(w->wbuf + w->wlen, p, len);
	w->wlen += len;
	return (0);
}

static int
uw_ht_grow(struct uw *w)
{
	struct uw_ent *old = w->ht, *nt;
	size_t oc = w->htcap, nc = oc ? oc * 2 : 1024, i, j;

	if ((nt = calloc(nc, sizeof(*nt))) == NULL)
		return (ENOMEM);
	for (i = 0; i < oc; i++) {
		if (old[i].hash == 0)
			continue;
		for (j = old[i].hash & (nc - 1); nt[j].hash != 0;
		    j = (j + 1) & (nc - 1))
			;
		nt[j] = old[i];
	}
	free(old);
	w->ht = nt;
	w->htcap = nc;
	return (0);
}

/* Bytes [off, off+len) of the output equal p?  They are in wbuf or on disk. */
static int
uw_same(struct uw *w, uint64_t off, const uint8_t *p, size_t len)
{
	size_t got;
	ssize_t r;

	if (off >= w->woff)
		return (memcmp(w->wbuf + (off - w->woff), p, len) == 0);
	if (off + len > w->woff)	/* straddles the flush point */
		return (0);
	for (got = 0; got < len; got += (size_t)r) {
		r = pread(w->ofd, w->cmpbuf + got, len - got,
		    (off_t)(off + got));
		if (r <= 0)
			return (0);
	}
	return (memcmp(w->cmpbuf, p, len) == 0);
}

/* The entry of an earlier cluster with s's compressed bytes, or NULL. */
static const struct uw_ent *
uw_dedup_find(struct uw *w, const struct uw_slot *s)
{
	size_t j;

	if (!w->o->dedup || w->htcap == 0)
		return (NULL);
	for (j = s->hash & (w->htcap - 1); w->ht[j].hash != 0;
	    j = (j + 1) & (w->htcap - 1))
		if (w->ht[j].hash == s->hash && w->ht[j].len == s->outlen &&
		    w->ht[j].off != w->last_off &&
		    uw_same(w, w->ht[j].off, s->out, s->outlen))
			return (&w->ht[j]);
	return (NULL);
}

static int
uw_dedup_add(struct uw *w, const struct uw_slot *s, struct diag *d)
{
	size_t j;

	if (!w->o->dedup)
		return (0);
	if (2 * (w->htn + 1) > w->htcap && uw_ht_grow(w) != 0)
		return (diag_set(d, ENOMEM, "out of memory for the dedup "
		    "table"));
	for (j = s->hash & (w->htcap - 1); w->ht[j].hash != 0;
	    j = (j + 1) & (w->htcap - 1))
		;
	w->ht[j] = (struct uw_ent){ s->hash, w->cur, s->idx,
	    (uint32_t)s->outlen };
	w->htn++;
	return (0);
}

/* Records cluster s in the TOC: a zero cluster, a back-reference or data. */
static int
uw_emit(struct uw *w, struct uw_slot *s, struct uzip_write_stats *st,
    struct diag *d)
{
	const struct uw_ent *hit;
	int error;

	if (w->hashes != NULL)
		memcpy(w->hashes + s->idx * OS_SHA256_LEN, s->sha,
		    OS_SHA256_LEN);
	if (s->outlen == 0) {
		w->toc[s->idx] = w->cur;
		w->last_norm = s->idx;
		w->last_norm_zero = 1;
		st->zero_clusters++;
		uw_note(w, "cluster #%ju, in %u bytes, out len=0 offset=%ju",
		    (uintmax_t)s->idx, w->bs, (uintmax_t)w->cur);
		return (0);
	}
	if ((hit = uw_dedup_find(w, s)) != NULL) {
		w->toc[s->idx] = hit->off;
		if (w->hashes != NULL)	/* the same bytes: the same hash */
			memcpy(w->hashes + s->idx * OS_SHA256_LEN,
			    w->hashes + hit->idx * OS_SHA256_LEN,
			    OS_SHA256_LEN);
		st->dedup_clusters++;
		uw_note(w, "cluster #%ju, in %u bytes, out len=0 offset=%ju "
		    "(backref'ed to #%ju)", (uintmax_t)s->idx, w->bs,
		    (uintmax_t)hit->off, (uintmax_t)hit->idx);
		return (0);
	}
	if ((error = uw_append(w, s->out, s->outlen, d)) != 0)
		return (error);
	w->toc[s->idx] = w->cur;
	w->last_off = w->cur;
	w->last_norm = s->idx;
	w->last_norm_zero = 0;
	uw_note(w, "cluster #%ju, in %u bytes, out len=%zu offset=%ju",
	    (uintmax_t)s->idx, w->bs, s->outlen, (uintmax_t)w->cur);
	if ((error = uw_dedup_add(w, s, d)) != 0)
		return (error);
	w->cur += s->outlen;
	return (0);
}

/* --- setup ------------------------------------------------------------------ */

/*
 * Checks the options; sets the codec, level, thread count, output bound
 * and the header bytes (mkuzip's preamble; dedup: a lowercase letter and
 * at least version 3).
 */
static int
uw_options(struct uw *w, const struct uzip_write_opts *o, struct diag *d)
{
	long ncpu;
	int lo, hi;

	w->bs = o->blksz ? o->blksz : FMT_UZIP_DEFBLKSZ;
	if (w->bs % 512 != 0 || w->bs > FMT_UZIP_MAXBLKSZ)
		return (diag_set(d, EINVAL, "cluster size %u: must be a "
		    "multiple of 512 and at most %u", w->bs, FMT_UZIP_MAXBLKSZ));
	if ((w->codec = lr_codec_by_id(o->codec)) == NULL)
		return (diag_set(d, EINVAL, "unknown codec %d", o->codec));
	w->outcap = w->codec->bound(w->bs);
	w->level = o->level < 0 ? w->codec->def_level : o->level;
	w->codec->levels(&lo, &hi);
	if (w->level < lo || w->level > hi)
		return (diag_set(d, EINVAL, "%s level %d: must be %d to %d",
		    w->codec->name, w->level, lo, hi));
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	w->jobs = o->jobs ? o->jobs : (unsigned)(ncpu < 1 ? 1 : ncpu);
	if (w->jobs > UW_MAXJOBS && o->jobs == 0)
		w->jobs = UW_MAXJOBS;
	if (w->jobs > 256)
		w->jobs = 256;
	memcpy(w->hdr, w->codec->magic, strlen(w->codec->magic));
	if (o->dedup) {
		if (w->hdr[FMT_UZIP_OFS_VERSN] == '2')
			w->hdr[FMT_UZIP_OFS_VERSN] = '3';
		w->hdr[FMT_UZIP_OFS_COMPR] += 'a' - 'A';
	}
	return (0);
}

static int
uw_insize(struct uw *w, struct diag *d)
{
	struct stat sb;

	if (fstat(w->ifd, &sb) != 0)
		return (diag_set(d, errno, "%s: %s", w->iname,
		    strerror(errno)));
	if (S_ISREG(sb.st_mode)) {
		w->isize = (uint64_t)sb.st_size;
		return (0);
	}
#if defined(__linux__) && defined(BLKGETSIZE64)
	if (S_ISBLK(sb.st_mode) && ioctl(w->ifd, BLKGETSIZE64, &w->isize) == 0)
		return (0);
#endif
#if defined(__FreeBSD__)
	{
		off_t ms;

		if (S_ISCHR(sb.st_mode) &&
		    ioctl(w->ifd, DIOCGMEDIASIZE, &ms) == 0) {
			w->isize = (uint64_t)ms;
			return (0);
		}
	}
#endif
	return (diag_set(d, EINVAL, "%s: not a regular file or a block "
	    "device; give an image file or a disk", w->iname));
}

/* Opens the input, sizes it, and creates the temporary output. */
static int
uw_open(struct uw *w, struct diag *d)
{
	mode_t um;
	int error;

	if (w->o->in_read != NULL)		/* a stream of the caller's */
		w->isize = w->o->in_size;
	else if ((w->ifd = open(w->iname, O_RDONLY | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "%s: cannot open: %s", w->iname,
		    strerror(errno)));
	else if ((error = uw_insize(w, d)) != 0)
		return (error);
	w->n = lr_div_roundup(w->isize, w->bs);
	if (w->n > UINT32_MAX)
		return (diag_set(d, EFBIG, "%s: %ju bytes make more than 2^32 "
		    "clusters of %u bytes; use a larger cluster size",
		    w->iname, (uintmax_t)w->isize, w->bs));
#ifdef POSIX_FADV_SEQUENTIAL
	if (w->ifd >= 0)
		posix_fadvise(w->ifd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	if (snprintf(w->tmpname, sizeof(w->tmpname), "%s.XXXXXX",
	    w->oname) >= (int)sizeof(w->tmpname))
		return (diag_set(d, ENAMETOOLONG, "%s: name too long",
		    w->oname));
	if ((w->ofd = mkstemp(w->tmpname)) < 0)
		return (diag_set(d, errno, "%s: cannot create a file beside "
		    "it: %s", w->oname, strerror(errno)));
	w->tmp_made = 1;
	uw_publish(w);
	/* mkuzip's mode: the image is also a shell script. */
	um = umask(022);
	umask(um);
	fchmod(w->ofd, 0755 & ~um);
	return (0);
}

static int
uw_alloc(struct uw *w, struct diag *d)
{
	unsigned i;

	w->k = LR_MAX(4u, 4 * w->jobs);
	if (w->o->readahead / w->bs > w->k)	/* bounded: 64Ki slots */
		w->k = (unsigned)LR_MIN(w->o->readahead / w->bs, 65536u);
	if (w->k > w->n + 1 && w->n + 1 > 4 * (uint64_t)w->jobs)
		w->k = (unsigned)LR_MAX(w->n + 1, 4u);
	w->toc = calloc(w->n + 1, sizeof(*w->toc));
	w->wbuf = malloc(UW_WBUF);
	w->slots = calloc(w->k, sizeof(*w->slots));
	w->cmpbuf = malloc(w->outcap);
	if (w->toc == NULL || w->wbuf == NULL || w->slots == NULL ||
	    w->cmpbuf == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if (w->o->hashes_path != NULL) {
		if ((w->hfile = malloc((size_t)fmt_uzhash_size(
		    (uint32_t)w->n))) == NULL)
			return (diag_set(d, ENOMEM, "out of memory for the "
			    "hashes of %ju clusters", (uintmax_t)w->n));
		w->hashes = w->hfile + FMT_UZHASH_HDRLEN;
	}
	for (i = 0; i < w->k; i++)
		if ((w->slots[i].in = malloc(w->bs)) == NULL ||
		    (w->slots[i].out = malloc(w->outcap)) == NULL)
			return (diag_set(d, ENOMEM, "out of memory"));
	w->cur = FMT_UZIP_HDRLEN + (w->n + 1) * 8;
	w->woff = w->cur;
	w->last_off = UINT64_MAX;
	return (0);
}

/* --- the pipeline ------------------------------------------------------------ */

/* Emits the clusters in order as the workers finish them. */
static int
uw_drain(struct uw *w, struct uzip_write_stats *st, struct diag *d)
{
	const struct uzip_write_opts *o = w->o;
	struct uw_slot *s;
	uint64_t ci;
	int ab, error;

	for (ci = 0; ci < w->n; ci++) {
		s = &w->slots[ci % w->k];
		pthread_mutex_lock(&w->mtx);
		while (!w->abort && !(s->state == WS_DONE && s->idx == ci))
			pthread_cond_wait(&w->cv, &w->mtx);
		ab = w->abort;
		pthread_mutex_unlock(&w->mtx);
		if (ab)
			break;
		if ((error = uw_emit(w, s, st, d)) != 0)
			return (error);
		pthread_mutex_lock(&w->mtx);
		s->state = WS_FREE;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mtx);
		if (o->progress != NULL)
			o->progress(LR_MIN((ci + 1) * w->bs, w->isize),
			    w->isize, o->arg);
	}
	return (0);
}

/* Reads, compresses and emits every cluster; joins every thread it starts. */
static int
uw_pipeline(struct uw *w, struct uzip_write_stats *st, struct diag *d)
{
	pthread_t rthr, *thr;
	unsigned i, nthr = 0;
	int error = 0, rstarted = 0;

	if ((thr = calloc(w->jobs, sizeof(*thr))) == NULL) {
		error = diag_set(d, ENOMEM, "out of memory");
		goto join;
	}
	if ((error = pthread_create(&rthr, NULL, uw_reader, w)) != 0) {
		diag_set(d, error, "cannot start the reader thread");
		goto join;
	}
	rstarted = 1;
	for (nthr = 0; nthr < w->jobs; nthr++)
		if ((error = pthread_create(&thr[nthr], NULL, uw_worker,
		    w)) != 0) {
			diag_set(d, error, "cannot start a compression thread");
			goto join;
		}
	error = uw_drain(w, st, d);
join:
	if (error != 0)
		uw_fail(w, error, d);
	if (rstarted)
		pthread_join(rthr, NULL);
	for (i = 0; i < nthr; i++)
		pthread_join(thr[i], NULL);
	free(thr);
	if (error == 0 && w->error != 0) {
		error = w->error;
		if (d != NULL)
			*d = w->ed;
	}
	return (error);
}

/* --- the end of the image ---------------------------------------------------- */

/*
 * Before version 4 a reader ends the last non-back-reference cluster at the
 * image size, padding included: if that cluster is an elided zero cluster,
 * store it compressed instead (see lib/fmt/uzip.c).
 */
static int
uw_store_last_zero(struct uw *w, struct uzip_write_stats *st,
    struct diag *d)
{
	struct uw_slot zs = { .in = w->slots[0].in, .out = w->slots[0].out,
	    .idx = w->last_norm };
	void *cx;
	int error;

	if (w->n == 0 || w->hdr[FMT_UZIP_OFS_VERSN] >= '4' ||
	    !w->last_norm_zero || w->cur % 512 == 0)
		return (0);
	memset(zs.in, 0, w->bs);
	if ((error = w->codec->cnew(&cx, w->level, w->bs, d)) != 0)
		return (error);
	if ((error = uw_compress(w, cx, &zs, 1, d)) == 0)
		error = uw_append(w, zs.out, zs.outlen, d);
	w->codec->cfree(cx);
	if (error != 0)
		return (error);
	w->toc[w->last_norm] = w->cur;
	w->cur += zs.outlen;
	w->last_norm_zero = 0;
	st->zero_clusters--;
	if (w->hashes != NULL && os_sha256_buf(zs.out, zs.outlen,
	    w->hashes + w->last_norm * OS_SHA256_LEN) != 0)
		return (diag_set(d, EIO, "SHA-256 failed (libcrypto)"));
	return (0);
}

/*
 * Before version 4 the reader ends the last non-back-reference cluster at
 * the image size: its hash covers the padding that follows it, up to the
 * codec's bound (fmt_uzip_toc() trims the rest).  Its bytes are the last
 * ones appended, so they are still in the write buffer.
 */
static int
uw_hash_last(struct uw *w, struct diag *d)
{
	static const uint8_t zeros[512];
	struct os_sha256 *sh;
	uint64_t off, len, pad, max;
	int error;

	if (w->hashes == NULL || w->n == 0 ||
	    w->hdr[FMT_UZIP_OFS_VERSN] >= '4' || w->last_norm_zero ||
	    w->cur % 512 == 0)
		return (0);
	off = w->toc[w->last_norm];
	len = w->cur - off;
	pad = 512 - w->cur % 512;
	max = fmt_uzip_max_clen(w->codec->id, w->bs);
	if (len + pad > max)
		pad = max > len ? max - len : 0;
	if (off < w->woff)
		return (diag_set(d, EIO, "internal error: the last cluster "
		    "left the write buffer"));
	if (os_sha256_new(&sh) != 0)
		return (diag_set(d, ENOMEM, "out of memory"));
	error = os_sha256_update(sh, w->wbuf + (off - w->woff), len);
	if (error == 0)
		error = os_sha256_update(sh, zeros, pad);
	if (error == 0)
		error = os_sha256_final(sh, w->hashes +
		    w->last_norm * OS_SHA256_LEN);
	os_sha256_free(sh);
	return (error != 0 ? diag_set(d, EIO, "SHA-256 failed (libcrypto)") :
	    0);
}

/* The hashes file: its header (size and header+TOC hash), then written. */
static int
uw_write_hashes(struct uw *w, uint64_t isize, struct diag *d)
{
	struct os_sha256 *sh;
	uint8_t head[OS_SHA256_LEN];
	int error;

	if (os_sha256_new(&sh) != 0)
		return (diag_set(d, ENOMEM, "out of memory"));
	error = os_sha256_update(sh, w->hdr, sizeof(w->hdr));
	if (error == 0)
		error = os_sha256_update(sh, w->toc, (w->n + 1) * 8);
	if (error == 0)
		error = os_sha256_final(sh, head);
	os_sha256_free(sh);
	if (error != 0)
		return (diag_set(d, EIO, "SHA-256 failed (libcrypto)"));
	fmt_uzhash_encode(w->hfile, (uint32_t)w->n, isize, head);
	return (os_atomic_write(w->o->hashes_path, w->hfile,
	    (size_t)fmt_uzhash_size((uint32_t)w->n), "the hashes file", d));
}

/*
 * Ends the data (padding to 512), writes the header and the TOC, makes the
 * image durable and gives it its name.
 */
static int
uw_finish(struct uw *w, struct uzip_write_stats *st, struct diag *d)
{
	static const uint8_t zeros[512];
	uint64_t ci;
	int error;

	if ((error = uw_store_last_zero(w, st, d)) != 0 ||
	    (error = uw_hash_last(w, d)) != 0)
		return (error);
	w->toc[w->n] = w->cur;
	if (w->cur % 512 != 0) {
		uw_note(w, "padding data with %ju bytes so that file size is "
		    "multiple of 512", (uintmax_t)(512 - w->cur % 512));
		if ((error = uw_append(w, zeros, 512 - w->cur % 512, d)) != 0)
			return (error);
	}
	if ((error = uw_flush(w, d)) != 0)
		return (error);
	st->out_bytes = w->woff;
	lr_be32enc(w->hdr + 128, w->bs);
	lr_be32enc(w->hdr + 132, (uint32_t)w->n);
	for (ci = 0; ci <= w->n; ci++)
		lr_be64enc(&w->toc[ci], w->toc[ci]);
	if ((error = uw_pwrite_all(w->ofd, w->hdr, sizeof(w->hdr), 0)) != 0 ||
	    (error = uw_pwrite_all(w->ofd, w->toc, (w->n + 1) * 8,
	    FMT_UZIP_HDRLEN)) != 0)
		return (diag_set(d, error, "%s: write failed: %s", w->oname,
		    strerror(error)));
	/* Durable before it takes the final name: a crash leaves the old
	 * image or the whole new one, never a torn one under that name. */
	if (fsync(w->ofd) != 0 && errno != EINVAL)
		return (diag_set(d, errno, "%s: write failed (fsync): %s",
		    w->oname, strerror(errno)));
	error = close(w->ofd);
	w->ofd = -1;
	if (error != 0)
		return (diag_set(d, errno, "%s: write failed: %s", w->oname,
		    strerror(errno)));
	if (w->hfile != NULL && (error = uw_write_hashes(w, st->out_bytes,
	    d)) != 0)
		return (error);
	if (rename(w->tmpname, w->oname) != 0) {
		error = diag_set(d, errno, "%s: cannot rename %s to it: %s",
		    w->oname, w->tmpname, strerror(errno));
		if (w->hfile != NULL)
			(void)unlink(w->o->hashes_path);
		return (error);
	}
	w->tmp_made = 0;
	return (0);
}

static void
uw_cleanup(struct uw *w)
{
	unsigned i;

	if (w->ofd >= 0)
		close(w->ofd);
	if (w->tmp_made)
		unlink(w->tmpname);
	uw_unpublish(w);
	if (w->ifd >= 0)
		close(w->ifd);
	if (w->slots != NULL)
		for (i = 0; i < w->k; i++) {
			free(w->slots[i].in);
			free(w->slots[i].out);
		}
	free(w->slots);
	free(w->toc);
	free(w->wbuf);
	free(w->cmpbuf);
	free(w->ht);
	free(w->hfile);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mtx);
}

static double
uw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

int
uzip_write(const char *in_path, const char *out_path,
    const struct uzip_write_opts *o, struct uzip_write_stats *st,
    struct diag *d)
{
	struct uzip_write_stats lst;
	struct uw w;
	double t0 = uw_now();
	int error;

	if (st == NULL)
		st = &lst;
	memset(st, 0, sizeof(*st));
	memset(&w, 0, sizeof(w));
	w.o = o;
	w.ifd = w.ofd = -1;
	w.iname = in_path;
	w.oname = out_path;
	if ((error = uw_options(&w, o, d)) != 0)
		return (error);
	pthread_mutex_init(&w.mtx, NULL);
	pthread_cond_init(&w.cv, NULL);
	if ((error = uw_open(&w, d)) == 0 &&
	    (error = uw_alloc(&w, d)) == 0) {
		uw_note(&w, "data size %ju bytes, number of clusters %ju, "
		    "index length %ju bytes", (uintmax_t)w.isize,
		    (uintmax_t)w.n, (uintmax_t)((w.n + 1) * 8));
		if ((error = uw_pipeline(&w, st, d)) == 0 &&
		    (error = uw_finish(&w, st, d)) == 0) {
			st->in_bytes = w.isize;
			st->clusters = w.n;
			st->seconds = uw_now() - t0;
		}
	}
	uw_cleanup(&w);
	return (error);
}

/* --- the hashes of an existing image ------------------------------------------ */

static int
uw_pread_all(int fd, void *buf, size_t len, uint64_t off, const char *path,
    struct diag *d)
{
	uint8_t *p = buf;
	ssize_t r;

	while (len > 0) {
		r = pread(fd, p, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (diag_set(d, r < 0 ? errno : EIO, "%s: read at "
			    "offset %ju failed: %s", path, (uintmax_t)off,
			    r < 0 ? strerror(errno) : "the file shrank"));
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return (0);
}

int
uzip_write_hashes(const char *image_path, const char *out_path,
    struct diag *d)
{
	struct fmt_uzip_hdr h;
	struct fmt_uzip_tocinfo ti;
	struct fmt_uzip_cluster *cl = NULL;
	struct os_sha256 *sh = NULL;
	struct stat sb;
	uint8_t hb[FMT_UZIP_HDRLEN], head[OS_SHA256_LEN], *toc = NULL;
	uint8_t *hfile = NULL, *hs, *cbuf = NULL;
	uint64_t isz;
	uint32_t i;
	int fd, error;

	if ((fd = open(image_path, O_RDONLY | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "%s: cannot open: %s", image_path,
		    strerror(errno)));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		error = diag_set(d, EINVAL, "%s: not a regular file", image_path);
		goto out;
	}
	isz = (uint64_t)sb.st_size;
	if (isz < FMT_UZIP_HDRLEN) {
		error = diag_set(d, EINVAL, "%s: %ju bytes is too short for a "
		    "uzip image", image_path, (uintmax_t)isz);
		goto out;
	}
	if ((error = uw_pread_all(fd, hb, sizeof(hb), 0, image_path, d)) != 0)
		goto out;
	if ((error = fmt_uzip_header(hb, sizeof(hb), isz, &h, d)) != 0) {
		diag_prefix(d, "%s: ", image_path);
		goto out;
	}
	if ((toc = malloc(h.toc_len)) == NULL ||
	    (cl = calloc(h.nblocks ? h.nblocks : 1, sizeof(*cl))) == NULL ||
	    (hfile = malloc((size_t)fmt_uzhash_size(h.nblocks))) == NULL ||
	    os_sha256_new(&sh) != 0) {
		error = diag_set(d, ENOMEM, "%s: out of memory for %u "
		    "clusters", image_path, h.nblocks);
		goto out;
	}
	if ((error = uw_pread_all(fd, toc, h.toc_len, h.toc_off, image_path,
	    d)) != 0)
		goto out;
	if ((error = fmt_uzip_toc(&h, toc, h.toc_len, isz, cl, &ti, d)) != 0) {
		diag_prefix(d, "%s: ", image_path);
		goto out;
	}
	if ((cbuf = malloc(ti.max_clen ? ti.max_clen : 1)) == NULL) {
		error = diag_set(d, ENOMEM, "out of memory");
		goto out;
	}
	if (os_sha256_update(sh, hb, sizeof(hb)) != 0 ||
	    os_sha256_update(sh, toc, h.toc_len) != 0 ||
	    os_sha256_final(sh, head) != 0) {
		error = diag_set(d, EIO, "SHA-256 failed (libcrypto)");
		goto out;
	}
	hs = hfile + FMT_UZHASH_HDRLEN;
	for (i = 0; i < h.nblocks; i++) {
		if (cl[i].kind == FMT_UZIP_BACKREF) {
			memcpy(hs + (size_t)i * OS_SHA256_LEN,
			    hs + (size_t)cl[i].ref * OS_SHA256_LEN,
			    OS_SHA256_LEN);
			continue;
		}
		if (cl[i].len > 0 && (error = uw_pread_all(fd, cbuf,
		    cl[i].len, cl[i].off, image_path, d)) != 0)
			goto out;
		if (os_sha256_reset(sh) != 0 ||
		    os_sha256_update(sh, cbuf, cl[i].len) != 0 ||
		    os_sha256_final(sh, hs + (size_t)i * OS_SHA256_LEN) != 0) {
			error = diag_set(d, EIO, "SHA-256 failed (libcrypto)");
			goto out;
		}
	}
	fmt_uzhash_encode(hfile, h.nblocks, isz, head);
	error = os_atomic_write(out_path, hfile,
	    (size_t)fmt_uzhash_size(h.nblocks), "the hashes file", d);
out:
	close(fd);
	os_sha256_free(sh);
	free(toc);
	free(cl);
	free(hfile);
	free(cbuf);
	return (error);
}
