/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exfat.c - read-only exFAT (fmt_exfat.h).
 *
 * Shape: every stream of clusters (a file, a directory, the up-case table)
 * is visited as a sequence of coalesced byte runs by exfat_runs(), which
 * owns all chain checks (cluster range, bad marks, loop bound, DataLength
 * against the chain).  Directories are read run by run, one sector at a
 * time through the embedded buffer, and fed entry by entry into an entry-set
 * assembler (struct exfat_walk), so a set that spans clusters needs no
 * special case.  Invariants after open: FATs and the cluster heap lie inside
 * the volume, the volume inside the medium; cluster numbers are checked
 * before they become offsets.  No locking: one thread per struct fmt_exfat.
 */
#include <liveroot/fmt_exfat.h>
#include <liveroot/util.h>

#include "fmt_text.h"

#define EX_DENT		32u
#define EX_MAXSET	19		/* File + 18 secondaries */
#define EX_UPCASE_MAX	(256u << 10)	/* bytes of a compressed table */

#define EX_T_END	0x00
#define EX_T_BITMAP	0x81
#define EX_T_UPCASE	0x82
#define EX_T_LABEL	0x83
#define EX_T_FILE	0x85
#define EX_T_STREAM	0xc0
#define EX_T_NAME	0xc1

#define EX_STOP		(-1)	/* callback: stop, not an error */

typedef int (*exfat_run_fn)(void *arg, uint64_t off, uint64_t len);

uint32_t
fmt_exfat_boot_checksum(const uint8_t *s, size_t len)
{
	uint32_t cs = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i == 106 || i == 107 || i == 112)
			continue;
		cs = ((cs & 1) ? 0x80000000u : 0) + (cs >> 1) + s[i];
	}
	return (cs);
}

uint16_t
fmt_exfat_set_checksum(const uint8_t *set, size_t len)
{
	uint16_t cs = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i == 2 || i == 3)
			continue;
		cs = (uint16_t)(((cs & 1) ? 0x8000u : 0) + (cs >> 1) + set[i]);
	}
	return (cs);
}

bool
fmt_exfat_probe(const void *boot, size_t len)
{
	const uint8_t *b = boot;

	if (len < 512 || memcmp(b + 3, "EXFAT   ", 8) != 0)
		return (false);
	return (b[108] >= 9 && b[108] <= 12 && b[108] + b[109] <= 25 &&
	    b[510] == 0x55 && b[511] == 0xaa);
}

static int
ex_read(struct fmt_exfat *fs, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	int error;

	if ((error = fmt_src_read(&fs->src, buf, len, off, d)) != 0)
		(void)diag_prefix(d, "exFAT: ");
	return (error);
}

/* Reads the sector holding off into fs->buf; returns a pointer to off. */
static int
ex_sector(struct fmt_exfat *fs, uint64_t off, const uint8_t **p,
    struct diag *d)
{
	uint64_t s = off - off % fs->bps;
	int error;

	if (!fs->buf_ok || fs->buf_off != s) {
		fs->buf_ok = false;
		if ((error = ex_read(fs, fs->buf, fs->bps, s, d)) != 0)
			return (error);
		fs->buf_off = s;
		fs->buf_ok = true;
	}
	*p = fs->buf + (off - s);
	return (0);
}

static int
ex_fat_get(struct fmt_exfat *fs, uint32_t c, uint32_t *next, struct diag *d)
{
	const uint8_t *p;
	int error;

	if ((error = ex_sector(fs, fs->fat_off + (uint64_t)c * 4, &p, d)) != 0)
		return (error);
	*next = lr_le32dec(p);
	return (0);
}

static int
ex_check_clu(struct fmt_exfat *fs, uint32_t c, const char *what,
    struct diag *d)
{
	return (fmt_clu_check("exFAT", what, "cluster", c, fs->nclusters,
	    "fsck.exfat", d));
}

static uint64_t
ex_clu_off(const struct fmt_exfat *fs, uint32_t c)
{
	return (fmt_clu_off(fs->heap_off, fs->cluster_size, c));
}

/*
 * Calls cb for each coalesced run of the stream starting at cluster first.
 * len: bytes of the stream, or UINT64_MAX for "the whole FAT chain".
 */
