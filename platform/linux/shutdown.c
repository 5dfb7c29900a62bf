/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shutdown.c - /run/initramfs/shutdown: the root device's clean end when
 * systemd shuts down.  A program of its own, linked statically against
 * libc only (liveroot-init is dynamic: its libraries are deleted with the
 * initramfs), carried inside liveroot-init as bytes (shutdown_blob.S) and
 * written out by lri_shutdown_prepare (handoff.c) before switch_root.
 *
 * systemd-shutdown cannot unmount the root it runs from: it remounts it
 * read-only and, when /run/initramfs/shutdown is executable, pivots into
 * /run/initramfs (the old root at /oldroot, /dev /proc /sys /run bound in)
 * and execs /shutdown VERB as PID 1 (dracut's protocol; VERB is poweroff,
 * reboot, halt or kexec).  Then, here: unmount everything under /oldroot,
 * deepest first (the root itself: unmount, else remount read-only), sync,
 * flush every connected NBD device and disconnect it, so its server gets
 * NBD_CMD_DISC, flushes its stack and exits; wait for the server (PID 1's
 * child since the boot: PID 1 is one process through every exec); then
 * VERB.
 *
 * The server survives systemd's kill rounds by its '@' argv[0] (systemd's
 * "root storage daemon" convention) and its netlink attach (nbdnl.c): no
 * thread of it sleeps in the kernel for the SIGSTOP to wake.  Everything
 * here is best effort and logged: a shutdown never stops half-way.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nbd.h>
#include <linux/reboot.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#define OLDROOT		"/oldroot"
#define MAXMNT		256

/* "[  12.345] liveroot: shutdown: ..." on the console, one write(2). */
static void __attribute__((format(printf, 1, 2)))
slog(const char *fmt, ...)
{
	struct timespec ts;
	char line[600];
	va_list ap;
	int n, m;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		memset(&ts, 0, sizeof(ts));
	n = snprintf(line, sizeof(line), "[%8.3f] liveroot: ",
	    (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDOUT_FILENO, line, (size_t)n);
}


/* mountinfo's octal escapes (\040) decoded in place. */
static void
unescape(char *s)
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
 * The mount points under OLDROOT (OLDROOT included) in mountinfo order
 * (parents before children); *src gets the source of OLDROOT itself.
 */
static size_t
oldroot_mounts(char mnt[][256], size_t max, char *src, size_t srclen)
{
	char line[1024], *f[10], *p, *sep;
	size_t n = 0, k;
	FILE *fp;

	src[0] = '\0';
	if ((fp = fopen("/proc/self/mountinfo", "re")) == NULL)
		return (0);
	while (n < max && fgets(line, sizeof(line), fp) != NULL) {
		/* id parent major:minor root mountpoint opts ... - fs src */
		for (k = 0, p = line; k < 5 && p != NULL; k++)
			f[k] = strsep(&p, " ");
		if (k < 5 || f[4] == NULL)
			continue;
		unescape(f[4]);
		if (strcmp(f[4], OLDROOT) != 0 &&
		    strncmp(f[4], OLDROOT "/", sizeof(OLDROOT)) != 0)
			continue;
		if (strlen(f[4]) >= sizeof(mnt[0]))
			continue;
		strcpy(mnt[n++], f[4]);
		if (strcmp(f[4], OLDROOT) == 0 && p != NULL &&
		    (sep = strstr(p, " - ")) != NULL) {
			char *q = sep + 3, *fs, *s;

			fs = strsep(&q, " ");
			s = q != NULL ? strsep(&q, " \n") : NULL;
			(void)fs;
			if (s != NULL) {
				unescape(s);
				snprintf(src, srclen, "%s", s);
			}
		}
	}
	fclose(fp);
	return (n);
}

/* Unmount what is under /oldroot, then /oldroot (or make it read-only). */
static void
release_oldroot(void)
{
	static char mnt[MAXMNT][256];
	char src[256];
	size_t n, i;
	int pass;

	for (pass = 0; pass < 3; pass++) {
		n = oldroot_mounts(mnt, MAXMNT, src, sizeof(src));
		if (n == 0) {
			if (pass == 0)
				slog("shutdown: nothing mounted on "
				    OLDROOT);
			return;
		}
		for (i = n; i-- > 0; ) {
			if (strcmp(mnt[i], OLDROOT) == 0)
				continue;
			if (umount2(mnt[i], 0) != 0 && pass == 2)
				(void)umount2(mnt[i], MNT_DETACH);
		}
		n = oldroot_mounts(mnt, MAXMNT, src, sizeof(src));
		if (n == 1 && strcmp(mnt[0], OLDROOT) == 0)
			break;
	}
	if (umount2(OLDROOT, 0) == 0) {
		slog("shutdown: " OLDROOT " (%s) unmounted", src);
		return;
	}
	slog("shutdown: cannot unmount " OLDROOT " (%s): %s", src,
	    strerror(errno));
	if (mount(NULL, OLDROOT, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0)
		slog("shutdown: " OLDROOT " (%s) remounted read-only", src);
	else
		slog("shutdown: remounting " OLDROOT " (%s) read-only: %s",
		    src, strerror(errno));
}

/* The server of /dev/NAME, from the kernel's pid file; 0 if none. */
static pid_t
nbd_pid(const char *name)
{
	char path[300], text[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/block/%s/pid", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return (0);
	text[n] = '\0';
	return ((pid_t)strtol(text, NULL, 10));
}

static void
wait_server(const char *name, pid_t pid)
{
	int i, st;
	pid_t r;

	for (i = 0; i < 100; i++) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			slog("shutdown: nbd server of %s (pid %d) %s %d",
			    name, (int)pid, WIFEXITED(st) ? "exited with" :
			    "killed by signal", WIFEXITED(st) ?
			    WEXITSTATUS(st) : WTERMSIG(st));
			return;
		}
		if (r < 0 && kill(pid, 0) != 0) {
			slog("shutdown: nbd server of %s (pid %d) gone",
			    name, (int)pid);
			return;
		}
		usleep(100 * 1000);
	}
	slog("shutdown: nbd server of %s (pid %d) still runs after 10 s",
	    name, (int)pid);
}

/*
 * Flush and disconnect every connected NBD device, the highest index
 * first (a later device may be served from a file on an earlier one), and
 * wait for each server.
 */
static void
stop_nbd(void)
{
	struct dirent *de;
	char path[300], name[32];
	DIR *dir;
	pid_t pid;
	long idx, top, done = LONG_MAX;
	int fd;

	for (;;) {
		if ((dir = opendir("/sys/block")) == NULL)
			return;
		top = -1;
		while ((de = readdir(dir)) != NULL) {
			if (strncmp(de->d_name, "nbd", 3) != 0 ||
			    de->d_name[3] < '0' || de->d_name[3] > '9')
				continue;
			idx = strtol(de->d_name + 3, NULL, 10);
			if (idx > top && idx < done &&
			    nbd_pid(de->d_name) > 0)
				top = idx;
		}
		closedir(dir);
		if (top < 0)
			return;
		done = top;
		snprintf(name, sizeof(name), "nbd%ld", top);
		if ((pid = nbd_pid(name)) <= 0)
			continue;
		snprintf(path, sizeof(path), "/dev/%s", name);
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
			slog("shutdown: %s: %s", path, strerror(errno));
			continue;
		}
		if (fsync(fd) != 0)
			slog("shutdown: flushing %s: %s", path,
			    strerror(errno));
		if (ioctl(fd, NBD_DISCONNECT) != 0)
			slog("shutdown: disconnecting %s: %s", path,
			    strerror(errno));
		close(fd);
		wait_server(name, pid);
	}
}

