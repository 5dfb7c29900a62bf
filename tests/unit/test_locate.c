/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_locate.c - probe_locate_device, probe_describe_device and
 * probe_ventoy_split on crafted in-memory devices and hand-over buffers
 * (exact-size allocations, so ASan sees a one-byte over-read): the forms of
 * the Ventoy hand-over told apart, a bad checksum refused, an os_param for
 * another disk "not here", a location list past the end of the disk and a
 * location list pointing at no ISO, empty and blank devices described; the
 * inventory of a crafted Ventoy-shaped disk, of a damaged volume and of a
 * device that fails to read.  Real media made by real tools are in
 * tests/integration/locate.sh.
 */
#include <stdlib.h>

#include <liveroot/bdev.h>
#include <liveroot/faulty.h>
#include <liveroot/inventory.h>
#include <liveroot/locate.h>
#include <liveroot/util.h>

#include "t.h"

#define MiB	(1024ULL * 1024)

static const uint8_t disk_id[16] = { 'V', 'T', 'O', 'Y', 1, 2, 3, 4, 5, 6,
    7, 8, 9, 10, 11, 12 };
#define DISK_SIG	0x5a17c0deu

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
	t_fix_sum8(b, 512, 16);
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
	t_fix_sum8(acpi, 36 + len, 9);
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

/*
 * An os_param whose location list leads to no ISO on this disk: not found,
 * or refused with a message naming the device.
 */
static void
test_param_not_here(void)
{
	static const struct {
		uint32_t	 sig;
		uint32_t	 nsec;		/* ISO sectors at lba */
		uint64_t	 lba;
		unsigned	 strategies;
		int		 error;
		const char	*seen;		/* error 0: in r.seen */
		const char	*msg;		/* else: in the diag */
	} tc[] = {
		/* param_for_another_disk_not_here */
		{ 0x01020304, 4, 4096, LOCATE_VENTOY, 0, "another disk", NULL },
		/* location_list_past_disk_end_refused: 4 ISO sectors starting
		 * 1 sector before the end of the disk */
		{ DISK_SIG, 4, 8 * MiB / 512 - 1, 0, EINVAL, NULL,
		    "d: ventoy: " },
		/* location_list_at_no_iso_not_here */
		{ DISK_SIG, 64, 4096, LOCATE_VENTOY, 0,
		    "/live.iso: no ISO 9660 at 0x8000", NULL },
	};
	struct locate_opts o;
	struct locate_result r;
	struct bdev *b;
	struct diag d;
	size_t i, len;
	uint8_t *vp;

	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		b = make_disk(8 * MiB);
		vp = make_param(&len, 1, tc[i].sig, 8 * MiB, tc[i].nsec,
		    tc[i].lba);
		memset(&o, 0, sizeof(o));
		o.ventoy_param = vp;
		o.ventoy_param_len = len;
		o.strategies = tc[i].strategies;
		diag_clear(&d);
		CHECK_EQ(probe_locate_device("d", b, &o, &r, &d), tc[i].error);
		CHECK_EQ(r.found, 0);
		CHECK(r.ext == NULL);
		if (tc[i].error == 0)
			CHECK(strstr(r.seen, tc[i].seen) != NULL);
		else
			CHECK_MSG(&d, tc[i].msg);
		locate_result_free(&r);
		free(vp);
		bdev_destroy(b);
	}
}

/* A FAT12 volume of secs 512-byte sectors labelled label at v. */
static void
put_fat12(uint8_t *v, uint32_t secs, const char *label)
{
	v[0] = 0xeb;
	v[1] = 0x3c;
	v[2] = 0x90;
	memcpy(v + 3, "MSDOS5.0", 8);
	lr_le16enc(v + 11, 512);
	v[13] = 1;				/* sectors per cluster */
	lr_le16enc(v + 14, 1);			/* reserved */
	v[16] = 1;				/* FATs */
	lr_le16enc(v + 17, 16);			/* root entries */
	lr_le16enc(v + 19, secs);
	v[21] = 0xf8;
	lr_le16enc(v + 22, 8);			/* FAT sectors */
	memcpy(v + 43, "NO NAME    ", 11);
	memcpy(v + 54, "FAT12   ", 8);
	v[510] = 0x55;
	v[511] = 0xaa;
	v[512] = 0xf8;				/* FAT[0], FAT[1] */
	v[513] = 0xff;
	v[514] = 0xff;
	memset(v + 9 * 512, ' ', 11);		/* the label entry */
	memcpy(v + 9 * 512, label, strlen(label));
	v[9 * 512 + 11] = 0x08;
}

/* p1 1 MiB at 1 MiB "DATA", p2 1 MiB at 2 MiB "VTOYEFI", the disk id. */
static uint8_t *
ventoy_shaped(size_t len)
{
	uint8_t *b = calloc(1, len);

	memcpy(b + 0x180, disk_id, 16);
	lr_le32enc(b + 0x1b8, DISK_SIG);
	b[446 + 4] = 0x0e;
	lr_le32enc(b + 446 + 8, 2048);
	lr_le32enc(b + 446 + 12, 2048);
	b[462 + 4] = 0xef;
	lr_le32enc(b + 462 + 8, 4096);
	lr_le32enc(b + 462 + 12, 2048);
	b[510] = 0x55;
	b[511] = 0xaa;
	put_fat12(b + MiB, 2048, "DATA");
	put_fat12(b + 2 * MiB, 2048, "VTOYEFI");
	return (b);
}

