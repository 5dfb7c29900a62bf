/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_config.c - the live.* keys: defaults, kernel command line quoting,
 * repeated keys, aliases, the defaults file, validation messages, unknown
 * keys, and the overlay share of RAM.
 */
#include <stdlib.h>
#include <string.h>

#include <liveroot/config.h>

#include "t.h"

static int
has_problem(const struct live_config *c, enum live_problem_kind k,
    const char *key, const char *sub)
{
	size_t i;

	for (i = 0; i < c->nproblems; i++)
		if (c->problems[i].kind == k &&
		    strcmp(c->problems[i].key, key) == 0 &&
		    (sub == NULL || strstr(c->problems[i].msg, sub) != NULL))
			return (1);
	return (0);
}

/* c as the kernel command line s leaves it, from the defaults. */
static void
parsed(struct live_config *c, const char *s)
{
	config_init(c);
	config_parse_cmdline(c, s);
}

static void
test_defaults(void)
{
	struct live_config c;

	config_init(&c);
	config_finish(&c);
	CHECK_EQ(c.nprobe, 5);
	CHECK_EQ(c.probe[0], LIVE_S_PRELOAD);
	CHECK_EQ(c.probe[4], LIVE_S_NET);
	CHECK(strcmp(c.image, "/rootfs.uzip") == 0);
	CHECK(strcmp(c.init, "/sbin/init") == 0);
	CHECK_EQ(c.timeout_s, 30);
	CHECK_EQ(c.overlay_pct, 50);
	CHECK_EQ(c.handoff, LIVE_HANDOFF_AUTO);
	CHECK_EQ(c.shell, 0);
	CHECK_EQ(config_overlay_bytes(&c, 1ULL << 30), 512ULL << 20);
	/* An odd RAM size is rounded down to a page. */
	CHECK_EQ(config_overlay_bytes(&c, 1000001), 499712);
	CHECK_EQ(c.nproblems, 0);
}

static void
test_cmdline_basic(void)
{
	struct live_config c;
	size_t n;

	config_init(&c);
	n = config_parse_cmdline(&c, "BOOT_IMAGE=/vmlinuz console=ttyS0 "
	    "quiet live.probe=local,net live.label=MYLIVE "
	    "live.image=/boot/root.uzip live.timeout=7 live.toram=1 "
	    "live.overlay=64M live.handoff=chroot live.init=/bin/sh "
	    "live.shell=1 live.debug=yes example.check=overlay64\n");
	CHECK_EQ(n, 0);
	CHECK_EQ(c.nprobe, 2);
	CHECK_EQ(c.probe[0], LIVE_S_LOCAL);
	CHECK_EQ(c.probe[1], LIVE_S_NET);
	CHECK(strcmp(c.label, "MYLIVE") == 0);
	CHECK(strcmp(c.image, "/boot/root.uzip") == 0);
	CHECK_EQ(c.timeout_s, 7);
	CHECK_EQ(c.toram, 1);
	CHECK_EQ(c.overlay_bytes, 64ULL << 20);
	CHECK_EQ(config_overlay_bytes(&c, 8ULL << 30), 64ULL << 20);
	CHECK_EQ(c.handoff, LIVE_HANDOFF_CHROOT);
	CHECK(strcmp(c.init, "/bin/sh") == 0);
	CHECK_EQ(c.shell, 1);
	CHECK_EQ(c.debug, 1);
}

static void
test_quotes_repeat_and_end(void)
{
	struct live_config c;

	parsed(&c, "live.label=A live.label=\"MY LIVE CD\" "
	    "\"live.iso=/isos/my live.iso\" live.timeout=3 live.timeout=4 "
	    "-- live.label=AFTER");
	CHECK(strcmp(c.label, "MY LIVE CD") == 0);
	CHECK(strcmp(c.iso, "/isos/my live.iso") == 0);
	CHECK_EQ(c.timeout_s, 4);
	CHECK_EQ(c.nproblems, 0);

	/* Tabs and several spaces separate words too. */
	parsed(&c, "\t live.shell=1\t\tlive.debug=0   ");
	CHECK_EQ(c.shell, 1);
	CHECK_EQ(c.debug, 0);

	/* A bare flag means 1. */
	parsed(&c, "live.toram live.shell");
	CHECK_EQ(c.toram, 1);
	CHECK_EQ(c.shell, 1);
}

