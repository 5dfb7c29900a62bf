/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_locate.c - probe_locate_device, probe_describe_device and
 * probe_ventoy_split on crafted in-memory devices and hand-over buffers
 * (exact-size allocations, so ASan sees a one-byte over-read): the forms of
 * the Ventoy hand-over told apart, a bad checksum refused, an os_param for
 * another disk "not here", a location list past the end of the disk and a
 * location list pointing at no ISO, empty and blank devices described.
 * Real media made by real tools are in tests/integration/locate.sh.
 */
#include <stdlib.h>

#include <liveroot/bdev.h>
#include <liveroot/locate.h>
#include <liveroot/util.h>

#include "t.h"

#define MiB	(1024ULL * 1024)

static const uint8_t disk_id[16] = { 'V', 'T', 'O', 'Y', 1, 2, 3, 4, 5, 6,
    7, 8, 9, 10, 11, 12 };
#define DISK_SIG	0x5a17c0deu

static void
fix_sum(uint8_t *b, size_t len, size_t at)
{
	uint8_t s = 0;
	size_t i;

	b[at] = 0;
	for (i = 0; i < len; i++)
		s += b[i];
	b[at] = (uint8_t)-s;
}

/* os_param (+ a location list of one region: nsec ISO sectors at lba). */
static uint8_t *
make_param(size_t *lenp, int with_loc, uint32_t sig, uint64_t disk_size,
    uint32_t nsec, uint64_t lba)
{
	size_t len = 512 + (with_loc ? 28 + 16 : 0);
	uint8_t *b = calloc(1, len);

	memcpy(b, fmt_ventoy_guid, 16);
	memcpy(b + 17, disk_id, 16);
	lr_le64enc(b + 33, disk_size);
	lr_le16enc(b + 41, 1);
	lr_le16enc(b + 43, 0);
	memcpy(b + 45, "/live.iso", 9);
	lr_le64enc(b + 429, (uint64_t)nsec * 2048);
	lr_le32enc(b + 445, with_loc ? 44 : 0);
	lr_le32enc(b + 481, sig);
	fix_sum(b, 512, 16);
	if (with_loc) {
		uint8_t *l = b + 512;

		memcpy(l, fmt_ventoy_guid, 16);
		lr_le32enc(l + 16, 2048);
		lr_le32enc(l + 20, 512);
		lr_le32enc(l + 24, 1);
		lr_le32enc(l + 28, nsec);
		lr_le32enc(l + 32, 0);
		lr_le64enc(l + 36, lba);
	}
	*lenp = len;
	return (b);
}

/* A device of size bytes with Ventoy's disk id and signature in its MBR. */
static struct bdev *
make_disk(uint64_t size)
{
	uint8_t mbr[512];
	struct bdev *b;

	memset(mbr, 0, sizeof(mbr));
	memcpy(mbr + 0x180, disk_id, 16);
	lr_le32enc(mbr + 0x1b8, DISK_SIG);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	if (bdev_mem_new(size, 0, &b, NULL) != 0)
		abort();
	if (bdev_write(b, mbr, sizeof(mbr), 0, NULL) != 0)
		abort();
	return (b);
}

static void
test_split_forms(void)
{
	struct fmt_ventoy_param p;
	const uint8_t *param, *loc;
	const char *form;
	size_t len, loclen;
	uint8_t *raw, *efi, *acpi;
	struct diag d;

	raw = make_param(&len, 1, DISK_SIG, 64 * MiB, 4, 4096);
	CHECK_EQ(probe_ventoy_split(raw, len, &p, &param, &loc, &loclen, &form,
	    &d), 0);
	CHECK(strcmp(form, "os_param") == 0);
	CHECK(param == raw && loc == raw + 512 && loclen == 44);
	CHECK(strcmp(p.image_path, "/live.iso") == 0);
	/* os_param alone: no location list */
	CHECK_EQ(probe_ventoy_split(raw, 512, &p, &param, &loc, &loclen,
	    &form, &d), 0);
	CHECK(loc == NULL && loclen == 0);

	efi = malloc(4 + 512);
	lr_le32enc(efi, 7);
	memcpy(efi + 4, raw, 512);
	CHECK_EQ(probe_ventoy_split(efi, 4 + 512, &p, &param, &loc, &loclen,
	    &form, &d), 0);
	CHECK(strcmp(form, "EFI variable") == 0 && param == efi + 4);
	CHECK(loc == NULL);

	acpi = calloc(1, 36 + len);
	memcpy(acpi, "VTOY", 4);
	lr_le32enc(acpi + 4, (uint32_t)(36 + len));
	memcpy(acpi + 36, raw, len);
	fix_sum(acpi, 36 + len, 9);
	CHECK_EQ(probe_ventoy_split(acpi, 36 + len, &p, &param, &loc, &loclen,
	    &form, &d), 0);
	CHECK(strcmp(form, "ACPI VTOY table") == 0 && param == acpi + 36);
	CHECK(loc == acpi + 36 + 512 && loclen == 44);
	free(efi);
	free(acpi);
	free(raw);
}

static void
test_split_bad_checksum_refused(void)
{
	struct fmt_ventoy_param p;
	const uint8_t *param, *loc;
	const char *form;
	size_t len, loclen;
	uint8_t *raw = make_param(&len, 0, DISK_SIG, 64 * MiB, 4, 4096);
	struct diag d;

	raw[100] ^= 0x40;
	diag_clear(&d);
	CHECK_EQ(probe_ventoy_split(raw, len, &p, &param, &loc, &loclen, &form,
	    &d), EINVAL);
	CHECK_MSG(&d, "sum");
	free(raw);
}

