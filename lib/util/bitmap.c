/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bitmap.c - see bitmap.h.  Partial words change with atomic OR/AND so that
 * concurrent updates of other bits in the same word are not lost; whole words
 * are owned by one range lock and are stored plainly (but atomically, so a
 * relaxed concurrent reader never sees a torn word).  Run queries skip whole
 * words with ctz.
 */
#include <liveroot/bitmap.h>

#define W(bm, i)	((bm)->words[(i)])

static inline uint64_t
ld(const struct lr_bitmap *bm, uint64_t wi)
{
	return (__atomic_load_n(&bm->words[wi], __ATOMIC_RELAXED));
}

void
lr_bitmap_init(struct lr_bitmap *bm, uint64_t *words, uint64_t nbits)
{
	bm->words = words;
	bm->nbits = nbits;
}

bool
lr_bitmap_test(const struct lr_bitmap *bm, uint64_t bit)
{
	if (bit >= bm->nbits)
		return (false);
	return ((ld(bm, bit / 64) >> (bit % 64)) & 1);
}

static uint64_t
mask_of(uint64_t lo, uint64_t hi)	/* bits [lo, hi) of one word, hi <= 64 */
{
	uint64_t m = (hi == 64) ? ~0ULL : ((1ULL << hi) - 1);

	return (m & ~((1ULL << lo) - 1));
}

static void
update(struct lr_bitmap *bm, uint64_t start, uint64_t n, int set)
{
	uint64_t end, wi, lo, hi, m;

	if (start >= bm->nbits)
		return;
	if (n > bm->nbits - start)
		n = bm->nbits - start;
	end = start + n;
	while (start < end) {
		wi = start / 64;
		lo = start % 64;
		hi = LR_MIN(64, lo + (end - start));
		m = mask_of(lo, hi);
		if (m == ~0ULL)
			__atomic_store_n(&W(bm, wi), set ? ~0ULL : 0,
			    __ATOMIC_RELAXED);
		else if (set)
			__atomic_fetch_or(&W(bm, wi), m, __ATOMIC_RELAXED);
		else
			__atomic_fetch_and(&W(bm, wi), ~m, __ATOMIC_RELAXED);
		start += hi - lo;
	}
}

void
lr_bitmap_set_range(struct lr_bitmap *bm, uint64_t start, uint64_t n)
{
	update(bm, start, n, 1);
}

void
lr_bitmap_clear_range(struct lr_bitmap *bm, uint64_t start, uint64_t n)
{
	update(bm, start, n, 0);
}

void
lr_bitmap_clear_all(struct lr_bitmap *bm)
{
	uint64_t i;

	for (i = 0; i < lr_bitmap_words(bm->nbits); i++)
		__atomic_store_n(&W(bm, i), 0, __ATOMIC_RELAXED);
}

/* First bit in [from, limit) whose value is `want`, else limit. */
static uint64_t
next_of(const struct lr_bitmap *bm, uint64_t from, uint64_t limit, int want)
{
	uint64_t wi, w, r;

	if (limit > bm->nbits)
		limit = bm->nbits;
	if (from >= limit)
		return (limit);
	wi = from / 64;
	w = ld(bm, wi);
	if (!want)
		w = ~w;
	w &= ~0ULL << (from % 64);
	for (;;) {
		if (w != 0) {
			r = wi * 64 + (uint64_t)__builtin_ctzll(w);
			return (r < limit ? r : limit);
		}
		wi++;
		if (wi * 64 >= limit)
			return (limit);
		w = ld(bm, wi);
		if (!want)
			w = ~w;
	}
}

uint64_t
lr_bitmap_next_set(const struct lr_bitmap *bm, uint64_t from, uint64_t limit)
{
	return (next_of(bm, from, limit, 1));
}

uint64_t
lr_bitmap_next_clear(const struct lr_bitmap *bm, uint64_t from, uint64_t limit)
{
	return (next_of(bm, from, limit, 0));
}

uint64_t
lr_bitmap_run_end(const struct lr_bitmap *bm, uint64_t from, uint64_t limit)
{
	if (limit > bm->nbits)
		limit = bm->nbits;
	if (from >= limit)
		return (limit);
	return (next_of(bm, from, limit, !lr_bitmap_test(bm, from)));
}

uint64_t
lr_bitmap_count(const struct lr_bitmap *bm, uint64_t from, uint64_t limit)
{
	uint64_t c = 0, wi, lo, hi;

	if (limit > bm->nbits)
		limit = bm->nbits;
	while (from < limit) {
		wi = from / 64;
		lo = from % 64;
		hi = LR_MIN(64, lo + (limit - from));
		c += (uint64_t)__builtin_popcountll(ld(bm, wi) & mask_of(lo, hi));
		from += hi - lo;
	}
	return (c);
}
