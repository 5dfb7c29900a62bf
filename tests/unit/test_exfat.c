/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_exfat.c - the exFAT reader on a crafted 32 KB image held in a buffer
 * of exactly its size: boot checksum, up-case table (compressed), label,
 * entry sets spanning clusters, NoFatChain files (the FAT under them is
 * poisoned to prove it is not read), FAT-chain files, ValidDataLength, and
 * the hostile regressions named after what the crafted input does.
 * With an argument it also writes the image to that path (fuzz seed).
 */
#include <liveroot/fmt_exfat.h>
#include <liveroot/util.h>

#include "t.h"
#include "timg.h"

#define BPS	512
#define SECS	64
#define IMGSZ	(SECS * BPS)
#define FATOFF	(24 * BPS)
#define HEAP	(32 * BPS)
#define CLU(c)	(HEAP + ((c) - 2) * BPS)

static void
fat(uint8_t *img, uint32_t c, uint32_t v)
{
	lr_le32enc(img + FATOFF + c * 4, v);
}

static uint16_t
up(uint16_t c)
{
	if (c >= 'a' && c <= 'z')
		return (c - 0x20);
	if (c == 0xfc)
		return (0xdc);
	return (c);
}

static void
boot_sum(uint8_t *img)
{
	uint32_t cs = 0;
	int i;

	for (i = 0; i < 11 * BPS; i++) {
		if (i == 106 || i == 107 || i == 112)
			continue;
		cs = ((cs & 1) ? 0x80000000u : 0) + (cs >> 1) + img[i];
	}
	for (i = 0; i < BPS; i += 4)
		lr_le32enc(img + 11 * BPS + i, cs);
}

/*
 * Writes a File + Stream + Name entry set at p (name UTF-16, n units) and
 * returns the bytes written.
 */
static size_t
set(uint8_t *p, const uint16_t *name, int n, uint16_t attr, uint8_t flags,
    uint32_t first, uint64_t size, uint64_t valid)
{
	int names = (n + 14) / 15, i;
	uint16_t cs = 0, h = 0, u;
	size_t len = (size_t)(2 + names) * 32, k;

	memset(p, 0, len);
	p[0] = 0x85;
	p[1] = (uint8_t)(1 + names);
	lr_le16enc(p + 4, attr);
	p[32] = 0xc0;
	p[33] = flags;
	p[35] = (uint8_t)n;
	for (i = 0; i < n; i++) {
		u = up(name[i]);
		h = (uint16_t)(((h & 1) ? 0x8000 : 0) + (h >> 1) + (u & 0xff));
		h = (uint16_t)(((h & 1) ? 0x8000 : 0) + (h >> 1) + (u >> 8));
	}
	lr_le16enc(p + 36, h);
	lr_le64enc(p + 40, valid);
	lr_le32enc(p + 52, first);
	lr_le64enc(p + 56, size);
	for (i = 0; i < names; i++)
		p[64 + i * 32] = 0xc1;
	for (i = 0; i < n; i++)
		lr_le16enc(p + 64 + (i / 15) * 32 + 2 + (i % 15) * 2, name[i]);
	for (k = 0; k < len; k++)
		if (k != 2 && k != 3)
			cs = (uint16_t)(((cs & 1) ? 0x8000 : 0) + (cs >> 1) +
			    p[k]);
	lr_le16enc(p + 2, cs);
	return (len);
}

static size_t
aset(uint8_t *p, const char *s, uint16_t attr, uint8_t flags, uint32_t first,
    uint64_t size, uint64_t valid)
{
	uint16_t u[64];
	int n;

	for (n = 0; s[n] != '\0'; n++)
		u[n] = (uint8_t)s[n];
	return (set(p, u, n, attr, flags, first, size, valid));
}

