/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_chain.c - the probe chain (grouping of device strategies, order,
 * early stop, errors kept and logged) and the plan (defaults, resolved
 * hand-off, overlay cap, the text lines).
 */
#include <stdlib.h>
#include <string.h>

#include <liveroot/chain.h>

#include "t.h"

struct fake {
	char	calls[256];		/* "preload;devices(local+ventoy);net;" */
	char	log[4096];
	enum probe_outcome answer[LIVE_S_COUNT];	/* per first strategy */
	int	make_bdev;
};

static void
fake_log(void *arg, const char *line)
{
	struct fake *f = arg;

	t_append(f->log, sizeof(f->log), line, "\n");
}

static enum probe_outcome
fake_answer(struct fake *f, enum live_strategy s, struct probe_source *out,
    struct diag *d)
{
	enum probe_outcome o = f->answer[s];

	if (o == PROBE_FOUND) {
		snprintf(out->device, sizeof(out->device), "/dev/fake-%s",
		    config_strategy_name(s));
		out->size = 12345;
		out->strategy = s;
		if (f->make_bdev)
			bdev_mem_new(4096, 0, &out->bdev, NULL);
	} else if (o == PROBE_ERROR)
		diag_set(d, EIO, "%s: the medium is corrupt",
		    config_strategy_name(s));
	return (o);
}

static enum probe_outcome
fake_immediate(void *arg, enum live_strategy s, const struct live_config *c,
    struct probe_source *out, struct diag *d)
{
	struct fake *f = arg;

	strcat(f->calls, config_strategy_name(s));
	strcat(f->calls, ";");
	return (fake_answer(f, s, out, d));
}

static enum probe_outcome
fake_devices(void *arg, const struct probe_step *st,
    const struct live_config *c, struct probe_source *out, struct diag *d)
{
	struct fake *f = arg;
	size_t i;

	strcat(f->calls, "devices(");
	for (i = 0; i < st->norder; i++) {
		strcat(f->calls, i ? "+" : "");
		strcat(f->calls, config_strategy_name(st->order[i]));
	}
	strcat(f->calls, ");");
	/* The first strategy of the group that would find, finds. */
	for (i = 0; i < st->norder; i++)
		if (f->answer[st->order[i]] != PROBE_NOT_HERE)
			return (fake_answer(f, st->order[i], out, d));
	return (PROBE_NOT_HERE);
}

static void
setup(struct fake *f, struct probe_ops *ops)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < LIVE_S_COUNT; i++)
		f->answer[i] = PROBE_NOT_HERE;
	memset(ops, 0, sizeof(*ops));
	ops->immediate = fake_immediate;
	ops->devices = fake_devices;
	ops->log = fake_log;
	ops->arg = f;
}

/* probe_chain_run over the config of cmdline (NULL: the defaults). */
static int
chain(struct probe_ops *ops, const char *cmdline, struct probe_source *src,
    struct probe_chain_result *r)
{
	struct live_config c;

	config_init(&c);
	if (cmdline != NULL)
		config_parse_cmdline(&c, cmdline);
	else
		config_finish(&c);
	return (probe_chain_run(&c, ops, src, r));
}

