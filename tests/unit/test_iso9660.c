/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_iso9660.c - the ISO 9660 reader on crafted images built here sector
 * by sector, each held in a malloc'd buffer of exactly the image's size
 * (the library's memory medium, fmt_mem, refuses anything outside it; ASan
 * sees the rest).
 * Covers plain/Joliet/Rock Ridge names (with a CE continuation), multi-
 * extent files, listing, and the hostile cases named in the test names.
 */
#include <stdlib.h>

#include <liveroot/fmt_iso9660.h>
#include <liveroot/util.h>

#include "t.h"

#define SEC	2048
#define NSEC	40

struct img {
	uint8_t		*b;
	size_t		 len;
	struct fmt_mem	 mem;	/* the medium the reader holds on to */
};

static void
both32(uint8_t *p, uint32_t v)
{
	lr_le32enc(p, v);
	lr_be32enc(p + 4, v);
}

static void
both16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
	p[2] = v >> 8;
	p[3] = v & 0xff;
}

/* A directory record at p; returns its length. */
static size_t
dr(uint8_t *p, uint32_t lba, uint32_t size, uint8_t flags, const void *name,
    size_t nl, const void *su, size_t sul)
{
	size_t len = 33 + nl + ((nl & 1) == 0) + sul;

	len += len & 1;
	memset(p, 0, len);
	p[0] = (uint8_t)len;
	both32(p + 2, lba);
	both32(p + 10, size);
	p[25] = flags;
	both16(p + 28, 1);
	p[32] = (uint8_t)nl;
	memcpy(p + 33, name, nl);
	if (sul)
		memcpy(p + 33 + nl + ((nl & 1) == 0), su, sul);
	return (len);
}

static void
vd(uint8_t *p, int type, uint32_t root, uint32_t rootsize, uint32_t nsec)
{
	memset(p, 0, SEC);
	p[0] = (uint8_t)type;
	memcpy(p + 1, "CD001", 5);
	p[6] = 1;
	if (type == 255)
		return;
	memset(p + 8, ' ', 32);
	memset(p + 40, ' ', 32);
	memcpy(p + 40, "TESTVOL", 7);
	both32(p + 80, nsec);
	both16(p + 128, SEC);
	dr(p + 156, root, rootsize, 2, "\0", 1, NULL, 0);
}

/* Begins a directory sector with "." and ".."; returns the next offset. */
static size_t
dirhead(uint8_t *s, uint32_t self, uint32_t parent, const void *su, size_t sul)
{
	size_t o = dr(s, self, SEC, 2, "\0", 1, su, sul);

	return (o + dr(s + o, parent, SEC, 2, "\1", 1, NULL, 0));
}

static const uint8_t sp[7] = { 'S', 'P', 7, 1, 0xbe, 0xef, 0 };

/*
 * The standard image: PVD at 16, Joliet SVD at 17, terminator 18.
 * Primary root at 20: README.TXT;1 (sector 30, "hello\n"), SUBDIR. (dir 21),
 *   BIG.BIN;1 multi-extent (sectors 31, 32, 33: 2048 + 2048 + 100 bytes).
 *   With rr: SP in ".", NM names "ReadMe.txt" (split across a CE in
 *   sector 25), "Sub Dir", "big.bin".
 * Subdir 21: INNER.TXT;1 (sector 34, 3 bytes "abc").
 * Joliet root at 22: "Grüße.txt;1" -> sector 30; "Sub" (dir 23) containing
 *   "inner.txt;1" -> 34.
 */
