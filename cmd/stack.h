/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stack.h - the block-stack options shared by the verbs that expose one
 * (serve, mount-file): argv becomes a struct stack_spec (liveroot/stack.h),
 * which the library builds.
 *
 *   --lower FILE        the read-only base: a raw image or device, or a uzip
 *                       image (recognised by its magic; stacked under
 *                       bdev_uzip).  Without an upper it is exposed
 *                       read-only unless --writable-lower.
 *   --upper mem:SIZE    a RAM upper capped at SIZE (or N% of the lower):
 *                       rowr(lower, mem), writes lost at exit
 *   --upper FILE        a persistent overlay in FILE (+ FILE.rowrmap),
 *                       created on first use
 *   --overlay UPPER     open an existing persistent overlay by its upper;
 *                       the lower is recorded in the map
 *   --readonly --writable-lower --raw --granule N --cache N --workers N
 *   --hashes FILE|URL   check every uzip cluster against IMAGE.hashes
 *
 * A --lower that is an http:// or https:// URL is read lazily over HTTP
 * (liveroot/stack.h): --no-prefetch, --fill-share PCT, --connections N and
 * --ca-file FILE tune it; its events are printed on stderr as
 * "liveroot VERB: ..." lines (progress only with so->verbose).
 *
 * A verb parses them with getopt_long: STACK_SHORTOPTS and STACK_LONGOPTS
 * go into its own tables, every option getopt returns is offered to
 * stack_opt() first, and '?'/':' go to cli_opt_error().  Not thread-safe (command-line time only).
 */
#ifndef LIVEROOT_CMD_STACK_H
#define LIVEROOT_CMD_STACK_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include <liveroot/bdev.h>
#include <liveroot/stack.h>

struct stack_opts {
	const char	*lower;
	const char	*upper;
	const char	*overlay;
	int		 readonly;
	int		 writable_lower;	/* no upper: write the lower */
	int		 raw;		/* do not detect uzip */
	uint32_t	 granule;
	unsigned	 cache;		/* uzip cache clusters */
	unsigned	 workers;	/* uzip decompression workers */
	const char	*hashes;	/* IMAGE.hashes, a file or a URL */
	const char	*ca_file;
	unsigned	 connections;
	unsigned	 fill_share;
	int		 no_prefetch;
	int		 verbose;	/* print the fill's progress too */
	struct stack_net net;		/* a URL lower's settings and counts */
	char		*owned[5];	/* made absolute (stack_absolute) */
	int		 started;	/* stack_getopt has reset getopt */
};

/* The option lines for a verb's usage text. */
extern const char stack_usage[];

/* getopt_long values of the long-only stack options; verbs use 0x200 up. */
enum {
	STACK_OPT_LOWER = 0x100,
	STACK_OPT_UPPER,
	STACK_OPT_OVERLAY,
	STACK_OPT_WRITABLE_LOWER,
	STACK_OPT_RAW,
	STACK_OPT_GRANULE,
	STACK_OPT_CACHE,
	STACK_OPT_WORKERS,
	STACK_OPT_HASHES,
	STACK_OPT_NO_PREFETCH,
	STACK_OPT_FILL_SHARE,
	STACK_OPT_CONNECTIONS,
	STACK_OPT_CA_FILE
};

#define STACK_SHORTOPTS	"r"
#define STACK_LONGOPTS							\
	{ "lower", required_argument, NULL, STACK_OPT_LOWER },		\
	{ "upper", required_argument, NULL, STACK_OPT_UPPER },		\
	{ "overlay", required_argument, NULL, STACK_OPT_OVERLAY },	\
	{ "readonly", no_argument, NULL, 'r' },				\
	{ "writable-lower", no_argument, NULL, STACK_OPT_WRITABLE_LOWER }, \
	{ "raw", no_argument, NULL, STACK_OPT_RAW },			\
	{ "granule", required_argument, NULL, STACK_OPT_GRANULE },	\
	{ "cache", required_argument, NULL, STACK_OPT_CACHE },		\
	{ "workers", required_argument, NULL, STACK_OPT_WORKERS },	\
	{ "hashes", required_argument, NULL, STACK_OPT_HASHES },	\
	{ "no-prefetch", no_argument, NULL, STACK_OPT_NO_PREFETCH },	\
	{ "fill-share", required_argument, NULL, STACK_OPT_FILL_SHARE }, \
	{ "connections", required_argument, NULL, STACK_OPT_CONNECTIONS }, \
	{ "ca-file", required_argument, NULL, STACK_OPT_CA_FILE }

/*
 * Takes one option getopt_long returned (ch, optarg): 1 when it was a stack
 * option, 0 when it is not, -1 after printing an error (cli_err).
 */
int	stack_opt(struct stack_opts *so, int ch, const char *arg);

/*
 * getopt_long over argv (optind reset, opterr off) that consumes the stack
 * options into so and returns the verb's own next option; -1 at the end,
 * -2 after a stack option's error was printed.  shortopts must start with
 * ':' and include STACK_SHORTOPTS; lo must include STACK_LONGOPTS.
 */
int	stack_getopt(struct stack_opts *so, int argc, char **argv,
	    const char *shortopts, const struct option *lo);

/*
 * Makes the lower, upper and overlay paths absolute (realpath when the
 * file exists, else the current directory joined to the path), so that a
 * stack built or flushed after a chdir (a detached mount-file) names the
 * same files.  The strings are owned by so until stack_opts_free().
 */
int	stack_absolute(struct stack_opts *so, struct diag *d);
/*
 * The same for one path: a malloc'ed absolute path in *out.  0 or an errno
 * with a diag.
 */
int	stack_abspath(const char *path, char **out, struct diag *d);
void	stack_opts_free(struct stack_opts *so);

/*
 * The options as a library stack spec (liveroot/stack.h); the paths point
 * into so, and a URL lower's spec->net to so->net.  0, or EINVAL with a
 * diag naming the options to drop.
 */
int	stack_spec_of(struct stack_opts *so, struct stack_spec *s,
	    struct diag *d);

/* Builds the stack (stack_spec_of, then stack_open); a diag names the file
 * and the fix on failure.  so must outlive the stack (so->net). */
int	stack_build(struct stack_opts *so, struct bdev **out,
	    struct diag *d);

/* Prints what the layers of the stack counted (rowr, uzip, fill) to f. */
void	stack_print_stats(FILE *f, struct bdev *top);
/* After the stack was destroyed: what a URL lower's http layer counted
 * (nothing when the lower was not a URL). */
void	stack_print_net_stats(FILE *f, const struct stack_opts *so);

#endif
