/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_plan_freebsd.c - the FreeBSD plan: --source SPEC parsing (on
 * exact-size heap copies, so ASan sees an over-read), the hand-off rule
 * (reroot only when nothing hangs on a vnode of the old root), the
 * commands each source produces, and that the plan's lines say what the
 * commands do (hand-off, cap) for every source, live.geom and live.handoff.
 * The full command texts are pinned by the golden files in
 * tests/golden/freebsd/; here the rules and their edges.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/plan_freebsd.h>

#include "t.h"

struct lines {
	char	text[65536];
	size_t	len;
	size_t	n;
};

static void
collect(void *arg, const char *text)
{
	struct lines *l = arg;
	size_t k = strlen(text);

	if (l->len + k + 2 < sizeof(l->text)) {
		memcpy(l->text + l->len, text, k);
		l->len += k;
		l->text[l->len++] = '\n';
		l->text[l->len] = '\0';
	}
	l->n++;
}

static int
parse(const char *spec, struct fbsd_source *s, struct diag *d)
{
	size_t n = strlen(spec);
	char *exact = malloc(n + 1);
	int error;

	memcpy(exact, spec, n + 1);
	diag_clear(d);
	error = plan_freebsd_parse_source(exact, s, d);
	free(exact);
	return (error);
}

/*
 * The plan of cmdline and the source spec into l: its commands (text 0;
 * the error of plan_freebsd_commands, -1 when spec does not parse) or its
 * text lines (text 1; spec NULL: before the probe).
 */
static int
plan_out(const char *cmdline, const char *spec, int text, struct lines *l)
{
	struct live_config c;
	struct fbsd_source s;
	struct diag d;

	config_init(&c);
	config_parse_cmdline(&c, cmdline);
	memset(l, 0, sizeof(*l));
	if (spec != NULL && parse(spec, &s, &d) != 0)
		return (-1);
	if (text) {
		plan_freebsd_lines(&c, spec != NULL ? &s : NULL, 512ULL << 20,
		    4ULL << 30, collect, l);
		return (0);
	}
	diag_clear(&d);
	return (plan_freebsd_commands(&c, &s, 512ULL << 20, collect, l, &d));
}

static int
plan(const char *cmdline, const char *spec, struct lines *l)
{
	return (plan_out(cmdline, spec, 0, l));
}

static void
plan_text(const char *cmdline, const char *spec, struct lines *l)
{
	(void)plan_out(cmdline, spec, 1, l);
}

static int
has(const struct lines *l, const char *line)
{
	char want[600];
	const char *p;
	size_t k;

	k = strlen(line);
	if (k + 2 > sizeof(want))
		return (0);
	want[0] = '\n';
	memcpy(want + 1, line, k);
	want[k + 1] = '\n';
	want[k + 2] = '\0';
	if (strncmp(l->text, want + 1, k + 1) == 0)
		return (1);
	p = strstr(l->text, want);
	return (p != NULL);
}

static void
test_parse_ok(void)
{
	struct fbsd_source s;
	struct diag d;

	CHECK_EQ(parse("preload:/dev/md0", &s, &d), 0);
	CHECK_EQ(s.strategy, LIVE_S_PRELOAD);
	CHECK(strcmp(s.device, "/dev/md0") == 0);

	CHECK_EQ(parse("local:/dev/cd0", &s, &d), 0);
	CHECK_EQ(s.strategy, LIVE_S_LOCAL);
	CHECK_EQ(s.next, 0);

	CHECK_EQ(parse("local:/dev/da0:0x8000+1048576", &s, &d), 0);
	CHECK_EQ(s.next, 1);
	CHECK_EQ(s.ext[0].off, 0x8000);
	CHECK_EQ(s.ext[0].len, 1048576);

	CHECK_EQ(parse("ventoy:/dev/ada0:1048576+4096,8388608+512", &s, &d),
	    0);
	CHECK_EQ(s.strategy, LIVE_S_VENTOY);
	CHECK_EQ(s.next, 2);
	CHECK_EQ(s.ext[1].off, 8388608);
	CHECK_EQ(s.ext[1].len, 512);

	CHECK_EQ(parse("findiso:/dev/da0s1:/isos/live.iso", &s, &d), 0);
	CHECK(strcmp(s.path, "/isos/live.iso") == 0);
	CHECK(strcmp(s.fstype, "msdosfs") == 0);
	CHECK_EQ(parse("findiso:/dev/ada0p2:/live.iso:ufs", &s, &d), 0);
	CHECK(strcmp(s.fstype, "ufs") == 0);

	CHECK_EQ(parse("net:http://10.0.2.2/rootfs.uzip", &s, &d), 0);
	CHECK(strcmp(s.url, "http://10.0.2.2/rootfs.uzip") == 0);
	CHECK_EQ(parse("net:", &s, &d), 0);
	CHECK(s.url[0] == '\0');
	CHECK(!s.none);

	/* Nothing found: the diagnostic path. */
	CHECK_EQ(parse("none", &s, &d), 0);
	CHECK(s.none);
}

