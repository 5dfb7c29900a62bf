/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plan_freebsd.h - the FreeBSD plan as exact base-system commands
 * (lib/probe/plan_freebsd.c).
 *
 * From a resolved source (what the probe found: a preloaded md, a cd9660
 * medium, extents of the image on a disk, an ISO file on a partition, a URL)
 * and the live.* configuration, emit the sh(1) lines a FreeBSD init_script
 * runs: kldload, mdconfig, gnop/gconcat, mount_cd9660, fetch, dd, geom rowr
 * or gunion, mount, kenv, reboot -r.  One command a line, with "# why"
 * comment lines.  The output is deterministic (fixed md units, fixed GEOM
 * names) so golden tests pin it and a FreeBSD user can review it before
 * running it; the script calls the tools by name with PATH set at its top
 * (LIVEROOT_PATH replaces it, so a test can run it against recording
 * stand-ins).  The plan's text lines come from the same decisions.
 *
 * The hand-off rule: reroot (`reboot -r`: every file system but devfs is
 * force-unmounted; memory disks and GEOM state survive, a vnode-backed md
 * and userland providers do not) only when nothing under the new root
 * hangs on a vnode of the old root
 * (the lower in memory, or GEOM windows of a disk); otherwise chroot
 * (init_chroot) with the old root's /boot showing the live root's /boot.
 * Before the probe (no source) it is not decided, and the plan says so.
 *
 * The overlay (live.geom): geom_rowr caps its RAM upper at live.overlay
 * under chroot (a sparse file on a tmpfs of that size: a write past it
 * fails with ENOSPC and the class leaves it unwritten); under reroot the
 * upper is a swap md (reboot -r unmounts that tmpfs), not capped.  gunion
 * is never capped: it marks a write written even when the upper failed it,
 * so its upper must never fill.  auto: geom_rowr when it loads, else
 * gunion, decided by the script at run time.  Pure functions; no I/O, no
 * allocation.
 */
#ifndef LIVEROOT_PLAN_FREEBSD_H
#define LIVEROOT_PLAN_FREEBSD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"

#define FBSD_MAX_EXTENTS	32

struct fbsd_extent {
	uint64_t	off;		/* bytes from the start of the device */
	uint64_t	len;		/* bytes */
};

/* A resolved source, as `liveroot init-plan --source SPEC` gives it. */
struct fbsd_source {
	int			none;		/* the probe found nothing */
	enum live_strategy	strategy;
	char			device[128];	/* /dev/cd0, /dev/ada0, /dev/md0 */
	char			path[256];	/* findiso: the ISO on the partition */
	char			fstype[16];	/* findiso: msdosfs, ufs, ext2fs */
	char			url[1024];	/* net ("" = live.url) */
	struct fbsd_extent	ext[FBSD_MAX_EXTENTS];
	size_t			next;		/* 0: mount the medium instead */
};

/*
 * Parse SPEC:
 *   preload:/dev/md0
 *   local:/dev/cd0                  (mount_cd9660 + vnode md)
 *   local:/dev/da0:OFF+LEN[,...]    (the image's extents on the device)
 *   ventoy:/dev/ada0:OFF+LEN[,...]  (extents, as `liveroot locate` gives them)
 *   findiso:/dev/da0s1:/isos/live.iso[:FSTYPE]   (FSTYPE msdosfs|ufs|ext2fs)
 *   net:URL  or  net:               (the latter: live.url)
 *   none                            (nothing found: the diagnostic path)
 * OFF and LEN are bytes (decimal or 0x hex), multiples of 512, LEN > 0.
 * Returns 0 or EINVAL with a message in d.
 */
int	plan_freebsd_parse_source(const char *spec, struct fbsd_source *s,
	    struct diag *d);

/*
 * 1 when reroot is safe: the lower ends up in memory (preload, net, a toram
 * copy) or on GEOM providers of a disk (gnop/gconcat).  0 otherwise (and
 * for none), with the vnode that would vanish described in vnode (may be
 * NULL).
 */
int	plan_freebsd_reroot_safe(const struct fbsd_source *s, const char *image,
	    int toram, char *vnode, size_t len);

/* 1 when the image name ends in .uzip, .ulzma or .uzst (geom_uzip). */
int	plan_freebsd_image_is_uzip(const char *image);

/*
 * The hand-off: requested (live.handoff) applied to the rule.  safe is 1, 0,
 * or -1 when unknown (before the probe): then LIVE_HANDOFF_AUTO unless one
 * was forced.  Never LIVE_HANDOFF_SWITCH_ROOT (Linux's).
 */
enum live_handoff plan_freebsd_handoff(enum live_handoff requested, int safe);

/*
 * The hand-off the plan shows: s NULL (before the probe) gives
 * LIVE_HANDOFF_AUTO when it depends on the source (live.toram=1 decides it:
 * reroot).
 */
enum live_handoff plan_freebsd_plan_handoff(const struct live_config *c,
	    const struct fbsd_source *s);

/*
 * The plan as numbered text lines ("1. source: ..."), one call per line,
 * from the same decisions as the commands.  s NULL: before the probe.
 * overlay_cap and ram_bytes as for plan_build().
 */
void	plan_freebsd_lines(const struct live_config *c,
	    const struct fbsd_source *s, uint64_t overlay_cap,
	    uint64_t ram_bytes, void (*line)(void *arg, const char *text),
	    void *arg);

/*
 * Emit the commands, one line per call (no newline): a whole sh(1) script
 * (#!/bin/sh first).  overlay_cap is the resolved live.overlay in bytes.
 * Returns 0 or EINVAL (a source the plan cannot express: net without a
 * URL, a control character in a value, a value too long for a command
 * line) with d set; then the lines given are not a usable script, so a
 * caller that must not print half a script runs it once with a sink first.
 */
int	plan_freebsd_commands(const struct live_config *c,
	    const struct fbsd_source *s, uint64_t overlay_cap,
	    void (*line)(void *arg, const char *text), void *arg,
	    struct diag *d);

#endif