static void
test_steps(void)
{
	struct live_config c;
	struct probe_step st[LIVE_S_COUNT];
	size_t n;

	config_init(&c);
	config_finish(&c);
	n = probe_chain_steps(&c, st, LIVE_S_COUNT);
	CHECK_EQ(n, 3);
	CHECK_EQ(st[0].devices, 0);
	CHECK_EQ(st[0].strategy, LIVE_S_PRELOAD);
	CHECK_EQ(st[1].devices, 1);
	CHECK_EQ(st[1].norder, 3);
	CHECK_EQ(st[1].order[0], LIVE_S_LOCAL);
	CHECK_EQ(st[1].order[2], LIVE_S_FINDISO);
	CHECK_EQ(st[2].strategy, LIVE_S_NET);

	/* Device strategies split by an immediate one stay apart. */
	config_init(&c);
	config_parse_cmdline(&c, "live.probe=findiso,net,ventoy,local,local");
	n = probe_chain_steps(&c, st, LIVE_S_COUNT);
	CHECK_EQ(n, 3);
	CHECK_EQ(st[0].devices, 1);
	CHECK_EQ(st[0].norder, 1);
	CHECK_EQ(st[0].order[0], LIVE_S_FINDISO);
	CHECK_EQ(st[1].strategy, LIVE_S_NET);
	CHECK_EQ(st[2].norder, 2);
	CHECK_EQ(st[2].order[0], LIVE_S_VENTOY);
	CHECK_EQ(st[2].order[1], LIVE_S_LOCAL);

	/* A small steps array is not overrun. */
	n = probe_chain_steps(&c, st, 1);
	CHECK_EQ(n, 1);
}

static void
test_found_stops(void)
{
	struct probe_ops ops;
	struct probe_source src;
	struct probe_chain_result r;
	struct fake f;

	setup(&f, &ops);
	f.answer[LIVE_S_VENTOY] = PROBE_FOUND;
	f.make_bdev = 1;
	CHECK_EQ(chain(&ops, NULL, &src, &r), 0);
	CHECK_EQ(r.found, 1);
	CHECK_EQ(src.strategy, LIVE_S_VENTOY);
	CHECK(strcmp(src.device, "/dev/fake-ventoy") == 0);
	CHECK(src.bdev != NULL);
	CHECK(strcmp(f.calls, "preload;devices(local+ventoy+findiso);") == 0);
	CHECK(strstr(f.log, "probe preload: not found") != NULL);
	CHECK(strstr(f.log, "probe local+ventoy+findiso: waiting up to 30 s")
	    != NULL);
	CHECK(strstr(f.log, "net") == NULL);
	probe_source_clear(&src);
	CHECK(src.bdev == NULL);
}

static void
test_errors_continue(void)
{
	struct probe_ops ops;
	struct probe_source src;
	struct probe_chain_result r;
	struct fake f;

	setup(&f, &ops);
	f.answer[LIVE_S_PRELOAD] = PROBE_ERROR;
	f.answer[LIVE_S_NET] = PROBE_ERROR;
	CHECK_EQ(chain(&ops, "live.probe=preload,local,net", &src, &r), ENOENT);
	CHECK_EQ(r.found, 0);
	CHECK_EQ(r.attempts, 3);
	CHECK_EQ(r.errors, 2);
	CHECK_EQ(r.last_error.code, EIO);
	CHECK_MSG(&r.last_error, "net: the medium is corrupt");
	CHECK(strcmp(f.calls, "preload;devices(local);net;") == 0);
	CHECK(strstr(f.log, "probe preload: error: preload: the medium is "
	    "corrupt") != NULL);
	CHECK(strstr(f.log, "no strategy found the root image (3 tried, 2 "
	    "with errors)") != NULL);
	CHECK(src.bdev == NULL);

	/* The URL rule: net right after preload, no device wait. */
	setup(&f, &ops);
	f.answer[LIVE_S_NET] = PROBE_FOUND;
	CHECK_EQ(chain(&ops, "root=live:http://10.0.2.100/r.uzip", &src, &r),
	    0);
	CHECK(strcmp(f.calls, "preload;net;") == 0);
	CHECK_EQ(src.strategy, LIVE_S_NET);
	probe_source_clear(&src);
}

static void
test_missing_ops(void)
{
	struct probe_ops ops;
	struct probe_source src;
	struct probe_chain_result r;

	memset(&ops, 0, sizeof(ops));
	CHECK_EQ(chain(&ops, NULL, &src, &r), ENOENT);
	CHECK_EQ(r.attempts, 0);
}

struct lines {
	char	text[4096];
	int	n;
};