static void
test_split_garbage_refused(void)
{
	struct fmt_ventoy_param p;
	const uint8_t *param, *loc;
	const char *form;
	size_t loclen;
	uint8_t *g = malloc(3);
	struct diag d;

	memcpy(g, "VTO", 3);
	CHECK_EQ(probe_ventoy_split(g, 3, &p, &param, &loc, &loclen, &form,
	    &d), EINVAL);
	CHECK_MSG(&d, "not a Ventoy os_param");
	free(g);
}

static void
test_empty_device_not_found(void)
{
	struct locate_opts o;
	struct locate_result r;
	struct bdev *b;
	struct diag d;

	memset(&o, 0, sizeof(o));
	CHECK_EQ(bdev_mem_new(0, 0, &b, NULL), 0);
	CHECK_EQ(probe_locate_device("empty", b, &o, &r, &d), 0);
	CHECK_EQ(r.found, 0);
	CHECK(strstr(r.seen, "empty device") != NULL);
	locate_result_free(&r);
	bdev_destroy(b);
}

static void
test_blank_device_described(void)
{
	struct locate_opts o;
	struct locate_result r;
	struct bdev *b;
	struct diag d;
	char tiny[8];

	memset(&o, 0, sizeof(o));
	CHECK_EQ(bdev_mem_new(MiB, 0, &b, NULL), 0);
	CHECK_EQ(probe_locate_device("/dev/blank", b, &o, &r, &d), 0);
	CHECK_EQ(r.found, 0);
	CHECK(strcmp(r.device, "/dev/blank") == 0);
	CHECK(strstr(r.seen, "1.0 MiB; 0x8000: zeros; no partition table") !=
	    NULL);
	locate_result_free(&r);
	/* a short buffer is cut, NUL-terminated */
	memset(tiny, 'x', sizeof(tiny));
	probe_describe_device(b, tiny, sizeof(tiny));
	CHECK(tiny[sizeof(tiny) - 1] == '\0');
	bdev_destroy(b);
}

static void
test_param_for_another_disk_not_here(void)
{
	struct locate_opts o;
	struct locate_result r;
	struct bdev *b = make_disk(8 * MiB);
	struct diag d;
	size_t len;
	uint8_t *vp = make_param(&len, 1, 0x01020304, 8 * MiB, 4, 4096);

	memset(&o, 0, sizeof(o));
	o.ventoy_param = vp;
	o.ventoy_param_len = len;
	o.strategies = LOCATE_VENTOY;
	CHECK_EQ(probe_locate_device("d", b, &o, &r, &d), 0);
	CHECK_EQ(r.found, 0);
	CHECK(strstr(r.seen, "another disk") != NULL);
	locate_result_free(&r);
	free(vp);
	bdev_destroy(b);
}

static void
test_location_list_past_disk_end_refused(void)
{
	struct locate_opts o;
	struct locate_result r;
	struct bdev *b = make_disk(8 * MiB);
	struct diag d;
	size_t len;
	/* 4 ISO sectors starting 1 sector before the end of the disk */
	uint8_t *vp = make_param(&len, 1, DISK_SIG, 8 * MiB, 4,
	    8 * MiB / 512 - 1);

	memset(&o, 0, sizeof(o));
	o.ventoy_param = vp;
	o.ventoy_param_len = len;
	diag_clear(&d);
	CHECK_EQ(probe_locate_device("d", b, &o, &r, &d), EINVAL);
	CHECK_EQ(r.found, 0);
	CHECK_MSG(&d, "d: ventoy: ");
	CHECK(r.ext == NULL);
	locate_result_free(&r);
	free(vp);
	bdev_destroy(b);
}

static void
test_location_list_at_no_iso_not_here(void)
{
	struct locate_opts o;
	struct locate_result r;
	struct bdev *b = make_disk(8 * MiB);
	struct diag d;
	size_t len;
	uint8_t *vp = make_param(&len, 1, DISK_SIG, 8 * MiB, 64, 4096);

	memset(&o, 0, sizeof(o));
	o.ventoy_param = vp;
	o.ventoy_param_len = len;
	o.strategies = LOCATE_VENTOY;
	CHECK_EQ(probe_locate_device("d", b, &o, &r, &d), 0);
	CHECK_EQ(r.found, 0);
	CHECK(strstr(r.seen, "/live.iso: no ISO 9660 at 0x8000") != NULL);
	locate_result_free(&r);
	free(vp);
	bdev_destroy(b);
}

static void
test_findiso_without_fat_not_here(void)
{
	struct locate_opts o;
	struct locate_result r;
	struct bdev *b = make_disk(MiB);
	struct diag d;

	memset(&o, 0, sizeof(o));
	o.iso = "/live.iso";
	o.strategies = LOCATE_FINDISO;
	CHECK_EQ(probe_locate_device("d", b, &o, &r, &d), 0);
	CHECK_EQ(r.found, 0);
	CHECK(strstr(r.seen, "findiso: no FAT/exFAT volume") != NULL);
	locate_result_free(&r);
	bdev_destroy(b);
}

int
main(void)
{
	test_split_forms();
	test_split_bad_checksum_refused();
	test_split_garbage_refused();
	test_empty_device_not_found();
	test_blank_device_described();
	test_param_for_another_disk_not_here();
	test_location_list_past_disk_end_refused();
	test_location_list_at_no_iso_not_here();
	test_findiso_without_fat_not_here();
	return (t_done());
}
