/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * persist.c - live.persist: find the file system labelled NAME among the
 * block devices, load its driver, mount it read-write on PLAN_PERSIST_DIR
 * and make the directory of the overlay's file.  The overlay itself (upper
 * file + map, made on the first boot, the lower's identity checked) is
 * built by the NBD server (stack_open_on), which unmounts the file system
 * once it has saved the overlay at shutdown (nbdattach.c).
 *
 * Labels are read with liveroot's own parsers (probe_fs_open: ext2/3/4,
 * FAT, exFAT, NTFS), the ones locate uses, so no blkid is needed in the
 * initramfs.  An exact match wins; FAT and exFAT labels are compared
 * without case too (Windows and mkfs.fat store them in upper case).
 * NTFS is found but refused: Debian's kernel has no writable NTFS driver.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <liveroot/chain.h>
#include <liveroot/inventory.h>

#include "lrinit.h"

#define PERSIST_WAIT_S	10	/* a stick that appears after the root */

struct seen {
	char	text[600];
	size_t	len;
};

static void
seen_add(struct seen *s, const char *dev, const char *fs, const char *label)
{
	int n;

	if (s->len >= sizeof(s->text) - 1)
		return;
	n = snprintf(s->text + s->len, sizeof(s->text) - s->len, "%s%s %s "
	    "'%s'", s->len ? ", " : "", dev, fs, label != NULL ? label : "");
	if (n > 0)
		s->len += (size_t)n;
	if (s->len >= sizeof(s->text))
		s->len = sizeof(s->text) - 1;
}

/* The label of /dev/name's file system: 1 match (fs kind in *kind). */
static int
probe_label(const char *name, const char *want, int nocase, unsigned *kind,
    struct seen *sn)
{
	struct probe_fs fs;
	struct bdev_src bs;
	struct bdev *b;
	struct diag d;
	char path[48];
	int match = 0;

	snprintf(path, sizeof(path), "/dev/%s", name);
	diag_clear(&d);
	if (bdev_file_open(path, BDEV_FILE_RDONLY, 0, &b, &d) != 0)
		return (0);
	bdev_src_init(&bs, b, 1);
	memset(&fs, 0, sizeof(fs));
	if (probe_fs_open(&fs, &bs.src, PROBE_FS_FILES, &d) == 0) {
		if (fs.label != NULL && (strcmp(fs.label, want) == 0 ||
		    (nocase && (fs.kind & (PROBE_FS_FAT | PROBE_FS_EXFAT)) &&
		    strcasecmp(fs.label, want) == 0))) {
			match = 1;
			*kind = fs.kind;
		} else if (!nocase && sn != NULL)
			seen_add(sn, name, fs.name, fs.label);
		probe_fs_close(&fs);
	}
	bdev_src_fini(&bs);
	bdev_destroy(b);
	return (match);
}

/* One look at every device: 1 when found (name, kind filled). */
static int
find_once(struct lri_devs *ds, const char *label, char *dev, size_t len,
    unsigned *kind, struct seen *sn)
{
	size_t i;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		sn->len = 0;
		sn->text[0] = '\0';
		for (i = 0; i < ds->n; i++) {
			if (ds->dev[i].gone)
				continue;
			if (probe_label(ds->dev[i].name, label, pass, kind,
			    sn)) {
				snprintf(dev, len, "/dev/%s", ds->dev[i].name);
				return (1);
			}
		}
	}
	return (0);
}

/* mkdir -p of the directories of `file` below the mount point. */
static int
make_dirs(const char *mnt, const char *file, struct diag *d)
{
	char path[320];
	char *p;

	snprintf(path, sizeof(path), "%s%s", mnt, file);
	for (p = path + strlen(mnt) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			int e = errno;

			return (diag_set(d, e, "mkdir %s: %s", path,
			    strerror(e)));
		}
		*p = '/';
	}
	return (0);
}

