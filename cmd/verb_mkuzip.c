/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_mkuzip.c - `liveroot mkuzip`: FreeBSD mkuzip(8)'s command line
 * (flags, defaults, output names, -S summary line) over uzip_write().
 * The output is written under a temporary name and renamed at the end, so
 * a failure leaves no partial image; SIGINT, SIGTERM and SIGHUP while it
 * runs remove it too (mkuzip_signals(): the handler unlinks it, restores
 * the old action and re-raises, so the process still ends by the signal).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/codec.h>
#include <liveroot/uzip_write.h>

#include "cli.h"
#include "verbs.h"

static const char mkuzip_usage[] =
"usage: liveroot mkuzip [-dLqSvZ] [-A zlib|lzma|zstd] [-C level] [-j jobs]\n"
"           [-o outfile] [-s cluster_size] [--hashes] infile\n"
"\n"
"Compress a file or a block device into a FreeBSD uzip image (mount with\n"
"geom_uzip, or read with 'liveroot uzip' / the liveroot stack).  The same\n"
"flags and defaults as FreeBSD mkuzip(8).\n"
"\n"
"Options:\n"
"  -A zlib|lzma|zstd  codec (default zlib)\n"
"  -L                 same as -A lzma\n"
"  -C level           compression level (default: zlib 9, lzma 6, zstd 9)\n"
"  -d                 deduplicate: repeated clusters are stored once\n"
"  -j jobs            compression threads (default: CPU count, at most 24)\n"
"  -o outfile         output name (default: infile.uzip, .ulzma or .uzst)\n"
"  -s cluster_size    uncompressed cluster size, a multiple of 512 up to\n"
"                     1 MiB (default 16384); K/M suffixes accepted\n"
"  -q                 quiet: no progress line (errors are still printed)\n"
"  -S                 print a summary line on stdout\n"
"  -v                 verbose: one line per cluster on stderr\n"
"  -Z                 do not elide all-zero clusters (compress them too)\n"
"  --hashes           also write outfile.hashes: the SHA-256 of the header\n"
"                     and TOC and of every compressed cluster, which the\n"
"                     reader checks each cluster against (liveroot-uzip(8))\n"
"  -h, --help         this text\n"
"\n"
"Options may come before or after infile.\n"
"Exit status: 0 on success, 2 on an error (no partial output is left).\n";

static struct sigaction mkuzip_old[3];
static const int mkuzip_sigs[3] = { SIGINT, SIGTERM, SIGHUP };

static void
mkuzip_onsignal(int sig)
{
	int i;

	uzip_write_remove_partial();
	for (i = 0; i < 3; i++)
		if (mkuzip_sigs[i] == sig)
			sigaction(sig, &mkuzip_old[i], NULL);
	raise(sig);
}

void
mkuzip_signals(int on)
{
	struct sigaction sa;
	int i;

	if (!on) {
		for (i = 0; i < 3; i++)
			sigaction(mkuzip_sigs[i], &mkuzip_old[i], NULL);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mkuzip_onsignal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++) {
		/* A signal ignored on entry (nohup, &) stays so. */
		sigaction(mkuzip_sigs[i], NULL, &mkuzip_old[i]);
		if (mkuzip_old[i].sa_handler != SIG_IGN)
			sigaction(mkuzip_sigs[i], &sa, NULL);
	}
}

/* The library advises a larger cluster size; mkuzip's flag for it is -s. */
void
mkuzip_hint(struct diag *d, int error)
{
	static const char adv[] = "use a larger cluster size";
	size_t n = strlen(d->msg), a = sizeof(adv) - 1;

	if (error == EFBIG && n >= a && strcmp(d->msg + n - a, adv) == 0 &&
	    n + sizeof(" (-s)") <= sizeof(d->msg))
		strcat(d->msg, " (-s)");
}

static void
mkuzip_verbose(const char *line, void *arg)
{
	fprintf(stderr, "%s\n", line);
}

static void
mkuzip_progress(uint64_t done, uint64_t total, void *arg)
{
	struct cli_progress *p = arg;

	p->total = total;
	cli_progress_update(p, done);
}

static int
mkuzip_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return (EINVAL);
	*out = v;
	return (0);
}

static const struct option mkuzip_lo[] = {
	{ "quiet", no_argument, NULL, 'q' },
	{ "hashes", no_argument, NULL, 'H' },
	{ NULL, 0, NULL, 0 },
};

