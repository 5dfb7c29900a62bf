/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_overlay.c - `liveroot overlay`: persistent rowr overlays on files
 * (gunion(8)'s verbs, with a map that survives).  One sub-verb table:
 * create, status, revert, commit, destroy.  The overlay is named by its
 * upper file; its map lives beside it in UPPER.rowrmap (bdev_rowr_*_files).
 * Serving an overlay is `liveroot serve` / `mount-file`, not this verb.
 * The library's messages name the fix without a command; overlay_diag()
 * adds the command for the specific BDEV_ROWR_E* codes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <liveroot/fmt_uzip.h>
#include <liveroot/locate.h>
#include <liveroot/rowr.h>
#include <liveroot/rowrmap.h>
#include <liveroot/stack.h>

#include <liveroot/codec.h>
#include <liveroot/uzip_write.h>

#include "cli.h"
#include "verbs.h"

static const char overlay_usage[] =
"usage: liveroot overlay create [--granule N] LOWER UPPER\n"
"       liveroot overlay create --for IMAGE [--image PATH] [--granule N] FILE\n"
"       liveroot overlay status [-q] [--json] UPPER\n"
"       liveroot overlay revert [-q] UPPER\n"
"       liveroot overlay commit [-q] UPPER\n"
"       liveroot overlay commit --to NEW.uzip [-A codec] [-q] UPPER\n"
"       liveroot overlay destroy [--remove] [--force] UPPER\n"
"\n"
"Manage a persistent copy-on-write overlay: LOWER (a file or device) is\n"
"only read; writes go to UPPER, and a written-granule map kept in\n"
"UPPER.rowrmap says which granules to read from UPPER.  The map records\n"
"LOWER's path and identity (a SHA-256 of sampled blocks, or of a uzip\n"
"image's table): another LOWER is refused.  Serve the union with\n"
"'liveroot serve --overlay UPPER' or 'liveroot mount-file'.\n"
"\n"
"  create    make UPPER.rowrmap; UPPER is created sparse at LOWER's size if\n"
"            absent (an existing UPPER must be at least that big)\n"
"            --granule N  copy-on-write unit: a power of 2 from 512 to 64K\n"
"                         (default 4096); the map holds one bit per granule\n"
"            --for IMAGE  a persistence file for live.persist= (see\n"
"                         liveroot-init(8)): FILE and FILE.rowrmap made for\n"
"                         the root image IMAGE, a uzip image or a live ISO\n"
"                         holding one; copy both to the stick's partition\n"
"            --image PATH the root image inside the ISO (/rootfs.uzip)\n"
"  status    sizes, granule, map memory, granules written, UPPER bytes in\n"
"            use; checks LOWER's identity and that no commit is pending\n"
"            --json       one JSON object on stdout\n"
"  revert    forget every write (clears the map, frees UPPER's blocks)\n"
"  commit    copy the written granules into LOWER (opened writable and\n"
"            locked), then clear the map; progress on stderr when it is a\n"
"            terminal.  An interrupted commit is recorded in the map: the\n"
"            overlay is refused until commit is run again, which finishes it\n"
"            --to NEW.uzip  instead: write LOWER with UPPER's granules as a\n"
"                         new uzip image (LOWER and UPPER untouched): the\n"
"                         session kept as the next root image\n"
"            -A, --codec C  its codec: zstd (default), zlib, lzma\n"
"  destroy   remove UPPER.rowrmap (the overlay); keeps UPPER and LOWER\n"
"            --remove     also delete UPPER\n"
"            --force      even when a commit was interrupted (LOWER then\n"
"                         stays half-written)\n"
"  -q, --quiet  print nothing but errors\n"
"\n"
"Options may follow the operands.\n"
"Exit status: 0 done, 1 UPPER is not an overlay (status), 2 error.\n"
"See liveroot-overlay(8) for the map file format.\n";

struct ov_opts {
	const char	*granule;	/* --granule, or NULL */
	const char	*to;		/* commit --to NEW.uzip */
	const char	*for_image;	/* create --for IMAGE */
	const char	*inside;	/* create --image PATH */
	const char	*codec;		/* commit --to: -A */
	int		 json;
	int		 remove_files;
	int		 force;
	int		 quiet;
};

/* One error line, with a pointer to --help (the usage is not dumped). */
static int
usage_error(const char *what)
{
	cli_err("%s; 'liveroot overlay --help' lists the sub-commands and "
	    "their options", what);
	return (CLI_ERROR);
}

/*
 * Prints a library error about the overlay named by its upper with the
 * command that fixes it, for the codes that have one (serve and mount-file
 * may use it too: verbs.h).  Returns CLI_ERROR.
 */
int
overlay_diag(const struct diag *d, int code, const char *upper)
{
	const char *msg = d->msg[0] != '\0' ? d->msg : strerror(code);

	if (upper == NULL)
		return (cli_diag(d, code));
	switch (code) {
	case BDEV_ROWR_ECOMMIT:
		cli_err("%s; re-run 'liveroot overlay commit %s' to finish it",
		    msg, upper);
		break;
	case BDEV_ROWR_ELOWER:
	case BDEV_ROWR_ECORRUPT:
		cli_err("%s ('liveroot overlay destroy %s')", msg, upper);
		break;
	case EEXIST:
		cli_err("%s (if it is not in use: 'liveroot overlay destroy "
		    "%s')", msg, upper);
		break;
	default:
		cli_diag(d, code);
		break;
	}
	return (CLI_ERROR);
}

/*
 * Parses the options of the long-option table lo (plus -q when quiet_ok);
 * options may come after the operands.  Returns the index of the first
 * operand, or -1 on a usage error (reported).
 */
static int
parse(int argc, char **argv, const struct option *lo, int quiet_ok,
    struct ov_opts *o)
{
	const char *shorts = quiet_ok ? ":q" : ":";
	int c;

	memset(o, 0, sizeof(*o));
	for (const struct option *l = lo; l->name != NULL; l++)
		if (l->val == 'A')	/* -A where --codec is an option */
			shorts = ":qA:";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		switch (c) {
		case 'g':
			o->granule = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'r':
			o->remove_files = 1;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 't':
			o->to = optarg;
			break;
		case 'A':
			o->codec = optarg;
			break;
		case 'F':
			o->for_image = optarg;
			break;
		case 'I':
			o->inside = optarg;
			break;
		default:
			(void)cli_opt_error(c, argc, argv);
			return (-1);
		}
	}
	return (optind);
}

