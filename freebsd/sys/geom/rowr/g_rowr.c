/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * g_rowr.c - GEOM_ROWR: a read-only lower provider plus a writable upper
 * provider, seen as one writable provider (`geom rowr create name rodev
 * rwdev` makes /dev/name).  The semantics are those of liveroot's userland
 * overlay (lib/bdev/rowr.c, whose header states them), and the written-granule
 * map and its range-lock table are the very same code (lib/util/rowrmap.c,
 * pulled in by the module's Makefile, not copied).
 *
 * I/O:
 *  - a read is split per run of the map: written granules come from the
 *    upper, the others from the lower (past the lower's end: zeros);
 *  - a write goes to the upper; a granule it covers only partly and that was
 *    never written is first read from the lower (read-modify-write); every
 *    lower read of a write ends before its first upper write, and the
 *    granules' bits are set only after every upper write of the request
 *    completed without error, so a failing upper (ENOSPC, EIO) never exposes
 *    a granule it did not fully take;
 *  - BIO_DELETE clears the bits of the whole granules it covers and passes a
 *    delete of them to the upper, which frees their blocks (those granules
 *    read as the lower again); partial granules are left alone (a delete is
 *    advisory);
 *  - BIO_FLUSH (and BIO_SPEEDUP, and BIO_GETATTR but GEOM::candelete) go to
 *    the upper: the bits name only data the upper acknowledged.
 *
 * Range locks: every read, write and delete holds a lock over the granules it
 * touches from dispatch to delivery, readers shared, writers exclusive (the
 * rowrmap.h table).  A request that conflicts with a holder, or with a
 * request already waiting for an overlapping range, waits in sc_wait in
 * arrival order and is dispatched from the completion that unblocks it:
 * nothing on the I/O path sleeps, and overlapping bios run in the order they
 * arrived.  Commit and revert take a whole-device writer lock the same way,
 * sleeping in the control thread.
 *
 * Memory: the map and the lock table are allocated at create (a map above
 * kern.geom.rowr.maxmap is refused, with the granule to use).  The I/O path
 * allocates only with M_NOWAIT (a request, its children, a copy-up bounce of
 * at most two granules) and fails the bio with ENOMEM when that fails.
 *
 * Locking: sc_mtx guards the lock table, sc_wait, sc_inflight and sc_flags.
 * Map bits are atomic per word (bitmap.h) and stable under a range lock.
 * The topology lock is taken only where GEOM requires it: control verbs,
 * access, orphan/spoil/resize, providergone and the close event.
 *
 * Lifetime: the class holds r1w0e1 on the lower (nothing else can open it
 * for writing) and r1w1e1 on the upper from create to close.  Destroy and
 * orphaning (the lower or the upper went away) mark the softc DYING and
 * wither the geom; the consumers are closed once the last bio in flight has
 * come back (from a preallocated event), and the softc is freed when both
 * that close and the provider's destruction have happened.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/bio.h>
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/module.h>
#include <sys/mutex.h>
#include <sys/sbuf.h>
#include <sys/sysctl.h>

#include <geom/geom.h>

#include <liveroot/rowrmap.h>

#include "g_rowr.h"

SYSCTL_DECL(_kern_geom);
static SYSCTL_NODE(_kern_geom, OID_AUTO, rowr, CTLFLAG_RW | CTLFLAG_MPSAFE, 0,
    "GEOM_ROWR overlay");
static int g_rowr_debug = 0;
SYSCTL_INT(_kern_geom_rowr, OID_AUTO, debug, CTLFLAG_RWTUN, &g_rowr_debug, 0,
    "Debug level");
static u_long g_rowr_maxmap = 256ul << 20;
SYSCTL_ULONG(_kern_geom_rowr, OID_AUTO, maxmap, CTLFLAG_RWTUN, &g_rowr_maxmap,
    0, "Largest written-granule map a device may use, in bytes");

#define	G_ROWR_DEBUG(lvl, ...) do {					\
	if (g_rowr_debug >= (lvl)) {					\
		printf("GEOM_ROWR: ");					\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

#define	G_ROWR_NAMELEN	64
#define	G_ROWR_CHUNK	(64 * 1024)	/* commit copy size (DFLTPHYS) */

/* sc_flags, under sc_mtx */
#define	G_ROWR_DYING	0x01	/* destroyed or orphaned: new I/O fails */
#define	G_ROWR_CLOSING	0x02	/* the consumers' close is under way */
#define	G_ROWR_CLOSED	0x04	/* consumers closed */
#define	G_ROWR_PPGONE	0x08	/* the provider was destroyed */
#define	G_ROWR_BUSY	0x10	/* a commit or revert runs */

struct g_rowr_req;
TAILQ_HEAD(g_rowr_reqq, g_rowr_req);

struct g_rowr_softc {
	struct mtx		 sc_mtx;
	struct lr_rowrmap	 sc_map;
	struct g_geom		*sc_geom;
	struct g_provider	*sc_pp;		/* NULL once destroyed */
	struct g_consumer	*sc_lowercp;
	struct g_consumer	*sc_uppercp;
	uint64_t		 sc_size;	/* union bytes */
	uint64_t		 sc_lowersize;	/* lower bytes at create */
	struct g_rowr_reqq	 sc_wait;	/* waiting for a range lock */
	u_int			 sc_inflight;	/* bios between start and deliver */
	u_int			 sc_flags;
	struct g_event		*sc_close_ev;	/* preallocated close event */
	char			 sc_name[G_ROWR_NAMELEN];
	u_long			 sc_reads;	/* statistics, atomic */
	u_long			 sc_writes;
	u_long			 sc_deletes;
	u_long			 sc_flushes;
	u_long			 sc_copyups;
	u_long			 sc_waits;
	u_long			 sc_errors;
};

/* A read, write or delete in progress, or a control verb's device lock. */
struct g_rowr_req {
	TAILQ_ENTRY(g_rowr_req)	 rq_next;	/* in sc_wait */
	struct g_rowr_softc	*rq_sc;
	struct bio		*rq_bp;		/* NULL: a control verb waits */
	uint64_t		 rq_g0, rq_g1;	/* granules [g0, g1) */
	uint32_t		 rq_slot;
	int			 rq_writer;
	int			 rq_granted;	/* control verbs */
	int			 rq_phase;
	u_int			 rq_pending;	/* children in flight + 1 */
	u_int			 rq_error;	/* first error, atomic */
	uint8_t			*rq_buf;	/* copy-up bounce */
	uint8_t			*rq_head;	/* granule g0, or NULL */
	uint8_t			*rq_tail;	/* granule g1 - 1, or NULL */
};

#define	RQ_RUN		0	/* reads, deletes: children in flight */
#define	RQ_COPYUP	1	/* write: reading partial granules below */
#define	RQ_UPPER	2	/* write: writing the upper */

static g_access_t g_rowr_access;
static g_start_t g_rowr_start;
static g_dumpconf_t g_rowr_dumpconf;
static g_orphan_t g_rowr_orphan;
static g_provgone_t g_rowr_providergone;
static g_resize_t g_rowr_resize;
static g_ctl_req_t g_rowr_config;
static g_ctl_destroy_geom_t g_rowr_destroy_geom;

struct g_class g_rowr_class = {
	.name = G_ROWR_CLASS_NAME,
	.version = G_VERSION,
	.ctlreq = g_rowr_config,
	.access = g_rowr_access,
	.start = g_rowr_start,
	.dumpconf = g_rowr_dumpconf,
	.orphan = g_rowr_orphan,
	.spoiled = g_rowr_orphan,
	.destroy_geom = g_rowr_destroy_geom,
	.providergone = g_rowr_providergone,
	.resize = g_rowr_resize,
};

static void g_rowr_dispatch(struct g_rowr_req *rq);
static void g_rowr_put(struct g_rowr_req *rq);
static int g_rowr_destroy(struct gctl_req *req, struct g_geom *gp, int force);

static void *
g_rowr_map_alloc(size_t len, void *arg)
{
	return (malloc(len, M_GEOM, M_WAITOK | M_ZERO));
}

static void
g_rowr_map_free(void *p, size_t len, void *arg)
{
	free(p, M_GEOM);
}

static const struct lr_allocator g_rowr_allocator = {
	.alloc = g_rowr_map_alloc,
	.free = g_rowr_map_free,
};

/* --- range locks ---------------------------------------------------------- */

static int
g_rowr_conflict(const struct g_rowr_req *a, const struct g_rowr_req *b)
{
	return (a->rq_g0 < b->rq_g1 && b->rq_g0 < a->rq_g1 &&
	    (a->rq_writer || b->rq_writer));
}

/*
 * Lock rq's range now (1), or queue it (0): behind any waiting request it
 * conflicts with, so overlapping requests are served in arrival order.
 */
static int
g_rowr_admit_locked(struct g_rowr_softc *sc, struct g_rowr_req *rq)
{
	struct g_rowr_req *w;

	mtx_assert(&sc->sc_mtx, MA_OWNED);
	TAILQ_FOREACH(w, &sc->sc_wait, rq_next)
		if (g_rowr_conflict(w, rq))
			goto wait;
	if (lr_rowrmap_lock_try(&sc->sc_map, rq->rq_g0, rq->rq_g1,
	    rq->rq_writer, &rq->rq_slot) == 0)
		return (1);
wait:
	TAILQ_INSERT_TAIL(&sc->sc_wait, rq, rq_next);
	atomic_add_long(&sc->sc_waits, 1);
	return (0);
}

/* Move every waiter that can now lock its range to `go`, in order. */
static void
g_rowr_grant_locked(struct g_rowr_softc *sc, struct g_rowr_reqq *go)
{
	struct g_rowr_req *w, *next, *e;
	int error;

	mtx_assert(&sc->sc_mtx, MA_OWNED);
	for (w = TAILQ_FIRST(&sc->sc_wait); w != NULL; w = next) {
		next = TAILQ_NEXT(w, rq_next);
		for (e = TAILQ_FIRST(&sc->sc_wait); e != w;
		    e = TAILQ_NEXT(e, rq_next))
			if (g_rowr_conflict(e, w))
				break;
		if (e != w)
			continue;
		error = lr_rowrmap_lock_try(&sc->sc_map, w->rq_g0, w->rq_g1,
		    w->rq_writer, &w->rq_slot);
		if (error == EAGAIN)
			break;
		if (error != 0)
			continue;
		TAILQ_REMOVE(&sc->sc_wait, w, rq_next);
		if (w->rq_bp == NULL) {
			w->rq_granted = 1;
			wakeup(w);
		} else
			TAILQ_INSERT_TAIL(go, w, rq_next);
	}
}

static void
g_rowr_unlock(struct g_rowr_softc *sc, uint32_t slot)
{
	struct g_rowr_reqq go;
	struct g_rowr_req *w;

	TAILQ_INIT(&go);
	mtx_lock(&sc->sc_mtx);
	lr_rowrmap_unlock(&sc->sc_map, slot);
	g_rowr_grant_locked(sc, &go);
	mtx_unlock(&sc->sc_mtx);
	while ((w = TAILQ_FIRST(&go)) != NULL) {
		TAILQ_REMOVE(&go, w, rq_next);
		g_rowr_dispatch(w);
	}
}

/* A control verb's exclusive lock over the whole device; may sleep. */
static void
g_rowr_lock_all(struct g_rowr_softc *sc, struct g_rowr_req *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->rq_sc = sc;
	rq->rq_g0 = 0;
	rq->rq_g1 = sc->sc_map.ngranules;
	rq->rq_writer = 1;
	mtx_lock(&sc->sc_mtx);
	if (!g_rowr_admit_locked(sc, rq))
		while (!rq->rq_granted)
			msleep(rq, &sc->sc_mtx, PRIBIO, "growrlk", 0);
	mtx_unlock(&sc->sc_mtx);
}

/* --- lifetime ------------------------------------------------------------- */

static void
g_rowr_free(struct g_rowr_softc *sc)
{
	if (sc->sc_geom != NULL)
		sc->sc_geom->softc = NULL;
	if (sc->sc_close_ev != NULL)
		g_free(sc->sc_close_ev);
	lr_rowrmap_fini(&sc->sc_map);
	mtx_destroy(&sc->sc_mtx);
	g_free(sc);
}

/* Drop the consumers' access; the washer then detaches them.  Topology. */
static void
g_rowr_close(struct g_rowr_softc *sc)
{
	struct g_consumer *cp;
	int i, freeit;

	g_topology_assert();
	for (i = 0; i < 2; i++) {
		cp = i == 0 ? sc->sc_lowercp : sc->sc_uppercp;
		if (cp != NULL && (cp->acr != 0 || cp->acw != 0 ||
		    cp->ace != 0))
			g_access(cp, -cp->acr, -cp->acw, -cp->ace);
	}
	sc->sc_lowercp = sc->sc_uppercp = NULL;
	mtx_lock(&sc->sc_mtx);
	sc->sc_flags |= G_ROWR_CLOSED;
	freeit = (sc->sc_flags & G_ROWR_PPGONE) != 0;
	mtx_unlock(&sc->sc_mtx);
	G_ROWR_DEBUG(1, "%s: closed the lower and the upper.", sc->sc_name);
	if (freeit)
		g_rowr_free(sc);
	else if (sc->sc_geom != NULL)
		g_wither_geom(sc->sc_geom, ENXIO);
}

static void
g_rowr_close_event(void *arg, int flag)
{
	g_rowr_close(arg);
}

/* A bio (or a control verb) is done with the softc. */
static void
g_rowr_drop(struct g_rowr_softc *sc)
{
	struct g_event *ev = NULL;

	mtx_lock(&sc->sc_mtx);
	KASSERT(sc->sc_inflight > 0, ("g_rowr_drop: nothing in flight"));
	if (--sc->sc_inflight == 0 && (sc->sc_flags &
	    (G_ROWR_DYING | G_ROWR_CLOSING)) == G_ROWR_DYING) {
		sc->sc_flags |= G_ROWR_CLOSING;
		ev = sc->sc_close_ev;
		sc->sc_close_ev = NULL;
	}
	mtx_unlock(&sc->sc_mtx);
	if (ev != NULL)
		g_post_event_ep(g_rowr_close_event, sc, ev, NULL);
}

/* 0 and one more bio in flight, or ENXIO when the device is going away. */
static int
g_rowr_hold(struct g_rowr_softc *sc)
{
	int error = 0;

	mtx_lock(&sc->sc_mtx);
	if ((sc->sc_flags & G_ROWR_DYING) != 0)
		error = ENXIO;
	else
		sc->sc_inflight++;
	mtx_unlock(&sc->sc_mtx);
	return (error);
}

/* --- I/O ------------------------------------------------------------------ */

static void
g_rowr_seterror(struct g_rowr_req *rq, int error)
{
	if (error != 0)
		atomic_cmpset_int(&rq->rq_error, 0, (u_int)error);
}

static void
g_rowr_child_done(struct bio *cbp)
{
	struct g_rowr_req *rq = cbp->bio_caller1;

	if (cbp->bio_error != 0)
		g_rowr_seterror(rq, cbp->bio_error);
	g_destroy_bio(cbp);
	g_rowr_put(rq);
}

/* Send a child of rq's bio; on ENOMEM the request fails, nothing is sent. */
static void
g_rowr_issue(struct g_rowr_req *rq, int cmd, struct g_consumer *cp,
    uint64_t off, uint64_t len, void *data)
{
	struct bio *cbp;

	if (atomic_load_acq_int(&rq->rq_error) != 0)
		return;
	if ((cbp = g_clone_bio(rq->rq_bp)) == NULL) {
		g_rowr_seterror(rq, ENOMEM);
		return;
	}
	cbp->bio_cmd = cmd;
	cbp->bio_offset = (off_t)off;
	cbp->bio_length = (off_t)len;
	cbp->bio_data = data;
	cbp->bio_done = g_rowr_child_done;
	cbp->bio_caller1 = rq;
	atomic_add_int(&rq->rq_pending, 1);
	g_io_request(cbp, cp);
}

static void
g_rowr_finish(struct g_rowr_req *rq)
{
	struct g_rowr_softc *sc = rq->rq_sc;
	struct bio *bp = rq->rq_bp;
	int error = (int)rq->rq_error;

	if (bp->bio_cmd == BIO_WRITE && error == 0)
		lr_bitmap_set_range(&sc->sc_map.bm, rq->rq_g0,
		    rq->rq_g1 - rq->rq_g0);
	if (bp->bio_cmd == BIO_DELETE && error == EOPNOTSUPP)
		error = 0;	/* the map forgot them: that is the delete */
	g_rowr_unlock(sc, rq->rq_slot);
	if (rq->rq_buf != NULL)
		free(rq->rq_buf, M_GEOM);
	g_free(rq);
	if (error != 0) {
		atomic_add_long(&sc->sc_errors, 1);
		G_ROWR_DEBUG(2, "%s: bio cmd %d offset %jd length %jd: "
		    "error %d.", sc->sc_name, bp->bio_cmd,
		    (intmax_t)bp->bio_offset, (intmax_t)bp->bio_length, error);
	} else
		bp->bio_completed = bp->bio_length;
	g_io_deliver(bp, error);
	g_rowr_drop(sc);
}

/* Lay the request's data over the copied-up granules; write the upper. */
static void
g_rowr_write_upper(struct g_rowr_req *rq)
{
	struct g_rowr_softc *sc = rq->rq_sc;
	struct bio *bp = rq->rq_bp;
	uint64_t off = bp->bio_offset, end = off + bp->bio_length;
	uint64_t hs, he, ts, te, a, z, bs, be;
	uint8_t *data = (uint8_t *)bp->bio_data;

	rq->rq_phase = RQ_UPPER;
	rq->rq_pending = 1;
	hs = rq->rq_g0 << sc->sc_map.shift;
	he = MIN(hs + sc->sc_map.granule, sc->sc_size);
	ts = (rq->rq_g1 - 1) << sc->sc_map.shift;
	te = MIN(ts + sc->sc_map.granule, sc->sc_size);
	if (rq->rq_head != NULL) {
		a = MAX(hs, off);
		z = MIN(he, end);
		memcpy(rq->rq_head + (a - hs), data + (a - off), z - a);
		g_rowr_issue(rq, BIO_WRITE, sc->sc_uppercp, hs, he - hs,
		    rq->rq_head);
	}
	bs = rq->rq_head != NULL ? he : off;
	be = rq->rq_tail != NULL ? ts : end;
	if (be > bs)
		g_rowr_issue(rq, BIO_WRITE, sc->sc_uppercp, bs, be - bs,
		    data + (bs - off));
	if (rq->rq_tail != NULL) {
		a = MAX(ts, off);
		z = MIN(te, end);
		memcpy(rq->rq_tail + (a - ts), data + (a - off), z - a);
		g_rowr_issue(rq, BIO_WRITE, sc->sc_uppercp, ts, te - ts,
		    rq->rq_tail);
	}
	g_rowr_put(rq);
}

/* One reference of rq gone; the last one moves it to its next phase. */
static void
g_rowr_put(struct g_rowr_req *rq)
{
	if (atomic_fetchadd_int(&rq->rq_pending, -1) != 1)
		return;
	if (rq->rq_phase == RQ_COPYUP && rq->rq_error == 0)
		g_rowr_write_upper(rq);
	else
		g_rowr_finish(rq);
}

/* Read granule g's bytes below the lower's end into buf (zeros past it). */
static void
g_rowr_copyup(struct g_rowr_req *rq, uint64_t g, uint8_t *buf)
{
	struct g_rowr_softc *sc = rq->rq_sc;
	uint64_t s = g << sc->sc_map.shift;
	uint64_t e = MIN(MIN(s + sc->sc_map.granule, sc->sc_size),
	    sc->sc_lowersize);

	atomic_add_long(&sc->sc_copyups, 1);
	if (s < e)
		g_rowr_issue(rq, BIO_READ, sc->sc_lowercp, s, e - s, buf);
}

static void
g_rowr_read(struct g_rowr_req *rq)
{
	struct g_rowr_softc *sc = rq->rq_sc;
	struct bio *bp = rq->rq_bp;
	uint64_t off = bp->bio_offset, end = off + bp->bio_length;
	uint64_t pos, g, ge, rend, lend;
	uint8_t *data = (uint8_t *)bp->bio_data;

	for (pos = off; pos < end; pos = rend) {
		g = pos >> sc->sc_map.shift;
		ge = lr_bitmap_run_end(&sc->sc_map.bm, g, rq->rq_g1);
		rend = MIN(ge << sc->sc_map.shift, end);
		if (lr_bitmap_test(&sc->sc_map.bm, g)) {
			g_rowr_issue(rq, BIO_READ, sc->sc_uppercp, pos,
			    rend - pos, data + (pos - off));
			continue;
		}
		lend = MIN(rend, sc->sc_lowersize);
		if (pos < lend)
			g_rowr_issue(rq, BIO_READ, sc->sc_lowercp, pos,
			    lend - pos, data + (pos - off));
		else
			lend = pos;
		if (lend < rend)
			memset(data + (lend - off), 0, rend - lend);
	}
	g_rowr_put(rq);
}

static void
g_rowr_write(struct g_rowr_req *rq)
{
	struct g_rowr_softc *sc = rq->rq_sc;
	struct bio *bp = rq->rq_bp;
	uint64_t off = bp->bio_offset, end = off + bp->bio_length;
	uint64_t hs, he, ts, te, gsz = sc->sc_map.granule;
	int need_head, need_tail;

	hs = rq->rq_g0 << sc->sc_map.shift;
	he = MIN(hs + gsz, sc->sc_size);
	ts = (rq->rq_g1 - 1) << sc->sc_map.shift;
	te = MIN(ts + gsz, sc->sc_size);
	need_head = !(off <= hs && end >= he) &&
	    !lr_bitmap_test(&sc->sc_map.bm, rq->rq_g0);
	need_tail = rq->rq_g1 - 1 != rq->rq_g0 && !(off <= ts && end >= te) &&
	    !lr_bitmap_test(&sc->sc_map.bm, rq->rq_g1 - 1);
	rq->rq_phase = RQ_COPYUP;
	if (need_head || need_tail) {
		rq->rq_buf = malloc((size_t)(need_head + need_tail) * gsz,
		    M_GEOM, M_NOWAIT | M_ZERO);
		if (rq->rq_buf == NULL) {
			g_rowr_seterror(rq, ENOMEM);
			g_rowr_put(rq);
			return;
		}
		if (need_head) {
			rq->rq_head = rq->rq_buf;
			g_rowr_copyup(rq, rq->rq_g0, rq->rq_head);
		}
		if (need_tail) {
			rq->rq_tail = rq->rq_buf + (need_head ? gsz : 0);
			g_rowr_copyup(rq, rq->rq_g1 - 1, rq->rq_tail);
		}
	}
	g_rowr_put(rq);
}

static void
g_rowr_delete(struct g_rowr_req *rq)
{
	struct g_rowr_softc *sc = rq->rq_sc;
	struct bio *bp = rq->rq_bp;
	uint64_t off = bp->bio_offset, end = off + bp->bio_length;
	uint64_t gsz = sc->sc_map.granule, a, e, ga, ge;

	a = roundup2(off, gsz);
	e = end == sc->sc_size ? end : rounddown2(end, gsz);
	if (a < e) {
		ga = a >> sc->sc_map.shift;
		ge = (e + gsz - 1) >> sc->sc_map.shift;
		lr_bitmap_clear_range(&sc->sc_map.bm, ga, ge - ga);
		g_rowr_issue(rq, BIO_DELETE, sc->sc_uppercp, a, e - a, NULL);
	}
	g_rowr_put(rq);
}

/* rq holds its range lock: send its children. */
static void
g_rowr_dispatch(struct g_rowr_req *rq)
{
	rq->rq_pending = 1;
	switch (rq->rq_bp->bio_cmd) {
	case BIO_READ:
		g_rowr_read(rq);
		break;
	case BIO_WRITE:
		g_rowr_write(rq);
		break;
	default:
		g_rowr_delete(rq);
		break;
	}
}

static void
g_rowr_pass_done(struct bio *cbp)
{
	struct g_rowr_softc *sc = cbp->bio_caller1;

	g_std_done(cbp);
	g_rowr_drop(sc);
}

/* BIO_FLUSH, BIO_SPEEDUP and attributes: the upper answers. */
static void
g_rowr_pass(struct g_rowr_softc *sc, struct bio *bp)
{
	struct bio *cbp;

	if ((cbp = g_clone_bio(bp)) == NULL) {
		g_io_deliver(bp, ENOMEM);
		return;
	}
	if (g_rowr_hold(sc) != 0) {
		g_destroy_bio(cbp);
		g_io_deliver(bp, ENXIO);
		return;
	}
	cbp->bio_done = g_rowr_pass_done;
	cbp->bio_caller1 = sc;
	g_io_request(cbp, sc->sc_uppercp);
}

static void
g_rowr_start(struct bio *bp)
{
	struct g_rowr_softc *sc = bp->bio_to->geom->softc;
	struct g_rowr_req *rq;
	uint64_t off, len;

	if (sc == NULL) {
		g_io_deliver(bp, ENXIO);
		return;
	}
	switch (bp->bio_cmd) {
	case BIO_READ:
		atomic_add_long(&sc->sc_reads, 1);
		break;
	case BIO_WRITE:
		atomic_add_long(&sc->sc_writes, 1);
		break;
	case BIO_DELETE:
		atomic_add_long(&sc->sc_deletes, 1);
		break;
	case BIO_FLUSH:
		atomic_add_long(&sc->sc_flushes, 1);
		g_rowr_pass(sc, bp);
		return;
	case BIO_SPEEDUP:
		g_rowr_pass(sc, bp);
		return;
	case BIO_GETATTR:
		if (g_handleattr_int(bp, "GEOM::candelete", 1))
			return;
		if (strcmp(bp->bio_attribute, "GEOM::kerneldump") == 0) {
			g_io_deliver(bp, ENODEV);
			return;
		}
		g_rowr_pass(sc, bp);
		return;
	default:
		g_io_deliver(bp, EOPNOTSUPP);
		return;
	}
	off = (uint64_t)bp->bio_offset;
	len = (uint64_t)bp->bio_length;
	if (bp->bio_offset < 0 || bp->bio_length < 0 || off > sc->sc_size ||
	    len > sc->sc_size - off) {
		g_io_deliver(bp, EIO);
		return;
	}
	if (len == 0) {
		g_io_deliver(bp, 0);
		return;
	}
	if ((rq = g_malloc(sizeof(*rq), M_NOWAIT | M_ZERO)) == NULL) {
		g_io_deliver(bp, ENOMEM);
		return;
	}
	rq->rq_sc = sc;
	rq->rq_bp = bp;
	rq->rq_writer = bp->bio_cmd != BIO_READ;
	lr_rowrmap_span(&sc->sc_map, off, len, &rq->rq_g0, &rq->rq_g1);
	mtx_lock(&sc->sc_mtx);
	if ((sc->sc_flags & G_ROWR_DYING) != 0) {
		mtx_unlock(&sc->sc_mtx);
		g_free(rq);
		g_io_deliver(bp, ENXIO);
		return;
	}
	sc->sc_inflight++;
	if (!g_rowr_admit_locked(sc, rq))
		rq = NULL;		/* a completion dispatches it */
	mtx_unlock(&sc->sc_mtx);
	if (rq != NULL)
		g_rowr_dispatch(rq);
}

/* --- GEOM methods ---------------------------------------------------------- */

static int
g_rowr_access(struct g_provider *pp, int dr, int dw, int de)
{
	struct g_rowr_softc *sc = pp->geom->softc;
	int error = 0;

	g_topology_assert();
	if (dr <= 0 && dw <= 0 && de <= 0)
		return (0);
	if (sc == NULL)
		return (ENXIO);
	mtx_lock(&sc->sc_mtx);
	if ((sc->sc_flags & G_ROWR_DYING) != 0)
		error = ENXIO;
	else if ((sc->sc_flags & G_ROWR_BUSY) != 0)
		error = EBUSY;
	mtx_unlock(&sc->sc_mtx);
	return (error);
}

static void
g_rowr_orphan(struct g_consumer *cp)
{
	struct g_rowr_softc *sc = cp->geom->softc;
	int dying;

	g_topology_assert();
	if (sc == NULL)
		return;
	mtx_lock(&sc->sc_mtx);
	dying = (sc->sc_flags & G_ROWR_DYING) != 0;
	mtx_unlock(&sc->sc_mtx);
	if (dying)
		return;		/* the other one went first */
	G_ROWR_DEBUG(0, "%s: the %s %s went away; %s now fails with ENXIO.",
	    sc->sc_name, cp == sc->sc_lowercp ? "lower" : "upper",
	    cp->provider != NULL ? cp->provider->name : "provider",
	    sc->sc_name);
	(void)g_rowr_destroy(NULL, cp->geom, 1);
}

static void
g_rowr_resize(struct g_consumer *cp)
{
	struct g_rowr_softc *sc = cp->geom->softc;
	off_t need;

	g_topology_assert();
	if (sc == NULL || cp->provider == NULL)
		return;
	need = (off_t)(cp == sc->sc_lowercp ? sc->sc_lowersize : sc->sc_size);
	if (cp->provider->mediasize >= need)
		return;		/* grown: the union keeps its size */
	G_ROWR_DEBUG(0, "%s: %s shrank below %jd bytes; destroying.",
	    sc->sc_name, cp->provider->name, (intmax_t)need);
	(void)g_rowr_destroy(NULL, cp->geom, 1);
}

static void
g_rowr_providergone(struct g_provider *pp)
{
	struct g_rowr_softc *sc = pp->geom->softc;
	int freeit;

	if (sc == NULL)
		return;
	mtx_lock(&sc->sc_mtx);
	sc->sc_flags |= G_ROWR_PPGONE;
	sc->sc_pp = NULL;
	freeit = (sc->sc_flags & G_ROWR_CLOSED) != 0;
	mtx_unlock(&sc->sc_mtx);
	if (freeit)
		g_rowr_free(sc);
}

static void
g_rowr_dumpconf(struct sbuf *sb, const char *indent, struct g_geom *gp,
    struct g_consumer *cp, struct g_provider *pp)
{
	struct g_rowr_softc *sc = gp->softc;
	uint64_t ng, written;
	u_int flags;

	if (sc == NULL || pp != NULL)
		return;
	if (cp != NULL) {
		sbuf_printf(sb, "%s<Role>%s</Role>\n", indent,
		    cp == sc->sc_lowercp ? "lower" : "upper");
		return;
	}
	mtx_lock(&sc->sc_mtx);
	flags = sc->sc_flags;
	mtx_unlock(&sc->sc_mtx);
	ng = sc->sc_map.ngranules;
	written = lr_bitmap_count(&sc->sc_map.bm, 0, ng);
	sbuf_printf(sb, "%s<State>%s</State>\n", indent,
	    (flags & G_ROWR_DYING) ? "DYING" : (flags & G_ROWR_BUSY) ?
	    "BUSY" : "ACTIVE");
	sbuf_printf(sb, "%s<Size>%ju</Size>\n", indent,
	    (uintmax_t)sc->sc_size);
	sbuf_printf(sb, "%s<LowerSize>%ju</LowerSize>\n", indent,
	    (uintmax_t)sc->sc_lowersize);
	sbuf_printf(sb, "%s<Granule>%u</Granule>\n", indent,
	    sc->sc_map.granule);
	sbuf_printf(sb, "%s<Granules>%ju</Granules>\n", indent, (uintmax_t)ng);
	sbuf_printf(sb, "%s<GranulesWritten>%ju</GranulesWritten>\n", indent,
	    (uintmax_t)written);
	sbuf_printf(sb, "%s<Fill>%ju.%02ju</Fill>\n", indent,
	    (uintmax_t)(written * 100 / ng),
	    (uintmax_t)(written * 10000 / ng % 100));
	sbuf_printf(sb, "%s<MapBytes>%ju</MapBytes>\n", indent,
	    (uintmax_t)lr_rowrmap_mem_bytes(&sc->sc_map));
	sbuf_printf(sb, "%s<Reads>%lu</Reads>\n", indent,
	    atomic_load_long(&sc->sc_reads));
	sbuf_printf(sb, "%s<Writes>%lu</Writes>\n", indent,
	    atomic_load_long(&sc->sc_writes));
	sbuf_printf(sb, "%s<Deletes>%lu</Deletes>\n", indent,
	    atomic_load_long(&sc->sc_deletes));
	sbuf_printf(sb, "%s<Flushes>%lu</Flushes>\n", indent,
	    atomic_load_long(&sc->sc_flushes));
	sbuf_printf(sb, "%s<CopyUps>%lu</CopyUps>\n", indent,
	    atomic_load_long(&sc->sc_copyups));
	sbuf_printf(sb, "%s<Waits>%lu</Waits>\n", indent,
	    atomic_load_long(&sc->sc_waits));
	sbuf_printf(sb, "%s<Errors>%lu</Errors>\n", indent,
	    atomic_load_long(&sc->sc_errors));
}

/*
 * Destroy (or, force, tear down while open: orphaning does that).  The
 * provider withers at once; the consumers close when nothing is in flight.
 */
static int
g_rowr_destroy(struct gctl_req *req, struct g_geom *gp, int force)
{
	struct g_rowr_softc *sc = gp->softc;
	struct g_provider *pp;
	int close_now;

	g_topology_assert();
	if (sc == NULL)
		return (ENXIO);
	pp = sc->sc_pp;
	mtx_lock(&sc->sc_mtx);
	if ((sc->sc_flags & G_ROWR_DYING) != 0) {
		mtx_unlock(&sc->sc_mtx);
		return (0);
	}
	if (!force && (sc->sc_flags & G_ROWR_BUSY) != 0) {
		mtx_unlock(&sc->sc_mtx);
		gctl_msg(req, EBUSY, "%s: a commit or revert is running; "
		    "wait for it to end.", gp->name);
		return (EBUSY);
	}
	if (!force && pp != NULL && (pp->acr != 0 || pp->acw != 0 ||
	    pp->ace != 0)) {
		mtx_unlock(&sc->sc_mtx);
		gctl_msg(req, EBUSY, "%s is open (r%dw%de%d): unmount it "
		    "(or export the pool) first, or destroy it with -f.",
		    gp->name, pp->acr, pp->acw, pp->ace);
		return (EBUSY);
	}
	sc->sc_flags |= G_ROWR_DYING;
	close_now = sc->sc_inflight == 0;
	if (close_now)
		sc->sc_flags |= G_ROWR_CLOSING;
	mtx_unlock(&sc->sc_mtx);
	if (req != NULL)
		gctl_msg(req, 0, "%s destroyed.", gp->name);
	G_ROWR_DEBUG(1, "%s: destroying%s.", gp->name, force ? " (forced)" :
	    "");
	g_wither_geom(gp, ENXIO);
	if (close_now)
		g_rowr_close(sc);
	return (0);
}

static int
g_rowr_destroy_geom(struct gctl_req *req, struct g_class *mp,
    struct g_geom *gp)
{
	return (g_rowr_destroy(NULL, gp, 0));
}

/* --- control verbs -------------------------------------------------------- */

static intmax_t
g_rowr_numarg(struct gctl_req *req, const char *name)
{
	intmax_t *v;

	v = gctl_get_paraml_opt(req, name, sizeof(*v));
	return (v == NULL ? 0 : *v);
}

static int
g_rowr_flag(struct gctl_req *req, const char *name)
{
	int *v;

	v = gctl_get_paraml_opt(req, name, sizeof(*v));
	return (v != NULL && *v != 0);
}

static int
g_rowr_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= G_ROWR_NAMELEN)
		return (0);
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return (0);
	}
	return (1);
}

