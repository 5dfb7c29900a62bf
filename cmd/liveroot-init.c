/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * liveroot-init.c - /init of a Linux live initramfs (PID 1).
 *
 * mount /dev /proc /sys /run -> config (/etc/liveroot/defaults, then
 * /proc/cmdline) -> uevent socket -> modules -> the probe chain of
 * lib/probe/chain.c with the strategies below -> the server process
 * (uzip -> rowr -> nbd, platform/linux/nbdattach.c) -> mount ext4 ->
 * switch_root by PID 1 itself (or the deliberately wrong child chroot).
 *
 * On any failure: a diagnostic block (every block device, what was there,
 * os_param, the URL and its last status), a hint, then a rescue shell
 * (live.shell=1) or a halt that keeps the messages on the console.  PID 1
 * never exits and never reboots by itself; once it has failed or handed
 * over by chroot it only reaps children (while booting it waits for its
 * own children by pid).  Console lines start "liveroot: " (lri_log), each
 * stamped with the uptime.  The initramfs it runs from is the one
 * include/liveroot/initramfs.h describes.
 *
 * live.handoff=chroot is deliberately wrong, for the firmware e2e test's
 * negative case: a child chroots into the live root and execs its init
 * while PID 1, and with it the kernel's idea of "/", stays in the
 * initramfs, so a kernel-context firmware load cannot see the live root.
 *
 * Single-threaded: every thread lives in the forked NBD server process.
 *
 * Run as anything but PID 1 it refuses, except `liveroot-init --version`
 * and `--help`; `liveroot init-plan` shows the config and the plan without
 * booting.
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

#include <liveroot/bdev.h>
#include <liveroot/chain.h>
#include <liveroot/config.h>
#include <liveroot/fetch.h>
#include <liveroot/fmt_ventoy.h>
#include <liveroot/inventory.h>
#include <liveroot/locate.h>
#include <liveroot/uzip.h>

#include "../platform/linux/lrinit.h"

#ifndef LIVEROOT_VERSION
#define LIVEROOT_VERSION "unknown"
#endif

#define NEWROOT		INITRAMFS_NEWROOT
#define NBD_DEV		"/dev/nbd0"

static struct live_config cfg;
static struct lri_devs devs;
static char **main_argv;

/* What the diagnostic block reports. */
static struct {
	int		param_found;
	char		param_where[128];
	char		param_note[600];
	unsigned char	*param;		/* os_param (+ location list) */
	size_t		param_len;
	int		net_tried;
	char		net_url[1024];
	long		http_status;
	char		net_error[400];
	int		preload_tried;
	int		dev_waited;
	int		findiso_skipped;
	int		image_bad;	/* found, but damaged */
	int		sha_bad;	/* the download did not match */
} seen;

/* --- ventoy os_param ------------------------------------------------------ */

static void
read_os_param(void)
{
	struct fmt_ventoy_param p;
	const uint8_t *loc = NULL;
	size_t len, loclen = 0;
	struct diag d;
	unsigned char *buf;
	char *text;

	diag_clear(&d);
	if (os_read_file("/sys/firmware/acpi/tables/VTOY", 1 << 20, &text,
	    &len, NULL) == 0) {
		buf = (unsigned char *)text;
		if (fmt_ventoy_acpi_decode(buf, len, &p, &loc, &loclen,
		    &d) == 0) {
			seen.param_found = 1;
			snprintf(seen.param_where, sizeof(seen.param_where),
			    "ACPI table VTOY");
			snprintf(seen.param_note, sizeof(seen.param_note),
			    "image %s (%llu bytes) on partition %u",
			    p.image_path, (unsigned long long)p.image_size,
			    p.part);
			seen.param = buf;
			memmove(buf, buf + FMT_VENTOY_ACPI_HDR,
			    len - FMT_VENTOY_ACPI_HDR);
			seen.param_len = len - FMT_VENTOY_ACPI_HDR;
			lri_log("ventoy: os_param found in the %s: %s",
			    seen.param_where, seen.param_note);
			return;
		}
		lri_log("ventoy: ACPI table VTOY present but invalid: %s",
		    d.msg);
		snprintf(seen.param_note, sizeof(seen.param_note),
		    "ACPI VTOY invalid: %s", d.msg);
		free(buf);
	}
	if (os_read_file("/sys/firmware/efi/efivars/" FMT_VENTOY_EFIVAR_NAME,
	    1 << 20, &text, &len, NULL) == 0) {
		buf = (unsigned char *)text;
		diag_clear(&d);
		if (len > 4 && fmt_ventoy_efivar_decode(buf, len, &p, &d) ==
		    0) {
			seen.param_found = 1;
			snprintf(seen.param_where, sizeof(seen.param_where),
			    "EFI variable VentoyOsParam");
			snprintf(seen.param_note, sizeof(seen.param_note),
			    "image %s (%llu bytes) on partition %u",
			    p.image_path, (unsigned long long)p.image_size,
			    p.part);
			memmove(buf, buf + 4, len - 4);
			seen.param = buf;
			seen.param_len = len - 4;
			lri_log("ventoy: os_param found in the %s: %s",
			    seen.param_where, seen.param_note);
			return;
		}
		lri_log("ventoy: EFI variable VentoyOsParam present but "
		    "invalid: %s", d.msg);
		free(buf);
	}
}

