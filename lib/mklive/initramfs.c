/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * initramfs.c - OUT/initramfs.img: the tree initramfs.h describes is staged
 * in OUT/.initramfs.XXXXXX (/init and the libraries ldd names, busybox and
 * its applet links, the udhcpc script, the version, the CA bundle, the
 * modules), each extra directory is copied over it with cp -a, and the
 * whole is archived (pack.h: cpio newc, reproducible), compressed and
 * renamed into place.  The staging directory is removed by the caller
 * (mk_remove_staging), whatever happened.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/initramfs.h>
#include <liveroot/os.h>
#include <liveroot/pack.h>

#include "mklive_int.h"

#define LIST_MAX	(1 << 16)	/* ldd's and busybox's lists */
#define CA_MAX		(64 << 20)

static const char udhcpc_script[] =
"#!/bin/sh\n"
"# udhcpc event script of the liveroot initramfs: configures $interface\n"
"# from udhcpc's environment with busybox ip.\n"
"case \"$1\" in\n"
"deconfig)\n"
"\tip addr flush dev \"$interface\" 2>/dev/null\n"
"\tip link set \"$interface\" up\n"
"\t;;\n"
"bound|renew)\n"
"\tip addr flush dev \"$interface\" 2>/dev/null\n"
"\tip addr add \"$ip/${mask:-24}\" dev \"$interface\"\n"
"\tfor r in $router; do\n"
"\t\tip route add default via \"$r\" dev \"$interface\" && break\n"
"\tdone\n"
"\tif [ -n \"$dns\" ]; then\n"
"\t\t: > /etc/resolv.conf\n"
"\t\tfor d in $dns; do echo \"nameserver $d\" >> /etc/resolv.conf; done\n"
"\tfi\n"
"\t;;\n"
"esac\n"
"exit 0\n";

/* Copies a dynamic executable's libraries (and loader) named by ldd. */
static int
stage_libs(struct mk *m, const char *exe)
{
	struct diag *d = m->d;
	char *out, *line, *path, *sp, *save = NULL;
	char dst[PATH_MAX];
	char *argv[] = { "ldd", (char *)exe, NULL };
	int e;

	if ((out = malloc(LIST_MAX)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if ((e = mk_run(m, argv, out, LIST_MAX, 1, d)) != 0) {
		/* ldd fails on static binaries and scripts: fine if it said so */
		if (strstr(out, "not a dynamic") != NULL) {
			diag_clear(d);
			e = 0;
		} else {
			diag_prefix(d, "ldd %s: ", exe);
		}
		free(out);
		return (e);
	}
	for (line = strtok_r(out, "\n", &save); line != NULL && e == 0;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "not found") != NULL) {
			e = diag_set(d, ENOENT, "%s needs a library that is "
			    "not installed: %s", exe, line);
			break;
		}
		if ((path = strstr(line, "=> ")) != NULL)
			path += 3;
		else
			path = line + strspn(line, " \t");
		if (*path != '/')
			continue;	/* linux-vdso.so.1 */
		if ((sp = strchr(path, ' ')) != NULL)
			*sp = '\0';
		if (snprintf(dst, sizeof(dst), "%s%s", m->staging, path) >=
		    (int)sizeof(dst)) {
			e = diag_set(d, ENAMETOOLONG, "%s: too long", path);
			break;
		}
		e = os_copy_file(path, dst, 0755, d);
	}
	free(out);
	return (e);
}

