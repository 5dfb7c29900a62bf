/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fatcat - a test driver for the FAT, exFAT and Ventoy parsers over plain
 * files, used by fat_exfat.sh.  Not installed.
 *
 *   fatcat IMAGE label|type          the volume's label / "fat12".."exfat"
 *   fatcat IMAGE ls PATH             one line per entry: d|f size name
 *   fatcat IMAGE cat PATH            the file's bytes (read via its extents)
 *   fatcat IMAGE extents PATH        one line per extent: offset length
 *   fatcat IMAGE info PATH           nofatchain / valid size (exFAT)
 *   fatcat FILE ventoy-acpi|ventoy-param|ventoy-efivar|ventoy-scan
 *                                    os_param fields and the image extents
 *
 * The image is read as the probe reads a device (a file bdev through the
 * library's bdev_src adapter) and told FAT or exFAT by the format table
 * (probe_fs_open).  Exit 0 ok, 1 not found, 2 error (message on stderr).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/bdev.h>
#include <liveroot/fmt_exfat.h>
#include <liveroot/fmt_fat.h>
#include <liveroot/fmt_ventoy.h>
#include <liveroot/inventory.h>

static int
fail(int error, const struct diag *d)
{
	fprintf(stderr, "fatcat: %s\n", d->msg[0] ? d->msg : strerror(error));
	return (error == ENOENT ? 1 : 2);
}

static int
fat_ls_cb(void *arg, const struct fmt_fat_dirent *e)
{
	printf("%c %u %s\n", e->is_dir ? 'd' : 'f', e->size, e->name);
	return (0);
}

static int
exfat_ls_cb(void *arg, const struct fmt_exfat_dirent *e)
{
	printf("%c %" PRIu64 " %s\n", e->is_dir ? 'd' : 'f', e->size,
	    e->name);
	return (0);
}

static int
cat_extents(struct bdev *dev, const struct fmt_extent *ext, size_t n,
    uint64_t valid)
{
	static char buf[1 << 16];
	uint64_t pos = 0, o, k;
	struct diag d;
	size_t i;
	int error;

	for (i = 0; i < n; i++) {
		for (o = 0; o < ext[i].len; o += k) {
			k = ext[i].len - o < sizeof(buf) ? ext[i].len - o :
			    sizeof(buf);
			if ((error = bdev_read(dev, buf, k, ext[i].off + o,
			    &d)) != 0)
				return (fail(error, &d));
			if (pos + k > valid) {
				uint64_t z = pos >= valid ? 0 : valid - pos;

				memset(buf + z, 0, k - z);
			}
			fwrite(buf, 1, k, stdout);
			pos += k;
		}
	}
	return (0);
}

static int
print_ext(const struct fmt_extent *ext, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%" PRIu64 " %" PRIu64 "\n", ext[i].off, ext[i].len);
	return (0);
}

static int
do_ventoy(const char *verb, const uint8_t *b, size_t len)
{
	struct fmt_ventoy_param p;
	struct fmt_ventoy_loc loc;
	static struct fmt_extent ext[4096];
	struct diag d;
	const uint8_t *lb = NULL;
	size_t ll = 0, n, off;
	int error;

	diag_clear(&d);
	if (strcmp(verb, "ventoy-acpi") == 0)
		error = fmt_ventoy_acpi_decode(b, len, &p, &lb, &ll, &d);
	else if (strcmp(verb, "ventoy-efivar") == 0)
		error = fmt_ventoy_efivar_decode(b, len, &p, &d);
	else if (strcmp(verb, "ventoy-scan") == 0) {
		error = fmt_ventoy_scan(b, len, &off, &p);
		if (error == 0) {
			printf("offset %zu\n", off);
			lb = b + off + FMT_VENTOY_PARAM_SIZE;
			ll = len - off - FMT_VENTOY_PARAM_SIZE;
		}
	} else {
		error = fmt_ventoy_param_decode(b, len, &p, &d);
		lb = b + FMT_VENTOY_PARAM_SIZE;
		ll = len > FMT_VENTOY_PARAM_SIZE ? len - FMT_VENTOY_PARAM_SIZE :
		    0;
	}
	if (error != 0)
		return (fail(error, &d));
	printf("path %s\nsize %" PRIu64 "\ndisk_size %" PRIu64 "\npart %u\n"
	    "fs %s\nsignature %08x\n", p.image_path, p.image_size,
	    p.disk_size, p.part, fmt_ventoy_fs_name(p.fs), p.disk_signature);
	if (ll == 0)
		return (0);
	error = fmt_ventoy_loc_decode(lb, ll, p.image_size, p.disk_size, &loc,
	    ext, 4096, &n, &d);
	if (error != 0)
		return (fail(error, &d));
	return (print_ext(ext, n));
}

int
main(int argc, char **argv)
{
	/* static, so the helper needs no frees (LeakSanitizer) */
	static struct bdev *dev;
	static struct bdev_src src;
	static struct probe_fs fs;
	static uint8_t big[1 << 20];
	struct fmt_fat_dirent fe;
	struct fmt_exfat_dirent xe;
	struct fmt_extent *ext;
	struct diag d;
	const char *verb, *path;
	size_t n;
	int error, isex;

	if (argc < 3) {
		fprintf(stderr, "usage: fatcat IMAGE label|type|ls|cat|"
		    "extents|info [PATH]\n");
		return (2);
	}
	verb = argv[2];
	path = argc > 3 ? argv[3] : "/";
	diag_clear(&d);
	if ((error = bdev_file_open(argv[1], BDEV_FILE_RDONLY, 0, &dev,
	    &d)) != 0)
		return (fail(error, &d));
	if (strncmp(verb, "ventoy-", 7) == 0) {
		n = bdev_size(dev) < sizeof(big) ? (size_t)bdev_size(dev) :
		    sizeof(big);
		if ((error = bdev_read(dev, big, n, 0, &d)) != 0)
			return (fail(error, &d));
		return (do_ventoy(verb, big, n));
	}
	if (bdev_size(dev) < 512) {
		fprintf(stderr, "fatcat: %s: too short\n", argv[1]);
		return (2);
	}
	bdev_src_init(&src, dev, 1);
	error = probe_fs_open(&fs, &src.src, PROBE_FS_FAT | PROBE_FS_EXFAT,
	    &d);
	if (error == ENOENT && fs.kind == 0) {
		fprintf(stderr, "fatcat: %s: neither FAT nor exFAT\n", argv[1]);
		return (2);
	}
	if (error != 0)
		return (fail(error, &d));
	isex = fs.ex != NULL;
	if (strcmp(verb, "label") == 0) {
		printf("%s\n", fs.label);
		return (0);
	}
	if (strcmp(verb, "type") == 0) {
		printf("%s\n", fs.name);
		return (0);
	}
	if (strcmp(verb, "vtoyefi") == 0)
		return (!isex && fmt_ventoy_is_vtoyefi(fs.fat) ? 0 : 1);
	if (isex)
		error = fmt_exfat_lookup(fs.ex, path, &xe, &d);
	else
		error = fmt_fat_lookup(fs.fat, path, &fe, &d);
	if (error != 0)
		return (fail(error, &d));
	if (strcmp(verb, "ls") == 0) {
		error = isex ? fmt_exfat_list(fs.ex, &xe, exfat_ls_cb, NULL,
		    &d) : fmt_fat_list(fs.fat, &fe, fat_ls_cb, NULL, &d);
		return (error ? fail(error, &d) : 0);
	}
	if (strcmp(verb, "info") == 0) {
		if (isex)
			printf("nofatchain %d\nsize %" PRIu64 "\nvalid %" PRIu64
			    "\n", xe.nofatchain, xe.size, xe.valid_size);
		else
			printf("size %u\n", fe.size);
		return (0);
	}
	/* Count first, then fill. */
	error = isex ? fmt_exfat_extents(fs.ex, &xe, NULL, 0, &n, NULL) :
	    fmt_fat_extents(fs.fat, &fe, NULL, 0, &n, NULL);
	if (error != 0 && error != ENOSPC) {
		error = isex ? fmt_exfat_extents(fs.ex, &xe, NULL, 0, &n, &d) :
		    fmt_fat_extents(fs.fat, &fe, NULL, 0, &n, &d);
		return (fail(error, &d));
	}
	ext = calloc(n + 1, sizeof(*ext));
	error = isex ? fmt_exfat_extents(fs.ex, &xe, ext, n, &n, &d) :
	    fmt_fat_extents(fs.fat, &fe, ext, n, &n, &d);
	if (error != 0)
		return (fail(error, &d));
	if (strcmp(verb, "extents") == 0)
		error = print_ext(ext, n);
	else if (strcmp(verb, "cat") == 0)
		error = cat_extents(dev, ext, n, isex ? xe.valid_size :
		    UINT64_MAX);
	else {
		fprintf(stderr, "fatcat: unknown verb %s\n", verb);
		return (2);
	}
	free(ext);
	probe_fs_close(&fs);
	bdev_src_fini(&src);
	bdev_destroy(dev);
	return (error ? 2 : 0);
}
