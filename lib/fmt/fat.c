/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fat.c - read-only FAT12/16/32 (fmt_fat.h).
 *
 * Everything is read through the caller's callback; the only state kept is
 * the geometry from the BPB and one 512-byte cached block (directory entries
 * and FAT entries are read through it; a FAT12 entry that straddles two
 * blocks is read in two steps).  Invariants once fmt_fat_open() succeeded:
 * every region (FATs, fixed root, nclusters clusters) lies inside both the
 * volume and the medium, so any cluster number in 2..nclusters+1 maps to a
 * readable byte range without further overflow checks; every chain walk
 * counts its steps and stops with ELOOP beyond nclusters.  No locking: one
 * thread per struct fmt_fat.
 */
#include <liveroot/fmt_fat.h>
#include <liveroot/util.h>

#include "fmt_text.h"

#define FAT_BLK		512u
#define FAT_DENT	32u
#define FAT_LFN_MAX	20	/* LFN entries of one name (20 * 13 >= 255) */

struct fat_dirpos {
	const struct fmt_fat_dirent *dir;	/* NULL: the root */
	bool		fixed;		/* FAT12/16 root: one run */
	uint32_t	clu;		/* current cluster (chain dirs) */
	uint64_t	steps;		/* clusters walked */
	uint64_t	idx;		/* entry index in the cluster/run */
	uint64_t	per;		/* entries per cluster / run */
};

/* Through the one-block cache, unless the read crosses a block. */
static int
fat_readat(struct fmt_fat *fs, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	uint64_t blk = off & ~(uint64_t)(FAT_BLK - 1);
	bool direct = off - blk + len > FAT_BLK || blk + FAT_BLK > fs->src.size;
	int error = 0;

	if (direct)
		error = fmt_src_read(&fs->src, buf, len, off, d);
	else if (!fs->cache_ok || fs->cache_off != blk) {
		error = fmt_src_read(&fs->src, fs->cache, FAT_BLK, blk, d);
		fs->cache_ok = error == 0;
		fs->cache_off = blk;
	}
	if (error != 0) {
		(void)diag_prefix(d, "FAT: ");
		return (error);
	}
	if (!direct)
		memcpy(buf, fs->cache + (off - blk), len);
	return (0);
}

/* Static BPB checks shared by probe and open; NULL when fine. */
static const char *
fat_bpb_problem(const uint8_t *b)
{
	uint32_t bps = lr_le16dec(b + 11), spc = b[13];

	if (b[0] != 0xeb && b[0] != 0xe9)
		return ("no x86 jump instruction at byte 0");
	if (!lr_is_pow2(bps) || bps < 512 || bps > 4096)
		return ("bytes per sector is not a power of 2 in 512..4096");
	if (!lr_is_pow2(spc))
		return ("sectors per cluster is not a power of 2");
	if (lr_le16dec(b + 14) == 0)
		return ("no reserved sectors");
	if (b[16] == 0)
		return ("no FAT");
	if (lr_le16dec(b + 19) == 0 && lr_le32dec(b + 32) == 0)
		return ("total sector count is 0");
	if (lr_le16dec(b + 22) == 0 && lr_le32dec(b + 36) == 0)
		return ("FAT size is 0");
	if (b[21] != 0xf0 && b[21] < 0xf8)
		return ("bad media descriptor");
	return (NULL);
}

bool
fmt_fat_probe(const void *boot, size_t len)
{
	const uint8_t *b = boot;

	if (len < 512)
		return (false);
	if (memcmp(b + 3, "EXFAT   ", 8) == 0 ||
	    memcmp(b + 3, "NTFS    ", 8) == 0)
		return (false);
	return (fat_bpb_problem(b) == NULL);
}