static int
stage_busybox(struct mk *m)
{
	struct diag *d = m->d;
	const char *bb = m->o->busybox;
	char *list, *line, *save = NULL, p[PATH_MAX];
	char *argv[] = { (char *)bb, "--list-full", NULL };
	int e;

	snprintf(p, sizeof(p), "%s/bin/busybox", m->staging);
	if ((e = os_copy_file(bb, p, 0755, d)) != 0)
		return (diag_prefix(d, "busybox (Debian package "
		    "busybox-static): "));
	if ((list = malloc(LIST_MAX)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if ((e = mk_run(m, argv, list, LIST_MAX, 0, d)) != 0) {
		free(list);
		return (diag_prefix(d, "%s --list-full: ", bb));
	}
	for (line = strtok_r(list, "\n", &save); line != NULL && e == 0;
	    line = strtok_r(NULL, "\n", &save)) {
		/* /init is liveroot-init: no busybox init, no linuxrc */
		if (strcmp(line, "sbin/init") == 0 ||
		    strcmp(line, "linuxrc") == 0 ||
		    strcmp(line, "bin/busybox") == 0 ||
		    strstr(line, "..") != NULL)
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", m->staging, line) >=
		    (int)sizeof(p))
			continue;
		if ((e = os_mkdir_parent(p, d)) != 0)
			break;
		if (symlink("/bin/busybox", p) != 0 && errno != EEXIST)
			e = diag_set(d, errno, "symlink %s: %s", p,
			    strerror(errno));
	}
	free(list);
	return (e);
}

/*
 * The CA bundle liveroot-init hands libcurl (FETCH_CA_PATH): without one an
 * https:// live.url= cannot be verified, and the boot says so.
 */
static int
stage_ca(struct mk *m)
{
	struct diag *d = m->d;
	const char *src = m->o->ca != NULL ? m->o->ca : MKLIVE_DEFAULT_CA;
	char p[PATH_MAX], *text;
	size_t len;
	int e;

	if (m->o->ca == NULL && access(src, R_OK) != 0) {
		if (m->o->report != NULL)
			m->o->report(m->o->arg, MKLIVE_EV_NO_CA, src, 0, 0);
		return (0);
	}
	if ((e = os_read_file(src, CA_MAX, &text, &len, d)) != 0) {
		m->r->bad_input = MKLIVE_IN_CA;
		return (e);
	}
	if (strstr(text, "-----BEGIN CERTIFICATE-----") == NULL) {
		free(text);
		m->r->bad_input = MKLIVE_IN_CA_PEM;
		return (diag_set(d, EINVAL, "%s holds no PEM certificate "
		    "(-----BEGIN CERTIFICATE-----)", src));
	}
	snprintf(p, sizeof(p), "%s%s", m->staging, FETCH_CA_PATH);
	e = os_write_file(p, text, len, 0644, d);
	free(text);
	if (e == 0)
		mk_step(m, "initramfs: CA bundle %s as %s", src, FETCH_CA_PATH);
	return (e);
}

/* A file of the contract (an INITRAMFS_* path) in the staging tree. */
static int
stage_file(struct mk *m, const char *path, const char *text, mode_t mode)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s%s", m->staging, path);
	return (os_write_file(p, text, strlen(text), mode, m->d));
}

/* Everything of the tree but the extra directories. */
static int
stage_tree(struct mk *m)
{
	static const char *const dirs[] = { "dev", "proc", "sys", "run",
	    "tmp", "mnt", INITRAMFS_NEWROOT + 1, "lib/firmware", "var" };
	struct diag *d = m->d;
	char p[PATH_MAX], version[128];
	size_t i;
	int e;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", m->staging, dirs[i]);
		if ((e = os_mkdir_p(p, 0755, d)) != 0)
			return (e);
	}
	snprintf(p, sizeof(p), "%s/init", m->staging);
	if ((e = os_copy_file(m->o->init, p, 0755, d)) != 0) {
		m->r->bad_input = MKLIVE_IN_INIT;
		return (e);
	}
	if ((e = stage_libs(m, m->o->init)) != 0 ||
	    (e = stage_busybox(m)) != 0 ||
	    (e = stage_file(m, INITRAMFS_UDHCPC_SCRIPT, udhcpc_script,
	    0755)) != 0)
		return (e);
	snprintf(version, sizeof(version), "liveroot %s\n", m->o->version);
	if ((e = stage_file(m, INITRAMFS_VERSION, version, 0644)) != 0 ||
	    (e = stage_ca(m)) != 0 || (e = mk_stage_pubkey(m)) != 0)
		return (e);
	if (m->o->init_path != NULL) {	/* --init-path: the live init */
		char def[PATH_MAX + 32];

		snprintf(def, sizeof(def), "# liveroot mklive --init-path\n"
		    "live.init=%s\n", m->o->init_path);
		if ((e = stage_file(m, INITRAMFS_DEFAULTS, def, 0644)) != 0)
			return (e);
	}
	mk_step(m, "initramfs: modules of %s", m->r->kver);
	return (mk_stage_modules(m));
}

