/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * chain.c - the ordered probe chain and the plan (see chain.h).
 *
 * Portable: the strategies are callbacks of the platform, so the order,
 * grouping, logging and error bookkeeping are decided here and unit-tested
 * on any host.  A strategy's source is owned by the chain until it returns
 * it: a strategy that says "not here" or "error" must leave out->bdev NULL
 * (the chain clears it anyway).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/chain.h>
#include <liveroot/fmt_uzip.h>
#include <liveroot/initramfs.h>

#include "human.h"

static int
is_device_strategy(enum live_strategy s)
{
	return (s == LIVE_S_LOCAL || s == LIVE_S_VENTOY || s == LIVE_S_FINDISO);
}

size_t
probe_chain_steps(const struct live_config *c, struct probe_step *steps,
    size_t max)
{
	size_t i, n = 0;
	enum live_strategy s;

	for (i = 0; i < c->nprobe && i < LIVE_S_COUNT; i++) {
		s = c->probe[i];
		if (is_device_strategy(s)) {
			if (n > 0 && steps[n - 1].devices) {
				steps[n - 1].order[steps[n - 1].norder++] = s;
				continue;
			}
			if (n == max)
				break;
			memset(&steps[n], 0, sizeof(steps[n]));
			steps[n].devices = 1;
			steps[n].strategy = s;
			steps[n].order[0] = s;
			steps[n].norder = 1;
			n++;
		} else {
			if (n == max)
				break;
			memset(&steps[n], 0, sizeof(steps[n]));
			steps[n].strategy = s;
			n++;
		}
	}
	return (n);
}

