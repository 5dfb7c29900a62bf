/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ops.c - the FreeBSD operations of the plan's executor (struct fbsd_ops,
 * include/liveroot/plan_freebsd_steps.h): what differs from the recording
 * operations the tests run on Linux.  FreeBSD only; the suite 'freebsd'
 * compiles it against a FreeBSD 14 tree's headers.
 *
 * Kernel interfaces where the base system has one:
 *   kldload      kldfind(2)/modfind(2), then kldload(2); EEXIST is fine
 *                (kldload -n: already loaded or compiled in)
 *   devices      open(2) + DIOCGMEDIASIZE (what diskinfo(8) prints third)
 *   md(4)        MDIOCATTACH / MDIOCDETACH on /dev/mdctl, the options
 *                mdconfig(8) sets by default (MD_CLUSTER | MD_COMPRESS),
 *                the unit fixed (no MD_AUTOUNIT)
 *   mount        nmount(2) with named options ("ro", "size=N"), the
 *                kernel's errmsg on the console; unmount(2)
 *   kenv         kenv(2) KENV_SET
 *   reroot/halt  reboot(2) with RB_REROOT / RB_HALT
 *   kern.disks   sysctlbyname(3)
 * and base tools with a fixed argv (fork + execv, no shell, stdout and
 * stderr on the console, the exit status checked) where the logic lives in
 * the tool: the GEOM verbs (geom rowr, gnop, gconcat, gunion: geom(8)
 * and its class libraries), mount_cd9660 (it finds the last session),
 * fetch(1) (HTTP/HTTPS/FTP of the base system) and gpart show.
 *
 * Copies into an md write whole 1 MiB blocks, the last one padded with
 * zeros (a disk device takes whole sectors; dd conv=osync in the script).
 * Errors are positive errnos; a message the caller cannot derive from the
 * errno (the kernel's nmount errmsg, a tool that could not start) goes to
 * the console here.  Single-threaded, as init_script is.
 */
#include <sys/param.h>
#include <sys/disk.h>
#include <sys/ioctl.h>
#include <sys/kenv.h>
#include <sys/linker.h>
#include <sys/mdioctl.h>
#include <sys/module.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysctl.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <kenv.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/os.h>
#include <liveroot/plan_freebsd_steps.h>

#include "fbsd.h"

#define BLK	(1024 * 1024)

static void
say(const char *what, const char *detail)
{
	fprintf(stderr, "liveroot: %s: %s\n", what, detail);
}

static int
f_kldload(void *arg, const char *module, int quiet)
{
	int e;

	(void)arg;
	if (kldfind(module) >= 0 || modfind(module) >= 0)
		return (0);
	if (kldload(module) >= 0 || errno == EEXIST)
		return (0);
	e = errno;
	if (!quiet)
		say(module, strerror(e));
	return (e);
}

static int
f_dev_size(void *arg, const char *dev, uint64_t *bytes)
{
	off_t size;
	int fd, e = 0;

	(void)arg;
	if ((fd = open(dev, O_RDONLY | O_CLOEXEC)) < 0)
		return (errno);
	if (ioctl(fd, DIOCGMEDIASIZE, &size) < 0)
		e = errno;
	else
		*bytes = (uint64_t)size;
	close(fd);
	return (e);
}

static int
f_dev_present(void *arg, const char *dev)
{
	uint64_t size;

	return (f_dev_size(arg, dev, &size));
}

static int
f_file_size(void *arg, const char *path, uint64_t *bytes)
{
	struct stat sb;

	(void)arg;
	if (stat(path, &sb) < 0)
		return (errno);
	*bytes = (uint64_t)sb.st_size;
	return (0);
}

static int
f_mkdir_p(void *arg, const char *path)
{
	struct diag d;

	(void)arg;
	return (os_mkdir_p(path, 0755, &d));
}

/* One nmount(2) name/value pair; value NULL: a flag ("ro"). */
static void
iov_add(struct iovec *iov, int *n, const char *name, const char *value)
{
	iov[*n].iov_base = __DECONST(char *, name);
	iov[*n].iov_len = strlen(name) + 1;
	(*n)++;
	iov[*n].iov_base = __DECONST(char *, value);
	iov[*n].iov_len = value != NULL ? strlen(value) + 1 : 0;
	(*n)++;
}

static int
f_mount(void *arg, const char *fstype, const char *from, const char *on,
    const char *options)
{
	struct iovec iov[32];
	char opts[256], errmsg[256], *o, *save, *eq;
	int n = 0, e;

	(void)arg;
	iov_add(iov, &n, "fstype", fstype);
	iov_add(iov, &n, "fspath", on);
	iov_add(iov, &n, "from", from);
	snprintf(opts, sizeof(opts), "%s", options != NULL ? options : "");
	for (o = strtok_r(opts, ",", &save); o != NULL && n < 26;
	    o = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(o, '=')) != NULL)
			*eq++ = '\0';
		iov_add(iov, &n, o, eq);
	}
	errmsg[0] = '\0';
	iov[n].iov_base = __DECONST(char *, "errmsg");
	iov[n].iov_len = sizeof("errmsg");
	iov[n + 1].iov_base = errmsg;
	iov[n + 1].iov_len = sizeof(errmsg);
	n += 2;
	if (nmount(iov, (unsigned)n, 0) == 0)
		return (0);
	e = errno;
	if (errmsg[0] != '\0')
		say(on, errmsg);
	return (e);
}

