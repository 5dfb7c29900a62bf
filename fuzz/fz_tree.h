/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fz_tree.h - the bounded tree walk shared by fuzz_fat and fuzz_exfat.
 * FZ_TREE(T) defines, for the reader fmt_T: struct fz (the volume, its
 * source over the input, the walk's counters), fz_start() (a fresh struct
 * fz over the input) and fz_cb(), the fmt_T_list callback that takes every
 * entry's extent list and descends into directories, depth and entry count
 * capped so one input stays fast.  The directory entry handed down is
 * copied to the heap, so ASan sees an over-read of it.
 */
#ifndef LIVEROOT_FZ_TREE_H
#define LIVEROOT_FZ_TREE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FZ_MAXENT	256
#define FZ_MAXDEPTH	4

#define FZ_TREE(T)							\
struct fz {								\
	struct fmt_mem		mem;					\
	struct fmt_src		src;					\
	struct fmt_##T		fs;					\
	int			seen;					\
	int			depth;					\
};									\
									\
static struct fz *							\
fz_start(const uint8_t *data, size_t size)				\
{									\
	static struct fz z;						\
									\
	memset(&z, 0, sizeof(z));					\
	fmt_mem_src(&z.src, &z.mem, data, size);			\
	return (&z);							\
}									\
									\
static int								\
fz_cb(void *arg, const struct fmt_##T##_dirent *e)			\
{									\
	struct fz *z = arg;						\
	struct fmt_extent ext[16];					\
	struct diag d;							\
	size_t n;							\
									\
	if (++z->seen > FZ_MAXENT)					\
		return (1);						\
	(void)fmt_##T##_extents(&z->fs, e, ext, 16, &n, &d);		\
	if (e->is_dir && z->depth < FZ_MAXDEPTH) {			\
		struct fmt_##T##_dirent *sub = malloc(sizeof(*sub));	\
									\
		if (sub == NULL)					\
			return (1);					\
		*sub = *e;						\
		z->depth++;						\
		(void)fmt_##T##_list(&z->fs, sub, fz_cb, z, &d);	\
		z->depth--;						\
		free(sub);						\
	}								\
	return (0);							\
}

#endif