static void
g_rowr_ctl_create(struct gctl_req *req, struct g_class *mp, int verbose)
{
	struct g_provider *lowerpp, *upperpp, *pp;
	struct g_consumer *lowercp, *uppercp;
	struct g_rowr_softc *sc;
	struct g_geom *gp;
	struct diag d;
	const char *name;
	intmax_t granule, size;
	uint64_t mapbytes;
	u_int secsize;
	int *nargs, error;

	g_topology_assert();
	nargs = gctl_get_paraml(req, "nargs", sizeof(*nargs));
	if (nargs == NULL || *nargs != 3) {
		gctl_error(req, "Usage: geom rowr create [-v] [-g granule] "
		    "[-s size] name rodev rwdev");
		return;
	}
	name = gctl_get_asciiparam(req, "arg0");
	if (name == NULL || !g_rowr_name_ok(name)) {
		gctl_error(req, "Invalid name '%s': use 1 to %d letters, "
		    "digits, '.', '_' or '-' (e.g. rowr0).", name == NULL ?
		    "" : name, G_ROWR_NAMELEN - 1);
		return;
	}
	if ((lowerpp = gctl_get_provider(req, "arg1")) == NULL ||
	    (upperpp = gctl_get_provider(req, "arg2")) == NULL)
		return;		/* gctl_get_provider() said why */
	if (lowerpp == upperpp) {
		gctl_error(req, "The lower and the upper are the same "
		    "provider (%s): name a writable device as rwdev.",
		    lowerpp->name);
		return;
	}
	LIST_FOREACH(gp, &mp->geom, geom)
		if (strcmp(gp->name, name) == 0) {
			gctl_error(req, "A rowr device %s exists already: "
			    "pick another name, or destroy it first.", name);
			return;
		}
	if (g_provider_by_name(name) != NULL) {
		gctl_error(req, "A provider named %s exists already: pick "
		    "another name.", name);
		return;
	}
	secsize = MAX(lowerpp->sectorsize, upperpp->sectorsize);
	if (secsize % lowerpp->sectorsize != 0 ||
	    secsize % upperpp->sectorsize != 0) {
		gctl_error(req, "Sector sizes %u (%s) and %u (%s) do not "
		    "divide each other.", lowerpp->sectorsize, lowerpp->name,
		    upperpp->sectorsize, upperpp->name);
		return;
	}
	granule = g_rowr_numarg(req, "granule");
	if (granule == 0)
		granule = MAX(4096, secsize);
	if (granule < 0 || granule > LR_ROWRMAP_GRANULE_MAX ||
	    lr_rowrmap_check_granule((uint32_t)granule) != 0 ||
	    granule % secsize != 0) {
		gctl_error(req, "Invalid granule %jd: use a power of 2 from "
		    "%u to %u, at least the sector size %u (default %u).",
		    granule, MAX(LR_ROWRMAP_GRANULE_MIN, secsize),
		    LR_ROWRMAP_GRANULE_MAX, secsize, MAX(4096, secsize));
		return;
	}
	size = g_rowr_numarg(req, "size");
	if (size == 0)
		size = roundup2(lowerpp->mediasize, (off_t)secsize);
	if (size < 0 || size % secsize != 0) {
		gctl_error(req, "Invalid size %jd: use a multiple of the "
		    "sector size %u.", size, secsize);
		return;
	}
	if (size > upperpp->mediasize) {
		gctl_error(req, "The upper %s is %jd bytes, smaller than the "
		    "union (%jd bytes): use an upper of at least %jd bytes "
		    "(any size from there up works), or a smaller -s.",
		    upperpp->name, (intmax_t)upperpp->mediasize,
		    (intmax_t)size, (intmax_t)size);
		return;
	}
	mapbytes = lr_rowrmap_bitmap_bytes((uint64_t)size, (uint32_t)granule);
	if (mapbytes > g_rowr_maxmap) {
		gctl_error(req, "A %jd-byte union at granule %jd needs a "
		    "%ju-byte map, over kern.geom.rowr.maxmap (%lu): use a "
		    "larger -g, or raise the sysctl.", size, granule,
		    (uintmax_t)mapbytes, g_rowr_maxmap);
		return;
	}

	gp = g_new_geomf(mp, "%s", name);
	sc = g_malloc(sizeof(*sc), M_WAITOK | M_ZERO);
	if ((error = lr_rowrmap_init(&sc->sc_map, (uint64_t)size,
	    (uint32_t)granule, 0, &g_rowr_allocator, &d)) != 0) {
		gctl_error(req, "%s: %s.", name, d.msg);
		goto fail_sc;
	}
	mtx_init(&sc->sc_mtx, "growr", NULL, MTX_DEF);
	TAILQ_INIT(&sc->sc_wait);
	strlcpy(sc->sc_name, name, sizeof(sc->sc_name));
	sc->sc_geom = gp;
	sc->sc_size = (uint64_t)size;
	sc->sc_lowersize = (uint64_t)lowerpp->mediasize;
	sc->sc_close_ev = g_alloc_event(M_WAITOK);
	gp->softc = sc;

	pp = g_new_providerf(gp, "%s", name);
	pp->mediasize = size;
	pp->sectorsize = secsize;
	pp->stripesize = granule;
	pp->stripeoffset = 0;
	sc->sc_pp = pp;

	lowercp = g_new_consumer(gp);
	if ((error = g_attach(lowercp, lowerpp)) != 0) {
		gctl_error(req, "Cannot attach to %s (error %d).",
		    lowerpp->name, error);
		goto fail_lowercp;
	}
	if ((error = g_access(lowercp, 1, 0, 1)) != 0) {
		gctl_error(req, "Cannot open the lower %s exclusively (error "
		    "%d): it is open for writing (mounted read-write?); "
		    "unmount it or mount it read-only first.", lowerpp->name,
		    error);
		goto fail_lowerattach;
	}
	uppercp = g_new_consumer(gp);
	if ((error = g_attach(uppercp, upperpp)) != 0) {
		gctl_error(req, "Cannot attach to %s (error %d).",
		    upperpp->name, error);
		goto fail_uppercp;
	}
	if ((error = g_access(uppercp, 1, 1, 1)) != 0) {
		gctl_error(req, "Cannot open the upper %s for exclusive "
		    "writing (error %d): is it mounted, read-only, or in use?",
		    upperpp->name, error);
		goto fail_upperattach;
	}
	sc->sc_lowercp = lowercp;
	sc->sc_uppercp = uppercp;
	g_error_provider(pp, 0);
	if (verbose)
		gctl_msg(req, 0, "%s created: %jd bytes, granule %jd, map "
		    "%ju bytes.", name, size, granule,
		    (uintmax_t)lr_rowrmap_mem_bytes(&sc->sc_map));
	gctl_post_messages(req);
	G_ROWR_DEBUG(1, "%s created on %s (lower) and %s (upper).", name,
	    lowerpp->name, upperpp->name);
	return;

fail_upperattach:
	g_detach(uppercp);
fail_uppercp:
	g_destroy_consumer(uppercp);
	g_access(lowercp, -1, 0, -1);
fail_lowerattach:
	g_detach(lowercp);
fail_lowercp:
	g_destroy_consumer(lowercp);
	gp->softc = NULL;
	g_destroy_provider(pp);
	g_free(sc->sc_close_ev);
	mtx_destroy(&sc->sc_mtx);
	lr_rowrmap_fini(&sc->sc_map);
fail_sc:
	g_free(sc);
	g_destroy_geom(gp);
}

