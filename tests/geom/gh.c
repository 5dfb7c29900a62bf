/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gh.c - the userland GEOM harness; see gh.h for the model.
 *
 * Locking: the topology lock (a pthread mutex with an owner) guards the
 * class/geom/provider/consumer lists and the access counts; fields that the
 * I/O path reads without it (access counts, pp->error, cp->flags, nstart and
 * nend) are read and written with atomics, as FreeBSD's plain ints are
 * racy-by-design.  Each queue (down, up, events) has its own mutex.
 */
#define _GNU_SOURCE	/* vasprintf */
#include "gh.h"

#include <sys/mutex.h>
#include <sys/sbuf.h>

#include <unistd.h>

/* This file is the allocator: the libc malloc/free, not the kernel's. */
#undef malloc
#undef free

#define	LOAD(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define	STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define	ADD(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define	OR(p, v)	__atomic_or_fetch((p), (v), __ATOMIC_SEQ_CST)

struct malloc_type M_GEOM[1] = { { "GEOM" } };

static unsigned gh_nviolations;
static unsigned gh_nowait_permille;
static int gh_delays = 1;
static uint64_t gh_seed;
static uint64_t gh_counter;

uint64_t
gh_rand(void)
{
	uint64_t z = ADD(&gh_counter, 1) * 0x9e3779b97f4a7c15ull + gh_seed;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31));
}

static void
gh_violation(const char *fmt, ...)
{
	va_list ap;

	ADD(&gh_nviolations, 1);
	fprintf(stderr, "GEOM VIOLATION: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

unsigned
gh_violations(void)
{
	return (LOAD(&gh_nviolations));
}

void
gh_assert_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "KASSERT failed at %s:%d: %s\n", file, line, what);
	abort();
}

void
gh_set_nowait_fail(unsigned permille)
{
	STORE(&gh_nowait_permille, permille);
}

void
gh_set_delays(int on)
{
	STORE(&gh_delays, on);
}

static int
gh_nowait_fails(void)
{
	unsigned p = LOAD(&gh_nowait_permille);

	return (p != 0 && gh_rand() % 1000 < p);
}

void *
gh_malloc(size_t size, struct malloc_type *type, int flags)
{
	if ((flags & M_NOWAIT) != 0 && gh_nowait_fails())
		return (NULL);
	if (size == 0)
		size = 1;
	return ((flags & M_ZERO) != 0 ? calloc(1, size) : malloc(size));
}

void
gh_free(void *p, struct malloc_type *type)
{
	free(p);
}

size_t
gh_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return (n);
}

/* --- mutexes and sleep ---------------------------------------------------- */

void
mtx_init(struct mtx *m, const char *name, const char *type, int opts)
{
	pthread_mutex_init(&m->m, NULL);
	m->owned = 0;
}

void
mtx_destroy(struct mtx *m)
{
	if (LOAD(&m->owned))
		gh_violation("mtx_destroy of a held mutex");
	pthread_mutex_destroy(&m->m);
}

void
mtx_lock(struct mtx *m)
{
	pthread_mutex_lock(&m->m);
	m->owner = pthread_self();
	STORE(&m->owned, 1);
}

void
mtx_unlock(struct mtx *m)
{
	STORE(&m->owned, 0);
	pthread_mutex_unlock(&m->m);
}

void
gh_mtx_assert(struct mtx *m, int what, const char *file, int line)
{
	int mine = LOAD(&m->owned) && pthread_equal(m->owner, pthread_self());

	if ((what == MA_OWNED) != mine)
		gh_assert_fail(file, line, what == MA_OWNED ?
		    "mutex not owned" : "mutex owned");
}

static pthread_mutex_t gh_sleep_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gh_sleep_cv = PTHREAD_COND_INITIALIZER;
static uint64_t gh_sleep_gen;

/* Every wakeup() wakes every sleeper; sleepers re-check their condition. */
int
msleep(void *chan, struct mtx *m, int pri, const char *wmesg, int timo)
{
	uint64_t gen;

	pthread_mutex_lock(&gh_sleep_m);
	gen = gh_sleep_gen;
	mtx_unlock(m);
	while (gen == gh_sleep_gen)
		pthread_cond_wait(&gh_sleep_cv, &gh_sleep_m);
	pthread_mutex_unlock(&gh_sleep_m);
	mtx_lock(m);
	return (0);
}

void
wakeup(void *chan)
{
	pthread_mutex_lock(&gh_sleep_m);
	gh_sleep_gen++;
	pthread_cond_broadcast(&gh_sleep_cv);
	pthread_mutex_unlock(&gh_sleep_m);
}

/* --- topology ------------------------------------------------------------- */

static pthread_mutex_t gh_topo = PTHREAD_MUTEX_INITIALIZER;
static pthread_t gh_topo_owner;
static int gh_topo_held;
static LIST_HEAD(, g_class) gh_classes = LIST_HEAD_INITIALIZER(gh_classes);

void
gh_topology_lock(void)
{
	pthread_mutex_lock(&gh_topo);
	gh_topo_owner = pthread_self();
	STORE(&gh_topo_held, 1);
}

void
gh_topology_unlock(void)
{
	STORE(&gh_topo_held, 0);
	pthread_mutex_unlock(&gh_topo);
}

int
gh_topology_locked(void)
{
	return (LOAD(&gh_topo_held) && pthread_equal(gh_topo_owner,
	    pthread_self()));
}

void
gh_topology_assert(const char *file, int line)
{
	if (!gh_topology_locked())
		gh_assert_fail(file, line, "topology lock not held");
}

/* --- queues and threads --------------------------------------------------- */

struct gh_queue {
	pthread_mutex_t	 m;
	pthread_cond_t	 cv;
	TAILQ_HEAD(, bio) q;
	unsigned	 n;
	unsigned	 busy;
	int		 stop;
	void		(*run)(struct bio *);
	pthread_t	 th[8];
	unsigned	 nth;
};

static struct gh_queue gh_down, gh_up;

struct g_event {
	TAILQ_ENTRY(g_event) events;
	g_event_t	*func;
	void		*arg;
	void		*ref[4];
};

static pthread_mutex_t gh_ev_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gh_ev_cv = PTHREAD_COND_INITIALIZER;
static TAILQ_HEAD(, g_event) gh_events = TAILQ_HEAD_INITIALIZER(gh_events);
static int gh_ev_busy, gh_ev_stop, gh_wither_pending;
static pthread_t gh_ev_thread;

