/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_mklive.c - `liveroot mklive`: from a directory tree to everything a
 * live boot needs:
 *
 *   TREE --mke2fs -d--> rootfs.ext4 --uzip--> rootfs.uzip --xorriso--> live.iso
 *   liveroot-init + its libraries + busybox + modules --cpio newc--> initramfs.img
 *   netboot/ = vmlinuz, vmlinux, initramfs.img, rootfs.uzip(.sha256), boot.ipxe
 *
 * The initramfs layout is the one of F-contract.md: /init (liveroot-init and
 * every library ldd names, plus the dynamic loader), /bin/busybox with its
 * applet links, /usr/share/udhcpc/default.script, /lib/modules/KVER (the
 * requested modules with their dependencies from the kernel's modules.dep,
 * then `depmod -b`), /etc/liveroot/{modules,version}, the CA bundle for
 * https:// live.url= (--ca, default the build machine's) at FETCH_CA_PATH,
 * then each --extra-initramfs directory copied over it.  The cpio archive is written
 * here (newc, owner root, mtime 0, sorted names: reproducible) and compressed
 * with libzstd or zlib; the kernel needs no external tool.
 *
 * External tools: mke2fs (e2fsprogs), xorriso, depmod (kmod), ldd (libc-bin),
 * cp, rm.  A missing one is named with its Debian package before any work.
 * Every output is written under a temporary name and renamed; on failure the
 * partial outputs are removed.  Single-threaded; no shared state beyond the
 * options of one run.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include <liveroot/diag.h>
#include <liveroot/fetch.h>
#include <liveroot/uzip_write.h>

#include "cli.h"
#include "verbs.h"

#ifndef LIVEROOT_VERSION
#define LIVEROOT_VERSION "unknown"
#endif

#define MKLIVE_MAXMOD	64
#define MKLIVE_MAXEXTRA	16
#define MKLIVE_CA	"/etc/ssl/certs/ca-certificates.crt"

static const char mklive_usage[] =
"usage: liveroot mklive [options] TREE\n"
"       liveroot mklive --initramfs-only [options]\n"
"\n"
"Build a live system from the directory TREE: an ext4 image of it, that\n"
"image as rootfs.uzip, a bootable-by-QEMU ISO holding rootfs.uzip (and the\n"
"kernel and initramfs under /boot), the initramfs with liveroot-init as\n"
"/init, and a netboot directory (kernel, initramfs, rootfs.uzip, its\n"
"sha256, an iPXE script).\n"
"\n"
"options:\n"
"  -o, --out DIR            output directory (default ./live)\n"
"  -L, --label LABEL        ISO volume label (default LIVEROOT)\n"
"      --free SIZE          free space in the ext4 file system: 64M, 1G or\n"
"                           N% of the content (default: 64M or 25%, larger)\n"
"  -A, --codec NAME         rootfs.uzip codec: zstd (default), zlib, lzma\n"
"  -s, --cluster-size N     rootfs.uzip cluster size (default 65536)\n"
"      --kernel-dir DIR     kernel cache of scripts/kernel.sh (default\n"
"                           $LIVEROOT_CACHE/kernel, ./cache/kernel, or the\n"
"                           cache/kernel of the source tree)\n"
"      --init PATH          the /init binary (default: liveroot-init next to\n"
"                           this program)\n"
"      --busybox PATH       static busybox (default /bin/busybox)\n"
"      --modules LIST       modules to load at boot, comma separated, each\n"
"                           'name [args]' (replaces the default set)\n"
"      --add-modules LIST   modules added to the default set\n"
"      --extra-initramfs DIR  copy DIR over the initramfs (repeatable)\n"
"      --compress NAME      initramfs compression: zstd (default), gzip, none\n"
"      --net-base URL       where boot.ipxe fetches from (default\n"
"                           http://10.0.2.100, QEMU's guestfwd address)\n"
"      --cmdline ARGS       extra kernel arguments for boot.ipxe\n"
"      --ca FILE            CA bundle (PEM) that https:// live.url= is\n"
"                           verified with at boot (default\n"
"                           " MKLIVE_CA ")\n"
"      --initramfs-only     build only OUT/initramfs.img (no TREE needed)\n"
"      --keep-ext4          keep OUT/rootfs.ext4\n"
"      --json               print the outputs as JSON on stdout\n"
"  -v, --verbose            say each step (also shown when stderr is a tty)\n"
"  -q, --quiet              no step lines and no summary (errors and warnings\n"
"                           are still printed)\n"
"  -h, --help               this text\n"
"\n"
"Exit status: 0 built, 2 error.  See liveroot-mklive(8).\n";

/* Modules loaded at boot unless --modules says otherwise (F-contract.md). */
static const char *const mklive_default_modules[] = {
	"virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net", "ata_piix",
	"ahci", "sr_mod", "sd_mod", "xhci_pci", "usb_storage delay_use=0",
	"uas", "e1000", "nbd", "ext4", "crc32c_generic", "af_packet",
};

static const char mklive_udhcpc_script[] =
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

struct mklive {
	const char	*tree;
	const char	*out;
	const char	*label;
	const char	*free_s;
	const char	*codec;
	uint32_t	 blksz;
	const char	*kdir;
	const char	*init;
	const char	*busybox;
	const char	*compress;
	const char	*net_base;
	const char	*cmdline;
	const char	*ca;		/* NULL: MKLIVE_CA when present */
	const char	*extra[MKLIVE_MAXEXTRA];
	int		 nextra;
	char		*mods[MKLIVE_MAXMOD];
	int		 nmods;
	int		 initramfs_only;
	int		 keep_ext4;
	int		 json;
	int		 verbose;
	int		 quiet;		/* -q: no step lines, no summary */

	/* derived */
	char		 kdir_buf[PATH_MAX];
	char		 kver[128];
	char		 moddir[PATH_MAX];
	char		 vmlinuz[PATH_MAX];
	char		 vmlinux[PATH_MAX];
	char		 self_dir[1024];
	char		 staging[1024];
	char		 sha256[65];
	uint64_t	 ext4_size;
	uint64_t	 uzip_size;
	uint64_t	 initramfs_size;
	int		 nloaded;
};

static void
step(const struct mklive *m, const char *fmt, ...) LR_PRINTF(2, 3);

static void
step(const struct mklive *m, const char *fmt, ...)
{
	va_list ap;

	if (m->quiet || (!m->verbose && !isatty(STDERR_FILENO)))
		return;
	fprintf(stderr, "liveroot mklive: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* --- small file helpers -------------------------------------------------- */

static int
path_join(char *buf, size_t len, const char *a, const char *b)
{
	int n;

	n = snprintf(buf, len, "%s/%s", a, b);
	if (n < 0 || (size_t)n >= len)
		return (ENAMETOOLONG);
	return (0);
}

static int
mkdir_p(const char *path, struct diag *d)
{
	char buf[PATH_MAX];
	char *p;

	if (strlen(path) >= sizeof(buf))
		return (diag_set(d, ENAMETOOLONG, "%s: path too long", path));
	strcpy(buf, path);
	for (p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST)
				return (diag_set(d, errno, "mkdir %s: %s", buf,
				    strerror(errno)));
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return (0);
}

static int
mkdir_parent(const char *path, struct diag *d)
{
	char buf[PATH_MAX];
	char *s;

	if (strlen(path) >= sizeof(buf))
		return (diag_set(d, ENAMETOOLONG, "%s: path too long", path));
	strcpy(buf, path);
	if ((s = strrchr(buf, '/')) == NULL || s == buf)
		return (0);
	*s = '\0';
	return (mkdir_p(buf, d));
}

static int
write_file(const char *path, const void *buf, size_t len, mode_t mode,
    struct diag *d)
{
	int fd, e;
	const char *p = buf;

	if ((e = mkdir_parent(path, d)) != 0)
		return (e);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return (diag_set(d, errno, "%s: %s", path, strerror(errno)));
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			return (diag_set(d, e, "%s: write: %s", path,
			    strerror(e)));
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) != 0 || close(fd) != 0)
		return (diag_set(d, errno, "%s: %s", path, strerror(errno)));
	return (0);
}

