/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sparse.h - a sparse page array: a byte address space of a fixed size whose
 * 4 KiB pages are allocated on first non-zero write, read as zeros while
 * unallocated, and freed when zeroed whole (trim).  Two levels: a top table
 * sized at init (one pointer per 2 MiB) and leaf tables of 512 page pointers.
 *
 * Memory comes from the caller's lr_allocator.  A byte cap (0 = none) bounds
 * the pages in use; a write that would pass it fails with ENOSPC before any
 * byte is changed, and a write whose allocation fails changes nothing either
 * (pages are allocated first, data copied second).  Not locked: the owner
 * serialises (bdev_mem holds a mutex).  Kernel-clean.
 */
#ifndef LIVEROOT_SPARSE_H
#define LIVEROOT_SPARSE_H

#include "lr_deps.h"

#define LR_SPARSE_PAGE		4096u
#define LR_SPARSE_LEAF		512u

struct lr_sparse {
	void			***top;		/* ntop leaf tables, NULL if absent */
	uint64_t		 ntop;
	uint64_t		 size;
	uint64_t		 cap_pages;	/* 0: no cap */
	uint64_t		 pages;		/* pages allocated */
	uint64_t		 leaves;	/* leaf tables allocated */
	const struct lr_allocator *a;
};

int	lr_sparse_init(struct lr_sparse *s, uint64_t size, uint64_t cap_bytes,
	    const struct lr_allocator *a);
void	lr_sparse_fini(struct lr_sparse *s);
void	lr_sparse_read(const struct lr_sparse *s, void *buf, size_t len,
	    uint64_t off);
/* 0, ENOSPC (cap), or ENOMEM; on error nothing was changed. */
int	lr_sparse_write(struct lr_sparse *s, const void *buf, size_t len,
	    uint64_t off);
/*
 * Overwrite only: copies when every page the write needs is already
 * allocated (or the data for a missing page is all zeros) and returns 0;
 * otherwise changes nothing and returns EAGAIN.  It never allocates or frees,
 * so an owner may run it concurrently with readers and other overwrites
 * (shared lock) and take its exclusive lock only for lr_sparse_write.
 */
int	lr_sparse_overwrite(struct lr_sparse *s, const void *buf, size_t len,
	    uint64_t off);
/* Zero a range: whole pages are freed, partial pages zeroed in place. */
void	lr_sparse_zero(struct lr_sparse *s, uint64_t off, uint64_t len);
/* Bytes of data pages in use (not counting tables). */
uint64_t lr_sparse_bytes_used(const struct lr_sparse *s);
/* Bytes of tables (top + leaves): the bookkeeping overhead. */
uint64_t lr_sparse_bytes_meta(const struct lr_sparse *s);
/* True when the page holding off is allocated. */
bool	lr_sparse_present(const struct lr_sparse *s, uint64_t off);

#endif
