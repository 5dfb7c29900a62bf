/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ntfs.c - read-only NTFS (fmt_ntfs.h).
 *
 * Shape: an MFT record is read through the $MFT's runlist (decoded once at
 * open) into one of two record buffers and checked whole (fixups, header)
 * before any attribute is looked at; nt_attr_next() is the only place that
 * decodes an attribute header, nt_runs_decode() the only place that decodes
 * mapping pairs.  Every attribute stream (a file's $DATA, a directory's
 * $INDEX_ALLOCATION, $UpCase, the $MFT itself) is visited by nt_segments()
 * as its segments in VCN order: the attribute records of the base record,
 * or, when the base record has an $ATTRIBUTE_LIST, the records the list
 * names (extension records go to rec[1], so a resident list in rec[0]
 * stays readable).  nt_seg() checks the segments join up and hands each run
 * to a callback; reads, extent lists and the $MFT runlist are such
 * callbacks.
 *
 * Directories are walked depth-first over the whole B+tree with an explicit
 * stack of (node, entry offset); a node (the root in rootv, an INDX block in
 * idx) is reloaded whenever its tag says a nested call replaced it, so a
 * listing callback may use the same struct.  Nodes and entries are
 * validated each time they are used.
 *
 * Invariants after open: the volume lies inside the medium; every run
 * handed to a callback lies inside the volume; record, index and cluster
 * sizes are powers of two with records at most FMT_NTFS_RECMAX bytes.
 * No locking: one thread per struct fmt_ntfs.
 */
#include <liveroot/fmt_ntfs.h>
#include <liveroot/util.h>

#include "fmt_text.h"

/* Boot sector */
#define NB_OEM		0x03
#define NB_BPS		0x0b	/* u16 bytes per sector */
#define NB_SPC		0x0d	/* u8 sectors per cluster, or 2^-(s8) */
#define NB_NSECT	0x28	/* u64 sectors in the volume */
#define NB_MFTLCN	0x30	/* u64 */
#define NB_CPMFT	0x40	/* s8 clusters per MFT record, or 2^-n bytes */
#define NB_CPIDX	0x44	/* s8 clusters per index record */
#define NB_SERIAL	0x48	/* u64 */
#define NT_MAXCLUSTER	(2u << 20)

/* Multi-sector record header (FILE and INDX) */
#define NR_USAOFS	0x04
#define NR_USACNT	0x06
#define NR_SEQ		0x10	/* FILE: u16 sequence number */
#define NR_ATTROFF	0x14	/* FILE: u16 first attribute */
#define NR_FLAGS	0x16	/* FILE: u16 */
#define NR_USED		0x18	/* FILE: u32 bytes in use */
#define NR_ALLOC	0x1c	/* FILE: u32 bytes allocated */
#define NR_BASE		0x20	/* FILE: u64 base record reference */
#define NR_RECNO	0x2c	/* FILE (3.1): u32 own record number */
#define NR_F_INUSE	0x0001
#define NR_F_DIR	0x0002
#define NT_BLOCK	512u	/* fixup stride */

/* Attribute record header */
#define NA_LEN		0x04	/* u32 */
#define NA_NONRES	0x08
#define NA_NAMELEN	0x09	/* UTF-16 units */
#define NA_NAMEOFF	0x0a	/* u16 */
#define NA_FLAGS	0x0c	/* u16 */
#define NA_VLEN		0x10	/* resident: u32 value length */
#define NA_VOFF		0x14	/* resident: u16 value offset */
#define NA_RESHDR	0x18
#define NA_LOWVCN	0x10	/* non-resident: u64 */
#define NA_HIGHVCN	0x18	/* u64 */
#define NA_MPOFF	0x20	/* u16 mapping pairs offset */
#define NA_ASIZE	0x28	/* u64 allocated size */
#define NA_DSIZE	0x30	/* u64 data size */
#define NA_ISIZE	0x38	/* u64 initialized size */
#define NA_NRHDR	0x40
#define NA_F_COMPR	0x00ff
#define NA_F_ENCR	0x4000

#define AT_ATTRLIST	0x20u
#define AT_FILENAME	0x30u
#define AT_VOLNAME	0x60u
#define AT_DATA		0x80u
#define AT_IROOT	0x90u
#define AT_IALLOC	0xa0u
#define AT_END		0xffffffffu

/* $ATTRIBUTE_LIST entry */
#define NL_LEN		0x04	/* u16 */
#define NL_NAMELEN	0x06
#define NL_NAMEOFF	0x07
#define NL_LOWVCN	0x08	/* u64 */
#define NL_REF		0x10	/* u64 */
#define NL_HDR		0x1a

/* $FILE_NAME value (the key of a $I30 index entry) */
#define NF_SIZE		0x30	/* u64 data size */
#define NF_ATTR		0x38	/* u32 file attributes */
#define NF_NAMELEN	0x40
#define NF_NS		0x41
#define NF_NAME		0x42
#define NF_A_DIR	0x10000000u

/* $INDEX_ROOT, index header, INDX block, index entry */
#define NI_TYPE		0x00
#define NI_BSIZE	0x08
#define NI_HDR		0x10
#define NH_EOFF		0x00	/* u32, from the header */
#define NH_LEN		0x04	/* u32 bytes in use, from the header */
#define NH_SIZE		0x10
#define NX_VCN		0x10
#define NX_HDR		0x18
#define NE_LEN		0x08	/* u16 */
#define NE_KEYLEN	0x0a	/* u16 */
#define NE_FLAGS	0x0c	/* u16 */
#define NE_KEY		0x10
#define NE_F_NODE	0x0001
#define NE_F_END	0x0002

#define REC_NO(ref)	((ref) & 0xffffffffffffull)
#define REC_SEQ(ref)	((unsigned)((ref) >> 48))
#define NT_STOP		(-1)
#define NT_SPARSE	UINT64_MAX
#define NT_ROOTVCN	UINT64_MAX
#define NT_MFTRUNMAX	(1u << 20)
#define NT_FSCK		"the file system is corrupt, run chkdsk /f on Windows"

typedef int (*nt_run_fn)(void *arg, uint64_t vcn, uint64_t lcn, uint64_t n);

struct nt_attr {
	uint32_t	type;
	uint32_t	len;
	uint16_t	flags;
	bool		nonres;
	uint8_t		namelen;
	const uint8_t	*name;
	const uint8_t	*val;		/* resident */
	uint32_t	vlen;
	uint64_t	low, high;	/* non-resident */
	uint64_t	asize, dsize, isize;
	const uint8_t	*mp;
	uint32_t	mplen;
};

/* Which attribute: a type and a name (NULL: unnamed). */
struct nt_want {
	uint32_t	type;
	const char	*name;		/* ASCII */
	const char	*what;		/* for messages: the file's name */
	bool		refuse;		/* compressed/encrypted: ENOTSUP */
};

/* What the first segment of a stream said. */
struct nt_stream {
	bool		found;
	bool		resident;
	uint16_t	flags;
	uint64_t	dsize, isize, asize;
	const uint8_t	*val;		/* resident; valid until rec reuse */
	uint32_t	vlen;
	uint64_t	next_vcn;
};

typedef int (*nt_seg_fn)(void *arg, const struct nt_attr *at,
    struct diag *d);

bool
fmt_ntfs_probe(const void *boot, size_t len)
{
	const uint8_t *b = boot;
	unsigned bps, spc;

	if (len < 512 || memcmp(b + NB_OEM, "NTFS    ", 8) != 0 ||
	    b[510] != 0x55 || b[511] != 0xaa)
		return (false);
	bps = lr_le16dec(b + NB_BPS);
	spc = b[NB_SPC];
	return (lr_is_pow2(bps) && bps >= 256 && bps <= 4096 &&
	    ((spc <= 0x80 && lr_is_pow2(spc)) || spc >= 0xf4));
}

