/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_part.c - MBR and GPT parsing on disks crafted here in malloc'd
 * buffers of exactly the disk's size, read as the probe reads a device: a
 * mem bdev over the buffer and the library's bdev_src adapter, which counts
 * the parser's reads and their largest length, so "refused before reading"
 * is checked, not assumed.  Hostile cases are named after what the crafted
 * table does.
 */
#include <stdlib.h>

#include <liveroot/bdev.h>
#include <liveroot/fmt_part.h>
#include <liveroot/util.h>

#include "t.h"

struct disk {
	uint8_t		*b;
	size_t		len;
	uint64_t	reads;		/* of the last open */
	uint64_t	maxlen;		/* largest single read */
};

static const uint8_t efi_guid[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8,
    0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const uint8_t linux_guid[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84,
    0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };

static void
mbr_ent(uint8_t *b, int slot, uint8_t status, uint8_t type, uint32_t start,
    uint32_t n)
{
	uint8_t *e = b + 446 + 16 * slot;

	e[0] = status;
	e[4] = type;
	lr_le32enc(e + 8, start);
	lr_le32enc(e + 12, n);
	b[510] = 0x55;
	b[511] = 0xaa;
}

static struct disk *
mkdisk(size_t len)
{
	struct disk *k = calloc(1, sizeof(*k));

	k->len = len;
	k->b = calloc(1, len);
	return (k);
}

static void
freedisk(struct disk *k)
{
	free(k->b);
	free(k);
}

static void
hdr_crc(uint8_t *h)
{
	lr_le32enc(h + 16, 0);
	lr_le32enc(h + 16, lr_crc32(0, h, lr_le32dec(h + 12)));
}

/* Header at lba (primary at 1, backup at the end), entries at elba. */
static void
gpt_hdr(struct disk *k, uint32_t ss, uint64_t lba, uint64_t alt,
    uint64_t elba, uint32_t count, uint32_t esz)
{
	uint8_t *h = k->b + lba * ss;
	uint64_t nsec = k->len / ss;
	uint64_t eb = ((uint64_t)count * esz + ss - 1) / ss;

	if (eb > 64)
		eb = 32;	/* hostile counts: keep the usable range sane */

	memset(h, 0, ss);
	memcpy(h, "EFI PART", 8);
	lr_le32enc(h + 8, 0x00010000);
	lr_le32enc(h + 12, 92);
	lr_le64enc(h + 24, lba);
	lr_le64enc(h + 32, alt);
	lr_le64enc(h + 40, 2 + eb);
	lr_le64enc(h + 48, nsec - 2 - eb);
	memset(h + 56, 0x42, 16);
	lr_le64enc(h + 72, elba);
	lr_le32enc(h + 80, count);
	lr_le32enc(h + 84, esz);
	lr_le32enc(h + 88, lr_crc32(0, k->b + elba * ss, (size_t)count * esz));
	hdr_crc(h);
}

static void
gpt_ent(uint8_t *e, const uint8_t *type, uint64_t first, uint64_t last,
    const char *name)
{
	size_t i;

	memcpy(e, type, 16);
	memset(e + 16, 0x11, 16);
	lr_le64enc(e + 32, first);
	lr_le64enc(e + 40, last);
	for (i = 0; name[i] != '\0' && i < 36; i++)
		lr_le16enc(e + 56 + 2 * i, (uint8_t)name[i]);
}

/*
 * A 4 MiB disk (or 32 MiB at 4096-byte sectors) with a protective MBR and
 * both GPT copies: entry 1 EFI "EFI System" LBA 2048..4095 (x ss/512 scaled),
 * entry 3 Linux "root".  128 entries of 128 bytes.
 */
static struct disk *
mkgpt(uint32_t ss)
{
	struct disk *k = mkdisk(ss == 512 ? 4u << 20 : 32u << 20);
	uint64_t nsec = k->len / ss, eb = 128 * 128 / ss;
	uint8_t *ents = k->b + 2 * ss;

	mbr_ent(k->b, 0, 0, 0xee, 1, (uint32_t)(nsec - 1));
	gpt_ent(ents, efi_guid, 2048, 4095, "EFI System");
	gpt_ent(ents + 2 * 128, linux_guid, 4096, nsec - 40, "root");
	lr_le16enc(ents + 2 * 128 + 56 + 8, 0x00fc);	/* "root" + 'ü' */
	memcpy(k->b + (nsec - 1 - eb) * ss, ents, 128 * 128);
	gpt_hdr(k, ss, 1, nsec - 1, 2, 128, 128);
	gpt_hdr(k, ss, nsec - 1, 1, nsec - 1 - eb, 128, 128);
	return (k);
}

static struct fmt_part_table tab;

static int
popen_(struct disk *k, struct fmt_part *p, size_t cap, struct diag *d)
{
	struct bdev_src s;
	struct bdev *b;
	int error;

	diag_clear(d);
	if (bdev_mem_wrap(k->b, k->len, &b, d) != 0)
		return (-1);
	bdev_src_init(&s, b, 1);
	error = fmt_part_open(&s.src, &tab, p, cap, d);
	k->reads = s.nreads;
	k->maxlen = s.maxread;
	bdev_src_fini(&s);
	bdev_destroy(b);
	return (error);
}

static void
test_mbr(void)
{
	struct disk *k = mkdisk(64 << 20);
	struct fmt_part p[8];
	struct diag d;
	uint8_t *ebr;

	CHECK(!fmt_part_probe(k->b, 512));
	mbr_ent(k->b, 0, 0x80, 0x0c, 2048, 8192);
	mbr_ent(k->b, 1, 0, 0x05, 20480, 40960);
	mbr_ent(k->b, 3, 0, 0x83, 100000, 1000);
	lr_le32enc(k->b + 0x1b8, 0xdeadbeef);
	CHECK(fmt_part_probe(k->b, 512));
	CHECK(!fmt_part_probe(k->b, 511));
	/* EBR 1 at 20480: logical at +63, next EBR at ext+10000 */
	ebr = k->b + 20480 * 512;
	mbr_ent(ebr, 0, 0, 0x83, 63, 2000);
	mbr_ent(ebr, 1, 0, 0x05, 10000, 5000);
	ebr = k->b + 30480 * 512;
	mbr_ent(ebr, 0, 0, 0x07, 63, 3000);
	CHECK_EQ(popen_(k, p, 8, &d), 0);
	CHECK_EQ(tab.scheme, FMT_PART_MBR);
	CHECK_EQ(tab.mbr_disk_sig, 0xdeadbeef);
	CHECK(!tab.protective);
	CHECK_EQ(tab.nparts, 5);
	CHECK_EQ(p[0].index, 1);
	CHECK_EQ(p[0].start, 2048 * 512);
	CHECK_EQ(p[0].length, 8192 * 512);
	CHECK(p[0].bootable);
	CHECK(strcmp(p[0].type_name, "FAT32") == 0);
	CHECK_EQ(p[1].mbr_type, 0x05);
	CHECK_EQ(p[2].index, 5);
	CHECK_EQ(p[2].start, (20480 + 63) * 512ull);
	CHECK_EQ(p[3].index, 6);
	CHECK_EQ(p[3].start, (30480 + 63) * 512ull);
	CHECK_EQ(p[3].mbr_type, 0x07);
	CHECK_EQ(p[4].index, 4);
	/* too small an array: ENOSPC, the count, the first ones */
	CHECK_EQ(popen_(k, p, 2, &d), ENOSPC);
	CHECK_EQ(tab.nparts, 5);
	freedisk(k);
}

/* The second EBR links back to the first: a loop, bounded. */
static void
test_mbr_ebr_chain_loops(void)
{
	struct disk *k = mkdisk(64 << 20);
	struct fmt_part p[8];
	struct diag d;
	uint8_t *ebr;

	mbr_ent(k->b, 0, 0, 0x0f, 20480, 40960);
	ebr = k->b + 20480 * 512;
	mbr_ent(ebr, 0, 0, 0x83, 63, 100);
	mbr_ent(ebr, 1, 0, 0x05, 10000, 5000);
	ebr = k->b + 30480 * 512;
	mbr_ent(ebr, 0, 0, 0x83, 63, 100);
	mbr_ent(ebr, 1, 0, 0x05, 0, 5000);	/* 0 ends the chain */
	CHECK_EQ(popen_(k, p, 8, &d), 0);
	CHECK_EQ(tab.nparts, 3);
	mbr_ent(ebr, 1, 0, 0x05, 1, 5000);	/* now at ext+1: a new EBR */
	mbr_ent(k->b + 20481 * 512, 1, 0, 0x05, 10000, 5000);	/* and back */
	CHECK_EQ(popen_(k, p, 8, &d), EINVAL);
	CHECK_MSG(&d, "loop");
	CHECK(k->reads < 200);
	freedisk(k);
}

static void
test_mbr_partition_past_end_of_disk(void)
{
	struct disk *k = mkdisk(1 << 20);
	struct fmt_part p[4];
	struct diag d;

	mbr_ent(k->b, 0, 0, 0x83, 2048, 1);	/* one sector over */
	CHECK_EQ(popen_(k, p, 4, &d), EINVAL);
	CHECK_MSG(&d, "partition 1");
	mbr_ent(k->b, 0, 0, 0x83, 2047, 1);
	CHECK_EQ(popen_(k, p, 4, &d), 0);
	freedisk(k);
}

static void
test_gpt(uint32_t ss)
{
	struct disk *k = mkgpt(ss);
	struct fmt_part p[8];
	struct diag d;
	char g[37];

	CHECK_EQ(popen_(k, p, 8, &d), 0);
	CHECK_EQ(tab.scheme, FMT_PART_GPT);
	CHECK_EQ(tab.sector_size, ss);
	CHECK(tab.protective);
	CHECK(!tab.gpt_backup_used);
	CHECK_EQ(tab.nparts, 2);
	CHECK_EQ(p[0].index, 1);
	CHECK_EQ(p[0].start, 2048ull * ss);
	CHECK_EQ(p[0].length, 2048ull * ss);
	CHECK(strcmp(p[0].name, "EFI System") == 0);
	CHECK(strcmp(p[0].type_name, "EFI system") == 0);
	fmt_guid_str(p[0].type_guid, g);
	CHECK(strcmp(g, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B") == 0);
	CHECK_EQ(p[1].index, 3);
	CHECK(strcmp(p[1].name, "root\xc3\xbc") == 0);
	CHECK(strcmp(p[1].type_name, "Linux filesystem") == 0);
	freedisk(k);
}

/*
 * A GPT partition name carrying terminal escapes and a newline (inspect
 * prints names): control characters come out as '_'.
 */
static void
test_gpt_name_with_terminal_escapes(void)
{
	static const uint16_t evil[] = { 0x1b, '[', '2', 'J', 'x', 0x0a, 0x7f };
	struct disk *k = mkgpt(512);
	uint64_t nsec = k->len / 512, eb = 128 * 128 / 512;
	uint8_t *ents = k->b + 2 * 512;
	struct fmt_part p[8];
	struct diag d;
	size_t i;

	memset(ents + 56, 0, 72);
	for (i = 0; i < LR_NELEM(evil); i++)
		lr_le16enc(ents + 56 + 2 * i, evil[i]);
	memcpy(k->b + (nsec - 1 - eb) * 512, ents, 128 * 128);
	gpt_hdr(k, 512, 1, nsec - 1, 2, 128, 128);
	gpt_hdr(k, 512, nsec - 1, 1, nsec - 1 - eb, 128, 128);
	CHECK_EQ(popen_(k, p, 8, &d), 0);
	CHECK(strcmp(p[0].name, "_[2Jx__") == 0);
	freedisk(k);
}

static void
test_gpt_header_crc_wrong(void)
{
	struct disk *k = mkgpt(512);
	struct fmt_part p[8];
	struct diag d;

	k->b[512 + 40] ^= 1;	/* first usable LBA changed, CRC not */
	CHECK_EQ(popen_(k, p, 8, &d), 0);
	CHECK(tab.gpt_backup_used);
	CHECK(strstr(tab.note, "header CRC mismatch") != NULL);
	CHECK(strstr(tab.note, "backup") != NULL);
	CHECK_EQ(tab.nparts, 2);
	CHECK_EQ(p[0].start, 2048 * 512);
	/* backup damaged as well: EINVAL naming both */
	k->b[k->len - 512 + 40] ^= 1;
	CHECK_EQ(popen_(k, p, 8, &d), EINVAL);
	CHECK_MSG(&d, "primary GPT header");
	CHECK_MSG(&d, "backup GPT header");
	freedisk(k);
}

static void
test_gpt_entries_crc_wrong(void)
{
	struct disk *k = mkgpt(512);
	struct fmt_part p[8];
	struct diag d;

	k->b[2 * 512 + 56] ^= 1;	/* a name byte of the primary table */
	CHECK_EQ(popen_(k, p, 8, &d), 0);
	CHECK(tab.gpt_backup_used);
	CHECK(strstr(tab.note, "entry array CRC") != NULL);
	CHECK(strcmp(p[0].name, "EFI System") == 0);
	freedisk(k);
}

/* Entry count 2^31 with a correct header CRC: refused before reading. */
static void
test_gpt_claims_2g_entries(void)
{
	struct disk *k = mkgpt(512);
	struct fmt_part p[8];
	struct diag d;

	lr_le32enc(k->b + 512 + 80, 0x80000000u);
	hdr_crc(k->b + 512);
	lr_le32enc(k->b + k->len - 512 + 80, 0x80000000u);
	hdr_crc(k->b + k->len - 512);
	CHECK_EQ(popen_(k, p, 8, &d), EINVAL);
	CHECK_MSG(&d, "refused before reading");
	CHECK(k->maxlen <= 4096);
	/* only the primary: the backup takes over */
	freedisk(k);
	k = mkgpt(512);
	lr_le32enc(k->b + 512 + 80, 0x80000000u);
	hdr_crc(k->b + 512);
	CHECK_EQ(popen_(k, p, 8, &d), 0);
	CHECK(tab.gpt_backup_used);
	CHECK(strstr(tab.note, "refused before reading") != NULL);
	freedisk(k);
}

static void
test_gpt_entry_size_bad(void)
{
	static const uint32_t bad[] = { 0, 100, 127, 129, 8192 };
	struct disk *k = mkgpt(512);
	struct fmt_part p[8];
	struct diag d;
	size_t i;

	for (i = 0; i < LR_NELEM(bad); i++) {
		lr_le32enc(k->b + 512 + 84, bad[i]);
		hdr_crc(k->b + 512);
		lr_le32enc(k->b + k->len - 512 + 84, bad[i]);
		hdr_crc(k->b + k->len - 512);
		CHECK_EQ(popen_(k, p, 8, &d), EINVAL);
		CHECK_MSG(&d, "entry size");
	}
	freedisk(k);
}

static void
test_gpt_header_size_bad(void)
{
	static const uint32_t bad[] = { 0, 91, 513, 0xffffffffu };
	struct disk *k = mkgpt(512);
	struct fmt_part p[8];
	struct diag d;
	size_t i;

	for (i = 0; i < LR_NELEM(bad); i++) {
		lr_le32enc(k->b + 512 + 12, bad[i]);
		CHECK_EQ(popen_(k, p, 8, &d), 0);
		CHECK(tab.gpt_backup_used);
		CHECK(strstr(tab.note, "header size") != NULL);
	}
	freedisk(k);
}

static void
test_gpt_partition_past_end_of_disk(void)
{
	struct disk *k = mkgpt(512);
	uint64_t nsec = k->len / 512, eb = 32;
	struct fmt_part p[8];
	struct diag d;

	lr_le64enc(k->b + 2 * 512 + 40, nsec);	/* last LBA = disk size */
	memcpy(k->b + (nsec - 1 - eb) * 512, k->b + 2 * 512, 128 * 128);
	gpt_hdr(k, 512, 1, nsec - 1, 2, 128, 128);
	gpt_hdr(k, 512, nsec - 1, 1, nsec - 1 - eb, 128, 128);
	CHECK_EQ(popen_(k, p, 8, &d), EINVAL);
	CHECK_MSG(&d, "partition 1");
	freedisk(k);
}

/* Protective MBR, no GPT anywhere. */
static void
test_gpt_lost(void)
{
	struct disk *k = mkgpt(512);
	struct fmt_part p[8];
	struct diag d;

	memset(k->b + 512, 0, 512);
	memset(k->b + k->len - 512, 0, 512);
	CHECK_EQ(popen_(k, p, 8, &d), EINVAL);
	CHECK_MSG(&d, "0xEE");
	memset(k->b, 0, 512);
	CHECK_EQ(popen_(k, p, 8, &d), ENOENT);
	freedisk(k);
}

/* A plain MBR in front of a leftover (valid) GPT: the MBR is what counts. */
static void
test_stale_gpt_behind_plain_mbr(void)
{
	struct disk *k = mkgpt(512);
	struct fmt_part p[8];
	struct diag d;

	mbr_ent(k->b, 0, 0, 0x83, 2048, 4096);
	CHECK_EQ(popen_(k, p, 8, &d), 0);
	CHECK_EQ(tab.scheme, FMT_PART_MBR);
	CHECK_EQ(tab.nparts, 1);
	/* no MBR signature at all: the GPT is used */
	memset(k->b, 0, 512);
	CHECK_EQ(popen_(k, p, 8, &d), 0);
	CHECK_EQ(tab.scheme, FMT_PART_GPT);
	CHECK_EQ(tab.nparts, 2);
	freedisk(k);
}

static void
test_tiny_media(void)
{
	struct disk *k = mkdisk(511);
	struct fmt_part p[1];
	struct diag d;

	CHECK_EQ(popen_(k, p, 1, &d), ENOENT);
	freedisk(k);
	k = mkdisk(512);
	mbr_ent(k->b, 0, 0, 0xee, 1, 100);
	CHECK_EQ(popen_(k, p, 1, &d), EINVAL);
	freedisk(k);
}

/*
 * Seeds for fuzz_mbr / fuzz_gpt: small disks.  GPT: 8 entries of esz bytes,
 * primary and backup, sector size ss; MBR: two primaries and an extended
 * partition with two logicals.
 */
static void
seed(const char *dir, const char *name, struct disk *k)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((f = fopen(p, "wb")) != NULL) {
		fwrite(k->b, 1, k->len, f);
		fclose(f);
	}
	freedisk(k);
}

static struct disk *
small_gpt(uint32_t ss, uint32_t esz, uint32_t nsec)
{
	struct disk *k = mkdisk((size_t)ss * nsec);
	uint32_t eb = (8 * esz + ss - 1) / ss;

	mbr_ent(k->b, 0, 0, 0xee, 1, nsec - 1);
	gpt_ent(k->b + 2 * ss, efi_guid, 6, 9, "EFI");
	gpt_ent(k->b + 2 * ss + 2 * esz, linux_guid, 10, nsec - 2 - eb,
	    "root");
	memcpy(k->b + (nsec - 1 - eb) * ss, k->b + 2 * ss, 8 * esz);
	gpt_hdr(k, ss, 1, nsec - 1, 2, 8, esz);
	gpt_hdr(k, ss, nsec - 1, 1, nsec - 1 - eb, 8, esz);
	return (k);
}

static void
write_seeds(const char *mbrdir, const char *gptdir)
{
	struct disk *k = mkdisk(48 * 512);
	uint8_t *ebr;

	mbr_ent(k->b, 0, 0x80, 0x0c, 1, 4);
	mbr_ent(k->b, 1, 0, 0x05, 8, 40);
	mbr_ent(k->b, 2, 0, 0x83, 5, 2);
	ebr = k->b + 8 * 512;
	mbr_ent(ebr, 0, 0, 0x83, 2, 10);
	mbr_ent(ebr, 1, 0, 0x05, 20, 20);
	ebr = k->b + 28 * 512;
	mbr_ent(ebr, 0, 0, 0x07, 2, 10);
	seed(mbrdir, "mbr-extended.bin", k);
	k = mkdisk(4 * 512);
	mbr_ent(k->b, 0, 0, 0xcd, 0, 3);
	mbr_ent(k->b, 1, 0, 0xef, 3, 1);
	seed(mbrdir, "mbr-isohybrid.bin", k);
	seed(gptdir, "gpt-512.bin", small_gpt(512, 128, 24));
	seed(gptdir, "gpt-512-esz256.bin", small_gpt(512, 256, 24));
	seed(gptdir, "gpt-4096.bin", small_gpt(4096, 128, 14));
}

int
main(int argc, char **argv)
{
	if (argc > 2) {
		write_seeds(argv[1], argv[2]);
		return (0);
	}
	test_mbr();
	test_gpt_name_with_terminal_escapes();
	test_mbr_ebr_chain_loops();
	test_mbr_partition_past_end_of_disk();
	test_gpt(512);
	test_gpt(4096);
	test_gpt_header_crc_wrong();
	test_gpt_entries_crc_wrong();
	test_gpt_claims_2g_entries();
	test_gpt_entry_size_bad();
	test_gpt_header_size_bad();
	test_gpt_partition_past_end_of_disk();
	test_gpt_lost();
	test_stale_gpt_behind_plain_mbr();
	test_tiny_media();
	return (t_done());
}