/* The rowr geom named by argI, or NULL with a message. */
static struct g_geom *
g_rowr_find(struct gctl_req *req, struct g_class *mp, int i)
{
	struct g_geom *gp;
	const char *name;
	char param[16];

	snprintf(param, sizeof(param), "arg%d", i);
	if ((name = gctl_get_asciiparam(req, param)) == NULL) {
		gctl_msg(req, EINVAL, "No '%s' argument.", param);
		return (NULL);
	}
	if (strncmp(name, _PATH_DEV, strlen(_PATH_DEV)) == 0)
		name += strlen(_PATH_DEV);
	LIST_FOREACH(gp, &mp->geom, geom)
		if (strcmp(gp->name, name) == 0 && gp->softc != NULL)
			return (gp);
	gctl_msg(req, EINVAL, "No rowr device %s ('geom rowr list' shows "
	    "them).", name);
	return (NULL);
}

static int
g_rowr_nargs(struct gctl_req *req)
{
	int *nargs;

	nargs = gctl_get_paraml(req, "nargs", sizeof(*nargs));
	if (nargs == NULL || *nargs <= 0) {
		gctl_error(req, "Name at least one rowr device.");
		return (0);
	}
	return (*nargs);
}

static void
g_rowr_ctl_destroy(struct gctl_req *req, struct g_class *mp, int verbose)
{
	struct g_geom *gp;
	int i, n, force;

	g_topology_assert();
	if ((n = g_rowr_nargs(req)) == 0)
		return;
	force = g_rowr_flag(req, "force");
	for (i = 0; i < n; i++)
		if ((gp = g_rowr_find(req, mp, i)) != NULL)
			(void)g_rowr_destroy(verbose ? req : NULL, gp, force);
	gctl_post_messages(req);
}