static int
exfat_runs(struct fmt_exfat *fs, uint32_t first, bool nofat, uint64_t len,
    const char *what, exfat_run_fn cb, void *arg, struct diag *d)
{
	uint64_t left = len, steps = 0, off, n, runoff = 0, runlen = 0;
	uint32_t c = first, next;
	int error;

	if (len == 0)
		return (0);
	if ((error = ex_check_clu(fs, first, what, d)) != 0)
		return (error);
	if (nofat) {
		n = lr_div_roundup(len, fs->cluster_size);
		if (n > (uint64_t)fs->nclusters + 2 - first)
			return (diag_set(d, EINVAL, "exFAT: %s: %llu bytes "
			    "from cluster %u run past the cluster heap (%u "
			    "clusters): the file system is corrupt, run "
			    "fsck.exfat", what, (unsigned long long)len, first,
			    fs->nclusters));
		return (cb(arg, ex_clu_off(fs, first), len));
	}
	for (;;) {
		off = ex_clu_off(fs, c);
		n = LR_MIN(left, fs->cluster_size);
		if (n > 0) {
			if (runlen > 0 && runoff + runlen == off)
				runlen += n;
			else {
				if (runlen > 0 &&
				    (error = cb(arg, runoff, runlen)) != 0)
					return (error);
				runoff = off;
				runlen = n;
			}
			if (left != UINT64_MAX)
				left -= n;
		}
		if ((error = ex_fat_get(fs, c, &next, d)) != 0)
			return (error);
		if (next == 0xffffffffu)
			break;
		if (next == 0xfffffff7u)
			return (diag_set(d, EINVAL, "exFAT: %s: cluster %u "
			    "links to a cluster marked bad: the file system "
			    "is corrupt, run fsck.exfat", what, c));
		if ((error = ex_check_clu(fs, next, what, d)) != 0) {
			diag_prefix(d, "cluster %u links on: ", c);
			return (error);
		}
		if (++steps >= fs->nclusters)
			return (diag_set(d, ELOOP, "exFAT: %s: the cluster "
			    "chain is longer than the %u clusters of the "
			    "volume (a loop): the file system is corrupt, run "
			    "fsck.exfat", what, fs->nclusters));
		c = next;
	}
	if (left != 0 && left != UINT64_MAX)
		return (diag_set(d, EINVAL, "exFAT: %s: DataLength %llu bytes "
		    "is larger than its cluster chain (%llu clusters of %u "
		    "bytes): the file system is corrupt, run fsck.exfat",
		    what, (unsigned long long)len,
		    (unsigned long long)steps + 1, fs->cluster_size));
	if (runlen > 0)
		return (cb(arg, runoff, runlen));
	return (0);
}

/* The entry-set assembler. */
struct exfat_walk {
	struct fmt_exfat *fs;
	const char	*dirname;
	struct diag	*d;
	fmt_exfat_list_fn cb;
	void		*arg;
	bool		meta;		/* open: pick up label and up-case */
	uint8_t		set[EX_MAXSET * EX_DENT];
	int		have, need;
	uint64_t	idx;		/* entry index in the directory */
	uint64_t	set_idx;
	/* meta results */
	bool		has_upcase;
	uint32_t	up_sum, up_clu;
	uint64_t	up_len;
	struct fmt_exfat_dirent ent;
};

static uint16_t
ex_up(const struct fmt_exfat *fs, uint16_t c)
{
	if (fs->upcase != NULL)
		return (fs->upcase[c]);
	return ((uint16_t)(c < 0x80 ? fmt_fold(c) : c));
}