static void
test_aliases(void)
{
	struct live_config c;

	parsed(&c, "root=live:CDLABEL=DEBIAN_LIVE");
	CHECK(strcmp(c.label, "DEBIAN_LIVE") == 0);
	CHECK_EQ(c.nprobe, 5);

	parsed(&c, "root=live:LABEL=STICK findiso=/isos/x.iso");
	CHECK(strcmp(c.label, "STICK") == 0);
	CHECK(strcmp(c.iso, "/isos/x.iso") == 0);

	/* A URL without an order: preload then net, no media wait. */
	parsed(&c, "root=live:http://10.0.2.100/rootfs.uzip");
	CHECK(strcmp(c.url, "http://10.0.2.100/rootfs.uzip") == 0);
	CHECK_EQ(c.nprobe, 2);
	CHECK_EQ(c.probe[0], LIVE_S_PRELOAD);
	CHECK_EQ(c.probe[1], LIVE_S_NET);

	/* An explicit order wins over the URL rule, wherever it stands. */
	parsed(&c, "live.probe=net,local "
	    "live.url=https://example.org/r.uzip");
	CHECK_EQ(c.nprobe, 2);
	CHECK_EQ(c.probe[0], LIVE_S_NET);
	CHECK_EQ(c.probe[1], LIVE_S_LOCAL);

	/* root= that is not live: is not ours and not a problem. */
	parsed(&c, "root=/dev/sda1 rootfstype=ext4");
	CHECK_EQ(c.nproblems, 0);
	CHECK(c.label[0] == '\0');

	parsed(&c, "root=live:UUID=1234");
	CHECK(has_problem(&c, LIVE_P_INVALID, "root", "CDLABEL"));
}

static void
test_invalid_values(void)
{
	struct live_config c;
	size_t n;

	config_init(&c);
	n = config_parse_cmdline(&c, "live.overlay=lots live.timeout=soon "
	    "live.probe=local,floppy live.handoff=teleport live.shell=maybe "
	    "live.image=rootfs.uzip live.sha256=abc live.url=ftp://x/y "
	    "live.overlay=0%");
	CHECK_EQ(n, 9);
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.overlay", "not a size"));
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.timeout", "kept 30"));
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.probe", "'floppy'"));
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.handoff", "switch_root"));
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.shell", "use 1 or 0"));
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.image", "absolute"));
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.sha256", "64 hex"));
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.url", "http://"));
	/* Defaults kept. */
	CHECK_EQ(c.overlay_pct, 50);
	CHECK_EQ(c.overlay_bytes, 0);
	CHECK_EQ(c.timeout_s, 30);
	CHECK_EQ(c.nprobe, 5);
	CHECK_EQ(c.handoff, LIVE_HANDOFF_AUTO);
	CHECK(strcmp(c.image, "/rootfs.uzip") == 0);
	CHECK(c.url[0] == '\0');

	/* Percent and size forms. */
	parsed(&c, "live.overlay=25%");
	CHECK_EQ(c.overlay_pct, 25);
	CHECK_EQ(config_overlay_bytes(&c, 4ULL << 30), 1ULL << 30);
	config_parse_cmdline(&c, "live.overlay=2GiB");
	CHECK_EQ(c.overlay_bytes, 2ULL << 30);
	config_parse_cmdline(&c, "live.overlay=101%");
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.overlay", NULL));
	CHECK_EQ(c.overlay_bytes, 2ULL << 30);
	config_parse_cmdline(&c, "live.overlay=99999999999999999999G");
	CHECK_EQ(c.overlay_bytes, 2ULL << 30);

	/* sha256 is stored lowercase. */
	parsed(&c, "live.sha256="
	    "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789");
	CHECK(strcmp(c.sha256, "abcdef0123456789abcdef0123456789"
	    "abcdef0123456789abcdef0123456789") == 0);
	CHECK_EQ(c.nproblems, 0);

	/* An overlong value is refused, not truncated. */
	{
		char big[700];

		memset(big, 'A', sizeof(big));
		memcpy(big, "live.label=", 11);
		big[sizeof(big) - 1] = '\0';
		config_init(&c);
		config_parse_cmdline(&c, big);
		CHECK(c.label[0] == '\0');
		CHECK(has_problem(&c, LIVE_P_INVALID, "live.label", "longer"));
	}
}