static void
fat_trim_label(char *dst, const uint8_t *src)
{
	int i, n = 11;

	for (i = 0; i < 11; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] :
		    '_';
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

static int fat_dir_next(struct fmt_fat *fs, struct fat_dirpos *p,
    uint8_t *e, struct diag *d);
static void fat_dir_begin(struct fmt_fat *fs, struct fat_dirpos *p,
    const struct fmt_fat_dirent *dir);

int
fmt_fat_open(struct fmt_fat *fs, const struct fmt_src *src, struct diag *d)
{
	uint8_t b[512], e[FAT_DENT];
	const char *why;
	uint64_t tot, resv, fatsz, rootsecs, data, nclu, maxclu, v;
	struct fat_dirpos p;
	int error, n;
	bool fat32layout;

	memset(fs, 0, sizeof(*fs));
	fs->src = *src;
	if (src->size < 512)
		return (diag_set(d, EINVAL, "FAT: the volume is only %llu "
		    "bytes, smaller than a boot sector",
		    (unsigned long long)src->size));
	if ((error = fmt_src_read(src, b, sizeof(b), 0, d)) != 0) {
		(void)diag_prefix(d, "FAT: cannot read the boot sector: ");
		return (error);
	}
	if ((why = fat_bpb_problem(b)) != NULL)
		return (diag_set(d, EINVAL, "FAT: boot sector: %s: not a FAT "
		    "file system, or a corrupt one", why));
	if (b[510] != 0x55 || b[511] != 0xaa)
		return (diag_set(d, EINVAL, "FAT: boot sector lacks the 55 AA "
		    "signature at byte 510"));
	fs->bps = lr_le16dec(b + 11);
	fs->cluster_size = fs->bps * b[13];
	if (fs->cluster_size > (1u << 21))
		return (diag_set(d, EINVAL, "FAT: cluster size %u bytes is "
		    "over 2 MiB", fs->cluster_size));
	resv = lr_le16dec(b + 14);
	fs->nfats = b[16];
	fs->root_entries = lr_le16dec(b + 17);
	tot = lr_le16dec(b + 19) != 0 ? lr_le16dec(b + 19) :
	    lr_le32dec(b + 32);
	fat32layout = lr_le16dec(b + 22) == 0;
	fatsz = fat32layout ? lr_le32dec(b + 36) : lr_le16dec(b + 22);
	fs->volsize = tot * fs->bps;
	if (fs->volsize > src->size)
		return (diag_set(d, EINVAL, "FAT: the BPB says %llu sectors "
		    "(%llu bytes) but the medium holds %llu bytes: truncated "
		    "image or wrong partition", (unsigned long long)tot,
		    (unsigned long long)fs->volsize,
		    (unsigned long long)src->size));
	rootsecs = lr_div_roundup((uint64_t)fs->root_entries * FAT_DENT,
	    fs->bps);
	/* All terms are < 2^32 sectors; the sum cannot overflow 64 bits. */
	data = resv + fatsz * fs->nfats + rootsecs;
	if (data >= tot)
		return (diag_set(d, EINVAL, "FAT: reserved, FAT and root "
		    "directory regions (%llu sectors) do not leave a data "
		    "region in %llu sectors", (unsigned long long)data,
		    (unsigned long long)tot));
	nclu = (tot - data) / b[13];
	if (nclu == 0)
		return (diag_set(d, EINVAL, "FAT: no data cluster"));
	if (fat32layout) {
		if (fs->root_entries != 0)
			return (diag_set(d, EINVAL, "FAT: FAT32 layout with a "
			    "fixed root directory of %u entries",
			    fs->root_entries));
		fs->type = 32;
	} else if (nclu < 4085)
		fs->type = 12;
	else if (nclu < 65525)
		fs->type = 16;
	else
		return (diag_set(d, EINVAL, "FAT: %llu clusters need FAT32 "
		    "but the BPB has a 16-bit FAT size",
		    (unsigned long long)nclu));
	if (fs->type != 32 && fs->root_entries == 0)
		return (diag_set(d, EINVAL, "FAT: FAT%d without root "
		    "directory entries", fs->type));
	/* Entries the FAT can hold, minus the two reserved ones. */
	maxclu = fatsz * fs->bps * 8 / (uint64_t)fs->type;
	if (maxclu <= 2)
		return (diag_set(d, EINVAL, "FAT: the FAT holds no cluster"));
	if (nclu > maxclu - 2)
		nclu = maxclu - 2;
	if (fs->type == 32 && nclu > 0x0ffffff5)
		nclu = 0x0ffffff5;
	fs->nclusters = (uint32_t)nclu;
	fs->fat_off = resv * fs->bps;
	fs->fat_len = fatsz * fs->bps;
	fs->root_off = (resv + fatsz * fs->nfats) * fs->bps;
	fs->data_off = data * fs->bps;
	if (fs->type == 32) {
		fs->root_cluster = lr_le32dec(b + 44);
		if (fs->root_cluster < 2 ||
		    fs->root_cluster > fs->nclusters + 1)
			return (diag_set(d, EINVAL, "FAT: root directory "
			    "cluster %u is outside 2..%u", fs->root_cluster,
			    fs->nclusters + 1));
	}
	v = fs->type == 32 ? 66 : 38;
	n = fs->type == 32 ? 71 : 43;
	fs->serial = lr_le32dec(b + v + 1);
	if (b[v] == 0x29)
		fat_trim_label(fs->label, b + n);
	if (strcmp(fs->label, "NO NAME") == 0)
		fs->label[0] = '\0';
	/* The root directory's volume label entry wins over the BPB. */
	fat_dir_begin(fs, &p, NULL);
	while ((error = fat_dir_next(fs, &p, e, d)) == 0) {
		if (e[0] == 0x00)
			break;
		if (e[0] == 0xe5 || e[11] == FMT_FAT_ATTR_LFN)
			continue;
		if ((e[11] & (FMT_FAT_ATTR_VOLID | FMT_FAT_ATTR_DIR)) ==
		    FMT_FAT_ATTR_VOLID) {
			fat_trim_label(fs->label, e);
			break;
		}
	}
	if (error != 0 && error != ENOENT)
		return (error);
	diag_clear(d);
	return (0);
}

bool
fmt_fat_label_is(const struct fmt_fat *fs, const char *label)
{
	return (fmt_utf8_caseeq(fs->label, strlen(fs->label), label,
	    strlen(label)));
}

/* The FAT entry of cluster c (2..nclusters+1), masked to its width. */
static int
fat_get(struct fmt_fat *fs, uint32_t c, uint32_t *next, struct diag *d)
{
	uint8_t b[4];
	uint64_t off;
	int error;

	switch (fs->type) {
	case 12:
		off = fs->fat_off + c + c / 2;
		if ((error = fat_readat(fs, b, 2, off, d)) != 0)
			return (error);
		*next = lr_le16dec(b);
		*next = (c & 1) ? *next >> 4 : *next & 0xfff;
		break;
	case 16:
		off = fs->fat_off + (uint64_t)c * 2;
		if ((error = fat_readat(fs, b, 2, off, d)) != 0)
			return (error);
		*next = lr_le16dec(b);
		break;
	default:
		off = fs->fat_off + (uint64_t)c * 4;
		if ((error = fat_readat(fs, b, 4, off, d)) != 0)
			return (error);
		*next = lr_le32dec(b) & 0x0fffffff;
		break;
	}
	return (0);
}

static bool
fat_is_eoc(const struct fmt_fat *fs, uint32_t v)
{
	switch (fs->type) {
	case 12:
		return (v >= 0xff8);
	case 16:
		return (v >= 0xfff8);
	default:
		return (v >= 0x0ffffff8);
	}
}

static bool
fat_is_bad(const struct fmt_fat *fs, uint32_t v)
{
	return (v == (fs->type == 12 ? 0xff7u : fs->type == 16 ? 0xfff7u :
	    0x0ffffff7u));
}

/*
 * Advances *c along the chain of what.  *c becomes 0 at the end of the chain.
 * steps counts clusters walked so far (for loop detection).
 */
static int
fat_step(struct fmt_fat *fs, uint32_t *c, uint64_t *steps, const char *what,
    struct diag *d)
{
	uint32_t next;
	int error;

	if ((error = fat_get(fs, *c, &next, d)) != 0)
		return (error);
	if (fat_is_eoc(fs, next)) {
		*c = 0;
		return (0);
	}
	if (fat_is_bad(fs, next))
		return (diag_set(d, EINVAL, "FAT: %s: cluster %u links to a "
		    "cluster marked bad: the file system is corrupt, run "
		    "fsck.vfat", what, *c));
	if (next < 2)
		return (diag_set(d, EINVAL, "FAT: %s: cluster %u links to "
		    "free cluster %u: the file system is corrupt, run "
		    "fsck.vfat", what, *c, next));
	if (next > fs->nclusters + 1)
		return (diag_set(d, EINVAL, "FAT: %s: cluster %u links to "
		    "cluster %u, past the cluster count %u: the file system "
		    "is corrupt, run fsck.vfat", what, *c, next,
		    fs->nclusters));
	if (++*steps >= fs->nclusters)
		return (diag_set(d, ELOOP, "FAT: %s: the cluster chain is "
		    "longer than the %u clusters of the volume (a loop): the "
		    "file system is corrupt, run fsck.vfat", what,
		    fs->nclusters));
	*c = next;
	return (0);
}

static int
fat_check_first(struct fmt_fat *fs, uint32_t c, const char *what,
    struct diag *d)
{
	return (fmt_clu_check("FAT", what, "first cluster", c, fs->nclusters,
	    "fsck.vfat", d));
}

static uint64_t
fat_clu_off(const struct fmt_fat *fs, uint32_t c)
{
	return (fmt_clu_off(fs->data_off, fs->cluster_size, c));
}

static void
fat_dir_begin(struct fmt_fat *fs, struct fat_dirpos *p,
    const struct fmt_fat_dirent *dir)
{
	memset(p, 0, sizeof(*p));
	p->dir = dir;
	if ((dir == NULL || dir->is_root) && fs->type != 32) {
		p->fixed = true;
		p->per = fs->root_entries;
	} else {
		p->clu = (dir == NULL || dir->is_root) ? fs->root_cluster :
		    dir->first_cluster;
		p->per = fs->cluster_size / FAT_DENT;
	}
}

/* The next raw 32-byte entry; ENOENT (no diag) past the directory's end. */
static int
fat_dir_next(struct fmt_fat *fs, struct fat_dirpos *p, uint8_t *e,
    struct diag *d)
{
	const char *what = p->dir == NULL || p->dir->is_root ?
	    "root directory" : p->dir->name;
	uint64_t off;
	int error;

	if (p->idx == p->per) {
		if (p->fixed || p->clu == 0)
			return (ENOENT);
		if ((error = fat_step(fs, &p->clu, &p->steps, what, d)) != 0)
			return (error);
		if (p->clu == 0)
			return (ENOENT);
		p->idx = 0;
	}
	if (p->fixed)
		off = fs->root_off + p->idx * FAT_DENT;
	else {
		if (p->clu == 0)
			return (ENOENT);
		if (p->idx == 0 && p->steps == 0 &&
		    (error = fat_check_first(fs, p->clu, what, d)) != 0)
			return (error);
		off = fat_clu_off(fs, p->clu) + p->idx * FAT_DENT;
	}
	p->idx++;
	return (fat_readat(fs, e, FAT_DENT, off, d));
}

static uint8_t
fat_lfn_sum(const uint8_t *sn)
{
	uint8_t s = 0;
	int i;

	for (i = 0; i < 11; i++)
		s = (uint8_t)(((s & 1) << 7) + (s >> 1) + sn[i]);
	return (s);
}

static void
fat_short_name(const uint8_t *e, char *out, bool nt_case)
{
	int i, n = 0, last;
	char c;

	for (last = 8; last > 0 && e[last - 1] == ' '; last--)
		;
	for (i = 0; i < last; i++) {
		c = (char)(i == 0 && e[0] == 0x05 ? 0xe5 : e[i]);
		if (nt_case && (e[12] & 0x08) && c >= 'A' && c <= 'Z')
			c += 0x20;
		out[n++] = c;
	}
	for (last = 11; last > 8 && e[last - 1] == ' '; last--)
		;
	if (last > 8)
		out[n++] = '.';
	for (i = 8; i < last; i++) {
		c = (char)e[i];
		if (nt_case && (e[12] & 0x10) && c >= 'A' && c <= 'Z')
			c += 0x20;
		out[n++] = c;
	}
	out[n] = '\0';
}

/* Short names are OEM bytes: map bytes >= 0x80 to U+FFFD-free Latin-1. */
static void
fat_oem_to_utf8(const char *in, char *out, size_t outlen)
{
	uint16_t u[13];
	size_t n;

	for (n = 0; in[n] != '\0' && n < 12; n++)
		u[n] = (uint8_t)in[n];
	fmt_utf16_to_utf8(u, n, out, outlen);
}

struct fat_lfn {
	uint16_t	u[FAT_LFN_MAX * 13];
	int		next;		/* sequence expected next; 0 none */
	int		count;		/* entries in the set */
	uint8_t		sum;
};

static void
fat_lfn_add(struct fat_lfn *l, const uint8_t *e)
{
	static const uint8_t pos[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22,
	    24, 28, 30 };
	int seq = e[0] & 0x1f, k;

	if (e[0] & 0x40) {
		if (seq < 1 || seq > FAT_LFN_MAX) {
			l->next = 0;
			return;
		}
		l->count = seq;
		l->sum = e[13];
		l->next = seq;
	} else if (l->next == 0 || seq != l->next || e[13] != l->sum) {
		l->next = 0;
		return;
	}
	for (k = 0; k < 13; k++)
		l->u[(seq - 1) * 13 + k] = lr_le16dec(e + pos[k]);
	l->next = seq - 1;
	if (l->next == 0)
		l->next = -1;	/* complete */
}

/*
 * Walks dir, turning raw entries into dirents.  cb returns 0 to go on,
 * non-zero to stop (returned).
 */
static int
fat_walk(struct fmt_fat *fs, const struct fmt_fat_dirent *dir,
    fmt_fat_list_fn cb, void *arg, struct diag *d)
{
	struct fmt_fat_dirent ent;
	struct fat_dirpos p;
	struct fat_lfn lfn;
	uint8_t e[FAT_DENT];
	size_t n;
	int error;

	if (dir != NULL && !dir->is_dir)
		return (diag_set(d, ENOTDIR, "FAT: %s is not a directory",
		    dir->name));
	fat_dir_begin(fs, &p, dir);
	lfn.next = 0;
	while ((error = fat_dir_next(fs, &p, e, d)) == 0) {
		if (e[0] == 0x00)
			return (0);
		if (e[0] == 0xe5) {
			lfn.next = 0;
			continue;
		}
		if (e[11] == FMT_FAT_ATTR_LFN) {
			fat_lfn_add(&lfn, e);
			continue;
		}
		if (e[11] & FMT_FAT_ATTR_VOLID) {
			lfn.next = 0;
			continue;
		}
		if (e[0] == '.' && (e[1] == ' ' || (e[1] == '.' &&
		    e[2] == ' '))) {
			lfn.next = 0;
			continue;
		}
		memset(&ent, 0, sizeof(ent));
		fat_short_name(e, ent.short_name, false);
		if (lfn.next == -1 && lfn.sum == fat_lfn_sum(e)) {
			for (n = 0; n < (size_t)lfn.count * 13; n++)
				if (lfn.u[n] == 0x0000)
					break;
			fmt_utf16_to_utf8(lfn.u, n, ent.name,
			    sizeof(ent.name));
		} else {
			char sn[13];

			fat_short_name(e, sn, true);
			fat_oem_to_utf8(sn, ent.name, sizeof(ent.name));
		}
		lfn.next = 0;
		ent.attr = e[11];
		ent.is_dir = (e[11] & FMT_FAT_ATTR_DIR) != 0;
		ent.first_cluster = lr_le16dec(e + 26);
		if (fs->type == 32)
			ent.first_cluster |= (uint32_t)lr_le16dec(e + 20) << 16;
		ent.size = ent.is_dir ? 0 : lr_le32dec(e + 28);
		if ((error = cb(arg, &ent)) != 0)
			return (error);
	}
	return (error == ENOENT ? 0 : error);
}

int
fmt_fat_list(struct fmt_fat *fs, const struct fmt_fat_dirent *dir,
    fmt_fat_list_fn cb, void *arg, struct diag *d)
{
	return (fat_walk(fs, dir, cb, arg, d));
}

struct fat_find {
	const char	*name;
	size_t		len;
	struct fmt_fat_dirent *out;
	bool		found;
};

static int
fat_find_cb(void *arg, const struct fmt_fat_dirent *ent)
{
	struct fat_find *f = arg;

	if (fmt_utf8_caseeq(ent->name, strlen(ent->name), f->name, f->len) ||
	    fmt_utf8_caseeq(ent->short_name, strlen(ent->short_name),
	    f->name, f->len)) {
		*f->out = *ent;
		f->found = true;
		return (-1);
	}
	return (0);
}

int
fmt_fat_lookup(struct fmt_fat *fs, const char *path,
    struct fmt_fat_dirent *ent, struct diag *d)
{
	struct fmt_fat_dirent cur;
	struct fat_find f;
	const char *s = path, *e;
	int error, depth = 0;

	memset(&cur, 0, sizeof(cur));
	memcpy(cur.name, "/", 2);
	cur.is_dir = cur.is_root = true;
	cur.attr = FMT_FAT_ATTR_DIR;
	cur.first_cluster = fs->type == 32 ? fs->root_cluster : 0;
	for (;;) {
		if ((error = fmt_path_next("FAT", path, &s, &e, &depth,
		    FMT_FAT_MAXDEPTH, cur.is_dir, d)) != 0)
			return (error);
		if (s == e)
			break;
		f.name = s;
		f.len = (size_t)(e - s);
		f.out = ent;
		f.found = false;
		error = fat_walk(fs, &cur, fat_find_cb, &f, d);
		if (!f.found)
			return (fmt_path_missing("FAT", path, e, error, d));
		cur = *ent;
		if (cur.is_dir && cur.first_cluster == 0 && fs->type != 32) {
			/* ".." of a first-level directory points at 0. */
			cur.is_root = true;
		}
		s = e;
	}
	*ent = cur;
	return (0);
}

int
fmt_fat_extents(struct fmt_fat *fs, const struct fmt_fat_dirent *ent,
    struct fmt_extent *ext, size_t max, size_t *nextents, struct diag *d)
{
	uint64_t left, steps = 0, off, len, runoff = 0, runlen = 0;
	size_t n = 0;
	uint32_t c;
	int error;

	*nextents = 0;
	if (ent->is_root && fs->type != 32) {
		if (max >= 1) {
			ext[0].off = fs->root_off;
			ext[0].len = (uint64_t)fs->root_entries * FAT_DENT;
		}
		*nextents = 1;
		return (max >= 1 ? 0 : ENOSPC);
	}
	c = ent->is_root ? fs->root_cluster : ent->first_cluster;
	left = ent->is_dir ? UINT64_MAX : ent->size;
	if (c == 0) {
		if (left != 0 && left != UINT64_MAX)
			return (diag_set(d, EINVAL, "FAT: %s: size %llu bytes "
			    "but no cluster: the file system is corrupt, run "
			    "fsck.vfat", ent->name, (unsigned long long)left));
		return (0);
	}
	if ((error = fat_check_first(fs, c, ent->name, d)) != 0)
		return (error);
	while (c != 0) {
		off = fat_clu_off(fs, c);
		len = LR_MIN(left, fs->cluster_size);
		if (len > 0) {
			if (runlen > 0 && runoff + runlen == off)
				runlen += len;
			else {
				if (runlen > 0) {
					if (n < max) {
						ext[n].off = runoff;
						ext[n].len = runlen;
					}
					n++;
				}
				runoff = off;
				runlen = len;
			}
			if (left != UINT64_MAX)
				left -= len;
		}
		if ((error = fat_step(fs, &c, &steps, ent->name, d)) != 0)
			return (error);
	}
	if (left != 0 && left != UINT64_MAX)
		return (diag_set(d, EINVAL, "FAT: %s: size %u bytes is larger "
		    "than its cluster chain (%llu clusters of %u bytes): the "
		    "file system is corrupt, run fsck.vfat", ent->name,
		    ent->size, (unsigned long long)steps + 1,
		    fs->cluster_size));
	if (runlen > 0) {
		if (n < max) {
			ext[n].off = runoff;
			ext[n].len = runlen;
		}
		n++;
	}
	*nextents = n;
	if (n > max)
		return (diag_set(d, ENOSPC, "FAT: %s: %zu extents do not fit "
		    "in %zu", ent->name, n, max));
	return (0);
}
