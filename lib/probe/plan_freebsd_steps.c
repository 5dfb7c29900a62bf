/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plan_freebsd_steps.c - the FreeBSD plan as a list of steps, and the
 * executor that runs it through a table of operations (see
 * plan_freebsd_steps.h).
 *
 * plan_freebsd_steps() makes the decisions of plan_freebsd.c
 * (plan_freebsd_plan_handoff(), plan_freebsd_reroot_safe()) into steps:
 * fixed md units (10 the image, 11 an ISO file, 12 the upper), fixed GEOM
 * names (lrextN, lrimg, live), fixed mount points, and a note before the
 * steps it explains.  plan_freebsd_commands() prints these steps as the
 * script; fbsd_exec() below runs them.  tests/unit/test_fbsd_exec.c holds
 * the executor's calls to tests/golden/freebsd/NAME.calls (the script's,
 * against recording stand-ins) and runs both forms side by side.
 *
 * Invariants: every string a step points at lives in st->arena (or is a
 * literal); a step list that overflowed the arena or the step array is
 * refused whole (EINVAL), never run in part.  fbsd_exec() keeps the
 * script's two variables (size, root) and its one branch; it never builds
 * a command line from text: a base tool gets the step's argv as it is.
 *
 * No allocation; library code: the executor speaks only through ops.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/plan_freebsd_steps.h>
#include <liveroot/util.h>

#define MEDIA		"/livemedia"
#define PART		"/livepart"
#define UPPERDIR	"/liveupper"
#define NEWROOT		"/newroot"
#define MD_IMAGE	10
#define MD_ISO		11
#define MD_UPPER	12
#define OVL		"live"
#define UZIP_WAIT	5

/* --- building ------------------------------------------------------------- */

static const char * LR_PRINTF(2, 3)
str(struct fbsd_steps *st, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(st->arena) - st->used;
	char *p = st->arena + st->used;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		st->overflow = 1;
		return ("");
	}
	st->used += (size_t)n + 1;
	return (p);
}

static struct fbsd_step *
add(struct fbsd_steps *st, enum fbsd_step_cond cond, enum fbsd_step_kind k)
{
	struct fbsd_step *s;

	if (st->n == FBSD_MAX_STEPS) {
		st->overflow = 1;	/* refused whole; fill the spare */
		memset(&st->spare, 0, sizeof(st->spare));
		return (&st->spare);
	}
	s = &st->step[st->n++];
	memset(s, 0, sizeof(*s));
	s->kind = k;
	s->cond = cond;
	return (s);
}

static void
step_a(struct fbsd_steps *st, enum fbsd_step_cond cond, enum fbsd_step_kind k,
    const char *a)
{
	add(st, cond, k)->a = a;
}

