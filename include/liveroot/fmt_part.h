/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_part.h - MBR and GPT partition tables, read-only.
 *
 * Kernel-clean and allocation-free: the caller owns the struct
 * fmt_part_table (it embeds a 4 KB sector buffer) and an array of struct
 * fmt_part with a capacity; the medium is a struct fmt_src.
 *
 * What fmt_part_open() does:
 *  - MBR: 0x55AA at 510, four entries at 446; a 0xEE entry marks a
 *    protective (or hybrid) MBR; extended partitions (0x05, 0x0F, 0x85) are
 *    followed as a chain of at most FMT_PART_MAXLOGICAL EBRs, logical
 *    partitions numbered from 5 as Linux and FreeBSD do.
 *  - GPT: "EFI PART" at LBA 1 with 512-byte, then 4096-byte sectors.  The
 *    header size is bounded (92..sector size) and its CRC checked with the
 *    CRC field zeroed; the entry size (a multiple of 128, at most
 *    FMT_GPT_MAXENTSIZE) and the table size (count*size <= FMT_GPT_MAXTABLE)
 *    are bounded BEFORE anything is read; the entries' CRC is checked; every
 *    used entry's first/last LBA must lie inside the disk.  When the primary
 *    header or its table is damaged the backup header (the primary's
 *    alternate-LBA field if the primary header itself is intact, else the
 *    last LBA) is used and the table says so (gpt_backup_used + note).
 *  - As on Linux and FreeBSD, a GPT is looked for only when the MBR has a
 *    0xEE entry (protective or hybrid) or there is no MBR signature at all;
 *    so a stale GPT behind a plain MBR is ignored.  A valid GPT then wins
 *    (a hybrid MBR's other entries are not listed).  Without a valid GPT,
 *    an MBR with a 0xEE entry is EINVAL (the GPT is damaged beyond its
 *    backup); other MBRs are listed.
 *
 * Partitions are numbered as the OS names them (GPT: entry number + 1;
 * MBR: slot 1..4, logicals 5..).  Start and length are in bytes.
 *
 * Returns 0, ENOENT (no partition table: not an error for a prober), EINVAL
 * (damaged table, with a diag naming the field), ENOSPC (more partitions
 * than cap: t->nparts says how many there are, parts[0..cap) is filled), or
 * an errno from the read callback.
 */
#ifndef LIVEROOT_FMT_PART_H
#define LIVEROOT_FMT_PART_H

#include "diag.h"
#include "fmt.h"

#define FMT_PART_MAXLOGICAL	128	/* EBRs followed at most */
#define FMT_GPT_MAXENTSIZE	4096	/* bytes of one GPT entry */
#define FMT_GPT_MAXTABLE	(1u << 20)	/* bytes of the GPT entry array */
#define FMT_PART_NAMELEN	(36 * 3 + 1)	/* UTF-8 of 36 UTF-16 units */

enum fmt_part_scheme {
	FMT_PART_NONE = 0,
	FMT_PART_MBR,
	FMT_PART_GPT,
};

struct fmt_part {
	uint32_t	index;		/* from 1, as the OS numbers it */
	uint64_t	start;		/* bytes from the start of the medium */
	uint64_t	length;		/* bytes */
	uint8_t		mbr_type;	/* MBR: the type byte; GPT: 0 */
	bool		bootable;	/* MBR: status 0x80; GPT: legacy bit 2 */
	uint8_t		type_guid[16];	/* GPT: on-disk byte order */
	uint8_t		uuid[16];	/* GPT: unique partition GUID */
	uint64_t	attrs;		/* GPT attributes */
	const char	*type_name;	/* "EFI system", ...; NULL if unknown */
	char		name[FMT_PART_NAMELEN];	/* GPT name, UTF-8; MBR: "" */
};

struct fmt_part_table {
	enum fmt_part_scheme scheme;
	uint32_t	sector_size;	/* 512 or 4096 (GPT found there) */
	uint64_t	disk_sectors;
	bool		protective;	/* MBR has a 0xEE entry */
	bool		gpt_backup_used;
	uint32_t	mbr_disk_sig;	/* MBR @0x1B8 */
	uint8_t		disk_guid[16];	/* GPT */
	uint32_t	nparts;		/* partitions found (may exceed cap) */
	char		note[DIAG_MSGLEN];	/* why the backup was used */
	uint8_t		buf[4096];	/* scratch */
};

/* Cheap: 0x55AA at 510 and four plausible MBR entries (status 0/0x80). */
bool	fmt_part_probe(const void *buf, size_t len);

int	fmt_part_open(const struct fmt_src *src, struct fmt_part_table *t,
	    struct fmt_part *parts, size_t cap, struct diag *d);

/* "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" from on-disk bytes; out[37]. */
void	fmt_guid_str(const uint8_t g[16], char out[37]);

/* A short name for a known type ("EFI system"), or NULL. */
const char *fmt_gpt_type_name(const uint8_t g[16]);
const char *fmt_mbr_type_name(uint8_t type);

#endif
