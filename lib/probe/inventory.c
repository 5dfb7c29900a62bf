/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inventory.c - the format table and the device inventory (inventory.h).
 *
 * The table: one row per file system, in the order they are tried.  A row
 * names the bytes its probe needs from the start of the volume (ISO 9660
 * looks at 0x8000, FAT and exFAT at the boot sector); probe_fs_open() reads
 * the largest window needed once, asks each probe in turn, and hands the
 * volume to the first row that claims it (exFAT before FAT: a FAT probe
 * refuses an exFAT boot sector anyway).  A window that cannot be read skips
 * its rows; only when no window could be read is the read error returned.
 *
 * The inventory reads the device through a cached bdev_src: the whole
 * device directly, each partition through a slice.  It records, it never
 * judges: a damaged table or volume is a field, so `inspect` and the boot
 * log say the same thing about the same device.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_exfat.h>
#include <liveroot/fmt_fat.h>
#include <liveroot/fmt_iso9660.h>
#include <liveroot/fmt_ventoy.h>
#include <liveroot/inventory.h>
#include <liveroot/util.h>

#define INV_LINE_PARTS	16		/* partitions a line names */
#define MBR_DISK_ID	0x180		/* Ventoy's 16-byte disk id */
#define MBR_DISK_SIG	0x1b8

/* --- the format table ----------------------------------------------------- */

struct fs_format {
	unsigned	 kind;
	const char	*name;
	size_t		 probe_len;	/* bytes from 0 that the probe reads */
	size_t		 objsize;	/* the parser's struct */
	bool		(*probe)(const void *buf, size_t len);
	/* The strict open, into fs's zeroed struct of this format. */
	int		(*open)(struct probe_fs *, const struct fmt_src *,
			    struct diag *);
	/* A file's runs into one[0..cap), or a malloc'd *extp when more. */
	int		(*file)(struct probe_fs *, const char *path,
			    struct fmt_extent *one, size_t cap,
			    struct fmt_extent **extp, size_t *np,
			    uint64_t *sizep, struct diag *);
};

static int
iso_open(struct probe_fs *fs, const struct fmt_src *src, struct diag *d)
{
	fs->label = fs->iso->label;
	return (fmt_iso_open(fs->iso, src, 0, d));
}

static int
exfat_open(struct probe_fs *fs, const struct fmt_src *src, struct diag *d)
{
	fs->label = fs->ex->label;
	return (fmt_exfat_open(fs->ex, src, &lr_libc_allocator, d));
}

static int
fat_open(struct probe_fs *fs, const struct fmt_src *src, struct diag *d)
{
	static const char *const names[] = { "fat12", "fat16", "fat32" };
	int error;

	fs->label = fs->fat->label;
	if ((error = fmt_fat_open(fs->fat, src, d)) == 0)
		fs->name = names[fs->fat->type == 12 ? 0 : fs->fat->type ==
		    16 ? 1 : 2];
	return (error);
}

static int
iso_file(struct probe_fs *fs, const char *path, struct fmt_extent *one,
    size_t cap, struct fmt_extent **extp, size_t *np, uint64_t *sizep,
    struct diag *d)
{
	struct fmt_iso_dirent *e;
	int error;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	error = fmt_iso_lookup(fs->iso, path, e, one, cap, d);
	if (error == ENOSPC) {
		if ((*extp = calloc(e->nextents, sizeof(**extp))) == NULL)
			error = diag_set(d, ENOMEM, "out of memory");
		else
			error = fmt_iso_lookup(fs->iso, path, e, *extp,
			    e->nextents, d);
	}
	if (error == 0 && e->is_dir)
		error = diag_set(d, EISDIR, "%s is a directory", path);
	if (error == 0) {
		*np = e->nextents;
		*sizep = e->size;
	}
	free(e);
	return (error);
}

/* The runs of a FAT or exFAT entry e, with a second pass when many. */
static int
fatx_runs(struct probe_fs *fs, const void *e, struct fmt_extent *one,
    size_t cap, struct fmt_extent **extp, size_t *np, struct diag *d)
{
	int error, pass;

	for (pass = 0; pass < 2; pass++) {
		if (fs->ex != NULL)
			error = fmt_exfat_extents(fs->ex, e, one, cap, np, d);
		else
			error = fmt_fat_extents(fs->fat, e, one, cap, np, d);
		if (error != ENOSPC || pass == 1)
			return (error);
		if ((one = *extp = calloc(*np, sizeof(*one))) == NULL)
			return (diag_set(d, ENOMEM, "out of memory"));
		cap = *np;
	}
	return (error);
}

/*
 * A file of a FAT or exFAT volume.  An exFAT file whose ValidDataLength is
 * short of its size would partly read as zeros through a driver: refused.
 */
