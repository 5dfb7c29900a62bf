/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inventory.c - the format table and the device inventory (inventory.h).
 *
 * The table: one row per file system, in the order they are tried.  A row
 * names the bytes its probe needs from the start of the volume (ISO 9660
 * looks at 0x8000, FAT, exFAT and NTFS at the boot sector, ext2/3/4 at the
 * superblock at 1024); probe_fs_open() reads the largest window needed
 * once, asks each probe in turn, and hands the volume to the first row that
 * claims it.  A window that cannot be read skips its rows; only when no
 * window could be read is the read error returned.  A row also carries its
 * lookup, extent list and listing adapters, so a new file system is one
 * row and a few lines of adapter, and locate needs no change.
 *
 * The inventory reads the device through a cached bdev_src: the whole
 * device directly, each partition through a slice.  It records, it never
 * judges: a damaged table or volume is a field, so `inspect` and the boot
 * log say the same thing about the same device.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_exfat.h>
#include <liveroot/fmt_ext4.h>
#include <liveroot/fmt_fat.h>
#include <liveroot/fmt_iso9660.h>
#include <liveroot/fmt_ntfs.h>
#include <liveroot/fmt_ventoy.h>
#include <liveroot/inventory.h>
#include <liveroot/util.h>

#define INV_LINE_PARTS	16		/* partitions a line names */
#define MBR_DISK_ID	0x180		/* Ventoy's 16-byte disk id */
#define MBR_DISK_SIG	0x1b8

/* --- the format table ----------------------------------------------------- */

/*
 * One file system.  open, close, list and extents are thin adapters over
 * the lib/fmt reader; a row that has no listing (ISO 9660: found by its
 * own lookup) leaves list NULL and gives file its own.
 */
struct fs_format {
	unsigned	 kind;
	const char	*name;
	const char	*human;		/* in messages: "ext2/3/4" */
	size_t		 probe_len;	/* bytes from 0 that the probe reads */
	size_t		 objsize;	/* its parser's struct */
	size_t		 slot;		/* its typed view in struct probe_fs */
	size_t		 entsize;	/* the parser's dirent */
	bool		(*probe)(const void *buf, size_t len);
	/* The strict open, into fs->obj (zeroed, objsize bytes). */
	int		(*open)(struct probe_fs *, const struct fmt_src *,
			    struct diag *);
	void		(*close)(struct probe_fs *);
	/* path's dirent into e (entsize bytes); the caller: EISDIR */
	int		(*lookup)(struct probe_fs *, const char *path, void *e,
			    bool *is_dir, uint64_t *sizep, struct diag *);
	int		(*extents)(struct probe_fs *, const void *e,
			    struct fmt_extent *, size_t, size_t *,
			    struct diag *);
	int		(*list)(struct probe_fs *, const void *dir,
			    probe_fs_list_fn, void *, struct diag *);
	/* A file's runs into one[0..cap), or a malloc'd *extp when more. */
	int		(*file)(struct probe_fs *, const struct fs_format *,
			    const char *path, struct fmt_extent *one,
			    size_t cap, struct fmt_extent **extp, size_t *np,
			    uint64_t *sizep, struct diag *);
};

/* The listing adapters: a parser's dirent as a struct probe_fs_dirent. */
struct list_tramp {
	probe_fs_list_fn cb;
	void		*arg;
};

#define LIST_ADAPTER(T, TYPE)						\
static int								\
T##_list_cb(void *arg, const struct TYPE *e)				\
{									\
	struct list_tramp *t = arg;					\
	struct probe_fs_dirent pe = { e->name, e->is_dir, e,		\
	    sizeof(*e) };						\
									\
	return (t->cb(t->arg, &pe));					\
}

LIST_ADAPTER(exfat, fmt_exfat_dirent)
LIST_ADAPTER(fat, fmt_fat_dirent)
LIST_ADAPTER(ext4, fmt_ext4_dirent)
LIST_ADAPTER(ntfs, fmt_ntfs_dirent)

/* --- ISO 9660 --- */