static int
nt_read(struct fmt_ntfs *fs, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	int error;

	if ((error = fmt_src_read(&fs->src, buf, len, off, d)) != 0)
		(void)diag_prefix(d, "NTFS: ");
	return (error);
}

/*
 * Applies the update sequence array of a multi-sector record of size bytes
 * (FILE or INDX): every 512-byte block must end in the update sequence
 * number, which the array's entry replaces.
 */
static int
nt_fixup(uint8_t *b, uint32_t size, const char *magic, const char *what,
    uint64_t no, struct diag *d)
{
	uint32_t usaofs, usacnt, i;
	uint16_t usn;

	if (memcmp(b, magic, 4) != 0)
		return (diag_set(d, EINVAL, "NTFS: %s %llu does not start with "
		    "\"%s\" (%02x %02x %02x %02x): %s", what,
		    (unsigned long long)no, magic, b[0], b[1], b[2], b[3],
		    NT_FSCK));
	usaofs = lr_le16dec(b + NR_USAOFS);
	usacnt = lr_le16dec(b + NR_USACNT);
	if (usacnt != size / NT_BLOCK + 1 || (usaofs & 1) != 0 ||
	    usaofs < 0x28 || usaofs + 2 * usacnt > NT_BLOCK - 2)
		return (diag_set(d, EINVAL, "NTFS: %s %llu: update sequence "
		    "array of %u entries at offset %u does not fit a %u-byte "
		    "record: %s", what, (unsigned long long)no, usacnt, usaofs,
		    size, NT_FSCK));
	usn = lr_le16dec(b + usaofs);
	for (i = 1; i < usacnt; i++) {
		if (lr_le16dec(b + i * NT_BLOCK - 2) != usn)
			return (diag_set(d, EINVAL, "NTFS: %s %llu: block %u "
			    "does not end in the update sequence number 0x%04x "
			    "(a torn or corrupt write): %s", what,
			    (unsigned long long)no, i - 1, usn, NT_FSCK));
		memcpy(b + i * NT_BLOCK - 2, b + usaofs + 2 * i, 2);
	}
	return (0);
}

/* Reads [off, off + len) of a runlist held in an array (the $MFT's). */
static int
nt_array_read(struct fmt_ntfs *fs, const struct fmt_ntfs_run *r, size_t n,
    uint64_t off, uint8_t *buf, uint32_t len, struct diag *d)
{
	uint64_t cs = fs->cluster_size, vcn, k, lo, hi, mid;
	int error;

	while (len > 0) {
		vcn = off / cs;
		lo = 0;
		hi = n;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (r[mid].vcn + r[mid].len <= vcn)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == n || r[lo].vcn > vcn)
			return (diag_set(d, EINVAL, "NTFS: byte %llu of $MFT "
			    "is past its runlist: %s", (unsigned long long)off,
			    NT_FSCK));
		k = (r[lo].vcn + r[lo].len - vcn) * cs - off % cs;
		k = LR_MIN(k, len);
		if ((error = nt_read(fs, buf, (size_t)k, (r[lo].lcn + vcn -
		    r[lo].vcn) * cs + off % cs, d)) != 0)
			return (error);
		buf += k;
		off += k;
		len -= (uint32_t)k;
	}
	return (0);
}

/* Reads and checks MFT record recno into buf. */
static int
nt_rec_read(struct fmt_ntfs *fs, uint64_t recno, uint8_t *buf,
    struct diag *d)
{
	uint32_t rs = fs->rec_size, usaofs, attroff, used;
	int error;

	if (recno >= fs->nrecords)
		return (diag_set(d, EINVAL, "NTFS: MFT record %llu is past the "
		    "%llu records of $MFT: %s", (unsigned long long)recno,
		    (unsigned long long)fs->nrecords, NT_FSCK));
	if ((error = nt_array_read(fs, fs->mft, fs->nmft, recno * rs, buf, rs,
	    d)) != 0)
		return (error);
	if ((error = nt_fixup(buf, rs, "FILE", "MFT record", recno, d)) != 0)
		return (error);
	usaofs = lr_le16dec(buf + NR_USAOFS);
	attroff = lr_le16dec(buf + NR_ATTROFF);
	used = lr_le32dec(buf + NR_USED);
	if (lr_le32dec(buf + NR_ALLOC) != rs || used > rs ||
	    attroff < usaofs + 2u * lr_le16dec(buf + NR_USACNT) ||
	    (attroff & 7) != 0 || attroff + 4u > used)
		return (diag_set(d, EINVAL, "NTFS: MFT record %llu: attributes "
		    "at %u, %u bytes used of %u allocated do not fit its %u "
		    "bytes: %s", (unsigned long long)recno, attroff, used,
		    lr_le32dec(buf + NR_ALLOC), rs, NT_FSCK));
	if (usaofs >= 0x30 && lr_le32dec(buf + NR_RECNO) != (uint32_t)recno)
		return (diag_set(d, EINVAL, "NTFS: MFT record %llu says it is "
		    "record %u: %s", (unsigned long long)recno,
		    lr_le32dec(buf + NR_RECNO), NT_FSCK));
	return (0);
}

/* The record of ref, in use and of the reference's sequence number. */
static int
nt_rec_get(struct fmt_ntfs *fs, uint64_t ref, uint8_t *buf, struct diag *d)
{
	int error;

	if ((error = nt_rec_read(fs, REC_NO(ref), buf, d)) != 0)
		return (error);
	if ((lr_le16dec(buf + NR_FLAGS) & NR_F_INUSE) == 0)
		return (diag_set(d, EINVAL, "NTFS: MFT record %llu is not in "
		    "use (a deleted file is still referenced): %s",
		    (unsigned long long)REC_NO(ref), NT_FSCK));
	if (REC_SEQ(ref) != 0 && lr_le16dec(buf + NR_SEQ) != REC_SEQ(ref))
		return (diag_set(d, EINVAL, "NTFS: MFT record %llu has "
		    "sequence number %u, the reference to it %u (a stale "
		    "reference): %s", (unsigned long long)REC_NO(ref),
		    lr_le16dec(buf + NR_SEQ), REC_SEQ(ref), NT_FSCK));
	return (0);
}

/*
 * The attribute of rec (a checked record) at *off: 0 and *off advanced, or
 * NT_STOP at the end marker.
 */
static int
nt_attr_next(const uint8_t *rec, uint64_t recno, uint32_t *off,
    struct nt_attr *at, struct diag *d)
{
	uint32_t used = lr_le32dec(rec + NR_USED), o = *off, nameoff, voff,
	    mpoff;
	const uint8_t *a = rec + o;