/* --- strategies ----------------------------------------------------------- */

static void
chain_log(void *arg, const char *line)
{
	(void)arg;
	lri_log_raw(line);
}

static void
fetch_progress(uint64_t done, uint64_t total, void *arg)
{
	static double last;
	double now = lri_uptime();

	(void)arg;
	if (now - last < 1.0 && done != total)
		return;
	last = now;
	if (total != 0)
		lri_log("fetching: %llu / %llu bytes (%llu%%)",
		    (unsigned long long)done, (unsigned long long)total,
		    (unsigned long long)(done * 100 / total));
	else
		lri_log("fetching: %llu bytes", (unsigned long long)done);
}

static void
fetch_log(const char *msg, void *arg)
{
	(void)arg;
	lri_log("%s", msg);
}

static enum probe_outcome
strategy_preload(const struct live_config *c, struct probe_source *out,
    struct diag *d)
{
	struct bdev *b;
	struct stat st;
	int e;

	seen.preload_tried = 1;
	if (stat(c->image, &st) != 0) {
		diag_set(d, ENOENT, "no %s in the initramfs", c->image);
		return (PROBE_NOT_HERE);
	}
	if ((e = bdev_file_open(c->image, BDEV_FILE_RDONLY, 0, &b, d)) != 0)
		return (PROBE_ERROR);
	out->strategy = LIVE_S_PRELOAD;
	snprintf(out->device, sizeof(out->device), "initramfs:%s", c->image);
	out->size = bdev_size(b);
	out->bdev = b;
	return (PROBE_FOUND);
}

/*
 * The bound on the whole fetch: live.timeout= when it was given (at least
 * 5 s), else the library's default (FETCH_TOTAL_DEFAULT); the 30 s default
 * of the device wait is far too short for an image.
 */
static unsigned
fetch_bound(const struct live_config *c)
{
	enum live_source src;
	const char *key;
	char buf[32];
	size_t i;

	for (i = 0; config_key_at(c, i, &key, buf, sizeof(buf), &src); i++)
		if (strcmp(key, "live.timeout") == 0)
			return (src == LIVE_SRC_DEFAULT ? 0 :
			    c->timeout_s < 5 ? 5 : c->timeout_s);
	return (0);
}

/* What fixes a failed fetch, in the boot's terms (the library names none). */
static const char *const net_hints[FETCH_FIX_COUNT] = {
	[FETCH_FIX_URL] = " (live.url=)",
	[FETCH_FIX_SHA256] = " (live.sha256=)",
	[FETCH_FIX_TIME] = "; live.timeout= sets the bound",
	[FETCH_FIX_CA] = ", with --ca FILE at mklive time",
	[FETCH_FIX_RESERVE] = " (live.overlay=)",
};

static enum probe_outcome
strategy_net(const struct live_config *c, struct probe_source *out,
    struct diag *d)
{
	struct fetch_opts fo;
	struct fetch_result fr;
	struct bdev *b = NULL;
	char ifname[32];
	uint64_t ram = lri_ram_bytes();
	int e;