static void
test_unknown_and_unsupported(void)
{
	struct live_config c;

	parsed(&c, "live.lable=X live.pubkey=/k.pem "
	    "live.persist=LABEL=keep live.=1 livex.y=1 example.check=enospc");
	CHECK(has_problem(&c, LIVE_P_UNKNOWN, "live.lable", "unknown key"));
	CHECK(has_problem(&c, LIVE_P_UNKNOWN, "live.", NULL));
	CHECK(strcmp(c.persist, "LABEL=keep") == 0);
	CHECK(strcmp(c.pubkey, "/k.pem") == 0);	/* a key to check with */
	CHECK_EQ(c.nproblems, 2);
	parsed(&c, "live.pubkey=k.pub");
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.pubkey", "absolute"));
}

static void
test_problem_overflow(void)
{
	struct live_config c;
	char line[4096];
	size_t i, o = 0;

	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o,
		    "live.bogus%zu=1 ", i);
	parsed(&c, line);
	CHECK_EQ(c.nproblems, LIVE_MAX_PROBLEMS);
	CHECK_EQ(c.problems_dropped, 40 - LIVE_MAX_PROBLEMS);
}

static void
test_defaults_file(void)
{
	static const char file[] =
	    "# liveroot defaults\n"
	    "\n"
	    "live.label = FILELABEL\n"
	    "live.timeout=10\n"
	    "live.overlay=\"75%\"\n"
	    "  live.shell=1   \n"
	    "notakey=1\n"
	    "live.debug=1";		/* no final newline */
	struct live_config c;
	size_t n;

	config_init(&c);
	n = config_parse_defaults(&c, file, strlen(file));
	CHECK_EQ(n, 1);
	CHECK(has_problem(&c, LIVE_P_UNKNOWN, "notakey", NULL));
	CHECK(strcmp(c.label, "FILELABEL") == 0);
	CHECK_EQ(c.timeout_s, 10);
	CHECK_EQ(c.overlay_pct, 75);
	CHECK_EQ(c.shell, 1);
	CHECK_EQ(c.debug, 1);
	CHECK_EQ(c.src[1], LIVE_SRC_FILE);

	/* The command line wins. */
	config_parse_cmdline(&c, "live.label=CMDLINE live.shell=0");
	CHECK(strcmp(c.label, "CMDLINE") == 0);
	CHECK_EQ(c.shell, 0);
	CHECK_EQ(c.timeout_s, 10);
	CHECK_EQ(c.src[1], LIVE_SRC_CMDLINE);

	/* An exact-size buffer without a terminating NUL (ASan sees an
	 * over-read). */
	{
		static const char s[] = "live.label=EXACT";
		char *buf = malloc(sizeof(s) - 1);

		memcpy(buf, s, sizeof(s) - 1);
		config_init(&c);
		config_parse_defaults(&c, buf, sizeof(s) - 1);
		CHECK(strcmp(c.label, "EXACT") == 0);
		free(buf);
	}
}