	memset(at, 0, sizeof(*at));
	if (o + 4 > used)
		return (diag_set(d, EINVAL, "NTFS: MFT record %llu: the "
		    "attributes run past its %u used bytes without an end "
		    "marker: %s", (unsigned long long)recno, used, NT_FSCK));
	at->type = lr_le32dec(a);
	if (at->type == AT_END)
		return (NT_STOP);
	at->len = o + NA_RESHDR <= used ? lr_le32dec(a + NA_LEN) : 0;
	if (at->len < NA_RESHDR || (at->len & 7) != 0 || at->len > used - o)
		return (diag_set(d, EINVAL, "NTFS: MFT record %llu: attribute "
		    "0x%x at offset %u has length %u (%u bytes left): %s",
		    (unsigned long long)recno, at->type, o, at->len, used - o,
		    NT_FSCK));
	at->nonres = a[NA_NONRES] != 0;
	at->namelen = a[NA_NAMELEN];
	nameoff = lr_le16dec(a + NA_NAMEOFF);
	at->flags = lr_le16dec(a + NA_FLAGS);
	if (a[NA_NONRES] > 1 || (at->namelen > 0 &&
	    nameoff + 2u * at->namelen > at->len))
		return (diag_set(d, EINVAL, "NTFS: MFT record %llu: attribute "
		    "0x%x at offset %u: its name (%u units at %u) or its "
		    "form byte %u is out of bounds: %s",
		    (unsigned long long)recno, at->type, o, at->namelen,
		    nameoff, a[NA_NONRES], NT_FSCK));
	at->name = a + nameoff;
	if (!at->nonres) {
		at->vlen = lr_le32dec(a + NA_VLEN);
		voff = lr_le16dec(a + NA_VOFF);
		if (voff > at->len || at->vlen > at->len - voff)
			return (diag_set(d, EINVAL, "NTFS: MFT record %llu: "
			    "attribute 0x%x: a %u-byte value at %u does not "
			    "fit its %u bytes: %s", (unsigned long long)recno,
			    at->type, at->vlen, voff, at->len, NT_FSCK));
		at->val = a + voff;
	} else {
		mpoff = at->len >= NA_NRHDR ? lr_le16dec(a + NA_MPOFF) : 0;
		if (mpoff < NA_NRHDR || mpoff >= at->len)
			return (diag_set(d, EINVAL, "NTFS: MFT record %llu: "
			    "non-resident attribute 0x%x of %u bytes has its "
			    "mapping pairs at %u: %s",
			    (unsigned long long)recno, at->type, at->len,
			    mpoff, NT_FSCK));
		at->low = lr_le64dec(a + NA_LOWVCN);
		at->high = lr_le64dec(a + NA_HIGHVCN);
		at->asize = lr_le64dec(a + NA_ASIZE);
		at->dsize = lr_le64dec(a + NA_DSIZE);
		at->isize = lr_le64dec(a + NA_ISIZE);
		at->mp = a + mpoff;
		at->mplen = at->len - mpoff;
	}
	*off = o + at->len;
	return (0);
}

static bool
nt_name_is(const uint8_t *n16, unsigned n, const char *name)
{
	unsigned i;

	if (name == NULL)
		return (n == 0);
	for (i = 0; i < n; i++)
		if (name[i] == '\0' || lr_le16dec(n16 + 2 * i) !=
		    (uint8_t)name[i])
			return (false);
	return (name[i] == '\0');
}

/* The attribute of rec matching w (and low VCN when want_low). */
static int
nt_attr_find(const uint8_t *rec, uint64_t recno, const struct nt_want *w,
    bool want_low, uint64_t low, struct nt_attr *at, struct diag *d)
{
	uint32_t off = lr_le16dec(rec + NR_ATTROFF);
	int error;

	while ((error = nt_attr_next(rec, recno, &off, at, d)) == 0)
		if (at->type == w->type &&
		    nt_name_is(at->name, at->namelen, w->name) &&
		    (!want_low || (at->nonres && at->low == low)))
			return (0);
	return (error == NT_STOP ? ENOENT : error);
}

/*
 * Decodes mapping pairs: runs from VCN low on, which must end exactly
 * after VCN high (high + 1 == low for an empty segment); each run inside
 * the volume.  cb's NT_STOP or error ends the walk and is returned.
 */
static int
nt_runs_decode(struct fmt_ntfs *fs, const struct nt_attr *at,
    const char *what, nt_run_fn cb, void *arg, struct diag *d)
{
	const uint8_t *mp = at->mp;
	uint64_t vcn = at->low, end = at->high + 1, len, maxvcn;
	int64_t lcn = 0, delta;
	uint32_t p = 0, k;
	unsigned nl, no;
	int error;

	maxvcn = UINT64_MAX / fs->cluster_size;
	if (end < vcn || end > maxvcn)
		return (diag_set(d, EINVAL, "NTFS: %s: a segment spans VCN "
		    "%llu to %llu: %s", what, (unsigned long long)at->low,
		    (unsigned long long)at->high, NT_FSCK));
	while (p < at->mplen && mp[p] != 0) {
		nl = mp[p] & 0xf;
		no = mp[p] >> 4;
		if (nl == 0 || nl > 8 || no > 8 || 1 + nl + no > at->mplen - p)
			return (diag_set(d, EINVAL, "NTFS: %s: mapping pairs "
			    "header 0x%02x at byte %u is malformed or runs "
			    "past the attribute: %s", what, mp[p], p,
			    NT_FSCK));
		len = 0;
		for (k = 0; k < nl; k++)
			len |= (uint64_t)mp[p + 1 + k] << (8 * k);
		if (len == 0 || len > end - vcn)
			return (diag_set(d, EINVAL, "NTFS: %s: a run of %llu "
			    "clusters at VCN %llu does not fit VCNs up to "
			    "%llu: %s", what, (unsigned long long)len,
			    (unsigned long long)vcn,
			    (unsigned long long)at->high, NT_FSCK));
		if (no > 0) {
			delta = (mp[p + nl + no] & 0x80) ? -1 : 0;
			for (k = no; k > 0; k--)
				delta = (int64_t)(((uint64_t)delta << 8) |
				    mp[p + nl + k]);
			if (__builtin_add_overflow(lcn, delta, &lcn) ||
			    lcn < 0 || (uint64_t)lcn >= fs->nclusters ||
			    len > fs->nclusters - (uint64_t)lcn)
				return (diag_set(d, EINVAL, "NTFS: %s: a run "
				    "of %llu clusters at LCN %lld lies outside "
				    "the %llu clusters of the volume: %s",
				    what, (unsigned long long)len,
				    (long long)lcn,
				    (unsigned long long)fs->nclusters,
				    NT_FSCK));
		}
		if ((error = cb(arg, vcn, no > 0 ? (uint64_t)lcn : NT_SPARSE,
		    len)) != 0)
			return (error);
		vcn += len;
		p += 1 + nl + no;
	}
	if (vcn != end)
		return (diag_set(d, EINVAL, "NTFS: %s: the runs end at VCN "
		    "%llu but the segment says %llu: %s", what,
		    (unsigned long long)vcn, (unsigned long long)at->high,
		    NT_FSCK));
	return (0);
}

/* Reads [off, off + len) of a non-resident segment through its runs. */
struct nt_rd {
	struct fmt_ntfs	*fs;
	uint64_t	off, len;
	uint8_t		*buf;
	const char	*what;
	struct diag	*d;
};

static int
nt_rd_run(void *arg, uint64_t vcn, uint64_t lcn, uint64_t n)
{
	struct nt_rd *r = arg;
	uint64_t cs = r->fs->cluster_size, rs = vcn * cs, re = rs + n * cs,
	    s, e;
	int error;

	s = LR_MAX(rs, r->off);
	e = LR_MIN(re, r->off + r->len);
	if (s < e) {
		if (lcn == NT_SPARSE)
			return (diag_set(r->d, EINVAL, "NTFS: %s: bytes %llu.. "
			    "lie in a sparse run where data belongs: %s",
			    r->what, (unsigned long long)s, NT_FSCK));
		if ((error = nt_read(r->fs, r->buf + (s - r->off),
		    (size_t)(e - s), lcn * cs + (s - rs), r->d)) != 0)
			return (error);
	}
	return (re >= r->off + r->len ? NT_STOP : 0);
}

/*
 * Calls seg for every segment of attribute w of the file ref, in list
 * order (with an $ATTRIBUTE_LIST) or record order.  seg must not read MFT
 * records; the segments it gets point into fs->rec.
 */