int
lri_persist_mount(struct lri_devs *ds, struct lri_mods *mods,
    const struct live_plan *p, struct lri_persist *ps, struct diag *d)
{
	static const char *const fat_mods[] = { "nls_cp437", "nls_utf8",
	    "nls_iso8859_1" };
	unsigned kind = 0;
	struct seen sn;
	double deadline;
	size_t i;
	int e;

	memset(ps, 0, sizeof(*ps));
	memset(&sn, 0, sizeof(sn));
	deadline = lri_uptime() + PERSIST_WAIT_S;
	(void)lri_devs_scan(ds);
	while (!find_once(ds, p->persist_label, ps->dev, sizeof(ps->dev),
	    &kind, &sn)) {
		if (lri_uptime() >= deadline)
			return (diag_set(d, ENOENT, "no file system labelled "
			    "\"%s\" (waited %d s; seen: %s): label the "
			    "partition (e2label, fatlabel, exfatlabel) or "
			    "correct live.persist=", p->persist_label,
			    PERSIST_WAIT_S, sn.len ? sn.text : "none"));
		(void)lri_devs_wait(ds, 500);
		(void)lri_devs_scan(ds);
	}
	switch (kind) {
	case PROBE_FS_EXT4:
		snprintf(ps->fstype, sizeof(ps->fstype), "ext4");
		break;
	case PROBE_FS_FAT:
		snprintf(ps->fstype, sizeof(ps->fstype), "vfat");
		lri_modules_need(mods, "vfat");
		for (i = 0; i < sizeof(fat_mods) / sizeof(fat_mods[0]); i++)
			lri_modules_need(mods, fat_mods[i]);
		break;
	case PROBE_FS_EXFAT:
		snprintf(ps->fstype, sizeof(ps->fstype), "exfat");
		lri_modules_need(mods, "exfat");
		lri_modules_need(mods, "nls_utf8");
		break;
	default:
		return (diag_set(d, EROFS, "%s (\"%s\") is NTFS, which this "
		    "kernel cannot write: keep the persistence file on an "
		    "ext4, FAT32 or exFAT partition", ps->dev,
		    p->persist_label));
	}
	(void)mkdir(PLAN_PERSIST_DIR, 0700);
	if (mount(ps->dev, PLAN_PERSIST_DIR, ps->fstype, MS_NOATIME |
	    MS_NODEV | MS_NOSUID | MS_NOEXEC, NULL) != 0) {
		e = errno;
		return (diag_set(d, e, "mount -t %s %s %s: %s%s", ps->fstype,
		    ps->dev, PLAN_PERSIST_DIR, strerror(e), e == ENODEV ?
		    " (no driver for it in the initramfs: rebuild it with "
		    "liveroot mklive)" : e == EROFS || e == EACCES ?
		    " (write-protected medium?)" : " (run fsck on it from "
		    "another system)"));
	}
	ps->mounted = 1;
	if ((e = make_dirs(PLAN_PERSIST_DIR, p->persist_file, d)) != 0) {
		lri_persist_umount(ps);
		return (e);
	}
	return (0);
}

uint64_t
lri_persist_cap(const struct live_plan *p, uint64_t union_size)
{
	struct statvfs sv;
	struct stat st;
	uint64_t cap, have = 0, fsfree = 0;

	if (statvfs(PLAN_PERSIST_DIR, &sv) == 0)
		fsfree = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (stat(p->persist_upper, &st) == 0)
		have = (uint64_t)st.st_blocks * 512;
	cap = fsfree + have;
	if (cap > union_size)
		cap = union_size;
	if (p->persist_size != 0 && cap > p->persist_size)
		cap = p->persist_size;
	return (cap);
}

void
lri_persist_umount(struct lri_persist *ps)
{
	if (!ps->mounted)
		return;
	sync();
	if (umount(PLAN_PERSIST_DIR) != 0)
		lri_log("persist: umount %s: %s", PLAN_PERSIST_DIR,
		    strerror(errno));
	ps->mounted = 0;
}
