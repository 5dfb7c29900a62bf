/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_moddep.c - the modules.dep / modules.builtin parser (fmt_moddep.h)
 * that mklive and liveroot-init share.  Every input is copied into a
 * buffer of exactly its length, with no NUL after it, so ASan sees a
 * one-byte over-read.  Covers: entries, names ('-' as '_', .ko.xz/.ko.zst),
 * dependency lists, blank and CRLF lines, and each malformed line (no
 * colon, blank in a path, NUL byte, path or name over its bound) skipped
 * and counted instead of half-used.
 */
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_moddep.h>

#include "t.h"

/* A malloc'd copy of s without its NUL: exactly strlen(s) bytes. */
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
test_names(void)
{
	char nb[FMT_MODDEP_NAMEMAX], big[FMT_MODDEP_NAMEMAX + 8];
	static const struct {
		const char	*in;
		const char	*out;
	} ok[] = {
		{ "kernel/drivers/block/virtio_blk.ko", "virtio_blk" },
		{ "kernel/drivers/usb/storage/usb-storage.ko.xz", "usb_storage" },
		{ "ext4.ko.zst", "ext4" },
		{ "usb-storage", "usb_storage" },	/* a name, not a path */
		{ "crc32c_generic.ko.gz", "crc32c_generic" },
		{ "a/b.kobj.ko", "b.kobj" },		/* ".ko" + letter stays */
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK_EQ(fmt_moddep_name(ok[i].in, strlen(ok[i].in), nb,
		    sizeof(nb)), 0);
		CHECK(strcmp(nb, ok[i].out) == 0);
	}
	/* the span ends the name, not a NUL: "ext4.ko" of "ext4.ko: x" */
	CHECK_EQ(fmt_moddep_name("kernel/fs/ext4.ko: x", 17, nb, sizeof(nb)),
	    0);
	CHECK(strcmp(nb, "ext4") == 0);
	CHECK_EQ(fmt_moddep_name("kernel/", 7, nb, sizeof(nb)), EINVAL);
	CHECK_EQ(fmt_moddep_name(".ko", 3, nb, sizeof(nb)), EINVAL);
	CHECK_EQ(fmt_moddep_name("", 0, nb, sizeof(nb)), EINVAL);
	CHECK_EQ(fmt_moddep_name("a\0b.ko", 6, nb, sizeof(nb)), EINVAL);
	/* the bound: NAMEMAX - 1 characters fit, NAMEMAX do not */
	memset(big, 'm', sizeof(big));
	CHECK_EQ(fmt_moddep_name(big, FMT_MODDEP_NAMEMAX - 1, nb, sizeof(nb)),
	    0);
	CHECK_EQ(strlen(nb), FMT_MODDEP_NAMEMAX - 1);
	CHECK_EQ(fmt_moddep_name(big, FMT_MODDEP_NAMEMAX, nb, sizeof(nb)),
	    ENAMETOOLONG);
	CHECK_EQ(fmt_moddep_name("ext4", 4, nb, 4), ENAMETOOLONG);
	CHECK_EQ(fmt_moddep_name("ext4", 4, nb, 5), 0);
}

static void
test_dep(void)
{
	static const char text[] =
	    "kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko "
	    "kernel/fs/mbcache.ko\n"
	    "\n"
	    "kernel/fs/mbcache.ko:\n"
	    "   \t\n"
	    "kernel/drivers/usb/storage/usb-storage.ko.xz:\t"
	    "kernel/drivers/usb/core/usbcore.ko  \r\n"
	    "garbage line without colon\n"
	    "kernel/with blank.ko: x.ko\n"
	    "kernel/lib/crc16.ko:";		/* the last line, no newline */
	struct fmt_moddep_iter it;
	struct fmt_moddep_ent e;
	const char *p;
	size_t len = sizeof(text) - 1, pos, plen;
	char *b = exact(text, len);

	fmt_moddep_init(&it, b, len, FMT_MODDEP_DEP);
	CHECK_EQ(fmt_moddep_next(&it, &e), 1);
	CHECK(strcmp(e.name, "ext4") == 0);
	CHECK(span_is(e.path, e.pathlen, "kernel/fs/ext4/ext4.ko"));
	CHECK_EQ(e.line, 1);
	pos = 0;
	CHECK_EQ(fmt_moddep_dep_next(e.deps, e.depslen, &pos, &p, &plen), 1);
	CHECK(span_is(p, plen, "kernel/fs/jbd2/jbd2.ko"));
	CHECK_EQ(fmt_moddep_dep_next(e.deps, e.depslen, &pos, &p, &plen), 1);
	CHECK(span_is(p, plen, "kernel/fs/mbcache.ko"));
	CHECK_EQ(fmt_moddep_dep_next(e.deps, e.depslen, &pos, &p, &plen), 0);

	CHECK_EQ(fmt_moddep_next(&it, &e), 1);
	CHECK(strcmp(e.name, "mbcache") == 0);
	CHECK_EQ(e.depslen, 0);
	CHECK_EQ(e.line, 3);

	/* a tab after the colon, trailing blanks and CR trimmed */
	CHECK_EQ(fmt_moddep_next(&it, &e), 1);
	CHECK(strcmp(e.name, "usb_storage") == 0);
	CHECK(span_is(e.deps, e.depslen, "kernel/drivers/usb/core/usbcore.ko"));

	/* no colon and a blank in the path: skipped, counted */
	CHECK_EQ(fmt_moddep_next(&it, &e), 1);
	CHECK(strcmp(e.name, "crc16") == 0);
	CHECK_EQ(e.line, 8);
	CHECK_EQ(fmt_moddep_next(&it, &e), 0);
	CHECK_EQ(it.bad, 2);
	CHECK_EQ(fmt_moddep_next(&it, &e), 0);	/* stays at the end */

	/* find: the first entry of that name, names already normalized */
	CHECK_EQ(fmt_moddep_find(b, len, FMT_MODDEP_DEP, "usb_storage", &e),
	    1);
	CHECK(span_is(e.path, e.pathlen,
	    "kernel/drivers/usb/storage/usb-storage.ko.xz"));
	CHECK_EQ(fmt_moddep_find(b, len, FMT_MODDEP_DEP, "garbage", &e), 0);
	CHECK_EQ(fmt_moddep_find(b, len, FMT_MODDEP_DEP, "jbd2", &e), 0);
	free(b);
}

