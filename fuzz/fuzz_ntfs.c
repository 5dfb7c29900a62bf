/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_ntfs.c - the NTFS reader over a volume made from the input: probe,
 * open without an allocator (ASCII folding) and with the libc allocator
 * ($UpCase and a long $MFT runlist allocated and freed), a bounded walk of
 * the tree taking every entry's extent list, a few lookups.  Any result is
 * fine; a crash, a leak, a hang or an over-read is not.
 *
 * An NTFS volume is megabytes of mostly unread bytes, so an input may be
 * packed: "NTFZ", a little-endian u32 count N, N u32 numbers of 512-byte
 * blocks, then the N blocks; every other byte of the volume is zero and it
 * is as large as its boot sector says (at most 1 GiB).  Any other input is
 * the volume itself.  test_ntfs writes packed seeds from real mkntfs
 * volumes (the blocks the reader touched), so mutations land on MFT
 * records and index blocks.
 */
#include <liveroot/fmt_ntfs.h>
#include <liveroot/util.h>

#include "fz_tree.h"

FZ_TREE(ntfs)

#define NZ_BLK		512u
#define NZ_MAXBLK	65536u
#define NZ_MAXVOL	(1ull << 30)

struct nz {
	const uint8_t	*map;		/* N u32 block numbers */
	const uint8_t	*blocks;	/* N blocks */
	uint32_t	n;
};

static int
nz_read(void *arg, void *buf, size_t len, uint64_t off, struct diag *d)
{
	const struct nz *z = arg;
	uint8_t *b = buf;
	uint64_t blk, o;
	size_t k, i;
	uint32_t j;

	(void)d;
	memset(buf, 0, len);
	for (i = 0; i < len; i += k) {
		blk = (off + i) / NZ_BLK;
		o = (off + i) % NZ_BLK;
		k = LR_MIN(len - i, NZ_BLK - o);
		for (j = 0; j < z->n; j++)
			if (lr_le32dec(z->map + 4 * j) == blk) {
				memcpy(b + i, z->blocks + (size_t)j * NZ_BLK +
				    o, k);
				break;
			}
	}
	return (0);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *z = fz_start(data, size);
	static struct fmt_ntfs_dirent e;
	static struct nz nz;
	uint8_t boot[NZ_BLK];
	uint64_t vol, top = 0;
	struct diag d;
	size_t n;
	uint32_t j;
	int pass;

	if (size >= 8 && memcmp(data, "NTFZ", 4) == 0) {
		nz.n = lr_le32dec(data + 4);
		if (nz.n == 0 || nz.n > NZ_MAXBLK ||
		    (size - 8) / (4 + NZ_BLK) < nz.n)
			return (0);
		nz.map = data + 8;
		nz.blocks = nz.map + 4 * (size_t)nz.n;
		for (j = 0; j < nz.n; j++)
			top = LR_MAX(top, lr_le32dec(nz.map + 4 * j) + 1ull);
		z->src.read = nz_read;
		z->src.arg = &nz;
		(void)nz_read(&nz, boot, sizeof(boot), 0, NULL);
		vol = lr_le64dec(boot + 0x28) * lr_le16dec(boot + 0x0b);
		z->src.size = LR_MIN(LR_MAX(vol, top * NZ_BLK), NZ_MAXVOL);
	}
	(void)fmt_ntfs_probe(data, size);
	for (pass = 0; pass < 2; pass++) {
		if (fmt_ntfs_open(&z->fs, &z->src, pass == 0 ? NULL :
		    &lr_libc_allocator, &d) != 0)
			return (0);
		z->seen = 0;
		(void)fmt_ntfs_list(&z->fs, NULL, fz_cb, z, &d);
		(void)fmt_ntfs_lookup(&z->fs, "/iso dir/sub dir/x y.iso", &e,
		    &d);
		if (fmt_ntfs_lookup(&z->fs, "/frag/frag.bin", &e, &d) == 0)
			(void)fmt_ntfs_extents(&z->fs, &e, NULL, 0, &n, NULL);
		fmt_ntfs_close(&z->fs);
	}
	return (0);
}
