/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_inspect.c - `liveroot inspect`: what is on a device or image file,
 * as the probe sees it: size, the ISO 9660 volume at 0x8000 (label, Rock
 * Ridge, Joliet), the partition table, each partition's file system and
 * label (FAT/exFAT/ISO 9660), and the Ventoy markers (VTOYEFI partition,
 * the MBR disk id and signature that an os_param must name).  Read-only;
 * parsers run over the device through a plain read callback (partitions are
 * offsets).  Exit 0, or 2 when a device could not be opened or read.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/bdev.h>
#include <liveroot/fmt_exfat.h>
#include <liveroot/fmt_fat.h>
#include <liveroot/fmt_iso9660.h>
#include <liveroot/fmt_part.h>
#include <liveroot/fmt_ventoy.h>
#include <liveroot/util.h>

#include "cli.h"
#include "verbs.h"

#define INSPECT_MAXPARTS	128

static const char inspect_usage[] =
"usage: liveroot inspect [--json] DEVICE-OR-IMAGE...\n"
"\n"
"Show what the live-root probe sees on block devices or image files: the\n"
"size, the ISO 9660 volume at byte 0x8000 (label, Rock Ridge, Joliet), the\n"
"partition table (MBR or GPT), each partition's file system and label\n"
"(FAT12/16/32, exFAT, ISO 9660), and the Ventoy markers (partition 2 FAT\n"
"labelled VTOYEFI, the MBR disk id at 0x180 and disk signature at 0x1B8).\n"
"\n"
"options:\n"
"  --json      print a JSON array, one object per device, on stdout\n"
"  -h, --help  this text\n"
"Options may come before or after the devices.\n"
"\n"
"exit status: 0, or 2 when a device could not be opened or read\n";

struct irdr {
	struct bdev	*b;
	uint64_t	 off;
};

static int
irdr_read(void *arg, void *buf, size_t len, uint64_t off)
{
	struct irdr *r = arg;

	return (bdev_read(r->b, buf, len, r->off + off, NULL));
}

/* What one volume holds. */
struct ivol {
	const char	*fs;		/* "iso9660", "exfat", "fat16", ... or NULL */
	char		 label[64];
	int		 rr, joliet;	/* ISO */
	int		 vtoyefi;	/* FAT labelled VTOYEFI */
	char		 err[DIAG_MSGLEN];
};

static void
probe_volume(struct bdev *b, uint64_t off, uint64_t len, struct ivol *v)
{
	static const size_t vdlen = FMT_ISO_VDOFF + 8;
	struct irdr rd = { b, off };
	struct fmt_src src = { irdr_read, &rd, len };
	uint8_t boot[512], *vd;
	struct diag d;

	memset(v, 0, sizeof(*v));
	diag_clear(&d);
	if (len >= vdlen && (vd = malloc(vdlen)) != NULL) {
		if (irdr_read(&rd, vd, vdlen, 0) == 0 &&
		    fmt_iso_probe(vd, vdlen)) {
			struct fmt_iso *iso = calloc(1, sizeof(*iso));

			v->fs = "iso9660";
			if (iso == NULL)
				snprintf(v->err, sizeof(v->err), "out of memory");
			else if (fmt_iso_open(iso, &src, 0, &d) != 0)
				snprintf(v->err, sizeof(v->err), "%s", d.msg);
			else {
				snprintf(v->label, sizeof(v->label), "%s",
				    iso->label);
				v->rr = iso->has_rr;
				v->joliet = iso->has_joliet;
			}
			free(iso);
			free(vd);
			return;
		}
		free(vd);
	}
	if (len < sizeof(boot) || irdr_read(&rd, boot, sizeof(boot), 0) != 0)
		return;
	if (fmt_exfat_probe(boot, sizeof(boot))) {
		struct fmt_exfat *ex = calloc(1, sizeof(*ex));

		v->fs = "exfat";
		if (ex != NULL && fmt_exfat_open(ex, &src, NULL, &d) == 0) {
			snprintf(v->label, sizeof(v->label), "%s", ex->label);
			fmt_exfat_close(ex);
		} else
			snprintf(v->err, sizeof(v->err), "%s", d.msg);
		free(ex);
	} else if (fmt_fat_probe(boot, sizeof(boot))) {
		struct fmt_fat *fat = calloc(1, sizeof(*fat));

		v->fs = "fat";
		if (fat != NULL && fmt_fat_open(fat, &src, &d) == 0) {
			v->fs = fat->type == 12 ? "fat12" : fat->type == 16 ?
			    "fat16" : "fat32";
			snprintf(v->label, sizeof(v->label), "%s", fat->label);
			v->vtoyefi = fmt_ventoy_is_vtoyefi(fat);
		} else
			snprintf(v->err, sizeof(v->err), "%s", d.msg);
		free(fat);
	}
}