static void
gh_enqueue(struct gh_queue *q, struct bio *bp)
{
	pthread_mutex_lock(&q->m);
	TAILQ_INSERT_TAIL(&q->q, bp, bio_queue);
	q->n++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->m);
}

static void *
gh_worker(void *arg)
{
	struct gh_queue *q = arg;
	struct bio *bp;
	unsigned i, k;

	pthread_mutex_lock(&q->m);
	for (;;) {
		while (q->n == 0 && !q->stop)
			pthread_cond_wait(&q->cv, &q->m);
		if (q->n == 0)
			break;
		/* Any of the first few: bios overtake each other. */
		k = (unsigned)(gh_rand() % (q->n < 8 ? q->n : 8));
		bp = TAILQ_FIRST(&q->q);
		for (i = 0; i < k; i++)
			bp = TAILQ_NEXT(bp, bio_queue);
		TAILQ_REMOVE(&q->q, bp, bio_queue);
		q->n--;
		q->busy++;
		pthread_mutex_unlock(&q->m);
		q->run(bp);
		pthread_mutex_lock(&q->m);
		q->busy--;
	}
	pthread_mutex_unlock(&q->m);
	return (NULL);
}

static void
gh_run_down(struct bio *bp)
{
	struct g_provider *pp = bp->bio_to;

	pp->geom->start(bp);
}

static void
gh_run_up(struct bio *bp)
{
	biodone(bp);
}

static void gh_washer(void);

static void
gh_do_wither(void)
{
	pthread_mutex_lock(&gh_ev_m);
	gh_wither_pending = 1;
	pthread_cond_signal(&gh_ev_cv);
	pthread_mutex_unlock(&gh_ev_m);
}

static void *
gh_event_thread(void *arg)
{
	struct g_event *ep;
	int wash;

	pthread_mutex_lock(&gh_ev_m);
	for (;;) {
		while (TAILQ_EMPTY(&gh_events) && !gh_wither_pending &&
		    !gh_ev_stop)
			pthread_cond_wait(&gh_ev_cv, &gh_ev_m);
		if (TAILQ_EMPTY(&gh_events) && !gh_wither_pending)
			break;
		if ((ep = TAILQ_FIRST(&gh_events)) != NULL)
			TAILQ_REMOVE(&gh_events, ep, events);
		wash = gh_wither_pending;
		gh_wither_pending = 0;
		gh_ev_busy = 1;
		pthread_mutex_unlock(&gh_ev_m);
		gh_topology_lock();
		if (ep != NULL) {
			ep->func(ep->arg, 0);
			free(ep);
		}
		if (wash)
			gh_washer();
		gh_topology_unlock();
		pthread_mutex_lock(&gh_ev_m);
		gh_ev_busy = 0;
	}
	pthread_mutex_unlock(&gh_ev_m);
	return (NULL);
}

static void
gh_queue_start(struct gh_queue *q, unsigned n, void (*run)(struct bio *))
{
	unsigned i;

	pthread_mutex_init(&q->m, NULL);
	pthread_cond_init(&q->cv, NULL);
	TAILQ_INIT(&q->q);
	q->n = q->busy = 0;
	q->stop = 0;
	q->run = run;
	q->nth = n < 1 ? 1 : n > 8 ? 8 : n;
	for (i = 0; i < q->nth; i++)
		pthread_create(&q->th[i], NULL, gh_worker, q);
}

static void
gh_queue_stop(struct gh_queue *q)
{
	unsigned i;

	pthread_mutex_lock(&q->m);
	q->stop = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->m);
	for (i = 0; i < q->nth; i++)
		pthread_join(q->th[i], NULL);
	pthread_mutex_destroy(&q->m);
	pthread_cond_destroy(&q->cv);
}

static int
gh_queue_idle(struct gh_queue *q)
{
	int idle;

	pthread_mutex_lock(&q->m);
	idle = q->n == 0 && q->busy == 0;
	pthread_mutex_unlock(&q->m);
	return (idle);
}

static int
gh_events_idle(void)
{
	int idle;

	pthread_mutex_lock(&gh_ev_m);
	idle = TAILQ_EMPTY(&gh_events) && !gh_ev_busy && !gh_wither_pending;
	pthread_mutex_unlock(&gh_ev_m);
	return (idle);
}

void
gh_settle(void)
{
	int quiet = 0;

	/* Quiet three looks in a row: a completion may post an event. */
	while (quiet < 3) {
		if (gh_queue_idle(&gh_down) && gh_queue_idle(&gh_up) &&
		    gh_events_idle())
			quiet++;
		else
			quiet = 0;
		usleep(200);
	}
}

void
gh_init(unsigned ndown, unsigned nup, uint64_t seed)
{
	gh_seed = seed;
	gh_ev_stop = 0;
	gh_queue_start(&gh_down, ndown, gh_run_down);
	gh_queue_start(&gh_up, nup, gh_run_up);
	pthread_create(&gh_ev_thread, NULL, gh_event_thread, NULL);
}

void
gh_fini(void)
{
	gh_settle();
	gh_queue_stop(&gh_down);
	gh_queue_stop(&gh_up);
	pthread_mutex_lock(&gh_ev_m);
	gh_ev_stop = 1;
	pthread_cond_broadcast(&gh_ev_cv);
	pthread_mutex_unlock(&gh_ev_m);
	pthread_join(gh_ev_thread, NULL);
}

/* --- events --------------------------------------------------------------- */

struct g_event *
g_alloc_event(int flag)
{
	return (calloc(1, sizeof(struct g_event)));
}

static void
gh_post(g_event_t *func, void *arg, struct g_event *ep, va_list ap)
{
	void *p;
	int n;

	ep->func = func;
	ep->arg = arg;
	for (n = 0; n < 4 && (p = va_arg(ap, void *)) != NULL; n++)
		ep->ref[n] = p;
	pthread_mutex_lock(&gh_ev_m);
	TAILQ_INSERT_TAIL(&gh_events, ep, events);
	pthread_cond_signal(&gh_ev_cv);
	pthread_mutex_unlock(&gh_ev_m);
}

int
g_post_event(g_event_t *func, void *arg, int flag, ...)
{
	struct g_event *ep;
	va_list ap;

	if ((ep = g_alloc_event(flag)) == NULL)
		return (ENOMEM);
	va_start(ap, flag);
	gh_post(func, arg, ep, ap);
	va_end(ap);
	return (0);
}

void
g_post_event_ep(g_event_t *func, void *arg, struct g_event *ep, ...)
{
	va_list ap;

	va_start(ap, ep);
	gh_post(func, arg, ep, ap);
	va_end(ap);
}

