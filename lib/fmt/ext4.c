/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ext4.c - read-only ext2/ext3/ext4 (fmt_ext4.h).
 *
 * Shape: every inode's data (a file, a directory) is visited as a sequence
 * of coalesced byte runs by e4_runs(), which owns all mapping checks: it
 * walks the extent tree with an explicit stack (depth <= 5) or the
 * direct/indirect block map (three levels), and feeds logical blocks in
 * order into e4_emit(), which refuses holes, overlaps, unwritten extents
 * and blocks outside the volume, and stops the walk once the file's size is
 * covered.  Directories are read run by run, block by block, entry by entry
 * through the read window; each entry's inode is read directly.
 *
 * Invariants after open: the block size is 1 KiB..64 KiB, the volume lies
 * inside the medium, the group descriptor table inside the volume, the root
 * inode is a directory.  A file's block count never exceeds the volume's,
 * and every run emitted advances the logical position, so each walk is
 * bounded by the volume's size.  Nothing on the walk keeps a pointer into
 * the window across a read or a callback.  No locking: one thread per
 * struct fmt_ext4.
 */
#include <liveroot/fmt_ext4.h>
#include <liveroot/util.h>

#include "fmt_text.h"

#define E4_SB_OFF		1024
#define E4_SB_LEN		1024
#define E4_MAGIC		0xef53

/* superblock fields */
#define SB_INODES_COUNT		0x00
#define SB_BLOCKS_LO		0x04
#define SB_FIRST_DATA_BLOCK	0x14
#define SB_LOG_BLOCK_SIZE	0x18
#define SB_LOG_CLUSTER_SIZE	0x1c
#define SB_BLOCKS_PER_GROUP	0x20
#define SB_INODES_PER_GROUP	0x28
#define SB_MAGIC		0x38
#define SB_REV_LEVEL		0x4c
#define SB_INODE_SIZE		0x58
#define SB_FEATURE_COMPAT	0x5c
#define SB_FEATURE_INCOMPAT	0x60
#define SB_FEATURE_RO_COMPAT	0x64
#define SB_UUID			0x68
#define SB_VOLUME_NAME		0x78
#define SB_DESC_SIZE		0xfe
#define SB_FIRST_META_BG	0x104
#define SB_BLOCKS_HI		0x150
#define SB_BACKUP_BGS		0x24c

#define COMPAT_HAS_JOURNAL	0x0004
#define COMPAT_SPARSE_SUPER2	0x0200

#define RO_SPARSE_SUPER		0x0001
#define RO_LARGE_FILE		0x0002
#define RO_BTREE_DIR		0x0004
#define RO_BIGALLOC		0x0200

#define IN_COMPRESSION		0x0001
#define IN_FILETYPE		0x0002
#define IN_RECOVER		0x0004
#define IN_JOURNAL_DEV		0x0008
#define IN_META_BG		0x0010
#define IN_EXTENTS		0x0040
#define IN_64BIT		0x0080
#define IN_MMP			0x0100
#define IN_FLEX_BG		0x0200
#define IN_EA_INODE		0x0400
#define IN_DIRDATA		0x1000
#define IN_CSUM_SEED		0x2000
#define IN_LARGEDIR		0x4000
#define IN_INLINE_DATA		0x8000
#define IN_ENCRYPT		0x10000
#define IN_CASEFOLD		0x20000
#define IN_KNOWN		0x3f7ff

/* group descriptor fields */
#define BG_INODE_TABLE_LO	0x08
#define BG_INODE_TABLE_HI	0x28

/* inode fields */
#define I_MODE			0x00
#define I_SIZE_LO		0x04
#define I_FLAGS			0x20
#define I_BLOCK			0x28
#define I_SIZE_HIGH		0x6c
#define I_LEN			128	/* the part read */

#define S_IFMT_			0xf000
#define S_IFDIR_		0x4000
#define S_IFREG_		0x8000
#define S_IFLNK_		0xa000

#define FL_COMPR		0x00000004
#define FL_ENCRYPT		0x00000800
#define FL_EXTENTS		0x00080000
#define FL_INLINE_DATA		0x10000000

/* extents */
#define EH_MAGIC		0xf30a
#define EH_LEN			12
#define EX_LEN			12
#define EX_MAXDEPTH		5
#define EX_INIT_MAX		32768

/* directory entries */
#define DE_HDR			8
#define DE_MIN			12

#define E4_STOP			(-1)	/* a callback stopped the walk */
#define E4_DONE			(-2)	/* the whole file is mapped */

static const char fsck[] = "run e2fsck -f";

static int
e4_read(struct fmt_ext4 *fs, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	int error;

	if ((error = fmt_src_read(&fs->src, buf, len, off, d)) != 0)
		(void)diag_prefix(d, "ext4: ");
	return (error);
}

/*
 * Points *p at len (<= 512) bytes at off of the volume, through the
 * window.  The pointer is valid until the next window read.
 */
static int
e4_get(struct fmt_ext4 *fs, uint64_t off, size_t len, const uint8_t **p,
    struct diag *d)
{
	uint64_t start;
	size_t wl;
	int error;