static int
ex_set_done(struct exfat_walk *w)
{
	struct fmt_exfat *fs = w->fs;
	struct fmt_exfat_dirent *e = &w->ent;
	const uint8_t *s = w->set, *st = s + EX_DENT;
	uint16_t sum, hash = 0, u;
	int i, nnames, k;
	bool ascii = true;

	memset(e, 0, sizeof(*e));
	if (st[0] != EX_T_STREAM)
		return (diag_set(w->d, EINVAL, "exFAT: %s: entry set at entry "
		    "%llu has type 0x%02x where the stream extension belongs: "
		    "the file system is corrupt, run fsck.exfat", w->dirname,
		    (unsigned long long)w->set_idx, st[0]));
	e->name_len = st[3];
	nnames = (e->name_len + 14) / 15;
	if (e->name_len == 0 || nnames > w->need - 2)
		return (diag_set(w->d, EINVAL, "exFAT: %s: entry set at entry "
		    "%llu: name length %u does not fit %d name entries: the "
		    "file system is corrupt, run fsck.exfat", w->dirname,
		    (unsigned long long)w->set_idx, e->name_len, w->need - 2));
	for (i = 0; i < nnames; i++) {
		if (s[(2 + i) * EX_DENT] != EX_T_NAME)
			return (diag_set(w->d, EINVAL, "exFAT: %s: entry set "
			    "at entry %llu: entry %d is type 0x%02x, not a "
			    "file name: the file system is corrupt, run "
			    "fsck.exfat", w->dirname,
			    (unsigned long long)w->set_idx, 2 + i,
			    s[(2 + i) * EX_DENT]));
		for (k = 0; k < 15 && i * 15 + k < e->name_len; k++)
			e->name16[i * 15 + k] =
			    lr_le16dec(s + (2 + i) * EX_DENT + 2 + 2 * k);
	}
	fmt_utf16_to_utf8(e->name16, e->name_len, e->name, sizeof(e->name));
	sum = fmt_exfat_set_checksum(s, (size_t)w->need * EX_DENT);
	if (sum != lr_le16dec(s + 2))
		return (diag_set(w->d, EINVAL, "exFAT: %s: entry set of \"%s\" "
		    "at entry %llu has SetChecksum 0x%04x but its %d entries "
		    "sum to 0x%04x: the directory is corrupt, run fsck.exfat",
		    w->dirname, e->name, (unsigned long long)w->set_idx,
		    lr_le16dec(s + 2), w->need, sum));
	for (i = 0; i < e->name_len; i++) {
		if (e->name16[i] >= 0x80)
			ascii = false;
		u = ex_up(fs, e->name16[i]);
		hash = (uint16_t)(((hash & 1) ? 0x8000u : 0) + (hash >> 1) +
		    (u & 0xff));
		hash = (uint16_t)(((hash & 1) ? 0x8000u : 0) + (hash >> 1) +
		    (u >> 8));
	}
	if ((fs->upcase != NULL || ascii) && hash != lr_le16dec(st + 4))
		return (diag_set(w->d, EINVAL, "exFAT: %s: entry set of \"%s\" "
		    "at entry %llu has NameHash 0x%04x but the name hashes to "
		    "0x%04x: the directory is corrupt, run fsck.exfat",
		    w->dirname, e->name, (unsigned long long)w->set_idx,
		    lr_le16dec(st + 4), hash));
	e->attr = lr_le16dec(s + 4);
	e->is_dir = (e->attr & FMT_EXFAT_ATTR_DIR) != 0;
	e->nofatchain = (st[1] & 0x02) != 0;
	e->valid_size = lr_le64dec(st + 8);
	e->first_cluster = lr_le32dec(st + 20);
	e->size = lr_le64dec(st + 24);
	if (e->valid_size > e->size)
		return (diag_set(w->d, EINVAL, "exFAT: %s: \"%s\": "
		    "ValidDataLength %llu exceeds DataLength %llu: the file "
		    "system is corrupt, run fsck.exfat", w->dirname, e->name,
		    (unsigned long long)e->valid_size,
		    (unsigned long long)e->size));
	e->partial_valid = e->valid_size < e->size;
	if (w->cb == NULL)
		return (0);
	return (w->cb(w->arg, e));
}