void
g_cancel_event(void *ref)
{
	TAILQ_HEAD(, g_event) gone = TAILQ_HEAD_INITIALIZER(gone);
	struct g_event *ep, *tmp;
	int i;

	pthread_mutex_lock(&gh_ev_m);
	TAILQ_FOREACH_SAFE(ep, &gh_events, events, tmp)
		for (i = 0; i < 4; i++)
			if (ep->ref[i] != NULL && ep->ref[i] == ref) {
				TAILQ_REMOVE(&gh_events, ep, events);
				TAILQ_INSERT_TAIL(&gone, ep, events);
				break;
			}
	pthread_mutex_unlock(&gh_ev_m);
	while ((ep = TAILQ_FIRST(&gone)) != NULL) {
		TAILQ_REMOVE(&gone, ep, events);
		ep->func(ep->arg, EV_CANCEL);
		free(ep);
	}
}

/* --- geoms, providers, consumers ------------------------------------------- */

int
g_modevent(module_t mod, int type, void *data)
{
	return (0);
}

void
gh_add_class(struct g_class *mp)
{
	gh_topology_lock();
	LIST_INIT(&mp->geom);
	LIST_INSERT_HEAD(&gh_classes, mp, class);
	if (mp->init != NULL)
		mp->init(mp);
	gh_topology_unlock();
}

int
gh_remove_class(struct g_class *mp)
{
	int error = 0;

	gh_topology_lock();
	if (!LIST_EMPTY(&mp->geom))
		error = EBUSY;
	else {
		if (mp->fini != NULL)
			mp->fini(mp);
		LIST_REMOVE(mp, class);
	}
	gh_topology_unlock();
	return (error);
}

/* The name made of fmt and ap (vasprintf; no memory aborts). */
static char *
gh_vname(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	return (s);
}

struct g_geom *
g_new_geomf(struct g_class *mp, const char *fmt, ...)
{
	struct g_geom *gp;
	va_list ap;

	g_topology_assert();
	gp = calloc(1, sizeof(*gp));
	va_start(ap, fmt);
	gp->name = gh_vname(fmt, ap);
	va_end(ap);
	gp->class = mp;
	LIST_INIT(&gp->consumer);
	LIST_INIT(&gp->provider);
	gp->rank = 1;
	gp->start = mp->start;
	gp->spoiled = mp->spoiled;
	gp->attrchanged = mp->attrchanged;
	gp->dumpconf = mp->dumpconf;
	gp->access = mp->access;
	gp->orphan = mp->orphan;
	gp->ioctl = mp->ioctl;
	gp->providergone = mp->providergone;
	gp->resize = mp->resize;
	LIST_INSERT_HEAD(&mp->geom, gp, geom);
	return (gp);
}

void
g_destroy_geom(struct g_geom *gp)
{
	g_topology_assert();
	if (!LIST_EMPTY(&gp->consumer) || !LIST_EMPTY(&gp->provider))
		gh_violation("g_destroy_geom(%s) with consumers or providers",
		    gp->name);
	g_cancel_event(gp);
	LIST_REMOVE(gp, geom);
	free(gp->name);
	free(gp);
}

struct g_provider *
g_new_providerf(struct g_geom *gp, const char *fmt, ...)
{
	struct g_provider *pp;
	va_list ap;

	g_topology_assert();
	if (gp->flags & G_GEOM_WITHER)
		gh_violation("g_new_providerf on withering geom %s", gp->name);
	pp = calloc(1, sizeof(*pp));
	va_start(ap, fmt);
	pp->name = gh_vname(fmt, ap);
	va_end(ap);
	pp->geom = gp;
	LIST_INIT(&pp->consumers);
	LIST_INIT(&pp->aliases);
	pp->error = ENXIO;
	LIST_INSERT_HEAD(&gp->provider, pp, provider);
	return (pp);
}

void
g_error_provider(struct g_provider *pp, int error)
{
	STORE(&pp->error, error);
}

void
g_destroy_provider(struct g_provider *pp)
{
	struct g_geom *gp = pp->geom;

	g_topology_assert();
	if (!LIST_EMPTY(&pp->consumers) || pp->acr != 0 || pp->acw != 0 ||
	    pp->ace != 0)
		gh_violation("g_destroy_provider(%s) while attached or open",
		    pp->name);
	g_cancel_event(pp);
	LIST_REMOVE(pp, provider);
	if (gp->providergone != NULL)
		gp->providergone(pp);
	free(pp->name);
	free(pp);
	if (gp->flags & G_GEOM_WITHER)
		gh_do_wither();
}

struct g_provider *
g_provider_by_name(char const *arg)
{
	struct g_class *mp;
	struct g_geom *gp;
	struct g_provider *pp;

	g_topology_assert();
	if (strncmp(arg, _PATH_DEV, strlen(_PATH_DEV)) == 0)
		arg += strlen(_PATH_DEV);
	LIST_FOREACH(mp, &gh_classes, class)
		LIST_FOREACH(gp, &mp->geom, geom)
			LIST_FOREACH(pp, &gp->provider, provider)
				if (strcmp(arg, pp->name) == 0)
					return (pp);
	return (NULL);
}

struct g_consumer *
g_new_consumer(struct g_geom *gp)
{
	struct g_consumer *cp;

	g_topology_assert();
	if (gp->flags & G_GEOM_WITHER)
		gh_violation("g_new_consumer on withering geom %s", gp->name);
	if (gp->orphan == NULL)
		gh_violation("g_new_consumer on geom %s without orphan method",
		    gp->name);
	cp = calloc(1, sizeof(*cp));
	cp->geom = gp;
	LIST_INSERT_HEAD(&gp->consumer, cp, consumer);
	return (cp);
}

void
g_destroy_consumer(struct g_consumer *cp)
{
	struct g_geom *gp = cp->geom;

	g_topology_assert();
	if (cp->provider != NULL || cp->acr != 0 || cp->acw != 0 ||
	    cp->ace != 0)
		gh_violation("g_destroy_consumer while attached or open (%s)",
		    gp->name);
	g_cancel_event(cp);
	LIST_REMOVE(cp, consumer);
	free(cp);
	if (gp->flags & G_GEOM_WITHER)
		gh_do_wither();
}

