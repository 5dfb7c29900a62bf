/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The harness's malloc(9).  M_NOWAIT allocations fail on demand
 * (gh_set_nowait_fail) so the class's ENOMEM paths run; M_WAITOK never fails.
 */
#ifndef GH_SYS_MALLOC_H
#define GH_SYS_MALLOC_H
#include <sys/param.h>

#define	M_NOWAIT	0x0001
#define	M_WAITOK	0x0002
#define	M_ZERO		0x0100

struct malloc_type {
	const char	*ks_shortdesc;
};
#define	MALLOC_DECLARE(t)	extern struct malloc_type t[1]
#define	MALLOC_DEFINE(t, s, l)	struct malloc_type t[1] = { { (s) } }

void	*gh_malloc(size_t size, struct malloc_type *type, int flags);
void	gh_free(void *p, struct malloc_type *type);
#define	malloc(s, t, f)	gh_malloc((s), (t), (f))
#define	free(p, t)	gh_free((p), (t))
#endif
