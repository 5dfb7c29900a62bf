/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * locate.c - the device strategies of the probe chain (DESIGN.md §4):
 * `local`, `ventoy` and `findiso`, and the one-line device description used
 * when nothing is found.
 *
 * Everything is read through "containers": a run of bytes (the whole device,
 * a partition, a file on a partition, an ISO inside such a file) described by
 * its extent map onto the base device, read through an extmap bdev over that
 * device with a small block cache (the parsers read a directory entry or a
 * FAT sector at a time).  Opening a file inside a container composes its runs
 * with the container's map (probe_compose), so the root image's map is
 * always one flat, validated list on the device the caller passed in, however
 * deep it was found (partition -> exFAT/FAT file -> ISO file).
 *
 * Errors: "not here" (nothing, another label, no image) is 0 with
 * found = 0 and a note in r->seen.  A structure that is damaged on the way to
 * the image the caller asked for (the ISO the os_param or the findiso path
 * names, the ISO whose label matched) is a real error.  While searching
 * (several partitions, every *.iso on a Ventoy disk) a damaged candidate is
 * a note and the search goes on.  Searches are bounded (depth, entries,
 * candidates).  No global state; the device is borrowed.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <liveroot/bdev.h>
#include <liveroot/fmt_exfat.h>
#include <liveroot/fmt_fat.h>
#include <liveroot/fmt_iso9660.h>
#include <liveroot/fmt_part.h>
#include <liveroot/fmt_ventoy.h>
#include <liveroot/locate.h>
#include <liveroot/util.h>

#define CTR_BLK		(64 * 1024)	/* cache block, bytes */
#define CTR_SLOTS	8		/* cache blocks per container */
#define LOC_MAXPARTS	128
#define LOC_MAXDEPTH	8		/* directory levels searched for ISOs */
#define LOC_MAXENTRIES	200000		/* directory entries visited */
#define LOC_MAXDIRS	4096		/* directories queued */
#define LOC_MAXISOS	256		/* *.iso candidates tried */
#define LOC_PATHMAX	1024

/* strlcpy: copies what fits, always NUL-terminates (len > 0). */
static void
scopy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* --- containers -------------------------------------------------------- */

struct ctr {
	struct bdev		*base;		/* borrowed */
	struct bdev		*b;		/* extmap over base (own ref) */
	struct bdev_extent	*map;		/* container -> base, owned */
	size_t			 n;
	uint64_t		 size;
	struct fmt_src		 src;
	uint8_t			*cache;
	uint64_t		 tag[CTR_SLOTS];	/* block + 1; 0 = empty */
	uint64_t		 used[CTR_SLOTS];
	uint64_t		 tick;
	struct diag		 rd;		/* detail of the last read error */
};

static int
ctr_read(void *arg, void *buf, size_t len, uint64_t off)
{
	struct ctr *c = arg;
	uint8_t *p = buf;
	int error;

	if (!lr_range_ok(off, len, c->size))
		return (diag_set(&c->rd, EIO, "read of %zu bytes at %ju past "
		    "the end of %s", len, (uintmax_t)off, c->b->desc));
	if (len >= CTR_BLK || c->cache == NULL)
		return (bdev_read(c->b, buf, len, off, &c->rd));
	while (len > 0) {
		uint64_t blk = off / CTR_BLK, bstart = blk * CTR_BLK;
		size_t in = (size_t)(off - bstart), n, s, victim = 0;
		uint8_t *cb = NULL;

		for (s = 0; s < CTR_SLOTS; s++) {
			if (c->tag[s] == blk + 1) {
				cb = c->cache + s * CTR_BLK;
				break;
			}
			if (c->used[s] < c->used[victim])
				victim = s;
		}
		if (cb == NULL) {
			size_t blen = (size_t)LR_MIN((uint64_t)CTR_BLK,
			    c->size - bstart);

			s = victim;
			cb = c->cache + s * CTR_BLK;
			c->tag[s] = 0;
			if ((error = bdev_read(c->b, cb, blen, bstart,
			    &c->rd)) != 0)
				return (error);
			c->tag[s] = blk + 1;
		}
		c->used[s] = ++c->tick;
		n = (size_t)LR_MIN((uint64_t)len, LR_MIN((uint64_t)CTR_BLK,
		    c->size - bstart) - in);
		memcpy(p, cb + in, n);
		p += n;
		off += n;
		len -= n;
	}
	return (0);
}

/* Adopts map (malloc'd) whatever happens. */
static int
ctr_init(struct ctr *c, struct bdev *base, struct bdev_extent *map, size_t n,
    uint64_t size, struct diag *d)
{
	int error;

	memset(c, 0, sizeof(*c));
	c->base = base;
	c->map = map;
	c->n = n;
	c->size = size;
	bdev_ref(base);
	if ((error = bdev_extmap_new(base, map, n, size, &c->b, d)) != 0) {
		bdev_destroy(base);
		free(map);
		c->map = NULL;
		return (error);
	}
	c->cache = malloc((size_t)CTR_SLOTS * CTR_BLK);	/* optional */
	c->src.read = ctr_read;
	c->src.arg = c;
	c->src.size = size;
	return (0);
}

static void
ctr_fini(struct ctr *c)
{
	bdev_destroy(c->b);
	free(c->map);
	free(c->cache);
	memset(c, 0, sizeof(*c));
}