#define QUIET_OPT	{ "quiet", no_argument, NULL, 'q' }
#define END_OPT		{ NULL, 0, NULL, 0 }

/*
 * create --for IMAGE: the persistence file of a live system.  A uzip image
 * is the lower as it is; a live ISO's root image is read where it lies in
 * the ISO (its extents, as the boot finds them), so the identity recorded
 * is the one liveroot-init computes at boot.
 */
static int
create_for(const struct ov_opts *o, struct stack_spec *ss)
{
	struct locate_opts lo = { .image = o->inside, .strategies =
	    LOCATE_LOCAL };
	struct locate_result r;
	struct bdev *f = NULL, *m = NULL, *b = NULL;
	struct stat st;
	char desc[600], *map;
	uint8_t hdr[FMT_UZIP_HDRLEN];
	struct diag d;
	int e, code;

	diag_clear(&d);
	memset(&r, 0, sizeof(r));
	if ((e = bdev_file_open(o->for_image, BDEV_FILE_RDONLY, 0, &f,
	    &d)) != 0)
		return (cli_diag(&d, e));
	if (f->size >= sizeof(hdr) && bdev_read(f, hdr, sizeof(hdr), 0,
	    NULL) == 0 && fmt_uzip_probe(hdr, sizeof(hdr))) {
		bdev_destroy(f);
		if (o->inside != NULL) {
			cli_err("--image %s: %s is a uzip image itself, not "
			    "an ISO", o->inside, o->for_image);
			return (CLI_ERROR);
		}
		ss->lower = o->for_image;
		if ((e = stack_create(ss, &d)) != 0)
			return (overlay_diag(&d, d.code, ss->upper_path));
		return (CLI_OK);
	}
	if ((e = probe_locate_device(o->for_image, f, &lo, &r, &d)) != 0 ||
	    !r.found) {
		if (e == 0)
			cli_err("%s: no root image %s in it (seen: %s): give "
			    "the live ISO or the uzip image, and --image PATH "
			    "if the root image has another name",
			    o->for_image, o->inside ? o->inside :
			    LOCATE_DEFAULT_IMAGE, r.seen);
		else
			cli_diag(&d, e);
		locate_result_free(&r);
		bdev_destroy(f);
		return (CLI_ERROR);
	}
	snprintf(desc, sizeof(desc), "%s:%s", o->for_image, o->inside ?
	    o->inside : LOCATE_DEFAULT_IMAGE);
	if ((map = bdev_rowr_map_path(ss->upper_path)) == NULL) {
		locate_result_free(&r);
		bdev_destroy(f);
		cli_err("out of memory");
		return (CLI_ERROR);
	}
	if (stat(map, &st) == 0) {
		cli_err("%s is already an overlay (%s exists): use it, or "
		    "'liveroot overlay destroy %s' first", ss->upper_path,
		    map, ss->upper_path);
		e = CLI_ERROR;
		goto out;
	}
	if ((e = bdev_extmap_new(f, r.ext, r.next, r.image_size, &m,
	    &d)) != 0) {
		e = cli_diag(&d, e);
		goto out;
	}
	f = NULL;		/* owned by m */
	ss->lower = desc;
	ss->flags |= STACK_CREATE;
	ss->uzip = STACK_UZIP_YES;
	e = stack_open_on(m, ss, &b, NULL, &d);
	m = NULL;		/* consumed */
	if (e != 0) {
		code = d.code;
		e = overlay_diag(&d, code, ss->upper_path);
		goto out;
	}
	bdev_destroy(b);	/* saves the map */
	e = CLI_OK;
out:
	free(map);
	locate_result_free(&r);
	bdev_destroy(f);
	return (e);
}

