/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * handoff.c - mount the live root and hand the machine over to it.
 *
 * switch_root is done by PID 1 itself (never a child): PID 1 shares its
 * root with the kernel's threads, so after it moves the new root over "/"
 * kernel-context opens (firmware, module autoload) resolve in the live root.
 * Like busybox switch_root: /dev, /proc, /sys, /run are moved under the
 * new root, the initramfs files are deleted (they are RAM; only
 * the one file system of "/" is walked, the new root's mount is skipped),
 * then chdir(newroot), mount(".", "/", MS_MOVE), chroot("."), chdir("/"),
 * and exec init.  The init is checked inside the new root first (with
 * RESOLVE_IN_ROOT, so an absolute symlink like /sbin/init -> /lib/systemd
 * resolves there), because after the deletion there is no going back.
 *
 * The chroot hand-off is deliberately wrong: a child chroots and execs init
 * while PID 1 (and so the kernel) keeps the initramfs as root.  The firmware
 * e2e test uses it to prove its check can fail.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lrinit.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

struct lri_open_how {
	uint64_t	flags;
	uint64_t	mode;
	uint64_t	resolve;
};
#define LRI_RESOLVE_IN_ROOT	0x10

extern char **environ;

int
lri_mount_root(const char *dev, const char *fstype, const char *dir,
    struct diag *d)
{
	int e;

	(void)os_mkdir_p(dir, 0755, NULL);
	/* discard: a deleted file's blocks are trimmed, and the RAM
	 * overlay frees their pages. */
	if (mount(dev, dir, fstype, 0, "discard") == 0 ||
	    mount(dev, dir, fstype, 0, NULL) == 0)
		return (0);
	e = errno;
	return (diag_set(d, e, "mount -t %s %s %s: %s%s", fstype, dev, dir,
	    strerror(e), e == EINVAL ? " (the root image does not hold an "
	    "ext4 file system, or the ext4 module is not loaded)" : ""));
}

static uint32_t
le32(const unsigned char *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

/* The ext4 journal's size from the superblock's backup of its inode. */
static uint64_t
ext4_journal_bytes(const char *dev)
{
	unsigned char sb[1024];
	int fd;

	if ((fd = open(dev, O_RDONLY | O_CLOEXEC)) < 0)
		return (0);
	if (pread(fd, sb, sizeof(sb), 1024) != (ssize_t)sizeof(sb)) {
		close(fd);
		return (0);
	}
	close(fd);
	if (sb[0x38] != 0x53 || sb[0x39] != 0xef || sb[0xfd] != 1)
		return (0);
	return ((uint64_t)le32(sb + 0x148) << 32 | le32(sb + 0x14c));
}

int
lri_overlay_reserve(const char *newroot, const char *dev, uint64_t cap,
    uint64_t *reserved, char *where, size_t wlen, struct diag *d)
{
	struct statvfs sv;
	struct stat st;
	uint64_t fsfree, journal, margin, usable, want;
	int fd, i, e = 0;

	*reserved = 0;
	where[0] = '\0';
	if (statvfs(newroot, &sv) != 0)
		return (diag_set(d, errno, "statvfs %s: %s", newroot,
		    strerror(errno)));
	fsfree = (uint64_t)sv.f_bfree * sv.f_frsize;
	journal = ext4_journal_bytes(dev);
	if (journal == 0)
		journal = 16ULL << 20;
	/* What the overlay needs beside new data: the journal (written
	 * round and round), bitmaps, inode tables, extent blocks. */
	margin = journal + cap / 16 + (2ULL << 20);
	usable = cap > margin ? cap - margin : cap / 2;
	if (fsfree <= usable)
		return (0);
	want = fsfree - usable;
	snprintf(where, wlen, "%s/lost+found", newroot);
	if (stat(where, &st) != 0 || !S_ISDIR(st.st_mode))
		snprintf(where, wlen, "%s/.liveroot-overlay-reserve", newroot);
	else
		snprintf(where, wlen, "%s/lost+found/.liveroot-overlay-reserve",
		    newroot);
	fd = open(where, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return (diag_set(d, errno, "%s: %s", where, strerror(errno)));
	/* Unwritten extents: only metadata reaches the overlay. */
	for (i = 0; i < 8; i++) {
		if (fallocate(fd, 0, 0, (off_t)want) == 0) {
			e = 0;
			break;
		}
		e = errno;
		if (e != ENOSPC)
			break;
		want -= want / 50 + 4096;
	}
	close(fd);
	if (e != 0) {
		(void)unlink(where);
		return (diag_set(d, e, "fallocate %s: %s", where,
		    strerror(e)));
	}
	*reserved = want;
	return (0);
}

int
lri_check_init(const char *newroot, const char *init, struct diag *d)
{
	struct lri_open_how how;
	struct stat st;
	char path[600];
	int dfd, fd, e;

	if ((dfd = open(newroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "%s: %s", newroot,
		    strerror(errno)));
	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_CLOEXEC;
	how.resolve = LRI_RESOLVE_IN_ROOT;
	fd = (int)syscall(SYS_openat2, dfd, init, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) {
		snprintf(path, sizeof(path), "%s%s", newroot, init);
		fd = open(path, O_PATH | O_CLOEXEC);
	}
	e = fd < 0 ? errno : 0;
	close(dfd);
	if (fd < 0)
		return (diag_set(d, e, "the live root has no %s (%s): set "
		    "live.init= to its init program", init, strerror(e)));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 0111) == 0) {
		close(fd);
		return (diag_set(d, EACCES, "%s in the live root is not an "
		    "executable file: set live.init= to its init program",
		    init));
	}
	close(fd);
	return (0);
}

/* Move the API file systems under the new root; unmount what cannot move. */
static void
move_mounts(const char *newroot)
{
	static const char *const m[] = { "/dev", "/proc", "/sys", "/run" };
	char dst[300];
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		snprintf(dst, sizeof(dst), "%s%s", newroot, m[i]);
		(void)mkdir(dst, 0755);
		if (mount(m[i], dst, NULL, MS_MOVE, NULL) != 0) {
			lri_log("cannot move %s to %s: %s; unmounting it",
			    m[i], dst, strerror(errno));
			(void)umount2(m[i], MNT_DETACH);
		}
	}
}

/* Delete everything below dfd on device dev, not descending elsewhere. */
static void
delete_tree(int dfd, dev_t dev, ino_t skip)
{
	DIR *dir;
	struct dirent *de;
	struct stat st;
	int sub;

	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != dev || st.st_ino == skip)
				continue;
			sub = openat(dirfd(dir), de->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				delete_tree(sub, dev, skip);
			(void)unlinkat(dirfd(dir), de->d_name, AT_REMOVEDIR);
		} else if (st.st_dev == dev)
			(void)unlinkat(dirfd(dir), de->d_name, 0);
	}
	closedir(dir);
}

