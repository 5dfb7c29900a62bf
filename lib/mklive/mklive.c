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

void
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

void
mk_epoch_uuid(const struct mk *m, const char *what, char out[40])
{
	uint8_t h[OS_SHA256_LEN];
	char in[256];
	int n;

	n = snprintf(in, sizeof(in), "liveroot %s %s %s", what,
	    m->o->epoch ? m->o->epoch : "", m->o->label);
	(void)os_sha256_buf(in, n < 0 ? 0 : (size_t)n, h);
	h[6] = (uint8_t)((h[6] & 0x0f) | 0x50);	/* version 5: name-based */
	h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3], h[4], h[5],
	    h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
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

/*
 * The release of a bzImage, from its setup header (the x86 boot protocol):
 * "HdrS" at 0x202, protocol >= 2.00, kernel_version at 0x20e an offset
 * (+ 0x200) of "RELEASE (builder) #1 SMP ...".  0 or an errno with d set.
 */
int
mk_bzimage_release(const char *path, char *out, size_t outlen,
    struct diag *d)
{
	unsigned char h[32768];
	size_t n, off, len;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return (diag_set(d, errno, "%s: %s", path, strerror(errno)));
	n = fread(h, 1, sizeof(h), f);
	fclose(f);
	if (n < 0x210 || memcmp(h + 0x202, "HdrS", 4) != 0 ||
	    (h[0x206] | h[0x207] << 8) < 0x200)
		return (diag_set(d, EINVAL, "%s: not a Linux kernel (bzImage: "
		    "no \"HdrS\" setup header); give the vmlinuz of a "
		    "linux-image package", path));
	off = (size_t)(h[0x20e] | h[0x20f] << 8) + 0x200;
	if (off >= n)
		return (diag_set(d, EINVAL, "%s: its version string lies past "
		    "the first %zu bytes", path, n));
	len = strcspn((const char *)h + off, " ");
	if (len == 0 || off + len >= n || len >= outlen ||
	    memchr(h + off, '\0', len) != NULL || memchr(h + off, '/',
	    len) != NULL)
		return (diag_set(d, EINVAL, "%s: no kernel release in its "
		    "setup header", path));
	memcpy(out, h + off, len);
	out[len] = '\0';
	return (0);
}

/* --kernel VMLINUZ --modules-dir DIR: the release read, DIR checked. */
static int
mk_kernel_given(struct mk *m)
{
	const struct mklive_opts *o = m->o;
	struct mklive_result *r = m->r;
	const char *base;
	char p[PATH_MAX + 16];
	size_t l;

	if (mk_bzimage_release(o->kernel, r->kver, sizeof(r->kver),
	    m->d) != 0) {
		r->bad_input = MKLIVE_IN_KERNEL;
		return (m->d->code);
	}
	if (o->modules_dir == NULL) {
		r->bad_input = MKLIVE_IN_MODDIR;
		return (diag_set(m->d, EINVAL, "the kernel %s (release %s) "
		    "needs its modules: give the directory of modules.dep "
		    "(/lib/modules/%s)", o->kernel, r->kver, r->kver));
	}
	l = strlen(o->modules_dir);
	while (l > 1 && o->modules_dir[l - 1] == '/')
		l--;
	if (l >= sizeof(m->moddir))
		return (diag_set(m->d, ENAMETOOLONG, "%s: path too long",
		    o->modules_dir));
	memcpy(m->moddir, o->modules_dir, l);
	m->moddir[l] = '\0';
	snprintf(p, sizeof(p), "%s/modules.dep", m->moddir);
	if (access(p, R_OK) != 0) {
		r->bad_input = MKLIVE_IN_MODDIR;
		return (diag_set(m->d, ENOENT, "%s: no modules.dep (%s): give "
		    "/lib/modules/%s of the kernel's package, or run depmod",
		    m->moddir, strerror(errno), r->kver));
	}
	base = strrchr(m->moddir, '/');
	base = base != NULL ? base + 1 : m->moddir;
	if (strcmp(base, r->kver) != 0) {
		r->bad_input = MKLIVE_IN_MODDIR;
		return (diag_set(m->d, EINVAL, "%s holds the modules of "
		    "release %s, but the kernel %s is %s: give "
		    "/lib/modules/%s", m->moddir, base, o->kernel, r->kver,
		    r->kver));
	}
	snprintf(r->vmlinuz, sizeof(r->vmlinuz), "%s", o->kernel);
	return (0);
}

/*
 * The kernel: --kernel/--modules-dir, or a kernel cache of
 * scripts/kernel.sh (KVER, vmlinuz, root/lib/modules/KVER).
 */
int
mk_kernel(struct mk *m)
{
	struct mklive_result *r = m->r;
	const char *kdir;
	char p[PATH_MAX + 16], *kv = NULL;
	int e;

	if (m->o->kernel != NULL)
		return (mk_kernel_given(m));
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
	if (access(m->moddir, R_OK) != 0 || access(r->vmlinuz, R_OK) != 0)
		return (diag_set(m->d, ENOENT, "%s: kernel cache incomplete (no "
		    "modules or vmlinuz): run scripts/kernel.sh again", kdir));
	return (0);
}

