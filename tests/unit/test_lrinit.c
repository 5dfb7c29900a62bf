/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_lrinit.c - the pure parts of liveroot-init's Linux platform layer:
 * kernel uevent messages (block add/change/remove, partitions, udev's own
 * messages and the machine's loop/ram/nbd devices ignored) and the
 * modules.dep / modules.builtin parsing (names with '-' and '_', the
 * compressed suffixes, dependency paths), the module loader against a
 * fake kernel and a fake /sys (coldplug by modalias, the listed modules no
 * device asks for, hotplug by uevent, the dependency DAG walked by the
 * pool, each module once, a failure or a cycle not stopping the rest),
 * and the boot log: saved mode
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
#include <pthread.h>
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
	struct lri_mods c;
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
	snprintf(c.dir, sizeof(c.dir), "%s", dir);
	CHECK_EQ(lri_mod_parse_dep(&c), 0);
	CHECK_EQ(c.n, 5);
	m = lri_mod_find(&c, "ext4");
	CHECK(m != NULL && strstr(m->deps, "jbd2.ko") != NULL);
	/* the dependencies resolved to the table's entries */
	CHECK(m != NULL && m->ndep == 3 &&
	    strcmp(c.m[m->dep[0]].name, "jbd2") == 0 &&
	    strcmp(c.m[m->dep[2]].name, "crc16") == 0);
	/* usbcore is not in this modules.dep: not waited for */
	m = lri_mod_find(&c, "usb_storage");
	CHECK(m != NULL && m->ndep == 0);
	CHECK(lri_mod_find(&c, "usb-storage") == NULL);	/* callers normalize */
	d = lri_mod_find_path(&c, "kernel/fs/mbcache.ko", 20);
	CHECK(d != NULL && strcmp(d->name, "mbcache") == 0);
	CHECK(lri_mod_find_path(&c, "kernel/fs/mbcache.k", 19) == NULL);
	snprintf(path, sizeof(path), "%s/modules.builtin", dir);
	CHECK_EQ(os_read_file(path, 1 << 20, &c.builtin, NULL, NULL), 0);
	CHECK(lri_mod_builtin(&c, "isofs"));
	CHECK(lri_mod_builtin(&c, "loop"));
	CHECK(!lri_mod_builtin(&c, "ext4"));
	lri_mods_close(&c);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK_EQ(system(path), 0);
}

/*
 * A fake kernel for the loader: it records each load (name, arguments,
 * order), checks that every dependency was loaded before, sleeps a little
 * so the pool overlaps loads, answers EEXIST for ext4 ("already there")
 * and EINVAL for broken, and "creates" the virtio device virtio_pci would
 * (a modalias file in the fake /sys), as the real driver does while it
 * loads.
 */
struct fake {
	pthread_mutex_t	 mu;
	struct lri_mods	*c;
	char		 sysfs[200];
	char		 loaded[64][FMT_MODDEP_NAMEMAX];
	char		 args[64][64];
	size_t		 n;
	int		 deps_late;	/* a module loaded before its dep */
};

static size_t
fake_index(struct fake *fk, const char *name)
{
	size_t i;

	for (i = 0; i < fk->n; i++)
		if (strcmp(fk->loaded[i], name) == 0)
			return (i);
	return ((size_t)-1);
}

static unsigned
fake_count(struct fake *fk, const char *name)
{
	unsigned k = 0;
	size_t i;

	pthread_mutex_lock(&fk->mu);
	for (i = 0; i < fk->n; i++)
		k += strcmp(fk->loaded[i], name) == 0;
	pthread_mutex_unlock(&fk->mu);
	return (k);
}

