/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ext4_clamp.c - the time stamps of a fresh rootfs.ext4 made independent
 * of when the tree was unpacked, for a reproducible build.
 *
 * `mke2fs -d` (e2fsprogs 1.47.0, Debian 12) copies each file's atime,
 * ctime and mtime from the tree; ctime and atime change whenever the tree
 * is unpacked or read, and mke2fs has no SOURCE_DATE_EPOCH.  So after it,
 * every in-use inode gets mtime = min(mtime, epoch) and atime = ctime =
 * crtime = that mtime, nanoseconds 0 where clamped, and its metadata_csum
 * checksum recomputed.  Only inode tables are written; bitmaps, group
 * descriptors and their checksums do not cover time stamps.
 *
 * Layout (the kernel's Documentation/filesystems/ext4): the superblock at
 * byte 1024, group descriptors in the block after it, 32 or s_desc_size
 * bytes; the inode checksum is CRC-32C (no final inversion) seeded with
 * crc32c(~0, uuid) (or s_checksum_seed), then inode number and generation,
 * over the inode with its two checksum halves read as zero.  CRC-32C is
 * twenty lines here: no library the project links (zlib, OpenSSL's EVP,
 * libzstd) offers it.  Every count and offset is bounded by the image's
 * size before use; the image is the one mke2fs just made, but a surprise
 * is an error, not a guess.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mklive_int.h"

#define SB_OFF		1024
#define EXT4_MAGIC	0xEF53
#define RO_METADATA_CSUM 0x400
#define INCOMPAT_64BIT	0x80
#define INCOMPAT_CSUM_SEED 0x2000
#define BG_INODE_UNINIT	0x1

static uint32_t crc32c_table[256];

static void
crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc32c_table[i] = c;
	}
}

static uint32_t
crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len-- > 0)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return (crc);
}

static uint16_t
le16(const uint8_t *p)
{
	return ((uint16_t)(p[0] | p[1] << 8));
}

static uint32_t
le32(const uint8_t *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int
pread_all(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n;

	while (len > 0) {
		if ((n = pread(fd, buf, len, off)) <= 0)
			return (n == 0 ? EIO : errno);
		buf = (uint8_t *)buf + n;
		len -= (size_t)n;
		off += n;
	}
	return (0);
}

static int
pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n;

	while (len > 0) {
		if ((n = pwrite(fd, buf, len, off)) <= 0)
			return (n == 0 ? EIO : errno);
		buf = (const uint8_t *)buf + n;
		len -= (size_t)n;
		off += n;
	}
	return (0);
}

struct clamp {
	uint32_t	epoch;
	uint16_t	isize;
	int		csum;
	uint32_t	seed;
};

/* One inode: times clamped, checksum redone.  1 when it changed. */
static int
clamp_inode(const struct clamp *c, uint8_t *in, uint32_t ino)
{
	uint16_t extra = c->isize > 128 ? le16(in + 0x80) : 0;
	uint32_t mtime = le32(in + 0x10), t, crc;
	uint8_t save[160], zero[2] = { 0, 0 }, num[4];
	int hi = c->isize > 128 && extra >= 4;	/* i_checksum_hi fits */

	memcpy(save, in, c->isize < sizeof(save) ? c->isize : sizeof(save));
	if (le16(in) == 0 && le16(in + 0x1A) == 0)
		return (0);			/* not in use */
	t = mtime > c->epoch ? c->epoch : mtime;
	put32(in + 0x08, t);			/* atime */
	put32(in + 0x0C, t);			/* ctime */
	put32(in + 0x10, t);			/* mtime */
	if (extra >= 0x0C) {		/* ctime_extra, mtime_extra */
		uint32_t mx = mtime > c->epoch ? 0 : le32(in + 0x88);

		put32(in + 0x84, mx);
		put32(in + 0x88, mx);
	}
	if (extra >= 0x10)
		put32(in + 0x8C, mtime > c->epoch ? 0 : le32(in + 0x88));
	if (extra >= 0x18) {		/* crtime, crtime_extra */
		put32(in + 0x90, t);
		put32(in + 0x94, mtime > c->epoch ? 0 : le32(in + 0x88));
	}
	if (c->csum) {
		put32(num, ino);
		crc = crc32c(c->seed, num, 4);
		crc = crc32c(crc, in + 0x64, 4);	/* i_generation */
		crc = crc32c(crc, in, 0x7C);
		crc = crc32c(crc, zero, 2);
		crc = crc32c(crc, in + 0x7E, 128 - 0x7E);
		if (c->isize > 128) {
			crc = crc32c(crc, in + 128, 0x82 - 128);
			if (hi) {
				crc = crc32c(crc, zero, 2);
				crc = crc32c(crc, in + 0x84, c->isize - 0x84u);
			} else
				crc = crc32c(crc, in + 0x82, c->isize - 0x82u);
		}
		put16(in + 0x7C, (uint16_t)crc);
		if (hi)
			put16(in + 0x82, (uint16_t)(crc >> 16));
	}
	return (memcmp(save, in, c->isize < sizeof(save) ? c->isize :
	    sizeof(save)) != 0);
}