/* One raw entry; EX_STOP at the end of the directory. */
static int
ex_entry(struct exfat_walk *w, const uint8_t *e)
{
	struct fmt_exfat *fs = w->fs;
	int error;

	w->idx++;
	if (w->need > 0) {
		if (e[0] < 0x80 || (e[0] & 0x40) == 0)
			return (diag_set(w->d, EINVAL, "exFAT: %s: entry set "
			    "at entry %llu is cut short by entry %llu (type "
			    "0x%02x) after %d of %d entries: the directory is "
			    "corrupt, run fsck.exfat", w->dirname,
			    (unsigned long long)w->set_idx,
			    (unsigned long long)w->idx - 1, e[0], w->have,
			    w->need));
		memcpy(w->set + w->have * EX_DENT, e, EX_DENT);
		if (++w->have < w->need)
			return (0);
		error = ex_set_done(w);
		w->need = w->have = 0;
		return (error);
	}
	switch (e[0]) {
	case EX_T_END:
		return (EX_STOP);
	case EX_T_FILE:
		if (e[1] < 2 || e[1] > EX_MAXSET - 1)
			return (diag_set(w->d, EINVAL, "exFAT: %s: file entry "
			    "at entry %llu has %u secondary entries (2..18 "
			    "allowed): the directory is corrupt, run "
			    "fsck.exfat", w->dirname,
			    (unsigned long long)w->idx - 1, e[1]));
		w->need = 1 + e[1];
		w->have = 1;
		w->set_idx = w->idx - 1;
		memcpy(w->set, e, EX_DENT);
		return (0);
	case EX_T_UPCASE:
		if (w->meta && !w->has_upcase) {
			w->has_upcase = true;
			w->up_sum = lr_le32dec(e + 4);
			w->up_clu = lr_le32dec(e + 20);
			w->up_len = lr_le64dec(e + 24);
		}
		return (0);
	case EX_T_LABEL:
		if (w->meta) {
			uint16_t u[11];
			int k, n = LR_MIN(e[1], 11);

			for (k = 0; k < n; k++)
				u[k] = lr_le16dec(e + 2 + 2 * k);
			fmt_utf16_to_utf8(u, (size_t)n, fs->label,
			    sizeof(fs->label));
			/* labels get printed: no terminal escapes */
			for (k = 0; fs->label[k] != '\0'; k++)
				if ((uint8_t)fs->label[k] < 0x20 ||
				    fs->label[k] == 0x7f)
					fs->label[k] = '_';
		}
		return (0);
	default:
		return (0);
	}
}

static int
ex_dir_run(void *arg, uint64_t off, uint64_t len)
{
	struct exfat_walk *w = arg;
	const uint8_t *p;
	uint64_t o;
	int error;

	for (o = 0; o + EX_DENT <= len; o += EX_DENT) {
		if ((error = ex_sector(w->fs, off + o, &p, w->d)) != 0)
			return (error);
		if ((error = ex_entry(w, p)) != 0)
			return (error);
	}
	return (0);
}

static int
ex_walk(struct exfat_walk *w, const struct fmt_exfat_dirent *dir)
{
	struct fmt_exfat *fs = w->fs;
	int error;

	w->dirname = dir == NULL || dir->is_root ? "root directory" :
	    dir->name;
	if (dir == NULL || dir->is_root)
		error = exfat_runs(fs, fs->root_cluster, false, UINT64_MAX,
		    w->dirname, ex_dir_run, w, w->d);
	else if (!dir->is_dir)
		return (diag_set(w->d, ENOTDIR, "exFAT: %s is not a directory",
		    dir->name));
	else
		error = exfat_runs(fs, dir->first_cluster, dir->nofatchain,
		    dir->size, w->dirname, ex_dir_run, w, w->d);
	if (error == EX_STOP)
		return (0);
	if (error == 0 && w->need > 0)
		return (diag_set(w->d, EINVAL, "exFAT: %s: entry set at entry "
		    "%llu runs past the end of the directory: the directory "
		    "is corrupt, run fsck.exfat", w->dirname,
		    (unsigned long long)w->set_idx));
	return (error);
}

struct ex_upread {
	struct fmt_exfat *fs;
	struct diag	*d;
	uint32_t	sum;
	uint32_t	idx;
	bool		marker;
};