	if (c->url[0] == '\0') {
		diag_set(d, ENOENT, "no live.url= (or root=live:http...) "
		    "given");
		return (PROBE_NOT_HERE);
	}
	seen.net_tried = 1;
	/* the URL only ever printed without query and user:password@ */
	net_url_redact(c->url, seen.net_url, sizeof(seen.net_url));
	if ((e = lri_net_up(c->timeout_s, ifname, sizeof(ifname), d)) != 0) {
		snprintf(seen.net_error, sizeof(seen.net_error), "%s", d->msg);
		return (PROBE_ERROR);
	}
	memset(&fo, 0, sizeof(fo));
	memset(&fr, 0, sizeof(fr));
	fo.url = c->url;
	fo.sha256 = c->sha256[0] ? c->sha256 : NULL;
	fo.reserve_bytes = config_overlay_bytes(c, ram);
	fo.total_s = fetch_bound(c);
	/* the build machine's CA bundle, put there by liveroot mklive */
	fo.ca_file = access(FETCH_CA_PATH, R_OK) == 0 ? FETCH_CA_PATH : NULL;
	fo.progress = fetch_progress;
	fo.log = fetch_log;
	lri_log("fetching %s (within %u s; %s)", seen.net_url,
	    fo.total_s ? fo.total_s : FETCH_TOTAL_DEFAULT, fo.ca_file ?
	    "CA bundle " FETCH_CA_PATH : "no CA bundle in the initramfs");
	e = net_fetch_mem(&fo, &b, &fr, d);
	seen.http_status = fr.http_status;
	if (e != 0) {
		net_fetch_hint(d, &fr, net_hints);
		snprintf(seen.net_error, sizeof(seen.net_error), "%s", d->msg);
		if (e == EBADMSG) {
			seen.sha_bad = 1;
			lri_log("sha256 MISMATCH: %s", d->msg);
		}
		else if (strncmp(d->msg, "HTTP ", 5) == 0)
			lri_log("%s", d->msg);
		else
			lri_log("fetch failed: %s", d->msg);
		return (PROBE_ERROR);
	}
	if (fo.sha256 != NULL)
		lri_log("sha256 OK (%s)", fr.sha256);
	lri_log("fetched %llu bytes in %u attempt(s), %u resumed",
	    (unsigned long long)fr.size, fr.attempts, fr.resumes);
	out->strategy = LIVE_S_NET;
	snprintf(out->device, sizeof(out->device), "%s", seen.net_url);
	snprintf(out->detail, sizeof(out->detail), "in RAM via %s", ifname);
	out->size = bdev_size(b);
	out->bdev = b;
	return (PROBE_FOUND);
}

/*
 * A found image must be usable: a uzip image's header and whole TOC are
 * checked here (inline, no threads in PID 1), so a truncated or mangled
 * image is a strategy error with its message, and the chain goes on.
 */
static enum probe_outcome
validate(enum probe_outcome o, const char *what, struct probe_source *out,
    struct diag *d)
{
	struct bdev_uzip_opts uo = { 1, 1 };
	unsigned char magic[16];
	struct bdev *u = NULL;

	if (o != PROBE_FOUND)
		return (o);
	diag_clear(d);
	if (bdev_size(out->bdev) < 1024) {
		diag_set(d, EINVAL, "%s: the root image is only %llu bytes: "
		    "truncated or not an image", what,
		    (unsigned long long)bdev_size(out->bdev));
		goto bad;
	}
	if (bdev_read(out->bdev, magic, sizeof(magic), 0, d) != 0) {
		diag_prefix(d, "%s: ", what);
		goto bad;
	}
	if (!plan_is_uzip_magic(magic, sizeof(magic)))
		return (PROBE_FOUND);
	bdev_ref(out->bdev);
	if (bdev_uzip_new(out->bdev, &uo, &u, d) != 0) {
		bdev_destroy(out->bdev);	/* the extra reference */
		diag_prefix(d, "%s: ", what);
		goto bad;
	}
	bdev_destroy(u);			/* drops the extra reference */
	return (PROBE_FOUND);
bad:
	seen.image_bad = 1;
	bdev_destroy(out->bdev);
	out->bdev = NULL;
	return (PROBE_ERROR);
}

static enum probe_outcome
cb_immediate(void *arg, enum live_strategy s, const struct live_config *c,
    struct probe_source *out, struct diag *d)
{
	enum probe_outcome o;