static void
put(const char *dir, const char *file, const char *text)
{
	char p[700];
	FILE *f;

	snprintf(p, sizeof(p), "mkdir -p '%s'", dir);
	if (system(p) != 0)
		return;
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	if ((f = fopen(p, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static int
fake_load(void *arg, const char *path, const char *args)
{
	struct fake *fk = arg;
	char name[FMT_MODDEP_NAMEMAX], dir[400];
	struct mod *m;
	size_t i;

	if (fmt_moddep_name(path, strlen(path), name, sizeof(name)) != 0)
		return (EINVAL);
	usleep(20 * 1000);
	pthread_mutex_lock(&fk->mu);
	m = lri_mod_find(fk->c, name);
	for (i = 0; m != NULL && i < m->ndep; i++)
		if (fake_index(fk, fk->c->m[m->dep[i]].name) == (size_t)-1 &&
		    strcmp(fk->c->m[m->dep[i]].name, "broken") != 0)
			fk->deps_late = 1;
	if (fk->n < 64) {
		snprintf(fk->loaded[fk->n], sizeof(fk->loaded[0]), "%s", name);
		snprintf(fk->args[fk->n], sizeof(fk->args[0]), "%s", args);
		fk->n++;
	}
	pthread_mutex_unlock(&fk->mu);
	if (strcmp(name, "virtio_pci") == 0) {
		snprintf(dir, sizeof(dir), "%s/bus/virtio/devices/virtio0",
		    fk->sysfs);
		put(dir, "modalias", "virtio:d00000002v00001AF4\n");
	}
	if (strcmp(name, "ext4") == 0)
		return (EEXIST);
	if (strcmp(name, "broken") == 0)
		return (EINVAL);
	return (0);
}

/* The uevent of a new device with its MODALIAS=. */
static size_t
mkmodev(char *buf, size_t len, const char *action, const char *modalias)
{
	size_t o = 0;

	o += (size_t)snprintf(buf + o, len - o, "%s@/devices/x", action) + 1;
	o += (size_t)snprintf(buf + o, len - o, "ACTION=%s", action) + 1;
	o += (size_t)snprintf(buf + o, len - o, "SUBSYSTEM=usb") + 1;
	o += (size_t)snprintf(buf + o, len - o, "MODALIAS=%s", modalias) + 1;
	o += (size_t)snprintf(buf + o, len - o, "SEQNUM=9") + 1;
	return (o);
}

/*
 * Coldplug and hotplug with the fake kernel: only what the devices ask
 * for and the listed modules no device alias names are loaded; each
 * module once, after its dependencies, with the list's arguments; a
 * failure does not stop the rest; a device that appears while a driver
 * loads (virtio0) and devices announced later by uevents get theirs.
 */
static void
test_coldplug(void)
{
	char dir[] = "/tmp/test_lrinit.XXXXXX", p[600], ev[600];
	static struct fake fk;
	struct lri_mods c;
	struct lri_mod_stats st;
	struct lri_devs ds;
	size_t n, i;

	CHECK(mkdtemp(dir) != NULL);
	put(dir, "modules.dep",
	    "kernel/a/virtio.ko:\n"
	    "kernel/a/virtio_pci.ko: kernel/a/virtio.ko\n"
	    "kernel/a/virtio_blk.ko: kernel/a/virtio.ko\n"
	    "kernel/a/scsi_mod.ko:\n"
	    "kernel/a/libata.ko: kernel/a/scsi_mod.ko\n"
	    "kernel/a/ahci.ko: kernel/a/libata.ko kernel/a/scsi_mod.ko\n"
	    "kernel/a/ata_piix.ko: kernel/a/libata.ko kernel/a/scsi_mod.ko\n"
	    "kernel/a/usbcore.ko:\n"
	    "kernel/a/usb-storage.ko: kernel/a/usbcore.ko "
	    "kernel/a/scsi_mod.ko\n"
	    "kernel/a/sd_mod.ko: kernel/a/scsi_mod.ko\n"
	    "kernel/a/nbd.ko:\n"
	    "kernel/a/jbd2.ko:\n"
	    "kernel/a/mbcache.ko:\n"
	    "kernel/a/ext4.ko: kernel/a/jbd2.ko kernel/a/mbcache.ko\n"
	    "kernel/a/broken.ko:\n"
	    "kernel/a/needsbroken.ko: kernel/a/broken.ko\n"
	    "kernel/a/e1000.ko:\n");
	put(dir, "modules.alias",
	    "# Aliases extracted from modules themselves.\n"
	    "alias pci:v00001AF4d00001001sv*sd*bc*sc*i* virtio_pci\n"
	    "alias virtio:d00000002v* virtio_blk\n"
	    "alias pci:v*d*sv*sd*bc01sc06i01* ahci\n"
	    "alias pci:v00008086d00007010sv*sd*bc*sc*i* ata_piix\n"
	    "alias usb:v*p*d*dc*dsc*dp*ic08isc06ip50in* usb-storage\n"
	    "alias scsi:t-0x00* sd_mod\n"
	    "alias block-major-43-* nbd\n"
	    "alias fs-ext4 ext4\n"
	    "alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000\n"
	    "alias pci:v0000ABCDd* needsbroken\n"
	    "alias pci:v0000ABCDd* notstaged\n");
	put(dir, "list", "virtio_pci\nvirtio_blk\nahci\nata_piix\n"
	    "usb-storage delay_use=0\nsd_mod\nnbd\next4\ne1000\nnosuchmod\n");
	snprintf(fk.sysfs, sizeof(fk.sysfs), "%s/sys", dir);
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:01.1", fk.sysfs);
	put(p, "modalias",
	    "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80\n");
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:04.0", fk.sysfs);
	put(p, "modalias",
	    "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00\n");
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:05.0", fk.sysfs);
	put(p, "modalias", "pci:v0000ABCDd00000001sv0sd0bc0sc0i0\n");
	snprintf(p, sizeof(p), "%s/bus/cpu/devices/cpu0", fk.sysfs);
	put(p, "modalias", "cpu:type:x86,ven0000fam0006mod003F:feature:,"
	    "0000,0001\n");
	snprintf(p, sizeof(p), "%s/bus/cpu/devices/cpu1", fk.sysfs);
	put(p, "uevent", "");			/* no modalias file */

	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&fk.mu, NULL);
	fk.c = &c;
	snprintf(c.dir, sizeof(c.dir), "%s", dir);
	snprintf(c.sysfs, sizeof(c.sysfs), "%s", fk.sysfs);
	c.load = fake_load;
	c.load_arg = &fk;
	snprintf(p, sizeof(p), "%s/list", dir);
	CHECK_EQ(lri_mods_open(&c, p), 0);
	CHECK_EQ(c.have_alias, 1);
	CHECK_EQ(c.nal, 8);		/* device patterns of staged modules */
	CHECK_EQ(lri_mods_coldplug(&c), 0);
	/* the drivers are in; nbd, ext4 (and jbd2, mbcache) load behind */
	CHECK_EQ(fake_count(&fk, "ata_piix"), 1);
	CHECK_EQ(fake_count(&fk, "virtio_blk"), 1);
	CHECK_EQ(lri_mods_join(&c), 3);		/* nbd jbd2 mbcache; ext4 EEXIST */

	/* what the machine's devices ask for, and the always-loaded */
	CHECK_EQ(fake_count(&fk, "ata_piix"), 1);
	CHECK_EQ(fake_count(&fk, "libata"), 1);
	CHECK_EQ(fake_count(&fk, "scsi_mod"), 1);
	CHECK_EQ(fake_count(&fk, "virtio_pci"), 1);
	CHECK_EQ(fake_count(&fk, "virtio"), 1);
	CHECK_EQ(fake_count(&fk, "virtio_blk"), 1);	/* its device came late */
	CHECK_EQ(fake_count(&fk, "nbd"), 1);
	CHECK_EQ(fake_count(&fk, "ext4"), 1);
	CHECK_EQ(fake_count(&fk, "jbd2"), 1);
	CHECK_EQ(fake_count(&fk, "broken"), 1);
	CHECK_EQ(fake_count(&fk, "needsbroken"), 1);	/* tried anyway */
	/* no device asked for these */
	CHECK_EQ(fake_count(&fk, "ahci"), 0);
	CHECK_EQ(fake_count(&fk, "e1000"), 0);
	CHECK_EQ(fake_count(&fk, "usb_storage"), 0);
	CHECK_EQ(fake_count(&fk, "sd_mod"), 0);
	CHECK_EQ(fk.deps_late, 0);
	CHECK(c.maxinflight >= 2);	/* the pool loaded side by side */
	CHECK(c.maxinflight <= 2 * LRI_MOD_THREADS);	/* fg + bg pools */
	lri_modules_stats(&c, &st);
	CHECK_EQ(st.loaded, 10);
	CHECK_EQ(st.present, 1);	/* ext4: EEXIST */
	CHECK_EQ(st.failed, 1);		/* broken */
	CHECK_EQ(st.missing, 1);	/* nosuchmod */
	CHECK_EQ(st.unasked, 4);	/* ahci e1000 usb_storage sd_mod */

	/* Hotplug: a USB stick's interface, then its SCSI disk, by uevent. */
	memset(&ds, 0, sizeof(ds));
	ds.fd = -1;
	ds.mods = &c;
	n = mkmodev(ev, sizeof(ev), "add",
	    "usb:v46F4p0001d0000dc00dsc00dp00ic08isc06ip50in00");
	CHECK_EQ(lri_devs_event(&ds, ev, n), 0);	/* not a block device */
	CHECK_EQ(lri_modules_flush(&c), 2);
	i = fake_index(&fk, "usb_storage");
	CHECK(i != (size_t)-1 && strcmp(fk.args[i], "delay_use=0") == 0);
	CHECK(i != (size_t)-1 && fake_index(&fk, "usbcore") < i);
	CHECK_EQ(fake_count(&fk, "scsi_mod"), 1);	/* not again */
	/* the same device again, a remove, and a device nobody drives */
	CHECK_EQ(lri_devs_event(&ds, ev, n), 0);
	n = mkmodev(ev, sizeof(ev), "remove", "scsi:t-0x00");
	CHECK_EQ(lri_devs_event(&ds, ev, n), 0);
	n = mkmodev(ev, sizeof(ev), "add", "serio:ty01pr00id00ex00");
	CHECK_EQ(lri_devs_event(&ds, ev, n), 0);
	CHECK_EQ(lri_modules_flush(&c), 0);
	CHECK_EQ(fake_count(&fk, "usb_storage"), 1);
	CHECK_EQ(fake_count(&fk, "sd_mod"), 0);
	n = mkmodev(ev, sizeof(ev), "add", "scsi:t-0x00");
	CHECK_EQ(lri_devs_event(&ds, ev, n), 0);
	CHECK_EQ(lri_modules_flush(&c), 1);
	CHECK_EQ(fake_count(&fk, "sd_mod"), 1);
	/* a rescan of /sys finds nothing new: nothing is loaded twice */
	lri_modules_rescan(&c);
	CHECK_EQ(lri_modules_flush(&c), 0);
	for (i = 0; i < fk.n; i++)
		CHECK_EQ(fake_count(&fk, fk.loaded[i]), 1);
	CHECK_EQ(fk.deps_late, 0);
	lri_modules_stats(&c, &st);
	CHECK_EQ(st.unasked, 2);	/* ahci e1000 */
	lri_mods_close(&c);

	/* Without modules.alias every listed module loads, as before. */
	snprintf(p, sizeof(p), "%s/modules.alias", dir);
	CHECK_EQ(unlink(p), 0);
	memset(&c, 0, sizeof(c));
	fk.n = 0;
	fk.c = &c;
	snprintf(c.dir, sizeof(c.dir), "%s", dir);
	snprintf(c.sysfs, sizeof(c.sysfs), "%s", fk.sysfs);
	c.load = fake_load;
	c.load_arg = &fk;
	c.nthreads = 1;
	snprintf(p, sizeof(p), "%s/list", dir);
	CHECK_EQ(lri_mods_open(&c, p), 0);
	CHECK_EQ(c.have_alias, 0);
	CHECK_EQ(lri_mods_coldplug(&c), 0);
	(void)lri_mods_join(&c);
	CHECK_EQ(fake_count(&fk, "ahci"), 1);
	CHECK_EQ(fake_count(&fk, "e1000"), 1);
	CHECK_EQ(fake_count(&fk, "needsbroken"), 0);	/* not listed */
	CHECK_EQ(c.maxinflight, 1);
	CHECK_EQ(fk.deps_late, 0);
	lri_mods_close(&c);
	pthread_mutex_destroy(&fk.mu);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	CHECK_EQ(system(p), 0);
}

/* A dependency cycle (a crafted modules.dep) fails both, never hangs. */
static void
test_dep_cycle(void)
{
	char dir[] = "/tmp/test_lrinit.XXXXXX", p[600];
	static struct fake fk;
	struct lri_mods c;
	struct lri_mod_stats st;

	CHECK(mkdtemp(dir) != NULL);
	put(dir, "modules.dep", "a.ko: b.ko\nb.ko: a.ko\nc.ko: c.ko\n"
	    "d.ko:\n");
	put(dir, "list", "a\nc\nd\n");
	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&fk.mu, NULL);
	fk.c = &c;
	snprintf(fk.sysfs, sizeof(fk.sysfs), "%s/nosys", dir);
	snprintf(c.dir, sizeof(c.dir), "%s", dir);
	snprintf(c.sysfs, sizeof(c.sysfs), "%s", fk.sysfs);
	c.load = fake_load;
	c.load_arg = &fk;
	snprintf(p, sizeof(p), "%s/list", dir);
	CHECK_EQ(lri_mods_open(&c, p), 0);
	CHECK_EQ(lri_mods_coldplug(&c), 0);
	/* needed now (af_packet before udhcpc): loaded before the return */
	lri_modules_need(&c, "d");
	CHECK_EQ(fake_count(&fk, "d"), 1);
	lri_modules_need(&c, "nosuch");
	lri_modules_need(&c, "d");			/* not twice */
	(void)lri_mods_join(&c);
	CHECK_EQ(fake_count(&fk, "a"), 0);
	CHECK_EQ(fake_count(&fk, "b"), 0);
	CHECK_EQ(fake_count(&fk, "c"), 1);	/* a self-dependency is none */
	CHECK_EQ(fake_count(&fk, "d"), 1);
	lri_modules_stats(&c, &st);
	CHECK_EQ(st.failed, 2);
	CHECK_EQ(st.loaded, 2);
	CHECK_EQ(c.queued, 0);
	lri_mods_close(&c);

	/* A long chain whose lines are not closed: every link is queued. */
	{
		FILE *f;
		int i;

		snprintf(p, sizeof(p), "%s/modules.dep", dir);
		if ((f = fopen(p, "w")) != NULL) {
			for (i = 0; i < 20000; i++)
				fprintf(f, "m%d.ko: m%d.ko\n", i, i + 1);
			fprintf(f, "m%d.ko:\n", i);
			fclose(f);
		}
		memset(&c, 0, sizeof(c));
		snprintf(c.dir, sizeof(c.dir), "%s", dir);
		snprintf(p, sizeof(p), "%s/list", dir);
		CHECK_EQ(lri_mods_open(&c, p), 0);
		CHECK_EQ(c.n, 20001);
		lri_mod_want(&c, &c.m[0]);
		CHECK_EQ(c.queued, 20001);
		CHECK_EQ(c.m[20000].state, MOD_QUEUED);
		lri_mods_close(&c);
	}
	pthread_mutex_destroy(&fk.mu);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	CHECK_EQ(system(p), 0);
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
	test_coldplug();
	test_dep_cycle();
	test_bootlog();
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	return (t_done());
}
