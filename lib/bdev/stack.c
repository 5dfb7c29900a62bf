/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stack.c - build the block stack a struct stack_spec describes (stack.h):
 * the lower file or the given device, bdev_uzip when the spec says so, then
 * rowr over a RAM upper or a persistent overlay on files.
 *
 * A lower named by a URL (stack.h) is http -> fill, started here; when the
 * caller gave a struct stack_net, a pure tap sits between them whose only
 * work is to copy the http layer's final counts into it as the fill drops
 * the http layer (on completion, or with the stack), since the fill keeps
 * its lower to itself.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/fetch.h>
#include <liveroot/fill.h>
#include <liveroot/fmt_uzip.h>
#include <liveroot/http.h>
#include <liveroot/rowr.h>
#include <liveroot/stack.h>
#include <liveroot/uzip.h>

/* The largest hashes file read from a URL. */
#define STACK_HASHES_MAX	(64u << 20)

int
stack_is_url(const char *path)
{
	return (path != NULL && (strncmp(path, "http://", 7) == 0 ||
	    strncmp(path, "https://", 8) == 0));
}

/* --- a lower over HTTP ---------------------------------------------------- */

struct httptap {
	struct bdev		 b;
	struct stack_net	*net;		/* borrowed: the caller's */
};

static void
httptap_destroy(struct bdev *b)
{
	struct httptap *t = (struct httptap *)b;

	if (bdev_http_stats(b->lower, &t->net->http) == 0)
		t->net->http_done = 1;
	free(t);
}

static const struct bdev_ops httptap_ops = {
	.name = "httptap",
	.destroy = httptap_destroy,
};

/*
 * The whole file at url into RAM (a server without ranges, or a hashes
 * file): a read-only mem device in *out.
 */
static int
fetch_whole(const char *url, const struct stack_net *net, struct bdev **out,
    uint64_t *size, struct diag *d)
{
	struct fetch_opts fo;
	struct fetch_result r;
	int error;

	memset(&fo, 0, sizeof(fo));
	fo.url = url;
	if (net != NULL) {
		fo.ca_file = net->ca_file;
		fo.log = net->log;
		fo.arg = net->arg;
	}
	memset(&r, 0, sizeof(r));
	if ((error = net_fetch_mem(&fo, out, &r, d)) != 0)
		return (error);
	*size = r.size;
	return (0);
}

/* The lower at a URL: http -> [tap] -> fill, not started yet; or the whole
 * file in RAM when the server has no ranges. */
static int
net_lower(const struct stack_spec *s, struct bdev **out, struct diag *d)
{
	struct stack_net *net = s->net;
	struct bdev_http_opts ho;
	struct bdev_fill_opts fo;
	struct httptap *t;
	struct bdev *h, *f;
	uint64_t fetched;
	char red[160], msg[400];
	int error;

	memset(&ho, 0, sizeof(ho));
	memset(&fo, 0, sizeof(fo));
	ho.url = s->lower;
	fo.prefetch = 1;
	if (net != NULL) {
		ho.ca_file = net->ca_file;
		ho.connections = net->connections;
		ho.log = net->log;
		ho.arg = net->arg;
		fo.share_pct = net->fill_share;
		fo.prefetch = !net->no_prefetch;
		fo.event = net->event;
		fo.arg = net->arg;
	}
	if ((error = bdev_http_open(&ho, &h, d)) == ENOTSUP) {
		net_url_redact(s->lower, red, sizeof(red));
		if (net != NULL && net->log != NULL) {
			snprintf(msg, sizeof(msg), "%s: the server does not "
			    "answer Range requests: downloading the whole "
			    "image into RAM instead", red);
			net->log(msg, net->arg);
		}
		diag_clear(d);
		if ((error = fetch_whole(s->lower, net, out, &fetched, d)) !=
		    0)
			return (error);
		if (net != NULL) {
			net->fell_back = 1;
			net->fetched = fetched;
		}
		return (0);
	}
	if (error != 0)
		return (error);
	if (net != NULL) {
		if ((t = calloc(1, sizeof(*t))) == NULL) {
			bdev_destroy(h);
			return (diag_set(d, ENOMEM, "out of memory"));
		}
		t->net = net;
		bdev_init(&t->b, &httptap_ops, h->size, h->blksize, 1, h,
		    "%s", h->desc);
		h = &t->b;
	}
	if ((error = bdev_fill_new(h, &fo, &f, d)) != 0) {
		bdev_destroy(h);
		return (error);
	}
	*out = f;
	return (0);
}

