/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * faulty.c - see faulty.h.  A pure tap: its only op is the gate, which the
 * core asks before it forwards any request to the lower.  The rules sit
 * under a mutex (tests change them while other threads do I/O); the counters
 * are counted under it too, so "the N-th op fails" is exact even with
 * concurrent callers.  The lower is reached outside the mutex.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/faulty.h>
#include <liveroot/util.h>

struct bdev_faulty {
	struct bdev		b;
	pthread_mutex_t		mtx;
	struct bdev_faulty_opts	o;
	uint64_t		nreads;
	uint64_t		nwrites;
	uint64_t		injected;
};

static int
faulty_gate(struct bdev *b, enum bdev_op op, uint64_t off, uint64_t len,
    struct diag *d)
{
	static const unsigned kinds[] = {
		[BDEV_OP_READ] = BDEV_FAULTY_READ,
		[BDEV_OP_WRITE] = BDEV_FAULTY_WRITE,
		[BDEV_OP_ZEROES] = BDEV_FAULTY_WRITE,
		[BDEV_OP_TRIM] = BDEV_FAULTY_TRIM,
		[BDEV_OP_FLUSH] = BDEV_FAULTY_FLUSH,
	};
	struct bdev_faulty *f = (struct bdev_faulty *)b;
	unsigned kind = kinds[op];
	const char *what;
	uint64_t n = 0, after = 0;
	int fail = 0, error;

	pthread_mutex_lock(&f->mtx);
	error = f->o.error != 0 ? f->o.error : EIO;
	if (kind == BDEV_FAULTY_READ) {
		n = ++f->nreads;
		after = f->o.fail_read_after;
	} else if (kind == BDEV_FAULTY_WRITE) {
		n = ++f->nwrites;
		after = f->o.fail_write_after;
	}
	if (after != 0 && n >= after)
		fail = 1;
	if ((f->o.range_ops & kind) && f->o.range_len > 0 &&
	    (kind == BDEV_FAULTY_FLUSH || (off < f->o.range_off +
	    f->o.range_len && f->o.range_off < off + len)))
		fail = 1;
	if (fail)
		f->injected++;
	pthread_mutex_unlock(&f->mtx);
	if (!fail)
		return (0);
	what = kind == BDEV_FAULTY_READ ? "read" : kind == BDEV_FAULTY_WRITE ?
	    "write" : kind == BDEV_FAULTY_TRIM ? "trim" : "flush";
	return (diag_set(d, error, "%s: injected %s error (%s) for %ju bytes "
	    "at offset %ju", f->b.desc, what, strerror(error), (uintmax_t)len,
	    (uintmax_t)off));
}

static void
faulty_destroy(struct bdev *b)
{
	struct bdev_faulty *f = (struct bdev_faulty *)b;

	pthread_mutex_destroy(&f->mtx);
	free(f);
}

static const struct bdev_ops faulty_ops = {
	.name = "faulty",
	.gate = faulty_gate,
	.destroy = faulty_destroy,
};

int
bdev_faulty_new(struct bdev *lower, const struct bdev_faulty_opts *o,
    struct bdev **out, struct diag *d)
{
	struct bdev_faulty *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	pthread_mutex_init(&f->mtx, NULL);
	if (o != NULL)
		f->o = *o;
	bdev_init(&f->b, &faulty_ops, lower->size, lower->blksize,
	    lower->readonly, lower, "faulty(%s)", lower->desc);
	*out = &f->b;
	return (0);
}

void
bdev_faulty_set(struct bdev *b, const struct bdev_faulty_opts *o)
{
	struct bdev_faulty *f = (struct bdev_faulty *)b;

	pthread_mutex_lock(&f->mtx);
	memset(&f->o, 0, sizeof(f->o));
	if (o != NULL)
		f->o = *o;
	f->nreads = f->nwrites = 0;
	pthread_mutex_unlock(&f->mtx);
}

uint64_t
bdev_faulty_injected(struct bdev *b)
{
	struct bdev_faulty *f = (struct bdev_faulty *)b;
	uint64_t n;

	pthread_mutex_lock(&f->mtx);
	n = f->injected;
	pthread_mutex_unlock(&f->mtx);
	return (n);
}
