/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fat.c - the FAT12/16/32 reader on crafted images held in buffers of
 * exactly the image's size (so ASan sees any over-read): BPB checks, 8.3
 * and long names (LFN checksum), listing, extents and coalescing, and the
 * hostile regressions named after what the crafted input does.
 */
#include <liveroot/fmt_fat.h>
#include <liveroot/util.h>

#include "t.h"
#include "timg.h"

#define SECS	64
#define IMGSZ	(SECS * 512)
#define ROOT	(2 * 512)	/* reserved 1, one FAT of 1 sector */
#define DATA	(3 * 512)	/* root: 16 entries = 1 sector */

static void
fat12_set(uint8_t *img, uint32_t c, uint32_t v)
{
	uint8_t *p = img + 512 + c + c / 2;

	if (c & 1) {
		p[0] = (uint8_t)((p[0] & 0x0f) | ((v & 0x0f) << 4));
		p[1] = (uint8_t)(v >> 4);
	} else {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)((p[1] & 0xf0) | ((v >> 8) & 0x0f));
	}
}

static void
dent(uint8_t *e, const char *n11, uint8_t attr, uint32_t clu, uint32_t size)
{
	memcpy(e, n11, 11);
	e[11] = attr;
	lr_le16enc(e + 26, (uint16_t)clu);
	lr_le16enc(e + 20, (uint16_t)(clu >> 16));
	lr_le32enc(e + 28, size);
}

static uint8_t
lfn_sum(const char *n11)
{
	uint8_t s = 0;
	int i;

	for (i = 0; i < 11; i++)
		s = (uint8_t)(((s & 1) << 7) + (s >> 1) + (uint8_t)n11[i]);
	return (s);
}

/* One LFN entry: seq (with 0x40 on the last), 13 units from name. */
static void
lfn(uint8_t *e, int seq, bool last, const uint16_t *u, size_t n, size_t from,
    uint8_t sum)
{
	static const int pos[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24,
	    28, 30 };
	size_t k;
	uint16_t v;

	memset(e, 0, 32);
	e[0] = (uint8_t)(seq | (last ? 0x40 : 0));
	e[11] = 0x0f;
	e[13] = sum;
	for (k = 0; k < 13; k++) {
		v = from + k < n ? u[from + k] : from + k == n ? 0 : 0xffff;
		lr_le16enc(e + pos[k], v);
	}
}

