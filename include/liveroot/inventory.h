/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inventory.h - what is on a block device, as the probe sees it (lib/probe).
 *
 * Two parts.  The format table: every file system liveroot reads (ISO 9660,
 * exFAT, FAT12/16/32, ext2/3/4, NTFS) is one row with a cheap probe of the
 * first bytes of a volume (the lib/fmt *_probe functions: libarchive's bid)
 * and a strict open; probe_fs_open() tries the rows in order and opens the
 * first that claims the volume, and probe_fs_file() and probe_fs_list()
 * give a file's runs and a directory's entries whatever the format.  The
 * locate strategies use it; none of them needs a kernel mount.
 *
 * The inventory: one pass over a device that records its size, what is at
 * byte 0x8000, the partition table, each partition's (and the whole
 * device's) file system, label and markers, and the MBR sector.  `liveroot
 * inspect` prints it in full; probe_inventory_line() condenses it into the
 * one line the boot log and `locate` print for a device that did not hold
 * the image.  Nothing found and damaged structures are recorded, not errors.
 *
 * Userland: allocates; reads the device through the bdev stack (struct
 * bdev_src); never prints.  The device is borrowed.  Not thread-safe per
 * object; distinct calls are independent.
 */
#ifndef LIVEROOT_INVENTORY_H
#define LIVEROOT_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bdev.h"
#include "diag.h"
#include "fmt.h"
#include "fmt_part.h"

struct fmt_exfat;
struct fmt_ext4;
struct fmt_fat;
struct fmt_iso;
struct fmt_ntfs;

/* The rows of the format table, also usable as a mask. */
#define PROBE_FS_ISO9660	0x1
#define PROBE_FS_EXFAT		0x2
#define PROBE_FS_FAT		0x4
#define PROBE_FS_EXT4		0x8	/* ext2, ext3 and ext4 */
#define PROBE_FS_NTFS		0x10
#define PROBE_FS_ANY		0x1f
/* The file systems that hold ISO files (findiso, the Ventoy search). */
#define PROBE_FS_FILES		(PROBE_FS_EXFAT | PROBE_FS_FAT | \
				 PROBE_FS_EXT4 | PROBE_FS_NTFS)

/*
 * An open volume: obj is the parser's struct, and exactly one of the typed
 * views iso, ex, fat, e4, ntfs points at it.
 */
struct probe_fs {
	unsigned		 kind;		/* PROBE_FS_*, 0 when none */
	const char		*name;		/* "iso9660", "fat16", "ext4"... */
	const char		*label;		/* inside the open volume */
	void			*obj;
	struct fmt_iso		*iso;
	struct fmt_exfat	*ex;
	struct fmt_fat		*fat;
	struct fmt_ext4		*e4;
	struct fmt_ntfs		*ntfs;
};

/*
 * Probes src for the formats in kinds, in table order, and opens the first
 * that claims it.  ENOENT: none of them is there (not an error; also when
 * src is too small); another errno: a probe window could not be read, or the
 * format that claimed the volume refuses it (fs->kind and fs->name then say
 * which, fs holds nothing open; d says why).  src must outlive fs.
 */
int	probe_fs_open(struct probe_fs *fs, const struct fmt_src *src,
	    unsigned kinds, struct diag *d);
void	probe_fs_close(struct probe_fs *fs);

/*
 * A file of the open volume: its runs (malloc'd, *np of them) on the volume
 * and its size.  ENOENT or ENOTDIR when absent, EISDIR for a directory,
 * EINVAL for an exFAT file a driver would partly read as zeros
 * (ValidDataLength short of its size) or an ext2/3/4 file with holes or
 * unwritten extents, ENOTSUP for what a reader refuses by name (an inline,
 * encrypted or compressed file, a symbolic link), or the parser's error.
 */
int	probe_fs_file(struct probe_fs *fs, const char *path,
	    struct fmt_extent **extp, size_t *np, uint64_t *sizep,
	    struct diag *d);

/*
 * One entry of a listing: its name (UTF-8; ext2/3/4: the bytes as stored)
 * and the parser's own dirent (entsize bytes), which a caller may copy and
 * hand back to probe_fs_list() as a directory.
 */
struct probe_fs_dirent {
	const char	*name;
	bool		 is_dir;
	const void	*ent;
	size_t		 entsize;
};
typedef int (*probe_fs_list_fn)(void *arg, const struct probe_fs_dirent *e);

/*
 * Lists dir (NULL: the root; else a copy of a listed entry's ent) of the
 * open volume, which must not be ISO 9660 (ENOTSUP); cb non-zero stops the
 * listing (a positive value is returned).  The parser's errors otherwise.
 */
int	probe_fs_list(struct probe_fs *fs, const void *dir,
	    probe_fs_list_fn cb, void *arg, struct diag *d);

/* "exFAT, FAT12/16/32, ext2/3/4" for the rows in kinds, into buf. */
void	probe_fs_kinds_str(unsigned kinds, char *buf, size_t len);

/* --- the inventory of a device ------------------------------------------- */

#define PROBE_INV_MAXPARTS	128

/* What is in the 2048 bytes at 0x8000, where ISO 9660 starts. */
enum probe_vd {
	PROBE_VD_NONE,		/* too small, or unreadable there */
	PROBE_VD_ZEROS,
	PROBE_VD_OTHER,		/* data, but no "CD001" */
	PROBE_VD_CD001,
};

/* One volume: the whole device or a partition. */
struct probe_vol {
	const char	*fs;		/* as probe_fs.name; "fat" when a FAT
					   is damaged; NULL: none found */
	char		 label[64];
	bool		 rock_ridge;	/* ISO 9660 */
	bool		 joliet;	/* ISO 9660 */
	bool		 vtoyefi;	/* FAT labelled VTOYEFI (Ventoy's p2) */
	bool		 outside;	/* a partition not inside the device */
	int		 error;		/* with fs: damaged; else unreadable */
	char		 msg[DIAG_MSGLEN];
};

struct probe_inventory {
	uint64_t		 size;
	enum probe_vd		 vd;
	struct probe_vol	 whole;
	int			 pt_error;	/* fmt_part_open(): 0, ENOSPC,
						   ENOENT (none), EINVAL ... */
	char			 pt_msg[DIAG_MSGLEN];
	struct fmt_part_table	 pt;
	struct fmt_part		 parts[PROBE_INV_MAXPARTS];
	struct probe_vol	 vols[PROBE_INV_MAXPARTS];
	size_t			 nparts;	/* entries of parts and vols */
	bool			 mbr_ok;	/* mbr holds bytes 0..511 */
	uint8_t			 mbr[512];
};

/* 0, or ENOMEM (*out NULL).  Free with probe_inventory_free(). */
int	probe_inventory_take(struct bdev *dev, struct probe_inventory **out,
	    struct diag *d);
void	probe_inventory_free(struct probe_inventory *inv);

/* Partition 2 is the FAT "VTOYEFI": the Ventoy layout. */
bool	probe_inventory_ventoy(const struct probe_inventory *inv);
/* The MBR disk id (16 bytes at 0x180) an os_param must name, or NULL. */
const uint8_t *probe_inventory_disk_id(const struct probe_inventory *inv);

/*
 * One line: size, what is at 0x8000, partition table, each partition's fs
 * and label (the first 16), the MBR disk id.  Always NUL-terminates buf
 * (len > 0).
 */
void	probe_inventory_line(const struct probe_inventory *inv, char *buf,
	    size_t len);
/* The same for a device: take, line, free; 0 or an errno (then buf says). */
int	probe_describe_device(struct bdev *dev, char *buf, size_t len);

#endif
