/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ntfs.c - the NTFS reader on volumes made by mkntfs and filled by
 * ntfs-3g (ntfs_images.sh, whose path is argv[1]; it exits 77 without
 * ntfs-3g or FUSE, and so does this test), one per cluster size (512, 4096,
 * 65536), each read from a buffer of exactly its size: a file in nested
 * directories with spaces (exact and case-insensitive, with and without
 * $UpCase), a 300-entry directory (several INDX blocks), a fragmented file
 * (an $ATTRIBUTE_LIST with extension records at 512), every file's bytes
 * read back through its extents and compared, resident and sparse files
 * refused.  Then the hostile regressions, forged on copies of the real
 * volumes with the fixups redone: the boot sector's fields, a torn MFT
 * record, a broken attribute, runs outside the volume, compressed and
 * encrypted $DATA, an INDX block without its magic, a DOS-only name (not
 * listed, still found), an index node that
 * points at itself (ELOOP), an attribute list naming a missing segment and
 * an extension record that names another base.
 * With a second argument the volumes are kept in that directory; with a
 * third, fuzz_ntfs's packed seeds are written there (gen_ntfs_seeds.sh).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <unistd.h>

#include <liveroot/fmt_ntfs.h>
#include <liveroot/util.h>

#include "t.h"
#include "timg.h"

#define ISO	"/iso dir/sub dir/x y.iso"

static char dir[512];

static int
load(const char *path, struct timg *m)
{
	FILE *f = fopen(path, "rb");
	long n;

	memset(m, 0, sizeof(*m));
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (m->b = malloc((size_t)n)) == NULL ||
	    fread(m->b, 1, (size_t)n, f) != (size_t)n) {
		if (f != NULL)
			fclose(f);
		fprintf(stderr, "cannot read %s\n", path);
		return (-1);
	}
	fclose(f);
	m->len = (size_t)n;
	return (0);
}

static struct timg
copy(const struct timg *m)
{
	struct timg c = *m;

	c.b = malloc(m->len);
	memcpy(c.b, m->b, m->len);
	return (c);
}

static int
open_img(struct timg *m, struct fmt_ntfs *fs, bool upcase, struct diag *d)
{
	struct fmt_src src;

	timg_src(&src, m);
	diag_clear(d);
	return (fmt_ntfs_open(fs, &src, upcase ? &lr_libc_allocator : NULL,
	    d));
}

/* Reads a file's bytes through its extents and compares with src. */
static void
check_bytes(struct timg *m, struct fmt_ntfs *fs, const char *path,
    const char *srcpath, size_t minext)
{
	struct fmt_ntfs_dirent e;
	struct fmt_extent *ext;
	struct timg want;
	struct diag d;
	size_t n = 0, i, at = 0;
	bool same = true;

	CHECK_EQ(fmt_ntfs_lookup(fs, path, &e, &d), 0);
	if (load(srcpath, &want) != 0) {
		CHECK(0);
		return;
	}
	CHECK_EQ(e.size, want.len);
	CHECK(!e.partial_valid);
	CHECK_EQ(fmt_ntfs_extents(fs, &e, NULL, 0, &n, &d), ENOSPC);
	CHECK(n >= minext);
	ext = calloc(n + 1, sizeof(*ext));
	CHECK_EQ(fmt_ntfs_extents(fs, &e, ext, n, &n, &d), 0);
	for (i = 0; i < n; i++) {
		if (ext[i].off + ext[i].len > m->len || at + ext[i].len >
		    want.len) {
			same = false;
			break;
		}
		if (i > 0 && ext[i - 1].off + ext[i - 1].len == ext[i].off)
			same = false;	/* not coalesced */
		if (memcmp(m->b + ext[i].off, want.b + at, ext[i].len) != 0)
			same = false;
		at += ext[i].len;
	}
	CHECK(same);
	CHECK_EQ(at, want.len);
	free(ext);
	free(want.b);
}

struct seen {
	int		n, big[300], dups;
	bool		self, iso, small;
};

