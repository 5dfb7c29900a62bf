/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_uzip.c - `liveroot uzip info|check|extract|hashes`: look into a
 * uzip image through the read layer (bdev_uzip), which validates the
 * header and the whole TOC on open (and, with --hashes FILE, checks them
 * and every cluster it fetches against IMAGE.hashes).  check and extract
 * read the device sequentially, so the read-ahead workers decompress in
 * parallel.  hashes writes IMAGE.hashes for an existing image
 * (uzip_write_hashes()).
 *
 * Exit status: 0 ok; 1 the image is corrupt (bad header, TOC or cluster);
 * 2 usage or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/util.h>
#include <liveroot/uzip.h>
#include <liveroot/uzip_write.h>

#include "cli.h"
#include "verbs.h"

static const char uzip_usage[] =
"usage: liveroot uzip info [--json] IMAGE\n"
"       liveroot uzip check [-kq] [-w workers] [--hashes FILE] IMAGE\n"
"       liveroot uzip extract [-q] [-w workers] [-c clusters]\n"
"           [--hashes FILE] IMAGE OUT|-\n"
"       liveroot uzip hashes [-q] [-o OUT] IMAGE\n"
"\n"
"Inspect, verify or decompress a FreeBSD uzip image (mkuzip, cloop v2).\n"
"\n"
"  info      codec, cluster size, cluster counts (data, zero, dedup\n"
"            back-references) and the compression ratio; --json for\n"
"            programs\n"
"  check     decompress every cluster; report the first bad one (-k:\n"
"            every bad one)\n"
"  extract   write the decompressed device to OUT ('-' = stdout)\n"
"  hashes    write IMAGE.hashes (or OUT): the SHA-256 of the header and\n"
"            TOC and of every compressed cluster\n"
"\n"
"Options:\n"
"  -w N, --workers N    decompression workers (1 = inline; default\n"
"                       min(ncpu, 4))\n"
"  -c N, --cache N      clusters kept decompressed (default ~16 MiB)\n"
"  --hashes FILE        (check, extract) check the image against the\n"
"                       hashes file FILE: its header and TOC at open,\n"
"                       each cluster before it is decompressed\n"
"  -k, --keep-going     (check) go on past a bad cluster, name each one\n"
"  -o OUT               (hashes) the output (default IMAGE.hashes)\n"
"  --json               (info) one JSON object on stdout\n"
"  -q, --quiet          (check, extract) no progress and no \"ok\" line;\n"
"                       the exit status says it\n"
"  -h, --help           this text\n"
"\n"
"Options may come before or after the operands.\n"
"Exit status: 0 ok, 1 the image is corrupt, 2 usage or I/O error.\n";

#define UZIP_CHUNK	(1u << 20)

struct uzip_args {
	int		 json;
	int		 quiet;
	int		 keep_going;	/* check -k */
	unsigned	 workers;
	unsigned	 cache;
	const char	*hashes;	/* --hashes FILE */
	const char	*out;		/* -o OUT */
	int		 nargs;
	char		**args;
};

static int
uzip_parse(int argc, char **argv, struct uzip_args *a)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "workers", required_argument, NULL, 'w' },
		{ "cache", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "hashes", required_argument, NULL, 'H' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	unsigned long v;
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":w:c:ko:q", lo, NULL)) != -1) {
		switch (ch) {
		case 'J':
			a->json = 1;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'H':
			a->hashes = optarg;
			break;
		case 'k':
			a->keep_going = 1;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'w':
		case 'c':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v == 0 ||
			    v > 65536) {
				cli_err("-%c %s: want a number from 1 to 65536",
				    ch, optarg);
				return (CLI_ERROR);
			}
			if (ch == 'w')
				a->workers = (unsigned)v;
			else
				a->cache = (unsigned)v;
			break;
		default:
			return (cli_opt_error(ch, argc, argv));
		}
	}
	a->nargs = argc - optind;
	a->args = argv + optind;
	return (CLI_OK);
}

/* Opens IMAGE as a uzip bdev; exit status on failure. */
static int
uzip_open(const char *path, const struct uzip_args *a, struct bdev **out)
{
	struct bdev_uzip_opts uo = { a->cache, a->workers, .hashes_path =
	    a->hashes };
	struct bdev *f;
	struct diag d;
	int error;

	diag_clear(&d);
	if ((error = bdev_file_open(path, BDEV_FILE_RDONLY, 0, &f, &d)) != 0)
		return (cli_diag(&d, error));
	if ((error = bdev_uzip_new(f, &uo, out, &d)) != 0) {
		bdev_destroy(f);
		cli_diag(&d, error);
		return (error == EINVAL || error == EIO ? CLI_NOTFOUND :
		    CLI_ERROR);
	}
	return (CLI_OK);
}