static int
iso_open(struct probe_fs *fs, const struct fmt_src *src, struct diag *d)
{
	fs->label = fs->iso->label;
	return (fmt_iso_open(fs->iso, src, 0, d));
}

static int
iso_file(struct probe_fs *fs, const struct fs_format *f, const char *path,
    struct fmt_extent *one, size_t cap, struct fmt_extent **extp, size_t *np,
    uint64_t *sizep, struct diag *d)
{
	struct fmt_iso_dirent *e;
	int error;

	(void)f;
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

/* --- exFAT --- */

static int
exfat_open(struct probe_fs *fs, const struct fmt_src *src, struct diag *d)
{
	fs->label = fs->ex->label;
	return (fmt_exfat_open(fs->ex, src, &lr_libc_allocator, d));
}

static void
exfat_close(struct probe_fs *fs)
{
	fmt_exfat_close(fs->ex);
}

/*
 * An exFAT file whose ValidDataLength is short of its size would partly
 * read as zeros through a driver: refused.
 */
static int
exfat_lookup(struct probe_fs *fs, const char *path, void *ep, bool *is_dir,
    uint64_t *sizep, struct diag *d)
{
	struct fmt_exfat_dirent *e = ep;
	int error;

	if ((error = fmt_exfat_lookup(fs->ex, path, e, d)) != 0)
		return (error);
	if (!e->is_dir && e->partial_valid)
		return (diag_set(d, EINVAL, "%s: only %ju of its %ju bytes "
		    "were written (ValidDataLength): copy the file again",
		    path, (uintmax_t)e->valid_size, (uintmax_t)e->size));
	*is_dir = e->is_dir;
	*sizep = e->size;
	return (0);
}

static int
exfat_extents(struct probe_fs *fs, const void *e, struct fmt_extent *ext,
    size_t max, size_t *np, struct diag *d)
{
	return (fmt_exfat_extents(fs->ex, e, ext, max, np, d));
}

static int
exfat_list(struct probe_fs *fs, const void *dir, probe_fs_list_fn cb,
    void *arg, struct diag *d)
{
	struct list_tramp t = { cb, arg };

	return (fmt_exfat_list(fs->ex, dir, exfat_list_cb, &t, d));
}

/* --- FAT12/16/32 --- */

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
fat_lookup(struct probe_fs *fs, const char *path, void *ep, bool *is_dir,
    uint64_t *sizep, struct diag *d)
{
	struct fmt_fat_dirent *e = ep;
	int error;

	if ((error = fmt_fat_lookup(fs->fat, path, e, d)) != 0)
		return (error);
	*is_dir = e->is_dir;
	*sizep = e->size;
	return (0);
}

static int
fat_extents(struct probe_fs *fs, const void *e, struct fmt_extent *ext,
    size_t max, size_t *np, struct diag *d)
{
	return (fmt_fat_extents(fs->fat, e, ext, max, np, d));
}

static int
fat_list(struct probe_fs *fs, const void *dir, probe_fs_list_fn cb,
    void *arg, struct diag *d)
{
	struct list_tramp t = { cb, arg };

	return (fmt_fat_list(fs->fat, dir, fat_list_cb, &t, d));
}

/* --- ext2/3/4 --- */

static int
ext4_open(struct probe_fs *fs, const struct fmt_src *src, struct diag *d)
{
	int error;

	fs->label = fs->e4->label;
	if ((error = fmt_ext4_open(fs->e4, src, d)) == 0)
		fs->name = fs->e4->kind;
	return (error);
}

static void
ext4_close(struct probe_fs *fs)
{
	fmt_ext4_close(fs->e4);
}

static int
ext4_lookup(struct probe_fs *fs, const char *path, void *ep, bool *is_dir,
    uint64_t *sizep, struct diag *d)
{
	struct fmt_ext4_dirent *e = ep;
	int error;

	if ((error = fmt_ext4_lookup(fs->e4, path, e, d)) != 0)
		return (error);
	*is_dir = e->is_dir;
	*sizep = e->size;
	return (0);
}

static int
ext4_extents(struct probe_fs *fs, const void *e, struct fmt_extent *ext,
    size_t max, size_t *np, struct diag *d)
{
	return (fmt_ext4_extents(fs->e4, e, ext, max, np, d));
}

static int
ext4_list(struct probe_fs *fs, const void *dir, probe_fs_list_fn cb,
    void *arg, struct diag *d)
{
	struct list_tramp t = { cb, arg };

	return (fmt_ext4_list(fs->e4, dir, ext4_list_cb, &t, d));
}

/* --- NTFS --- */

static int
ntfs_open(struct probe_fs *fs, const struct fmt_src *src, struct diag *d)
{
	fs->label = fs->ntfs->label;
	return (fmt_ntfs_open(fs->ntfs, src, &lr_libc_allocator, d));
}

static void
ntfs_close(struct probe_fs *fs)
{
	fmt_ntfs_close(fs->ntfs);
}

/* Like exFAT: bytes past the initialized size would read as zeros. */
static int
ntfs_lookup(struct probe_fs *fs, const char *path, void *ep, bool *is_dir,
    uint64_t *sizep, struct diag *d)
{
	struct fmt_ntfs_dirent *e = ep;
	int error;

	if ((error = fmt_ntfs_lookup(fs->ntfs, path, e, d)) != 0)
		return (error);
	if (!e->is_dir && e->partial_valid)
		return (diag_set(d, EINVAL, "%s: only %ju of its %ju bytes "
		    "were written (initialized size): copy the file again",
		    path, (uintmax_t)e->valid_size, (uintmax_t)e->size));
	*is_dir = e->is_dir;
	*sizep = e->size;
	return (0);
}

static int
ntfs_extents(struct probe_fs *fs, const void *e, struct fmt_extent *ext,
    size_t max, size_t *np, struct diag *d)
{
	return (fmt_ntfs_extents(fs->ntfs, e, ext, max, np, d));
}

static int
ntfs_list(struct probe_fs *fs, const void *dir, probe_fs_list_fn cb,
    void *arg, struct diag *d)
{
	struct list_tramp t = { cb, arg };

	return (fmt_ntfs_list(fs->ntfs, dir, ntfs_list_cb, &t, d));
}

/*
 * A file of a volume read through a lookup and an extent list (every row
 * but ISO 9660): EISDIR for a directory; the runs with a second pass when
 * they do not fit one.
 */
static int
dirent_file(struct probe_fs *fs, const struct fs_format *f, const char *path,
    struct fmt_extent *one, size_t cap, struct fmt_extent **extp, size_t *np,
    uint64_t *sizep, struct diag *d)
{
	void *e;
	bool is_dir = false;
	int error, pass;

	if ((e = calloc(1, f->entsize)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if ((error = f->lookup(fs, path, e, &is_dir, sizep, d)) == 0 &&
	    is_dir)
		error = diag_set(d, EISDIR, "%s is a directory", path);
	for (pass = 0; error == 0 && pass < 2; pass++) {
		error = f->extents(fs, e, one, cap, np, d);
		if (error != ENOSPC || pass == 1)
			break;
		if ((one = *extp = calloc(*np, sizeof(*one))) == NULL)
			error = diag_set(d, ENOMEM, "out of memory");
		else {
			cap = *np;
			error = 0;
		}
	}
	free(e);
	return (error);
}

/*
 * In the order they are tried.  exFAT and NTFS before FAT (their OEM names
 * at byte 3 are exact; a FAT probe refuses their boot sectors anyway);
 * ext2/3/4 after them: its magic lies at byte
 * 1080, which on a FAT12/16 volume is inside the FAT, so a FAT volume is
 * claimed by its own, stronger probe first.
 */
#define ROW(k, n, h, plen, T, view, ent, op, cl, lk, ex, ls, fl)	\
	{ k, n, h, plen, sizeof(struct T), offsetof(struct probe_fs, view), \
	    ent, op##_probe_fn, op##_open, cl, lk, ex, ls, fl }
#define iso_probe_fn	fmt_iso_probe
#define exfat_probe_fn	fmt_exfat_probe
#define fat_probe_fn	fmt_fat_probe
#define ext4_probe_fn	fmt_ext4_probe
#define ntfs_probe_fn	fmt_ntfs_probe

static const struct fs_format formats[] = {
	ROW(PROBE_FS_ISO9660, "iso9660", "ISO 9660", FMT_ISO_VDOFF + 8,
	    fmt_iso, iso, 0, iso, NULL, NULL, NULL, NULL, iso_file),
	ROW(PROBE_FS_EXFAT, "exfat", "exFAT", 512, fmt_exfat, ex,
	    sizeof(struct fmt_exfat_dirent), exfat, exfat_close,
	    exfat_lookup, exfat_extents, exfat_list, dirent_file),
	ROW(PROBE_FS_NTFS, "ntfs", "NTFS", 512, fmt_ntfs, ntfs,
	    sizeof(struct fmt_ntfs_dirent), ntfs, ntfs_close, ntfs_lookup,
	    ntfs_extents, ntfs_list, dirent_file),
	ROW(PROBE_FS_FAT, "fat", "FAT12/16/32", 512, fmt_fat, fat,
	    sizeof(struct fmt_fat_dirent), fat, NULL, fat_lookup,
	    fat_extents, fat_list, dirent_file),
	ROW(PROBE_FS_EXT4, "ext4", "ext2/3/4", FMT_EXT4_PROBE_LEN, fmt_ext4,
	    e4, sizeof(struct fmt_ext4_dirent), ext4, ext4_close,
	    ext4_lookup, ext4_extents, ext4_list, dirent_file),
};

static const struct fs_format *
fs_row(const struct probe_fs *fs)
{
	size_t i;

	for (i = 0; i < LR_NELEM(formats); i++)
		if (formats[i].kind == fs->kind)
			return (&formats[i]);
	return (NULL);
}

/* Hands the volume to f: its parser's struct, then its strict open. */
static int
fs_claim(struct probe_fs *fs, const struct fs_format *f,
    const struct fmt_src *src, struct diag *d)
{
	int error;

	fs->kind = f->kind;
	fs->name = f->name;
	if ((fs->obj = calloc(1, f->objsize)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	memcpy((char *)fs + f->slot, &fs->obj, sizeof(fs->obj));
	if ((error = f->open(fs, src, d)) != 0) {
		free(fs->obj);
		memset((char *)fs + f->slot, 0, sizeof(fs->obj));
		fs->obj = NULL;
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
	const struct fs_format *f;

	if (fs->obj != NULL && (f = fs_row(fs)) != NULL && f->close != NULL)
		f->close(fs);
	free(fs->obj);
	memset(fs, 0, sizeof(*fs));
}

int
probe_fs_file(struct probe_fs *fs, const char *path, struct fmt_extent **extp,
    size_t *np, uint64_t *sizep, struct diag *d)
{
	const struct fs_format *f;
	struct fmt_extent one[16], *ext = NULL;
	size_t n = 0;
	uint64_t size = 0;
	int error;

	*extp = NULL;
	*np = 0;
	if ((f = fs_row(fs)) == NULL || fs->obj == NULL)
		return (diag_set(d, EINVAL, "%s: no volume is open", path));
	error = f->file(fs, f, path, one, LR_NELEM(one), &ext, &n, &size, d);
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

int
probe_fs_list(struct probe_fs *fs, const void *dir, probe_fs_list_fn cb,
    void *arg, struct diag *d)
{
	const struct fs_format *f;

	if ((f = fs_row(fs)) == NULL || fs->obj == NULL)
		return (diag_set(d, EINVAL, "no volume is open"));
	if (f->list == NULL)
		return (diag_set(d, ENOTSUP, "%s volumes are not listed",
		    f->human));
	return (f->list(fs, dir, cb, arg, d));
}

void
probe_fs_kinds_str(unsigned kinds, char *buf, size_t len)
{
	size_t i, off = 0;
	int n;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < LR_NELEM(formats); i++) {
		if ((kinds & formats[i].kind) == 0)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    formats[i].human);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
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