static void
hex(char *out, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void
json_vol(const struct ivol *v)
{
	printf("\"fs\": ");
	if (v->fs != NULL)
		cli_json_str(stdout, v->fs);
	else
		printf("null");
	printf(", \"label\": ");
	cli_json_str(stdout, v->label);
	if (v->fs != NULL && strcmp(v->fs, "iso9660") == 0)
		printf(", \"rock_ridge\": %s, \"joliet\": %s",
		    v->rr ? "true" : "false", v->joliet ? "true" : "false");
	if (v->vtoyefi)
		printf(", \"ventoy_efi\": true");
	if (v->err[0] != '\0') {
		printf(", \"error\": ");
		cli_json_str(stdout, v->err);
	}
}

static void
text_vol(const struct ivol *v)
{
	if (v->fs == NULL) {
		printf("no known file system");
		return;
	}
	printf("%s", v->fs);
	if (v->err[0] != '\0') {
		printf(" (damaged: %s)", v->err);
		return;
	}
	printf(" '%s'", v->label);
	if (v->rr || v->joliet)
		printf(" (%s%s%s)", v->rr ? "Rock Ridge" : "",
		    v->rr && v->joliet ? ", " : "", v->joliet ? "Joliet" : "");
	if (v->vtoyefi)
		printf(" [Ventoy EFI partition]");
}

static int
inspect_one(const char *path, int json, int first)
{
	struct fmt_part_table *pt = NULL;
	struct fmt_part *parts = NULL;
	struct bdev *b;
	struct ivol whole, *pv = NULL;
	struct diag d, pd;
	uint8_t mbr[512];
	char id[33] = "", guid[37] = "";
	size_t i, n = 0;
	int error, haveid = 0, ventoy = 0;
	struct irdr rd;
	struct fmt_src src;

	diag_clear(&d);
	if ((error = bdev_file_open(path, BDEV_FILE_RDONLY, 0, &b, &d)) != 0)
		return (cli_diag(&d, error));
	pt = calloc(1, sizeof(*pt));
	parts = calloc(INSPECT_MAXPARTS, sizeof(*parts));
	pv = calloc(INSPECT_MAXPARTS, sizeof(*pv));
	if (pt == NULL || parts == NULL || pv == NULL) {
		cli_err("out of memory");
		error = ENOMEM;
		goto out;
	}
	probe_volume(b, 0, bdev_size(b), &whole);
	if (bdev_size(b) >= sizeof(mbr) &&
	    bdev_read(b, mbr, sizeof(mbr), 0, NULL) == 0 &&
	    !lr_is_zero(mbr + 0x180, 16) && mbr[510] == 0x55 &&
	    mbr[511] == 0xaa) {
		hex(id, mbr + 0x180, 16);
		haveid = 1;
	}
	rd.b = b;
	rd.off = 0;
	src.read = irdr_read;
	src.arg = &rd;
	src.size = bdev_size(b);
	diag_clear(&pd);
	error = fmt_part_open(&src, pt, parts, INSPECT_MAXPARTS, &pd);
	if (error == 0 || error == ENOSPC)
		n = LR_MIN(pt->nparts, INSPECT_MAXPARTS);
	else if (error != ENOENT && error != EINVAL) {
		cli_err("%s: reading the partition table: %s", path,
		    pd.msg[0] ? pd.msg : strerror(error));
		goto out;
	}
	for (i = 0; i < n; i++) {
		probe_volume(b, parts[i].start, parts[i].length, &pv[i]);
		if (parts[i].index == 2 && pv[i].vtoyefi)
			ventoy = 1;
	}
	if (pt->scheme == FMT_PART_GPT)
		fmt_guid_str(pt->disk_guid, guid);
	if (json) {
		printf("%s{\"device\": ", first ? "" : ",\n ");
		cli_json_str(stdout, path);
		printf(", \"size\": %ju, \"iso\": ", (uintmax_t)bdev_size(b));
		if (whole.fs != NULL && strcmp(whole.fs, "iso9660") == 0) {
			printf("{");
			json_vol(&whole);
			printf("}");
		} else
			printf("null");
		printf(", \"whole_fs\": {");
		json_vol(&whole);
		printf("}, \"partition_table\": ");
		if (error == EINVAL) {
			printf("{\"scheme\": \"damaged\", \"error\": ");
			cli_json_str(stdout, pd.msg);
			printf("}");
		} else if (error == ENOENT)
			printf("null");
		else {
			printf("{\"scheme\": \"%s\", \"sector_size\": %u, "
			    "\"gpt_backup_used\": %s, \"protective\": %s, "
			    "\"mbr_disk_signature\": \"%08x\"",
			    pt->scheme == FMT_PART_GPT ? "gpt" : "mbr",
			    pt->sector_size, pt->gpt_backup_used ? "true" :
			    "false", pt->protective ? "true" : "false",
			    pt->mbr_disk_sig);
			if (guid[0] != '\0')
				printf(", \"disk_guid\": \"%s\"", guid);
			printf(", \"note\": ");
			cli_json_str(stdout, pt->note);
			printf("}");
		}
		printf(", \"partitions\": [");
		for (i = 0; i < n; i++) {
			const struct fmt_part *p = &parts[i];
			char tg[37];

			printf("%s{\"index\": %u, \"start\": %ju, \"length\": "
			    "%ju, ", i ? ", " : "", p->index,
			    (uintmax_t)p->start, (uintmax_t)p->length);
			if (pt->scheme == FMT_PART_GPT) {
				fmt_guid_str(p->type_guid, tg);
				printf("\"type\": \"%s\", \"name\": ", tg);
				cli_json_str(stdout, p->name);
			} else
				printf("\"type\": \"0x%02x\"", p->mbr_type);
			printf(", \"type_name\": ");
			if (p->type_name != NULL)
				cli_json_str(stdout, p->type_name);
			else
				printf("null");
			printf(", ");
			json_vol(&pv[i]);
			printf("}");
		}
		printf("], \"ventoy\": {\"layout\": %s", ventoy ? "true" :
		    "false");
		if (haveid)
			printf(", \"disk_id\": \"%s\", \"disk_signature\": "
			    "\"%08x\"", id, lr_le32dec(mbr + 0x1b8));
		printf("}}");
	} else {
		printf("%s: %ju bytes (%.1f MiB)\n", path,
		    (uintmax_t)bdev_size(b), bdev_size(b) / 1048576.0);
		printf("  whole device: ");
		text_vol(&whole);
		printf("\n  partition table: ");
		if (error == EINVAL)
			printf("damaged (%s)\n", pd.msg);
		else if (error == ENOENT)
			printf("none\n");
		else {
			printf("%s, %u partition(s)%s%s%s\n",
			    pt->scheme == FMT_PART_GPT ? "GPT" : "MBR",
			    pt->nparts, pt->gpt_backup_used ?
			    " (backup header used)" : "",
			    guid[0] ? ", disk GUID " : "", guid);
			if (pt->note[0] != '\0')
				printf("  note: %s\n", pt->note);
		}
		for (i = 0; i < n; i++) {
			const struct fmt_part *p = &parts[i];

			printf("  p%u: start %ju, %ju bytes, ", p->index,
			    (uintmax_t)p->start, (uintmax_t)p->length);
			if (pt->scheme == FMT_PART_GPT)
				printf("type %s%s%s%s, ", p->type_name ?
				    p->type_name : "unknown", p->name[0] ?
				    " '" : "", p->name, p->name[0] ? "'" : "");
			else
				printf("type 0x%02x%s%s%s, ", p->mbr_type,
				    p->type_name ? " (" : "", p->type_name ?
				    p->type_name : "", p->type_name ? ")" : "");
			text_vol(&pv[i]);
			printf("\n");
		}
		printf("  ventoy: %s", ventoy ? "Ventoy layout (p2 VTOYEFI)" :
		    "no Ventoy layout");
		if (haveid)
			printf(", MBR disk id %s, disk signature %08x", id,
			    lr_le32dec(mbr + 0x1b8));
		printf("\n");
	}
	error = 0;
out:
	free(pt);
	free(parts);
	free(pv);
	bdev_destroy(b);
	return (error ? CLI_ERROR : CLI_OK);
}

int
verb_inspect(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int i, ch, json = 0, rc = CLI_OK, first = 1;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'h':
			return (cli_usage(inspect_usage, 0));
		default:
			return (cli_opt_error(ch, argc, argv));
		}
	}
	if (optind >= argc) {
		cli_err("no device or image given");
		return (cli_usage(inspect_usage, 1));
	}
	if (json)
		printf("[");
	for (i = optind; i < argc; i++) {
		if (inspect_one(argv[i], json, first) != CLI_OK)
			rc = CLI_ERROR;
		else
			first = 0;
	}
	if (json)
		printf("]\n");
	return (rc);
}
