/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ventoy.c - Ventoy os_param, location list, ACPI table, EFI variable,
 * low-memory scan and disk matching on forged buffers of exact size, and
 * the hostile regressions named after what the crafted input does.  With an
 * argument it writes a forged ACPI table to that path (fuzz seed).
 */
#include <liveroot/fmt_ventoy.h>
#include <liveroot/util.h>

#include "t.h"

static void
make_param(uint8_t *p, uint64_t image_size, uint32_t loclen)
{
	int i;

	memset(p, 0, 512);
	memcpy(p, fmt_ventoy_guid, 16);
	for (i = 0; i < 16; i++)
		p[17 + i] = (uint8_t)(0xa0 + i);
	lr_le64enc(p + 33, 1ull << 30);
	lr_le16enc(p + 41, 1);
	lr_le16enc(p + 43, FMT_VENTOY_FS_EXFAT);
	memcpy(p + 45, "/iso/FreeBSD-live.iso", 21);
	lr_le64enc(p + 429, image_size);
	lr_le64enc(p + 437, 0x80000);
	lr_le32enc(p + 445, loclen);
	p[449] = 0x5a;
	lr_le32enc(p + 481, 0xdeadbeef);
	t_fix_sum8(p, 512, 16);
}

/* Location list with n regions; returns its length. */
static size_t
make_loc(uint8_t *b, uint32_t n, const uint32_t (*r)[3])
{
	uint32_t i;

	memcpy(b, fmt_ventoy_guid, 16);
	lr_le32enc(b + 16, 2048);
	lr_le32enc(b + 20, 512);
	lr_le32enc(b + 24, n);
	for (i = 0; i < n; i++) {
		lr_le32enc(b + 28 + 16 * i, r[i][0]);
		lr_le32enc(b + 28 + 16 * i + 4, r[i][1]);
		lr_le64enc(b + 28 + 16 * i + 8, r[i][2]);
	}
	return (28 + 16 * (size_t)n);
}

/* 3 regions: 10 sectors at disk 4096, 5 at disk 4136 (adjacent), 1 far. */
static const uint32_t regions[3][3] = {
	{ 10, 0, 4096 }, { 5, 10, 4096 + 40 }, { 1, 15, 100000 },
};
#define IMG_SIZE	(15 * 2048 + 1000)

static size_t
make_acpi(uint8_t *t)
{
	size_t ll = make_loc(t + 36 + 512, 3, regions), len = 36 + 512 + ll;

	memset(t, 0, 36);
	memcpy(t, "VTOY", 4);
	lr_le32enc(t + 4, (uint32_t)len);
	t[8] = 1;
	memcpy(t + 10, "VENTOY", 6);
	make_param(t + 36, IMG_SIZE, (uint32_t)ll);
	t_fix_sum8(t, len, 9);
	return (len);
}

static void
test_param(void)
{
	uint8_t *p = malloc(512), mbr[512];
	struct fmt_ventoy_param v;
	struct diag d;

	make_param(p, IMG_SIZE, 76);
	CHECK_EQ(fmt_ventoy_param_decode(p, 512, &v, &d), 0);
	CHECK(strcmp(v.image_path, "/iso/FreeBSD-live.iso") == 0);
	CHECK_EQ(v.disk_size, 1ull << 30);
	CHECK_EQ(v.part, 1);
	CHECK_EQ(v.fs, FMT_VENTOY_FS_EXFAT);
	CHECK(strcmp(fmt_ventoy_fs_name(v.fs), "exfat") == 0);
	CHECK(strcmp(fmt_ventoy_fs_name(99), "unknown") == 0);
	CHECK_EQ(v.image_size, IMG_SIZE);
	CHECK_EQ(v.loc_addr, 0x80000);
	CHECK_EQ(v.loc_len, 76);
	CHECK_EQ(v.reserved[0], 0x5a);
	CHECK_EQ(v.disk_signature, 0xdeadbeef);
	CHECK_EQ(v.disk_guid[15], 0xaf);
	CHECK_EQ(fmt_ventoy_param_decode(p, 511, &v, &d), EINVAL);

	memset(mbr, 0, sizeof(mbr));
	memcpy(mbr + 0x180, p + 17, 16);
	lr_le32enc(mbr + 0x1b8, 0xdeadbeef);
	CHECK(fmt_ventoy_disk_match(&v, mbr, 512));
	CHECK(!fmt_ventoy_disk_match(&v, mbr, 511));
	mbr[0x1b8] ^= 1;
	CHECK(!fmt_ventoy_disk_match(&v, mbr, 512));
	mbr[0x1b8] ^= 1;
	mbr[0x185] ^= 1;
	CHECK(!fmt_ventoy_disk_match(&v, mbr, 512));

	/* os_param_bad_checksum_is_einval */
	p[100] ^= 0x10;
	CHECK_EQ(fmt_ventoy_param_decode(p, 512, &v, &d), EINVAL);
	CHECK_MSG(&d, "sum to 0x");
	p[100] ^= 0x10;
	/* os_param_without_guid_is_einval */
	p[3] ^= 1;
	p[16]--;
	CHECK_EQ(fmt_ventoy_param_decode(p, 512, &v, &d), EINVAL);
	CHECK_MSG(&d, "GUID");
	free(p);
}