	if (len > 512 || !lr_range_ok(off, len, fs->volsize))
		return (diag_set(d, EINVAL, "ext4: a read of %zu bytes at "
		    "byte %llu falls outside the %llu-byte file system: the "
		    "file system is corrupt, %s", len,
		    (unsigned long long)off, (unsigned long long)fs->volsize,
		    fsck));
	if (fs->buf_len == 0 || off < fs->buf_off ||
	    off + len > fs->buf_off + fs->buf_len) {
		start = off & ~(uint64_t)511;
		wl = (size_t)LR_MIN((uint64_t)sizeof(fs->buf),
		    fs->volsize - start);
		fs->buf_len = 0;
		if ((error = e4_read(fs, fs->buf, wl, start, d)) != 0)
			return (error);
		fs->buf_off = start;
		fs->buf_len = wl;
	}
	*p = fs->buf + (off - fs->buf_off);
	return (0);
}

static bool
sb_sane(const uint8_t *sb)
{
	return (lr_le16dec(sb + SB_MAGIC) == E4_MAGIC &&
	    lr_le32dec(sb + SB_LOG_BLOCK_SIZE) <= 6 &&
	    lr_le32dec(sb + SB_REV_LEVEL) <= 1 &&
	    lr_le32dec(sb + SB_FIRST_DATA_BLOCK) <= 1 &&
	    lr_le32dec(sb + SB_BLOCKS_PER_GROUP) != 0 &&
	    lr_le32dec(sb + SB_INODES_PER_GROUP) != 0);
}

bool
fmt_ext4_probe(const void *buf, size_t len)
{
	if (len < E4_SB_OFF + E4_SB_LEN)
		return (false);
	return (sb_sane((const uint8_t *)buf + E4_SB_OFF));
}

/* --- group descriptors and inodes ---------------------------------------- */

static bool
is_power_of(uint32_t g, uint32_t b)
{
	while (g > 1 && g % b == 0)
		g /= b;
	return (g == 1);
}

static bool
bg_has_super(const struct fmt_ext4 *fs, uint32_t g)
{
	if (g == 0)
		return (true);
	if (fs->compat & COMPAT_SPARSE_SUPER2)
		return (g == fs->backup_bgs[0] || g == fs->backup_bgs[1]);
	if (g <= 1 || (fs->ro_compat & RO_SPARSE_SUPER) == 0)
		return (true);
	if ((g & 1) == 0)
		return (false);
	return (is_power_of(g, 3) || is_power_of(g, 5) || is_power_of(g, 7));
}

/* The block holding descriptor block mg (e2fsprogs' placement rules). */
static uint64_t
gdt_block(const struct fmt_ext4 *fs, uint32_t mg)
{
	uint64_t bg;
	uint32_t adj;

	adj = mg == 0 && fs->block_size == 1024 &&
	    (fs->ro_compat & RO_BIGALLOC) != 0;
	if ((fs->incompat & IN_META_BG) == 0 || mg < fs->first_meta_bg)
		return ((uint64_t)fs->first_data_block + mg + 1 + adj);
	bg = (uint64_t)mg * (fs->block_size / fs->desc_size);
	return (fs->first_data_block + bg * fs->blocks_per_group +
	    (bg <= UINT32_MAX && bg_has_super(fs, (uint32_t)bg)) + adj);
}

/* Reads inode ino (its first I_LEN bytes) into raw; *offp: its offset. */
static int
e4_inode_raw(struct fmt_ext4 *fs, uint32_t ino, uint8_t *raw,
    uint64_t *offp, struct diag *d)
{
	uint8_t gd[64];
	uint32_t g, idx, dpb;
	uint64_t blk, off, itab;
	size_t glen;
	int error;

	if (ino == 0 || ino > fs->ninodes)
		return (diag_set(d, EINVAL, "ext4: inode %u is outside "
		    "1..%u: the file system is corrupt, %s", ino,
		    fs->ninodes, fsck));
	g = (ino - 1) / fs->inodes_per_group;
	idx = (ino - 1) % fs->inodes_per_group;
	dpb = fs->block_size / fs->desc_size;
	blk = gdt_block(fs, g / dpb);
	glen = LR_MIN(fs->desc_size, sizeof(gd));
	off = blk * fs->block_size + (uint64_t)(g % dpb) * fs->desc_size;
	if (blk >= fs->nblocks || !lr_range_ok(off, glen, fs->volsize))
		return (diag_set(d, EINVAL, "ext4: the descriptor of group "
		    "%u lies in block %llu, outside the %llu blocks of the "
		    "file system: the file system is corrupt, %s", g,
		    (unsigned long long)blk,
		    (unsigned long long)fs->nblocks, fsck));
	if ((error = e4_read(fs, gd, glen, off, d)) != 0)
		return (error);
	itab = lr_le32dec(gd + BG_INODE_TABLE_LO);
	if ((fs->incompat & IN_64BIT) && fs->desc_size >= 64)
		itab |= (uint64_t)lr_le32dec(gd + BG_INODE_TABLE_HI) << 32;
	if (itab == 0 || itab >= fs->nblocks)
		return (diag_set(d, EINVAL, "ext4: group %u's inode table at "
		    "block %llu is outside the %llu blocks of the file "
		    "system: the file system is corrupt, %s", g,
		    (unsigned long long)itab,
		    (unsigned long long)fs->nblocks, fsck));
	off = itab * fs->block_size + (uint64_t)idx * fs->inode_size;
	if (!lr_range_ok(off, fs->inode_size, fs->volsize))
		return (diag_set(d, EINVAL, "ext4: inode %u (group %u's table "
		    "at block %llu) lies outside the file system: the file "
		    "system is corrupt, %s", ino, g, (unsigned long long)itab,
		    fsck));
	*offp = off;
	return (e4_read(fs, raw, I_LEN, off, d));
}

