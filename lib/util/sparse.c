/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sparse.c - see sparse.h.  Invariants: a page pointer is non-NULL only for an
 * allocated page; pages counts them; a leaf table exists while any of its
 * pages does (it is freed when its last page goes).  All-zero writes to a
 * hole allocate nothing.
 */
#include <liveroot/sparse.h>
#include <liveroot/util.h>

#define PG	LR_SPARSE_PAGE
#define LEAF	LR_SPARSE_LEAF

static inline void **
leaf_of(const struct lr_sparse *s, uint64_t pg)
{
	return (s->top[pg / LEAF]);
}

static inline uint8_t *
page_of(const struct lr_sparse *s, uint64_t pg)
{
	void **l = leaf_of(s, pg);

	return (l == NULL ? NULL : l[pg % LEAF]);
}

int
lr_sparse_init(struct lr_sparse *s, uint64_t size, uint64_t cap_bytes,
    const struct lr_allocator *a)
{
	uint64_t npages;

	memset(s, 0, sizeof(*s));
	npages = lr_div_roundup(size, PG);
	s->ntop = lr_div_roundup(npages, LEAF);
	if (s->ntop == 0)
		s->ntop = 1;
	if (s->ntop > SIZE_MAX / sizeof(void **))
		return (EFBIG);
	s->top = a->alloc((size_t)s->ntop * sizeof(void **), a->arg);
	if (s->top == NULL)
		return (ENOMEM);
	s->size = size;
	s->cap_pages = cap_bytes / PG;
	if (cap_bytes != 0 && s->cap_pages == 0)
		s->cap_pages = 1;
	s->a = a;
	return (0);
}

static void
free_page(struct lr_sparse *s, uint64_t pg)
{
	void **l = leaf_of(s, pg);
	uint64_t i;

	if (l == NULL || l[pg % LEAF] == NULL)
		return;
	s->a->free(l[pg % LEAF], PG, s->a->arg);
	l[pg % LEAF] = NULL;
	s->pages--;
	for (i = 0; i < LEAF; i++)
		if (l[i] != NULL)
			return;
	s->a->free(l, LEAF * sizeof(void *), s->a->arg);
	s->top[pg / LEAF] = NULL;
	s->leaves--;
}

void
lr_sparse_fini(struct lr_sparse *s)
{
	uint64_t t, i;

	if (s->top == NULL)
		return;
	for (t = 0; t < s->ntop; t++) {
		void **l = s->top[t];

		if (l == NULL)
			continue;
		for (i = 0; i < LEAF; i++)
			if (l[i] != NULL)
				s->a->free(l[i], PG, s->a->arg);
		s->a->free(l, LEAF * sizeof(void *), s->a->arg);
	}
	s->a->free(s->top, (size_t)s->ntop * sizeof(void **), s->a->arg);
	memset(s, 0, sizeof(*s));
}

void
lr_sparse_read(const struct lr_sparse *s, void *buf, size_t len, uint64_t off)
{
	uint8_t *out = buf;

	while (len > 0) {
		uint64_t pg = off / PG;
		size_t po = (size_t)(off % PG);
		size_t n = LR_MIN(len, PG - po);
		const uint8_t *p = page_of(s, pg);

		if (p == NULL)
			memset(out, 0, n);
		else
			memcpy(out, p + po, n);
		out += n;
		off += n;
		len -= n;
	}
}

/* Pages of the range that are holes and would get non-zero data. */
static uint64_t
pages_needed(const struct lr_sparse *s, const uint8_t *in, size_t len,
    uint64_t off)
{
	uint64_t o, need = 0;
	size_t l;

	for (o = off, l = len; l > 0;) {
		uint64_t pg = o / PG;
		size_t po = (size_t)(o % PG);
		size_t n = LR_MIN(l, PG - po);

		if (page_of(s, pg) == NULL && !lr_is_zero(in + (o - off), n))
			need++;
		o += n;
		l -= n;
	}
	return (need);
}

/* Copy into the allocated pages of the range (missing ones stay holes). */
static void
copy_in(struct lr_sparse *s, const uint8_t *in, size_t len, uint64_t off)
{
	uint64_t o;
	size_t l;

	for (o = off, l = len; l > 0;) {
		uint64_t pg = o / PG;
		size_t po = (size_t)(o % PG);
		size_t n = LR_MIN(l, PG - po);
		uint8_t *p = page_of(s, pg);

		if (p != NULL)
			memcpy(p + po, in + (o - off), n);
		o += n;
		l -= n;
	}
}

int
lr_sparse_write(struct lr_sparse *s, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *in = buf;
	uint64_t o, need;
	size_t l;

	/* Pass 1: count the pages this write must allocate. */
	need = pages_needed(s, in, len, off);
	if (s->cap_pages != 0 && need > s->cap_pages - LR_MIN(s->cap_pages,
	    s->pages))
		return (ENOSPC);
	/* Pass 2: allocate; a failure leaves only zero pages behind. */
	for (o = off, l = len; l > 0 && need > 0;) {
		uint64_t pg = o / PG;
		size_t po = (size_t)(o % PG);
		size_t n = LR_MIN(l, PG - po);

		if (page_of(s, pg) == NULL &&
		    !lr_is_zero(in + (o - off), n)) {
			void **lf = leaf_of(s, pg);

			if (lf == NULL) {
				lf = s->a->alloc(LEAF * sizeof(void *),
				    s->a->arg);
				if (lf == NULL)
					return (ENOMEM);
				s->top[pg / LEAF] = lf;
				s->leaves++;
			}
			lf[pg % LEAF] = s->a->alloc(PG, s->a->arg);
			if (lf[pg % LEAF] == NULL)
				return (ENOMEM);
			s->pages++;
			need--;
		}
		o += n;
		l -= n;
	}
	/* Pass 3: copy. */
	copy_in(s, in, len, off);
	return (0);
}

int
lr_sparse_overwrite(struct lr_sparse *s, const void *buf, size_t len,
    uint64_t off)
{
	if (pages_needed(s, buf, len, off) != 0)
		return (EAGAIN);
	copy_in(s, buf, len, off);
	return (0);
}

void
lr_sparse_zero(struct lr_sparse *s, uint64_t off, uint64_t len)
{
	while (len > 0) {
		uint64_t pg = off / PG;
		size_t po = (size_t)(off % PG);
		uint64_t n = LR_MIN(len, PG - po);
		uint8_t *p = page_of(s, pg);

		if (p != NULL) {
			if (n == PG)
				free_page(s, pg);
			else
				memset(p + po, 0, (size_t)n);
		} else if (po == 0 && leaf_of(s, pg) == NULL) {
			/* Skip the rest of an absent leaf quickly. */
			uint64_t rest = (LEAF - pg % LEAF) * (uint64_t)PG;

			n = LR_MIN(len, rest);
		}
		off += n;
		len -= n;
	}
}

uint64_t
lr_sparse_bytes_used(const struct lr_sparse *s)
{
	return (s->pages * PG);
}

uint64_t
lr_sparse_bytes_meta(const struct lr_sparse *s)
{
	return (s->ntop * sizeof(void **) + s->leaves * LEAF * sizeof(void *));
}

bool
lr_sparse_present(const struct lr_sparse *s, uint64_t off)
{
	if (off >= s->size)
		return (false);
	return (page_of(s, off / PG) != NULL);
}