/*
 * A hashes file named by a URL, fetched whole into a malloc'ed buffer
 * (*buf, *len), bounded by STACK_HASHES_MAX.
 */
static int
net_hashes(const struct stack_spec *s, void **buf, size_t *len,
    struct diag *d)
{
	struct bdev *m;
	uint64_t size;
	int error;

	if ((error = fetch_whole(s->hashes_path, s->net, &m, &size, d)) != 0)
		return (diag_prefix(d, "the hashes file: "));
	if (m->size > STACK_HASHES_MAX) {
		error = diag_set(d, EFBIG, "the hashes file is %ju bytes, "
		    "more than any image needs (%u): check its URL",
		    (uintmax_t)m->size, STACK_HASHES_MAX);
		goto out;
	}
	if ((*buf = malloc(m->size > 0 ? (size_t)m->size : 1)) == NULL) {
		error = diag_set(d, ENOMEM, "out of memory");
		goto out;
	}
	*len = (size_t)m->size;
	if (m->size > 0 && (error = bdev_read(m, *buf, *len, 0, d)) != 0) {
		free(*buf);
		*buf = NULL;
	}
out:
	bdev_destroy(m);
	return (error);
}

/*
 * *yes = 1 when the device starts with a uzip magic.  A read error is the
 * error (an HTTP lower that now serves another file says so here), never
 * "not a uzip image".
 */
static int
uzip_magic(struct bdev *b, int *yes, struct diag *d)
{
	uint8_t hdr[FMT_UZIP_HDRLEN];
	int error;

	*yes = 0;
	if (b->size < sizeof(hdr))
		return (0);
	if ((error = bdev_read(b, hdr, sizeof(hdr), 0, d)) != 0)
		return (diag_prefix(d, "reading the image's header: "));
	*yes = fmt_uzip_probe(hdr, sizeof(hdr));
	return (0);
}

/*
 * Stacks uzip on img as s->uzip says; *out is img itself or the uzip layer
 * (which then owns img).  img stays the caller's on failure.
 */
static int
stack_uzip(struct bdev *img, const struct stack_spec *s, struct bdev **out,
    int *isuzip, struct diag *d)
{
	struct bdev_uzip_opts uo = { .cache_clusters = s->cache,
	    .workers = s->workers, .hashes_path = s->hashes_path,
	    .hashes = s->hashes, .hashes_len = s->hashes_len,
	    .hashes_name = s->hashes_name };
	void *hbuf = NULL;
	char red[160];
	int error, magic = 0;

	*isuzip = 0;
	*out = img;
	if (s->uzip != STACK_UZIP_NO &&
	    (error = uzip_magic(img, &magic, d)) != 0)
		return (error);
	if (s->uzip == STACK_UZIP_NO || !magic) {
		if (s->hashes_path != NULL || s->hashes != NULL)
			return (diag_set(d, EINVAL, "a hashes file was given "
			    "but the image is not read as a uzip image"));
		if (s->uzip == STACK_UZIP_NO)
			return (0);
		if (s->uzip == STACK_UZIP_YES)
			return (diag_set(d, EINVAL, "not a uzip image (no "
			    "uzip magic at its start)"));
		return (0);
	}
	if (stack_is_url(s->hashes_path)) {
		if ((error = net_hashes(s, &hbuf, &uo.hashes_len, d)) != 0)
			return (error);
		uo.hashes = hbuf;
		uo.hashes_path = NULL;
		if (uo.hashes_name == NULL) {
			net_url_redact(s->hashes_path, red, sizeof(red));
			uo.hashes_name = red;
		}
	}
	error = bdev_uzip_new(img, &uo, out, d);
	free(hbuf);
	if (error != 0) {
		*out = img;
		return (error);
	}
	*isuzip = 1;
	return (0);
}

