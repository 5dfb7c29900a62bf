/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uzip_write.c - the uzip writer (mkuzip's twin).
 *
 * Pipeline over a ring of K slots (K = 4 * jobs), cluster i in slot i % K:
 *   reader thread  FREE -> FILLED   reads cluster i (last one zero-padded)
 *   jobs workers   FILLED -> DONE   claim the next index, compress it (or
 *                                   elide it as a zero cluster), hash it
 *   caller thread  DONE -> FREE     in index order: dedup lookup, append to
 *                                   an 8 MiB write buffer, record the TOC
 * so reading, compressing and writing overlap.  One mutex and one condition
 * variable (broadcast on every state change) guard the ring; the work on a
 * slot runs unlocked by the one thread that owns its state.
 *
 * Dedup: a 64-bit hash of the compressed bytes finds candidates in an open-
 * addressing table; a candidate is taken only when its bytes compare equal
 * (memcmp against the write buffer or a pread of the output) and it is not
 * the immediately previous written cluster (that back-reference would read
 * as a zero cluster; see fmt/uzip.c).  Identical compressed bytes decompress
 * to identical clusters, so the check is exact.
 *
 * Output goes to "OUT.XXXXXX" beside OUT and is renamed at the end; a
 * failure unlinks it, and so does SIGINT/SIGTERM/SIGHUP while uzip_write()
 * runs (the handler unlinks, restores the old action and re-raises).  Only
 * one uzip_write() per process at a time gets that signal cleanup.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
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

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

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
};

struct uw_ent {
	uint64_t	hash;		/* 0 = empty */
	uint64_t	off;
	uint64_t	idx;		/* the cluster first written there */
	uint32_t	len;
};

struct uw {
	const struct uzip_write_opts *o;
	int		 level;
	uint32_t	 bs;
	uint64_t	 isize;
	uint64_t	 n;
	int		 ifd, ofd;
	const char	*iname, *oname;
	size_t		 outcap;

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
	uint64_t	*toc;
	uint64_t	 last_norm;	/* last cluster that is not a back-ref */
	int		 last_norm_zero;

	struct uw_ent	*ht;
	size_t		 htcap, htn;
	uint8_t		*cmpbuf;
};

/* --- signal cleanup ------------------------------------------------------- */

static char uw_tmpname[PATH_MAX];
static volatile sig_atomic_t uw_tmp_armed;
static struct sigaction uw_old[3];
static const int uw_sigs[3] = { SIGINT, SIGTERM, SIGHUP };

static void
uw_onsignal(int sig)
{
	int i;

	if (uw_tmp_armed)
		unlink(uw_tmpname);
	for (i = 0; i < 3; i++)
		if (uw_sigs[i] == sig)
			sigaction(sig, &uw_old[i], NULL);
	raise(sig);
}

static void
uw_signals(int on)
{
	struct sigaction sa;
	int i;

	if (on) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = uw_onsignal;
		sigemptyset(&sa.sa_mask);
		for (i = 0; i < 3; i++) {
			/* A signal ignored on entry (nohup, &) stays so. */
			sigaction(uw_sigs[i], NULL, &uw_old[i]);
			if (uw_old[i].sa_handler != SIG_IGN)
				sigaction(uw_sigs[i], &sa, NULL);
		}
	} else
		for (i = 0; i < 3; i++)
			sigaction(uw_sigs[i], &uw_old[i], NULL);
}

/* --- helpers ------------------------------------------------------------ */

