/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fill.c - the lazy fill layer (lib/bdev/fill.c) over a counting
 * lower made here: every lower read is recorded per chunk, and the lower
 * can be slowed, held at a gate, made to fail with EIO (a server away) or
 * ESTALE (another file on the server).  Each chunk is fetched once, by many
 * threads at once too; a read of a chunk in flight waits instead of
 * fetching it again; a demand read goes before the filler; complete drops
 * the lower; a stall is retried and resumed; ESTALE stops the filler and
 * fails later reads of missing chunks; destroy joins a running filler.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/faulty.h>
#include <liveroot/fill.h>

#include "t.h"

#define CHUNK	4096u
#define MAXCH	1024

/* --- the counting lower -------------------------------------------------- */
struct cnt {
	struct bdev	 b;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	unsigned	 count[MAXCH];	/* lower reads that covered a chunk */
	unsigned	 reads;
	uint64_t	 first_off[64];	/* the offsets of the first reads */
	unsigned	 delay_us;
	int		 hold;		/* reads wait while set */
	unsigned	 held;		/* reads waiting at the gate */
	int		 fail;		/* 0, EIO or ESTALE */
	unsigned	 failures;
	int		*destroyed;	/* set at destroy */
};

static uint8_t
pat(uint64_t off)
{
	return ((uint8_t)(off * 2654435761u >> 13));
}

static int
cnt_read(struct bdev *b, void *buf, size_t len, uint64_t off, struct diag *d)
{
	struct cnt *c = (struct cnt *)b;
	uint8_t *p = buf;
	uint64_t i;
	int fail;

	pthread_mutex_lock(&c->mtx);
	c->held++;
	pthread_cond_broadcast(&c->cv);
	while (c->hold)
		pthread_cond_wait(&c->cv, &c->mtx);
	c->held--;
	fail = c->fail;
	if (fail)
		c->failures++;
	else {
		if (c->reads < 64)
			c->first_off[c->reads] = off;
		c->reads++;
		for (i = off / CHUNK; i <= (off + len - 1) / CHUNK; i++)
			c->count[i]++;
	}
	pthread_mutex_unlock(&c->mtx);
	if (c->delay_us)
		usleep(c->delay_us);
	if (fail == ESTALE)
		return (diag_set(d, ESTALE, "the server now serves another "
		    "file: ETag \"a\" at open, \"b\" now"));
	if (fail)
		return (diag_set(d, fail, "server away"));
	for (i = 0; i < len; i++)
		p[i] = pat(off + i);
	return (0);
}

/* The device is gone; its counters stay for the test (cnt_free). */
static void
cnt_destroy(struct bdev *b)
{
	struct cnt *c = (struct cnt *)b;

	pthread_mutex_lock(&c->mtx);
	*c->destroyed = 1;
	pthread_mutex_unlock(&c->mtx);
}

static void
cnt_free(struct cnt *c)
{
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mtx);
	free(c);
}

static const struct bdev_ops cnt_ops = {
	.name = "cnt", .read = cnt_read, .destroy = cnt_destroy
};

static struct cnt *
cnt_new(uint64_t size, int *destroyed)
{
	struct cnt *c = calloc(1, sizeof(*c));

	pthread_mutex_init(&c->mtx, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->destroyed = destroyed;
	*destroyed = 0;
	bdev_init(&c->b, &cnt_ops, size, 512, 1, NULL, "cnt");
	return (c);
}

static void
cnt_set(struct cnt *c, int hold, int fail)
{
	pthread_mutex_lock(&c->mtx);
	c->hold = hold;
	c->fail = fail;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mtx);
}

static unsigned
cnt_max(struct cnt *c, unsigned n)
{
	unsigned i, m = 0;

	pthread_mutex_lock(&c->mtx);
	for (i = 0; i < n; i++)
		m = c->count[i] > m ? c->count[i] : m;
	pthread_mutex_unlock(&c->mtx);
	return (m);
}

