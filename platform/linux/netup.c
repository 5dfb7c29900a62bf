/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netup.c - the network for the `net` strategy: wait for an interface
 * (the NIC's module was loaded with the others), bring the links up, and
 * get an address with busybox udhcpc, whose default.script configures the
 * interface (INITRAMFS_UDHCPC_SCRIPT of initramfs.h).  udhcpc runs in the foreground (-f -q -n):
 * it exits with 0 once it has a lease, non-zero when none came.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lrinit.h"

extern char **environ;

static int
link_up(int s, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		return (errno);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
		return (errno);
	return (0);
}

/* Interfaces other than lo, up to max. */
static size_t
list_ifaces(char names[][IFNAMSIZ], size_t max)
{
	DIR *dir;
	struct dirent *de;
	size_t n = 0;

	if ((dir = opendir("/sys/class/net")) == NULL)
		return (0);
	while ((de = readdir(dir)) != NULL && n < max) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "lo") == 0 ||
		    strlen(de->d_name) >= IFNAMSIZ)
			continue;
		memcpy(names[n++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(dir);
	return (n);
}

static const char *
find_udhcpc(char *argv0buf, size_t len)
{
	static const char *const cand[] = { "/sbin/udhcpc", "/bin/udhcpc",
	    "/usr/sbin/udhcpc", "/bin/busybox" };
	size_t i;

	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (access(cand[i], X_OK) == 0) {
			snprintf(argv0buf, len, "%s", cand[i]);
			return (cand[i]);
		}
	return (NULL);
}

static int
run_udhcpc(const char *prog, const char *ifname, unsigned tries)
{
	char t[16];
	char *argv[16];
	int st, i = 0;
	pid_t pid;

	snprintf(t, sizeof(t), "%u", tries);
	if (strstr(prog, "busybox") != NULL)
		argv[i++] = "busybox";
	argv[i++] = "udhcpc";
	argv[i++] = "-f";
	argv[i++] = "-q";
	argv[i++] = "-n";
	argv[i++] = "-t";
	argv[i++] = t;
	argv[i++] = "-T";
	argv[i++] = "1";
	argv[i++] = "-i";
	argv[i++] = (char *)ifname;
	if (access(INITRAMFS_UDHCPC_SCRIPT, X_OK) == 0) {
		argv[i++] = "-s";
		argv[i++] = INITRAMFS_UDHCPC_SCRIPT;
	}
	argv[i] = NULL;
	if ((pid = fork()) < 0)
		return (errno);
	if (pid == 0) {
		execve(prog, argv, environ);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return (errno);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return (ENOENT);
	return (WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : EHOSTUNREACH);
}

int
lri_net_up(unsigned timeout_s, char *ifname, size_t len, struct diag *d)
{
	char names[16][IFNAMSIZ], prog[64];
	double end = lri_uptime() + (timeout_s ? timeout_s : 30);
	size_t n = 0, i;
	int s, e;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return (diag_set(d, errno, "socket: %s", strerror(errno)));
	(void)link_up(s, "lo");
	while ((n = list_ifaces(names, 16)) == 0 && lri_uptime() < end)
		usleep(100 * 1000);
	if (n == 0) {
		close(s);
		return (diag_set(d, ENODEV, "no network interface appeared "
		    "(is the NIC's module, e.g. virtio_net or e1000, in "
		    INITRAMFS_MODULES "?)"));
	}
	for (i = 0; i < n; i++)
		if ((e = link_up(s, names[i])) != 0)
			lri_log("net: cannot bring %s up: %s", names[i],
			    strerror(e));
	close(s);
	if (find_udhcpc(prog, sizeof(prog)) == NULL)
		return (diag_set(d, ENOENT, "no udhcpc in the initramfs "
		    "(busybox with the udhcpc applet is needed for net)"));
	for (i = 0; i < n && lri_uptime() < end; i++) {
		lri_log("net: DHCP on %s", names[i]);
		e = run_udhcpc(prog, names[i], 5);
		if (e == 0) {
			snprintf(ifname, len, "%s", names[i]);
			lri_log("net: %s configured by DHCP", names[i]);
			return (0);
		}
		lri_log("net: no DHCP lease on %s (%s)", names[i],
		    strerror(e));
	}
	return (diag_set(d, EHOSTUNREACH, "no DHCP lease on any of %zu "
	    "interface(s)", n));
}
