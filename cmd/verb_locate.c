/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_locate.c - `liveroot locate`: run the device strategies (local,
 * ventoy, findiso; lib/probe/locate.c) over the devices or image files
 * given, print which strategy found the root image, on which device, and
 * its extent map in bytes; optionally copy the image out through the extmap
 * layer.  The first device that has it wins.
 *
 * --ventoy-param accepts the three forms Ventoy hands over: a raw os_param
 * (optionally followed by the location list), the ACPI "VTOY" table
 * (header, os_param, location list) and an efivarfs file of the
 * VentoyOsParam variable (4-byte attributes, os_param); the form is told by
 * the signature/GUID position and checked (checksums) before any device is
 * read.  Exit 0 found, 1 not found (a line per device: what was there),
 * 2 error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/fmt_ventoy.h>
#include <liveroot/locate.h>

#include "cli.h"
#include "verbs.h"

#define VPARAM_MAX	(2u << 20)	/* a location list of 65536 regions fits */

static const char locate_usage[] =
"usage: liveroot locate [--label LABEL] [--image PATH] [--iso PATH]\n"
"                       [--ventoy-param FILE] [--strategy LIST] [--json]\n"
"                       [--extract OUT] [-q] DEVICE-OR-IMAGE...\n"
"\n"
"Find the live system's root image on block devices or disk image files,\n"
"the way the initramfs does: the strategies are tried in order on each\n"
"device, and the first device holding the image wins.\n"
"\n"
"  local    an ISO 9660 medium: the whole device (CD, dd'd isohybrid stick)\n"
"           or a partition, with CD001 at 0x8000\n"
"  ventoy   an ISO file on a Ventoy disk: through the Ventoy os_param (disk\n"
"           matched by the MBR disk id and signature; the location list, or\n"
"           the file on partition N), or, without one, by recognising the\n"
"           Ventoy layout (p2 FAT \"VTOYEFI\") and searching partition 1\n"
"           for *.iso files holding the image\n"
"  findiso  the ISO file given by --iso on a partition (or an unpartitioned\n"
"           device) holding FAT12/16/32, exFAT, ext2/3/4 or NTFS; liveroot\n"
"           reads all of them itself, with no kernel mount (an ext3/4\n"
"           journal is not replayed); the ISO must be a plain file: no\n"
"           holes, not compressed, not encrypted\n"
"\n"
"options:\n"
"  --label LABEL        the ISO volume label must be LABEL (default: any)\n"
"  --image PATH         the root image inside the ISO (default /rootfs.uzip)\n"
"  --iso PATH           findiso: the ISO file's path on the partition\n"
"                       (case-insensitive on FAT, exFAT and NTFS,\n"
"                       case-sensitive on ext2/3/4)\n"
"  --ventoy-param FILE  Ventoy's hand-over: a raw os_param (512 bytes, may be\n"
"                       followed by the location list), an ACPI VTOY table\n"
"                       (/sys/firmware/acpi/tables/VTOY), or an efivarfs\n"
"                       VentoyOsParam-... file\n"
"  --strategy LIST      comma-separated subset of local,ventoy,findiso\n"
"  --json               print the result as JSON on stdout\n"
"  --extract OUT        copy the image's bytes to OUT through the extent map\n"
"  -q, --quiet          print nothing but errors; the exit status says it\n"
"  -h, --help           this text\n"
"Options may come before or after the devices.\n"
"\n"
"The result names the strategy, the device, the partition, the ISO (label,\n"
"path on the partition) and the image's extents on the device, in bytes\n"
"(voff = offset in the image, loff = offset on the device).\n"
"\n"
"exit status: 0 found, 1 not found (one line per device saying what was\n"
"there), 2 error\n";

/* Reads the whole file (at most VPARAM_MAX bytes). */
static int
read_small_file(const char *path, uint8_t **bufp, size_t *lenp)
{
	uint8_t *buf;
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		cli_err("%s: %s", path, strerror(errno));
		return (CLI_ERROR);
	}
	if ((buf = malloc(VPARAM_MAX + 1)) == NULL) {
		close(fd);
		cli_err("out of memory");
		return (CLI_ERROR);
	}
	while (len <= VPARAM_MAX &&
	    (n = read(fd, buf + len, VPARAM_MAX + 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			cli_err("%s: %s", path, strerror(errno));
			close(fd);
			free(buf);
			return (CLI_ERROR);
		}
		len += (size_t)n;
	}
	close(fd);
	if (len > VPARAM_MAX) {
		cli_err("%s: larger than %u bytes: not a Ventoy os_param",
		    path, VPARAM_MAX);
		free(buf);
		return (CLI_ERROR);
	}
	*bufp = buf;
	*lenp = len;
	return (CLI_OK);
}

