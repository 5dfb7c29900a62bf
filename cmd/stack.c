/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stack.c - see stack.h: the stack options of a verb become one struct
 * stack_spec, which the library's stack_open() builds.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/rowr.h>
#include <liveroot/stack.h>
#include <liveroot/uzip.h>

#include "cli.h"
#include "stack.h"

const char stack_usage[] =
"  --lower FILE        the read-only base image or device; a uzip image is\n"
"                      recognised by its magic and decompressed on the fly\n"
"  --upper mem:SIZE    writable RAM overlay capped at SIZE (64M, 2G, 10%);\n"
"                      writes are lost at exit\n"
"  --upper FILE        persistent overlay: writes go to FILE, the written\n"
"                      map to FILE.rowrmap (both created on first use)\n"
"  --overlay UPPER     reopen a persistent overlay by its upper file (the\n"
"                      lower is recorded in UPPER.rowrmap)\n"
"  -r, --readonly      refuse writes\n"
"  --writable-lower    with no --upper: write straight into the lower FILE\n"
"                      (without it, a lone --lower is exposed read-only)\n"
"  --raw               do not look for a uzip magic in the lower\n"
"  --granule N         overlay granule (512..64K, default 4K)\n"
"  --cache N           uzip clusters kept decompressed (default ~16 MiB)\n"
"  --workers N         uzip decompression workers\n"
"  --hashes FILE|URL   check every uzip cluster against this hashes file\n"
"                      (IMAGE.hashes) before it is decompressed\n"
"  --lower URL         an http:// or https:// image, read lazily: clusters\n"
"                      are fetched with Range requests as they are read,\n"
"                      the rest is filled into RAM in the background\n"
"  --no-prefetch       (URL lower) fetch only what is read\n"
"  --fill-share PCT    (URL lower) the background fill's share of the\n"
"                      time, 1..100 (default 100)\n"
"  --connections N     (URL lower) HTTP connections, 1..32 (default 4)\n"
"  --ca-file FILE      (URL lower or hashes) CA bundle for HTTPS\n";

static int
parse_uint(const char *opt, const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max) {
		cli_err("%s: '%s' is not a number from 0 to %u", opt, s, max);
		return (-1);
	}
	*out = (unsigned)v;
	return (0);
}

int
stack_opt(struct stack_opts *so, int ch, const char *arg)
{
	uint64_t g;
	unsigned u;

	switch (ch) {
	case 'r':
		so->readonly = 1;
		return (1);
	case STACK_OPT_WRITABLE_LOWER:
		so->writable_lower = 1;
		return (1);
	case STACK_OPT_RAW:
		so->raw = 1;
		return (1);
	case STACK_OPT_LOWER:
		so->lower = arg;
		return (1);
	case STACK_OPT_UPPER:
		so->upper = arg;
		return (1);
	case STACK_OPT_OVERLAY:
		so->overlay = arg;
		return (1);
	case STACK_OPT_GRANULE:
		if (cli_parse_size(arg, &g) != 0 || g < 512 || g > 65536 ||
		    (g & (g - 1)) != 0) {
			cli_err("--granule: '%s' is not a power of 2 from 512 "
			    "to 64K", arg);
			return (-1);
		}
		so->granule = (uint32_t)g;
		return (1);
	case STACK_OPT_CACHE:
		if (parse_uint("--cache", arg, 1u << 20, &u) != 0)
			return (-1);
		so->cache = u;
		return (1);
	case STACK_OPT_WORKERS:
		if (parse_uint("--workers", arg, 256, &u) != 0)
			return (-1);
		so->workers = u;
		return (1);
	case STACK_OPT_HASHES:
		so->hashes = arg;
		return (1);
	case STACK_OPT_CA_FILE:
		so->ca_file = arg;
		return (1);
	case STACK_OPT_NO_PREFETCH:
		so->no_prefetch = 1;
		return (1);
	case STACK_OPT_FILL_SHARE:
		if (parse_uint("--fill-share", arg, 100, &u) != 0)
			return (-1);
		if (u == 0) {
			cli_err("--fill-share: 0%% would never fill: give 1 "
			    "to 100, or --no-prefetch");
			return (-1);
		}
		so->fill_share = u;
		return (1);
	case STACK_OPT_CONNECTIONS:
		if (parse_uint("--connections", arg, BDEV_HTTP_CONNS_MAX,
		    &u) != 0)
			return (-1);
		if (u == 0) {
			cli_err("--connections: give 1 to %u",
			    BDEV_HTTP_CONNS_MAX);
			return (-1);
		}
		so->connections = u;
		return (1);
	default:
		return (0);
	}
}

