/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iso9660.c - the ISO 9660 reader behind fmt_iso9660.h.
 *
 * Design: the medium is reached only through fmt_src_read(); one directory
 * sector at a time sits in iso->sec (tagged by its medium offset, so any
 * function may reuse the buffer and the directory iterator simply re-reads),
 * and SUSP continuation areas are read into iso->ce.  A directory iterator
 * is three integers (extent, size, position), so the walk keeps its whole
 * stack in the caller's struct and recursion never touches the C stack.
 *
 * Invariants: no value from the medium is used before it is bounded.  Every
 * record lies inside the valid part of its 2048-byte sector; the name lies
 * inside its record and the system-use area after it; every extent returned
 * or descended into lies inside the volume and the medium; directories are at
 * most FMT_ISO_MAXDIRSIZE bytes, so a multi-extent chain (bounded by its
 * directory) and every listing end; CE chains stop after FMT_ISO_MAXCE areas;
 * descending into a directory whose extent is an ancestor's is ELOOP, and so
 * is going deeper than FMT_ISO_MAXDEPTH or, in one walk, descending into
 * more directory bytes than the volume holds (shared directories).
 *
 * Locking: none; a struct fmt_iso belongs to one thread at a time.
 */
#include <liveroot/fmt_iso9660.h>
#include <liveroot/util.h>

/*
 * Where the fields are (ECMA-119; named as libarchive names them).  A
 * volume descriptor is one 2048-byte sector, the first at 0x8000:
 */
#define ISO_VD_TYPE		0	/* ISO_VD_PRIMARY, ... */
#define ISO_VD_ID		1	/* "CD001" */
#define ISO_VD_VERSION		6	/* 1 */
#define ISO_PVD_SYSTEM_ID	8	/* 32 bytes, space-padded */
#define ISO_PVD_VOLUME_ID	40	/* 32 bytes, space-padded: the label */
#define ISO_PVD_SPACE_SIZE	80	/* blocks: LE32, then BE32 */
#define ISO_SVD_ESCAPES		88	/* Joliet: "%/@", "%/C" or "%/E" */
#define ISO_PVD_BLOCK_SIZE	128	/* bytes: LE16, then BE16 */
#define ISO_PVD_ROOT_DR		156	/* the root's directory record */
#define ISO_VD_PRIMARY		1
#define ISO_VD_SUPPLEMENTARY	2
#define ISO_VD_END		255
#define ISO_VD_IDLEN		5

/* A directory record (its length at byte 0, ISO_DR_MIN at least): */
#define ISO_DR_LENGTH		0
#define ISO_DR_XAR_LENGTH	1	/* extended attribute record, blocks */
#define ISO_DR_EXTENT		2	/* first block: LE32, then BE32 */
#define ISO_DR_SIZE		10	/* bytes: LE32, then BE32 */
#define ISO_DR_FLAGS		25	/* ISO_FL_* */
#define ISO_DR_UNIT_SIZE	26	/* interleaved files only */
#define ISO_DR_GAP		27	/* interleaved files only */
#define ISO_DR_NAME_LEN		32
#define ISO_DR_NAME		33	/* then a pad byte if the length is
					   even, then the system-use area */
#define ISO_DR_MIN		34
#define ISO_FL_DIR		0x02
#define ISO_FL_ASSOC		0x04
#define ISO_FL_MULTI		0x80

/* A SUSP entry (Rock Ridge): two signature bytes, length, version, data. */
#define SUSP_SIG		0
#define SUSP_LEN		2
#define SUSP_HDR		4
#define SUSP_SP_CHECK		4	/* SP: 0xBE 0xEF */
#define SUSP_SP_SKIP		6	/* SP: LEN_SKP */
#define SUSP_SP_MIN		7
#define SUSP_CE_BLOCK		4	/* CE: LE32 block, offset, length, */
#define SUSP_CE_OFFSET		12	/*     each LE32 then BE32 */
#define SUSP_CE_LEN		20
#define SUSP_CE_MIN		28
#define SUSP_NM_FLAGS		4	/* NM: 0x02 ".", 0x04 ".." */
#define SUSP_NM_NAME		5
#define SUSP_CL_BLOCK		4	/* CL: the relocated directory */
#define SUSP_CL_MIN		12

/* What one Rock Ridge system-use walk found. */
struct iso_rr {
	size_t		namelen;
	bool		got_nm;
	bool		got_cl;
	bool		got_re;
	bool		got_sl;
	uint32_t	cl_lba;
};

/* An entry as the iterator returns it, with what only the reader needs. */
struct iso_ent {
	struct fmt_iso_dirent pub;
	uint64_t	dir_off;	/* directory extent, when pub.is_dir */
	uint64_t	dir_size;
	bool		hidden;		/* RR RE (seen via its CL); associated */
};

struct iso_it {
	uint64_t	off;
	uint64_t	size;
	uint64_t	pos;
};

