/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_iso9660.c - the ISO 9660 reader over a medium in memory (fmt_mem)
 * whose first 32 KB (the system area, never parsed) are zeros and whose
 * bytes from 0x8000 on are the input: so seeds stay small and every
 * mutation lands on descriptors, directories or system-use areas.  Opens
 * with each naming choice, walks the whole tree (the reader bounds it),
 * looks every entry up again by its path and reads a few bytes of it.  Any
 * result is fine; a crash, a hang or an over-read is not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_iso9660.h>

#define FZ_SYSAREA	0x8000
#define FZ_MAXENT	512

struct fz {
	struct fmt_mem	mem;
	struct fmt_iso	iso;
	int		seen;
};

static int
fz_cb(void *arg, const char *path, const struct fmt_iso_dirent *e)
{
	struct fz *z = arg;
	struct fmt_iso_dirent e2;
	struct fmt_extent ext[8];
	struct diag d;
	uint8_t buf[64];

	if (++z->seen > FZ_MAXENT)
		return (1);
	if (fmt_iso_lookup(&z->iso, path, &e2, ext, 8, &d) == 0 &&
	    !e2.is_dir && e2.size > 0)
		(void)fmt_iso_read_extents(&z->iso.src, ext, e2.nextents, buf,
		    e2.size < sizeof(buf) ? (size_t)e2.size : sizeof(buf),
		    e2.size > sizeof(buf) ? e2.size - sizeof(buf) : 0, &d);
	return (0);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int flags[3] = { 0, FMT_ISO_NORR,
	    FMT_ISO_NORR | FMT_ISO_NOJOLIET };
	struct fz *z;
	struct fmt_src src;
	struct fmt_iso_dirent e;
	struct fmt_extent ext[4];
	struct diag d;
	uint8_t *medium;
	int i;

	if ((z = calloc(1, sizeof(*z))) == NULL)
		return (0);
	if ((medium = calloc(1, FZ_SYSAREA + size)) == NULL) {
		free(z);
		return (0);
	}
	memcpy(medium + FZ_SYSAREA, data, size);
	fmt_mem_src(&src, &z->mem, medium, FZ_SYSAREA + size);
	(void)fmt_iso_probe(medium, FZ_SYSAREA + size);
	for (i = 0; i < 3; i++) {
		if (fmt_iso_open(&z->iso, &src, flags[i], &d) != 0)
			break;
		z->seen = 0;
		(void)fmt_iso_walk(&z->iso, "/", fz_cb, z, &d);
		(void)fmt_iso_list(&z->iso, "/", fz_cb, z, &d);
		(void)fmt_iso_lookup(&z->iso, "/boot/kernel/kernel", &e, ext, 4,
		    &d);
		(void)fmt_iso_lookup(&z->iso, "a/b/../c", &e, NULL, 0, &d);
	}
	free(medium);
	free(z);
	return (0);
}