int
g_attach(struct g_consumer *cp, struct g_provider *pp)
{
	g_topology_assert();
	if (cp->provider != NULL)
		gh_violation("g_attach of an attached consumer");
	if (pp->flags & (G_PF_ORPHAN | G_PF_WITHER))
		return (ENXIO);
	cp->provider = pp;
	STORE(&cp->flags, cp->flags & ~G_CF_ORPHAN);
	LIST_INSERT_HEAD(&pp->consumers, cp, consumers);
	return (0);
}

void
g_detach(struct g_consumer *cp)
{
	struct g_provider *pp = cp->provider;

	g_topology_assert();
	if (pp == NULL) {
		gh_violation("g_detach of a detached consumer");
		return;
	}
	if (cp->acr != 0 || cp->acw != 0 || cp->ace != 0)
		gh_violation("g_detach of an open consumer (%s)", pp->name);
	if (LOAD(&cp->nstart) != LOAD(&cp->nend))
		gh_violation("g_detach from %s with %u bios in flight",
		    pp->name, LOAD(&cp->nstart) - LOAD(&cp->nend));
	LIST_REMOVE(cp, consumers);
	cp->provider = NULL;
	if ((cp->geom->flags & G_GEOM_WITHER) ||
	    (pp->geom->flags & G_GEOM_WITHER) || (pp->flags & G_PF_WITHER))
		gh_do_wither();
}

int
g_access(struct g_consumer *cp, int dcr, int dcw, int dce)
{
	struct g_provider *pp = cp->provider;
	struct g_geom *gp;
	int pw, pe, error;

	g_topology_assert();
	if (pp == NULL) {
		gh_violation("g_access on a detached consumer");
		return (ENXIO);
	}
	gp = pp->geom;
	if (cp->acr + dcr < 0 || cp->acw + dcw < 0 || cp->ace + dce < 0) {
		gh_violation("g_access to negative counts on %s", pp->name);
		return (EINVAL);
	}
	if (cp->acr + dcr == 0 && cp->acw + dcw == 0 && cp->ace + dce == 0 &&
	    LOAD(&cp->nstart) != LOAD(&cp->nend))
		gh_violation("last close of %s with %u bios in flight",
		    pp->name, LOAD(&cp->nstart) - LOAD(&cp->nend));
	pw = pp->acw - cp->acw;
	pe = pp->ace - cp->ace;
	if (dce > 0 && pw > 0)
		return (EPERM);
	if (dcw > 0 && pe > 0)
		return (EPERM);
	if ((dcr > 0 || dcw > 0 || dce > 0) && LOAD(&pp->error) != 0)
		return (LOAD(&pp->error));
	if ((error = gp->access(pp, dcr, dcw, dce)) != 0)
		return (error);
	STORE(&pp->acr, pp->acr + dcr);
	STORE(&pp->acw, pp->acw + dcw);
	STORE(&pp->ace, pp->ace + dce);
	STORE(&cp->acr, cp->acr + dcr);
	STORE(&cp->acw, cp->acw + dcw);
	STORE(&cp->ace, cp->ace + dce);
	if ((cp->geom->flags & G_GEOM_WITHER) && cp->acr == 0 &&
	    cp->acw == 0 && cp->ace == 0)
		gh_do_wither();
	return (0);
}

int
g_std_access(struct g_provider *pp, int dr, int dw, int de)
{
	return (0);
}

static void
gh_orphan_event(void *arg, int flag)
{
	struct g_provider *pp = arg;
	struct g_consumer *cp, *cp2;
	u_int wf;

	if (flag == EV_CANCEL)
		return;
	wf = pp->flags & G_PF_WITHER;
	pp->flags &= ~G_PF_WITHER;
	LIST_FOREACH_SAFE(cp, &pp->consumers, consumers, cp2) {
		OR(&cp->flags, G_CF_ORPHAN);
		cp->geom->orphan(cp);
	}
	if (LIST_EMPTY(&pp->consumers) && wf)
		g_destroy_provider(pp);
	else
		pp->flags |= wf;
}

void
g_orphan_provider(struct g_provider *pp, int error)
{
	g_topology_assert();
	if (error == 0)
		error = ENXIO;
	STORE(&pp->error, error);
	pp->flags |= G_PF_ORPHAN;
	(void)g_post_event(gh_orphan_event, pp, M_WAITOK, pp, NULL);
}

void
g_wither_geom(struct g_geom *gp, int error)
{
	struct g_provider *pp;

	g_topology_assert();
	if (!(gp->flags & G_GEOM_WITHER)) {
		gp->flags |= G_GEOM_WITHER;
		LIST_FOREACH(pp, &gp->provider, provider)
			if (!(pp->flags & G_PF_ORPHAN))
				g_orphan_provider(pp, error);
	}
	gh_do_wither();
}

void
g_wither_provider(struct g_provider *pp, int error)
{
	pp->flags |= G_PF_WITHER;
	if (!(pp->flags & G_PF_ORPHAN))
		g_orphan_provider(pp, error);
}

void
g_wither_geom_close(struct g_geom *gp, int error)
{
	struct g_consumer *cp;

	g_topology_assert();
	LIST_FOREACH(cp, &gp->consumer, consumer)
		if (cp->acr || cp->acw || cp->ace)
			g_access(cp, -cp->acr, -cp->acw, -cp->ace);
	g_wither_geom(gp, error);
}

void
g_std_spoiled(struct g_consumer *cp)
{
	g_topology_assert();
	gh_violation("g_std_spoiled is not modelled by the harness");
}

static void
gh_washer(void)
{
	struct g_class *mp;
	struct g_geom *gp, *gp2;
	struct g_provider *pp, *pp2;
	struct g_consumer *cp, *cp2;

	g_topology_assert();
	LIST_FOREACH(mp, &gh_classes, class) {
		LIST_FOREACH_SAFE(gp, &mp->geom, geom, gp2) {
			LIST_FOREACH_SAFE(pp, &gp->provider, provider, pp2) {
				if (!(pp->flags & G_PF_WITHER) &&
				    !(gp->flags & G_GEOM_WITHER))
					continue;
				if (LIST_EMPTY(&pp->consumers))
					g_destroy_provider(pp);
			}
			if (!(gp->flags & G_GEOM_WITHER))
				continue;
			LIST_FOREACH_SAFE(cp, &gp->consumer, consumer, cp2) {
				if (cp->acr || cp->acw || cp->ace)
					continue;
				if (cp->provider != NULL)
					g_detach(cp);
				g_destroy_consumer(cp);
			}
			if (LIST_EMPTY(&gp->provider) &&
			    LIST_EMPTY(&gp->consumer))
				g_destroy_geom(gp);
		}
	}
}