static void
test_loc(void)
{
	uint8_t *b = malloc(28 + 3 * 16);
	struct fmt_ventoy_loc loc;
	struct fmt_extent ext[4];
	struct diag d;
	size_t len = make_loc(b, 3, regions), n;

	CHECK_EQ(fmt_ventoy_loc_decode(b, len, IMG_SIZE, 1ull << 30, &loc, ext,
	    4, &n, &d), 0);
	CHECK_EQ(loc.nregions, 3);
	CHECK_EQ(n, 2);
	CHECK_EQ(ext[0].off, 4096 * 512);
	CHECK_EQ(ext[0].len, 15 * 2048);
	CHECK_EQ(ext[1].off, 100000ull * 512);
	CHECK_EQ(ext[1].len, 1000);
	CHECK_EQ(fmt_ventoy_loc_decode(b, len, IMG_SIZE, 0, &loc, ext, 1, &n,
	    &d), ENOSPC);
	CHECK_EQ(n, 2);
	CHECK_EQ(fmt_ventoy_loc_decode(b, len, 0, 0, &loc, NULL, 0, &n,
	    NULL), ENOSPC);
	/* location_list_truncated_by_one_byte_is_einval */
	CHECK_EQ(fmt_ventoy_loc_decode(b, len - 1, IMG_SIZE, 0, &loc, ext, 4,
	    &n, &d), EINVAL);
	/* location_list_region_past_disk_end_is_einval */
	CHECK_EQ(fmt_ventoy_loc_decode(b, len, IMG_SIZE, 100000ull * 512 + 1999,
	    &loc, ext, 4, &n, &d), EINVAL);
	CHECK_MSG(&d, "region 2");
	CHECK_MSG(&d, "past the end of the disk");
	/* location_list_region_offset_overflows_is_einval */
	lr_le64enc(b + 28 + 32 + 8, UINT64_MAX / 256);
	CHECK_EQ(fmt_ventoy_loc_decode(b, len, IMG_SIZE, 0, &loc, ext, 4, &n,
	    &d), EINVAL);
	lr_le64enc(b + 28 + 32 + 8, 100000);
	/* location_list_with_2pow31_regions_is_einval */
	lr_le32enc(b + 24, 0x80000000u);
	CHECK_EQ(fmt_ventoy_loc_decode(b, len, IMG_SIZE, 0, &loc, ext, 4, &n,
	    &d), EINVAL);
	CHECK_MSG(&d, "2147483648 regions");
	lr_le32enc(b + 24, 3);
	/* location_list_gap_between_regions_is_einval */
	lr_le32enc(b + 28 + 16 + 4, 11);
	CHECK_EQ(fmt_ventoy_loc_decode(b, len, IMG_SIZE, 0, &loc, ext, 4, &n,
	    &d), EINVAL);
	CHECK_MSG(&d, "contiguously");
	lr_le32enc(b + 28 + 16 + 4, 10);
	/* location_list_shorter_than_image_is_einval */
	CHECK_EQ(fmt_ventoy_loc_decode(b, len, 16 * 2048 + 1, 0, &loc, ext, 4,
	    &n, &d), EINVAL);
	CHECK_MSG(&d, "cover");
	/* location_list_bad_sector_size_is_einval */
	lr_le32enc(b + 16, 1000);
	CHECK_EQ(fmt_ventoy_loc_decode(b, len, IMG_SIZE, 0, &loc, ext, 4, &n,
	    &d), EINVAL);
	free(b);
}

