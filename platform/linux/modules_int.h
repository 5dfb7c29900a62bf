/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * modules_int.h - the module table of modules.c, private to the platform
 * layer and its unit test (tests/unit/test_lrinit.c): modules.dep read
 * into one struct mod a line, looked up by name or by path.
 */
#ifndef LIVEROOT_MODULES_INT_H
#define LIVEROOT_MODULES_INT_H

#include "lrinit.h"

struct mod {
	char	*name;		/* normalized: '-' -> '_' */
	char	*path;		/* relative to the module dir */
	char	*deps;		/* space separated paths */
	int	state;		/* 0 todo, 1 loading, 2 done, 3 failed */
};

struct modctx {
	char		dir[300];
	struct mod	*m;
	size_t		n;
	char		*dep_text;
	char		*builtin;
	struct lri_mod_stats *st;
};

/* Read DIR/modules.dep into c (c->dir set, the rest zero): 0 or errno. */
int	lri_mod_parse_dep(struct modctx *c);
struct mod *lri_mod_find(struct modctx *c, const char *name);
struct mod *lri_mod_find_path(struct modctx *c, const char *path,
	    size_t len);
/* name is in c->builtin (modules.builtin's text, or NULL). */
int	lri_mod_builtin(struct modctx *c, const char *name);

#endif