/* What inspect prints and the boot log condenses: one inventory. */
static void
test_inventory_ventoy_shaped(void)
{
	size_t len = 4 * MiB;
	uint8_t *img = ventoy_shaped(len);
	struct probe_inventory *inv;
	struct bdev *b;
	struct diag d;
	char line[512];

	CHECK_EQ(bdev_mem_wrap(img, len, &b, &d), 0);
	CHECK_EQ(probe_inventory_take(b, &inv, &d), 0);
	CHECK_EQ(inv->size, len);
	CHECK_EQ(inv->vd, PROBE_VD_ZEROS);
	CHECK(inv->whole.fs == NULL && inv->whole.error == 0);
	CHECK_EQ(inv->pt_error, 0);
	CHECK_EQ(inv->nparts, 2);
	CHECK(inv->vols[0].fs != NULL && strcmp(inv->vols[0].fs, "fat12") ==
	    0 && strcmp(inv->vols[0].label, "DATA") == 0);
	CHECK(!inv->vols[0].vtoyefi && inv->vols[1].vtoyefi);
	CHECK(probe_inventory_ventoy(inv));
	CHECK(probe_inventory_disk_id(inv) != NULL &&
	    memcmp(probe_inventory_disk_id(inv), disk_id, 16) == 0);
	probe_inventory_line(inv, line, sizeof(line));
	CHECK(strcmp(line, "4.0 MiB; 0x8000: zeros; MBR, 2 partition(s); p1 "
	    "1.0 MiB at 1048576: fat12 'DATA'; p2 1.0 MiB at 2097152: fat12 "
	    "'VTOYEFI' [Ventoy EFI]; MBR disk id 56544f59... signature "
	    "5a17c0de") == 0);
	probe_inventory_free(inv);
	CHECK_EQ(probe_describe_device(b, line, sizeof(line)), 0);
	CHECK(strstr(line, "p1 1.0 MiB at 1048576: fat12 'DATA'") != NULL);
	bdev_destroy(b);

	/* A FAT whose open refuses what its probe took: damaged, named. */
	img[MiB + 511] = 0;
	CHECK_EQ(bdev_mem_wrap(img, len, &b, &d), 0);
	CHECK_EQ(probe_inventory_take(b, &inv, &d), 0);
	CHECK(inv->vols[0].fs != NULL && strcmp(inv->vols[0].fs, "fat") == 0);
	CHECK_EQ(inv->vols[0].error, EINVAL);
	CHECK(strstr(inv->vols[0].msg, "55 AA") != NULL);
	probe_inventory_line(inv, line, sizeof(line));
	CHECK(strstr(line, "p1 1.0 MiB at 1048576: damaged fs (FAT: boot "
	    "sector lacks the 55 AA") != NULL);
	probe_inventory_free(inv);
	bdev_destroy(b);
	free(img);
}

/* The format table: a volume is opened as the first format that claims
 * it, among those asked for. */
static void
test_format_table(void)
{
	uint8_t *img = calloc(1, MiB);
	struct bdev_src s;
	struct probe_fs fs;
	struct bdev *b;
	struct diag d;

	put_fat12(img, 2048, "VTOYEFI");
	CHECK_EQ(bdev_mem_wrap(img, MiB, &b, &d), 0);
	bdev_src_init(&s, b, 1);
	CHECK_EQ(probe_fs_open(&fs, &s.src, PROBE_FS_ISO9660, &d), ENOENT);
	CHECK_EQ(fs.kind, 0);
	CHECK_EQ(probe_fs_open(&fs, &s.src, PROBE_FS_EXFAT, &d), ENOENT);
	CHECK_EQ(probe_fs_open(&fs, &s.src, PROBE_FS_ANY, &d), 0);
	CHECK_EQ(fs.kind, PROBE_FS_FAT);
	CHECK(fs.fat != NULL && strcmp(fs.name, "fat12") == 0);
	CHECK(strcmp(fs.label, "VTOYEFI") == 0);
	probe_fs_close(&fs);
	CHECK(fs.fat == NULL && fs.kind == 0);
	bdev_src_fini(&s);
	bdev_destroy(b);
	free(img);
}

/*
 * A device that fails to read: the line names the device's own error (it
 * said "read of 512 bytes at offset 0 failed (error 5)").
 */
static void
test_inventory_read_error_named(void)
{
	struct bdev_faulty_opts fo;
	struct probe_inventory *inv;
	struct bdev *m, *f;
	struct diag d;
	char line[512];

	memset(&fo, 0, sizeof(fo));
	fo.range_ops = BDEV_FAULTY_READ;
	fo.range_len = 512;
	CHECK_EQ(bdev_mem_new(MiB, 0, &m, &d), 0);
	CHECK_EQ(bdev_faulty_new(m, &fo, &f, &d), 0);
	CHECK_EQ(probe_inventory_take(f, &inv, &d), 0);
	CHECK_EQ(inv->pt_error, EIO);
	CHECK(strstr(inv->pt_msg, "injected read error") != NULL);
	CHECK(inv->whole.fs == NULL && inv->whole.error == EIO);
	CHECK(!inv->mbr_ok);
	probe_inventory_line(inv, line, sizeof(line));
	CHECK(strstr(line, "1.0 MiB; 0x8000: zeros; partition table damaged "
	    "(faulty(mem(1 MiB, cap 0 MiB)): injected read error") == line);
	probe_inventory_free(inv);
	bdev_destroy(f);
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
	CHECK(strstr(r.seen, "findiso: no volume of the kinds it reads (") !=
	    NULL && strstr(r.seen, "FAT12/16/32") != NULL &&
	    strstr(r.seen, "ext2/3/4") != NULL);
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
	test_param_not_here();
	test_findiso_without_fat_not_here();
	test_inventory_ventoy_shaped();
	test_format_table();
	test_inventory_read_error_named();
	return (t_done());
}