int
stack_abspath(const char *path, char **out, struct diag *d)
{
	char *cwd, *p;
	size_t n;

	if ((p = realpath(path, NULL)) != NULL) {
		*out = p;
		return (0);
	}
	if (errno != ENOENT)
		return (diag_set(d, errno, "%s: %s", path, strerror(errno)));
	if (path[0] == '/') {
		p = strdup(path);
	} else {
		if ((cwd = getcwd(NULL, 0)) == NULL)
			return (diag_set(d, errno, "the current directory: %s",
			    strerror(errno)));
		n = strlen(cwd) + 1 + strlen(path) + 1;
		if ((p = malloc(n)) != NULL)
			snprintf(p, n, "%s/%s", cwd, path);
		free(cwd);
	}
	if (p == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	*out = p;
	return (0);
}

int
stack_getopt(struct stack_opts *so, int argc, char **argv,
    const char *shortopts, const struct option *lo)
{
	int ch, r;

	if (!so->started) {
		optind = 1;
		opterr = 0;
		so->started = 1;
	}
	while ((ch = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		if ((r = stack_opt(so, ch, optarg)) < 0)
			return (-2);
		if (r == 0)
			return (ch);
	}
	return (-1);
}

int
stack_absolute(struct stack_opts *so, struct diag *d)
{
	const char **paths[5] = { &so->lower, &so->upper, &so->overlay,
	    &so->hashes, &so->ca_file };
	int k, error;

	for (k = 0; k < 5; k++) {
		if (*paths[k] == NULL || so->owned[k] != NULL ||
		    (k == 1 && strncmp(*paths[k], "mem:", 4) == 0) ||
		    stack_is_url(*paths[k]))
			continue;
		if ((error = stack_abspath(*paths[k], &so->owned[k], d)) != 0)
			return (error);
		*paths[k] = so->owned[k];
	}
	return (0);
}

void
stack_opts_free(struct stack_opts *so)
{
	int k;

	for (k = 0; k < 5; k++) {
		free(so->owned[k]);
		so->owned[k] = NULL;
	}
}

/* The RAM upper's "mem:SIZE" (a size, or N% of the lower) into the spec. */
static int
spec_ram(const char *upper, struct stack_spec *s, struct diag *d)
{
	const char *v = upper + 4;
	size_t n = strlen(v);
	uint64_t pct;

	s->upper = STACK_UPPER_RAM;
	if (n > 1 && v[n - 1] == '%' &&
	    cli_parse_size_pct(v, 100, &pct) == 0) {
		s->ram_pct = (unsigned)pct;	/* 0%: ram_cap 0 */
		return (0);
	}
	if (cli_parse_size(v, &s->ram_cap) == 0)
		return (0);
	return (diag_set(d, EINVAL, "--upper %s: '%s' is not a size (64M, "
	    "2G) or a share of the lower (10%%)", upper, v));
}

/* A URL lower's events, on stderr. */
static void
net_event(enum bdev_fill_event ev, uint64_t have, uint64_t total,
    const char *msg, void *arg)
{
	struct stack_opts *so = arg;

	switch (ev) {
	case BDEV_FILL_PROGRESS:
		if (so->verbose)
			fprintf(stderr, "liveroot %s: image %ju%% in RAM "
			    "(%ju of %ju bytes)\n", cli_verb,
			    (uintmax_t)(have * 100 / (total > 0 ? total : 1)),
			    (uintmax_t)have, (uintmax_t)total);
		break;
	case BDEV_FILL_STALLED:
		fprintf(stderr, "liveroot %s: the background fill stalled, "
		    "retrying: %s\n", cli_verb, msg != NULL ? msg : "");
		break;
	case BDEV_FILL_RESUMED:
		fprintf(stderr, "liveroot %s: the background fill resumed "
		    "(%ju of %ju bytes in RAM)\n", cli_verb, (uintmax_t)have,
		    (uintmax_t)total);
		break;
	case BDEV_FILL_COMPLETE:
		fprintf(stderr, "liveroot %s: image complete in RAM (%ju "
		    "bytes): the network is no longer needed\n", cli_verb,
		    (uintmax_t)total);
		break;
	case BDEV_FILL_STOPPED:
		fprintf(stderr, "liveroot %s: the background fill stopped: "
		    "%s\n", cli_verb, msg != NULL ? msg : "");
		break;
	}
}

static void
net_log(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "liveroot %s: %s\n", cli_verb, msg);
}

int
stack_spec_of(struct stack_opts *so, struct stack_spec *s, struct diag *d)
{
	const char *upper = so->overlay != NULL ? so->overlay : so->upper;
	int url = stack_is_url(so->lower);

	memset(s, 0, sizeof(*s));
	if (!url && (so->no_prefetch || so->fill_share != 0 ||
	    so->connections != 0))
		return (diag_set(d, EINVAL, "--no-prefetch, --fill-share and "
		    "--connections tune a --lower given as an http(s):// URL: "
		    "drop them"));
	if (!url && so->ca_file != NULL && !stack_is_url(so->hashes))
		return (diag_set(d, EINVAL, "--ca-file is for an https:// "
		    "--lower or --hashes: drop it"));
	if (url && so->upper != NULL && strncmp(so->upper, "mem:", 4) != 0)
		return (diag_set(d, EINVAL, "a --lower URL is read over HTTP: "
		    "a persistent --upper FILE needs a local lower; use "
		    "--upper mem:SIZE, or download the image first"));
	if (url || stack_is_url(so->hashes)) {
		memset(&so->net, 0, sizeof(so->net));
		so->net.ca_file = so->ca_file;
		so->net.connections = so->connections;
		so->net.fill_share = so->fill_share;
		so->net.no_prefetch = so->no_prefetch;
		so->net.event = net_event;
		so->net.log = net_log;
		so->net.arg = so;
		s->net = &so->net;
	}
	s->hashes_path = so->hashes;
	if (so->overlay != NULL) {
		if (so->upper != NULL || so->lower != NULL ||
		    so->writable_lower)
			return (diag_set(d, EINVAL, "--overlay names the whole "
			    "stack: drop --lower, --upper and "
			    "--writable-lower"));
	} else if (so->lower == NULL)
		return (diag_set(d, EINVAL, "no --lower image given"));
	else if (so->writable_lower && (so->upper != NULL || so->readonly))
		return (diag_set(d, EINVAL, "--writable-lower writes into the "
		    "lower itself: drop it, or drop %s", so->readonly ?
		    "--readonly" : "--upper"));
	s->lower = so->lower;
	s->uzip = so->raw ? STACK_UZIP_NO : STACK_UZIP_AUTO;
	s->granule = so->granule;
	s->cache = so->cache;
	s->workers = so->workers;
	s->flags = (so->readonly ? STACK_READONLY : 0) |
	    (so->writable_lower ? STACK_WRITABLE_LOWER : 0);
	if (upper != NULL && strncmp(upper, "mem:", 4) == 0)
		return (spec_ram(upper, s, d));
	if (upper != NULL) {
		s->upper = STACK_UPPER_FILE;
		s->upper_path = upper;
		if (so->overlay == NULL)
			s->flags |= STACK_CREATE;
	}
	return (0);
}

int
stack_build(struct stack_opts *so, struct bdev **out, struct diag *d)
{
	struct stack_spec s;
	char *map;
	int error, exists;

	if ((error = stack_spec_of(so, &s, d)) != 0)
		return (error);
	if (so->overlay != NULL) {
		if ((map = bdev_rowr_map_path(so->overlay)) == NULL)
			return (diag_set(d, ENOMEM, "out of memory"));
		exists = access(map, F_OK) == 0;
		free(map);
		if (!exists)
			return (diag_set(d, ENOENT, "--overlay %s: no overlay "
			    "map %s.rowrmap: create one with --lower FILE "
			    "--upper %s", so->overlay, so->overlay,
			    so->overlay));
	}
	return (stack_open(&s, out, d));
}

void
stack_print_stats(FILE *f, struct bdev *top)
{
	struct bdev_rowr_stats rs;
	struct bdev_uzip_stats us;
	struct bdev_fill_stats fs;
	struct bdev *b;

	fprintf(f, "stack: %s, %ju bytes\n", top->desc, (uintmax_t)top->size);
	if (bdev_is_rowr(top)) {
		bdev_rowr_get_stats(top, &rs);
		fprintf(f, "overlay: granule %ju, %ju granules written, "
		    "map %ju bytes, read %ju lower / %ju upper bytes, "
		    "wrote %ju bytes, upper uses %ju bytes\n",
		    (uintmax_t)rs.granule, (uintmax_t)rs.granules_written,
		    (uintmax_t)rs.map_bytes, (uintmax_t)rs.bytes_read_lower,
		    (uintmax_t)rs.bytes_read_upper,
		    (uintmax_t)rs.bytes_written,
		    (uintmax_t)rs.upper_bytes_used);
	}
	for (b = top; b != NULL; b = b->lower)
		if (bdev_uzip_stats(b, &us) == 0) {
			fprintf(f, "uzip: cache %u clusters, %u workers, "
			    "%ju hits, %ju misses, %ju read-ahead, "
			    "%ju waits, %ju zero\n", us.cache_clusters,
			    us.workers, (uintmax_t)us.hits,
			    (uintmax_t)us.misses, (uintmax_t)us.readahead,
			    (uintmax_t)us.waits, (uintmax_t)us.zero);
			break;
		}
	for (b = top; b != NULL; b = b->lower)
		if (bdev_fill_stats(b, &fs) == 0) {
			fprintf(f, "fill: %ju of %ju bytes in RAM%s%s, demand "
			    "%ju fetches (%ju bytes), background %ju fetches "
			    "(%ju bytes), %ju reads from RAM alone\n",
			    (uintmax_t)fs.have, (uintmax_t)fs.total,
			    fs.complete ? ", complete" : "",
			    fs.stopped ? ", stopped" : "",
			    (uintmax_t)fs.demand_fetches,
			    (uintmax_t)fs.demand_bytes,
			    (uintmax_t)fs.bg_fetches, (uintmax_t)fs.bg_bytes,
			    (uintmax_t)fs.hits);
			break;
		}
}

void
stack_print_net_stats(FILE *f, const struct stack_opts *so)
{
	const struct bdev_http_stats *h = &so->net.http;

	if (so->net.fell_back)
		fprintf(f, "http: no ranges: downloaded the whole image, %ju "
		    "bytes\n", (uintmax_t)so->net.fetched);
	else if (so->net.http_done)
		fprintf(f, "http: %ju requests, %ju bytes, %ju retries, %ju "
		    "reads, %ju failed%s\n", (uintmax_t)h->requests,
		    (uintmax_t)h->bytes, (uintmax_t)h->retries,
		    (uintmax_t)h->reads, (uintmax_t)h->failed,
		    h->stale ? ", the file changed on the server" : "");
}
