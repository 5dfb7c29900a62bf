/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_exfat.c - the exFAT reader over the raw input as a volume: probe,
 * open (with the libc allocator, so the up-case table is read and freed),
 * then a bounded walk of the tree taking every entry's extent list, plus a
 * few lookups.  Any result is fine; a crash, a leak, a hang or an over-read
 * is not.
 */
#include <liveroot/fmt_exfat.h>

#include "fz_tree.h"

FZ_TREE(exfat)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *z = fz_start(data, size);
	static struct fmt_exfat_dirent e;
	struct diag d;
	size_t n;

	(void)fmt_exfat_probe(data, size);
	if (fmt_exfat_open(&z->fs, &z->src, &lr_libc_allocator, &d) != 0)
		return (0);
	(void)fmt_exfat_list(&z->fs, NULL, fz_cb, z, &d);
	(void)fmt_exfat_lookup(&z->fs, "/sub/Inner.txt", &e, &d);
	if (fmt_exfat_lookup(&z->fs, "chain.bin", &e, &d) == 0)
		(void)fmt_exfat_extents(&z->fs, &e, NULL, 0, &n, NULL);
	fmt_exfat_close(&z->fs);
	return (0);
}