static int
f_unmount(void *arg, const char *on)
{
	(void)arg;
	return (unmount(on, 0) == 0 ? 0 : errno);
}

/* fork + execv of a fixed argv; *outfd: the child's stdout (a pipe). */
static int
spawn(const char *const *argv, int *outfd, pid_t *pidp)
{
	int pfd[2] = { -1, -1 }, efd[2], e = 0;
	ssize_t k;
	pid_t pid;

	if (pipe2(efd, O_CLOEXEC) < 0)
		return (errno);
	if (outfd != NULL && pipe2(pfd, O_CLOEXEC) < 0) {
		e = errno;
		close(efd[0]);
		close(efd[1]);
		return (e);
	}
	if ((pid = fork()) < 0) {
		e = errno;
	} else if (pid == 0) {
		if (outfd != NULL)
			dup2(pfd[1], STDOUT_FILENO);
		execv(argv[0], __DECONST(char *const *, argv));
		e = errno;
		(void)!write(efd[1], &e, sizeof(e));
		_exit(127);
	}
	close(efd[1]);
	if (outfd != NULL)
		close(pfd[1]);
	if (pid > 0) {
		k = read(efd[0], &e, sizeof(e));
		if (k != (ssize_t)sizeof(e))
			e = 0;	/* closed on exec: it runs */
		else
			(void)waitpid(pid, NULL, 0);
	}
	close(efd[0]);
	if (e != 0) {
		say(argv[0], strerror(e));
		if (outfd != NULL)
			close(pfd[0]);
		return (e);
	}
	if (outfd != NULL)
		*outfd = pfd[0];
	*pidp = pid;
	return (0);
}

static int
reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return (128);
	if (WIFEXITED(st))
		return (WEXITSTATUS(st));
	return (128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0));
}

static int
f_exec(void *arg, const char *const *argv, int *status)
{
	pid_t pid;
	int e;

	(void)arg;
	if ((e = spawn(argv, NULL, &pid)) != 0)
		return (e);
	*status = reap(pid);
	return (0);
}

static int
md_ctl(unsigned long req, struct md_ioctl *mdio)
{
	int fd, e = 0;

	if ((fd = open("/dev/" MDCTL_NAME, O_RDWR | O_CLOEXEC)) < 0)
		return (errno);
	if (ioctl(fd, req, mdio) < 0)
		e = errno;
	close(fd);
	return (e);
}

static int
f_md_attach(void *arg, const struct fbsd_md *md, uint64_t bytes)
{
	struct md_ioctl mdio;
	char path[PATH_MAX];

	(void)arg;
	memset(&mdio, 0, sizeof(mdio));
	mdio.md_version = MDIOVERSION;
	mdio.md_unit = (unsigned)md->unit;
	mdio.md_options = MD_CLUSTER | MD_COMPRESS;
	if (md->readonly)
		mdio.md_options |= MD_READONLY;
	if (md->swap) {
		mdio.md_type = MD_SWAP;
		mdio.md_mediasize = (off_t)bytes;
	} else {
		mdio.md_type = MD_VNODE;
		if (realpath(md->file, path) == NULL)
			return (errno);
		mdio.md_file = path;
	}
	return (md_ctl(MDIOCATTACH, &mdio));
}

static int
f_md_detach(void *arg, int unit)
{
	struct md_ioctl mdio;

	(void)arg;
	memset(&mdio, 0, sizeof(mdio));
	mdio.md_version = MDIOVERSION;
	mdio.md_unit = (unsigned)unit;
	return (md_ctl(MDIOCDETACH, &mdio));
}

static int
f_truncate(void *arg, const char *path, uint64_t bytes)
{
	int fd, e = 0;

	(void)arg;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return (errno);
	if (ftruncate(fd, (off_t)bytes) < 0)
		e = errno;
	close(fd);
	return (e);
}

static int
f_fetch_size(void *arg, const char *url, uint64_t *bytes)
{
	const char *argv[] = { "/usr/bin/fetch", "-s", url, NULL };
	char buf[64], *end;
	size_t n = 0;
	ssize_t k;
	pid_t pid;
	int fd, e;

	(void)arg;
	if ((e = spawn(argv, &fd, &pid)) != 0)
		return (e);
	while (n < sizeof(buf) - 1 && (k = read(fd, buf + n,
	    sizeof(buf) - 1 - n)) > 0)
		n += (size_t)k;
	close(fd);
	buf[n] = '\0';
	if (reap(pid) != 0)
		return (EIO);
	errno = 0;
	*bytes = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0')) {
		say(url, "fetch -s gave no size (the server does not say)");
		return (EPROTO);
	}
	return (0);
}