/* Turns the file into os_param [+ location list] and checks it. */
static int
load_ventoy_param(const char *path, uint8_t **outp, size_t *outlen)
{
	struct fmt_ventoy_param p;
	const uint8_t *param, *loc;
	uint8_t *buf, *out;
	size_t len, loclen, plen;
	const char *form;
	struct diag d;
	int error;

	if (read_small_file(path, &buf, &len) != CLI_OK)
		return (CLI_ERROR);
	diag_clear(&d);
	if ((error = probe_ventoy_split(buf, len, &p, &param, &loc, &loclen,
	    &form, &d)) != 0) {
		cli_err("%s (%s): %s", path, form, d.msg[0] ? d.msg :
		    strerror(error));
		free(buf);
		return (CLI_ERROR);
	}
	plen = FMT_VENTOY_PARAM_SIZE + loclen;
	if ((out = malloc(plen)) == NULL) {
		free(buf);
		cli_err("out of memory");
		return (CLI_ERROR);
	}
	memcpy(out, param, FMT_VENTOY_PARAM_SIZE);
	if (loc != NULL)
		memcpy(out + FMT_VENTOY_PARAM_SIZE, loc, loclen);
	free(buf);
	*outp = out;
	*outlen = plen;
	return (CLI_OK);
}

static int
parse_strategies(const char *s, unsigned *mask)
{
	char *dup, *tok, *save = NULL;
	int rc = CLI_OK;

	*mask = 0;
	if ((dup = strdup(s)) == NULL)
		return (CLI_ERROR);
	for (tok = strtok_r(dup, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "local") == 0)
			*mask |= LOCATE_LOCAL;
		else if (strcmp(tok, "ventoy") == 0)
			*mask |= LOCATE_VENTOY;
		else if (strcmp(tok, "findiso") == 0)
			*mask |= LOCATE_FINDISO;
		else {
			cli_err("unknown strategy '%s' (local, ventoy, "
			    "findiso)", tok);
			rc = CLI_ERROR;
		}
	}
	free(dup);
	if (rc == CLI_OK && *mask == 0) {
		cli_err("--strategy: empty list");
		rc = CLI_ERROR;
	}
	return (rc);
}

static void
json_extents(const struct bdev_extent *e, size_t n)
{
	size_t i;

	putchar('[');
	for (i = 0; i < n; i++)
		printf("%s{\"voff\": %ju, \"loff\": %ju, \"len\": %ju}",
		    i ? ", " : "", (uintmax_t)e[i].voff, (uintmax_t)e[i].loff,
		    (uintmax_t)e[i].len);
	putchar(']');
}

static void
print_found(const struct locate_result *r, const char *image, int json)
{
	size_t i;

	if (json) {
		printf("{\"found\": true, \"strategy\": ");
		cli_json_str(stdout, r->strategy);
		printf(", \"device\": ");
		cli_json_str(stdout, r->device);
		printf(", \"partition\": %d, \"label\": ", r->partition);
		cli_json_str(stdout, r->label);
		printf(", \"iso_path\": ");
		cli_json_str(stdout, r->iso_path);
		printf(", \"iso_size\": %ju, \"iso_extents\": ",
		    (uintmax_t)r->iso_size);
		json_extents(r->iso_ext, r->iso_next);
		printf(", \"image\": ");
		cli_json_str(stdout, image);
		printf(", \"image_size\": %ju, \"extents\": ",
		    (uintmax_t)r->image_size);
		json_extents(r->ext, r->next);
		printf("}\n");
		return;
	}
	printf("found %s by %s on %s", image, r->strategy, r->device);
	if (r->partition > 0)
		printf(" partition %d", r->partition);
	printf("\n");
	printf("iso: label '%s'", r->label);
	if (r->iso_path[0] != '\0') {
		printf(", file ");
		cli_safe_str(stdout, r->iso_path);
	}
	printf(", %ju bytes in %zu extent(s)\n", (uintmax_t)r->iso_size,
	    r->iso_next);
	printf("image: %ju bytes in %zu extent(s) on %s:\n",
	    (uintmax_t)r->image_size, r->next, r->device);
	printf("  %14s %14s %14s\n", "voff", "loff", "len");
	for (i = 0; i < r->next; i++)
		printf("  %14ju %14ju %14ju\n", (uintmax_t)r->ext[i].voff,
		    (uintmax_t)r->ext[i].loff, (uintmax_t)r->ext[i].len);
}

/* Copies the image out through an extmap; OUT is removed on failure. */
static int
extract(struct bdev *dev, const struct locate_result *r, const char *out,
    int quiet)
{
	struct bdev *map = NULL, *dst = NULL;
	struct cli_progress pr;
	struct diag d;
	int error, fd;

	diag_clear(&d);
	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0) {
		cli_err("%s: %s", out, strerror(errno));
		return (CLI_ERROR);
	}
	close(fd);
	bdev_ref(dev);
	if ((error = bdev_extmap_new(dev, r->ext, r->next, r->image_size,
	    &map, &d)) != 0) {
		bdev_destroy(dev);
		goto fail;
	}
	if ((error = bdev_file_open(out, BDEV_FILE_CREATE, r->image_size,
	    &dst, &d)) != 0)
		goto fail;
	cli_progress_start(&pr, "extract", r->image_size);
	if (quiet)
		pr.enabled = 0;
	error = bdev_copy(map, 0, dst, 0, r->image_size, 1 << 20,
	    cli_progress_cb, &pr, &d);
	cli_progress_done(&pr);
	if (error == 0)
		error = bdev_flush(dst, &d);
	if (error != 0)
		goto fail;
	bdev_destroy(dst);
	bdev_destroy(map);
	return (CLI_OK);
