/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bitmap.h - a bitmap in caller-supplied storage with fast run queries.
 *
 * Storage is an array of uint64_t words, lr_bitmap_words(nbits) of them, owned
 * by the caller.  Setting and clearing are safe against concurrent set/clear of
 * *other* bits in the same word (atomic OR/AND on partial words), which is
 * what the rowr overlay needs: it range-locks granules, but two granules in
 * different locked ranges can share a word.  Queries are relaxed atomic loads.
 * Kernel-clean.
 */
#ifndef LIVEROOT_BITMAP_H
#define LIVEROOT_BITMAP_H

#include "lr_deps.h"

struct lr_bitmap {
	uint64_t	*words;		/* borrowed: the caller's storage */
	uint64_t	 nbits;
};

static inline uint64_t
lr_bitmap_words(uint64_t nbits)
{
	return ((nbits + 63) / 64);
}

static inline size_t
lr_bitmap_bytes(uint64_t nbits)
{
	return ((size_t)lr_bitmap_words(nbits) * sizeof(uint64_t));
}

/* words must hold lr_bitmap_words(nbits) zeroed words. */
void	lr_bitmap_init(struct lr_bitmap *bm, uint64_t *words, uint64_t nbits);
bool	lr_bitmap_test(const struct lr_bitmap *bm, uint64_t bit);
void	lr_bitmap_set_range(struct lr_bitmap *bm, uint64_t start, uint64_t n);
void	lr_bitmap_clear_range(struct lr_bitmap *bm, uint64_t start, uint64_t n);
void	lr_bitmap_clear_all(struct lr_bitmap *bm);
/* First set (clear) bit in [from, limit), or limit if none. */
uint64_t lr_bitmap_next_set(const struct lr_bitmap *bm, uint64_t from,
	    uint64_t limit);
uint64_t lr_bitmap_next_clear(const struct lr_bitmap *bm, uint64_t from,
	    uint64_t limit);
/* End (exclusive, <= limit) of the run of bits equal to bit `from`. */
uint64_t lr_bitmap_run_end(const struct lr_bitmap *bm, uint64_t from,
	    uint64_t limit);
uint64_t lr_bitmap_count(const struct lr_bitmap *bm, uint64_t from,
	    uint64_t limit);

#endif