static uint8_t *
make_fat12(void)
{
	uint8_t *img = calloc(1, IMGSZ), *r = img + ROOT;
	/* "Ünïcode long name.txt" as UTF-16 */
	static const uint16_t ln[] = { 0xdc, 'n', 0xef, 'c', 'o', 'd', 'e',
	    ' ', 'l', 'o', 'n', 'g', ' ', 'n', 'a', 'm', 'e', '.', 't', 'x',
	    't' };
	uint8_t s;
	int i;

	img[0] = 0xeb;
	img[1] = 0x3c;
	img[2] = 0x90;
	memcpy(img + 3, "MSDOS5.0", 8);
	lr_le16enc(img + 11, 512);
	img[13] = 1;
	lr_le16enc(img + 14, 1);
	img[16] = 1;
	lr_le16enc(img + 17, 16);
	lr_le16enc(img + 19, SECS);
	img[21] = 0xf8;
	lr_le16enc(img + 22, 1);
	img[38] = 0x29;
	memcpy(img + 43, "BPBLABEL   ", 11);
	memcpy(img + 54, "FAT12   ", 8);
	img[510] = 0x55;
	img[511] = 0xaa;
	fat12_set(img, 0, 0xff8);
	fat12_set(img, 1, 0xfff);
	dent(r, "MYVOLUME   ", 0x08, 0, 0);
	/* HELLO.TXT: clusters 2,3 (contiguous) then 5 -> 2 extents */
	dent(r + 32, "HELLO   TXT", 0x20, 2, 1100);
	fat12_set(img, 2, 3);
	fat12_set(img, 3, 5);
	fat12_set(img, 5, 0xfff);
	for (i = 0; i < 1100; i++)
		img[DATA + (i < 1024 ? i : 3 * 512 + i - 1024)] =
		    (uint8_t)('a' + i % 26);
	/* SUBDIR: cluster 4 */
	dent(r + 64, "SUBDIR     ", 0x10, 4, 0);
	fat12_set(img, 4, 0xfff);
	/* Inside SUBDIR: ".", "..", a long-named file, a deleted entry. */
	dent(img + DATA + 2 * 512, ".          ", 0x10, 4, 0);
	dent(img + DATA + 2 * 512 + 32, "..         ", 0x10, 0, 0);
	s = lfn_sum("UNICOD~1TXT");
	lfn(img + DATA + 2 * 512 + 64, 2, true, ln, 21, 13, s);
	lfn(img + DATA + 2 * 512 + 96, 1, false, ln, 21, 0, s);
	dent(img + DATA + 2 * 512 + 128, "UNICOD~1TXT", 0x20, 6, 5);
	fat12_set(img, 6, 0xfff);
	memcpy(img + DATA + 4 * 512, "12345", 5);
	dent(img + DATA + 2 * 512 + 160, "\xe5" "ELETED TXT", 0x20, 7, 5);
	/* lower.bin: NT lower-case flags, no LFN */
	dent(r + 96, "LOWER   BIN", 0x20, 0, 0);
	r[96 + 12] = 0x18;
	/* BADLFN.TXT preceded by an LFN whose checksum is wrong */
	lfn(r + 128, 1, true, ln, 5, 0, (uint8_t)(lfn_sum("BADLFN  TXT") + 1));
	dent(r + 160, "BADLFN  TXT", 0x20, 0, 0);
	/* Hostile entries, each with its own chain */
	dent(r + 192, "LOOP    BIN", 0x20, 10, 2000);	/* 10->11->10 */
	fat12_set(img, 10, 11);
	fat12_set(img, 11, 10);
	dent(r + 224, "SHORT   BIN", 0x20, 12, 5000);	/* 1 cluster */
	fat12_set(img, 12, 0xfff);
	dent(r + 256, "PAST    BIN", 0x20, 13, 1000);	/* 13 -> 4000 */
	fat12_set(img, 13, 4000);
	dent(r + 288, "FIRSTBADBIN", 0x20, 999, 10);	/* starts past */
	dent(r + 320, "FREE    BIN", 0x20, 14, 1000);	/* 14 -> free */
	fat12_set(img, 14, 0);
	return (img);
}

static int
collect(void *arg, const struct fmt_fat_dirent *e)
{
	return (timg_names_add(arg, e->name));
}

static int
open_img(struct fmt_fat *fs, struct timg *m, struct diag *d)
{
	struct fmt_src src;

	timg_src(&src, m);
	return (fmt_fat_open(fs, &src, d));
}

