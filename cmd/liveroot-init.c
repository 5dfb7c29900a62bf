/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * liveroot-init.c - /init of a Linux live initramfs (PID 1).
 *
 * The order of the steps, one function a phase: boot_start (mount /dev
 * /proc /sys /run, config from /etc/liveroot/defaults then /proc/cmdline,
 * uevent socket, modules, os_param) -> find_root (the probe chain of
 * lib/probe/chain.c with the strategies below) -> the server process
 * (uzip -> rowr -> nbd, platform/linux/nbdattach.c) -> mount ext4 ->
 * switch_root by PID 1 itself (or the deliberately wrong child chroot).
 * The work is the Linux platform layer's (platform/linux, lrinit.h); the
 * decisions (retries, the strategy mask, the hint) are lib/probe/report.c's.
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
 * Single-threaded but for the module loader's pool, which loads nbd and
 * ext4 while the probe runs and is joined (lri_modules_wait) before the
 * server process is forked or the rescue shell runs; every other thread
 * lives in the forked NBD server process.
 *
 * Run as anything but PID 1 it refuses, except `liveroot-init --version`
 * and `--help`; `liveroot init-plan` shows the config and the plan without
 * booting.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/chain.h>
#include <liveroot/config.h>
#include <liveroot/inventory.h>
#include <liveroot/locate.h>
#include <liveroot/report.h>
#include <liveroot/uzip.h>

#include "lrinit.h"

#ifndef LIVEROOT_VERSION
#define LIVEROOT_VERSION "unknown"
#endif

#define NEWROOT		INITRAMFS_NEWROOT
#define NBD_DEV		"/dev/nbd0"

static struct live_config cfg;
static struct lri_devs devs;
static struct lri_persist persist;
static struct lri_mods *mods;
static double t_start;		/* uptime as main starts: the "init" line */
static char **main_argv;

/* What the search saw (the diagnostic block reports it); os_param. */
static struct probe_report seen;
static unsigned char *vparam;
static size_t vparam_len;

/* --- strategies ----------------------------------------------------------- */

static void
chain_log(void *arg, const char *line)
{
	(void)arg;
	lri_log_raw(line);
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
	struct live_plan plan;
	struct stack_spec ss;

	if (o != PROBE_FOUND)
		return (o);
	diag_clear(d);
	if (bdev_size(out->bdev) < 1024) {
		diag_set(d, EINVAL, "%s: the root image is only %llu bytes: "
		    "truncated or not an image", what,
		    (unsigned long long)bdev_size(out->bdev));
		goto bad;
	}
	/* The lower part of the stack the boot will build on it (a lazy
	 * source's hashes file checked against the image's header and TOC) */
	plan_build(&cfg, out, -1, 0, PLAN_LINUX, &plan);
	plan_stack_spec(&plan, &ss);
	if (stack_check_on(out->bdev, &ss, d) == 0)
		return (PROBE_FOUND);
	diag_prefix(d, "%s: ", what);
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
		return (validate(lri_strategy_preload(c, &seen, out, d),
		    c->image, out, d));
	case LIVE_S_NET:
		lri_modules_need(mods, "af_packet");	/* for udhcpc */
		o = lri_strategy_net(c, &seen, out, d);
		return (validate(o, seen.net_url, out, d));
	default:
		diag_set(d, EINVAL, "not an immediate strategy");
		return (PROBE_ERROR);
	}
}

static enum probe_outcome
cb_devices(void *arg, const struct probe_step *st, const struct live_config *c,
    struct probe_source *out, struct diag *d)
{
	unsigned mask;
	double deadline;
	struct diag last;
	enum probe_outcome o;
	struct locate_opts lo;
	size_t i;
	int errors = 0, left, skipped = 0;