static void
test_parse_rejects(void)
{
	struct fbsd_source s;
	struct diag d;
	char many[4096];
	size_t i, o;

	CHECK_EQ(parse("floppy:/dev/fd0", &s, &d), EINVAL);
	CHECK_MSG(&d, "one of preload, local");
	CHECK_MSG(&d, "none: nothing found");
	CHECK_EQ(parse("none:/dev/cd0", &s, &d), EINVAL);
	CHECK_EQ(parse("nonesuch", &s, &d), EINVAL);
	CHECK_EQ(parse("/dev/cd0", &s, &d), EINVAL);
	CHECK_EQ(parse("local:cd0", &s, &d), EINVAL);
	CHECK_MSG(&d, "a /dev/ path");
	CHECK_EQ(parse("local:", &s, &d), EINVAL);
	CHECK_MSG(&d, "device is missing");
	CHECK_EQ(parse("preload:/dev/md0:1+2", &s, &d), EINVAL);
	CHECK_EQ(parse("ventoy:/dev/ada0", &s, &d), EINVAL);
	CHECK_MSG(&d, "liveroot locate");
	/* An extent gnop could not create: unaligned, empty, wrapping. */
	CHECK_EQ(parse("ventoy:/dev/ada0:100+512", &s, &d), EINVAL);
	CHECK_MSG(&d, "512-byte aligned");
	CHECK_EQ(parse("ventoy:/dev/ada0:512+0", &s, &d), EINVAL);
	CHECK_EQ(parse("ventoy:/dev/ada0:0xfffffffffffffe00+1024", &s, &d),
	    EINVAL);
	CHECK_EQ(parse("ventoy:/dev/ada0:512", &s, &d), EINVAL);
	CHECK_MSG(&d, "OFFSET+LENGTH");
	CHECK_EQ(parse("ventoy:/dev/ada0:512+-512", &s, &d), EINVAL);
	CHECK_EQ(parse("ventoy:/dev/ada0:512+512,", &s, &d), EINVAL);
	CHECK_EQ(parse("ventoy:/dev/ada0:99999999999999999999999+512", &s,
	    &d), EINVAL);
	/* More extents than the plan holds: refused, not truncated. */
	o = (size_t)snprintf(many, sizeof(many), "ventoy:/dev/ada0:");
	for (i = 0; i <= FBSD_MAX_EXTENTS; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, "%s%zu+512",
		    i ? "," : "", i * 1024);
	CHECK_EQ(parse(many, &s, &d), EINVAL);
	CHECK_MSG(&d, "defragment");
	CHECK_EQ(parse("findiso:/dev/da0s1", &s, &d), EINVAL);
	CHECK_EQ(parse("findiso:/dev/da0s1:/x.iso:exfat", &s, &d), EINVAL);
	CHECK_MSG(&d, "no exFAT driver");
	CHECK_EQ(parse("findiso:/dev/da0s1:/x.iso:zfs", &s, &d), EINVAL);
	/* A newline in the source would smuggle in a second command. */
	CHECK_EQ(parse("local:/dev/cd0\nreboot", &s, &d), EINVAL);
	CHECK_MSG(&d, "control character");
}

