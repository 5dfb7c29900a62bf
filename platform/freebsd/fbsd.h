/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fbsd.h - the FreeBSD platform layer of liveroot-init (platform/freebsd):
 * the executor's operations (ops.c) and the probe chain's strategies
 * (probe.c).  FreeBSD only; nothing here is built on Linux.
 */
#ifndef LIVEROOT_FBSD_H
#define LIVEROOT_FBSD_H

#include <liveroot/chain.h>
#include <liveroot/config.h>
#include <liveroot/plan_freebsd.h>
#include <liveroot/plan_freebsd_steps.h>

/* The base-system operations (kenv(2), nmount(2), MDIOCATTACH, ...). */
void	fbsd_ops_init(struct fbsd_ops *o);

/* What the probe found, in the form the plan takes. */
struct fbsd_probe {
	struct fbsd_source	src;
};

/*
 * The strategies of the probe chain on FreeBSD: preload (an md the loader
 * preloaded, not the ramdisk root), net (live.url), and the devices of
 * kern.disks (lib/probe/locate.c on each, until live.timeout).  p receives
 * the source; every attempt is logged on the console ("liveroot: ").
 */
void	fbsd_probe_ops(struct fbsd_probe *p, struct probe_ops *ops);

#endif
