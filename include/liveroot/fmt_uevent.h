/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_uevent.h - a kernel uevent message as NETLINK_KOBJECT_UEVENT
 * delivers it: a header "ACTION@DEVPATH", then "KEY=VALUE" strings, each
 * ended by a NUL (the last one by the end of the message):
 *
 *   add@/devices/.../block/sda\0ACTION=add\0DEVPATH=...\0SUBSYSTEM=block\0
 *   DEVNAME=sda\0DEVTYPE=disk\0SEQNUM=1234
 *
 * udevd re-broadcasts its own messages starting "libudev" (binary); those
 * are not the kernel's and are refused.  Only what liveroot-init needs is
 * taken: the action, whether the subsystem is "block", the device name
 * (without a leading "/dev/") and whether DEVTYPE is "partition".  A key
 * given twice counts by its last value, as before.
 *
 * Kernel-clean, allocation-free, stateless: the message is read only
 * inside [msg, msg + len) and never written; it may hold anything.
 */
#ifndef LIVEROOT_FMT_UEVENT_H
#define LIVEROOT_FMT_UEVENT_H

#include "lr_deps.h"

#define FMT_UEVENT_MAX		8192	/* a longer message is refused */
#define FMT_UEVENT_NAMEMAX	32	/* a device name, with its NUL */

enum fmt_uevent_action {
	FMT_UEVENT_OTHER,		/* bind, unbind, move, online, ... */
	FMT_UEVENT_ADD,
	FMT_UEVENT_CHANGE,
	FMT_UEVENT_REMOVE,
};

struct fmt_uevent {
	enum fmt_uevent_action action;
	int	partition;		/* DEVTYPE=partition */
	char	devname[FMT_UEVENT_NAMEMAX];	/* NUL-terminated */
};

/*
 * Parse msg[0, len).  0 with *ev filled for a kernel block-device event
 * with ACTION=, SUBSYSTEM=block and a non-empty DEVNAME=; ENOENT for an
 * event that is not one (udev's, another subsystem, a key missing);
 * EINVAL for an empty message or one of FMT_UEVENT_MAX bytes or more;
 * ENAMETOOLONG when the device name does not fit devname.
 */
int	fmt_uevent_parse(const void *msg, size_t len, struct fmt_uevent *ev);

#endif