int
uzip_write_default_level(int codec)
{
	return (codec == UZIP_CODEC_LZMA ? 6 : 9);
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
		for (got = 0; got < want; got += (size_t)r) {
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

struct uw_cctx {
	z_stream	 zs;
	int		 zs_ok;
	lzma_stream	 ls;
	lzma_options_lzma lo;
	lzma_filter	 filt[2];
	ZSTD_CCtx	*zc;
};

static int
uw_compress(struct uw *w, struct uw_cctx *c, struct uw_slot *s, int force,
    struct diag *d)
{
	size_t zr;
	lzma_ret lr;
	int zret;

	if (!force && !w->o->no_zero_elide && lr_is_zero(s->in, w->bs)) {
		s->outlen = 0;
		return (0);
	}
	switch (w->o->codec) {
	case UZIP_CODEC_ZLIB:
		deflateReset(&c->zs);
		c->zs.next_in = s->in;
		c->zs.avail_in = w->bs;
		c->zs.next_out = s->out;
		c->zs.avail_out = (uInt)w->outcap;
		zret = deflate(&c->zs, Z_FINISH);
		if (zret != Z_STREAM_END)
			return (diag_set(d, EIO, "zlib: deflate failed (%d) "
			    "on cluster %ju", zret, (uintmax_t)s->idx));
		s->outlen = w->outcap - c->zs.avail_out;
		break;
	case UZIP_CODEC_LZMA:
		if ((lr = lzma_stream_encoder(&c->ls, c->filt,
		    LZMA_CHECK_CRC32)) != LZMA_OK)
			return (diag_set(d, ENOMEM, "lzma: encoder setup "
			    "failed (%d)", (int)lr));
		c->ls.next_in = s->in;
		c->ls.avail_in = w->bs;
		c->ls.next_out = s->out;
		c->ls.avail_out = w->outcap;
		lr = lzma_code(&c->ls, LZMA_FINISH);
		if (lr != LZMA_STREAM_END)
			return (diag_set(d, EIO, "lzma: encoding cluster %ju "
			    "failed (%d)", (uintmax_t)s->idx, (int)lr));
		s->outlen = w->outcap - c->ls.avail_out;
		break;
	case UZIP_CODEC_ZSTD:
		zr = ZSTD_compress2(c->zc, s->out, w->outcap, s->in, w->bs);
		if (ZSTD_isError(zr))
			return (diag_set(d, EIO, "zstd: compressing cluster "
			    "%ju failed: %s", (uintmax_t)s->idx,
			    ZSTD_getErrorName(zr)));
		s->outlen = zr;
		break;
	}
	if (s->outlen > fmt_uzip_max_clen(w->o->codec, w->bs))
		return (diag_set(d, EIO, "cluster %ju compressed to %zu bytes, "
		    "more than geom_uzip accepts for %u-byte %s clusters "
		    "(%ju): use a larger cluster size", (uintmax_t)s->idx,
		    s->outlen, w->bs, fmt_uzip_codec_name(w->o->codec),
		    (uintmax_t)fmt_uzip_max_clen(w->o->codec, w->bs)));
	if (w->o->dedup)
		s->hash = uw_hash(s->out, s->outlen);
	return (0);
}

static int
uw_cctx_init(struct uw *w, struct uw_cctx *c, struct diag *d)
{
	lzma_stream init = LZMA_STREAM_INIT;

	memset(c, 0, sizeof(*c));
	c->ls = init;
	switch (w->o->codec) {
	case UZIP_CODEC_ZLIB:
		if (deflateInit(&c->zs, w->level) != Z_OK)
			return (diag_set(d, EINVAL, "zlib: level %d refused",
			    w->level));
		c->zs_ok = 1;
		break;
	case UZIP_CODEC_LZMA:
		if (lzma_lzma_preset(&c->lo, (uint32_t)w->level))
			return (diag_set(d, EINVAL, "lzma: level %d refused "
			    "(0-9)", w->level));
		/* A dictionary larger than a cluster buys nothing. */
		if (c->lo.dict_size > LR_MAX(w->bs, LZMA_DICT_SIZE_MIN))
			c->lo.dict_size = LR_MAX(w->bs, LZMA_DICT_SIZE_MIN);
		c->filt[0].id = LZMA_FILTER_LZMA2;
		c->filt[0].options = &c->lo;
		c->filt[1].id = LZMA_VLI_UNKNOWN;
		break;
	case UZIP_CODEC_ZSTD:
		if ((c->zc = ZSTD_createCCtx()) == NULL)
			return (diag_set(d, ENOMEM, "zstd: out of memory"));
		if (ZSTD_isError(ZSTD_CCtx_setParameter(c->zc,
		    ZSTD_c_compressionLevel, w->level)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(c->zc,
		    ZSTD_c_checksumFlag, 1)))
			return (diag_set(d, EINVAL, "zstd: level %d refused",
			    w->level));
		break;
	}
	return (0);
}

static void
uw_cctx_fini(struct uw_cctx *c)
{
	if (c->zs_ok)
		deflateEnd(&c->zs);
	lzma_end(&c->ls);
	ZSTD_freeCCtx(c->zc);
}

static void *
uw_worker(void *arg)
{
	struct uw *w = arg;
	struct uw_cctx c;
	struct uw_slot *s;
	struct diag d;
	uint64_t i;
	int error;

	if ((error = uw_cctx_init(w, &c, &d)) != 0) {
		uw_fail(w, error, &d);
		uw_cctx_fini(&c);
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
		error = uw_compress(w, &c, s, 0, &d);
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
	uw_cctx_fini(&c);
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

static int
uw_emit(struct uw *w, struct uw_slot *s, uint64_t *cur, uint64_t *last_off,
    struct uzip_write_stats *st, struct diag *d)
{
	uint64_t j, hit = UINT64_MAX, hitidx = 0;
	int error;

	if (s->outlen == 0) {
		w->toc[s->idx] = *cur;
		w->last_norm = s->idx;
		w->last_norm_zero = 1;
		st->zero_clusters++;
		if (w->o->verbose)
			fprintf(stderr, "cluster #%ju, in %u bytes, out len=0 "
			    "offset=%ju\n", (uintmax_t)s->idx, w->bs,
			    (uintmax_t)*cur);
		return (0);
	}
	if (w->o->dedup && w->htcap > 0) {
		for (j = s->hash & (w->htcap - 1); w->ht[j].hash != 0;
		    j = (j + 1) & (w->htcap - 1)) {
			if (w->ht[j].hash == s->hash &&
			    w->ht[j].len == s->outlen &&
			    w->ht[j].off != *last_off &&
			    uw_same(w, w->ht[j].off, s->out, s->outlen)) {
				hit = w->ht[j].off;
				hitidx = w->ht[j].idx;
				break;
			}
		}
	}
	if (hit != UINT64_MAX) {
		w->toc[s->idx] = hit;
		st->dedup_clusters++;
		if (w->o->verbose)
			fprintf(stderr, "cluster #%ju, in %u bytes, out len=0 "
			    "offset=%ju (backref'ed to #%ju)\n",
			    (uintmax_t)s->idx, w->bs, (uintmax_t)hit,
			    (uintmax_t)hitidx);
		return (0);
	}
	if ((error = uw_append(w, s->out, s->outlen, d)) != 0)
		return (error);
	w->toc[s->idx] = *cur;
	*last_off = *cur;
	w->last_norm = s->idx;
	w->last_norm_zero = 0;
	if (w->o->verbose)
		fprintf(stderr, "cluster #%ju, in %u bytes, out len=%zu "
		    "offset=%ju\n", (uintmax_t)s->idx, w->bs, s->outlen,
		    (uintmax_t)*cur);
	if (w->o->dedup) {
		if (2 * (w->htn + 1) > w->htcap && uw_ht_grow(w) != 0)
			return (diag_set(d, ENOMEM, "out of memory for the "
			    "dedup table"));
		for (j = s->hash & (w->htcap - 1); w->ht[j].hash != 0;
		    j = (j + 1) & (w->htcap - 1))
			;
		w->ht[j] = (struct uw_ent){ s->hash, *cur, s->idx,
		    (uint32_t)s->outlen };
		w->htn++;
	}
	*cur += s->outlen;
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
	struct uw_slot *s;
	pthread_t rthr, *thr = NULL;
	uint8_t hdr[FMT_UZIP_HDRLEN];
	static const uint8_t zeros[512];
	const char *magic;
	unsigned i, jobs, nthr = 0;
	uint64_t cur, last_off, ci, tocbytes;
	int error = 0, rstarted = 0, sig_on = 0, ab, tmpfd;
	double t0 = uw_now();
	long ncpu;

	if (st == NULL)
		st = &lst;
	memset(st, 0, sizeof(*st));
	memset(&w, 0, sizeof(w));
	w.o = o;
	w.ifd = w.ofd = -1;
	w.iname = in_path;
	w.oname = out_path;
	w.bs = o->blksz ? o->blksz : FMT_UZIP_DEFBLKSZ;
	if (w.bs % 512 != 0 || w.bs > FMT_UZIP_MAXBLKSZ)
		return (diag_set(d, EINVAL, "cluster size %u: must be a "
		    "multiple of 512 and at most %u", w.bs, FMT_UZIP_MAXBLKSZ));
	switch (o->codec) {
	case UZIP_CODEC_ZLIB:
		magic = FMT_UZIP_MAGIC_ZLIB;
		w.outcap = compressBound(w.bs);
		break;
	case UZIP_CODEC_LZMA:
		magic = FMT_UZIP_MAGIC_LZMA;
		w.outcap = lzma_stream_buffer_bound(w.bs);
		break;
	case UZIP_CODEC_ZSTD:
		magic = FMT_UZIP_MAGIC_ZSTD;
		w.outcap = ZSTD_compressBound(w.bs);
		break;
	default:
		return (diag_set(d, EINVAL, "unknown codec %d", o->codec));
	}
	w.level = o->level < 0 ? uzip_write_default_level(o->codec) :
	    o->level;
	if (o->codec != UZIP_CODEC_ZSTD && w.level > 9)
		return (diag_set(d, EINVAL, "%s level %d: must be 0 to 9",
		    fmt_uzip_codec_name(o->codec), w.level));
	if (o->codec == UZIP_CODEC_ZSTD && (w.level < ZSTD_minCLevel() ||
	    w.level > ZSTD_maxCLevel()))
		return (diag_set(d, EINVAL, "zstd level %d: must be %d to %d",
		    w.level, ZSTD_minCLevel(), ZSTD_maxCLevel()));
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	jobs = o->jobs ? o->jobs : (unsigned)(ncpu < 1 ? 1 : ncpu);
	if (jobs > UW_MAXJOBS && o->jobs == 0)
		jobs = UW_MAXJOBS;
	if (jobs > 256)
		jobs = 256;

	pthread_mutex_init(&w.mtx, NULL);
	pthread_cond_init(&w.cv, NULL);
	if ((w.ifd = open(in_path, O_RDONLY | O_CLOEXEC)) < 0) {
		error = diag_set(d, errno, "%s: cannot open: %s", in_path,
		    strerror(errno));
		goto out;
	}
	if ((error = uw_insize(&w, d)) != 0)
		goto out;
	w.n = lr_div_roundup(w.isize, w.bs);
	if (w.n > UINT32_MAX) {
		error = diag_set(d, EFBIG, "%s: %ju bytes make more than 2^32 "
		    "clusters of %u bytes; use a larger cluster size (-s)",
		    in_path, (uintmax_t)w.isize, w.bs);
		goto out;
	}
#ifdef POSIX_FADV_SEQUENTIAL
	posix_fadvise(w.ifd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	if (snprintf(uw_tmpname, sizeof(uw_tmpname), "%s.XXXXXX", out_path) >=
	    (int)sizeof(uw_tmpname)) {
		error = diag_set(d, ENAMETOOLONG, "%s: name too long",
		    out_path);
		goto out;
	}
	uw_signals(1);
	sig_on = 1;
	if ((tmpfd = mkstemp(uw_tmpname)) < 0) {
		error = diag_set(d, errno, "%s: cannot create a file beside "
		    "it: %s", out_path, strerror(errno));
		goto out;
	}
	uw_tmp_armed = 1;
	w.ofd = tmpfd;
	{
		/* mkuzip's mode: the image is also a shell script. */
		mode_t um = umask(022);

		umask(um);
		fchmod(w.ofd, 0755 & ~um);
	}

	tocbytes = (w.n + 1) * 8;
	w.k = LR_MAX(4u, 4 * jobs);
	w.toc = calloc(w.n + 1, sizeof(*w.toc));
	w.wbuf = malloc(UW_WBUF);
	w.slots = calloc(w.k, sizeof(*w.slots));
	w.cmpbuf = malloc(w.outcap);
	if (w.toc == NULL || w.wbuf == NULL || w.slots == NULL ||
	    w.cmpbuf == NULL) {
		error = diag_set(d, ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < w.k; i++)
		if ((w.slots[i].in = malloc(w.bs)) == NULL ||
		    (w.slots[i].out = malloc(w.outcap)) == NULL) {
			error = diag_set(d, ENOMEM, "out of memory");
			goto out;
		}
	cur = FMT_UZIP_HDRLEN + tocbytes;
	w.woff = cur;
	last_off = UINT64_MAX;
	if (o->verbose)
		fprintf(stderr, "data size %ju bytes, number of clusters %ju, "
		    "index length %ju bytes\n", (uintmax_t)w.isize,
		    (uintmax_t)w.n, (uintmax_t)tocbytes);

	if ((thr = calloc(jobs, sizeof(*thr))) == NULL) {
		error = diag_set(d, ENOMEM, "out of memory");
		goto join;
	}
	if ((error = pthread_create(&rthr, NULL, uw_reader, &w)) != 0) {
		diag_set(d, error, "cannot start the reader thread");
		goto join;
	}
	rstarted = 1;
	for (nthr = 0; nthr < jobs; nthr++)
		if ((error = pthread_create(&thr[nthr], NULL, uw_worker,
		    &w)) != 0) {
			diag_set(d, error, "cannot start a compression thread");
			uw_fail(&w, error, d);
			goto join;
		}

	for (ci = 0; ci < w.n; ci++) {
		s = &w.slots[ci % w.k];
		pthread_mutex_lock(&w.mtx);
		while (!w.abort && !(s->state == WS_DONE && s->idx == ci))
			pthread_cond_wait(&w.cv, &w.mtx);
		ab = w.abort;
		pthread_mutex_unlock(&w.mtx);
		if (ab)
			break;
		if ((error = uw_emit(&w, s, &cur, &last_off, st, d)) != 0) {
			uw_fail(&w, error, d);
			break;
		}
		pthread_mutex_lock(&w.mtx);
		s->state = WS_FREE;
		pthread_cond_broadcast(&w.cv);
		pthread_mutex_unlock(&w.mtx);
		if (o->progress != NULL)
			o->progress(LR_MIN((ci + 1) * w.bs, w.isize), w.isize,
			    o->arg);
	}
join:
	if (error != 0)
		uw_fail(&w, error, d);
	if (rstarted)
		pthread_join(rthr, NULL);
	for (i = 0; i < nthr; i++)
		pthread_join(thr[i], NULL);
	if (error == 0 && w.error != 0) {
		error = w.error;
		if (d != NULL)
			*d = w.ed;
	}
	if (error != 0)
		goto out;

	/*
	 * Before version 4 a reader ends the last non-back-reference cluster
	 * at the image size, padding included: if that cluster is an elided
	 * zero cluster, store it compressed instead (see fmt/uzip.c).
	 */
	if (w.n > 0 && o->codec != UZIP_CODEC_ZSTD && w.last_norm_zero &&
	    cur % 512 != 0) {
		struct uw_cctx c;
		struct uw_slot zs = { .in = w.slots[0].in,
		    .out = w.slots[0].out, .idx = w.last_norm };

		memset(zs.in, 0, w.bs);
		if ((error = uw_cctx_init(&w, &c, d)) == 0 &&
		    (error = uw_compress(&w, &c, &zs, 1, d)) == 0)
			error = uw_append(&w, zs.out, zs.outlen, d);
		uw_cctx_fini(&c);
		if (error != 0)
			goto out;
		w.toc[w.last_norm] = cur;
		cur += zs.outlen;
		st->zero_clusters--;
	}
	/* End of data, padding to 512, header and TOC. */
	w.toc[w.n] = cur;
	if (cur % 512 != 0) {
		if (o->verbose)
			fprintf(stderr, "padding data with %ju bytes so that "
			    "file size is multiple of 512\n",
			    (uintmax_t)(512 - cur % 512));
		if ((error = uw_append(&w, zeros, 512 - cur % 512, d)) != 0)
			goto out;
	}
	if ((error = uw_flush(&w, d)) != 0)
		goto out;
	st->out_bytes = w.woff;
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, magic, strlen(magic));
	if (o->dedup) {
		if (hdr[FMT_UZIP_OFS_VERSN] == '2')
			hdr[FMT_UZIP_OFS_VERSN] = '3';
		hdr[FMT_UZIP_OFS_COMPR] += 'a' - 'A';
	}
	lr_be32enc(hdr + 128, w.bs);
	lr_be32enc(hdr + 132, (uint32_t)w.n);
	for (ci = 0; ci <= w.n; ci++)
		lr_be64enc(&w.toc[ci], w.toc[ci]);
	if ((error = uw_pwrite_all(w.ofd, hdr, sizeof(hdr), 0)) != 0 ||
	    (error = uw_pwrite_all(w.ofd, w.toc, tocbytes,
	    FMT_UZIP_HDRLEN)) != 0) {
		diag_set(d, error, "%s: write failed: %s", out_path,
		    strerror(error));
		goto out;
	}
	/* Durable before it takes the final name: a crash leaves the old
	 * image or the whole new one, never a torn one under that name. */
	if (fsync(w.ofd) != 0 && errno != EINVAL) {
		error = diag_set(d, errno, "%s: write failed (fsync): %s",
		    out_path, strerror(errno));
		goto out;
	}
	if (close(w.ofd) != 0) {
		w.ofd = -1;
		error = diag_set(d, errno, "%s: write failed: %s", out_path,
		    strerror(errno));
		goto out;
	}
	w.ofd = -1;
	if (rename(uw_tmpname, out_path) != 0) {
		error = diag_set(d, errno, "%s: cannot rename %s to it: %s",
		    out_path, uw_tmpname, strerror(errno));
		goto out;
	}
	uw_tmp_armed = 0;
	st->in_bytes = w.isize;
	st->clusters = w.n;
	st->seconds = uw_now() - t0;
out:
	if (w.ofd >= 0)
		close(w.ofd);
	if (uw_tmp_armed) {
		unlink(uw_tmpname);
		uw_tmp_armed = 0;
	}
	if (sig_on)
		uw_signals(0);
	if (w.ifd >= 0)
		close(w.ifd);
	free(thr);
	if (w.slots != NULL)
		for (i = 0; i < w.k; i++) {
			free(w.slots[i].in);
			free(w.slots[i].out);
		}
	free(w.slots);
	free(w.toc);
	free(w.wbuf);
	free(w.cmpbuf);
	free(w.ht);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mtx);
	return (error);
}