static uint8_t *
make_exfat(void)
{
	uint8_t *img = calloc(1, IMGSZ), *r = img + CLU(2), *q;
	static const uint16_t gruesse[] = { 'G', 'r', 0xfc, 0xdf, 'e', '.',
	    't', 'x', 't' };
	static const uint16_t label[] = { 'V', 'e', 'n', 't', 'o', 'y' };
	static const struct timg_field boot[] = {
		{ 72, 8, SECS },	/* VolumeLength */
		{ 80, 4, 24 },		/* FatOffset */
		{ 84, 4, 1 },		/* FatLength */
		{ 88, 4, 32 },		/* ClusterHeapOffset */
		{ 92, 4, 32 },		/* ClusterCount */
		{ 96, 4, 2 },		/* FirstClusterOfRootDirectory */
		{ 100, 4, 0x1234abcd },	/* VolumeSerialNumber */
		{ 104, 2, 0x100 },	/* FileSystemRevision */
		{ 108, 1, 9 },		/* BytesPerSectorShift */
		{ 109, 1, 0 },		/* SectorsPerClusterShift */
		{ 110, 1, 1 },		/* NumberOfFats */
		{ 510, 2, 0xaa55 },	/* BootSignature */
	};
	uint16_t tbl[128];
	uint32_t cs = 0;
	int i, n = 0;

	img[0] = 0xeb;
	img[1] = 0x76;
	img[2] = 0x90;
	memcpy(img + 3, "EXFAT   ", 8);
	timg_put(img, boot, TIMG_NITEMS(boot));
	boot_sum(img);
	fat(img, 0, 0xfffffff8);
	fat(img, 1, 0xffffffff);
	/* root: clusters 2 -> 3 -> 4 */
	fat(img, 2, 3);
	fat(img, 3, 4);
	fat(img, 4, 0xffffffff);
	/* up-case table at cluster 7, compressed */
	for (i = 0; i < 0x61; i++)
		tbl[n++] = (uint16_t)i;
	for (i = 'a'; i <= 'z'; i++)
		tbl[n++] = (uint16_t)(i - 0x20);
	tbl[n++] = 0xffff;
	tbl[n++] = 0xfc - 0x7b;
	tbl[n++] = 0xdc;
	tbl[n++] = 0xffff;
	tbl[n++] = (uint16_t)(65536 - 0xfd);
	for (i = 0; i < n; i++)
		lr_le16enc(img + CLU(7) + 2 * i, tbl[i]);
	for (i = 0; i < n * 2; i++)
		cs = ((cs & 1) ? 0x80000000u : 0) + (cs >> 1) +
		    img[CLU(7) + i];
	fat(img, 7, 0xffffffff);
	q = r;
	q[0] = 0x83;
	q[1] = 6;
	for (i = 0; i < 6; i++)
		lr_le16enc(q + 2 + 2 * i, label[i]);
	q += 32;
	q[0] = 0x82;
	lr_le32enc(q + 4, cs);
	lr_le32enc(q + 20, 7);
	lr_le64enc(q + 24, (uint64_t)n * 2);
	q += 32;
	q[0] = 0x81;	/* bitmap: not needed, cluster 8 */
	lr_le32enc(q + 20, 8);
	lr_le64enc(q + 24, 4);
	fat(img, 8, 0xffffffff);
	q += 32;
	/* Contig.bin: NoFatChain 10..12, 1300 bytes; FAT under it poisoned */
	q += aset(q, "Contig.bin", 0x20, 0x03, 10, 1300, 1300);
	fat(img, 10, 0xfffffff7);
	fat(img, 11, 10);
	memset(img + CLU(10), 'C', 1300);
	/* Chain.bin: 13 -> 14 -> 20, 1200 bytes */
	q += aset(q, "Chain.bin", 0x20, 0x01, 13, 1200, 1200);
	fat(img, 13, 14);
	fat(img, 14, 20);
	fat(img, 20, 0xffffffff);
	/* Sub: NoFatChain directory at 21..22 */
	q += aset(q, "Sub", 0x10, 0x03, 21, 1024, 1024);
	/* Partial.bin: valid 100 of 512 */
	q += aset(q, "Partial.bin", 0x20, 0x03, 23, 512, 100);
	/* Grüße.txt, 5 bytes in cluster 24 */
	q += set(q, gruesse, 9, 0x20, 0x03, 24, 5, 5);
	memcpy(img + CLU(24), "gruss", 5);
	/* Loop.bin: 25 -> 26 -> 25 */
	q += aset(q, "Loop.bin", 0x20, 0x01, 25, 2000, 2000);
	fat(img, 25, 26);
	fat(img, 26, 25);
	/* Short.bin: one cluster, 2000 bytes claimed */
	q += aset(q, "Short.bin", 0x20, 0x01, 27, 2000, 2000);
	fat(img, 27, 0xffffffff);
	/* Past.bin: starts past the cluster count */
	q += aset(q, "Past.bin", 0x20, 0x01, 200, 100, 100);
	/* PastRun.bin: NoFatChain run off the end of the heap */
	q += aset(q, "PastRun.bin", 0x20, 0x03, 30, 5 * BPS, 5 * BPS);
	/* A long name (40 units: 3 name entries) */
	q += aset(q, "A rather long name that needs 3 entries", 0x20, 0x03,
	    0, 0, 0);
	/* Evil: directory at cluster 28 (FAT chain), hostile sets go there */
	q += aset(q, "Evil", 0x10, 0x01, 28, 512, 512);
	fat(img, 28, 0xffffffff);
	/* Sub's content: an entry set spanning its two clusters */
	for (i = 0; i < 14; i++)
		img[CLU(21) + i * 32] = 0x05;	/* deleted file entries */
	aset(img + CLU(21) + 14 * 32, "Inner.txt", 0x20, 0x03, 29, 3, 3);
	memcpy(img + CLU(29), "in!", 3);
	/* Evil's content: one fine set for now */
	aset(img + CLU(28), "ok.txt", 0x20, 0x03, 0, 0, 0);
	return (img);
}