int
main(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "poweroff";
	unsigned cmd;
	int fd;

	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (getpid() != 1) {
		fprintf(stderr, "shutdown: this is liveroot's "
		    "/run/initramfs/shutdown, run by systemd-shutdown as PID 1 "
		    "(use systemctl poweroff)\n");
		return (2);
	}
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0 &&
	    (fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (access("/proc/self/mountinfo", R_OK) != 0) {
		(void)mkdir("/proc", 0755);
		(void)mount("proc", "/proc", "proc", 0, NULL);
	}
	if (access("/sys/block", R_OK) != 0) {
		(void)mkdir("/sys", 0755);
		(void)mount("sysfs", "/sys", "sysfs", 0, NULL);
	}
	if (access("/dev/null", F_OK) != 0) {
		(void)mkdir("/dev", 0755);
		(void)mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	}
	slog("shutdown: back in the initramfs to %s", verb);
	release_oldroot();
	sync();
	stop_nbd();
	sync();
	if (strcmp(verb, "reboot") == 0)
		cmd = RB_AUTOBOOT;
	else if (strcmp(verb, "halt") == 0)
		cmd = RB_HALT_SYSTEM;
	else if (strcmp(verb, "kexec") == 0)
		cmd = LINUX_REBOOT_CMD_KEXEC;
	else {
		if (strcmp(verb, "poweroff") != 0)
			slog("shutdown: unknown verb '%s': powering off",
			    verb);
		cmd = RB_POWER_OFF;
	}
	slog("shutdown: %s", cmd == RB_AUTOBOOT ? "rebooting" :
	    cmd == RB_HALT_SYSTEM ? "halting" : cmd == RB_POWER_OFF ?
	    "powering off" : "kexec");
	if (reboot((int)cmd) != 0 && cmd == LINUX_REBOOT_CMD_KEXEC) {
		slog("shutdown: kexec: %s; rebooting", strerror(errno));
		(void)reboot(RB_AUTOBOOT);
	}
	slog("shutdown: reboot(2): %s", strerror(errno));
	for (;;)
		pause();
}
