/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_report.c - the probe phase's decisions (report.h): the hint of a
 * failed search in its order of precedence, the late-disk rule, the retry
 * of a device that is not ready (ENOMEDIUM polled for the whole wait,
 * other open errors 40 times, EIO after opening 3 times, a hard error
 * never), and the locate mask of a devices step.
 */
#include <errno.h>
#include <string.h>

#include <liveroot/locate.h>
#include <liveroot/report.h>

#include "t.h"

/* Each row adds one finding to the last: the hint follows precedence. */
static void
test_hint(void)
{
	static const struct {
		size_t	disks;
		int	net_tried;
		long	http;
		int	param, late, image_bad, sha_bad;
		enum probe_hint want;
	} t[] = {
		{ 0, 0, 0, 0, 0, 0, 0, PROBE_HINT_NO_DISK },
		{ 2, 0, 0, 0, 0, 0, 0, PROBE_HINT_NOT_ON_DISKS },
		{ 2, 1, 0, 0, 0, 0, 0, PROBE_HINT_NET },
		{ 2, 1, 404, 0, 0, 0, 0, PROBE_HINT_HTTP },
		{ 0, 1, 404, 0, 0, 0, 0, PROBE_HINT_HTTP }, /* not "no disk" */
		{ 0, 1, 404, 1, 0, 0, 0, PROBE_HINT_EMULATED },
		{ 0, 1, 404, 1, 1, 0, 0, PROBE_HINT_LATE },
		{ 0, 1, 404, 1, 1, 1, 0, PROBE_HINT_DAMAGED },
		{ 0, 1, 404, 1, 1, 1, 1, PROBE_HINT_SHA256 },
	};
	struct probe_report r;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.disks = t[i].disks;
		r.net_tried = t[i].net_tried;
		r.http_status = t[i].http;
		r.param_found = t[i].param;
		r.late = (size_t)t[i].late;
		r.image_bad = t[i].image_bad;
		r.sha_bad = t[i].sha_bad;
		CHECK_EQ(probe_report_hint(&r), t[i].want);
	}
}

static void
test_late(void)
{
	struct probe_report r;

	/* a wait from 2 s to 12 s: late from 9.5 s on, and after 12 s */
	memset(&r, 0, sizeof(r));
	r.dev_waited = 1;
	probe_report_disk(&r, "sda", 1.0, 2.0, 12.0);
	probe_report_disk(&r, "sdb", 9.0, 2.0, 12.0);
	CHECK_EQ(r.late, 0);
	probe_report_disk(&r, "sdc", 9.5, 2.0, 12.0);
	probe_report_disk(&r, "sdd", 20.0, 2.0, 12.0);
	CHECK_EQ(r.disks, 4);
	CHECK_EQ(r.late, 2);
	CHECK(strcmp(r.latelist, " sdc sdd") == 0);
	/* a short wait: nothing in its first second is late */
	memset(&r, 0, sizeof(r));
	r.dev_waited = 1;
	probe_report_disk(&r, "sr0", 2.9, 2.0, 3.0);
	CHECK_EQ(r.late, 0);
	probe_report_disk(&r, "sr1", 3.1, 2.0, 3.0);
	CHECK_EQ(r.late, 1);
	/* no wait: never late */
	memset(&r, 0, sizeof(r));
	probe_report_disk(&r, "sda", 50.0, 0, 0);
	CHECK_EQ(r.disks, 1);
	CHECK_EQ(r.late, 0);
	/* the list is bounded, the count is not */
	memset(&r, 0, sizeof(r));
	r.dev_waited = 1;
	for (int i = 0; i < 100; i++)
		probe_report_disk(&r, "averylongname", 99.0, 0, 1.0);
	CHECK_EQ(r.late, 100);
	CHECK(strlen(r.latelist) < sizeof(r.latelist));
	CHECK(strlen(r.latelist) > 150);
}

static void
test_retry(void)
{
	CHECK(probe_transient(ENXIO) && probe_transient(ENOMEDIUM) &&
	    probe_transient(EIO) && probe_transient(ENOENT));
	CHECK(!probe_transient(EACCES) && !probe_transient(EINVAL));
	/* open errors */
	CHECK(probe_retry_delay(ENOMEDIUM, 0, 1) == 1.0);
	CHECK(probe_retry_delay(ENOMEDIUM, 1000, 1) == 1.0);
	CHECK(probe_retry_delay(ENXIO, 0, 1) == 0.25);
	CHECK(probe_retry_delay(ENXIO, 39, 1) == 0.25);
	CHECK(probe_retry_delay(ENXIO, 40, 1) == 0);
	CHECK(probe_retry_delay(EACCES, 0, 1) == 0);
	/* errors of an opened device: only EIO, 3 times */
	CHECK(probe_retry_delay(EIO, 0, 0) == 0.25);
	CHECK(probe_retry_delay(EIO, 2, 0) == 0.25);
	CHECK(probe_retry_delay(EIO, 3, 0) == 0);
	CHECK(probe_retry_delay(EINVAL, 0, 0) == 0);
	CHECK(probe_retry_delay(ENOMEDIUM, 0, 0) == 0);
}

static void
test_mask(void)
{
	struct live_config c;
	struct probe_step st;
	int skipped = 0;

	memset(&c, 0, sizeof(c));
	memset(&st, 0, sizeof(st));
	st.devices = 1;
	CHECK_EQ(probe_locate_mask(&st, &c, &skipped), 0);
	st.order[0] = LIVE_S_LOCAL;
	st.order[1] = LIVE_S_FINDISO;
	st.norder = 2;
	CHECK_EQ(probe_locate_mask(&st, &c, &skipped), LOCATE_LOCAL);
	CHECK_EQ(skipped, 1);
	skipped = 0;
	strcpy(c.iso, "/live.iso");
	st.order[2] = LIVE_S_VENTOY;
	st.order[3] = LIVE_S_NET;		/* not a device strategy */
	st.norder = 4;
	CHECK_EQ(probe_locate_mask(&st, &c, &skipped),
	    LOCATE_LOCAL | LOCATE_FINDISO | LOCATE_VENTOY);
	CHECK_EQ(skipped, 0);
}

int
main(void)
{
	test_hint();
	test_late();
	test_retry();
	test_mask();
	return (t_done());
}