static struct img *
mkimg(bool rr, bool joliet)
{
	struct img *m = calloc(1, sizeof(*m));
	uint8_t *b, *s, nm[64], su[128] = { 0 };
	size_t o, k;
	int i;

	m->len = NSEC * SEC;
	b = m->b = malloc(m->len);
	memset(b, 0, m->len);
	vd(b + 16 * SEC, 1, 20, SEC, NSEC);
	if (joliet) {
		vd(b + 17 * SEC, 2, 22, SEC, NSEC);
		memcpy(b + 17 * SEC + 88, "%/E", 3);
		vd(b + 18 * SEC, 255, 0, 0, 0);
	} else
		vd(b + 17 * SEC, 255, 0, 0, 0);
	s = b + 20 * SEC;
	o = dirhead(s, 20, 20, rr ? sp : NULL, rr ? 7 : 0);
	/* README.TXT: NM "Read" here, CE -> sector 25 off 10 with "Me.txt" */
	k = 0;
	if (rr) {
		memcpy(su, "NM\x09\x01\x01Read", 9);
		memcpy(su + 9, "CE\x1c\x01", 4);
		both32(su + 13, 25);
		both32(su + 21, 10);
		both32(su + 29, 11);
		k = 37;
		memcpy(b + 25 * SEC + 10, "NM\x0b\x01\x00Me.txt", 11);
	}
	o += dr(s + o, 30, 6, 0, "README.TXT;1", 12, su, k);
	if (rr)
		memcpy(su, "NM\x0c\x01\x00Sub Dir", 12);
	o += dr(s + o, 21, SEC, 2, "SUBDIR.", 7, su, rr ? 12 : 0);
	if (rr)
		memcpy(su, "NM\x0c\x01\x00" "big.bin", 12);
	o += dr(s + o, 31, SEC, 0x80, "BIG.BIN;1", 9, su, rr ? 12 : 0);
	o += dr(s + o, 32, SEC, 0x80, "BIG.BIN;1", 9, su, rr ? 12 : 0);
	o += dr(s + o, 33, 100, 0, "BIG.BIN;1", 9, su, rr ? 12 : 0);
	s = b + 21 * SEC;
	o = dirhead(s, 21, 20, NULL, 0);
	if (rr)
		memcpy(su, "NM\x0e\x01\x00inner.txt", 14);
	dr(s + o, 34, 3, 0, "INNER.TXT;1", 11, su, rr ? 14 : 0);
	if (joliet) {
		static const uint16_t g[] = { 'G', 'r', 0xfc, 0xdf, 'e', '.',
		    't', 'x', 't', ';', '1' };
		static const uint16_t in[] = { 'i', 'n', 'n', 'e', 'r', '.',
		    't', 'x', 't', ';', '1' };

		s = b + 22 * SEC;
		o = dirhead(s, 22, 22, NULL, 0);
		for (i = 0; i < 11; i++) {
			nm[2 * i] = (uint8_t)(g[i] >> 8);
			nm[2 * i + 1] = (uint8_t)g[i];
		}
		o += dr(s + o, 30, 6, 0, nm, 22, NULL, 0);
		memcpy(nm, "\0S\0u\0b", 6);
		dr(s + o, 23, SEC, 2, nm, 6, NULL, 0);
		s = b + 23 * SEC;
		o = dirhead(s, 23, 22, NULL, 0);
		for (i = 0; i < 11; i++) {
			nm[2 * i] = (uint8_t)(in[i] >> 8);
			nm[2 * i + 1] = (uint8_t)in[i];
		}
		dr(s + o, 34, 3, 0, nm, 22, NULL, 0);
	}
	memcpy(b + 30 * SEC, "hello\n", 6);
	memset(b + 31 * SEC, 'A', SEC);
	memset(b + 32 * SEC, 'B', SEC);
	memset(b + 33 * SEC, 'C', 100);
	memcpy(b + 34 * SEC, "abc", 3);
	return (m);
}

static void
freeimg(struct img *m)
{
	free(m->b);
	free(m);
}

static int
isopen(struct fmt_iso *iso, struct img *m, int flags, struct diag *d)
{
	struct fmt_src src;

	fmt_mem_src(&src, &m->mem, m->b, m->len);
	diag_clear(d);
	return (fmt_iso_open(iso, &src, flags, d));
}

static struct fmt_iso iso;

static int
count_cb(void *arg, const char *path, const struct fmt_iso_dirent *e)
{
	(*(int *)arg)++;
	return (0);
}

static void
test_probe(void)
{
	struct img *m = mkimg(false, false);
	uint8_t *x;

	CHECK(fmt_iso_probe(m->b, m->len));
	x = malloc(0x8006);
	memcpy(x, m->b, 0x8006);
	CHECK(!fmt_iso_probe(x, 0x8006));	/* too short to tell */
	free(x);
	x = malloc(0x8007);
	memcpy(x, m->b, 0x8007);
	CHECK(fmt_iso_probe(x, 0x8007));
	x[0x8001] = 'X';
	CHECK(!fmt_iso_probe(x, 0x8007));
	free(x);
	freeimg(m);
}

