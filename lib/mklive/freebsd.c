/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * freebsd.c - mklive_build() for MKLIVE_FREEBSD: the cdroot tree a FreeBSD
 * live build finishes on a FreeBSD host (README.freebsd says how):
 *
 *   TREE --makefs -t ffs--> system.ffs --uzip--> cdroot/system.uzip
 *   cdroot/boot/loader.conf     the ramdisk preloaded as md_image (md0, the
 *                               first root), init_path, init_script, the
 *                               GEOM classes the script uses preloaded
 *   ramdisk/liveroot-init.sh    plan_freebsd_commands() for local:/dev/cd0
 *   cdroot/boot/ramdisk.files   what the ramdisk needs: the script and the
 *                               base tools it calls
 *   README.freebsd              the FreeBSD commands that make the ISO
 *
 * The FFS (UFS2) image is sized like the ext4 one (content + --free +
 * metadata, a minimum makefs may grow) and made by Debian's makefs;
 * `-T SOURCE_DATE_EPOCH` clamps its mtimes; the atimes are set to the
 * mtimes (makefs copies them, and reading the tree changes them) and the
 * in-core pointers makefs leaves in each superblock copy (fs_csp and its
 * neighbours, which the FreeBSD kernel sets at mount) are zeroed, so that
 * two builds are the same bytes.  The overlay cap written into the script is the image's size (the
 * most its upper can hold): the target's RAM is not known here.  No Linux
 * kernel is needed.  On failure the outputs of this call are removed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/config.h>
#include <liveroot/os.h>
#include <liveroot/plan_freebsd.h>

#include "mklive_int.h"

#define FB_IMAGE	"/system.uzip"
#define FB_SCRIPT	"/liveroot-init.sh"
#define FB_SOURCE	"local:/dev/cd0"
#define UFS2_MAGIC	0x19540119u
#define SB_MAGIC_OFF	1372		/* struct fs fs_magic */
#define SB_PTR_OFF	824		/* fs_contigdirs, fs_csp, fs_maxcluster, */
#define SB_PTR_LEN	32		/* fs_active: in-core pointers */

struct text {
	char	*buf;
	size_t	 len, cap;
	int	 nomem;
};

static void
text_add(struct text *t, const char *s)
{
	size_t n = strlen(s);
	char *nb;

	if (t->nomem)
		return;
	if (t->len + n + 2 > t->cap) {
		if ((nb = realloc(t->buf, t->cap * 2 + n + 4096)) == NULL) {
			t->nomem = 1;
			return;
		}
		t->buf = nb;
		t->cap = t->cap * 2 + n + 4096;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len++] = '\n';
	t->buf[t->len] = '\0';
}

static void
text_line(void *arg, const char *s)
{
	text_add(arg, s);
}

static void LR_PRINTF(2, 3)
text_fmt(struct text *t, const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	text_add(t, line);
}