/* Reads a whole (small) file into a NUL-terminated malloc'd buffer. */
static int
read_file(const char *path, char **out, size_t *lenp, struct diag *d)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "%s: %s", path, strerror(errno)));
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		return (diag_set(d, e, "%s: %s", path, strerror(e)));
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return (diag_set(d, ENOMEM, "%s: out of memory", path));
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			free(buf);
			close(fd);
			return (diag_set(d, e, "%s: read: %s", path,
			    strerror(e)));
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (lenp != NULL)
		*lenp = got;
	return (0);
}

/* Copies src (following symlinks) to dst with the given mode. */
static int
copy_file(const char *src, const char *dst, mode_t mode, struct diag *d)
{
	char buf[1 << 16];
	int in, out, e = 0;
	ssize_t n;

	if ((e = mkdir_parent(dst, d)) != 0)
		return (e);
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "%s: %s", src, strerror(errno)));
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		e = errno;
		close(in);
		return (diag_set(d, e, "%s: %s", dst, strerror(e)));
	}
	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = diag_set(d, errno, "%s: read: %s", src,
			    strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (write(out, buf, (size_t)n) != n) {
			e = diag_set(d, errno ? errno : EIO, "%s: write: %s",
			    dst, strerror(errno ? errno : EIO));
			break;
		}
	}
	close(in);
	if (fchmod(out, mode) != 0 && e == 0)
		e = diag_set(d, errno, "%s: chmod: %s", dst, strerror(errno));
	if (close(out) != 0 && e == 0)
		e = diag_set(d, errno, "%s: %s", dst, strerror(errno));
	return (e);
}

/* A hard link where possible, else a copy. */
static int
link_or_copy(const char *src, const char *dst, struct diag *d)
{
	struct stat st;

	(void)unlink(dst);
	if (link(src, dst) == 0)
		return (0);
	if (stat(src, &st) != 0)
		return (diag_set(d, errno, "%s: %s", src, strerror(errno)));
	return (copy_file(src, dst, st.st_mode & 07777, d));
}

/* --- running tools --------------------------------------------------------- */

struct tool {
	const char	*name;
	const char	*package;
};

static int
find_in_path(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	const char *p, *e;

	if (strchr(name, '/') != NULL) {
		if ((size_t)snprintf(buf, len, "%s", name) >= len)
			return (ENAMETOOLONG);
		return (access(name, X_OK) == 0 ? 0 : ENOENT);
	}
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = e + 1) {
		int n;

		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		n = snprintf(buf, len, "%.*s/%s", (int)(e - p), p, name);
		if (n > 0 && (size_t)n < len && access(buf, X_OK) == 0)
			return (0);
		if (*e == '\0')
			break;
	}
	/* sbin is not always in a user's PATH */
	snprintf(buf, len, "/usr/sbin/%s", name);
	if (access(buf, X_OK) == 0)
		return (0);
	snprintf(buf, len, "/sbin/%s", name);
	if (access(buf, X_OK) == 0)
		return (0);
	return (ENOENT);
}

static int
check_tools(const struct tool *t, size_t n, struct diag *d)
{
	char buf[PATH_MAX];
	size_t i;

	for (i = 0; i < n; i++)
		if (find_in_path(t[i].name, buf, sizeof(buf)) != 0)
			return (diag_set(d, ENOENT, "'%s' not found: install "
			    "the Debian package %s (scripts/install-deps.sh "
			    "installs everything)", t[i].name, t[i].package));
	return (0);
}

/*
 * Runs argv; waits.  With cap != NULL, stdout is captured (NUL-terminated,
 * truncated to caplen - 1; stderr too when merge).  Otherwise, when verbose,
 * the tool's output goes to our stderr; when not, it is collected and shown
 * only if the tool fails (xorriso and mke2fs talk even when all is well).
 */
static int
run(const struct mklive *m, char *const argv[], char *cap, size_t caplen,
    int merge, struct diag *d)
{
	char exe[PATH_MAX], quiet[4096];
	int pfd[2] = { -1, -1 };
	pid_t pid;
	int st, piped;
	size_t got = 0;

	if (find_in_path(argv[0], exe, sizeof(exe)) != 0)
		return (diag_set(d, ENOENT, "'%s' not found in PATH",
		    argv[0]));
	if (cap == NULL && !m->verbose) {
		cap = quiet;
		caplen = sizeof(quiet);
		merge = 2;
	}
	piped = cap != NULL;
	if (piped && pipe(pfd) != 0)
		return (diag_set(d, errno, "pipe: %s", strerror(errno)));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		if (piped) {
			close(pfd[0]);
			close(pfd[1]);
		}
		return (diag_set(d, errno, "fork: %s", strerror(errno)));
	}
	if (pid == 0) {
		if (piped) {
			dup2(pfd[1], STDOUT_FILENO);
			if (merge)
				dup2(pfd[1], STDERR_FILENO);
			close(pfd[0]);
			close(pfd[1]);
		} else {
			dup2(STDERR_FILENO, STDOUT_FILENO);
		}
		execv(exe, argv);
		fprintf(stderr, "liveroot mklive: exec %s: %s\n", exe,
		    strerror(errno));
		_exit(127);
	}
	if (piped) {
		close(pfd[1]);
		for (;;) {
			char tmp[4096];
			ssize_t n = read(pfd[0], tmp, sizeof(tmp));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (got + 1 < caplen) {
				size_t k = (size_t)n;

				if (k > caplen - 1 - got)
					k = caplen - 1 - got;
				memcpy(cap + got, tmp, k);
				got += k;
			}
		}
		close(pfd[0]);
		cap[got] = '\0';
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return (diag_set(d, errno, "waitpid: %s",
			    strerror(errno)));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return (0);
	if (merge == 2 && got > 0)
		fputs(cap, stderr);
	if (WIFEXITED(st))
		return (diag_set(d, EIO, "%s failed (exit status %d)%s",
		    argv[0], WEXITSTATUS(st), merge == 2 && got > 0 ?
		    "; its messages are above" : ""));
	return (diag_set(d, EIO, "%s killed by signal %d", argv[0],
	    WTERMSIG(st)));
}

/* --- the tree ---------------------------------------------------------------- */

struct tree_size {
	uint64_t	bytes;		/* data rounded up to 4 KiB blocks */
	uint64_t	inodes;
};

