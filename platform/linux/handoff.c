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
 * Before the switch, while /run is still ours, /run/initramfs is made
 * ready for systemd's return at shutdown (lri_shutdown_prepare, the
 * program of shutdown.c).
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

#define SD_DIR		"/run/initramfs"

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

/*
 * Read-only roots (squashfs, erofs; the plan's readonly_lines): the image
 * served read-only on nbd0 is mounted read-only on PLAN_LOWER_DIR; dracut's
 * LiveOS/rootfs.img in it becomes the root through a second server (rowr
 * on nbd1, a file-backed lower), else an overlayfs with its upper in a
 * capped tmpfs on PLAN_RW_DIR is the root.  Both directories are under
 * /run, which move_mounts() carries into the live root.
 */
enum fmt_fs
lri_root_fs(const struct live_plan *p, struct bdev *img)
{
	struct diag d;
	enum fmt_fs fs;

	diag_clear(&d);
	if (plan_detect_fs(img, p, &fs, &d) != 0) {
		lri_log("root image: cannot read its file system: %s", d.msg);
		return (FMT_FS_UNKNOWN);
	}
	if (fs == FMT_FS_UNKNOWN)
		lri_log("root image: no known file system magic (ext4, xfs, "
		    "btrfs, f2fs, squashfs, erofs) at its start; trying %s",
		    p->fstype);
	else
		lri_log("root image: %s (%s)", fmt_fs_name(fs),
		    fmt_fs_readonly(fs) ? "read-only: served as it is, an "
		    "overlayfs on top" : "writable: the rowr overlay");
	return (fs);
}

static int
mount_ro(const char *dev, const char *fstype, const char *dir,
    struct diag *d)
{
	int e;

	(void)os_mkdir_p(dir, 0755, NULL);
	if (mount(dev, dir, fstype, MS_RDONLY, NULL) == 0)
		return (0);
	e = errno;
	if (e == ENODEV)
		return (diag_set(d, e, "mount -t %s -o ro %s %s: %s (no %s "
		    "module: add it to " INITRAMFS_MODULES ")", fstype, dev,
		    dir, strerror(e), fstype));
	return (diag_set(d, e, "mount -t %s -o ro %s %s: %s%s", fstype, dev,
	    dir, strerror(e), e == EINVAL ? " (the image is damaged)" : ""));
}