static int
list_cb(void *arg, const struct fmt_ntfs_dirent *e)
{
	struct seen *s = arg;
	int k;

	s->n++;
	if (strcmp(e->name, ".") == 0)
		s->self = true;
	if (strcmp(e->name, "iso dir") == 0 && e->is_dir)
		s->iso = true;
	if (strcmp(e->name, "small.txt") == 0 && !e->is_dir)
		s->small = true;
	if (sscanf(e->name, "entry %d with a longer name.bin", &k) == 1 &&
	    k >= 0 && k < 300 && s->big[k]++ > 0)
		s->dups++;
	return (0);
}

/* A callback that lists and looks up on the same struct while listing. */
struct nest {
	struct fmt_ntfs	*fs;
	int		n, inner, bad;
};

static int
nest_cb(void *arg, const struct fmt_ntfs_dirent *e)
{
	struct nest *x = arg;
	struct fmt_ntfs_dirent *f = malloc(sizeof(*f));
	struct seen s;
	struct diag d;

	x->n++;
	memset(&s, 0, sizeof(s));
	if (e->is_dir && fmt_ntfs_list(x->fs, e, list_cb, &s, &d) != 0)
		x->bad++;
	x->inner += s.n;
	if (fmt_ntfs_lookup(x->fs, "/big dir/entry 150 with a longer name.bin",
	    f, &d) != 0)
		x->bad++;
	free(f);
	return (0);
}