static int
ov_create(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "granule", required_argument, NULL, 'g' },
		{ "for", required_argument, NULL, 'F' },
		{ "image", required_argument, NULL, 'I' },
		END_OPT,
	};
	struct stack_spec ss = { .upper = STACK_UPPER_FILE };
	struct ov_opts o;
	struct diag d;
	uint64_t g;
	int i;

	if ((i = parse(argc, argv, lo, 0, &o)) < 0)
		return (CLI_ERROR);
	if (o.for_image != NULL ? argc - i != 1 : argc - i != 2)
		return (usage_error(o.for_image != NULL ? "create --for IMAGE "
		    "needs one FILE" : "create needs LOWER and UPPER"));
	if (o.inside != NULL && o.for_image == NULL)
		return (usage_error("--image goes with --for"));
	if (o.granule != NULL) {
		if (cli_parse_size(o.granule, &g) != 0 || g < 512 ||
		    g > 65536 || (g & (g - 1)) != 0) {
			cli_err("--granule %s: use a power of 2 from 512 to "
			    "65536 (e.g. 4096 or 64K)", o.granule);
			return (CLI_ERROR);
		}
		ss.granule = (uint32_t)g;
	}
	if (o.for_image != NULL) {
		ss.upper_path = argv[i];
		return (create_for(&o, &ss));
	}
	ss.lower = argv[i];
	ss.upper_path = argv[i + 1];
	diag_clear(&d);
	if (stack_create(&ss, &d) != 0)
		return (overlay_diag(&d, d.code, argv[i + 1]));
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

static const char *
kind_name(uint32_t kind)
{
	switch (kind) {
	case LR_ROWRMAP_ID_SAMPLED:
		return ("sampled");
	case LR_ROWRMAP_ID_UZIP:
		return ("uzip");
	default:
		return ("none");
	}
}

