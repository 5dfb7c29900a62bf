/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gh.h - a userland GEOM harness: our own small implementation of the part
 * of FreeBSD's GEOM KPI a class uses (tests/geom/kern/ holds its headers),
 * so an unchanged kernel class (freebsd/sys/geom/rowr/g_rowr.c) runs in a
 * test program under ASan and ThreadSanitizer.
 *
 * Model: g_io_request() queues a bio for a pool of "g_down" threads that call
 * the provider's start method; g_io_deliver() queues it for a pool of "g_up"
 * threads that call its bio_done (or wake biowait()).  Both pools pick a
 * random queued bio, so completions come back out of order.  One event
 * thread runs posted events, orphan notifications and the washer, under the
 * topology lock, as FreeBSD's g_event does.  Control requests (gh_ctl) run
 * in the caller's thread under the topology lock, as geom_ctl.c does.
 *
 * Memory-backed providers (class GH_MD) can be made read-only, can fail a
 * command with an errno after N successful ones, can cap their space (ENOSPC
 * once more 4 KiB pages would be in use; BIO_DELETE frees pages) and can be
 * withered (orphaned) at any time.  M_NOWAIT allocations of the class under
 * test fail on demand.
 *
 * Violations of GEOM's rules that FreeBSD would catch with INVARIANTS (I/O
 * without access, misaligned or out-of-range bios, a consumer closed or
 * detached with bios in flight, a bio delivered twice) are counted and
 * printed; a failed KASSERT aborts.
 */
#ifndef GH_H
#define GH_H

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/bio.h>
#include <sys/malloc.h>
#include <geom/geom.h>

void	gh_init(unsigned ndown, unsigned nup, uint64_t seed);
/* Waits for quiet, stops the threads. */
void	gh_fini(void);
void	gh_add_class(struct g_class *mp);
/* Remove a class with no geoms left (0), or EBUSY. */
int	gh_remove_class(struct g_class *mp);
/* Wait until no bio is queued or in service and no event is pending. */
void	gh_settle(void);
unsigned gh_violations(void);
/* Per-mille of M_NOWAIT allocations (and bio clones) that fail. */
void	gh_set_nowait_fail(unsigned permille);
/* Random short delays in memory providers (on by default). */
void	gh_set_delays(int on);
uint64_t gh_rand(void);

struct gh_md;
struct gh_md *gh_md_new(const char *name, uint64_t size, u_int secsize);
struct g_provider *gh_md_provider(struct gh_md *md);
/* The backing memory (read it only while quiet). */
uint8_t	*gh_md_data(struct gh_md *md);
/* After `after` more successful `cmd` bios, fail `count` (-1: all) with
 * `error`; count 0 turns it off. */
void	gh_md_fail(struct gh_md *md, int cmd, int error, long after,
	    long count);
/* ENOSPC once more than cap bytes of 4 KiB pages are in use (0: no cap). */
void	gh_md_cap(struct gh_md *md, uint64_t cap);
uint64_t gh_md_used(struct gh_md *md);
void	gh_md_readonly(struct gh_md *md, int ro);
void	gh_md_nodelete(struct gh_md *md, int on);
/*
 * Park the bios that reach md (they stay in flight) until gh_md_release(),
 * which serves them; gh_md_held() counts them.  Release before the md
 * is washed away: a consumer above keeps it while attached.
 */
void	gh_md_hold(struct gh_md *md);
unsigned gh_md_held(struct gh_md *md);
void	gh_md_release(struct gh_md *md);
/* Orphan and wither it; md is freed by the washer: do not use it after. */
void	gh_md_destroy(struct gh_md *md);

/* A test consumer on the provider named `name`, opened r/w/e. */
struct g_consumer *gh_open(const char *name, int r, int w, int e,
	    int *error);
void	gh_close(struct g_consumer *cp);
int	gh_io(struct g_consumer *cp, int cmd, uint64_t off, uint64_t len,
	    void *buf);
struct bio *gh_io_submit(struct g_consumer *cp, int cmd, uint64_t off,
	    uint64_t len, void *buf);
/* biowait() then free the bio; the bio's error. */
int	gh_io_wait(struct bio *bp);

/*
 * Run a control verb of class mp: parameters as (name, type, value)
 * triples ending with a NULL name; type 'i' int, 'u' uint32_t, 'j'
 * intmax_t, 's' string.  Returns the request's error (0 = success) and
 * leaves its messages in msg.
 */
int	gh_ctl(struct g_class *mp, const char *verb, char *msg, size_t msglen,
	    ...);
/* The dumpconf XML of the geom named `name` of class mp (malloc'd). */
char	*gh_dumpconf(struct g_class *mp, const char *name);
/* The geom named `name` of class mp, or NULL. */
struct g_geom *gh_find_geom(struct g_class *mp, const char *name);

/* Harness and tests are userland: libc's malloc and free again. */
#undef malloc
#undef free

#endif