static int
tree_measure(const char *dir, struct tree_size *ts, int depth, struct diag *d)
{
	DIR *dp;
	struct dirent *de;
	struct stat st;
	char p[PATH_MAX];
	int e = 0;

	if (depth > 64)
		return (diag_set(d, ELOOP, "%s: directories nested too deep",
		    dir));
	if ((dp = opendir(dir)) == NULL)
		return (diag_set(d, errno, "%s: %s", dir, strerror(errno)));
	while (e == 0 && (de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (path_join(p, sizeof(p), dir, de->d_name) != 0) {
			e = diag_set(d, ENAMETOOLONG, "%s/%s: path too long",
			    dir, de->d_name);
			break;
		}
		if (lstat(p, &st) != 0) {
			e = diag_set(d, errno, "%s: %s", p, strerror(errno));
			break;
		}
		ts->inodes++;
		if (S_ISDIR(st.st_mode)) {
			ts->bytes += 4096;
			e = tree_measure(p, ts, depth + 1, d);
		} else if (S_ISREG(st.st_mode)) {
			ts->bytes += ((uint64_t)st.st_size + 4095) & ~4095ULL;
		} else if (S_ISLNK(st.st_mode) && st.st_size >= 60) {
			ts->bytes += 4096;
		}
	}
	closedir(dp);
	return (e);
}

/* ext4 journal size as mke2fs picks it for a file system of `blocks` 4K blocks. */
static uint64_t
ext4_journal_bytes(uint64_t blocks)
{
	if (blocks < 32768)
		return (1024 * 4096ULL);
	if (blocks < 256 * 1024)
		return (4096 * 4096ULL);
	if (blocks < 512 * 1024)
		return (8192 * 4096ULL);
	if (blocks < 4096 * 1024)
		return (16384 * 4096ULL);
	return (32768 * 4096ULL);
}

static int
make_ext4(struct mklive *m, const char *img, struct diag *d)
{
	struct tree_size ts = { 0, 1 };
	uint64_t freeb = 0, size, meta;
	char sizek[32];
	int e;

	if ((e = tree_measure(m->tree, &ts, 0, d)) != 0)
		return (e);
	if (m->free_s != NULL) {
		if (cli_parse_size_pct(m->free_s, ts.bytes, &freeb) != 0)
			return (diag_set(d, EINVAL, "--free %s: not a size "
			    "(64M, 1G) or a percentage (25%%)", m->free_s));
	} else {
		freeb = ts.bytes / 4;
		if (freeb < 64ULL << 20)
			freeb = 64ULL << 20;
	}
	/* metadata: inode tables (256 B an inode, 4 KiB ratio on small
	 * file systems), bitmaps, group descriptors; then the journal */
	meta = ts.inodes * 256 + ts.bytes / 16 + (4ULL << 20);
	size = ts.bytes + freeb + meta;
	size += (size / 4096) * 64;		/* inode ratio 1 per 16K, 256 B */
	size += ext4_journal_bytes(size / 4096);
	size = (size + (1 << 20) - 1) & ~((uint64_t)(1 << 20) - 1);
	m->ext4_size = size;
	snprintf(sizek, sizeof(sizek), "%juk", (uintmax_t)(size >> 10));
	step(m, "ext4 image of %s: %ju MiB (%ju MiB content, %ju MiB free)",
	    m->tree, (uintmax_t)(size >> 20), (uintmax_t)(ts.bytes >> 20),
	    (uintmax_t)(freeb >> 20));
	(void)unlink(img);
	{
		char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-b",
		    "4096", "-m", "0", "-L", "liveroot", "-E",
		    "root_owner=0:0,lazy_itable_init=0,nodiscard",
		    "-d", (char *)m->tree, (char *)img, sizek, NULL };

		if ((e = run(m, argv, NULL, 0, 0, d)) != 0)
			return (diag_prefix(d, "making the ext4 image of %s: ",
			    m->tree));
	}
	return (0);
}

/* --- rootfs.uzip ------------------------------------------------------------- */

static int
make_uzip(struct mklive *m, const char *in, const char *out, struct diag *d)
{
	struct stat st;
	int e;

	step(m, "compressing %s -> %s (%s, %u-byte clusters)", in, out,
	    m->codec, m->blksz);
	{
		struct uzip_write_opts o;
		struct uzip_write_stats s;
		struct cli_progress p;

		memset(&o, 0, sizeof(o));
		memset(&s, 0, sizeof(s));
		if (strcmp(m->codec, "zlib") == 0)
			o.codec = UZIP_CODEC_ZLIB;
		else if (strcmp(m->codec, "lzma") == 0)
			o.codec = UZIP_CODEC_LZMA;
		else
			o.codec = UZIP_CODEC_ZSTD;
		o.level = -1;
		o.blksz = m->blksz;
		o.jobs = 0;
		cli_progress_start(&p, "liveroot mklive: rootfs.uzip", 0);
		o.progress = cli_progress_cb;
		o.arg = &p;
		e = uzip_write(in, out, &o, &s, d);
		cli_progress_done(&p);
		if (e != 0)
			return (diag_prefix(d, "making %s: ", out));
	}
	if (stat(out, &st) != 0)
		return (diag_set(d, errno, "%s: %s", out, strerror(errno)));
	m->uzip_size = (uint64_t)st.st_size;
	return (0);
}

/* --- the cpio newc writer ------------------------------------------------------ */

struct cpio {
	unsigned char	*buf;
	size_t		 len;
	size_t		 cap;
	uint32_t	 ino;
};