/* --- bios ----------------------------------------------------------------- */

#define	GH_INPROV	((void *)0x1)	/* bio_spare2: between request and deliver */

static pthread_mutex_t gh_bio_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gh_bio_cv = PTHREAD_COND_INITIALIZER;

struct bio *
g_new_bio(void)
{
	if (gh_nowait_fails())
		return (NULL);
	return (calloc(1, sizeof(struct bio)));
}

struct bio *
g_alloc_bio(void)
{
	return (calloc(1, sizeof(struct bio)));
}

void
g_destroy_bio(struct bio *bp)
{
	if (bp->bio_spare2 == GH_INPROV)
		gh_violation("g_destroy_bio of a bio still in flight");
	free(bp);
}

struct bio *
g_clone_bio(struct bio *bp)
{
	struct bio *bp2;

	if ((bp2 = g_new_bio()) == NULL)
		return (NULL);
	bp2->bio_parent = bp;
	bp2->bio_cmd = bp->bio_cmd;
	bp2->bio_flags = bp->bio_flags & (BIO_ORDERED | BIO_UNMAPPED |
	    BIO_VLIST | BIO_SWAP);
	bp2->bio_length = bp->bio_length;
	bp2->bio_offset = bp->bio_offset;
	bp2->bio_data = bp->bio_data;
	bp2->bio_ma = bp->bio_ma;
	bp2->bio_ma_n = bp->bio_ma_n;
	bp2->bio_ma_offset = bp->bio_ma_offset;
	bp2->bio_attribute = bp->bio_attribute;
	bp->bio_children++;
	return (bp2);
}

/* g_io_check(): 0, or the error to fail bp with. */
static int
gh_io_check(struct bio *bp, struct g_consumer *cp, struct g_provider *pp)
{
	int error;

	switch (bp->bio_cmd) {
	case BIO_READ:
	case BIO_GETATTR:
		if (LOAD(&cp->acr) == 0) {
			gh_violation("%s on %s without read access",
			    bp->bio_cmd == BIO_READ ? "read" : "getattr",
			    pp->name);
			return (EPERM);
		}
		break;
	case BIO_WRITE:
	case BIO_DELETE:
	case BIO_FLUSH:
		if (LOAD(&cp->acw) == 0) {
			gh_violation("cmd %d on %s without write access",
			    bp->bio_cmd, pp->name);
			return (EPERM);
		}
		break;
	}
	if ((error = LOAD(&pp->error)) != 0)
		return (error);
	if (LOAD(&cp->flags) & G_CF_ORPHAN)
		return (ENXIO);
	switch (bp->bio_cmd) {
	case BIO_READ:
	case BIO_WRITE:
	case BIO_DELETE:
		if (bp->bio_offset % pp->sectorsize != 0 ||
		    bp->bio_length % pp->sectorsize != 0) {
			gh_violation("cmd %d on %s at %jd+%jd: not a multiple "
			    "of the sector size %u", bp->bio_cmd, pp->name,
			    (intmax_t)bp->bio_offset,
			    (intmax_t)bp->bio_length, pp->sectorsize);
			return (EINVAL);
		}
		if (bp->bio_offset < 0 || bp->bio_length <= 0 ||
		    bp->bio_offset > pp->mediasize ||
		    bp->bio_length > pp->mediasize - bp->bio_offset) {
			gh_violation("cmd %d on %s at %jd+%jd: outside its "
			    "%jd bytes", bp->bio_cmd, pp->name,
			    (intmax_t)bp->bio_offset,
			    (intmax_t)bp->bio_length,
			    (intmax_t)pp->mediasize);
			return (EIO);
		}
		break;
	}
	return (0);
}

void
g_io_request(struct bio *bp, struct g_consumer *cp)
{
	struct g_provider *pp = cp->provider;
	int error;

	if (pp == NULL) {
		gh_violation("g_io_request on a detached consumer");
		bp->bio_error = ENXIO;
		gh_enqueue(&gh_up, bp);
		return;
	}
	if (bp->bio_spare2 == GH_INPROV)
		gh_violation("g_io_request of a bio already in flight");
	bp->bio_from = cp;
	bp->bio_to = pp;
	bp->bio_error = 0;
	bp->bio_completed = 0;
	bp->bio_flags &= ~(BIO_ERROR | BIO_DONE);
	bp->bio_spare2 = GH_INPROV;
	ADD(&cp->nstart, 1);
	if ((error = gh_io_check(bp, cp, pp)) != 0) {
		g_io_deliver(bp, error);
		return;
	}
	gh_enqueue(&gh_down, bp);
}

void
g_io_deliver(struct bio *bp, int error)
{
	struct g_consumer *cp = bp->bio_from;

	if (bp->bio_spare2 != GH_INPROV)
		gh_violation("g_io_deliver of a bio not in flight");
	bp->bio_spare2 = NULL;
	bp->bio_error = error;
	ADD(&cp->nend, 1);
	gh_enqueue(&gh_up, bp);
}

void
biodone(struct bio *bp)
{
	if (bp->bio_done == NULL) {
		pthread_mutex_lock(&gh_bio_m);
		bp->bio_flags |= BIO_DONE;
		pthread_cond_broadcast(&gh_bio_cv);
		pthread_mutex_unlock(&gh_bio_m);
	} else
		bp->bio_done(bp);
}

int
biowait(struct bio *bp, const char *wmesg)
{
	pthread_mutex_lock(&gh_bio_m);
	while ((bp->bio_flags & BIO_DONE) == 0)
		pthread_cond_wait(&gh_bio_cv, &gh_bio_m);
	pthread_mutex_unlock(&gh_bio_m);
	if (bp->bio_error != 0)
		return (bp->bio_error);
	return ((bp->bio_flags & BIO_ERROR) != 0 ? EIO : 0);
}

void
g_std_done(struct bio *bp)
{
	struct bio *bp2 = bp->bio_parent;

	if (bp2->bio_error == 0)
		bp2->bio_error = bp->bio_error;
	bp2->bio_completed += bp->bio_completed;
	g_destroy_bio(bp);
	bp2->bio_inbed++;
	if (bp2->bio_children == bp2->bio_inbed)
		g_io_deliver(bp2, bp2->bio_error);
}