	(void)arg;
	switch (s) {
	case LIVE_S_PRELOAD:
		return (validate(strategy_preload(c, out, d), c->image, out,
		    d));
	case LIVE_S_NET:
		o = strategy_net(c, out, d);
		return (validate(o, seen.net_url, out, d));
	default:
		diag_set(d, EINVAL, "not an immediate strategy");
		return (PROBE_ERROR);
	}
}

static enum live_strategy
strategy_of(const char *name)
{
	int s = name ? config_strategy_from_name(name, strlen(name)) : -1;

	return (s < 0 ? LIVE_S_LOCAL : (enum live_strategy)s);
}

/*
 * A disk can be announced before it answers: a USB stick's sd device may
 * refuse the first open with ENXIO, a CD drive says ENOMEDIUM until a disc
 * is in.  Such a device is tried again while the wait lasts.
 */
static int
transient(int e)
{
	return (e == ENXIO || e == ENODEV || e == EIO || e == ENOMEDIUM ||
	    e == EBUSY || e == ENOENT || e == EAGAIN);
}

static void
schedule_retry(struct lri_dev *dv, int e)
{
	if (!transient(e) || (e != ENOMEDIUM && dv->tries >= 40))
		return;
	dv->tries++;
	dv->retry_at = lri_uptime() + (e == ENOMEDIUM ? 1.0 : 0.25);
}

/* Try one device; PROBE_FOUND fills out. */
static enum probe_outcome
probe_one(struct lri_dev *dv, unsigned mask, const struct live_config *c,
    struct probe_source *out, struct diag *d)
{
	struct locate_opts lo;
	struct locate_result r;
	struct bdev *b = NULL, *img = NULL;
	char path[64];
	int e;

	dv->dirty = 0;
	dv->probed = 1;
	dv->retry_at = 0;
	snprintf(path, sizeof(path), "/dev/%s", dv->name);
	diag_clear(d);
	if ((e = bdev_file_open(path, BDEV_FILE_RDONLY, 0, &b, d)) != 0) {
		dv->err = e;
		snprintf(dv->seen, sizeof(dv->seen), "cannot open: %s",
		    e == ENOMEDIUM ? "no medium" : strerror(e));
		if ((lri_debug || e != ENOMEDIUM) && dv->tries == 0)
			lri_log("%s: %s%s", path, dv->seen, transient(e) ?
			    " (trying again while waiting)" : "");
		schedule_retry(dv, e);
		return (PROBE_NOT_HERE);
	}
	dv->size = bdev_size(b);
	memset(&lo, 0, sizeof(lo));
	memset(&r, 0, sizeof(r));
	lo.label = c->label[0] ? c->label : NULL;
	lo.image = c->image;
	lo.iso = c->iso[0] ? c->iso : NULL;
	lo.ventoy_param = seen.param;
	lo.ventoy_param_len = seen.param_len;
	lo.strategies = mask;
	e = probe_locate_device(path, b, &lo, &r, d);
	if (e == 0 && r.found) {
		e = bdev_extmap_new(b, r.ext, r.next, r.image_size, &img, d);
		if (e != 0) {
			locate_result_free(&r);
			bdev_destroy(b);
			return (PROBE_ERROR);
		}
		out->strategy = strategy_of(r.strategy);
		snprintf(out->device, sizeof(out->device), "%s", path);
		snprintf(out->detail, sizeof(out->detail), "%s%s%s%s%s",
		    r.label[0] ? "label " : "", r.label,
		    r.iso_path[0] ? (r.label[0] ? ", ISO " : "ISO ") : "",
		    r.iso_path, "");
		out->size = r.image_size;
		out->nextents = r.next;
		out->bdev = img;
		locate_result_free(&r);
		return (PROBE_FOUND);
	}
	(void)probe_describe_device(b, dv->describe, sizeof(dv->describe));
	if (e != 0) {
		dv->err = e;
		snprintf(dv->seen, sizeof(dv->seen), "error: %s", d->msg);
		lri_log("%s: %s", path, dv->seen);
		if (e == EIO && dv->tries < 3)
			schedule_retry(dv, e);
	} else {
		snprintf(dv->seen, sizeof(dv->seen), "%s", r.seen);
		lri_log("%s: not here: %s", path, r.seen[0] ? r.seen :
		    dv->describe);
	}
	locate_result_free(&r);
	bdev_destroy(b);
	return (e != 0 ? PROBE_ERROR : PROBE_NOT_HERE);
}