/*
 * Resolves PATH inside the tree as the live system will (absolute links
 * relative to the tree, at most 16 hops); 0 when it ends in a regular
 * file that someone may execute.
 */
static int
tree_executable(const char *tree, const char *path, char *why, size_t wlen)
{
	char cur[PATH_MAX], link[PATH_MAX], full[PATH_MAX * 2 + 2];
	struct stat st;
	ssize_t n;
	char *s;

	snprintf(cur, sizeof(cur), "%s", path);
	for (int hop = 0; hop < 16; hop++) {
		snprintf(full, sizeof(full), "%s%s%s", tree,
		    cur[0] == '/' ? "" : "/", cur);
		if (lstat(full, &st) != 0) {
			snprintf(why, wlen, "%s: %s", cur, strerror(errno));
			return (ENOENT);
		}
		if (!S_ISLNK(st.st_mode)) {
			if (!S_ISREG(st.st_mode) ||
			    (st.st_mode & 0111) == 0) {
				snprintf(why, wlen, "%s is not an executable "
				    "file", cur);
				return (EACCES);
			}
			return (0);
		}
		if ((n = readlink(full, link, sizeof(link) - 1)) < 0) {
			snprintf(why, wlen, "%s: %s", cur, strerror(errno));
			return (errno);
		}
		link[n] = '\0';
		if (link[0] != '/' && (s = strrchr(cur, '/')) != NULL) {
			s[1] = '\0';
			if (strlen(cur) + strlen(link) >= sizeof(cur))
				break;
			strcat(cur, link);
		} else
			snprintf(cur, sizeof(cur), "%s", link);
	}
	snprintf(why, wlen, "%s: too many symbolic links", path);
	return (ELOOP);
}

/* The tree has the init the live system runs. */
static int
mk_check_tree(struct mk *m)
{
	const char *init = m->o->init_path ? m->o->init_path : "/sbin/init";
	char why[PATH_MAX + 64];

	if (tree_executable(m->o->tree, init, why, sizeof(why)) == 0)
		return (0);
	m->r->bad_input = MKLIVE_IN_TREE;
	if (m->o->init_path != NULL)
		return (diag_set(m->d, ENOENT, "%s: --init-path %s: %s; name "
		    "the live system's init as a path inside the tree",
		    m->o->tree, init, why));
	return (diag_set(m->d, ENOENT, "%s is not a root tree: no /sbin/init "
	    "(%s); install an init into it (systemd-sysv, sysvinit-core, "
	    "busybox) or name the live system's init with --init-path",
	    m->o->tree, why));
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
	/* rootfs.uzip.hashes, always: a lazy reader checks each cluster */
	uo.hashes_path = m->r->hashes[0] != '\0' ? m->r->hashes : NULL;
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
	    (e = mk_sign(m)) != 0 || (e = mk_iso(m)) != 0 ||
	    (e = mk_netboot(m)) != 0) {
		(void)unlink(r->uzip);
		(void)unlink(r->hashes);
		(void)unlink(r->iso);
		if (r->sig[0] != '\0')
			(void)unlink(r->sig);
		if (r->hashes_sig[0] != '\0')
			(void)unlink(r->hashes_sig);
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
	const char *bad;
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
	if ((bad = mk_grub_text_bad(o->label, 1)) != NULL) {
		r->bad_input = MKLIVE_IN_LABEL;
		return (diag_set(d, EINVAL, "label '%s': '%c' is not a letter, "
		    "digit, '_', '-' or '.' (the label goes on GRUB's and the "
		    "kernel's command lines)", o->label, *bad));
	}
	if (o->cmdline != NULL &&
	    (bad = mk_grub_text_bad(o->cmdline, 0)) != NULL) {
		r->bad_input = MKLIVE_IN_CMDLINE;
		return (diag_set(d, EINVAL, "kernel arguments '%s': '%c' is "
		    "special to GRUB's configuration (and a non-printable or "
		    "non-ASCII byte is not allowed); leave it out", o->cmdline,
		    *bad));
	}
	if ((e = os_check_tools(tools, sizeof(tools) / sizeof(tools[0]),
	    d)) != 0 || (o->tree != NULL && (e = mk_check_tree(&m)) != 0) ||
	    (e = mk_boot_check(&m)) != 0 || (e = mk_sign_check(&m)) != 0 ||
	    (e = mk_kernel(&m)) != 0 ||
	    (e = os_mkdir_p(o->out, 0755, d)) != 0)
		return (e);
	snprintf(r->initramfs, sizeof(r->initramfs), "%s/initramfs.img",
	    o->out);
	snprintf(r->uzip, sizeof(r->uzip), "%s/rootfs.uzip", o->out);
	snprintf(r->hashes, sizeof(r->hashes), "%s/rootfs.uzip.hashes",
	    o->out);
	snprintf(r->iso, sizeof(r->iso), "%s/live.iso", o->out);
	snprintf(r->netboot, sizeof(r->netboot), "%s/netboot", o->out);

	e = mk_initramfs(&m);
	mk_remove_staging(&m);
	if (e != 0 || o->tree == NULL)
		return (e);
	return (mk_root(&m));
}