int
g_handleattr(struct bio *bp, const char *attribute, const void *val, int len)
{
	int error = 0;

	if (strcmp(bp->bio_attribute, attribute) != 0)
		return (0);
	if (len == 0) {
		memset(bp->bio_data, 0, bp->bio_length);
		if (gh_strlcpy(bp->bio_data, val, bp->bio_length) >=
		    (size_t)bp->bio_length)
			error = EFAULT;
	} else if (bp->bio_length == len)
		memcpy(bp->bio_data, val, len);
	else
		error = EFAULT;
	if (error == 0)
		bp->bio_completed = bp->bio_length;
	g_io_deliver(bp, error);
	return (1);
}

int
g_handleattr_int(struct bio *bp, const char *attribute, int val)
{
	return (g_handleattr(bp, attribute, &val, sizeof(val)));
}

/* --- sbuf ----------------------------------------------------------------- */

struct sbuf *
sbuf_new_auto(void)
{
	struct sbuf *s = calloc(1, sizeof(*s));

	s->s_size = 256;
	s->s_buf = calloc(1, s->s_size);
	return (s);
}

int
sbuf_vprintf(struct sbuf *s, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (s->s_done)
		return (-1);
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return (-1);
	while (s->s_len + (size_t)n + 1 > s->s_size) {
		s->s_size *= 2;
		s->s_buf = realloc(s->s_buf, s->s_size);
	}
	vsnprintf(s->s_buf + s->s_len, s->s_size - s->s_len, fmt, ap);
	s->s_len += (size_t)n;
	return (0);
}

int
sbuf_printf(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sbuf_vprintf(s, fmt, ap);
	va_end(ap);
	return (r);
}

int
sbuf_cat(struct sbuf *s, const char *str)
{
	return (sbuf_printf(s, "%s", str));
}

int
sbuf_finish(struct sbuf *s)
{
	s->s_done = 1;
	return (0);
}

char *
sbuf_data(struct sbuf *s)
{
	return (s->s_buf);
}

ssize_t
sbuf_len(struct sbuf *s)
{
	return ((ssize_t)s->s_len);
}

int
sbuf_done(const struct sbuf *s)
{
	return (s->s_done);
}

void
sbuf_delete(struct sbuf *s)
{
	free(s->s_buf);
	free(s);
}

/* --- gctl ----------------------------------------------------------------- */

#define	GH_MAXPARAM	32

struct gctl_req {
	int		 nparam;
	struct {
		char	*name;
		void	*value;
		int	 len;
	} param[GH_MAXPARAM];
	int		 nerror;
	struct sbuf	*serror;
};

static void *
gh_param(struct gctl_req *req, const char *name, int *len)
{
	int i;

	for (i = 0; i < req->nparam; i++)
		if (strcmp(req->param[i].name, name) == 0) {
			*len = req->param[i].len;
			return (req->param[i].value);
		}
	return (NULL);
}

int
gctl_set_param(struct gctl_req *req, const char *param, void const *ptr,
    int len)
{
	if (req->nparam == GH_MAXPARAM)
		return (ENOSPC);
	req->param[req->nparam].name = strdup(param);
	req->param[req->nparam].value = malloc((size_t)len);
	memcpy(req->param[req->nparam].value, ptr, (size_t)len);
	req->param[req->nparam].len = len;
	req->nparam++;
	return (0);
}

void *
gctl_get_param(struct gctl_req *req, const char *param, int *len)
{
	int l;
	void *p = gh_param(req, param, &l);

	if (p != NULL && len != NULL)
		*len = l;
	return (p);
}

char const *
gctl_get_asciiparam(struct gctl_req *req, const char *param)
{
	int len;
	char *p = gh_param(req, param, &len);

	if (p == NULL || len < 1 || p[len - 1] != '\0')
		return (NULL);
	return (p);
}

void *
gctl_get_paraml_opt(struct gctl_req *req, const char *param, int len)
{
	int l;
	void *p = gh_param(req, param, &l);

	if (p != NULL && l != len) {
		gctl_error(req, "Wrong length %s argument.", param);
		return (NULL);
	}
	return (p);
}

void *
gctl_get_paraml(struct gctl_req *req, const char *param, int len)
{
	int l;

	if (gh_param(req, param, &l) == NULL) {
		gctl_error(req, "Missing %s argument.", param);
		return (NULL);
	}
	return (gctl_get_paraml_opt(req, param, len));
}

int
gctl_error(struct gctl_req *req, const char *fmt, ...)
{
	va_list ap;

	if (req == NULL)
		return (EINVAL);
	if (sbuf_done(req->serror)) {
		if (!req->nerror)
			req->nerror = EEXIST;
		return (req->nerror);
	}
	if (!req->nerror)
		req->nerror = EINVAL;
	if (sbuf_len(req->serror) > 0)
		sbuf_cat(req->serror, "\n\t");
	va_start(ap, fmt);
	sbuf_vprintf(req->serror, fmt, ap);
	va_end(ap);
	gctl_post_messages(req);
	return (req->nerror);
}

void
gctl_msg(struct gctl_req *req, int error, const char *fmt, ...)
{
	va_list ap;

	if (req == NULL || sbuf_done(req->serror))
		return;
	if (req->nerror == 0)
		req->nerror = error;
	if (sbuf_len(req->serror) > 0)
		sbuf_cat(req->serror, "\n\t");
	va_start(ap, fmt);
	sbuf_vprintf(req->serror, fmt, ap);
	va_end(ap);
}

void
gctl_post_messages(struct gctl_req *req)
{
	if (!sbuf_done(req->serror))
		sbuf_finish(req->serror);
}

struct g_provider *
gctl_get_provider(struct gctl_req *req, char const *arg)
{
	const char *p;
	struct g_provider *pp;

	if ((p = gctl_get_asciiparam(req, arg)) == NULL) {
		gctl_error(req, "No '%s' argument.", arg);
		return (NULL);
	}
	if ((pp = g_provider_by_name(p)) == NULL)
		gctl_error(req, "Provider %s is invalid.", p);
	return (pp);
}