static enum probe_outcome
cb_devices(void *arg, const struct probe_step *st, const struct live_config *c,
    struct probe_source *out, struct diag *d)
{
	unsigned mask = 0;
	double deadline;
	struct diag last;
	enum probe_outcome o;
	size_t i;
	int errors = 0, left;

	(void)arg;
	for (i = 0; i < st->norder; i++) {
		switch (st->order[i]) {
		case LIVE_S_LOCAL:	mask |= LOCATE_LOCAL; break;
		case LIVE_S_VENTOY:	mask |= LOCATE_VENTOY; break;
		case LIVE_S_FINDISO:
			if (c->iso[0] == '\0') {
				seen.findiso_skipped = 1;
				if (lri_debug)
					lri_log("findiso: no live.iso= "
					    "given, skipped");
			} else
				mask |= LOCATE_FINDISO;
			break;
		default:
			break;
		}
	}
	if (mask == 0) {
		diag_set(d, ENOENT, "nothing to look for (findiso needs "
		    "live.iso=)");
		return (PROBE_NOT_HERE);
	}
	diag_clear(&last);
	seen.dev_waited = 1;
	devs.wait_start = lri_uptime();
	deadline = devs.wait_start + c->timeout_s;
	/* Devices may have been probed by an earlier phase with other
	 * strategies: look at every disk again once. */
	for (i = 0; i < devs.n; i++)
		if (!devs.dev[i].partition && !devs.dev[i].gone)
			devs.dev[i].dirty = 1;
	for (;;) {
		(void)lri_devs_scan(&devs);
		for (i = 0; i < devs.n; i++) {
			struct lri_dev *dv = &devs.dev[i];

			if (dv->partition || dv->gone || (!dv->dirty &&
			    (dv->retry_at == 0 || lri_uptime() < dv->retry_at)))
				continue;
			o = probe_one(dv, mask, c, out, d);
			if (o == PROBE_FOUND) {
				char what[1400];

				snprintf(what, sizeof(what), "%s on %s",
				    c->image, out->device);
				o = validate(o, what, out, d);
				if (o != PROBE_FOUND) {
					lri_log("%s", d->msg);
					snprintf(dv->seen, sizeof(dv->seen),
					    "error: %s", d->msg);
				}
			}
			if (o == PROBE_FOUND) {
				devs.wait_end = lri_uptime();
				return (o);
			}
			if (o == PROBE_ERROR) {
				errors++;
				last = *d;
			}
		}
		left = (int)((deadline - lri_uptime()) * 1000);
		if (left <= 0)
			break;
		if (left > 1000)
			left = 1000;
		for (i = 0; i < devs.n; i++) {
			double r = devs.dev[i].retry_at;
			int ms;

			if (r == 0 || devs.dev[i].gone)
				continue;
			ms = (int)((r - lri_uptime()) * 1000);
			if (ms < left)
				left = ms < 1 ? 1 : ms;
		}
		(void)lri_devs_wait(&devs, left);
	}
	devs.wait_end = lri_uptime();
	if (errors) {
		*d = last;
		return (PROBE_ERROR);
	}
	diag_set(d, ENOENT, "no device held the image within %u s",
	    c->timeout_s);
	return (PROBE_NOT_HERE);
}

/* --- failure -------------------------------------------------------------- */

