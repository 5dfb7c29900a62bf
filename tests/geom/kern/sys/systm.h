/* SPDX-License-Identifier: BSD-2-Clause */
/* The harness's <sys/systm.h>: assertions, sleep/wakeup, atomic(9), strlcpy. */
#ifndef GH_SYS_SYSTM_H
#define GH_SYS_SYSTM_H
#include <sys/param.h>
#include <sys/queue.h>

/* A failed assertion is a bug of the class under test: report and abort. */
void	gh_assert_fail(const char *file, int line, const char *what);
#define	KASSERT(exp, msg) do {						\
	if (!(exp))							\
		gh_assert_fail(__FILE__, __LINE__, #exp);		\
} while (0)
#define	MPASS(exp)	KASSERT(exp, (#exp))

#define	__unused	__attribute__((__unused__))
#define	__diagused

struct mtx;
int	msleep(void *chan, struct mtx *m, int pri, const char *wmesg, int timo);
void	wakeup(void *chan);

size_t	gh_strlcpy(char *dst, const char *src, size_t size);
#define	strlcpy(d, s, n)	gh_strlcpy((d), (s), (n))

/* atomic(9), sequentially consistent. */
#define	atomic_add_int(p, v)	((void)__atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST))
#define	atomic_add_long(p, v)	((void)__atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST))
#define	atomic_fetchadd_int(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define	atomic_load_acq_int(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define	atomic_load_long(p)	__atomic_load_n((p), __ATOMIC_RELAXED)
static inline int
atomic_cmpset_int(volatile u_int *p, u_int old, u_int new)
{
	return (__atomic_compare_exchange_n(p, &old, new, 0, __ATOMIC_SEQ_CST,
	    __ATOMIC_SEQ_CST));
}
#endif