static int
ex_up_run(void *arg, uint64_t off, uint64_t len)
{
	struct ex_upread *u = arg;
	struct fmt_exfat *fs = u->fs;
	uint64_t o, n, i;
	uint16_t v;
	int error;

	fs->buf_ok = false;
	for (o = 0; o < len; o += n) {
		n = LR_MIN(len - o, sizeof(fs->buf));
		if ((error = ex_read(fs, fs->buf, n, off + o, u->d)) != 0)
			return (error);
		for (i = 0; i < n; i++)
			u->sum = ((u->sum & 1) ? 0x80000000u : 0) +
			    (u->sum >> 1) + fs->buf[i];
		for (i = 0; i + 1 < n; i += 2) {
			v = lr_le16dec(fs->buf + i);
			if (u->idx >= 65536)
				break;
			if (u->marker) {
				u->idx = v >= 65536 - u->idx ? 65536 :
				    u->idx + v;
				u->marker = false;
			} else if (v == 0xffff)
				u->marker = true;
			else
				fs->upcase[u->idx++] = v;
		}
	}
	return (0);
}

static int
ex_load_upcase(struct fmt_exfat *fs, const struct exfat_walk *w,
    struct diag *d)
{
	struct ex_upread u;
	uint32_t i;
	int error;

	if (w->up_len == 0 || w->up_len > EX_UPCASE_MAX || (w->up_len & 1))
		return (diag_set(d, EINVAL, "exFAT: the up-case table is %llu "
		    "bytes (2..%u, even): the file system is corrupt, run "
		    "fsck.exfat", (unsigned long long)w->up_len,
		    EX_UPCASE_MAX));
	fs->upcase = fs->alloc.alloc(65536 * sizeof(uint16_t), fs->alloc.arg);
	if (fs->upcase == NULL)
		return (diag_set(d, ENOMEM, "exFAT: no memory for the up-case "
		    "table"));
	for (i = 0; i < 65536; i++)
		fs->upcase[i] = (uint16_t)i;
	memset(&u, 0, sizeof(u));
	u.fs = fs;
	u.d = d;
	error = exfat_runs(fs, w->up_clu, false, w->up_len, "up-case table",
	    ex_up_run, &u, d);
	fs->buf_ok = false;
	if (error == 0 && u.sum != w->up_sum)
		error = diag_set(d, EINVAL, "exFAT: the up-case table's "
		    "checksum is 0x%08x but its bytes sum to 0x%08x: the file "
		    "system is corrupt, run fsck.exfat", w->up_sum, u.sum);
	if (error != 0) {
		fs->alloc.free(fs->upcase, 65536 * sizeof(uint16_t),
		    fs->alloc.arg);
		fs->upcase = NULL;
		return (error);
	}
	fs->has_upcase = true;
	return (0);
}