static void
test_good(void)
{
	struct timg m = { make_fat12(), IMGSZ };
	static struct fmt_fat fs;
	struct fmt_fat_dirent e;
	struct fmt_extent ext[4];
	struct timg_names nm;
	struct diag d;
	size_t n;

	CHECK(fmt_fat_probe(m.b, 512));
	CHECK(!fmt_fat_probe(m.b, 511));
	CHECK_EQ(open_img(&fs, &m, &d), 0);
	CHECK_EQ(fs.type, 12);
	CHECK_EQ(fs.nclusters, 61);
	CHECK(strcmp(fs.label, "MYVOLUME") == 0);
	CHECK(fmt_fat_label_is(&fs, "myvolume"));
	CHECK(!fmt_fat_label_is(&fs, "VTOYEFI"));

	CHECK_EQ(fmt_fat_lookup(&fs, "/hello.txt", &e, &d), 0);
	CHECK_EQ(e.size, 1100);
	CHECK_EQ(fmt_fat_extents(&fs, &e, NULL, 0, &n, NULL), ENOSPC);
	CHECK_EQ(n, 2);
	CHECK_EQ(fmt_fat_extents(&fs, &e, ext, 1, &n, &d), ENOSPC);
	CHECK_EQ(fmt_fat_extents(&fs, &e, ext, 4, &n, &d), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(ext[0].off, DATA);
	CHECK_EQ(ext[0].len, 1024);
	CHECK_EQ(ext[1].off, DATA + 3 * 512);
	CHECK_EQ(ext[1].len, 76);
	CHECK_EQ(m.b[ext[1].off + 75], 'a' + 1099 % 26);

	CHECK_EQ(fmt_fat_lookup(&fs, "SubDir//ünïcode LONG name.TXT", &e, &d),
	    0);
	CHECK(strcmp(e.name, "\xc3\x9cn\xc3\xaf" "code long name.txt") == 0);
	CHECK(strcmp(e.short_name, "UNICOD~1.TXT") == 0);
	CHECK_EQ(fmt_fat_lookup(&fs, "/subdir/unicod~1.txt", &e, &d), 0);
	CHECK_EQ(fmt_fat_extents(&fs, &e, ext, 4, &n, &d), 0);
	CHECK_EQ(n, 1);
	CHECK(memcmp(m.b + ext[0].off, "12345", 5) == 0 && ext[0].len == 5);
	CHECK_EQ(fmt_fat_lookup(&fs, "/subdir/deleted.txt", &e, &d), ENOENT);
	CHECK_MSG(&d, "deleted.txt");
	CHECK_EQ(fmt_fat_lookup(&fs, "/hello.txt/x", &e, &d), ENOTDIR);
	CHECK_EQ(fmt_fat_lookup(&fs, "/", &e, &d), 0);
	CHECK(e.is_root && e.is_dir);
	CHECK_EQ(fmt_fat_extents(&fs, &e, ext, 4, &n, &d), 0);
	CHECK_EQ(ext[0].off, ROOT);
	CHECK_EQ(ext[0].len, 512);

	memset(&nm, 0, sizeof(nm));
	CHECK_EQ(fmt_fat_list(&fs, NULL, collect, &nm, &d), 0);
	CHECK(strstr(nm.buf, "lower.bin|") != NULL);
	CHECK(strstr(nm.buf, "BADLFN.TXT|") != NULL);	/* LFN ignored */
	CHECK(strstr(nm.buf, "MYVOLUME") == NULL);
	CHECK_EQ(nm.n, 9);
	CHECK_EQ(fmt_fat_lookup(&fs, "/subdir", &e, &d), 0);
	memset(&nm, 0, sizeof(nm));
	CHECK_EQ(fmt_fat_list(&fs, &e, collect, &nm, &d), 0);
	CHECK_EQ(nm.n, 1);
	free(m.b);
}

static void
test_hostile(void)
{
	struct timg m = { make_fat12(), IMGSZ };
	static struct fmt_fat fs;
	struct fmt_fat_dirent e;
	struct fmt_extent ext[8];
	struct diag d;
	size_t n;
	int i;

	static const struct timg_bad bad[] = {
		/* looped_fat_chain_is_eloop: 10 -> 11 -> 10 */
		{ "loop.bin", ELOOP, "LOOP.BIN" },
		/* size_larger_than_chain_is_einval */
		{ "short.bin", EINVAL, "SHORT.BIN: size 5000 bytes is larger" },
		/* chain_links_past_cluster_count_is_einval */
		{ "past.bin", EINVAL, "past the cluster count" },
		/* first_cluster_past_cluster_count_is_einval */
		{ "firstbad.bin", EINVAL, "first cluster 999" },
		/* chain_into_free_cluster_is_einval */
		{ "free.bin", EINVAL, "free cluster" },
	};

	CHECK_EQ(open_img(&fs, &m, &d), 0);
	for (i = 0; i < (int)TIMG_NITEMS(bad); i++) {
		CHECK_EQ(fmt_fat_lookup(&fs, bad[i].path, &e, &d), 0);
		CHECK_EQ(fmt_fat_extents(&fs, &e, ext, 8, &n, &d), bad[i].error);
		CHECK_MSG(&d, bad[i].msg);
	}
	/* subdirectory_chain_looping_is_eloop: SUBDIR's cluster 4 -> 4 */
	for (i = 6; i < 16; i++)
		m.b[DATA + 2 * 512 + i * 32] = 0xe5;
	fat12_set(m.b, 4, 4);
	CHECK_EQ(open_img(&fs, &m, &d), 0);
	CHECK_EQ(fmt_fat_lookup(&fs, "/subdir/nothere", &e, &d), ELOOP);
	fat12_set(m.b, 4, 0xfff);

	/* bpb_bytes_per_sector_not_pow2_is_einval */
	lr_le16enc(m.b + 11, 768);
	CHECK(!fmt_fat_probe(m.b, 512));
	CHECK_EQ(open_img(&fs, &m, &d), EINVAL);
	CHECK_MSG(&d, "power of 2");
	lr_le16enc(m.b + 11, 512);
	/* bpb_sectors_per_cluster_not_pow2_is_einval */
	m.b[13] = 3;
	CHECK_EQ(open_img(&fs, &m, &d), EINVAL);
	m.b[13] = 1;
	/* bpb_total_sectors_past_medium_is_einval */
	lr_le16enc(m.b + 19, SECS + 1);
	CHECK_EQ(open_img(&fs, &m, &d), EINVAL);
	CHECK_MSG(&d, "truncated");
	lr_le16enc(m.b + 19, SECS);
	/* bpb_regions_fill_volume_is_einval */
	lr_le16enc(m.b + 14, SECS);
	CHECK_EQ(open_img(&fs, &m, &d), EINVAL);
	lr_le16enc(m.b + 14, 1);
	/* truncated_medium_is_einval: the same image cut short */
	m.len = IMGSZ - 1;
	CHECK_EQ(open_img(&fs, &m, &d), EINVAL);
	m.len = IMGSZ;
	CHECK_EQ(open_img(&fs, &m, &d), 0);
	free(m.b);
}

/* A FAT32-layout volume with a root directory spanning two clusters. */
#define F32SECS	100
#define F32DATA	((32 + 2) * 512)

static uint8_t *
make_fat32(void)
{
	uint8_t *img = calloc(1, F32SECS * 512);
	int i;

	img[0] = 0xeb;
	lr_le16enc(img + 11, 512);
	img[13] = 1;
	lr_le16enc(img + 14, 32);
	img[16] = 1;
	lr_le32enc(img + 32, F32SECS);
	img[21] = 0xf8;
	lr_le32enc(img + 36, 2);
	lr_le32enc(img + 44, 2);
	img[66] = 0x29;
	memcpy(img + 71, "VTOYEFI    ", 11);
	img[510] = 0x55;
	img[511] = 0xaa;
	/* root: clusters 2 -> 7; 16 entries each */
	lr_le32enc(img + 32 * 512 + 2 * 4, 7);
	lr_le32enc(img + 32 * 512 + 7 * 4, 0x0fffffff);
	for (i = 0; i < 16; i++) {
		char n11[12];

		snprintf(n11, sizeof(n11), "FILE%04d   ", i);
		dent(img + F32DATA + i * 32, n11, 0x20, 0, 0);
	}
	dent(img + F32DATA + 5 * 512, "LAST    BIN", 0x20, 3, 600);
	lr_le32enc(img + 32 * 512 + 3 * 4, 4);
	lr_le32enc(img + 32 * 512 + 4 * 4, 0x0fffffff);
	return (img);
}

static void
test_fat32(void)
{
	uint8_t *img = make_fat32();
	struct timg m = { img, F32SECS * 512 };
	static struct fmt_fat fs;
	struct fmt_fat_dirent e;
	struct fmt_extent ext[4];
	struct diag d;
	uint64_t data = F32DATA;
	size_t n;

	CHECK_EQ(open_img(&fs, &m, &d), 0);
	CHECK_EQ(fs.type, 32);
	CHECK(strcmp(fs.label, "VTOYEFI") == 0);
	CHECK_EQ(fmt_fat_lookup(&fs, "/last.bin", &e, &d), 0);
	CHECK_EQ(fmt_fat_extents(&fs, &e, ext, 4, &n, &d), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(ext[0].off, data + 512);
	CHECK_EQ(ext[0].len, 600);
	CHECK_EQ(fmt_fat_lookup(&fs, "/", &e, &d), 0);
	CHECK_EQ(fmt_fat_extents(&fs, &e, ext, 4, &n, &d), 0);
	CHECK_EQ(n, 2);
	/* fat32_root_cluster_past_count_is_einval */
	lr_le32enc(img + 44, 100000);
	CHECK_EQ(open_img(&fs, &m, &d), EINVAL);
	CHECK_MSG(&d, "root directory cluster");
	free(img);
}

int
main(int argc, char **argv)
{
	if (argc > 1) {
		uint8_t *a = make_fat12(), *b = make_fat32();
		int error;

		/* Fuzz seeds: the crafted images. */
		error = timg_write(argv[1], "crafted-fat12.img", a, IMGSZ) |
		    timg_write(argv[1], "crafted-fat32.img", b,
		    F32SECS * 512);
		free(a);
		free(b);
		return (error);
	}
	test_good();
	test_hostile();
	test_fat32();
	return (t_done());
}
