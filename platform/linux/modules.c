/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * modules.c - load what the machine's devices ask for, as udev's coldplug
 * does, plus the modules the boot needs that no device asks for; in
 * parallel, each module once; without modprobe.
 *
 * What is loaded.  INITRAMFS_MODULES lists the boot modules mklive staged
 * ("name [args]" lines).  A listed module that a device pattern of
 * modules.alias names (pci:, usb:, virtio:, scsi:, ...: a driver) is
 * loaded only when a device's modalias matches one of its patterns; the
 * others (nbd, ext4, crc32c_generic, af_packet: no device carries them)
 * always.  Devices are the modalias files under /sys/bus/STAR/devices at
 * the start, scanned again after each round until nothing new appears
 * (virtio_pci makes its virtio devices while it loads), then the
 * MODALIAS= of each "add" uevent that devices.c reads while the probe
 * waits (a USB stick behind xhci, a SCSI disk behind virtio_scsi or
 * usb_storage).  Patterns are fnmatch(3)'s, as kmod's; any staged module
 * a device matches is loaded, listed or not, with the list's arguments
 * when listed (`usb_storage delay_use=0`: module parameters on the kernel
 * command line are not applied to modules loaded this way).  Without
 * modules.alias (an initramfs made without depmod's aliases) every listed
 * module is loaded, as before.
 *
 * How.  modules.dep (fmt_moddep.h) gives each module the full closure of
 * what it needs; a queued module starts when each of those is done or has
 * failed, so the load order is a DAG walked by a pool of LRI_MOD_THREADS
 * threads, lower queue numbers first.  What devices ask for is the
 * foreground: the caller works in the pool until those modules are in
 * (the disk they bring is what the probe waits for).  The always-loaded
 * rest is the background: its workers load it while the caller goes on
 * probing (ext4 is not needed before the mount), and take the
 * foreground's modules first when new devices ask for some; a
 * background module a foreground one needs becomes foreground.
 * finit_module(2); EEXIST means already loaded (or built in) and is fine;
 * a failure is logged and the rest carry on (a module whose dependency
 * failed is still tried: the kernel names the missing symbol).  A module
 * absent from modules.dep but named in modules.builtin is built in.
 * Names compare with '-' and '_' equal.  Compressed modules (.ko.xz,
 * .ko.zst, .ko.gz) are handed to the kernel with
 * MODULE_INIT_COMPRESSED_FILE (Debian's 6.1 kernels ship plain .ko
 * files).
 *
 * Threads and locking: a foreground run (lri_mods_run) joins its helper
 * threads before it returns; the background's workers end when the queue
 * is empty and are joined by lri_modules_wait, which the caller calls
 * before it needs nbd or ext4 and before it forks anything but an exec.
 * Workers touch only a module's state, bg, err and took, the queue
 * counters and the finishing order, all under mu; they never log (log.c
 * is not locked): the caller logs the results, in finishing order.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <liveroot/fmt_modalias.h>
#include <liveroot/fmt_moddep.h>

#include "lrinit.h"
#include "modules_int.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

#define MOD_SCAN_ROUNDS	8	/* coldplug: /sys scans after the first */

static int	path_index(struct lri_mods *c);

static void
normalize(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '-')
			*s = '_';
}