static void LR_PRINTF(2, 3)
logf_(const struct probe_ops *ops, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (ops->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ops->log(ops->arg, line);
}

static void
step_name(const struct probe_step *st, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	if (!st->devices) {
		snprintf(buf, len, "%s", config_strategy_name(st->strategy));
		return;
	}
	for (i = 0; i < st->norder && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "+" : "",
		    config_strategy_name(st->order[i]));
}

void
probe_source_clear(struct probe_source *s)
{
	bdev_destroy(s->bdev);
	free(s->hashes);
	memset(s, 0, sizeof(*s));
}

int
probe_chain_run(const struct live_config *c, const struct probe_ops *ops,
    struct probe_source *src, struct probe_chain_result *r)
{
	struct probe_step steps[LIVE_S_COUNT];
	enum probe_outcome o;
	struct diag d;
	size_t i, n;
	char name[64];

	memset(r, 0, sizeof(*r));
	memset(src, 0, sizeof(*src));
	n = probe_chain_steps(c, steps, LIVE_S_COUNT);
	for (i = 0; i < n; i++) {
		step_name(&steps[i], name, sizeof(name));
		diag_clear(&d);
		memset(src, 0, sizeof(*src));
		if (steps[i].devices) {
			if (ops->devices == NULL) {
				logf_(ops, "probe %s: no block devices on this "
				    "platform, skipped", name);
				continue;
			}
			logf_(ops, "probe %s: waiting up to %u s for a "
			    "device holding %s%s%s", name, c->timeout_s,
			    c->image, c->label[0] ? " on a medium labelled " :
			    "", c->label);
			o = ops->devices(ops->arg, &steps[i], c, src, &d);
		} else {
			if (ops->immediate == NULL) {
				logf_(ops, "probe %s: not available on this "
				    "platform, skipped", name);
				continue;
			}
			o = ops->immediate(ops->arg, steps[i].strategy, c, src,
			    &d);
		}
		r->attempts++;
		switch (o) {
		case PROBE_FOUND:
			if (src->bdev == NULL && src->size == 0) {
				logf_(ops, "probe %s: a strategy reported a "
				    "find without a source; ignored", name);
				break;
			}
			src->strategy = steps[i].devices ? src->strategy :
			    steps[i].strategy;
			r->found = 1;
			return (0);
		case PROBE_NOT_HERE:
			logf_(ops, "probe %s: not found%s%s", name,
			    d.msg[0] ? ": " : "", d.msg);
			break;
		case PROBE_ERROR:
		default:
			r->errors++;
			if (d.code == 0)
				diag_set(&d, EIO, "%s failed", name);
			r->last_error = d;
			logf_(ops, "probe %s: error: %s", name, d.msg);
			break;
		}
		probe_source_clear(src);
	}
	logf_(ops, "probe: no strategy found the root image (%zu tried, %zu "
	    "with errors)", r->attempts, r->errors);
	return (ENOENT);
}

/* --- the plan ------------------------------------------------------------ */

/* fmt_uzip_probe() (preamble, codec letter) and a version digit 2..9. */
int
plan_is_uzip_magic(const void *buf, size_t len)
{
	const unsigned char *b = buf;

	return (fmt_uzip_probe(buf, len) && b[FMT_UZIP_OFS_VERSN] >= '2' &&
	    b[FMT_UZIP_OFS_VERSN] <= '9');
}

void
plan_build(const struct live_config *c, const struct probe_source *src,
    int uzip, uint64_t ram_bytes, enum plan_platform platform,
    struct live_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->platform = platform;
	if (src != NULL) {
		p->have_source = 1;
		p->source = *src;
		p->source.bdev = NULL;
	}
	memcpy(p->probe, c->probe, sizeof(p->probe));
	p->nprobe = c->nprobe;
	p->timeout_s = c->timeout_s;
	p->toram = c->toram;
	p->uzip = uzip;
	p->ram_bytes = ram_bytes;
	p->overlay_cap = config_overlay_bytes(c, ram_bytes);
	p->granule = 4096;
	/*
	 * 512-byte logical blocks: a file system with 1 KiB blocks (mke2fs
	 * picks them for small images) cannot mount on a device with larger
	 * logical blocks; the page cache still sends 4 KiB requests.
	 */
	p->nbd_blksize = 512;
	snprintf(p->nbd_dev, sizeof(p->nbd_dev), "%s",
	    platform == PLAN_LINUX ? "/dev/nbd0" :
	    "gunion live.union");
	snprintf(p->fstype, sizeof(p->fstype), "%s",
	    platform == PLAN_LINUX ? "ext4" : "ufs");
	snprintf(p->newroot, sizeof(p->newroot), "%s", INITRAMFS_NEWROOT);
	p->handoff = c->handoff;
	if (p->handoff == LIVE_HANDOFF_AUTO)
		p->handoff = platform == PLAN_LINUX ?
		    LIVE_HANDOFF_SWITCH_ROOT : LIVE_HANDOFF_REROOT;
	else if (p->handoff == LIVE_HANDOFF_REROOT && platform == PLAN_LINUX)
		p->handoff = LIVE_HANDOFF_SWITCH_ROOT;
	snprintf(p->init, sizeof(p->init), "%s", c->init);
	p->shell = c->shell;
	p->rootfs = FMT_FS_UNKNOWN;
	p->innerfs = FMT_FS_UNKNOWN;
	snprintf(p->lowerdir, sizeof(p->lowerdir), "%s", PLAN_LOWER_DIR);
	snprintf(p->rwdir, sizeof(p->rwdir), "%s", PLAN_RW_DIR);
	snprintf(p->inner_dev, sizeof(p->inner_dev), "%s", PLAN_INNER_DEV);
	if (platform == PLAN_LINUX && c->url[0] != '\0')
		for (size_t i = 0; i < c->nprobe; i++)
			if (c->probe[i] == LIVE_S_NET)
				p->net = 1;
	p->net_fetch = c->fetch;
	p->net_prefetch = c->prefetch;
	p->net_share = c->fetch_share ? c->fetch_share :
	    LIVE_DEFAULT_FETCH_SHARE;
	if (c->persist_label[0] != '\0') {
		p->persist = platform == PLAN_LINUX;
		p->persist_other = !p->persist;
		snprintf(p->persist_label, sizeof(p->persist_label), "%s",
		    c->persist_label);
		snprintf(p->persist_file, sizeof(p->persist_file), "%s",
		    c->persist_file);
		snprintf(p->persist_upper, sizeof(p->persist_upper), "%s%s",
		    PLAN_PERSIST_DIR, c->persist_file);
		p->persist_size = c->persist_size;
		if (src != NULL)
			snprintf(p->persist_lower, sizeof(p->persist_lower),
			    "%.200s on %.100s", c->image, src->device);
		else
			snprintf(p->persist_lower, sizeof(p->persist_lower),
			    "%s", c->image);
	}
}

void
plan_drop_persist(struct live_plan *p)
{
	p->persist = 0;
}

void
plan_set_rootfs(struct live_plan *p, enum fmt_fs fs)
{
	p->rootfs = fs;
	p->inner = 0;
	p->innerfs = FMT_FS_UNKNOWN;
	if (p->platform != PLAN_LINUX || fs == FMT_FS_UNKNOWN)
		return;
	snprintf(p->fstype, sizeof(p->fstype), "%s", fmt_fs_name(fs));
	if (fmt_fs_readonly(fs)) {
		p->inner = -1;
		if (p->persist) {	/* overlayfs upper on it: not yet */
			p->persist = 0;
			p->persist_other = 1;
		}
	}
}

void
plan_set_inner(struct live_plan *p, int found, enum fmt_fs fs)
{
	if (!fmt_fs_readonly(p->rootfs))
		return;
	p->inner = found ? 1 : 0;
	p->innerfs = found ? fs : FMT_FS_UNKNOWN;
}

int
plan_uses_overlayfs(const struct live_plan *p)
{
	return (p->platform == PLAN_LINUX && fmt_fs_readonly(p->rootfs) &&
	    p->inner != 1);
}

const char *
plan_root_dev(const struct live_plan *p)
{
	if (p->platform == PLAN_LINUX && fmt_fs_readonly(p->rootfs))
		return (p->inner == 1 ? p->inner_dev : NULL);
	return (p->nbd_dev);
}

void
plan_inner_spec(const struct live_plan *p, struct stack_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->uzip = STACK_UZIP_NO;
	s->upper = STACK_UPPER_RAM;
	s->ram_cap = p->overlay_cap;
	s->granule = p->granule;
}

int
plan_detect_fs(struct bdev *img, const struct live_plan *p, enum fmt_fs *fs,
    struct diag *d)
{
	struct stack_spec s;
	struct bdev *b;
	unsigned char *buf;
	size_t len;
	int error;

	*fs = FMT_FS_UNKNOWN;
	plan_stack_spec(p, &s);
	s.upper = STACK_UPPER_NONE;
	s.flags = STACK_READONLY;
	s.cache = 1;
	s.workers = 1;
	bdev_ref(img);		/* stack_open_on consumes this reference */
	if ((error = stack_open_on(img, &s, &b, NULL, d)) != 0)
		return (error);
	len = bdev_size(b) < FMT_FS_PROBE_LEN ? (size_t)bdev_size(b) :
	    FMT_FS_PROBE_LEN;
	if ((buf = malloc(len ? len : 1)) == NULL) {
		bdev_destroy(b);
		return (diag_set(d, ENOMEM, "out of memory reading the root "
		    "image's file system"));
	}
	if ((error = bdev_read(b, buf, len, 0, d)) == 0)
		*fs = fmt_fs_detect(buf, len);
	else
		diag_prefix(d, "reading the root image's file system: ");
	free(buf);
	bdev_destroy(b);
	return (error);
}

static void LR_PRINTF(4, 5)
emit(void (*line)(void *, const char *), void *arg, unsigned *n,
    const char *fmt, ...)
{
	char buf[1400];
	va_list ap;
	int o;

	o = snprintf(buf, sizeof(buf), "%u. ", ++*n);
	va_start(ap, fmt);
	vsnprintf(buf + o, sizeof(buf) - (size_t)o, fmt, ap);
	va_end(ap);
	line(arg, buf);
}

void
plan_stack_spec(const struct live_plan *p, struct stack_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->uzip = p->uzip == 1 ? STACK_UZIP_YES : p->uzip == 0 ?
	    STACK_UZIP_NO : STACK_UZIP_AUTO;
	if (p->have_source && p->source.hashes != NULL) {
		/* the lazy net source: every cluster checked as it comes */
		s->hashes = p->source.hashes;
		s->hashes_len = p->source.hashes_len;
		s->hashes_name = p->source.hashes_name;
	}
	if (p->platform == PLAN_LINUX && fmt_fs_readonly(p->rootfs)) {
		/* Served as it is: the overlay is above the file system. */
		s->upper = STACK_UPPER_NONE;
		s->flags = STACK_READONLY;
		return;
	}
	s->granule = p->granule;
	if (p->persist) {
		s->upper = STACK_UPPER_FILE;
		s->upper_path = p->persist_upper;
		s->lower = p->persist_lower;	/* recorded in a new map */
		s->flags = STACK_CREATE;
		return;
	}
	s->upper = STACK_UPPER_RAM;
	s->ram_cap = p->overlay_cap;
}

/* The rowr line: the spec of the writable root's stack, as printed. */
static void
rowr_line(const struct live_plan *p, void (*line)(void *, const char *),
    void *arg, unsigned *n)
{
	struct stack_spec ss;
	char a[32], b[32];

	if (p->platform == PLAN_LINUX && fmt_fs_readonly(p->rootfs))
		plan_inner_spec(p, &ss);
	else
		plan_stack_spec(p, &ss);
	if (ss.upper == STACK_UPPER_FILE) {
		probe_human(p->persist_size, a, sizeof(a));
		emit(line, arg, n, "persist: mount the file system labelled "
		    "\"%s\" (ext4, FAT or exFAT) read-write on %s, where "
		    "only the NBD server sees it (it unmounts it at shutdown)",
		    p->persist_label, PLAN_PERSIST_DIR);
		emit(line, arg, n, "rowr: persistent upper %s with its map "
		    "%s.rowrmap, granule %u; on the first boot both are made "
		    "(the upper sparse at the union's size; FAT and exFAT "
		    "cannot hold holes and get it whole), holding at most %s; "
		    "a map made for another image is refused with both "
		    "named, and the overlay is in RAM instead",
		    p->persist_file, p->persist_file, ss.granule,
		    p->persist_size ? a : "the union's size or the free "
		    "space there");
		return;
	}
	probe_human(ss.ram_cap, a, sizeof(a));
	probe_human(p->ram_bytes, b, sizeof(b));
	emit(line, arg, n, "rowr: RAM upper capped at %s (%" PRIu64
	    " bytes; RAM %s), granule %u", a, ss.ram_cap, b, ss.granule);
	if (p->persist_other)
		emit(line, arg, n, "persist: LABEL=%s:%s is not used %s: "
		    "changes are not kept", p->persist_label,
		    p->persist_file, p->platform == PLAN_FREEBSD ? "on "
		    "FreeBSD yet" : "with a squashfs or erofs root yet (its "
		    "overlayfs upper is in RAM)");
}

/*
 * A read-only root (squashfs, erofs): served read-only, mounted read-only,
 * then dracut's rootfs.img in it or an overlayfs.  Before the image was
 * read (rootfs unknown) this is the alternative to the writable plan.
 */
static void
readonly_lines(const struct live_plan *p,
    void (*line)(void *, const char *), void *arg, unsigned *n)
{
	char a[32];

	probe_human(p->overlay_cap, a, sizeof(a));
	if (p->rootfs == FMT_FS_UNKNOWN) {
		emit(line, arg, n, "or, a squashfs or erofs image: no rowr; "
		    "%s served read-only, mounted read-only on %s; its %s "
		    "(dracut) is the root through rowr on %s if present, "
		    "else an overlayfs on %s with a tmpfs upper capped at %s "
		    "on %s", p->nbd_dev, p->lowerdir, PLAN_DRACUT_IMAGE,
		    p->inner_dev, p->newroot, a, p->rwdir);
		return;
	}
	emit(line, arg, n, "file system: %s, read-only: no rowr; %s",
	    p->fstype, p->inner == 1 ? "a container of the root image" :
	    "an overlayfs makes the root writable");
	emit(line, arg, n, "nbd: serve the image read-only to the kernel on "
	    "%s (socketpair; server process outlives the hand-off)",
	    p->nbd_dev);
	emit(line, arg, n, "mount: %s %s read-only on %s", p->fstype,
	    p->nbd_dev, p->lowerdir);
	if (p->inner == 1) {
		emit(line, arg, n, "dracut: %s/%s (%s) is the root", p->lowerdir,
		    PLAN_DRACUT_IMAGE, fmt_fs_name(p->innerfs));
		rowr_line(p, line, arg, n);
		emit(line, arg, n, "nbd: serve the stack to the kernel on %s "
		    "(socketpair; server process outlives the hand-off)",
		    p->inner_dev);
		emit(line, arg, n, "mount: %s %s on %s",
		    fmt_fs_name(p->innerfs), p->inner_dev, p->newroot);
		return;
	}
	if (p->inner == -1)
		emit(line, arg, n, "dracut: if %s/%s exists, it is the root "
		    "instead (rowr capped at %s, %s, mounted on %s)",
		    p->lowerdir, PLAN_DRACUT_IMAGE, a, p->inner_dev,
		    p->newroot);
	emit(line, arg, n, "overlayfs: tmpfs capped at %s (%" PRIu64
	    " bytes) on %s for upper/ and work/; overlay lowerdir=%s on %s "
	    "(both stay visible in the live root under /run/liveroot)", a,
	    p->overlay_cap, p->rwdir, p->lowerdir, p->newroot);
}

/*
 * The network's part (Linux): before the probe, the lazy stack and its
 * fallback (or the full download); after it, the fill layer of a lazy
 * source.
 */
static void
net_lines(const struct live_plan *p, void (*line)(void *, const char *),
    void *arg, unsigned *n)
{
	char bg[160], a[32];

	if (p->have_source) {
		if (!p->source.lazy)
			return;
		if (p->source.prefetch)
			snprintf(bg, sizeof(bg), "then the rest in the "
			    "background at %u%% of the time while the boot "
			    "reads, then at full speed",
			    p->source.fill_share);
		else
			snprintf(bg, sizeof(bg), "no background fill");
		probe_human(p->source.fill_chunk, a, sizeof(a));
		emit(line, arg, n, "fill: the image into RAM as it is read, "
		    "in %s chunks, demand reads first, %s; the network is "
		    "needed until the whole image is in RAM", a, bg);
		return;
	}
	if (!p->net)
		return;
	if (p->net_fetch == LIVE_FETCH_FULL) {
		emit(line, arg, n, "net: live.fetch=full: the whole image "
		    "into RAM first, checked (live.sha256=, signature), then "
		    "used");
		return;
	}
	if (p->net_prefetch)
		snprintf(bg, sizeof(bg), "then the rest in the background at "
		    "%u%% of the time while the boot reads, then at full "
		    "speed", p->net_share);
	else
		snprintf(bg, sizeof(bg), "no background fill "
		    "(live.fetch.prefetch=off)");
	emit(line, arg, n, "net: live.fetch=lazy: URL.hashes into RAM first, "
	    "verified (by URL.hashes.sig when the initramfs has a signify "
	    "key, and by live.sha256=, which then pins URL.hashes); http "
	    "(Range requests, the file pinned by its ETag, Last-Modified and "
	    "size) -> fill (RAM: demand reads first, %s) -> uzip, every "
	    "cluster checked against URL.hashes -> rowr -> nbd: the system "
	    "starts before the image is in", bg);
	emit(line, arg, n, "net fallback: the whole image into RAM first, "
	    "checked, as with live.fetch=full, when the server serves no "
	    "ranges, when there is no URL.hashes(.sig) to check it by, or "
	    "when live.sha256= is the image's; the background fill needs "
	    "RAM for the image and the overlay once complete: without it, "
	    "the fill is demand-only");
}

void
plan_lines(const struct live_plan *p, void (*line)(void *, const char *),
    void *arg)
{
	struct stack_spec ss;
	char order[80], a[32];
	unsigned n = 0;
	size_t i, o = 0;

	order[0] = '\0';
	for (i = 0; i < p->nprobe && o < sizeof(order); i++)
		o += (size_t)snprintf(order + o, sizeof(order) - o, "%s%s",
		    i ? "," : "", config_strategy_name(p->probe[i]));
	if (p->have_source) {
		probe_human(p->source.size, a, sizeof(a));
		emit(line, arg, &n, "source: %s on %s (%s, %zu extents)%s%s",
		    config_strategy_name(p->source.strategy),
		    p->source.device, a, p->source.nextents,
		    p->source.detail[0] ? "; " : "", p->source.detail);
	} else
		emit(line, arg, &n, "source: probe %s (devices: wait up to "
		    "%u s)", order, p->timeout_s);
	if (p->platform == PLAN_LINUX)
		net_lines(p, line, arg, &n);
	if (p->toram)
		emit(line, arg, &n, "toram: copy the image into RAM first "
		    "(the medium may then be removed)");
	plan_stack_spec(p, &ss);		/* what the boot builds */
	if (ss.hashes != NULL)
		emit(line, arg, &n, "uzip: decompress (read-only), every "
		    "cluster checked against %s before it is decompressed",
		    ss.hashes_name);
	else if (ss.uzip == STACK_UZIP_YES)
		emit(line, arg, &n, "uzip: decompress (read-only)");
	else if (ss.uzip == STACK_UZIP_NO)
		emit(line, arg, &n, "uzip: no, the image is a raw file "
		    "system");
	else
		emit(line, arg, &n, "uzip: if the image starts with the uzip "
		    "magic");
	if (p->platform == PLAN_LINUX && fmt_fs_readonly(p->rootfs))
		readonly_lines(p, line, arg, &n);
	else {
		rowr_line(p, line, arg, &n);
		if (p->platform == PLAN_LINUX) {
			emit(line, arg, &n, "nbd: serve the stack to the "
			    "kernel on %s (socketpair; server process outlives "
			    "the hand-off)", p->nbd_dev);
			if (p->rootfs == FMT_FS_UNKNOWN) {
				emit(line, arg, &n, "mount: %s %s on %s (or "
				    "xfs, btrfs, f2fs: the image's file system "
				    "by its magic)", p->fstype, p->nbd_dev,
				    p->newroot);
				readonly_lines(p, line, arg, &n);
			} else
				emit(line, arg, &n, "mount: %s %s on %s",
				    p->fstype, p->nbd_dev, p->newroot);
		} else {
			emit(line, arg, &n, "geom: %s", p->nbd_dev);
			emit(line, arg, &n, "mount: %s on %s", p->fstype,
			    p->newroot);
		}
	}
	emit(line, arg, &n, "handoff: %s to %s%s",
	    config_handoff_name(p->handoff), p->init,
	    p->handoff != LIVE_HANDOFF_CHROOT ? "" :
	    p->platform == PLAN_FREEBSD ? " (init_chroot; the live root's "
	    "/boot nullfs-mounted over the old /boot for firmware)" :
	    " (a child chroots; the "
	    "kernel keeps the old root: for the firmware negative test "
	    "only)");
	emit(line, arg, &n, "on failure: diagnostic block, then %s",
	    p->shell ? "a rescue shell" : "halt");
}
