/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report.h - the decisions of a boot's probe phase, apart from its I/O:
 * which locate strategies a devices step asks for, whether a device that
 * failed is tried again and when, and, when nothing was found, what the
 * report of the search says and which hint fits it.
 *
 * Pure: no I/O, no clock (times are the caller's uptimes in seconds), no
 * allocation, no message text.  A hint is an enum; the caller words it in
 * its own terms (the kernel arguments that fix it), as net_fetch_hint's
 * caller does.
 */
#ifndef LIVEROOT_REPORT_H
#define LIVEROOT_REPORT_H

#include <stddef.h>

#include "chain.h"
#include "config.h"

/* What the search saw, filled as it goes; the diagnostic block prints it. */
struct probe_report {
	int		param_found;	/* a valid Ventoy os_param */
	char		param_where[128];
	char		param_note[600];
	int		net_tried;
	char		net_url[1024];	/* redacted */
	long		http_status;
	char		net_error[400];
	int		preload_tried;
	int		dev_waited;	/* a devices step waited */
	int		findiso_skipped;
	int		image_bad;	/* found, but damaged */
	int		sha_bad;	/* the download did not match */
	/* probe_report_disk, for the devices listed after the search */
	size_t		disks;
	size_t		late;
	char		latelist[200];	/* " sdb sdc", the late ones */
};

enum probe_hint {
	PROBE_HINT_SHA256,		/* the download does not match */
	PROBE_HINT_DAMAGED,		/* an image found but damaged */
	PROBE_HINT_LATE,		/* disks appeared late in the wait */
	PROBE_HINT_EMULATED,		/* os_param, but no disk matches it */
	PROBE_HINT_NO_DISK,		/* no disk at all, no network tried */
	PROBE_HINT_HTTP,		/* the server answered >= 400 */
	PROBE_HINT_NET,			/* the fetch failed otherwise */
	PROBE_HINT_NOT_ON_DISKS,	/* disks seen, none held the image */
};

/*
 * One whole disk of the listing: counted, and noted as late when the wait
 * ran and it appeared in the wait's last quarter (and over 1 s into it)
 * or after the wait ended.
 */
void	probe_report_disk(struct probe_report *r, const char *name,
	    double appeared, double wait_start, double wait_end);
/* The one hint that fits, the first in the order of the enum. */
enum probe_hint probe_report_hint(const struct probe_report *r);

/*
 * An error a device announced before it answers may give (a USB stick's
 * ENXIO on the first open, a CD drive's ENOMEDIUM): 1 or 0.
 */
int	probe_transient(int err);
/*
 * Seconds until a device is tried again after err, 0 for never: tries is
 * the number of retries so far; at_open says the open failed (else the
 * device opened and the search of it failed).  ENOMEDIUM is polled every
 * second for as long as the wait lasts; other transient open errors every
 * 0.25 s, 40 times; a read error (EIO) of an opened device 3 times.
 */
double	probe_retry_delay(int err, unsigned tries, int at_open);
/*
 * The LOCATE_* mask (locate.h) of a devices step: its local, ventoy and
 * findiso strategies; findiso only with live.iso set (else *iso_skipped
 * becomes 1).  0 means nothing to look for.
 */
unsigned probe_locate_mask(const struct probe_step *st,
	    const struct live_config *c, int *iso_skipped);

#endif