static int
uzip_info(const struct uzip_args *a)
{
	struct fmt_uzip_hdr h;
	struct fmt_uzip_tocinfo ti;
	struct bdev *b;
	uint64_t isz;
	double ratio;
	int rc;

	if (a->nargs != 1)
		return (cli_usage(uzip_usage, 1));
	if ((rc = uzip_open(a->args[0], &(struct uzip_args){ .workers = 1,
	    .cache = 1 }, &b)) != CLI_OK)
		return (rc);
	bdev_uzip_info(b, &h, &ti);
	isz = b->lower->size;
	ratio = h.size ? (double)isz / (double)h.size : 0.0;
	if (a->json) {
		printf("{\"image\":");
		cli_json_str(stdout, a->args[0]);
		printf(",\"codec\":\"%s\",\"dedup\":%s,\"version\":%d,"
		    "\"cluster_size\":%u,\"clusters\":%u,\"data_clusters\":%u,"
		    "\"zero_clusters\":%u,\"dedup_clusters\":%u,"
		    "\"image_size\":%ju,\"device_size\":%ju,"
		    "\"compressed_bytes\":%ju,\"max_cluster_bytes\":%u,"
		    "\"ratio\":%.4f}\n", fmt_uzip_codec_name(h.codec),
		    h.dedup ? "true" : "false", h.version, h.blksz, h.nblocks,
		    ti.data_clusters, ti.zero_clusters, ti.backref_clusters,
		    (uintmax_t)isz, (uintmax_t)h.size,
		    (uintmax_t)ti.compressed_bytes, ti.max_clen, ratio);
	} else {
		printf("image:          %s\n", a->args[0]);
		printf("codec:          %s%s (format version %d)\n",
		    fmt_uzip_codec_name(h.codec), h.dedup ? ", dedup" : "",
		    h.version);
		printf("cluster size:   %u\n", h.blksz);
		printf("clusters:       %u (%u data, %u zero, %u dedup)\n",
		    h.nblocks, ti.data_clusters, ti.zero_clusters,
		    ti.backref_clusters);
		printf("device size:    %ju\n", (uintmax_t)h.size);
		printf("image size:     %ju\n", (uintmax_t)isz);
		printf("ratio:          %.2f%% (image / device)\n",
		    100.0 * ratio);
	}
	bdev_destroy(b);
	return (CLI_OK);
}

static int
uzip_write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return (errno);
		}
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

/*
 * Reads the whole device; writes it to fd when fd >= 0.  With *nbad (check
 * -k) it reads a cluster at a time and goes on past a corrupt one (EIO),
 * naming each and counting them in *nbad.
 */
static int
uzip_stream(struct bdev *b, int fd, const char *oname, const char *label,
    int quiet, uint64_t *nbad)
{
	struct fmt_uzip_hdr h;
	size_t chunk = UZIP_CHUNK;
	struct cli_progress p;
	struct diag d;
	uint8_t *buf;
	uint64_t off, size = b->size;
	size_t n;
	int error, rc = CLI_OK;

	if ((buf = malloc(UZIP_CHUNK)) == NULL) {
		cli_err("out of memory");
		return (CLI_ERROR);
	}
	if (nbad != NULL && bdev_uzip_info(b, &h, NULL) == 0)
		chunk = h.blksz;
	diag_clear(&d);
	cli_progress_start(&p, label, size);
	if (quiet)
		p.enabled = 0;
	for (off = 0; off < size; off += n) {
		n = (size_t)LR_MIN((uint64_t)chunk, size - off);
		if ((error = bdev_read(b, buf, n, off, &d)) == EIO &&
		    nbad != NULL) {
			cli_diag(&d, error);
			(*nbad)++;
			diag_clear(&d);
			continue;
		}
		if (error != 0) {
			cli_progress_done(&p);
			cli_diag(&d, error);
			rc = error == EIO ? CLI_NOTFOUND : CLI_ERROR;
			break;
		}
		if (fd >= 0 && (error = uzip_write_all(fd, buf, n)) != 0) {
			cli_progress_done(&p);
			cli_err("%s: write failed: %s", oname,
			    strerror(error));
			rc = CLI_ERROR;
			break;
		}
		cli_progress_update(&p, off + n);
	}
	if (rc == CLI_OK)
		cli_progress_done(&p);
	free(buf);
	return (rc);
}