static void
test_plain(void)
{
	struct img *m = mkimg(false, false);
	struct fmt_iso_dirent e;
	struct fmt_extent ext[4];
	struct diag d;
	char buf[8];
	int n = 0;

	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK(strcmp(iso.label, "TESTVOL") == 0);
	CHECK_EQ(iso.blksz, 2048);
	CHECK_EQ(iso.volsize, NSEC * SEC);
	CHECK_EQ(iso.names, FMT_ISO_NAMES_PLAIN);
	CHECK_EQ(fmt_iso_lookup(&iso, "/readme.txt", &e, ext, 4, &d), 0);
	CHECK(strcmp(e.name, "README.TXT") == 0);
	CHECK_EQ(e.size, 6);
	CHECK_EQ(ext[0].off, 30 * SEC);
	CHECK_EQ(fmt_iso_read_extents(&iso.src, ext, e.nextents, buf, 6, 0,
	    &d), 0);
	CHECK(memcmp(buf, "hello\n", 6) == 0);
	/* trailing '.' stripped, case-insensitive, '.' components */
	CHECK_EQ(fmt_iso_lookup(&iso, "subdir/./Inner.Txt", &e, ext, 4, &d),
	    0);
	CHECK_EQ(e.size, 3);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/", &e, NULL, 0, &d), 0);
	CHECK(e.is_dir);
	CHECK_EQ(fmt_iso_lookup(&iso, "/nothere", &e, ext, 4, &d), ENOENT);
	CHECK_MSG(&d, "nothere");
	CHECK_EQ(fmt_iso_lookup(&iso, "/README.TXT/x", &e, ext, 4, &d),
	    ENOTDIR);
	CHECK_EQ(fmt_iso_walk(&iso, "/", count_cb, &n, &d), 0);
	CHECK_EQ(n, 4);
	n = 0;
	CHECK_EQ(fmt_iso_list(&iso, "/", count_cb, &n, &d), 0);
	CHECK_EQ(n, 3);
	freeimg(m);
}

static void
test_rr_ce_name(void)
{
	struct img *m = mkimg(true, true);
	struct fmt_iso_dirent e;
	struct fmt_extent ext[4];
	struct diag d;

	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK(iso.has_rr);
	CHECK(iso.has_joliet);
	CHECK_EQ(iso.names, FMT_ISO_NAMES_RR);
	/* "Read" from the record, "Me.txt" from the CE area */
	CHECK_EQ(fmt_iso_lookup(&iso, "/ReadMe.txt", &e, ext, 4, &d), 0);
	CHECK(strcmp(e.name, "ReadMe.txt") == 0);
	/* Rock Ridge names match exactly */
	CHECK_EQ(fmt_iso_lookup(&iso, "/readme.txt", &e, ext, 4, &d), ENOENT);
	CHECK_EQ(fmt_iso_lookup(&iso, "/Sub Dir/inner.txt", &e, ext, 4, &d),
	    0);
	CHECK_EQ(ext[0].off, 34 * SEC);
	freeimg(m);
}