static int
nt_segments(struct fmt_ntfs *fs, uint64_t ref, const struct nt_want *w,
    nt_seg_fn seg, void *arg, struct diag *d)
{
	uint8_t *base = fs->rec[0], *ext = fs->rec[1], e[NL_HDR + 510];
	uint64_t recno = REC_NO(ref), lsize, lo, elow, eref;
	struct nt_attr la, at;
	struct nt_rd rd;
	uint32_t off, elen, enl, eno;
	int error;

	if ((error = nt_rec_get(fs, ref, base, d)) != 0)
		return (error);
	off = lr_le16dec(base + NR_ATTROFF);
	while ((error = nt_attr_next(base, recno, &off, &la, d)) == 0)
		if (la.type == AT_ATTRLIST)
			break;
	if (error != 0 && error != NT_STOP)
		return (error);
	if (error == NT_STOP) {
		off = lr_le16dec(base + NR_ATTROFF);
		while ((error = nt_attr_next(base, recno, &off, &at, d)) == 0)
			if (at.type == w->type &&
			    nt_name_is(at.name, at.namelen, w->name) &&
			    (error = seg(arg, &at, d)) != 0)
				return (error);
		return (error == NT_STOP ? 0 : error);
	}
	lsize = la.nonres ? la.dsize : la.vlen;
	if (la.nonres && (la.low != 0 || la.isize < lsize ||
	    lr_div_roundup(lsize, fs->cluster_size) > la.high + 1))
		return (diag_set(d, EINVAL, "NTFS: MFT record %llu: its "
		    "attribute list of %llu bytes is not one whole "
		    "non-resident segment: %s", (unsigned long long)recno,
		    (unsigned long long)lsize, NT_FSCK));
	for (lo = 0; lo < lsize; lo += elen) {
		elen = (uint32_t)LR_MIN(sizeof(e), lsize - lo);
		if (elen < NL_HDR)
			return (diag_set(d, EINVAL, "NTFS: MFT record %llu: "
			    "the attribute list ends in a %u-byte fragment: %s",
			    (unsigned long long)recno, elen, NT_FSCK));
		if (!la.nonres)
			memcpy(e, la.val + lo, elen);
		else {
			rd = (struct nt_rd){ fs, lo, elen, e, "attribute list",
			    d };
			if ((error = nt_runs_decode(fs, &la, "attribute list",
			    nt_rd_run, &rd, d)) != NT_STOP)
				return (error != 0 ? error : diag_set(d,
				    EINVAL, "NTFS: MFT record %llu: the "
				    "attribute list is shorter than its size: "
				    "%s", (unsigned long long)recno, NT_FSCK));
		}
		elen = lr_le16dec(e + NL_LEN);
		enl = e[NL_NAMELEN];
		eno = e[NL_NAMEOFF];
		if (elen < NL_HDR || (elen & 7) != 0 || elen > lsize - lo ||
		    eno + 2 * enl > elen)
			return (diag_set(d, EINVAL, "NTFS: MFT record %llu: "
			    "attribute list entry at byte %llu has length %u "
			    "and name %u units at %u: %s",
			    (unsigned long long)recno, (unsigned long long)lo,
			    elen, enl, eno, NT_FSCK));
		if (lr_le32dec(e) != w->type ||
		    !nt_name_is(e + eno, enl, w->name))
			continue;
		elow = lr_le64dec(e + NL_LOWVCN);
		eref = lr_le64dec(e + NL_REF);
		if (REC_NO(eref) == recno)
			error = nt_attr_find(base, recno, w, true, elow, &at,
			    d);
		else {
			if ((error = nt_rec_get(fs, eref, ext, d)) != 0)
				return (diag_prefix(d, "extension of MFT "
				    "record %llu: ",
				    (unsigned long long)recno));
			if (REC_NO(lr_le64dec(ext + NR_BASE)) != recno)
				return (diag_set(d, EINVAL, "NTFS: MFT record "
				    "%llu is listed as an extension of record "
				    "%llu but names %llu as its base: %s",
				    (unsigned long long)REC_NO(eref),
				    (unsigned long long)recno,
				    (unsigned long long)REC_NO(lr_le64dec(ext +
				    NR_BASE)), NT_FSCK));
			error = nt_attr_find(ext, REC_NO(eref), w, true, elow,
			    &at, d);
		}
		if (error == ENOENT)
			return (diag_set(d, EINVAL, "NTFS: %s: the attribute "
			    "list of MFT record %llu names a segment 0x%x at "
			    "VCN %llu in record %llu that is not there: %s",
			    w->what, (unsigned long long)recno, w->type,
			    (unsigned long long)elow,
			    (unsigned long long)REC_NO(eref), NT_FSCK));
		if (error != 0 || (error = seg(arg, &at, d)) != 0)
			return (error);
	}
	return (0);
}

/* The segment walker behind every stream. */
struct nt_sw {
	struct fmt_ntfs	*fs;
	const struct nt_want *w;
	struct nt_stream st;
	bool		info_only;	/* stop after the first segment */
	nt_run_fn	cb;
	void		*arg;
};

static int
nt_seg(void *arg, const struct nt_attr *at, struct diag *d)
{
	struct nt_sw *sw = arg;
	struct nt_stream *st = &sw->st;
	const char *what = sw->w->what;
	int error;

	if (!st->found) {
		st->found = true;
		st->resident = !at->nonres;
		st->flags = at->flags;
		if (st->resident) {
			st->val = at->val;
			st->vlen = at->vlen;
			st->dsize = st->isize = st->asize = at->vlen;
			return (NT_STOP);
		}
		if (at->low != 0)
			return (diag_set(d, EINVAL, "NTFS: %s: its first "
			    "segment starts at VCN %llu, not 0: %s", what,
			    (unsigned long long)at->low, NT_FSCK));
		st->dsize = at->dsize;
		st->isize = at->isize;
		st->asize = at->asize;
		if (st->isize > st->dsize || st->dsize > st->asize)
			return (diag_set(d, EINVAL, "NTFS: %s: initialized "
			    "size %llu, data size %llu and allocated size %llu "
			    "are out of order: %s", what,
			    (unsigned long long)st->isize,
			    (unsigned long long)st->dsize,
			    (unsigned long long)st->asize, NT_FSCK));
		if (sw->w->refuse && (st->flags & NA_F_ENCR) != 0)
			return (diag_set(d, ENOTSUP, "NTFS: %s is encrypted "
			    "(EFS): its clusters cannot be read as they are; "
			    "decrypt it on Windows (cipher /d) or copy it to "
			    "an unencrypted folder", what));
		if (sw->w->refuse && (st->flags & NA_F_COMPR) != 0)
			return (diag_set(d, ENOTSUP, "NTFS: %s is compressed "
			    "(NTFS compression): its clusters cannot be "
			    "remapped as they are; decompress the file "
			    "(compact /u on Windows, or copy it to a folder "
			    "without compression)", what));
		if (sw->info_only)
			return (NT_STOP);
	} else if (st->resident || !at->nonres)
		return (diag_set(d, EINVAL, "NTFS: %s: a resident and a "
		    "non-resident segment: %s", what, NT_FSCK));
	if (at->low != st->next_vcn)
		return (diag_set(d, EINVAL, "NTFS: %s: a segment starts at VCN "
		    "%llu where VCN %llu was expected: %s", what,
		    (unsigned long long)at->low,
		    (unsigned long long)st->next_vcn, NT_FSCK));
	if ((error = nt_runs_decode(sw->fs, at, what, sw->cb, sw->arg, d)) != 0)
		return (error);
	st->next_vcn = at->high + 1;
	return (0);
}

static int
nt_no_run(void *arg, uint64_t vcn, uint64_t lcn, uint64_t n)
{
	(void)arg;
	(void)vcn;
	(void)lcn;
	(void)n;
	return (0);
}

/*
 * Walks the stream w of ref: sw->st gets the first segment's sizes; every
 * run goes to cb (none with info_only).  ENOENT (no message) when the file
 * has no such attribute.  A complete non-resident walk must cover the data
 * size.  Returns NT_STOP when cb stopped it.
 */
static int
nt_stream(struct fmt_ntfs *fs, uint64_t ref, const struct nt_want *w,
    struct nt_sw *sw, nt_run_fn cb, void *arg, struct diag *d)
{
	int error;