int
lri_switch_root(const char *newroot, const char *init, struct diag *d)
{
	struct stat rst, nst;
	char *argv[2];
	int fd, e;

	if (getpid() != 1)
		return (diag_set(d, EPERM, "switch_root must be done by PID 1 "
		    "(this is pid %d)", (int)getpid()));
	if ((e = lri_check_init(newroot, init, d)) != 0)
		return (e);
	if (stat("/", &rst) != 0 || stat(newroot, &nst) != 0)
		return (diag_set(d, errno, "stat: %s", strerror(errno)));
	if (rst.st_dev == nst.st_dev)
		return (diag_set(d, EINVAL, "%s is not a mount point",
		    newroot));
	move_mounts(newroot);
	/* The initramfs is RAM: free it (busybox switch_root does the same). */
	if ((fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		delete_tree(fd, rst.st_dev, nst.st_ino);
	if (chdir(newroot) != 0 ||
	    mount(".", "/", NULL, MS_MOVE, NULL) != 0 ||
	    chroot(".") != 0 || chdir("/") != 0)
		return (diag_set(d, errno, "switch_root to %s: %s", newroot,
		    strerror(errno)));
	lri_log("handing over to %s (switch_root)", init);
	(void)lri_log_save("/run/liveroot/boot.log");
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	argv[0] = (char *)init;
	argv[1] = NULL;
	execve(init, argv, environ);
	e = errno;
	return (diag_set(d, e, "exec %s in the live root: %s", init,
	    strerror(e)));
}

int
lri_chroot_child(const char *newroot, const char *init, pid_t *pidp,
    struct diag *d)
{
	char *argv[2], path[300];
	pid_t pid;
	int e;

	if ((e = lri_check_init(newroot, init, d)) != 0)
		return (e);
	move_mounts(newroot);
	lri_log("handing over to %s (chroot, in a child process; the kernel "
	    "keeps the initramfs as its root)", init);
	snprintf(path, sizeof(path), "%s/run/liveroot/boot.log", newroot);
	(void)lri_log_save(path);
	if ((pid = fork()) < 0)
		return (diag_set(d, errno, "fork: %s", strerror(errno)));
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (chroot(newroot) != 0 || chdir("/") != 0) {
			lri_log("chroot %s: %s", newroot, strerror(errno));
			_exit(127);
		}
		argv[0] = (char *)init;
		argv[1] = NULL;
		execve(init, argv, environ);
		lri_log("exec %s: %s", init, strerror(errno));
		_exit(127);
	}
	*pidp = pid;
	return (0);
}