/* Whole 1 MiB blocks from fd into the device dev, the last one padded. */
static int
fill(int in, const char *dev)
{
	char *buf;
	size_t n;
	ssize_t k;
	int out, e = 0, eof = 0;

	if ((out = open(dev, O_WRONLY | O_CLOEXEC)) < 0)
		return (errno);
	if ((buf = malloc(BLK)) == NULL) {
		close(out);
		return (ENOMEM);
	}
	while (!eof && e == 0) {
		for (n = 0; n < BLK; n += (size_t)k) {
			k = read(in, buf + n, BLK - n);
			if (k < 0 && errno == EINTR) {
				k = 0;
				continue;
			}
			if (k < 0)
				e = errno;
			if (k <= 0) {
				eof = 1;
				break;
			}
		}
		if (n == 0 || e != 0)
			break;
		memset(buf + n, 0, BLK - n);
		e = os_write_all(out, buf, BLK);
	}
	free(buf);
	if (close(out) < 0 && e == 0)
		e = errno;
	return (e);
}

static int
f_fetch(void *arg, const char *url, const char *dev)
{
	const char *argv[] = { "/usr/bin/fetch", "-o", "-", url, NULL };
	pid_t pid;
	int fd, e, st;

	(void)arg;
	if ((e = spawn(argv, &fd, &pid)) != 0)
		return (e);
	e = fill(fd, dev);
	close(fd);
	st = reap(pid);
	return (e != 0 ? e : st != 0 ? EIO : 0);
}

static int
f_copy(void *arg, const char *from, const char *dev)
{
	int fd, e;

	(void)arg;
	if ((fd = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return (errno);
	e = fill(fd, dev);
	close(fd);
	return (e);
}

static int
f_sha256(void *arg, const char *dev, uint64_t len, char hex[65])
{
	struct os_sha256 *h;
	uint8_t sum[OS_SHA256_LEN];
	char *buf;
	ssize_t k;
	size_t want;
	int fd, e = 0;

	(void)arg;
	if ((fd = open(dev, O_RDONLY | O_CLOEXEC)) < 0)
		return (errno);
	if ((buf = malloc(BLK)) == NULL || (e = os_sha256_new(&h)) != 0) {
		free(buf);
		close(fd);
		return (ENOMEM);
	}
	while (len > 0 && e == 0) {
		/* whole blocks from the device, hashed up to len */
		if ((k = read(fd, buf, BLK)) <= 0) {
			e = k < 0 ? errno : EIO;
			break;
		}
		want = (uint64_t)k < len ? (size_t)k : (size_t)len;
		e = os_sha256_update(h, buf, want);
		len -= want;
	}
	if (e == 0 && (e = os_sha256_final(h, sum)) == 0)
		os_hex(sum, sizeof(sum), hex);
	os_sha256_free(h);
	free(buf);
	close(fd);
	return (e);
}

static int
f_kenv_set(void *arg, const char *name, const char *value)
{
	(void)arg;
	if (kenv(KENV_SET, name, __DECONST(char *, value),
	    (int)strlen(value) + 1) < 0)
		return (errno);
	return (0);
}

static int
f_reroot(void *arg)
{
	(void)arg;
	return (reboot(RB_REROOT) < 0 ? errno : 0);
}

static int
f_halt(void *arg)
{
	(void)arg;
	sync();
	return (reboot(RB_HALT) < 0 ? errno : 0);
}

static void
f_sleep1(void *arg)
{
	(void)arg;
	sleep(1);
}

static void
f_disks(void *arg, char *buf, size_t len)
{
	size_t n = len - 1;

	(void)arg;
	if (sysctlbyname("kern.disks", buf, &n, NULL, 0) < 0)
		n = 0;
	buf[n < len ? n : len - 1] = '\0';
}

static void
f_console(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
}

void
fbsd_ops_init(struct fbsd_ops *o)
{
	memset(o, 0, sizeof(*o));
	o->kldload = f_kldload;
	o->dev_present = f_dev_present;
	o->dev_size = f_dev_size;
	o->file_size = f_file_size;
	o->mkdir_p = f_mkdir_p;
	o->mount = f_mount;
	o->unmount = f_unmount;
	o->exec = f_exec;
	o->md_attach = f_md_attach;
	o->md_detach = f_md_detach;
	o->truncate = f_truncate;
	o->fetch_size = f_fetch_size;
	o->fetch = f_fetch;
	o->sha256 = f_sha256;
	o->copy = f_copy;
	o->kenv_set = f_kenv_set;
	o->reroot = f_reroot;
	o->halt = f_halt;
	o->sleep1 = f_sleep1;
	o->disks = f_disks;
	o->console = f_console;
	o->arg = NULL;
}