int
fmt_ext4_inode(struct fmt_ext4 *fs, uint32_t ino,
    struct fmt_ext4_dirent *e, struct diag *d)
{
	uint8_t raw[I_LEN];
	uint16_t fmt;
	int error;

	memset(e, 0, sizeof(*e));
	if ((error = e4_inode_raw(fs, ino, raw, &e->inode_off, d)) != 0)
		return (error);
	e->ino = ino;
	e->mode = lr_le16dec(raw + I_MODE);
	e->flags = lr_le32dec(raw + I_FLAGS);
	e->size = lr_le32dec(raw + I_SIZE_LO) |
	    (uint64_t)lr_le32dec(raw + I_SIZE_HIGH) << 32;
	memcpy(e->iblock, raw + I_BLOCK, sizeof(e->iblock));
	fmt = e->mode & S_IFMT_;
	e->is_dir = fmt == S_IFDIR_;
	e->is_reg = fmt == S_IFREG_;
	e->is_root = ino == FMT_EXT4_ROOT_INO;
	if (e->is_root)
		memcpy(e->name, "/", 2);
	return (0);
}

/* --- mapping: logical blocks to byte runs -------------------------------- */

typedef int (*e4_run_fn)(void *arg, uint64_t off, uint64_t len);

struct e4_map {
	struct fmt_ext4	*fs;
	const char	*what;
	struct diag	*d;
	uint64_t	 size;		/* bytes of the file */
	uint64_t	 nblk;		/* its logical blocks */
	uint64_t	 next;		/* the logical block expected */
	uint64_t	 runoff, runlen;
	e4_run_fn	 cb;
	void		*arg;
};

static int
e4_hole(struct e4_map *m, uint64_t lblk, const char *kind)
{
	return (diag_set(m->d, EINVAL, "ext4: %s: logical block %llu (byte "
	    "%llu) is %s: a file with holes cannot be read in place; copy "
	    "it again as a plain file (cp --sparse=never), or run e2fsck "
	    "if it should have no holes", m->what, (unsigned long long)lblk,
	    (unsigned long long)lblk * m->fs->block_size, kind));
}

/*
 * Logical blocks [lblk, lblk + count) are at [pblk, pblk + count).  Returns
 * E4_DONE once the file is covered.
 */
static int
e4_emit(struct e4_map *m, uint64_t lblk, uint64_t pblk, uint64_t count)
{
	struct fmt_ext4 *fs = m->fs;
	uint64_t off, len;
	int error;

	if (m->next >= m->nblk)
		return (E4_DONE);
	if (lblk > m->next)
		return (e4_hole(m, m->next, "a hole (not allocated)"));
	if (lblk < m->next || count == 0)
		return (diag_set(m->d, EINVAL, "ext4: %s: logical block %llu "
		    "is mapped twice (runs overlap): the file system is "
		    "corrupt, %s", m->what, (unsigned long long)lblk, fsck));
	count = LR_MIN(count, m->nblk - lblk);
	if (pblk <= fs->first_data_block || pblk >= fs->nblocks ||
	    count > fs->nblocks - pblk)
		return (diag_set(m->d, EINVAL, "ext4: %s: blocks %llu..%llu "
		    "(logical %llu) are outside %llu..%llu: the file system "
		    "is corrupt, %s", m->what, (unsigned long long)pblk,
		    (unsigned long long)(pblk + count - 1),
		    (unsigned long long)lblk,
		    (unsigned long long)fs->first_data_block + 1,
		    (unsigned long long)fs->nblocks - 1, fsck));
	off = pblk * fs->block_size;
	len = count * fs->block_size;
	m->next = lblk + count;
	if (m->next == m->nblk)
		len -= m->nblk * fs->block_size - m->size;
	if (m->runlen > 0 && m->runoff + m->runlen == off)
		m->runlen += len;
	else {
		if (m->runlen > 0 &&
		    (error = m->cb(m->arg, m->runoff, m->runlen)) != 0)
			return (error);
		m->runoff = off;
		m->runlen = len;
	}
	return (m->next == m->nblk ? E4_DONE : 0);
}

/* One extent node: header checks; the entries stay where they are. */
static int
e4_ehdr(struct e4_map *m, const uint8_t *h, unsigned fit, int want_depth,
    uint64_t blk, unsigned *n)
{
	unsigned max = lr_le16dec(h + 4), depth = lr_le16dec(h + 6);
	char where[40];
	bool ok;

	*n = lr_le16dec(h + 2);
	ok = lr_le16dec(h) == EH_MAGIC && *n <= max && max <= fit &&
	    depth <= EX_MAXDEPTH;
	if (want_depth >= 0)	/* a node below the root: never empty */
		ok = ok && depth == (unsigned)want_depth && *n > 0;
	if (ok)
		return (0);
	if (blk != 0)
		snprintf(where, sizeof(where), "at block %llu",
		    (unsigned long long)blk);
	else
		snprintf(where, sizeof(where), "in the inode");
	return (diag_set(m->d, EINVAL, "ext4: %s: extent node %s is malformed "
	    "(magic 0x%04x, %u of %u entries, depth %u): the file system is "
	    "corrupt, %s", m->what, where, lr_le16dec(h), *n, max, depth,
	    fsck));
}