static int
cnt_gone(struct cnt *c)
{
	int g;

	pthread_mutex_lock(&c->mtx);
	g = *c->destroyed;
	pthread_mutex_unlock(&c->mtx);
	return (g);
}

static unsigned
cnt_held(struct cnt *c)
{
	unsigned r;

	pthread_mutex_lock(&c->mtx);
	r = c->held;
	pthread_mutex_unlock(&c->mtx);
	return (r);
}

static unsigned
cnt_reads(struct cnt *c)
{
	unsigned r;

	pthread_mutex_lock(&c->mtx);
	r = c->reads;
	pthread_mutex_unlock(&c->mtx);
	return (r);
}

static int
check_bytes(const uint8_t *p, size_t len, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(off + i))
			return (0);
	return (1);
}

/* --- events -------------------------------------------------------------- */
struct evlog {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	unsigned	 n[5];
	char		 msg[5][256];
};

static void
ev_cb(enum bdev_fill_event ev, uint64_t have, uint64_t total,
    const char *msg, void *arg)
{
	struct evlog *e = arg;

	(void)have;
	(void)total;
	pthread_mutex_lock(&e->mtx);
	e->n[ev]++;
	if (msg != NULL)
		snprintf(e->msg[ev], sizeof(e->msg[ev]), "%s", msg);
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mtx);
}

static void
ev_init(struct evlog *e)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->mtx, NULL);
	pthread_cond_init(&e->cv, NULL);
}

static void
ev_fini(struct evlog *e)
{
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mtx);
}

/* Waits (at most ~60 s: a bound, not a timing) for event ev. */
static int
ev_wait(struct evlog *e, enum bdev_fill_event ev)
{
	int i, got;

	for (i = 0; i < 6000; i++) {
		pthread_mutex_lock(&e->mtx);
		got = e->n[ev] > 0;
		pthread_mutex_unlock(&e->mtx);
		if (got)
			return (1);
		usleep(10000);
	}
	return (0);
}

static unsigned
ev_count(struct evlog *e, enum bdev_fill_event ev)
{
	unsigned n;

	pthread_mutex_lock(&e->mtx);
	n = e->n[ev];
	pthread_mutex_unlock(&e->mtx);
	return (n);
}

static struct bdev *
fill_on(struct cnt *c, struct bdev_fill_opts *o)
{
	struct bdev *f = NULL;
	struct diag d;

	o->chunk = CHUNK;
	CHECK_EQ(bdev_fill_new(&c->b, o, &f, &d), 0);
	return (f);
}

/* --- tests --------------------------------------------------------------- */

/* Demand reads alone: one lower read per run of missing chunks, each chunk
 * once, hits from RAM, and the last (short) chunk; complete drops the
 * lower, once. */