static void
test_handoff_rule(void)
{
	struct fbsd_source s;
	struct diag d;
	char v[800];

	/* In memory or on GEOM providers of a disk: reroot is safe. */
	CHECK_EQ(parse("preload:/dev/md0", &s, &d), 0);
	CHECK_EQ(plan_freebsd_reroot_safe(&s, "/rootfs.uzip", 0, v,
	    sizeof(v)), 1);
	CHECK(v[0] == '\0');
	CHECK_EQ(parse("net:http://x/r.uzip", &s, &d), 0);
	CHECK_EQ(plan_freebsd_reroot_safe(&s, "/rootfs.uzip", 0, v,
	    sizeof(v)), 1);
	CHECK_EQ(parse("ventoy:/dev/ada0:512+512", &s, &d), 0);
	CHECK_EQ(plan_freebsd_reroot_safe(&s, "/rootfs.uzip", 0, v,
	    sizeof(v)), 1);
	/* A vnode md on the mounted medium: not safe, the vnode named. */
	CHECK_EQ(parse("local:/dev/cd0", &s, &d), 0);
	CHECK_EQ(plan_freebsd_reroot_safe(&s, "/rootfs.uzip", 0, v,
	    sizeof(v)), 0);
	CHECK(strstr(v, "vnode /livemedia/rootfs.uzip") != NULL);
	CHECK(strstr(v, "/dev/cd0") != NULL);
	/* ... unless the image was copied into RAM. */
	CHECK_EQ(plan_freebsd_reroot_safe(&s, "/rootfs.uzip", 1, v,
	    sizeof(v)), 1);
	CHECK_EQ(parse("findiso:/dev/da0s1:/i/l.iso", &s, &d), 0);
	CHECK_EQ(plan_freebsd_reroot_safe(&s, "/rootfs.uzip", 0, v,
	    sizeof(v)), 0);
	CHECK(strstr(v, "/livepart/i/l.iso") != NULL);
	CHECK_EQ(plan_freebsd_reroot_safe(&s, "/rootfs.uzip", 1, NULL, 0),
	    1);

	CHECK_EQ(plan_freebsd_handoff(LIVE_HANDOFF_AUTO, 1),
	    LIVE_HANDOFF_REROOT);
	CHECK_EQ(plan_freebsd_handoff(LIVE_HANDOFF_AUTO, 0),
	    LIVE_HANDOFF_CHROOT);
	CHECK_EQ(plan_freebsd_handoff(LIVE_HANDOFF_SWITCH_ROOT, 0),
	    LIVE_HANDOFF_CHROOT);
	CHECK_EQ(plan_freebsd_handoff(LIVE_HANDOFF_SWITCH_ROOT, 1),
	    LIVE_HANDOFF_REROOT);
	CHECK_EQ(plan_freebsd_handoff(LIVE_HANDOFF_REROOT, 0),
	    LIVE_HANDOFF_REROOT);
	CHECK_EQ(plan_freebsd_handoff(LIVE_HANDOFF_CHROOT, 1),
	    LIVE_HANDOFF_CHROOT);
	/* Unknown (before the probe): not decided, unless forced. */
	CHECK_EQ(plan_freebsd_handoff(LIVE_HANDOFF_AUTO, -1),
	    LIVE_HANDOFF_AUTO);
	CHECK_EQ(plan_freebsd_handoff(LIVE_HANDOFF_SWITCH_ROOT, -1),
	    LIVE_HANDOFF_AUTO);
	CHECK_EQ(plan_freebsd_handoff(LIVE_HANDOFF_CHROOT, -1),
	    LIVE_HANDOFF_CHROOT);
	/* Nothing found: no vnode, no reroot. */
	CHECK_EQ(parse("none", &s, &d), 0);
	CHECK_EQ(plan_freebsd_reroot_safe(&s, "/rootfs.uzip", 1, v,
	    sizeof(v)), 0);
}

static enum live_handoff
plan_handoff(const char *cmdline, const char *spec)
{
	struct live_config c;
	struct fbsd_source s;
	struct diag d;

	config_init(&c);
	config_parse_cmdline(&c, cmdline);
	if (spec != NULL && parse(spec, &s, &d) != 0)
		return ((enum live_handoff)-1);
	return (plan_freebsd_plan_handoff(&c, spec != NULL ? &s : NULL));
}

/*
 * Regression (a new user's report): `init-plan --freebsd` alone said
 * "handoff: reroot" while the same plan with --source local:/dev/cd0 said
 * chroot.  Before the probe the hand-off is AUTO, and the plan's line says
 * what decides it.
 */
