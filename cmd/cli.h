/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli.h - what every verb of the liveroot command shares: the verb table
 * entry, error printing (always "liveroot VERB: what went wrong"), size
 * parsing, a progress line for long work (only when stderr is a terminal),
 * and JSON string escaping for --json output.
 */
#ifndef LIVEROOT_CLI_H
#define LIVEROOT_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <liveroot/diag.h>

struct verb {
	const char	*name;
	int		(*fn)(int argc, char **argv);
	const char	*summary;
};

/* Exit statuses shared by all verbs. */
#define CLI_OK		0
#define CLI_NOTFOUND	1	/* "not found"/"differs": locate, compare */
#define CLI_ERROR	2	/* usage or runtime error */

extern const char *cli_verb;	/* the verb now running, for messages */

void	cli_err(const char *fmt, ...) LR_PRINTF(1, 2);
/* Prints the diag (or a fallback built from code) and returns CLI_ERROR. */
int	cli_diag(const struct diag *d, int code);
/* Prints the usage text to stdout (help) or stderr (usage error). */
int	cli_usage(const char *usage, int error);
/*
 * After getopt/getopt_long (run with opterr = 0 and an optstring that starts
 * with ':') returned '?' or ':': prints "liveroot VERB: unknown option 'X'"
 * or "...: option 'X' needs an argument", with a pointer to --help, and
 * returns CLI_ERROR.  Options are accepted anywhere (GNU getopt permutes
 * argv; no verb uses a leading '+'), so `VERB OPERAND --option` works.
 */
int	cli_opt_error(int ch, int argc, char **argv);
/* True when argv holds -h or --help anywhere before "--". */
int	cli_wants_help(int argc, char **argv);

/* "4096", "64K", "16M", "2G", "1T" (binary units), optional trailing "B"/"iB".
 * Returns 0 or EINVAL/ERANGE. */
int	cli_parse_size(const char *s, uint64_t *out);
/* As cli_parse_size, but "N%" is that share of `whole`. */
int	cli_parse_size_pct(const char *s, uint64_t whole, uint64_t *out);

struct cli_progress {
	int		enabled;
	const char	*label;
	uint64_t	total;
	struct timespec	start;
	struct timespec	last;
};
void	cli_progress_start(struct cli_progress *p, const char *label,
	    uint64_t total);
void	cli_progress_update(struct cli_progress *p, uint64_t done);
void	cli_progress_done(struct cli_progress *p);
/* The bdev_copy progress callback shape, arg = struct cli_progress *. */
void	cli_progress_cb(uint64_t done, uint64_t total, void *arg);

void	cli_json_str(FILE *f, const char *s);
/* Writes s with control bytes (terminal escapes from a medium's names)
 * shown as '?': for text output of strings read off disks. */
void	cli_safe_str(FILE *f, const char *s);
double	cli_now(void);

#endif
