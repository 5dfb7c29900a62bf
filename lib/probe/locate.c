/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * locate.c - the device strategies of the probe chain: `local` (an ISO 9660
 * medium), `ventoy` (an ISO file on a Ventoy disk) and `findiso` (a named ISO
 * file on a FAT, exFAT, ext2/3/4 or NTFS volume: every format of the table's
 * PROBE_FS_FILES, read by liveroot itself, no kernel mount); a device that
 * holds nothing gets the inventory's one-line description.
 *
 * Everything is read through "containers": a run of bytes (the whole device,
 * a partition, a file on a partition, an ISO inside such a file) described by
 * its extent map onto the base device, read through an extmap bdev over that
 * device and the cached bdev_src adapter (the parsers read a directory entry
 * or a FAT sector at a time).  File systems are told and opened through the
 * format table (inventory.h).  Opening a file inside a container composes
 * its runs with the container's map (probe_compose), so the root image's map
 * is always one flat, validated list on the device the caller passed in,
 * however deep it was found (partition -> file on exFAT/FAT/ext4/NTFS ->
 * ISO file).  Nothing here names a file system: a new one is a row of the
 * format table (inventory.c).
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
#include <liveroot/fmt_fat.h>
#include <liveroot/fmt_iso9660.h>
#include <liveroot/fmt_part.h>
#include <liveroot/fmt_ventoy.h>
#include <liveroot/inventory.h>
#include <liveroot/locate.h>
#include <liveroot/util.h>

#define LOC_MAXPARTS	128
#define LOC_MAXDEPTH	8		/* directory levels searched for ISOs */
#define LOC_MAXENTRIES	200000		/* directory entries visited */
#define LOC_MAXDIRS	4096		/* directories queued */
#define LOC_MAXISOS	256		/* *.iso candidates tried */
#define LOC_PATHMAX	1024

/* --- containers -------------------------------------------------------- */

struct ctr {
	struct bdev		*base;		/* borrowed */
	struct bdev		*b;		/* extmap over base (own ref) */
	struct bdev_extent	*map;		/* container -> base, owned */
	size_t			 n;
	uint64_t		 size;
	struct bdev_src		 s;		/* the parsers read &s.src */
};

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
	bdev_src_init(&c->s, c->b, 1);
	return (0);
}

