/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_modalias.c - the modules.alias parser and the modalias readers
 * (fmt_modalias.h) liveroot-init matches devices with.  Every input is
 * copied into a buffer of exactly its length, with no NUL after it, so
 * ASan sees a one-byte over-read.  Covers: entries from a real depmod
 * file (pattern, literal prefix, module name with '-' as '_', device or
 * not), comments, blank and CRLF lines, each malformed line (another
 * keyword, a word missing or one too many, a NUL or control byte, a
 * pattern or name over its bound) skipped and counted; a sysfs modalias
 * value (trailing newline, blanks, bounds); a uevent's MODALIAS= taken
 * only from a kernel "add" (not from remove, udev's copy, or a message cut
 * short in the middle of the value).
 */
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_modalias.h>

#include "t.h"

/* A malloc'd copy of s without its NUL: exactly len bytes. */
static char *
exact(const char *s, size_t len)
{
	char *b = malloc(len ? len : 1);

	if (b != NULL)
		memcpy(b, s, len);
	return (b);
}

static int
span_is(const char *p, size_t len, const char *want)
{
	return (len == strlen(want) && memcmp(p, want, len) == 0);
}

static void
test_real(void)
{
	static const char text[] =
	    "# Aliases extracted from modules themselves.\n"
	    "alias pci:v00008086d00007010sv*sd*bc*sc*i* ata_piix\n"
	    "alias usb:v*p*d*dc*dsc*dp*ic08isc06ip50in* usb-storage\n"
	    "alias scsi:t-0x05* sr_mod\r\n"
	    "\n"
	    "alias fs-ext4 ext4\n"
	    "alias block-major-43-* nbd\n"
	    "alias acpi*:PNP0A03:* pci_root\n"
	    "alias devname:nbd-control nbd\n"
	    "alias\tvirtio:d00000002v*\tvirtio_blk";	/* no last newline */
	struct fmt_modalias_iter it;
	struct fmt_modalias_ent e;
	char *b = exact(text, sizeof(text) - 1);

	fmt_modalias_init(&it, b, sizeof(text) - 1);
	CHECK_EQ(fmt_modalias_next(&it, &e), 1);
	CHECK(span_is(e.pattern, e.patlen,
	    "pci:v00008086d00007010sv*sd*bc*sc*i*"));
	CHECK_EQ(e.prefix, strlen("pci:v00008086d00007010sv"));
	CHECK_EQ(e.device, 1);
	CHECK(strcmp(e.name, "ata_piix") == 0);
	CHECK_EQ(e.line, 2);
	CHECK_EQ(fmt_modalias_next(&it, &e), 1);
	CHECK(strcmp(e.name, "usb_storage") == 0);	/* '-' read as '_' */
	CHECK_EQ(e.prefix, 5);
	CHECK_EQ(fmt_modalias_next(&it, &e), 1);
	CHECK(span_is(e.pattern, e.patlen, "scsi:t-0x05*"));	/* no '\r' */
	CHECK(strcmp(e.name, "sr_mod") == 0);
	CHECK_EQ(fmt_modalias_next(&it, &e), 1);
	CHECK(strcmp(e.name, "ext4") == 0);
	CHECK_EQ(e.device, 0);
	CHECK_EQ(e.prefix, e.patlen);			/* no glob at all */
	CHECK_EQ(fmt_modalias_next(&it, &e), 1);
	CHECK(strcmp(e.name, "nbd") == 0);
	CHECK_EQ(e.device, 0);
	CHECK_EQ(fmt_modalias_next(&it, &e), 1);
	CHECK_EQ(e.device, 1);				/* "acpi*" is a bus */
	CHECK_EQ(e.prefix, 4);
	CHECK_EQ(fmt_modalias_next(&it, &e), 1);
	CHECK_EQ(e.device, 0);				/* devname: pseudo */
	CHECK_EQ(fmt_modalias_next(&it, &e), 1);
	CHECK(strcmp(e.name, "virtio_blk") == 0);
	CHECK(span_is(e.pattern, e.patlen, "virtio:d00000002v*"));
	CHECK_EQ(e.line, 10);
	CHECK_EQ(fmt_modalias_next(&it, &e), 0);
	CHECK_EQ(it.bad, 0);
	CHECK_EQ(it.off, sizeof(text) - 1);
	free(b);
}

