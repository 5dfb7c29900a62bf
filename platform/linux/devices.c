/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * devices.c - block devices as the kernel announces them.
 *
 * The NETLINK_KOBJECT_UEVENT socket is opened before any module loads, so
 * no announcement is missed; /sys/class/block is scanned once at the start
 * (and after a receive overflow) for what existed before.  Each device is
 * recorded once by name and logged "device X appeared"; an "add" or
 * "change" (a CD's medium) marks it dirty so the caller probes only what is
 * new.  loop, ram, nbd and zram devices are the machine's own and ignored.
 * devtmpfs has made /dev/NAME before the kernel sends the event.  The
 * message itself is read by fmt_uevent_parse (lib/fmt/uevent.c).
 *
 * Every "add" event of any subsystem that carries a MODALIAS= (a USB
 * device behind xhci, a SCSI disk behind usb_storage) is handed to the
 * module loader (modules.c, ds->mods), and what it asks for is loaded
 * before lri_devs_wait returns: the disk it brings is the next event.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liveroot/fmt_modalias.h>
#include <liveroot/fmt_uevent.h>

#include "lrinit.h"

static int
ignored(const char *name)
{
	static const char *const pfx[] = { "loop", "ram", "nbd", "zram",
	    "fd" };
	size_t i;

	for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
		if (strncmp(name, pfx[i], strlen(pfx[i])) == 0)
			return (1);
	return (0);
}

int
lri_devs_open(struct lri_devs *ds)
{
	struct sockaddr_nl sa;
	int fd, sz = 4 << 20;

	memset(ds, 0, sizeof(*ds));
	ds->fd = -1;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return (errno);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = 1;		/* the kernel's uevents */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		return (e);
	}
	ds->fd = fd;
	return (0);
}

static uint64_t
sys_size(const char *name)
{
	char path[128], *s;
	uint64_t v = 0;

	snprintf(path, sizeof(path), "/sys/class/block/%s/size", name);
	if (os_read_file(path, 64, &s, NULL, NULL) == 0) {
		v = strtoull(s, NULL, 10) * 512;
		free(s);
	}
	return (v);
}

static struct lri_dev *
find(struct lri_devs *ds, const char *name)
{
	size_t i;

	for (i = 0; i < ds->n; i++)
		if (strcmp(ds->dev[i].name, name) == 0)
			return (&ds->dev[i]);
	return (NULL);
}

/* Returns 1 when the device is new or changed. */
static int
note(struct lri_devs *ds, const char *name, int partition, int change)
{
	struct lri_dev *d;

	if (ignored(name) || strlen(name) >= sizeof(d->name))
		return (0);
	if ((d = find(ds, name)) != NULL) {
		if (d->gone) {
			d->gone = 0;
			d->dirty = 1;
			d->appeared = lri_uptime();
			d->size = sys_size(name);
			lri_log("device %s appeared again", name);
			return (1);
		}
		if (change && !d->partition) {
			d->dirty = 1;
			d->size = sys_size(name);
			if (lri_debug)
				lri_log("device %s changed", name);
			return (1);
		}
		return (0);
	}
	if (ds->n == LRI_MAXDEV)
		return (0);
	d = &ds->dev[ds->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->partition = partition;
	d->dirty = !partition;
	d->appeared = lri_uptime();
	d->size = sys_size(name);
	lri_log("device %s appeared (%s, %llu bytes)", name,
	    partition ? "partition" : "disk", (unsigned long long)d->size);
	return (1);
}

int
lri_devs_scan(struct lri_devs *ds)
{
	DIR *dir;
	struct dirent *de;
	char path[300];
	struct stat st;
	int n = 0;

	if ((dir = opendir("/sys/class/block")) == NULL)
		return (0);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/partition",
		    de->d_name);
		n += note(ds, de->d_name, stat(path, &st) == 0, 0);
	}
	closedir(dir);
	return (n);
}

int
lri_devs_event(struct lri_devs *ds, const void *msg, size_t len)
{
	struct fmt_uevent ev;
	struct lri_dev *d;
	const char *alias;
	size_t alen;

	if (ds->mods != NULL &&
	    fmt_modalias_uevent(msg, len, &alias, &alen) == 0)
		lri_modules_note(ds->mods, alias, alen);
	if (fmt_uevent_parse(msg, len, &ev) != 0)
		return (0);
	if (ev.action == FMT_UEVENT_REMOVE) {
		if ((d = find(ds, ev.devname)) != NULL && !d->gone) {
			d->gone = 1;
			d->dirty = 0;
			lri_log("device %s removed", ev.devname);
		}
		return (0);
	}
	if (ev.action != FMT_UEVENT_ADD && ev.action != FMT_UEVENT_CHANGE)
		return (0);
	return (note(ds, ev.devname, ev.partition,
	    ev.action == FMT_UEVENT_CHANGE));
}

int
lri_devs_wait(struct lri_devs *ds, int timeout_ms)
{
	struct pollfd pfd;
	char buf[8193];
	ssize_t r;
	int n = 0, pr;

	if (ds->fd < 0) {
		/* No netlink: poll /sys every 100 ms. */
		int slept = 0;

		while (slept < timeout_ms) {
			usleep(100 * 1000);
			slept += 100;
			lri_modules_rescan(ds->mods);
			(void)lri_modules_flush(ds->mods);
			if ((n = lri_devs_scan(ds)) > 0)
				return (n);
		}
		return (0);
	}
	pfd.fd = ds->fd;
	pfd.events = POLLIN;
	pr = poll(&pfd, 1, timeout_ms);
	if (pr <= 0)
		return (0);
	for (;;) {
		r = recv(ds->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ENOBUFS) {
			/* Overflow: what we missed is in /sys. */
			lri_modules_rescan(ds->mods);
			n += lri_devs_scan(ds);
			continue;
		}
		if (r <= 0)
			break;
		n += lri_devs_event(ds, buf, (size_t)r);
	}
	(void)lri_modules_flush(ds->mods);
	return (n);
}