/* A note: the script's "# why" line before the steps it explains. */
static void LR_PRINTF(3, 4)
note(struct fbsd_steps *st, enum fbsd_step_cond cond, const char *fmt, ...)
{
	char buf[1600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	add(st, cond, FBSD_NOTE)->a = str(st, "%s", buf);
}

/* An exec step of n arguments (argv[0] the tool), copied into the pool. */
static void
step_argv(struct fbsd_steps *st, enum fbsd_step_cond cond,
    const char *const *v, size_t n)
{
	static const char *const empty[] = { NULL };
	struct fbsd_step *s = add(st, cond, FBSD_EXEC);

	if (n > FBSD_MAX_ARGV || st->nargv + n + 1 > FBSD_ARGV_POOL) {
		st->overflow = 1;
		s->argv = empty;
		return;
	}
	memcpy(&st->argv[st->nargv], v, n * sizeof(v[0]));
	st->argv[st->nargv + n] = NULL;
	s->argv = &st->argv[st->nargv];
	st->nargv += n + 1;
}

/* An exec step: tool, then its arguments ending with NULL. */
static void
step_exec(struct fbsd_steps *st, enum fbsd_step_cond cond, const char *tool,
    ...)
{
	const char *v[FBSD_MAX_ARGV + 1];
	va_list ap;
	size_t n = 0;

	v[n++] = tool;
	va_start(ap, tool);
	while (n <= FBSD_MAX_ARGV && (v[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	step_argv(st, cond, v, n);
}

static void
step_wait(struct fbsd_steps *st, const char *dev, unsigned secs, int die,
    const char *msg)
{
	struct fbsd_step *s = add(st, FBSD_ALWAYS, FBSD_WAIT);

	s->a = dev;
	s->secs = secs;
	s->die = die;
	s->b = msg;
}

static void
step_mount(struct fbsd_steps *st, enum fbsd_step_cond cond,
    const char *fstype, const char *from, const char *on, const char *opts)
{
	struct fbsd_step *s = add(st, cond, FBSD_MOUNT);

	s->a = fstype;
	s->b = from;
	s->from_root = from == NULL;
	s->c = on;
	s->d = opts;
}

static void
step_md(struct fbsd_steps *st, enum fbsd_step_cond cond, int unit, int swap,
    int readonly, const char *file, int from_state, int mib, uint64_t bytes)
{
	struct fbsd_step *s = add(st, cond, FBSD_MDATTACH);

	s->md.unit = unit;
	s->md.swap = swap;
	s->md.readonly = readonly;
	s->md.file = file;
	s->md.size_from_state = from_state;
	s->md.mib = mib;
	s->md.bytes = bytes;
}

static void
step_log(struct fbsd_steps *st, enum fbsd_step_cond cond, const char *a,
    int with_size, const char *c)
{
	struct fbsd_step *s = add(st, cond, FBSD_LOG);

	s->a = a;
	s->with_size = with_size;
	s->c = c;
}

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

/* geom_rowr over "size" bytes of /dev/LOWER. */
static void
rowr(struct fbsd_steps *st, enum fbsd_step_cond k, enum live_handoff h,
    const char *lower, uint64_t cap)
{
	if (h == LIVE_HANDOFF_CHROOT) {
		note(st, k, "the upper, capped at live.overlay=%" PRIu64 " "
		    "bytes: a sparse file of the image's size on a tmpfs of "
		    "that size, as md%d; past the cap a write fails with "
		    "ENOSPC and geom_rowr leaves it unwritten", cap, MD_UPPER);
		step_a(st, k, FBSD_KLDLOAD, "tmpfs");
		step_a(st, k, FBSD_MKDIR, UPPERDIR);
		step_mount(st, k, "tmpfs", "tmpfs", UPPERDIR,
		    str(st, "size=%" PRIu64, cap));
		step_a(st, k, FBSD_TRUNCATE, UPPERDIR "/upper");
		step_md(st, k, MD_UPPER, 0, 0, UPPERDIR "/upper", 0, 0, 0);
	} else {
		note(st, k, "the upper: a swap-backed md as large as the "
		    "image, pages allocated on write; not capped at "
		    "live.overlay=%" PRIu64 ": reboot -r unmounts every file "
		    "system but devfs, so a capped upper (a file on a tmpfs) "
		    "would not survive it", cap);
		step_md(st, k, MD_UPPER, 1, 0, NULL, 1, 0, 0);
	}
	note(st, k, "geom_rowr: unwritten granules read from the lower, "
	    "writes go to the upper; provider /dev/" OVL);
	step_exec(st, k, "/sbin/geom", "rowr", "create", OVL, lower,
	    str(st, "md%d", MD_UPPER), NULL);
	step_a(st, k, FBSD_ROOT, "/dev/" OVL);
	if (h == LIVE_HANDOFF_CHROOT)
		step_log(st, k, str(st, "overlay: geom_rowr, the upper capped "
		    "at %" PRIu64 " bytes of RAM", cap), 0, NULL);
	else
		step_log(st, k, "overlay: geom_rowr, the upper not capped "
		    "under reroot: writes may use up to ", 1, str(st, " bytes "
		    "of RAM (live.overlay=%" PRIu64 " is not enforced)", cap));
}

static void
gunion(struct fbsd_steps *st, enum fbsd_step_cond k, const char *lower,
    uint64_t cap)
{
	note(st, k, "the upper: a swap-backed md as large as the image "
	    "(gunion needs upper >= union), pages allocated on write; not "
	    "capped: gunion marks a write written even when the upper "
	    "failed it, so its upper must never fill");
	step_md(st, k, MD_UPPER, 1, 0, NULL, 1, 0, 0);
	note(st, k, "the union: unwritten sectors read from the lower, "
	    "writes go to the upper; provider " OVL ".union");
	step_exec(st, k, "/sbin/gunion", "create", "-Z", OVL,
	    str(st, "/dev/md%d", MD_UPPER), str(st, "/dev/%s", lower), NULL);
	step_a(st, k, FBSD_ROOT, "/dev/" OVL ".union");
	step_log(st, k, "overlay: gunion, the upper not capped: writes may use "
	    "up to ", 1, str(st, " bytes of RAM (live.overlay=%" PRIu64 " is "
	    "not enforced)", cap));
}

static void
overlay(struct fbsd_steps *st, const struct live_config *c,
    enum live_handoff h, const char *lower, uint64_t cap)
{
	struct fbsd_step *s;

	note(st, FBSD_ALWAYS, "the lower's size in bytes (diskinfo(8): the "
	    "third field)");
	step_a(st, FBSD_ALWAYS, FBSD_DEVSIZE, str(st, "/dev/%s", lower));
	switch (c->geom) {
	case LIVE_GEOM_ROWR:
		note(st, FBSD_ALWAYS, "live.geom=rowr: geom_rowr, liveroot's "
		    "GEOM class");
		s = add(st, FBSD_ALWAYS, FBSD_KLDLOAD);
		s->a = "geom_rowr";
		s->b = "live.geom=rowr, but geom_rowr does not load: install "
		    "geom_rowr.ko and geom_rowr.so (liveroot freebsd/), or use "
		    "live.geom=auto";
		rowr(st, FBSD_ALWAYS, h, lower, cap);
		return;
	case LIVE_GEOM_GUNION:
		note(st, FBSD_ALWAYS, "live.geom=gunion: gunion, FreeBSD 14 "
		    "base");
		step_a(st, FBSD_ALWAYS, FBSD_KLDLOAD, "geom_union");
		gunion(st, FBSD_ALWAYS, lower, cap);
		return;
	default:
		break;
	}
	note(st, FBSD_ALWAYS, "live.geom=auto: geom_rowr when it loads (it "
	    "can cap the upper), else gunion (FreeBSD 14 base); the script "
	    "logs which");
	s = add(st, FBSD_ALWAYS, FBSD_KLDTRY);
	s->a = "geom_rowr";
	s->quiet = 1;
	rowr(st, FBSD_IF_LOADED, h, lower, cap);
	step_a(st, FBSD_IF_FAILED, FBSD_KLDLOAD, "geom_union");
	gunion(st, FBSD_IF_FAILED, lower, cap);
}

static void
wait_medium(struct fbsd_steps *st, const struct live_config *c,
    const char *dev)
{
	step_wait(st, dev, c->timeout_s, 0, str(st, "%s did not appear within "
	    "live.timeout=%u s", dev, c->timeout_s));
}

/* The source: 1 when the image is a file on MEDIA, 0 when prov holds it. */
static int
source(struct fbsd_steps *st, const struct live_config *c,
    const struct fbsd_source *s, const char *url, char *prov, size_t provlen)
{
	const char *av[FBSD_MAX_ARGV + 1];
	struct fbsd_step *x;
	uint64_t total = 0;
	size_t i;

	switch (s->strategy) {
	case LIVE_S_PRELOAD:
		note(st, FBSD_ALWAYS, "the loader preloaded the image as a "
		    "memory disk (md_image): RAM, it survives reroot");
		step_wait(st, str(st, "%s", s->device), 0, 0, str(st, "no %s: "
		    "the loader preloaded no image (loader.conf: "
		    "NAME_type=\"md_image\")", s->device));
		snprintf(prov, provlen, "%s", dev_name(s->device));
		if (c->toram)
			note(st, FBSD_ALWAYS, "live.toram: the image is already "
			    "in RAM");
		return (0);
	case LIVE_S_NET:
		note(st, FBSD_ALWAYS, "the network is up (the loader's "
		    "boot.netif.*, or dhclient); fetch -s prints the size "
		    "without fetching");
		x = add(st, FBSD_ALWAYS, FBSD_FETCHSIZE);
		x->a = url;
		x->b = str(st, "fetch -s %s failed: no network, or the server "
		    "does not have it", url);
		note(st, FBSD_ALWAYS, "a swap-backed md in whole MiB "
		    "(mdconfig(8): swap is preferable to malloc; dd pads the "
		    "last block)");
		step_md(st, FBSD_ALWAYS, MD_IMAGE, 1, 0, NULL, 1, 1, 0);
		note(st, FBSD_ALWAYS, "sh(1) may lack pipefail: a failed fetch "
		    "ends this script");
		x = add(st, FBSD_ALWAYS, FBSD_FETCH);
		x->a = url;
		x->b = str(st, "/dev/md%d", MD_IMAGE);
		if (c->sha256[0] != '\0') {
			note(st, FBSD_ALWAYS, "live.sha256: hash exactly the "
			    "fetched bytes");
			x = add(st, FBSD_ALWAYS, FBSD_SHA256);
			x->a = str(st, "/dev/md%d", MD_IMAGE);
			x->b = str(st, "%s", c->sha256);
			x->c = "the fetched image's sha256 differs from "
			    "live.sha256: a damaged or wrong image";
		} else
			note(st, FBSD_ALWAYS, "no live.sha256: the download is "
			    "not verified");
		if (c->toram)
			note(st, FBSD_ALWAYS, "live.toram: the image is already "
			    "in RAM");
		snprintf(prov, provlen, "md%d", MD_IMAGE);
		return (0);
	case LIVE_S_LOCAL:
	case LIVE_S_VENTOY:
		if (s->next == 0) {
			note(st, FBSD_ALWAYS, "the cd9660 medium holding the "
			    "image");
			wait_medium(st, c, str(st, "%s", s->device));
			step_a(st, FBSD_ALWAYS, FBSD_MKDIR, MEDIA);
			step_exec(st, FBSD_ALWAYS, "/sbin/mount_cd9660",
			    str(st, "%s", s->device), MEDIA, NULL);
			return (1);
		}
		note(st, FBSD_ALWAYS, "the disk holding the image's extents");
		wait_medium(st, c, str(st, "%s", s->device));
		note(st, FBSD_ALWAYS, "the image's extents on %s (from liveroot "
		    "locate): one gnop window each, provider NAME.nop",
		    s->device);
		for (i = 0; i < s->next; i++) {
			step_exec(st, FBSD_ALWAYS, "/sbin/gnop", "create",
			    "-o", str(st, "%" PRIu64, s->ext[i].off), "-s",
			    str(st, "%" PRIu64, s->ext[i].len), "-Z",
			    str(st, "lrext%zu", i), str(st, "%s", s->device),
			    NULL);
			total += s->ext[i].len;
		}
		if (s->next == 1)
			snprintf(prov, provlen, "lrext0.nop");
		else {
			note(st, FBSD_ALWAYS, "joined in order (gconcat create: "
			    "no on-disk metadata), provider concat/lrimg");
			av[0] = "/sbin/gconcat";
			av[1] = "create";
			av[2] = "lrimg";
			for (i = 0; i < s->next; i++)
				av[3 + i] = str(st, "lrext%zu.nop", i);
			step_argv(st, FBSD_ALWAYS, av, 3 + s->next);
			snprintf(prov, provlen, "concat/lrimg");
		}
		if (c->toram) {
			note(st, FBSD_ALWAYS, "live.toram: copy the image into a "
			    "swap-backed md (mdconfig(8): swap is preferable to "
			    "malloc)");
			step_md(st, FBSD_ALWAYS, MD_IMAGE, 1, 0, NULL, 0, 1,
			    (total + 1048575) / 1048576 * 1048576);
			x = add(st, FBSD_ALWAYS, FBSD_COPY);
			x->a = str(st, "/dev/%s", prov);
			x->b = str(st, "/dev/md%d", MD_IMAGE);
			note(st, FBSD_ALWAYS, "the disk may now go: the gnop "
			    "windows orphan, md%d does not", MD_IMAGE);
			snprintf(prov, provlen, "md%d", MD_IMAGE);
		}
		return (0);
	case LIVE_S_FINDISO:
		note(st, FBSD_ALWAYS, "the partition holding the ISO file, "
		    "read-only");
		wait_medium(st, c, str(st, "%s", s->device));
		step_a(st, FBSD_ALWAYS, FBSD_MKDIR, PART);
		step_mount(st, FBSD_ALWAYS, str(st, "%s", s->fstype),
		    str(st, "%s", s->device), PART, "ro");
		note(st, FBSD_ALWAYS, "the ISO file as a read-only vnode md, "
		    "then its cd9660 file system");
		step_md(st, FBSD_ALWAYS, MD_ISO, 0, 1, str(st, "%s%s", PART,
		    s->path), 0, 0, 0);
		step_a(st, FBSD_ALWAYS, FBSD_MKDIR, MEDIA);
		step_exec(st, FBSD_ALWAYS, "/sbin/mount_cd9660",
		    str(st, "/dev/md%d", MD_ISO), MEDIA, NULL);
		return (1);
	default:
		break;
	}
	return (-1);
}

/* The image on MEDIA (local, findiso) as md10, or copied into RAM. */
static void
image_file(struct fbsd_steps *st, const struct live_config *c,
    const struct fbsd_source *s, const char *img, char *prov, size_t provlen)
{
	struct fbsd_step *x;

	if (c->toram) {
		note(st, FBSD_ALWAYS, "live.toram: copy the image into a "
		    "swap-backed md (mdconfig(8): swap is preferable to "
		    "malloc, whose large disks can panic the kernel)");
		step_a(st, FBSD_ALWAYS, FBSD_FILESIZE, img);
		step_md(st, FBSD_ALWAYS, MD_IMAGE, 1, 0, NULL, 1, 1, 0);
		x = add(st, FBSD_ALWAYS, FBSD_COPY);
		x->a = img;
		x->b = str(st, "/dev/md%d", MD_IMAGE);
		step_a(st, FBSD_ALWAYS, FBSD_UMOUNT, MEDIA);
		if (s->strategy == LIVE_S_FINDISO) {
			x = add(st, FBSD_ALWAYS, FBSD_MDDETACH);
			x->md.unit = MD_ISO;
			step_a(st, FBSD_ALWAYS, FBSD_UMOUNT, PART);
		}
	} else {
		note(st, FBSD_ALWAYS, "a read-only vnode md over the image "
		    "file: it needs %s mounted as long as the live system runs",
		    MEDIA);
		step_md(st, FBSD_ALWAYS, MD_IMAGE, 0, 1, img, 0, 0, 0);
	}
	snprintf(prov, provlen, "md%d", MD_IMAGE);
}

/* reboot -r, or init_chroot with the live root's /boot. */
static void
handoff(struct fbsd_steps *st, const struct live_config *c,
    enum live_handoff h, int safe, const char *vnode)
{
	struct fbsd_step *x;

	if (h == LIVE_HANDOFF_REROOT) {
		note(st, FBSD_ALWAYS, "reboot -r: init kills every process, "
		    "unmounts all but devfs, mounts vfs.root.mountfrom, runs "
		    "init_path; md and GEOM state survive");
		x = add(st, FBSD_ALWAYS, FBSD_KENV);
		x->a = "vfs.root.mountfrom";
		x->b = "ufs:";
		x->with_root = 1;
		if (strcmp(c->init, "/sbin/init") != 0) {
			x = add(st, FBSD_ALWAYS, FBSD_KENV);
			x->a = "init_path";
			x->b = str(st, "%s", c->init);
		}
		add(st, FBSD_ALWAYS, FBSD_REROOT);
		return;
	}
	if (safe)
		note(st, FBSD_ALWAYS, "live.handoff=chroot: reroot would be "
		    "safe here");
	else
		note(st, FBSD_ALWAYS, "chroot: %s; reboot -r would unmount it",
		    vnode);
	step_a(st, FBSD_ALWAYS, FBSD_MKDIR, NEWROOT);
	step_mount(st, FBSD_ALWAYS, "ufs", NULL, NEWROOT, NULL);
	note(st, FBSD_ALWAYS, "firmware and module autoload open /boot/... "
	    "against the kernel's root (the old root): show the live root's "
	    "/boot there");
	step_mount(st, FBSD_ALWAYS, "nullfs", NEWROOT "/boot", "/boot", "ro");
	note(st, FBSD_ALWAYS, "init(8) reads init_chroot after this script "
	    "returns and chroots itself (PID 1) into the live root");
	if (strcmp(c->init, "/sbin/init") != 0)
		note(st, FBSD_ALWAYS, "live.init=%s is not used: init(8) stays "
		    "PID 1 and runs /etc/rc inside the chroot", c->init);
	x = add(st, FBSD_ALWAYS, FBSD_KENV);
	x->a = "init_chroot";
	x->b = NEWROOT;
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

int
plan_freebsd_steps(const struct live_config *c, const struct fbsd_source *s,
    uint64_t overlay_cap, struct fbsd_steps *st, struct diag *d)
{
	char order[80], prov[160], lower[170], rel[260], vnode[800];
	const char *url, *image, *img;
	struct fbsd_step *x;
	int r, safe;

	memset(st, 0, sizeof(*st));
	st->timeout_s = c->timeout_s;
	st->shell = c->shell;
	if (c->image[0] == '\0')
		image = LIVE_DEFAULT_IMAGE;
	else if (c->image[0] != '/') {
		snprintf(rel, sizeof(rel), "/%s", c->image);
		image = rel;
	} else
		image = c->image;
	url = str(st, "%s", s->url[0] != '\0' ? s->url : c->url);
	if (!s->none && s->strategy == LIVE_S_NET && url[0] == '\0')
		return (diag_set(d, EINVAL, "net: no URL (give net:URL or "
		    "live.url=)"));
	if (has_ctl(image) || has_ctl(url) || has_ctl(c->init) ||
	    has_ctl(c->sha256) || has_ctl(s->device) || has_ctl(s->path))
		return (diag_set(d, EINVAL, "a control character in "
		    "live.image, live.url, live.init or the source: the "
		    "commands would break"));
	safe = plan_freebsd_reroot_safe(s, image, c->toram, vnode,
	    sizeof(vnode));
	st->handoff = plan_freebsd_plan_handoff(c, s);
	if (s->none) {
		probe_order(c, order, sizeof(order));
		note(st, FBSD_ALWAYS, "the probe found no live image");
		step_a(st, FBSD_ALWAYS, FBSD_NOMEDIUM, str(st, "no strategy of "
		    "live.probe=%s found %s", order, image));
		goto done;
	}
	note(st, FBSD_ALWAYS, "kernel modules (kldload -n: already loaded or "
	    "compiled in is fine)");
	if (s->next > 0)
		step_a(st, FBSD_ALWAYS, FBSD_KLDLOAD, "geom_nop");
	if (s->next > 1)
		step_a(st, FBSD_ALWAYS, FBSD_KLDLOAD, "geom_concat");
	step_a(st, FBSD_ALWAYS, FBSD_KLDLOAD, st->handoff ==
	    LIVE_HANDOFF_REROOT ? "tmpfs" : "nullfs");
	if ((r = source(st, c, s, url, prov, sizeof(prov))) < 0)
		return (diag_set(d, EINVAL, "unknown strategy"));
	if (r == 1) {
		img = str(st, "%s%s", MEDIA, image);
		image_file(st, c, s, img, prov, sizeof(prov));
	}
	if (plan_freebsd_image_is_uzip(image)) {
		snprintf(lower, sizeof(lower), "%s.uzip", prov);
		note(st, FBSD_ALWAYS, "geom_uzip tastes %s and creates %s "
		    "(g_uzip.c); wait for it", prov, lower);
		if (s->strategy == LIVE_S_NET && c->sha256[0] != '\0')
			note(st, FBSD_ALWAYS, "loaded only now, so the kernel "
			    "does not parse an unverified image (unless "
			    "geom_uzip is compiled in or preloaded)");
		step_a(st, FBSD_ALWAYS, FBSD_KLDLOAD, "geom_uzip");
		x = add(st, FBSD_ALWAYS, FBSD_WAIT);
		x->a = str(st, "/dev/%s", lower);
		x->secs = UZIP_WAIT;
		x->die = 1;
		x->b = str(st, "geom_uzip made no /dev/%s: the image %s is not "
		    "a uzip image (mkuzip), or it is damaged", lower, image);
	} else {
		snprintf(lower, sizeof(lower), "%s", prov);
		note(st, FBSD_ALWAYS, "%s is not a .uzip name: a raw file "
		    "system image", image);
	}
	overlay(st, c, st->handoff, str(st, "%s", lower), overlay_cap);
	handoff(st, c, st->handoff, safe, vnode);
done:
	if (st->overflow)
		return (diag_set(d, EINVAL, "a value too long for a command "
		    "line (live.image, live.url or the source): the plan does "
		    "not fit in %d steps and %d bytes", FBSD_MAX_STEPS,
		    FBSD_ARENA));
	return (0);
}

/* --- running -------------------------------------------------------------- */

struct run {
	const struct fbsd_ops	*ops;
	uint64_t		size;
	char			root[160];
	int			loaded;		/* the last FBSD_KLDTRY */
};

static void LR_PRINTF(2, 3)
con(const struct fbsd_ops *ops, const char *fmt, ...)
{
	char buf[1600];
	va_list ap;

	memcpy(buf, "liveroot: ", 10);
	va_start(ap, fmt);
	vsnprintf(buf + 10, sizeof(buf) - 10, fmt, ap);
	va_end(ap);
	ops->console(ops->arg, buf);
}

const char *
fbsd_step_name(const struct fbsd_step *s)
{
	switch (s->kind) {
	case FBSD_KLDLOAD:
	case FBSD_KLDTRY:	return ("kldload");
	case FBSD_WAIT:		return ("the device wait");
	case FBSD_MKDIR:	return ("mkdir");
	case FBSD_MOUNT:	return ("mount");
	case FBSD_UMOUNT:	return ("unmount");
	case FBSD_EXEC:		return (s->argv != NULL && s->argv[0] != NULL ?
				    s->argv[0] : "exec");
	case FBSD_MDATTACH:	return ("mdconfig -a");
	case FBSD_MDDETACH:	return ("mdconfig -d");
	case FBSD_DEVSIZE:	return ("the media size");
	case FBSD_FILESIZE:	return ("the file size");
	case FBSD_FETCHSIZE:	return ("fetch -s");
	case FBSD_FETCH:	return ("fetch");
	case FBSD_SHA256:	return ("sha256");
	case FBSD_COPY:		return ("the copy into RAM");
	case FBSD_TRUNCATE:	return ("truncate");
	case FBSD_ROOT:		return ("root");
	case FBSD_LOG:		return ("log");
	case FBSD_KENV:		return ("kenv");
	case FBSD_REROOT:	return ("reboot -r");
	case FBSD_NOMEDIUM:	return ("the diagnostic path");
	case FBSD_NOTE:		return ("note");
	}
	return ("?");
}

/* The diagnostic path (the script's nomedium()): always status 1. */
static int
nomedium(const struct fbsd_steps *st, const struct fbsd_ops *ops,
    const char *why)
{
	static const char *const gpart[] = { "/sbin/gpart", "show", "-p",
	    NULL };
	char disks[512];
	int status;

	con(ops, "ROOT IMAGE NOT FOUND: %s", why);
	disks[0] = '\0';
	ops->disks(ops->arg, disks, sizeof(disks));
	con(ops, "disks seen: %s", disks);
	(void)ops->exec(ops->arg, gpart, &status);
	con(ops, "hint: a disk that attaches late needs a larger live.timeout "
	    "(now %u s); no disk listed: this kernel sees none (a missing "
	    "driver, or a firmware-emulated medium such as Ventoy's or PXE's)",
	    st->timeout_s);
	if (!st->shell) {
		(void)ops->halt(ops->arg);
		con(ops, "halt failed: exit 1 to init(8)'s single-user mode");
	}
	return (1);
}

static int
fail(const struct fbsd_step *s, const struct fbsd_ops *ops, int error,
    const char *what)
{
	con(ops, "%s failed (%s): %s", what, fbsd_step_name(s),
	    strerror(error));
	return (1);
}

static int
run_step(const struct fbsd_steps *st, const struct fbsd_step *s,
    struct run *r)
{
	const struct fbsd_ops *ops = r->ops;
	char buf[1200], hex[65];
	uint64_t v;
	unsigned n;
	int e, status;

	switch (s->kind) {
	case FBSD_KLDLOAD:
		if ((e = ops->kldload(ops->arg, s->a, 0)) == 0)
			return (0);
		if (s->b != NULL) {
			con(ops, "%s", s->b);
			return (1);
		}
		snprintf(buf, sizeof(buf), "kldload %s", s->a);
		return (fail(s, ops, e, buf));
	case FBSD_KLDTRY:
		r->loaded = ops->kldload(ops->arg, s->a, s->quiet) == 0;
		return (0);
	case FBSD_WAIT:
		for (n = 0; ops->dev_present(ops->arg, s->a) != 0; ) {
			if (++n > s->secs) {
				if (s->die) {
					con(ops, "%s", s->b);
					return (1);
				}
				return (nomedium(st, ops, s->b));
			}
			ops->sleep1(ops->arg);
		}
		return (0);
	case FBSD_MKDIR:
		if ((e = ops->mkdir_p(ops->arg, s->a)) != 0)
			return (fail(s, ops, e, s->a));
		return (0);
	case FBSD_MOUNT:
		if ((e = ops->mount(ops->arg, s->a, s->from_root ? r->root :
		    s->b, s->c, s->d)) != 0) {
			snprintf(buf, sizeof(buf), "%s %s on %s", s->a,
			    s->from_root ? r->root : s->b, s->c);
			return (fail(s, ops, e, buf));
		}
		return (0);
	case FBSD_UMOUNT:
		if ((e = ops->unmount(ops->arg, s->a)) != 0)
			return (fail(s, ops, e, s->a));
		return (0);
	case FBSD_EXEC:
		if (s->argv == NULL || s->argv[0] == NULL)
			return (fail(s, ops, EINVAL, "an empty command"));
		if ((e = ops->exec(ops->arg, s->argv, &status)) != 0)
			return (fail(s, ops, e, s->argv[0]));
		if (status != 0) {
			con(ops, "%s %s exited with status %d: see its message "
			    "above", s->argv[0], s->argv[1] ? s->argv[1] : "",
			    status);
			return (1);
		}
		return (0);
	case FBSD_MDATTACH:
		v = s->md.bytes;
		if (s->md.size_from_state) {
			v = r->size;
			if (s->md.mib)
				v = (v + 1048575) / 1048576 * 1048576;
		}
		if ((e = ops->md_attach(ops->arg, &s->md, v)) != 0) {
			snprintf(buf, sizeof(buf), "md%d (%s)", s->md.unit,
			    s->md.swap ? "swap" : s->md.file);
			return (fail(s, ops, e, buf));
		}
		return (0);
	case FBSD_MDDETACH:
		if ((e = ops->md_detach(ops->arg, s->md.unit)) != 0) {
			snprintf(buf, sizeof(buf), "md%d", s->md.unit);
			return (fail(s, ops, e, buf));
		}
		return (0);
	case FBSD_DEVSIZE:
		if ((e = ops->dev_size(ops->arg, s->a, &r->size)) != 0)
			return (fail(s, ops, e, s->a));
		return (0);
	case FBSD_FILESIZE:
		if ((e = ops->file_size(ops->arg, s->a, &r->size)) != 0)
			return (fail(s, ops, e, s->a));
		return (0);
	case FBSD_FETCHSIZE:
		if (ops->fetch_size(ops->arg, s->a, &r->size) != 0)
			return (nomedium(st, ops, s->b));
		return (0);
	case FBSD_FETCH:
		if ((e = ops->fetch(ops->arg, s->a, s->b)) != 0)
			return (fail(s, ops, e, s->a));
		return (0);
	case FBSD_SHA256:
		if ((e = ops->sha256(ops->arg, s->a, r->size, hex)) != 0)
			return (fail(s, ops, e, s->a));
		if (strcmp(hex, s->b) != 0) {
			con(ops, "%s", s->c);
			return (1);
		}
		return (0);
	case FBSD_COPY:
		if ((e = ops->copy(ops->arg, s->a, s->b)) != 0) {
			snprintf(buf, sizeof(buf), "%s into %s", s->a, s->b);
			return (fail(s, ops, e, buf));
		}
		return (0);
	case FBSD_TRUNCATE:
		if ((e = ops->truncate(ops->arg, s->a, r->size)) != 0)
			return (fail(s, ops, e, s->a));
		return (0);
	case FBSD_ROOT:
		snprintf(r->root, sizeof(r->root), "%s", s->a);
		return (0);
	case FBSD_LOG:
		if (s->with_size)
			con(ops, "%s%" PRIu64 "%s", s->a, r->size,
			    s->c ? s->c : "");
		else
			con(ops, "%s", s->a);
		return (0);
	case FBSD_KENV:
		snprintf(buf, sizeof(buf), "%s%s", s->b, s->with_root ?
		    r->root : "");
		if ((e = ops->kenv_set(ops->arg, s->a, buf)) != 0)
			return (fail(s, ops, e, s->a));
		return (0);
	case FBSD_REROOT:
		e = ops->reroot(ops->arg);
		return (e != 0 ? fail(s, ops, e, "reboot -r") : 0);
	case FBSD_NOMEDIUM:
		return (nomedium(st, ops, s->a));
	case FBSD_NOTE:
		return (0);
	}
	con(ops, "step %d: unknown", (int)s->kind);
	return (1);
}

int
fbsd_exec(const struct fbsd_steps *st, const struct fbsd_ops *ops,
    size_t *failed)
{
	struct run r;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.ops = ops;
	for (i = 0; i < st->n; i++) {
		const struct fbsd_step *s = &st->step[i];

		if ((s->cond == FBSD_IF_LOADED && !r.loaded) ||
		    (s->cond == FBSD_IF_FAILED && r.loaded))
			continue;
		if (run_step(st, s, &r) != 0) {
			if (failed != NULL)
				*failed = i;
			return (1);
		}
	}
	if (failed != NULL)
		*failed = st->n;
	return (0);
}

/* --- FreeBSD's boot arguments ---------------------------------------------- */

size_t
fbsd_config_from_kenv(struct live_config *c, const char *buf, size_t len)
{
	char key[64];
	const char *p = buf, *end = buf + len, *nul, *eq;
	size_t n = 0, k;

	while (p < end) {
		nul = memchr(p, '\0', (size_t)(end - p));
		if (nul == NULL)
			nul = end;	/* a truncated last entry: skipped */
		eq = memchr(p, '=', (size_t)(nul - p));
		if (eq != NULL && (k = (size_t)(eq - p)) > 0 &&
		    k < sizeof(key) && nul < end) {
			memcpy(key, p, k);
			key[k] = '\0';
			if (config_set(c, key, eq + 1, LIVE_SRC_CMDLINE))
				n++;
		}
		p = nul + 1;
	}
	return (n);
}