static int
fatx_file(struct probe_fs *fs, const char *path, struct fmt_extent *one,
    size_t cap, struct fmt_extent **extp, size_t *np, uint64_t *sizep,
    struct diag *d)
{
	union {
		struct fmt_exfat_dirent	ex;
		struct fmt_fat_dirent	fat;
	} *e;
	int error;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if (fs->ex != NULL) {
		if ((error = fmt_exfat_lookup(fs->ex, path, &e->ex, d)) == 0 &&
		    !e->ex.is_dir && e->ex.partial_valid)
			error = diag_set(d, EINVAL, "%s: only %ju of its %ju "
			    "bytes were written (ValidDataLength): copy the "
			    "file again", path, (uintmax_t)e->ex.valid_size,
			    (uintmax_t)e->ex.size);
	} else
		error = fmt_fat_lookup(fs->fat, path, &e->fat, d);
	if (error == 0 && (fs->ex != NULL ? e->ex.is_dir : e->fat.is_dir))
		error = diag_set(d, EISDIR, "%s is a directory", path);
	if (error == 0) {
		*sizep = fs->ex != NULL ? e->ex.size : e->fat.size;
		error = fatx_runs(fs, e, one, cap, extp, np, d);
	}
	free(e);
	return (error);
}

static const struct fs_format formats[] = {
	{ PROBE_FS_ISO9660, "iso9660", FMT_ISO_VDOFF + 8,
	    sizeof(struct fmt_iso), fmt_iso_probe, iso_open, iso_file },
	{ PROBE_FS_EXFAT, "exfat", 512, sizeof(struct fmt_exfat),
	    fmt_exfat_probe, exfat_open, fatx_file },
	{ PROBE_FS_FAT, "fat", 512, sizeof(struct fmt_fat), fmt_fat_probe,
	    fat_open, fatx_file },
};

