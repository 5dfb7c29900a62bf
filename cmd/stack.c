/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stack.c - see stack.h.  The stack is built bottom-up (file, then uzip when
 * the magic says so, then rowr); a half-built stack unwinds in reverse, and
 * each constructor owns its lower only once it succeeded (bdev.h).
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/fmt_uzip.h>
#include <liveroot/rowr.h>
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
"  --workers N         uzip decompression workers\n";

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
stack_absolute(struct stack_opts *so, struct diag *d)
{
	const char **paths[3] = { &so->lower, &so->upper, &so->overlay };
	int k, error;

	for (k = 0; k < 3; k++) {
		if (*paths[k] == NULL || so->owned[k] != NULL ||
		    (k == 1 && strncmp(*paths[k], "mem:", 4) == 0))
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

	for (k = 0; k < 3; k++) {
		free(so->owned[k]);
		so->owned[k] = NULL;
	}
}

/* Opens the lower file; stacks uzip when its magic says so. */
static int
open_lower(const struct stack_opts *so, int writable, struct bdev **out,
    struct diag *d)
{
	struct bdev_uzip_opts uo = { .cache_clusters = so->cache,
	    .workers = so->workers };
	struct bdev *f, *u;
	uint8_t hdr[FMT_UZIP_HDRLEN];
	int error, isuzip = 0;

	if ((error = bdev_file_open(so->lower, BDEV_FILE_RDONLY, 0, &f,
	    d)) != 0)
		return (error);
	if (!so->raw && f->size >= sizeof(hdr) &&
	    bdev_read(f, hdr, sizeof(hdr), 0, NULL) == 0 &&
	    fmt_uzip_probe(hdr, sizeof(hdr)))
		isuzip = 1;
	if (isuzip) {
		if ((error = bdev_uzip_new(f, &uo, &u, d)) != 0) {
			bdev_destroy(f);
			return (diag_prefix(d, "%s: ", so->lower));
		}
		*out = u;
		return (0);
	}
	if (writable) {
		bdev_destroy(f);
		return (bdev_file_open(so->lower, 0, 0, out, d));
	}
	*out = f;
	return (0);
}

static int
build_mem_overlay(const struct stack_opts *so, struct bdev *lower,
    struct bdev **out, struct diag *d)
{
	struct bdev_rowr_opts ro = { .granule = so->granule };
	struct bdev *mem, *top;
	uint64_t cap;
	int error;

	if (cli_parse_size_pct(so->upper + 4, lower->size, &cap) != 0)
		return (diag_set(d, EINVAL, "--upper %s: '%s' is not a size "
		    "(64M, 2G) or a share of the lower (10%%)", so->upper,
		    so->upper + 4));
	if ((error = bdev_mem_new(lower->size, cap, &mem, d)) != 0)
		return (error);
	if ((error = bdev_rowr_new(lower, mem, &ro, &top, d)) != 0) {
		bdev_destroy(mem);
		return (error);
	}
	*out = top;
	return (0);
}

/* 1 when the file at path starts with a uzip magic. */
static int
is_uzip_file(const char *path)
{
	uint8_t hdr[FMT_UZIP_HDRLEN];
	struct bdev *f;
	int yes = 0;

	if (bdev_file_open(path, BDEV_FILE_RDONLY, 0, &f, NULL) != 0)
		return (0);
	if (f->size >= sizeof(hdr) &&
	    bdev_read(f, hdr, sizeof(hdr), 0, NULL) == 0)
		yes = fmt_uzip_probe(hdr, sizeof(hdr));
	bdev_destroy(f);
	return (yes);
}

/* The upper of an existing overlay, locked like rowr's own helpers do. */
static int
open_locked_upper(const char *path, int rdonly, struct bdev **out,
    struct diag *d)
{
	int fd, error;

	if ((fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "upper %s: %s", path,
		    strerror(errno)));
	if (flock(fd, (rdonly ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
		error = errno == EWOULDBLOCK ? EBUSY : errno;
		close(fd);
		return (diag_set(d, error, "overlay %s is in use by another "
		    "process (an NBD server?): stop it first", path));
	}
	if ((error = bdev_file_from_fd(fd, path, rdonly ? BDEV_FILE_RDONLY :
	    0, out, d)) != 0)
		close(fd);
	return (error);
}

/*
 * A persistent overlay over a uzip lower.  rowr's file helpers open the
 * lower raw; here the lower is decompressed first, so the union has the
 * image's uncompressed size.  The map records the lower's path.
 */
static int
build_uzip_file_overlay(const struct stack_opts *so, const char *lower_path,
    const char *map, int create, struct bdev **out, struct diag *d)
{
	struct bdev_rowr_opts ro = { .granule = so->granule };
	struct stack_opts lo = *so;
	struct bdev *lower = NULL, *upper = NULL;
	char *abs = NULL;
	int error, made = 0;

	lo.lower = lower_path;
	lo.raw = 0;
	if ((error = open_lower(&lo, 0, &lower, d)) != 0)
		return (error);
	if (create) {
		if ((abs = realpath(lower_path, NULL)) == NULL) {
			error = diag_set(d, errno, "%s: %s", lower_path,
			    strerror(errno));
			goto fail;
		}
		made = access(so->upper, F_OK) != 0;
		if ((error = bdev_file_open(so->upper, BDEV_FILE_CREATE,
		    lower->size, &upper, d)) != 0)
			goto fail;
	} else if ((error = open_locked_upper(so->upper, so->readonly, &upper,
	    d)) != 0)
		goto fail;
	if ((error = bdev_rowr_open_persistent(lower, upper, map, abs, &ro,
	    create ? BDEV_ROWR_CREATE : 0, out, d)) != 0)
		goto fail;
	free(abs);
	return (0);
fail:
	bdev_destroy(upper);
	bdev_destroy(lower);
	if (made)
		(void)unlink(so->upper);
	free(abs);
	return (error);
}

static int
build_file_overlay(const struct stack_opts *so, struct bdev **out,
    struct diag *d)
{
	struct bdev_rowr_opts ro = { .granule = so->granule };
	struct bdev_rowr_info *info = NULL;
	const char *lower_path = so->lower;
	char *map;
	int error, exists;

	if ((map = bdev_rowr_map_path(so->upper)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	exists = access(map, F_OK) == 0;
	if (exists) {
		if ((info = malloc(sizeof(*info))) == NULL) {
			error = diag_set(d, ENOMEM, "out of memory");
			goto out;
		}
		if ((error = bdev_rowr_read_info(map, info, d)) != 0)
			goto out;
		lower_path = info->lower_path;
	} else if (lower_path == NULL) {
		error = diag_set(d, EINVAL, "%s: no overlay there yet; give "
		    "--lower to create one", so->upper);
		goto out;
	}
	if (!so->raw && is_uzip_file(lower_path)) {
		error = build_uzip_file_overlay(so, lower_path, map, !exists,
		    out, d);
		goto out;
	}
	if (!exists && (error = bdev_rowr_create_files(so->lower, so->upper,
	    &ro, d)) != 0)
		goto out;
	error = bdev_rowr_open_files(so->upper, so->readonly, out, d);
out:
	free(info);
	free(map);
	return (error);
}

int
stack_build(const struct stack_opts *so, struct bdev **out, struct diag *d)
{
	struct bdev *lower = NULL;
	int error;

	if (so->overlay != NULL) {
		struct stack_opts oo = *so;
		char *map;
		int exists;

		if (so->upper != NULL || so->lower != NULL ||
		    so->writable_lower)
			return (diag_set(d, EINVAL, "--overlay names the whole "
			    "stack: drop --lower, --upper and "
			    "--writable-lower"));
		if ((map = bdev_rowr_map_path(so->overlay)) == NULL)
			return (diag_set(d, ENOMEM, "out of memory"));
		exists = access(map, F_OK) == 0;
		free(map);
		if (!exists)
			return (diag_set(d, ENOENT, "--overlay %s: no overlay "
			    "map %s.rowrmap: create one with --lower FILE "
			    "--upper %s", so->overlay, so->overlay,
			    so->overlay));
		oo.upper = so->overlay;
		oo.overlay = NULL;
		return (build_file_overlay(&oo, out, d));
	}
	if (so->lower == NULL)
		return (diag_set(d, EINVAL, "no --lower image given"));
	if (so->writable_lower && (so->upper != NULL || so->readonly))
		return (diag_set(d, EINVAL, "--writable-lower writes into the "
		    "lower itself: drop it, or drop %s", so->readonly ?
		    "--readonly" : "--upper"));
	if (so->upper != NULL && strncmp(so->upper, "mem:", 4) != 0)
		return (build_file_overlay(so, out, d));
	if ((error = open_lower(so, so->upper == NULL && so->writable_lower,
	    &lower, d)) != 0)
		return (error);
	if (so->upper == NULL) {
		*out = lower;
		return (0);
	}
	if ((error = build_mem_overlay(so, lower, out, d)) != 0) {
		bdev_destroy(lower);
		return (error);
	}
	return (0);
}

void
stack_print_stats(FILE *f, struct bdev *top)
{
	struct bdev_rowr_stats rs;
	struct bdev_uzip_stats us;
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
}