static void
diag_block(const struct probe_chain_result *r)
{
	size_t i, disks = 0, late = 0;
	double late_after = devs.wait_start +
	    (devs.wait_end - devs.wait_start) * 0.75;
	char latelist[200] = "";

	/* Whatever the kernel announced meanwhile, for the listing and the
	 * "late" hint (after the wait it is not probed any more). */
	(void)lri_devs_wait(&devs, 0);
	(void)lri_devs_scan(&devs);
	lri_log("ROOT IMAGE NOT FOUND");
	{
		char order[80];
		size_t o = 0;

		order[0] = '\0';
		for (i = 0; i < cfg.nprobe && o < sizeof(order); i++)
			o += (size_t)snprintf(order + o, sizeof(order) - o,
			    "%s%s", i ? "," : "",
			    config_strategy_name(cfg.probe[i]));
		lri_log("looked for %s%s%s%s%s (live.probe=%s%s)", cfg.image,
		    cfg.label[0] ? " on a medium labelled " : "", cfg.label,
		    cfg.iso[0] ? " in ISO " : "", cfg.iso, order,
		    cfg.probe_set ? "" : ", the default");
	}
	if (seen.preload_tried)
		lri_log("preload: no %s in the initramfs", cfg.image);
	if (seen.dev_waited)
		lri_log("devices: waited %.1f s (live.timeout=%u)",
		    devs.wait_end - devs.wait_start, cfg.timeout_s);
	for (i = 0; i < devs.n; i++) {
		struct lri_dev *dv = &devs.dev[i];

		if (dv->partition) {
			lri_log("  %s: partition, %llu bytes (appeared at "
			    "%.1f s)", dv->name, (unsigned long long)dv->size,
			    dv->appeared);
			continue;
		}
		disks++;
		lri_log("  %s: %llu bytes, appeared at %.1f s%s%s: %s",
		    dv->name, (unsigned long long)dv->size, dv->appeared,
		    seen.dev_waited && dv->appeared > devs.wait_end ?
		    " (after the wait, not probed)" : "",
		    dv->gone ? " (removed)" : "",
		    dv->describe[0] ? dv->describe : "(not described)");
		if (dv->seen[0] && strcmp(dv->seen, dv->describe) != 0)
			lri_log("  %s: %s", dv->name, dv->seen);
		if (seen.dev_waited && ((dv->appeared >= late_after &&
		    dv->appeared > devs.wait_start + 1) ||
		    dv->appeared > devs.wait_end)) {
			late++;
			if (strlen(latelist) + strlen(dv->name) + 2 <
			    sizeof(latelist)) {
				strcat(latelist, " ");
				strcat(latelist, dv->name);
			}
		}
	}
	if (disks == 0)
		lri_log("  no block device at all");
	lri_log("os_param (Ventoy): %s%s%s", seen.param_found ? "found in the "
	    : "not found (no ACPI table VTOY, no EFI variable VentoyOsParam)",
	    seen.param_found ? seen.param_where : "",
	    seen.param_note[0] ? "; " : "");
	if (seen.param_note[0])
		lri_log("os_param: %s", seen.param_note);
	if (seen.net_tried)
		lri_log("net: %s: last HTTP status %ld%s%s", seen.net_url,
		    seen.http_status, seen.net_error[0] ? "; " : "",
		    seen.net_error);
	else
		lri_log("net: not tried (%s)", cfg.url[0] ? "not in "
		    "live.probe" : "no live.url=");
	if (r->last_error.code != 0)
		lri_log("last error: %s", r->last_error.msg);

	if (seen.sha_bad)
		lri_log("hint: the image fetched from %s does not match "
		    "live.sha256=: the server's file changed or the checksum "
		    "is wrong; fix one of them", seen.net_url);
	else if (seen.image_bad)
		lri_log("hint: a root image was found but is damaged (the "
		    "error above says how): rebuild it or download it again%s",
		    seen.net_tried ? "; set live.sha256= to catch this "
		    "before booting" : "");
	else if (late > 0)
		lri_log("hint: device(s)%s appeared late in the wait; a slow "
		    "medium may need a longer live.timeout= (now %u s)",
		    latelist, cfg.timeout_s);
	else if (seen.param_found)
		lri_log("hint: Ventoy handed over an os_param but no disk here "
		    "matches it: the medium is emulated by the firmware "
		    "(Ventoy memdisk/grub2 mode) and invisible to the kernel; "
		    "boot Ventoy's normal mode from a disk the kernel sees, or "
		    "use live.url=");
	else if (disks == 0 && !seen.net_tried)
		lri_log("hint: no such device: the kernel saw no disk or CD; "
		    "if this was booted from a firmware-emulated medium (PXE, "
		    "iPXE sanboot, Ventoy memdisk) the kernel cannot see it: "
		    "use live.url=, or check the driver is in "
		    INITRAMFS_MODULES);
	else if (seen.net_tried && seen.http_status >= 400)
		lri_log("hint: the server answered HTTP %ld for %s: check "
		    "live.url=", seen.http_status, seen.net_url);
	else if (seen.net_tried)
		lri_log("hint: the network fetch failed (see above): check "
		    "the cable/DHCP and that the server is reachable by IP");
	else
		lri_log("hint: %zu device(s) seen but none holds %s%s%s: "
		    "check live.label= and live.image=, or the medium is "
		    "firmware-emulated (Ventoy, PXE) and invisible to the "
		    "kernel", disks, cfg.image, cfg.label[0] ? " labelled " :
		    "", cfg.label);
}