static void
test_joliet(void)
{
	struct img *m = mkimg(false, true);
	struct fmt_iso_dirent e;
	struct fmt_extent ext[4];
	struct diag d;

	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(iso.names, FMT_ISO_NAMES_JOLIET);
	CHECK_EQ(fmt_iso_lookup(&iso, "/Grüße.txt", &e, ext, 4, &d), 0);
	CHECK(strcmp(e.name, "Grüße.txt") == 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUB/INNER.TXT", &e, ext, 4, &d), 0);
	CHECK_EQ(e.size, 3);
	/* NOJOLIET falls back to the plain names */
	CHECK_EQ(isopen(&iso, m, FMT_ISO_NOJOLIET, &d), 0);
	CHECK_EQ(iso.names, FMT_ISO_NAMES_PLAIN);
	CHECK_EQ(fmt_iso_lookup(&iso, "/README.TXT", &e, ext, 4, &d), 0);
	freeimg(m);
}

static void
test_multi_extent(void)
{
	struct img *m = mkimg(true, false);
	struct fmt_iso_dirent e;
	struct fmt_extent ext[4];
	struct diag d;
	uint8_t *buf = malloc(2 * SEC + 100);

	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/big.bin", &e, ext, 4, &d), 0);
	CHECK_EQ(e.nextents, 3);
	CHECK_EQ(e.size, 2 * SEC + 100);
	CHECK_EQ(ext[1].off, 32 * SEC);
	CHECK_EQ(ext[2].len, 100);
	CHECK_EQ(fmt_iso_read_extents(&iso.src, ext, 3, buf, 2 * SEC + 100, 0,
	    &d), 0);
	CHECK(buf[0] == 'A' && buf[SEC] == 'B' && buf[2 * SEC + 99] == 'C');
	CHECK_EQ(fmt_iso_read_extents(&iso.src, ext, 3, buf, 4, SEC - 2, &d),
	    0);
	CHECK(memcmp(buf, "AABB", 4) == 0);
	CHECK_EQ(fmt_iso_read_extents(&iso.src, ext, 3, buf, 2, 2 * SEC + 99,
	    &d), EINVAL);
	/* the caller's array is too small: ENOSPC, and how many are needed */
	CHECK_EQ(fmt_iso_lookup(&iso, "/big.bin", &e, ext, 2, &d), ENOSPC);
	CHECK_EQ(e.nextents, 3);
	free(buf);
	freeimg(m);
}

/* The last record of the chain still says "more follows". */
static void
test_multi_extent_chain_never_ends(void)
{
	struct img *m = mkimg(false, false);
	struct fmt_iso_dirent e;
	struct fmt_extent ext[4];
	struct diag d;
	uint8_t *s = m->b + 20 * SEC;
	size_t o = 0;
	int n = 0;

	/* find the third BIG.BIN record and set its multi-extent flag */
	while (s[o] != 0) {
		if (s[32 + o] == 9 && lr_le32dec(s + o + 2) == 33)
			s[o + 25] |= 0x80;
		o += s[o];
	}
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/BIG.BIN", &e, ext, 4, &d), EINVAL);
	CHECK_MSG(&d, "does not end");
	CHECK_EQ(fmt_iso_walk(&iso, "/", count_cb, &n, &d), EINVAL);
	freeimg(m);
}

/* SUBDIR's record points at the root itself, and at itself. */
static void
test_dir_contains_itself(void)
{
	struct img *m = mkimg(false, false);
	struct fmt_iso_dirent e;
	struct diag d;
	uint8_t *s = m->b + 21 * SEC;
	int n = 0;

	/* SUBDIR/INNER.TXT becomes a directory pointing at SUBDIR */
	size_t o = s[0] + s[s[0]];

	s[o + 25] = 2;
	both32(s + o + 2, 21);
	both32(s + o + 10, SEC);
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/INNER.TXT", &e, NULL, 0, &d),
	    ELOOP);
	CHECK_MSG(&d, "contains itself");
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/INNER.TXT/INNER.TXT/X", &e,
	    NULL, 0, &d), ELOOP);
	CHECK_EQ(fmt_iso_walk(&iso, "/", count_cb, &n, &d), ELOOP);
	CHECK_MSG(&d, "cycle");
	/* now it points at the root */
	both32(s + o + 2, 20);
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/INNER.TXT", &e, NULL, 0, &d),
	    ELOOP);
	CHECK_EQ(fmt_iso_walk(&iso, "/", count_cb, &n, &d), ELOOP);
	freeimg(m);
}

static void
test_extent_past_end_of_volume(void)
{
	struct img *m = mkimg(false, false);
	struct fmt_iso_dirent e;
	struct fmt_extent ext[4];
	struct diag d;
	uint8_t *s = m->b + 21 * SEC;
	size_t o = s[0] + s[s[0]];

	both32(s + o + 2, NSEC - 1);
	both32(s + o + 10, SEC + 1);	/* one byte over the volume */
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/INNER.TXT", &e, ext, 4, &d),
	    EINVAL);
	CHECK_MSG(&d, "INNER.TXT");
	CHECK_MSG(&d, "end of the volume");
	both32(s + o + 10, SEC);	/* exactly the last sector: fine */
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/INNER.TXT", &e, ext, 4, &d), 0);
	/* the volume claims more than the medium holds */
	both32(m->b + 16 * SEC + 80, NSEC + 10);
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	both32(s + o + 2, NSEC + 2);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/INNER.TXT", &e, ext, 4, &d),
	    EINVAL);
	CHECK_MSG(&d, "truncated");
	freeimg(m);
}