static int
stage_extra(struct mk *m)
{
	char src[PATH_MAX + 2];
	char *argv[] = { "cp", "-a", src, m->staging, NULL };
	int i, e;

	for (i = 0; i < m->o->nextra; i++) {
		mk_step(m, "initramfs: adding %s", m->o->extra[i]);
		snprintf(src, sizeof(src), "%s/.", m->o->extra[i]);
		if ((e = mk_run(m, argv, NULL, 0, 0, m->d)) != 0) {
			m->r->bad_input = MKLIVE_IN_EXTRA;
			m->r->bad_index = i;
			return (e);
		}
	}
	return (0);
}

/* The staging tree as a compressed cpio archive at path. */
static int
archive(struct mk *m, const char *path)
{
	const struct pack_compressor *pc;
	struct pack_cpio c;
	struct diag *d = m->d;
	unsigned char *z = NULL;
	size_t zlen = 0;
	char tmp[PATH_MAX + 8];
	int e = 0;

	if ((pc = pack_compressor(m->o->compress)) == NULL)
		return (diag_set(d, EINVAL, "%s: no such initramfs "
		    "compression", m->o->compress));
	pack_cpio_init(&c);
	/* /dev/console (c 5 1) so the kernel gives /init its console; made
	 * in the archive, no mknod (and no root) needed */
	if ((e = pack_cpio_tree(&c, m->staging, d)) != 0 ||
	    (e = pack_cpio_entry(&c, "dev/console", S_IFCHR | 0600, 1, NULL,
	    0, 5, 1)) != 0 || (e = pack_cpio_trailer(&c)) != 0) {
		pack_cpio_free(&c);
		return (d != NULL && d->code ? e :
		    diag_set(d, e, "initramfs cpio: %s", strerror(e)));
	}
	if (pc->compress != NULL)
		e = pc->compress(c.buf, c.len, &z, &zlen);
	else {
		z = c.buf;
		zlen = c.len;
		c.buf = NULL;
	}
	mk_step(m, "initramfs: %zu KiB cpio, %zu KiB %s", c.len >> 10,
	    zlen >> 10, pc->name);
	pack_cpio_free(&c);
	if (e != 0)
		return (diag_set(d, e, "compressing the initramfs (%s): %s",
		    pc->name, strerror(e)));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	e = os_write_file(tmp, z, zlen, 0644, d);
	free(z);
	if (e == 0 && rename(tmp, path) != 0)
		e = diag_set(d, errno, "rename %s: %s", tmp, strerror(errno));
	if (e != 0)
		(void)unlink(tmp);
	m->r->initramfs_bytes = zlen;
	return (e);
}

int
mk_initramfs(struct mk *m)
{
	int e;

	snprintf(m->staging, sizeof(m->staging), "%s/.initramfs.XXXXXX",
	    m->o->out);
	if (mkdtemp(m->staging) == NULL) {
		m->staging[0] = '\0';
		return (diag_set(m->d, errno, "mkdtemp in %s: %s", m->o->out,
		    strerror(errno)));
	}
	mk_step(m, "initramfs: staging in %s", m->staging);
	if ((e = stage_tree(m)) != 0 || (e = stage_extra(m)) != 0)
		return (e);
	return (archive(m, m->r->initramfs));
}

void
mk_remove_staging(struct mk *m)
{
	char *argv[] = { "rm", "-rf", m->staging, NULL };

	if (m->staging[0] != '\0')
		(void)mk_run(m, argv, NULL, 0, 0, NULL);
}
