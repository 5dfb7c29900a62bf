/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pack.h - an initramfs archive: the cpio "newc" format the Linux kernel
 * unpacks, built in memory, and its compression (zstd, gzip or none, the
 * ones a Debian kernel decompresses).  Userland (lib/pack).
 *
 * newc, as the kernel reads it (Documentation/driver-api/early-userspace/
 * buffer-format.rst): a 110-byte ASCII header "070701" and thirteen 8-digit
 * hex fields (ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
 * devminor, rdevmajor, rdevminor, namesize with its NUL, check), the name
 * and its NUL padded to 4 bytes, the data padded to 4 bytes; the entry
 * "TRAILER!!!" ends the archive.
 *
 * The archive is reproducible: owner root, mtime 0, inode numbers in the
 * order entries are added, a tree walked in sorted (alphasort) order, so
 * the same tree gives the same bytes.  A pack_cpio is used by one thread.
 */
#ifndef LIVEROOT_PACK_H
#define LIVEROOT_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct pack_cpio {
	unsigned char	*buf;		/* the archive so far (malloc'd) */
	size_t		 len;
	size_t		 cap;
	uint32_t	 ino;		/* the last inode number given */
};

void	pack_cpio_init(struct pack_cpio *c);
void	pack_cpio_free(struct pack_cpio *c);	/* the buffer; c reusable */
/*
 * Appends one entry: mode is st_mode (type and permissions); data (size
 * bytes) is a regular file's content or a symbolic link's target; rmajor/
 * rminor a device's number.  ENOMEM, EFBIG (over 4 GiB).
 */
int	pack_cpio_entry(struct pack_cpio *c, const char *name, uint32_t mode,
	    uint32_t nlink, const void *data, size_t size, uint32_t rmajor,
	    uint32_t rminor);
/*
 * Appends everything below the directory root, names relative to it
 * ("bin", "bin/busybox"): directories, regular files and symbolic links,
 * depth first in sorted order; devices, fifos and sockets are left out.
 */
int	pack_cpio_tree(struct pack_cpio *c, const char *root, struct diag *d);
/* The "TRAILER!!!" entry that ends an archive. */
int	pack_cpio_trailer(struct pack_cpio *c);

/* --- compression --------------------------------------------------------- */

struct pack_compressor {
	const char	*name;		/* "zstd", "gzip", "none" */
	/*
	 * *out is malloc'd; ENOMEM, EIO, EFBIG.  NULL for "none": the
	 * archive is used as it is.
	 */
	int		(*compress)(const unsigned char *in, size_t len,
			    unsigned char **out, size_t *olen);
};

/* The compressor of that name ("zstd", "gzip", "none"), or NULL. */
const struct pack_compressor *pack_compressor(const char *name);

#endif