/* Opens the lower at path (writable when asked and not a uzip image). */
static int
open_lower(const struct stack_spec *s, const char *path, int writable,
    struct bdev **out, struct diag *d)
{
	struct bdev *f;
	char red[160];
	int error, uz;

	if (stack_is_url(path)) {
		net_url_redact(path, red, sizeof(red));
		if (writable || (s->flags & STACK_LOWER_RW))
			return (diag_set(d, EROFS, "%s is read over HTTP, "
			    "which is read-only: put a RAM overlay over it",
			    red));
		if ((error = net_lower(s, &f, d)) != 0)
			return (error);
		if ((error = stack_uzip(f, s, out, &uz, d)) != 0) {
			bdev_destroy(f);
			return (diag_prefix(d, "%s: ", red));
		}
		/* After the uzip header and table came in by demand: a
		 * demand read of a chunk in the filler's run waits for the
		 * whole run. */
		if (bdev_is_fill(f) && (error = bdev_fill_start(f, d)) != 0) {
			bdev_destroy(*out);
			return (error);
		}
		return (0);
	}
	if ((error = bdev_file_open(path, BDEV_FILE_RDONLY, 0, &f, d)) != 0)
		return (error);
	if ((error = stack_uzip(f, s, out, &uz, d)) != 0) {
		bdev_destroy(f);
		return (diag_prefix(d, "%s: ", path));
	}
	if (uz && (s->flags & STACK_LOWER_RW)) {
		bdev_destroy(*out);
		return (diag_set(d, EROFS, "%s is a uzip image, which is "
		    "read-only: nothing can be committed into it; keep the "
		    "overlay, or revert or drop it", path));
	}
	if (uz || !writable)
		return (0);
	bdev_destroy(f);
	return (bdev_file_open(path, 0, 0, out, d));
}

static int
ram_overlay(const struct stack_spec *s, struct bdev *lower, struct bdev **out,
    struct diag *d)
{
	struct bdev_rowr_opts ro = { .granule = s->granule };
	struct bdev *mem;
	uint64_t cap;
	int error;

	cap = s->ram_pct != 0 ? (uint64_t)((long double)lower->size *
	    LR_MIN(s->ram_pct, 100u) / 100) : s->ram_cap;
	if ((error = bdev_mem_new(lower->size, cap, &mem, d)) != 0)
		return (error);
	if ((error = bdev_rowr_new(lower, mem, &ro, out, d)) != 0)
		bdev_destroy(mem);
	return (error);
}

/* Makes a new overlay (upper file and map) on the lower at lower_path. */
static int
create_overlay(const struct stack_spec *s, const char *lower_path,
    const char *map, struct diag *d)
{
	struct bdev_rowr_opts ro = { .granule = s->granule };
	struct bdev *lower = NULL, *upper = NULL, *b;
	struct stat lst, ust;
	const char *up = s->upper_path;
	char *abs = NULL;
	int error, created = 0;

	if ((error = open_lower(s, lower_path, 0, &lower, d)) != 0) {
		diag_prefix(d, "lower: ");
		goto out;
	}
	if ((abs = realpath(lower_path, NULL)) == NULL) {
		error = diag_set(d, errno, "%s: %s", lower_path,
		    strerror(errno));
		goto out;
	}
	if (stat(up, &ust) == 0) {
		if (stat(abs, &lst) == 0 && lst.st_dev == ust.st_dev &&
		    lst.st_ino == ust.st_ino) {
			error = diag_set(d, EINVAL, "the upper %s is the lower "
			    "itself: name another file", up);
			goto out;
		}
		if (S_ISREG(ust.st_mode) && (uint64_t)ust.st_size <
		    lower->size) {
			error = diag_set(d, EINVAL, "the upper %s is %ju "
			    "bytes, smaller than the union (the lower %s, %ju "
			    "bytes): make it at least %ju bytes (truncate -s "
			    "%ju %s), or remove it and let create make it", up,
			    (uintmax_t)ust.st_size, lower_path,
			    (uintmax_t)lower->size, (uintmax_t)lower->size,
			    (uintmax_t)lower->size, up);
			goto out;
		}
	} else
		created = 1;
	if ((error = bdev_file_open(up, created ? BDEV_FILE_CREATE : 0,
	    lower->size, &upper, d)) != 0) {
		diag_prefix(d, "upper: ");
		goto out;
	}
	if ((error = bdev_rowr_open_persistent(lower, upper, map, abs, &ro,
	    BDEV_ROWR_CREATE, &b, d)) != 0)
		goto out;
	lower = upper = NULL;
	bdev_destroy(b);
out:
	bdev_destroy(upper);
	bdev_destroy(lower);
	if (error != 0 && created)
		(void)unlink(up);
	free(abs);
	return (error);
}