/* Reads modules.dep: one struct mod a line, pointing into dep_text. */
int
lri_mod_parse_dep(struct lri_mods *c)
{
	struct fmt_moddep_iter it;
	struct fmt_moddep_ent e;
	struct mod *nm, *m, *dm;
	char path[400], *t;
	const char *p;
	size_t len, cap = 0, i, pos, plen;
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
		m = &c->m[c->n];
		memset(m, 0, sizeof(*m));
		/* the text is ours: end the path and the deps in place */
		t[(size_t)(e.path - t) + e.pathlen] = '\0';
		t[(size_t)(e.deps - t) + e.depslen] = '\0';
		m->path = t + (e.path - t);
		m->deps = t + (e.deps - t);
		if ((m->name = strdup(e.name)) == NULL)
			return (ENOMEM);
		c->n++;
	}
	if ((err = path_index(c)) != 0)
		return (err);
	for (i = 0; i < c->n; i++) {
		m = &c->m[i];
		pos = 0;
		while (fmt_moddep_dep_next(m->deps, strlen(m->deps), &pos, &p,
		    &plen)) {
			if ((dm = lri_mod_find_path(c, p, plen)) == NULL) {
				lri_log("module %s: dependency %.*s is not in "
				    "modules.dep", m->name, (int)plen, p);
				continue;
			}
			if (dm == m)
				continue;
			if (m->ndep == LRI_MOD_MAXDEP) {
				lri_log("module %s: more than %d dependencies: "
				    "the rest are not waited for", m->name,
				    LRI_MOD_MAXDEP);
				break;
			}
			m->dep[m->ndep++] = (size_t)(dm - c->m);
		}
	}
	return (0);
}

int
lri_mod_parse_alias(struct lri_mods *c)
{
	struct fmt_modalias_iter it;
	struct fmt_modalias_ent e;
	struct modalias_pat *na;
	struct mod *m;
	char path[400], *t;
	size_t len, cap = 0;
	int err;

	snprintf(path, sizeof(path), "%s/modules.alias", c->dir);
	if ((err = os_read_file(path, 64 << 20, &c->alias_text, &len,
	    NULL)) != 0)
		return (err);
	t = c->alias_text;
	fmt_modalias_init(&it, t, len);
	while (fmt_modalias_next(&it, &e)) {
		if (!e.device || (m = lri_mod_find(c, e.name)) == NULL)
			continue;
		m->device = 1;
		if (c->nal == cap) {
			cap = cap ? cap * 2 : 256;
			if ((na = realloc(c->al, cap * sizeof(*na))) == NULL)
				return (ENOMEM);
			c->al = na;
		}
		/* the pattern is followed by a blank: end it in place */
		t[(size_t)(e.pattern - t) + e.patlen] = '\0';
		c->al[c->nal].pattern = e.pattern;
		c->al[c->nal].prefix = e.prefix;
		c->al[c->nal].mod = (size_t)(m - c->m);
		c->nal++;
	}
	c->have_alias = 1;
	return (0);
}

struct mod *
lri_mod_find(struct lri_mods *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->m[i].name, name) == 0)
			return (&c->m[i]);
	return (NULL);
}

static uint32_t
path_hash(const char *p, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return (h);
}

/* The path index: open addressing, index + 1 a slot (0 empty). */
static int
path_index(struct lri_mods *c)
{
	size_t i, k, cap = 16;

	while (cap < c->n * 2)
		cap *= 2;
	if ((c->hash = calloc(cap, sizeof(*c->hash))) == NULL)
		return (ENOMEM);
	c->hashcap = cap;
	for (i = 0; i < c->n; i++) {
		k = path_hash(c->m[i].path, strlen(c->m[i].path)) & (cap - 1);
		while (c->hash[k] != 0)
			k = (k + 1) & (cap - 1);
		c->hash[k] = i + 1;
	}
	return (0);
}

struct mod *
lri_mod_find_path(struct lri_mods *c, const char *path, size_t len)
{
	struct mod *m;
	size_t i, k;

	if (c->hash == NULL) {
		for (i = 0; i < c->n; i++)
			if (strlen(c->m[i].path) == len &&
			    strncmp(c->m[i].path, path, len) == 0)
				return (&c->m[i]);
		return (NULL);
	}
	k = path_hash(path, len) & (c->hashcap - 1);
	for (; c->hash[k] != 0; k = (k + 1) & (c->hashcap - 1)) {
		m = &c->m[c->hash[k] - 1];
		if (strlen(m->path) == len && strncmp(m->path, path, len) == 0)
			return (m);
	}
	return (NULL);
}