	(void)arg;
	mask = probe_locate_mask(st, c, &skipped);
	if (skipped) {
		seen.findiso_skipped = 1;
		if (lri_debug)
			lri_log("findiso: no live.iso= given, skipped");
	}
	if (mask == 0) {
		diag_set(d, ENOENT, "nothing to look for (findiso needs "
		    "live.iso=)");
		return (PROBE_NOT_HERE);
	}
	memset(&lo, 0, sizeof(lo));
	lo.label = c->label[0] ? c->label : NULL;
	lo.image = c->image;
	lo.iso = c->iso[0] ? c->iso : NULL;
	lo.ventoy_param = vparam;
	lo.ventoy_param_len = vparam_len;
	lo.strategies = mask;
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
			o = lri_probe_dev(dv, &lo, out, d);
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

static void __attribute__((noreturn))
rest_forever(void)
{
	lri_rest_forever();
}

static void __attribute__((noreturn))
fail(void)
{
	lri_modules_wait(mods);
	lri_rescue(cfg.shell);
}

/* The hint report.c picks, in the boot's terms. */
static void
hint(const struct live_config *c)
{
	switch (probe_report_hint(&seen)) {
	case PROBE_HINT_SHA256:
		lri_log("hint: the image fetched from %s does not match "
		    "live.sha256=: the server's file changed or the checksum "
		    "is wrong; fix one of them", seen.net_url);
		break;
	case PROBE_HINT_DAMAGED:
		lri_log("hint: a root image was found but is damaged (the "
		    "error above says how): rebuild it or download it again%s",
		    seen.net_tried ? "; set live.sha256= to catch this "
		    "before booting" : "");
		break;
	case PROBE_HINT_LATE:
		lri_log("hint: device(s)%s appeared late in the wait; a slow "
		    "medium may need a longer live.timeout= (now %u s)",
		    seen.latelist, c->timeout_s);
		break;
	case PROBE_HINT_EMULATED:
		lri_log("hint: Ventoy handed over an os_param but no disk here "
		    "matches it: the medium is emulated by the firmware "
		    "(Ventoy memdisk/grub2 mode) and invisible to the kernel; "
		    "boot Ventoy's normal mode from a disk the kernel sees, or "
		    "use live.url=");
		break;
	case PROBE_HINT_NO_DISK:
		lri_log("hint: no such device: the kernel saw no disk or CD; "
		    "if this was booted from a firmware-emulated medium (PXE, "
		    "iPXE sanboot, Ventoy memdisk) the kernel cannot see it: "
		    "use live.url=, or check the driver is in "
		    INITRAMFS_MODULES);
		break;
	case PROBE_HINT_HTTP:
		lri_log("hint: the server answered HTTP %ld for %s: check "
		    "live.url=", seen.http_status, seen.net_url);
		break;
	case PROBE_HINT_NET:
		lri_log("hint: the network fetch failed (see above): check "
		    "the cable/DHCP and that the server is reachable by IP");
		break;
	case PROBE_HINT_NOT_ON_DISKS:
		lri_log("hint: %zu device(s) seen but none holds %s%s%s: "
		    "check live.label= and live.image=, or the medium is "
		    "firmware-emulated (Ventoy, PXE) and invisible to the "
		    "kernel", seen.disks, c->image, c->label[0] ?
		    " labelled " : "", c->label);
		break;
	}
}

static void
diag_block(const struct probe_chain_result *r)
{
	size_t i;

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
	lri_devs_list(&devs, &seen);
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

	hint(&cfg);
}

/* --- main ------------------------------------------------------------------ */

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
	for (i = 0; i < cfg.nnotes; i++)	/* other tools' arguments */
		lri_log("%s", cfg.notes[i].msg);
	if (cfg.problems_dropped)
		lri_log("(%zu more configuration problems not shown)",
		    cfg.problems_dropped);
	if (cfg.handoff == LIVE_HANDOFF_REROOT)
		lri_log("live.handoff=reroot is FreeBSD's; using switch_root");
}

static void
plan_log(void *arg, const char *text)
{
	(void)arg;
	lri_log("plan %s", text);
}

/*
 * Phase 1: PID 1's signals and mounts, the config, the uevent socket, the
 * modules, the devices known so far and Ventoy's os_param.  Returns the RAM
 * size.
 */
static uint64_t
boot_start(void)
{
	struct lri_mod_stats ms;
	char *ver;
	int e;

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
	lri_early_mounts();
	setvbuf(stdout, NULL, _IONBF, 0);
	if (os_read_file(INITRAMFS_VERSION, 256, &ver, NULL, NULL) != 0)
		ver = NULL;
	if (ver != NULL)
		ver[strcspn(ver, "\n")] = '\0';
	lri_log("liveroot-init %s starting", ver ? ver : LIVEROOT_VERSION);
	free(ver);
	read_config();
	if ((e = lri_devs_open(&devs)) != 0)
		lri_log("uevent socket: %s; polling /sys/class/block instead",
		    strerror(e));
	(void)lri_modules_start(INITRAMFS_MODULES, &mods);
	devs.mods = mods;
	lri_modules_stats(mods, &ms);
	lri_log("modules: %u loaded, %u already present, %u built in, %u "
	    "missing, %u failed; %u listed drivers no device asked for; %u "
	    "loading in the background (%.2f s)", ms.loaded, ms.present,
	    ms.builtin, ms.missing, ms.failed, ms.unasked, ms.background,
	    ms.seconds);
	(void)lri_devs_scan(&devs);
	lri_os_param_read(&seen, &vparam, &vparam_len);
	return (lri_ram_bytes());
}