static int
iso_tolower(int c)
{
	return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

static bool
iso_name_eq(const struct fmt_iso *iso, const char *a, const char *b,
    size_t blen)
{
	size_t i;

	for (i = 0; i < blen; i++) {
		if (a[i] == '\0')
			return (false);
		if (iso->names == FMT_ISO_NAMES_RR) {
			if (a[i] != b[i])
				return (false);
		} else if (iso_tolower((unsigned char)a[i]) !=
		    iso_tolower((unsigned char)b[i]))
			return (false);
	}
	return (a[blen] == '\0');
}

/* A component name: no '/' and no NUL inside. */
static bool
iso_name_ok(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == '\0')
			return (false);
	return (true);
}

/* Bring len (<= one sector) bytes at medium offset off into iso->sec. */
static int
iso_sector(struct fmt_iso *iso, uint64_t off, size_t len, struct diag *d)
{
	int error;

	if (iso->sec_off == off && iso->sec_len >= len)
		return (0);
	iso->sec_off = UINT64_MAX;
	if ((error = fmt_src_read(&iso->src, iso->sec, len, off, d)) != 0)
		return (error);
	iso->sec_off = off;
	iso->sec_len = len;
	return (0);
}

/*
 * Byte offset of an extent, checked against the volume and the medium.
 * what names the file for the message.
 */
static int
iso_extent(const struct fmt_iso *iso, uint32_t lba, uint8_t xar, uint64_t len,
    const char *what, uint64_t *offp, struct diag *d)
{
	uint64_t off = ((uint64_t)lba + xar) * iso->blksz;

	if (!lr_range_ok(off, len, iso->volsize))
		return (diag_set(d, EINVAL, "'%s': extent at block %u (%llu "
		    "bytes) runs past the end of the volume (%llu bytes): the "
		    "image is corrupt", what, lba, (unsigned long long)len,
		    (unsigned long long)iso->volsize));
	if (!lr_range_ok(off, len, iso->src.size))
		return (diag_set(d, EINVAL, "'%s': extent at block %u (%llu "
		    "bytes) runs past the end of the medium (%llu bytes): the "
		    "image is truncated, re-download it", what, lba,
		    (unsigned long long)len,
		    (unsigned long long)iso->src.size));
	*offp = off;
	return (0);
}

/* Append UTF-8 for code point c; false when it does not fit. */
static bool
iso_put_utf8(char *out, size_t *n, size_t max, uint32_t c)
{
	uint8_t b[4];
	size_t k, i;

	if (c < 0x80) {
		b[0] = (uint8_t)c;
		k = 1;
	} else if (c < 0x800) {
		b[0] = (uint8_t)(0xc0 | (c >> 6));
		b[1] = (uint8_t)(0x80 | (c & 0x3f));
		k = 2;
	} else if (c < 0x10000) {
		b[0] = (uint8_t)(0xe0 | (c >> 12));
		b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (c & 0x3f));
		k = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | (c >> 18));
		b[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (uint8_t)(0x80 | (c & 0x3f));
		k = 4;
	}
	if (*n + k > max)
		return (false);
	for (i = 0; i < k; i++)
		out[(*n)++] = (char)b[i];
	return (true);
}

/* Cut a ";N" version suffix (digits only after the last ';'). */
static void
iso_cut_version(char *name, size_t *n)
{
	size_t i = *n;

	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	if (i > 0 && name[i - 1] == ';')
		*n = i - 1;
}

static int
iso_name_plain(const uint8_t *p, size_t len, struct fmt_iso_dirent *ent,
    struct diag *d)
{
	size_t n = len;

	/* len <= 255 < sizeof(name) */
	memcpy(ent->name, p, len);
	iso_cut_version(ent->name, &n);
	if (n > 1 && ent->name[n - 1] == '.')
		n--;
	ent->name[n] = '\0';
	return (0);
}

static int
iso_name_joliet(const uint8_t *p, size_t len, struct fmt_iso_dirent *ent,
    struct diag *d)
{
	size_t i, n = 0;
	uint32_t c, c2;

	for (i = 0; i + 1 < len; i += 2) {
		c = lr_be16dec(p + i);
		if (c >= 0xd800 && c < 0xdc00 && i + 3 < len &&
		    (c2 = lr_be16dec(p + i + 2)) >= 0xdc00 && c2 < 0xe000) {
			c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
			i += 2;
		} else if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd;
		if (!iso_put_utf8(ent->name, &n, FMT_ISO_NAMEMAX, c))
			return (diag_set(d, EINVAL, "Joliet name too long"));
	}
	iso_cut_version(ent->name, &n);
	ent->name[n] = '\0';
	return (0);
}

/*
 * Walk one system-use area.  Records a CE continuation in *ce_* for the
 * caller; NM pieces are appended to ent->name.
 */