static int
g_rowr_sync_io(struct g_consumer *cp, int cmd, uint64_t off, uint64_t len,
    void *data)
{
	struct bio *bp;
	int error;

	bp = g_alloc_bio();
	bp->bio_cmd = cmd;
	bp->bio_offset = (off_t)off;
	bp->bio_length = (off_t)len;
	bp->bio_data = data;
	bp->bio_done = NULL;
	g_io_request(bp, cp);
	error = biowait(bp, "growrio");
	g_destroy_bio(bp);
	return (error);
}

/*
 * Start a commit or revert: the device must be closed (commit -f: open
 * read-only at most).  Marks it BUSY (new opens fail) and holds it.
 */
static struct g_rowr_softc *
g_rowr_begin(struct gctl_req *req, struct g_geom *gp, int force,
    const char *verb)
{
	struct g_rowr_softc *sc = gp->softc;
	struct g_provider *pp = sc->sc_pp;

	g_topology_assert();
	if (pp != NULL && ((!force && pp->acr != 0) || pp->acw != 0 ||
	    pp->ace != 0)) {
		gctl_msg(req, EBUSY, "Cannot %s %s while it is open "
		    "(r%dw%de%d): unmount it first%s.", verb, gp->name,
		    pp->acr, pp->acw, pp->ace, strcmp(verb, "commit") == 0 ?
		    " (-f allows read-only users)" : "");
		return (NULL);
	}
	mtx_lock(&sc->sc_mtx);
	if ((sc->sc_flags & (G_ROWR_DYING | G_ROWR_BUSY)) != 0) {
		mtx_unlock(&sc->sc_mtx);
		gctl_msg(req, EBUSY, "Cannot %s %s: it is %s.", verb,
		    gp->name, (sc->sc_flags & G_ROWR_DYING) ? "going away" :
		    "busy with another commit or revert");
		return (NULL);
	}
	sc->sc_flags |= G_ROWR_BUSY;
	sc->sc_inflight++;
	mtx_unlock(&sc->sc_mtx);
	return (sc);
}