static void
collect(void *arg, const char *line)
{
	struct lines *l = arg;

	t_append(l->text, sizeof(l->text), line, "\n");
	l->n++;
}

static void
test_plan(void)
{
	struct live_config c;
	struct live_plan p;
	struct probe_source src;
	struct lines l;

	config_init(&c);
	config_parse_cmdline(&c, "live.overlay=25% live.shell=1");
	plan_build(&c, NULL, -1, 2ULL << 30, PLAN_LINUX, &p);
	CHECK_EQ(p.have_source, 0);
	CHECK_EQ(p.overlay_cap, 512ULL << 20);
	CHECK_EQ(p.handoff, LIVE_HANDOFF_SWITCH_ROOT);
	CHECK(strcmp(p.nbd_dev, "/dev/nbd0") == 0);
	CHECK(strcmp(p.fstype, "ext4") == 0);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK_EQ(l.n, 8);
	CHECK(strstr(l.text, "1. source: probe preload,local,ventoy,findiso,"
	    "net (devices: wait up to 30 s)\n") != NULL);
	CHECK(strstr(l.text, "2. uzip: if the image starts") != NULL);
	CHECK(strstr(l.text, "3. rowr: RAM upper capped at 512.0 MiB "
	    "(536870912 bytes; RAM 2.0 GiB), granule 4096\n") != NULL);
	CHECK(strstr(l.text, "4. nbd: serve the stack to the kernel on "
	    "/dev/nbd0") != NULL);
	CHECK(strstr(l.text, "5. mount: ext4 /dev/nbd0 on /newroot (or xfs, "
	    "btrfs, f2fs: the image's file system by its magic)\n") != NULL);
	CHECK(strstr(l.text, "6. or, a squashfs or erofs image: no rowr; "
	    "/dev/nbd0 served read-only, mounted read-only on "
	    "/run/liveroot/lower; its LiveOS/rootfs.img (dracut) is the root "
	    "through rowr on /dev/nbd1 if present, else an overlayfs on "
	    "/newroot with a tmpfs upper capped at 512.0 MiB on "
	    "/run/liveroot/rw\n") != NULL);
	CHECK(strstr(l.text, "7. handoff: switch_root to /sbin/init\n") !=
	    NULL);
	CHECK(strstr(l.text, "8. on failure: diagnostic block, then a rescue "
	    "shell\n") != NULL);

	/* After the probe, with toram and the chroot hand-off. */
	config_init(&c);
	config_parse_cmdline(&c, "live.toram=1 live.handoff=chroot "
	    "live.overlay=32M");
	memset(&src, 0, sizeof(src));
	src.strategy = LIVE_S_VENTOY;
	snprintf(src.device, sizeof(src.device), "/dev/sda");
	snprintf(src.detail, sizeof(src.detail), "ISO /live.iso");
	src.size = 3 << 20;
	src.nextents = 4;
	plan_build(&c, &src, 1, 1ULL << 30, PLAN_LINUX, &p);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK_EQ(l.n, 9);
	CHECK(strstr(l.text, "1. source: ventoy on /dev/sda (3.0 MiB, 4 "
	    "extents); ISO /live.iso\n") != NULL);
	CHECK(strstr(l.text, "2. toram:") != NULL);
	CHECK(strstr(l.text, "3. uzip: decompress") != NULL);
	CHECK(strstr(l.text, "capped at 32.0 MiB") != NULL);
	CHECK(strstr(l.text, "handoff: chroot to /sbin/init (a child") !=
	    NULL);
	CHECK(strstr(l.text, "then halt\n") != NULL);

	/* reroot is FreeBSD's; Linux falls back to switch_root. */
	config_init(&c);
	config_parse_cmdline(&c, "live.handoff=reroot");
	plan_build(&c, NULL, 0, 1ULL << 30, PLAN_LINUX, &p);
	CHECK_EQ(p.handoff, LIVE_HANDOFF_SWITCH_ROOT);
	plan_build(&c, NULL, 0, 1ULL << 30, PLAN_FREEBSD, &p);
	CHECK_EQ(p.handoff, LIVE_HANDOFF_REROOT);
}

