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
	char			 isoid[17];	/* /.disk/liveroot-ID of the ISO */
};

/* The GRUB configuration files grub.c writes. */
enum mk_grub_file {
	MK_GRUB_MENU,		/* /boot/grub/grub.cfg */
	MK_GRUB_LOOPBACK,	/* /boot/grub/loopback.cfg */
	MK_GRUB_EARLY,		/* embedded in the i386-pc El Torito image */
	MK_GRUB_ESP,		/* the ESP's /boot/grub/grub.cfg */
};

/* A step line through o->report. */
void	mk_step(struct mk *m, const char *fmt, ...) LR_PRINTF(2, 3);
/*
 * Runs a tool: with out, its stdout captured (stderr too when merge);
 * without, it talks on our stderr or is collected for its failure (os.h).
 */
int	mk_run(struct mk *m, char *const argv[], char *out, size_t outlen,
	    int merge, struct diag *d);

/* What a quiet tool said before it failed, to o->report. */
void	mk_tool_output(void *arg, const char *text);
int	mk_kernel(struct mk *m);			/* mklive.c */
/* The release in a bzImage's setup header ("6.1.0-57-amd64"). */
int	mk_bzimage_release(const char *path, char *out, size_t outlen,
	    struct diag *d);
int	mk_grub_cfg(const struct mk *m, enum mk_grub_file which, char *buf,
	    size_t cap, size_t *len);			/* grub.c */
/* NULL, or the first character of s GRUB or the kernel would misread. */
const char *mk_grub_text_bad(const char *s, int label);
int	mk_boot_check(struct mk *m);			/* iso.c */
int	mk_sign_check(struct mk *m);			/* sign.c */
int	mk_sign(struct mk *m);
int	mk_stage_pubkey(struct mk *m);
int	mk_stage_modules(struct mk *m);			/* modules.c */
int	mk_initramfs(struct mk *m);			/* initramfs.c */
void	mk_remove_staging(struct mk *m);		/* initramfs.c */
int	mk_ext4(struct mk *m, const char *img);		/* ext4.c */
/* Clamps a fresh ext4 image's inode times to epoch (ext4_clamp.c). */
int	mk_ext4_clamp(const char *img, uint32_t epoch, struct diag *d);
/* A UUID (36 characters + NUL) from the epoch, the label and what. */
void	mk_epoch_uuid(const struct mk *m, const char *what, char out[40]);
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