static int
iso_susp(const uint8_t *su, size_t sulen, struct fmt_iso_dirent *ent,
    struct iso_rr *rr, bool *ce, uint32_t *ce_lba, uint32_t *ce_off,
    uint32_t *ce_len, struct diag *d)
{
	size_t p = 0, len, k;
	uint8_t fl;

	while (p + SUSP_HDR <= sulen) {
		const uint8_t *e = su + p, *sig = e + SUSP_SIG;

		len = e[SUSP_LEN];
		if (len < SUSP_HDR || len > sulen - p)
			break;		/* padding or damage: stop, as Linux */
		if (sig[0] == 'S' && sig[1] == 'T')
			break;
		if (sig[0] == 'C' && sig[1] == 'E' && len >= SUSP_CE_MIN) {
			*ce = true;
			*ce_lba = lr_le32dec(e + SUSP_CE_BLOCK);
			*ce_off = lr_le32dec(e + SUSP_CE_OFFSET);
			*ce_len = lr_le32dec(e + SUSP_CE_LEN);
		} else if (sig[0] == 'N' && sig[1] == 'M' &&
		    len >= SUSP_NM_NAME) {
			fl = e[SUSP_NM_FLAGS];
			k = len - SUSP_NM_NAME;
			if (fl & 0x06) {
				/* CURRENT/PARENT: "." or "..", not a name */
				rr->got_nm = false;
				rr->namelen = 0;
			} else {
				if (rr->namelen + k > FMT_ISO_NAMEMAX)
					return (diag_set(d, EINVAL, "Rock "
					    "Ridge name longer than %d bytes",
					    FMT_ISO_NAMEMAX));
				memcpy(ent->name + rr->namelen, e +
				    SUSP_NM_NAME, k);
				rr->namelen += k;
				rr->got_nm = true;
			}
		} else if (sig[0] == 'C' && sig[1] == 'L' &&
		    len >= SUSP_CL_MIN) {
			rr->got_cl = true;
			rr->cl_lba = lr_le32dec(e + SUSP_CL_BLOCK);
		} else if (sig[0] == 'R' && sig[1] == 'E') {
			rr->got_re = true;
		} else if (sig[0] == 'S' && sig[1] == 'L') {
			rr->got_sl = true;
		}
		p += len;
	}
	return (0);
}

/* Rock Ridge for one record: its system-use area, then bounded CE areas. */
static int
iso_rr(struct fmt_iso *iso, const uint8_t *su, size_t sulen,
    struct fmt_iso_dirent *ent, struct iso_rr *rr, struct diag *d)
{
	bool ce = false;
	uint32_t ce_lba = 0, ce_off = 0, ce_len = 0;
	uint64_t off;
	int error, n;

	memset(rr, 0, sizeof(*rr));
	if ((error = iso_susp(su, sulen, ent, rr, &ce, &ce_lba, &ce_off,
	    &ce_len, d)) != 0)
		return (error);
	for (n = 0; ce; n++) {
		if (n == FMT_ISO_MAXCE)
			return (diag_set(d, EINVAL, "more than %d Rock Ridge "
			    "continuation areas", FMT_ISO_MAXCE));
		if (ce_len > iso->blksz || ce_off > iso->blksz - ce_len ||
		    ce_len > sizeof(iso->ce))
			return (diag_set(d, EINVAL, "Rock Ridge continuation "
			    "area (offset %u, %u bytes) does not fit in its "
			    "block", ce_off, ce_len));
		if ((error = iso_extent(iso, ce_lba, 0, iso->blksz,
		    "continuation area", &off, d)) != 0)
			return (error);
		if ((error = fmt_src_read(&iso->src, iso->ce, ce_len, off +
		    ce_off, d)) != 0)
			return (error);
		ce = false;
		if ((error = iso_susp(iso->ce, ce_len, ent, rr, &ce, &ce_lba,
		    &ce_off, &ce_len, d)) != 0)
			return (error);
	}
	return (0);
}

/*
 * The next raw record of a directory: *rec points into iso->sec and stays
 * valid until the next read.  *end at the end of the directory.
 */
static int
iso_rawnext(struct fmt_iso *iso, struct iso_it *it, const uint8_t **rec,
    size_t *reclen, bool *end, struct diag *d)
{
	uint64_t base, in, avail;
	size_t rl, nl;
	int error;

	*end = false;
	for (;;) {
		if (it->pos >= it->size) {
			*end = true;
			return (0);
		}
		base = it->pos & ~(uint64_t)(FMT_ISO_SECTOR - 1);
		in = it->pos - base;
		avail = LR_MIN((uint64_t)FMT_ISO_SECTOR, it->size - base);
		if ((error = iso_sector(iso, it->off + base, (size_t)avail,
		    d)) != 0)
			return (error);
		if (in >= avail || iso->sec[in + ISO_DR_LENGTH] == 0) {
			/* the rest of the sector is padding */
			it->pos = base + FMT_ISO_SECTOR;
			continue;
		}
		rl = iso->sec[in + ISO_DR_LENGTH];
		if (rl < ISO_DR_MIN || rl > avail - in)
			return (diag_set(d, EINVAL, "directory record at byte "
			    "%llu (%zu bytes) is too short or crosses its "
			    "sector", (unsigned long long)it->pos, rl));
		nl = iso->sec[in + ISO_DR_NAME_LEN];
		if (ISO_DR_NAME + nl > rl)
			return (diag_set(d, EINVAL, "directory record at byte "
			    "%llu: name of %zu bytes overruns the record",
			    (unsigned long long)it->pos, nl));
		*rec = iso->sec + in;
		*reclen = rl;
		it->pos += rl;
		return (0);
	}
}

