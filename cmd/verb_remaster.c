/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_remaster.c - `liveroot remaster -o NEW.uzip`: inside a running live
 * system, the root file system as the next root image (issue 11 #6).
 *
 * The root's block device (the device mounted on "/" by
 * /proc/self/mountinfo; on a liveroot system the /dev/nbdN that
 * liveroot-init serves: uzip lower + rowr upper; or --device) is streamed
 * through uzip_write() while the root file system is frozen (FIFREEZE, as
 * fsfreeze(8) does), so that the image is a consistent file system.
 *
 * Order: every refusal comes before the freeze (not root, no such device,
 * an overlayfs root, an output on the root file system, too little free
 * space, stdout/stderr in a file on the root).  uzip_write() creates its
 * temporary output (NEW.uzip.XXXXXX, renamed at the end, removed on any
 * failure) and starts its threads; the freeze happens at the first read of
 * the device and the thaw right after the last one, so the root is frozen
 * only while its bytes are read, not while the tail is compressed and
 * written.
 *
 * The thaw is guaranteed three ways, because a root left frozen hangs the
 * whole machine (every writer, the shell's history, the logger):
 *  1. the normal path: the reader thaws after the last read, and the verb
 *     thaws again (a no-op) when uzip_write() returns, success or error;
 *  2. SIGINT, SIGTERM, SIGHUP, SIGQUIT: the handler thaws, removes the
 *     partial output and re-raises the signal (the process still ends by
 *     it; the guardian then thaws again, a harmless no-op, which also
 *     covers a signal that lands between setting "frozen" and FIFREEZE).
 *     SIGTSTP, SIGTTIN and SIGTTOU are ignored while it runs (a stopped
 *     process must not keep the root frozen), and SIGPIPE (a closed
 *     stderr or a dead guardian is no reason to die frozen);
 *  3. everything else (SIGKILL, a crash, a signal not caught): a guardian
 *     child forked before the freeze, in its own session (a ^C of the
 *     terminal does not reach it) and deaf to the catchable signals,
 *     blocks on a pipe from this process.  When that pipe closes without
 *     the byte "D" (sent only after a successful thaw on the normal
 *     path), this process has died and the guardian thaws the root.
 * "frozen" is one atomic flag exchanged to 0 by whoever thaws, so this
 * process issues one FITHAW for its FIFREEZE.
 *
 * While frozen this process only reads from the root (program pages,
 * the device); it writes to the output (another file system, checked) and
 * to stderr (a terminal or a pipe; a file on the root is refused).
 * --root MOUNTPOINT (not in --help) freezes another mounted file system
 * instead of "/": the integration test remasters a loop-mounted ext4.
 */
#define _GNU_SOURCE		/* O_DIRECT, pipe2 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#include <liveroot/codec.h>
#include <liveroot/fmt_uzip.h>
#include <liveroot/uzip_write.h>

#include "cli.h"
#include "verbs.h"

static const char remaster_usage[] =
"usage: liveroot remaster -o NEW.uzip [-A codec] [-j jobs] [--device DEV]\n"
"                         [--read-ahead SIZE] [-q]\n"
"\n"
"Inside a live system booted by liveroot: save the running root file\n"
"system, with everything written to it in this session, as a new uzip\n"
"root image (boot it as the next rootfs.uzip).  The root is frozen\n"
"(FIFREEZE, as fsfreeze does) while its block device is read, then thawed,\n"
"also on an error or a signal; how long it was frozen is printed.\n"
"\n"
"  -o, --output NEW.uzip  the new image; it must be on another file system\n"
"                         than the root (a USB stick, /run, /tmp if it is a\n"
"                         tmpfs) with room for the root device's size\n"
"  -A, --codec C          zstd (default), zlib, lzma\n"
"  -j, --jobs N           compression threads (default: CPU count)\n"
"  --device DEV           the root's block device (default: the device\n"
"                         mounted on /, e.g. the /dev/nbd0 liveroot serves)\n"
"  --read-ahead SIZE      how far reading may run ahead of the compression\n"
"                         (default: an eighth of the free RAM); the root is\n"
"                         thawed after its last read, so more is shorter\n"
"  -q, --quiet            print nothing but errors\n"
"\n"
"Supported roots: a file system on a block device (liveroot's uzip image\n"
"through its overlay on /dev/nbdN; ext4, xfs, btrfs, f2fs).  An overlayfs\n"
"root (a squashfs or erofs image with a RAM upper) is not supported.\n"
"Exit status: 0 done, 2 error (no partial image is left).\n"
"See liveroot-remaster(8).\n";

struct rm_opts {
	const char	*out;
	const char	*codec;
	const char	*device;
	const char	*root;
	unsigned	 jobs;
	int		 quiet;
	int		 ra_set;	/* --read-ahead given */
	uint64_t	 readahead;
};

/* The freeze state, shared by the reader thread and the signal handlers. */
static atomic_int rm_frozen;		/* 1 between FIFREEZE and FITHAW */
static int rm_rootfd = -1;		/* the frozen file system */
static int rm_guardfd = -1;		/* the guardian's pipe, write end */
static double rm_t_freeze, rm_t_thaw;	/* set outside signal handlers */
static int rm_thaw_error;		/* the reader's FITHAW failed: errno */

static const int rm_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static const int rm_ignsigs[] = { SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE };
#define RM_NSIGS	(sizeof(rm_sigs) / sizeof(rm_sigs[0]))
#define RM_NIGN	(sizeof(rm_ignsigs) / sizeof(rm_ignsigs[0]))
static struct sigaction rm_old[RM_NSIGS], rm_oldign[RM_NIGN];

/* Async-signal-safe: thaws if this process froze it; returns the errno. */
static int
rm_thaw(void)
{
	int error = 0;

	if (atomic_exchange(&rm_frozen, 0) == 1 &&
	    ioctl(rm_rootfd, FITHAW, 0) != 0 && errno != EINVAL)
		error = errno;
	return (error);
}

static void
rm_onsignal(int sig)
{
	size_t i;

	(void)rm_thaw();
	uzip_write_remove_partial();
	for (i = 0; i < RM_NSIGS; i++)
		if (rm_sigs[i] == sig)
			sigaction(sig, &rm_old[i], NULL);
	raise(sig);
}

static void
rm_signals(int on)
{
	struct sigaction sa;
	size_t i;

	if (!on) {
		for (i = 0; i < RM_NSIGS; i++)
			sigaction(rm_sigs[i], &rm_old[i], NULL);
		for (i = 0; i < RM_NIGN; i++)
			sigaction(rm_ignsigs[i], &rm_oldign[i], NULL);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sigfillset(&sa.sa_mask);
	sa.sa_handler = rm_onsignal;
	for (i = 0; i < RM_NSIGS; i++) {
		/* A signal ignored on entry (nohup, &) stays so. */
		sigaction(rm_sigs[i], NULL, &rm_old[i]);
		if (rm_old[i].sa_handler != SIG_IGN)
			sigaction(rm_sigs[i], &sa, NULL);
	}
	sa.sa_handler = SIG_IGN;
	for (i = 0; i < RM_NIGN; i++)
		sigaction(rm_ignsigs[i], &sa, &rm_oldign[i]);
}

/*
 * Forks the guardian (see the top comment).  Returns its pid, or -1 with
 * errno set.  rm_guardfd is the write end kept here.
 */
static pid_t
rm_guardian(void)
{
	int p[2], fd;
	size_t i;
	pid_t pid;
	char c = 0;

	if (pipe2(p, O_CLOEXEC) != 0)
		return (-1);
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return (-1);
	}
	if (pid == 0) {
		close(p[1]);
		(void)setsid();
		for (i = 0; i < RM_NSIGS; i++)
			signal(rm_sigs[i], SIG_IGN);
		for (i = 0; i < RM_NIGN; i++)
			signal(rm_ignsigs[i], SIG_IGN);
		/* Not stdin, stdout, stderr: a reader of our output
		 * (a pipe, $(...)) is not kept waiting by the guardian. */
		for (fd = 0; fd < 3; fd++)
			if (fd != p[0] && fd != rm_rootfd)
				close(fd);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		/* "D": thawed by the verb.  EOF: it died; thaw. */
		if (c != 'D')
			(void)ioctl(rm_rootfd, FITHAW, 0);
		_exit(0);
	}
	close(p[0]);
	rm_guardfd = p[1];
	return (pid);
}

static void
rm_guardian_done(pid_t pid)
{
	if (rm_guardfd >= 0) {
		(void)write(rm_guardfd, "D", 1);
		close(rm_guardfd);
		rm_guardfd = -1;
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

/* --- the root and its device -------------------------------------------- */

struct rm_root {
	char		 mnt[PATH_MAX];	/* realpath of --root */
	char		 fstype[64];
	char		 source[PATH_MAX]; /* mountinfo's source field */
	char		 dev[PATH_MAX];	/* the device read */
	dev_t		 mdev;		/* mountinfo's major:minor */
	dev_t		 st_dev;	/* stat(mnt).st_dev */
	uint64_t	 size;
	int		 devfd;
};

/* mountinfo's octal escapes (\040) decoded in place. */
static void
rm_unescape(char *s)
{
	char *o = s;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
			    (s[3] - '0'));
			s += 4;
		} else
			*o++ = *s++;
	}
	*o = '\0';
}