static void
g_rowr_end(struct g_rowr_softc *sc)
{
	mtx_lock(&sc->sc_mtx);
	sc->sc_flags &= ~G_ROWR_BUSY;
	mtx_unlock(&sc->sc_mtx);
	g_rowr_drop(sc);
}

/* Forget every write, and give the upper's blocks back; whole lock held. */
static void
g_rowr_forget(struct g_rowr_softc *sc)
{
	lr_bitmap_clear_all(&sc->sc_map.bm);
	(void)g_rowr_sync_io(sc->sc_uppercp, BIO_DELETE, 0, sc->sc_size, NULL);
}

static void
g_rowr_ctl_revert(struct gctl_req *req, struct g_class *mp, int verbose)
{
	struct g_rowr_softc *sc;
	struct g_rowr_req lk;
	struct g_geom *gp;
	int i, n;

	g_topology_assert();
	if ((n = g_rowr_nargs(req)) == 0)
		return;
	for (i = 0; i < n; i++) {
		if ((gp = g_rowr_find(req, mp, i)) == NULL ||
		    (sc = g_rowr_begin(req, gp, 0, "revert")) == NULL)
			continue;
		g_topology_unlock();
		g_rowr_lock_all(sc, &lk);
		g_rowr_forget(sc);
		g_rowr_unlock(sc, lk.rq_slot);
		g_topology_lock();
		if (verbose)
			gctl_msg(req, 0, "%s reverted.", sc->sc_name);
		G_ROWR_DEBUG(1, "%s reverted.", sc->sc_name);
		g_rowr_end(sc);
	}
	gctl_post_messages(req);
}

