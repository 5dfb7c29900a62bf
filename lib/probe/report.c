/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report.c - the probe phase's pure decisions (report.h): the strategy
 * mask of a devices step, the retry of a device that is not ready, and the
 * hint a failed search ends with.
 */
#include <errno.h>
#include <string.h>

#include <liveroot/locate.h>
#include <liveroot/report.h>

void
probe_report_disk(struct probe_report *r, const char *name, double appeared,
    double wait_start, double wait_end)
{
	double late_after = wait_start + (wait_end - wait_start) * 0.75;
	size_t have = strlen(r->latelist);

	r->disks++;
	if (!r->dev_waited || !((appeared >= late_after &&
	    appeared > wait_start + 1) || appeared > wait_end))
		return;
	r->late++;
	if (have + strlen(name) + 2 < sizeof(r->latelist)) {
		r->latelist[have] = ' ';
		memcpy(r->latelist + have + 1, name, strlen(name) + 1);
	}
}

enum probe_hint
probe_report_hint(const struct probe_report *r)
{
	if (r->sha_bad)
		return (PROBE_HINT_SHA256);
	if (r->image_bad)
		return (PROBE_HINT_DAMAGED);
	if (r->late > 0)
		return (PROBE_HINT_LATE);
	if (r->param_found)
		return (PROBE_HINT_EMULATED);
	if (r->disks == 0 && !r->net_tried)
		return (PROBE_HINT_NO_DISK);
	if (r->net_tried && r->http_status >= 400)
		return (PROBE_HINT_HTTP);
	if (r->net_tried)
		return (PROBE_HINT_NET);
	return (PROBE_HINT_NOT_ON_DISKS);
}

#ifndef ENOMEDIUM	/* FreeBSD: a drive without a disc answers ENXIO */
#define ENOMEDIUM ENXIO
#endif

int
probe_transient(int e)
{
	return (e == ENXIO || e == ENODEV || e == EIO || e == ENOMEDIUM ||
	    e == EBUSY || e == ENOENT || e == EAGAIN);
}

double
probe_retry_delay(int e, unsigned tries, int at_open)
{
	if (!at_open && (e != EIO || tries >= 3))
		return (0);
	if (!probe_transient(e) || (e != ENOMEDIUM && tries >= 40))
		return (0);
	return (e == ENOMEDIUM ? 1.0 : 0.25);
}

unsigned
probe_locate_mask(const struct probe_step *st, const struct live_config *c,
    int *iso_skipped)
{
	unsigned mask = 0;
	size_t i;

	for (i = 0; i < st->norder; i++) {
		switch (st->order[i]) {
		case LIVE_S_LOCAL:
			mask |= LOCATE_LOCAL;
			break;
		case LIVE_S_VENTOY:
			mask |= LOCATE_VENTOY;
			break;
		case LIVE_S_FINDISO:
			if (c->iso[0] == '\0')
				*iso_skipped = 1;
			else
				mask |= LOCATE_FINDISO;
			break;
		default:
			break;
		}
	}
	return (mask);
}