int
mk_ext4_clamp(const char *img, uint32_t epoch, struct diag *d)
{
	uint8_t sb[1024], *gd = NULL, *tab = NULL;
	struct clamp c;
	struct stat st;
	uint64_t bsize, ngroups, blocks, gdoff, tbl, tlen, ipg, first;
	uint32_t incompat, dsize;
	int fd, e = 0;

	if (crc32c_table[1] == 0)
		crc32c_init();
	if ((fd = open(img, O_RDWR)) < 0)
		return (diag_set(d, errno, "%s: %s", img, strerror(errno)));
	if (fstat(fd, &st) != 0 || (e = pread_all(fd, sb, sizeof(sb),
	    SB_OFF)) != 0) {
		e = diag_set(d, e ? e : errno, "%s: reading its superblock",
		    img);
		goto out;
	}
	if (le16(sb + 0x38) != EXT4_MAGIC || le32(sb + 0x18) > 6) {
		e = diag_set(d, EINVAL, "%s: not the ext4 image mke2fs made",
		    img);
		goto out;
	}
	bsize = 1024ULL << le32(sb + 0x18);
	blocks = le32(sb + 0x04);
	incompat = le32(sb + 0x60);
	if (incompat & INCOMPAT_64BIT)
		blocks |= (uint64_t)le32(sb + 0x150) << 32;
	dsize = (incompat & INCOMPAT_64BIT) ? le16(sb + 0xFE) : 32;
	ipg = le32(sb + 0x28);
	first = le32(sb + 0x14);
	c.epoch = epoch;
	c.isize = le32(sb + 0x4C) == 0 ? 128 : le16(sb + 0x58);
	c.csum = (le32(sb + 0x64) & RO_METADATA_CSUM) != 0;
	if (le32(sb + 0x20) == 0 || ipg == 0 || ipg > 1u << 20 ||
	    dsize < 32 || dsize > 1024 || c.isize < 128 || c.isize > bsize ||
	    (c.isize & (c.isize - 1)) != 0 || blocks * bsize >
	    (uint64_t)st.st_size) {
		e = diag_set(d, EINVAL, "%s: superblock counts out of range",
		    img);
		goto out;
	}
	if (incompat & INCOMPAT_CSUM_SEED)
		c.seed = le32(sb + 0x270);
	else
		c.seed = crc32c(~0u, sb + 0x68, 16);
	ngroups = (blocks - first + le32(sb + 0x20) - 1) / le32(sb + 0x20);
	gdoff = (first + 1) * bsize;
	if (ngroups == 0 || ngroups > (1u << 24) || gdoff + ngroups * dsize >
	    (uint64_t)st.st_size) {
		e = diag_set(d, EINVAL, "%s: group descriptors out of range",
		    img);
		goto out;
	}
	tlen = ipg * c.isize;
	if ((gd = malloc(ngroups * dsize)) == NULL ||
	    (tab = malloc(tlen)) == NULL) {
		e = diag_set(d, ENOMEM, "%s: out of memory", img);
		goto out;
	}
	if ((e = pread_all(fd, gd, ngroups * dsize, (off_t)gdoff)) != 0) {
		e = diag_set(d, e, "%s: reading its group descriptors", img);
		goto out;
	}
	for (uint64_t g = 0; g < ngroups && e == 0; g++) {
		const uint8_t *de = gd + g * dsize;
		int dirty = 0;

		if (le16(de + 0x12) & BG_INODE_UNINIT)
			continue;
		tbl = le32(de + 0x08);
		if (dsize >= 64)
			tbl |= (uint64_t)le32(de + 0x28) << 32;
		if (tbl == 0 || tbl >= blocks || (tbl * bsize + tlen) >
		    (uint64_t)st.st_size) {
			e = diag_set(d, EINVAL, "%s: group %ju: inode table "
			    "out of range", img, (uintmax_t)g);
			break;
		}
		if ((e = pread_all(fd, tab, tlen, (off_t)(tbl * bsize))) != 0) {
			e = diag_set(d, e, "%s: reading an inode table", img);
			break;
		}
		for (uint64_t i = 0; i < ipg; i++)
			dirty |= clamp_inode(&c, tab + i * c.isize,
			    (uint32_t)(g * ipg + i + 1));
		if (dirty && (e = pwrite_all(fd, tab, tlen,
		    (off_t)(tbl * bsize))) != 0)
			e = diag_set(d, e, "%s: writing an inode table: %s",
			    img, strerror(e));
	}
	if (e == 0 && fsync(fd) != 0)
		e = diag_set(d, errno, "%s: %s", img, strerror(errno));
out:
	free(gd);
	free(tab);
	close(fd);
	return (e);
}