int
verb_mkuzip(int argc, char **argv)
{
	struct uzip_write_opts o;
	struct uzip_write_stats st;
	struct cli_progress p;
	struct diag d;
	const struct lr_codec *c;
	const char *oname = NULL, *sufx;
	char *alloc = NULL, *halloc = NULL;
	uint64_t v;
	long n;
	int ch, summary = 0, quiet = 0, verbose = 0, hashes = 0, error;

	if (cli_wants_help(argc, argv))
		return (cli_usage(mkuzip_usage, 0));
	memset(&o, 0, sizeof(o));
	memset(&st, 0, sizeof(st));
	diag_clear(&d);
	o.codec = UZIP_CODEC_ZLIB;
	o.level = -1;
	o.blksz = FMT_UZIP_DEFBLKSZ;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":A:C:dj:Lo:qs:SvZ", mkuzip_lo,
	    NULL)) != -1) {
		switch (ch) {
		case 'A':
			if ((c = lr_codec_by_name(optarg)) == NULL) {
				cli_err("invalid algorithm specified: %s "
				    "(use zlib, lzma or zstd)", optarg);
				return (CLI_ERROR);
			}
			o.codec = c->id;
			break;
		case 'L':
			o.codec = UZIP_CODEC_LZMA;
			break;
		case 'C':
			if (mkuzip_int(optarg, -131072, 22, &n) != 0) {
				cli_err("invalid compression level specified: "
				    "%s", optarg);
				return (CLI_ERROR);
			}
			o.level = (int)n;
			break;
		case 'd':
			o.dedup = 1;
			break;
		case 'j':
			if (mkuzip_int(optarg, 1, 256, &n) != 0) {
				cli_err("invalid number of compression threads "
				    "specified: %s", optarg);
				return (CLI_ERROR);
			}
			o.jobs = (unsigned)n;
			break;
		case 'o':
			oname = optarg;
			break;
		case 's':
			if (cli_parse_size(optarg, &v) != 0 || v == 0) {
				cli_err("invalid cluster size specified: %s",
				    optarg);
				return (CLI_ERROR);
			}
			if (v % 512 != 0) {
				cli_err("cluster size should be multiple of "
				    "512: %s", optarg);
				return (CLI_ERROR);
			}
			if (v > FMT_UZIP_MAXBLKSZ) {
				cli_err("cluster size is too large: %s "
				    "(at most %u)", optarg, FMT_UZIP_MAXBLKSZ);
				return (CLI_ERROR);
			}
			o.blksz = (uint32_t)v;
			break;
		case 'S':
			summary = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'Z':
			o.no_zero_elide = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'H':
			hashes = 1;
			break;
		default:
			return (cli_opt_error(ch, argc, argv));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return (cli_usage(mkuzip_usage, 1));
	if (oname == NULL) {
		sufx = lr_codec_by_id(o.codec)->suffix;
		if ((alloc = malloc(strlen(argv[0]) + strlen(sufx) + 1)) ==
		    NULL) {
			cli_err("out of memory");
			return (CLI_ERROR);
		}
		strcpy(alloc, argv[0]);
		strcat(alloc, sufx);
		oname = alloc;
	}
	if (hashes) {
		if ((halloc = malloc(strlen(oname) + sizeof(".hashes"))) ==
		    NULL) {
			cli_err("out of memory");
			free(alloc);
			return (CLI_ERROR);
		}
		strcpy(halloc, oname);
		strcat(halloc, ".hashes");
		o.hashes_path = halloc;
	}
	cli_progress_start(&p, "liveroot mkuzip", 0);
	if (quiet)
		p.enabled = 0;
	if (verbose)
		o.verbose = mkuzip_verbose;
	else {
		o.progress = mkuzip_progress;
		o.arg = &p;
	}
	mkuzip_signals(1);
	error = uzip_write(argv[0], oname, &o, &st, &d);
	mkuzip_signals(0);
	if (!verbose)
		cli_progress_done(&p);
	if (error != 0) {
		free(alloc);
		free(halloc);
		mkuzip_hint(&d, error);
		return (cli_diag(&d, error));
	}
	if (summary || verbose)
		fprintf(summary ? stdout : stderr, "compressed data to %ju "
		    "bytes, saved %lld bytes, %.2f%% decrease, %.2f "
		    "bytes/sec.\n", (uintmax_t)st.out_bytes,
		    (long long)st.in_bytes - (long long)st.out_bytes,
		    st.in_bytes ? 100.0 * ((double)st.in_bytes -
		    (double)st.out_bytes) / (double)st.in_bytes : 0.0,
		    st.seconds > 0 ? (double)st.in_bytes / st.seconds : 0.0);
	free(alloc);
	free(halloc);
	return (CLI_OK);
}