static int
uzip_check(const struct uzip_args *a)
{
	struct fmt_uzip_hdr h;
	struct bdev_uzip_stats st;
	struct bdev *b;
	uint64_t nbad = 0;
	int rc;

	if (a->nargs != 1)
		return (cli_usage(uzip_usage, 1));
	if ((rc = uzip_open(a->args[0], a, &b)) != CLI_OK)
		return (rc);
	rc = uzip_stream(b, -1, NULL, "liveroot uzip check", a->quiet,
	    a->keep_going ? &nbad : NULL);
	if (rc == CLI_OK && nbad > 0 && bdev_uzip_info(b, &h, NULL) == 0) {
		cli_err("%s: %ju of %u clusters are bad, the others "
		    "decompress%s%s", a->args[0], (uintmax_t)nbad, h.nblocks,
		    a->hashes != NULL ? " and match " : "",
		    a->hashes != NULL ? a->hashes : "");
		rc = CLI_NOTFOUND;
	}
	if (rc == CLI_OK && !a->quiet && bdev_uzip_info(b, &h, NULL) == 0 &&
	    bdev_uzip_stats(b, &st) == 0) {
		printf("%s: ok, %u clusters of %u bytes decompress",
		    a->args[0], h.nblocks, h.blksz);
		if (a->hashes != NULL)
			printf("; header, TOC and %ju fetched clusters match "
			    "%s", (uintmax_t)st.verified, a->hashes);
		printf("\n");
	}
	bdev_destroy(b);
	return (rc);
}

static int
uzip_extract(const struct uzip_args *a)
{
	struct bdev *b;
	const char *out;
	int fd, rc, tostdout;

	if (a->nargs != 2)
		return (cli_usage(uzip_usage, 1));
	out = a->args[1];
	tostdout = strcmp(out, "-") == 0;
	if ((rc = uzip_open(a->args[0], a, &b)) != CLI_OK)
		return (rc);
	if (tostdout)
		fd = STDOUT_FILENO;
	else if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0) {
		cli_err("%s: cannot create: %s", out, strerror(errno));
		bdev_destroy(b);
		return (CLI_ERROR);
	}
	rc = uzip_stream(b, fd, tostdout ? "stdout" : out,
	    "liveroot uzip extract", a->quiet, NULL);
	if (!tostdout) {
		if (close(fd) != 0 && rc == CLI_OK) {
			cli_err("%s: write failed: %s", out, strerror(errno));
			rc = CLI_ERROR;
		}
		if (rc != CLI_OK)
			unlink(out);
	}
	bdev_destroy(b);
	return (rc);
}

static int
uzip_hashes(const struct uzip_args *a)
{
	struct diag d;
	char *alloc = NULL;
	const char *out = a->out;
	int error;

	if (a->nargs != 1)
		return (cli_usage(uzip_usage, 1));
	if (out == NULL) {
		if ((alloc = malloc(strlen(a->args[0]) +
		    sizeof(".hashes"))) == NULL) {
			cli_err("out of memory");
			return (CLI_ERROR);
		}
		strcpy(alloc, a->args[0]);
		strcat(alloc, ".hashes");
		out = alloc;
	}
	diag_clear(&d);
	error = uzip_write_hashes(a->args[0], out, &d);
	if (error == 0 && !a->quiet)
		printf("%s: wrote %s\n", a->args[0], out);
	free(alloc);
	if (error != 0) {
		cli_diag(&d, error);
		return (error == EINVAL ? CLI_NOTFOUND : CLI_ERROR);
	}
	return (CLI_OK);
}

int
verb_uzip(int argc, char **argv)
{
	struct uzip_args a;
	const char *sub;
	int rc;

	if (argc < 2 || cli_wants_help(argc, argv))
		return (cli_usage(uzip_usage, argc < 2));
	sub = argv[1];
	if ((rc = uzip_parse(argc - 1, argv + 1, &a)) != CLI_OK)
		return (rc);
	if (strcmp(sub, "info") == 0)
		return (uzip_info(&a));
	if (strcmp(sub, "check") == 0)
		return (uzip_check(&a));
	if (strcmp(sub, "extract") == 0)
		return (uzip_extract(&a));
	if (strcmp(sub, "hashes") == 0)
		return (uzip_hashes(&a));
	cli_err("unknown subcommand '%s' (info, check, extract or hashes)",
	    sub);
	return (CLI_ERROR);
}