int
gh_ctl(struct g_class *mp, const char *verb, char *msg, size_t msglen, ...)
{
	struct gctl_req req;
	const char *name;
	va_list ap;
	int i, error, iv;
	uint32_t uv;
	intmax_t jv;
	const char *sv;

	memset(&req, 0, sizeof(req));
	req.serror = sbuf_new_auto();
	va_start(ap, msglen);
	while ((name = va_arg(ap, const char *)) != NULL) {
		switch (va_arg(ap, int)) {
		case 'i':
			iv = va_arg(ap, int);
			gctl_set_param(&req, name, &iv, sizeof(iv));
			break;
		case 'u':
			uv = va_arg(ap, uint32_t);
			gctl_set_param(&req, name, &uv, sizeof(uv));
			break;
		case 'j':
			jv = va_arg(ap, intmax_t);
			gctl_set_param(&req, name, &jv, sizeof(jv));
			break;
		default:
			sv = va_arg(ap, const char *);
			gctl_set_param(&req, name, sv, (int)strlen(sv) + 1);
			break;
		}
	}
	va_end(ap);
	gh_topology_lock();
	mp->ctlreq(&req, mp, verb);
	gh_topology_unlock();
	if (!sbuf_done(req.serror))
		sbuf_finish(req.serror);
	if (msg != NULL && msglen > 0)
		gh_strlcpy(msg, sbuf_data(req.serror), msglen);
	error = req.nerror;
	sbuf_delete(req.serror);
	for (i = 0; i < req.nparam; i++) {
		free(req.param[i].name);
		free(req.param[i].value);
	}
	return (error);
}

struct g_geom *
gh_find_geom(struct g_class *mp, const char *name)
{
	struct g_geom *gp;

	gh_topology_lock();
	LIST_FOREACH(gp, &mp->geom, geom)
		if (strcmp(gp->name, name) == 0)
			break;
	gh_topology_unlock();
	return (gp);
}

char *
gh_dumpconf(struct g_class *mp, const char *name)
{
	struct g_geom *gp;
	struct g_consumer *cp;
	struct sbuf *sb;
	char *s = NULL;

	gh_topology_lock();
	LIST_FOREACH(gp, &mp->geom, geom)
		if (strcmp(gp->name, name) == 0)
			break;
	if (gp != NULL && gp->dumpconf != NULL) {
		sb = sbuf_new_auto();
		gp->dumpconf(sb, "  ", gp, NULL, NULL);
		LIST_FOREACH(cp, &gp->consumer, consumer)
			gp->dumpconf(sb, "    ", gp, cp, NULL);
		sbuf_finish(sb);
		s = strdup(sbuf_data(sb));
		sbuf_delete(sb);
	}
	gh_topology_unlock();
	return (s);
}

/* --- test consumers ------------------------------------------------------- */

static void
gh_test_orphan(struct g_consumer *cp)
{
	/* The test notices ENXIO and closes. */
}

static struct g_class gh_test_class = {
	.name = "GH_TEST",
	.version = G_VERSION,
	.orphan = gh_test_orphan,
};
static int gh_test_class_added;

struct g_consumer *
gh_open(const char *name, int r, int w, int e, int *errorp)
{
	struct g_provider *pp;
	struct g_consumer *cp = NULL;
	struct g_geom *gp;
	int error;

	if (!gh_test_class_added) {
		gh_add_class(&gh_test_class);
		gh_test_class_added = 1;
	}
	gh_topology_lock();
	if ((pp = g_provider_by_name(name)) == NULL) {
		error = ENOENT;
		goto out;
	}
	gp = g_new_geomf(&gh_test_class, "gh-test-%s", name);
	cp = g_new_consumer(gp);
	if ((error = g_attach(cp, pp)) != 0)
		goto fail;
	if ((error = g_access(cp, r, w, e)) != 0) {
		g_detach(cp);
		goto fail;
	}
	goto out;
fail:
	g_destroy_consumer(cp);
	g_destroy_geom(gp);
	cp = NULL;
out:
	gh_topology_unlock();
	if (errorp != NULL)
		*errorp = error;
	return (cp);
}

void
gh_close(struct g_consumer *cp)
{
	struct g_geom *gp = cp->geom;

	gh_topology_lock();
	if (cp->provider != NULL) {
		if (cp->acr != 0 || cp->acw != 0 || cp->ace != 0)
			g_access(cp, -cp->acr, -cp->acw, -cp->ace);
		g_detach(cp);
	}
	g_destroy_consumer(cp);
	g_destroy_geom(gp);
	gh_topology_unlock();
}

struct bio *
gh_io_submit(struct g_consumer *cp, int cmd, uint64_t off, uint64_t len,
    void *buf)
{
	struct bio *bp = g_alloc_bio();

	bp->bio_cmd = (uint16_t)cmd;
	bp->bio_offset = (off_t)off;
	bp->bio_length = (off_t)len;
	bp->bio_data = buf;
	if (cmd == BIO_GETATTR)
		bp->bio_attribute = (const char *)buf;
	g_io_request(bp, cp);
	return (bp);
}

int
gh_io_wait(struct bio *bp)
{
	int error = biowait(bp, "ghio");

	g_destroy_bio(bp);
	return (error);
}

int
gh_io(struct g_consumer *cp, int cmd, uint64_t off, uint64_t len, void *buf)
{
	return (gh_io_wait(gh_io_submit(cp, cmd, off, len, buf)));
}

/* --- memory-backed providers ---------------------------------------------- */

#define	GH_PAGE		4096u

struct gh_md {
	struct g_geom	*gp;
	struct g_provider *pp;
	pthread_mutex_t	 m;
	uint8_t		*data;
	uint64_t	 size;
	uint8_t		*used;		/* one byte per 4 KiB page */
	uint64_t	 nused;
	uint64_t	 cap;		/* pages; 0 = none */
	long		 fail_after[BIO_SPEEDUP + 1];
	long		 fail_left[BIO_SPEEDUP + 1];
	int		 fail_error[BIO_SPEEDUP + 1];
	int		 readonly;
	int		 nodelete;
	int		 hold;		/* park bios until gh_md_release */
	TAILQ_HEAD(, bio) held;
	unsigned	 nheld;
};

static int
gh_md_fault(struct gh_md *md, int cmd)
{
	if (md->fail_left[cmd] == 0)
		return (0);
	if (md->fail_after[cmd] > 0) {
		md->fail_after[cmd]--;
		return (0);
	}
	if (md->fail_left[cmd] > 0)
		md->fail_left[cmd]--;
	return (md->fail_error[cmd]);
}

static void gh_md_do(struct gh_md *md, struct bio *bp);

static void
gh_md_start(struct bio *bp)
{
	struct gh_md *md = bp->bio_to->geom->softc;

	if (LOAD(&gh_delays) && gh_rand() % 4 == 0)
		usleep((useconds_t)(gh_rand() % 300));
	pthread_mutex_lock(&md->m);
	if (md->hold) {
		TAILQ_INSERT_TAIL(&md->held, bp, bio_queue);
		md->nheld++;
		pthread_mutex_unlock(&md->m);
		return;
	}
	gh_md_do(md, bp);
}