	memset(sw, 0, sizeof(*sw));
	sw->fs = fs;
	sw->w = w;
	sw->cb = cb != NULL ? cb : nt_no_run;
	sw->arg = arg;
	sw->info_only = cb == NULL;
	error = nt_segments(fs, ref, w, nt_seg, sw, d);
	if (error == NT_STOP && (sw->info_only || sw->st.resident))
		error = 0;
	if (error != 0)
		return (error);
	if (!sw->st.found)
		return (ENOENT);
	if (!sw->st.resident && !sw->info_only &&
	    lr_div_roundup(sw->st.dsize, fs->cluster_size) > sw->st.next_vcn)
		return (diag_set(d, EINVAL, "NTFS: %s: its runs cover %llu "
		    "clusters, short of its %llu bytes: %s", w->what,
		    (unsigned long long)sw->st.next_vcn,
		    (unsigned long long)sw->st.dsize, NT_FSCK));
	return (0);
}

/* Reads [off, off + len) of stream w of ref (non-resident, data size). */
static int
nt_stream_read(struct fmt_ntfs *fs, uint64_t ref, const struct nt_want *w,
    uint64_t off, void *buf, size_t len, struct diag *d)
{
	struct nt_sw sw;
	struct nt_rd rd = { fs, off, len, buf, w->what, d };
	int error;

	error = nt_stream(fs, ref, w, &sw, nt_rd_run, &rd, d);
	if (error == NT_STOP)
		return (0);
	if (error == 0)
		error = diag_set(d, EINVAL, "NTFS: %s: bytes %llu..%llu lie "
		    "past its runs: %s", w->what, (unsigned long long)off,
		    (unsigned long long)(off + len), NT_FSCK);
	return (error == ENOENT ? diag_set(d, EINVAL, "NTFS: %s is missing: "
	    "%s", w->what, NT_FSCK) : error);
}

static int
nt_mft_run(void *arg, uint64_t vcn, uint64_t lcn, uint64_t n)
{
	struct fmt_ntfs *fs = arg;
	struct fmt_ntfs_run *nr;
	size_t cap;

	if (lcn == NT_SPARSE)
		return (EINVAL);
	if (fs->nmft == fs->mftcap) {
		if (fs->alloc.alloc == NULL || fs->mftcap >= NT_MFTRUNMAX)
			return (ENOSPC);
		cap = fs->mftcap * 2;
		if ((nr = fs->alloc.alloc(cap * sizeof(*nr),
		    fs->alloc.arg)) == NULL)
			return (ENOMEM);
		memcpy(nr, fs->mft, fs->nmft * sizeof(*nr));
		if (fs->mft != fs->mft0)
			fs->alloc.free(fs->mft, fs->mftcap * sizeof(*nr),
			    fs->alloc.arg);
		fs->mft = nr;
		fs->mftcap = cap;
	}
	/* The first real run replaces the one-record bootstrap run. */
	if (vcn == 0)
		fs->nmft = 0;
	fs->mft[fs->nmft].vcn = vcn;
	fs->mft[fs->nmft].lcn = lcn;
	fs->mft[fs->nmft].len = n;
	fs->nmft++;
	return (0);
}

/* The $MFT's runlist, read through itself (extension records included). */
static int
nt_load_mft(struct fmt_ntfs *fs, struct diag *d)
{
	static const struct nt_want w = { AT_DATA, NULL, "$MFT" };
	struct nt_sw sw;
	struct diag sd;
	int error;

	fs->mft = fs->mft0;
	fs->mftcap = FMT_NTFS_MFTRUNS;
	fs->nmft = 1;
	fs->mft0[0].vcn = 0;
	fs->mft0[0].lcn = fs->mft_lcn;
	fs->mft0[0].len = lr_div_roundup(fs->rec_size, fs->cluster_size);
	if (fs->mft0[0].len > fs->nclusters - fs->mft_lcn)
		return (diag_set(d, EINVAL, "NTFS: the MFT at cluster %llu "
		    "runs past the volume: the boot sector is corrupt",
		    (unsigned long long)fs->mft_lcn));
	fs->nrecords = UINT64_MAX;
	diag_clear(&sd);
	error = nt_stream(fs, 0, &w, &sw, nt_mft_run, fs, &sd);
	if (error == EINVAL && sd.code == 0)
		return (diag_set(d, EINVAL, "NTFS: $MFT has a sparse run: %s",
		    NT_FSCK));
	if (error == ENOSPC || error == ENOMEM)
		return (diag_set(d, error, "NTFS: $MFT is in more than %zu "
		    "fragments%s", fs->mftcap, error == ENOMEM ? ": out of "
		    "memory" : ": open the volume with an allocator"));
	if (error == ENOENT || (error == 0 && sw.st.resident))
		return (diag_set(d, EINVAL, "NTFS: $MFT (record 0) has no "
		    "non-resident $DATA: %s", NT_FSCK));
	if (error != 0) {
		if (d != NULL)
			*d = sd;
		return (error);
	}
	fs->nrecords = sw.st.dsize / fs->rec_size;
	if (fs->nrecords < 16 || fs->mft[0].lcn != fs->mft_lcn ||
	    fs->mft[0].len * fs->cluster_size < fs->rec_size)
		return (diag_set(d, EINVAL, "NTFS: $MFT's $DATA (%llu records, "
		    "first run at cluster %llu) does not match the boot "
		    "sector's MFT at cluster %llu: %s",
		    (unsigned long long)fs->nrecords,
		    (unsigned long long)fs->mft[0].lcn,
		    (unsigned long long)fs->mft_lcn, NT_FSCK));
	return (0);
}

static int
nt_load_label(struct fmt_ntfs *fs, struct diag *d)
{
	static const struct nt_want w = { AT_VOLNAME, NULL, "$Volume" };
	struct nt_sw sw;
	uint16_t u[64];
	size_t n, k;
	int error;

	if ((error = nt_stream(fs, 3, &w, &sw, NULL, NULL, d)) == ENOENT)
		return (0);
	if (error != 0)
		return (error);
	if (!sw.st.resident)
		return (diag_set(d, EINVAL, "NTFS: $Volume's name is not "
		    "resident: %s", NT_FSCK));
	n = LR_MIN(sw.st.vlen / 2, LR_NELEM(u));
	for (k = 0; k < n; k++)
		u[k] = lr_le16dec(sw.st.val + 2 * k);
	fmt_utf16_to_utf8(u, n, fs->label, sizeof(fs->label));
	/* labels get printed: no terminal escapes */
	for (k = 0; fs->label[k] != '\0'; k++)
		if ((uint8_t)fs->label[k] < 0x20 || fs->label[k] == 0x7f)
			fs->label[k] = '_';
	return (0);
}

static int
nt_load_upcase(struct fmt_ntfs *fs, struct diag *d)
{
	static const struct nt_want w = { AT_DATA, NULL, "$UpCase" };
	const size_t len = 65536 * sizeof(uint16_t);
	struct nt_sw sw;
	uint8_t *b;
	size_t i;
	int error;

	if ((error = nt_stream(fs, 10, &w, &sw, NULL, NULL, d)) != 0 &&
	    error != ENOENT)
		return (error);
	if (error == ENOENT || sw.st.resident || sw.st.dsize != len)
		return (diag_set(d, EINVAL, "NTFS: $UpCase (record 10) is not "
		    "a non-resident table of %zu bytes: %s", len, NT_FSCK));
	if ((fs->upcase = fs->alloc.alloc(len, fs->alloc.arg)) == NULL)
		return (diag_set(d, ENOMEM, "NTFS: no memory for the up-case "
		    "table"));
	if ((error = nt_stream_read(fs, 10, &w, 0, fs->upcase, len, d)) != 0)
		return (error);
	b = (uint8_t *)fs->upcase;
	for (i = 0; i < 65536; i++)
		fs->upcase[i] = lr_le16dec(b + 2 * i);
	fs->has_upcase = true;
	return (0);
}

