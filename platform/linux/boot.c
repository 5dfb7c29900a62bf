/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * boot.c - the chores of PID 1 around the search: the early mounts (and
 * the console when the initramfs has no /dev/console), live.toram's copy
 * into RAM, and the end of a failed boot: a rescue shell (restarted, but
 * not in a spin when the console has no input) or a halt that keeps the
 * messages on the console.  PID 1 never exits: it only reaps children.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lrinit.h"

void
lri_early_mounts(void)
{
	int fd;

	(void)mkdir("/dev", 0755);
	(void)mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	/* The kernel gives /init the console only when the initramfs has
	 * /dev/console; open it from devtmpfs otherwise. */
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0 &&
	    (fd = open("/dev/console", O_RDWR | O_NOCTTY)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	(void)mkdir("/proc", 0755);
	(void)mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL);
	(void)mkdir("/sys", 0755);
	(void)mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL);
	(void)mkdir("/run", 0755);
	(void)mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	(void)mkdir("/dev/pts", 0755);
	(void)mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	    NULL);
}

/* live.toram: copy the image into RAM when it fits beside the overlay. */
void
lri_to_ram(struct probe_source *src, uint64_t keep)
{
	struct bdev *m = NULL;
	struct sysinfo si;
	struct diag d;
	uint64_t avail = 0;

	if (sysinfo(&si) == 0)
		avail = ((uint64_t)si.freeram + si.bufferram) * si.mem_unit;
	if (avail < keep || avail - keep < src->size) {
		lri_log("toram: the image (%llu MiB) does not fit in free RAM "
		    "(%llu MiB) minus the overlay (%llu MiB); using the medium",
		    (unsigned long long)(src->size >> 20),
		    (unsigned long long)(avail >> 20),
		    (unsigned long long)(keep >> 20));
		return;
	}
	lri_log("toram: copying %llu bytes into RAM",
	    (unsigned long long)src->size);
	diag_clear(&d);
	if (bdev_mem_new(bdev_size(src->bdev), 0, &m, &d) != 0 ||
	    bdev_copy(src->bdev, 0, m, 0, bdev_size(src->bdev), 1 << 20, NULL,
	    NULL, &d) != 0) {
		lri_log("toram failed (%s); using the medium", d.msg);
		bdev_destroy(m);
		return;
	}
	bdev_destroy(src->bdev);
	src->bdev = m;
	lri_log("toram: done; the medium may be removed");
}

void
lri_rest_forever(void)
{
	signal(SIGCHLD, SIG_DFL);
	for (;;) {
		if (wait(NULL) < 0 && errno == ECHILD)
			pause();
	}
}

void
lri_rescue(int shell)
{
	char *argv[3];
	pid_t pid;
	int st;

	signal(SIGCHLD, SIG_DFL);
	if (shell && access("/bin/sh", X_OK) == 0) {
		int quick = 0;
		double t0;

		for (;;) {
			t0 = lri_uptime();
			lri_log("rescue shell");
			fflush(NULL);
			if ((pid = fork()) == 0) {
				signal(SIGINT, SIG_DFL);
				signal(SIGTERM, SIG_DFL);
				signal(SIGHUP, SIG_DFL);
				signal(SIGPIPE, SIG_DFL);
				setsid();
				(void)ioctl(0, TIOCSCTTY, 1);
				argv[0] = "sh";
				argv[1] = NULL;
				execv("/bin/sh", argv);
				_exit(127);
			}
			if (pid < 0)
				break;
			while (waitpid(pid, &st, 0) != pid)
				if (errno == ECHILD)
					break;
			/* A console without input ends the shell at once:
			 * do not spin. */
			quick = lri_uptime() - t0 < 2 ? quick + 1 : 0;
			if (quick == 3) {
				lri_log("the rescue shell ended 3 times at "
				    "once (no console input?)");
				break;
			}
			lri_log("rescue shell exited; starting another");
			sleep(1);
		}
	} else if (shell)
		lri_log("no /bin/sh in the initramfs for the rescue shell");
	lri_log("halted; the messages above say why");
	lri_rest_forever();
}
