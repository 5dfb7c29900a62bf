/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * faulty.h - a fault-injecting pass-through layer for tests and fuzzing (the
 * gnop -e / nbdkit error filter idea).  Every op goes to the lower unless a
 * rule says it fails: the N-th and later reads (writes) fail, or any op of a
 * selected kind that touches a byte range fails.  A failed op does not reach
 * the lower.  Rules can be changed while the device is in use.
 */
#ifndef LIVEROOT_FAULTY_H
#define LIVEROOT_FAULTY_H

#include "bdev.h"

#define BDEV_FAULTY_READ	0x01
#define BDEV_FAULTY_WRITE	0x02	/* write and write-zeroes */
#define BDEV_FAULTY_TRIM	0x04
#define BDEV_FAULTY_FLUSH	0x08	/* selected: every flush fails */

struct bdev_faulty_opts {
	uint64_t	fail_read_after;	/* 0 = never; N = the N-th and
						 * later reads fail (1-based) */
	uint64_t	fail_write_after;	/* the same for writes */
	/* With range_len > 0, ops of the kinds in range_ops (BDEV_FAULTY_*)
	 * that touch [range_off, range_off + range_len) fail. */
	uint64_t	range_off;
	uint64_t	range_len;
	unsigned	range_ops;
	int		error;		/* errno to fail with; 0 = EIO */
};

/* Takes ownership of lower on success.  o may be NULL (no faults yet). */
int	bdev_faulty_new(struct bdev *lower, const struct bdev_faulty_opts *o,
	    struct bdev **out, struct diag *d);
/* Replace the rules and reset the op counters. */
void	bdev_faulty_set(struct bdev *b, const struct bdev_faulty_opts *o);
/* Faults injected so far. */
uint64_t bdev_faulty_injected(struct bdev *b);

#endif