static void
test_uzip_magic(void)
{
	static const char zstd[] = "#!/bin/sh\n#Z4.0 Format\n";
	static const char lzma[] = "#!/bin/sh\n#L3.0\n";
	static const char ext4[] = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
	char *exact;

	CHECK(plan_is_uzip_magic(zstd, sizeof(zstd) - 1));
	CHECK(plan_is_uzip_magic(lzma, sizeof(lzma) - 1));
	CHECK(!plan_is_uzip_magic(ext4, sizeof(ext4) - 1));
	CHECK(!plan_is_uzip_magic("#!/bin/sh\n#X", 12));
	CHECK(!plan_is_uzip_magic("#!/bin/sh\n#Z1.0", 16));
	/* Exactly 13 bytes: the shortest accepted. */
	exact = malloc(13);
	memcpy(exact, zstd, 13);
	CHECK(plan_is_uzip_magic(exact, 13));
	CHECK(!plan_is_uzip_magic(exact, 12));
	free(exact);
}

/* The plan of each root file system (issue 11 #5): squashfs and erofs are
 * served read-only and get an overlayfs; dracut's rootfs.img in one gets
 * rowr on nbd1; the block file systems keep rowr and are mounted by name. */
static void
test_plan_rootfs(void)
{
	struct live_config c;
	struct live_plan p;
	struct stack_spec s;
	struct lines l;

	config_init(&c);
	config_parse_cmdline(&c, "live.overlay=64M");
	plan_build(&c, NULL, 0, 1ULL << 30, PLAN_LINUX, &p);
	CHECK_EQ(p.rootfs, FMT_FS_UNKNOWN);
	CHECK(strcmp(plan_root_dev(&p), "/dev/nbd0") == 0);
	CHECK(!plan_uses_overlayfs(&p));

	plan_set_rootfs(&p, FMT_FS_SQUASHFS);
	CHECK(strcmp(p.fstype, "squashfs") == 0);
	CHECK_EQ(p.inner, -1);
	plan_stack_spec(&p, &s);
	CHECK_EQ(s.upper, STACK_UPPER_NONE);	/* no rowr under squashfs */
	CHECK_EQ(s.flags, STACK_READONLY);
	CHECK_EQ(s.uzip, STACK_UZIP_NO);
	CHECK(plan_uses_overlayfs(&p));
	CHECK(plan_root_dev(&p) == NULL);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK_EQ(l.n, 9);
	CHECK(strstr(l.text, "3. file system: squashfs, read-only: no rowr; "
	    "an overlayfs makes the root writable\n") != NULL);
	CHECK(strstr(l.text, "4. nbd: serve the image read-only to the kernel "
	    "on /dev/nbd0") != NULL);
	CHECK(strstr(l.text, "5. mount: squashfs /dev/nbd0 read-only on "
	    "/run/liveroot/lower\n") != NULL);
	CHECK(strstr(l.text, "6. dracut: if /run/liveroot/lower/LiveOS/"
	    "rootfs.img exists, it is the root instead (rowr capped at 64.0 "
	    "MiB, /dev/nbd1, mounted on /newroot)\n") != NULL);
	CHECK(strstr(l.text, "7. overlayfs: tmpfs capped at 64.0 MiB "
	    "(67108864 bytes) on /run/liveroot/rw for upper/ and work/; "
	    "overlay lowerdir=/run/liveroot/lower on /newroot") != NULL);
	CHECK(strstr(l.text, "rowr:") == NULL);

	/* Looked inside: a plain live-boot squashfs. */
	plan_set_inner(&p, 0, FMT_FS_UNKNOWN);
	CHECK_EQ(p.inner, 0);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK_EQ(l.n, 8);
	CHECK(strstr(l.text, "dracut") == NULL);
	CHECK(strstr(l.text, "6. overlayfs: tmpfs capped at 64.0 MiB") != NULL);

	/* dracut's LiveOS/rootfs.img: rowr on nbd1, mounted as ext4. */
	plan_set_inner(&p, 1, FMT_FS_EXT);
	CHECK(!plan_uses_overlayfs(&p));
	CHECK(strcmp(plan_root_dev(&p), "/dev/nbd1") == 0);
	plan_inner_spec(&p, &s);
	CHECK_EQ(s.upper, STACK_UPPER_RAM);
	CHECK_EQ(s.uzip, STACK_UZIP_NO);
	CHECK_EQ(s.ram_cap, 64ULL << 20);
	CHECK_EQ(s.granule, 4096);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK_EQ(l.n, 11);
	CHECK(strstr(l.text, "6. dracut: /run/liveroot/lower/LiveOS/rootfs.img "
	    "(ext4) is the root\n") != NULL);
	CHECK(strstr(l.text, "7. rowr: RAM upper capped at 64.0 MiB "
	    "(67108864 bytes; RAM 1.0 GiB), granule 4096\n") != NULL);
	CHECK(strstr(l.text, "8. nbd: serve the stack to the kernel on "
	    "/dev/nbd1") != NULL);
	CHECK(strstr(l.text, "9. mount: ext4 /dev/nbd1 on /newroot\n") !=
	    NULL);
	CHECK(strstr(l.text, "overlayfs") == NULL);

	/* erofs: the same read-only shape. */
	plan_build(&c, NULL, 1, 1ULL << 30, PLAN_LINUX, &p);
	plan_set_rootfs(&p, FMT_FS_EROFS);
	plan_stack_spec(&p, &s);
	CHECK_EQ(s.upper, STACK_UPPER_NONE);
	CHECK_EQ(s.uzip, STACK_UZIP_YES);	/* a uzip of an erofs image */
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK(strstr(l.text, "mount: erofs /dev/nbd0 read-only on "
	    "/run/liveroot/lower\n") != NULL);
	/* plan_set_inner on a writable root changes nothing. */
	plan_set_rootfs(&p, FMT_FS_XFS);
	plan_set_inner(&p, 1, FMT_FS_EXT);
	CHECK_EQ(p.inner, 0);
	plan_stack_spec(&p, &s);
	CHECK_EQ(s.upper, STACK_UPPER_RAM);
	CHECK_EQ(s.ram_cap, 64ULL << 20);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK_EQ(l.n, 7);
	CHECK(strstr(l.text, "5. mount: xfs /dev/nbd0 on /newroot\n") != NULL);
	CHECK(strstr(l.text, "or, a squashfs") == NULL);
	plan_set_rootfs(&p, FMT_FS_EXT);
	CHECK(strcmp(p.fstype, "ext4") == 0);

	/* FreeBSD keeps its own shape (ufs, no overlayfs). */
	plan_build(&c, NULL, 0, 1ULL << 30, PLAN_FREEBSD, &p);
	plan_set_rootfs(&p, FMT_FS_SQUASHFS);
	CHECK(strcmp(p.fstype, "ufs") == 0);
	plan_stack_spec(&p, &s);
	CHECK_EQ(s.upper, STACK_UPPER_RAM);
	CHECK(!plan_uses_overlayfs(&p));
}