/* Size of the directory at off, from its "." record (Rock Ridge CL). */
static int
iso_dot_size(struct fmt_iso *iso, uint64_t off, const char *what,
    uint64_t *size, struct diag *d)
{
	struct iso_it it = { off, FMT_ISO_SECTOR, 0 };
	const uint8_t *rec;
	size_t rl;
	bool end;
	int error;

	if ((error = iso_rawnext(iso, &it, &rec, &rl, &end, d)) != 0)
		return (error);
	if (end || rec[ISO_DR_NAME_LEN] != 1 || rec[ISO_DR_NAME] != 0)
		return (diag_set(d, EINVAL, "'%s': relocated directory has no "
		    "'.' record", what));
	*size = lr_le32dec(rec + ISO_DR_SIZE);
	return (0);
}

static int
iso_check_dir(const struct fmt_iso *iso, uint64_t size, const char *what,
    struct diag *d)
{
	if (size > FMT_ISO_MAXDIRSIZE)
		return (diag_set(d, EINVAL, "directory '%s' claims %llu bytes "
		    "(limit %u): the image is corrupt", what,
		    (unsigned long long)size, FMT_ISO_MAXDIRSIZE));
	return (0);
}

/*
 * The next entry of a directory, a multi-extent chain folded into one.
 * Extents go to ext[0..cap); ent->pub.nextents counts all of them.
 */
static int
iso_next(struct fmt_iso *iso, struct iso_it *it, struct iso_ent *ent,
    struct fmt_extent *ext, size_t cap, bool *end, struct diag *d)
{
	char plain[FMT_ISO_NAMEMAX + 1];
	const uint8_t *rec;
	struct iso_rr rr;
	size_t rl, nl, su;
	uint64_t off, len, total;
	uint32_t lba, cl_lba = 0;
	uint8_t fl, xar;
	bool cl = false;
	int error;

	memset(ent, 0, sizeof(*ent));
	for (;;) {
		if ((error = iso_rawnext(iso, it, &rec, &rl, end, d)) != 0)
			return (error);
		if (*end)
			return (0);
		if (rec[ISO_DR_NAME_LEN] == 1 && (rec[ISO_DR_NAME] == 0 ||
		    rec[ISO_DR_NAME] == 1))
			continue;	/* "." and ".." */
		break;
	}
	nl = rec[ISO_DR_NAME_LEN];
	fl = rec[ISO_DR_FLAGS];
	if (nl == 0)
		return (diag_set(d, EINVAL, "directory record at byte %llu has "
		    "an empty name", (unsigned long long)(it->pos - rl)));
	/* name first, so later messages can name the file */
	if (iso->names == FMT_ISO_NAMES_JOLIET)
		error = iso_name_joliet(rec + ISO_DR_NAME, nl, &ent->pub, d);
	else
		error = iso_name_plain(rec + ISO_DR_NAME, nl, &ent->pub, d);
	if (error != 0)
		return (error);
	if (iso->names == FMT_ISO_NAMES_RR) {
		su = ISO_DR_NAME + nl + ((nl & 1) == 0) + iso->rr_skip;
		memcpy(plain, ent->pub.name, sizeof(plain));
		if ((error = iso_rr(iso, rec + LR_MIN(su, rl), rl -
		    LR_MIN(su, rl), &ent->pub, &rr, d)) != 0) {
			diag_prefix(d, "'%s': ", plain);
			return (error);	/* d may be NULL */
		}
		/* rec stays valid: iso_rr reads only into iso->ce */
		if (rr.got_nm) {
			if (!iso_name_ok(ent->pub.name, rr.namelen))
				return (diag_set(d, EINVAL, "'%s': Rock Ridge "
				    "name contains '/' or NUL", plain));
			ent->pub.name[rr.namelen] = '\0';
		} else
			memcpy(ent->pub.name, plain, sizeof(plain));
		ent->hidden = rr.got_re;
		ent->pub.is_symlink = rr.got_sl;
		cl = rr.got_cl;
		cl_lba = rr.cl_lba;
	}
	if (strchr(ent->pub.name, '/') != NULL)
		return (diag_set(d, EINVAL, "'%s': name contains '/'",
		    ent->pub.name));
	if (fl & ISO_FL_ASSOC)
		ent->hidden = true;	/* associated file (resource fork) */
	if (rec[ISO_DR_UNIT_SIZE] != 0 || rec[ISO_DR_GAP] != 0)
		return (diag_set(d, ENOTSUP, "'%s': interleaved file (unit "
		    "%u, gap %u) is not supported", ent->pub.name,
		    rec[ISO_DR_UNIT_SIZE], rec[ISO_DR_GAP]));
	ent->pub.is_dir = (fl & ISO_FL_DIR) != 0 || cl;
	if (ent->pub.is_dir && (fl & ISO_FL_MULTI))
		return (diag_set(d, EINVAL, "'%s': a directory cannot be "
		    "multi-extent: the image is corrupt", ent->pub.name));
	lba = lr_le32dec(rec + ISO_DR_EXTENT);
	len = lr_le32dec(rec + ISO_DR_SIZE);
	xar = rec[ISO_DR_XAR_LENGTH];
	if (cl) {
		if ((error = iso_extent(iso, cl_lba, 0, FMT_ISO_SECTOR,
		    ent->pub.name, &off, d)) != 0)
			return (error);
		if ((error = iso_dot_size(iso, off, ent->pub.name, &len,
		    d)) != 0)
			return (error);
	} else if ((error = iso_extent(iso, lba, xar, len, ent->pub.name,
	    &off, d)) != 0)
		return (error);
	if (ent->pub.is_dir) {
		if ((error = iso_check_dir(iso, len, ent->pub.name, d)) != 0)
			return (error);
		if (cl && (error = iso_extent(iso, cl_lba, 0, len,
		    ent->pub.name, &off, d)) != 0)
			return (error);
		ent->dir_off = off;
		ent->dir_size = len;
	}
	ent->pub.off = off;
	ent->pub.size = len;
	ent->pub.nextents = 1;
	if (cap > 0) {
		ext[0].off = off;
		ext[0].len = len;
	}
	total = len;
	while (fl & ISO_FL_MULTI) {
		if ((error = iso_rawnext(iso, it, &rec, &rl, end, d)) != 0)
			return (error);
		if (*end)
			return (diag_set(d, EINVAL, "'%s': multi-extent chain "
			    "does not end before its directory does: the image "
			    "is corrupt", ent->pub.name));
		fl = rec[ISO_DR_FLAGS];
		if (fl & ISO_FL_DIR)
			return (diag_set(d, EINVAL, "'%s': multi-extent chain "
			    "continues into a directory", ent->pub.name));
		lba = lr_le32dec(rec + ISO_DR_EXTENT);
		len = lr_le32dec(rec + ISO_DR_SIZE);
		if ((error = iso_extent(iso, lba, rec[ISO_DR_XAR_LENGTH], len,
		    ent->pub.name, &off, d)) != 0)
			return (error);
		if (lr_add_overflow(total, len, &total))
			return (diag_set(d, EINVAL, "'%s': size overflows",
			    ent->pub.name));
		if (ent->pub.nextents < cap) {
			ext[ent->pub.nextents].off = off;
			ext[ent->pub.nextents].len = len;
		}
		ent->pub.nextents++;
	}
	ent->pub.size = total;
	*end = false;
	return (0);
}