static void __attribute__((noreturn))
rest_forever(void)
{
	signal(SIGCHLD, SIG_DFL);
	for (;;) {
		if (wait(NULL) < 0 && errno == ECHILD)
			pause();
	}
}

static void __attribute__((noreturn))
fail(void)
{
	char *argv[3];
	pid_t pid;
	int st;

	signal(SIGCHLD, SIG_DFL);
	if (cfg.shell && access("/bin/sh", X_OK) == 0) {
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
	} else if (cfg.shell)
		lri_log("no /bin/sh in the initramfs for the rescue shell");
	lri_log("halted; the messages above say why");
	rest_forever();
}

/* --- main ------------------------------------------------------------------ */

static void
early_mounts(void)
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

static void
read_config(void)
{
	char *text;
	size_t len, i;

	config_init(&cfg);
	if (os_read_file(INITRAMFS_DEFAULTS, 1 << 20, &text, &len, NULL) == 0) {
		config_parse_defaults(&cfg, text, len);
		free(text);
	}
	if (os_read_file("/proc/cmdline", 1 << 16, &text, &len, NULL) == 0) {
		config_parse_cmdline(&cfg, text);
		free(text);
	}
	config_finish(&cfg);
	lri_debug = cfg.debug;
	for (i = 0; i < cfg.nproblems; i++)
		lri_log("%s key %s", config_problem_kind_name(
		    cfg.problems[i].kind), cfg.problems[i].msg);
	if (cfg.problems_dropped)
		lri_log("(%zu more configuration problems not shown)",
		    cfg.problems_dropped);
	if (cfg.persist[0] != '\0')
		lri_log("unsupported key live.persist=%s: persistent overlays "
		    "are not supported on Linux yet; using a RAM overlay",
		    cfg.persist);
	if (cfg.handoff == LIVE_HANDOFF_REROOT)
		lri_log("live.handoff=reroot is FreeBSD's; using switch_root");
}

/* live.toram: copy the image into RAM when it fits beside the overlay. */
static void
to_ram(struct probe_source *src, uint64_t keep)
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

static void
plan_log(void *arg, const char *text)
{
	(void)arg;
	lri_log("plan %s", text);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: liveroot-init          (as PID 1, the /init of an "
	    "initramfs)\n"
	    "       liveroot-init --version\n\n"
	    "Finds the live root image, stacks uzip -> rowr -> nbd, mounts it "
	    "and\nswitch_roots to live.init.  Configured by live.* keys on the "
	    "kernel\ncommand line and " INITRAMFS_DEFAULTS "; see "
	    "liveroot-init(8).\n`liveroot init-plan \"CMDLINE\"` shows the "
	    "parsed config and the plan.\n");
}

