/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mklive_int.h - what the files of lib/mklive share (private): the state of
 * one mklive_build() call and the steps, one file each.  Each step returns
 * 0 or an errno with m->d filled, and sets m->r->bad_input when the fault
 * is one input's.
 */
#ifndef LIVEROOT_MKLIVE_INT_H
#define LIVEROOT_MKLIVE_INT_H

#include <limits.h>

#include <liveroot/diag.h>
#include <liveroot/mklive.h>

struct mk {
	const struct mklive_opts *o;
	struct mklive_result	*r;
	struct diag		*d;
	char			 moddir[PATH_MAX];	/* the cache's modules */
	char			 staging[1024];		/* the initramfs tree */
};

/* A step line through o->report. */
void	mk_step(struct mk *m, const char *fmt, ...) LR_PRINTF(2, 3);
/*
 * Runs a tool: with out, its stdout captured (stderr too when merge);
 * without, it talks on our stderr or is collected for its failure (os.h).
 */
int	mk_run(struct mk *m, char *const argv[], char *out, size_t outlen,
	    int merge, struct diag *d);

int	mk_kernel(struct mk *m);			/* mklive.c */
int	mk_stage_modules(struct mk *m);			/* modules.c */
int	mk_initramfs(struct mk *m);			/* initramfs.c */
void	mk_remove_staging(struct mk *m);		/* initramfs.c */
int	mk_ext4(struct mk *m, const char *img);		/* ext4.c */
/* The tree's data in 4 KiB blocks and its inodes, added to *bytes, *inodes. */
int	mk_tree_measure(const char *dir, uint64_t *bytes, uint64_t *inodes,
	    struct diag *d);
/* The free space --free asks for, for content bytes. */
uint64_t mk_free_bytes(const struct mklive_opts *o, uint64_t content);
int	mk_uzip(struct mk *m, const char *in);		/* mklive.c */
int	mk_freebsd(struct mk *m);			/* freebsd.c */
int	mk_iso(struct mk *m);				/* iso.c */
int	mk_netboot(struct mk *m);			/* netboot.c */

#endif