int
fmt_exfat_open(struct fmt_exfat *fs, const struct fmt_src *src,
    const struct lr_allocator *a, struct diag *d)
{
	struct exfat_walk w;
	uint8_t b[512];
	uint64_t vlen, fatoff, fatlen, heap, cs, ncl, sec, tmp;
	uint32_t sum, k;
	unsigned bshift, cshift, nfats, active;
	int error;

	memset(fs, 0, sizeof(*fs));
	fs->src = *src;
	if (a != NULL)
		fs->alloc = *a;
	if (src->size < 512)
		return (diag_set(d, EINVAL, "exFAT: the volume is smaller than "
		    "a boot sector"));
	if ((error = ex_read(fs, b, sizeof(b), 0, d)) != 0)
		return (error);
	if (memcmp(b + 3, "EXFAT   ", 8) != 0)
		return (diag_set(d, EINVAL, "exFAT: no \"EXFAT   \" at byte 3: "
		    "not an exFAT file system"));
	if (b[510] != 0x55 || b[511] != 0xaa)
		return (diag_set(d, EINVAL, "exFAT: boot sector lacks the 55 "
		    "AA signature"));
	if (!lr_is_zero(b + 11, 53))
		return (diag_set(d, EINVAL, "exFAT: bytes 11..63 of the boot "
		    "sector are not zero: corrupt, or an old FAT BPB"));
	bshift = b[108];
	cshift = b[109];
	nfats = b[110];
	if (bshift < 9 || bshift > 12)
		return (diag_set(d, EINVAL, "exFAT: BytesPerSectorShift %u is "
		    "outside 9..12", bshift));
	if (bshift + cshift > 25)
		return (diag_set(d, EINVAL, "exFAT: cluster size 2^%u bytes "
		    "is over 32 MiB", bshift + cshift));
	if (nfats != 1 && nfats != 2)
		return (diag_set(d, EINVAL, "exFAT: NumberOfFats %u (1 or 2 "
		    "allowed)", nfats));
	fs->bps = 1u << bshift;
	cs = 1ull << (bshift + cshift);
	fs->cluster_size = (uint32_t)cs;
	fs->flags = lr_le16dec(b + 106);
	fs->serial = lr_le32dec(b + 100);
	vlen = lr_le64dec(b + 72);
	if (vlen > (UINT64_MAX >> bshift) || (vlen << bshift) > src->size)
		return (diag_set(d, EINVAL, "exFAT: VolumeLength %llu sectors "
		    "is larger than the medium (%llu bytes): truncated image "
		    "or wrong partition", (unsigned long long)vlen,
		    (unsigned long long)src->size));
	fs->volsize = vlen << bshift;
	fatoff = lr_le32dec(b + 80);
	fatlen = lr_le32dec(b + 84);
	heap = lr_le32dec(b + 88);
	ncl = lr_le32dec(b + 92);
	fs->root_cluster = lr_le32dec(b + 96);
	if (fatoff < 24 || fatlen == 0 ||
	    fatoff + fatlen * nfats > heap || heap > vlen)
		return (diag_set(d, EINVAL, "exFAT: FatOffset %llu, FatLength "
		    "%llu x %u and ClusterHeapOffset %llu do not fit in order "
		    "inside %llu sectors: the boot sector is corrupt",
		    (unsigned long long)fatoff, (unsigned long long)fatlen,
		    nfats, (unsigned long long)heap, (unsigned long long)vlen));
	if (ncl == 0 || ncl > 0xfffffff5u ||
	    ncl > ((vlen - heap) << bshift) / cs)
		return (diag_set(d, EINVAL, "exFAT: ClusterCount %llu does "
		    "not fit in the cluster heap (%llu sectors)",
		    (unsigned long long)ncl,
		    (unsigned long long)(vlen - heap)));
	if ((ncl + 2) * 4 > (fatlen << bshift))
		return (diag_set(d, EINVAL, "exFAT: a FAT of %llu sectors "
		    "cannot hold %llu clusters", (unsigned long long)fatlen,
		    (unsigned long long)ncl));
	fs->nclusters = (uint32_t)ncl;
	active = fs->flags & 1;
	if (active >= nfats)
		return (diag_set(d, EINVAL, "exFAT: the second FAT is active "
		    "but there is only one"));
	fs->fat_off = (fatoff + fatlen * active) << bshift;
	fs->heap_off = heap << bshift;
	if ((error = ex_check_clu(fs, fs->root_cluster, "root directory",
	    d)) != 0)
		return (error);
	/* The boot checksum: sectors 0..10, repeated through sector 11. */
	if (vlen < 12)
		return (diag_set(d, EINVAL, "exFAT: the volume is shorter than "
		    "its boot region"));
	sum = 0;
	for (sec = 0; sec < 11; sec++) {
		if ((error = ex_read(fs, fs->buf, fs->bps, sec << bshift,
		    d)) != 0)
			return (error);
		for (k = 0; k < fs->bps; k++) {
			tmp = (sec << bshift) + k;
			if (tmp == 106 || tmp == 107 || tmp == 112)
				continue;
			sum = ((sum & 1) ? 0x80000000u : 0) + (sum >> 1) +
			    fs->buf[k];
		}
	}
	if ((error = ex_read(fs, fs->buf, fs->bps, 11ull << bshift, d)) != 0)
		return (error);
	for (k = 0; k < fs->bps; k += 4)
		if (lr_le32dec(fs->buf + k) != sum)
			return (diag_set(d, EINVAL, "exFAT: boot checksum "
			    "sector 11 holds 0x%08x but sectors 0-10 sum to "
			    "0x%08x: the boot region is corrupt (fsck.exfat "
			    "can restore it from the backup)",
			    lr_le32dec(fs->buf + k), sum));
	memset(&w, 0, sizeof(w));
	w.fs = fs;
	w.d = d;
	w.meta = true;
	if ((error = ex_walk(&w, NULL)) != 0)
		return (error);
	if (w.has_upcase && a != NULL &&
	    (error = ex_load_upcase(fs, &w, d)) != 0)
		return (error);
	diag_clear(d);
	return (0);
}