static void
good_volume(unsigned cs)
{
	struct fmt_ntfs *fs = calloc(1, sizeof(*fs));
	struct fmt_ntfs_dirent e, e2;
	char path[700], src[700], label[16];
	struct timg m;
	struct seen s;
	struct nest x;
	struct diag d;
	size_t n;
	int k, missing = 0;

	snprintf(path, sizeof(path), "%s/c%u.img", dir, cs);
	if (load(path, &m) != 0) {
		CHECK(0);
		free(fs);
		return;
	}
	CHECK(fmt_ntfs_probe(m.b, m.len));
	CHECK_EQ(open_img(&m, fs, true, &d), 0);
	CHECK_EQ(fs->cluster_size, cs);
	CHECK_EQ(fs->rec_size, 1024);
	CHECK_EQ(fs->idx_size, 4096);
	CHECK(fs->has_upcase);
	snprintf(label, sizeof(label), "NTFS%u", cs);
	CHECK(strcmp(fs->label, label) == 0);
	printf("c%u: %llu clusters, $MFT in %zu runs\n", cs,
	    (unsigned long long)fs->nclusters, fs->nmft);

	snprintf(src, sizeof(src), "%s/src.%u/x y.iso", dir, cs);
	check_bytes(&m, fs, ISO, src, 0);
	CHECK_EQ(fmt_ntfs_lookup(fs, ISO, &e, &d), 0);
	CHECK(strcmp(e.name, "x y.iso") == 0 && !e.is_dir);
	CHECK_EQ(fmt_ntfs_lookup(fs, "//ISO DIR/Sub Dir//X Y.ISO", &e2, &d),
	    0);
	CHECK_EQ(e2.ref, e.ref);
	snprintf(src, sizeof(src), "%s/src.%u/frag.bin", dir, cs);
	check_bytes(&m, fs, "/frag/frag.bin", src, cs == 512 ? 150 :
	    cs == 4096 ? 30 : 5);

	/* the root: no "." entry, the files and directories made */
	memset(&s, 0, sizeof(s));
	CHECK_EQ(fmt_ntfs_list(fs, NULL, list_cb, &s, &d), 0);
	CHECK(!s.self && s.iso && s.small);
	CHECK(s.n >= 5 + 11);	/* ours and the metafiles */
	/* the big directory: every entry once */
	CHECK_EQ(fmt_ntfs_lookup(fs, "/big dir", &e, &d), 0);
	CHECK(e.is_dir);
	memset(&s, 0, sizeof(s));
	CHECK_EQ(fmt_ntfs_list(fs, &e, list_cb, &s, &d), 0);
	CHECK_EQ(s.n, 300);
	CHECK_EQ(s.dups, 0);
	for (k = 0; k < 300; k++)
		missing += s.big[k] == 0;
	CHECK_EQ(missing, 0);
	CHECK_EQ(fmt_ntfs_lookup(fs,
	    "/big dir/ENTRY 299 WITH A LONGER NAME.BIN", &e2, &d), 0);
	CHECK_EQ(e2.size, 0);
	CHECK_EQ(fmt_ntfs_extents(fs, &e2, NULL, 0, &n, &d), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(fmt_ntfs_extents(fs, &e, NULL, 0, &n, &d), EISDIR);
	/* nested use of the struct from inside a listing */
	memset(&x, 0, sizeof(x));
	x.fs = fs;
	CHECK_EQ(fmt_ntfs_list(fs, NULL, nest_cb, &x, &d), 0);
	CHECK(x.inner >= 300 + 1 + 1);
	CHECK_EQ(x.bad, 0);

	/* what cannot be remapped */
	CHECK_EQ(fmt_ntfs_lookup(fs, "/small.txt", &e, &d), 0);
	CHECK_EQ(e.size, 100);
	CHECK_EQ(fmt_ntfs_extents(fs, &e, NULL, 0, &n, &d), ENOTSUP);
	CHECK_MSG(&d, "resident");
	CHECK_EQ(fmt_ntfs_lookup(fs, "/sparse.iso", &e, &d), 0);
	CHECK_EQ(e.size, 9ull * cs);
	CHECK_EQ(fmt_ntfs_extents(fs, &e, NULL, 0, &n, &d), ENOTSUP);
	CHECK_MSG(&d, "sparse");
	/* absent paths */
	CHECK_EQ(fmt_ntfs_lookup(fs, "/iso dir/nope.iso", &e, &d), ENOENT);
	CHECK_MSG(&d, "no /iso dir/nope.iso");
	CHECK_EQ(fmt_ntfs_lookup(fs, "/small.txt/x", &e, &d), ENOTDIR);
	CHECK_EQ(fmt_ntfs_lookup(fs, "/", &e, &d), 0);
	CHECK(e.is_root && e.is_dir);
	fmt_ntfs_close(fs);

	/* ASCII folding without $UpCase */
	CHECK_EQ(open_img(&m, fs, false, &d), 0);
	CHECK(!fs->has_upcase);
	CHECK_EQ(fmt_ntfs_lookup(fs, "/Iso Dir/SUB DIR/x Y.iSo", &e, &d), 0);
	CHECK_EQ(e.size, 5ull * cs + 777);
	fmt_ntfs_close(fs);
	fmt_ntfs_close(fs);	/* twice is harmless */
	free(m.b);
	free(fs);
}

/* --- forging --------------------------------------------------------------- */

/* The image offset of byte off of $MFT's data. */
static uint64_t
mft_off(const struct fmt_ntfs *fs, uint64_t off)
{
	uint64_t vcn = off / fs->cluster_size;
	size_t i;

	for (i = 0; i < fs->nmft; i++)
		if (vcn >= fs->mft[i].vcn && vcn < fs->mft[i].vcn +
		    fs->mft[i].len)
			return ((fs->mft[i].lcn + vcn - fs->mft[i].vcn) *
			    fs->cluster_size + off % fs->cluster_size);
	return (UINT64_MAX);
}

/* Gathers a multi-sector record (512-byte blocks at offs) and undoes fixups. */
static void
rec_get(const struct timg *m, const uint64_t *offs, uint32_t size,
    uint8_t *b)
{
	uint32_t i, usa;

	for (i = 0; i < size / 512; i++)
		memcpy(b + i * 512, m->b + offs[i], 512);
	usa = lr_le16dec(b + 4);
	for (i = 1; i <= size / 512; i++)
		memcpy(b + i * 512 - 2, b + usa + 2 * i, 2);
}

/* Redoes the fixups and scatters the record back. */
static void
rec_put(struct timg *m, const uint64_t *offs, uint32_t size, uint8_t *b)
{
	uint32_t i, usa = lr_le16dec(b + 4);

	for (i = 1; i <= size / 512; i++) {
		memcpy(b + usa + 2 * i, b + i * 512 - 2, 2);
		memcpy(b + i * 512 - 2, b + usa, 2);
	}
	for (i = 0; i < size / 512; i++)
		memcpy(m->b + offs[i], b + i * 512, 512);
}

static void
mft_offs(const struct fmt_ntfs *fs, uint64_t recno, uint64_t *offs)
{
	uint32_t i;

	for (i = 0; i < fs->rec_size / 512; i++)
		offs[i] = mft_off(fs, recno * fs->rec_size + i * 512);
}

/* The offset of the first attribute of type in a fixed-up record. */
static uint32_t
attr_off(const uint8_t *r, uint32_t type)
{
	uint32_t o = lr_le16dec(r + 0x14);

	while (o + 8 < 4096 && lr_le32dec(r + o) != 0xffffffffu) {
		if (lr_le32dec(r + o) == type)
			return (o);
		if (lr_le32dec(r + o + 4) == 0)
			break;
		o += lr_le32dec(r + o + 4);
	}
	return (0);
}

/*
 * The INDX block (bsize bytes, fixed up into r) whose live entries hold the
 * name s: its image offset, and *eo the entry's offset in r.  Stale entries
 * past a node's end (left by splits) do not count.
 */
static uint64_t
find_indx(const struct timg *m, const char *s, uint32_t bsize, uint8_t *r,
    uint32_t *eo)
{
	uint64_t o, offs[8];
	uint32_t i, e, end, n = (uint32_t)strlen(s);

	for (o = 0; o + bsize <= m->len; o += 512) {
		if (memcmp(m->b + o, "INDX", 4) != 0)
			continue;
		for (i = 0; i < bsize / 512; i++)
			offs[i] = o + i * 512;
		rec_get(m, offs, bsize, r);
		e = 0x18 + lr_le32dec(r + 0x18);
		end = 0x18 + lr_le32dec(r + 0x1c);
		while (e + 16 <= end && end <= bsize &&
		    lr_le16dec(r + e + 8) >= 16 &&
		    (lr_le16dec(r + e + 12) & 2) == 0) {
			if (r[e + 0x50] == n) {
				for (i = 0; i < n; i++)
					if (lr_le16dec(r + e + 0x52 + 2 * i) !=
					    (uint8_t)s[i])
						break;
				if (i == n) {
					*eo = e;
					return (o);
				}
			}
			e += lr_le16dec(r + e + 8);
		}
	}
	return (UINT64_MAX);
}

static int
forged_open(struct timg *c, struct fmt_ntfs *fs, struct diag *d)
{
	return (open_img(c, fs, true, d));
}

static void
hostile(void)
{
	struct fmt_ntfs *fs = calloc(1, sizeof(*fs)), *fs2 = calloc(1,
	    sizeof(*fs2));
	struct fmt_ntfs_dirent e, e2;
	uint64_t offs[8], io;
	uint8_t r[4096];
	char path[600];
	struct timg m, m5, c;
	struct seen s;
	struct diag d;
	uint32_t a, o, eo, ilen, i;
	size_t n;
	uint64_t recno, vcn;

	snprintf(path, sizeof(path), "%s/c4096.img", dir);
	if (load(path, &m) != 0) {
		CHECK(0);
		return;
	}
	CHECK_EQ(open_img(&m, fs, true, &d), 0);

	/* boot sector fields */
	c = copy(&m);
	memcpy(c.b + 3, "NTFX    ", 8);
	CHECK(!fmt_ntfs_probe(c.b, c.len));
	CHECK_EQ(forged_open(&c, fs2, &d), EINVAL);
	CHECK_MSG(&d, "not an NTFS");
	memcpy(c.b + 3, "NTFS    ", 8);
	lr_le16enc(c.b + 0x0b, 100);
	CHECK_EQ(forged_open(&c, fs2, &d), EINVAL);
	CHECK_MSG(&d, "bytes per sector");
	lr_le16enc(c.b + 0x0b, 512);
	c.b[0x0d] = 0x81;
	CHECK_EQ(forged_open(&c, fs2, &d), EINVAL);
	CHECK_MSG(&d, "sectors per cluster 0x81");
	c.b[0x0d] = 0xf0;	/* 2^16 sectors: 32 MiB clusters */
	CHECK_EQ(forged_open(&c, fs2, &d), EINVAL);
	c.b[0x0d] = 8;
	lr_le64enc(c.b + 0x28, UINT64_MAX / 256);
	CHECK_EQ(forged_open(&c, fs2, &d), EINVAL);
	CHECK_MSG(&d, "larger than the medium");
	memcpy(c.b, m.b, 512);
	c.b[0x40] = 0;
	CHECK_EQ(forged_open(&c, fs2, &d), EINVAL);
	CHECK_MSG(&d, "MFT record size");
	c.b[0x40] = 0xf6;	/* 2^10 */
	CHECK_EQ(forged_open(&c, fs2, &d), 0);
	fmt_ntfs_close(fs2);
	c.b[0x44] = 0x20;	/* 32 clusters: 128 KiB index records */
	CHECK_EQ(forged_open(&c, fs2, &d), EINVAL);
	CHECK_MSG(&d, "index record size");
	memcpy(c.b, m.b, 512);
	lr_le64enc(c.b + 0x30, fs->nclusters);
	CHECK_EQ(forged_open(&c, fs2, &d), EINVAL);
	CHECK_MSG(&d, "outside the volume");
	/* the MFT LCN at the mirror: record 0 there is $MFT but its runs */
	memcpy(c.b, m.b, 512);
	lr_le64enc(c.b + 0x30, lr_le64dec(m.b + 0x38));
	CHECK(forged_open(&c, fs2, &d) != 0);
	fmt_ntfs_close(fs2);
	free(c.b);

	/* a torn write in the root directory's record */
	c = copy(&m);
	mft_offs(fs, 5, offs);
	c.b[offs[0] + 510] ^= 0xff;
	CHECK_EQ(forged_open(&c, fs2, &d), EINVAL);
	CHECK_MSG(&d, "MFT record 5: block 0 does not end in the update "
	    "sequence number");
	free(c.b);

	CHECK_EQ(fmt_ntfs_lookup(fs, ISO, &e, &d), 0);
	recno = e.ref & 0xffffffffffffull;
	mft_offs(fs, recno, offs);
	/* no FILE magic */
	c = copy(&m);
	memcpy(c.b + offs[0], "BAAD", 4);
	CHECK_EQ(forged_open(&c, fs2, &d), 0);
	CHECK_EQ(fmt_ntfs_lookup(fs2, ISO, &e, &d), EINVAL);
	CHECK_MSG(&d, "does not start with \"FILE\"");
	fmt_ntfs_close(fs2);
	free(c.b);
	/* an attribute of length 0: the walk must not spin */
	c = copy(&m);
	rec_get(&c, offs, 1024, r);
	a = lr_le16dec(r + 0x14);
	lr_le32enc(r + a + 4, 0);
	rec_put(&c, offs, 1024, r);
	CHECK_EQ(forged_open(&c, fs2, &d), 0);
	CHECK_EQ(fmt_ntfs_lookup(fs2, ISO, &e, &d), EINVAL);
	CHECK_MSG(&d, "has length 0");
	fmt_ntfs_close(fs2);
	free(c.b);
	/* runs past the volume; compressed; encrypted */
	for (i = 0; i < 3; i++) {
		c = copy(&m);
		rec_get(&c, offs, 1024, r);
		a = attr_off(r, 0x80);
		CHECK(a != 0 && r[a + 8] == 1);
		if (i == 0) {
			/* the first run's LCN: its top byte 0x7f */
			o = a + lr_le16dec(r + a + 0x20);
			n = r[o] >> 4;
			CHECK(n >= 2);
			r[o + (r[o] & 0xf) + n] = 0x7f;
		} else
			lr_le16enc(r + a + 0x0c, i == 1 ? 0x0001 : 0x4000);
		rec_put(&c, offs, 1024, r);
		CHECK_EQ(forged_open(&c, fs2, &d), 0);
		CHECK_EQ(fmt_ntfs_lookup(fs2, ISO, &e, &d), 0);
		CHECK_EQ(fmt_ntfs_extents(fs2, &e, NULL, 0, &n, &d),
		    i == 0 ? EINVAL : ENOTSUP);
		CHECK_MSG(&d, i == 0 ? "outside the" : i == 1 ?
		    "compact /u" : "cipher /d");
		fmt_ntfs_close(fs2);
		free(c.b);
	}

	/* the big directory: an INDX block without magic, then a self-loop */
	CHECK_EQ(fmt_ntfs_lookup(fs, "/big dir", &e, &d), 0);
	io = find_indx(&m, "entry 150 with a longer name.bin", 4096, r, &eo);
	CHECK(io != UINT64_MAX);
	if (io != UINT64_MAX) {
		c = copy(&m);
		memcpy(c.b + io, "XXXX", 4);
		CHECK_EQ(forged_open(&c, fs2, &d), 0);
		memset(&s, 0, sizeof(s));
		CHECK_EQ(fmt_ntfs_list(fs2, &e, list_cb, &s, &d), EINVAL);
		CHECK_MSG(&d, "does not start with \"INDX\"");
		fmt_ntfs_close(fs2);
		free(c.b);

		/* a DOS 8.3 name: not listed, still found */
		c = copy(&m);
		for (i = 0; i < 8; i++)
			offs[i] = io + i * 512;
		rec_get(&c, offs, 4096, r);
		CHECK_EQ(r[eo + 0x10 + 0x41], FMT_NTFS_NS_POSIX);
		r[eo + 0x10 + 0x41] = FMT_NTFS_NS_DOS;
		rec_put(&c, offs, 4096, r);
		CHECK_EQ(forged_open(&c, fs2, &d), 0);
		memset(&s, 0, sizeof(s));
		CHECK_EQ(fmt_ntfs_list(fs2, &e, list_cb, &s, &d), 0);
		CHECK_EQ(s.n, 299);
		CHECK_EQ(s.big[150], 0);
		CHECK_EQ(fmt_ntfs_lookup(fs2, "/big dir/entry 150 with a longer "
		    "name.bin", &e2, &d), 0);
		CHECK_EQ(e2.name_space, FMT_NTFS_NS_DOS);
		fmt_ntfs_close(fs2);
		free(c.b);

		c = copy(&m);
		rec_get(&c, offs, 4096, r);
		vcn = lr_le64dec(r + 0x10);
		eo = lr_le32dec(r + 0x18);
		ilen = lr_le32dec(r + 0x18 + 4);
		for (o = eo; o < ilen && !(lr_le16dec(r + 0x18 + o + 12) & 2);
		    o += lr_le16dec(r + 0x18 + o + 8))
			;
		CHECK(o + 16 == ilen && ilen + 8 <= lr_le32dec(r + 0x18 + 8));
		lr_le16enc(r + 0x18 + o + 8, 24);
		lr_le16enc(r + 0x18 + o + 12, 3);
		lr_le64enc(r + 0x18 + o + 16, vcn);
		lr_le32enc(r + 0x18 + 4, ilen + 8);
		rec_put(&c, offs, 4096, r);
		CHECK_EQ(forged_open(&c, fs2, &d), 0);
		memset(&s, 0, sizeof(s));
		CHECK_EQ(fmt_ntfs_list(fs2, &e, list_cb, &s, &d), ELOOP);
		CHECK_MSG(&d, "a loop");
		fmt_ntfs_close(fs2);
		free(c.b);
	}
	fmt_ntfs_close(fs);
	free(m.b);

	/* the attribute list of the fragmented file on the 512 volume */
	snprintf(path, sizeof(path), "%s/c512.img", dir);
	if (load(path, &m5) != 0) {
		CHECK(0);
		free(fs);
		free(fs2);
		return;
	}
	CHECK_EQ(open_img(&m5, fs, true, &d), 0);
	CHECK_EQ(fmt_ntfs_lookup(fs, "/frag/frag.bin", &e, &d), 0);
	recno = e.ref & 0xffffffffffffull;
	mft_offs(fs, recno, offs);
	for (i = 0; i < 2; i++) {
		uint32_t lv, le;
		uint64_t ext = 0;
		uint8_t *lst;

		c = copy(&m5);
		rec_get(&c, offs, 1024, r);
		a = attr_off(r, 0x20);
		CHECK(a != 0);
		if (a == 0) {
			free(c.b);
			break;
		}
		if (r[a + 8] == 0) {
			lst = r + a + lr_le16dec(r + a + 0x14);
			lv = lr_le32dec(r + a + 0x10);
		} else {
			/* ntfs-3g writes it non-resident: one run, 1+2 bytes */
			o = a + lr_le16dec(r + a + 0x20);
			CHECK_EQ(r[o], 0x21);
			lst = c.b + (uint64_t)lr_le16dec(r + o + 2) * 512;
			lv = (uint32_t)lr_le64dec(r + a + 0x30);
		}
		/* the second $DATA entry: a segment in an extension record */
		for (le = 0, o = 0; o < lv; o += lr_le16dec(lst + o + 4))
			if (lr_le32dec(lst + o) == 0x80 && le++ == 1)
				break;
		CHECK(o < lv);
		if (i == 0) {
			lr_le64enc(lst + o + 8, lr_le64dec(lst + o + 8) + 1);
			if (r[a + 8] == 0)
				rec_put(&c, offs, 1024, r);
		} else {
			uint64_t xo[8];

			ext = lr_le64dec(lst + o + 0x10) & 0xffffffffffffull;
			CHECK(ext != recno);
			mft_offs(fs, ext, xo);
			rec_get(&c, xo, 1024, r);
			lr_le64enc(r + 0x20, 7);
			rec_put(&c, xo, 1024, r);
		}
		CHECK_EQ(forged_open(&c, fs2, &d), 0);
		CHECK_EQ(fmt_ntfs_lookup(fs2, "/frag/frag.bin", &e, &d), 0);
		CHECK_EQ(fmt_ntfs_extents(fs2, &e, NULL, 0, &n, &d), EINVAL);
		CHECK_MSG(&d, i == 0 ? "that is not there" : "names 7 as its "
		    "base");
		fmt_ntfs_close(fs2);
		free(c.b);
	}
	fmt_ntfs_close(fs);
	free(m5.b);
	free(fs);
	free(fs2);
}

/* --- fuzz seeds ------------------------------------------------------------ */

/* A medium that notes which 512-byte blocks were read. */
struct rec_src {
	struct fmt_mem	fm;
	uint8_t		*seen;
};

static int
rec_read(void *arg, void *buf, size_t len, uint64_t off, struct diag *d)
{
	struct rec_src *r = arg;
	uint64_t b;

	for (b = off / 512; b * 512 < off + len; b++)
		r->seen[b] = 1;
	return (fmt_mem_read(&r->fm, buf, len, off, d));
}

/*
 * Writes SEEDDIR/mkntfs-cCS.bin in fuzz_ntfs's packed form: the blocks a
 * walk of the volume read (lookups, the root listed, the big directory too
 * at 512, extents of the ISO and the fragmented file).
 */
static void
write_seed(unsigned cs, const char *seeddir)
{
	struct fmt_ntfs *fs = calloc(1, sizeof(*fs));
	struct fmt_ntfs_dirent e;
	struct rec_src r;
	struct fmt_src src;
	struct timg m;
	struct seen s;
	struct diag d;
	char path[700];
	uint8_t hdr[4];
	uint64_t offs[8];
	uint32_t n = 0;
	size_t b, k;
	FILE *f;

	snprintf(path, sizeof(path), "%s/c%u.img", dir, cs);
	if (load(path, &m) != 0) {
		CHECK(0);
		free(fs);
		return;
	}
	r.fm.data = m.b;
	r.fm.len = m.len;
	r.seen = calloc(m.len / 512, 1);
	src.read = rec_read;
	src.arg = &r;
	src.size = m.len;
	CHECK_EQ(fmt_ntfs_open(fs, &src, NULL, &d), 0);
	CHECK_EQ(fmt_ntfs_lookup(fs, ISO, &e, &d), 0);
	CHECK_EQ(fmt_ntfs_extents(fs, &e, NULL, 0, &k, &d), ENOSPC);
	memset(&s, 0, sizeof(s));
	CHECK_EQ(fmt_ntfs_list(fs, NULL, list_cb, &s, &d), 0);
	CHECK_EQ(fmt_ntfs_lookup(fs, "/big dir", &e, &d), 0);
	if (cs == 512)	/* its INDX blocks once, the seeds stay small */
		CHECK_EQ(fmt_ntfs_list(fs, &e, list_cb, &s, &d), 0);
	CHECK_EQ(fmt_ntfs_lookup(fs, "/frag/frag.bin", &e, &d), 0);
	CHECK_EQ(fmt_ntfs_extents(fs, &e, NULL, 0, &k, &d), ENOSPC);
	/* $UpCase's record, not its 128 KB: the fuzzer reads zeros there */
	mft_offs(fs, 10, offs);
	for (k = 0; k < fs->rec_size / 512; k++)
		r.seen[offs[k] / 512] = 1;
	fmt_ntfs_close(fs);
	for (b = 0; b < m.len / 512; b++)
		n += r.seen[b];
	snprintf(path, sizeof(path), "%s/mkntfs-c%u.bin", seeddir, cs);
	if ((f = fopen(path, "wb")) == NULL) {
		CHECK(0);
	} else {
		fwrite("NTFZ", 1, 4, f);
		lr_le32enc(hdr, n);
		fwrite(hdr, 1, 4, f);
		for (b = 0; b < m.len / 512; b++)
			if (r.seen[b]) {
				lr_le32enc(hdr, (uint32_t)b);
				fwrite(hdr, 1, 4, f);
			}
		for (b = 0; b < m.len / 512; b++)
			if (r.seen[b])
				fwrite(m.b + b * 512, 1, 512, f);
		CHECK_EQ(fclose(f), 0);
		printf("%s: %u blocks\n", path, n);
	}
	free(r.seen);
	free(m.b);
	free(fs);
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	char cmd[1200];
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: test_ntfs ntfs_images.sh [DIR [SEEDDIR]]"
		    "\n");
		return (2);
	}
	if (argc > 2)
		snprintf(dir, sizeof(dir), "%s", argv[2]);
	else {
		snprintf(dir, sizeof(dir), "%s/test_ntfs.XXXXXX",
		    tmp != NULL ? tmp : "/tmp");
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			return (1);
		}
	}
	mkdir(dir, 0755);
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s'", argv[1], dir);
	rc = system(cmd);
	if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
		rc = rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : 1;
		fprintf(stderr, "ntfs_images.sh failed (%d)\n", rc);
		return (rc == 77 ? 77 : 1);
	}
	good_volume(512);
	good_volume(4096);
	good_volume(65536);
	hostile();
	if (argc > 3) {
		write_seed(512, argv[3]);
		write_seed(4096, argv[3]);
		write_seed(65536, argv[3]);
	}
	if (argc <= 2) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return (t_done());
}