/*
 * The last mount on r->mnt in /proc/self/mountinfo (the one visible):
 * fills mdev, fstype, source.  Returns 0, ENOENT (not a mount point) or
 * an errno with d set.
 */
static int
rm_mountinfo(struct rm_root *r, struct diag *d)
{
	char *line = NULL, *f[5], *p, *sep, *fs, *src;
	unsigned maj, min;
	size_t cap = 0;
	int found = 0, k;
	FILE *fp;

	if ((fp = fopen("/proc/self/mountinfo", "re")) == NULL)
		return (diag_set(d, errno, "/proc/self/mountinfo: %s (is /proc "
		    "mounted? mount -t proc proc /proc)", strerror(errno)));
	while (getline(&line, &cap, fp) > 0) {
		/* id parent major:minor root mountpoint opts ... - fs src */
		for (k = 0, p = line; k < 5 && p != NULL; k++)
			f[k] = strsep(&p, " ");
		if (k < 5 || p == NULL || (sep = strstr(p, " - ")) == NULL)
			continue;
		rm_unescape(f[4]);
		if (strcmp(f[4], r->mnt) != 0 ||
		    sscanf(f[2], "%u:%u", &maj, &min) != 2)
			continue;
		p = sep + 3;
		fs = strsep(&p, " \n");
		src = p != NULL ? strsep(&p, " \n") : NULL;
		if (fs == NULL)
			continue;
		found = 1;
		r->mdev = makedev(maj, min);
		snprintf(r->fstype, sizeof(r->fstype), "%s", fs);
		r->source[0] = '\0';
		if (src != NULL) {
			rm_unescape(src);
			snprintf(r->source, sizeof(r->source), "%s", src);
		}
	}
	free(line);
	fclose(fp);
	return (found ? 0 : ENOENT);
}