/* Record and index sizes: clusters, or 2^-n bytes when negative. */
static int
nt_recsize(int8_t v, uint32_t cs, const char *what, uint32_t *out,
    struct diag *d)
{
	uint64_t s;

	if (v > 0)
		s = (uint64_t)v * cs;
	else if (v < 0 && v >= -31)
		s = 1ull << -v;
	else
		s = 0;
	if (!lr_is_pow2(s) || s < 512 || s > FMT_NTFS_RECMAX)
		return (diag_set(d, EINVAL, "NTFS: %s size (boot sector value "
		    "%d, %llu bytes) is not a power of two in 512..%u: the "
		    "boot sector is corrupt", what, v, (unsigned long long)s,
		    FMT_NTFS_RECMAX));
	*out = (uint32_t)s;
	return (0);
}

void
fmt_ntfs_close(struct fmt_ntfs *fs)
{
	if (fs == NULL)
		return;
	if (fs->upcase != NULL)
		fs->alloc.free(fs->upcase, 65536 * sizeof(uint16_t),
		    fs->alloc.arg);
	fs->upcase = NULL;
	fs->has_upcase = false;
	if (fs->mft != NULL && fs->mft != fs->mft0)
		fs->alloc.free(fs->mft, fs->mftcap * sizeof(*fs->mft),
		    fs->alloc.arg);
	fs->mft = fs->mft0;
	fs->nmft = 0;
}

int
fmt_ntfs_open(struct fmt_ntfs *fs, const struct fmt_src *src,
    const struct lr_allocator *a, struct diag *d)
{
	uint8_t b[512];
	unsigned bps, spc, shift;
	uint64_t cs, nsect;
	int error;

	memset(fs, 0, sizeof(*fs));
	fs->src = *src;
	fs->mft = fs->mft0;
	if (a != NULL)
		fs->alloc = *a;
	if (src->size < sizeof(b))
		return (diag_set(d, EINVAL, "NTFS: the volume is smaller than "
		    "a boot sector"));
	if ((error = nt_read(fs, b, sizeof(b), 0, d)) != 0)
		return (error);
	if (memcmp(b + NB_OEM, "NTFS    ", 8) != 0)
		return (diag_set(d, EINVAL, "NTFS: no \"NTFS    \" at byte 3: "
		    "not an NTFS file system"));
	if (b[510] != 0x55 || b[511] != 0xaa)
		return (diag_set(d, EINVAL, "NTFS: boot sector lacks the 55 AA "
		    "signature"));
	bps = lr_le16dec(b + NB_BPS);
	if (!lr_is_pow2(bps) || bps < 256 || bps > 4096)
		return (diag_set(d, EINVAL, "NTFS: %u bytes per sector is not "
		    "a power of two in 256..4096: the boot sector is corrupt",
		    bps));
	spc = b[NB_SPC];
	if (spc <= 0x80 && lr_is_pow2(spc))
		cs = (uint64_t)bps * spc;
	else if (spc >= 0xf4 && (shift = 256 - spc) <= 12)
		cs = (uint64_t)bps << shift;
	else
		cs = 0;
	if (cs == 0 || cs > NT_MAXCLUSTER)
		return (diag_set(d, EINVAL, "NTFS: sectors per cluster 0x%02x "
		    "(%llu-byte clusters) is not a power of two up to 2 MiB: "
		    "the boot sector is corrupt", spc, (unsigned long long)cs));
	fs->bps = bps;
	fs->cluster_size = (uint32_t)cs;
	nsect = lr_le64dec(b + NB_NSECT);
	if (lr_mul_overflow(nsect, bps, &fs->volsize) ||
	    fs->volsize > src->size)
		return (diag_set(d, EINVAL, "NTFS: the volume's %llu sectors "
		    "are larger than the medium (%llu bytes): truncated image "
		    "or wrong partition", (unsigned long long)nsect,
		    (unsigned long long)src->size));
	fs->nclusters = fs->volsize / cs;
	fs->mft_lcn = lr_le64dec(b + NB_MFTLCN);
	fs->serial = lr_le64dec(b + NB_SERIAL);
	if (fs->mft_lcn == 0 || fs->mft_lcn >= fs->nclusters)
		return (diag_set(d, EINVAL, "NTFS: the MFT at cluster %llu is "
		    "outside the volume's %llu clusters: the boot sector is "
		    "corrupt", (unsigned long long)fs->mft_lcn,
		    (unsigned long long)fs->nclusters));
	if ((error = nt_recsize((int8_t)b[NB_CPMFT], fs->cluster_size,
	    "MFT record", &fs->rec_size, d)) != 0 ||
	    (error = nt_recsize((int8_t)b[NB_CPIDX], fs->cluster_size,
	    "index record", &fs->idx_size, d)) != 0)
		return (error);
	fs->idx_vbits = 9;
	if (fs->idx_size >= fs->cluster_size)
		while ((1u << fs->idx_vbits) < fs->cluster_size)
			fs->idx_vbits++;
	if ((error = nt_load_mft(fs, d)) != 0 ||
	    (error = nt_rec_get(fs, FMT_NTFS_ROOT, fs->rec[0], d)) != 0)
		goto fail;
	if ((lr_le16dec(fs->rec[0] + NR_FLAGS) & NR_F_DIR) == 0) {
		error = diag_set(d, EINVAL, "NTFS: MFT record 5 (the root "
		    "directory) is not a directory: %s", NT_FSCK);
		goto fail;
	}
	if ((error = nt_load_label(fs, d)) != 0 ||
	    (a != NULL && (error = nt_load_upcase(fs, d)) != 0))
		goto fail;
	diag_clear(d);
	return (0);
fail:
	fmt_ntfs_close(fs);
	return (error);
}

/* --- directories --------------------------------------------------------- */

struct nt_walk;
typedef int (*nt_entry_fn)(struct nt_walk *w, const uint8_t *key,
    uint64_t ref);

struct nt_walk {
	struct fmt_ntfs	*fs;
	uint64_t	dref;
	const char	*dirname;
	struct diag	*d;
	nt_entry_fn	entry;
	uint64_t	ia_size;	/* $INDEX_ALLOCATION bytes, 0: none */
	struct {
		uint64_t	vcn;
		uint32_t	off;
		bool		down;	/* the entry's sub-node was walked */
	} lv[FMT_NTFS_MAXIDXDEPTH];
	/* the users */
	fmt_ntfs_list_fn cb;
	void		*arg;
	struct fmt_ntfs_dirent ent;
};

static const struct nt_want nt_iroot = { AT_IROOT, "$I30", "$INDEX_ROOT" };
static const struct nt_want nt_ialloc = { AT_IALLOC, "$I30",
    "$INDEX_ALLOCATION" };

static int
nt_load_root(struct nt_walk *w)
{
	struct fmt_ntfs *fs = w->fs;
	struct nt_sw sw;
	int error;

	fs->root_tag = 0;
	if ((error = nt_stream(fs, w->dref, &nt_iroot, &sw, NULL, NULL,
	    w->d)) == ENOENT || (error == 0 && (!sw.st.resident ||
	    sw.st.vlen < NI_HDR + NH_SIZE)))
		return (diag_set(w->d, EINVAL, "NTFS: %s: no resident $I30 "
		    "index root: %s", w->dirname, NT_FSCK));
	if (error != 0)
		return (error);
	memcpy(fs->rootv, sw.st.val, sw.st.vlen);
	fs->root_len = sw.st.vlen;
	if (lr_le32dec(fs->rootv + NI_TYPE) != AT_FILENAME ||
	    lr_le32dec(fs->rootv + NI_BSIZE) != fs->idx_size)
		return (diag_set(w->d, EINVAL, "NTFS: %s: the index root "
		    "indexes attribute 0x%x in %u-byte blocks, not file "
		    "names in the volume's %u-byte blocks: %s", w->dirname,
		    lr_le32dec(fs->rootv + NI_TYPE),
		    lr_le32dec(fs->rootv + NI_BSIZE), fs->idx_size, NT_FSCK));
	fs->root_tag = REC_NO(w->dref) + 1;
	return (0);
}

