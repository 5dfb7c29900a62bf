/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ventoy.c - decoding Ventoy's os_param, image location list, ACPI table and
 * EFI variable (fmt_ventoy.h).  Pure functions over caller buffers: every
 * read is preceded by a length check against the buffer, every count is
 * bounded before it drives a loop, sums go through checked arithmetic.  No
 * state, no locking.
 */
#include <liveroot/fmt_ventoy.h>
#include <liveroot/util.h>

const uint8_t fmt_ventoy_guid[16] = {
	0x20, 0x20, 0x77, 0x77, 0x77, 0x2e, 0x76, 0x65,
	0x6e, 0x74, 0x6f, 0x79, 0x2e, 0x6e, 0x65, 0x74,
};

const char *
fmt_ventoy_fs_name(unsigned fs)
{
	static const char *const names[] = { "exfat", "ntfs", "ext", "xfs",
	    "udf", "fat", "btrfs" };

	return (fs < LR_NELEM(names) ? names[fs] : "unknown");
}

static uint8_t
vt_sum(const uint8_t *b, size_t len)
{
	uint8_t s = 0;
	size_t i;

	for (i = 0; i < len; i++)
		s = (uint8_t)(s + b[i]);
	return (s);
}

int
fmt_ventoy_param_decode(const void *buf, size_t len,
    struct fmt_ventoy_param *p, struct diag *d)
{
	const uint8_t *b = buf;
	uint8_t s;

	if (len < FMT_VENTOY_PARAM_SIZE)
		return (diag_set(d, EINVAL, "ventoy os_param: %zu bytes, "
		    "%d needed", len, FMT_VENTOY_PARAM_SIZE));
	if (memcmp(b, fmt_ventoy_guid, 16) != 0)
		return (diag_set(d, EINVAL, "ventoy os_param: the Ventoy GUID "
		    "is missing at byte 0: not a Ventoy os_param"));
	if ((s = vt_sum(b, FMT_VENTOY_PARAM_SIZE)) != 0)
		return (diag_set(d, EINVAL, "ventoy os_param: the 512 bytes "
		    "sum to 0x%02x, not 0 (checksum byte 0x%02x): the "
		    "parameters are corrupt or forged", s, b[16]));
	memset(p, 0, sizeof(*p));
	memcpy(p->guid, b, 16);
	p->chksum = b[16];
	memcpy(p->disk_guid, b + 17, 16);
	p->disk_size = lr_le64dec(b + 33);
	p->part = lr_le16dec(b + 41);
	p->fs = lr_le16dec(b + 43);
	memcpy(p->image_path, b + 45, 384);
	p->image_path[384] = '\0';
	p->image_size = lr_le64dec(b + 429);
	p->loc_addr = lr_le64dec(b + 437);
	p->loc_len = lr_le32dec(b + 445);
	memcpy(p->reserved, b + 449, 32);
	p->disk_signature = lr_le32dec(b + 481);
	if (p->image_path[0] == '\0')
		return (diag_set(d, EINVAL, "ventoy os_param: the image path "
		    "is empty"));
	return (0);
}

static bool
vt_sector_ok(uint32_t v)
{
	return (lr_is_pow2(v) && v >= 512 && v <= 4096);
}

int
fmt_ventoy_loc_decode(const void *buf, size_t len, uint64_t image_size,
    uint64_t disk_size, struct fmt_ventoy_loc *loc, struct fmt_extent *ext,
    size_t max, size_t *nextents, struct diag *d)
{
	const uint8_t *b = buf, *r;
	uint64_t next_img = 0, cnt, start, dstart, off, elen, total, end;
	uint64_t lastoff = 0, lastlen = 0;
	size_t n = 0;
	uint32_t i;

	*nextents = 0;
	if (len < FMT_VENTOY_LOC_HDR)
		return (diag_set(d, EINVAL, "ventoy location list: %zu bytes, "
		    "shorter than its %d-byte header", len,
		    FMT_VENTOY_LOC_HDR));
	memcpy(loc->guid, b, 16);
	loc->img_sector_size = lr_le32dec(b + 16);
	loc->disk_sector_size = lr_le32dec(b + 20);
	loc->nregions = lr_le32dec(b + 24);
	if (!vt_sector_ok(loc->img_sector_size) ||
	    !vt_sector_ok(loc->disk_sector_size))
		return (diag_set(d, EINVAL, "ventoy location list: sector "
		    "sizes %u (image) and %u (disk) must be powers of 2 in "
		    "512..4096", loc->img_sector_size, loc->disk_sector_size));
	if (loc->nregions == 0 || loc->nregions > FMT_VENTOY_MAXREGIONS ||
	    loc->nregions > (len - FMT_VENTOY_LOC_HDR) /
	    FMT_VENTOY_REGION_SIZE)
		return (diag_set(d, EINVAL, "ventoy location list: %u regions "
		    "do not fit in %zu bytes (at most %d allowed): the list is "
		    "corrupt or forged", loc->nregions, len,
		    FMT_VENTOY_MAXREGIONS));
	for (i = 0; i < loc->nregions; i++) {
		r = b + FMT_VENTOY_LOC_HDR + (size_t)i * FMT_VENTOY_REGION_SIZE;
		cnt = lr_le32dec(r);
		start = lr_le32dec(r + 4);
		dstart = lr_le64dec(r + 8);
		if (cnt == 0)
			return (diag_set(d, EINVAL, "ventoy location list: "
			    "region %u is empty", i));
		if (start != next_img)
			return (diag_set(d, EINVAL, "ventoy location list: "
			    "region %u starts at image sector %llu, expected "
			    "%llu: the regions do not cover the image "
			    "contiguously", i, (unsigned long long)start,
			    (unsigned long long)next_img));
		next_img += cnt;	/* < 2^32 * 2^16 */
		elen = cnt * loc->img_sector_size;
		if (lr_mul_overflow(dstart, loc->disk_sector_size, &off) ||
		    lr_add_overflow(off, elen, &end) ||
		    (disk_size != 0 && end > disk_size))
			return (diag_set(d, EINVAL, "ventoy location list: "
			    "region %u (disk sector %llu, %llu bytes) runs "
			    "past the end of the disk (%llu bytes)", i,
			    (unsigned long long)dstart,
			    (unsigned long long)elen,
			    (unsigned long long)disk_size));
		if (n > 0 && lastoff + lastlen == off)
			lastlen += elen;
		else {
			n++;
			lastoff = off;
			lastlen = elen;
		}
		if (n <= max) {
			ext[n - 1].off = lastoff;
			ext[n - 1].len = lastlen;
		}
	}
	total = next_img * loc->img_sector_size;
	if (image_size != 0) {
		if (total < image_size)
			return (diag_set(d, EINVAL, "ventoy location list: "
			    "the regions cover %llu bytes but the image is "
			    "%llu bytes", (unsigned long long)total,
			    (unsigned long long)image_size));
		if (total - image_size >= loc->img_sector_size)
			return (diag_set(d, EINVAL, "ventoy location list: "
			    "the regions cover %llu bytes, more than a sector "
			    "beyond the image's %llu bytes",
			    (unsigned long long)total,
			    (unsigned long long)image_size));
		if (n <= max)
			ext[n - 1].len -= total - image_size;
	}
	*nextents = n;
	if (n > max)
		return (diag_set(d, ENOSPC, "ventoy location list: %zu "
		    "extents do not fit in %zu", n, max));
	return (0);
}