/* The warning for a map from before lower identities. */
static void
warn_no_identity(const struct bdev_rowr_info *info, const char *upper,
    int recorded_now)
{
	cli_err("warning: %s.rowrmap (a version %u map) records no identity of "
	    "its lower %s, only its path and size%s", upper, info->version,
	    info->lower_path, recorded_now ? "; the identity of the lower "
	    "used now is recorded" : ": it is recorded at the next save "
	    "(revert, commit, or a write through serve)");
}

static int
ov_status(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		QUIET_OPT,
		END_OPT,
	};
	struct bdev_rowr_info info;
	struct ov_opts o;
	struct stat st;
	struct diag d;
	char *mp, h1[64], h2[64], h3[64];
	int i, error, unchecked;
	uint64_t used = 0, mapb, wbytes;

	if ((i = parse(argc, argv, lo, 1, &o)) < 0)
		return (CLI_ERROR);
	if (argc - i != 1)
		return (usage_error("status needs UPPER"));
	if ((mp = bdev_rowr_map_path(argv[i])) == NULL) {
		cli_err("out of memory");
		return (CLI_ERROR);
	}
	diag_clear(&d);
	if ((error = bdev_rowr_read_info(mp, &info, &d)) == ENOENT) {
		free(mp);
		if (!o.quiet)
			cli_err("%s; make one with 'liveroot overlay create "
			    "LOWER %s'", d.msg, argv[i]);
		return (CLI_NOTFOUND);
	}
	/* A persistence file records where the boot found its image
	 * ("IMAGE on /dev/sr0", "live.iso:/rootfs.uzip"): not a file here,
	 * so its identity cannot be checked here (the boot checks it). */
	unchecked = error == 0 && stat(info.lower_path, &st) != 0 &&
	    errno == ENOENT && (strchr(info.lower_path, ':') != NULL ||
	    strstr(info.lower_path, " on ") != NULL);
	if (error == 0 && !unchecked)
		error = bdev_rowr_check_lower(mp, &d);
	free(mp);
	if (error != 0)
		return (overlay_diag(&d, error, argv[i]));
	if (o.quiet)
		return (CLI_OK);
	if (info.lower_kind == LR_ROWRMAP_ID_NONE)
		warn_no_identity(&info, argv[i], 0);
	if (stat(argv[i], &st) == 0)
		used = (uint64_t)st.st_blocks * 512;
	mapb = bdev_rowr_map_bytes(info.size, info.granule);
	wbytes = info.granules_written * info.granule;
	if (wbytes > info.size)
		wbytes = info.size;
	if (o.json) {
		printf("{\"upper\": ");
		cli_json_str(stdout, argv[i]);
		printf(", \"lower\": ");
		cli_json_str(stdout, info.lower_path);
		printf(", \"size\": %ju, \"granule\": %u, \"map_bytes\": %ju, "
		    "\"granules\": %ju, \"granules_written\": %ju, "
		    "\"written_bytes\": %ju, \"upper_bytes_used\": %ju, "
		    "\"generation\": %ju, \"map_version\": %u, "
		    "\"lower_identity\": \"%s\", \"lower_size\": %ju, "
		    "\"lower_checked\": %s, \"lower_sha256\": ",
		    (uintmax_t)info.size,
		    info.granule, (uintmax_t)mapb,
		    (uintmax_t)((info.size + info.granule - 1) / info.granule),
		    (uintmax_t)info.granules_written, (uintmax_t)wbytes,
		    (uintmax_t)used, (uintmax_t)info.generation, info.version,
		    kind_name(info.lower_kind), (uintmax_t)info.lower_size,
		    unchecked ? "false" : "true");
		if (info.lower_kind == LR_ROWRMAP_ID_NONE)
			printf("null}\n");
		else
			printf("\"%s\"}\n", info.lower_sha256);
		return (CLI_OK);
	}
	human(h1, sizeof(h1), info.size);
	human(h2, sizeof(h2), wbytes);
	human(h3, sizeof(h3), used);
	printf("overlay      ");
	cli_safe_str(stdout, argv[i]);
	printf("\nlower        ");
	cli_safe_str(stdout, info.lower_path);
	printf("\n");
	if (info.lower_kind == LR_ROWRMAP_ID_NONE)
		printf("identity     not recorded (a version %u map)\n",
		    info.version);
	else
		printf("identity     sha256 %s (%s), %s\n",
		    info.lower_sha256, info.lower_kind == LR_ROWRMAP_ID_UZIP ?
		    "of the uzip table and sampled blocks" :
		    "of 64 sampled blocks", unchecked ? "not checked here "
		    "(the lower is where a boot finds it; the boot checks it)"
		    : "checked");
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
	static const struct option lo[] = { QUIET_OPT, END_OPT };
	struct stack_spec ss = { .upper = STACK_UPPER_FILE };
	struct bdev_rowr_info info;
	struct bdev_rowr_stats st;
	struct cli_progress p;
	struct ov_opts o;
	struct bdev *b;
	struct diag d;
	char *mp;
	int i, error;

	if ((i = parse(argc, argv, lo, 1, &o)) < 0)
		return (CLI_ERROR);
	if (argc - i != 1)
		return (usage_error(commit ? "commit needs UPPER" :
		    "revert needs UPPER"));
	if ((mp = bdev_rowr_map_path(argv[i])) == NULL) {
		cli_err("out of memory");
		return (CLI_ERROR);
	}
	diag_clear(&d);
	error = bdev_rowr_read_info(mp, &info, &d);
	free(mp);
	if (error != 0)
		return (overlay_diag(&d, error, argv[i]));
	ss.upper_path = argv[i];
	ss.flags = commit ? STACK_LOWER_RW | STACK_RESUME : 0;
	if ((error = stack_open(&ss, &b, &d)) != 0)
		return (overlay_diag(&d, error, argv[i]));
	if (!o.quiet && info.lower_kind == LR_ROWRMAP_ID_NONE)
		warn_no_identity(&info, argv[i], 1);
	bdev_rowr_get_stats(b, &st);
	if (commit) {
		if (!o.quiet && info.commit_pending)
			cli_err("finishing the commit that was interrupted: "
			    "copying all %ju written granules into %s again",
			    (uintmax_t)st.granules_written, info.lower_path);
		cli_progress_start(&p, "commit", st.granules_written *
		    st.granule);
		if (o.quiet)
			p.enabled = 0;
		error = bdev_rowr_commit(b, cli_progress_cb, &p, &d);
		cli_progress_done(&p);
	} else
		error = bdev_rowr_revert(b, &d);
	if (error == 0)
		error = bdev_flush(b, &d);
	bdev_destroy(b);
	if (error != 0)
		return (overlay_diag(&d, error, argv[i]));
	if (!o.quiet)
		printf("%s %ju granules (%ju bytes)\n", commit ? "committed" :
		    "reverted", (uintmax_t)st.granules_written,
		    (uintmax_t)LR_MIN(st.granules_written * st.granule,
		    st.size));
	return (CLI_OK);
}