/* Copy every written run upper -> lower, flush the lower; whole lock held. */
static int
g_rowr_copy_down(struct gctl_req *req, struct g_rowr_softc *sc,
    uint64_t *skipped)
{
	uint64_t g, ge, s, e, ng = sc->sc_map.ngranules;
	uint8_t *buf;
	size_t n;
	int error = 0;

	buf = malloc(G_ROWR_CHUNK, M_GEOM, M_WAITOK);
	*skipped = 0;
	for (g = lr_bitmap_next_set(&sc->sc_map.bm, 0, ng); g < ng &&
	    error == 0; g = lr_bitmap_next_set(&sc->sc_map.bm, ge, ng)) {
		ge = lr_bitmap_run_end(&sc->sc_map.bm, g, ng);
		s = g << sc->sc_map.shift;
		e = MIN(ge << sc->sc_map.shift, sc->sc_size);
		if (e > sc->sc_lowersize) {
			*skipped += e - MAX(s, sc->sc_lowersize);
			e = MAX(s, sc->sc_lowersize);
		}
		for (; s < e && error == 0; s += n) {
			n = (size_t)MIN(e - s, G_ROWR_CHUNK);
			if ((error = g_rowr_sync_io(sc->sc_uppercp, BIO_READ, s,
			    n, buf)) != 0)
				gctl_msg(req, error, "Commit of %s: reading "
				    "the upper at %ju failed (error %d); "
				    "nothing was forgotten, the lower holds a "
				    "partial copy.", sc->sc_name, (uintmax_t)s,
				    error);
			else if ((error = g_rowr_sync_io(sc->sc_lowercp,
			    BIO_WRITE, s, n, buf)) != 0)
				gctl_msg(req, error, "Commit of %s: writing "
				    "the lower at %ju failed (error %d); "
				    "nothing was forgotten, the lower holds a "
				    "partial copy.", sc->sc_name, (uintmax_t)s,
				    error);
		}
	}
	free(buf, M_GEOM);
	if (error != 0)
		return (error);
	error = g_rowr_sync_io(sc->sc_lowercp, BIO_FLUSH, 0, 0, NULL);
	if (error == EOPNOTSUPP)
		error = 0;
	if (error != 0)
		gctl_msg(req, error, "Commit of %s: flushing the lower failed "
		    "(error %d); nothing was forgotten.", sc->sc_name, error);
	return (error);
}