int
fmt_ventoy_acpi_decode(const void *buf, size_t len,
    struct fmt_ventoy_param *p, const uint8_t **locp, size_t *loclenp,
    struct diag *d)
{
	const uint8_t *b = buf;
	uint32_t tlen;
	uint8_t s;
	int error;

	if (len < FMT_VENTOY_ACPI_HDR)
		return (diag_set(d, EINVAL, "ventoy ACPI table: %zu bytes, "
		    "shorter than an ACPI header", len));
	if (memcmp(b, "VTOY", 4) != 0)
		return (diag_set(d, EINVAL, "ventoy ACPI table: signature is "
		    "not \"VTOY\""));
	tlen = lr_le32dec(b + 4);
	if (tlen > len || tlen < FMT_VENTOY_ACPI_HDR + FMT_VENTOY_PARAM_SIZE)
		return (diag_set(d, EINVAL, "ventoy ACPI table: length %u is "
		    "outside %d..%zu (the bytes available)", tlen,
		    FMT_VENTOY_ACPI_HDR + FMT_VENTOY_PARAM_SIZE, len));
	if ((s = vt_sum(b, tlen)) != 0)
		return (diag_set(d, EINVAL, "ventoy ACPI table: the %u bytes "
		    "sum to 0x%02x, not 0: the ACPI checksum is wrong (corrupt "
		    "or forged table)", tlen, s));
	error = fmt_ventoy_param_decode(b + FMT_VENTOY_ACPI_HDR,
	    FMT_VENTOY_PARAM_SIZE, p, d);
	if (error != 0) {
		diag_prefix(d, "ventoy ACPI table: ");
		return (error);
	}
	if (locp != NULL)
		*locp = b + FMT_VENTOY_ACPI_HDR + FMT_VENTOY_PARAM_SIZE;
	if (loclenp != NULL)
		*loclenp = tlen - FMT_VENTOY_ACPI_HDR - FMT_VENTOY_PARAM_SIZE;
	return (0);
}

int
fmt_ventoy_efivar_decode(const void *buf, size_t len,
    struct fmt_ventoy_param *p, struct diag *d)
{
	int error;

	if (len < 4 + FMT_VENTOY_PARAM_SIZE)
		return (diag_set(d, EINVAL, "ventoy EFI variable: %zu bytes, "
		    "%d needed (4-byte attributes + os_param)", len,
		    4 + FMT_VENTOY_PARAM_SIZE));
	error = fmt_ventoy_param_decode((const uint8_t *)buf + 4, len - 4, p,
	    d);
	if (error != 0)
		diag_prefix(d, "ventoy EFI variable: ");
	return (error);
}

int
fmt_ventoy_scan(const void *buf, size_t len, size_t *off,
    struct fmt_ventoy_param *p)
{
	const uint8_t *b = buf;
	size_t i;

	if (len < FMT_VENTOY_PARAM_SIZE)
		return (ENOENT);
	for (i = 0; i <= len - FMT_VENTOY_PARAM_SIZE; i++) {
		if (b[i] != fmt_ventoy_guid[0] ||
		    memcmp(b + i, fmt_ventoy_guid, 16) != 0)
			continue;
		if (fmt_ventoy_param_decode(b + i, FMT_VENTOY_PARAM_SIZE, p,
		    NULL) == 0) {
			*off = i;
			return (0);
		}
	}
	return (ENOENT);
}

bool
fmt_ventoy_disk_match(const struct fmt_ventoy_param *p, const void *mbr,
    size_t len)
{
	const uint8_t *b = mbr;

	if (len < 512)
		return (false);
	return (memcmp(b + 0x180, p->disk_guid, 16) == 0 &&
	    lr_le32dec(b + 0x1b8) == p->disk_signature);
}

bool
fmt_ventoy_is_vtoyefi(const struct fmt_fat *fs)
{
	return (fmt_fat_label_is(fs, "VTOYEFI"));
}