static void
test_record_crosses_sector(void)
{
	struct img *m = mkimg(false, false);
	struct fmt_iso_dirent e;
	struct diag d;
	uint8_t *s = m->b + 21 * SEC;
	size_t o = s[0] + s[s[0]];

	uint8_t pad[216] = { 0 };

	/* fill the sector with 250-byte records, then one overrunning it */
	while (SEC - o >= 350)
		o += dr(s + o, 34, 3, 0, "F", 1, pad, sizeof(pad));
	if (SEC - o > 200)
		o += dr(s + o, 34, 3, 0, "F", 1, pad, SEC - o - 150 - 34);
	s[o] = (uint8_t)(SEC - o + 2);
	s[o + 32] = 1;
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/X", &e, NULL, 0, &d), EINVAL);
	CHECK_MSG(&d, "crosses its sector");
	/* a name longer than its record */
	s[o] = 34;
	s[o + 32] = 10;
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/X", &e, NULL, 0, &d), EINVAL);
	freeimg(m);
}

static int
noop_cb(void *arg, const char *path, const struct fmt_iso_dirent *e)
{
	return (0);
}

/*
 * The diag is optional: a corrupt record met with a NULL diag is still an
 * error (lookup, listing and walk), not a success with an empty entry.
 */
static void
test_corrupt_record_without_diag_is_still_an_error(void)
{
	struct img *m = mkimg(false, false);
	struct fmt_iso_dirent e;
	struct diag d;
	uint8_t *s = m->b + 21 * SEC;
	size_t o = s[0] + s[s[0]];

	/* the first real record of SUBDIR: a name longer than the record */
	s[o] = 34;
	s[o + 32] = 200;
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/X", &e, NULL, 0, &d), EINVAL);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/X", &e, NULL, 0, NULL), EINVAL);
	CHECK_EQ(fmt_iso_list(&iso, "/SUBDIR", noop_cb, NULL, NULL), EINVAL);
	CHECK_EQ(fmt_iso_walk(&iso, "/", noop_cb, NULL, NULL), EINVAL);
	freeimg(m);
}

/* A directory claims 3 GiB: refused before any of it is read. */
static void
test_directory_size_huge(void)
{
	struct img *m = mkimg(false, false);
	struct fmt_iso_dirent e;
	struct diag d;
	uint8_t *s = m->b + 20 * SEC;
	size_t o = s[0] + s[s[0]];

	o += s[o];		/* SUBDIR */
	both32(s + o + 10, 3u << 30);
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/X", &e, NULL, 0, &d), EINVAL);
	CHECK_MSG(&d, "SUBDIR");
	freeimg(m);
}

static void
test_descriptor_set_without_terminator(void)
{
	struct img *m = mkimg(false, false);
	struct diag d;
	int i;

	/* every sector from 16 on is a primary descriptor: none is 255 */
	for (i = 17; i < NSEC; i++)
		memcpy(m->b + i * SEC, m->b + 16 * SEC, SEC);
	CHECK_EQ(isopen(&iso, m, 0, &d), EINVAL);
	CHECK_MSG(&d, "truncated");
	m->b[17 * SEC + 1] = 'X';
	CHECK_EQ(isopen(&iso, m, 0, &d), EINVAL);
	CHECK_MSG(&d, "CD001");
	freeimg(m);
}

static void
test_bad_block_size(void)
{
	struct img *m = mkimg(false, false);
	struct diag d;

	both16(m->b + 16 * SEC + 128, 4096);
	CHECK_EQ(isopen(&iso, m, 0, &d), EINVAL);
	CHECK_MSG(&d, "block size");
	both16(m->b + 16 * SEC + 128, 2048);
	m->b[16 * SEC + 84] ^= 1;	/* BE half disagrees */
	CHECK_EQ(isopen(&iso, m, 0, &d), EINVAL);
	freeimg(m);
}