/* Detection through the plan's stack, on an in-memory image of exactly
 * its size: a squashfs, an ext4, one too short for btrfs's magic. */
static void
test_detect_fs(void)
{
	struct live_config c;
	struct live_plan p;
	struct bdev *m;
	struct diag d;
	enum fmt_fs fs;
	static const unsigned char ext[2] = { 0x53, 0xef };

	config_init(&c);
	plan_build(&c, NULL, -1, 1ULL << 30, PLAN_LINUX, &p);
	diag_clear(&d);
	if (bdev_mem_new(1 << 20, 0, &m, &d) != 0)
		abort();
	CHECK_EQ(plan_detect_fs(m, &p, &fs, &d), 0);
	CHECK_EQ(fs, FMT_FS_UNKNOWN);
	CHECK_EQ(bdev_write(m, "hsqs", 4, 0, &d), 0);
	CHECK_EQ(plan_detect_fs(m, &p, &fs, &d), 0);
	CHECK_EQ(fs, FMT_FS_SQUASHFS);
	CHECK_EQ(bdev_write(m, "\0\0\0\0", 4, 0, &d), 0);
	CHECK_EQ(bdev_write(m, ext, 2, 1080, &d), 0);
	CHECK_EQ(plan_detect_fs(m, &p, &fs, &d), 0);
	CHECK_EQ(fs, FMT_FS_EXT);
	bdev_destroy(m);	/* the image stays the caller's: still alive */

	/* 64 KiB: btrfs's magic lies beyond the end; nothing read there. */
	if (bdev_mem_new(1 << 16, 0, &m, &d) != 0)
		abort();
	CHECK_EQ(plan_detect_fs(m, &p, &fs, &d), 0);
	CHECK_EQ(fs, FMT_FS_UNKNOWN);
	/* A uzip image is required but the image is not one. */
	p.uzip = 1;
	CHECK(plan_detect_fs(m, &p, &fs, &d) != 0);
	CHECK_MSG(&d, "not a uzip image");
	bdev_destroy(m);
}