static void
test_sizes(void)
{
	uint64_t v;

	CHECK_EQ(config_parse_size("4096", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(config_parse_size("64K", &v), 0);
	CHECK_EQ(v, 65536);
	CHECK_EQ(config_parse_size("1MiB", &v), 0);
	CHECK_EQ(v, 1 << 20);
	CHECK_EQ(config_parse_size("3gb", &v), 0);
	CHECK_EQ(v, 3ULL << 30);
	CHECK_EQ(config_parse_size("", &v), EINVAL);
	CHECK_EQ(config_parse_size("-1M", &v), EINVAL);
	CHECK_EQ(config_parse_size("12Q", &v), EINVAL);
	CHECK_EQ(config_parse_size("17179869184T", &v), ERANGE);
	CHECK_EQ(config_size_unit('k'), 1 << 10);
	CHECK_EQ(config_size_unit('G'), 1ULL << 30);
	CHECK_EQ(config_size_unit('t'), 1ULL << 40);
	CHECK_EQ(config_size_unit('B'), 1);
	CHECK_EQ(config_size_unit('\0'), 1);
}

static void
test_key_iteration(void)
{
	struct live_config c;
	const char *key;
	char buf[128];
	enum live_source src;
	size_t i;
	int saw_probe = 0, saw_overlay = 0;

	parsed(&c, "live.probe=ventoy,local live.overlay=32M");
	for (i = 0; config_key_at(&c, i, &key, buf, sizeof(buf), &src); i++) {
		if (strcmp(key, "live.probe") == 0) {
			saw_probe = strcmp(buf, "ventoy,local") == 0 &&
			    src == LIVE_SRC_CMDLINE;
		}
		if (strcmp(key, "live.overlay") == 0)
			saw_overlay = strcmp(buf, "33554432") == 0;
	}
	CHECK_EQ(i, 21);	/* live.fetch.share is the 21st */
	CHECK(saw_probe);
	CHECK(saw_overlay);
}

/* n: a note whose message holds sub */
static int
has_note(const struct live_config *c, const char *sub)
{
	for (size_t i = 0; i < c->nnotes; i++)
		if (strstr(c->notes[i].msg, sub) != NULL)
			return (1);
	return (0);
}

/* Issue 11 #3: other tools' arguments, mapped, not needed or ignored. */
static void
test_other_tools(void)
{
	struct live_config c;

	parsed(&c, "toram");
	CHECK_EQ(c.toram, 1);
	CHECK(has_note(&c, "mapped: toram (live-boot) -> live.toram=1"));
	CHECK_EQ(c.nproblems, 0);
	parsed(&c, "rd.live.ram=1");
	CHECK_EQ(c.toram, 1);
	parsed(&c, "copytoram");
	CHECK_EQ(c.toram, 1);
	parsed(&c, "toram copytoram=n");
	CHECK_EQ(c.toram, 0);
	parsed(&c, "copytoram=maybe");
	CHECK(has_problem(&c, LIVE_P_INVALID, "copytoram", NULL));

	parsed(&c, "boot=live fetch=http://10.0.2.100/rootfs.uzip");
	CHECK(strcmp(c.url, "http://10.0.2.100/rootfs.uzip") == 0);
	CHECK(has_note(&c, "not needed: boot=live"));
	CHECK_EQ(c.nproblems, 0);
	parsed(&c, "boot=zfs");		/* not a live-boot word: not ours */
	CHECK_EQ(c.nnotes, 0);
	CHECK_EQ(c.nproblems, 0);

	parsed(&c, "persistence");
	CHECK(strcmp(c.persist, "LABEL=persistence") == 0);
	parsed(&c, "persistence-label=keep persistence");
	CHECK(strcmp(c.persist, "LABEL=keep") == 0);
	parsed(&c, "rd.live.overlay=LABEL=STICK:/overlay.img");
	CHECK(strcmp(c.persist, "LABEL=STICK:/overlay.img") == 0);
	CHECK(strcmp(c.persist_label, "STICK") == 0);
	CHECK(strcmp(c.persist_file, "/overlay.img") == 0);
	parsed(&c, "persistence");
	CHECK(strcmp(c.persist_label, "persistence") == 0);
	CHECK(strcmp(c.persist_file, LIVE_DEFAULT_PERSIST_FILE) == 0);

	/* live.persist: the forms refused, each named */
	parsed(&c, "live.persist=/dev/sdb1");
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.persist", "LABEL="));
	CHECK(c.persist[0] == '\0' && c.persist_label[0] == '\0');
	parsed(&c, "live.persist=LABEL=:/x");
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.persist", "label"));
	parsed(&c, "live.persist=LABEL=K:rel/x");
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.persist", "absolute"));
	parsed(&c, "live.persist=LABEL=K:/a/../x");
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.persist", "\"..\""));
	parsed(&c, "live.persist=LABEL=K:/dir/");
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.persist", "absolute"));
	parsed(&c, "live.persist=LABEL=K:/d/f live.persist.size=2G");
	CHECK_EQ(c.nproblems, 0);
	CHECK(strcmp(c.persist_file, "/d/f") == 0);
	CHECK_EQ(c.persist_size, 2ULL << 30);
	parsed(&c, "live.persist.size=12");
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.persist.size", "size"));
	CHECK_EQ(c.persist_size, 0);

	parsed(&c, "rd.live.overlay.size=512");
	CHECK_EQ(c.overlay_bytes, 512ULL << 20);
	parsed(&c, "cow_spacesize=1G");
	CHECK_EQ(c.overlay_bytes, 1ULL << 30);

	parsed(&c, "archisolabel=ARCH_2026 img_dev=/dev/sda1 "
	    "img_loop=/isos/arch.iso");
	CHECK(strcmp(c.label, "ARCH_2026") == 0);
	CHECK(strcmp(c.iso, "/isos/arch.iso") == 0);
	CHECK(has_note(&c, "not needed: img_dev=/dev/sda1"));
	parsed(&c, "iso-scan/filename=/ubuntu.iso");
	CHECK(strcmp(c.iso, "/ubuntu.iso") == 0);
	parsed(&c, "img_loop=relative.iso");
	CHECK(has_problem(&c, LIVE_P_INVALID, "img_loop", "absolute"));

	parsed(&c, "rd.live.image rd.shell=0");
	CHECK_EQ(c.nproblems, 0);
	CHECK_EQ(c.nnotes, 2);

	/* what liveroot does not do is said, with what to use instead */
	parsed(&c, "rd.live.check");
	CHECK_EQ(c.check, 1);
	parsed(&c, "verify-checksums");
	CHECK(has_note(&c, "mapped: verify-checksums (live-boot) -> "
	    "live.check=1"));
	parsed(&c, "live.check=1");
	CHECK_EQ(c.check, 1);
	CHECK_EQ(c.nproblems, 0);

	parsed(&c, "live-media=/dev/sdb "
	    "archisosearchuuid=2026 rd.live.dir=/LiveOS rd.shell=1 "
	    "rd.live.foo=1 persistent");
	CHECK(has_problem(&c, LIVE_P_UNSUPPORTED, "live-media", "live.label="));
	CHECK(has_problem(&c, LIVE_P_UNSUPPORTED, "archisosearchuuid", "live.label="));
	CHECK(has_problem(&c, LIVE_P_UNSUPPORTED, "rd.live.dir", "live.image="));
	CHECK(has_problem(&c, LIVE_P_UNSUPPORTED, "rd.shell", "live.shell=1"));
	CHECK(has_problem(&c, LIVE_P_UNSUPPORTED, "rd.live.foo", "liveroot-init(8)"));
	CHECK(has_problem(&c, LIVE_P_UNSUPPORTED, "persistent", "live.persist="));
	CHECK_EQ(c.nproblems, 6);

	/* many: counted beyond the array, never lost silently */
	parsed(&c, "toram toram toram toram toram toram toram toram toram "
	    "toram toram toram toram toram toram toram toram toram");
	CHECK_EQ(c.nnotes, LIVE_MAX_NOTES);
	CHECK_EQ(c.notes_dropped, 18 - LIVE_MAX_NOTES);
}