int
main(int argc, char **argv)
{
	struct probe_ops ops;
	struct probe_source src;
	struct probe_chain_result cr;
	struct lri_stack_opts so;
	struct lri_mod_stats ms;
	struct live_plan plan;
	struct diag d;
	uint64_t ram, size = 0;
	pid_t server = 0, child;
	char *ver;
	int e, uz = -1;

	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("liveroot-init %s\n", LIVEROOT_VERSION);
		return (0);
	}
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return (0);
	}
	if (getpid() != 1) {
		fprintf(stderr, "liveroot-init: this is the /init of an "
		    "initramfs and runs only as PID 1 (use `liveroot "
		    "init-plan` to test a command line)\n");
		return (2);
	}
	main_argv = argv;
	/*
	 * No SIGCHLD reaper while booting: it would steal the exit status
	 * of udhcpc from its waitpid().  Children that end meanwhile stay
	 * zombies until rest_forever() or the live init reaps them.
	 */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	early_mounts();
	setvbuf(stdout, NULL, _IONBF, 0);
	if (os_read_file(INITRAMFS_VERSION, 256, &ver, NULL, NULL) != 0)
		ver = NULL;
	if (ver != NULL)
		ver[strcspn(ver, "\n")] = '\0';
	lri_log("liveroot-init %s starting", ver ? ver : LIVEROOT_VERSION);
	free(ver);
	read_config();
	ram = lri_ram_bytes();

	if ((e = lri_devs_open(&devs)) != 0)
		lri_log("uevent socket: %s; polling /sys/class/block instead",
		    strerror(e));
	(void)lri_modules_load(INITRAMFS_MODULES, &ms);
	lri_log("modules: %u loaded, %u already present, %u built in, %u "
	    "missing, %u failed", ms.loaded, ms.present, ms.builtin,
	    ms.missing, ms.failed);
	(void)lri_devs_scan(&devs);
	read_os_param();

	plan_build(&cfg, NULL, -1, ram, PLAN_LINUX, &plan);
	if (lri_debug)
		plan_lines(&plan, plan_log, NULL);

	memset(&ops, 0, sizeof(ops));
	ops.immediate = cb_immediate;
	ops.devices = cb_devices;
	ops.log = chain_log;
	if (probe_chain_run(&cfg, &ops, &src, &cr) != 0) {
		diag_block(&cr);
		fail();
	}
	lri_log("found root image by %s on %s (%llu bytes, %zu extents)",
	    config_strategy_name(src.strategy), src.device,
	    (unsigned long long)src.size, src.nextents);

	if (cfg.toram && src.strategy != LIVE_S_NET &&
	    src.strategy != LIVE_S_PRELOAD)
		to_ram(&src, config_overlay_bytes(&cfg, ram));

	memset(&so, 0, sizeof(so));
	so.overlay_cap = config_overlay_bytes(&cfg, ram);
	if (ram != 0 && so.overlay_cap > ram / 10 * 9)
		lri_log("overlay: live.overlay allows %llu MiB of a machine "
		    "with %llu MiB of RAM: filling it will run the system out "
		    "of memory", (unsigned long long)(so.overlay_cap >> 20),
		    (unsigned long long)(ram >> 20));
	so.nbd_dev = NBD_DEV;
	so.argv = main_argv;
	diag_clear(&d);
	e = lri_stack_start(src.bdev, &so, &server, &size, &uz, &d);
	src.bdev = NULL;
	if (e != 0) {
		lri_log("cannot serve the root image: %s", d.msg);
		lri_log("hint: check that nbd is in " INITRAMFS_MODULES " and "
		    "that the image is a uzip or raw file system image");
		fail();
	}
	plan_build(&cfg, &src, uz, ram, PLAN_LINUX, &plan);
	plan_lines(&plan, plan_log, NULL);
	lri_log("nbd: %s up, %llu bytes (%s, overlay cap %llu bytes), server "
	    "pid %d", NBD_DEV, (unsigned long long)size, uz ? "uzip" : "raw",
	    (unsigned long long)so.overlay_cap, (int)server);

	diag_clear(&d);
	if ((e = lri_mount_root(NBD_DEV, "ext4", NEWROOT, &d)) != 0) {
		lri_log("%s", d.msg);
		lri_log("hint: the root image on %s was found and served but "
		    "its file system does not mount: %s", src.device,
		    e == EIO ? "the image is damaged (the nbd server's lines "
		    "above name the cluster); rebuild or re-download it" :
		    "it must hold an ext4 file system (liveroot mklive makes "
		    "one)");
		fail();
	}
	lri_log("mounted %s on %s", NBD_DEV, NEWROOT);
	{
		uint64_t res = 0;
		char where[300];

		diag_clear(&d);
		if (lri_overlay_reserve(NEWROOT, NBD_DEV, so.overlay_cap, &res,
		    where, sizeof(where), &d) != 0)
			lri_log("overlay: %s (a full overlay will show as I/O "
			    "errors, not ENOSPC)", d.msg);
		else if (res != 0)
			lri_log("overlay: the file system has more free space "
			    "than the overlay holds (%llu MiB): %llu MiB kept "
			    "in %s so writes fail with ENOSPC before the "
			    "overlay is full", (unsigned long long)
			    (so.overlay_cap >> 20), (unsigned long long)
			    (res >> 20), where + strlen(NEWROOT));
	}
	if (plan.handoff == LIVE_HANDOFF_CHROOT) {
		diag_clear(&d);
		if (lri_chroot_child(NEWROOT, cfg.init, &child, &d) != 0) {
			lri_log("%s", d.msg);
			fail();
		}
		rest_forever();
	}
	diag_clear(&d);
	e = lri_switch_root(NEWROOT, cfg.init, &d);
	lri_log("%s", d.msg);
	fail();
}