static void
test_demand(void)
{
	uint64_t size = 40 * CHUNK + 1234;
	struct bdev_fill_opts o = { .prefetch = 0 };
	struct bdev_fill_stats st;
	struct evlog e;
	struct diag d;
	struct bdev *f;
	struct cnt *c;
	uint8_t *buf = malloc(size);
	int gone;

	ev_init(&e);
	o.event = ev_cb;
	o.arg = &e;
	c = cnt_new(size, &gone);
	f = fill_on(c, &o);
	CHECK_EQ(bdev_size(f), size);
	CHECK_EQ(bdev_fill_start(f, &d), 0);	/* prefetch off: no thread */
	CHECK_EQ(bdev_read(f, buf, 3 * CHUNK - 10, CHUNK + 5, &d), 0);
	CHECK(check_bytes(buf, 3 * CHUNK - 10, CHUNK + 5));
	CHECK_EQ(cnt_reads(c), 1);		/* chunks 1..3, one read */
	CHECK_EQ(c->first_off[0], CHUNK);
	CHECK_EQ(bdev_read(f, buf, 100, 2 * CHUNK, &d), 0);
	CHECK_EQ(cnt_reads(c), 1);		/* a hit */
	/* present, missing, present, missing: two runs, two reads */
	CHECK_EQ(bdev_read(f, buf, 6 * CHUNK, 0, &d), 0);
	CHECK(check_bytes(buf, 6 * CHUNK, 0));
	CHECK_EQ(cnt_reads(c), 3);
	CHECK_EQ(c->first_off[1], 0);
	CHECK_EQ(c->first_off[2], 4 * CHUNK);
	CHECK_EQ(bdev_read(f, buf, 1234, 40 * CHUNK, &d), 0);
	CHECK(check_bytes(buf, 1234, 40 * CHUNK));
	bdev_fill_stats(f, &st);
	CHECK_EQ(st.demand_fetches, 4);
	CHECK_EQ(st.demand_bytes, 6 * CHUNK + 1234);
	CHECK_EQ(st.have, 6 * CHUNK + 1234);
	CHECK_EQ(st.hits, 1);
	CHECK_EQ(st.bg_fetches, 0);
	CHECK(!st.complete && !cnt_gone(c));
	CHECK_EQ(bdev_read(f, buf, size, 0, &d), 0);
	CHECK(check_bytes(buf, size, 0));
	CHECK_EQ(cnt_max(c, 41), 1);		/* read before the drop */
	CHECK(cnt_gone(c));
	CHECK_EQ(ev_count(&e, BDEV_FILL_COMPLETE), 1);
	bdev_fill_stats(f, &st);
	CHECK(st.complete);
	CHECK_EQ(st.have, size);
	CHECK_EQ(st.total, size);
	memset(buf, 0, size);
	CHECK_EQ(bdev_read(f, buf, size, 0, &d), 0);	/* no lower now */
	CHECK(check_bytes(buf, size, 0));
	CHECK_EQ(ev_count(&e, BDEV_FILL_COMPLETE), 1);
	bdev_destroy(f);
	ev_fini(&e);
	free(buf);
	cnt_free(c);
}

struct rd {
	struct bdev	*f;
	uint64_t	 off;
	size_t		 len;
	int		 error;
	int		 ok;
	uint64_t	 seed;
};

static void *
rd_one(void *arg)
{
	struct rd *r = arg;
	uint8_t *buf = malloc(r->len);
	struct diag d;

	r->error = bdev_read(r->f, buf, r->len, r->off, &d);
	r->ok = r->error == 0 && check_bytes(buf, r->len, r->off);
	free(buf);
	return (NULL);
}