/* The /dev node of block device dv by /sys/dev/block/M:m/uevent. */
static int
rm_devnode(dev_t dv, char *out, size_t outlen)
{
	char path[64], line[256];
	struct stat st;
	FILE *fp;
	int found = 0;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent",
	    major(dv), minor(dv));
	if ((fp = fopen(path, "re")) == NULL)
		return (ENOENT);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "DEVNAME=", 8) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, outlen, "/dev/%s", line + 8);
			found = 1;
		}
	fclose(fp);
	if (!found || stat(out, &st) != 0 || !S_ISBLK(st.st_mode) ||
	    st.st_rdev != dv)
		return (ENOENT);
	return (0);
}

/*
 * Finds the root's mount and device and opens the device (O_RDONLY).
 * Returns 0 or an errno with d naming what and the fix.
 */
static int
rm_find_root(const struct rm_opts *o, struct rm_root *r, struct diag *d)
{
	struct stat st;
	int error;

	memset(r, 0, sizeof(*r));
	r->devfd = -1;
	if (realpath(o->root, r->mnt) == NULL || stat(r->mnt, &st) != 0)
		return (diag_set(d, errno, "%s: %s", o->root,
		    strerror(errno)));
	r->st_dev = st.st_dev;
	if ((error = rm_mountinfo(r, d)) == ENOENT)
		return (diag_set(d, EINVAL, "%s is not a mount point (give "
		    "the mount point of the file system to save)", r->mnt));
	if (error != 0)
		return (error);
	if (strcmp(r->fstype, "overlay") == 0)
		return (diag_set(d, ENOTSUP, "%s is an overlayfs (a squashfs "
		    "or erofs image with a RAM upper), not a file system on a "
		    "block device: remaster does not support it; it supports "
		    "a root on a block device (liveroot's uzip image through "
		    "its overlay on /dev/nbdN; ext4, xfs, btrfs, f2fs)",
		    r->mnt));
	if (o->device != NULL)
		snprintf(r->dev, sizeof(r->dev), "%s", o->device);
	else if (major(r->mdev) == 0 || rm_devnode(r->mdev, r->dev,
	    sizeof(r->dev)) != 0) {
		/* btrfs shows an anonymous 0:N; its source is the device */
		if (r->source[0] != '/' || stat(r->source, &st) != 0 ||
		    !S_ISBLK(st.st_mode))
			return (diag_set(d, ENOTSUP, "%s (%s, source %s) is "
			    "not on a block device that remaster can find: "
			    "name it with --device DEV (supported: a root on "
			    "a block device, e.g. liveroot's /dev/nbdN)",
			    r->mnt, r->fstype, r->source[0] != '\0' ?
			    r->source : "none"));
		snprintf(r->dev, sizeof(r->dev), "%s", r->source);
	}
	if ((r->devfd = open(r->dev, O_RDONLY | O_CLOEXEC)) < 0) {
		error = errno;
		if (error == ENOENT)
			return (diag_set(d, ENOENT, "%s: no such device (the "
			    "root of %s is %s, %s)", r->dev, r->mnt,
			    r->source[0] != '\0' ? r->source : "unnamed",
			    r->fstype));
		return (diag_set(d, error, "%s: cannot open: %s", r->dev,
		    strerror(error)));
	}
	if (fstat(r->devfd, &st) != 0)
		return (diag_set(d, errno, "%s: %s", r->dev, strerror(errno)));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(r->devfd, BLKGETSIZE64, &r->size) != 0)
			return (diag_set(d, errno, "%s: cannot get its "
			    "size: %s", r->dev, strerror(errno)));
	} else if (S_ISREG(st.st_mode))
		r->size = (uint64_t)st.st_size;
	else
		return (diag_set(d, ENOTBLK, "%s: not a block device or an "
		    "image file", r->dev));
	if (r->size == 0)
		return (diag_set(d, EINVAL, "%s: empty (0 bytes)", r->dev));
	return (0);
}