static void
ctr_fini(struct ctr *c)
{
	bdev_src_fini(&c->s);
	bdev_destroy(c->b);
	free(c->map);
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
	error = fmt_part_open(&x->whole.s.src, x->pt, x->parts, LOC_MAXPARTS,
	    &pd);
	if (error == 0 || error == ENOSPC)
		x->nparts = LR_MIN(x->pt->nparts, LOC_MAXPARTS);
	else if (error == EIO)
		return (diag_set(d, EIO, "%s: cannot read the partition "
		    "table: %s", x->path, pd.msg));
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

/* --- volumes that hold files --------------------------------------------- */

/* A volume of PROBE_FS_FILES; ENOENT = none of them, other errors: damaged. */
static int
lfs_open(struct probe_fs *fs, struct ctr *c, struct diag *d)
{
	return (probe_fs_open(fs, &c->s.src, PROBE_FS_FILES, d));
}

/*
 * Breadth-first search of such a volume for *.iso files, bounded in depth,
 * entries, directories and candidates.  Paths are collected first (a
 * listing callback may not list), then tried in order by the caller.
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
walk_cb(void *arg, const struct probe_fs_dirent *e)
{
	struct walk *w = arg;
	const char *name = e->name;

	if (++w->entries > LOC_MAXENTRIES) {
		w->truncated = 1;
		return (1);
	}
	if (e->is_dir) {
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
		q->ent = malloc(e->entsize);
		if (q->path == NULL || q->ent == NULL) {
			free(q->path);
			free(q->ent);
			w->truncated = 1;
			return (0);
		}
		memcpy(q->ent, e->ent, e->entsize);
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
lfs_find_isos(struct probe_fs *fs, struct walk *w, struct diag *d)
{
	struct diag ld;
	int error = 0;

	memset(w, 0, sizeof(*w));
	if ((w->isos = calloc(LOC_MAXISOS, sizeof(char *))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
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
		error = probe_fs_list(fs, dir, walk_cb, w, &ld);
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
/*
 * IMAGE.sig beside the image in the same ISO, when there is one and it
 * fits LOCATE_SIG_MAX: its text in r->sig (the boot checks it with the
 * initramfs' public key).  Anything wrong with it just leaves r->sig
 * empty: the check then says the signature is missing.
 */
static void
sig_beside(struct probe_fs *fs, const struct fmt_src *src, const char *image,
    struct locate_result *r)
{
	struct fmt_extent *ext = NULL;
	char path[300];
	uint64_t size = 0, got = 0;
	size_t n = 0, i;
	struct diag d;

	r->siglen = 0;
	if (snprintf(path, sizeof(path), "%s.sig", image) >=
	    (int)sizeof(path))
		return;
	diag_clear(&d);
	if (probe_fs_file(fs, path, &ext, &n, &size, &d) != 0)
		return;
	if (size == 0 || size >= sizeof(r->sig))
		goto out;
	for (i = 0; i < n && got < size; i++) {
		uint64_t len = ext[i].len < size - got ? ext[i].len :
		    size - got;

		if (fmt_src_read(src, r->sig + got, (size_t)len, ext[i].off,
		    &d) != 0)
			goto out;
		got += len;
	}
	if (got == size) {
		r->siglen = (size_t)size;
		r->sig[size] = '\0';
	}
out:
	free(ext);
}

static int
iso_try(struct lctx *x, struct ctr *c, const char *what, char *why,
    size_t whylen, struct diag *d)
{
	struct fmt_extent *ext = NULL;
	struct locate_result *r = x->r;
	struct probe_fs fs;
	uint64_t size = 0;
	size_t n = 0;
	int error;

	why[0] = '\0';
	if (c->size < FMT_ISO_VDOFF + 8) {
		snprintf(why, whylen, "%s: too small for ISO 9660", what);
		return (ENOENT);
	}
	error = probe_fs_open(&fs, &c->s.src, PROBE_FS_ISO9660, d);
	if (error == ENOENT && fs.kind == 0) {
		snprintf(why, whylen, "%s: no ISO 9660 at 0x8000", what);
		return (ENOENT);
	}
	if (error != 0) {
		if (fs.kind != 0)
			diag_prefix(d, "%s: ", what);
		return (error);
	}
	if (x->o->label != NULL && strcmp(x->o->label, fs.label) != 0) {
		snprintf(why, whylen, "%s: ISO label '%s' is not '%s'", what,
		    fs.label, x->o->label);
		error = ENOENT;
		goto out;
	}
	error = probe_fs_file(&fs, x->image, &ext, &n, &size, d);
	if (error == ENOENT || error == ENOTDIR || error == EISDIR) {
		snprintf(why, whylen, "%s: ISO '%s' has no file %s", what,
		    fs.label, x->image);
		error = ENOENT;
		goto out;
	}
	if (error != 0) {
		diag_prefix(d, "%s: ISO '%s': ", what, fs.label);
		goto out;
	}
	if ((error = probe_compose(c->map, c->n, c->size, ext, n, size,
	    bdev_size(c->base), x->image, &r->ext, &r->next, d)) != 0) {
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
	r->image_size = size;
	lr_scopy(r->label, sizeof(r->label), fs.label);
	lr_scopy(r->device, sizeof(r->device), x->path);
	sig_beside(&fs, &c->s.src, x->image, r);
out:
	free(ext);
	probe_fs_close(&fs);
	return (error);
}

/* A file on a volume of files that should be an ISO holding the image. */
static int
iso_in_file(struct lctx *x, struct ctr *vol, struct probe_fs *fs,
    const char *path, char *why, size_t whylen, struct diag *d)
{
	struct fmt_extent *ext;
	struct ctr isoc;
	uint64_t size = 0;
	size_t n;
	int error;

	if ((error = probe_fs_file(fs, path, &ext, &n, &size, d)) != 0) {
		if (error == ENOENT || error == EISDIR || error == ENOTDIR) {
			snprintf(why, whylen, "no file %s on the %s volume "
			    "'%s'", path, fs->name, fs->label);
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
	if ((error = fmt_src_read(&x->whole.s.src, mbr, sizeof(mbr), 0,
	    d)) != 0)
		return (error);
	if (!fmt_ventoy_disk_match(&p, mbr, sizeof(mbr))) {
		note(x, "ventoy: os_param names another disk (signature "
		    "%08x, this one has %08x)", p.disk_signature,
		    lr_le32dec(mbr + 0x1b8));
		return (ENOENT);
	}
	lr_scopy(x->r->iso_path, sizeof(x->r->iso_path), p.image_path);
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
		struct probe_fs fs;
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
		probe_fs_close(&fs);
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
	struct probe_fs fs, efi;
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
	ok = lfs_open(&efi, &pc, d) == 0 && efi.fat != NULL &&
	    fmt_ventoy_is_vtoyefi(efi.fat);
	probe_fs_close(&efi);
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
		note(x, "ventoy: Ventoy layout, but partition 1 is not a "
		    "readable file system%s%s", error == ENOENT ? "" : ": ",
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
			lr_scopy(x->r->iso_path, sizeof(x->r->iso_path),
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
		    "file(s)%s, none matched", fs.name, fs.label,
		    w.nisos, w.truncated ? " (search bounded)" : "");
out:
	walk_free(&w);
	probe_fs_close(&fs);
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
		struct probe_fs fs;
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
		probe_fs_close(&fs);
		ctr_fini(&pc);
		if (error == 0) {
			lr_scopy(x->r->iso_path, sizeof(x->r->iso_path),
			    x->o->iso);
			x->r->partition = idx;
			return (0);
		}
		if (error != ENOENT)
			return (error);
		note(x, "findiso: %s", why);
	}
	if (!any) {
		char kinds[128];

		probe_fs_kinds_str(PROBE_FS_FILES, kinds, sizeof(kinds));
		note(x, "findiso: no volume of the kinds it reads (%s)",
		    kinds);
	}
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
	lr_scopy(r->device, sizeof(r->device), path);
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
		lr_scopy(r->seen, sizeof(r->seen), desc);
		if (x->notes[0] != '\0' &&
		    strlen(r->seen) + 4 < sizeof(r->seen)) {
			strcat(r->seen, " | ");
			lr_scopy(r->seen + strlen(r->seen), sizeof(r->seen) -
			    strlen(r->seen), x->notes);
		}
	}
out:
	lctx_fini(x);
	free(x);
	return (error);
}
