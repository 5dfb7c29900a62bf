/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * probe.c - the probe chain's strategies on FreeBSD (fbsd.h), the answer
 * in the form the FreeBSD plan takes (struct fbsd_source).
 *
 *   preload  an md(4) the loader preloaded (NAME_type="md_image"), other
 *            than the ramdisk the kernel mounted as its root (kenv
 *            vfs.root.mountfrom): md0..md9, the first that answers
 *            DIOCGMEDIASIZE and, for a .uzip live.image, starts with the
 *            uzip magic
 *   net      live.url given: the plan fetches it (fetch(1))
 *   devices  every disk of kern.disks, read through lib/probe/locate.c
 *            (the ISO label, Ventoy's layout, findiso): the root image's
 *            extents on the whole disk.  A CD (the image a file of a
 *            cd9660 on the whole device) becomes local:/dev/cdN, mounted
 *            by mount_cd9660; anything else becomes gnop windows of those
 *            extents (each a multiple of the disk's sector size, as gnop
 *            wants), which reroot keeps.  Tried once a second until
 *            live.timeout.
 *
 * Userland, FreeBSD only; single-threaded.
 */
#include <sys/param.h>
#include <sys/disk.h>
#include <sys/ioctl.h>
#include <sys/sysctl.h>

#include <errno.h>
#include <fcntl.h>
#include <kenv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/locate.h>

#include "fbsd.h"

static void
p_log(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "liveroot: %s\n", line);
}

static int
sector_size(const char *dev, unsigned *ss, uint64_t *size)
{
	u_int s;
	off_t m;
	int fd, e = 0;

	if ((fd = open(dev, O_RDONLY | O_CLOEXEC)) < 0)
		return (errno);
	if (ioctl(fd, DIOCGSECTORSIZE, &s) < 0 ||
	    ioctl(fd, DIOCGMEDIASIZE, &m) < 0)
		e = errno;
	else {
		*ss = s;
		*size = (uint64_t)m;
	}
	close(fd);
	return (e);
}

static enum probe_outcome
preload(struct fbsd_probe *p, const struct live_config *c,
    struct probe_source *out, struct diag *d)
{
	char dev[32], from[128];
	unsigned char head[16];
	uint64_t size;
	unsigned ss;
	int u, fd, uz;

	from[0] = '\0';
	(void)kenv(KENV_GET, "vfs.root.mountfrom", from, sizeof(from));
	uz = plan_freebsd_image_is_uzip(c->image[0] ? c->image :
	    LIVE_DEFAULT_IMAGE);
	for (u = 0; u < 10; u++) {
		snprintf(dev, sizeof(dev), "/dev/md%d", u);
		if (strstr(from, dev) != NULL || sector_size(dev, &ss,
		    &size) != 0)
			continue;	/* the ramdisk root, or no such md */
		if (uz) {
			if ((fd = open(dev, O_RDONLY | O_CLOEXEC)) < 0)
				continue;
			if (read(fd, head, sizeof(head)) != (ssize_t)
			    sizeof(head) || !plan_is_uzip_magic(head,
			    sizeof(head))) {
				close(fd);
				continue;
			}
			close(fd);
		}
		memset(&p->src, 0, sizeof(p->src));
		p->src.strategy = LIVE_S_PRELOAD;
		snprintf(p->src.device, sizeof(p->src.device), "%s", dev);
		out->strategy = LIVE_S_PRELOAD;
		snprintf(out->device, sizeof(out->device), "%s", dev);
		out->size = size;
		return (PROBE_FOUND);
	}
	(void)d;
	return (PROBE_NOT_HERE);
}

static enum probe_outcome
immediate(void *arg, enum live_strategy s, const struct live_config *c,
    struct probe_source *out, struct diag *d)
{
	struct fbsd_probe *p = arg;

	if (s == LIVE_S_PRELOAD)
		return (preload(p, c, out, d));
	if (s != LIVE_S_NET || c->url[0] == '\0')
		return (PROBE_NOT_HERE);
	memset(&p->src, 0, sizeof(p->src));
	p->src.strategy = LIVE_S_NET;
	snprintf(p->src.url, sizeof(p->src.url), "%s", c->url);
	out->strategy = LIVE_S_NET;
	snprintf(out->device, sizeof(out->device), "%s", c->url);
	return (PROBE_FOUND);
}