static bool
iso_is_ancestor(const struct fmt_iso_level *st, int depth, uint64_t off)
{
	int i;

	for (i = 0; i <= depth; i++)
		if (st[i].off == off)
			return (true);
	return (false);
}

/*
 * Resolve path.  On success *out is the entry (the root: an empty name).
 * ancestors receive the directory extents from the root down (lookup-local).
 */
static int
iso_resolve(struct fmt_iso *iso, const char *path, struct iso_ent *out,
    struct fmt_extent *ext, size_t cap, struct diag *d)
{
	uint64_t anc[FMT_ISO_MAXDEPTH];
	struct iso_it it;
	struct iso_ent ent;
	const char *p = path, *c;
	size_t clen;
	int depth = 0, i, error;
	bool end, found;

	memset(out, 0, sizeof(*out));
	out->pub.is_dir = true;
	out->pub.off = out->dir_off = iso->root_off;
	out->pub.size = out->dir_size = iso->root_size;
	out->pub.nextents = 1;
	if (cap > 0) {
		ext[0].off = iso->root_off;
		ext[0].len = iso->root_size;
	}
	anc[0] = iso->root_off;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			return (0);
		c = p;
		while (*p != '\0' && *p != '/')
			p++;
		clen = (size_t)(p - c);
		if (clen == 1 && c[0] == '.')
			continue;
		if (!out->pub.is_dir)
			return (diag_set(d, ENOTDIR, "'%.*s' in '%s' is not a "
			    "directory", (int)(c - path), path, path));
		if (clen == 2 && c[0] == '.' && c[1] == '.')
			return (diag_set(d, EINVAL, "'%s': '..' is not "
			    "supported in ISO paths", path));
		if (clen > FMT_ISO_NAMEMAX)
			return (diag_set(d, ENOENT, "'%s': no such file (name "
			    "too long)", path));
		it.off = out->dir_off;
		it.size = out->dir_size;
		it.pos = 0;
		found = false;
		for (;;) {
			if ((error = iso_next(iso, &it, &ent, ext, cap, &end,
			    d)) != 0) {
				diag_prefix(d, "%.*s: ", (int)(c - path),
				    path);
				return (error);
			}
			if (end)
				break;
			if (!ent.hidden && iso_name_eq(iso, ent.pub.name, c,
			    clen)) {
				found = true;
				break;
			}
		}
		if (!found)
			return (diag_set(d, ENOENT, "'%s': no '%.*s' in "
			    "directory '%.*s'", path, (int)clen, c,
			    (int)(c - path), path));
		if (ent.pub.is_dir) {
			for (i = 0; i <= depth; i++)
				if (anc[i] == ent.dir_off)
					return (diag_set(d, ELOOP, "'%s': "
					    "directory '%.*s' contains itself "
					    "(a directory cycle): the image is "
					    "corrupt or hostile", path,
					    (int)(p - path), path));
			if (depth + 1 >= FMT_ISO_MAXDEPTH)
				return (diag_set(d, ELOOP, "'%s': deeper than "
				    "%d directories", path, FMT_ISO_MAXDEPTH));
			anc[++depth] = ent.dir_off;
		}
		*out = ent;
	}
}

