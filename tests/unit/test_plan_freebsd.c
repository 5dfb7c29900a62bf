/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_plan_freebsd.c - the FreeBSD plan: --source SPEC parsing (on
 * exact-size heap copies, so ASan sees an over-read), the hand-off rule
 * (reroot only when nothing hangs on a vnode of the old root), and the
 * commands each source produces.  The full command texts are pinned by the
 * golden files in tests/golden/freebsd/; here the rule and its edges.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/plan_freebsd.h>

#include "t.h"

struct lines {
	char	text[16384];
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

static int
plan(const char *cmdline, const char *spec, struct lines *l)
{
	struct live_config c;
	struct fbsd_source s;
	struct diag d;

	config_init(&c);
	config_parse_cmdline(&c, cmdline);
	memset(l, 0, sizeof(*l));
	if (parse(spec, &s, &d) != 0)
		return (-1);
	diag_clear(&d);
	return (plan_freebsd_commands(&c, &s, 512ULL << 20, collect, l, &d));
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
	CHECK(has(&l, "gunion create -Z live /dev/md12 /dev/md10.uzip"));
	CHECK(has(&l, "mount -t nullfs -o ro /newroot/boot /boot"));
	CHECK(has(&l, "kenv init_chroot=/newroot"));
	CHECK(!has(&l, "reboot -r"));
	CHECK(strstr(l.text, "WARNING") == NULL);

	/* The same CD with reroot forced: reroot, and a warning naming
	 * the vnode that vanishes. */
	CHECK_EQ(plan("live.handoff=reroot", "local:/dev/cd0", &l), 0);
	CHECK(has(&l, "reboot -r"));
	CHECK(has(&l, "kenv vfs.root.mountfrom=ufs:/dev/live.union"));
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
	CHECK(has(&l, "gunion create -Z live /dev/md12 /dev/md1.uzip"));
	CHECK(has(&l, "kenv init_path=/sbin/myinit"));

	/* One extent: a gnop window, no gconcat. */
	CHECK_EQ(plan("", "local:/dev/da0:1048576+2097152", &l), 0);
	CHECK(has(&l, "gnop create -o 1048576 -s 2097152 -Z lrext0 "
	    "/dev/da0"));
	CHECK(!has(&l, "kldload -n geom_concat"));
	CHECK(has(&l, "gunion create -Z live /dev/md12 "
	    "/dev/lrext0.nop.uzip"));
	CHECK(has(&l, "reboot -r"));

	/* A raw image: no geom_uzip, the union straight on the md. */
	CHECK_EQ(plan("live.image=/root.ufs", "local:/dev/cd0", &l), 0);
	CHECK(!has(&l, "kldload -n geom_uzip"));
	CHECK(has(&l, "gunion create -Z live /dev/md12 /dev/md10"));

	/* Another image path on the medium. */
	CHECK_EQ(plan("live.image=/live/r.uzip", "local:/dev/cd0", &l), 0);
	CHECK(has(&l, "mdconfig -a -t vnode -o readonly -f "
	    "/livemedia/live/r.uzip -u 10"));

	/* A URL the shell must not split or expand: quoted. */
	CHECK_EQ(plan("", "net:http://h/a b'c$x.uzip", &l), 0);
	CHECK(has(&l, "size=$(fetch -s 'http://h/a b'\\''c$x.uzip')"));
	CHECK(has(&l, "# no live.sha256: the download is not verified"));

	/* Nor through the command line's values. */
	CHECK_EQ(plan("live.init=\"/sbin/x\tY\"", "preload:/dev/md0", &l),
	    EINVAL);

	/* net without a URL anywhere: refused. */
	CHECK_EQ(plan("", "net:", &l), EINVAL);
	CHECK_EQ(plan("live.url=http://h/r.uzip", "net:", &l), 0);
	CHECK(has(&l, "size=$(fetch -s http://h/r.uzip)"));
}

int
main(void)
{
	test_parse_ok();
	test_parse_rejects();
	test_handoff_rule();
	test_commands();
	return (t_done());
}