/* The fd's file is a regular file on file system dv (it would block). */
static int
rm_fd_on(int fd, dev_t dv)
{
	struct stat st;

	return (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_dev == dv);
}

/*
 * The file system of ost is a loop device whose backing file is on the
 * root: writing there writes to the root too.  Fills bf with that file.
 */
static int
rm_loop_on_root(const struct stat *ost, dev_t rootdev, char *bf, size_t n)
{
	char path[96];
	struct stat st;
	FILE *fp;
	int r = 0;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/loop/backing_file",
	    major(ost->st_dev), minor(ost->st_dev));
	if ((fp = fopen(path, "re")) == NULL)
		return (0);
	if (fgets(bf, (int)n, fp) != NULL) {
		bf[strcspn(bf, "\n")] = '\0';
		r = stat(bf, &st) == 0 && st.st_dev == rootdev;
	}
	fclose(fp);
	return (r);
}

static const char rm_elsewhere[] = "write it to another file system: a "
    "USB stick (mount it, e.g. on /mnt), /run (a tmpfs, in RAM), or /tmp if "
    "it is a tmpfs";

/*
 * Refusals about the output, before anything is frozen: its directory on
 * the root file system (the write would wait for the thaw that waits for
 * the write), too little free space there; stdout or stderr a file on
 * the root.  need is the bound on the image's size.
 */
static int
rm_check_output(const struct rm_root *r, const char *out, uint64_t need,
    struct diag *d)
{
	char dir[PATH_MAX], bf[PATH_MAX], *sl;
	struct statvfs vs;
	struct stat st;
	uint64_t avail;