static int
ov_destroy(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "remove", no_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		END_OPT,
	};
	struct ov_opts o;
	struct diag d;
	int i, error;

	if ((i = parse(argc, argv, lo, 0, &o)) < 0)
		return (CLI_ERROR);
	if (argc - i != 1)
		return (usage_error("destroy needs UPPER"));
	diag_clear(&d);
	if ((error = bdev_rowr_destroy_files(argv[i],
	    (o.remove_files ? BDEV_ROWR_DESTROY_REMOVE : 0) |
	    (o.force ? BDEV_ROWR_DESTROY_FORCE : 0), &d)) != 0) {
		if (error == BDEV_ROWR_ECOMMIT) {
			cli_err("%s: re-run 'liveroot overlay commit %s', or "
			    "'liveroot overlay destroy --force %s'", d.msg,
			    argv[i], argv[i]);
			return (CLI_ERROR);
		}
		return (cli_diag(&d, error));
	}
	return (CLI_OK);
}

static int
ov_revert(int argc, char **argv)
{
	return (ov_revert_commit(argc, argv, 0));
}

/* commit --to's reader: the union, read through the stack. */
static int
ov_union_read(void *arg, void *buf, size_t len, uint64_t off, struct diag *d)
{
	return (bdev_read(arg, buf, len, off, d));
}

