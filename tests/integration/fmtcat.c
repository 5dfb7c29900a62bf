/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmtcat.c - a liveroot-independent test helper that drives the lib/fmt
 * ISO 9660 and partition parsers over a plain file, so the integration
 * tests can compare their answers with xorriso and sfdisk.
 *
 *   fmtcat [-p N] [-R] [-J] cat IMAGE PATH   the file's bytes on stdout
 *   fmtcat [-p N] [-R] [-J] ls IMAGE [DIR]   walk: "path\tsize\ttype\textents"
 *   fmtcat [-p N] [-R] [-J] info IMAGE       label, naming, sizes
 *   fmtcat extents IMAGE PATH                one "offset length" per extent
 *   fmtcat range IMAGE PATH OFF LEN          LEN bytes of the file from OFF
 *   fmtcat part IMAGE                        "index start size type uuid name"
 *                                            in sectors, as sfdisk --json says
 *
 * -p N reads the ISO from partition N of IMAGE; -R ignores Rock Ridge, -J
 * ignores Joliet.  The image is read as the probe reads a device: a file
 * bdev (a slice of it for -p) through the library's bdev_src adapter.  Exit
 * 0 ok, 1 not found, 2 error (message on stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/fmt_iso9660.h>
#include <liveroot/fmt_part.h>

/* static, so the helper needs no frees (LeakSanitizer) */
static struct bdev *dev_s;
static struct bdev_src src_s;
static struct fmt_iso iso_s;
static struct fmt_extent ext_s[4096];
static struct fmt_part_table tab_s;
static struct fmt_part parts_s[256];

static int
fail(int error, const struct diag *d)
{
	fprintf(stderr, "fmtcat: %s (error %d)\n", d->msg, error);
	return (error == ENOENT ? 1 : 2);
}

static int
print_ent(void *arg, const char *path, const struct fmt_iso_dirent *e)
{
	printf("%s\t%llu\t%s\t%u\n", path, (unsigned long long)e->size,
	    e->is_dir ? "d" : e->is_symlink ? "l" : "f", e->nextents);
	return (0);
}

static int
do_part(struct fmt_src *src)
{
	struct fmt_part_table *t = &tab_s;
	struct fmt_part *parts = parts_s;
	struct diag d;
	char g[37], u[37];
	uint32_t i;
	int error;

	diag_clear(&d);
	if ((error = fmt_part_open(src, t, parts, 256, &d)) != 0)
		return (fail(error, &d));
	printf("# scheme %s sector %u%s%s\n", t->scheme == FMT_PART_GPT ?
	    "gpt" : "dos", t->sector_size, t->gpt_backup_used ?
	    " backup-used: " : "", t->note);
	for (i = 0; i < t->nparts; i++) {
		struct fmt_part *p = &parts[i];

		if (t->scheme == FMT_PART_GPT) {
			fmt_guid_str(p->type_guid, g);
			fmt_guid_str(p->uuid, u);
		} else {
			snprintf(g, sizeof(g), "%x", p->mbr_type);
			snprintf(u, sizeof(u), "-");
		}
		printf("%u %llu %llu %s %s %s\n", p->index,
		    (unsigned long long)(p->start / t->sector_size),
		    (unsigned long long)(p->length / t->sector_size), g, u,
		    p->name);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	struct fmt_iso *iso;
	struct fmt_iso_dirent ent;
	struct fmt_extent *ext;
	struct fmt_src *src = &src_s.src;
	struct diag d;
	const char *verb, *img;
	int c, flags = 0, part = 0, error;
	uint32_t i;

	while ((c = getopt(argc, argv, "p:RJ")) != -1) {
		switch (c) {
		case 'p':
			part = atoi(optarg);
			break;
		case 'R':
			flags |= FMT_ISO_NORR;
			break;
		case 'J':
			flags |= FMT_ISO_NOJOLIET;
			break;
		default:
			return (2);
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: fmtcat [-p N] [-RJ] cat|ls|info|extents|"
		    "part IMAGE [PATH]\n");
		return (2);
	}
	verb = argv[optind];
	img = argv[optind + 1];
	diag_clear(&d);
	if ((error = bdev_file_open(img, BDEV_FILE_RDONLY, 0, &dev_s,
	    &d)) != 0)
		return (fail(error, &d));
	bdev_src_init(&src_s, dev_s, 1);
	if (strcmp(verb, "part") == 0)
		return (do_part(src));
	if (part > 0) {
		struct fmt_part_table *t = &tab_s;
		struct fmt_part *parts = parts_s;

		if ((error = fmt_part_open(src, t, parts, 256, &d)) != 0)
			return (fail(error, &d));
		for (i = 0; i < t->nparts; i++)
			if (parts[i].index == (uint32_t)part)
				break;
		if (i == t->nparts) {
			fprintf(stderr, "fmtcat: no partition %d\n", part);
			return (1);
		}
		bdev_src_fini(&src_s);
		if ((error = bdev_slice_new(dev_s, parts[i].start,
		    parts[i].length, &dev_s, &d)) != 0)
			return (fail(error, &d));
		bdev_src_init(&src_s, dev_s, 1);
	}
	iso = &iso_s;
	if ((error = fmt_iso_open(iso, src, flags, &d)) != 0)
		return (fail(error, &d));
	if (strcmp(verb, "info") == 0) {
		printf("label %s\nnames %s\nblksz %u\nvolsize %llu\n"
		    "joliet %d\nrr %d\n", iso->label, iso->names ==
		    FMT_ISO_NAMES_RR ? "rr" : iso->names == FMT_ISO_NAMES_JOLIET ?
		    "joliet" : "plain", iso->blksz,
		    (unsigned long long)iso->volsize, iso->has_joliet,
		    iso->has_rr);
		return (0);
	}
	if (strcmp(verb, "ls") == 0) {
		error = fmt_iso_walk(iso, argc - optind > 2 ? argv[optind + 2] :
		    "/", print_ent, NULL, &d);
		return (error != 0 ? fail(error, &d) : 0);
	}
	if (argc - optind < 3)
		return (2);
	ext = ext_s;
	if ((error = fmt_iso_lookup(iso, argv[optind + 2], &ent, ext, 4096,
	    &d)) != 0)
		return (fail(error, &d));
	if (strcmp(verb, "extents") == 0) {
		for (i = 0; i < ent.nextents; i++)
			printf("%llu %llu\n", (unsigned long long)ext[i].off,
			    (unsigned long long)ext[i].len);
		return (0);
	}
	if (strcmp(verb, "cat") == 0 || strcmp(verb, "range") == 0) {
		static char buf[1 << 16];
		uint64_t pos = 0, k, end = ent.size;

		if (strcmp(verb, "range") == 0) {
			if (argc - optind < 5)
				return (2);
			pos = strtoull(argv[optind + 3], NULL, 0);
			end = pos + strtoull(argv[optind + 4], NULL, 0);
		}

		if (ent.is_dir) {
			fprintf(stderr, "fmtcat: %s is a directory\n",
			    argv[optind + 2]);
			return (2);
		}
		while (pos < end) {
			k = end - pos < sizeof(buf) ? end - pos :
			    sizeof(buf);
			if ((error = fmt_iso_read_extents(src, ext,
			    ent.nextents, buf, (size_t)k, pos, &d)) != 0)
				return (fail(error, &d));
			if (fwrite(buf, 1, (size_t)k, stdout) != k)
				return (2);
			pos += k;
		}
		return (0);
	}
	fprintf(stderr, "fmtcat: unknown verb %s\n", verb);
	return (2);
}
