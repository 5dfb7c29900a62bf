/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mbr.c - MBR (with extended partitions) and GPT partition tables, behind
 * fmt_part.h.
 *
 * Design: one 4 KB buffer in the caller's table serves every read.  The GPT
 * entry array is streamed through it in whole entries: each chunk feeds the
 * entries' CRC and is parsed into the caller's array tentatively; when the
 * CRC at the end disagrees the result is thrown away, so nothing from an
 * unverified table escapes.  (The CRC proves integrity, not honesty: every
 * entry is still bounded against the disk.)
 *
 * Invariants: header size, entry size and table size are bounded before any
 * entry is read; all LBA arithmetic is checked; an EBR chain is at most
 * FMT_PART_MAXLOGICAL links and every EBR lies inside the extended
 * partition.  Locking: none; the table belongs to one thread at a time.
 */
#include <liveroot/fmt_part.h>
#include <liveroot/util.h>

#define MBR_SIG_OFF	510
#define MBR_ENT_OFF	446
#define GPT_HDR_MIN	92

struct gpt_type {
	const char	*guid;
	const char	*name;
};

static const struct gpt_type gpt_types[] = {
	{ "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI system" },
	{ "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data" },
	{ "E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "Microsoft reserved" },
	{ "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem" },
	{ "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux root (x86-64)" },
	{ "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap" },
	{ "21686148-6449-6E6F-744E-656564454649", "BIOS boot" },
	{ "83BD6B9D-7F41-11DC-BE0B-001560B84F0F", "FreeBSD boot" },
	{ "516E7CB4-6ECF-11D6-8FF8-00022D09712B", "FreeBSD data" },
	{ "516E7CB5-6ECF-11D6-8FF8-00022D09712B", "FreeBSD swap" },
	{ "516E7CB6-6ECF-11D6-8FF8-00022D09712B", "FreeBSD UFS" },
	{ "516E7CBA-6ECF-11D6-8FF8-00022D09712B", "FreeBSD ZFS" },
	{ "48465300-0000-11AA-AA11-00306543ECAC", "Apple HFS+" },
};

void
fmt_guid_str(const uint8_t g[16], char out[37])
{
	static const char hx[] = "0123456789ABCDEF";
	/* on-disk order: 4 LE, 2 LE, 2 LE, then 8 bytes as they are */
	static const int ord[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11,
	    12, 13, 14, 15 };
	int i, n = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		out[n++] = hx[g[ord[i]] >> 4];
		out[n++] = hx[g[ord[i]] & 15];
	}
	out[n] = '\0';
}

const char *
fmt_gpt_type_name(const uint8_t g[16])
{
	char s[37];
	size_t i;

	fmt_guid_str(g, s);
	for (i = 0; i < LR_NELEM(gpt_types); i++)
		if (strcmp(s, gpt_types[i].guid) == 0)
			return (gpt_types[i].name);
	return (NULL);
}

const char *
fmt_mbr_type_name(uint8_t type)
{
	switch (type) {
	case 0x01:
		return ("FAT12");
	case 0x04: case 0x06: case 0x0e:
		return ("FAT16");
	case 0x05: case 0x0f: case 0x85:
		return ("extended");
	case 0x07:
		return ("NTFS/exFAT");
	case 0x0b: case 0x0c:
		return ("FAT32");
	case 0x82:
		return ("Linux swap");
	case 0x83:
		return ("Linux");
	case 0xa5:
		return ("FreeBSD");
	case 0xcd:
		return ("ISO 9660 (isohybrid)");
	case 0xee:
		return ("GPT protective");
	case 0xef:
		return ("EFI system");
	default:
		return (NULL);
	}
}

bool
fmt_part_probe(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	int i;

	if (len < 512 || b[MBR_SIG_OFF] != 0x55 || b[MBR_SIG_OFF + 1] != 0xaa)
		return (false);
	for (i = 0; i < 4; i++) {
		uint8_t st = b[MBR_ENT_OFF + 16 * i];

		if (st != 0 && st != 0x80)
			return (false);
	}
	return (true);
}

/* Add one partition; counts past cap. */
static void
part_add(struct fmt_part_table *t, struct fmt_part *parts, size_t cap,
    const struct fmt_part *p)
{
	if (t->nparts < cap)
		parts[t->nparts] = *p;
	t->nparts++;
}