static void
test_malformed(void)
{
	static const char *const bad[] = {
		"softdep ext4 pre: crc32c\n",		/* another keyword */
		"aliasx pci:v* a\n",
		"alias pci:v*\n",			/* no module */
		"alias\n",
		"alias pci:v* a b\n",			/* a word too many */
		"alias pci:v*\x01 a\n",			/* control byte */
		"alias pci:v*\x7f a\n",
		"alias pci:v* kernel/a\n",		/* a path, not a name */
		"alias pci:v* .ko\n",			/* an empty name */
	};
	struct fmt_modalias_iter it;
	struct fmt_modalias_ent e;
	char line[FMT_MODALIAS_MAX + 200], *b;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = exact(bad[i], strlen(bad[i]));
		fmt_modalias_init(&it, b, strlen(bad[i]));
		CHECK_EQ(fmt_modalias_next(&it, &e), 0);
		CHECK_EQ(it.bad, 1);
		free(b);
	}
	/* A NUL inside a line spoils that line only. */
	b = exact("alias pci:v\0* a\nalias usb:v* b\n", 31);
	fmt_modalias_init(&it, b, 31);
	CHECK_EQ(fmt_modalias_next(&it, &e), 1);
	CHECK(strcmp(e.name, "b") == 0);
	CHECK_EQ(it.bad, 1);
	free(b);
	/* The pattern bound: FMT_MODALIAS_MAX - 1 bytes fit, one more not. */
	for (n = FMT_MODALIAS_MAX - 1; n <= FMT_MODALIAS_MAX; n++) {
		memcpy(line, "alias ", 6);
		memset(line + 6, 'p', n);
		line[6] = 'x';
		line[7] = ':';
		memcpy(line + 6 + n, " m\n", 3);
		b = exact(line, 6 + n + 3);
		fmt_modalias_init(&it, b, 6 + n + 3);
		CHECK_EQ(fmt_modalias_next(&it, &e),
		    n < FMT_MODALIAS_MAX ? 1 : 0);
		CHECK_EQ(it.bad, n < FMT_MODALIAS_MAX ? 0 : 1);
		free(b);
	}
	/* The name bound. */
	memcpy(line, "alias x:y ", 10);
	memset(line + 10, 'n', FMT_MODDEP_NAMEMAX);
	b = exact(line, 10 + FMT_MODDEP_NAMEMAX);
	fmt_modalias_init(&it, b, 10 + FMT_MODDEP_NAMEMAX);
	CHECK_EQ(fmt_modalias_next(&it, &e), 0);
	CHECK_EQ(it.bad, 1);
	free(b);
	/* Nothing at all. */
	fmt_modalias_init(&it, NULL, 5);
	CHECK_EQ(fmt_modalias_next(&it, &e), 0);
}

static void
test_is_device(void)
{
	CHECK(fmt_modalias_is_device("pci:v*", 6));
	CHECK(fmt_modalias_is_device("of:N*T*Cfoo", 11));
	CHECK(fmt_modalias_is_device("i2c_hid:x", 9));
	CHECK(!fmt_modalias_is_device(":v", 2));		/* no bus */
	CHECK(!fmt_modalias_is_device("pci", 3));		/* no ':' */
	CHECK(!fmt_modalias_is_device("net-pf-17", 9));
	CHECK(!fmt_modalias_is_device("symbol:foo", 10));
	CHECK(!fmt_modalias_is_device("Pci:v", 5));		/* bus lowercase */
	CHECK(!fmt_modalias_is_device("pci:v", 3));		/* ':' past len */
}

