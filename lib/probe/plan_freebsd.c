/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plan_freebsd.c - the FreeBSD plan as the exact base-system commands an
 * init_script runs, and the plan's text lines from the same decisions (see
 * plan_freebsd.h).
 *
 * Where liveroot runs: as init_script under the stock /sbin/init (loader.conf
 * init_script=...), so PID 1 stays init(8).  That is what both hand-offs
 * need: reboot -r signals PID 1, and init(8) honours a reroot requested while
 * it waits for init_script; and init(8) reads the init_chroot kenv only
 * AFTER init_script returned (sbin/init/init.c main(): init_script, then
 * init_chroot), so the script can decide the chroot itself.  A `chroot
 * /newroot /sbin/init` from a script would fail: init refuses to run unless
 * it is PID 1.  A script that exits non-zero sends init(8) to single-user
 * mode (run_script()): with set -e, every failed command does; the
 * diagnostic path uses that as its rescue shell (live.shell=1) or halts.
 *
 * The data path uses base GEOM classes, and geom_rowr when it is there
 * (facts from the FreeBSD sources, read for this file):
 *   - md(4)/mdconfig(8): -u fixes the unit, so names are known in advance;
 *     -s is 512-byte sectors unless suffixed b/k/m/g/t; swap backing "is
 *     generally preferable over malloc" (malloc can panic the system when
 *     filled), and swap md pages are allocated on first write.
 *   - geom_uzip tastes every provider (kern.geom.uzip.attach_to = "*", not
 *     "*.uzip") and names its provider NAME.uzip (g_uzip.c GUZ_DEV_NAME).
 *   - gnop create -o OFF -s SIZE -Z NAME: OFF and SIZE multiples of the
 *     provider's sector size, OFF+SIZE <= its size, NAME alphanumeric,
 *     provider NAME.nop (g_nop.c g_nop_create()).
 *   - gconcat create NAME PROV...: manual (no metadata), /dev/concat/NAME.
 *   - gunion create [-Z NAME] UPPER LOWER (FreeBSD 14+): provider
 *     NAME.union, the upper at least as large as the union
 *     (g_union.c g_union_ctl_create()); g_union_done() sets the written
 *     bits of a write whether or not the upper failed it, so a full upper
 *     would corrupt the union: its upper is never capped.
 *   - geom rowr create NAME RODEV RWDEV (freebsd/sys/geom/rowr/g_rowr.c,
 *     module geom_rowr): provider /dev/NAME, the upper at least as large
 *     as the device, the bits set only after the upper acknowledged the
 *     write, so an upper that runs out of space fails the write and
 *     nothing else: that is the cap.  The capped upper: a vnode md on a
 *     sparse file on a tmpfs mounted with size=CAP; tmpfs counts the pages
 *     a file really holds (tmpfs_subr.c tmpfs_page_inserted(),
 *     tmpfs_can_alloc_page()), so a sparse file larger than the tmpfs is
 *     fine and a write past CAP fails with ENOSPC.
 *   - reboot -r: init kills everything, unmounts every file system but
 *     devfs and its tmpfs copy (needs tmpfs), mounts vfs.root.mountfrom and
 *     runs init_path.  md and GEOM state survive; a vnode md whose file
 *     lives on an unmounted file system (the old root, a tmpfs) does not.
 *
 * Fixed names: /livemedia (the cd9660 medium), /livepart (a partition with
 * an ISO file), /liveupper (the capped upper's tmpfs), /newroot; md10 the
 * image (vnode or RAM copy), md11 an ISO file (findiso), md12 the upper;
 * gnop lrextN, gconcat lrimg, geom rowr or gunion "live" (/dev/live,
 * /dev/live.union).  Units from 10 up leave md0.. to the loader's md_image
 * preloads.
 *
 * The commands are the steps of plan_freebsd_steps.c (the plan as data,
 * which FreeBSD's liveroot-init executes), printed here one sh(1) line a
 * step, a "# why" line a note, the live.geom=auto branch as if/else/fi;
 * the header (set -e, PATH, nomedium(), die(), wait_dev()) is this file's.
 * So the script and the executor make the same calls
 * (tests/unit/test_fbsd_exec.c runs the two side by side).
 *
 * Stateless; no allocation; never prints.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/plan_freebsd.h>
#include <liveroot/plan_freebsd_steps.h>
#include <liveroot/util.h>

#include "human.h"

#define MEDIA		"/livemedia"
#define PART		"/livepart"
#define NEWROOT		"/newroot"
#define MD_IMAGE	10
#define MD_ISO		11
#define MD_UPPER	12
#define OVL		"live"
#define STDPATH		"/sbin:/bin:/usr/sbin:/usr/bin"
#define QLEN		4400	/* a 1023-byte URL quoted: at most 4094 */

struct out {
	void	(*line)(void *, const char *);
	void	*arg;
	int	indent;		/* inside an if: one tab */
	int	overflow;	/* a line or a quoted value did not fit */
};

/* The decisions the plan's lines and the commands share. */
struct decision {
	char			rel[260];
	const char		*image;	/* live.image, absolute */
	int			uzip;
	int			safe;	/* reroot safe: 1, 0, -1 unknown */
	enum live_handoff	h;	/* REROOT, CHROOT; AUTO: unknown */
	char			vnode[800];
};

static void LR_PRINTF(2, 3)
say(struct out *o, const char *fmt, ...)
{
	char buf[16384];
	va_list ap;
	int n, k;

	k = o->indent ? 1 : 0;
	buf[0] = '\t';
	va_start(ap, fmt);
	n = vsnprintf(buf + k, sizeof(buf) - (size_t)k, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - (size_t)k)
		o->overflow = 1;
	o->line(o->arg, buf);
}

/* s quoted for sh(1) when it needs it; o->overflow when it does not fit. */
static const char *
shq(struct out *o, const char *s, char *buf, size_t len)
{
	const char *p;
	size_t n = 0;

	for (p = s; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789/._:+=,@%-", *p) == NULL)
			break;
	if (*p == '\0' && *s != '\0') {
		if (strlen(s) >= len)
			o->overflow = 1;
		snprintf(buf, len, "%s", s);
		return (buf);
	}
	buf[n++] = '\'';
	for (p = s; *p != '\0'; p++) {
		if (n + 6 >= len) {
			o->overflow = 1;
			break;
		}
		if (*p == '\'') {
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else
			buf[n++] = *p;
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return (buf);
}

/* 1 when s holds a control character: it would break a command line. */
static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return (1);
	return (0);
}

int
plan_freebsd_image_is_uzip(const char *image)
{
	size_t n = strlen(image);
	static const char *const sfx[] = { ".uzip", ".ulzma", ".uzst" };
	size_t i, k;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		k = strlen(sfx[i]);
		if (n >= k && strcmp(image + n - k, sfx[i]) == 0)
			return (1);
	}
	return (0);
}

static int
parse_u64(const char *s, size_t n, uint64_t *v)
{
	char buf[32], *end;
	unsigned long long x;

	if (n == 0 || n >= sizeof(buf) || s[0] == '-' || s[0] == '+')
		return (EINVAL);
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	x = strtoull(buf, &end, 0);
	if (errno != 0 || *end != '\0')
		return (EINVAL);
	*v = x;
	return (0);
}

static int
parse_extents(const char *p, struct fbsd_source *s, const char *spec,
    struct diag *d)
{
	const char *e, *plus;
	uint64_t off, len, end;

	while (*p != '\0') {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		plus = memchr(p, '+', (size_t)(e - p));
		if (plus == NULL || parse_u64(p, (size_t)(plus - p), &off) ||
		    parse_u64(plus + 1, (size_t)(e - plus - 1), &len))
			return (diag_set(d, EINVAL, "--source %s: extent '%.*s' "
			    "is not OFFSET+LENGTH in bytes", spec,
			    (int)(e - p), p));
		if (len == 0 || off % 512 != 0 || len % 512 != 0 ||
		    lr_add_overflow(off, len, &end))
			return (diag_set(d, EINVAL, "--source %s: extent "
			    "%" PRIu64 "+%" PRIu64 " must be non-empty and "
			    "512-byte aligned (gnop needs whole sectors)",
			    spec, off, len));
		if (s->next == FBSD_MAX_EXTENTS)
			return (diag_set(d, EINVAL, "--source %s: more than %d "
			    "extents; defragment the image file", spec,
			    FBSD_MAX_EXTENTS));
		s->ext[s->next].off = off;
		s->ext[s->next].len = len;
		s->next++;
		p = *e == ',' ? e + 1 : e;
		if (*e == ',' && *p == '\0')
			return (diag_set(d, EINVAL, "--source %s: empty "
			    "extent after ','", spec));
	}
	return (0);
}

static int
copy_field(char *dst, size_t len, const char *src, size_t n, const char *what,
    const char *spec, struct diag *d)
{
	if (n == 0)
		return (diag_set(d, EINVAL, "--source %s: the %s is missing",
		    spec, what));
	if (n >= len)
		return (diag_set(d, EINVAL, "--source %s: the %s is longer "
		    "than %zu bytes", spec, what, len - 1));
	memcpy(dst, src, n);
	dst[n] = '\0';
	return (0);
}

int
plan_freebsd_parse_source(const char *spec, struct fbsd_source *s,
    struct diag *d)
{
	const char *colon, *rest, *c2, *c3;
	int strat, error;

	memset(s, 0, sizeof(*s));
	if (has_ctl(spec))
		return (diag_set(d, EINVAL, "--source: a control character "
		    "in the source"));
	if (strcmp(spec, "none") == 0) {
		s->none = 1;
		return (0);
	}
	colon = strchr(spec, ':');
	if (colon == NULL || (strat = config_strategy_from_name(spec,
	    (size_t)(colon - spec))) < 0)
		return (diag_set(d, EINVAL, "--source %s: give STRATEGY:..., "
		    "one of preload, local, ventoy, findiso, net (or none: "
		    "nothing found)", spec));
	s->strategy = (enum live_strategy)strat;
	rest = colon + 1;
	if (s->strategy == LIVE_S_NET) {
		if (strlen(rest) >= sizeof(s->url))
			return (diag_set(d, EINVAL, "--source: the URL is "
			    "longer than %zu bytes", sizeof(s->url) - 1));
		snprintf(s->url, sizeof(s->url), "%s", rest);
		return (0);
	}
	c2 = strchr(rest, ':');
	if ((error = copy_field(s->device, sizeof(s->device), rest,
	    c2 ? (size_t)(c2 - rest) : strlen(rest), "device", spec, d)) != 0)
		return (error);
	if (strncmp(s->device, "/dev/", 5) != 0 || s->device[5] == '\0')
		return (diag_set(d, EINVAL, "--source %s: the device must be "
		    "a /dev/ path", spec));
	switch (s->strategy) {
	case LIVE_S_PRELOAD:
		if (c2 != NULL)
			return (diag_set(d, EINVAL, "--source %s: preload takes "
			    "only the md device (preload:/dev/md0)", spec));
		return (0);
	case LIVE_S_LOCAL:
		if (c2 == NULL)
			return (0);
		return (parse_extents(c2 + 1, s, spec, d));
	case LIVE_S_VENTOY:
		if (c2 == NULL || c2[1] == '\0')
			return (diag_set(d, EINVAL, "--source %s: ventoy needs "
			    "the image's extents (ventoy:/dev/ada0:OFF+LEN,...; "
			    "`liveroot locate` prints them)", spec));
		return (parse_extents(c2 + 1, s, spec, d));
	case LIVE_S_FINDISO:
		if (c2 == NULL || c2[1] != '/')
			return (diag_set(d, EINVAL, "--source %s: findiso needs "
			    "the ISO's path on the partition "
			    "(findiso:/dev/da0s1:/isos/live.iso)", spec));
		c3 = strchr(c2 + 1, ':');
		if ((error = copy_field(s->path, sizeof(s->path), c2 + 1,
		    c3 ? (size_t)(c3 - c2 - 1) : strlen(c2 + 1), "ISO path",
		    spec, d)) != 0)
			return (error);
		snprintf(s->fstype, sizeof(s->fstype), "msdosfs");
		if (c3 != NULL && (error = copy_field(s->fstype,
		    sizeof(s->fstype), c3 + 1, strlen(c3 + 1), "file system "
		    "type", spec, d)) != 0)
			return (error);
		if (strcmp(s->fstype, "exfat") == 0)
			return (diag_set(d, EINVAL, "--source %s: FreeBSD's "
			    "base system has no exFAT driver; give the image's "
			    "extents instead (ventoy:DEVICE:OFF+LEN,..., from "
			    "`liveroot locate`)", spec));
		if (strcmp(s->fstype, "msdosfs") != 0 &&
		    strcmp(s->fstype, "ufs") != 0 &&
		    strcmp(s->fstype, "ext2fs") != 0)
			return (diag_set(d, EINVAL, "--source %s: file system "
			    "type '%s': use msdosfs, ufs or ext2fs", spec,
			    s->fstype));
		return (0);
	default:
		break;
	}
	return (diag_set(d, EINVAL, "--source %s: unknown strategy", spec));
}

int
plan_freebsd_reroot_safe(const struct fbsd_source *s, const char *image,
    int toram, char *vnode, size_t len)
{
	if (vnode != NULL && len > 0)
		vnode[0] = '\0';
	if (s->none)
		return (0);
	switch (s->strategy) {
	case LIVE_S_PRELOAD:
	case LIVE_S_NET:
		return (1);		/* the lower is already in RAM */
	case LIVE_S_LOCAL:
	case LIVE_S_VENTOY:
		if (s->next > 0)
			return (1);	/* gnop/gconcat over a disk: GEOM */
		if (toram)
			return (1);
		if (vnode != NULL)
			snprintf(vnode, len, "md%d reads the vnode %s%s "
			    "(cd9660 on %s, mounted in the old root)",
			    MD_IMAGE, MEDIA, image, s->device);
		return (0);
	case LIVE_S_FINDISO:
		if (toram)
			return (1);
		if (vnode != NULL)
			snprintf(vnode, len, "md%d reads the vnode %s%s "
			    "inside md%d, which reads the vnode %s%s (%s on "
			    "%s, mounted in the old root)", MD_IMAGE, MEDIA,
			    image, MD_ISO, PART, s->path, s->fstype,
			    s->device);
		return (0);
	default:
		break;
	}
	return (0);
}

enum live_handoff
plan_freebsd_handoff(enum live_handoff requested, int safe)
{
	if (requested == LIVE_HANDOFF_REROOT || requested == LIVE_HANDOFF_CHROOT)
		return (requested);
	if (safe < 0)
		return (LIVE_HANDOFF_AUTO);
	return (safe ? LIVE_HANDOFF_REROOT : LIVE_HANDOFF_CHROOT);
}

static void
decide(const struct live_config *c, const struct fbsd_source *s,
    struct decision *dc)
{
	/* live.image is a path on the medium; "rootfs.uzip" means the same
	 * as "/rootfs.uzip". */
	if (c->image[0] == '\0')
		dc->image = "/rootfs.uzip";
	else if (c->image[0] != '/') {
		snprintf(dc->rel, sizeof(dc->rel), "/%s", c->image);
		dc->image = dc->rel;
	} else
		dc->image = c->image;
	dc->uzip = plan_freebsd_image_is_uzip(dc->image);
	dc->vnode[0] = '\0';
	if (s == NULL)
		dc->safe = c->toram ? 1 : -1;	/* toram: RAM, whatever found */
	else
		dc->safe = plan_freebsd_reroot_safe(s, dc->image, c->toram,
		    dc->vnode, sizeof(dc->vnode));
	if (s != NULL && s->none)
		dc->h = LIVE_HANDOFF_AUTO;	/* there is no hand-off */
	else
		dc->h = plan_freebsd_handoff(c->handoff, dc->safe);
}

enum live_handoff
plan_freebsd_plan_handoff(const struct live_config *c,
    const struct fbsd_source *s)
{
	struct decision dc;

	decide(c, s, &dc);
	return (dc.h);
}

/* --- the plan's text lines ---------------------------------------------- */

/* A numbered plan line; a control character from a value shows as '?'. */
static void LR_PRINTF(3, 4)
num(struct out *o, unsigned *n, const char *fmt, ...)
{
	char buf[4096], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	say(o, "%u. %s", ++*n, buf);
}

static void
probe_order(const struct live_config *c, char *buf, size_t len)
{
	size_t i, k = 0;

	buf[0] = '\0';
	for (i = 0; i < c->nprobe && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? "," : "",
		    config_strategy_name(c->probe[i]));
}

static void
source_line(struct out *o, unsigned *n, const struct live_config *c,
    const struct fbsd_source *s, const struct decision *dc)
{
	const char *name = config_strategy_name(s->strategy);
	uint64_t total = 0;
	char a[32];
	size_t i;

	switch (s->strategy) {
	case LIVE_S_PRELOAD:
		num(o, n, "source: preload %s (the loader's md_image: in RAM)",
		    s->device);
		break;
	case LIVE_S_NET:
		num(o, n, "source: net %s, fetched into the swap-backed md%d "
		    "(%s)", s->url[0] != '\0' ? s->url : c->url, MD_IMAGE,
		    c->sha256[0] != '\0' ? "live.sha256 checked" :
		    "not verified: no live.sha256");
		break;
	case LIVE_S_LOCAL:
	case LIVE_S_VENTOY:
		if (s->next == 0) {
			num(o, n, "source: %s %s: cd9660 mounted on " MEDIA
			    ", " MEDIA "%s as a read-only vnode md%d", name,
			    s->device, dc->image, MD_IMAGE);
			break;
		}
		for (i = 0; i < s->next; i++)
			total += s->ext[i].len;
		probe_human(total, a, sizeof(a));
		num(o, n, "source: %s %s: the image's %zu extent%s (%s) as "
		    "%s", name, s->device, s->next, s->next == 1 ? "" : "s",
		    a, s->next == 1 ? "a gnop window" :
		    "gnop windows joined by gconcat");
		break;
	case LIVE_S_FINDISO:
		num(o, n, "source: findiso %s on %s (%s, on " PART "): the ISO "
		    "as the vnode md%d, its cd9660 on " MEDIA ", " MEDIA "%s "
		    "as the vnode md%d", s->path, s->device, s->fstype,
		    MD_ISO, dc->image, MD_IMAGE);
		break;
	default:
		break;
	}
}

/* The overlay's line; returns the root device the plan mounts. */
static const char *
overlay_line(struct out *o, unsigned *n, const struct live_config *c,
    enum live_handoff h, uint64_t cap, uint64_t ram)
{
	char a[32], b[32], capt[96];

	probe_human(cap, a, sizeof(a));
	probe_human(ram, b, sizeof(b));
	snprintf(capt, sizeof(capt), "%s (%" PRIu64 " bytes; RAM %s)", a, cap,
	    b);
	switch (c->geom) {
	case LIVE_GEOM_ROWR:
		if (h == LIVE_HANDOFF_CHROOT)
			num(o, n, "overlay: geom_rowr, the upper in RAM capped "
			    "at %s: a sparse file on a tmpfs of that size as "
			    "md%d; a write past the cap fails with ENOSPC",
			    capt, MD_UPPER);
		else if (h == LIVE_HANDOFF_REROOT)
			num(o, n, "overlay: geom_rowr, the upper a swap-backed "
			    "md%d as large as the image, not capped at %s: "
			    "reboot -r unmounts the tmpfs a cap needs",
			    MD_UPPER, capt);
		else
			num(o, n, "overlay: geom_rowr, the upper in RAM capped "
			    "at %s under chroot (a tmpfs-backed md%d); under "
			    "reroot a swap-backed md%d, not capped", capt,
			    MD_UPPER, MD_UPPER);
		return ("/dev/" OVL);
	case LIVE_GEOM_GUNION:
		num(o, n, "overlay: gunion, the upper a swap-backed md%d as "
		    "large as the image, not capped at %s: gunion marks a "
		    "write written even when the upper failed it, so its "
		    "upper must never fill", MD_UPPER, capt);
		return ("/dev/" OVL ".union");
	default:
		break;
	}
	if (h == LIVE_HANDOFF_CHROOT)
		num(o, n, "overlay: live.geom=auto: geom_rowr if it loads, "
		    "else gunion (the script logs which); geom_rowr caps the "
		    "upper in RAM at %s, gunion does not (a swap-backed md%d "
		    "as large as the image)", capt, MD_UPPER);
	else if (h == LIVE_HANDOFF_REROOT)
		num(o, n, "overlay: live.geom=auto: geom_rowr if it loads, "
		    "else gunion (the script logs which); the upper is a "
		    "swap-backed md%d as large as the image, not capped at %s: "
		    "reboot -r unmounts the tmpfs a cap needs", MD_UPPER, capt);
	else
		num(o, n, "overlay: live.geom=auto: geom_rowr if it loads, "
		    "else gunion (the script logs which); geom_rowr caps the "
		    "upper in RAM at %s under chroot; under reroot, or with "
		    "gunion, the upper is not capped", capt);
	return ("/dev/" OVL " (geom_rowr) or /dev/" OVL ".union (gunion)");
}

void
plan_freebsd_lines(const struct live_config *c, const struct fbsd_source *s,
    uint64_t overlay_cap, uint64_t ram_bytes,
    void (*line)(void *, const char *), void *arg)
{
	struct out o = { line, arg, 0, 0 };
	struct decision dc;
	char order[80];
	const char *root, *why;
	unsigned n = 0;

	decide(c, s, &dc);
	probe_order(c, order, sizeof(order));
	if (s == NULL)
		num(&o, &n, "source: probe %s (devices: wait up to %u s)",
		    order, c->timeout_s);
	else if (s->none) {
		num(&o, &n, "source: none found (live.probe=%s): the "
		    "diagnostic path", order);
		goto failure;
	} else
		source_line(&o, &n, c, s, &dc);
	if (c->toram)
		num(&o, &n, "toram: %s", s != NULL &&
		    (s->strategy == LIVE_S_PRELOAD || s->strategy ==
		    LIVE_S_NET) ? "the image is in RAM already" : "copy the "
		    "image into the swap-backed md10 first (the medium may "
		    "then go)");
	if (dc.uzip)
		num(&o, &n, "uzip: geom_uzip decompresses %s (read-only)",
		    dc.image);
	else
		num(&o, &n, "uzip: no, %s is a raw file system image (not "
		    ".uzip, .ulzma, .uzst)", dc.image);
	root = overlay_line(&o, &n, c, dc.h, overlay_cap, ram_bytes);
	switch (dc.h) {
	case LIVE_HANDOFF_REROOT:
		num(&o, &n, "mount: ufs %s as the new root (kenv "
		    "vfs.root.mountfrom)", root);
		if (dc.safe == 0)
			why = "FORCED by live.handoff=reroot and unsafe: ";
		else if (s == NULL || c->toram || s->strategy ==
		    LIVE_S_PRELOAD || s->strategy == LIVE_S_NET)
			why = "the image is in RAM";
		else
			why = "the image is read through GEOM windows of a "
			    "disk";
		num(&o, &n, "handoff: reroot to %s (reboot -r; md and GEOM "
		    "state survive): %s%s", c->init, why, dc.vnode);
		break;
	case LIVE_HANDOFF_CHROOT:
		num(&o, &n, "mount: ufs %s on " NEWROOT, root);
		num(&o, &n, "handoff: chroot to " NEWROOT " (init_chroot: "
		    "init(8) stays PID 1, chroots itself after the script and "
		    "runs /etc/rc; the live root's /boot nullfs-mounted over "
		    "the old /boot for firmware): %s%s", dc.safe == 0 ?
		    dc.vnode : "forced by live.handoff=chroot", dc.safe == 0 ?
		    ", which reboot -r would unmount" : "");
		break;
	default:
		num(&o, &n, "mount: ufs %s, as the new root or on " NEWROOT,
		    root);
		num(&o, &n, "handoff: decided by the source found: reroot "
		    "to %s if the image is in RAM (preload, toram, net) or "
		    "read through GEOM windows of a disk (extents), else "
		    "chroot to " NEWROOT " (init_chroot) with the live root's "
		    "/boot nullfs-mounted over the old /boot", c->init);
		break;
	}
failure:
	num(&o, &n, "on failure: the diagnostic block (disks seen, partitions, "
	    "a hint), then %s; never a reboot", c->shell ? "a rescue shell "
	    "(the script exits 1: init(8)'s single-user mode)" : "halt");
}

/* --- the commands -------------------------------------------------------- */

static const char *
geom_label(enum live_geom g)
{
	switch (g) {
	case LIVE_GEOM_ROWR:	return ("geom_rowr");
	case LIVE_GEOM_GUNION:	return ("gunion");
	default:		break;
	}
	return ("live.geom=auto (geom_rowr, else gunion)");
}

/* The top: what this is, set -e, PATH, nomedium(), die(), wait_dev(). */
static void
emit_header(struct out *o, const struct live_config *c,
    const struct fbsd_source *s, const struct decision *dc, const char *url)
{
	say(o, "#!/bin/sh");
	if (s->none)
		say(o, "# liveroot plan for FreeBSD 14+: no source found, the "
		    "diagnostic path");
	else
		say(o, "# liveroot plan for FreeBSD 14+: source %s %s, "
		    "hand-off %s, overlay %s",
		    config_strategy_name(s->strategy),
		    s->strategy == LIVE_S_NET ? url : s->device,
		    config_handoff_name(dc->h), geom_label(c->geom));
	say(o, "# run as init_script under init(8) (loader.conf: "
	    "init_script=\"/liveroot-init.sh\"); PID 1 stays init");
	say(o, "# a failed command ends the script (set -e), and init(8) "
	    "goes to single-user mode");
	if (c->handoff == LIVE_HANDOFF_SWITCH_ROOT)
		say(o, "# live.handoff=switch_root is Linux's; the FreeBSD "
		    "rule applies");
	if (dc->h == LIVE_HANDOFF_REROOT && dc->safe == 0)
		say(o, "# WARNING: live.handoff=reroot forced, but %s: "
		    "reboot -r unmounts it and the live root loses its lower; "
		    "use live.toram=1 or drop live.handoff", dc->vnode);
	say(o, "set -e");
	say(o, "# the base tools by name (LIVEROOT_PATH replaces the "
	    "directories: a test runs recording stand-ins)");
	say(o, "PATH=${LIVEROOT_PATH:-" STDPATH "}");
	say(o, "export PATH");
	say(o, "# no live root: the diagnostic block, then %s; never a "
	    "reboot", c->shell ? "a rescue shell (live.shell=1)" :
	    "halt (live.shell=1: a rescue shell)");
	say(o, "nomedium() {");
	o->indent = 1;
	say(o, "echo \"liveroot: ROOT IMAGE NOT FOUND: $1\" >&2");
	say(o, "echo \"liveroot: disks seen: $(sysctl -n kern.disks)\" >&2");
	say(o, "gpart show -p >&2 || :");
	say(o, "echo \"liveroot: hint: a disk that attaches late needs a "
	    "larger live.timeout (now %u s); no disk listed: this kernel "
	    "sees none (a missing driver, or a firmware-emulated medium "
	    "such as Ventoy's or PXE's)\" >&2", c->timeout_s);
	if (c->shell) {
		say(o, "# live.shell=1: exit 1, and init(8) starts its "
		    "single-user shell on the console");
		say(o, "exit 1");
	} else {
		say(o, "halt");
		say(o, "exit 1");
	}
	o->indent = 0;
	say(o, "}");
	if (s->none)
		return;
	say(o, "die() {");
	o->indent = 1;
	say(o, "echo \"liveroot: $1\" >&2");
	say(o, "exit 1");
	o->indent = 0;
	say(o, "}");
	say(o, "# wait_dev DEV SECONDS: until DEV answers diskinfo(8) (disks "
	    "and GEOM providers may appear late)");
	say(o, "wait_dev() {");
	o->indent = 1;
	say(o, "n=0");
	say(o, "until diskinfo \"$1\" > /dev/null 2>&1; do");
	say(o, "\tn=$((n + 1))");
	say(o, "\ttest \"$n\" -le \"$2\" || return 1");
	say(o, "\tsleep 1");
	say(o, "done");
	o->indent = 0;
	say(o, "}");
}

/* --- the steps as sh(1) lines ------------------------------------------- */

static const char *
tool_name(const char *path)
{
	const char *p = strrchr(path, '/');

	return (p != NULL ? p + 1 : path);
}

/* s for inside double quotes: ", $, ` and \ escaped. */
static const char *
dq(struct out *o, const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (n + 3 >= len) {
			o->overflow = 1;
			break;
		}
		if (strchr("\"$`\\", *s) != NULL)
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n] = '\0';
	return (buf);
}

/* One step as its sh(1) line (a note as its "# why" line). */
static void
render_step(struct out *o, const struct fbsd_step *s)
{
	char q1[QLEN], q2[QLEN], line[QLEN * 2], size[64];
	size_t i, k;

	switch (s->kind) {
	case FBSD_NOTE:
		say(o, "# %s", s->a);
		return;
	case FBSD_KLDLOAD:
		if (s->b != NULL)
			say(o, "kldload -n %s || die %s", s->a, shq(o, s->b, q1,
			    sizeof(q1)));
		else
			say(o, "kldload -n %s", s->a);
		return;
	case FBSD_KLDTRY:
		say(o, "if kldload -n %s 2>/dev/null; then", s->a);
		return;
	case FBSD_WAIT:
		say(o, "wait_dev %s %u || %s %s", shq(o, s->a, q1, sizeof(q1)),
		    s->secs, s->die ? "die" : "nomedium", shq(o, s->b, q2,
		    sizeof(q2)));
		return;
	case FBSD_MKDIR:
		say(o, "mkdir -p %s", shq(o, s->a, q1, sizeof(q1)));
		return;
	case FBSD_MOUNT:
		say(o, "mount -t %s%s%s %s %s", s->a, s->d ? " -o " : "",
		    s->d ? s->d : "", s->from_root ? "\"$root\"" : shq(o, s->b,
		    q1, sizeof(q1)), shq(o, s->c, q2, sizeof(q2)));
		return;
	case FBSD_UMOUNT:
		say(o, "umount %s", shq(o, s->a, q1, sizeof(q1)));
		return;
	case FBSD_EXEC:
		k = (size_t)snprintf(line, sizeof(line), "%s",
		    tool_name(s->argv[0]));
		for (i = 1; s->argv[i] != NULL && k < sizeof(line); i++)
			k += (size_t)snprintf(line + k, sizeof(line) - k, " %s",
			    shq(o, s->argv[i], q1, sizeof(q1)));
		if (k >= sizeof(line))
			o->overflow = 1;
		say(o, "%s", line);
		return;
	case FBSD_MDATTACH:
		if (!s->md.swap) {
			say(o, "mdconfig -a -t vnode%s -f %s -u %d",
			    s->md.readonly ? " -o readonly" : "", shq(o,
			    s->md.file, q1, sizeof(q1)), s->md.unit);
			return;
		}
		if (s->md.size_from_state)
			snprintf(size, sizeof(size), "%s", s->md.mib ?
			    "$(( (size + 1048575) / 1048576 ))m" : "${size}b");
		else if (s->md.mib)
			snprintf(size, sizeof(size), "%" PRIu64 "m",
			    s->md.bytes / 1048576);
		else
			snprintf(size, sizeof(size), "%" PRIu64 "b",
			    s->md.bytes);
		say(o, "mdconfig -a -t swap -s %s -u %d", size, s->md.unit);
		return;
	case FBSD_MDDETACH:
		say(o, "mdconfig -d -u %d", s->md.unit);
		return;
	case FBSD_DEVSIZE:
		say(o, "size=$(diskinfo %s | awk '{print $3}')", shq(o, s->a,
		    q1, sizeof(q1)));
		return;
	case FBSD_FILESIZE:
		say(o, "size=$(stat -f %%z %s)", shq(o, s->a, q1, sizeof(q1)));
		return;
	case FBSD_FETCHSIZE:
		say(o, "size=$(fetch -s %s) || nomedium %s", shq(o, s->a, q1,
		    sizeof(q1)), shq(o, s->b, q2, sizeof(q2)));
		return;
	case FBSD_FETCH:
		say(o, "{ fetch -o - %s || kill $$; } | dd of=%s ibs=64k "
		    "obs=1m conv=osync", shq(o, s->a, q1, sizeof(q1)), s->b);
		return;
	case FBSD_SHA256:
		say(o, "test \"$(dd if=%s bs=1m 2>/dev/null | head -c \"$size\" "
		    "| sha256 -q)\" = %s || die \"%s\"", s->a,
		    shq(o, s->b, q1, sizeof(q1)), dq(o, s->c, q2, sizeof(q2)));
		return;
	case FBSD_COPY:
		say(o, "dd if=%s of=%s bs=1m conv=osync", shq(o, s->a, q1,
		    sizeof(q1)), s->b);
		return;
	case FBSD_TRUNCATE:
		say(o, "truncate -s \"$size\" %s", shq(o, s->a, q1,
		    sizeof(q1)));
		return;
	case FBSD_ROOT:
		say(o, "root=%s", s->a);
		return;
	case FBSD_LOG:
		if (s->with_size)
			say(o, "echo \"liveroot: %s$size%s\" >&2", dq(o, s->a,
			    q1, sizeof(q1)), dq(o, s->c ? s->c : "", q2,
			    sizeof(q2)));
		else
			say(o, "echo \"liveroot: %s\" >&2", dq(o, s->a, q1,
			    sizeof(q1)));
		return;
	case FBSD_KENV:
		if (s->with_root)
			say(o, "kenv %s=%s$root", s->a, s->b);
		else
			say(o, "kenv %s=%s", s->a, shq(o, s->b, q1,
			    sizeof(q1)));
		return;
	case FBSD_REROOT:
		say(o, "reboot -r");
		return;
	case FBSD_NOMEDIUM:
		say(o, "nomedium %s", shq(o, s->a, q1, sizeof(q1)));
		return;
	}
	o->overflow = 1;	/* a step this printer does not know */
}

/* The steps in order; the conditional ones inside if/else/fi. */
static void
render(struct out *o, const struct fbsd_steps *st)
{
	enum fbsd_step_cond in = FBSD_ALWAYS;
	size_t i;

	for (i = 0; i < st->n; i++) {
		const struct fbsd_step *s = &st->step[i];

		if (s->cond != in) {
			o->indent = 0;
			if (in == FBSD_ALWAYS && s->cond == FBSD_IF_FAILED) {
				o->indent = 1;
				say(o, ":");
				o->indent = 0;
			}
			if (s->cond == FBSD_IF_FAILED)
				say(o, "else");
			else if (s->cond == FBSD_ALWAYS)
				say(o, "fi");
			else if (in == FBSD_IF_FAILED)
				o->overflow = 1;	/* not one if/else */
			o->indent = s->cond != FBSD_ALWAYS;
			in = s->cond;
		}
		render_step(o, s);
	}
	if (in != FBSD_ALWAYS) {
		o->indent = 0;
		say(o, "fi");
	}
}

int
plan_freebsd_commands(const struct live_config *c,
    const struct fbsd_source *s, uint64_t overlay_cap,
    void (*line)(void *arg, const char *text), void *arg, struct diag *d)
{
	struct out o = { line, arg, 0, 0 };
	struct fbsd_steps st;
	struct decision dc;
	int e;

	if ((e = plan_freebsd_steps(c, s, overlay_cap, &st, d)) != 0)
		return (e);
	decide(c, s, &dc);
	emit_header(&o, c, s, &dc, s->url[0] != '\0' ? s->url : c->url);
	render(&o, &st);
	if (o.overflow)
		return (diag_set(d, EINVAL, "a value too long for a command "
		    "line (live.image, live.url or the source)"));
	return (0);
}