/* A window of the base device: the whole disk or a partition. */
static int
ctr_slice(struct ctr *c, struct bdev *base, uint64_t off, uint64_t len,
    struct diag *d)
{
	struct bdev_extent *m;

	if (!lr_range_ok(off, len, bdev_size(base)) || len == 0) {
		memset(c, 0, sizeof(*c));
		return (diag_set(d, EINVAL, "partition at %ju (%ju bytes) "
		    "lies outside the %ju-byte device", (uintmax_t)off,
		    (uintmax_t)len, (uintmax_t)bdev_size(base)));
	}
	if ((m = malloc(sizeof(*m))) == NULL) {
		memset(c, 0, sizeof(*c));
		return (diag_set(d, ENOMEM, "out of memory"));
	}
	m->voff = 0;
	m->loff = off;
	m->len = len;
	return (ctr_init(c, base, m, 1, len, d));
}

/* A file (its runs in parent) as a container of its own. */
static int
ctr_file(struct ctr *c, const struct ctr *parent, const struct fmt_extent *in,
    size_t nin, uint64_t size, const char *what, struct diag *d)
{
	struct bdev_extent *m;
	size_t n;
	int error;

	memset(c, 0, sizeof(*c));
	if (size == 0)
		return (diag_set(d, EINVAL, "%s is empty", what));
	if ((error = probe_compose(parent->map, parent->n, parent->size, in,
	    nin, size, bdev_size(parent->base), what, &m, &n, d)) != 0)
		return (error);
	return (ctr_init(c, parent->base, m, n, size, d));
}

/* Reads len bytes at off into buf; fails quietly (short container: EIO). */
static int
ctr_pread(struct ctr *c, void *buf, size_t len, uint64_t off, struct diag *d)
{
	int error;

	if ((error = ctr_read(c, buf, len, off)) != 0) {
		if (d != NULL)
			*d = c->rd;
		return (diag_default(d, error, "read"));
	}
	return (0);
}

/* --- notes: what was seen, for the not-found line ------------------------ */

struct lctx {
	const char		*path;
	struct bdev		*dev;
	const struct locate_opts *o;
	const char		*image;
	struct locate_result	*r;
	char			 notes[768];
	struct ctr		 whole;
	struct fmt_part_table	*pt;
	struct fmt_part		*parts;
	size_t			 nparts;
	int			 parts_read;
};

static void LR_PRINTF(2, 3)
note(struct lctx *x, const char *fmt, ...)
{
	size_t l = strlen(x->notes);
	va_list ap;

	if (l + 3 >= sizeof(x->notes))
		return;
	if (l > 0) {
		memcpy(x->notes + l, "; ", 3);
		l += 2;
	}
	va_start(ap, fmt);
	vsnprintf(x->notes + l, sizeof(x->notes) - l, fmt, ap);
	va_end(ap);
}

/* --- partitions ---------------------------------------------------------- */

static const char *
scheme_name(enum fmt_part_scheme s)
{
	return (s == FMT_PART_GPT ? "GPT" : s == FMT_PART_MBR ? "MBR" :
	    "none");
}

