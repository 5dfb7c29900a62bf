/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plan_freebsd.c - the FreeBSD plan as the exact base-system commands an
 * init_script runs (see plan_freebsd.h).
 *
 * Where liveroot runs: as init_script under the stock /sbin/init (loader.conf
 * init_script=...), so PID 1 stays init(8).  That is what both hand-offs
 * need: reboot -r signals PID 1, and init(8) honours a reroot requested while
 * it waits for init_script; and init(8) reads the init_chroot kenv only
 * AFTER init_script returned (sbin/init/init.c main(): init_script, then
 * init_chroot), so the script can decide the chroot itself.  A `chroot
 * /newroot /sbin/init` from a script would fail: init refuses to run unless
 * it is PID 1.
 *
 * The data path uses base GEOM classes only (facts from the FreeBSD
 * sources, read for this file):
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
 *     NAME.union (else UPPER-LOWER.union), the upper at least as large as
 *     the union (g_union.c g_union_ctl_create()); the written map is in
 *     kernel memory, the upper takes every write.
 *   - reboot -r: init kills everything, unmounts every file system but
 *     devfs and its tmpfs copy (needs tmpfs), mounts vfs.root.mountfrom and
 *     runs init_path.  md and GEOM state survive; a vnode md whose file
 *     lives on the old root does not.
 *
 * Fixed names: /livemedia (the cd9660 medium), /livepart (a partition with
 * an ISO file), /newroot; md10 the image (vnode or RAM copy), md11 an ISO
 * file (findiso), md12 the upper; gnop lrextN, gconcat lrimg, gunion live.
 * Units from 10 up leave md0.. to the loader's md_image preloads.
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
#include <liveroot/util.h>

#define MEDIA		"/livemedia"
#define PART		"/livepart"
#define NEWROOT		"/newroot"
#define MD_IMAGE	10
#define MD_ISO		11
#define MD_UPPER	12
#define UNION_NAME	"live"

struct out {
	void	(*line)(void *, const char *);
	void	*arg;
};

