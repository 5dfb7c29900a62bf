/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * human.h - private to lib/probe (userland: it uses floating point): a byte
 * count as people read it in the plans' text lines, "512 B" or "3.0 MiB".
 */
#ifndef LIVEROOT_PROBE_HUMAN_H
#define LIVEROOT_PROBE_HUMAN_H

#include <inttypes.h>
#include <stdio.h>

static inline void
probe_human(uint64_t v, char *buf, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t i = 0;
	double x = (double)v;

	while (x >= 1024 && i + 1 < sizeof(u) / sizeof(u[0])) {
		x /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%" PRIu64 " B", v);
	else
		snprintf(buf, len, "%.1f %s", x, u[i]);
}

#endif
