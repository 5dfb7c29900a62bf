/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_overlay.c - `liveroot overlay`: persistent rowr overlays on files
 * (gunion(8)'s verbs, with a map that survives).  One sub-verb table:
 * create, status, revert, commit, destroy.  The overlay is named by its
 * upper file; its map lives beside it in UPPER.rowrmap (bdev_rowr_*_files).
 * Serving an overlay is `liveroot serve` / `mount-file`, not this verb.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <liveroot/rowr.h>

#include "cli.h"
#include "verbs.h"

static const char overlay_usage[] =
"usage: liveroot overlay create [--granule N] LOWER UPPER\n"
"       liveroot overlay status [--json] UPPER\n"
"       liveroot overlay revert UPPER\n"
"       liveroot overlay commit UPPER\n"
"       liveroot overlay destroy [--remove] UPPER\n"
"\n"
"Manage a persistent copy-on-write overlay: LOWER (a file or device) is\n"
"only read; writes go to UPPER, and a written-granule map kept in\n"
"UPPER.rowrmap says which granules to read from UPPER.  Serve the union\n"
"with 'liveroot serve --overlay UPPER' or 'liveroot mount-file'.\n"
"\n"
"  create    make UPPER.rowrmap; UPPER is created sparse at LOWER's size if\n"
"            absent (an existing UPPER must be at least that big)\n"
"            --granule N  copy-on-write unit: a power of 2 from 512 to 64K\n"
"                         (default 4096); the map holds one bit per granule\n"
"  status    sizes, granule, map memory, granules written, UPPER bytes in use\n"
"            --json       one JSON object on stdout\n"
"  revert    forget every write (clears the map, frees UPPER's blocks)\n"
"  commit    copy the written granules into LOWER (opened writable), then\n"
"            clear the map; progress on stderr when it is a terminal\n"
"  destroy   remove UPPER.rowrmap (the overlay); keeps UPPER and LOWER\n"
"            --remove     also delete UPPER\n"
"\n"
"Exit status: 0 done, 1 UPPER is not an overlay (status), 2 error.\n"
"See liveroot-overlay(8) for the map file format.\n";

static int
usage_error(const char *what, const char *arg)
{
	cli_err("%s%s%s", what, arg[0] != '\0' ? " " : "", arg);
	fputs(overlay_usage, stderr);
	return (CLI_ERROR);
}

/*
 * Parses the options of the long-option table lo; the rest is positional.
 * Returns the index of the first operand, or -1 on a usage error (reported).
 */
static int
parse(int argc, char **argv, const struct option *lo, int *granule_seen,
    char **granule, int *json, int *remove_files)
{
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'g':
			*granule_seen = 1;
			*granule = optarg;
			break;
		case 'j':
			*json = 1;
			break;
		case 'r':
			*remove_files = 1;
			break;
		default:
			usage_error("unknown or incomplete option",
			    argv[optind - 1]);
			return (-1);
		}
	}
	return (optind);
}

static int
ov_create(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "granule", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	struct bdev_rowr_opts o = { 0 };
	struct diag d;
	char *gs = NULL;
	int seen = 0, json = 0, rm = 0, i;
	uint64_t g;

	if ((i = parse(argc, argv, lo, &seen, &gs, &json, &rm)) < 0)
		return (CLI_ERROR);
	if (argc - i != 2)
		return (usage_error("create needs LOWER and UPPER", ""));
	if (seen) {
		if (cli_parse_size(gs, &g) != 0 || g < 512 || g > 65536 ||
		    (g & (g - 1)) != 0) {
			cli_err("--granule %s: use a power of 2 from 512 to "
			    "65536 (e.g. 4096 or 64K)", gs);
			return (CLI_ERROR);
		}
		o.granule = (uint32_t)g;
	}
	diag_clear(&d);
	if (bdev_rowr_create_files(argv[i], argv[i + 1], &o, &d) != 0)
		return (cli_diag(&d, d.code));
	return (CLI_OK);
}

