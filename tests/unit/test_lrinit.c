/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_lrinit.c - the pure parts of liveroot-init's Linux platform layer:
 * kernel uevent messages (block add/change/remove, partitions, udev's own
 * messages and the machine's loop/ram/nbd devices ignored) and the
 * modules.dep / modules.builtin parsing (names with '-' and '_', the
 * compressed suffixes, dependency paths), and the boot log: saved mode
 * 0600 even over an older 0644 file, and URLs in it without their query
 * string or user:password@.  It links the platform library
 * (liveroot_linux); modules_int.h exposes the module table to it; nothing
 * is loaded or mounted.  test_uevent.c checks the message parser itself.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include <liveroot/fmt_moddep.h>
#include <liveroot/os.h>

#include "lrinit.h"
#include "modules_int.h"

#include "t.h"

/* A uevent as the kernel sends it: "ACTION@DEVPATH\0KEY=VAL\0...". */
static size_t
mkev(char *buf, size_t len, const char *action, const char *name,
    const char *subsys, const char *devtype)
{
	size_t o = 0;

	o += (size_t)snprintf(buf + o, len - o, "%s@/devices/x/%s", action,
	    name) + 1;
	o += (size_t)snprintf(buf + o, len - o, "ACTION=%s", action) + 1;
	o += (size_t)snprintf(buf + o, len - o, "DEVPATH=/devices/x/%s",
	    name) + 1;
	o += (size_t)snprintf(buf + o, len - o, "SUBSYSTEM=%s", subsys) + 1;
	o += (size_t)snprintf(buf + o, len - o, "DEVNAME=%s", name) + 1;
	if (devtype != NULL)
		o += (size_t)snprintf(buf + o, len - o, "DEVTYPE=%s",
		    devtype) + 1;
	o += (size_t)snprintf(buf + o, len - o, "SEQNUM=1234") + 1;
	return (o);
}

static void
test_uevents(void)
{
	struct lri_devs ds;
	char buf[8193];
	size_t n;

	memset(&ds, 0, sizeof(ds));
	ds.fd = -1;

	n = mkev(buf, sizeof(buf), "add", "sda", "block", "disk");
	CHECK_EQ(lri_devs_event(&ds, buf, n), 1);
	CHECK_EQ(ds.n, 1);
	CHECK(strcmp(ds.dev[0].name, "sda") == 0);
	CHECK_EQ(ds.dev[0].partition, 0);
	CHECK_EQ(ds.dev[0].dirty, 1);

	/* A partition is recorded, not marked for probing. */
	n = mkev(buf, sizeof(buf), "add", "sda1", "block", "partition");
	CHECK_EQ(lri_devs_event(&ds, buf, n), 1);
	CHECK_EQ(ds.n, 2);
	CHECK_EQ(ds.dev[1].partition, 1);
	CHECK_EQ(ds.dev[1].dirty, 0);

	/* The same add twice is not new. */
	n = mkev(buf, sizeof(buf), "add", "sda", "block", "disk");
	CHECK_EQ(lri_devs_event(&ds, buf, n), 0);
	CHECK_EQ(ds.n, 2);

	/* A CD's medium change: probe again. */
	ds.dev[0].dirty = 0;
	n = mkev(buf, sizeof(buf), "change", "sda", "block", "disk");
	CHECK_EQ(lri_devs_event(&ds, buf, n), 1);
	CHECK_EQ(ds.dev[0].dirty, 1);

	/* Removal, then the device coming back. */
	n = mkev(buf, sizeof(buf), "remove", "sda", "block", "disk");
	CHECK_EQ(lri_devs_event(&ds, buf, n), 0);
	CHECK_EQ(ds.dev[0].gone, 1);
	CHECK_EQ(ds.dev[0].dirty, 0);
	n = mkev(buf, sizeof(buf), "add", "sda", "block", "disk");
	CHECK_EQ(lri_devs_event(&ds, buf, n), 1);
	CHECK_EQ(ds.dev[0].gone, 0);
	CHECK_EQ(ds.dev[0].dirty, 1);

	/* Not ours: other subsystems, the machine's own devices, udev. */
	n = mkev(buf, sizeof(buf), "add", "eth0", "net", NULL);
	CHECK_EQ(lri_devs_event(&ds, buf, n), 0);
	n = mkev(buf, sizeof(buf), "add", "loop3", "block", "disk");
	CHECK_EQ(lri_devs_event(&ds, buf, n), 0);
	n = mkev(buf, sizeof(buf), "add", "nbd0", "block", "disk");
	CHECK_EQ(lri_devs_event(&ds, buf, n), 0);
	n = mkev(buf, sizeof(buf), "add", "ram0", "block", "disk");
	CHECK_EQ(lri_devs_event(&ds, buf, n), 0);
	memcpy(buf, "libudev", 7);
	CHECK_EQ(lri_devs_event(&ds, buf, n), 0);
	CHECK_EQ(ds.n, 2);

	/* DEVNAME with a /dev/ prefix, and no DEVTYPE (a disk). */
	n = mkev(buf, sizeof(buf), "add", "/dev/vdb", "block", NULL);
	CHECK_EQ(lri_devs_event(&ds, buf, n), 1);
	CHECK(strcmp(ds.dev[2].name, "vdb") == 0);

	/* Truncated messages: no crash, nothing recorded. */
	n = mkev(buf, sizeof(buf), "add", "sdz", "block", "disk");
	CHECK_EQ(lri_devs_event(&ds, buf, 5), 0);
	CHECK_EQ(lri_devs_event(&ds, buf, 0), 0);
	CHECK_EQ(ds.n, 3);

	/* A name longer than the record is ignored, not truncated. */
	n = mkev(buf, sizeof(buf), "add",
	    "averyveryverylongdevicename0123456789", "block", "disk");
	CHECK_EQ(lri_devs_event(&ds, buf, n), 0);
	CHECK_EQ(ds.n, 3);
}

/* modules.c names modules with fmt_moddep_name (test_moddep.c has more). */
static void
test_module_names(void)
{
	static const char *const path[] = {
		"kernel/drivers/block/virtio_blk.ko",
		"kernel/drivers/usb/storage/usb-storage.ko.xz", "ext4.ko.zst" };
	static const char *const name[] = { "virtio_blk", "usb_storage",
		"ext4" };
	char nb[FMT_MODDEP_NAMEMAX];
	size_t i;

	for (i = 0; i < 3; i++) {
		CHECK_EQ(fmt_moddep_name(path[i], strlen(path[i]), nb,
		    sizeof(nb)), 0);
		CHECK(strcmp(nb, name[i]) == 0);
	}
}

static void
test_moddep(void)
{
	char dir[] = "/tmp/test_lrinit.XXXXXX", path[600];
	struct lri_mod_stats st;
	struct modctx c;
	struct mod *m, *d;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/modules.dep", dir);
	f = fopen(path, "w");
	fputs("kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko "
	    "kernel/fs/mbcache.ko kernel/lib/crc16.ko\n"
	    "kernel/fs/jbd2/jbd2.ko:\n"
	    "kernel/fs/mbcache.ko:\n"
	    "kernel/lib/crc16.ko:\n"
	    "garbage line without colon\n"
	    "kernel/drivers/usb/storage/usb-storage.ko: "
	    "kernel/drivers/usb/core/usbcore.ko\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/modules.builtin", dir);
	f = fopen(path, "w");
	fputs("kernel/drivers/block/loop.ko\nkernel/fs/isofs/isofs.ko\n", f);
	fclose(f);

	memset(&c, 0, sizeof(c));
	memset(&st, 0, sizeof(st));
	c.st = &st;
	snprintf(c.dir, sizeof(c.dir), "%s", dir);
	CHECK_EQ(lri_mod_parse_dep(&c), 0);
	CHECK_EQ(c.n, 5);
	m = lri_mod_find(&c, "ext4");
	CHECK(m != NULL && strstr(m->deps, "jbd2.ko") != NULL);
	CHECK(lri_mod_find(&c, "usb_storage") != NULL);
	CHECK(lri_mod_find(&c, "usb-storage") == NULL);	/* callers normalize */
	d = lri_mod_find_path(&c, "kernel/fs/mbcache.ko", 20);
	CHECK(d != NULL && strcmp(d->name, "mbcache") == 0);
	CHECK(lri_mod_find_path(&c, "kernel/fs/mbcache.k", 19) == NULL);
	snprintf(path, sizeof(path), "%s/modules.builtin", dir);
	CHECK_EQ(os_read_file(path, 1 << 20, &c.builtin, NULL, NULL), 0);
	CHECK(lri_mod_builtin(&c, "isofs"));
	CHECK(lri_mod_builtin(&c, "loop"));
	CHECK(!lri_mod_builtin(&c, "ext4"));
	for (size_t i = 0; i < c.n; i++)
		free(c.m[i].name);
	free(c.m);
	free(c.dep_text);
	free(c.builtin);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK_EQ(system(path), 0);
}

/* The boot log is root's (mode 0600) and holds no URL secrets. */
static void
test_bootlog(void)
{
	char dir[] = "/tmp/test_lrinit.XXXXXX", path[600], *text;
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	lri_log("fetching http://alice:hunter2@10.0.2.100/rootfs.uzip"
	    "?X-Amz-Signature=SECRET&t=1 (within 1800 s)");
	lri_log("net: HTTPS://h.example/a.uzip#SECRET: last HTTP status 404");
	lri_log("hint: the server answered HTTP 404 for "
	    "http://h/x.uzip?token=SECRET: check live.url=");

	/* a new file in a new directory */
	snprintf(path, sizeof(path), "%s/run/liveroot/boot.log", dir);
	CHECK_EQ(lri_log_save(path), 0);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0600);
	text = NULL;
	CHECK_EQ(os_read_file(path, 1 << 20, &text, NULL, NULL), 0);
	if (text != NULL) {
		CHECK(strstr(text, "fetching http://10.0.2.100/rootfs.uzip "
		    "(within 1800 s)") != NULL);
		CHECK(strstr(text, "net: HTTPS://h.example/a.uzip last")
		    != NULL);
		CHECK(strstr(text, "for http://h/x.uzip check") != NULL);
		CHECK(strstr(text, "SECRET") == NULL);
		CHECK(strstr(text, "hunter2") == NULL);
		CHECK(strstr(text, "alice") == NULL);
		free(text);
	}

	/* an older world-readable log is narrowed, not kept 0644 */
	CHECK_EQ(chmod(path, 0644), 0);
	CHECK_EQ(lri_log_save(path), 0);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0600);

	/* a symlink planted at the path is not followed */
	snprintf(path, sizeof(path), "%s/victim", dir);
	snprintf(path + 300, sizeof(path) - 300, "%s/link.log", dir);
	CHECK_EQ(symlink(path, path + 300), 0);
	CHECK(lri_log_save(path + 300) != 0);
	CHECK(access(path, F_OK) != 0);

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK_EQ(system(path), 0);
}

int
main(void)
{
	int saved, null;

	/* The code under test logs to fd 1: keep that off the output. */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if ((null = open("/dev/null", O_WRONLY)) >= 0) {
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	test_uevents();
	test_module_names();
	test_moddep();
	test_bootlog();
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	return (t_done());
}
