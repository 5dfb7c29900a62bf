/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * modules.c - the boot modules of the initramfs: each one asked for is
 * looked up in the kernel cache's modules.dep (fmt_moddep.h, the parser
 * liveroot-init uses too) and copied with every module it needs into
 * /lib/modules/KVER; one built into the kernel (modules.builtin) or absent
 * is said and skipped.  The list liveroot-init loads goes to
 * INITRAMFS_MODULES ("name [args]" lines, in the order asked), then
 * `depmod -b` writes the initramfs' own modules.dep and modules.alias:
 * liveroot-init loads a listed driver only when a device's modalias
 * matches one of its aliases there (the staged set is the same either
 * way), so an initramfs without modules.alias is said (it still boots,
 * loading every listed module).
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/fmt_moddep.h>
#include <liveroot/initramfs.h>
#include <liveroot/os.h>

#include "mklive_int.h"

#define MODDEP_MAX	(64 << 20)	/* modules.dep, modules.builtin */
#define MODLIST_MAX	8192		/* INITRAMFS_MODULES */

struct modfiles {
	char	*dep;		/* modules.dep */
	size_t	 deplen;
	char	*builtin;	/* modules.builtin; NULL when absent */
	size_t	 builtinlen;
	char	 sdir[PATH_MAX];	/* the staging module directory */
};

/* Copies one modules.dep relative path into the staging module dir. */
static int
mod_copy(struct mk *m, const struct modfiles *f, const char *rel, size_t len)
{
	char src[PATH_MAX], dst[PATH_MAX];
	struct stat st;

	if (snprintf(src, sizeof(src), "%s/%.*s", m->moddir, (int)len, rel) >=
	    (int)sizeof(src) || snprintf(dst, sizeof(dst), "%s/%.*s",
	    f->sdir, (int)len, rel) >= (int)sizeof(dst))
		return (diag_set(m->d, ENAMETOOLONG, "%.*s: path too long",
		    (int)len, rel));
	if (lstat(dst, &st) == 0)
		return (0);
	return (os_copy_file(src, dst, 0644, m->d));
}

/* The module and, from its modules.dep line, everything it needs. */
static int
mod_copy_all(struct mk *m, const struct modfiles *f,
    const struct fmt_moddep_ent *ent)
{
	const char *p;
	size_t pos = 0, len;
	int e;

	if ((e = mod_copy(m, f, ent->path, ent->pathlen)) != 0)
		return (e);
	while (fmt_moddep_dep_next(ent->deps, ent->depslen, &pos, &p, &len))
		if ((e = mod_copy(m, f, p, len)) != 0)
			return (e);
	return (0);
}

/*
 * One "name [args]" of the options: 1 when found, 0 skipped, or -errno.
 * list NULL: staged only, not added to the list liveroot-init loads.
 */
static int
mod_stage(struct mk *m, const struct modfiles *f, const char *spec,
    char *list, size_t *ll)
{
	struct fmt_moddep_ent ent, b;
	char name[128], want[FMT_MODDEP_NAMEMAX];
	const char *args;
	int e, n;

	want[0] = '\0';
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(spec, " \t"), spec);
	args = spec + strlen(name);
	args += strspn(args, " \t");
	if (fmt_moddep_name(name, strlen(name), want, sizeof(want)) != 0 ||
	    !fmt_moddep_find(f->dep, f->deplen, FMT_MODDEP_DEP, want, &ent)) {
		if (f->builtin != NULL && want[0] != '\0' &&
		    fmt_moddep_find(f->builtin, f->builtinlen, FMT_MODDEP_LIST,
		    want, &b))
			mk_step(m, "module %s is built into %s", name,
			    m->r->kver);
		else
			mk_step(m, "module %s does not exist in %s: skipped",
			    name, m->r->kver);
		return (0);
	}
	if ((e = mod_copy_all(m, f, &ent)) != 0)
		return (-e);
	if (list == NULL)
		return (1);
	n = snprintf(list + *ll, MODLIST_MAX - *ll, "%s%s%s\n", name,
	    *args ? " " : "", args);
	if (n < 0 || (size_t)n >= MODLIST_MAX - *ll)
		return (-diag_set(m->d, E2BIG, "module list too long"));
	*ll += (size_t)n;
	return (1);
}

