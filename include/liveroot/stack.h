/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stack.h - one description of a root block stack, and one function that
 * builds it: lower -> uzip (when the spec says so) -> rowr -> upper.
 *
 * Every front end turns its own input into a struct stack_spec: `liveroot
 * serve`, `mount-file` and `overlay` their options, liveroot-init its plan
 * (plan_stack_spec in chain.h).  stack_open() builds the stack bottom-up
 * (the lower file or the given device, then bdev_uzip, then rowr); a
 * half-built stack unwinds in reverse, and each constructor owns its lower
 * only once it succeeded (bdev.h).
 *
 * The lower of an overlay is the device the spec exposes: for a uzip image,
 * the decompressed image (the union has the uncompressed size); the
 * identity recorded in a persistent map is that of the image file (rowr.h).
 * An overlay created by `overlay create X.uzip UPPER` and one opened by
 * `serve --overlay UPPER` therefore agree on the lower.
 *
 * A lower named by an http:// or https:// URL is the lazy network root of
 * issue 13: bdev_http (fill.h's lower) -> bdev_fill (a RAM copy filled on
 * demand and, unless no_prefetch, in the background; started here, so
 * build the stack in the process that serves it) -> uzip -> rowr.  A
 * server without Range support (ENOTSUP) is downloaded whole into RAM
 * instead (net_fetch_mem) and net->fell_back says so.  A hashes file may
 * then be a URL too: it is fetched whole into RAM first.  Such a lower
 * takes no persistent overlay and no writes.
 *
 * Library messages name files and the fix, never a command (the caller
 * adds it).  Not thread-safe while building; the built stack is.
 */
#ifndef LIVEROOT_STACK_H
#define LIVEROOT_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "bdev.h"
#include "fill.h"
#include "http.h"
#include "rowr.h"

enum stack_uzip {
	STACK_UZIP_AUTO = 0,	/* decompress when the lower has the magic */
	STACK_UZIP_YES,		/* the lower must be a uzip image */
	STACK_UZIP_NO		/* expose the lower's bytes as they are */
};

enum stack_upper {
	STACK_UPPER_NONE = 0,	/* the lower alone */
	STACK_UPPER_RAM,	/* rowr over a capped RAM upper */
	STACK_UPPER_FILE	/* a persistent overlay: upper file + map */
};

/* stack_spec.flags */
#define STACK_READONLY		0x01	/* refuse writes */
#define STACK_WRITABLE_LOWER	0x02	/* no upper: write into the lower */
#define STACK_CREATE		0x04	/* file upper: create it if no map */
#define STACK_LOWER_RW		0x08	/* file upper: open the lower rw */
#define STACK_RESUME		0x10	/* file upper: a map whose commit was
					 * interrupted (commit only) */

/*
 * For a lower given as a URL: the caller's settings, and what stack_open()
 * reports back.  Caller-owned; it must outlive the stack (the callbacks
 * and `http` are used until the stack is destroyed).
 */
struct stack_net {
	const char	*ca_file;	/* CA bundle (PEM); NULL: libcurl's */
	unsigned	 connections;	/* 0: BDEV_HTTP_CONNS_DEFAULT */
	unsigned	 fill_share;	/* background share, 1..100; 0: 100 */
	int		 no_prefetch;	/* demand reads only */
	/* The fill's events (fill.h) and the http layer's log lines, from
	 * any thread; may be NULL. */
	void		(*event)(enum bdev_fill_event ev, uint64_t have,
			    uint64_t total, const char *msg, void *arg);
	void		(*log)(const char *msg, void *arg);
	void		*arg;
	/* Out. */
	int		 fell_back;	/* no ranges: the image was downloaded
					   whole (fetched bytes: fetched) */
	uint64_t	 fetched;
	int		 http_done;	/* `http` holds the http layer's final
					   counts (it was dropped: complete, or
					   the stack destroyed) */
	struct bdev_http_stats http;
};

/* 1 when path is an http:// or https:// URL (a network lower). */
int	stack_is_url(const char *path);

struct stack_spec {
	const char	*lower;		/* image path; NULL: the device given to
					 * stack_open_on, or (file upper) the
					 * lower recorded in the map */
	enum stack_uzip	 uzip;
	enum stack_upper upper;
	uint64_t	 ram_cap;	/* RAM upper: cap in bytes */
	unsigned	 ram_pct;	/* RAM upper: 1..100 = cap is this share
					 * of the lower (ram_cap ignored) */
	const char	*upper_path;	/* file upper */
	const char	*map_path;	/* file upper; NULL = UPPER.rowrmap */
	uint32_t	 granule;	/* 0 = rowr's default */
	unsigned	 cache;		/* uzip clusters cached; 0 = default */
	unsigned	 workers;	/* uzip workers; 0 = default */
	int		 flags;		/* STACK_* */
	/* uzip: IMAGE.hashes, a file or hashes_len bytes (uzip.h); every
	 * cluster read is checked before it is decompressed. */
	const char	*hashes_path;
	const void	*hashes;
	size_t		 hashes_len;
	const char	*hashes_name;
	/* A lower (or hashes_path) that is a URL: NULL = defaults. */
	struct stack_net *net;
};

/* Builds the stack a spec describes (spec->lower names the image). */
int	stack_open(const struct stack_spec *s, struct bdev **out,
	    struct diag *d);

/*
 * The same on an image already open (spec->lower is not opened).  A file
 * upper (the boot's persistence) opens the map at map_path (NULL:
 * UPPER.rowrmap), or with STACK_CREATE and no map makes one (the upper
 * created sparse at the union size) recording spec->lower as the lower's
 * description; the lower's identity is checked against the map either way
 * (BDEV_ROWR_ELOWER).  img is consumed: owned by the stack on success,
 * destroyed on failure.  *uzip (may be NULL) says whether a uzip layer was
 * stacked.
 */
int	stack_open_on(struct bdev *img, const struct stack_spec *s,
	    struct bdev **out, int *uzip, struct diag *d);

/*
 * Checks that the lower part of the stack can be built on img (a uzip
 * image's header and whole table are read and checked, with one cluster
 * cached and no worker thread), then drops it; img stays the caller's.
 */
int	stack_check_on(struct bdev *img, const struct stack_spec *s,
	    struct diag *d);

/* 1 when the spec's fields are equal (paths compared as strings). */
int	stack_spec_equal(const struct stack_spec *a,
	    const struct stack_spec *b);

/*
 * Makes a new persistent overlay (file upper): the lower (decompressed
 * when the spec says so), the upper file (created sparse at the union size
 * if absent; refused if smaller or the lower itself) and the map, which
 * must not exist (EEXIST).  Leaves it closed.
 */
int	stack_create(const struct stack_spec *s, struct diag *d);

/*
 * Persistent overlays on files, by their upper's path (the map is
 * UPPER.rowrmap).  create: the lower (decompressed when it is a uzip
 * image), the upper (created sparse at the union size if absent; refused
 * if smaller) and the map (must not exist).  open: by the lower the map
 * records; BDEV_ROWR_* flags (RDONLY, LOWER_RW, RESUME).
 */
int	bdev_rowr_create_files(const char *lower_path,
	    const char *upper_path, const struct bdev_rowr_opts *o,
	    struct diag *d);
int	bdev_rowr_open_files(const char *upper_path, int readonly,
	    struct bdev **out, struct diag *d);
int	bdev_rowr_open_files_flags(const char *upper_path, int flags,
	    struct bdev **out, struct diag *d);

#endif
