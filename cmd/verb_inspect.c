/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_inspect.c - `liveroot inspect`: what is on a device or image file,
 * as the probe sees it: size, the ISO 9660 volume at 0x8000 (label, Rock
 * Ridge, Joliet), the partition table, each partition's file system and
 * label (FAT/exFAT/ext2-4/NTFS/ISO 9660), and the Ventoy markers (VTOYEFI partition,
 * the MBR disk id and signature that an os_param must name).  Read-only.
 * The library takes the inventory (lib/probe/inventory.c, the same one the
 * boot log condenses into a line); this file only prints it.  Exit 0, or 2
 * when a device could not be opened or read.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/bdev.h>
#include <liveroot/inventory.h>
#include <liveroot/util.h>

#include "cli.h"
#include "verbs.h"

static const char inspect_usage[] =
"usage: liveroot inspect [--json] DEVICE-OR-IMAGE...\n"
"\n"
"Show what the live-root probe sees on block devices or image files: the\n"
"size, the ISO 9660 volume at byte 0x8000 (label, Rock Ridge, Joliet), the\n"
"partition table (MBR or GPT), each partition's file system and label\n"
"(FAT12/16/32, exFAT, ext2/3/4, NTFS, ISO 9660), and the Ventoy markers\n"
"(partition 2 FAT labelled VTOYEFI, the MBR disk id at 0x180 and disk\n"
"signature at 0x1B8).\n"
"\n"
"options:\n"
"  --json      print a JSON array, one object per device, on stdout\n"
"  -h, --help  this text\n"
"Options may come before or after the devices.\n"
"\n"
"exit status: 0, or 2 when a device could not be opened or read\n";

static void
hex(char *out, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* A volume nothing could be read from shows as holding no file system. */
static void
json_vol(const struct probe_vol *v)
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
		    v->rock_ridge ? "true" : "false", v->joliet ? "true" :
		    "false");
	if (v->vtoyefi)
		printf(", \"ventoy_efi\": true");
	if (v->fs != NULL && v->error != 0) {
		printf(", \"error\": ");
		cli_json_str(stdout, v->msg);
	}
}

static void
text_vol(const struct probe_vol *v)
{
	if (v->fs == NULL) {
		printf("no known file system");
		return;
	}
	printf("%s", v->fs);
	if (v->error != 0) {
		printf(" (damaged: %s)", v->msg);
		return;
	}
	printf(" '%s'", v->label);
	if (v->rock_ridge || v->joliet)
		printf(" (%s%s%s)", v->rock_ridge ? "Rock Ridge" : "",
		    v->rock_ridge && v->joliet ? ", " : "", v->joliet ?
		    "Joliet" : "");
	if (v->vtoyefi)
		printf(" [Ventoy EFI partition]");
}

static void
json_table(const struct probe_inventory *inv, const char *guid)
{
	const struct fmt_part_table *pt = &inv->pt;

	if (inv->pt_error == EINVAL) {
		printf("{\"scheme\": \"damaged\", \"error\": ");
		cli_json_str(stdout, inv->pt_msg);
		printf("}");
		return;
	}
	if (inv->pt_error == ENOENT) {
		printf("null");
		return;
	}
	printf("{\"scheme\": \"%s\", \"sector_size\": %u, "
	    "\"gpt_backup_used\": %s, \"protective\": %s, "
	    "\"mbr_disk_signature\": \"%08x\"",
	    pt->scheme == FMT_PART_GPT ? "gpt" : "mbr", pt->sector_size,
	    pt->gpt_backup_used ? "true" : "false", pt->protective ? "true" :
	    "false", pt->mbr_disk_sig);
	if (guid[0] != '\0')
		printf(", \"disk_guid\": \"%s\"", guid);
	printf(", \"note\": ");
	cli_json_str(stdout, pt->note);
	printf("}");
}