	if (snprintf(dir, sizeof(dir), "%s", out) >= (int)sizeof(dir))
		return (diag_set(d, ENAMETOOLONG, "%s: name too long", out));
	if ((sl = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (sl == dir)
		dir[1] = '\0';
	else
		*sl = '\0';
	if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
		return (diag_set(d, EISDIR, "%s is a directory; give the name "
		    "of the new image (e.g. %s/rootfs.uzip)", out, out));
	if (stat(dir, &st) != 0)
		return (diag_set(d, errno, "%s: %s: %s", out, dir,
		    strerror(errno)));
	if (st.st_dev == r->st_dev)
		return (diag_set(d, EXDEV, "%s is on the root file system (%s "
		    "on %s) that remaster freezes: writing there would hang; "
		    "%s", out, r->dev, r->mnt, rm_elsewhere));
	if (rm_loop_on_root(&st, r->st_dev, bf, sizeof(bf)))
		return (diag_set(d, EXDEV, "%s is on a loop device whose file "
		    "%s is on the root file system (%s) that remaster "
		    "freezes: writing there would hang; %s", out, bf, r->mnt,
		    rm_elsewhere));
	if (statvfs(dir, &vs) != 0)
		return (diag_set(d, errno, "%s: %s", dir, strerror(errno)));
	avail = (uint64_t)vs.f_bavail * vs.f_frsize;
	if (avail < need)
		return (diag_set(d, ENOSPC, "%s has %ju bytes free, and the "
		    "image of %s may need up to %ju bytes (its size, should "
		    "nothing compress): free space there or write to a larger "
		    "file system", dir, (uintmax_t)avail, r->dev,
		    (uintmax_t)need));
	if (rm_fd_on(STDOUT_FILENO, r->st_dev) ||
	    rm_fd_on(STDERR_FILENO, r->st_dev))
		return (diag_set(d, EXDEV, "stdout or stderr is a file on the "
		    "root file system (%s), which is frozen while remaster "
		    "runs: redirect it to /run or a terminal", r->mnt));
	return (0);
}

/* --- the stream -------------------------------------------------------- */

#define RM_BLKSZ	65536u		/* cluster size, as commit --to */
#define RM_ALIGN	4096u		/* O_DIRECT: buffer, length unit */

struct rm_stream {
	const struct rm_root	*r;
	int			 dfd;	 /* O_DIRECT fd, or -1 */
	uint8_t			*bounce; /* RM_BLKSZ + RM_ALIGN */
};

static double
rm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

/*
 * Reads len bytes at off through O_DIRECT: the device's own page cache
 * may hold blocks that the file system has since rewritten through its
 * files (data is not written through that cache), so the device is read
 * as it is after the freeze's sync.  Returns 0, EINVAL (O_DIRECT refused:
 * the caller falls back) or an errno with d set.
 */
static int
rm_read_direct(struct rm_stream *s, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	size_t want = (len + RM_ALIGN - 1) / RM_ALIGN * RM_ALIGN, got;
	ssize_t n;

	for (got = 0; got < len; got += (size_t)n) {
		n = pread(s->dfd, s->bounce + got, want - got,
		    (off_t)(off + got));
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0 && errno == EINVAL)
			return (EINVAL);
		if (n <= 0)
			return (diag_set(d, n < 0 ? errno : EIO, "read at "
			    "offset %ju failed: %s", (uintmax_t)(off + got),
			    n < 0 ? strerror(errno) : "the device shrank"));
	}
	memcpy(buf, s->bounce, len);
	return (0);
}

/* The same through the page cache, its stale pages dropped first. */
static int
rm_read_buffered(struct rm_stream *s, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	size_t got;
	ssize_t n;

	(void)posix_fadvise(s->r->devfd, (off_t)off, (off_t)len,
	    POSIX_FADV_DONTNEED);
	for (got = 0; got < len; got += (size_t)n) {
		n = pread(s->r->devfd, (char *)buf + got, len - got,
		    (off_t)(off + got));
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			return (diag_set(d, n < 0 ? errno : EIO, "read at "
			    "offset %ju failed: %s", (uintmax_t)(off + got),
			    n < 0 ? strerror(errno) : "the device shrank"));
	}
	(void)posix_fadvise(s->r->devfd, (off_t)off, (off_t)len,
	    POSIX_FADV_DONTNEED);
	return (0);
}

/*
 * uzip_write's reader (one thread, in order): freezes the root before the
 * first read and thaws it right after the last one.  "frozen" is set
 * before FIFREEZE, so a signal in between thaws too (a FITHAW of a root
 * not yet frozen fails harmlessly; the guardian covers the rest).
 */
static int
rm_read(void *arg, void *buf, size_t len, uint64_t off, struct diag *d)
{
	struct rm_stream *s = arg;
	const struct rm_root *r = s->r;
	int error;

	if (off == 0 && atomic_load(&rm_frozen) == 0) {
		atomic_store(&rm_frozen, 1);
		if (ioctl(rm_rootfd, FIFREEZE, 0) != 0) {
			error = errno;
			atomic_store(&rm_frozen, 0);
			if (error == EBUSY)
				return (diag_set(d, error, "%s is frozen "
				    "already (by fsfreeze?): thaw it first "
				    "('fsfreeze -u %s')", r->mnt, r->mnt));
			return (diag_set(d, error, "cannot freeze %s (%s): %s",
			    r->mnt, r->fstype, strerror(error)));
		}
		rm_t_freeze = rm_now();
	}
	error = EINVAL;
	if (s->dfd >= 0 && len <= RM_BLKSZ &&
	    (error = rm_read_direct(s, buf, len, off, d)) == EINVAL) {
		close(s->dfd);	/* not for this device: buffered */
		s->dfd = -1;
	}
	if (error == EINVAL)
		error = rm_read_buffered(s, buf, len, off, d);
	if (error != 0)
		return (error);
	if (off + len >= r->size) {
		if ((error = rm_thaw()) != 0) {
			rm_thaw_error = error;
			return (diag_set(d, error, "cannot thaw %s: %s (run "
			    "'fsfreeze -u %s')", r->mnt, strerror(error),
			    r->mnt));
		}
		rm_t_thaw = rm_now();
	}
	return (0);
}

static void
rm_progress(uint64_t done, uint64_t total, void *arg)
{
	struct cli_progress *p = arg;

	p->total = total;
	cli_progress_update(p, done);
}

static int
rm_parse(int argc, char **argv, struct rm_opts *o)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "codec", required_argument, NULL, 'A' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "device", required_argument, NULL, 'D' },
		{ "root", required_argument, NULL, 'R' },
		{ "read-ahead", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long n;
	int c;

	memset(o, 0, sizeof(*o));
	o->root = "/";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:A:j:q", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 'A':
			o->codec = optarg;
			break;
		case 'j':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    n < 1 || n > 256) {
				cli_err("-j %s: give a number of threads from "
				    "1 to 256", optarg);
				return (CLI_ERROR);
			}
			o->jobs = (unsigned)n;
			break;
		case 'D':
			o->device = optarg;
			break;
		case 'R':
			o->root = optarg;
			break;
		case 'r':
			if (cli_parse_size(optarg, &o->readahead) != 0) {
				cli_err("--read-ahead %s: give a size (e.g. 64M, "
				    "1G; 0 = a few clusters)", optarg);
				return (CLI_ERROR);
			}
			o->ra_set = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		default:
			return (cli_opt_error(c, argc, argv));
		}
	}
	if (optind < argc) {
		cli_err("unexpected operand '%s'; the image is named with -o "
		    "NEW.uzip ('liveroot remaster --help')", argv[optind]);
		return (CLI_ERROR);
	}
	if (o->out == NULL) {
		cli_err("-o NEW.uzip is needed: the new image, on another file "
		    "system than the root ('liveroot remaster --help')");
		return (CLI_ERROR);
	}
	return (CLI_OK);
}