bool
fmt_iso_probe(const void *buf, size_t len)
{
	const uint8_t *b = buf;

	if (len < FMT_ISO_VDOFF + 7)
		return (false);
	b += FMT_ISO_VDOFF;
	return (memcmp(b + ISO_VD_ID, "CD001", ISO_VD_IDLEN) == 0 &&
	    b[ISO_VD_VERSION] == 1 && (b[ISO_VD_TYPE] <= 3 ||
	    b[ISO_VD_TYPE] == ISO_VD_END));
}

static int
iso_root(struct fmt_iso *iso, const uint8_t *vd, const char *what,
    uint64_t *off, uint64_t *size, struct diag *d)
{
	const uint8_t *r = vd + ISO_PVD_ROOT_DR;
	int error;

	if (r[ISO_DR_LENGTH] != ISO_DR_MIN ||
	    (r[ISO_DR_FLAGS] & ISO_FL_DIR) == 0)
		return (diag_set(d, EINVAL, "%s: root directory record is "
		    "malformed: the image is corrupt", what));
	*size = lr_le32dec(r + ISO_DR_SIZE);
	if ((error = iso_check_dir(iso, *size, "/", d)) != 0)
		return (error);
	if (*size < ISO_DR_MIN)
		return (diag_set(d, EINVAL, "%s: root directory of %llu bytes "
		    "is too small", what, (unsigned long long)*size));
	return (iso_extent(iso, lr_le32dec(r + ISO_DR_EXTENT),
	    r[ISO_DR_XAR_LENGTH], *size, "/", off, d));
}

/*
 * A descriptor text field: trailing spaces cut, ended at a NUL, and control
 * bytes (a hostile label's terminal escapes: labels get printed) made '_'.
 */