static void
ov_to_progress(uint64_t done, uint64_t total, void *arg)
{
	struct cli_progress *p = arg;

	p->total = total;
	cli_progress_update(p, done);
}

/* commit --to NEW.uzip: LOWER + UPPER as a new image; both untouched. */
static int
ov_commit_to(const struct ov_opts *o, const char *upper)
{
	struct stack_spec ss = { .upper = STACK_UPPER_FILE };
	const struct lr_codec *codec;
	struct uzip_write_opts uo;
	struct uzip_write_stats st;
	struct cli_progress p;
	struct bdev *b;
	struct diag d;
	int error;

	if ((codec = lr_codec_by_name(o->codec != NULL ? o->codec :
	    "zstd")) == NULL) {
		cli_err("-A %s: one of zstd, zlib, lzma", o->codec);
		return (CLI_ERROR);
	}
	diag_clear(&d);
	ss.upper_path = upper;
	ss.flags = 0;			/* LOWER read-only, UPPER only read */
	if ((error = stack_open(&ss, &b, &d)) != 0)
		return (overlay_diag(&d, error, upper));
	memset(&uo, 0, sizeof(uo));
	uo.codec = codec->id;
	uo.level = -1;
	uo.blksz = 65536;
	uo.in_read = ov_union_read;
	uo.in_arg = b;
	uo.in_size = bdev_size(b);
	cli_progress_start(&p, "commit --to", uo.in_size);
	if (o->quiet)
		p.enabled = 0;
	uo.progress = ov_to_progress;
	uo.arg = &p;
	mkuzip_signals(1);
	error = uzip_write(upper, o->to, &uo, &st, &d);
	mkuzip_signals(0);
	cli_progress_done(&p);
	bdev_destroy(b);
	if (error != 0)
		return (cli_diag(&d, error));
	if (!o->quiet)
		printf("%s: %ju bytes of LOWER + UPPER as %ju bytes (%s)\n",
		    o->to, (uintmax_t)st.in_bytes, (uintmax_t)st.out_bytes,
		    codec->name);
	return (CLI_OK);
}

static int
ov_commit(int argc, char **argv)
{
	static const struct option lo[] = {
		QUIET_OPT,
		{ "to", required_argument, NULL, 't' },
		{ "codec", required_argument, NULL, 'A' },
		END_OPT,
	};
	struct ov_opts o;
	int i;

	if ((i = parse(argc, argv, lo, 1, &o)) < 0)
		return (CLI_ERROR);
	if (o.to == NULL) {
		if (o.codec != NULL)
			return (usage_error("-A goes with commit --to"));
		return (ov_revert_commit(argc, argv, 1));
	}
	if (argc - i != 1)
		return (usage_error("commit --to NEW.uzip needs UPPER"));
	return (ov_commit_to(&o, argv[i]));
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} ov_verbs[] = {
	{ "create",	ov_create },
	{ "status",	ov_status },
	{ "revert",	ov_revert },
	{ "commit",	ov_commit },
	{ "destroy",	ov_destroy },
};

int
verb_overlay(int argc, char **argv)
{
	const char *sub;
	size_t k;

	if (cli_wants_help(argc, argv))
		return (cli_usage(overlay_usage, 0));
	if (argc < 2)
		return (usage_error("a sub-command is needed (create, status, "
		    "revert, commit, destroy)"));
	sub = argv[1];
	for (k = 0; k < sizeof(ov_verbs) / sizeof(ov_verbs[0]); k++)
		if (strcmp(sub, ov_verbs[k].name) == 0)
			return (ov_verbs[k].fn(argc - 1, argv + 1));
	cli_err("unknown sub-command '%s'; 'liveroot overlay --help' lists "
	    "them", sub);
	return (CLI_ERROR);
}