static uint32_t
le32(const unsigned char *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

/*
 * The atimes of cylinder group c's inodes set to their mtimes: makefs -T
 * clamps mtimes but copies atimes, which reading the tree changes.
 */
static int
fb_atimes(int fd, off_t at, uint32_t ipg)
{
	unsigned char buf[256 * 256], *ino;
	uint32_t i, n, k;

	for (i = 0; i < ipg; i += n) {
		n = ipg - i < 256 ? ipg - i : 256;
		if (pread(fd, buf, (size_t)n * 256, at + (off_t)i * 256) !=
		    (ssize_t)n * 256)
			return (errno ? errno : EIO);
		for (k = 0; k < n; k++) {
			ino = buf + (size_t)k * 256;
			if (ino[0] == 0 && ino[1] == 0)
				continue;		/* di_mode 0: free */
			memcpy(ino + 32, ino + 40, 8);	/* di_atime = mtime */
			memcpy(ino + 68, ino + 64, 4);	/* and its nsec */
		}
		if (pwrite(fd, buf, (size_t)n * 256, at + (off_t)i * 256) !=
		    (ssize_t)n * 256)
			return (errno ? errno : EIO);
	}
	return (0);
}

/*
 * Makes the image the same bytes for the same tree: the in-core pointers
 * in every superblock copy zeroed, every atime set to the mtime.
 */
static int
fb_scrub(const char *img, struct diag *d)
{
	static const off_t locs[] = { 65536, 8192 };
	unsigned char sb[2048], zero[SB_PTR_LEN];
	uint32_t ncg, fpg, sblkno, iblkno, ipg, fsize, c;
	off_t at = -1, off;
	size_t i;
	int fd, e = 0;

	memset(zero, 0, sizeof(zero));
	if ((fd = open(img, O_RDWR | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "%s: %s", img, strerror(errno)));
	for (i = 0; i < sizeof(locs) / sizeof(locs[0]) && at < 0; i++)
		if (pread(fd, sb, sizeof(sb), locs[i]) == (ssize_t)sizeof(sb) &&
		    le32(sb + SB_MAGIC_OFF) == UFS2_MAGIC)
			at = locs[i];
	if (at < 0) {
		(void)close(fd);
		return (diag_set(d, EINVAL, "%s: makefs made no UFS2 file "
		    "system (no superblock at 64 KiB or 8 KiB)", img));
	}
	ncg = le32(sb + 44);
	sblkno = le32(sb + 8);
	fsize = le32(sb + 52);
	fpg = le32(sb + 188);
	iblkno = le32(sb + 16);
	ipg = le32(sb + 184);
	if (pwrite(fd, zero, sizeof(zero), at + SB_PTR_OFF) !=
	    (ssize_t)sizeof(zero))
		e = errno ? errno : EIO;
	for (c = 0; e == 0 && c < ncg && fsize >= 512; c++) {
		e = fb_atimes(fd, ((off_t)c * fpg + iblkno) * (off_t)fsize,
		    ipg);
		off = ((off_t)c * fpg + sblkno) * (off_t)fsize;
		if (pread(fd, sb, sizeof(sb), off) != (ssize_t)sizeof(sb) ||
		    le32(sb + SB_MAGIC_OFF) != UFS2_MAGIC)
			continue;
		if (pwrite(fd, zero, sizeof(zero), off + SB_PTR_OFF) !=
		    (ssize_t)sizeof(zero))
			e = errno ? errno : EIO;
	}
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e != 0)
		return (diag_set(d, e, "%s: %s", img, strerror(e)));
	return (0);
}

static int
fb_ffs(struct mk *m, const char *img)
{
	const struct mklive_opts *o = m->o;
	uint64_t bytes = 0, inodes = 1, freeb, size;
	char sizeb[32], files[32];
	char *argv[20];
	int e, n = 0;

	if ((e = mk_tree_measure(o->tree, &bytes, &inodes, m->d)) != 0)
		return (e);
	freeb = mk_free_bytes(o, bytes);
	size = bytes + freeb + inodes * 256 + bytes / 16 + (4ULL << 20);
	size = (size + (1 << 20) - 1) & ~((uint64_t)(1 << 20) - 1);
	snprintf(sizeb, sizeof(sizeb), "%ju", (uintmax_t)size);
	/* one inode per 16 KiB of free space, as the ext4 has */
	snprintf(files, sizeof(files), "%ju", (uintmax_t)(freeb / 16384 + 64));
	mk_step(m, "FFS (UFS2) image of %s: at least %ju MiB (%ju MiB content, "
	    "%ju MiB free)", o->tree, (uintmax_t)(size >> 20),
	    (uintmax_t)(bytes >> 20), (uintmax_t)(freeb >> 20));
	(void)unlink(img);
	argv[n++] = "makefs";
	argv[n++] = "-t";
	argv[n++] = "ffs";
	argv[n++] = "-o";
	argv[n++] = "version=2";
	argv[n++] = "-M";
	argv[n++] = sizeb;
	argv[n++] = "-f";			/* inodes for the free space */
	argv[n++] = files;
	if (o->epoch != NULL) {
		argv[n++] = "-T";
		argv[n++] = (char *)o->epoch;
	}
	argv[n++] = (char *)img;
	argv[n++] = (char *)o->tree;
	argv[n] = NULL;
	if ((e = mk_run(m, argv, NULL, 0, 0, m->d)) != 0)
		return (diag_prefix(m->d, "making the FFS image of %s: ",
		    o->tree));
	if ((e = fb_scrub(img, m->d)) != 0)
		return (e);
	{
		struct stat st;

		if (stat(img, &st) == 0)
			m->r->ext4_bytes = (uint64_t)st.st_size;
	}
	return (0);
}

/* The base tools the script may call, and the files each needs. */
static const struct fb_tool {
	const char	*word;
	const char	*files;
} fb_tools[] = {
	{ "kldload", "/sbin/kldload" },
	{ "mdconfig", "/sbin/mdconfig" },
	{ "mount", "/sbin/mount" },
	{ "umount", "/sbin/umount" },
	{ "mount_cd9660", "/sbin/mount_cd9660" },
	{ "mkdir", "/bin/mkdir" },
	{ "sysctl", "/sbin/sysctl" },
	{ "halt", "/sbin/halt" },
	{ "reboot", "/sbin/reboot" },
	{ "gpart", "/sbin/gpart /lib/geom/geom_part.so" },
	{ "sleep", "/bin/sleep" },
	{ "kenv", "/bin/kenv" },
	{ "geom", "/sbin/geom /lib/geom/geom_rowr.so" },
	{ "gunion", "/sbin/gunion /lib/geom/geom_union.so" },
	{ "gnop", "/sbin/gnop /lib/geom/geom_nop.so" },
	{ "gconcat", "/sbin/gconcat /lib/geom/geom_concat.so" },
	{ "diskinfo", "/usr/sbin/diskinfo" },
	{ "awk", "/usr/bin/awk" },
	{ "truncate", "/usr/bin/truncate" },
	{ "fetch", "/usr/bin/fetch" },
	{ "dd", "/bin/dd" },
	{ "sha256", "/sbin/sha256" },
};

/* 1 when word is a whole word of a line of script that is not a comment. */
static int
fb_calls(const char *script, const char *word)
{
	const char *p = script, *q, *eol;
	size_t n = strlen(word);

	while (*p != '\0') {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		q = p + strspn(p, "\t ");
		if (*q != '#')
			for (; (q = strstr(q, word)) != NULL && q < eol; q++)
				if ((q == p || strchr("\t ($|;&{`",
				    q[-1]) != NULL) && strchr("\t );|&\n}`",
				    q[n] == '\0' ? '\n' : q[n]) != NULL)
					return (1);
		p = *eol == '\n' ? eol + 1 : eol;
	}
	return (0);
}

static int
fb_write(const char *path, const struct text *t, const char *what,
    struct diag *d)
{
	if (t->nomem)
		return (diag_set(d, ENOMEM, "%s: out of memory", what));
	return (os_atomic_write(path, t->buf, t->len, what, d));
}

static int
fb_texts(struct mk *m, const char *script_path, const char *loader,
    const char *files, const char *readme)
{
	const struct mklive_opts *o = m->o;
	struct live_config c;
	struct fbsd_source s;
	struct text sc = { 0 }, lc = { 0 }, fl = { 0 }, rd = { 0 };
	size_t i;
	int e;

	config_init(&c);
	(void)config_set(&c, "live.image", FB_IMAGE, LIVE_SRC_FILE);
	config_finish(&c);
	if ((e = plan_freebsd_parse_source(FB_SOURCE, &s, m->d)) != 0 ||
	    (e = plan_freebsd_commands(&c, &s, m->r->ext4_bytes, text_line,
	    &sc, m->d)) != 0)
		goto out;
	if ((e = fb_write(script_path, &sc, "the init_script", m->d)) != 0)
		goto out;
	(void)chmod(script_path, 0755);

	text_add(&lc, "# liveroot mklive --platform freebsd: the ramdisk "
	    "(md0) is the first root;");
	text_add(&lc, "# init(8) from it runs the init_script, which mounts "
	    FB_IMAGE " of this CD and hands off to it");
	text_add(&lc, "mfsroot_load=\"YES\"");
	text_add(&lc, "mfsroot_type=\"md_image\"");
	text_add(&lc, "mfsroot_name=\"/boot/ramdisk.ufs\"");
	text_add(&lc, "vfs.root.mountfrom=\"ufs:/dev/md0\"");
	text_add(&lc, "init_path=\"/sbin/init\"");
	text_add(&lc, "init_script=\"" FB_SCRIPT "\"");
	text_add(&lc, "# the ramdisk has no /boot/kernel: the classes the "
	    "script kldloads are preloaded");
	text_add(&lc, "geom_uzip_load=\"YES\"");
	text_add(&lc, "geom_rowr_load=\"YES\"");
	text_add(&lc, "geom_union_load=\"YES\"");
	text_add(&lc, "nullfs_load=\"YES\"");
	text_add(&lc, "tmpfs_load=\"YES\"");
	text_add(&lc, "# the live.* keys (kenv) the script was made with");
	text_add(&lc, "live.image=\"" FB_IMAGE "\"");
	text_add(&lc, "live.probe=\"local\"");
	if ((e = fb_write(loader, &lc, "loader.conf", m->d)) != 0)
		goto out;

	text_add(&fl, FB_SCRIPT);
	text_add(&fl, "/sbin/init");
	text_add(&fl, "/bin/sh");
	for (i = 0; i < sizeof(fb_tools) / sizeof(fb_tools[0]); i++) {
		char one[256], *tok, *save = NULL;

		if (!fb_calls(sc.buf, fb_tools[i].word))
			continue;
		snprintf(one, sizeof(one), "%s", fb_tools[i].files);
		for (tok = strtok_r(one, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save))
			text_add(&fl, tok);
	}
	if ((e = fb_write(files, &fl, "ramdisk.files", m->d)) != 0)
		goto out;

	text_add(&rd, "# liveroot mklive --platform freebsd: finish the live "
	    "ISO on a FreeBSD 14+ host (amd64, BIOS boot).");
	text_add(&rd, "# Run these commands as root in this directory "
	    "(the one holding README.freebsd); LR is liveroot's source tree.");
	text_add(&rd, "");
	text_add(&rd, "# 1. the overlay class: geom_rowr.ko for the loader, "
	    "geom_rowr.so for geom(8)");
	text_add(&rd, "make -C $LR/freebsd/sys/modules/geom/geom_rowr");
	text_add(&rd, "mkdir -p cdroot/boot/modules");
	text_add(&rd, "cp $LR/freebsd/sys/modules/geom/geom_rowr/geom_rowr.ko "
	    "cdroot/boot/modules/");
	text_add(&rd, "make -C $LR/freebsd/lib/geom/rowr SRCTOP=/usr/src && "
	    "make -C $LR/freebsd/lib/geom/rowr install");
	text_add(&rd, "");
	text_add(&rd, "# 2. the kernel and the loader (loader.conf is ours: "
	    "not overwritten)");
	text_add(&rd, "cp -Rp /boot/kernel /boot/defaults /boot/lua "
	    "cdroot/boot/");
	text_add(&rd, "cp -p /boot/loader /boot/cdboot /boot/device.hints "
	    "cdroot/boot/");
	text_add(&rd, "");
	text_add(&rd, "# 3. the ramdisk: the files of cdroot/boot/ramdisk.files "
	    "and the libraries they link");
	text_add(&rd, "mkdir -p ramdisk/dev ramdisk/tmp");
	text_add(&rd, "for f in $(grep -v '^" FB_SCRIPT "$' "
	    "cdroot/boot/ramdisk.files); do for g in $f $(ldd -f '%p\\n' $f "
	    "2>/dev/null); do mkdir -p ramdisk$(dirname $g); cp -p $g "
	    "ramdisk$g; done; done");
	text_add(&rd, "mkdir -p ramdisk/libexec && cp -p /libexec/ld-elf.so.1 "
	    "ramdisk/libexec/");
	text_add(&rd, "makefs -t ffs -o version=2 -B little "
	    "cdroot/boot/ramdisk.ufs ramdisk");
	text_add(&rd, "");
	text_add(&rd, "# 4. the ISO (the label is the volume id; " FB_IMAGE
	    " is read from /dev/cd0)");
	text_fmt(&rd, "makefs -t cd9660 -o rockridge -o label=%s -o "
	    "bootimage=i386\\;cdroot/boot/cdboot -o no-emul-boot live.iso "
	    "cdroot", o->label);
	if ((e = fb_write(readme, &rd, "README.freebsd", m->d)) != 0)
		goto out;
out:
	free(sc.buf);
	free(lc.buf);
	free(fl.buf);
	free(rd.buf);
	return (e);
}

int
mk_freebsd(struct mk *m)
{
	static const struct os_tool tools[] = { { "makefs", "makefs" } };
	const struct mklive_opts *o = m->o;
	struct mklive_result *r = m->r;
	struct stat st;
	char ffs[PATH_MAX], init[PATH_MAX], boot[PATH_MAX], script[PATH_MAX];
	char loader[PATH_MAX], files[PATH_MAX];
	int e;

	if (o->tree == NULL)
		return (diag_set(m->d, EINVAL, "--platform freebsd needs a "
		    "TREE (there is no initramfs to build)"));
	snprintf(init, sizeof(init), "%s/sbin/init", o->tree);
	if (lstat(init, &st) != 0) {
		r->bad_input = MKLIVE_IN_TREE;
		return (diag_set(m->d, ENOENT, "%s: %s: a FreeBSD root tree "
		    "needs /sbin/init (init(8) runs the live system); extract "
		    "FreeBSD's base.txz into %s", init, strerror(errno),
		    o->tree));
	}
	if ((e = os_check_tools(tools, 1, m->d)) != 0)
		return (e);
	snprintf(r->cdroot, sizeof(r->cdroot), "%s/cdroot", o->out);
	snprintf(boot, sizeof(boot), "%.1000s/boot", r->cdroot);
	snprintf(r->uzip, sizeof(r->uzip), "%.1000s" FB_IMAGE, r->cdroot);
	snprintf(ffs, sizeof(ffs), "%s/system.ffs", o->out);
	snprintf(script, sizeof(script), "%s/ramdisk" FB_SCRIPT, o->out);
	snprintf(loader, sizeof(loader), "%.1000s/loader.conf", boot);
	snprintf(files, sizeof(files), "%.1000s/ramdisk.files", boot);
	snprintf(r->readme, sizeof(r->readme), "%s/README.freebsd", o->out);
	if ((e = os_mkdir_p(boot, 0755, m->d)) != 0 ||
	    (e = os_mkdir_parent(script, m->d)) != 0)
		return (e);
	if ((e = fb_ffs(m, ffs)) == 0 && (e = mk_uzip(m, ffs)) == 0 &&
	    (e = os_sha256_file(r->uzip, r->sha256, m->d)) == 0)
		e = fb_texts(m, script, loader, files, r->readme);
	if (!o->keep_ext4)
		(void)unlink(ffs);
	if (e != 0) {
		(void)unlink(r->uzip);
		(void)unlink(script);
		(void)unlink(loader);
		(void)unlink(files);
		(void)unlink(r->readme);
	} else
		mk_step(m, "cdroot %s: loader.conf, ramdisk.files; %s",
		    r->cdroot, r->readme);
	return (e);
}