static void
test_value(void)
{
	char big[FMT_MODALIAS_MAX + 1], *b;
	size_t n = 0;

	b = exact("scsi:t-0x05\n", 12);
	CHECK_EQ(fmt_modalias_value(b, 12, &n), 0);
	CHECK_EQ(n, 11);
	free(b);
	b = exact("pci:v0000 \n", 11);
	CHECK_EQ(fmt_modalias_value(b, 11, &n), 0);
	CHECK_EQ(n, 9);
	free(b);
	CHECK_EQ(fmt_modalias_value("\n", 1, &n), EINVAL);
	CHECK_EQ(fmt_modalias_value("", 0, &n), EINVAL);
	CHECK_EQ(fmt_modalias_value("nocolon\n", 8, &n), EINVAL);
	CHECK_EQ(fmt_modalias_value("a: b\n", 5, &n), EINVAL);
	CHECK_EQ(fmt_modalias_value("a:\0b", 4, &n), EINVAL);
	memset(big, 'a', sizeof(big));
	big[1] = ':';
	CHECK_EQ(fmt_modalias_value(big, FMT_MODALIAS_MAX - 1, &n), 0);
	CHECK_EQ(fmt_modalias_value(big, FMT_MODALIAS_MAX, &n), ENAMETOOLONG);
}

/* "KEY=VAL" strings, each ended by a NUL but the last: its length. */
static size_t
mkev(char *buf, size_t len, const char *const *kv, size_t nkv)
{
	size_t o = 0, i;

	for (i = 0; i < nkv; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s", kv[i]) + 1;
	return (o - 1);
}

static void
test_uevent(void)
{
	static const char *const add[] = { "add@/devices/pci0/usb1/1-1",
	    "ACTION=add", "DEVPATH=/devices/pci0/usb1/1-1", "SUBSYSTEM=usb",
	    "MODALIAS=usb:v46F4p0001d0000dc00dsc00dp00ic08isc06ip50in00",
	    "SEQNUM=7" };
	static const char *const rm[] = { "remove@/devices/x", "ACTION=remove",
	    "MODALIAS=scsi:t-0x00", "SEQNUM=8" };
	static const char *const none[] = { "add@/devices/x", "ACTION=add",
	    "SUBSYSTEM=block", "DEVNAME=sda" };
	static const char *const last[] = { "add@/devices/x", "ACTION=add",
	    "MODALIAS=scsi:t-0x05" };
	static const char *const empty[] = { "add@/devices/x", "ACTION=add",
	    "MODALIAS=" };
	char buf[1024], *b;
	const char *a;
	size_t n, al;

	n = mkev(buf, sizeof(buf), add, 6);
	b = exact(buf, n);
	CHECK_EQ(fmt_modalias_uevent(b, n, &a, &al), 0);
	CHECK(span_is(a, al,
	    "usb:v46F4p0001d0000dc00dsc00dp00ic08isc06ip50in00"));
	free(b);
	n = mkev(buf, sizeof(buf), rm, 4);
	CHECK_EQ(fmt_modalias_uevent(buf, n, &a, &al), ENOENT);
	n = mkev(buf, sizeof(buf), none, 4);
	CHECK_EQ(fmt_modalias_uevent(buf, n, &a, &al), ENOENT);
	/* the value runs to the end of the message: read to len, no further */
	n = mkev(buf, sizeof(buf), last, 3);
	b = exact(buf, n);
	CHECK_EQ(fmt_modalias_uevent(b, n, &a, &al), 0);
	CHECK(span_is(a, al, "scsi:t-0x05"));
	/* cut in the value: what is left still has its ':' */
	CHECK_EQ(fmt_modalias_uevent(b, n - 3, &a, &al), 0);
	CHECK(span_is(a, al, "scsi:t-0"));
	/* cut before the ':' */
	CHECK_EQ(fmt_modalias_uevent(b, n - 7, &a, &al), EINVAL);
	free(b);
	n = mkev(buf, sizeof(buf), empty, 3);
	CHECK_EQ(fmt_modalias_uevent(buf, n, &a, &al), EINVAL);
	n = mkev(buf, sizeof(buf), add, 6);
	memcpy(buf, "libudev", 7);
	CHECK_EQ(fmt_modalias_uevent(buf, n, &a, &al), ENOENT);
	CHECK_EQ(fmt_modalias_uevent(buf, 0, &a, &al), EINVAL);
	CHECK_EQ(fmt_modalias_uevent(NULL, 5, &a, &al), EINVAL);
	CHECK_EQ(fmt_modalias_uevent(buf, FMT_UEVENT_MAX, &a, &al), EINVAL);
}

int
main(void)
{
	test_real();
	test_malformed();
	test_is_device();
	test_value();
	test_uevent();
	return (t_done());
}