static int
collect(void *arg, const struct fmt_exfat_dirent *e)
{
	return (timg_names_add(arg, e->name));
}

static int
open_img(struct fmt_exfat *fs, struct timg *m, bool upcase, struct diag *d)
{
	struct fmt_src src;

	timg_src(&src, m);
	return (fmt_exfat_open(fs, &src, upcase ? &lr_libc_allocator : NULL,
	    d));
}

static void
test_good(void)
{
	struct timg m = { make_exfat(), IMGSZ };
	static struct fmt_exfat fs;
	struct fmt_exfat_dirent e;
	struct fmt_extent ext[4];
	struct timg_names nm;
	struct diag d;
	size_t n;

	CHECK(fmt_exfat_probe(m.b, 512));
	CHECK(!fmt_exfat_probe(m.b, 100));
	CHECK_EQ(open_img(&fs, &m, true, &d), 0);
	CHECK(fs.has_upcase);
	CHECK(strcmp(fs.label, "Ventoy") == 0);
	CHECK_EQ(fs.nclusters, 32);

	CHECK_EQ(fmt_exfat_lookup(&fs, "/CONTIG.BIN", &e, &d), 0);
	CHECK(e.nofatchain);
	CHECK_EQ(fmt_exfat_extents(&fs, &e, ext, 4, &n, &d), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(ext[0].off, CLU(10));
	CHECK_EQ(ext[0].len, 1300);

	CHECK_EQ(fmt_exfat_lookup(&fs, "chain.bin", &e, &d), 0);
	CHECK(!e.nofatchain);
	CHECK_EQ(fmt_exfat_extents(&fs, &e, NULL, 0, &n, NULL), ENOSPC);
	CHECK_EQ(n, 2);
	CHECK_EQ(fmt_exfat_extents(&fs, &e, ext, 4, &n, &d), 0);
	CHECK_EQ(ext[0].off, CLU(13));
	CHECK_EQ(ext[0].len, 1024);
	CHECK_EQ(ext[1].off, CLU(20));
	CHECK_EQ(ext[1].len, 176);

	/* entry_set_spanning_clusters_in_nofatchain_dir */
	CHECK_EQ(fmt_exfat_lookup(&fs, "/sub/INNER.TXT", &e, &d), 0);
	CHECK_EQ(fmt_exfat_extents(&fs, &e, ext, 4, &n, &d), 0);
	CHECK(memcmp(m.b + ext[0].off, "in!", 3) == 0);

	CHECK_EQ(fmt_exfat_lookup(&fs, "partial.bin", &e, &d), 0);
	CHECK(e.partial_valid);
	CHECK_EQ(e.valid_size, 100);
	CHECK_EQ(e.size, 512);

	/* up-case table: ü folds to Ü; ß does not fold to SS */
	CHECK_EQ(fmt_exfat_lookup(&fs, "GR\xc3\x9c\xc3\x9f" "E.TXT", &e, &d),
	    0);
	CHECK(strcmp(e.name, "Gr\xc3\xbc\xc3\x9f" "e.txt") == 0);
	CHECK_EQ(fmt_exfat_lookup(&fs, "GRUESSE.TXT", &e, &d), ENOENT);
	CHECK_MSG(&d, "GRUESSE.TXT");

	CHECK_EQ(fmt_exfat_lookup(&fs, "a RATHER long name that needs 3 "
	    "entries", &e, &d), 0);
	CHECK_EQ(e.name_len, 39);
	CHECK_EQ(fmt_exfat_lookup(&fs, "contig.bin/x", &e, &d), ENOTDIR);

	memset(&nm, 0, sizeof(nm));
	CHECK_EQ(fmt_exfat_list(&fs, NULL, collect, &nm, &d), 0);
	CHECK_EQ(nm.n, 11);
	CHECK(strstr(nm.buf, "|Sub|") != NULL);
	CHECK_EQ(fmt_exfat_lookup(&fs, "/", &e, &d), 0);
	CHECK(e.is_root);
	CHECK_EQ(fmt_exfat_extents(&fs, &e, ext, 4, &n, &d), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(ext[0].len, 1536);
	fmt_exfat_close(&fs);

	/* Without an allocator: ASCII folding; ü is then case-sensitive. */
	CHECK_EQ(open_img(&fs, &m, false, &d), 0);
	CHECK(!fs.has_upcase);
	CHECK_EQ(fmt_exfat_lookup(&fs, "CONTIG.bin", &e, &d), 0);
	CHECK_EQ(fmt_exfat_lookup(&fs, "GR\xc3\xbc\xc3\x9f" "E.TXT", &e, &d),
	    0);
	fmt_exfat_close(&fs);
	free(m.b);
}

static void
test_hostile(void)
{
	struct timg m = { make_exfat(), IMGSZ };
	static struct fmt_exfat fs;
	struct fmt_exfat_dirent e;
	struct fmt_extent ext[8];
	struct diag d;
	size_t n;
	int i;

	static const struct timg_bad bad[] = {
		/* exfat_looped_chain_is_eloop: 25 -> 26 -> 25 */
		{ "loop.bin", ELOOP, "Loop.bin" },
		/* exfat_datalength_larger_than_chain_is_einval */
		{ "short.bin", EINVAL, "Short.bin: DataLength 2000" },
		/* exfat_first_cluster_past_cluster_count_is_einval */
		{ "past.bin", EINVAL, "cluster 200" },
		/* exfat_nofatchain_run_past_heap_is_einval */
		{ "pastrun.bin", EINVAL, "past the cluster heap" },
	};

	CHECK_EQ(open_img(&fs, &m, true, &d), 0);
	for (i = 0; i < (int)TIMG_NITEMS(bad); i++) {
		CHECK_EQ(fmt_exfat_lookup(&fs, bad[i].path, &e, &d), 0);
		CHECK_EQ(fmt_exfat_extents(&fs, &e, ext, 8, &n, &d),
		    bad[i].error);
		CHECK_MSG(&d, bad[i].msg);
	}
	/* exfat_entry_set_bad_checksum_is_einval */
	CHECK_EQ(fmt_exfat_lookup(&fs, "evil/ok.txt", &e, &d), 0);
	m.b[CLU(28) + 32 + 8] ^= 1;	/* ValidDataLength */
	CHECK_EQ(fmt_exfat_lookup(&fs, "evil/ok.txt", &e, &d), EINVAL);
	CHECK_MSG(&d, "SetChecksum");
	CHECK_MSG(&d, "ok.txt");
	/* exfat_entry_set_bad_namehash_is_einval (checksum recomputed) */
	aset(m.b + CLU(28), "ok.txt", 0x20, 0x03, 0, 0, 0);
	m.b[CLU(28) + 36] ^= 1;
	lr_le16enc(m.b + CLU(28) + 2,
	    fmt_exfat_set_checksum(m.b + CLU(28), 96));
	fs.buf_ok = false;
	CHECK_EQ(fmt_exfat_lookup(&fs, "evil/ok.txt", &e, &d), EINVAL);
	CHECK_MSG(&d, "NameHash");
	/* exfat_entry_set_cut_short_is_einval: secondary count 5 */
	aset(m.b + CLU(28), "ok.txt", 0x20, 0x03, 0, 0, 0);
	m.b[CLU(28) + 1] = 5;
	fs.buf_ok = false;
	CHECK_EQ(fmt_exfat_lookup(&fs, "evil/ok.txt", &e, &d), EINVAL);
	CHECK_MSG(&d, "cut short");
	/* exfat_directory_chain_loop_is_eloop: Evil 28 -> 28, full */
	for (i = 0; i < 16; i++)
		m.b[CLU(28) + i * 32] = 0x05;
	fat(m.b, 28, 28);
	fs.buf_ok = false;
	CHECK_EQ(fmt_exfat_lookup(&fs, "evil/ok.txt", &e, &d), ELOOP);
	fmt_exfat_close(&fs);

	/* exfat_boot_checksum_mismatch_is_einval */
	m.b[200] ^= 1;
	CHECK_EQ(open_img(&fs, &m, true, &d), EINVAL);
	CHECK_MSG(&d, "boot checksum");
	m.b[200] ^= 1;
	/* exfat_volume_length_past_medium_is_einval */
	m.len = IMGSZ - BPS;
	CHECK_EQ(open_img(&fs, &m, true, &d), EINVAL);
	CHECK_MSG(&d, "VolumeLength");
	m.len = IMGSZ;
	/* exfat_cluster_count_past_heap_is_einval */
	lr_le32enc(m.b + 92, 33);
	boot_sum(m.b);
	CHECK_EQ(open_img(&fs, &m, true, &d), EINVAL);
	CHECK_MSG(&d, "ClusterCount");
	lr_le32enc(m.b + 92, 32);
	/* exfat_bad_sector_shift_is_einval */
	m.b[108] = 13;
	boot_sum(m.b);
	CHECK(!fmt_exfat_probe(m.b, 512));
	CHECK_EQ(open_img(&fs, &m, true, &d), EINVAL);
	m.b[108] = 9;
	/* exfat_upcase_checksum_mismatch_is_einval */
	m.b[CLU(7) + 10] ^= 1;
	boot_sum(m.b);
	CHECK_EQ(open_img(&fs, &m, true, &d), EINVAL);
	CHECK_MSG(&d, "up-case");
	CHECK(fs.upcase == NULL);
	m.b[CLU(7) + 10] ^= 1;
	/* exfat_root_chain_loop_is_eloop: 2 -> 3 -> 4 -> 2, root full */
	for (i = 0; i < 48; i++)
		if (m.b[CLU(2) + i * 32] == 0)
			m.b[CLU(2) + i * 32] = 0x05;
	fat(m.b, 4, 2);
	CHECK_EQ(open_img(&fs, &m, true, &d), ELOOP);
	CHECK_MSG(&d, "root directory");
	free(m.b);
}

/* A label entry with an escape sequence: control characters become '_'. */
static void
test_label_with_terminal_escapes(void)
{
	struct timg m = { make_exfat(), IMGSZ };
	static struct fmt_exfat fs;
	static const uint16_t evil[] = { 0x1b, '[', '2', 'J', 'X', 0x0a };
	struct diag d;
	size_t i;

	for (i = 0; i < 6; i++)
		lr_le16enc(m.b + CLU(2) + 2 + 2 * i, evil[i]);
	CHECK_EQ(open_img(&fs, &m, false, &d), 0);
	CHECK(strcmp(fs.label, "_[2JX_") == 0);
	fmt_exfat_close(&fs);
	free(m.b);
}

int
main(int argc, char **argv)
{
	if (argc > 1) {
		uint8_t *img = make_exfat();
		int error = timg_write(NULL, argv[1], img, IMGSZ);

		free(img);
		return (error);
	}
	test_good();
	test_label_with_terminal_escapes();
	test_hostile();
	return (t_done());
}
