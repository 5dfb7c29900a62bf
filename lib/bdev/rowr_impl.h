/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rowr_impl.h - private to the rowr layer: the device shared by its I/O
 * engine (rowr.c) and its persistence (rowr_persist.c: the map file, the
 * lower's identity and lock, the files on disk).  Locking rules in rowr.c.
 */
#ifndef LIVEROOT_ROWR_IMPL_H
#define LIVEROOT_ROWR_IMPL_H

#include <pthread.h>

#include <liveroot/bdev.h>
#include <liveroot/rowr.h>
#include <liveroot/rowrmap.h>

#define ROWR_COPY_CHUNK	(1u << 20)
#define ROWR_NPEND	64	/* waiting writers that hold readers back */

struct rowr_pend {
	uint64_t	g0, g1;
	int		used;
};

struct bdev_rowr {
	struct bdev	 b;		/* b.lower: the read-only lower */
	struct bdev	*upper;
	struct lr_rowrmap map;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	struct rowr_pend pend[ROWR_NPEND];
	uint64_t	 rd_lower;	/* atomic statistics */
	uint64_t	 rd_upper;
	uint64_t	 wr;
	uint64_t	 changes;	/* atomic: map-changing requests */
	/* persistence */
	pthread_mutex_t	 save_mtx;
	char		*map_path;	/* NULL: not persistent */
	char		*lower_path;	/* recorded in the map file */
	uint64_t	 generation;
	uint64_t	 saved_changes;
	int		 force_save;	/* next flush saves (new identity) */
	uint32_t	 mapflags;	/* LR_ROWRMAP_F_*, saved in the map */
	struct lr_rowrmap_ident ident;	/* the lower's, saved in the map */
	int		 lockfd;	/* the lower, flock'ed; -1: none */
};


#define STAT_ADD(p, n)	__atomic_add_fetch((p), (n), __ATOMIC_RELAXED)
/*
 * After the bits of a request are set: release, so that a save whose acquire
 * load sees the new count also sees those (relaxed) bits in its snapshot;
 * relaxed, a weakly ordered CPU could save the new count without the bits
 * and never save them again.
 */
#define CHANGED(r)	__atomic_add_fetch(&(r)->changes, 1, __ATOMIC_RELEASE)

/* engine (rowr.c) */
int	rowr_alloc(struct bdev *lower, struct bdev *upper, uint32_t granule,
	    struct bdev_rowr **out, struct diag *d);
void	rowr_free(struct bdev_rowr *r);
struct bdev_rowr *rowr_of(struct bdev *b);	/* NULL: not a rowr device */
int	rowr_read_locked(struct bdev_rowr *r, void *buf, size_t len,
	    uint64_t off, struct diag *d);

/* persistence (rowr_persist.c) */
int	rowr_save_locked(struct bdev_rowr *r, int force, struct diag *d);
int	rowr_lower_lock_commit(struct bdev_rowr *r, int excl, struct diag *d);
int	rowr_commit_begin(struct bdev_rowr *r, struct diag *d);
int	rowr_commit_end(struct bdev_rowr *r, struct diag *d);

#endif