int
lri_mod_builtin(struct lri_mods *c, const char *name)
{
	struct fmt_moddep_ent e;

	return (c->builtin != NULL && fmt_moddep_find(c->builtin,
	    strlen(c->builtin), FMT_MODDEP_LIST, name, &e));
}

/* Queue m and its dependencies; mu held.  bg: for the background. */
static void
want_locked(struct lri_mods *c, struct mod *m, int bg)
{
	struct mod *x, *d;
	size_t sp = 0, i;

	if (m->state == MOD_QUEUED && m->bg && !bg) {
		m->bg = 0;
		c->bg_pending--;
		c->fg_pending++;
	}
	if (m->state != MOD_IDLE)
		return;
	if (c->stack == NULL &&
	    (c->stack = calloc(c->n ? c->n : 1, sizeof(*c->stack))) == NULL)
		return;
	/*
	 * An explicit stack, not recursion (a crafted modules.dep may chain
	 * every module); a module is pushed once, when it leaves MOD_IDLE,
	 * so n slots are enough and a cycle ends here.
	 */
	m->state = MOD_QUEUED;
	c->stack[sp++] = (size_t)(m - c->m);
	while (sp > 0) {
		x = &c->m[c->stack[--sp]];
		x->seq = c->seq++;
		x->bg = bg;
		c->queued++;
		if (!bg)
			c->fg_pending++;
		else
			c->bg_pending++;
		for (i = 0; i < x->ndep; i++) {
			d = &c->m[x->dep[i]];
			if (d->state == MOD_QUEUED && d->bg && !bg) {
				/* the foreground needs it now */
				d->bg = 0;
				c->bg_pending--;
				c->fg_pending++;
			}
			if (d->state != MOD_IDLE)
				continue;
			d->state = MOD_QUEUED;
			c->stack[sp++] = x->dep[i];
		}
	}
	pthread_cond_broadcast(&c->cv);
}

void
lri_mod_want(struct lri_mods *c, struct mod *m)
{
	pthread_mutex_lock(&c->mu);
	want_locked(c, m, 0);
	pthread_mutex_unlock(&c->mu);
}

unsigned
lri_mod_match(struct lri_mods *c, const char *modalias)
{
	struct modalias_pat *a;
	struct mod *m;
	char **ns;
	unsigned n = 0;
	size_t i;

	for (i = 0; i < c->nseen; i++)
		if (strcmp(c->seen[i], modalias) == 0)
			return (0);
	if (c->nseen == c->seencap) {
		c->seencap = c->seencap ? c->seencap * 2 : 64;
		if ((ns = realloc(c->seen, c->seencap * sizeof(*ns))) == NULL)
			return (0);
		c->seen = ns;
	}
	if ((c->seen[c->nseen] = strdup(modalias)) == NULL)
		return (0);
	c->nseen++;
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->nal; i++) {
		a = &c->al[i];
		if (strncmp(a->pattern, modalias, a->prefix) != 0 ||
		    fnmatch(a->pattern, modalias, 0) != 0)
			continue;
		m = &c->m[a->mod];
		if (m->state != MOD_IDLE)
			continue;
		if (lri_debug)
			lri_log("module %s: asked for by %s", m->name,
			    modalias);
		want_locked(c, m, 0);
		n++;
	}
	pthread_mutex_unlock(&c->mu);
	return (n);
}

/* One sysfs modalias file: what it asks for. */
static unsigned
match_file(struct lri_mods *c, const char *path)
{
	char buf[FMT_MODALIAS_MAX + 1];
	ssize_t r;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (0);
	r = read(fd, buf, sizeof(buf));
	close(fd);
	if (r <= 0 || fmt_modalias_value(buf, (size_t)r, &len) != 0)
		return (0);
	buf[len] = '\0';
	return (lri_mod_match(c, buf));
}