static void
json_inventory(const char *path, const struct probe_inventory *inv,
    const char *guid, int first)
{
	const uint8_t *id = probe_inventory_disk_id(inv);
	char hid[33];
	size_t i;

	printf("%s{\"device\": ", first ? "" : ",\n ");
	cli_json_str(stdout, path);
	printf(", \"size\": %ju, \"iso\": ", (uintmax_t)inv->size);
	if (inv->whole.fs != NULL && strcmp(inv->whole.fs, "iso9660") == 0) {
		printf("{");
		json_vol(&inv->whole);
		printf("}");
	} else
		printf("null");
	printf(", \"whole_fs\": {");
	json_vol(&inv->whole);
	printf("}, \"partition_table\": ");
	json_table(inv, guid);
	printf(", \"partitions\": [");
	for (i = 0; i < inv->nparts; i++) {
		const struct fmt_part *p = &inv->parts[i];
		char tg[37];

		printf("%s{\"index\": %u, \"start\": %ju, \"length\": %ju, ",
		    i ? ", " : "", p->index, (uintmax_t)p->start,
		    (uintmax_t)p->length);
		if (inv->pt.scheme == FMT_PART_GPT) {
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
		json_vol(&inv->vols[i]);
		printf("}");
	}
	printf("], \"ventoy\": {\"layout\": %s",
	    probe_inventory_ventoy(inv) ? "true" : "false");
	if (id != NULL) {
		hex(hid, id, 16);
		printf(", \"disk_id\": \"%s\", \"disk_signature\": "
		    "\"%08x\"", hid, lr_le32dec(inv->mbr + 0x1b8));
	}
	printf("}}");
}

static void
text_inventory(const char *path, const struct probe_inventory *inv,
    const char *guid)
{
	const struct fmt_part_table *pt = &inv->pt;
	const uint8_t *id = probe_inventory_disk_id(inv);
	char hid[33];
	size_t i;

	printf("%s: %ju bytes (%.1f MiB)\n", path, (uintmax_t)inv->size,
	    inv->size / 1048576.0);
	printf("  whole device: ");
	text_vol(&inv->whole);
	printf("\n  partition table: ");
	if (inv->pt_error == EINVAL)
		printf("damaged (%s)\n", inv->pt_msg);
	else if (inv->pt_error == ENOENT)
		printf("none\n");
	else {
		printf("%s, %u partition(s)%s%s%s\n",
		    pt->scheme == FMT_PART_GPT ? "GPT" : "MBR", pt->nparts,
		    pt->gpt_backup_used ? " (backup header used)" : "",
		    guid[0] ? ", disk GUID " : "", guid);
		if (pt->note[0] != '\0')
			printf("  note: %s\n", pt->note);
	}
	for (i = 0; i < inv->nparts; i++) {
		const struct fmt_part *p = &inv->parts[i];

		printf("  p%u: start %ju, %ju bytes, ", p->index,
		    (uintmax_t)p->start, (uintmax_t)p->length);
		if (pt->scheme == FMT_PART_GPT)
			printf("type %s%s%s%s, ", p->type_name ?
			    p->type_name : "unknown", p->name[0] ? " '" : "",
			    p->name, p->name[0] ? "'" : "");
		else
			printf("type 0x%02x%s%s%s, ", p->mbr_type,
			    p->type_name ? " (" : "", p->type_name ?
			    p->type_name : "", p->type_name ? ")" : "");
		text_vol(&inv->vols[i]);
		printf("\n");
	}
	printf("  ventoy: %s", probe_inventory_ventoy(inv) ?
	    "Ventoy layout (p2 VTOYEFI)" : "no Ventoy layout");
	if (id != NULL) {
		hex(hid, id, 16);
		printf(", MBR disk id %s, disk signature %08x", hid,
		    lr_le32dec(inv->mbr + 0x1b8));
	}
	printf("\n");
}

static int
inspect_one(const char *path, int json, int first)
{
	struct probe_inventory *inv;
	struct bdev *b;
	struct diag d;
	char guid[37] = "";
	int error;

	diag_clear(&d);
	if ((error = bdev_file_open(path, BDEV_FILE_RDONLY, 0, &b, &d)) != 0)
		return (cli_diag(&d, error));
	error = probe_inventory_take(b, &inv, &d);
	bdev_destroy(b);
	if (error != 0)
		return (cli_diag(&d, error));
	error = inv->pt_error;
	if (error != 0 && error != ENOSPC && error != ENOENT &&
	    error != EINVAL) {
		cli_err("%s: reading the partition table: %s", path,
		    inv->pt_msg[0] ? inv->pt_msg : strerror(error));
		probe_inventory_free(inv);
		return (CLI_ERROR);
	}
	if (inv->pt.scheme == FMT_PART_GPT)
		fmt_guid_str(inv->pt.disk_guid, guid);
	if (json)
		json_inventory(path, inv, guid, first);
	else
		text_inventory(path, inv, guid);
	probe_inventory_free(inv);
	return (CLI_OK);
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