static void
human(char *buf, size_t n, uint64_t v)
{
	static const char *u[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	double x = (double)v;
	int k = 0;

	while (x >= 1024 && k < 4) {
		x /= 1024;
		k++;
	}
	if (k == 0)
		snprintf(buf, n, "%ju bytes", (uintmax_t)v);
	else
		snprintf(buf, n, "%ju bytes (%.1f %s)", (uintmax_t)v, x, u[k]);
}

static int
ov_status(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct bdev_rowr_info info;
	struct stat st;
	struct diag d;
	char *gs = NULL, *mp, h1[64], h2[64], h3[64];
	int seen = 0, json = 0, rm = 0, i, error;
	uint64_t used = 0, mapb, wbytes;

	if ((i = parse(argc, argv, lo, &seen, &gs, &json, &rm)) < 0)
		return (CLI_ERROR);
	if (argc - i != 1)
		return (usage_error("status needs UPPER", ""));
	if ((mp = bdev_rowr_map_path(argv[i])) == NULL) {
		cli_err("out of memory");
		return (CLI_ERROR);
	}
	diag_clear(&d);
	error = bdev_rowr_read_info(mp, &info, &d);
	free(mp);
	if (error == ENOENT) {
		cli_diag(&d, error);
		return (CLI_NOTFOUND);
	}
	if (error != 0)
		return (cli_diag(&d, error));
	if (stat(argv[i], &st) == 0)
		used = (uint64_t)st.st_blocks * 512;
	mapb = bdev_rowr_map_bytes(info.size, info.granule);
	wbytes = info.granules_written * info.granule;
	if (wbytes > info.size)
		wbytes = info.size;
	if (json) {
		printf("{\"upper\": ");
		cli_json_str(stdout, argv[i]);
		printf(", \"lower\": ");
		cli_json_str(stdout, info.lower_path);
		printf(", \"size\": %ju, \"granule\": %u, \"map_bytes\": %ju, "
		    "\"granules\": %ju, \"granules_written\": %ju, "
		    "\"written_bytes\": %ju, \"upper_bytes_used\": %ju, "
		    "\"generation\": %ju}\n", (uintmax_t)info.size,
		    info.granule, (uintmax_t)mapb,
		    (uintmax_t)((info.size + info.granule - 1) / info.granule),
		    (uintmax_t)info.granules_written, (uintmax_t)wbytes,
		    (uintmax_t)used, (uintmax_t)info.generation);
		return (CLI_OK);
	}
	human(h1, sizeof(h1), info.size);
	human(h2, sizeof(h2), wbytes);
	human(h3, sizeof(h3), used);
	printf("overlay      %s\n", argv[i]);
	printf("lower        %s\n", info.lower_path);
	printf("size         %s\n", h1);
	printf("granule      %u bytes\n", info.granule);
	printf("map          %ju bytes of memory (one bit per granule)\n",
	    (uintmax_t)mapb);
	printf("written      %ju granules, %s\n",
	    (uintmax_t)info.granules_written, h2);
	printf("upper used   %s\n", h3);
	printf("generation   %ju\n", (uintmax_t)info.generation);
	return (CLI_OK);
}

static int
ov_revert_commit(int argc, char **argv, int commit)
{
	static const struct option lo[] = { { NULL, 0, NULL, 0 } };
	struct bdev_rowr_stats st;
	struct cli_progress p;
	struct bdev *b;
	struct diag d;
	char *gs = NULL;
	int seen = 0, json = 0, rm = 0, i, error;

	if ((i = parse(argc, argv, lo, &seen, &gs, &json, &rm)) < 0)
		return (CLI_ERROR);
	if (argc - i != 1)
		return (usage_error(commit ? "commit needs UPPER" :
		    "revert needs UPPER", ""));
	diag_clear(&d);
	if ((error = bdev_rowr_open_files_flags(argv[i], commit ?
	    BDEV_ROWR_LOWER_RW : 0, &b, &d)) != 0)
		return (cli_diag(&d, error));
	bdev_rowr_get_stats(b, &st);
	if (commit) {
		cli_progress_start(&p, "commit", st.granules_written *
		    st.granule);
		error = bdev_rowr_commit(b, cli_progress_cb, &p, &d);
		cli_progress_done(&p);
	} else
		error = bdev_rowr_revert(b, &d);
	if (error == 0)
		error = bdev_flush(b, &d);
	bdev_destroy(b);
	if (error != 0)
		return (cli_diag(&d, error));
	printf("%s %ju granules (%ju bytes)\n", commit ? "committed" :
	    "reverted", (uintmax_t)st.granules_written,
	    (uintmax_t)LR_MIN(st.granules_written * st.granule, st.size));
	return (CLI_OK);
}

static int
ov_destroy(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "remove", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct diag d;
	char *gs = NULL;
	int seen = 0, json = 0, rm = 0, i, error;

	if ((i = parse(argc, argv, lo, &seen, &gs, &json, &rm)) < 0)
		return (CLI_ERROR);
	if (argc - i != 1)
		return (usage_error("destroy needs UPPER", ""));
	diag_clear(&d);
	if ((error = bdev_rowr_destroy_files(argv[i], rm, &d)) != 0)
		return (cli_diag(&d, error));
	return (CLI_OK);
}

int
verb_overlay(int argc, char **argv)
{
	const char *sub;

	if (cli_wants_help(argc, argv))
		return (cli_usage(overlay_usage, 0));
	if (argc < 2)
		return (usage_error("a sub-command is needed", ""));
	sub = argv[1];
	if (strcmp(sub, "create") == 0)
		return (ov_create(argc - 1, argv + 1));
	if (strcmp(sub, "status") == 0)
		return (ov_status(argc - 1, argv + 1));
	if (strcmp(sub, "revert") == 0)
		return (ov_revert_commit(argc - 1, argv + 1, 0));
	if (strcmp(sub, "commit") == 0)
		return (ov_revert_commit(argc - 1, argv + 1, 1));
	if (strcmp(sub, "destroy") == 0)
		return (ov_destroy(argc - 1, argv + 1));
	return (usage_error("unknown sub-command", sub));
}