/* Reads the 12-byte entry i of a node (in the inode when blk is 0). */
static int
e4_eent(struct e4_map *m, const uint8_t *iblock, uint64_t blk, unsigned i,
    uint8_t *out)
{
	const uint8_t *p;
	int error;

	if (blk == 0) {
		memcpy(out, iblock + EH_LEN + (size_t)i * EX_LEN, EX_LEN);
		return (0);
	}
	if ((error = e4_get(m->fs, blk * m->fs->block_size + EH_LEN +
	    (uint64_t)i * EX_LEN, EX_LEN, &p, m->d)) != 0)
		return (error);
	memcpy(out, p, EX_LEN);
	return (0);
}

static int
e4_extent_tree(struct e4_map *m, const uint8_t *iblock)
{
	struct fmt_ext4 *fs = m->fs;
	struct {
		uint64_t	blk;	/* 0: the root in the inode */
		unsigned	n, i, depth;
	} st[EX_MAXDEPTH + 1];
	const uint8_t *p;
	uint8_t e[EX_LEN], h[EH_LEN];
	uint64_t child, pblk;
	unsigned top = 0, len, n;
	int error;

	if ((error = e4_ehdr(m, iblock, 4, -1, 0, &n)) != 0)
		return (error);
	st[0].blk = 0;
	st[0].n = n;
	st[0].i = 0;
	st[0].depth = lr_le16dec(iblock + 6);
	for (;;) {
		if (st[top].i >= st[top].n) {
			if (top == 0)
				return (0);
			top--;
			continue;
		}
		if ((error = e4_eent(m, iblock, st[top].blk, st[top].i++,
		    e)) != 0)
			return (error);
		if (st[top].depth == 0) {
			len = lr_le16dec(e + 4);
			pblk = lr_le32dec(e + 8) |
			    (uint64_t)lr_le16dec(e + 6) << 32;
			if (len == 0)
				return (diag_set(m->d, EINVAL, "ext4: %s: an "
				    "extent at logical block %u has length 0: "
				    "the file system is corrupt, %s", m->what,
				    lr_le32dec(e), fsck));
			if (len > EX_INIT_MAX) {
				/* m->next < m->nblk here */
				if (lr_le32dec(e) != m->next)
					return (e4_emit(m, lr_le32dec(e), 0,
					    0));
				return (e4_hole(m, m->next, "unwritten "
				    "(allocated but never written, e.g. by "
				    "fallocate)"));
			}
			if ((error = e4_emit(m, lr_le32dec(e), pblk,
			    len)) != 0)
				return (error);
			continue;
		}
		child = lr_le32dec(e + 4) | (uint64_t)lr_le16dec(e + 8) << 32;
		if (child <= fs->first_data_block || child >= fs->nblocks)
			return (diag_set(m->d, EINVAL, "ext4: %s: extent index "
			    "points at block %llu, outside the file system: "
			    "the file system is corrupt, %s", m->what,
			    (unsigned long long)child, fsck));
		if ((error = e4_get(fs, child * fs->block_size, EH_LEN, &p,
		    m->d)) != 0)
			return (error);
		memcpy(h, p, EH_LEN);
		if ((error = e4_ehdr(m, h, (fs->block_size - EH_LEN) / EX_LEN,
		    (int)st[top].depth - 1, child, &n)) != 0)
			return (error);
		top++;
		st[top].blk = child;
		st[top].n = n;
		st[top].i = 0;
		st[top].depth = st[top - 1].depth - 1;
	}
}

/* The subtree of an indirect block blk at level (1: pointers to data). */
static int
e4_ind_tree(struct e4_map *m, uint32_t blk, int level)
{
	struct fmt_ext4 *fs = m->fs;
	const uint8_t *p;
	uint32_t i, ptr, per = fs->block_size / 4;
	int error;

	if (blk == 0)
		return (e4_hole(m, m->next, "a hole (not allocated)"));
	if (blk <= fs->first_data_block || blk >= fs->nblocks)
		return (diag_set(m->d, EINVAL, "ext4: %s: an indirect block "
		    "pointer names block %u, outside the file system: the "
		    "file system is corrupt, %s", m->what, blk, fsck));
	for (i = 0; i < per; i++) {
		if ((error = e4_get(fs, (uint64_t)blk * fs->block_size +
		    (uint64_t)i * 4, 4, &p, m->d)) != 0)
			return (error);
		ptr = lr_le32dec(p);
		if (level > 1)
			error = e4_ind_tree(m, ptr, level - 1);
		else if (ptr == 0)
			error = e4_hole(m, m->next, "a hole (not allocated)");
		else
			error = e4_emit(m, m->next, ptr, 1);
		if (error != 0)
			return (error);
	}
	return (0);
}

static int
e4_block_map(struct e4_map *m, const uint8_t *iblock)
{
	uint32_t ptr;
	int i, error;

	for (i = 0; i < 12; i++) {
		if ((ptr = lr_le32dec(iblock + 4 * i)) == 0)
			return (e4_hole(m, m->next, "a hole (not allocated)"));
		if ((error = e4_emit(m, m->next, ptr, 1)) != 0)
			return (error);
	}
	for (i = 1; i <= 3; i++)
		if ((error = e4_ind_tree(m, lr_le32dec(iblock + 4 * (11 + i)),
		    i)) != 0)
			return (error);
	return (0);
}

