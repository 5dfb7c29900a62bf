/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clock.c - the monotonic clock in seconds and a sleep that survives
 * signals, for the HTTP code's deadlines and backoffs (fetch.c, http.c).
 */
#include <errno.h>
#include <time.h>

#include <liveroot/os.h>

double
os_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

void
os_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