/* Opens an existing overlay on files; the map names the lower. */
static int
open_overlay(const struct stack_spec *s, const char *lower_path,
    const char *map, struct bdev **out, struct diag *d)
{
	struct bdev *lower = NULL, *upper = NULL;
	int error;

	if ((error = open_lower(s, lower_path, (s->flags & STACK_LOWER_RW) !=
	    0, &lower, d)) != 0)
		return (diag_prefix(d, "overlay %s: lower: ", s->upper_path));
	if ((error = bdev_rowr_open_upper(s->upper_path,
	    (s->flags & STACK_READONLY) != 0, &upper, d)) != 0)
		goto fail;
	if ((error = bdev_rowr_open_persistent(lower, upper, map, NULL, NULL,
	    (s->flags & STACK_RESUME) ? BDEV_ROWR_RESUME : 0, out, d)) != 0)
		goto fail;
	return (0);
fail:
	bdev_destroy(upper);
	bdev_destroy(lower);
	return (error);
}

static int
file_overlay(const struct stack_spec *s, struct bdev **out, struct diag *d)
{
	struct bdev_rowr_info *info = NULL;
	const char *lower_path = s->lower, *mp = s->map_path;
	char *map = NULL;
	int error;

	if (mp == NULL && (mp = map = bdev_rowr_map_path(s->upper_path)) ==
	    NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if (access(mp, F_OK) == 0 || !(s->flags & STACK_CREATE)) {
		if ((info = malloc(sizeof(*info))) == NULL) {
			error = diag_set(d, ENOMEM, "out of memory");
			goto out;
		}
		if ((error = bdev_rowr_read_info(mp, info, d)) != 0)
			goto out;
		/* A lower named by the caller wins over the recorded path
		 * (a boot's persistence file read on another machine: the
		 * map records where the boot found the image); the identity
		 * check decides either way. */
		if (lower_path == NULL)
			lower_path = info->lower_path;
	} else if (lower_path == NULL) {
		error = diag_set(d, EINVAL, "%s: no overlay there yet: name "
		    "its lower to create one", s->upper_path);
		goto out;
	} else if ((error = create_overlay(s, lower_path, mp, d)) != 0)
		goto out;
	error = open_overlay(s, lower_path, mp, out, d);
out:
	free(info);
	free(map);
	return (error);
}

/*
 * A persistent overlay on an open lower (the boot's: its image has no path
 * of its own): the map at s->map_path (or UPPER.rowrmap) is opened, or,
 * with STACK_CREATE and no map yet, made, with the upper file (created
 * sparse at the union size, or an existing one left by a boot cut short
 * before its map was written, if big enough) and s->lower recorded as the
 * lower's description.  The lower's identity is checked either way
 * (rowr.h).  Owns lower on success.
 */
static int
file_overlay_on(struct bdev *lower, const struct stack_spec *s,
    struct bdev **out, struct diag *d)
{
	struct bdev_rowr_opts ro = { .granule = s->granule };
	struct bdev *upper = NULL;
	const char *up = s->upper_path, *mp = s->map_path;
	char *map = NULL;
	struct stat st;
	int error, created = 0;

	if (up == NULL)
		return (diag_set(d, EINVAL, "no upper file named"));
	if (mp == NULL && (mp = map = bdev_rowr_map_path(up)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if (access(mp, F_OK) == 0) {
		if ((error = bdev_rowr_open_upper(up, (s->flags &
		    STACK_READONLY) != 0, &upper, d)) == 0 &&
		    (error = bdev_rowr_open_persistent(lower, upper, mp, NULL,
		    NULL, 0, out, d)) != 0)
			bdev_destroy(upper);
		goto out;
	}
	if (!(s->flags & STACK_CREATE)) {
		error = diag_set(d, ENOENT, "%s: no overlay there (no %s)",
		    up, mp);
		goto out;
	}
	if (stat(up, &st) == 0) {
		if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size <
		    lower->size) {
			error = diag_set(d, EINVAL, "%s is there without its "
			    "map %s and is %s: remove it, or name another "
			    "file", up, mp, S_ISREG(st.st_mode) ?
			    "smaller than the union" : "not a regular file");
			goto out;
		}
	} else
		created = 1;
	if ((error = bdev_file_open(up, created ? BDEV_FILE_CREATE : 0,
	    lower->size, &upper, d)) != 0) {
		if (error == EFBIG)
			diag_set(d, error, "%s: the file system cannot hold a "
			    "file of %ju bytes (FAT32 stops at 4 GiB): keep "
			    "it on exFAT or ext4", up, (uintmax_t)lower->size);
		else if (error == ENOSPC)
			diag_set(d, error, "%s: no room for a file of %ju bytes "
			    "(FAT and exFAT need all of it at once, ext4 only "
			    "what is written): free some space, or keep it on "
			    "another partition", up, (uintmax_t)lower->size);
		else
			diag_prefix(d, "upper: ");
		if (created)
			(void)unlink(up);
		goto out;
	}
	if ((error = bdev_rowr_open_persistent(lower, upper, mp, s->lower, &ro,
	    BDEV_ROWR_CREATE, out, d)) != 0) {
		bdev_destroy(upper);
		if (created)
			(void)unlink(up);
	}
out:
	free(map);
	return (error);
}

int
stack_open_on(struct bdev *img, const struct stack_spec *s,
    struct bdev **out, int *uzip, struct diag *d)
{
	struct bdev *lower;
	int error, uz;

	if ((error = stack_uzip(img, s, &lower, &uz, d)) != 0) {
		bdev_destroy(img);
		return (error);
	}
	if ((s->upper == STACK_UPPER_RAM &&
	    (error = ram_overlay(s, lower, out, d)) != 0) ||
	    (s->upper == STACK_UPPER_FILE &&
	    (error = file_overlay_on(lower, s, out, d)) != 0)) {
		bdev_destroy(lower);
		return (error);
	}
	if (s->upper == STACK_UPPER_NONE)
		*out = lower;
	if (uzip != NULL)
		*uzip = uz;
	return (0);
}

int
stack_check_on(struct bdev *img, const struct stack_spec *s, struct diag *d)
{
	struct stack_spec c = *s;
	struct bdev *b;
	int error;

	c.upper = STACK_UPPER_NONE;
	c.cache = 1;
	c.workers = 1;
	bdev_ref(img);		/* stack_open_on consumes this reference */
	if ((error = stack_open_on(img, &c, &b, NULL, d)) != 0)
		return (error);
	bdev_destroy(b);
	return (0);
}

static int
no_net_overlay(struct diag *d)
{
	return (diag_set(d, EINVAL, "a persistent overlay needs a lower "
	    "image on a local file, not a URL: download it first, or use a "
	    "RAM overlay"));
}

int
stack_open(const struct stack_spec *s, struct bdev **out, struct diag *d)
{
	struct bdev *lower;
	int error;

	if (s->upper == STACK_UPPER_FILE) {
		if (s->upper_path == NULL)
			return (diag_set(d, EINVAL, "no upper file named"));
		if (stack_is_url(s->lower))
			return (no_net_overlay(d));
		return (file_overlay(s, out, d));
	}
	if (s->lower == NULL)
		return (diag_set(d, EINVAL, "no lower image named"));
	if ((error = open_lower(s, s->lower, s->upper == STACK_UPPER_NONE &&
	    (s->flags & STACK_WRITABLE_LOWER), &lower, d)) != 0)
		return (error);
	if (s->upper == STACK_UPPER_NONE) {
		*out = lower;
		return (0);
	}
	if ((error = ram_overlay(s, lower, out, d)) != 0)
		bdev_destroy(lower);
	return (error);
}

static int
str_equal(const char *a, const char *b)
{
	return (a == b || (a != NULL && b != NULL && strcmp(a, b) == 0));
}

/* The settings of two stack_net (NULL: the defaults), not their outputs. */
static int
net_equal(const struct stack_net *a, const struct stack_net *b)
{
	static const struct stack_net none;

	a = a != NULL ? a : &none;
	b = b != NULL ? b : &none;
	return (str_equal(a->ca_file, b->ca_file) &&
	    a->connections == b->connections &&
	    a->fill_share == b->fill_share &&
	    a->no_prefetch == b->no_prefetch);
}

int
stack_spec_equal(const struct stack_spec *a, const struct stack_spec *b)
{
	return (str_equal(a->lower, b->lower) && a->uzip == b->uzip &&
	    a->upper == b->upper && a->ram_cap == b->ram_cap &&
	    a->ram_pct == b->ram_pct &&
	    str_equal(a->upper_path, b->upper_path) &&
	    str_equal(a->map_path, b->map_path) && a->granule == b->granule &&
	    a->cache == b->cache && a->workers == b->workers &&
	    a->flags == b->flags &&
	    str_equal(a->hashes_path, b->hashes_path) &&
	    a->hashes == b->hashes && a->hashes_len == b->hashes_len &&
	    net_equal(a->net, b->net));
}

/* --- overlays on files, by the upper's path ------------------------------ */

int
stack_create(const struct stack_spec *s, struct diag *d)
{
	char *map = NULL;
	const char *mp = s->map_path;
	struct stat st;
	int error;

	if (s->upper != STACK_UPPER_FILE || s->upper_path == NULL ||
	    s->lower == NULL)
		return (diag_set(d, EINVAL, "a persistent overlay needs a "
		    "lower and an upper file"));
	if (stack_is_url(s->lower))
		return (no_net_overlay(d));
	if (mp == NULL && (mp = map = bdev_rowr_map_path(s->upper_path)) ==
	    NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if (stat(mp, &st) == 0)
		error = diag_set(d, EEXIST, "%s is already an overlay (%s "
		    "exists): use it, or drop it first", s->upper_path, mp);
	else
		error = create_overlay(s, s->lower, mp, d);
	free(map);
	return (error);
}

int
bdev_rowr_create_files(const char *lower_path, const char *upper_path,
    const struct bdev_rowr_opts *o, struct diag *d)
{
	struct stack_spec s = { .lower = lower_path, .upper = STACK_UPPER_FILE,
	    .upper_path = upper_path, .granule = o != NULL ? o->granule : 0 };

	return (stack_create(&s, d));
}

int
bdev_rowr_open_files_flags(const char *upper_path, int flags,
    struct bdev **out, struct diag *d)
{
	struct stack_spec s = { .upper = STACK_UPPER_FILE,
	    .upper_path = upper_path };

	if (flags & BDEV_ROWR_RDONLY)
		s.flags |= STACK_READONLY;
	if (flags & BDEV_ROWR_LOWER_RW)
		s.flags |= STACK_LOWER_RW;
	if (flags & BDEV_ROWR_RESUME)
		s.flags |= STACK_RESUME;
	return (stack_open(&s, out, d));
}

int
bdev_rowr_open_files(const char *upper_path, int readonly, struct bdev **out,
    struct diag *d)
{
	return (bdev_rowr_open_files_flags(upper_path,
	    readonly ? BDEV_ROWR_RDONLY : 0, out, d));
}