static int
mod_meta(struct mk *m, const struct modfiles *f)
{
	static const char *const meta[] = { "modules.order",
	    "modules.builtin", "modules.builtin.modinfo" };
	char p[PATH_MAX], s[PATH_MAX];
	size_t i;
	int e;

	for (i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
		if (os_path_join(p, sizeof(p), m->moddir, meta[i]) != 0 ||
		    os_path_join(s, sizeof(s), f->sdir, meta[i]) != 0)
			continue;
		if (access(p, R_OK) == 0 &&
		    (e = os_copy_file(p, s, 0644, m->d)) != 0)
			return (e);
	}
	return (0);
}

static int
mod_files(struct mk *m, struct modfiles *f)
{
	char p[PATH_MAX];

	if (os_path_join(p, sizeof(p), m->moddir, "modules.dep") != 0)
		return (diag_set(m->d, ENAMETOOLONG, "%s: too long",
		    m->moddir));
	if (os_read_file(p, MODDEP_MAX, &f->dep, &f->deplen, m->d) != 0)
		return (diag_prefix(m->d, "the kernel cache has no modules.dep "
		    "(run scripts/kernel.sh): "));
	if (os_path_join(p, sizeof(p), m->moddir, "modules.builtin") == 0 &&
	    os_read_file(p, MODDEP_MAX, &f->builtin, &f->builtinlen,
	    NULL) != 0)
		f->builtin = NULL;
	snprintf(f->sdir, sizeof(f->sdir), "%s%s/%s", m->staging,
	    INITRAMFS_MODULE_DIR, m->r->kver);
	return (os_mkdir_p(f->sdir, 0755, m->d));
}

int
mk_stage_modules(struct mk *m)
{
	struct modfiles f;
	char list[MODLIST_MAX], p[PATH_MAX];
	char *argv[] = { "depmod", "-b", m->staging, m->r->kver, NULL };
	static const char *const ondemand[] = { INITRAMFS_ONDEMAND_MODULES };
	size_t ll = 0;
	int i, e;

	memset(&f, 0, sizeof(f));
	list[0] = '\0';
	if ((e = mod_files(m, &f)) != 0)
		goto out;
	for (i = 0; i < m->o->nmods; i++) {
		if ((e = mod_stage(m, &f, m->o->mods[i], list, &ll)) < 0) {
			e = -e;
			goto out;
		}
		m->r->nloaded += e;
	}
	/* Staged, not listed: liveroot-init loads them when it needs them
	 * (the persistence partition's file system). */
	for (i = 0; i < (int)(sizeof(ondemand) / sizeof(ondemand[0])); i++)
		if ((e = mod_stage(m, &f, ondemand[i], NULL, NULL)) < 0) {
			e = -e;
			goto out;
		}
	snprintf(p, sizeof(p), "%s%s", m->staging, INITRAMFS_MODULES);
	if ((e = mod_meta(m, &f)) != 0 ||
	    (e = os_write_file(p, list, ll, 0644, m->d)) != 0)
		goto out;
	if ((e = mk_run(m, argv, NULL, 0, 0, m->d)) != 0) {
		diag_prefix(m->d, "depmod for the initramfs: ");
		goto out;
	}
	if (os_path_join(p, sizeof(p), f.sdir, "modules.alias") == 0 &&
	    access(p, R_OK) != 0)
		mk_step(m, "depmod wrote no modules.alias in %s: liveroot-init "
		    "will load every listed driver, not only those a device "
		    "asks for", f.sdir);
out:
	free(f.dep);
	free(f.builtin);
	return (e);
}