/* Two readers of one chunk held in flight: one lower read. */
static void
test_inflight(void)
{
	struct bdev_fill_opts o = { .prefetch = 0 };
	struct rd a = { 0 }, b = { 0 };
	pthread_t ta, tb;
	struct bdev *f;
	struct cnt *c;
	int gone, i;

	c = cnt_new(16 * CHUNK, &gone);
	f = fill_on(c, &o);
	cnt_set(c, 1, 0);
	a.f = b.f = f;
	a.off = CHUNK;
	a.len = 2 * CHUNK;
	b.off = CHUNK + 100;
	b.len = 50;
	pthread_create(&ta, NULL, rd_one, &a);
	for (i = 0; i < 5000 && cnt_held(c) == 0; i++)	/* a at the gate */
		usleep(1000);
	pthread_create(&tb, NULL, rd_one, &b);
	usleep(50000);
	CHECK_EQ(cnt_held(c), 1);	/* b waits in fill, not at the lower */
	cnt_set(c, 0, 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK(a.ok && b.ok);
	CHECK_EQ(cnt_reads(c), 1);
	CHECK_EQ(cnt_max(c, 16), 1);
	bdev_destroy(f);
	CHECK(cnt_gone(c));
	cnt_free(c);
}

static void *
rd_many(void *arg)
{
	struct rd *r = arg;
	uint64_t size = bdev_size(r->f), off, len;
	uint8_t *buf = malloc(8 * CHUNK);
	struct diag d;
	int i;

	r->ok = 1;
	for (i = 0; i < 300; i++) {
		off = t_rand(&r->seed) % size;
		len = 1 + t_rand(&r->seed) % (8 * CHUNK);
		if (len > size - off)
			len = size - off;
		if (bdev_read(r->f, buf, len, off, &d) != 0 ||
		    !check_bytes(buf, len, off))
			r->ok = 0;
	}
	free(buf);
	return (NULL);
}

/* Many threads, with and without the filler: every chunk fetched once. */
static void
test_threads(int prefetch)
{
	uint64_t size = 700 * CHUNK + 77;
	struct bdev_fill_opts o = { .prefetch = prefetch, .run = 16 * CHUNK };
	struct bdev_fill_stats st;
	struct rd r[8];
	pthread_t t[8];
	struct evlog e;
	struct diag d;
	struct bdev *f;
	struct cnt *c;
	int gone, i, ok = 1;

	ev_init(&e);
	o.event = ev_cb;
	o.arg = &e;
	c = cnt_new(size, &gone);
	c->delay_us = 200;
	f = fill_on(c, &o);
	CHECK_EQ(bdev_fill_start(f, &d), 0);
	for (i = 0; i < 8; i++) {
		r[i].f = f;
		r[i].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		pthread_create(&t[i], NULL, rd_many, &r[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ok &= r[i].ok;
	}
	CHECK(ok);
	if (prefetch)
		CHECK(ev_wait(&e, BDEV_FILL_COMPLETE));
	bdev_fill_stats(f, &st);
	CHECK_EQ(cnt_max(c, 701), 1);
	CHECK_EQ(st.demand_bytes + st.bg_bytes, st.have);
	if (prefetch) {
		CHECK(st.complete && cnt_gone(c));
		CHECK_EQ(st.have, size);
		CHECK(ev_count(&e, BDEV_FILL_PROGRESS) <= 19);
	}
	bdev_destroy(f);
	CHECK(cnt_gone(c));
	ev_fini(&e);
	cnt_free(c);
}

/* The filler alone: in order from 0, runs of o->run, progress every 5%,
 * complete drops the lower. */
static void
test_filler(void)
{
	uint64_t size = 200 * CHUNK;
	struct bdev_fill_opts o = { .prefetch = 1, .run = 10 * CHUNK,
	    .share_pct = 50 };
	struct bdev_fill_stats st;
	struct evlog e;
	struct diag d;
	struct bdev *f;
	struct cnt *c;
	int gone, i, inorder = 1;

	ev_init(&e);
	o.event = ev_cb;
	o.arg = &e;
	c = cnt_new(size, &gone);
	f = fill_on(c, &o);
	CHECK_EQ(bdev_fill_start(f, &d), 0);
	CHECK_EQ(bdev_fill_start(f, &d), 0);	/* once is enough */
	CHECK(ev_wait(&e, BDEV_FILL_COMPLETE));
	bdev_fill_stats(f, &st);
	CHECK(st.complete);
	CHECK(cnt_gone(c));
	CHECK_EQ(st.bg_fetches, 20);
	CHECK_EQ(st.bg_bytes, size);
	CHECK_EQ(st.demand_fetches, 0);
	CHECK_EQ(cnt_max(c, 200), 1);
	for (i = 0; i < 20; i++)
		inorder &= c->first_off[i] == (uint64_t)i * 10 * CHUNK;
	CHECK(inorder);
	CHECK_EQ(ev_count(&e, BDEV_FILL_PROGRESS), 19);
	CHECK_EQ(ev_count(&e, BDEV_FILL_COMPLETE), 1);
	CHECK_EQ(ev_count(&e, BDEV_FILL_STALLED), 0);
	bdev_destroy(f);
	ev_fini(&e);
	cnt_free(c);
}

/* A demand read goes before the filler: while one waits at the lower,
 * the filler started then sends nothing; the first lower read is the
 * demand read's, at the end of the device. */
static void
test_demand_first(void)
{
	uint64_t size = 400 * CHUNK;
	struct bdev_fill_opts o = { .prefetch = 1, .run = 4 * CHUNK };
	struct bdev_fill_stats st;
	struct rd a = { 0 };
	pthread_t ta;
	struct evlog e;
	struct diag d;
	struct bdev *f;
	struct cnt *c;
	int gone, i;

	ev_init(&e);
	o.event = ev_cb;
	o.arg = &e;
	c = cnt_new(size, &gone);
	f = fill_on(c, &o);
	cnt_set(c, 1, 0);
	a.f = f;
	a.off = size - CHUNK;
	a.len = CHUNK;
	pthread_create(&ta, NULL, rd_one, &a);
	for (i = 0; i < 5000 && cnt_held(c) == 0; i++)
		usleep(1000);
	CHECK_EQ(bdev_fill_start(f, &d), 0);
	usleep(100000);
	CHECK_EQ(cnt_held(c), 1);	/* the filler yields */
	cnt_set(c, 0, 0);
	pthread_join(ta, NULL);
	CHECK(a.ok);
	CHECK(ev_wait(&e, BDEV_FILL_COMPLETE));
	bdev_fill_stats(f, &st);
	CHECK_EQ(st.demand_fetches, 1);
	CHECK_EQ(st.demand_bytes, CHUNK);
	CHECK_EQ(st.bg_bytes, size - CHUNK);
	CHECK_EQ(c->first_off[0], size - CHUNK);
	CHECK_EQ(c->first_off[1], 0);
	CHECK_EQ(cnt_max(c, 400), 1);
	bdev_destroy(f);
	ev_fini(&e);
	cnt_free(c);
}

/* A lower away (EIO): a demand read fails with its message, the filler
 * stalls and retries; back: RESUMED, the chunks a demand read failed are
 * fetched later, COMPLETE. */
static void
test_stall(void)
{
	uint64_t size = 64 * CHUNK;
	struct bdev_fill_opts o = { .prefetch = 1, .run = 8 * CHUNK };
	struct bdev_fill_stats st;
	struct evlog e;
	struct diag d;
	struct bdev *f;
	struct cnt *c;
	uint8_t buf[CHUNK];
	int gone;

	ev_init(&e);
	o.event = ev_cb;
	o.arg = &e;
	c = cnt_new(size, &gone);
	f = fill_on(c, &o);
	cnt_set(c, 0, EIO);
	CHECK_EQ(bdev_read(f, buf, 10, 5 * CHUNK, &d), EIO);
	CHECK_MSG(&d, "server away");
	CHECK_EQ(bdev_fill_start(f, &d), 0);
	CHECK(ev_wait(&e, BDEV_FILL_STALLED));
	CHECK(strstr(e.msg[BDEV_FILL_STALLED], "server away") != NULL);
	usleep(300000);
	CHECK_EQ(ev_count(&e, BDEV_FILL_STALLED), 1);	/* once a streak */
	pthread_mutex_lock(&c->mtx);
	CHECK(c->failures >= 2);			/* retried */
	pthread_mutex_unlock(&c->mtx);
	cnt_set(c, 0, 0);
	CHECK(ev_wait(&e, BDEV_FILL_RESUMED));
	CHECK(ev_wait(&e, BDEV_FILL_COMPLETE));
	bdev_fill_stats(f, &st);
	CHECK(st.complete && !st.stopped);
	CHECK_EQ(cnt_max(c, 64), 1);
	CHECK_EQ(bdev_read(f, buf, CHUNK, 5 * CHUNK, &d), 0);
	CHECK(check_bytes(buf, CHUNK, 5 * CHUNK));
	bdev_destroy(f);
	ev_fini(&e);
	cnt_free(c);
}

/* ESTALE: the filler stops for good, later reads of missing chunks fail
 * with the lower's message, present chunks still read. */
static void
test_stale(void)
{
	uint64_t size = 64 * CHUNK;
	struct bdev_fill_opts o = { .prefetch = 1, .run = 8 * CHUNK };
	struct bdev_fill_stats st;
	struct evlog e;
	struct diag d;
	struct bdev *f;
	struct cnt *c;
	uint8_t buf[CHUNK];
	int gone;

	ev_init(&e);
	o.event = ev_cb;
	o.arg = &e;
	c = cnt_new(size, &gone);
	f = fill_on(c, &o);
	CHECK_EQ(bdev_read(f, buf, CHUNK, 0, &d), 0);
	cnt_set(c, 0, ESTALE);
	CHECK_EQ(bdev_fill_start(f, &d), 0);
	CHECK(ev_wait(&e, BDEV_FILL_STOPPED));
	CHECK(strstr(e.msg[BDEV_FILL_STOPPED], "ETag \"a\"") != NULL);
	cnt_set(c, 0, 0);		/* even if the lower answered again */
	CHECK_EQ(bdev_read(f, buf, 10, 30 * CHUNK, &d), ESTALE);
	CHECK_MSG(&d, "another file");
	CHECK_EQ(bdev_read(f, buf, CHUNK, 0, &d), 0);
	CHECK(check_bytes(buf, CHUNK, 0));
	bdev_fill_stats(f, &st);
	CHECK(st.stopped && !st.complete);
	CHECK_EQ(ev_count(&e, BDEV_FILL_STOPPED), 1);
	CHECK_EQ(ev_count(&e, BDEV_FILL_COMPLETE), 0);
	bdev_destroy(f);
	CHECK(cnt_gone(c));
	ev_fini(&e);
	cnt_free(c);
}

/*
 * The share paces the filler only while the device is read on demand (a
 * boot): with share 1% a run is followed by a pause of 99 times its
 * transfer after a demand read, and by none when demand is quiet.
 */
static void
test_share_while_busy(void)
{
	struct bdev_fill_opts o = { .prefetch = 1, .run = CHUNK,
	    .share_pct = 1 };
	struct bdev_fill_stats st;
	struct diag d;
	struct bdev *f;
	struct cnt *c;
	uint8_t buf[512];
	int gone;

	/* quiet: full speed */
	c = cnt_new(100 * CHUNK, &gone);
	c->delay_us = 10000;
	f = fill_on(c, &o);
	CHECK_EQ(bdev_fill_start(f, &d), 0);
	usleep(500000);
	bdev_fill_stats(f, &st);
	CHECK(st.bg_fetches >= 5);
	bdev_destroy(f);
	cnt_free(c);
	/* busy: one run, then a pause of about 99 runs' time */
	c = cnt_new(100 * CHUNK, &gone);
	c->delay_us = 10000;
	f = fill_on(c, &o);
	CHECK_EQ(bdev_read(f, buf, sizeof(buf), 99 * (uint64_t)CHUNK, &d), 0);
	CHECK_EQ(bdev_fill_start(f, &d), 0);
	usleep(500000);
	bdev_fill_stats(f, &st);
	CHECK(st.bg_fetches <= 2);
	bdev_destroy(f);
	cnt_free(c);
}

/* Destroy while the filler is busy (a slow lower) and while it backs off:
 * joined, the lower dropped, nothing leaks (ASan). */
static void
test_destroy_running(void)
{
	struct bdev_fill_opts o = { .prefetch = 1, .run = 4 * CHUNK,
	    .share_pct = 10 };
	struct diag d;
	struct bdev *f;
	struct cnt *c;
	int gone;

	c = cnt_new(1000 * CHUNK, &gone);
	c->delay_us = 5000;
	f = fill_on(c, &o);
	CHECK_EQ(bdev_fill_start(f, &d), 0);
	usleep(30000);
	bdev_destroy(f);
	CHECK(cnt_gone(c));
	cnt_free(c);

	c = cnt_new(1000 * CHUNK, &gone);
	f = fill_on(c, &o);
	cnt_set(c, 0, EIO);
	CHECK_EQ(bdev_fill_start(f, &d), 0);
	usleep(30000);
	bdev_destroy(f);
	CHECK(cnt_gone(c));
	cnt_free(c);
}

/* bdev_faulty under the fill: a failed range fails its read, EIO; once
 * the fault is gone the same read fetches it. */
static void
test_faulty(void)
{
	struct bdev_faulty_opts fo = { .range_off = 3 * CHUNK,
	    .range_len = 1, .range_ops = BDEV_FAULTY_READ };
	struct bdev_fill_opts o = { .chunk = CHUNK };
	struct bdev *m, *fy, *f;
	struct diag d;
	uint8_t buf[2 * CHUNK], *img = malloc(16 * CHUNK);
	uint64_t i;

	for (i = 0; i < 16 * CHUNK; i++)
		img[i] = pat(i);
	CHECK_EQ(bdev_mem_adopt(img, 16 * CHUNK, 0, &m, &d), 0);
	CHECK_EQ(bdev_faulty_new(m, &fo, &fy, &d), 0);
	CHECK_EQ(bdev_fill_new(fy, &o, &f, &d), 0);
	CHECK_EQ(bdev_read(f, buf, CHUNK, 0, &d), 0);
	CHECK_EQ(bdev_read(f, buf, 2 * CHUNK, 2 * CHUNK + 1, &d), EIO);
	memset(&fo, 0, sizeof(fo));
	bdev_faulty_set(fy, &fo);
	CHECK_EQ(bdev_read(f, buf, 2 * CHUNK, 2 * CHUNK + 1, &d), 0);
	CHECK(check_bytes(buf, 2 * CHUNK, 2 * CHUNK + 1));
	bdev_destroy(f);
}

/* Options refused; the lower stays the caller's. */
static void
test_opts(void)
{
	struct bdev_fill_opts o = { 0 };
	struct bdev_fill_stats st;
	struct diag d;
	struct bdev *f = NULL, *m;
	struct cnt *c;
	int gone;

	c = cnt_new(10 * CHUNK, &gone);
	o.chunk = 5000;
	CHECK_EQ(bdev_fill_new(&c->b, &o, &f, &d), EINVAL);
	CHECK_MSG(&d, "power of 2");
	o.chunk = CHUNK;
	o.run = CHUNK / 2;
	CHECK_EQ(bdev_fill_new(&c->b, &o, &f, &d), EINVAL);
	o.run = 0;
	o.share_pct = 101;
	CHECK_EQ(bdev_fill_new(&c->b, &o, &f, &d), EINVAL);
	CHECK(!cnt_gone(c) && f == NULL);
	bdev_destroy(&c->b);
	cnt_free(c);
	c = cnt_new(0, &gone);
	o.share_pct = 0;
	CHECK_EQ(bdev_fill_new(&c->b, &o, &f, &d), EINVAL);
	CHECK_MSG(&d, "empty");
	bdev_destroy(&c->b);
	cnt_free(c);
	CHECK_EQ(bdev_mem_new(4096, 0, &m, &d), 0);
	CHECK_EQ(bdev_fill_stats(m, &st), EINVAL);
	CHECK(!bdev_is_fill(m));
	CHECK_EQ(bdev_fill_start(m, &d), EINVAL);
	bdev_destroy(m);
	/* 1 GiB in 256 KiB chunks: the image and two 512-byte bitmaps */
	CHECK(bdev_fill_ram_needed(1ull << 30, 0) >= (1ull << 30) + 1024);
	CHECK(bdev_fill_ram_needed(1ull << 30, 0) < (1ull << 30) + 8192);
	CHECK_EQ(bdev_fill_ram_needed(UINT64_MAX - 10, 0), UINT64_MAX);
}

int
main(void)
{
	test_opts();
	test_demand();
	test_inflight();
	test_filler();
	test_demand_first();
	test_threads(0);
	test_threads(1);
	test_stall();
	test_stale();
	test_destroy_running();
	test_share_while_busy();
	test_faulty();
	return (t_done());
}