static bool
is_extended(uint8_t type)
{
	return (type == 0x05 || type == 0x0f || type == 0x85);
}

/* Logical partitions: the EBR chain inside [ext, ext + extlen) sectors. */
static int
mbr_logical(const struct fmt_src *src, struct fmt_part_table *t,
    struct fmt_part *parts, size_t cap, uint64_t ext, uint64_t extlen,
    struct diag *d)
{
	struct fmt_part p;
	uint64_t ebr = ext, s, n, lstart;
	const uint8_t *e;
	uint32_t idx = 5;
	int k, error;

	for (k = 0;; k++) {
		if (k == FMT_PART_MAXLOGICAL)
			return (diag_set(d, EINVAL, "MBR: extended partition "
			    "chain longer than %d links (a loop?): the table "
			    "is corrupt", FMT_PART_MAXLOGICAL));
		if (ebr < ext || ebr >= ext + extlen)
			return (diag_set(d, EINVAL, "MBR: EBR at sector %llu "
			    "lies outside its extended partition",
			    (unsigned long long)ebr));
		if ((error = fmt_src_read(src, t->buf, 512, ebr * 512,
		    d)) != 0)
			return (error);
		if (t->buf[MBR_SIG_OFF] != 0x55 ||
		    t->buf[MBR_SIG_OFF + 1] != 0xaa)
			return (diag_set(d, EINVAL, "MBR: EBR at sector %llu "
			    "has no 0x55AA signature",
			    (unsigned long long)ebr));
		e = t->buf + MBR_ENT_OFF;
		s = lr_le32dec(e + 8);
		n = lr_le32dec(e + 12);
		if (e[4] != 0 && n != 0) {
			lstart = ebr + s;
			if (lstart + n > t->disk_sectors)
				return (diag_set(d, EINVAL, "MBR: logical "
				    "partition %u (sectors %llu+%llu) runs "
				    "past the end of the disk", idx,
				    (unsigned long long)lstart,
				    (unsigned long long)n));
			memset(&p, 0, sizeof(p));
			p.index = idx;
			p.start = lstart * 512;
			p.length = n * 512;
			p.mbr_type = e[4];
			p.bootable = e[0] == 0x80;
			p.type_name = fmt_mbr_type_name(e[4]);
			part_add(t, parts, cap, &p);
		}
		idx++;
		e += 16;
		if (!is_extended(e[4]) || lr_le32dec(e + 8) == 0)
			return (0);
		ebr = ext + lr_le32dec(e + 8);
	}
}

static int
mbr_parse(const struct fmt_src *src, struct fmt_part_table *t,
    struct fmt_part *parts, size_t cap, struct diag *d)
{
	struct fmt_part p;
	uint8_t ent[64];
	uint64_t s, n;
	int i, error, next = 0;

	memcpy(ent, t->buf + MBR_ENT_OFF, sizeof(ent));
	for (i = 0; i < 4; i++) {
		const uint8_t *e = ent + 16 * i;

		if (e[4] == 0)
			continue;
		s = lr_le32dec(e + 8);
		n = lr_le32dec(e + 12);
		if (n == 0)
			continue;
		if (s + n > t->disk_sectors)
			return (diag_set(d, EINVAL, "MBR: partition %d "
			    "(sectors %llu+%llu) runs past the end of the disk "
			    "(%llu sectors)", i + 1, (unsigned long long)s,
			    (unsigned long long)n,
			    (unsigned long long)t->disk_sectors));
		memset(&p, 0, sizeof(p));
		p.index = (uint32_t)i + 1;
		p.start = s * 512;
		p.length = n * 512;
		p.mbr_type = e[4];
		p.bootable = e[0] == 0x80;
		p.type_name = fmt_mbr_type_name(e[4]);
		part_add(t, parts, cap, &p);
		if (is_extended(e[4]) && next++ == 0 &&
		    (error = mbr_logical(src, t, parts, cap, s, n, d)) != 0)
			return (error);
	}
	return (0);
}