static void
test_plan_before_probe(void)
{
	struct lines l;

	CHECK_EQ(plan_handoff("", NULL), LIVE_HANDOFF_AUTO);
	CHECK_EQ(plan_handoff("", "local:/dev/cd0"), LIVE_HANDOFF_CHROOT);
	CHECK_EQ(plan_handoff("", "preload:/dev/md0"), LIVE_HANDOFF_REROOT);
	/* toram: in RAM whatever the source; forced ones stay forced. */
	CHECK_EQ(plan_handoff("live.toram=1", NULL), LIVE_HANDOFF_REROOT);
	CHECK_EQ(plan_handoff("live.handoff=chroot", NULL),
	    LIVE_HANDOFF_CHROOT);
	CHECK_EQ(plan_handoff("live.handoff=reroot", NULL),
	    LIVE_HANDOFF_REROOT);

	plan_text("", NULL, &l);
	CHECK(strstr(l.text, "handoff: reroot to") == NULL);
	CHECK(strstr(l.text, "handoff: chroot to") == NULL);
	CHECK(strstr(l.text, ". handoff: decided by the source found: reroot "
	    "to /sbin/init if the image is in RAM (preload, toram, net) or "
	    "read through GEOM windows of a disk (extents), else chroot to "
	    "/newroot (init_chroot) with the live root's /boot "
	    "nullfs-mounted over the old /boot\n") != NULL);
	CHECK(strstr(l.text, "1. source: probe preload,local,ventoy,findiso,"
	    "net (devices: wait up to 30 s)\n") == l.text);
	/* The cap is stated for each hand-off it may get. */
	CHECK(strstr(l.text, "overlay: live.geom=auto: geom_rowr if it loads, "
	    "else gunion (the script logs which); geom_rowr caps the upper in "
	    "RAM at 512.0 MiB (536870912 bytes; RAM 4.0 GiB) under chroot; "
	    "under reroot, or with gunion, the upper is not capped\n") !=
	    NULL);
	CHECK(strstr(l.text, "then halt; never a reboot\n") != NULL);

	/* Regression (fuzz): a newline from a quoted value made a plan line
	 * two lines; it shows as '?'. */
	plan_text("live.url=\"http://h/a\nb.uzip\"", "net:", &l);
	CHECK(strstr(l.text, "1. source: net http://h/a?b.uzip, fetched") ==
	    l.text);
	CHECK(strstr(l.text, "\nb.uzip") == NULL);

	plan_text("live.shell=1", "none", &l);
	CHECK_EQ(l.n, 2);
	CHECK(strstr(l.text, "1. source: none found (live.probe=preload,"
	    "local,ventoy,findiso,net): the diagnostic path\n") == l.text);
	CHECK(strstr(l.text, "2. on failure: the diagnostic block (disks "
	    "seen, partitions, a hint), then a rescue shell") != NULL);
}

/* One plan's lines and commands against each other. */
static void
check_agree(const char *cmdline, const char *spec)
{
	struct lines t, c;
	int reroot, chroot, capped_rowr, tmpfs;

	plan_text(cmdline, spec, &t);
	CHECK_EQ(plan(cmdline, spec, &c), 0);
	reroot = strstr(t.text, ". handoff: reroot to ") != NULL;
	chroot = strstr(t.text, ". handoff: chroot to /newroot") != NULL;
	if (reroot == chroot || reroot != has(&c, "reboot -r") ||
	    chroot != has(&c, "kenv init_chroot=/newroot"))
		fprintf(stderr, "hand-off of '%s' %s:\n%s\n%s", cmdline,
		    spec, t.text, c.text);
	CHECK(reroot != chroot);
	CHECK_EQ(reroot, has(&c, "reboot -r"));
	CHECK_EQ(chroot, has(&c, "kenv init_chroot=/newroot"));
	/* The old FreeBSD plan's line: "rowr: RAM upper capped". */
	CHECK(strstr(t.text, "rowr: RAM upper capped") == NULL);
	/* A cap in the plan is a size= tmpfs in the script; a tmpfs upper
	 * only ever under chroot and geom_rowr. */
	capped_rowr = strstr(t.text, "geom_rowr caps the upper in RAM at "
	    "512.0 MiB") != NULL || strstr(t.text, "overlay: geom_rowr, the "
	    "upper in RAM capped at 512.0 MiB") != NULL;
	tmpfs = strstr(c.text, "mount -t tmpfs -o size=536870912 tmpfs "
	    "/liveupper\n") != NULL;
	CHECK_EQ(capped_rowr, tmpfs);
	CHECK(!tmpfs || chroot);
	CHECK(!tmpfs || strstr(c.text, "geom rowr create live ") != NULL);
	if (strstr(t.text, "overlay: gunion") != NULL) {
		CHECK(strstr(t.text, "not capped at 512.0 MiB") != NULL);
		CHECK(!tmpfs);
		CHECK(strstr(c.text, "geom rowr") == NULL);
	}
	if (reroot)
		CHECK(strstr(t.text, "not capped") != NULL);
	/* The same root device in the mount and the hand-off. */
	CHECK(!chroot || has(&c, "mount -t ufs \"$root\" /newroot"));
	CHECK(!reroot || has(&c, "kenv vfs.root.mountfrom=ufs:$root"));
}