static int
nt_load_block(struct nt_walk *w, uint64_t vcn)
{
	struct fmt_ntfs *fs = w->fs;
	uint64_t off = vcn << fs->idx_vbits;
	int error;

	fs->idx_tag = 0;
	if (vcn > (UINT64_MAX >> fs->idx_vbits) || off % fs->idx_size != 0 ||
	    off >= w->ia_size || fs->idx_size > w->ia_size - off)
		return (diag_set(w->d, EINVAL, "NTFS: %s: index sub-node VCN "
		    "%llu is not a block of its %llu-byte index allocation: %s",
		    w->dirname, (unsigned long long)vcn,
		    (unsigned long long)w->ia_size, NT_FSCK));
	if ((error = nt_stream_read(fs, w->dref, &nt_ialloc, off, fs->idx,
	    fs->idx_size, w->d)) != 0)
		return (error);
	if ((error = nt_fixup(fs->idx, fs->idx_size, "INDX", "index block "
	    "at VCN", vcn, w->d)) != 0)
		return (diag_prefix(w->d, "%s: ", w->dirname));
	if (lr_le64dec(fs->idx + NX_VCN) != vcn)
		return (diag_set(w->d, EINVAL, "NTFS: %s: the index block at "
		    "VCN %llu says it is VCN %llu: %s", w->dirname,
		    (unsigned long long)vcn,
		    (unsigned long long)lr_le64dec(fs->idx + NX_VCN), NT_FSCK));
	fs->idx_tag = REC_NO(w->dref) + 1;
	fs->idx_vcn = vcn;
	return (0);
}

/* The node vcn (NT_ROOTVCN: the root), loaded if a nested call replaced it. */
static int
nt_node(struct nt_walk *w, uint64_t vcn, const uint8_t **hdr,
    uint32_t *start, uint32_t *end)
{
	struct fmt_ntfs *fs = w->fs;
	uint32_t avail, eoff, ilen;
	int error;

	if (vcn == NT_ROOTVCN) {
		if (fs->root_tag != REC_NO(w->dref) + 1 &&
		    (error = nt_load_root(w)) != 0)
			return (error);
		*hdr = fs->rootv + NI_HDR;
		avail = fs->root_len - NI_HDR;
	} else {
		if ((fs->idx_tag != REC_NO(w->dref) + 1 ||
		    fs->idx_vcn != vcn) && (error = nt_load_block(w, vcn)) != 0)
			return (error);
		*hdr = fs->idx + NX_HDR;
		avail = fs->idx_size - NX_HDR;
	}
	eoff = lr_le32dec(*hdr + NH_EOFF);
	ilen = lr_le32dec(*hdr + NH_LEN);
	if (eoff < NH_SIZE || (eoff & 7) != 0 || ilen > avail ||
	    eoff > ilen)
		return (diag_set(w->d, EINVAL, "NTFS: %s: an index node has "
		    "its entries at %u and %u bytes in use of %u: %s",
		    w->dirname, eoff, ilen, avail, NT_FSCK));
	*start = eoff;
	*end = ilen;
	return (0);
}

/*
 * Every entry of the directory's $I30 B+tree, depth first.  Each node may
 * be reloaded after an entry callback; its entries are checked on every
 * visit.
 */
static int
nt_walk(struct nt_walk *w)
{
	struct fmt_ntfs *fs = w->fs;
	const uint8_t *hdr, *e;
	uint64_t descents = 0, nblocks;
	uint32_t start = 0, end = 0, o, elen, klen, flags;
	struct nt_sw sw;
	int depth = 0, error;

	error = nt_stream(fs, w->dref, &nt_ialloc, &sw, NULL, NULL, w->d);
	if (error != 0 && error != ENOENT)
		return (error);
	if (error == 0 && sw.st.resident)
		return (diag_set(w->d, EINVAL, "NTFS: %s: a resident index "
		    "allocation: %s", w->dirname, NT_FSCK));
	w->ia_size = error == 0 ? sw.st.dsize : 0;
	nblocks = w->ia_size / fs->idx_size;
	w->lv[0].vcn = NT_ROOTVCN;
	w->lv[0].off = 0;
	w->lv[0].down = false;
	for (;;) {
		if ((error = nt_node(w, w->lv[depth].vcn, &hdr, &start,
		    &end)) != 0)
			return (error);
		o = w->lv[depth].off == 0 ? start : w->lv[depth].off;
		e = hdr + o;
		elen = o + NE_KEY <= end ? lr_le16dec(e + NE_LEN) : 0;
		klen = elen != 0 ? lr_le16dec(e + NE_KEYLEN) : 0;
		flags = elen != 0 ? lr_le16dec(e + NE_FLAGS) : 0;
		if (elen < NE_KEY || (elen & 7) != 0 || elen > end - o ||
		    ((flags & NE_F_NODE) != 0 && elen < NE_KEY + 8) ||
		    ((flags & NE_F_END) == 0 && (klen < NF_NAME || klen >
		    elen - NE_KEY - ((flags & NE_F_NODE) ? 8 : 0) ||
		    NF_NAME + 2u * e[NE_KEY + NF_NAMELEN] > klen)))
			return (diag_set(w->d, EINVAL, "NTFS: %s: index entry "
			    "at byte %u of a %u-byte node (length %u, key %u, "
			    "flags 0x%x) is malformed or the node lacks its "
			    "end entry: %s", w->dirname, o, end, elen, klen,
			    flags, NT_FSCK));
		if ((flags & NE_F_NODE) != 0 && !w->lv[depth].down) {
			if (w->ia_size == 0)
				return (diag_set(w->d, EINVAL, "NTFS: %s: an "
				    "index entry points to a sub-node but the "
				    "directory has no $INDEX_ALLOCATION: %s",
				    w->dirname, NT_FSCK));
			if (depth + 1 >= FMT_NTFS_MAXIDXDEPTH ||
			    ++descents > nblocks)
				return (diag_set(w->d, ELOOP, "NTFS: %s: the "
				    "index is deeper than %d levels or visits "
				    "more than its %llu blocks (a loop): %s",
				    w->dirname, FMT_NTFS_MAXIDXDEPTH,
				    (unsigned long long)nblocks, NT_FSCK));
			w->lv[depth].off = o;
			w->lv[depth].down = true;
			depth++;
			w->lv[depth].vcn = lr_le64dec(e + elen - 8);
			w->lv[depth].off = 0;
			w->lv[depth].down = false;
			continue;
		}
		if ((flags & NE_F_END) != 0) {
			if (depth == 0)
				return (0);
			depth--;
			continue;
		}
		w->lv[depth].off = o + elen;
		w->lv[depth].down = false;
		if ((error = w->entry(w, e + NE_KEY, lr_le64dec(e))) != 0)
			return (error);
	}
}

static void
nt_key_dirent(const uint8_t *key, uint64_t ref, struct fmt_ntfs_dirent *ent)
{
	unsigned i;

	memset(ent, 0, sizeof(*ent));
	ent->ref = ref;
	ent->parent_ref = lr_le64dec(key);
	ent->size = ent->valid_size = lr_le64dec(key + NF_SIZE);
	ent->attr = lr_le32dec(key + NF_ATTR);
	ent->is_dir = (ent->attr & NF_A_DIR) != 0;
	ent->name_len = key[NF_NAMELEN];
	ent->name_space = key[NF_NS];
	for (i = 0; i < ent->name_len; i++)
		ent->name16[i] = lr_le16dec(key + NF_NAME + 2 * i);
	fmt_utf16_to_utf8(ent->name16, ent->name_len, ent->name,
	    sizeof(ent->name));
}

