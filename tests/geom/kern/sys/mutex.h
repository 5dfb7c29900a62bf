/* SPDX-License-Identifier: BSD-2-Clause */
/* The harness's mutex(9): a pthread mutex that knows its owner. */
#ifndef GH_SYS_MUTEX_H
#define GH_SYS_MUTEX_H
#include <sys/param.h>

struct mtx {
	pthread_mutex_t	m;
	pthread_t	owner;
	int		owned;
};
#define	MTX_DEF		0
#define	MA_OWNED	1
#define	MA_NOTOWNED	2

void	mtx_init(struct mtx *m, const char *name, const char *type, int opts);
void	mtx_destroy(struct mtx *m);
void	mtx_lock(struct mtx *m);
void	mtx_unlock(struct mtx *m);
void	gh_mtx_assert(struct mtx *m, int what, const char *file, int line);
#define	mtx_assert(m, what)	gh_mtx_assert((m), (what), __FILE__, __LINE__)
#endif