static void
test_plan_agrees(void)
{
	static const char *const specs[] = {
		"preload:/dev/md0", "local:/dev/cd0",
		"local:/dev/da0:1048576+2097152",
		"ventoy:/dev/ada0:1048576+4096,8388608+512",
		"findiso:/dev/da0s1:/isos/live.iso",
		"net:http://10.0.2.2/rootfs.uzip",
	};
	static const char *const cmdlines[] = {
		"", "live.toram=1", "live.handoff=chroot",
		"live.handoff=reroot", "live.image=/root.ufs",
	};
	static const char *const geoms[] = {
		"", " live.geom=rowr", " live.geom=gunion", " live.geom=auto",
	};
	char cmd[200];
	size_t i, j, k;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		for (j = 0; j < sizeof(cmdlines) / sizeof(cmdlines[0]); j++)
			for (k = 0; k < sizeof(geoms) / sizeof(geoms[0]);
			    k++) {
				snprintf(cmd, sizeof(cmd), "%s%s", cmdlines[j],
				    geoms[k]);
				check_agree(cmd, specs[i]);
			}
}

static void
test_geom(void)
{
	struct live_config c;
	struct lines l;

	config_init(&c);
	CHECK_EQ(c.geom, LIVE_GEOM_AUTO);
	CHECK_EQ(config_parse_cmdline(&c, "live.geom=rowr"), 0);
	CHECK_EQ(c.geom, LIVE_GEOM_ROWR);
	CHECK_EQ(config_parse_cmdline(&c, "live.geom=gunion"), 0);
	CHECK_EQ(c.geom, LIVE_GEOM_GUNION);
	CHECK_EQ(config_parse_cmdline(&c, "live.geom=union"), 1);
	CHECK_EQ(c.geom, LIVE_GEOM_GUNION);
	CHECK(strstr(c.problems[0].msg, "live.geom=union: use auto, rowr or "
	    "gunion; kept gunion") != NULL);

	/* auto: the script decides at run time, and logs it. */
	CHECK_EQ(plan("", "local:/dev/cd0", &l), 0);
	CHECK(has(&l, "if kldload -n geom_rowr 2>/dev/null; then"));
	CHECK(has(&l, "\tgeom rowr create live md10.uzip md12"));
	CHECK(has(&l, "\tmount -t tmpfs -o size=536870912 tmpfs /liveupper"));
	CHECK(has(&l, "\ttruncate -s \"$size\" /liveupper/upper"));
	CHECK(has(&l, "\tmdconfig -a -t vnode -f /liveupper/upper -u 12"));
	CHECK(has(&l, "else"));
	CHECK(has(&l, "\tgunion create -Z live /dev/md12 /dev/md10.uzip"));
	CHECK(has(&l, "\troot=/dev/live.union"));
	CHECK(has(&l, "fi"));
	CHECK(strstr(l.text, "\techo \"liveroot: overlay: gunion, the upper "
	    "not capped") != NULL);

	/* rowr under reroot: a swap md, said not capped. */
	CHECK_EQ(plan("live.geom=rowr", "preload:/dev/md0", &l), 0);
	CHECK(has(&l, "kldload -n geom_rowr || die 'live.geom=rowr, but "
	    "geom_rowr does not load: install geom_rowr.ko and geom_rowr.so "
	    "(liveroot freebsd/), or use live.geom=auto'"));
	CHECK(has(&l, "mdconfig -a -t swap -s ${size}b -u 12"));
	CHECK(has(&l, "geom rowr create live md0.uzip md12"));
	CHECK(strstr(l.text, "tmpfs /liveupper") == NULL);
	CHECK(strstr(l.text, "gunion") == NULL);

	/* gunion: never a tmpfs upper, never geom rowr. */
	CHECK_EQ(plan("live.geom=gunion", "local:/dev/cd0", &l), 0);
	CHECK(has(&l, "gunion create -Z live /dev/md12 /dev/md10.uzip"));
	CHECK(strstr(l.text, "liveupper") == NULL);
	CHECK(strstr(l.text, "geom rowr") == NULL);
}