/*
 * Issue 13: the lazy network root in the plan.  Before the probe, a URL
 * names the lazy stack and its fallback (or the full download); after it,
 * a lazy source adds its fill layer and its hashes go into the stack spec.
 */
static void
test_plan_lazy(void)
{
	struct live_config c;
	struct live_plan p;
	struct probe_source src;
	struct stack_spec ss;
	struct lines l;

	config_init(&c);
	config_parse_cmdline(&c, "live.url=http://10.0.2.100/rootfs.uzip");
	plan_build(&c, NULL, -1, 1ULL << 30, PLAN_LINUX, &p);
	CHECK_EQ(p.net, 1);
	CHECK_EQ(p.net_fetch, LIVE_FETCH_LAZY);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK(strstr(l.text, "1. source: probe preload,net") != NULL);
	CHECK(strstr(l.text, "2. net: live.fetch=lazy: URL.hashes into RAM "
	    "first, verified (by URL.hashes.sig when the initramfs has a "
	    "signify key, and by live.sha256=, which then pins URL.hashes)")
	    != NULL);
	CHECK(strstr(l.text, "-> fill (RAM: demand reads first, then the rest "
	    "in the background at 25% of the time while the boot reads, then "
	    "at full speed) -> uzip, every cluster checked against URL.hashes "
	    "-> rowr -> nbd") != NULL);
	CHECK(strstr(l.text, "3. net fallback: the whole image into RAM "
	    "first") != NULL);
	CHECK(strstr(l.text, "when the server serves no ranges") != NULL);
	CHECK(strstr(l.text, "4. uzip: if the image starts") != NULL);

	config_parse_cmdline(&c, "live.fetch.prefetch=off "
	    "live.fetch.share=30");
	plan_build(&c, NULL, -1, 1ULL << 30, PLAN_LINUX, &p);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK(strstr(l.text, "no background fill (live.fetch.prefetch=off)")
	    != NULL);
	config_parse_cmdline(&c, "live.fetch.prefetch=on");
	plan_build(&c, NULL, -1, 1ULL << 30, PLAN_LINUX, &p);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK(strstr(l.text, "in the background at 30% of the time") != NULL);

	config_parse_cmdline(&c, "live.fetch=full");
	plan_build(&c, NULL, -1, 1ULL << 30, PLAN_LINUX, &p);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK(strstr(l.text, "2. net: live.fetch=full: the whole image into "
	    "RAM first") != NULL);
	CHECK(strstr(l.text, "fallback") == NULL);

	/* no URL, net not probed, or FreeBSD: no net lines */
	config_init(&c);
	config_parse_cmdline(&c, "");
	plan_build(&c, NULL, -1, 1ULL << 30, PLAN_LINUX, &p);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK_EQ(p.net, 0);
	CHECK(strstr(l.text, "net: ") == NULL);
	config_parse_cmdline(&c, "live.url=http://h/r.uzip live.probe=local");
	plan_build(&c, NULL, -1, 1ULL << 30, PLAN_LINUX, &p);
	CHECK_EQ(p.net, 0);
	config_parse_cmdline(&c, "live.probe=net");
	plan_build(&c, NULL, -1, 1ULL << 30, PLAN_FREEBSD, &p);
	CHECK_EQ(p.net, 0);

	/* After the probe: a lazy source with its hashes. */
	config_init(&c);
	config_parse_cmdline(&c, "live.url=http://10.0.2.100/rootfs.uzip");
	memset(&src, 0, sizeof(src));
	src.strategy = LIVE_S_NET;
	snprintf(src.device, sizeof(src.device),
	    "http://10.0.2.100/rootfs.uzip");
	src.size = 5 << 20;
	src.lazy = 1;
	src.prefetch = 1;
	src.fill_share = 40;
	src.fill_chunk = 256 << 10;
	src.hashes_len = 200;
	src.hashes = calloc(1, src.hashes_len);
	snprintf(src.hashes_name, sizeof(src.hashes_name),
	    "http://10.0.2.100/rootfs.uzip.hashes");
	plan_build(&c, &src, -1, 1ULL << 30, PLAN_LINUX, &p);
	plan_stack_spec(&p, &ss);
	CHECK(ss.hashes == src.hashes);
	CHECK_EQ(ss.hashes_len, 200);
	CHECK(ss.hashes_name != NULL &&
	    strcmp(ss.hashes_name, src.hashes_name) == 0);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK(strstr(l.text, "1. source: net on http://10.0.2.100/rootfs.uzip "
	    "(5.0 MiB, 0 extents)") != NULL);
	CHECK(strstr(l.text, "2. fill: the image into RAM as it is read, in "
	    "256.0 KiB chunks, demand reads first, then the rest in the "
	    "background at 40% of the time while the boot reads, then at full "
	    "speed; the network is needed until the "
	    "whole image is in RAM\n") != NULL);
	CHECK(strstr(l.text, "3. uzip: decompress (read-only), every cluster "
	    "checked against http://10.0.2.100/rootfs.uzip.hashes before it "
	    "is decompressed\n") != NULL);
	CHECK(strstr(l.text, "net fallback") == NULL);
	src.prefetch = 0;
	plan_build(&c, &src, -1, 1ULL << 30, PLAN_LINUX, &p);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK(strstr(l.text, "demand reads first, no background fill;") !=
	    NULL);
	/* a full download: no fill line, no hashes in the spec */
	src.lazy = 0;
	free(src.hashes);
	src.hashes = NULL;
	plan_build(&c, &src, -1, 1ULL << 30, PLAN_LINUX, &p);
	plan_stack_spec(&p, &ss);
	CHECK(ss.hashes == NULL);
	memset(&l, 0, sizeof(l));
	plan_lines(&p, collect, &l);
	CHECK(strstr(l.text, "fill:") == NULL);
	/* probe_source_clear frees the hashes (ASan sees a leak otherwise) */
	src.hashes = malloc(64);
	probe_source_clear(&src);
	CHECK(src.hashes == NULL && src.lazy == 0);
}

int
main(void)
{
	test_steps();
	test_found_stops();
	test_errors_continue();
	test_missing_ops();
	test_plan();
	test_plan_rootfs();
	test_plan_lazy();
	test_detect_fs();
	test_uzip_magic();
	return (t_done());
}