/* Issue 13: live.fetch, live.fetch.prefetch, live.fetch.share. */
static void
test_fetch_keys(void)
{
	struct live_config c;
	const char *key;
	char buf[64];
	enum live_source src;
	size_t i;
	int seen = 0;

	parsed(&c, "");
	CHECK_EQ(c.fetch, LIVE_FETCH_LAZY);	/* lazy unless told */
	CHECK_EQ(c.prefetch, 1);
	CHECK_EQ(c.fetch_share, 0);
	parsed(&c, "live.fetch=full live.fetch.prefetch=off "
	    "live.fetch.share=25");
	CHECK_EQ(c.nproblems, 0);
	CHECK_EQ(c.fetch, LIVE_FETCH_FULL);
	CHECK_EQ(c.prefetch, 0);
	CHECK_EQ(c.fetch_share, 25);
	parsed(&c, "live.fetch=full live.fetch=lazy live.fetch.share=100%");
	CHECK_EQ(c.nproblems, 0);
	CHECK_EQ(c.fetch, LIVE_FETCH_LAZY);
	CHECK_EQ(c.fetch_share, 100);
	for (i = 0; config_key_at(&c, i, &key, buf, sizeof(buf), &src); i++) {
		if (strcmp(key, "live.fetch") == 0 && strcmp(buf, "lazy") == 0 &&
		    src == LIVE_SRC_CMDLINE)
			seen |= 1;
		if (strcmp(key, "live.fetch.prefetch") == 0 &&
		    strcmp(buf, "1") == 0 && src == LIVE_SRC_DEFAULT)
			seen |= 2;
		if (strcmp(key, "live.fetch.share") == 0 &&
		    strcmp(buf, "100") == 0)
			seen |= 4;
	}
	CHECK_EQ(seen, 7);

	/* bad values: named, the value kept */
	parsed(&c, "live.fetch=fast live.fetch.prefetch=maybe "
	    "live.fetch.share=0 live.fetch.share=101 live.fetch.share=5x "
	    "live.fetch.share=");
	CHECK_EQ(c.nproblems, 6);
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.fetch",
	    "live.fetch=fast: use lazy"));
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.fetch", "kept lazy"));
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.fetch.prefetch",
	    "use 1 or 0"));
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.fetch.share",
	    "live.fetch.share=101: give a share"));
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.fetch.share",
	    "live.fetch.share=0:"));
	CHECK(has_problem(&c, LIVE_P_INVALID, "live.fetch.share", "1..100"));
	CHECK_EQ(c.fetch, LIVE_FETCH_LAZY);
	CHECK_EQ(c.prefetch, 1);
	CHECK_EQ(c.fetch_share, 0);

	/* the defaults file sets them too; an unknown fetch key is named */
	config_init(&c);
	config_parse_defaults(&c, "live.fetch = full\nlive.fetch.speed=9\n",
	    strlen("live.fetch = full\nlive.fetch.speed=9\n"));
	CHECK_EQ(c.fetch, LIVE_FETCH_FULL);
	CHECK(has_problem(&c, LIVE_P_UNKNOWN, "live.fetch.speed",
	    "fetch.share"));
	CHECK(strcmp(config_fetch_name(LIVE_FETCH_FULL), "full") == 0);
}

int
main(void)
{
	test_defaults();
	test_cmdline_basic();
	test_quotes_repeat_and_end();
	test_aliases();
	test_other_tools();
	test_invalid_values();
	test_unknown_and_unsupported();
	test_problem_overflow();
	test_defaults_file();
	test_sizes();
	test_key_iteration();
	test_fetch_keys();
	return (t_done());
}
