/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * modules.c - load the kernel modules named in INITRAMFS_MODULES
 * (initramfs.h) with their dependencies, the way modprobe does, without
 * modprobe.
 *
 * /lib/modules/KVER/modules.dep lists every module with the full closure of
 * what it needs (read with fmt_moddep.h, the parser mklive uses to copy
 * them); each dependency is loaded (recursively, each module once)
 * before the module.  finit_module(2) with the arguments of the list line
 * (module parameters on the kernel command line are not applied to modules
 * loaded this way, so `usb_storage delay_use=0` goes here).  EEXIST means
 * already loaded (or built in) and is fine; a module absent from
 * modules.dep but named in modules.builtin is built in.  Names compare with
 * '-' and '_' equal.  Compressed modules (.ko.xz/.ko.zst/.ko.gz) are handed
 * to the kernel with MODULE_INIT_COMPRESSED_FILE; a kernel that cannot
 * decompress says so (Debian's 6.1 kernels ship plain .ko files).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <liveroot/fmt_moddep.h>

#include "lrinit.h"
#include "modules_int.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

static void
normalize(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '-')
			*s = '_';
}

/* Reads modules.dep: one struct mod a line, pointing into dep_text. */
int
lri_mod_parse_dep(struct modctx *c)
{
	struct fmt_moddep_iter it;
	struct fmt_moddep_ent e;
	struct mod *nm;
	char path[400], *t;
	size_t len, cap = 0;
	int err;

	snprintf(path, sizeof(path), "%s/modules.dep", c->dir);
	if ((err = os_read_file(path, 64 << 20, &c->dep_text, &len,
	    NULL)) != 0)
		return (err);
	t = c->dep_text;
	fmt_moddep_init(&it, t, len, FMT_MODDEP_DEP);
	while (fmt_moddep_next(&it, &e)) {
		if (c->n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((nm = realloc(c->m, cap * sizeof(*nm))) == NULL)
				return (ENOMEM);
			c->m = nm;
		}
		/* the text is ours: end the path and the deps in place */
		t[(size_t)(e.path - t) + e.pathlen] = '\0';
		t[(size_t)(e.deps - t) + e.depslen] = '\0';
		c->m[c->n].path = t + (e.path - t);
		c->m[c->n].deps = t + (e.deps - t);
		c->m[c->n].state = 0;
		if ((c->m[c->n].name = strdup(e.name)) == NULL)
			return (ENOMEM);
		c->n++;
	}
	return (0);
}

struct mod *
lri_mod_find(struct modctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->m[i].name, name) == 0)
			return (&c->m[i]);
	return (NULL);
}

struct mod *
lri_mod_find_path(struct modctx *c, const char *path, size_t len)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strlen(c->m[i].path) == len &&
		    strncmp(c->m[i].path, path, len) == 0)
			return (&c->m[i]);
	return (NULL);
}

int
lri_mod_builtin(struct modctx *c, const char *name)
{
	struct fmt_moddep_ent e;

	return (c->builtin != NULL && fmt_moddep_find(c->builtin,
	    strlen(c->builtin), FMT_MODDEP_LIST, name, &e));
}

static int
load_one(struct modctx *c, struct mod *m, const char *args, int depth)
{
	char path[600];
	const char *p;
	struct mod *dm;
	const char *deps[64];
	size_t ndeps = 0, lens[64], i, pos = 0, len;
	int fd, flags = 0, e2;
	long r;

	if (m->state == 2 || m->state == 1)
		return (0);
	if (m->state == 3)
		return (EIO);
	if (depth > 32)
		return (ELOOP);
	m->state = 1;
	while (ndeps < 64 &&
	    fmt_moddep_dep_next(m->deps, strlen(m->deps), &pos, &p, &len)) {
		deps[ndeps] = p;
		lens[ndeps++] = len;
	}
	/* modprobe's order: the last dependency first. */
	for (i = ndeps; i-- > 0;) {
		if ((dm = lri_mod_find_path(c, deps[i], lens[i])) == NULL) {
			lri_log("module %s: dependency %.*s is not in "
			    "modules.dep", m->name, (int)lens[i], deps[i]);
			continue;
		}
		(void)load_one(c, dm, "", depth + 1);
	}
	snprintf(path, sizeof(path), "%s/%s", c->dir, m->path);
	if (strstr(m->path, ".ko.") != NULL)
		flags = MODULE_INIT_COMPRESSED_FILE;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		e2 = errno;
		lri_log("module %s: cannot open %s: %s", m->name, path,
		    strerror(e2));
		c->st->failed++;
		m->state = 3;
		return (e2);
	}
	r = syscall(SYS_finit_module, fd, args ? args : "", flags);
	e2 = r == 0 ? 0 : errno;
	close(fd);
	if (e2 == 0) {
		c->st->loaded++;
		if (lri_debug)
			lri_log("module %s loaded%s%s", m->name,
			    args && *args ? " with " : "", args ? args : "");
	} else if (e2 == EEXIST) {
		c->st->present++;
		e2 = 0;
	} else {
		c->st->failed++;
		lri_log("module %s: finit_module failed: %s%s", m->name,
		    strerror(e2), flags ? " (a compressed module: this "
		    "kernel may not decompress modules; ship plain .ko files)"
		    : "");
		m->state = 3;
		return (e2);
	}
	m->state = 2;
	return (0);
}

int
lri_modules_load(const char *list_path, struct lri_mod_stats *st)
{
	struct modctx c;
	struct utsname u;
	char *list, *line, *save = NULL, *args, path[400];
	struct mod *m;
	int e;

	memset(&c, 0, sizeof(c));
	memset(st, 0, sizeof(*st));
	c.st = st;
	if (os_read_file(list_path, 1 << 20, &list, NULL, NULL) != 0) {
		lri_log("no %s: loading no modules", list_path);
		return (0);
	}
	if (uname(&u) != 0) {
		free(list);
		return (errno);
	}
	snprintf(c.dir, sizeof(c.dir), INITRAMFS_MODULE_DIR "/%s", u.release);
	if ((e = lri_mod_parse_dep(&c)) != 0) {
		lri_log("cannot read %s/modules.dep (%s): run depmod -b ROOT %s "
		    "when building the initramfs; loading no modules", c.dir,
		    strerror(e), u.release);
		free(list);
		free(c.dep_text);
		free(c.m);
		return (e);
	}
	snprintf(path, sizeof(path), "%s/modules.builtin", c.dir);
	if (os_read_file(path, 16 << 20, &c.builtin, NULL, NULL) != 0)
		c.builtin = NULL;
	for (line = strtok_r(list, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *name;

		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '#' || *line == '\0')
			continue;
		name = line;
		args = strpbrk(line, " \t");
		if (args != NULL) {
			*args++ = '\0';
			while (*args == ' ' || *args == '\t')
				args++;
		} else
			args = "";
		normalize(name);
		if ((m = lri_mod_find(&c, name)) == NULL) {
			if (lri_mod_builtin(&c, name))
				st->builtin++;
			else {
				st->missing++;
				lri_log("module %s: not in %s/modules.dep "
				    "(not built for this kernel?)", name,
				    c.dir);
			}
			continue;
		}
		(void)load_one(&c, m, args, 0);
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.m[i].name);
	free(c.m);
	free(c.dep_text);
	free(c.builtin);
	free(list);
	return (0);
}