/* What an inode stores that this reader refuses to map; 0 when none. */
static int
e4_refuse(struct fmt_ext4 *fs, const struct fmt_ext4_dirent *e,
    const char *what, struct diag *d)
{
	(void)fs;
	if (e->flags & FL_INLINE_DATA)
		return (diag_set(d, ENOTSUP, "ext4: %s is stored inline in "
		    "its inode (inline_data), which liveroot does not read: "
		    "keep the ISO on a file system made without -O "
		    "inline_data", what));
	if (e->flags & FL_ENCRYPT)
		return (diag_set(d, ENOTSUP, "ext4: %s is encrypted "
		    "(fscrypt), which liveroot cannot read: move the ISO out "
		    "of the encrypted directory", what));
	if (e->flags & FL_COMPR)
		return (diag_set(d, ENOTSUP, "ext4: %s is compressed, which "
		    "liveroot does not read: copy it to a file system without "
		    "compression", what));
	if ((e->mode & S_IFMT_) == S_IFLNK_)
		return (diag_set(d, ENOTSUP, "ext4: %s is a symbolic link, "
		    "which liveroot does not follow: name the file it points "
		    "at", what));
	if (!e->is_dir && !e->is_reg)
		return (diag_set(d, EINVAL, "ext4: %s is not a regular file "
		    "or a directory (mode 0%o)", what, e->mode));
	return (0);
}

/* Calls cb for each coalesced run of e's data, in file order. */
static int
e4_runs(struct fmt_ext4 *fs, const struct fmt_ext4_dirent *e,
    const char *what, e4_run_fn cb, void *arg, struct diag *d)
{
	struct e4_map m;
	int error;

	if ((error = e4_refuse(fs, e, what, d)) != 0)
		return (error);
	if (e->size == 0)
		return (0);
	memset(&m, 0, sizeof(m));
	m.fs = fs;
	m.what = what;
	m.d = d;
	m.size = e->size;
	m.nblk = lr_div_roundup(e->size, fs->block_size);
	m.cb = cb;
	m.arg = arg;
	if (m.nblk > fs->nblocks)
		return (diag_set(d, EINVAL, "ext4: %s: its size %llu bytes is "
		    "larger than the file system: the file system is "
		    "corrupt, %s", what, (unsigned long long)e->size, fsck));
	if (e->flags & FL_EXTENTS)
		error = e4_extent_tree(&m, e->iblock);
	else
		error = e4_block_map(&m, e->iblock);
	if (error == E4_DONE)
		error = 0;
	if (error != 0)
		return (error);
	if (m.next < m.nblk)
		return (e4_hole(&m, m.next, "past the last mapped block (a "
		    "hole at the end)"));
	if (m.runlen > 0)
		return (cb(arg, m.runoff, m.runlen));
	return (0);
}

/* --- directories --------------------------------------------------------- */

struct e4_dirwalk {
	struct fmt_ext4	*fs;
	const char	*dirname;
	struct diag	*d;
	fmt_ext4_list_fn cb;
	void		*arg;
	uint64_t	 pos;		/* bytes of the directory read */
	bool		 inline_;	/* a run is one entry "block" */
	struct fmt_ext4_dirent ent;
};

static uint32_t
rec_len(const struct fmt_ext4 *fs, uint16_t v)
{
	if (fs->block_size < 65536)
		return (v);
	if (v == 65535 || v == 0)
		return (65536);
	return ((v & 65532u) | ((uint32_t)(v & 3) << 16));
}

/* The entry at off, with room bytes left in its block. */
static int
e4_dirent(struct e4_dirwalk *w, uint64_t off, uint64_t room, uint32_t *rl)
{
	struct fmt_ext4 *fs = w->fs;
	struct fmt_ext4_dirent *e = &w->ent;
	const uint8_t *p;
	uint32_t ino;
	unsigned nl, k;
	int error;

	if ((error = e4_get(fs, off, DE_HDR, &p, w->d)) != 0)
		return (error);
	ino = lr_le32dec(p);
	*rl = rec_len(fs, lr_le16dec(p + 4));
	nl = (fs->incompat & IN_FILETYPE) ? p[6] : lr_le16dec(p + 6);
	if (*rl < DE_MIN || *rl % 4 != 0 || *rl > room ||
	    nl > *rl - DE_HDR || nl > FMT_EXT4_NAMEMAX)
		return (diag_set(w->d, EINVAL, "ext4: %s: the entry at byte "
		    "%llu has rec_len %u and name_len %u, which do not fit "
		    "its block: the directory is corrupt, %s", w->dirname,
		    (unsigned long long)w->pos, *rl, nl, fsck));
	if (ino == 0)
		return (0);
	if (nl == 0)
		return (diag_set(w->d, EINVAL, "ext4: %s: the entry at byte "
		    "%llu names inode %u with an empty name: the directory is "
		    "corrupt, %s", w->dirname, (unsigned long long)w->pos, ino,
		    fsck));
	if ((error = e4_get(fs, off + DE_HDR, nl, &p, w->d)) != 0)
		return (error);
	if ((nl == 1 && p[0] == '.') || (nl == 2 && p[0] == '.' &&
	    p[1] == '.'))
		return (0);
	for (k = 0; k < nl; k++)
		if (p[k] == '/' || p[k] == '\0')
			return (diag_set(w->d, EINVAL, "ext4: %s: the entry at "
			    "byte %llu has a name with '/' or NUL in it: the "
			    "directory is corrupt, %s", w->dirname,
			    (unsigned long long)w->pos, fsck));
	if (w->cb == NULL)
		return (0);
	{
		char name[FMT_EXT4_NAMEMAX + 1];

		memcpy(name, p, nl);
		name[nl] = '\0';
		if ((error = fmt_ext4_inode(fs, ino, e, w->d)) != 0)
			return (diag_prefix(w->d, "%s, entry \"%s\": ",
			    w->dirname, name));
		memcpy(e->name, name, (size_t)nl + 1);
		e->name_len = (uint8_t)nl;
	}
	error = w->cb(w->arg, e);
	return (error < 0 ? E4_STOP : error);
}

