/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lr_deps.h - the one header through which kernel-clean code (lib/util,
 * lib/fmt, the rowr map) reaches the C library.  In userland it is libc; in
 * the FreeBSD kernel (_KERNEL) it is sys/systm.h and friends.  Nothing else in
 * those directories includes a system header directly, so the same sources
 * compile into geom_rowr.ko unchanged (the zstd_deps.h idea).
 */
#ifndef LIVEROOT_LR_DEPS_H
#define LIVEROOT_LR_DEPS_H

#ifdef _KERNEL
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <machine/stdarg.h>
#include <sys/stdint.h>
#else
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#endif

#ifndef ENOTSUP
#define ENOTSUP EOPNOTSUPP
#endif

#define LR_MIN(a, b)	((a) < (b) ? (a) : (b))
#define LR_MAX(a, b)	((a) > (b) ? (a) : (b))
#define LR_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * An allocator handed in by the caller: kernel-clean code never allocates
 * behind its caller's back.  alloc returns zeroed memory or NULL.
 */
struct lr_allocator {
	void	*(*alloc)(size_t len, void *arg);
	void	(*free)(void *p, size_t len, void *arg);
	void	*arg;
};

#ifndef _KERNEL
/* The libc allocator (calloc/free); userland only. */
extern const struct lr_allocator lr_libc_allocator;
#endif

#endif