/* 70 nested directories: the walk stops at FMT_ISO_MAXDEPTH. */
static void
test_depth_limit(void)
{
	struct img m;
	struct diag d;
	int i, n = 0, nd = 70;
	uint32_t nsec = 20 + (uint32_t)nd + 1;

	m.len = (size_t)nsec * SEC;
	m.b = calloc(1, m.len);
	vd(m.b + 16 * SEC, 1, 20, SEC, nsec);
	vd(m.b + 17 * SEC, 255, 0, 0, 0);
	for (i = 0; i <= nd; i++) {
		uint8_t *s = m.b + (20 + i) * SEC;
		size_t o = dirhead(s, 20 + i, i ? 19 + i : 20, NULL, 0);

		if (i < nd)
			dr(s + o, 21 + i, SEC, 2, "D", 1, NULL, 0);
	}
	CHECK_EQ(isopen(&iso, &m, 0, &d), 0);
	CHECK_EQ(fmt_iso_walk(&iso, "/", count_cb, &n, &d), ELOOP);
	CHECK_MSG(&d, "deeper than");
	free(m.b);
}

/*
 * 30 levels, each directory holding two entries that both point at the
 * next level: no cycle, but 2^30 paths.  The descriptor claims nsec blocks
 * (0: the image's own size).
 */
static void
mk_dag(struct img *m, uint32_t nsec)
{
	int i, nd = 30;

	m->len = (size_t)(20 + nd + 1) * SEC;
	m->b = calloc(1, m->len);
	vd(m->b + 16 * SEC, 1, 20, SEC, nsec ? nsec : 20 + (uint32_t)nd + 1);
	vd(m->b + 17 * SEC, 255, 0, 0, 0);
	for (i = 0; i <= nd; i++) {
		uint8_t *s = m->b + (20 + i) * SEC;
		size_t o = dirhead(s, 20 + i, i ? 19 + i : 20, NULL, 0);

		if (i < nd) {
			o += dr(s + o, 21 + i, SEC, 2, "A", 1, NULL, 0);
			dr(s + o, 21 + i, SEC, 2, "B", 1, NULL, 0);
		}
	}
}

/* The DAG above: the walk's byte budget stops it. */
static void
test_shared_directories_dag(void)
{
	struct img m;
	struct diag d;
	int n = 0;

	mk_dag(&m, 0);
	CHECK_EQ(isopen(&iso, &m, 0, &d), 0);
	CHECK_EQ(fmt_iso_walk(&iso, "/", count_cb, &n, &d), ELOOP);
	CHECK_MSG(&d, "shared");
	CHECK(n < 200);
	free(m.b);
}

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return (true);
	return (false);
}

/*
 * A volume label (and system id) carrying terminal escapes and a newline:
 * labels are printed by locate/inspect, so control bytes become '_'.
 */
static void
test_label_with_terminal_escapes(void)
{
	struct img *m = mkimg(false, false);
	struct diag d;

	memcpy(m->b + 16 * SEC + 40, "\033[2J\033]0;x\007EVIL\n", 16);
	memcpy(m->b + 16 * SEC + 8, "SYS\r\033[1A", 8);
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK(!has_control(iso.label));
	CHECK(!has_control(iso.system_id));
	CHECK(strcmp(iso.label, "_[2J_]0;x_EVIL_") == 0);
	freeimg(m);
}

static int
capped_count_cb(void *arg, const char *path, const struct fmt_iso_dirent *e)
{
	return (++(*(int *)arg) >= 100000 ? EFBIG : 0);
}

/*
 * The same DAG on a 100 KB medium whose descriptor claims 2^32-1 blocks
 * (8 TB): the walk budget must follow the medium, not the claimed volume,
 * or the walk visits billions of directories.
 */
static void
test_shared_directories_dag_huge_claimed_volume(void)
{
	struct img m;
	struct diag d;
	int n = 0;

	mk_dag(&m, UINT32_MAX);
	CHECK_EQ(isopen(&iso, &m, 0, &d), 0);
	CHECK_EQ(fmt_iso_walk(&iso, "/", capped_count_cb, &n, &d), ELOOP);
	CHECK_MSG(&d, "shared");
	CHECK(n < 200);
	free(m.b);
}

/* CE chains pointing at themselves stop after FMT_ISO_MAXCE areas. */
static void
test_rr_ce_loop(void)
{
	struct img *m = mkimg(true, false);
	struct fmt_iso_dirent e;
	struct diag d;
	uint8_t *ce = m->b + 25 * SEC + 10, *r = m->b + 20 * SEC;
	size_t i;

	/* the record's CE now reads the whole 28-byte entry */
	for (i = 0; i < SEC - 28; i++)
		if (memcmp(r + i, "CE\x1c\x01", 4) == 0)
			both32(r + i + 20, 28);

	memcpy(ce, "CE\x1c\x01", 4);
	both32(ce + 4, 25);
	both32(ce + 12, 10);
	both32(ce + 20, 28);
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/x", &e, NULL, 0, &d), EINVAL);
	CHECK_MSG(&d, "continuation");
	/* a CE area that does not fit in its block */
	both32(ce + 12, 2040);
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/x", &e, NULL, 0, &d), EINVAL);
	freeimg(m);
}