static int
e4_dir_run(void *arg, uint64_t off, uint64_t len)
{
	struct e4_dirwalk *w = arg;
	uint64_t o;
	uint32_t rl;
	int error;

	for (o = 0; o < len; o += rl) {
		if ((error = e4_dirent(w, off + o, w->inline_ ? len - o :
		    w->fs->block_size - o % w->fs->block_size, &rl)) != 0)
			return (error);
		w->pos += rl;
	}
	return (0);
}

/*
 * An inline directory (inline_data): the parent's number, then entries in
 * the rest of i_block (56 bytes), then more entries in the value of the
 * in-inode extended attribute "system.data" (after i_extra_isize: le32
 * magic 0xEA020000, then entries of u8 name_len, u8 name_index (7:
 * system), le16 value offset from the first entry, le32 value inode, le32
 * value size, le32 hash, the name padded to 4; four zero bytes end them).
 */
static int
e4_inline_dir(struct e4_dirwalk *w, const struct fmt_ext4_dirent *dir)
{
	struct fmt_ext4 *fs = w->fs;
	const uint8_t *p;
	uint64_t ioff = dir->inode_off, end = ioff + fs->inode_size, x, e0;
	uint32_t voff, vsize, esz;
	int error;

	w->inline_ = true;
	if ((error = e4_dir_run(w, ioff + I_BLOCK + 4, 56)) != 0)
		return (error);
	if (fs->inode_size <= I_LEN + 4)
		return (0);
	if ((error = e4_get(fs, ioff + I_LEN, 2, &p, w->d)) != 0)
		return (error);
	x = ioff + I_LEN + lr_le16dec(p);
	if (x + 4 > end || (error = e4_get(fs, x, 4, &p, w->d)) != 0 ||
	    lr_le32dec(p) != 0xea020000u)
		return (error != 0 ? error : 0);
	e0 = x + 4;
	for (x = e0; x + 16 <= end; x += esz) {
		if ((error = e4_get(fs, x, 16, &p, w->d)) != 0)
			return (error);
		if (lr_le32dec(p) == 0)
			break;
		esz = (16u + p[0] + 3) & ~3u;
		voff = lr_le16dec(p + 2);
		vsize = lr_le32dec(p + 8);
		if (p[1] != 7 || p[0] != 4)
			continue;
		if (lr_le32dec(p + 4) != 0 || e0 + voff > end ||
		    vsize > end - e0 - voff || x + esz > end)
			return (diag_set(w->d, EINVAL, "ext4: %s: the inline "
			    "directory's system.data attribute (%u bytes at "
			    "%u) lies outside its inode: the file system is "
			    "corrupt, %s", w->dirname, vsize, voff, fsck));
		if ((error = e4_get(fs, x + 16, 4, &p, w->d)) != 0)
			return (error);
		if (memcmp(p, "data", 4) != 0)
			continue;
		return (vsize == 0 ? 0 : e4_dir_run(w, e0 + voff, vsize));
	}
	return (0);
}

static int
e4_walk(struct e4_dirwalk *w, const struct fmt_ext4_dirent *dir)
{
	struct fmt_ext4 *fs = w->fs;
	struct fmt_ext4_dirent root;
	int error;

	if (dir == NULL) {
		if ((error = fmt_ext4_inode(fs, FMT_EXT4_ROOT_INO, &root,
		    w->d)) != 0)
			return (error);
		dir = &root;
	}
	w->dirname = dir->is_root ? "root directory" : dir->name;
	if (!dir->is_dir)
		return (diag_set(w->d, ENOTDIR, "ext4: %s is not a directory",
		    w->dirname));
	w->pos = 0;
	if ((dir->flags & (FL_INLINE_DATA | FL_ENCRYPT)) == FL_INLINE_DATA) {
		error = e4_inline_dir(w, dir);
		return (error < 0 ? 0 : error);
	}
	if ((error = e4_refuse(fs, dir, w->dirname, w->d)) != 0)
		return (error);
	if (dir->size % fs->block_size != 0)
		return (diag_set(w->d, EINVAL, "ext4: %s: its size %llu is not "
		    "a multiple of the block size %u: the directory is "
		    "corrupt, %s", w->dirname, (unsigned long long)dir->size,
		    fs->block_size, fsck));
	error = e4_runs(fs, dir, w->dirname, e4_dir_run, w, w->d);
	return (error < 0 ? 0 : error);
}

int
fmt_ext4_list(struct fmt_ext4 *fs, const struct fmt_ext4_dirent *dir,
    fmt_ext4_list_fn cb, void *arg, struct diag *d)
{
	struct e4_dirwalk w;

	memset(&w, 0, sizeof(w));
	w.fs = fs;
	w.d = d;
	w.cb = cb;
	w.arg = arg;
	return (e4_walk(&w, dir));
}

/* --- open ---------------------------------------------------------------- */

static const char *
e4_kind(uint32_t compat, uint32_t incompat, uint32_t ro_compat)
{
	if ((incompat & ~(uint32_t)(IN_FILETYPE | IN_RECOVER | IN_META_BG)) ||
	    (ro_compat & ~(uint32_t)(RO_SPARSE_SUPER | RO_LARGE_FILE |
	    RO_BTREE_DIR)))
		return ("ext4");
	return ((compat & COMPAT_HAS_JOURNAL) ? "ext3" : "ext2");
}