unsigned
lri_mod_scan_sys(struct lri_mods *c)
{
	DIR *bus, *devs;
	struct dirent *b, *d;
	char path[600];
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/bus", c->sysfs);
	if ((bus = opendir(path)) == NULL)
		return (0);
	while ((b = readdir(bus)) != NULL) {
		if (b->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/bus/%s/devices",
		    c->sysfs, b->d_name) >= (int)sizeof(path) ||
		    (devs = opendir(path)) == NULL)
			continue;
		while ((d = readdir(devs)) != NULL) {
			if (d->d_name[0] == '.' || snprintf(path,
			    sizeof(path), "%s/bus/%s/devices/%s/modalias",
			    c->sysfs, b->d_name, d->d_name) >=
			    (int)sizeof(path))
				continue;
			n += match_file(c, path);
		}
		closedir(devs);
	}
	closedir(bus);
	return (n);
}

/* --- the pool -------------------------------------------------------------- */

static int
load_finit(void *arg, const char *path, const char *args)
{
	int fd, e, flags = 0;
	long r;

	(void)arg;
	if (strstr(path, ".ko.") != NULL)
		flags = MODULE_INIT_COMPRESSED_FILE;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (errno);
	r = syscall(SYS_finit_module, fd, args, flags);
	e = r == 0 ? 0 : errno;
	close(fd);
	return (e);
}

/*
 * The queued module of the foreground (bg 0) or of the background (bg 1)
 * with every dependency finished, lowest seq first; or NULL.
 */
static struct mod *
next_ready(struct lri_mods *c, int bg)
{
	struct mod *m, *best = NULL;
	size_t i, k;

	for (i = 0; i < c->n; i++) {
		m = &c->m[i];
		if (m->state != MOD_QUEUED || m->bg != bg ||
		    (best != NULL && m->seq >= best->seq))
			continue;
		for (k = 0; k < m->ndep; k++)
			if (c->m[m->dep[k]].state != MOD_DONE &&
			    c->m[m->dep[k]].state != MOD_FAILED)
				break;
		if (k == m->ndep)
			best = m;
	}
	return (best);
}

/* m finished with e; mu held. */
static void
finished(struct lri_mods *c, struct mod *m, int e)
{
	m->err = e;
	m->state = e == 0 || e == EEXIST ? MOD_DONE : MOD_FAILED;
	c->order[c->norder++] = (size_t)(m - c->m);
	if (!m->bg)
		c->fg_pending--;
	else
		c->bg_pending--;
}

/* Nothing runs and nothing can: a dependency cycle fails what is queued. */
static void
stuck(struct lri_mods *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->m[i].state == MOD_QUEUED) {
			c->queued--;
			finished(c, &c->m[i], ELOOP);
		}
	pthread_cond_broadcast(&c->cv);
}

/* One load, mu held on entry and on return. */
static void
load(struct lri_mods *c, struct mod *m)
{
	char path[700];
	double t0;
	int e;

	m->state = MOD_LOADING;
	c->queued--;
	if (++c->inflight > c->maxinflight)
		c->maxinflight = c->inflight;
	pthread_mutex_unlock(&c->mu);
	snprintf(path, sizeof(path), "%s/%s", c->dir, m->path);
	t0 = lri_uptime();
	e = c->load(c->load_arg, path, m->args ? m->args : "");
	pthread_mutex_lock(&c->mu);
	m->took = lri_uptime() - t0;
	finished(c, m, e);
	c->inflight--;
	pthread_cond_broadcast(&c->cv);
}

/*
 * A foreground worker loads the foreground's modules until each has
 * finished, whoever loaded it; a background module only when nothing
 * else could move (one the foreground waits for).  A background worker
 * loads only the background's, at SCHED_IDLE, so it takes the CPU only
 * when the foreground and the kernel's own probing leave it idle.
 */
