/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_fat.c - the FAT12/16/32 reader over the raw input as a volume: probe,
 * open, then a bounded walk of the tree (depth and entry count capped so one
 * input stays fast) taking every entry's extent list, plus a few lookups.
 * Any result is fine; a crash, a hang or an over-read is not.
 */
#include <liveroot/fmt_fat.h>

#include "fz_tree.h"

FZ_TREE(fat)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *z = fz_start(data, size);
	struct fmt_fat_dirent e;
	struct diag d;
	size_t n;

	(void)fmt_fat_probe(data, size);
	if (fmt_fat_open(&z->fs, &z->src, &d) != 0)
		return (0);
	(void)fmt_fat_label_is(&z->fs, "VTOYEFI");
	(void)fmt_fat_list(&z->fs, NULL, fz_cb, z, &d);
	(void)fmt_fat_lookup(&z->fs, "/Sub/Deeper/x.bin", &e, &d);
	if (fmt_fat_lookup(&z->fs, "/A long file name.txt", &e, &d) == 0)
		(void)fmt_fat_extents(&z->fs, &e, NULL, 0, &n, NULL);
	return (0);
}