/*
 * Phase 2: the probe chain (live.probe=) fills src, or the diagnostic
 * block and the rescue shell end the boot; live.toram copies the image.
 */
static void
find_root(struct probe_source *src, uint64_t ram)
{
	struct probe_chain_result cr;
	struct probe_ops ops;
	struct live_plan plan;

	plan_build(&cfg, NULL, -1, ram, PLAN_LINUX, &plan);
	if (lri_debug)
		plan_lines(&plan, plan_log, NULL);
	memset(&ops, 0, sizeof(ops));
	ops.immediate = cb_immediate;
	ops.devices = cb_devices;
	ops.log = chain_log;
	if (probe_chain_run(&cfg, &ops, src, &cr) != 0) {
		diag_block(&cr);
		fail();
	}
	lri_log("found root image by %s on %s (%llu bytes, %zu extents)",
	    config_strategy_name(src->strategy), src->device,
	    (unsigned long long)src->size, src->nextents);
	if (cfg.toram && src->strategy != LIVE_S_NET &&
	    src->strategy != LIVE_S_PRELOAD)
		lri_to_ram(src, config_overlay_bytes(&cfg, ram));
}

/*
 * live.persist: mount the labelled file system for the overlay's files,
 * or say why not and keep the overlay in RAM (the boot goes on either way:
 * a missing stick must not stop a live system).
 */
static void
persist_start(struct live_plan *p, struct lri_stack_opts *so)
{
	struct diag d;

	if (p->persist_other)
		lri_log("persist: live.persist=%s is not used with a %s root "
		    "yet (its overlayfs upper is in RAM): changes will NOT be "
		    "kept", cfg.persist, fmt_fs_name(p->rootfs));
	if (!p->persist)
		return;
	diag_clear(&d);
	if (lri_persist_mount(&devs, mods, p, &persist, &d) != 0) {
		lri_log("persist: %s", d.msg);
		lri_log("persist: the overlay is in RAM: changes will NOT be "
		    "kept");
		plan_drop_persist(p);
	} else
		lri_log("persist: %s (%s, \"%s\") mounted on %s; the "
		    "overlay is %s there", persist.dev, persist.fstype,
		    p->persist_label, PLAN_PERSIST_DIR, p->persist_file);
	plan_stack_spec(p, &so->spec);
	so->persist_mnt = persist.mounted ? PLAN_PERSIST_DIR : NULL;
}