int
fmt_ext4_open(struct fmt_ext4 *fs, const struct fmt_src *src,
    struct diag *d)
{
	struct fmt_ext4_dirent root;
	uint8_t *sb = fs->buf;
	uint64_t gdt, n;
	uint32_t logb, rev, fdb, k;
	int error;

	memset(fs, 0, sizeof(*fs));
	fs->src = *src;
	if (src->size < E4_SB_OFF + E4_SB_LEN)
		return (diag_set(d, EINVAL, "ext4: the volume (%llu bytes) is "
		    "smaller than a superblock", (unsigned long long)
		    src->size));
	if ((error = e4_read(fs, sb, E4_SB_LEN, E4_SB_OFF, d)) != 0)
		return (error);
	if (lr_le16dec(sb + SB_MAGIC) != E4_MAGIC)
		return (diag_set(d, EINVAL, "ext4: no magic 0xEF53 at byte "
		    "1080: not an ext2/3/4 file system"));
	rev = lr_le32dec(sb + SB_REV_LEVEL);
	logb = lr_le32dec(sb + SB_LOG_BLOCK_SIZE);
	if (rev > 1)
		return (diag_set(d, ENOTSUP, "ext4: revision %u is newer than "
		    "the revisions 0 and 1 liveroot reads", rev));
	if (logb > 6)
		return (diag_set(d, EINVAL, "ext4: block size 2^%u KiB is over "
		    "64 KiB: the superblock is corrupt", logb));
	fs->block_size = 1024u << logb;
	if (rev >= 1) {
		fs->compat = lr_le32dec(sb + SB_FEATURE_COMPAT);
		fs->incompat = lr_le32dec(sb + SB_FEATURE_INCOMPAT);
		fs->ro_compat = lr_le32dec(sb + SB_FEATURE_RO_COMPAT);
	}
	if (fs->incompat & IN_JOURNAL_DEV)
		return (diag_set(d, EINVAL, "ext4: this is an external journal "
		    "device, not a file system: name the file system's own "
		    "partition"));
	if (fs->incompat & (IN_COMPRESSION | IN_DIRDATA))
		return (diag_set(d, ENOTSUP, "ext4: the file system uses %s, "
		    "which liveroot does not read: keep the ISO on a file "
		    "system without it", (fs->incompat & IN_COMPRESSION) ?
		    "compression" : "dirdata (Lustre)"));
	if (fs->incompat & ~(uint32_t)IN_KNOWN)
		return (diag_set(d, ENOTSUP, "ext4: the file system has "
		    "incompatible features 0x%x that liveroot does not know: "
		    "keep the ISO on a file system without them",
		    fs->incompat & ~(uint32_t)IN_KNOWN));
	fs->needs_recovery = (fs->incompat & IN_RECOVER) != 0;
	fs->inode_size = rev == 0 ? 128 : lr_le16dec(sb + SB_INODE_SIZE);
	if (fs->inode_size < 128 || fs->inode_size > fs->block_size ||
	    !lr_is_pow2(fs->inode_size))
		return (diag_set(d, EINVAL, "ext4: inode size %u is not a "
		    "power of two in 128..%u: the superblock is corrupt",
		    fs->inode_size, fs->block_size));
	fdb = lr_le32dec(sb + SB_FIRST_DATA_BLOCK);
	k = fs->block_size == 1024 && (fs->ro_compat & RO_BIGALLOC) == 0;
	if (fdb != k)
		return (diag_set(d, EINVAL, "ext4: first data block %u (must "
		    "be %u with %u-byte blocks): the superblock is corrupt",
		    fdb, k, fs->block_size));
	fs->first_data_block = fdb;
	fs->nblocks = lr_le32dec(sb + SB_BLOCKS_LO);
	if (fs->incompat & IN_64BIT)
		fs->nblocks |= (uint64_t)lr_le32dec(sb + SB_BLOCKS_HI) << 32;
	if (fs->nblocks <= (uint64_t)fdb + 1 ||
	    fs->nblocks > src->size / fs->block_size)
		return (diag_set(d, EINVAL, "ext4: the file system is %llu "
		    "blocks of %u bytes but the medium has %llu bytes: "
		    "truncated image or wrong partition",
		    (unsigned long long)fs->nblocks, fs->block_size,
		    (unsigned long long)src->size));
	fs->volsize = fs->nblocks * fs->block_size;
	fs->blocks_per_group = lr_le32dec(sb + SB_BLOCKS_PER_GROUP);
	fs->inodes_per_group = lr_le32dec(sb + SB_INODES_PER_GROUP);
	fs->ninodes = lr_le32dec(sb + SB_INODES_COUNT);
	if (fs->blocks_per_group == 0 || fs->inodes_per_group == 0 ||
	    fs->inodes_per_group > fs->block_size * 8)
		return (diag_set(d, EINVAL, "ext4: %u blocks and %u inodes per "
		    "group: the superblock is corrupt", fs->blocks_per_group,
		    fs->inodes_per_group));
	n = lr_div_roundup(fs->nblocks - fdb, fs->blocks_per_group);
	if (n > UINT32_MAX || fs->ninodes < FMT_EXT4_ROOT_INO ||
	    fs->ninodes > n * fs->inodes_per_group)
		return (diag_set(d, EINVAL, "ext4: %u inodes do not fit %llu "
		    "groups of %u: the superblock is corrupt", fs->ninodes,
		    (unsigned long long)n, fs->inodes_per_group));
	fs->ngroups = (uint32_t)n;
	fs->desc_size = 32;
	if (fs->incompat & IN_64BIT) {
		fs->desc_size = lr_le16dec(sb + SB_DESC_SIZE);
		if (fs->desc_size < 64 || fs->desc_size > 1024 ||
		    fs->desc_size > fs->block_size ||
		    !lr_is_pow2(fs->desc_size))
			return (diag_set(d, EINVAL, "ext4: group descriptor "
			    "size %u is not a power of two in 64..1024: the "
			    "superblock is corrupt", fs->desc_size));
	}
	/* the classic descriptor table (all of it, or up to meta_bg) */
	gdt = lr_div_roundup((uint64_t)fs->ngroups * fs->desc_size,
	    fs->block_size);
	if (fs->incompat & IN_META_BG) {
		fs->first_meta_bg = lr_le32dec(sb + SB_FIRST_META_BG);
		if (fs->first_meta_bg > gdt)
			return (diag_set(d, EINVAL, "ext4: first meta block "
			    "group %u is past the %llu descriptor blocks: the "
			    "superblock is corrupt", fs->first_meta_bg,
			    (unsigned long long)gdt));
		gdt = fs->first_meta_bg;
	}
	if (gdt > fs->nblocks - fdb - 2)
		return (diag_set(d, EINVAL, "ext4: %llu group descriptor "
		    "blocks do not fit the %llu blocks of the file system: "
		    "the superblock is corrupt", (unsigned long long)gdt,
		    (unsigned long long)fs->nblocks));
	fs->backup_bgs[0] = lr_le32dec(sb + SB_BACKUP_BGS);
	fs->backup_bgs[1] = lr_le32dec(sb + SB_BACKUP_BGS + 4);
	memcpy(fs->uuid, sb + SB_UUID, sizeof(fs->uuid));
	memcpy(fs->label, sb + SB_VOLUME_NAME, 16);
	fs->label[16] = '\0';
	/* labels get printed: no terminal escapes */
	for (k = 0; fs->label[k] != '\0'; k++)
		if ((uint8_t)fs->label[k] < 0x20 || fs->label[k] == 0x7f)
			fs->label[k] = '_';
	fs->kind = e4_kind(fs->compat, fs->incompat, fs->ro_compat);
	fs->buf_len = 0;	/* the window held the superblock */
	if ((error = fmt_ext4_inode(fs, FMT_EXT4_ROOT_INO, &root, d)) != 0)
		return (diag_prefix(d, "root directory: "));
	if (!root.is_dir)
		return (diag_set(d, EINVAL, "ext4: the root inode is not a "
		    "directory (mode 0%o): the file system is corrupt, %s",
		    root.mode, fsck));
	diag_clear(d);
	return (0);
}