void
fmt_exfat_close(struct fmt_exfat *fs)
{
	if (fs == NULL || fs->upcase == NULL)
		return;
	fs->alloc.free(fs->upcase, 65536 * sizeof(uint16_t), fs->alloc.arg);
	fs->upcase = NULL;
	fs->has_upcase = false;
}

int
fmt_exfat_list(struct fmt_exfat *fs, const struct fmt_exfat_dirent *dir,
    fmt_exfat_list_fn cb, void *arg, struct diag *d)
{
	struct exfat_walk w;

	memset(&w, 0, sizeof(w));
	w.fs = fs;
	w.d = d;
	w.cb = cb;
	w.arg = arg;
	return (ex_walk(&w, dir));
}

struct ex_find {
	struct fmt_exfat *fs;
	uint16_t	u[255];
	size_t		n;
	struct fmt_exfat_dirent *out;
	bool		found;
};

static int
ex_find_cb(void *arg, const struct fmt_exfat_dirent *e)
{
	struct ex_find *f = arg;
	size_t i;

	if (e->name_len != f->n)
		return (0);
	for (i = 0; i < f->n; i++)
		if (ex_up(f->fs, e->name16[i]) != ex_up(f->fs, f->u[i]))
			return (0);
	*f->out = *e;
	f->found = true;
	return (EX_STOP);
}

int
fmt_exfat_lookup(struct fmt_exfat *fs, const char *path,
    struct fmt_exfat_dirent *ent, struct diag *d)
{
	struct exfat_walk wbuf, *w = &wbuf;
	struct {
		struct fmt_exfat_dirent cur;
	} stbuf, *st = &stbuf;
	struct ex_find f;
	const char *s = path, *e;
	int error, depth = 0;

	memset(&st->cur, 0, sizeof(st->cur));
	memcpy(st->cur.name, "/", 2);
	st->cur.is_dir = st->cur.is_root = true;
	st->cur.attr = FMT_EXFAT_ATTR_DIR;
	st->cur.first_cluster = fs->root_cluster;
	for (;;) {
		if ((error = fmt_path_next("exFAT", path, &s, &e, &depth,
		    FMT_EXFAT_MAXDEPTH, st->cur.is_dir, d)) != 0)
			return (error);
		if (s == e)
			break;
		f.fs = fs;
		f.n = fmt_utf8_to_utf16(s, (size_t)(e - s), f.u, 255);
		if (f.n == (size_t)-1)
			return (diag_set(d, ENOENT, "exFAT: %s: a component is "
			    "longer than 255 UTF-16 units", path));
		f.out = ent;
		f.found = false;
		memset(w, 0, sizeof(*w));
		w->fs = fs;
		w->d = d;
		w->cb = ex_find_cb;
		w->arg = &f;
		error = ex_walk(w, &st->cur);
		if (!f.found)
			return (fmt_path_missing("exFAT", path, e, error, d));
		st->cur = *ent;
		s = e;
	}
	*ent = st->cur;
	return (0);
}

int
fmt_exfat_extents(struct fmt_exfat *fs, const struct fmt_exfat_dirent *ent,
    struct fmt_extent *ext, size_t max, size_t *nextents, struct diag *d)
{
	struct fmt_ext_list x = { ext, max, 0 };
	int error;

	*nextents = 0;
	if (ent->is_root)
		error = exfat_runs(fs, fs->root_cluster, false, UINT64_MAX,
		    "root directory", fmt_ext_list_add, &x, d);
	else {
		if (ent->size == 0)
			return (0);
		error = exfat_runs(fs, ent->first_cluster, ent->nofatchain,
		    ent->size, ent->name, fmt_ext_list_add, &x, d);
	}
	if (error != 0)
		return (error);
	*nextents = x.n;
	if (x.n > max)
		return (diag_set(d, ENOSPC, "exFAT: %s: %zu extents do not "
		    "fit in %zu", ent->name, x.n, max));
	return (0);
}