/* The server refused the persistent overlay: a RAM one instead. */
static void
persist_refused(struct live_plan *p, struct lri_stack_opts *so)
{
	lri_log("persist: the overlay file %s on %s (\"%s\") is not used "
	    "(the message above says why; if it was made for another image, "
	    "move %s and %s.rowrmap away to start afresh, or make one with "
	    "`liveroot overlay create --for IMAGE FILE`): the overlay is in "
	    "RAM, changes will NOT be kept", p->persist_file, persist.dev,
	    p->persist_label, p->persist_file, p->persist_file);
	lri_persist_umount(&persist);
	plan_drop_persist(p);
	plan_stack_spec(p, &so->spec);
	so->persist_mnt = NULL;
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
	struct probe_source src;
	struct lri_stack_opts so;
	struct live_plan plan;
	struct diag d;
	uint64_t ram, size = 0;
	pid_t server = 0, child;
	enum fmt_fs rootfs;
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
	t_start = lri_uptime();
	ram = boot_start();
	find_root(&src, ram);
	diag_clear(&d);
	if (lri_check_image(&cfg, &src, &d) != 0) {	/* signature, sha256 */
		lri_log("%s", d.msg);
		fail();
	}

	/* The stack the plan describes: what init-plan prints is what runs. */
	plan_build(&cfg, &src, -1, ram, PLAN_LINUX, &plan);
	rootfs = lri_root_fs(&plan, src.bdev);	/* squashfs: no rowr */
	plan_set_rootfs(&plan, rootfs);
	memset(&so, 0, sizeof(so));
	plan_stack_spec(&plan, &so.spec);
	lri_modules_wait(mods);		/* nbd and ext4; no threads at fork */
	persist_start(&plan, &so);
	so.blksize = plan.nbd_blksize;
	so.nbd_dev = plan.nbd_dev;
	so.argv = main_argv;
	if (!plan.persist && ram != 0 && plan.overlay_cap > ram / 10 * 9)
		lri_log("overlay: live.overlay allows %llu MiB of a machine "
		    "with %llu MiB of RAM: filling it will run the system out "
		    "of memory", (unsigned long long)(plan.overlay_cap >> 20),
		    (unsigned long long)(ram >> 20));
	if (plan.persist)	/* for a RAM overlay if the files are refused */
		bdev_ref(src.bdev);
	diag_clear(&d);
	e = lri_stack_start(src.bdev, &so, &server, &size, &uz, &d);
	if (e != 0 && plan.persist) {
		lri_log("persist: %s", d.msg);
		persist_refused(&plan, &so);
		diag_clear(&d);
		e = lri_stack_start(src.bdev, &so, &server, &size, &uz, &d);
	} else if (plan.persist)
		bdev_destroy(src.bdev);
	src.bdev = NULL;
	if (e != 0) {
		lri_log("cannot serve the root image: %s", d.msg);
		lri_log("hint: check that nbd is in " INITRAMFS_MODULES " and "
		    "that the image is a uzip or raw file system image");
		fail();
	}
	plan_build(&cfg, &src, uz, ram, PLAN_LINUX, &plan);
	plan_set_rootfs(&plan, rootfs);
	if (!persist.mounted)
		plan_drop_persist(&plan);
	else		/* what the reserve below keeps the root within */
		plan.overlay_cap = lri_persist_cap(&plan, size);
	plan_lines(&plan, plan_log, NULL);
	lri_log("nbd: %s up, %llu bytes (%s, overlay cap %llu bytes), server "
	    "pid %d", plan.nbd_dev, (unsigned long long)size, uz ? "uzip" :
	    "raw", (unsigned long long)plan.overlay_cap, (int)server);

	diag_clear(&d);
	if ((e = fmt_fs_readonly(plan.rootfs) ?
	    lri_mount_readonly_root(&plan, main_argv, &d) :
	    lri_mount_root(plan.nbd_dev, plan.fstype, plan.newroot,
	    &d)) != 0) {
		lri_log("%s", d.msg);
		lri_log("hint: the root image on %s was found and served but "
		    "its file system does not mount: %s", src.device,
		    e == EIO && src.lazy ? "it could not be read from the "
		    "server (the nbd server's lines above say why: another "
		    "file on the server, a cluster that fails its hash, or no "
		    "answer)" :
		    e == EIO ? "the image is damaged (the nbd server's lines "
		    "above name the cluster); rebuild or re-download it" :
		    "it must hold an ext4 (liveroot mklive makes one), xfs, "
		    "btrfs, f2fs, squashfs or erofs file system");
		fail();
	}
	lri_log("mounted %s on %s", plan_root_dev(&plan) ? plan_root_dev(&plan)
	    : "overlayfs", plan.newroot);
	if (plan_root_dev(&plan) != NULL) {
		uint64_t res = 0;
		char where[300];

		diag_clear(&d);
		if (lri_overlay_reserve(plan.newroot, plan_root_dev(&plan),
		    plan.overlay_cap, &res, where, sizeof(where), &d) != 0)
			lri_log("overlay: %s (a full overlay will show as I/O "
			    "errors, not ENOSPC)", d.msg);
		else if (res != 0)
			lri_log("overlay: the file system has more free space "
			    "than the overlay holds (%llu MiB): %llu MiB kept "
			    "in %s so writes fail with ENOSPC before the "
			    "overlay is full", (unsigned long long)
			    (plan.overlay_cap >> 20), (unsigned long long)
			    (res >> 20), where + strlen(plan.newroot));
	}
	{
		struct lri_mod_stats ms;

		lri_modules_stats(mods, &ms);
		lri_log("init %.2f s (modules %.2f s: %u loaded, %u already "
		    "present, %u built in, %u missing, %u failed)",
		    lri_uptime() - t_start, ms.seconds, ms.loaded, ms.present,
		    ms.builtin, ms.missing, ms.failed);
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
	if (e == EIO && src.lazy)
		lri_log("hint: the live root could not be read from the "
		    "server: the nbd server's lines above say why (another "
		    "file on the server, a cluster that fails its hash, or no "
		    "answer)");
	fail();
}