static void
test_builtin(void)
{
	static const char text[] =
	    "kernel/drivers/block/loop.ko\n"
	    "kernel/fs/isofs/isofs.ko\n"
	    "kernel/fs/x.ko: not a builtin line\n";
	struct fmt_moddep_iter it;
	struct fmt_moddep_ent e;
	size_t len = sizeof(text) - 1;
	char *b = exact(text, len);

	CHECK_EQ(fmt_moddep_find(b, len, FMT_MODDEP_LIST, "isofs", &e), 1);
	CHECK_EQ(e.depslen, 0);
	CHECK_EQ(fmt_moddep_find(b, len, FMT_MODDEP_LIST, "loop", &e), 1);
	CHECK_EQ(fmt_moddep_find(b, len, FMT_MODDEP_LIST, "ext4", &e), 0);
	/* a modules.dep line in a list: the blank makes it malformed */
	fmt_moddep_init(&it, b, len, FMT_MODDEP_LIST);
	while (fmt_moddep_next(&it, &e))
		;
	CHECK_EQ(it.bad, 1);
	/* the same text read as modules.dep: only the last line has ':' */
	fmt_moddep_init(&it, b, len, FMT_MODDEP_DEP);
	CHECK_EQ(fmt_moddep_next(&it, &e), 1);
	CHECK(strcmp(e.name, "x") == 0);
	CHECK_EQ(it.bad, 2);
	free(b);
}

/*
 * Crafted lines: a NUL inside a line, a path one byte over
 * FMT_MODDEP_PATHMAX, a name one byte over FMT_MODDEP_NAMEMAX - 1.  Each is
 * skipped whole (never truncated into another module's name) and counted.
 */
static void
test_bounds(void)
{
	struct fmt_moddep_iter it;
	struct fmt_moddep_ent e;
	size_t len, o = 0;
	char *b;

	len = 3 * (FMT_MODDEP_PATHMAX + 16) + 64;
	b = calloc(1, len);
	/* "a\0b.ko: x.ko" */
	memcpy(b + o, "a\0b.ko: x.ko\n", 13);
	o += 13;
	/* a path of PATHMAX + 1 bytes */
	memset(b + o, 'd', FMT_MODDEP_PATHMAX - 4);
	memcpy(b + o + FMT_MODDEP_PATHMAX - 4, "/m.ko:\n", 7);
	o += FMT_MODDEP_PATHMAX + 3;
	/* a name of NAMEMAX bytes */
	memset(b + o, 'n', FMT_MODDEP_NAMEMAX);
	memcpy(b + o + FMT_MODDEP_NAMEMAX, ".ko:\n", 5);
	o += FMT_MODDEP_NAMEMAX + 5;
	/* and a good one last */
	memcpy(b + o, "ok.ko:", 6);
	o += 6;
	fmt_moddep_init(&it, b, o, FMT_MODDEP_DEP);
	CHECK_EQ(fmt_moddep_next(&it, &e), 1);
	CHECK(strcmp(e.name, "ok") == 0);
	CHECK_EQ(fmt_moddep_next(&it, &e), 0);
	CHECK_EQ(it.bad, 3);
	CHECK_EQ(it.line, 4);
	free(b);

	/* the path bound itself is accepted */
	len = FMT_MODDEP_PATHMAX + 1;
	b = malloc(len);
	memset(b, 'p', len);
	memcpy(b + FMT_MODDEP_PATHMAX - 6, "/ab.ko:", 7);
	fmt_moddep_init(&it, b, len, FMT_MODDEP_DEP);
	CHECK_EQ(fmt_moddep_next(&it, &e), 1);
	CHECK_EQ(e.pathlen, FMT_MODDEP_PATHMAX);
	CHECK(strcmp(e.name, "ab") == 0);
	free(b);

	/* nothing at all, and a NULL buffer */
	fmt_moddep_init(&it, NULL, 10, FMT_MODDEP_DEP);
	CHECK_EQ(fmt_moddep_next(&it, &e), 0);
	CHECK_EQ(fmt_moddep_find("", 0, FMT_MODDEP_DEP, "x", &e), 0);
}

static void
test_dep_tokens(void)
{
	static const char deps[] = "  a.ko\t b.ko   c.ko ";
	const char *p;
	size_t pos = 0, plen, n = 0;

	/* a span cut short of its text: "  a.ko\t b" ends at b */
	while (fmt_moddep_dep_next(deps, 9, &pos, &p, &plen))
		n++;
	CHECK_EQ(n, 2);
	CHECK(span_is(p, plen, "b"));
	pos = 0;
	n = 0;
	while (fmt_moddep_dep_next(deps, sizeof(deps) - 1, &pos, &p, &plen))
		n++;
	CHECK_EQ(n, 3);
	CHECK(span_is(p, plen, "c.ko"));
	pos = 0;
	CHECK_EQ(fmt_moddep_dep_next("", 0, &pos, &p, &plen), 0);
}

int
main(void)
{
	test_names();
	test_dep();
	test_builtin();
	test_bounds();
	test_dep_tokens();
	return (t_done());
}
