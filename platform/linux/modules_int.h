/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * modules_int.h - the module table of modules.c, private to the platform
 * layer and its unit test (tests/unit/test_lrinit.c): modules.dep read
 * into one struct mod a line (its dependencies resolved to indices),
 * modules.alias into a pattern table, the modaliases already matched, and
 * the loader's pool.  The test points dir and sysfs at trees of its own
 * and replaces the loader (load) so nothing reaches the kernel.
 *
 * Locking: mu guards every module's state, bg, seq, err and took, the
 * queue counters and order, whenever a worker may run (in lri_mods_run,
 * and between lri_mods_background and lri_mods_join); the rest (the
 * table, the patterns, seen, st) is the calling thread's alone.
 */
#ifndef LIVEROOT_MODULES_INT_H
#define LIVEROOT_MODULES_INT_H

#include <pthread.h>

#include "lrinit.h"

#define LRI_MOD_THREADS		4	/* a pool: the foreground (the caller
					   included), and the background */
#define LRI_MOD_MAXDEP		64	/* dependencies of one module */

enum mod_state {
	MOD_IDLE,		/* nobody asked for it (yet) */
	MOD_QUEUED,		/* asked for; waits for its dependencies */
	MOD_LOADING,		/* a worker is in finit_module */
	MOD_DONE,		/* loaded, or was already (EEXIST) */
	MOD_FAILED,
};

struct mod {
	char		*name;		/* normalized: '-' -> '_' */
	char		*path;		/* relative to the module dir */
	char		*deps;		/* space separated paths */
	size_t		 dep[LRI_MOD_MAXDEP];	/* indices, resolved */
	size_t		 ndep;
	const char	*args;		/* the list's arguments; NULL: unlisted */
	int		 device;	/* a device alias names it */
	int		 bg;		/* queued for the background */
	enum mod_state	 state;
	unsigned	 seq;		/* queued order: lower starts first */
	int		 err;		/* 0, EEXIST or the failure's errno */
	double		 took;		/* seconds in open + finit_module */
};

struct modalias_pat {
	const char	*pattern;	/* NUL-terminated, in alias_text */
	size_t		 prefix;	/* literal bytes before a glob char */
	size_t		 mod;		/* index into m */
};

struct lri_mods {
	char		 dir[300];	/* /lib/modules/KVER */
	char		 sysfs[200];	/* "/sys" */
	struct mod	*m;
	size_t		 n;
	size_t		*hash;		/* by path: index + 1, 0 empty */
	size_t		 hashcap;	/* a power of two, >= 2n */
	char		*dep_text;
	char		*builtin;
	char		*list;		/* INITRAMFS_MODULES, args point here */
	char		*alias_text;
	struct modalias_pat *al;	/* device patterns only */
	size_t		 nal;
	int		 have_alias;	/* modules.alias was read */
	char		**seen;		/* modaliases already matched */
	size_t		 nseen, seencap;
	struct lri_mod_stats st;
	/* The loader: finit_module by default; 0 or an errno (EEXIST). */
	int		(*load)(void *arg, const char *path, const char *args);
	void		*load_arg;
	unsigned	 nthreads;
	/* A run of the pool (lri_mods_run). */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	unsigned	 queued, inflight, maxinflight, seq;
	unsigned	 fg_pending;	/* foreground: queued or loading */
	unsigned	 bg_pending;	/* background: queued or loading */
	pthread_t	 bg[LRI_MOD_THREADS];	/* the background's workers */
	unsigned	 nbg;
	unsigned	 bg_alive;	/* of those, not yet done (mu) */
	unsigned	 bg_loaded;	/* loaded by them (reported) */
	size_t		*order;		/* finished in this order (n slots) */
	size_t		 norder;
	size_t		*stack;		/* lri_mod_want's (n slots) */
};

/*
 * Read DIR/modules.dep into c (c->dir set, the rest zero; c->m[].dep
 * resolved): 0 or errno.
 */
int	lri_mod_parse_dep(struct lri_mods *c);
/* Read DIR/modules.alias; the device patterns of staged modules only. */
int	lri_mod_parse_alias(struct lri_mods *c);
struct mod *lri_mod_find(struct lri_mods *c, const char *name);
struct mod *lri_mod_find_path(struct lri_mods *c, const char *path,
	    size_t len);
/* name is in c->builtin (modules.builtin's text, or NULL). */
int	lri_mod_builtin(struct lri_mods *c, const char *name);
/* Queue m and its dependencies (each once). */
void	lri_mod_want(struct lri_mods *c, struct mod *m);
/* Queue what modalias (NUL-terminated) asks for: the number queued. */
unsigned lri_mod_match(struct lri_mods *c, const char *modalias);
/* Every modalias under c->sysfs/bus/STAR/devices: the number queued. */
unsigned lri_mod_scan_sys(struct lri_mods *c);
/*
 * Load every queued module with the pool, the caller one of its workers,
 * until what was queued for the foreground has finished: the number of
 * those loaded.
 */
unsigned lri_mods_run(struct lri_mods *c);
/* Start workers for what is queued and return (lri_mods_join ends them). */
void	lri_mods_background(struct lri_mods *c);
/* Join the background's workers; the number they loaded. */
unsigned lri_mods_join(struct lri_mods *c);
/*
 * The table as lri_modules_start builds it (c->dir set; c->sysfs, load
 * and nthreads default when zero), without loading: 0 or errno.
 */
int	lri_mods_open(struct lri_mods *c, const char *list_path);
/*
 * Queue what /sys asks for (foreground) and the listed modules no device
 * asks for (background, started at once); load the foreground, scanning
 * /sys again until nothing new appears.
 */
int	lri_mods_coldplug(struct lri_mods *c);
/* Free what c holds (not c). */
void	lri_mods_close(struct lri_mods *c);

#endif
