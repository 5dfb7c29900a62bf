/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mklive.c - mklive_build() (mklive.h): the order of the steps, and what
 * they share: the step lines, the tool runner, the kernel cache.
 *
 *   tools checked -> kernel cache read -> OUT made -> initramfs (staged,
 *   archived, staging removed) -> [tree: ext4 -> rootfs.uzip -> ISO ->
 *   netboot]; MKLIVE_FREEBSD: freebsd.c alone (no kernel, no initramfs)
 *
 * The order is mkuzip's: main orchestrates, one file per concern
 * (initramfs.c, modules.c, ext4.c, iso.c, netboot.c).  When a step after
 * the initramfs fails, rootfs.uzip, live.iso and (unless kept) rootfs.ext4
 * are removed; initramfs.img, complete, stays.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/os.h>
#include <liveroot/uzip_write.h>

#include "mklive_int.h"

#define MKLIVE_MAXOUT	900	/* OUT's length, room for the names in it */

void
mk_step(struct mk *m, const char *fmt, ...)
{
	char text[8192];
	va_list ap;

	if (m->o->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	m->o->report(m->o->arg, MKLIVE_EV_STEP, text, 0, 0);
}

static void
mk_tool_output(void *arg, const char *text)
{
	struct mk *m = arg;

	m->o->report(m->o->arg, MKLIVE_EV_TOOL_OUTPUT, text, 0, 0);
}

int
mk_run(struct mk *m, char *const argv[], char *out, size_t outlen, int merge,
    struct diag *d)
{
	struct os_run r;

	memset(&r, 0, sizeof(r));
	r.out = out;
	r.outlen = outlen;
	r.merge = merge;
	r.talk = m->o->talk;
	if (m->o->report != NULL) {
		r.failed_output = mk_tool_output;
		r.arg = m;
	}
	return (os_run(argv, &r, d));
}

/* The kernel cache asked for, or the first of kdir_try that is one. */
static const char *
mk_kdir(struct mk *m)
{
	const char *const *t = m->o->kdir_try;
	char p[PATH_MAX + 16];

	if (m->o->kdir != NULL)
		return (m->o->kdir);
	for (; t != NULL && *t != NULL; t++) {
		snprintf(p, sizeof(p), "%s/KVER", *t);
		if (access(p, R_OK) == 0)
			return (*t);
	}
	return (NULL);
}

/* The kernel cache of scripts/kernel.sh: KVER, vmlinuz, root/lib/modules. */
int
mk_kernel(struct mk *m)
{
	struct mklive_result *r = m->r;
	const char *kdir;
	char p[PATH_MAX + 16], *kv = NULL;
	int e;

	if ((kdir = mk_kdir(m)) == NULL) {
		r->bad_input = MKLIVE_IN_KCACHE;
		return (diag_set(m->d, ENOENT, "no kernel cache found: run "
		    "scripts/kernel.sh"));
	}
	snprintf(p, sizeof(p), "%s/KVER", kdir);
	if ((e = os_read_file(p, 4096, &kv, NULL, m->d)) != 0) {
		r->bad_input = MKLIVE_IN_KDIR;
		return (diag_prefix(m->d, "%s is not a kernel cache of "
		    "scripts/kernel.sh: ", kdir));
	}
	kv[strcspn(kv, " \t\r\n")] = '\0';
	if (kv[0] == '\0' || strlen(kv) >= sizeof(r->kver) ||
	    strchr(kv, '/') != NULL) {
		free(kv);
		return (diag_set(m->d, EINVAL, "%s: bad kernel version", p));
	}
	strcpy(r->kver, kv);
	free(kv);
	snprintf(m->moddir, sizeof(m->moddir), "%s/root/lib/modules/%s",
	    kdir, r->kver);
	snprintf(r->vmlinuz, sizeof(r->vmlinuz), "%s/vmlinuz", kdir);
	snprintf(r->vmlinux, sizeof(r->vmlinux), "%s/vmlinux", kdir);
	if (access(m->moddir, R_OK) != 0 || access(r->vmlinuz, R_OK) != 0)
		return (diag_set(m->d, ENOENT, "%s: kernel cache incomplete (no "
		    "modules or vmlinuz): run scripts/kernel.sh again", kdir));
	return (0);
}

static void
mk_uzip_progress(uint64_t done, uint64_t total, void *arg)
{
	struct mk *m = arg;

	m->o->report(m->o->arg, MKLIVE_EV_UZIP_PROGRESS, NULL, done, total);
}

static void
mk_event(struct mk *m, enum mklive_event ev)
{
	if (m->o->report != NULL)
		m->o->report(m->o->arg, ev, NULL, 0, 0);
}

int
mk_uzip(struct mk *m, const char *in)
{
	struct uzip_write_opts uo;
	struct stat st;
	const char *out = m->r->uzip;
	int e;

	mk_step(m, "compressing %s -> %s (%s, %u-byte clusters)", in, out,
	    m->o->codec->name, m->o->blksz);
	memset(&uo, 0, sizeof(uo));
	uo.codec = m->o->codec->id;
	uo.level = -1;
	uo.blksz = m->o->blksz;
	uo.jobs = 0;
	if (m->o->report != NULL) {
		uo.progress = mk_uzip_progress;
		uo.arg = m;
	}
	mk_event(m, MKLIVE_EV_UZIP_START);
	e = uzip_write(in, out, &uo, NULL, m->d);
	mk_event(m, MKLIVE_EV_UZIP_END);
	if (e != 0)
		return (diag_prefix(m->d, "making %s: ", out));
	if (stat(out, &st) != 0)
		return (diag_set(m->d, errno, "%s: %s", out, strerror(errno)));
	m->r->uzip_bytes = (uint64_t)st.st_size;
	return (0);
}

/* ext4 -> rootfs.uzip -> ISO -> netboot; partial outputs removed. */
static int
mk_root(struct mk *m)
{
	struct mklive_result *r = m->r;
	char ext4[PATH_MAX];
	int e;

	snprintf(ext4, sizeof(ext4), "%s/rootfs.ext4", m->o->out);
	if ((e = mk_ext4(m, ext4)) != 0 || (e = mk_uzip(m, ext4)) != 0 ||
	    (e = mk_iso(m)) != 0 || (e = mk_netboot(m)) != 0) {
		(void)unlink(r->uzip);
		(void)unlink(r->iso);
	}
	if (!m->o->keep_ext4)
		(void)unlink(ext4);
	return (e);
}

int
mklive_build(const struct mklive_opts *o, struct mklive_result *r,
    struct diag *d)
{
	static const struct os_tool tools[] = {
		{ "mke2fs", "e2fsprogs" }, { "xorriso", "xorriso" },
		{ "depmod", "kmod" }, { "ldd", "libc-bin" },
		{ "cp", "coreutils" },
	};
	struct mk m;
	int e;

	memset(r, 0, sizeof(*r));
	memset(&m, 0, sizeof(m));
	m.o = o;
	m.r = r;
	m.d = d;
	if (strlen(o->out) > MKLIVE_MAXOUT)
		return (diag_set(d, ENAMETOOLONG, "%.40s...: path too long (at "
		    "most %d bytes)", o->out, MKLIVE_MAXOUT));
	if (o->platform == MKLIVE_FREEBSD)
		return (mk_freebsd(&m));
	if ((e = os_check_tools(tools, sizeof(tools) / sizeof(tools[0]),
	    d)) != 0 || (e = mk_kernel(&m)) != 0 ||
	    (e = os_mkdir_p(o->out, 0755, d)) != 0)
		return (e);
	snprintf(r->initramfs, sizeof(r->initramfs), "%s/initramfs.img",
	    o->out);
	snprintf(r->uzip, sizeof(r->uzip), "%s/rootfs.uzip", o->out);
	snprintf(r->iso, sizeof(r->iso), "%s/live.iso", o->out);
	snprintf(r->netboot, sizeof(r->netboot), "%s/netboot", o->out);

	e = mk_initramfs(&m);
	mk_remove_staging(&m);
	if (e != 0 || o->tree == NULL)
		return (e);
	return (mk_root(&m));
}