static void
g_rowr_ctl_commit(struct gctl_req *req, struct g_class *mp, int verbose)
{
	struct g_rowr_softc *sc;
	struct g_provider *lowerpp;
	struct g_consumer *lowercp;
	struct g_rowr_req lk;
	struct g_geom *gp;
	uint64_t skipped;
	int i, n, force, error;

	g_topology_assert();
	if ((n = g_rowr_nargs(req)) == 0)
		return;
	force = g_rowr_flag(req, "force");
	for (i = 0; i < n; i++) {
		if ((gp = g_rowr_find(req, mp, i)) == NULL ||
		    (sc = g_rowr_begin(req, gp, force, "commit")) == NULL)
			continue;
		lowercp = sc->sc_lowercp;
		lowerpp = lowercp->provider;
		if (!force && lowerpp->acr > lowercp->acr) {
			gctl_msg(req, EBUSY, "Cannot commit %s: its lower %s "
			    "is also open elsewhere (r%d); unmount that, or "
			    "use -f.", gp->name, lowerpp->name, lowerpp->acr);
			g_rowr_end(sc);
			continue;
		}
		if ((error = g_access(lowercp, 0, 1, 0)) != 0) {
			gctl_msg(req, error, "Cannot commit %s: the lower %s "
			    "cannot be opened for writing (error %d); a "
			    "read-only lower (uzip, a CD) cannot take a "
			    "commit.", gp->name, lowerpp->name, error);
			g_rowr_end(sc);
			continue;
		}
		g_topology_unlock();
		g_rowr_lock_all(sc, &lk);
		error = g_rowr_copy_down(req, sc, &skipped);
		if (error == 0)
			g_rowr_forget(sc);
		g_rowr_unlock(sc, lk.rq_slot);
		g_topology_lock();
		g_access(lowercp, 0, -1, 0);
		if (error == 0 && skipped != 0)
			gctl_msg(req, 0, "%s: %ju bytes written past the end "
			    "of the lower could not be committed and were "
			    "dropped.", sc->sc_name, (uintmax_t)skipped);
		if (error == 0 && verbose)
			gctl_msg(req, 0, "%s committed.", sc->sc_name);
		G_ROWR_DEBUG(1, "%s: commit ended (error %d).", sc->sc_name,
		    error);
		g_rowr_end(sc);
	}
	gctl_post_messages(req);
}