static int
nt_walk_dir(struct nt_walk *w, const struct fmt_ntfs_dirent *dir)
{
	if (dir == NULL || dir->is_root) {
		w->dref = FMT_NTFS_ROOT;
		w->dirname = "root directory";
	} else if (!dir->is_dir)
		return (diag_set(w->d, ENOTDIR, "NTFS: %s is not a directory",
		    dir->name));
	else {
		w->dref = dir->ref;
		w->dirname = dir->name;
	}
	return (nt_walk(w));
}

static int
nt_list_entry(struct nt_walk *w, const uint8_t *key, uint64_t ref)
{
	if (key[NF_NS] == FMT_NTFS_NS_DOS || REC_NO(ref) == REC_NO(w->dref))
		return (0);
	nt_key_dirent(key, ref, &w->ent);
	return (w->cb(w->arg, &w->ent));
}

int
fmt_ntfs_list(struct fmt_ntfs *fs, const struct fmt_ntfs_dirent *dir,
    fmt_ntfs_list_fn cb, void *arg, struct diag *d)
{
	struct nt_walk *w, wbuf;

	w = &wbuf;
	memset(w, 0, sizeof(*w));
	w->fs = fs;
	w->d = d;
	w->entry = nt_list_entry;
	w->cb = cb;
	w->arg = arg;
	return (nt_walk_dir(w, dir));
}

struct nt_find {
	struct nt_walk	w;
	uint16_t	u[255];
	size_t		n;
	struct fmt_ntfs_dirent *out;
	bool		found;
};

static uint16_t
nt_up(const struct fmt_ntfs *fs, uint16_t c)
{
	if (fs->upcase != NULL)
		return (fs->upcase[c]);
	return ((uint16_t)fmt_fold(c));
}

static int
nt_find_entry(struct nt_walk *w, const uint8_t *key, uint64_t ref)
{
	struct nt_find *f = (struct nt_find *)w;
	size_t i;
	bool exact = true;

	if (key[NF_NAMELEN] != f->n || REC_NO(ref) == REC_NO(w->dref))
		return (0);
	for (i = 0; i < f->n; i++) {
		uint16_t c = lr_le16dec(key + NF_NAME + 2 * i);

		if (c != f->u[i])
			exact = false;
		if (!exact && nt_up(w->fs, c) != nt_up(w->fs, f->u[i]))
			return (0);
	}
	if (exact || !f->found) {
		nt_key_dirent(key, ref, f->out);
		f->found = true;
	}
	return (exact ? NT_STOP : 0);
}

/* The file's own record: directory flag and $DATA sizes. */
static int
nt_stat(struct fmt_ntfs *fs, struct fmt_ntfs_dirent *ent, struct diag *d)
{
	struct nt_want w = { AT_DATA, NULL, ent->name, false };
	struct nt_sw sw;
	int error;

	error = nt_stream(fs, ent->ref, &w, &sw, NULL, NULL, d);
	if (error != 0 && error != ENOENT)
		return (diag_prefix(d, "%s: ", ent->name));
	ent->is_dir = (lr_le16dec(fs->rec[0] + NR_FLAGS) & NR_F_DIR) != 0;
	if (error == ENOENT || ent->is_dir) {
		ent->size = ent->valid_size = 0;
		ent->partial_valid = false;
		return (0);
	}
	ent->size = sw.st.dsize;
	ent->valid_size = sw.st.isize;
	ent->partial_valid = sw.st.isize < sw.st.dsize;
	return (0);
}

int
fmt_ntfs_lookup(struct fmt_ntfs *fs, const char *path,
    struct fmt_ntfs_dirent *ent, struct diag *d)
{
	struct nt_find *f, fbuf;
	struct fmt_ntfs_dirent *cur, curbuf;
	const char *s = path, *e;
	int error, depth = 0;

	f = &fbuf;
	cur = &curbuf;
	memset(cur, 0, sizeof(*cur));
	memcpy(cur->name, "/", 2);
	cur->is_dir = cur->is_root = true;
	cur->attr = NF_A_DIR;
	cur->ref = FMT_NTFS_ROOT;
	for (;;) {
		if ((error = fmt_path_next("NTFS", path, &s, &e, &depth,
		    FMT_NTFS_MAXDEPTH, cur->is_dir, d)) != 0)
			return (error);
		if (s == e)
			break;
		memset(f, 0, sizeof(*f));
		f->n = fmt_utf8_to_utf16(s, (size_t)(e - s), f->u, 255);
		if (f->n == (size_t)-1)
			return (diag_set(d, ENOENT, "NTFS: %s: a component is "
			    "longer than 255 UTF-16 units", path));
		f->out = ent;
		f->w.fs = fs;
		f->w.d = d;
		f->w.entry = nt_find_entry;
		error = nt_walk_dir(&f->w, cur);
		if (error == NT_STOP)
			error = 0;
		if (!f->found || error != 0)
			return (fmt_path_missing("NTFS", path, e, error, d));
		*cur = *ent;
		if ((error = nt_stat(fs, cur, d)) != 0)
			return (error);
		s = e;
	}
	*ent = *cur;
	return (0);
}

/* --- extents ------------------------------------------------------------- */

struct nt_ext {
	struct fmt_ntfs	*fs;
	const struct nt_sw *sw;
	const char	*name;
	struct diag	*d;
	struct fmt_extent *ext;
	size_t		max, n;
	uint64_t	last_end;	/* medium byte after the last extent */
};

static int
nt_ext_run(void *arg, uint64_t vcn, uint64_t lcn, uint64_t nclu)
{
	struct nt_ext *x = arg;
	uint64_t cs = x->fs->cluster_size, start = vcn * cs, size =
	    x->sw->st.dsize, len, off;

	if (start >= size)
		return (0);
	len = LR_MIN(nclu * cs, size - start);
	if (lcn == NT_SPARSE)
		return (diag_set(x->d, ENOTSUP, "NTFS: %s is sparse (a hole at "
		    "byte %llu): a hole has no clusters to remap; write the "
		    "file out in full (copy it to a new file)", x->name,
		    (unsigned long long)start));
	off = lcn * cs;
	if (x->n > 0 && x->last_end == off) {
		if (x->n <= x->max)
			x->ext[x->n - 1].len += len;
	} else {
		if (x->n < x->max) {
			x->ext[x->n].off = off;
			x->ext[x->n].len = len;
		}
		x->n++;
	}
	x->last_end = off + len;
	return (0);
}

int
fmt_ntfs_extents(struct fmt_ntfs *fs, const struct fmt_ntfs_dirent *ent,
    struct fmt_extent *ext, size_t max, size_t *nextents, struct diag *d)
{
	struct nt_want w = { AT_DATA, NULL, ent->name, true };
	struct nt_sw sw;
	struct nt_ext x = { fs, &sw, ent->name, d, ext, max, 0, 0 };
	int error;

	*nextents = 0;
	if (ent->is_dir || ent->is_root)
		return (diag_set(d, EISDIR, "NTFS: %s is a directory",
		    ent->name));
	error = nt_stream(fs, ent->ref, &w, &sw, nt_ext_run, &x, d);
	if (error == ENOENT)
		return (0);
	if (error == 0 && sw.st.resident && sw.st.vlen > 0)
		return (diag_set(d, ENOTSUP, "NTFS: %s: its %u bytes are "
		    "stored inside its MFT record (resident), not in clusters: "
		    "too small to be a disk image", ent->name, sw.st.vlen));
	if (error != 0)
		return (error);
	*nextents = x.n;
	if (x.n > max)
		return (diag_set(d, ENOSPC, "NTFS: %s: %zu extents do not fit "
		    "in %zu", ent->name, x.n, max));
	return (0);
}