/* Reads the partition table once; no table or a damaged one = 0 parts. */
static int
parts_load(struct lctx *x, struct diag *d)
{
	struct diag pd;
	int error;

	if (x->parts_read)
		return (0);
	x->parts_read = 1;
	if ((x->pt = calloc(1, sizeof(*x->pt))) == NULL ||
	    (x->parts = calloc(LOC_MAXPARTS, sizeof(*x->parts))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	diag_clear(&pd);
	error = fmt_part_open(&x->whole.src, x->pt, x->parts, LOC_MAXPARTS,
	    &pd);
	if (error == 0 || error == ENOSPC)
		x->nparts = LR_MIN(x->pt->nparts, LOC_MAXPARTS);
	else if (error == EIO)
		return (diag_set(d, EIO, "%s: cannot read the partition "
		    "table: %s", x->path, x->whole.rd.msg));
	else if (error != ENOENT)
		note(x, "partition table damaged (%s)", pd.msg);
	return (0);
}

static const struct fmt_part *
part_by_index(struct lctx *x, uint32_t idx)
{
	size_t i;

	for (i = 0; i < x->nparts; i++)
		if (x->parts[i].index == idx)
			return (&x->parts[i]);
	return (NULL);
}

/* --- FAT / exFAT --------------------------------------------------------- */

enum { LFS_NONE, LFS_FAT, LFS_EXFAT };

struct lfs {
	int			 kind;
	struct fmt_fat		*fat;
	struct fmt_exfat	*ex;
	const char		*label;
};

static const char *
lfs_name(const struct lfs *fs)
{
	static const char *fat[] = { "fat12", "fat16", "fat32" };

	if (fs->kind == LFS_EXFAT)
		return ("exfat");
	if (fs->kind == LFS_FAT)
		return (fat[fs->fat->type == 12 ? 0 : fs->fat->type == 16 ? 1 :
		    2]);
	return ("none");
}

static void
lfs_close(struct lfs *fs)
{
	if (fs->ex != NULL)
		fmt_exfat_close(fs->ex);
	free(fs->ex);
	free(fs->fat);
	memset(fs, 0, sizeof(*fs));
}

/* ENOENT = neither FAT nor exFAT; other errors: damaged. */
static int
lfs_open(struct lfs *fs, struct ctr *c, struct diag *d)
{
	uint8_t boot[512];
	int error;

	memset(fs, 0, sizeof(*fs));
	if (c->size < sizeof(boot))
		return (ENOENT);
	if ((error = ctr_pread(c, boot, sizeof(boot), 0, d)) != 0)
		return (error);
	if (fmt_exfat_probe(boot, sizeof(boot))) {
		if ((fs->ex = calloc(1, sizeof(*fs->ex))) == NULL)
			return (diag_set(d, ENOMEM, "out of memory"));
		if ((error = fmt_exfat_open(fs->ex, &c->src,
		    &lr_libc_allocator, d)) != 0) {
			free(fs->ex);
			fs->ex = NULL;
			return (error);
		}
		fs->kind = LFS_EXFAT;
		fs->label = fs->ex->label;
		return (0);
	}
	if (fmt_fat_probe(boot, sizeof(boot))) {
		if ((fs->fat = calloc(1, sizeof(*fs->fat))) == NULL)
			return (diag_set(d, ENOMEM, "out of memory"));
		if ((error = fmt_fat_open(fs->fat, &c->src, d)) != 0) {
			free(fs->fat);
			fs->fat = NULL;
			return (error);
		}
		fs->kind = LFS_FAT;
		fs->label = fs->fat->label;
		return (0);
	}
	return (ENOENT);
}

/*
 * A file's runs (malloc'd) and size.  ENOENT when absent, EISDIR for a
 * directory, EINVAL for a file an exFAT driver would partly read as zeros.
 */
static int
lfs_file(struct lfs *fs, const char *path, struct fmt_extent **extp,
    size_t *np, uint64_t *sizep, struct diag *d)
{
	struct fmt_extent one[16], *ext = one;
	size_t n = 0;
	int error;

	*extp = NULL;
	*np = 0;
	if (fs->kind == LFS_EXFAT) {
		struct fmt_exfat_dirent *e = malloc(sizeof(*e));

		if (e == NULL)
			return (diag_set(d, ENOMEM, "out of memory"));
		if ((error = fmt_exfat_lookup(fs->ex, path, e, d)) != 0 ||
		    (e->is_dir && (error = diag_set(d, EISDIR, "%s is a "
		    "directory", path)) != 0) ||
		    (e->partial_valid && (error = diag_set(d, EINVAL, "%s: "
		    "only %ju of its %ju bytes were written (ValidDataLength)"
		    ": copy the file again", path, (uintmax_t)e->valid_size,
		    (uintmax_t)e->size)) != 0)) {
			free(e);
			return (error);
		}
		*sizep = e->size;
		error = fmt_exfat_extents(fs->ex, e, one, LR_NELEM(one), &n, d);
		if (error == ENOSPC) {
			if ((ext = calloc(n, sizeof(*ext))) == NULL)
				error = diag_set(d, ENOMEM, "out of memory");
			else
				error = fmt_exfat_extents(fs->ex, e, ext, n,
				    &n, d);
		}
		free(e);
	} else {
		struct fmt_fat_dirent *e = malloc(sizeof(*e));

		if (e == NULL)
			return (diag_set(d, ENOMEM, "out of memory"));
		if ((error = fmt_fat_lookup(fs->fat, path, e, d)) != 0 ||
		    (e->is_dir && (error = diag_set(d, EISDIR, "%s is a "
		    "directory", path)) != 0)) {
			free(e);
			return (error);
		}
		*sizep = e->size;
		error = fmt_fat_extents(fs->fat, e, one, LR_NELEM(one), &n, d);
		if (error == ENOSPC) {
			if ((ext = calloc(n, sizeof(*ext))) == NULL)
				error = diag_set(d, ENOMEM, "out of memory");
			else
				error = fmt_fat_extents(fs->fat, e, ext, n,
				    &n, d);
		}
		free(e);
	}
	if (error != 0) {
		if (ext != one)
			free(ext);
		return (error);
	}
	if (ext == one) {
		if ((ext = calloc(n ? n : 1, sizeof(*ext))) == NULL)
			return (diag_set(d, ENOMEM, "out of memory"));
		memcpy(ext, one, n * sizeof(*ext));
	}
	*extp = ext;
	*np = n;
	return (0);
}

/*
 * Breadth-first search of a FAT/exFAT volume for *.iso files, bounded in
 * depth, entries, directories and candidates.  Paths are collected first
 * (a listing callback may not list), then tried in order by the caller.
 */
struct qdir {
	char	*path;
	int	 depth;
	void	*ent;		/* a copy of the directory's dirent */
};

struct walk {
	struct qdir	*q;
	size_t		 qhead, qn, qcap;
	char		**isos;
	size_t		 nisos;
	size_t		 entries;
	int		 truncated;
	const char	*dir;
	int		 depth;
	size_t		 entsize;
	int		 nomem;
};

static int
has_iso_suffix(const char *name)
{
	size_t l = strlen(name);

	return (l > 4 && strcasecmp(name + l - 4, ".iso") == 0);
}

static char *
join(const char *dir, const char *name)
{
	size_t dl = strcmp(dir, "/") == 0 ? 0 : strlen(dir);
	size_t nl = strlen(name);
	char *p;

	if (dl + nl + 2 > LOC_PATHMAX || (p = malloc(dl + nl + 2)) == NULL)
		return (NULL);
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	return (p);
}

static int
walk_entry(struct walk *w, const char *name, int is_dir, const void *ent)
{
	if (++w->entries > LOC_MAXENTRIES) {
		w->truncated = 1;
		return (1);
	}
	if (is_dir) {
		struct qdir *q;

		if (w->depth + 1 >= LOC_MAXDEPTH || w->qn >= LOC_MAXDIRS) {
			w->truncated = 1;
			return (0);
		}
		if (w->qn == w->qcap) {
			size_t nc = w->qcap ? w->qcap * 2 : 32;

			if ((q = realloc(w->q, nc * sizeof(*q))) == NULL) {
				w->nomem = 1;
				return (1);
			}
			w->q = q;
			w->qcap = nc;
		}
		q = &w->q[w->qn];
		q->depth = w->depth + 1;
		q->path = join(w->dir, name);
		q->ent = malloc(w->entsize);
		if (q->path == NULL || q->ent == NULL) {
			free(q->path);
			free(q->ent);
			w->truncated = 1;
			return (0);
		}
		memcpy(q->ent, ent, w->entsize);
		w->qn++;
		return (0);
	}
	if (has_iso_suffix(name)) {
		char *p;

		if (w->nisos >= LOC_MAXISOS) {
			w->truncated = 1;
			return (1);
		}
		if ((p = join(w->dir, name)) == NULL)
			return (0);
		w->isos[w->nisos++] = p;
	}
	return (0);
}

static int
walk_fat_cb(void *arg, const struct fmt_fat_dirent *e)
{
	return (walk_entry(arg, e->name, e->is_dir, e));
}

static int
walk_exfat_cb(void *arg, const struct fmt_exfat_dirent *e)
{
	return (walk_entry(arg, e->name, e->is_dir, e));
}

static void
walk_free(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->qn; i++) {
		free(w->q[i].path);
		free(w->q[i].ent);
	}
	for (i = 0; i < w->nisos; i++)
		free(w->isos[i]);
	free(w->q);
	free(w->isos);
}

/* Errors of the listing itself end the walk with a note, not an error. */
static int
lfs_find_isos(struct lfs *fs, struct walk *w, struct diag *d)
{
	struct diag ld;
	int error = 0;

	memset(w, 0, sizeof(*w));
	if ((w->isos = calloc(LOC_MAXISOS, sizeof(char *))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	w->entsize = fs->kind == LFS_EXFAT ?
	    sizeof(struct fmt_exfat_dirent) : sizeof(struct fmt_fat_dirent);
	w->dir = "/";
	w->depth = 0;
	for (;;) {
		const void *dir = NULL;

		diag_clear(&ld);
		if (w->qhead > 0) {
			dir = w->q[w->qhead - 1].ent;
			w->dir = w->q[w->qhead - 1].path;
			w->depth = w->q[w->qhead - 1].depth;
		}
		if (fs->kind == LFS_EXFAT)
			error = fmt_exfat_list(fs->ex, dir, walk_exfat_cb, w,
			    &ld);
		else
			error = fmt_fat_list(fs->fat, dir, walk_fat_cb, w,
			    &ld);
		if (w->nomem)
			return (diag_set(d, ENOMEM, "out of memory"));
		if (error == EIO) {
			*d = ld;
			return (diag_default(d, EIO, "reading a directory"));
		}
		if (error != 0 && error != 1)
			w->truncated = 1;
		if (w->qhead >= w->qn || w->entries > LOC_MAXENTRIES)
			break;
		w->qhead++;
	}
	return (0);
}

/* --- ISO ----------------------------------------------------------------- */

/*
 * Looks for the image in the ISO held by c and fills r when it is there.
 * ENOENT (with *why) = not here: no ISO, another label, no image.
 */
static int
iso_try(struct lctx *x, struct ctr *c, const char *what, char *why,
    size_t whylen, struct diag *d)
{
	struct fmt_iso *iso = NULL;
	struct fmt_iso_dirent *ent = NULL;
	struct fmt_extent one[8], *ext = one;
	uint8_t *vd = NULL;
	const size_t vdlen = FMT_ISO_VDOFF + 8;
	struct locate_result *r = x->r;
	int error;

	why[0] = '\0';
	if (c->size < vdlen) {
		snprintf(why, whylen, "%s: too small for ISO 9660", what);
		return (ENOENT);
	}
	if ((vd = malloc(vdlen)) == NULL ||
	    (iso = calloc(1, sizeof(*iso))) == NULL ||
	    (ent = calloc(1, sizeof(*ent))) == NULL) {
		error = diag_set(d, ENOMEM, "out of memory");
		goto out;
	}
	if ((error = ctr_pread(c, vd, vdlen, 0, d)) != 0)
		goto out;
	if (!fmt_iso_probe(vd, vdlen)) {
		snprintf(why, whylen, "%s: no ISO 9660 at 0x8000", what);
		error = ENOENT;
		goto out;
	}
	if ((error = fmt_iso_open(iso, &c->src, 0, d)) != 0) {
		diag_prefix(d, "%s: ", what);
		goto out;
	}
	if (x->o->label != NULL && strcmp(x->o->label, iso->label) != 0) {
		snprintf(why, whylen, "%s: ISO label '%s' is not '%s'", what,
		    iso->label, x->o->label);
		error = ENOENT;
		goto out;
	}
	error = fmt_iso_lookup(iso, x->image, ent, one, LR_NELEM(one), d);
	if (error == ENOSPC) {
		if (ent->nextents == 0 ||
		    (ext = calloc(ent->nextents, sizeof(*ext))) == NULL) {
			error = diag_set(d, ENOMEM, "out of memory");
			goto out;
		}
		error = fmt_iso_lookup(iso, x->image, ent, ext,
		    ent->nextents, d);
	}
	if (error == ENOENT || error == ENOTDIR ||
	    (error == 0 && ent->is_dir)) {
		snprintf(why, whylen, "%s: ISO '%s' has no file %s", what,
		    iso->label, x->image);
		error = ENOENT;
		goto out;
	}
	if (error != 0) {
		diag_prefix(d, "%s: ISO '%s': ", what, iso->label);
		goto out;
	}
	if ((error = probe_compose(c->map, c->n, c->size, ext,
	    ent->nextents, ent->size, bdev_size(c->base), x->image, &r->ext,
	    &r->next, d)) != 0) {
		diag_prefix(d, "%s: ", what);
		goto out;
	}
	if ((r->iso_ext = calloc(c->n ? c->n : 1, sizeof(*r->iso_ext))) ==
	    NULL) {
		error = diag_set(d, ENOMEM, "out of memory");
		goto out;
	}
	memcpy(r->iso_ext, c->map, c->n * sizeof(*c->map));
	r->iso_next = c->n;
	r->iso_size = c->size;
	r->found = 1;
	r->image_size = ent->size;
	scopy(r->label, sizeof(r->label), iso->label);
	scopy(r->device, sizeof(r->device), x->path);
out:
	if (ext != one)
		free(ext);
	free(ent);
	free(iso);
	free(vd);
	return (error);
}

/* A file on a FAT/exFAT volume that should be an ISO holding the image. */
static int
iso_in_file(struct lctx *x, struct ctr *vol, struct lfs *fs, const char *path,
    char *why, size_t whylen, struct diag *d)
{
	struct fmt_extent *ext;
	struct ctr isoc;
	uint64_t size = 0;
	size_t n;
	int error;

	if ((error = lfs_file(fs, path, &ext, &n, &size, d)) != 0) {
		if (error == ENOENT || error == EISDIR || error == ENOTDIR) {
			snprintf(why, whylen, "no file %s on the %s volume "
			    "'%s'", path, lfs_name(fs), fs->label);
			return (ENOENT);
		}
		return (diag_prefix(d, "%s: ", path));
	}
	error = ctr_file(&isoc, vol, ext, n, size, path, d);
	free(ext);
	if (error != 0)
		return (error);
	error = iso_try(x, &isoc, path, why, whylen, d);
	ctr_fini(&isoc);
	return (error);
}

/* --- strategies ---------------------------------------------------------- */

static int
strat_local(struct lctx *x, struct diag *d)
{
	char why[512];
	size_t i;
	int error;

	error = iso_try(x, &x->whole, "whole device", why, sizeof(why), d);
	if (error == 0) {
		x->r->partition = 0;
		return (0);
	}
	if (error != ENOENT)
		return (error);
	if (strstr(why, "no ISO 9660") == NULL)
		note(x, "local: %s", why);
	if ((error = parts_load(x, d)) != 0)
		return (error);
	for (i = 0; i < x->nparts; i++) {
		const struct fmt_part *p = &x->parts[i];
		char what[32];
		struct ctr pc;

		if (p->start == 0)
			continue;	/* the whole device, done above */
		snprintf(what, sizeof(what), "partition %u", p->index);
		if ((error = ctr_slice(&pc, x->dev, p->start, p->length,
		    d)) != 0)
			return (error);
		error = iso_try(x, &pc, what, why, sizeof(why), d);
		ctr_fini(&pc);
		if (error == 0) {
			x->r->partition = (int)p->index;
			return (0);
		}
		if (error != ENOENT) {
			if (error == EIO || error == ENOMEM)
				return (error);
			note(x, "local: %s", d->msg);
			diag_clear(d);
		} else if (strstr(why, "no ISO 9660") == NULL)
			note(x, "local: %s", why);
	}
	return (ENOENT);
}

int
probe_ventoy_split(const void *buf, size_t len, struct fmt_ventoy_param *p,
    const uint8_t **paramp, const uint8_t **locp, size_t *loclenp,
    const char **formp, struct diag *d)
{
	const uint8_t *b = buf, *loc = NULL;
	size_t loclen = 0;
	int error;

	*paramp = NULL;
	if (len >= 4 && memcmp(b, "VTOY", 4) == 0) {
		*formp = "ACPI VTOY table";
		error = fmt_ventoy_acpi_decode(b, len, p, &loc, &loclen, d);
		*paramp = b + FMT_VENTOY_ACPI_HDR;
	} else if (len >= 4 + 16 && memcmp(b + 4, fmt_ventoy_guid, 16) == 0) {
		*formp = "EFI variable";
		error = fmt_ventoy_efivar_decode(b, len, p, d);
		*paramp = b + 4;
	} else if (len >= 16 && memcmp(b, fmt_ventoy_guid, 16) == 0) {
		*formp = "os_param";
		error = fmt_ventoy_param_decode(b, LR_MIN(len,
		    (size_t)FMT_VENTOY_PARAM_SIZE), p, d);
		*paramp = b;
		if (len > FMT_VENTOY_PARAM_SIZE) {
			loc = b + FMT_VENTOY_PARAM_SIZE;
			loclen = len - FMT_VENTOY_PARAM_SIZE;
		}
	} else {
		*formp = "unknown";
		return (diag_set(d, EINVAL, "not a Ventoy os_param, ACPI VTOY "
		    "table or VentoyOsParam EFI variable (no signature or "
		    "GUID where one of them has it)"));
	}
	if (error != 0)
		return (error);
	if (loclen == 0)
		loc = NULL;
	*locp = loc;
	*loclenp = loclen;
	return (0);
}

static int
ventoy_param(struct lctx *x, struct diag *d)
{
	const uint8_t *pb, *lb;
	struct fmt_ventoy_param p;
	struct fmt_extent one[16], *ext = one;
	struct fmt_ventoy_loc loc;
	uint8_t mbr[512];
	char why[512];
	const char *form;
	size_t n = 0, ll;
	int error;

	if ((error = probe_ventoy_split(x->o->ventoy_param,
	    x->o->ventoy_param_len, &p, &pb, &lb, &ll, &form, d)) != 0)
		return (diag_prefix(d, "Ventoy hand-over (%s): ", form));
	if (bdev_size(x->dev) < sizeof(mbr)) {
		note(x, "ventoy: device too small for an MBR");
		return (ENOENT);
	}
	if ((error = ctr_pread(&x->whole, mbr, sizeof(mbr), 0, d)) != 0)
		return (error);
	if (!fmt_ventoy_disk_match(&p, mbr, sizeof(mbr))) {
		note(x, "ventoy: os_param names another disk (signature "
		    "%08x, this one has %08x)", p.disk_signature,
		    lr_le32dec(mbr + 0x1b8));
		return (ENOENT);
	}
	scopy(x->r->iso_path, sizeof(x->r->iso_path), p.image_path);
	if (lb != NULL) {
		struct ctr isoc;

		error = fmt_ventoy_loc_decode(lb, ll, p.image_size,
		    bdev_size(x->dev), &loc, one, LR_NELEM(one), &n, d);
		if (error == ENOSPC) {
			if ((ext = calloc(n, sizeof(*ext))) == NULL)
				return (diag_set(d, ENOMEM, "out of memory"));
			error = fmt_ventoy_loc_decode(lb, ll, p.image_size,
			    bdev_size(x->dev), &loc, ext, n, &n, d);
		}
		if (error != 0) {
			if (ext != one)
				free(ext);
			return (diag_prefix(d, "Ventoy location list: "));
		}
		error = ctr_file(&isoc, &x->whole, ext, n, p.image_size,
		    p.image_path, d);
		if (ext != one)
			free(ext);
		if (error != 0)
			return (error);
		error = iso_try(x, &isoc, p.image_path, why, sizeof(why), d);
		ctr_fini(&isoc);
	} else {
		const struct fmt_part *pp;
		struct lfs fs;
		struct ctr pc;

		if ((error = parts_load(x, d)) != 0)
			return (error);
		if ((pp = part_by_index(x, p.part)) == NULL) {
			note(x, "ventoy: os_param names partition %u, which "
			    "this disk does not have", p.part);
			return (ENOENT);
		}
		if ((error = ctr_slice(&pc, x->dev, pp->start, pp->length,
		    d)) != 0)
			return (error);
		error = lfs_open(&fs, &pc, d);
		if (error == ENOENT) {
			ctr_fini(&pc);
			note(x, "ventoy: partition %u holds %s, which liveroot "
			    "cannot read without the location list", p.part,
			    fmt_ventoy_fs_name(p.fs));
			return (ENOENT);
		}
		if (error != 0) {
			ctr_fini(&pc);
			return (diag_prefix(d, "partition %u: ", p.part));
		}
		error = iso_in_file(x, &pc, &fs, p.image_path, why,
		    sizeof(why), d);
		lfs_close(&fs);
		ctr_fini(&pc);
		if (error == 0)
			x->r->partition = (int)p.part;
	}
	if (error == ENOENT)
		note(x, "ventoy: %s", why);
	return (error);
}

static int
ventoy_layout(struct lctx *x, struct diag *d)
{
	const struct fmt_part *p1, *p2;
	struct lfs fs, efi;
	struct ctr pc;
	struct walk w;
	char why[512];
	size_t i, tried = 0;
	int error, ok;

	if ((error = parts_load(x, d)) != 0)
		return (error);
	if ((p1 = part_by_index(x, 1)) == NULL ||
	    (p2 = part_by_index(x, 2)) == NULL)
		return (ENOENT);
	/* Partition 2 must be the FAT "VTOYEFI". */
	if (ctr_slice(&pc, x->dev, p2->start, p2->length, d) != 0) {
		diag_clear(d);
		return (ENOENT);
	}
	ok = lfs_open(&efi, &pc, d) == 0 && efi.kind == LFS_FAT &&
	    fmt_ventoy_is_vtoyefi(efi.fat);
	lfs_close(&efi);
	ctr_fini(&pc);
	diag_clear(d);
	if (!ok)
		return (ENOENT);
	if ((error = ctr_slice(&pc, x->dev, p1->start, p1->length, d)) != 0)
		return (error);
	if ((error = lfs_open(&fs, &pc, d)) != 0) {
		ctr_fini(&pc);
		if (error == EIO || error == ENOMEM)
			return (error);
		note(x, "ventoy: Ventoy layout, but partition 1 is not "
		    "readable exFAT/FAT%s%s", error == ENOENT ? "" : ": ",
		    error == ENOENT ? "" : d->msg);
		diag_clear(d);
		return (ENOENT);
	}
	if ((error = lfs_find_isos(&fs, &w, d)) != 0)
		goto out;
	error = ENOENT;
	for (i = 0; i < w.nisos; i++) {
		tried++;
		error = iso_in_file(x, &pc, &fs, w.isos[i], why, sizeof(why),
		    d);
		if (error == 0) {
			scopy(x->r->iso_path, sizeof(x->r->iso_path),
			    w.isos[i]);
			x->r->partition = (int)p1->index;
			break;
		}
		if (error == EIO || error == ENOMEM)
			break;
		if (error != ENOENT) {
			note(x, "ventoy: %s", d->msg);
			diag_clear(d);
			error = ENOENT;
		} else if (tried <= 4)
			note(x, "ventoy: %s", why);
	}
	if (error == ENOENT)
		note(x, "ventoy: Ventoy layout, %s volume '%s', %zu ISO "
		    "file(s)%s, none matched", lfs_name(&fs), fs.label,
		    w.nisos, w.truncated ? " (search bounded)" : "");
out:
	walk_free(&w);
	lfs_close(&fs);
	ctr_fini(&pc);
	return (error);
}

static int
strat_ventoy(struct lctx *x, struct diag *d)
{
	if (x->o->ventoy_param != NULL)
		return (ventoy_param(x, d));
	return (ventoy_layout(x, d));
}

static int
strat_findiso(struct lctx *x, struct diag *d)
{
	char why[512];
	size_t i, nvol;
	int error, any = 0;

	if (x->o->iso == NULL)
		return (ENOENT);
	if ((error = parts_load(x, d)) != 0)
		return (error);
	nvol = x->nparts > 0 ? x->nparts : 1;
	for (i = 0; i < nvol; i++) {
		struct lfs fs;
		struct ctr pc;
		int idx = x->nparts > 0 ? (int)x->parts[i].index : 0;

		if (x->nparts > 0)
			error = ctr_slice(&pc, x->dev, x->parts[i].start,
			    x->parts[i].length, d);
		else
			error = ctr_slice(&pc, x->dev, 0, bdev_size(x->dev),
			    d);
		if (error != 0)
			return (error);
		if ((error = lfs_open(&fs, &pc, d)) != 0) {
			ctr_fini(&pc);
			if (error == EIO || error == ENOMEM)
				return (error);
			if (error != ENOENT)
				note(x, "findiso: partition %d: %s", idx,
				    d->msg);
			diag_clear(d);
			continue;
		}
		any = 1;
		error = iso_in_file(x, &pc, &fs, x->o->iso, why, sizeof(why),
		    d);
		lfs_close(&fs);
		ctr_fini(&pc);
		if (error == 0) {
			scopy(x->r->iso_path, sizeof(x->r->iso_path),
			    x->o->iso);
			x->r->partition = idx;
			return (0);
		}
		if (error != ENOENT)
			return (error);
		note(x, "findiso: %s", why);
	}
	if (!any)
		note(x, "findiso: no FAT/exFAT volume");
	return (ENOENT);
}

/* --- entry points -------------------------------------------------------- */

void
locate_result_free(struct locate_result *r)
{
	if (r == NULL)
		return;
	free(r->ext);
	free(r->iso_ext);
	r->ext = NULL;
	r->iso_ext = NULL;
	r->next = 0;
	r->iso_next = 0;
}

static void
lctx_fini(struct lctx *x)
{
	if (x->whole.b != NULL)
		ctr_fini(&x->whole);
	free(x->pt);
	free(x->parts);
}

static void
result_reset(struct locate_result *r)
{
	locate_result_free(r);
	r->found = 0;
	r->strategy = NULL;
	r->label[0] = '\0';
	r->iso_path[0] = '\0';
	r->image_size = 0;
	r->partition = 0;
	r->iso_size = 0;
}

int
probe_locate_device(const char *path, struct bdev *dev,
    const struct locate_opts *o, struct locate_result *r, struct diag *d)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
		int		(*fn)(struct lctx *, struct diag *);
	} strat[] = {
		{ LOCATE_LOCAL, "local", strat_local },
		{ LOCATE_VENTOY, "ventoy", strat_ventoy },
		{ LOCATE_FINDISO, "findiso", strat_findiso },
	};
	struct lctx *x;
	struct diag ld;
	unsigned mask;
	size_t i;
	int error = 0;

	memset(r, 0, sizeof(*r));
	scopy(r->device, sizeof(r->device), path);
	if (d == NULL)
		d = &ld;
	diag_clear(d);
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	x->path = path;
	x->dev = dev;
	x->o = o;
	x->r = r;
	x->image = o->image != NULL ? o->image : LOCATE_DEFAULT_IMAGE;
	mask = o->strategies != 0 ? o->strategies :
	    (LOCATE_LOCAL | LOCATE_VENTOY | LOCATE_FINDISO);
	if (bdev_size(dev) == 0) {
		note(x, "empty device");
		goto notfound;
	}
	if ((error = ctr_slice(&x->whole, dev, 0, bdev_size(dev), d)) != 0)
		goto out;
	for (i = 0; i < LR_NELEM(strat); i++) {
		if ((mask & strat[i].bit) == 0)
			continue;
		error = strat[i].fn(x, d);
		if (error == 0) {
			r->strategy = strat[i].name;
			goto out;
		}
		if (error != ENOENT) {
			diag_prefix(d, "%s: %s: ", path, strat[i].name);
			result_reset(r);
			goto out;
		}
		diag_clear(d);
		result_reset(r);
	}
notfound:
	error = 0;
	{
		char desc[512];

		probe_describe_device(dev, desc, sizeof(desc));
		scopy(r->seen, sizeof(r->seen), desc);
		if (x->notes[0] != '\0' &&
		    strlen(r->seen) + 4 < sizeof(r->seen)) {
			strcat(r->seen, " | ");
			scopy(r->seen + strlen(r->seen), sizeof(r->seen) -
			    strlen(r->seen), x->notes);
		}
	}
out:
	lctx_fini(x);
	free(x);
	return (error);
}

/* --- describe ------------------------------------------------------------ */

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

/* What is in one container: "iso9660 'LABEL'", "exfat 'Ventoy'", "?". */
static void
describe_ctr(struct sbuf *s, struct ctr *c)
{
	uint8_t *vd;
	const size_t vdlen = FMT_ISO_VDOFF + 8;
	struct lfs fs;
	struct diag d;
	int error;

	if (c->size >= vdlen && (vd = malloc(vdlen)) != NULL) {
		if (ctr_pread(c, vd, vdlen, 0, NULL) == 0 &&
		    fmt_iso_probe(vd, vdlen)) {
			struct fmt_iso *iso = calloc(1, sizeof(*iso));

			if (iso != NULL && fmt_iso_open(iso, &c->src, 0,
			    NULL) == 0)
				sb_add(s, "iso9660 '%s'", iso->label);
			else
				sb_add(s, "iso9660 (damaged)");
			free(iso);
			free(vd);
			return;
		}
		free(vd);
	}
	diag_clear(&d);
	error = lfs_open(&fs, c, &d);
	if (error == 0) {
		sb_add(s, "%s '%s'", lfs_name(&fs), fs.label);
		if (fs.kind == LFS_FAT && fmt_ventoy_is_vtoyefi(fs.fat))
			sb_add(s, " [Ventoy EFI]");
		lfs_close(&fs);
	} else if (error == ENOENT)
		sb_add(s, "unknown fs");
	else
		sb_add(s, "damaged fs (%s)", d.msg);
}

int
probe_describe_device(struct bdev *dev, char *buf, size_t len)
{
	struct sbuf s = { buf, len, 0 };
	struct fmt_part_table *pt = NULL;
	struct fmt_part *parts = NULL;
	struct ctr whole;
	struct diag d;
	uint8_t sec[FMT_ISO_SECTOR];
	size_t i, n;
	int error, iso = 0;

	if (len == 0)
		return (EINVAL);
	buf[0] = '\0';
	sb_size(&s, bdev_size(dev));
	if (bdev_size(dev) == 0)
		return (0);
	if ((error = ctr_slice(&whole, dev, 0, bdev_size(dev), &d)) != 0) {
		sb_add(&s, "; %s", d.msg);
		return (error);
	}
	sb_add(&s, "; 0x8000: ");
	if (bdev_size(dev) >= FMT_ISO_VDOFF + sizeof(sec) &&
	    ctr_pread(&whole, sec, sizeof(sec), FMT_ISO_VDOFF, &d) == 0) {
		if (memcmp(sec + 1, "CD001", 5) == 0) {
			describe_ctr(&s, &whole);
			iso = 1;
		}
		else if (lr_is_zero(sec, sizeof(sec)))
			sb_add(&s, "zeros");
		else
			sb_add(&s, "no CD001");
	} else
		sb_add(&s, "unreadable or too small");
	pt = calloc(1, sizeof(*pt));
	parts = calloc(LOC_MAXPARTS, sizeof(*parts));
	if (pt == NULL || parts == NULL) {
		error = ENOMEM;
		goto out;
	}
	diag_clear(&d);
	error = fmt_part_open(&whole.src, pt, parts, LOC_MAXPARTS, &d);
	if (error == ENOENT) {
		sb_add(&s, "; no partition table");
		if (!iso) {
			sb_add(&s, "; whole device: ");
			describe_ctr(&s, &whole);
		}
		error = 0;
		goto out;
	}
	if (error != 0 && error != ENOSPC) {
		sb_add(&s, "; partition table damaged (%s)", d.msg);
		error = 0;
		goto out;
	}
	error = 0;
	n = LR_MIN(pt->nparts, LOC_MAXPARTS);
	sb_add(&s, "; %s%s, %u partition(s)", scheme_name(pt->scheme),
	    pt->gpt_backup_used ? " (backup header)" : "", pt->nparts);
	for (i = 0; i < n && i < 16; i++) {
		struct ctr pc;

		sb_add(&s, "; p%u ", parts[i].index);
		sb_size(&s, parts[i].length);
		sb_add(&s, " at %ju: ", (uintmax_t)parts[i].start);
		if (ctr_slice(&pc, dev, parts[i].start, parts[i].length,
		    &d) != 0) {
			sb_add(&s, "outside the device");
			continue;
		}
		describe_ctr(&s, &pc);
		ctr_fini(&pc);
	}
	if (n > 16)
		sb_add(&s, "; ...");
	if (pt->scheme == FMT_PART_MBR || pt->protective) {
		uint8_t mbr[512];

		if (ctr_pread(&whole, mbr, sizeof(mbr), 0, &d) == 0 &&
		    !lr_is_zero(mbr + 0x180, 16))
			sb_add(&s, "; MBR disk id %02x%02x%02x%02x... "
			    "signature %08x", mbr[0x180], mbr[0x181],
			    mbr[0x182], mbr[0x183], lr_le32dec(mbr + 0x1b8));
	}
out:
	free(pt);
	free(parts);
	ctr_fini(&whole);
	return (error);
}