static int
cpio_put(struct cpio *c, const void *p, size_t n)
{
	if (c->len + n + 4 > c->cap) {
		size_t ncap = c->cap ? c->cap : 1 << 20;
		unsigned char *nb;

		while (ncap < c->len + n + 4) {
			if (ncap > SIZE_MAX / 2)
				return (ENOMEM);
			ncap *= 2;
		}
		if ((nb = realloc(c->buf, ncap)) == NULL)
			return (ENOMEM);
		c->buf = nb;
		c->cap = ncap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return (0);
}

static int
cpio_pad4(struct cpio *c)
{
	static const char z[4];

	return (cpio_put(c, z, (4 - (c->len & 3)) & 3));
}

static int
cpio_entry(struct cpio *c, const char *name, uint32_t mode, uint32_t nlink,
    const void *data, size_t size, uint32_t rmajor, uint32_t rminor)
{
	char hdr[111];
	int e;

	if (size > UINT32_MAX)
		return (EFBIG);
	snprintf(hdr, sizeof(hdr),
	    "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
	    ++c->ino, mode, 0u, 0u, nlink, 0u, (uint32_t)size, 0u, 0u, rmajor,
	    rminor, (uint32_t)strlen(name) + 1, 0u);
	if ((e = cpio_put(c, hdr, 110)) != 0 ||
	    (e = cpio_put(c, name, strlen(name) + 1)) != 0 ||
	    (e = cpio_pad4(c)) != 0)
		return (e);
	if (size > 0 && ((e = cpio_put(c, data, size)) != 0 ||
	    (e = cpio_pad4(c)) != 0))
		return (e);
	return (0);
}

static int
cpio_tree(struct cpio *c, const char *root, const char *rel, int depth,
    struct diag *d)
{
	struct dirent **names = NULL;
	char dir[PATH_MAX], p[PATH_MAX], r[PATH_MAX];
	int n, i, e = 0;

	if (depth > 64)
		return (diag_set(d, ELOOP, "%s: nested too deep", rel));
	if (rel[0] == '\0')
		snprintf(dir, sizeof(dir), "%s", root);
	else if (path_join(dir, sizeof(dir), root, rel) != 0)
		return (diag_set(d, ENAMETOOLONG, "%s: path too long", rel));
	if ((n = scandir(dir, &names, NULL, alphasort)) < 0)
		return (diag_set(d, errno, "%s: %s", dir, strerror(errno)));
	for (i = 0; i < n; i++) {
		struct stat st;
		const char *nm = names[i]->d_name;

		if (e != 0 || strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
			continue;
		if (rel[0] == '\0')
			snprintf(r, sizeof(r), "%s", nm);
		else if (path_join(r, sizeof(r), rel, nm) != 0) {
			e = diag_set(d, ENAMETOOLONG, "%s/%s: too long", rel,
			    nm);
			continue;
		}
		if (path_join(p, sizeof(p), root, r) != 0) {
			e = diag_set(d, ENAMETOOLONG, "%s: too long", r);
			continue;
		}
		if (lstat(p, &st) != 0) {
			e = diag_set(d, errno, "%s: %s", p, strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			e = cpio_entry(c, r, (uint32_t)st.st_mode, 2, NULL, 0,
			    0, 0);
			if (e == 0)
				e = cpio_tree(c, root, r, depth + 1, d);
		} else if (S_ISLNK(st.st_mode)) {
			char t[PATH_MAX];
			ssize_t k = readlink(p, t, sizeof(t));

			if (k < 0 || (size_t)k >= sizeof(t))
				e = diag_set(d, EIO, "%s: readlink failed", p);
			else
				e = cpio_entry(c, r, (uint32_t)st.st_mode, 1,
				    t, (size_t)k, 0, 0);
		} else if (S_ISREG(st.st_mode)) {
			char *data = NULL;
			size_t len = 0;

			if ((e = read_file(p, &data, &len, d)) == 0) {
				e = cpio_entry(c, r, (uint32_t)st.st_mode, 1,
				    data, len, 0, 0);
				free(data);
			}
		}
		/* devices, fifos, sockets: the kernel's devtmpfs makes /dev */
		if (e != 0 && d != NULL && d->code == 0)
			diag_set(d, e, "cpio: %s: %s", r, strerror(e));
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return (e);
}

static int
compress_gzip(const unsigned char *in, size_t len, unsigned char **out,
    size_t *olen)
{
	z_stream z;
	size_t cap = len + len / 100 + 1024;
	unsigned char *buf;
	int r;

	if ((buf = malloc(cap)) == NULL)
		return (ENOMEM);
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		free(buf);
		return (ENOMEM);
	}
	z.next_in = (unsigned char *)in;
	z.next_out = buf;
	/* chunked so that sizes above 4 GiB cannot overflow uInt */
	for (;;) {
		size_t inleft = len - (size_t)((const unsigned char *)z.next_in - in);
		size_t outleft = cap - (size_t)(z.next_out - buf);

		z.avail_in = inleft > (1U << 30) ? 1U << 30 : (uInt)inleft;
		z.avail_out = outleft > (1U << 30) ? 1U << 30 : (uInt)outleft;
		r = deflate(&z, inleft > z.avail_in ? Z_NO_FLUSH : Z_FINISH);
		if (r == Z_STREAM_END)
			break;
		if (r != Z_OK && r != Z_BUF_ERROR) {
			deflateEnd(&z);
			free(buf);
			return (EIO);
		}
		if (z.avail_out == 0 && outleft <= (1U << 30)) {
			deflateEnd(&z);
			free(buf);
			return (EFBIG);
		}
	}
	*olen = (size_t)(z.next_out - buf);
	deflateEnd(&z);
	*out = buf;
	return (0);
}

static int
compress_zstd(const unsigned char *in, size_t len, unsigned char **out,
    size_t *olen)
{
	size_t cap = ZSTD_compressBound(len), r;
	unsigned char *buf;
	ZSTD_CCtx *cc;

	if ((buf = malloc(cap)) == NULL)
		return (ENOMEM);
	if ((cc = ZSTD_createCCtx()) == NULL) {
		free(buf);
		return (ENOMEM);
	}
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 12);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	r = ZSTD_compress2(cc, buf, cap, in, len);
	ZSTD_freeCCtx(cc);
	if (ZSTD_isError(r)) {
		free(buf);
		return (EIO);
	}
	*out = buf;
	*olen = r;
	return (0);
}

/* --- modules ----------------------------------------------------------------- */

struct moddep {
	char	*text;		/* modules.dep, split in place */
	char	**lines;	/* "path: dep dep ..." */
	size_t	nlines;
};

static void
modname(const char *path, char *buf, size_t len)
{
	const char *b = path, *s;
	size_t i;

	/* the basename of the first path (a modules.dep key ends at ':') */
	for (s = path; *s != '\0' && *s != ':' && *s != ' '; s++)
		if (*s == '/')
			b = s + 1;
	for (i = 0; i + 1 < len && b[i] != '\0'; i++) {
		if (strncmp(b + i, ".ko", 3) == 0 &&
		    (b[i + 3] == '\0' || b[i + 3] == '.' || b[i + 3] == ':'))
			break;
		buf[i] = b[i] == '-' ? '_' : b[i];
	}
	buf[i] = '\0';
}

static int
moddep_load(struct moddep *md, const char *moddir, struct diag *d)
{
	char p[PATH_MAX];
	size_t len, n = 0, i;
	int e;

	memset(md, 0, sizeof(*md));
	if (path_join(p, sizeof(p), moddir, "modules.dep") != 0)
		return (diag_set(d, ENAMETOOLONG, "%s: too long", moddir));
	if ((e = read_file(p, &md->text, &len, d)) != 0)
		return (diag_prefix(d, "the kernel cache has no modules.dep "
		    "(run scripts/kernel.sh): "));
	for (i = 0; i < len; i++)
		if (md->text[i] == '\n')
			n++;
	if ((md->lines = calloc(n + 1, sizeof(char *))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	for (char *s = md->text, *nl; *s != '\0'; s = nl + 1) {
		nl = strchr(s, '\n');
		if (nl == NULL)
			nl = s + strlen(s) - 1;
		else
			*nl = '\0';
		if (*s != '\0' && md->nlines <= n)
			md->lines[md->nlines++] = s;
		if (nl[1] == '\0' && nl != s + strlen(s))
			break;
	}
	return (0);
}

static const char *
moddep_find(const struct moddep *md, const char *name)
{
	char want[128], have[128];
	size_t i;

	modname(name, want, sizeof(want));
	for (i = 0; i < md->nlines; i++) {
		modname(md->lines[i], have, sizeof(have));
		if (strcmp(want, have) == 0)
			return (md->lines[i]);
	}
	return (NULL);
}

static int
mod_builtin(const struct mklive *m, const char *name)
{
	char p[PATH_MAX], want[128], have[128];
	char *text = NULL, *s, *nl;
	int found = 0;

	if (path_join(p, sizeof(p), m->moddir, "modules.builtin") != 0 ||
	    read_file(p, &text, NULL, NULL) != 0)
		return (0);
	modname(name, want, sizeof(want));
	for (s = text; !found && s != NULL && *s != '\0';
	    s = nl ? nl + 1 : NULL) {
		if ((nl = strchr(s, '\n')) != NULL)
			*nl = '\0';
		modname(s, have, sizeof(have));
		found = strcmp(want, have) == 0;
	}
	free(text);
	return (found);
}

/* Copies one modules.dep relative path into the staging module dir. */
static int
mod_copy(struct mklive *m, const char *rel, struct diag *d)
{
	char src[PATH_MAX], dst[PATH_MAX], sdir[PATH_MAX];
	struct stat st;

	if (path_join(src, sizeof(src), m->moddir, rel) != 0 ||
	    snprintf(sdir, sizeof(sdir), "%s/lib/modules/%s", m->staging,
	    m->kver) >= (int)sizeof(sdir) ||
	    path_join(dst, sizeof(dst), sdir, rel) != 0)
		return (diag_set(d, ENAMETOOLONG, "%s: path too long", rel));
	if (lstat(dst, &st) == 0)
		return (0);
	return (copy_file(src, dst, 0644, d));
}

static int
stage_modules(struct mklive *m, struct diag *d)
{
	struct moddep md;
	char list[8192], sdir[PATH_MAX], p[PATH_MAX], s[PATH_MAX];
	size_t ll = 0;
	int i, e;
	static const char *const meta[] = { "modules.order",
	    "modules.builtin", "modules.builtin.modinfo" };

	if ((e = moddep_load(&md, m->moddir, d)) != 0)
		goto out;
	snprintf(sdir, sizeof(sdir), "%s/lib/modules/%s", m->staging, m->kver);
	if ((e = mkdir_p(sdir, d)) != 0)
		goto out;
	list[0] = '\0';
	for (i = 0; i < m->nmods; i++) {
		char name[128], *sp, *line, *tok, *save = NULL;
		const char *args, *found;

		snprintf(name, sizeof(name), "%s", m->mods[i]);
		if ((sp = strpbrk(name, " \t")) != NULL)
			*sp = '\0';
		args = m->mods[i] + strlen(name);
		while (*args == ' ' || *args == '\t')
			args++;
		if ((found = moddep_find(&md, name)) == NULL) {
			if (mod_builtin(m, name))
				step(m, "module %s is built into %s", name,
				    m->kver);
			else
				step(m, "module %s does not exist in %s: "
				    "skipped", name, m->kver);
			continue;
		}
		if ((line = strdup(found)) == NULL) {
			e = diag_set(d, ENOMEM, "out of memory");
			goto out;
		}
		/* "path: dep dep"; the module itself, then its dependencies */
		for (tok = strtok_r(line, ": ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save))
			if ((e = mod_copy(m, tok, d)) != 0)
				break;
		free(line);
		if (e != 0)
			goto out;
		ll += (size_t)snprintf(list + ll, sizeof(list) - ll, "%s%s%s\n",
		    name, *args ? " " : "", args);
		if (ll >= sizeof(list)) {
			e = diag_set(d, E2BIG, "module list too long");
			goto out;
		}
		m->nloaded++;
	}
	for (i = 0; i < 3; i++) {
		if (path_join(p, sizeof(p), m->moddir, meta[i]) != 0 ||
		    path_join(s, sizeof(s), sdir, meta[i]) != 0)
			continue;
		if (access(p, R_OK) == 0 && (e = copy_file(p, s, 0644, d)) != 0)
			goto out;
	}
	snprintf(p, sizeof(p), "%s/etc/liveroot/modules", m->staging);
	if ((e = write_file(p, list, ll, 0644, d)) != 0)
		goto out;
	{
		char *argv[] = { "depmod", "-b", m->staging, m->kver, NULL };

		if ((e = run(m, argv, NULL, 0, 0, d)) != 0)
			diag_prefix(d, "depmod for the initramfs: ");
	}
out:
	free(md.lines);
	free(md.text);
	return (e);
}

/* --- the initramfs ------------------------------------------------------------ */

/* Copies a dynamic executable's libraries (and loader) named by ldd. */
static int
stage_libs(struct mklive *m, const char *exe, struct diag *d)
{
	char *out, *line, *save = NULL;
	char dst[PATH_MAX];
	int e;
	char *argv[] = { "ldd", (char *)exe, NULL };

	if ((out = malloc(1 << 16)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	e = run(m, argv, out, 1 << 16, 1, d);
	if (e != 0) {
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
		char *path, *sp;

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
		e = copy_file(path, dst, 0755, d);
	}
	free(out);
	return (e);
}

static int
stage_busybox(struct mklive *m, struct diag *d)
{
	char *list, *line, *save = NULL, p[PATH_MAX];
	int e;
	char *argv[] = { (char *)m->busybox, "--list-full", NULL };

	snprintf(p, sizeof(p), "%s/bin/busybox", m->staging);
	if ((e = copy_file(m->busybox, p, 0755, d)) != 0)
		return (diag_prefix(d, "busybox (Debian package "
		    "busybox-static): "));
	if ((list = malloc(1 << 16)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if ((e = run(m, argv, list, 1 << 16, 0, d)) != 0) {
		free(list);
		return (diag_prefix(d, "%s --list-full: ", m->busybox));
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
		if ((e = mkdir_parent(p, d)) != 0)
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
stage_ca(struct mklive *m, struct diag *d)
{
	const char *src = m->ca != NULL ? m->ca : MKLIVE_CA;
	char p[PATH_MAX], *text;
	size_t len;
	int e;

	if (m->ca == NULL && access(src, R_OK) != 0) {
		fprintf(stderr, "liveroot mklive: no %s (Debian package "
		    "ca-certificates): https:// URLs will not verify at boot; "
		    "install it or give --ca FILE\n", src);
		return (0);
	}
	if ((e = read_file(src, &text, &len, d)) != 0)
		return (diag_prefix(d, "--ca: "));
	if (strstr(text, "-----BEGIN CERTIFICATE-----") == NULL) {
		free(text);
		return (diag_set(d, EINVAL, "%s holds no PEM certificate "
		    "(-----BEGIN CERTIFICATE-----): give a CA bundle with --ca "
		    "FILE", src));
	}
	snprintf(p, sizeof(p), "%s%s", m->staging, FETCH_CA_PATH);
	e = write_file(p, text, len, 0644, d);
	free(text);
	if (e == 0)
		step(m, "initramfs: CA bundle %s as %s", src, FETCH_CA_PATH);
	return (e);
}

static int
make_initramfs(struct mklive *m, const char *out, struct diag *d)
{
	static const char *const dirs[] = { "dev", "proc", "sys", "run",
	    "tmp", "mnt", "newroot", "etc/liveroot", "usr/share/udhcpc",
	    "lib/firmware", "var" };
	struct cpio c = { NULL, 0, 0, 0 };
	unsigned char *z = NULL;
	size_t zlen = 0;
	char p[PATH_MAX], tmp[PATH_MAX + 8];
	size_t i;
	int e;

	snprintf(m->staging, sizeof(m->staging), "%s/.initramfs.XXXXXX",
	    m->out);
	if (mkdtemp(m->staging) == NULL) {
		m->staging[0] = '\0';
		return (diag_set(d, errno, "mkdtemp in %s: %s", m->out,
		    strerror(errno)));
	}
	step(m, "initramfs: staging in %s", m->staging);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", m->staging, dirs[i]);
		if ((e = mkdir_p(p, d)) != 0)
			return (e);
	}
	snprintf(p, sizeof(p), "%s/init", m->staging);
	if ((e = copy_file(m->init, p, 0755, d)) != 0)
		return (diag_prefix(d, "the /init binary (build liveroot-init "
		    "or give --init): "));
	if ((e = stage_libs(m, m->init, d)) != 0)
		return (e);
	if ((e = stage_busybox(m, d)) != 0)
		return (e);
	snprintf(p, sizeof(p), "%s/usr/share/udhcpc/default.script",
	    m->staging);
	if ((e = write_file(p, mklive_udhcpc_script,
	    sizeof(mklive_udhcpc_script) - 1, 0755, d)) != 0)
		return (e);
	snprintf(p, sizeof(p), "%s/etc/liveroot/version", m->staging);
	if ((e = write_file(p, "liveroot " LIVEROOT_VERSION "\n",
	    strlen("liveroot " LIVEROOT_VERSION "\n"), 0644, d)) != 0)
		return (e);
	if ((e = stage_ca(m, d)) != 0)
		return (e);
	step(m, "initramfs: modules of %s", m->kver);
	if ((e = stage_modules(m, d)) != 0)
		return (e);
	for (i = 0; i < (size_t)m->nextra; i++) {
		char src[PATH_MAX + 2];
		char *argv[] = { "cp", "-a", src, m->staging, NULL };

		step(m, "initramfs: adding %s", m->extra[i]);
		snprintf(src, sizeof(src), "%s/.", m->extra[i]);
		if ((e = run(m, argv, NULL, 0, 0, d)) != 0)
			return (diag_prefix(d, "--extra-initramfs %s: ",
			    m->extra[i]));
	}
	/* /dev/console (c 5 1) so the kernel gives /init its console; made
	 * in the archive, no mknod (and no root) needed */
	if ((e = cpio_tree(&c, m->staging, "", 0, d)) != 0 ||
	    (e = cpio_entry(&c, "dev/console", S_IFCHR | 0600, 1, NULL, 0,
	    5, 1)) != 0 ||
	    (e = cpio_entry(&c, "TRAILER!!!", 0, 1, NULL, 0, 0, 0)) != 0) {
		free(c.buf);
		return (d != NULL && d->code ? e :
		    diag_set(d, e, "initramfs cpio: %s", strerror(e)));
	}
	if (strcmp(m->compress, "zstd") == 0)
		e = compress_zstd(c.buf, c.len, &z, &zlen);
	else if (strcmp(m->compress, "gzip") == 0)
		e = compress_gzip(c.buf, c.len, &z, &zlen);
	else {
		z = c.buf;
		zlen = c.len;
		c.buf = NULL;
	}
	step(m, "initramfs: %zu KiB cpio, %zu KiB %s", c.len >> 10,
	    zlen >> 10, m->compress);
	free(c.buf);
	if (e != 0)
		return (diag_set(d, e, "compressing the initramfs (%s): %s",
		    m->compress, strerror(e)));
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	e = write_file(tmp, z, zlen, 0644, d);
	free(z);
	if (e == 0 && rename(tmp, out) != 0)
		e = diag_set(d, errno, "rename %s: %s", tmp, strerror(errno));
	if (e != 0)
		(void)unlink(tmp);
	m->initramfs_size = zlen;
	return (e);
}

static void
remove_tree(struct mklive *m, const char *path)
{
	char *argv[] = { "rm", "-rf", (char *)path, NULL };

	if (path[0] != '\0')
		(void)run(m, argv, NULL, 0, 0, NULL);
}

/* --- ISO and netboot ---------------------------------------------------------- */

static int
make_iso(struct mklive *m, const char *uzip, const char *initramfs,
    const char *iso, struct diag *d)
{
	char g1[PATH_MAX + 16], g2[PATH_MAX + 16], g3[PATH_MAX + 24];
	char tmp[PATH_MAX + 8];
	int e;

	snprintf(tmp, sizeof(tmp), "%s.tmp", iso);
	snprintf(g1, sizeof(g1), "/rootfs.uzip=%s", uzip);
	snprintf(g2, sizeof(g2), "/boot/vmlinuz=%s", m->vmlinuz);
	snprintf(g3, sizeof(g3), "/boot/initramfs.img=%s", initramfs);
	step(m, "ISO %s, label %s", iso, m->label);
	(void)unlink(tmp);
	{
		char *argv[] = { "xorriso", "-as", "mkisofs", "-quiet", "-R",
		    "-J", "-V", (char *)m->label, "-o", tmp, "-graft-points",
		    g1, g2, g3, NULL };

		if ((e = run(m, argv, NULL, 0, 0, d)) != 0) {
			(void)unlink(tmp);
			return (diag_prefix(d, "making %s: ", iso));
		}
	}
	if (rename(tmp, iso) != 0)
		return (diag_set(d, errno, "rename %s: %s", tmp,
		    strerror(errno)));
	return (0);
}

static int
make_netboot(struct mklive *m, const char *uzip, const char *initramfs,
    struct diag *d)
{
	char dir[PATH_MAX], p[PATH_MAX + 32], out[256], ipxe[2048];
	int e, n;
	char *argv[] = { "sha256sum", (char *)uzip, NULL };

	snprintf(dir, sizeof(dir), "%s/netboot", m->out);
	step(m, "netboot directory %s", dir);
	if ((e = mkdir_p(dir, d)) != 0)
		return (e);
	if ((e = run(m, argv, out, sizeof(out), 0, d)) != 0)
		return (diag_prefix(d, "sha256 of %s: ", uzip));
	if (strspn(out, "0123456789abcdef") != 64)
		return (diag_set(d, EIO, "sha256sum printed no hash for %s",
		    uzip));
	memcpy(m->sha256, out, 64);
	m->sha256[64] = '\0';
	snprintf(p, sizeof(p), "%s/rootfs.uzip", dir);
	if ((e = link_or_copy(uzip, p, d)) != 0)
		return (e);
	snprintf(p, sizeof(p), "%s/initramfs.img", dir);
	if ((e = link_or_copy(initramfs, p, d)) != 0)
		return (e);
	snprintf(p, sizeof(p), "%s/vmlinuz", dir);
	if ((e = link_or_copy(m->vmlinuz, p, d)) != 0)
		return (e);
	if (access(m->vmlinux, R_OK) == 0) {
		snprintf(p, sizeof(p), "%s/vmlinux", dir);
		if ((e = link_or_copy(m->vmlinux, p, d)) != 0)
			return (e);
	}
	snprintf(p, sizeof(p), "%s/rootfs.uzip.sha256", dir);
	n = snprintf(ipxe, sizeof(ipxe), "%s  rootfs.uzip\n", m->sha256);
	if ((e = write_file(p, ipxe, (size_t)n, 0644, d)) != 0)
		return (e);
	n = snprintf(ipxe, sizeof(ipxe),
	    "#!ipxe\n"
	    "# liveroot netboot: kernel and initramfs over HTTP, the root\n"
	    "# image fetched by liveroot-init into RAM and checked.\n"
	    "dhcp\n"
	    "kernel %s/vmlinuz console=ttyS0 live.probe=net "
	    "live.url=%s/rootfs.uzip live.sha256=%s%s%s\n"
	    "initrd %s/initramfs.img\n"
	    "boot\n",
	    m->net_base, m->net_base, m->sha256, m->cmdline ? " " : "",
	    m->cmdline ? m->cmdline : "", m->net_base);
	if (n < 0 || (size_t)n >= sizeof(ipxe))
		return (diag_set(d, E2BIG, "--net-base/--cmdline too long"));
	snprintf(p, sizeof(p), "%s/boot.ipxe", dir);
	return (write_file(p, ipxe, (size_t)n, 0644, d));
}

/* --- setup -------------------------------------------------------------------- */

static int
find_kernel(struct mklive *m, struct diag *d)
{
	char cand[3][PATH_MAX], p[PATH_MAX + 16], *kv = NULL;
	const char *env = getenv("LIVEROOT_CACHE");
	int n = 0, i, e;

	if (m->kdir == NULL) {
		if (env != NULL && *env != '\0')
			snprintf(cand[n++], PATH_MAX, "%s/kernel", env);
		snprintf(cand[n++], PATH_MAX, "cache/kernel");
		if (m->self_dir[0] != '\0')
			snprintf(cand[n++], PATH_MAX, "%s/../../cache/kernel",
			    m->self_dir);
		for (i = 0; i < n; i++) {
			snprintf(p, sizeof(p), "%.4000s/KVER", cand[i]);
			if (access(p, R_OK) == 0) {
				snprintf(m->kdir_buf, sizeof(m->kdir_buf),
				    "%.4000s", cand[i]);
				m->kdir = m->kdir_buf;
				break;
			}
		}
		if (m->kdir == NULL)
			return (diag_set(d, ENOENT, "no kernel cache found "
			    "($LIVEROOT_CACHE/kernel, ./cache/kernel): run "
			    "scripts/kernel.sh or give --kernel-dir"));
	}
	snprintf(p, sizeof(p), "%s/KVER", m->kdir);
	if ((e = read_file(p, &kv, NULL, d)) != 0)
		return (diag_prefix(d, "--kernel-dir %s is not a kernel cache "
		    "of scripts/kernel.sh: ", m->kdir));
	kv[strcspn(kv, " \t\r\n")] = '\0';
	if (kv[0] == '\0' || strlen(kv) >= sizeof(m->kver) ||
	    strchr(kv, '/') != NULL) {
		free(kv);
		return (diag_set(d, EINVAL, "%s: bad kernel version", p));
	}
	strcpy(m->kver, kv);
	free(kv);
	snprintf(m->moddir, sizeof(m->moddir), "%s/root/lib/modules/%s",
	    m->kdir, m->kver);
	snprintf(m->vmlinuz, sizeof(m->vmlinuz), "%s/vmlinuz", m->kdir);
	snprintf(m->vmlinux, sizeof(m->vmlinux), "%s/vmlinux", m->kdir);
	if (access(m->moddir, R_OK) != 0 || access(m->vmlinuz, R_OK) != 0)
		return (diag_set(d, ENOENT, "%s: kernel cache incomplete (no "
		    "modules or vmlinuz): run scripts/kernel.sh again",
		    m->kdir));
	return (0);
}

static int
add_modules(struct mklive *m, const char *list)
{
	char *copy, *tok, *save = NULL;

	if ((copy = strdup(list)) == NULL)
		return (ENOMEM);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		if (m->nmods >= MKLIVE_MAXMOD) {
			free(copy);
			return (E2BIG);
		}
		if ((m->mods[m->nmods++] = strdup(tok)) == NULL) {
			free(copy);
			return (ENOMEM);
		}
	}
	free(copy);
	return (0);
}

static void
print_result(const struct mklive *m, const char *uzip, const char *iso,
    const char *initramfs)
{
	if (m->json) {
		printf("{\"kernel_version\":");
		cli_json_str(stdout, m->kver);
		printf(",\"initramfs\":");
		cli_json_str(stdout, initramfs);
		printf(",\"initramfs_bytes\":%ju", (uintmax_t)m->initramfs_size);
		printf(",\"modules\":%d", m->nloaded);
		if (!m->initramfs_only) {
			printf(",\"rootfs_uzip\":");
			cli_json_str(stdout, uzip);
			printf(",\"rootfs_uzip_bytes\":%ju,\"ext4_bytes\":%ju",
			    (uintmax_t)m->uzip_size, (uintmax_t)m->ext4_size);
			printf(",\"sha256\":\"%s\",\"iso\":", m->sha256);
			cli_json_str(stdout, iso);
			printf(",\"label\":");
			cli_json_str(stdout, m->label);
			printf(",\"netboot\":\"%s/netboot\"", m->out);
		}
		printf(",\"vmlinuz\":");
		cli_json_str(stdout, m->vmlinuz);
		printf(",\"vmlinux\":");
		cli_json_str(stdout, m->vmlinux);
		printf("}\n");
		return;
	}
	if (m->quiet)
		return;
	printf("kernel      %s\n", m->kver);
	printf("initramfs   %s (%ju KiB, %d boot modules)\n", initramfs,
	    (uintmax_t)(m->initramfs_size >> 10), m->nloaded);
	if (m->initramfs_only)
		return;
	printf("rootfs.uzip %s (%ju KiB from a %ju MiB ext4)\n", uzip,
	    (uintmax_t)(m->uzip_size >> 10), (uintmax_t)(m->ext4_size >> 20));
	printf("iso         %s (label %s)\n", iso, m->label);
	printf("netboot     %s/netboot (boot.ipxe, sha256 %s)\n", m->out,
	    m->sha256);
}

int
verb_mklive(int argc, char **argv)
{
	enum { O_FREE = 256, O_KDIR, O_INIT, O_BB, O_MODS, O_ADDMODS,
	    O_EXTRA, O_COMPRESS, O_NETBASE, O_CMDLINE, O_IONLY, O_KEEP,
	    O_JSON, O_CA };
	static const struct option lo[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "label", required_argument, NULL, 'L' },
		{ "free", required_argument, NULL, O_FREE },
		{ "codec", required_argument, NULL, 'A' },
		{ "cluster-size", required_argument, NULL, 's' },
		{ "kernel-dir", required_argument, NULL, O_KDIR },
		{ "init", required_argument, NULL, O_INIT },
		{ "busybox", required_argument, NULL, O_BB },
		{ "modules", required_argument, NULL, O_MODS },
		{ "add-modules", required_argument, NULL, O_ADDMODS },
		{ "extra-initramfs", required_argument, NULL, O_EXTRA },
		{ "compress", required_argument, NULL, O_COMPRESS },
		{ "net-base", required_argument, NULL, O_NETBASE },
		{ "cmdline", required_argument, NULL, O_CMDLINE },
		{ "ca", required_argument, NULL, O_CA },
		{ "initramfs-only", no_argument, NULL, O_IONLY },
		{ "keep-ext4", no_argument, NULL, O_KEEP },
		{ "json", no_argument, NULL, O_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct tool tools[] = {
		{ "mke2fs", "e2fsprogs" }, { "xorriso", "xorriso" },
		{ "depmod", "kmod" }, { "ldd", "libc-bin" },
		{ "sha256sum", "coreutils" }, { "cp", "coreutils" },
	};
	struct mklive m;
	struct diag d;
	char ext4[PATH_MAX], uzip[PATH_MAX], iso[PATH_MAX], ird[PATH_MAX];
	const char *addmods[MKLIVE_MAXEXTRA];
	int naddmods = 0, usermods = 0, c, e = 0, i, rc = CLI_ERROR;
	ssize_t n;
	unsigned long ul;
	char *end;

	memset(&m, 0, sizeof(m));
	diag_clear(&d);
	m.out = "live";
	m.label = "LIVEROOT";
	m.codec = "zstd";
	m.blksz = 65536;
	m.busybox = "/bin/busybox";
	m.compress = "zstd";
	m.net_base = "http://10.0.2.100";
	if (cli_wants_help(argc, argv))
		return (cli_usage(mklive_usage, 0));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:L:A:s:vqh", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			m.out = optarg;
			break;
		case 'L':
			m.label = optarg;
			break;
		case O_FREE:
			m.free_s = optarg;
			break;
		case 'A':
			m.codec = optarg;
			break;
		case 's':
			errno = 0;
			ul = strtoul(optarg, &end, 0);
			if (errno != 0 || *end != '\0' || ul < 512 ||
			    ul > (1UL << 20) || ul % 512 != 0) {
				cli_err("--cluster-size %s: a multiple of 512 "
				    "up to 1048576", optarg);
				return (CLI_ERROR);
			}
			m.blksz = (uint32_t)ul;
			break;
		case O_KDIR:
			m.kdir = optarg;
			break;
		case O_INIT:
			m.init = optarg;
			break;
		case O_BB:
			m.busybox = optarg;
			break;
		case O_MODS:
			usermods = 1;
			if (add_modules(&m, optarg) != 0) {
				cli_err("--modules: too many modules (at most "
				    "%d)", MKLIVE_MAXMOD);
				return (CLI_ERROR);
			}
			break;
		case O_ADDMODS:
			if (naddmods >= MKLIVE_MAXEXTRA) {
				cli_err("--add-modules given too often");
				return (CLI_ERROR);
			}
			addmods[naddmods++] = optarg;
			break;
		case O_EXTRA:
			if (m.nextra >= MKLIVE_MAXEXTRA) {
				cli_err("--extra-initramfs: at most %d "
				    "directories", MKLIVE_MAXEXTRA);
				return (CLI_ERROR);
			}
			m.extra[m.nextra++] = optarg;
			break;
		case O_COMPRESS:
			m.compress = optarg;
			break;
		case O_NETBASE:
			m.net_base = optarg;
			break;
		case O_CMDLINE:
			m.cmdline = optarg;
			break;
		case O_CA:
			m.ca = optarg;
			break;
		case O_IONLY:
			m.initramfs_only = 1;
			break;
		case O_KEEP:
			m.keep_ext4 = 1;
			break;
		case O_JSON:
			m.json = 1;
			break;
		case 'v':
			m.verbose = 1;
			break;
		case 'q':
			m.quiet = 1;
			break;
		default:
			return (cli_opt_error(c, argc, argv));
		}
	}
	if (!m.initramfs_only) {
		if (optind != argc - 1) {
			cli_err(optind >= argc ? "no TREE given" :
			    "one TREE only");
			return (cli_usage(mklive_usage, 1));
		}
		m.tree = argv[optind];
	} else if (optind != argc) {
		cli_err("--initramfs-only takes no TREE");
		return (cli_usage(mklive_usage, 1));
	}
	if (strcmp(m.codec, "zstd") != 0 && strcmp(m.codec, "zlib") != 0 &&
	    strcmp(m.codec, "lzma") != 0) {
		cli_err("--codec %s: one of zstd, zlib, lzma", m.codec);
		return (CLI_ERROR);
	}
	if (strcmp(m.compress, "zstd") != 0 &&
	    strcmp(m.compress, "gzip") != 0 &&
	    strcmp(m.compress, "none") != 0) {
		cli_err("--compress %s: one of zstd, gzip, none", m.compress);
		return (CLI_ERROR);
	}
	if (strlen(m.out) > 900) {
		cli_err("--out %.40s...: path too long (at most 900 bytes)",
		    m.out);
		return (CLI_ERROR);
	}
	if (strlen(m.label) == 0 || strlen(m.label) > 32) {
		cli_err("--label '%s': 1 to 32 characters (ISO 9660 volume id)",
		    m.label);
		return (CLI_ERROR);
	}
	if (!usermods)
		for (i = 0; i < (int)(sizeof(mklive_default_modules) /
		    sizeof(mklive_default_modules[0])); i++)
			(void)add_modules(&m, mklive_default_modules[i]);
	for (i = 0; i < naddmods; i++)
		if (add_modules(&m, addmods[i]) != 0) {
			cli_err("--add-modules: too many modules");
			goto out;
		}
	if (m.ca != NULL && access(m.ca, R_OK) != 0) {
		cli_err("--ca %s: %s: give a readable CA bundle (PEM)", m.ca,
		    strerror(errno));
		goto out;
	}
	for (i = 0; i < m.nextra; i++) {
		struct stat st;

		if (stat(m.extra[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
			cli_err("--extra-initramfs %s: not a directory",
			    m.extra[i]);
			goto out;
		}
	}
	if (m.tree != NULL) {
		struct stat st;

		if (stat(m.tree, &st) != 0 || !S_ISDIR(st.st_mode)) {
			cli_err("%s: not a directory (the root tree to make "
			    "the live system of)", m.tree);
			goto out;
		}
	}
	n = readlink("/proc/self/exe", m.self_dir, sizeof(m.self_dir) - 1);
	if (n > 0) {
		m.self_dir[n] = '\0';
		if ((end = strrchr(m.self_dir, '/')) != NULL)
			*end = '\0';
	} else
		m.self_dir[0] = '\0';
	if (m.init == NULL) {
		static char initp[PATH_MAX + 16];

		snprintf(initp, sizeof(initp), "%s/liveroot-init", m.self_dir);
		m.init = initp;
	}
	if (access(m.init, R_OK) != 0) {
		cli_err("%s: %s: build liveroot-init (ninja) or name the /init "
		    "binary with --init", m.init, strerror(errno));
		goto out;
	}
	if (access(m.busybox, X_OK) != 0) {
		cli_err("%s: %s: install the Debian package busybox-static or "
		    "give --busybox", m.busybox, strerror(errno));
		goto out;
	}
	if ((e = check_tools(tools, sizeof(tools) / sizeof(tools[0]),
	    &d)) != 0 || (e = find_kernel(&m, &d)) != 0) {
		rc = cli_diag(&d, e);
		goto out;
	}
	if ((e = mkdir_p(m.out, &d)) != 0) {
		rc = cli_diag(&d, e);
		goto out;
	}
	snprintf(ext4, sizeof(ext4), "%s/rootfs.ext4", m.out);
	snprintf(uzip, sizeof(uzip), "%s/rootfs.uzip", m.out);
	snprintf(iso, sizeof(iso), "%s/live.iso", m.out);
	snprintf(ird, sizeof(ird), "%s/initramfs.img", m.out);

	e = make_initramfs(&m, ird, &d);
	remove_tree(&m, m.staging);
	if (e != 0) {
		rc = cli_diag(&d, e);
		goto out;
	}
	if (!m.initramfs_only) {
		if ((e = make_ext4(&m, ext4, &d)) != 0 ||
		    (e = make_uzip(&m, ext4, uzip, &d)) != 0 ||
		    (e = make_iso(&m, uzip, ird, iso, &d)) != 0 ||
		    (e = make_netboot(&m, uzip, ird, &d)) != 0) {
			rc = cli_diag(&d, e);
			(void)unlink(uzip);
			(void)unlink(iso);
			if (!m.keep_ext4)
				(void)unlink(ext4);
			goto out;
		}
		if (!m.keep_ext4)
			(void)unlink(ext4);
	}
	print_result(&m, uzip, iso, ird);
	rc = CLI_OK;
out:
	for (i = 0; i < m.nmods; i++)
		free(m.mods[i]);
	return (rc);
}
