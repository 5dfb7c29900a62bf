/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_ventoy.h - Ventoy's hand-over to a booted ISO: the 512-byte
 * ventoy_os_param (Ventoy's own ventoy_os_param struct, its layout below),
 * the image location list, and the places they are found (the ACPI "VTOY"
 * table, the VentoyOsParam EFI variable, a scan of low memory), plus
 * matching the disk they describe.
 *
 * Kernel-clean, allocation-free and stateless: every function decodes a
 * caller-supplied buffer of a given length and never reads outside it.  The
 * byte-sum checksum is verified, every count is bounded by the buffer before
 * use, and the location list must cover the image contiguously from image
 * sector 0 with every region inside the disk.  A valid checksum proves
 * nothing against a forger: the caller still checks the result against the
 * disk (fmt_ventoy_disk_match) and the file system on it.
 *
 * Return values: 0 or a positive errno with detail in the optional diag:
 * EINVAL (bad checksum, signature or field, with what and the value),
 * ENOENT (scan: nothing found), ENOSPC (extent array too small: *nextents
 * says how many are needed).
 */
#ifndef LIVEROOT_FMT_VENTOY_H
#define LIVEROOT_FMT_VENTOY_H

#include "diag.h"
#include "fmt.h"
#include "fmt_fat.h"

#define FMT_VENTOY_PARAM_SIZE	512
#define FMT_VENTOY_ACPI_HDR	36
#define FMT_VENTOY_LOC_HDR	28	/* guid + 3 x u32 */
#define FMT_VENTOY_REGION_SIZE	16
#define FMT_VENTOY_MAXREGIONS	65536	/* sanity bound on a location list */
#define FMT_VENTOY_EFIVAR_NAME \
	"VentoyOsParam-77772020-2e77-6576-6e74-6f792e6e6574"

/* The GUID that starts os_param (and Ventoy's location list). */
extern const uint8_t fmt_ventoy_guid[16];

enum fmt_ventoy_fs {
	FMT_VENTOY_FS_EXFAT = 0,
	FMT_VENTOY_FS_NTFS = 1,
	FMT_VENTOY_FS_EXT = 2,
	FMT_VENTOY_FS_XFS = 3,
	FMT_VENTOY_FS_UDF = 4,
	FMT_VENTOY_FS_FAT = 5,
	FMT_VENTOY_FS_BTRFS = 6,
};

/*
 * Every field of ventoy_os_param, decoded.  Its 512 bytes, little-endian:
 * guid 0-15, checksum 16 (all 512 bytes sum to 0), disk guid 17-32, disk
 * size 33 (u64), partition 41 (u16), file system 43 (u16), image path
 * 45-428, image size 429 (u64), location list address 437 (u64) and length
 * 445 (u32), reserved 449-480, disk signature 481 (u32), the rest reserved.
 */
struct fmt_ventoy_param {
	uint8_t		guid[16];
	uint8_t		chksum;
	uint8_t		disk_guid[16];		/* = MBR bytes 0x180..0x18f */
	uint64_t	disk_size;		/* bytes */
	uint16_t	part;			/* partition number, from 1 */
	uint16_t	fs;			/* enum fmt_ventoy_fs */
	char		image_path[385];	/* UTF-8, NUL-ended */
	uint64_t	image_size;		/* bytes */
	uint64_t	loc_addr;		/* physical address, list */
	uint32_t	loc_len;		/* bytes of the list */
	uint8_t		reserved[32];
	uint32_t	disk_signature;		/* = MBR bytes 0x1b8..0x1bb */
};

/* A decoded location list header (regions stay in the caller's buffer). */
struct fmt_ventoy_loc {
	uint8_t		guid[16];
	uint32_t	img_sector_size;	/* 2048 */
	uint32_t	disk_sector_size;	/* 512 */
	uint32_t	nregions;
};

/* Name of an fs code ("exfat", ... "unknown"). */
const char *fmt_ventoy_fs_name(unsigned fs);

/* Decodes 512 bytes at buf: GUID and byte-sum checksum checked. */
int	fmt_ventoy_param_decode(const void *buf, size_t len,
	    struct fmt_ventoy_param *p, struct diag *d);

/*
 * Decodes a location list of len bytes (the region count bounded by len and
 * FMT_VENTOY_MAXREGIONS) into byte extents on the disk, adjacent regions
 * that are also adjacent on the disk coalesced.  The regions must start at
 * image sector 0, follow each other without gap or overlap, cover
 * image_size bytes (when not 0) and lie inside disk_size bytes (when not 0).
 * Fills at most max extents; *nextents is the number needed (ENOSPC).
 * The last extent is trimmed to image_size when that is given.
 */
int	fmt_ventoy_loc_decode(const void *buf, size_t len,
	    uint64_t image_size, uint64_t disk_size,
	    struct fmt_ventoy_loc *loc, struct fmt_extent *ext, size_t max,
	    size_t *nextents, struct diag *d);

/*
 * Checks an ACPI "VTOY" table (signature, length within len, checksum over
 * the whole table) and decodes the os_param that follows the 36-byte
 * header; *locp and *loclenp (may be NULL) get the location list after it.
 */
int	fmt_ventoy_acpi_decode(const void *buf, size_t len,
	    struct fmt_ventoy_param *p, const uint8_t **locp, size_t *loclenp,
	    struct diag *d);

/*
 * The EFI variable's contents as read from efivarfs: a 4-byte attribute
 * word, then os_param (and possibly more, ignored).
 */
int	fmt_ventoy_efivar_decode(const void *buf, size_t len,
	    struct fmt_ventoy_param *p, struct diag *d);

/*
 * Scans buf (e.g. physical 0x80000..0xA0000) at every byte offset for the
 * GUID followed by 496 bytes that complete a valid os_param; *off gets the
 * first match.  ENOENT when none.
 */
int	fmt_ventoy_scan(const void *buf, size_t len, size_t *off,
	    struct fmt_ventoy_param *p);

/*
 * True when the MBR (the disk's first 512 bytes) carries the disk id at
 * 0x180 and the signature at 0x1b8 that p names.
 */
bool	fmt_ventoy_disk_match(const struct fmt_ventoy_param *p,
	    const void *mbr, size_t len);

/* True when an opened FAT volume is Ventoy's "VTOYEFI" partition. */
bool	fmt_ventoy_is_vtoyefi(const struct fmt_fat *fs);

#endif