int
lri_mount_overlay(const char *lower, const char *rwdir, uint64_t cap,
    const char *newroot, struct diag *d)
{
	char opts[700], up[300], wk[300];
	int e;

	(void)os_mkdir_p(rwdir, 0755, NULL);
	/* size=0 would be no cap at all: tmpfs's default then. */
	if (cap != 0)
		snprintf(opts, sizeof(opts), "size=%llu,mode=0755",
		    (unsigned long long)cap);
	else
		snprintf(opts, sizeof(opts), "mode=0755");
	if (mount("tmpfs", rwdir, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
		return (diag_set(d, errno, "mount -t tmpfs -o %s tmpfs %s: %s",
		    opts, rwdir, strerror(errno)));
	snprintf(up, sizeof(up), "%s/upper", rwdir);
	snprintf(wk, sizeof(wk), "%s/work", rwdir);
	if (mkdir(up, 0755) != 0 || mkdir(wk, 0755) != 0)
		return (diag_set(d, errno, "mkdir in %s: %s", rwdir,
		    strerror(errno)));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
	    lower, up, wk);
	(void)os_mkdir_p(newroot, 0755, NULL);
	if (mount("overlay", newroot, "overlay", 0, opts) == 0)
		return (0);
	e = errno;
	return (diag_set(d, e, "mount -t overlay -o %s overlay %s: %s%s", opts,
	    newroot, strerror(e), e == ENODEV ? " (no overlay module: add it "
	    "to " INITRAMFS_MODULES ")" : ""));
}

/* dracut's rootfs.img at path: rowr on p->inner_dev, mounted on newroot. */
static int
mount_dracut(struct live_plan *p, const char *path, char **argv,
    struct diag *d)
{
	struct lri_stack_opts so;
	struct live_plan q = *p;
	struct bdev *img;
	enum fmt_fs fs;
	uint64_t size = 0;
	pid_t server = 0;
	int e, uz = 0;

	if ((e = bdev_file_open(path, BDEV_FILE_RDONLY, 0, &img, d)) != 0)
		return (diag_prefix(d, "dracut's root image: "));
	q.uzip = 0;
	q.rootfs = FMT_FS_UNKNOWN;
	if ((e = plan_detect_fs(img, &q, &fs, d)) != 0) {
		bdev_destroy(img);
		return (diag_prefix(d, "%s: ", path));
	}
	if (fs == FMT_FS_UNKNOWN || fmt_fs_readonly(fs)) {
		bdev_destroy(img);
		return (diag_set(d, EINVAL, "%s (dracut's root image) holds "
		    "%s%s file system: it must be ext4, xfs, btrfs or f2fs; "
		    "rebuild the squashfs with the root file system image in "
		    "it", path, fs == FMT_FS_UNKNOWN ? "no known" : "a ",
		    fs == FMT_FS_UNKNOWN ? "" : fmt_fs_name(fs)));
	}
	plan_set_inner(p, 1, fs);
	lri_log("dracut layout: %s (%s) is the root", path, fmt_fs_name(fs));
	memset(&so, 0, sizeof(so));
	plan_inner_spec(p, &so.spec);
	so.blksize = p->nbd_blksize;
	so.nbd_dev = p->inner_dev;
	so.argv = argv;
	if ((e = lri_stack_start(img, &so, &server, &size, &uz, d)) != 0)
		return (diag_prefix(d, "serving %s: ", path));
	lri_log("nbd: %s up, %llu bytes (%s, overlay cap %llu bytes), server "
	    "pid %d", p->inner_dev, (unsigned long long)size, path,
	    (unsigned long long)p->overlay_cap, (int)server);
	return (lri_mount_root(p->inner_dev, fmt_fs_name(fs), p->newroot, d));
}

int
lri_mount_readonly_root(struct live_plan *p, char **argv, struct diag *d)
{
	char path[300];
	struct stat st;
	int e;

	if ((e = mount_ro(p->nbd_dev, p->fstype, p->lowerdir, d)) != 0)
		return (e);
	lri_log("mounted %s %s read-only on %s", p->fstype, p->nbd_dev,
	    p->lowerdir);
	snprintf(path, sizeof(path), "%s/%s", p->lowerdir, PLAN_DRACUT_IMAGE);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return (mount_dracut(p, path, argv, d));
	plan_set_inner(p, 0, FMT_FS_UNKNOWN);
	if ((e = lri_mount_overlay(p->lowerdir, p->rwdir, p->overlay_cap,
	    p->newroot, d)) != 0)
		return (e);
	lri_log("overlayfs on %s: lower %s, upper in a tmpfs of %llu MiB on "
	    "%s", p->newroot, p->lowerdir,
	    (unsigned long long)(p->overlay_cap >> 20), p->rwdir);
	return (0);
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

/* shutdown_blob.S: the static /run/initramfs/shutdown (shutdown.c). */
extern const unsigned char lri_shutdown_blob[], lri_shutdown_blob_end[];

int
lri_shutdown_prepare(struct diag *d)
{
	static const char *const dirs[] = { "dev", "proc", "sys", "run",
	    "oldroot" };
	const unsigned char *p = lri_shutdown_blob;
	size_t left = (size_t)(lri_shutdown_blob_end - lri_shutdown_blob);
	char path[300];
	ssize_t w;
	size_t i;
	int fd, e = 0;

	if ((e = os_mkdir_p(SD_DIR, 0755, d)) != 0)
		return (e);
	/* A mount point systemd cannot bind into here it unmounts. */
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), SD_DIR "/%s", dirs[i]);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return (diag_set(d, errno, "%s: %s", path,
			    strerror(errno)));
	}
	if ((fd = open(SD_DIR "/shutdown.tmp", O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0700)) < 0)
		return (diag_set(d, errno, SD_DIR "/shutdown.tmp: %s",
		    strerror(errno)));
	for (; left > 0; p += w, left -= (size_t)w)
		if ((w = write(fd, p, left)) <= 0) {
			e = w < 0 ? errno : EIO;
			break;
		}
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e == 0 && (chmod(SD_DIR "/shutdown.tmp", 0755) != 0 ||
	    rename(SD_DIR "/shutdown.tmp", SD_DIR "/shutdown") != 0))
		e = errno;
	if (e != 0) {
		(void)unlink(SD_DIR "/shutdown.tmp");
		return (diag_set(d, e, SD_DIR "/shutdown: %s", strerror(e)));
	}
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
	struct diag sd;
	char *argv[2];
	int fd, e;

	diag_clear(&sd);
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
	/* While /run is ours: systemd's way back at shutdown. */
	if ((e = lri_shutdown_prepare(&sd)) != 0)
		lri_log("shutdown: %s (systemd will not return to the "
		    "initramfs at shutdown)", sd.msg);
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
