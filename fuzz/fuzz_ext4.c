/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_ext4.c - the ext2/3/4 reader over the raw input as a volume: probe,
 * open, then a bounded walk of the tree taking every entry's extent list
 * (fz_tree.h), plus a few lookups and the extents of what they find.  Any
 * result is fine; a crash, a leak, a hang or an over-read is not.
 */
#include <liveroot/fmt_ext4.h>

#include "fz_tree.h"

FZ_TREE(ext4)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = { "/a/b/c.txt", "/x.iso",
	    "/sub/file_number_042", "/sub" };
	struct fz *z = fz_start(data, size);
	static struct fmt_ext4_dirent e;
	struct diag d;
	size_t i, n;

	(void)fmt_ext4_probe(data, size);
	if (fmt_ext4_open(&z->fs, &z->src, &d) != 0)
		return (0);
	(void)fmt_ext4_list(&z->fs, NULL, fz_cb, z, &d);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (fmt_ext4_lookup(&z->fs, paths[i], &e, &d) == 0)
			(void)fmt_ext4_extents(&z->fs, &e, NULL, 0, &n, NULL);
	(void)fmt_ext4_inode(&z->fs, 11, &e, &d);
	fmt_ext4_close(&z->fs);
	return (0);
}
