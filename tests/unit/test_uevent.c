/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_uevent.c - the kernel uevent parser (fmt_uevent.h): block events
 * with their action, name and partition flag; udev's messages, other
 * subsystems and missing keys refused; the bounds (empty, too long, a
 * name that does not fit, the last string without its NUL, a key given
 * twice); the message never written.
 */
#include <string.h>

#include <liveroot/fmt_uevent.h>

#include "t.h"

/* "ACTION@DEVPATH\0" then the keys, NUL-separated, as the kernel sends. */
static size_t
mk(char *buf, size_t len, const char *const *keys)
{
	size_t o = 0;

	o += (size_t)snprintf(buf, len, "add@/devices/x/sda") + 1;
	for (; *keys != NULL; keys++)
		o += (size_t)snprintf(buf + o, len - o, "%s", *keys) + 1;
	return (o);
}

static void
test_block(void)
{
	static const char *const disk[] = { "ACTION=add", "DEVPATH=/x/sda",
	    "SUBSYSTEM=block", "DEVNAME=sda", "DEVTYPE=disk", "SEQNUM=7",
	    NULL };
	static const char *const part[] = { "ACTION=change",
	    "SUBSYSTEM=block", "DEVNAME=/dev/sda1", "DEVTYPE=partition",
	    NULL };
	static const char *const rm[] = { "ACTION=remove", "SUBSYSTEM=block",
	    "DEVNAME=vdb", NULL };
	static const char *const bind[] = { "ACTION=bind", "SUBSYSTEM=block",
	    "DEVNAME=vdb", NULL };
	struct fmt_uevent ev;
	char buf[1024], copy[1024];
	size_t n;

	n = mk(buf, sizeof(buf), disk);
	memcpy(copy, buf, n);
	CHECK_EQ(fmt_uevent_parse(buf, n, &ev), 0);
	CHECK_EQ(ev.action, FMT_UEVENT_ADD);
	CHECK_EQ(ev.partition, 0);
	CHECK(strcmp(ev.devname, "sda") == 0);
	CHECK(memcmp(copy, buf, n) == 0);	/* not written */
	/* without the NUL after the last key: the same */
	CHECK_EQ(fmt_uevent_parse(buf, n - 1, &ev), 0);
	CHECK_EQ(ev.action, FMT_UEVENT_ADD);

	n = mk(buf, sizeof(buf), part);
	CHECK_EQ(fmt_uevent_parse(buf, n, &ev), 0);
	CHECK_EQ(ev.action, FMT_UEVENT_CHANGE);
	CHECK_EQ(ev.partition, 1);
	CHECK(strcmp(ev.devname, "sda1") == 0);

	n = mk(buf, sizeof(buf), rm);
	CHECK_EQ(fmt_uevent_parse(buf, n, &ev), 0);
	CHECK_EQ(ev.action, FMT_UEVENT_REMOVE);
	CHECK(strcmp(ev.devname, "vdb") == 0);

	n = mk(buf, sizeof(buf), bind);
	CHECK_EQ(fmt_uevent_parse(buf, n, &ev), 0);
	CHECK_EQ(ev.action, FMT_UEVENT_OTHER);
}

static void
test_refused(void)
{
	static const char *const keys[][6] = {
		{ "ACTION=add", "SUBSYSTEM=net", "DEVNAME=eth0", NULL },
		{ "ACTION=add", "SUBSYSTEM=blocks", "DEVNAME=sda", NULL },
		{ "ACTION=add", "SUBSYSTEM=block", NULL },
		{ "SUBSYSTEM=block", "DEVNAME=sda", NULL },
		{ "ACTION=add", "SUBSYSTEM=block", "DEVNAME=/dev/", NULL },
		{ "ACTION=add", "SUBSYSTEM=block",
		    "DEVNAME=averyveryverylongdevicename0123456789", NULL },
		/* 31 bytes: fits */
		{ "ACTION=add", "SUBSYSTEM=block",
		    "DEVNAME=0123456789012345678901234567890", NULL },
		/* a key given twice: the last one counts */
		{ "ACTION=add", "SUBSYSTEM=block", "DEVNAME=sda",
		    "DEVNAME=sdb", "SUBSYSTEM=net", NULL },
	};
	static const int want[] = { ENOENT, ENOENT, ENOENT, ENOENT, ENOENT,
	    ENAMETOOLONG, 0, ENOENT };
	struct fmt_uevent ev;
	static char big[FMT_UEVENT_MAX + 1];
	char buf[1024];
	size_t i, n;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		n = mk(buf, sizeof(buf), keys[i]);
		CHECK_EQ(fmt_uevent_parse(buf, n, &ev), want[i]);
	}
	CHECK_EQ(strlen(ev.devname), 0);	/* cleared on failure */
	n = mk(buf, sizeof(buf), keys[6]);
	CHECK_EQ(fmt_uevent_parse(buf, n, &ev), 0);
	CHECK_EQ(strlen(ev.devname), 31);

	/* udev's own broadcast */
	memcpy(buf, "libudev", 7);
	CHECK_EQ(fmt_uevent_parse(buf, n, &ev), ENOENT);
	/* truncated: the keys cut off */
	CHECK_EQ(fmt_uevent_parse(buf, 5, &ev), ENOENT);
	CHECK_EQ(fmt_uevent_parse(buf, 0, &ev), EINVAL);
	CHECK_EQ(fmt_uevent_parse(NULL, 10, &ev), EINVAL);
	/* the size bound */
	memset(big, 0, sizeof(big));
	CHECK_EQ(fmt_uevent_parse(big, FMT_UEVENT_MAX, &ev), EINVAL);
	CHECK_EQ(fmt_uevent_parse(big, FMT_UEVENT_MAX - 1, &ev), ENOENT);
}

int
main(void)
{
	test_block();
	test_refused();
	return (t_done());
}