/* Serve bp; md->m held, released on return. */
static void
gh_md_do(struct gh_md *md, struct bio *bp)
{
	uint64_t off = (uint64_t)bp->bio_offset, len = (uint64_t)bp->bio_length;
	uint64_t p, p0, p1, need = 0;
	int error = 0;

	switch (bp->bio_cmd) {
	case BIO_READ:
		if ((error = gh_md_fault(md, BIO_READ)) == 0)
			memcpy(bp->bio_data, md->data + off, len);
		break;
	case BIO_WRITE:
		if ((error = gh_md_fault(md, BIO_WRITE)) != 0)
			break;
		p0 = off / GH_PAGE;
		p1 = (off + len + GH_PAGE - 1) / GH_PAGE;
		for (p = p0; p < p1; p++)
			need += md->used[p] == 0;
		if (md->cap != 0 && md->nused + need > md->cap) {
			error = ENOSPC;
			break;
		}
		for (p = p0; p < p1; p++)
			md->used[p] = 1;
		md->nused += need;
		memcpy(md->data + off, bp->bio_data, len);
		break;
	case BIO_DELETE:
		if (md->nodelete) {
			error = EOPNOTSUPP;
			break;
		}
		if ((error = gh_md_fault(md, BIO_DELETE)) != 0)
			break;
		memset(md->data + off, 0, len);
		p0 = (off + GH_PAGE - 1) / GH_PAGE;
		p1 = (off + len) / GH_PAGE;
		if (off + len == md->size)
			p1 = (md->size + GH_PAGE - 1) / GH_PAGE;
		for (p = p0; p < p1; p++) {
			md->nused -= md->used[p];
			md->used[p] = 0;
		}
		break;
	case BIO_FLUSH:
		error = gh_md_fault(md, BIO_FLUSH);
		break;
	case BIO_GETATTR:
		need = !md->nodelete;
		pthread_mutex_unlock(&md->m);
		if (!g_handleattr_int(bp, "GEOM::candelete", (int)need))
			g_io_deliver(bp, EOPNOTSUPP);
		return;
	default:
		error = EOPNOTSUPP;
		break;
	}
	pthread_mutex_unlock(&md->m);
	if (error == 0)
		bp->bio_completed = bp->bio_length;
	g_io_deliver(bp, error);
}

static int
gh_md_access(struct g_provider *pp, int dr, int dw, int de)
{
	struct gh_md *md = pp->geom->softc;

	if (dw > 0 && md->readonly)
		return (EROFS);
	return (0);
}

static void
gh_md_orphan(struct g_consumer *cp)
{
}

static void
gh_md_providergone(struct g_provider *pp)
{
	struct gh_md *md = pp->geom->softc;

	pp->geom->softc = NULL;
	pthread_mutex_destroy(&md->m);
	free(md->data);
	free(md->used);
	free(md);
}

static struct g_class gh_md_class = {
	.name = "GH_MD",
	.version = G_VERSION,
	.start = gh_md_start,
	.access = gh_md_access,
	.orphan = gh_md_orphan,
	.providergone = gh_md_providergone,
};
static int gh_md_class_added;

struct gh_md *
gh_md_new(const char *name, uint64_t size, u_int secsize)
{
	struct gh_md *md = calloc(1, sizeof(*md));

	if (!gh_md_class_added) {
		gh_add_class(&gh_md_class);
		gh_md_class_added = 1;
	}
	pthread_mutex_init(&md->m, NULL);
	TAILQ_INIT(&md->held);
	md->size = size;
	md->data = calloc(1, (size_t)size);
	md->used = calloc(1, (size_t)(size / GH_PAGE + 1));
	gh_topology_lock();
	md->gp = g_new_geomf(&gh_md_class, "%s", name);
	md->gp->softc = md;
	md->pp = g_new_providerf(md->gp, "%s", name);
	md->pp->mediasize = (off_t)size;
	md->pp->sectorsize = secsize;
	g_error_provider(md->pp, 0);
	gh_topology_unlock();
	return (md);
}

struct g_provider *
gh_md_provider(struct gh_md *md)
{
	return (md->pp);
}

uint8_t *
gh_md_data(struct gh_md *md)
{
	return (md->data);
}

void
gh_md_fail(struct gh_md *md, int cmd, int error, long after, long count)
{
	pthread_mutex_lock(&md->m);
	md->fail_after[cmd] = after;
	md->fail_left[cmd] = count;
	md->fail_error[cmd] = error;
	pthread_mutex_unlock(&md->m);
}

void
gh_md_cap(struct gh_md *md, uint64_t cap)
{
	pthread_mutex_lock(&md->m);
	md->cap = cap / GH_PAGE;
	pthread_mutex_unlock(&md->m);
}

uint64_t
gh_md_used(struct gh_md *md)
{
	uint64_t n;

	pthread_mutex_lock(&md->m);
	n = md->nused * GH_PAGE;
	pthread_mutex_unlock(&md->m);
	return (n);
}

void
gh_md_readonly(struct gh_md *md, int ro)
{
	gh_topology_lock();
	md->readonly = ro;
	gh_topology_unlock();
}

void
gh_md_nodelete(struct gh_md *md, int on)
{
	pthread_mutex_lock(&md->m);
	md->nodelete = on;
	pthread_mutex_unlock(&md->m);
}

void
gh_md_destroy(struct gh_md *md)
{
	gh_topology_lock();
	g_wither_geom(md->gp, ENXIO);
	gh_topology_unlock();
}

void
gh_md_hold(struct gh_md *md)
{
	pthread_mutex_lock(&md->m);
	md->hold = 1;
	pthread_mutex_unlock(&md->m);
}

unsigned
gh_md_held(struct gh_md *md)
{
	unsigned n;

	pthread_mutex_lock(&md->m);
	n = md->nheld;
	pthread_mutex_unlock(&md->m);
	return (n);
}

void
gh_md_release(struct gh_md *md)
{
	TAILQ_HEAD(, bio) q = TAILQ_HEAD_INITIALIZER(q);
	struct bio *bp;

	pthread_mutex_lock(&md->m);
	md->hold = 0;
	while ((bp = TAILQ_FIRST(&md->held)) != NULL) {
		TAILQ_REMOVE(&md->held, bp, bio_queue);
		TAILQ_INSERT_TAIL(&q, bp, bio_queue);
	}
	md->nheld = 0;
	pthread_mutex_unlock(&md->m);
	/* md may go away with the last delivery: touch it only before. */
	while ((bp = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, bp, bio_queue);
		pthread_mutex_lock(&md->m);
		gh_md_do(md, bp);
	}
}