/* The locate result as the plan's source; EINVAL when gnop cannot take it. */
static int
to_source(struct fbsd_probe *p, const char *dev, const struct locate_result *r,
    struct diag *d)
{
	struct fbsd_source *s = &p->src;
	uint64_t size;
	unsigned ss;
	size_t i;
	int e;

	memset(s, 0, sizeof(*s));
	snprintf(s->device, sizeof(s->device), "%s", dev);
	s->strategy = strcmp(r->strategy, "ventoy") == 0 ? LIVE_S_VENTOY :
	    LIVE_S_LOCAL;
	if ((e = sector_size(dev, &ss, &size)) != 0)
		return (diag_set(d, e, "%s: DIOCGSECTORSIZE: %s", dev,
		    strerror(e)));
	if (strcmp(r->strategy, "local") == 0 && r->partition == 0 &&
	    ss != 512)
		return (0);	/* a CD: mount_cd9660 and a vnode md */
	if (r->next > FBSD_MAX_EXTENTS)
		return (diag_set(d, EINVAL, "%s: the image has %zu extents, "
		    "more than %d gnop windows: defragment it", dev, r->next,
		    FBSD_MAX_EXTENTS));
	for (i = 0; i < r->next; i++) {
		if (r->ext[i].loff % ss != 0 || r->ext[i].len % ss != 0)
			return (diag_set(d, EINVAL, "%s: an extent of the image "
			    "(%ju+%ju) is not whole %u-byte sectors, which gnop "
			    "needs: pad the image to a multiple of %u bytes",
			    dev, (uintmax_t)r->ext[i].loff,
			    (uintmax_t)r->ext[i].len, ss, ss));
		s->ext[i].off = r->ext[i].loff;
		s->ext[i].len = r->ext[i].len;
	}
	s->next = r->next;
	return (0);
}

static enum probe_outcome
devices(void *arg, const struct probe_step *st, const struct live_config *c,
    struct probe_source *out, struct diag *d)
{
	struct fbsd_probe *p = arg;
	struct locate_opts o;
	struct locate_result r;
	struct bdev *b;
	char disks[1024], dev[64], *tok, *save;
	enum probe_outcome res = PROBE_NOT_HERE;
	time_t end = time(NULL) + (time_t)c->timeout_s;
	size_t len, i;
	int e, found;

	memset(&o, 0, sizeof(o));
	o.label = c->label[0] ? c->label : NULL;
	o.image = c->image[0] ? c->image : NULL;
	o.iso = c->iso[0] ? c->iso : NULL;
	for (i = 0; i < st->norder; i++)
		o.strategies |= st->order[i] == LIVE_S_LOCAL ? LOCATE_LOCAL :
		    st->order[i] == LIVE_S_VENTOY ? LOCATE_VENTOY :
		    st->order[i] == LIVE_S_FINDISO ? LOCATE_FINDISO : 0;
	for (;;) {
		len = sizeof(disks) - 1;
		if (sysctlbyname("kern.disks", disks, &len, NULL, 0) < 0)
			len = 0;
		disks[len < sizeof(disks) ? len : sizeof(disks) - 1] = '\0';
		for (tok = strtok_r(disks, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			snprintf(dev, sizeof(dev), "/dev/%s", tok);
			if (bdev_file_open(dev, BDEV_FILE_RDONLY, 0, &b,
			    d) != 0)
				continue;
			memset(&r, 0, sizeof(r));
			found = 0;
			e = probe_locate_device(dev, b, &o, &r, d);
			if (e == 0 && r.found) {
				e = to_source(p, dev, &r, d);
				if (e == 0) {
					found = 1;
					out->strategy = p->src.strategy;
					snprintf(out->device,
					    sizeof(out->device), "%s", dev);
					snprintf(out->detail,
					    sizeof(out->detail), "%s, label "
					    "%s", r.strategy, r.label);
					out->size = r.image_size;
					out->nextents = p->src.next;
				}
			}
			locate_result_free(&r);
			bdev_destroy(b);
			if (found)
				return (PROBE_FOUND);
			if (e != 0)
				res = PROBE_ERROR;	/* d says why */
		}
		if (time(NULL) >= end)
			return (res);
		sleep(1);
	}
}

void
fbsd_probe_ops(struct fbsd_probe *p, struct probe_ops *ops)
{
	memset(p, 0, sizeof(*p));
	memset(ops, 0, sizeof(*ops));
	ops->immediate = immediate;
	ops->devices = devices;
	ops->log = p_log;
	ops->arg = p;
}