static void
test_acpi_efi_scan(void)
{
	uint8_t tmp[1024], *t, *e, *mem;
	struct fmt_ventoy_param v;
	struct fmt_ventoy_loc loc;
	struct fmt_extent ext[4];
	const uint8_t *lp;
	struct diag d;
	size_t len = make_acpi(tmp), ll, n, off;

	t = malloc(len);
	memcpy(t, tmp, len);
	CHECK_EQ(fmt_ventoy_acpi_decode(t, len, &v, &lp, &ll, &d), 0);
	CHECK_EQ(ll, 28 + 48);
	CHECK_EQ(fmt_ventoy_loc_decode(lp, ll, v.image_size, v.disk_size, &loc,
	    ext, 4, &n, &d), 0);
	CHECK_EQ(n, 2);
	/* acpi_table_longer_than_buffer_is_einval */
	CHECK_EQ(fmt_ventoy_acpi_decode(t, len - 1, &v, &lp, &ll, &d), EINVAL);
	CHECK_MSG(&d, "length");
	/* acpi_table_bad_checksum_is_einval */
	t[len - 1] ^= 1;
	CHECK_EQ(fmt_ventoy_acpi_decode(t, len, &v, &lp, &ll, &d), EINVAL);
	CHECK_MSG(&d, "ACPI checksum is wrong");
	t[len - 1] ^= 1;
	/* acpi_table_good_sum_bad_os_param_is_einval */
	t[36 + 100]++;
	t[len - 1]--;		/* keeps the table sum at 0 */
	CHECK_EQ(fmt_ventoy_acpi_decode(t, len, &v, &lp, &ll, &d), EINVAL);
	CHECK_MSG(&d, "ventoy ACPI table: ventoy os_param");
	t[0] = 'X';
	CHECK_EQ(fmt_ventoy_acpi_decode(t, len, &v, &lp, &ll, &d), EINVAL);
	CHECK_MSG(&d, "signature");
	free(t);

	e = malloc(516);
	lr_le32enc(e, 7);
	make_param(e + 4, IMG_SIZE, 0);
	CHECK_EQ(fmt_ventoy_efivar_decode(e, 516, &v, &d), 0);
	CHECK_EQ(v.disk_signature, 0xdeadbeef);
	CHECK_EQ(fmt_ventoy_efivar_decode(e, 515, &v, &d), EINVAL);
	free(e);

	/* scan at an odd offset, after a decoy GUID with a bad checksum */
	mem = calloc(1, 4096 + 17);
	memcpy(mem + 100, fmt_ventoy_guid, 16);
	make_param(mem + 1001, IMG_SIZE, 0);
	CHECK_EQ(fmt_ventoy_scan(mem, 4096 + 17, &off, &v), 0);
	CHECK_EQ(off, 1001);
	/* param at the very end of the buffer */
	memset(mem + 1001, 0, 512);
	make_param(mem + 4096 + 17 - 512, IMG_SIZE, 0);
	CHECK_EQ(fmt_ventoy_scan(mem, 4096 + 17, &off, &v), 0);
	CHECK_EQ(off, 4096 + 17 - 512);
	CHECK_EQ(fmt_ventoy_scan(mem, 4096 + 16, &off, &v), ENOENT);
	free(mem);
}

static void
test_vtoyefi(void)
{
	static struct fmt_fat fs;

	memset(&fs, 0, sizeof(fs));
	strcpy(fs.label, "VTOYEFI");
	CHECK(fmt_ventoy_is_vtoyefi(&fs));
	strcpy(fs.label, "vtoyefi");
	CHECK(fmt_ventoy_is_vtoyefi(&fs));
	strcpy(fs.label, "VTOYEFI2");
	CHECK(!fmt_ventoy_is_vtoyefi(&fs));
}

int
main(int argc, char **argv)
{
	if (argc > 1) {
		uint8_t t[1024];
		size_t len = make_acpi(t);
		FILE *f = fopen(argv[1], "wb");

		if (f == NULL || fwrite(t, 1, len, f) != len)
			return (2);
		fclose(f);
		return (0);
	}
	test_param();
	test_loc();
	test_acpi_efi_scan();
	test_vtoyefi();
	return (t_done());
}