fail:
	bdev_destroy(dst);
	bdev_destroy(map);
	unlink(out);
	diag_prefix(&d, "extract to %s: ", out);
	return (cli_diag(&d, error));
}

int
verb_locate(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "label",		required_argument, NULL, 'l' },
		{ "image",		required_argument, NULL, 'i' },
		{ "iso",		required_argument, NULL, 'I' },
		{ "ventoy-param",	required_argument, NULL, 'v' },
		{ "strategy",		required_argument, NULL, 's' },
		{ "json",		no_argument,	   NULL, 'j' },
		{ "extract",		required_argument, NULL, 'x' },
		{ "quiet",		no_argument,	   NULL, 'q' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct locate_opts o;
	struct locate_result r;
	const char *extract_to = NULL, *vpfile = NULL;
	uint8_t *vp = NULL;
	size_t vplen = 0;
	char **seen = NULL;
	int c, json = 0, quiet = 0, i, rc = CLI_NOTFOUND, nerr = 0;

	if (cli_wants_help(argc, argv))
		return (cli_usage(locate_usage, 0));
	memset(&o, 0, sizeof(o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hq", lopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.label = optarg;
			break;
		case 'i':
			o.image = optarg;
			break;
		case 'I':
			o.iso = optarg;
			break;
		case 'v':
			vpfile = optarg;
			break;
		case 's':
			if (parse_strategies(optarg, &o.strategies) != CLI_OK)
				return (CLI_ERROR);
			break;
		case 'j':
			json = 1;
			break;
		case 'x':
			extract_to = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return (cli_usage(locate_usage, 0));
		default:
			return (cli_opt_error(c, argc, argv));
		}
	}
	if (optind >= argc) {
		cli_err("no device or image given");
		return (cli_usage(locate_usage, 1));
	}
	if (o.image != NULL && o.image[0] == '\0') {
		cli_err("--image: empty path");
		return (CLI_ERROR);
	}
	if (vpfile != NULL) {
		if (load_ventoy_param(vpfile, &vp, &vplen) != CLI_OK)
			return (CLI_ERROR);
		o.ventoy_param = vp;
		o.ventoy_param_len = vplen;
	}
	if ((seen = calloc((size_t)argc, sizeof(char *))) == NULL) {
		free(vp);
		cli_err("out of memory");
		return (CLI_ERROR);
	}
	for (i = optind; i < argc; i++) {
		struct bdev *dev;
		struct diag d;
		int error;

		diag_clear(&d);
		if ((error = bdev_file_open(argv[i], BDEV_FILE_RDONLY, 0,
		    &dev, &d)) != 0) {
			cli_diag(&d, error);
			nerr++;
			continue;
		}
		error = probe_locate_device(argv[i], dev, &o, &r, &d);
		if (error != 0) {
			cli_diag(&d, error);
			nerr++;
		} else if (r.found) {
			if (!quiet)
				print_found(&r, o.image ? o.image :
				    LOCATE_DEFAULT_IMAGE, json);
			rc = CLI_OK;
			if (extract_to != NULL)
				rc = extract(dev, &r, extract_to, quiet);
		} else
			seen[i] = strdup(r.seen);
		locate_result_free(&r);
		bdev_destroy(dev);
		if (rc != CLI_NOTFOUND)
			break;
	}
	if (rc == CLI_NOTFOUND) {
		const char *img = o.image ? o.image : LOCATE_DEFAULT_IMAGE;

		if (quiet)
			;
		else if (json) {
			int first = 1;

			printf("{\"found\": false, \"image\": ");
			cli_json_str(stdout, img);
			printf(", \"devices\": [");
			for (i = optind; i < argc; i++) {
				if (seen[i] == NULL)
					continue;
				printf("%s{\"device\": ", first ? "" : ", ");
				cli_json_str(stdout, argv[i]);
				printf(", \"seen\": ");
				cli_json_str(stdout, seen[i]);
				printf("}");
				first = 0;
			}
			printf("]}\n");
		} else {
			for (i = optind; i < argc; i++)
				if (seen[i] != NULL) {
					printf("%s: ", argv[i]);
					cli_safe_str(stdout, seen[i]);
					printf("\n");
				}
		}
		if (nerr > 0)
			cli_err("%s%s%s not found; %d of %d device(s) could "
			    "not be searched (see above)", img, o.label ?
			    " with label " : "", o.label ? o.label : "", nerr,
			    argc - optind);
		else if (!quiet)
			cli_err("%s%s%s not found on %d device(s)", img,
			    o.label ? " with label " : "", o.label ?
			    o.label : "", argc - optind);
		if (nerr > 0)
			rc = CLI_ERROR;
	}
	for (i = 0; i < argc; i++)
		free(seen[i]);
	free(seen);
	free(vp);
	return (rc);
}