/* Hands the volume to f: its parser's struct, then its strict open. */
static int
fs_claim(struct probe_fs *fs, const struct fs_format *f,
    const struct fmt_src *src, struct diag *d)
{
	void *obj;
	int error;

	fs->kind = f->kind;
	fs->name = f->name;
	if ((obj = calloc(1, f->objsize)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if (f->kind == PROBE_FS_ISO9660)
		fs->iso = obj;
	else if (f->kind == PROBE_FS_EXFAT)
		fs->ex = obj;
	else
		fs->fat = obj;
	if ((error = f->open(fs, src, d)) != 0) {
		free(obj);
		fs->iso = NULL;
		fs->ex = NULL;
		fs->fat = NULL;
		fs->label = NULL;
	}
	return (error);
}

int
probe_fs_open(struct probe_fs *fs, const struct fmt_src *src, unsigned kinds,
    struct diag *d)
{
	uint8_t *win = NULL;
	size_t i, have = 0, want = 0;
	struct diag rd;
	int rerr = 0, read_some = 0;

	memset(fs, 0, sizeof(*fs));
	for (i = 0; i < LR_NELEM(formats); i++)
		if ((kinds & formats[i].kind) != 0)
			want = LR_MAX(want, formats[i].probe_len);
	for (i = 0; i < LR_NELEM(formats); i++) {
		const struct fs_format *f = &formats[i];

		if ((kinds & f->kind) == 0 || src->size < f->probe_len)
			continue;
		if (win == NULL && (win = malloc(want)) == NULL)
			return (diag_set(d, ENOMEM, "out of memory"));
		if (have < f->probe_len) {
			diag_clear(&rd);
			if ((rerr = fmt_src_read(src, win, f->probe_len, 0,
			    &rd)) != 0)
				continue;
			have = f->probe_len;
		}
		read_some = 1;
		if (!f->probe(win, f->probe_len))
			continue;
		free(win);
		return (fs_claim(fs, f, src, d));
	}
	free(win);
	if (read_some || rerr == 0)
		return (ENOENT);
	if (d != NULL)
		*d = rd;
	return (rerr);
}

void
probe_fs_close(struct probe_fs *fs)
{
	if (fs->ex != NULL)
		fmt_exfat_close(fs->ex);
	free(fs->ex);
	free(fs->fat);
	free(fs->iso);
	memset(fs, 0, sizeof(*fs));
}

int
probe_fs_file(struct probe_fs *fs, const char *path, struct fmt_extent **extp,
    size_t *np, uint64_t *sizep, struct diag *d)
{
	struct fmt_extent one[16], *ext = NULL;
	size_t i, n = 0;
	uint64_t size = 0;
	int error = EINVAL;

	*extp = NULL;
	*np = 0;
	for (i = 0; i < LR_NELEM(formats); i++)
		if (formats[i].kind == fs->kind)
			break;
	if (i == LR_NELEM(formats) || (fs->iso == NULL && fs->ex == NULL &&
	    fs->fat == NULL))
		return (diag_set(d, EINVAL, "%s: no volume is open", path));
	error = formats[i].file(fs, path, one, LR_NELEM(one), &ext, &n, &size,
	    d);
	if (error == 0 && ext == NULL) {
		if ((ext = calloc(n ? n : 1, sizeof(*ext))) == NULL)
			error = diag_set(d, ENOMEM, "out of memory");
		else
			memcpy(ext, one, n * sizeof(*ext));
	}
	if (error != 0) {
		free(ext);
		return (error);
	}
	*extp = ext;
	*np = n;
	*sizep = size;
	return (0);
}

/* --- the inventory -------------------------------------------------------- */

/* What is on [off, off + len) of dev. */
static void
vol_take(struct bdev *dev, uint64_t off, uint64_t len, struct probe_vol *v)
{
	struct bdev *b = dev;
	struct bdev_src s;
	struct probe_fs fs;
	struct diag d;
	int error;

	memset(v, 0, sizeof(*v));
	diag_clear(&d);
	if (len == 0 || !lr_range_ok(off, len, bdev_size(dev))) {
		v->outside = true;
		return;
	}
	bdev_ref(dev);
	if (len != bdev_size(dev) && bdev_slice_new(dev, off, len, &b,
	    &d) != 0) {
		bdev_destroy(dev);
		v->outside = true;
		return;
	}
	bdev_src_init(&s, b, 1);
	error = probe_fs_open(&fs, &s.src, PROBE_FS_ANY, &d);
	if (error != ENOENT) {
		v->fs = fs.name;
		v->error = error;
	}
	if (error == 0) {
		snprintf(v->label, sizeof(v->label), "%s", fs.label);
		v->rock_ridge = fs.iso != NULL && fs.iso->has_rr;
		v->joliet = fs.iso != NULL && fs.iso->has_joliet;
		v->vtoyefi = fs.fat != NULL && fmt_ventoy_is_vtoyefi(fs.fat);
	} else if (error != ENOENT)
		snprintf(v->msg, sizeof(v->msg), "%s", d.msg);
	probe_fs_close(&fs);
	bdev_src_fini(&s);
	bdev_destroy(b);
}

static enum probe_vd
vd_take(const struct fmt_src *src)
{
	uint8_t sec[FMT_ISO_SECTOR];

	if (src->size < FMT_ISO_VDOFF + sizeof(sec) ||
	    fmt_src_read(src, sec, sizeof(sec), FMT_ISO_VDOFF, NULL) != 0)
		return (PROBE_VD_NONE);
	if (memcmp(sec + 1, "CD001", 5) == 0)
		return (PROBE_VD_CD001);
	return (lr_is_zero(sec, sizeof(sec)) ? PROBE_VD_ZEROS : PROBE_VD_OTHER);
}

int
probe_inventory_take(struct bdev *dev, struct probe_inventory **out,
    struct diag *d)
{
	struct probe_inventory *inv;
	struct bdev_src s;
	struct diag pd;
	size_t i;

	*out = NULL;
	if ((inv = calloc(1, sizeof(*inv))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	inv->size = bdev_size(dev);
	bdev_src_init(&s, dev, 1);
	inv->vd = vd_take(&s.src);
	if (inv->size > 0)
		vol_take(dev, 0, inv->size, &inv->whole);
	inv->mbr_ok = inv->size >= sizeof(inv->mbr) && fmt_src_read(&s.src,
	    inv->mbr, sizeof(inv->mbr), 0, NULL) == 0;
	diag_clear(&pd);
	inv->pt_error = fmt_part_open(&s.src, &inv->pt, inv->parts,
	    PROBE_INV_MAXPARTS, &pd);
	snprintf(inv->pt_msg, sizeof(inv->pt_msg), "%s", pd.msg);
	if (inv->pt_error == 0 || inv->pt_error == ENOSPC)
		inv->nparts = LR_MIN(inv->pt.nparts, PROBE_INV_MAXPARTS);
	bdev_src_fini(&s);
	for (i = 0; i < inv->nparts; i++)
		vol_take(dev, inv->parts[i].start, inv->parts[i].length,
		    &inv->vols[i]);
	*out = inv;
	return (0);
}

void
probe_inventory_free(struct probe_inventory *inv)
{
	free(inv);
}

bool
probe_inventory_ventoy(const struct probe_inventory *inv)
{
	size_t i;

	for (i = 0; i < inv->nparts; i++)
		if (inv->parts[i].index == 2 && inv->vols[i].vtoyefi)
			return (true);
	return (false);
}

const uint8_t *
probe_inventory_disk_id(const struct probe_inventory *inv)
{
	if (!inv->mbr_ok || lr_is_zero(inv->mbr + MBR_DISK_ID, 16) ||
	    inv->mbr[510] != 0x55 || inv->mbr[511] != 0xaa)
		return (NULL);
	return (inv->mbr + MBR_DISK_ID);
}

/* --- the one-line description -------------------------------------------- */

struct sbuf {
	char	*p;
	size_t	 len, off;
};

static void LR_PRINTF(2, 3)
sb_add(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->off + 1 >= s->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->p + s->off, s->len - s->off, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->off = LR_MIN(s->off + (size_t)n, s->len - 1);
}

static void
sb_size(struct sbuf *s, uint64_t v)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double f = (double)v;
	int i = 0;

	while (f >= 1024 && i < 5) {
		f /= 1024;
		i++;
	}
	if (i == 0)
		sb_add(s, "%ju B", (uintmax_t)v);
	else
		sb_add(s, "%.1f %s", f, u[i]);
}

/* "iso9660 'LABEL'", "exfat 'Ventoy'", "unknown fs", "damaged fs (...)". */
static void
sb_vol(struct sbuf *s, const struct probe_vol *v)
{
	if (v->outside)
		sb_add(s, "outside the device");
	else if (v->fs != NULL && strcmp(v->fs, "iso9660") == 0)
		sb_add(s, v->error ? "iso9660 (damaged)" : "iso9660 '%s'",
		    v->label);
	else if (v->error != 0)
		sb_add(s, "damaged fs (%s)", v->msg);
	else if (v->fs != NULL)
		sb_add(s, "%s '%s'%s", v->fs, v->label, v->vtoyefi ?
		    " [Ventoy EFI]" : "");
	else
		sb_add(s, "unknown fs");
}

void
probe_inventory_line(const struct probe_inventory *inv, char *buf,
    size_t len)
{
	static const char *vd[] = { "unreadable or too small", "zeros",
	    "no CD001", NULL };
	struct sbuf s = { buf, len, 0 };
	const struct fmt_part_table *pt = &inv->pt;
	size_t i;

	if (len == 0)
		return;
	buf[0] = '\0';
	sb_size(&s, inv->size);
	if (inv->size == 0)
		return;
	sb_add(&s, "; 0x8000: ");
	if (inv->vd == PROBE_VD_CD001)
		sb_vol(&s, &inv->whole);
	else
		sb_add(&s, "%s", vd[inv->vd]);
	if (inv->pt_error == ENOENT) {
		sb_add(&s, "; no partition table");
		if (inv->vd != PROBE_VD_CD001) {
			sb_add(&s, "; whole device: ");
			sb_vol(&s, &inv->whole);
		}
		return;
	}
	if (inv->pt_error != 0 && inv->pt_error != ENOSPC) {
		sb_add(&s, "; partition table damaged (%s)", inv->pt_msg);
		return;
	}
	sb_add(&s, "; %s%s, %u partition(s)", pt->scheme == FMT_PART_GPT ?
	    "GPT" : pt->scheme == FMT_PART_MBR ? "MBR" : "none",
	    pt->gpt_backup_used ? " (backup header)" : "", pt->nparts);
	for (i = 0; i < inv->nparts && i < INV_LINE_PARTS; i++) {
		sb_add(&s, "; p%u ", inv->parts[i].index);
		sb_size(&s, inv->parts[i].length);
		sb_add(&s, " at %ju: ", (uintmax_t)inv->parts[i].start);
		sb_vol(&s, &inv->vols[i]);
	}
	if (inv->nparts > INV_LINE_PARTS)
		sb_add(&s, "; ...");
	if ((pt->scheme == FMT_PART_MBR || pt->protective) && inv->mbr_ok &&
	    !lr_is_zero(inv->mbr + MBR_DISK_ID, 16))
		sb_add(&s, "; MBR disk id %02x%02x%02x%02x... signature %08x",
		    inv->mbr[MBR_DISK_ID], inv->mbr[MBR_DISK_ID + 1],
		    inv->mbr[MBR_DISK_ID + 2], inv->mbr[MBR_DISK_ID + 3],
		    lr_le32dec(inv->mbr + MBR_DISK_SIG));
}

int
probe_describe_device(struct bdev *dev, char *buf, size_t len)
{
	struct probe_inventory *inv;
	struct diag d;
	int error;

	if (len == 0)
		return (EINVAL);
	diag_clear(&d);
	if ((error = probe_inventory_take(dev, &inv, &d)) != 0) {
		snprintf(buf, len, "%s", d.msg);
		return (error);
	}
	probe_inventory_line(inv, buf, len);
	probe_inventory_free(inv);
	return (0);
}
