/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_fat.c - the FAT12/16/32 reader over the raw input as a volume: probe,
 * open, then a bounded walk of the tree (depth and entry count capped so one
 * input stays fast) taking every entry's extent list, plus a few lookups.
 * Any result is fine; a crash, a hang or an over-read is not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_fat.h>

#define FZ_MAXENT	256
#define FZ_MAXDEPTH	4

struct fz {
	struct fmt_mem	mem;
	struct fmt_fat	fs;
	int		seen;
	int		depth;
};

static int
fz_cb(void *arg, const struct fmt_fat_dirent *e)
{
	struct fz *z = arg;
	struct fmt_extent ext[16];
	struct diag d;
	size_t n;

	if (++z->seen > FZ_MAXENT)
		return (1);
	(void)fmt_fat_extents(&z->fs, e, ext, 16, &n, &d);
	if (e->is_dir && z->depth < FZ_MAXDEPTH) {
		struct fmt_fat_dirent sub = *e;

		z->depth++;
		(void)fmt_fat_list(&z->fs, &sub, fz_cb, z, &d);
		z->depth--;
	}
	return (0);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz z;
	struct fmt_fat_dirent e;
	struct fmt_src src;
	struct diag d;
	size_t n;

	memset(&z, 0, sizeof(z));
	fmt_mem_src(&src, &z.mem, data, size);
	(void)fmt_fat_probe(data, size);
	if (fmt_fat_open(&z.fs, &src, &d) != 0)
		return (0);
	(void)fmt_fat_label_is(&z.fs, "VTOYEFI");
	(void)fmt_fat_list(&z.fs, NULL, fz_cb, &z, &d);
	(void)fmt_fat_lookup(&z.fs, "/Sub/Deeper/x.bin", &e, &d);
	if (fmt_fat_lookup(&z.fs, "/A long file name.txt", &e, &d) == 0)
		(void)fmt_fat_extents(&z.fs, &e, NULL, 0, &n, NULL);
	return (0);
}