static const struct {
	const char	*verb;
	void		(*fn)(struct gctl_req *, struct g_class *, int);
} g_rowr_verbs[] = {
	{ "create", g_rowr_ctl_create },
	{ "destroy", g_rowr_ctl_destroy },
	{ "revert", g_rowr_ctl_revert },
	{ "commit", g_rowr_ctl_commit },
};

static void
g_rowr_config(struct gctl_req *req, struct g_class *mp, const char *verb)
{
	uint32_t *version;
	size_t i;

	g_topology_assert();
	version = gctl_get_paraml(req, "version", sizeof(*version));
	if (version == NULL) {
		gctl_error(req, "No '%s' argument.", "version");
		return;
	}
	if (*version != G_ROWR_VERSION) {
		gctl_error(req, "geom_rowr.so speaks version %u, the "
		    "geom_rowr module %u: install both from one build.",
		    *version, G_ROWR_VERSION);
		return;
	}
	for (i = 0; i < nitems(g_rowr_verbs); i++)
		if (strcmp(verb, g_rowr_verbs[i].verb) == 0) {
			g_rowr_verbs[i].fn(req, mp,
			    g_rowr_flag(req, "verbose"));
			return;
		}
	gctl_error(req, "Unknown verb '%s' (create, destroy, revert, "
	    "commit).", verb);
}

DECLARE_GEOM_CLASS(g_rowr_class, g_rowr);
MODULE_VERSION(geom_rowr, 0);