/* SUBDIR's NM becomes a Rock Ridge CL pointing back at the root. */
static void
test_rr_cl_points_to_ancestor(void)
{
	struct img *m = mkimg(true, false);
	struct fmt_iso_dirent e;
	struct diag d;
	uint8_t *s = m->b + 20 * SEC;
	size_t i;
	int n = 0;

	for (i = 0; i < SEC - 12; i++)
		if (memcmp(s + i, "NM\x0c\x01\x00Sub Dir", 12) == 0) {
			memcpy(s + i, "CL\x0c\x01", 4);
			both32(s + i + 4, 20);
		}
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR", &e, NULL, 0, &d), ELOOP);
	CHECK_EQ(fmt_iso_walk(&iso, "/", count_cb, &n, &d), ELOOP);
	/* CL to a block past the volume */
	for (i = 0; i < SEC - 12; i++)
		if (memcmp(s + i, "CL\x0c\x01", 4) == 0)
			both32(s + i + 4, NSEC);
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR", &e, NULL, 0, &d), EINVAL);
	CHECK_MSG(&d, "SUBDIR");
	freeimg(m);
}

static int
stop_cb(void *arg, const char *path, const struct fmt_iso_dirent *e)
{
	return (42);
}

/* Callback stop, associated files hidden, '..' refused. */
static void
test_list_details(void)
{
	struct img *m = mkimg(false, false);
	struct fmt_iso_dirent e;
	struct diag d;
	uint8_t *s = m->b + 20 * SEC;
	size_t o = s[0] + s[s[0]];
	int n = 0;

	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_list(&iso, "/", stop_cb, NULL, &d), 42);
	CHECK_EQ(fmt_iso_walk(&iso, "/SUBDIR", stop_cb, NULL, &d), 42);
	CHECK_EQ(fmt_iso_lookup(&iso, "/SUBDIR/../README.TXT", &e, NULL, 0,
	    &d), EINVAL);
	CHECK_EQ(fmt_iso_list(&iso, "/README.TXT", count_cb, &n, &d),
	    ENOTDIR);
	s[o + 25] |= 0x04;	/* README.TXT: an associated file */
	CHECK_EQ(isopen(&iso, m, 0, &d), 0);
	CHECK_EQ(fmt_iso_lookup(&iso, "/README.TXT", &e, NULL, 0, &d), ENOENT);
	n = 0;
	CHECK_EQ(fmt_iso_list(&iso, "/", count_cb, &n, &d), 0);
	CHECK_EQ(n, 2);
	freeimg(m);
}

/* Seeds for fuzz_iso9660: the images from 0x8000 on (its input format). */
static void
write_seed(const char *dir, const char *name, struct img *m)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((f = fopen(p, "wb")) != NULL) {
		fwrite(m->b + 0x8000, 1, m->len - 0x8000, f);
		fclose(f);
	}
	freeimg(m);
}

int
main(int argc, char **argv)
{
	if (argc > 1) {
		write_seed(argv[1], "crafted-plain.bin", mkimg(false, false));
		write_seed(argv[1], "crafted-joliet.bin", mkimg(false, true));
		write_seed(argv[1], "crafted-rr-joliet.bin", mkimg(true, true));
		return (0);
	}
	test_probe();
	test_label_with_terminal_escapes();
	test_plain();
	test_rr_ce_name();
	test_joliet();
	test_multi_extent();
	test_multi_extent_chain_never_ends();
	test_dir_contains_itself();
	test_extent_past_end_of_volume();
	test_record_crosses_sector();
	test_corrupt_record_without_diag_is_still_an_error();
	test_directory_size_huge();
	test_descriptor_set_without_terminator();
	test_bad_block_size();
	test_depth_limit();
	test_shared_directories_dag();
	test_shared_directories_dag_huge_claimed_volume();
	test_rr_ce_loop();
	test_rr_cl_points_to_ancestor();
	test_list_details();
	return (t_done());
}