int
verb_remaster(int argc, char **argv)
{
	const struct lr_codec *codec;
	struct uzip_write_opts uo;
	struct uzip_write_stats st;
	struct cli_progress p;
	struct rm_stream s = { .dfd = -1 };
	struct rm_opts o;
	struct rm_root r;
	struct diag d;
	uint64_t need;
	pid_t guard;
	int error, terr;

	if (cli_wants_help(argc, argv))
		return (cli_usage(remaster_usage, 0));
	if (rm_parse(argc, argv, &o) != CLI_OK)
		return (CLI_ERROR);
	if ((codec = lr_codec_by_name(o.codec != NULL ? o.codec :
	    "zstd")) == NULL) {
		cli_err("-A %s: one of zstd, zlib, lzma", o.codec);
		return (CLI_ERROR);
	}
	if (geteuid() != 0) {
		cli_err("must be run as root: freezing the root file system "
		    "and reading its device need it (run it with sudo, or as "
		    "root)");
		return (CLI_ERROR);
	}
	diag_clear(&d);
	if ((error = rm_find_root(&o, &r, &d)) != 0) {
		if (r.devfd >= 0)
			close(r.devfd);
		return (cli_diag(&d, error));
	}
	memset(&uo, 0, sizeof(uo));
	uo.codec = codec->id;
	uo.level = -1;
	uo.blksz = RM_BLKSZ;
	uo.jobs = o.jobs;
	{
		/* Read ahead of the compressors as far as RAM allows (an
		 * eighth of what is free: each cluster ahead holds its input
		 * and its output), so the root is read, and thawed, long
		 * before the last cluster is compressed. */
		struct sysinfo si;

		if (o.ra_set)
			uo.readahead = o.readahead;
		else if (sysinfo(&si) == 0)
			uo.readahead = LR_MIN(r.size, ((uint64_t)si.freeram +
			    si.bufferram) * si.mem_unit / 8);
	}
	need = r.size + FMT_UZIP_HDRLEN +
	    8 * ((r.size + uo.blksz - 1) / uo.blksz + 1);
	if ((error = rm_check_output(&r, o.out, need, &d)) != 0 ||
	    (rm_rootfd = open(r.mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (error == 0)
			error = diag_set(&d, errno, "%s: %s", r.mnt,
			    strerror(errno));
		close(r.devfd);
		return (cli_diag(&d, error));
	}
	if (!o.quiet)
		fprintf(stderr, "remaster: %s (%s on %s), %ju bytes -> %s "
		    "(%s)\n", r.dev, r.fstype, r.mnt, (uintmax_t)r.size, o.out,
		    codec->name);
	if ((guard = rm_guardian()) < 0) {
		error = errno;
		close(r.devfd);
		close(rm_rootfd);
		cli_err("cannot start the process that guards the thaw: %s",
		    strerror(error));
		return (CLI_ERROR);
	}
	s.r = &r;
	if (posix_memalign((void **)&s.bounce, RM_ALIGN, RM_BLKSZ +
	    RM_ALIGN) != 0)
		s.bounce = NULL;
	if (s.bounce != NULL)
		s.dfd = open(r.dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	uo.in_read = rm_read;
	uo.in_arg = &s;
	uo.in_size = r.size;
	cli_progress_start(&p, "remaster", r.size);
	if (o.quiet)
		p.enabled = 0;
	uo.progress = rm_progress;
	uo.arg = &p;
	rm_signals(1);
	error = uzip_write(r.dev, o.out, &uo, &st, &d);
	/* An error or a short stream: still frozen here, thaw now. */
	if ((terr = rm_thaw()) == 0 && rm_t_thaw == 0 && rm_t_freeze != 0)
		rm_t_thaw = rm_now();
	if (terr == 0)
		terr = rm_thaw_error;
	if (terr == 0)
		rm_guardian_done(guard);
	else {				/* the guardian tries again */
		close(rm_guardfd);
		rm_guardfd = -1;
		while (waitpid(guard, NULL, 0) < 0 && errno == EINTR)
			;
	}
	rm_signals(0);
	cli_progress_done(&p);
	if (s.dfd >= 0)
		close(s.dfd);
	free(s.bounce);
	close(r.devfd);
	close(rm_rootfd);
	rm_rootfd = -1;
	if (terr != 0)
		cli_err("cannot thaw %s: %s; run 'fsfreeze -u %s' now", r.mnt,
		    strerror(terr), r.mnt);
	if (rm_t_freeze != 0 && !o.quiet)
		fprintf(stderr, "remaster: %s was frozen for %.1f s\n", r.mnt,
		    rm_t_thaw - rm_t_freeze);
	if (error != 0)
		return (cli_diag(&d, error));
	if (terr != 0)
		return (CLI_ERROR);
	if (!o.quiet)
		printf("%s: %ju bytes of %s as %ju bytes (%s)\n", o.out,
		    (uintmax_t)st.in_bytes, r.dev, (uintmax_t)st.out_bytes,
		    codec->name);
	return (CLI_OK);
}
