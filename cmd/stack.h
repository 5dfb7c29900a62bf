/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stack.h - build a block stack from command-line options, shared by the
 * verbs that expose one (serve, mount-file).
 *
 *   --lower FILE        the read-only base: a raw image or device, or a uzip
 *                       image (recognised by its magic; stacked under
 *                       bdev_uzip).  Without an upper a raw lower is served
 *                       writable unless --readonly.
 *   --upper mem:SIZE    a RAM upper capped at SIZE (or N% of the lower):
 *                       rowr(lower, mem), writes lost at exit
 *   --upper FILE        a persistent overlay in FILE (+ FILE.rowrmap),
 *                       created on first use
 *   --overlay UPPER     open an existing persistent overlay by its upper;
 *                       the lower is recorded in the map
 *   --readonly --raw --granule N --cache N --workers N
 *
 * Not thread-safe (command-line time only).
 */
#ifndef LIVEROOT_CMD_STACK_H
#define LIVEROOT_CMD_STACK_H

#include <stdint.h>
#include <stdio.h>

#include <liveroot/bdev.h>

struct stack_opts {
	const char	*lower;
	const char	*upper;
	const char	*overlay;
	int		 readonly;
	int		 raw;		/* do not detect uzip */
	uint32_t	 granule;
	unsigned	 cache;		/* uzip cache clusters */
	unsigned	 workers;	/* uzip decompression workers */
};

/* The option lines for a verb's usage text. */
extern const char stack_usage[];

/*
 * If argv[*i] is a stack option, consume it (and its argument), advance *i
 * and return 1; 0 when it is not a stack option; -1 after printing an error.
 */
int	stack_parse_opt(struct stack_opts *so, int argc, char **argv, int *i);

/* Builds the stack; a diag names the file and the fix on failure. */
int	stack_build(const struct stack_opts *so, struct bdev **out,
	    struct diag *d);

/* Prints what the layers of the stack counted (rowr, uzip) to f. */
void	stack_print_stats(FILE *f, struct bdev *top);

#endif
