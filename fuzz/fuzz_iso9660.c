/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_iso9660.c - the ISO 9660 reader over a medium whose first 32 KB (the
 * system area, never parsed) are zeros and whose bytes from 0x8000 on are
 * the input: so seeds stay small and every mutation lands on descriptors,
 * directories or system-use areas.  Opens with each naming choice, walks the
 * whole tree (the reader bounds it), looks every entry up again by its path
 * and reads a few bytes of it.  Any result is fine; a crash, a hang or an
 * over-read is not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_iso9660.h>

#define FZ_SYSAREA	0x8000
#define FZ_MAXENT	512

struct fz {
	const uint8_t	*data;
	size_t		size;
	struct fmt_iso	iso;
	int		seen;
};

static int
fz_read(void *arg, void *buf, size_t len, uint64_t off)
{
	struct fz *z = arg;
	uint8_t *b = buf;
	size_t k;

	if (off > FZ_SYSAREA + (uint64_t)z->size ||
	    len > FZ_SYSAREA + z->size - off)
		return (EIO);
	if (off < FZ_SYSAREA) {
		k = (size_t)(FZ_SYSAREA - off) < len ?
		    (size_t)(FZ_SYSAREA - off) : len;
		memset(b, 0, k);
		b += k;
		len -= k;
		off += k;
	}
	if (len > 0)
		memcpy(b, z->data + (off - FZ_SYSAREA), len);
	return (0);
}

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
	uint8_t *probe;
	int i;

	if ((z = calloc(1, sizeof(*z))) == NULL)
		return (0);
	z->data = data;
	z->size = size;
	src.read = fz_read;
	src.arg = z;
	src.size = FZ_SYSAREA + (uint64_t)size;
	if ((probe = calloc(1, FZ_SYSAREA + size)) != NULL) {
		memcpy(probe + FZ_SYSAREA, data, size);
		(void)fmt_iso_probe(probe, FZ_SYSAREA + size);
		free(probe);
	}
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
	free(z);
	return (0);
}