static void
work(struct lri_mods *c, int fg)
{
	struct mod *m;

	pthread_mutex_lock(&c->mu);
	while (fg ? c->fg_pending > 0 : c->bg_pending > 0) {
		if ((m = next_ready(c, !fg)) != NULL) {
			load(c, m);
			continue;
		}
		if (c->inflight > 0) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		/* nothing runs: the other side's ready modules, then a cycle */
		if (fg && (m = next_ready(c, 1)) != NULL) {
			load(c, m);
			continue;
		}
		if (!fg && c->fg_pending > 0) {
			/* waits for the foreground's run (it broadcasts) */
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		stuck(c);
	}
	pthread_mutex_unlock(&c->mu);
}

static void *
worker_fg(void *arg)
{
	work(arg, 1);
	return (NULL);
}

static void *
worker_bg(void *arg)
{
	struct lri_mods *c = arg;
	struct sched_param sp;

	memset(&sp, 0, sizeof(sp));
	(void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	work(c, 0);
	pthread_mutex_lock(&c->mu);
	c->bg_alive--;
	pthread_mutex_unlock(&c->mu);
	return (NULL);
}

/*
 * The results so far, in finishing order, counted into c->st: the number
 * of foreground modules loaded (background ones go to c->bg_loaded).
 */
static unsigned
report(struct lri_mods *c)
{
	struct mod *m;
	unsigned loaded = 0;
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->norder; i++) {
		m = &c->m[c->order[i]];
		if (m->err == 0) {
			c->st.loaded++;
			if (m->bg)
				c->bg_loaded++;
			else
				loaded++;
			if (lri_debug)
				lri_log("module %s loaded%s%s (%.3f s%s)",
				    m->name, m->args && *m->args ? " with " :
				    "", m->args ? m->args : "", m->took,
				    m->bg ? ", in the background" : "");
		} else if (m->err == EEXIST)
			c->st.present++;
		else {
			c->st.failed++;
			if (m->err == ELOOP)
				lri_log("module %s: not loaded: its "
				    "dependencies in modules.dep form a cycle",
				    m->name);
			else
				lri_log("module %s: finit_module of %s failed: "
				    "%s%s", m->name, m->path, strerror(m->err),
				    strstr(m->path, ".ko.") != NULL ? " (a "
				    "compressed module: this kernel may not "
				    "decompress modules; ship plain .ko "
				    "files)" : "");
		}
	}
	c->norder = 0;
	pthread_mutex_unlock(&c->mu);
	return (loaded);
}

static int
need_order(struct lri_mods *c)
{
	if (c->order == NULL &&
	    (c->order = calloc(c->n ? c->n : 1, sizeof(*c->order))) == NULL)
		return (ENOMEM);
	return (0);
}

unsigned
lri_mods_run(struct lri_mods *c)
{
	pthread_t t[LRI_MOD_THREADS];
	unsigned i, nt = 0, want, pending;
	double t0;

	if (need_order(c) != 0)
		return (0);
	pthread_mutex_lock(&c->mu);
	pending = c->fg_pending;
	want = pending < c->nthreads ? pending : c->nthreads;
	pthread_mutex_unlock(&c->mu);
	if (pending == 0)
		return (0);
	t0 = lri_uptime();
	for (i = 1; i < want && i < LRI_MOD_THREADS; i++) {
		if (pthread_create(&t[nt], NULL, worker_fg, c) != 0)
			break;
		nt++;
	}
	work(c, 1);
	for (i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	c->st.seconds += lri_uptime() - t0;
	return (report(c));
}

void
lri_mods_background(struct lri_mods *c)
{
	unsigned want;
	size_t i;

	if (c->nbg > 0 || need_order(c) != 0)
		return;
	pthread_mutex_lock(&c->mu);
	/* at SCHED_IDLE: they do not slow the foreground down */
	want = c->bg_pending < c->nthreads ? c->bg_pending : c->nthreads;
	pthread_mutex_unlock(&c->mu);
	while (c->nbg < want && c->nbg < LRI_MOD_THREADS &&
	    pthread_create(&c->bg[c->nbg], NULL, worker_bg, c) == 0) {
		pthread_mutex_lock(&c->mu);
		c->bg_alive++;
		pthread_mutex_unlock(&c->mu);
		c->nbg++;
	}
	if (c->nbg == 0 && c->bg_pending > 0) {
		/* no thread: load them now */
		pthread_mutex_lock(&c->mu);
		for (i = 0; i < c->n; i++)
			if (c->m[i].state == MOD_QUEUED && c->m[i].bg) {
				c->m[i].bg = 0;
				c->bg_pending--;
				c->fg_pending++;
			}
		pthread_mutex_unlock(&c->mu);
		(void)lri_mods_run(c);
	}
}

unsigned
lri_mods_join(struct lri_mods *c)
{
	double t0;
	unsigned i;

	if (c->nbg == 0)
		return (0);
	t0 = lri_uptime();
	for (i = 0; i < c->nbg; i++)
		pthread_join(c->bg[i], NULL);
	c->nbg = 0;
	c->st.seconds += lri_uptime() - t0;
	(void)report(c);
	return (c->bg_loaded);
}

/* --- the boot's interface ------------------------------------------------ */

/* The "name [args]" lines of the list: listed modules get their args. */
static void
read_list(struct lri_mods *c)
{
	char *line, *save = NULL, *args, *name;
	struct mod *m;

	for (line = strtok_r(c->list, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
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
		if ((m = lri_mod_find(c, name)) == NULL) {
			if (lri_mod_builtin(c, name))
				c->st.builtin++;
			else {
				c->st.missing++;
				lri_log("module %s: not in %s/modules.dep "
				    "(not built for this kernel?)", name,
				    c->dir);
			}
			continue;
		}
		m->args = args;
	}
}

int
lri_mods_open(struct lri_mods *c, const char *list_path)
{
	char path[400];
	int e;

	if (c->sysfs[0] == '\0')
		snprintf(c->sysfs, sizeof(c->sysfs), "/sys");
	if (c->load == NULL)
		c->load = load_finit;
	if (c->nthreads == 0)
		c->nthreads = LRI_MOD_THREADS;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (os_read_file(list_path, 1 << 20, &c->list, NULL, NULL) != 0) {
		lri_log("no %s: loading no modules", list_path);
		return (ENOENT);
	}
	if ((e = lri_mod_parse_dep(c)) != 0) {
		lri_log("cannot read %s/modules.dep (%s): run depmod -b ROOT "
		    "KVER when building the initramfs; loading no modules",
		    c->dir, strerror(e));
		return (e);
	}
	snprintf(path, sizeof(path), "%s/modules.builtin", c->dir);
	if (os_read_file(path, 16 << 20, &c->builtin, NULL, NULL) != 0)
		c->builtin = NULL;
	if ((e = lri_mod_parse_alias(c)) != 0)
		lri_log("cannot read %s/modules.alias (%s): loading every "
		    "listed module; `depmod -b ROOT KVER` writes it", c->dir,
		    strerror(e));
	read_list(c);
	return (0);
}

/* Queue the listed modules no device asks for (all without aliases). */
static void
want_listed(struct lri_mods *c)
{
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->n; i++) {
		if (c->m[i].args == NULL)
			continue;
		if (c->m[i].device && c->have_alias)
			continue;
		want_locked(c, &c->m[i], 1);
	}
	pthread_mutex_unlock(&c->mu);
}

int
lri_mods_coldplug(struct lri_mods *c)
{
	int round;

	/*
	 * The drivers are the foreground (queued first); the rest starts
	 * in the background at once, to fill the time the drivers' probes
	 * wait for their hardware (ata_piix waits for the ATA ports).
	 */
	if (c->have_alias)
		(void)lri_mod_scan_sys(c);
	want_listed(c);
	lri_mods_background(c);
	(void)lri_mods_run(c);
	for (round = 0; c->have_alias && round < MOD_SCAN_ROUNDS; round++) {
		if (lri_mod_scan_sys(c) == 0)
			break;
		(void)lri_mods_run(c);
	}
	return (0);
}

int
lri_modules_start(const char *list_path, struct lri_mods **mp)
{
	struct lri_mods *c;
	struct utsname u;
	int e;

	*mp = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (ENOMEM);
	if (uname(&u) != 0) {
		free(c);
		return (errno);
	}
	snprintf(c->dir, sizeof(c->dir), INITRAMFS_MODULE_DIR "/%s",
	    u.release);
	if ((e = lri_mods_open(c, list_path)) != 0) {
		lri_modules_free(c);
		return (e);
	}
	(void)lri_mods_coldplug(c);
	*mp = c;
	return (0);
}

void
lri_modules_note(struct lri_mods *c, const char *alias, size_t len)
{
	char buf[FMT_MODALIAS_MAX];
	size_t n;

	if (c == NULL || !c->have_alias ||
	    fmt_modalias_value(alias, len, &n) != 0)
		return;
	memcpy(buf, alias, n);
	buf[n] = '\0';
	(void)lri_mod_match(c, buf);
}

void
lri_modules_rescan(struct lri_mods *c)
{
	if (c != NULL && c->have_alias)
		(void)lri_mod_scan_sys(c);
}

unsigned
lri_modules_flush(struct lri_mods *c)
{
	char names[300];
	size_t i, o = 0;
	unsigned n;

	if (c == NULL)
		return (0);
	names[0] = '\0';
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->n && o < sizeof(names); i++)
		if (c->m[i].state == MOD_QUEUED && !c->m[i].bg)
			o += (size_t)snprintf(names + o, sizeof(names) - o,
			    "%s%s", o ? " " : "", c->m[i].name);
	n = c->fg_pending;
	pthread_mutex_unlock(&c->mu);
	if (n == 0)
		return (0);
	n = lri_mods_run(c);
	lri_log("modules: %u more loaded for new devices (%s)", n, names);
	return (n);
}

void
lri_modules_need(struct lri_mods *c, const char *name)
{
	char n[FMT_MODDEP_NAMEMAX];
	struct mod *m;

	if (c == NULL || fmt_moddep_name(name, strlen(name), n,
	    sizeof(n)) != 0 || (m = lri_mod_find(c, n)) == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	want_locked(c, m, 0);
	pthread_mutex_unlock(&c->mu);
	(void)lri_mods_run(c);
	/* a background worker may have it in hand */
	pthread_mutex_lock(&c->mu);
	while (m->state == MOD_QUEUED || m->state == MOD_LOADING)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	(void)report(c);
}

void
lri_modules_wait(struct lri_mods *c)
{
	double t0;
	unsigned n;

	if (c == NULL || c->nbg == 0)
		return;
	t0 = lri_uptime();
	/* what the background waits for, if anything, first */
	(void)lri_modules_flush(c);
	n = lri_mods_join(c);
	lri_log("modules: %u loaded in the background while the probe ran "
	    "(waited %.2f s for them)", n, lri_uptime() - t0);
}

void
lri_modules_stats(struct lri_mods *c, struct lri_mod_stats *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	*st = c->st;
	for (i = 0; i < c->n; i++)
		if (c->m[i].args != NULL && c->m[i].state == MOD_IDLE)
			st->unasked++;
	st->background = c->bg_pending;
	pthread_mutex_unlock(&c->mu);
}

void
lri_mods_close(struct lri_mods *c)
{
	size_t i;

	if (c->nbg > 0)
		(void)lri_mods_join(c);
	for (i = 0; i < c->n; i++)
		free(c->m[i].name);
	for (i = 0; i < c->nseen; i++)
		free(c->seen[i]);
	if (c->load != NULL) {		/* lri_mods_open ran */
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
	}
	free(c->seen);
	free(c->m);
	free(c->al);
	free(c->order);
	free(c->stack);
	free(c->hash);
	free(c->dep_text);
	free(c->builtin);
	free(c->alias_text);
	free(c->list);
}

void
lri_modules_free(struct lri_mods *c)
{
	if (c == NULL)
		return;
	lri_mods_close(c);
	free(c);
}