static void
gpt_name(const uint8_t *p, char *out)
{
	size_t i, n = 0;
	uint32_t c, c2;

	for (i = 0; i < 36; i++) {
		c = lr_le16dec(p + 2 * i);
		if (c == 0)
			break;
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < 36 &&
		    (c2 = lr_le16dec(p + 2 * i + 2)) >= 0xdc00 && c2 < 0xe000) {
			c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
			i++;
		} else if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd;
		if (c < 0x20 || c == 0x7f)
			c = '_';	/* names get printed: no escapes */
		if (c < 0x80)
			out[n++] = (char)c;
		else if (c < 0x800) {
			out[n++] = (char)(0xc0 | (c >> 6));
			out[n++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			out[n++] = (char)(0xe0 | (c >> 12));
			out[n++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[n++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[n++] = (char)(0xf0 | (c >> 18));
			out[n++] = (char)(0x80 | ((c >> 12) & 0x3f));
			out[n++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[n++] = (char)(0x80 | (c & 0x3f));
		}
	}
	out[n] = '\0';
}

/* What a validated GPT header says. */
struct gpt_hdr {
	uint64_t	my_lba;
	uint64_t	alt_lba;
	uint64_t	first_usable;
	uint64_t	last_usable;
	uint64_t	ent_lba;
	uint32_t	ent_count;
	uint32_t	ent_size;
	uint32_t	ent_crc;
	uint8_t		disk_guid[16];
};

/*
 * Read and check the header at lba with sector size ss.  *sig tells whether
 * the signature was there (to pick the sector size).  what: "primary"/"backup".
 */
static int
gpt_header(const struct fmt_src *src, struct fmt_part_table *t, uint32_t ss,
    uint64_t lba, const char *what, struct gpt_hdr *h, bool *sig,
    struct diag *d)
{
	uint8_t *b = t->buf;
	uint64_t nsec = src->size / ss, off, tbl;
	uint32_t hs, crc;
	int error;

	*sig = false;
	if (lba >= nsec || lr_mul_overflow(lba, ss, &off))
		return (diag_set(d, EINVAL, "%s GPT header: LBA %llu is "
		    "outside the disk", what, (unsigned long long)lba));
	if ((error = fmt_src_read(src, b, ss, off, d)) != 0)
		return (error);
	if (memcmp(b, "EFI PART", 8) != 0)
		return (diag_set(d, EINVAL, "%s GPT header at LBA %llu: no "
		    "\"EFI PART\" signature", what, (unsigned long long)lba));
	*sig = true;
	hs = lr_le32dec(b + 12);
	if (hs < GPT_HDR_MIN || hs > ss)
		return (diag_set(d, EINVAL, "%s GPT header at LBA %llu: header "
		    "size %u is outside %d..%u", what, (unsigned long long)lba,
		    hs, GPT_HDR_MIN, ss));
	crc = lr_le32dec(b + 16);
	lr_le32enc(b + 16, 0);
	if (lr_crc32(0, b, hs) != crc)
		return (diag_set(d, EINVAL, "%s GPT header at LBA %llu: header "
		    "CRC mismatch", what, (unsigned long long)lba));
	h->my_lba = lr_le64dec(b + 24);
	h->alt_lba = lr_le64dec(b + 32);
	h->first_usable = lr_le64dec(b + 40);
	h->last_usable = lr_le64dec(b + 48);
	memcpy(h->disk_guid, b + 56, 16);
	h->ent_lba = lr_le64dec(b + 72);
	h->ent_count = lr_le32dec(b + 80);
	h->ent_size = lr_le32dec(b + 84);
	h->ent_crc = lr_le32dec(b + 88);
	if (h->my_lba != lba)
		return (diag_set(d, EINVAL, "%s GPT header at LBA %llu says it "
		    "is at LBA %llu", what, (unsigned long long)lba,
		    (unsigned long long)h->my_lba));
	if (h->ent_size < 128 || h->ent_size % 128 != 0 ||
	    h->ent_size > FMT_GPT_MAXENTSIZE)
		return (diag_set(d, EINVAL, "%s GPT header: entry size %u is "
		    "not a multiple of 128 in 128..%d", what, h->ent_size,
		    FMT_GPT_MAXENTSIZE));
	tbl = (uint64_t)h->ent_count * h->ent_size;
	if (tbl > FMT_GPT_MAXTABLE)
		return (diag_set(d, EINVAL, "%s GPT header: %u entries of %u "
		    "bytes (%llu bytes) exceed the %u-byte limit: refused "
		    "before reading", what, h->ent_count, h->ent_size,
		    (unsigned long long)tbl, FMT_GPT_MAXTABLE));
	if (h->ent_lba >= nsec || !lr_range_ok(h->ent_lba * ss, tbl,
	    src->size))
		return (diag_set(d, EINVAL, "%s GPT header: entry array at LBA "
		    "%llu runs past the end of the disk", what,
		    (unsigned long long)h->ent_lba));
	if (h->first_usable > h->last_usable || h->last_usable >= nsec)
		return (diag_set(d, EINVAL, "%s GPT header: usable LBAs "
		    "%llu..%llu are not inside the disk (%llu sectors)", what,
		    (unsigned long long)h->first_usable,
		    (unsigned long long)h->last_usable,
		    (unsigned long long)nsec));
	return (0);
}

/* Stream the entry array: CRC plus tentative parse. */
static int
gpt_entries(const struct fmt_src *src, struct fmt_part_table *t,
    struct fmt_part *parts, size_t cap, uint32_t ss, const struct gpt_hdr *h,
    const char *what, struct diag *d)
{
	struct fmt_part p;
	uint64_t off = h->ent_lba * ss, nsec = src->size / ss;
	uint64_t left, first, last;
	uint32_t per = sizeof(t->buf) / h->ent_size, crc = 0, idx = 0, i, k;
	const uint8_t *e;
	int error;

	t->nparts = 0;
	left = h->ent_count;
	while (left > 0) {
		k = (uint32_t)LR_MIN(left, (uint64_t)per);
		if ((error = fmt_src_read(src, t->buf, (size_t)k * h->ent_size,
		    off, d)) != 0)
			return (error);
		crc = lr_crc32(crc, t->buf, (size_t)k * h->ent_size);
		for (i = 0; i < k; i++, idx++) {
			e = t->buf + (size_t)i * h->ent_size;
			if (lr_is_zero(e, 16))
				continue;
			first = lr_le64dec(e + 32);
			last = lr_le64dec(e + 40);
			if (first > last || last >= nsec) {
				t->nparts = 0;
				return (diag_set(d, EINVAL, "%s GPT: partition "
				    "%u (LBA %llu..%llu) is not inside the "
				    "disk (%llu sectors): the table is corrupt",
				    what, idx + 1, (unsigned long long)first,
				    (unsigned long long)last,
				    (unsigned long long)nsec));
			}
			memset(&p, 0, sizeof(p));
			p.index = idx + 1;
			p.start = first * ss;
			p.length = (last - first + 1) * ss;
			memcpy(p.type_guid, e, 16);
			memcpy(p.uuid, e + 16, 16);
			p.attrs = lr_le64dec(e + 48);
			p.bootable = (p.attrs & 4) != 0;
			p.type_name = fmt_gpt_type_name(e);
			gpt_name(e + 56, p.name);
			part_add(t, parts, cap, &p);
		}
		left -= k;
		off += (uint64_t)k * h->ent_size;
	}
	if (crc != h->ent_crc) {
		t->nparts = 0;
		return (diag_set(d, EINVAL, "%s GPT: partition entry array CRC "
		    "mismatch", what));
	}
	return (0);
}

static int
gpt_backup(const struct fmt_src *src, struct fmt_part_table *t,
    struct fmt_part *parts, size_t cap, uint32_t ss, uint64_t lba,
    struct gpt_hdr *h, bool *sig, struct diag *d)
{
	int error;

	if ((error = gpt_header(src, t, ss, lba, "backup", h, sig, d)) != 0)
		return (error);
	return (gpt_entries(src, t, parts, cap, ss, h, "backup", d));
}

/* Primary, then backup; ENOENT when there is no GPT signature anywhere. */
static int
gpt_parse(const struct fmt_src *src, struct fmt_part_table *t,
    struct fmt_part *parts, size_t cap, struct diag *d)
{
	static const uint32_t sizes[2] = { 512, 4096 };
	struct gpt_hdr h;
	struct diag pd, bd;
	uint64_t alt = 0, last;
	uint32_t ss = 0, s;
	bool sig, anysig = false;
	int i, error;

	diag_clear(&pd);
	diag_clear(&bd);
	for (i = 0; i < 2 && ss == 0; i++) {
		if (src->size / sizes[i] < 3)
			continue;
		error = gpt_header(src, t, sizes[i], 1, "primary", &h, &sig,
		    &pd);
		if (error != 0 && error != EINVAL)
			return (diag_set(d, error, "%s", pd.msg));
		if (!sig)
			continue;
		anysig = true;
		ss = sizes[i];
		if (error != 0)
			break;
		alt = h.alt_lba;
		error = gpt_entries(src, t, parts, cap, ss, &h, "primary", &pd);
		if (error == 0)
			goto found;
		if (error != EINVAL)
			return (diag_set(d, error, "%s", pd.msg));
	}
	if (!anysig)
		diag_set(&pd, EINVAL, "no primary GPT header at LBA 1");
	/* the primary is missing or damaged: the backup */
	for (i = 0; i < 2; i++) {
		s = ss != 0 ? ss : sizes[i];
		if ((ss != 0 && i == 1) || src->size / s < 3)
			continue;
		last = src->size / s - 1;
		error = EINVAL;
		sig = false;
		if (alt > 1 && alt < last)
			error = gpt_backup(src, t, parts, cap, s, alt, &h, &sig,
			    &bd);
		anysig |= sig;
		if (error == EINVAL) {
			error = gpt_backup(src, t, parts, cap, s, last, &h,
			    &sig, &bd);
			anysig |= sig;
		}
		if (error == 0) {
			ss = s;
			t->gpt_backup_used = true;
			snprintf(t->note, sizeof(t->note), "%.260s; the backup "
			    "header at LBA %llu was used (repair the primary: "
			    "sgdisk -e or gdisk)", pd.msg,
			    (unsigned long long)h.my_lba);
			goto found;
		}
		if (error != EINVAL)
			return (diag_set(d, error, "%s", bd.msg));
	}
	if (!anysig)
		return (ENOENT);
	t->nparts = 0;
	return (diag_set(d, EINVAL, "%s; %s: the GPT is damaged and its "
	    "backup cannot replace it", pd.msg, bd.msg[0] != '\0' ? bd.msg :
	    "no backup GPT header"));
found:
	t->sector_size = ss;
	t->disk_sectors = src->size / ss;
	memcpy(t->disk_guid, h.disk_guid, 16);
	return (0);
}

int
fmt_part_open(const struct fmt_src *src, struct fmt_part_table *t,
    struct fmt_part *parts, size_t cap, struct diag *d)
{
	uint8_t mbr[512];
	bool have_mbr;
	int i, error;

	memset(t, 0, sizeof(*t));
	t->sector_size = 512;
	t->disk_sectors = src->size / 512;
	if (src->size < 512)
		return (diag_set(d, ENOENT, "no partition table: the medium "
		    "is smaller than one sector"));
	if ((error = fmt_src_read(src, mbr, sizeof(mbr), 0, d)) != 0)
		return (error);
	have_mbr = mbr[MBR_SIG_OFF] == 0x55 && mbr[MBR_SIG_OFF + 1] == 0xaa;
	if (have_mbr) {
		t->mbr_disk_sig = lr_le32dec(mbr + 0x1b8);
		for (i = 0; i < 4; i++)
			if (mbr[MBR_ENT_OFF + 16 * i + 4] == 0xee)
				t->protective = true;
	}
	/* as Linux and FreeBSD: a GPT counts only behind a protective MBR */
	if (!have_mbr || t->protective) {
		error = gpt_parse(src, t, parts, cap, d);
		if (error == 0) {
			t->scheme = FMT_PART_GPT;
			goto done;
		}
		if (error != ENOENT)
			return (error);
	}
	t->sector_size = 512;
	t->disk_sectors = src->size / 512;
	if (!have_mbr)
		return (diag_set(d, ENOENT, "no partition table (no MBR "
		    "signature, no GPT)"));
	if (t->protective)
		return (diag_set(d, EINVAL, "protective MBR (type 0xEE) but no "
		    "GPT header at LBA 1 or at the end of the disk: the GPT is "
		    "lost; restore it (gdisk) or rewrite the table"));
	memcpy(t->buf, mbr, sizeof(mbr));
	t->scheme = FMT_PART_MBR;
	if ((error = mbr_parse(src, t, parts, cap, d)) != 0)
		return (error);
done:
	if (t->nparts > cap)
		return (diag_set(d, ENOSPC, "%u partitions, room for %zu",
		    t->nparts, cap));
	return (0);
}