/* No medium, and a device that never shows: the diagnostic path. */
static void
test_diagnostic_path(void)
{
	struct lines l;

	CHECK_EQ(plan("live.timeout=7", "none", &l), 0);
	CHECK(has(&l, "nomedium 'no strategy of live.probe=preload,local,"
	    "ventoy,findiso,net found /rootfs.uzip'"));
	CHECK(strstr(l.text, "\nnomedium '") != NULL);
	CHECK(strstr(l.text, "(now 7 s)") != NULL);
	CHECK(has(&l, "\thalt"));
	CHECK(strstr(l.text, "reboot -r") == NULL);
	CHECK(strstr(l.text, "kenv") == NULL);
	CHECK(strstr(l.text, "mount") == NULL);
	/* The last line is the call: the script ends in the diagnostic
	 * path. */
	CHECK(l.len > 0 && strncmp(l.text + l.len - 2, "'\n", 2) == 0);

	/* live.shell=1: exit 1 (init's single-user shell), no halt. */
	CHECK_EQ(plan("live.shell=1", "none", &l), 0);
	CHECK(!has(&l, "\thalt"));
	CHECK(has(&l, "\texit 1"));

	/* Every device source waits live.timeout for its device. */
	CHECK_EQ(plan("live.timeout=9", "local:/dev/da0", &l), 0);
	CHECK(has(&l, "wait_dev /dev/da0 9 || nomedium '/dev/da0 did not "
	    "appear within live.timeout=9 s'"));
	CHECK_EQ(plan("", "findiso:/dev/da0s1:/l.iso", &l), 0);
	CHECK(has(&l, "wait_dev /dev/da0s1 30 || nomedium '/dev/da0s1 did "
	    "not appear within live.timeout=30 s'"));
	CHECK_EQ(plan("", "preload:/dev/md0", &l), 0);
	CHECK(strstr(l.text, "\nwait_dev /dev/md0 0 || nomedium 'no "
	    "/dev/md0: the loader preloaded no image") != NULL);
	/* Tools by name, PATH at the top, replaceable for a test. */
	CHECK(has(&l, "PATH=${LIVEROOT_PATH:-/sbin:/bin:/usr/sbin:/usr/bin}"));
	CHECK(strncmp(l.text, "#!/bin/sh\n", 10) == 0);
}