static void LR_PRINTF(2, 3)
say(struct out *o, const char *fmt, ...)
{
	char buf[2400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	o->line(o->arg, buf);
}

/* s quoted for sh(1) when it needs it. */
static const char *
shq(const char *s, char *buf, size_t len)
{
	const char *p;
	size_t o = 0;

	for (p = s; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789/._:+=,@%-", *p) == NULL)
			break;
	if (*p == '\0' && *s != '\0') {
		snprintf(buf, len, "%s", s);
		return (buf);
	}
	if (len < 3)
		return ("''");
	buf[o++] = '\'';
	for (p = s; *p != '\0' && o + 6 < len; p++) {
		if (*p == '\'') {
			memcpy(buf + o, "'\\''", 4);
			o += 4;
		} else
			buf[o++] = *p;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
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

static const char *
dev_name(const char *dev)
{
	return (strncmp(dev, "/dev/", 5) == 0 ? dev + 5 : dev);
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
	colon = strchr(spec, ':');
	if (colon == NULL || (strat = config_strategy_from_name(spec,
	    (size_t)(colon - spec))) < 0)
		return (diag_set(d, EINVAL, "--source %s: give STRATEGY:..., "
		    "one of preload, local, ventoy, findiso, net", spec));
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
	return (safe ? LIVE_HANDOFF_REROOT : LIVE_HANDOFF_CHROOT);
}

/* mdconfig's whole-MiB size for "$size" bytes (dd conv=osync pads to 1m). */
#define MIB_OF_SIZE	"$(( (size + 1048575) / 1048576 ))m"

static void
emit_ram_copy(struct out *o, const char *fromq)
{
	say(o, "# live.toram: copy the image into a swap-backed md "
	    "(mdconfig(8): swap is preferable to malloc, whose large disks "
	    "can panic the kernel)");
	say(o, "size=$(stat -f %%z %s)", fromq);
	say(o, "mdconfig -a -t swap -s " MIB_OF_SIZE " -u %d", MD_IMAGE);
	say(o, "dd if=%s of=/dev/md%d bs=1m conv=osync", fromq, MD_IMAGE);
}

int
plan_freebsd_commands(const struct live_config *c,
    const struct fbsd_source *s, uint64_t overlay_cap,
    void (*line)(void *arg, const char *text), void *arg, struct diag *d)
{
	struct out o = { line, arg };
	char vnode[800], q1[1200], q2[1200], img[320], prov[160], lower[170];
	char rel[260];
	const char *url, *image;
	enum live_handoff h;
	int safe, uzip;
	uint64_t total = 0;
	size_t i;

	/* live.image is a path on the medium; "rootfs.uzip" means the same
	 * as "/rootfs.uzip". */
	if (c->image[0] == '\0')
		image = "/rootfs.uzip";
	else if (c->image[0] != '/') {
		snprintf(rel, sizeof(rel), "/%s", c->image);
		image = rel;
	} else
		image = c->image;
	url = s->url[0] != '\0' ? s->url : c->url;
	if (s->strategy == LIVE_S_NET && url[0] == '\0')
		return (diag_set(d, EINVAL, "net: no URL (give net:URL or "
		    "live.url=)"));
	if (has_ctl(image) || has_ctl(url) || has_ctl(c->init) ||
	    has_ctl(c->sha256) || has_ctl(s->device) || has_ctl(s->path))
		return (diag_set(d, EINVAL, "a control character in "
		    "live.image, live.url, live.init or the source: the "
		    "commands would break"));
	uzip = plan_freebsd_image_is_uzip(image);
	safe = plan_freebsd_reroot_safe(s, image, c->toram, vnode,
	    sizeof(vnode));
	h = plan_freebsd_handoff(c->handoff, safe);
	snprintf(img, sizeof(img), "%s%s", MEDIA, image);

	say(&o, "# liveroot plan for FreeBSD 14+: source %s %s, hand-off %s",
	    config_strategy_name(s->strategy), s->strategy == LIVE_S_NET ?
	    url : s->device, config_handoff_name(h));
	say(&o, "# run as init_script under init(8) (loader.conf: "
	    "init_script=\"/liveroot-init.sh\"); PID 1 stays init");
	if (c->handoff == LIVE_HANDOFF_SWITCH_ROOT)
		say(&o, "# live.handoff=switch_root is Linux's; the FreeBSD "
		    "rule applies");
	if (h == LIVE_HANDOFF_REROOT && !safe)
		say(&o, "# WARNING: live.handoff=reroot forced, but %s: "
		    "reboot -r unmounts it and the live root loses its lower; "
		    "use live.toram=1 or drop live.handoff", vnode);
	say(&o, "set -e");

	say(&o, "# kernel modules (kldload -n: already loaded or compiled "
	    "in is fine)");
	if (s->next > 0)
		say(&o, "kldload -n geom_nop");
	if (s->next > 1)
		say(&o, "kldload -n geom_concat");
	say(&o, "kldload -n geom_union");
	if (h == LIVE_HANDOFF_REROOT)
		say(&o, "kldload -n tmpfs");
	else
		say(&o, "kldload -n nullfs");

	/* The source: prov = the provider holding the image's bytes. */
	switch (s->strategy) {
	case LIVE_S_PRELOAD:
		say(&o, "# the loader preloaded the image as a memory disk "
		    "(md_image): RAM, it survives reroot");
		say(&o, "test -c %s", shq(s->device, q1, sizeof(q1)));
		snprintf(prov, sizeof(prov), "%s", dev_name(s->device));
		if (c->toram)
			say(&o, "# live.toram: the image is already in RAM");
		break;
	case LIVE_S_NET:
		say(&o, "# the network is up (the loader's boot.netif.*, or "
		    "dhclient); fetch -s prints the size without fetching");
		shq(url, q1, sizeof(q1));
		say(&o, "size=$(fetch -s %s)", q1);
		say(&o, "# a swap-backed md in whole MiB (mdconfig(8): swap "
		    "is preferable to malloc; dd pads the last block)");
		say(&o, "mdconfig -a -t swap -s " MIB_OF_SIZE " -u %d",
		    MD_IMAGE);
		say(&o, "# sh(1) may lack pipefail: a failed fetch ends this "
		    "script");
		say(&o, "{ fetch -o - %s || kill $$; } | dd of=/dev/md%d "
		    "ibs=64k obs=1m conv=osync", q1, MD_IMAGE);
		if (c->sha256[0] != '\0') {
			say(&o, "# live.sha256: hash exactly the fetched "
			    "bytes");
			say(&o, "test \"$(dd if=/dev/md%d bs=1m 2>/dev/null | "
			    "head -c \"$size\" | sha256 -q)\" = %s || { echo "
			    "\"liveroot: the fetched image's sha256 differs from "
			    "live.sha256: a damaged or wrong image\" >&2; "
			    "exit 1; }", MD_IMAGE, c->sha256);
		} else
			say(&o, "# no live.sha256: the download is not "
			    "verified");
		if (c->toram)
			say(&o, "# live.toram: the image is already in RAM");
		snprintf(prov, sizeof(prov), "md%d", MD_IMAGE);
		break;
	case LIVE_S_LOCAL:
	case LIVE_S_VENTOY:
		if (s->next == 0) {
			say(&o, "# the cd9660 medium holding the image");
			say(&o, "mkdir -p %s", MEDIA);
			say(&o, "mount_cd9660 %s %s", shq(s->device, q1,
			    sizeof(q1)), MEDIA);
			goto image_file;
		}
		say(&o, "# the image's extents on %s (from liveroot "
		    "locate): one gnop window each, provider NAME.nop",
		    s->device);
		for (i = 0; i < s->next; i++) {
			say(&o, "gnop create -o %" PRIu64 " -s %" PRIu64
			    " -Z lrext%zu %s", s->ext[i].off, s->ext[i].len, i,
			    shq(s->device, q1, sizeof(q1)));
			total += s->ext[i].len;
		}
		if (s->next == 1)
			snprintf(prov, sizeof(prov), "lrext0.nop");
		else {
			say(&o, "# joined in order (gconcat create: no "
			    "on-disk metadata), provider concat/lrimg");
			q1[0] = '\0';
			for (i = 0; i < s->next; i++) {
				snprintf(q2, sizeof(q2), "%s lrext%zu.nop", q1,
				    i);
				snprintf(q1, sizeof(q1), "%s", q2);
			}
			say(&o, "gconcat create lrimg%s", q1);
			snprintf(prov, sizeof(prov), "concat/lrimg");
		}
		if (c->toram) {
			say(&o, "# live.toram: copy the image into a "
			    "swap-backed md (mdconfig(8): swap is preferable "
			    "to malloc)");
			say(&o, "mdconfig -a -t swap -s %" PRIu64 "m -u %d",
			    (total + 1048575) / 1048576, MD_IMAGE);
			say(&o, "dd if=/dev/%s of=/dev/md%d bs=1m conv=osync",
			    prov, MD_IMAGE);
			say(&o, "# the disk may now go: the gnop windows "
			    "orphan, md%d does not", MD_IMAGE);
			snprintf(prov, sizeof(prov), "md%d", MD_IMAGE);
		}
		break;
	case LIVE_S_FINDISO:
		say(&o, "# the partition holding the ISO file, read-only");
		say(&o, "mkdir -p %s", PART);
		say(&o, "mount -t %s -o ro %s %s", s->fstype, shq(s->device,
		    q1, sizeof(q1)), PART);
		say(&o, "# the ISO file as a read-only vnode md, then its "
		    "cd9660 file system");
		snprintf(q2, sizeof(q2), "%s%s", PART, s->path);
		say(&o, "mdconfig -a -t vnode -o readonly -f %s -u %d",
		    shq(q2, q1, sizeof(q1)), MD_ISO);
		say(&o, "mkdir -p %s", MEDIA);
		say(&o, "mount_cd9660 /dev/md%d %s", MD_ISO, MEDIA);
		goto image_file;
	default:
		return (diag_set(d, EINVAL, "unknown strategy"));
	}
	goto lower;

image_file:
	shq(img, q1, sizeof(q1));
	if (c->toram) {
		emit_ram_copy(&o, q1);
		say(&o, "umount %s", MEDIA);
		if (s->strategy == LIVE_S_FINDISO) {
			say(&o, "mdconfig -d -u %d", MD_ISO);
			say(&o, "umount %s", PART);
		}
	} else {
		say(&o, "# a read-only vnode md over the image file: it needs "
		    "%s mounted as long as the live system runs", MEDIA);
		say(&o, "mdconfig -a -t vnode -o readonly -f %s -u %d", q1,
		    MD_IMAGE);
	}
	snprintf(prov, sizeof(prov), "md%d", MD_IMAGE);

lower:
	if (uzip) {
		snprintf(lower, sizeof(lower), "%s.uzip", prov);
		say(&o, "# geom_uzip tastes %s and creates %s (g_uzip.c); "
		    "wait for it", prov, lower);
		if (s->strategy == LIVE_S_NET && c->sha256[0] != '\0')
			say(&o, "# loaded only now, so the kernel does not parse "
			    "an unverified image (unless geom_uzip is compiled "
			    "in or preloaded)");
		say(&o, "kldload -n geom_uzip");
		say(&o, "for i in 1 2 3 4 5 6 7 8 9 10; do test -c /dev/%s "
		    "&& break; sleep 0.5; done", lower);
		say(&o, "test -c /dev/%s", lower);
	} else {
		snprintf(lower, sizeof(lower), "%s", prov);
		say(&o, "# %s is not a .uzip name: a raw file system image",
		    image);
	}
	say(&o, "# the upper: a swap-backed md as large as the lower "
	    "(gunion needs upper >= union); pages are allocated on write");
	say(&o, "size=$(diskinfo /dev/%s | awk '{print $3}')", lower);
	say(&o, "# live.overlay=%" PRIu64 " bytes: gunion cannot cap its "
	    "upper, so say when the image is larger than the cap",
	    overlay_cap);
	say(&o, "test \"$size\" -le %" PRIu64 " || echo \"liveroot: "
	    "live.overlay=%" PRIu64 " is below the image's $size bytes; "
	    "writes may use up to $size bytes of RAM\" >&2", overlay_cap,
	    overlay_cap);
	say(&o, "mdconfig -a -t swap -s ${size}b -u %d", MD_UPPER);
	say(&o, "# the union: unwritten sectors read from the lower, writes "
	    "go to the upper; provider %s.union", UNION_NAME);
	say(&o, "gunion create -Z %s /dev/md%d /dev/%s", UNION_NAME,
	    MD_UPPER, lower);

	if (h == LIVE_HANDOFF_REROOT) {
		say(&o, "# reboot -r: init kills every process, unmounts all "
		    "but devfs, mounts vfs.root.mountfrom, runs init_path; md "
		    "and GEOM state survive");
		say(&o, "kenv vfs.root.mountfrom=ufs:/dev/%s.union",
		    UNION_NAME);
		if (strcmp(c->init, "/sbin/init") != 0)
			say(&o, "kenv init_path=%s", shq(c->init, q1,
			    sizeof(q1)));
		say(&o, "reboot -r");
		return (0);
	}
	if (safe)
		say(&o, "# live.handoff=chroot: reroot would be safe here");
	else
		say(&o, "# chroot: %s; reboot -r would unmount it", vnode);
	say(&o, "mkdir -p %s", NEWROOT);
	say(&o, "mount -t ufs /dev/%s.union %s", UNION_NAME, NEWROOT);
	say(&o, "# firmware and module autoload open /boot/... against the "
	    "kernel's root (the old root): show the live root's /boot there");
	say(&o, "mount -t nullfs -o ro %s/boot /boot", NEWROOT);
	say(&o, "# init(8) reads init_chroot after this script returns and "
	    "chroots itself (PID 1) into the live root");
	if (strcmp(c->init, "/sbin/init") != 0)
		say(&o, "# live.init=%s is not used: init(8) stays PID 1 and "
		    "runs /etc/rc inside the chroot", c->init);
	say(&o, "kenv init_chroot=%s", NEWROOT);
	return (0);
}
