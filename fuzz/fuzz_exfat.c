/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_exfat.c - the exFAT reader over the raw input as a volume: probe,
 * open (with the libc allocator, so the up-case table is read and freed),
 * then a bounded walk of the tree taking every entry's extent list, plus a
 * few lookups.  Any result is fine; a crash, a leak, a hang or an over-read
 * is not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_exfat.h>

#define FZ_MAXENT	256
#define FZ_MAXDEPTH	4

struct fz {
	struct fmt_mem	mem;
	struct fmt_exfat fs;
	int		seen;
	int		depth;
};

static int
fz_cb(void *arg, const struct fmt_exfat_dirent *e)
{
	struct fz *z = arg;
	struct fmt_extent ext[16];
	struct diag d;
	size_t n;

	if (++z->seen > FZ_MAXENT)
		return (1);
	(void)fmt_exfat_extents(&z->fs, e, ext, 16, &n, &d);
	if (e->is_dir && z->depth < FZ_MAXDEPTH) {
		struct fmt_exfat_dirent *sub = malloc(sizeof(*sub));

		*sub = *e;
		z->depth++;
		(void)fmt_exfat_list(&z->fs, sub, fz_cb, z, &d);
		z->depth--;
		free(sub);
	}
	return (0);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz z;
	static struct fmt_exfat_dirent e;
	struct fmt_src src;
	struct diag d;
	size_t n;

	memset(&z, 0, sizeof(z));
	fmt_mem_src(&src, &z.mem, data, size);
	(void)fmt_exfat_probe(data, size);
	if (fmt_exfat_open(&z.fs, &src, &lr_libc_allocator, &d) != 0)
		return (0);
	(void)fmt_exfat_list(&z.fs, NULL, fz_cb, &z, &d);
	(void)fmt_exfat_lookup(&z.fs, "/sub/Inner.txt", &e, &d);
	if (fmt_exfat_lookup(&z.fs, "chain.bin", &e, &d) == 0)
		(void)fmt_exfat_extents(&z.fs, &e, NULL, 0, &n, NULL);
	fmt_exfat_close(&z.fs);
	return (0);
}