static void
test_commands(void)
{
	struct lines l;

	/* CD: vnode md, so chroot with the /boot fix; never reboot -r. */
	CHECK_EQ(plan("", "local:/dev/cd0", &l), 0);
	CHECK(has(&l, "mount_cd9660 /dev/cd0 /livemedia"));
	CHECK(has(&l, "mdconfig -a -t vnode -o readonly -f "
	    "/livemedia/rootfs.uzip -u 10"));
	CHECK(has(&l, "\tgunion create -Z live /dev/md12 /dev/md10.uzip"));
	CHECK(has(&l, "mount -t nullfs -o ro /newroot/boot /boot"));
	CHECK(has(&l, "kenv init_chroot=/newroot"));
	CHECK(!has(&l, "reboot -r"));
	CHECK(strstr(l.text, "WARNING") == NULL);

	/* The same CD with reroot forced: reroot, and a warning naming
	 * the vnode that vanishes. */
	CHECK_EQ(plan("live.handoff=reroot", "local:/dev/cd0", &l), 0);
	CHECK(has(&l, "reboot -r"));
	CHECK(has(&l, "kenv vfs.root.mountfrom=ufs:$root"));
	CHECK(strstr(l.text, "# WARNING: live.handoff=reroot forced, but "
	    "md10 reads the vnode /livemedia/rootfs.uzip") != NULL);
	CHECK(!has(&l, "kenv init_chroot=/newroot"));

	/* toram on the CD: copied, medium unmounted, reroot. */
	CHECK_EQ(plan("live.toram=1", "local:/dev/cd0", &l), 0);
	CHECK(has(&l, "dd if=/livemedia/rootfs.uzip of=/dev/md10 bs=1m "
	    "conv=osync"));
	CHECK(has(&l, "umount /livemedia"));
	CHECK(!has(&l, "mdconfig -a -t vnode -o readonly -f "
	    "/livemedia/rootfs.uzip -u 10"));
	CHECK(has(&l, "reboot -r"));

	/* Preload: reroot, tmpfs for init's copy, no nullfs. */
	CHECK_EQ(plan("live.init=/sbin/myinit", "preload:/dev/md1", &l), 0);
	CHECK(has(&l, "kldload -n tmpfs"));
	CHECK(!has(&l, "kldload -n nullfs"));
	CHECK(has(&l, "\tgunion create -Z live /dev/md12 /dev/md1.uzip"));
	CHECK(has(&l, "\tgeom rowr create live md1.uzip md12"));
	CHECK(has(&l, "kenv init_path=/sbin/myinit"));

	/* One extent: a gnop window, no gconcat. */
	CHECK_EQ(plan("", "local:/dev/da0:1048576+2097152", &l), 0);
	CHECK(has(&l, "gnop create -o 1048576 -s 2097152 -Z lrext0 "
	    "/dev/da0"));
	CHECK(!has(&l, "kldload -n geom_concat"));
	CHECK(has(&l, "\tgunion create -Z live /dev/md12 "
	    "/dev/lrext0.nop.uzip"));
	CHECK(has(&l, "reboot -r"));

	/* A raw image: no geom_uzip, the union straight on the md. */
	CHECK_EQ(plan("live.image=/root.ufs", "local:/dev/cd0", &l), 0);
	CHECK(!has(&l, "kldload -n geom_uzip"));
	CHECK(has(&l, "\tgunion create -Z live /dev/md12 /dev/md10"));

	/* Another image path on the medium. */
	CHECK_EQ(plan("live.image=/live/r.uzip", "local:/dev/cd0", &l), 0);
	CHECK(has(&l, "mdconfig -a -t vnode -o readonly -f "
	    "/livemedia/live/r.uzip -u 10"));

	/* A URL the shell must not split or expand: quoted. */
	CHECK_EQ(plan("", "net:http://h/a b'c$x.uzip", &l), 0);
	CHECK(strstr(l.text, "\nsize=$(fetch -s 'http://h/a b'\\''c$x.uzip') "
	    "|| nomedium 'fetch -s http://h/a b'\\''c$x.uzip failed: ") !=
	    NULL);
	CHECK(has(&l, "# no live.sha256: the download is not verified"));

	/* Nor through the command line's values. */
	CHECK_EQ(plan("live.init=\"/sbin/x\tY\"", "preload:/dev/md0", &l),
	    EINVAL);

	/* net without a URL anywhere: refused. */
	CHECK_EQ(plan("", "net:", &l), EINVAL);
	CHECK_EQ(plan("live.url=http://h/r.uzip", "net:", &l), 0);
	CHECK(strstr(l.text, "\nsize=$(fetch -s http://h/r.uzip) || "
	    "nomedium ") != NULL);

	/* The longest URL, every byte needing a quote: the line holds it
	 * whole (no truncated command). */
	{
		char spec[1100], want[4200];
		size_t i, o;

		o = (size_t)snprintf(spec, sizeof(spec), "net:");
		for (i = 0; i < 1023; i++)
			spec[o++] = '\'';
		spec[o] = '\0';
		CHECK_EQ(plan("", spec, &l), 0);
		o = (size_t)snprintf(want, sizeof(want), "{ fetch -o - '");
		for (i = 0; i < 1023; i++) {
			memcpy(want + o, "'\\''", 4);
			o += 4;
		}
		snprintf(want + o, sizeof(want) - o, "' || kill $$; }");
		CHECK(strstr(l.text, want) != NULL);
	}
}

int
main(void)
{
	test_parse_ok();
	test_parse_rejects();
	test_handoff_rule();
	test_plan_before_probe();
	test_commands();
	test_plan_agrees();
	test_geom();
	test_diagnostic_path();
	return (t_done());
}