static void
iso_strfield(char *out, const uint8_t *p, size_t len)
{
	size_t n = len, i;

	memcpy(out, p, len);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
		n--;
	for (i = 0; i < n; i++) {
		if (out[i] == '\0')
			n = i;
		else if ((uint8_t)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '_';
	}
	out[n] = '\0';
}

/* The escape sequences of a Joliet descriptor (UCS-2 levels 1 to 3). */
static bool
iso_is_joliet(const uint8_t *esc)
{
	return (esc[0] == '%' && esc[1] == '/' &&
	    (esc[2] == '@' || esc[2] == 'C' || esc[2] == 'E'));
}

int
fmt_iso_open(struct fmt_iso *iso, const struct fmt_src *src, int flags,
    struct diag *d)
{
	const uint8_t *sp;
	uint8_t *vd;
	uint64_t off, blocks;
	uint32_t bs;
	bool pvd = false;
	int i, error;

	memset(iso, 0, sizeof(*iso));
	iso->src = *src;
	iso->sec_off = UINT64_MAX;
	vd = iso->sec;
	for (i = 0;; i++) {
		if (i == FMT_ISO_MAXVD)
			return (diag_set(d, EINVAL, "more than %d volume "
			    "descriptors without a terminator: not an ISO 9660 "
			    "image, or a corrupt one", FMT_ISO_MAXVD));
		off = FMT_ISO_VDOFF + (uint64_t)i * FMT_ISO_SECTOR;
		if (!lr_range_ok(off, FMT_ISO_SECTOR, src->size))
			return (diag_set(d, EINVAL, i == 0 ? "no ISO 9660 "
			    "volume descriptor: the medium is too small" :
			    "volume descriptor set runs past the end of the "
			    "medium: the image is truncated"));
		if ((error = iso_sector(iso, off, FMT_ISO_SECTOR, d)) != 0)
			return (error);
		if (memcmp(vd + ISO_VD_ID, "CD001", ISO_VD_IDLEN) != 0 ||
		    vd[ISO_VD_VERSION] != 1)
			return (diag_set(d, EINVAL, i == 0 ? "no ISO 9660 "
			    "signature (CD001) at offset 0x8000" : "volume "
			    "descriptor %d has no CD001 signature and no "
			    "terminator came before it: the image is corrupt",
			    i));
		if (vd[ISO_VD_TYPE] == ISO_VD_END)
			break;
		if (vd[ISO_VD_TYPE] == ISO_VD_PRIMARY && !pvd) {
			blocks = lr_le32dec(vd + ISO_PVD_SPACE_SIZE);
			bs = lr_le16dec(vd + ISO_PVD_BLOCK_SIZE);
			if (blocks != lr_be32dec(vd + ISO_PVD_SPACE_SIZE + 4) ||
			    bs != lr_be16dec(vd + ISO_PVD_BLOCK_SIZE + 2))
				return (diag_set(d, EINVAL, "primary volume "
				    "descriptor: both-endian fields disagree: "
				    "the image is corrupt"));
			if (bs != 512 && bs != 1024 && bs != 2048)
				return (diag_set(d, EINVAL, "primary volume "
				    "descriptor: logical block size %u is not "
				    "512, 1024 or 2048", bs));
			iso->blksz = bs;
			iso->volsize = blocks * bs;
			iso_strfield(iso->label, vd + ISO_PVD_VOLUME_ID, 32);
			iso_strfield(iso->system_id, vd + ISO_PVD_SYSTEM_ID,
			    32);
			if ((error = iso_root(iso, vd, "primary volume "
			    "descriptor", &iso->pvd_root_off,
			    &iso->pvd_root_size, d)) != 0)
				return (error);
			pvd = true;
		} else if (vd[ISO_VD_TYPE] == ISO_VD_SUPPLEMENTARY && pvd &&
		    !iso->has_joliet && iso_is_joliet(vd + ISO_SVD_ESCAPES) &&
		    lr_le16dec(vd + ISO_PVD_BLOCK_SIZE) == iso->blksz) {
			/* a broken Joliet tree is ignored, not fatal */
			if (iso_root(iso, vd, "Joliet descriptor",
			    &iso->svd_root_off, &iso->svd_root_size,
			    NULL) == 0)
				iso->has_joliet = true;
		}
	}
	if (!pvd)
		return (diag_set(d, EINVAL, "no primary volume descriptor: "
		    "the image is corrupt"));
	/* Rock Ridge: SUSP "SP" in the root's "." record */
	if ((error = iso_sector(iso, iso->pvd_root_off, FMT_ISO_SECTOR,
	    d)) != 0)
		return (error);
	sp = iso->sec + ISO_DR_MIN;	/* after the name "\0" of "." */
	if (iso->sec[ISO_DR_LENGTH] >= ISO_DR_MIN + SUSP_SP_MIN &&
	    iso->sec[ISO_DR_NAME_LEN] == 1 && iso->sec[ISO_DR_NAME] == 0 &&
	    sp[SUSP_SIG] == 'S' && sp[SUSP_SIG + 1] == 'P' &&
	    sp[SUSP_LEN] >= SUSP_SP_MIN && sp[SUSP_SP_CHECK] == 0xbe &&
	    sp[SUSP_SP_CHECK + 1] == 0xef) {
		iso->has_rr = true;
		iso->rr_skip = sp[SUSP_SP_SKIP];
	}
	if (iso->has_rr && !(flags & FMT_ISO_NORR)) {
		iso->names = FMT_ISO_NAMES_RR;
		iso->root_off = iso->pvd_root_off;
		iso->root_size = iso->pvd_root_size;
	} else if (iso->has_joliet && !(flags & FMT_ISO_NOJOLIET)) {
		iso->names = FMT_ISO_NAMES_JOLIET;
		iso->root_off = iso->svd_root_off;
		iso->root_size = iso->svd_root_size;
	} else {
		iso->names = FMT_ISO_NAMES_PLAIN;
		iso->root_off = iso->pvd_root_off;
		iso->root_size = iso->pvd_root_size;
	}
	return (0);
}

int
fmt_iso_lookup(struct fmt_iso *iso, const char *path,
    struct fmt_iso_dirent *ent, struct fmt_extent *ext, size_t cap,
    struct diag *d)
{
	struct iso_ent e;
	int error;

	if (ext == NULL)
		cap = 0;
	error = iso_resolve(iso, path, &e, ext, cap, d);
	if (error != 0)
		return (error);
	*ent = e.pub;
	if (ext != NULL && !ent->is_dir && ent->nextents > cap)
		return (diag_set(d, ENOSPC, "'%s' has %u extents, room for %zu",
		    path, ent->nextents, cap));
	return (0);
}

/* Append "/name" to iso->path at len; ENAMETOOLONG when it does not fit. */
static int
iso_path_put(struct fmt_iso *iso, size_t len, const char *name, size_t *out,
    struct diag *d)
{
	size_t n = strlen(name);

	if (len + 1 + n + 1 > sizeof(iso->path))
		return (diag_set(d, ENAMETOOLONG, "'%s/%s': path longer than "
		    "%d bytes", iso->path, name, FMT_ISO_PATHMAX));
	iso->path[len] = '/';
	memcpy(iso->path + len + 1, name, n + 1);
	*out = len + 1 + n;
	return (0);
}

static int
iso_list(struct fmt_iso *iso, const char *dirpath, bool recurse,
    fmt_iso_list_fn fn, void *arg, struct diag *d)
{
	struct fmt_iso_level *top;
	struct iso_it it;
	struct iso_ent e;
	size_t plen = 0, n;
	uint64_t budget = LR_MIN(iso->volsize, iso->src.size), span;
	int depth = 0, error;
	bool end;

	if ((error = iso_resolve(iso, dirpath, &e, NULL, 0, d)) != 0)
		return (error);
	if (!e.pub.is_dir)
		return (diag_set(d, ENOTDIR, "'%s' is not a directory",
		    dirpath));
	/* walk paths are "/dir/name" however dirpath was spelt */
	while (*dirpath == '/')
		dirpath++;
	n = strlen(dirpath);
	while (n > 0 && dirpath[n - 1] == '/')
		n--;
	if (n + 2 >= sizeof(iso->path))
		return (diag_set(d, ENAMETOOLONG, "'%s': path too long",
		    dirpath));
	if (n > 0) {
		iso->path[0] = '/';
		memcpy(iso->path + 1, dirpath, n);
		n++;
	}
	iso->path[n] = '\0';
	iso->stack[0].off = e.dir_off;
	iso->stack[0].size = e.dir_size;
	iso->stack[0].pos = 0;
	iso->stack[0].pathlen = n;
	while (depth >= 0) {
		top = &iso->stack[depth];
		it.off = top->off;
		it.size = top->size;
		it.pos = top->pos;
		error = iso_next(iso, &it, &e, NULL, 0, &end, d);
		top->pos = it.pos;
		if (error != 0) {
			iso->path[top->pathlen] = '\0';
			diag_prefix(d, "%s/: ", iso->path);
			return (error);
		}
		if (end) {
			depth--;
			continue;
		}
		if (e.hidden)
			continue;
		if (recurse) {
			if ((error = iso_path_put(iso, top->pathlen,
			    e.pub.name, &plen, d)) != 0)
				return (error);
			error = fn(arg, iso->path, &e.pub);
		} else
			error = fn(arg, e.pub.name, &e.pub);
		if (error != 0)
			return (error);
		if (!recurse || !e.pub.is_dir)
			continue;
		if (iso_is_ancestor(iso->stack, depth, e.dir_off))
			return (diag_set(d, ELOOP, "'%s': directory contains "
			    "itself (a directory cycle): the image is corrupt "
			    "or hostile", iso->path));
		if (depth + 1 >= FMT_ISO_MAXDEPTH)
			return (diag_set(d, ELOOP, "'%s': deeper than %d "
			    "directories", iso->path, FMT_ISO_MAXDEPTH));
		/*
		 * Directories own their sectors, so one walk cannot visit
		 * more directory sectors than the volume (and the medium:
		 * the descriptor may claim 8 TB) holds; directories
		 * shared without a cycle (a DAG) would otherwise make the
		 * walk exponential.
		 */
		span = lr_div_roundup(LR_MAX(e.dir_size, 1), FMT_ISO_SECTOR) *
		    FMT_ISO_SECTOR;
		if (span > budget)
			return (diag_set(d, ELOOP, "'%s': the walk has visited "
			    "more directory bytes than the volume holds "
			    "(directories are shared): the image is corrupt or "
			    "hostile", iso->path));
		budget -= span;
		depth++;
		iso->stack[depth].off = e.dir_off;
		iso->stack[depth].size = e.dir_size;
		iso->stack[depth].pos = 0;
		iso->stack[depth].pathlen = plen;
	}
	return (0);
}

int
fmt_iso_list(struct fmt_iso *iso, const char *dirpath, fmt_iso_list_fn fn,
    void *arg, struct diag *d)
{
	return (iso_list(iso, dirpath, false, fn, arg, d));
}

int
fmt_iso_walk(struct fmt_iso *iso, const char *dirpath, fmt_iso_list_fn fn,
    void *arg, struct diag *d)
{
	return (iso_list(iso, dirpath, true, fn, arg, d));
}

int
fmt_iso_read_extents(const struct fmt_src *src, const struct fmt_extent *ext,
    size_t n, void *buf, size_t len, uint64_t pos, struct diag *d)
{
	uint8_t *out = buf;
	uint64_t at = 0, skip, k;
	size_t i;
	int error;

	for (i = 0; i < n && len > 0; i++) {
		if (pos >= at + ext[i].len) {
			at += ext[i].len;
			continue;
		}
		skip = pos - at;
		k = LR_MIN(ext[i].len - skip, (uint64_t)len);
		if (lr_add_overflow(ext[i].off, skip, &at) ||
		    !lr_range_ok(at, k, src->size))
			return (diag_set(d, EINVAL, "extent %zu lies past the "
			    "end of the medium", i));
		if ((error = fmt_src_read(src, out, (size_t)k, at, d)) != 0)
			return (error);
		out += k;
		len -= (size_t)k;
		pos += k;
		at = pos;
	}
	if (len > 0)
		return (diag_set(d, EINVAL, "read of %zu bytes past the end of "
		    "the file", len));
	return (0);
}