void
fmt_ext4_close(struct fmt_ext4 *fs)
{
	if (fs != NULL)
		fs->buf_len = 0;
}

/* --- lookup and extents -------------------------------------------------- */

struct e4_find {
	const char	*name;
	size_t		 n;
	struct fmt_ext4_dirent *out;
	bool		 found;
};

static int
e4_find_cb(void *arg, const struct fmt_ext4_dirent *e)
{
	struct e4_find *f = arg;

	if (e->name_len != f->n || memcmp(e->name, f->name, f->n) != 0)
		return (0);
	*f->out = *e;
	f->found = true;
	return (E4_STOP);
}

int
fmt_ext4_lookup(struct fmt_ext4 *fs, const char *path,
    struct fmt_ext4_dirent *ent, struct diag *d)
{
	struct e4_dirwalk w;
	struct fmt_ext4_dirent cur;
	struct e4_find f;
	const char *s = path, *e;
	int error, depth = 0;

	if ((error = fmt_ext4_inode(fs, FMT_EXT4_ROOT_INO, &cur, d)) != 0)
		return (error);
	for (;;) {
		if ((error = fmt_path_next("ext4", path, &s, &e, &depth,
		    FMT_EXT4_MAXDEPTH, cur.is_dir, d)) != 0)
			return (error);
		if (s == e)
			break;
		if ((size_t)(e - s) > FMT_EXT4_NAMEMAX)
			return (diag_set(d, ENOENT, "ext4: %s: a component is "
			    "longer than %d bytes", path, FMT_EXT4_NAMEMAX));
		f.name = s;
		f.n = (size_t)(e - s);
		f.out = ent;
		f.found = false;
		memset(&w, 0, sizeof(w));
		w.fs = fs;
		w.d = d;
		w.cb = e4_find_cb;
		w.arg = &f;
		error = e4_walk(&w, &cur);
		if (!f.found)
			return (fmt_path_missing("ext4", path, e, error, d));
		cur = *ent;
		s = e;
	}
	*ent = cur;
	return (0);
}

int
fmt_ext4_extents(struct fmt_ext4 *fs, const struct fmt_ext4_dirent *ent,
    struct fmt_extent *ext, size_t max, size_t *nextents, struct diag *d)
{
	struct fmt_ext_list x = { ext, max, 0 };
	int error;

	*nextents = 0;
	if ((error = e4_runs(fs, ent, ent->is_root ? "root directory" :
	    ent->name, fmt_ext_list_add, &x, d)) != 0)
		return (error);
	*nextents = x.n;
	if (x.n > max)
		return (diag_set(d, ENOSPC, "ext4: %s: %zu extents do not "
		    "fit in %zu", ent->name, x.n, max));
	return (0);
}
