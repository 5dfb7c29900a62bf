/* SPDX-License-Identifier: BSD-2-Clause */
/* cli.c - see cli.h. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/config.h>

#include "cli.h"

const char *cli_verb = "";

void
cli_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (cli_verb[0] != '\0')
		fprintf(stderr, "liveroot %s: ", cli_verb);
	else
		fprintf(stderr, "liveroot: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_diag(const struct diag *d, int code)
{
	if (d != NULL && d->msg[0] != '\0')
		cli_err("%s", d->msg);
	else
		cli_err("%s", strerror(code ? code : EIO));
	return (CLI_ERROR);
}

int
cli_usage(const char *usage, int error)
{
	fputs(usage, error ? stderr : stdout);
	return (error ? CLI_ERROR : CLI_OK);
}

int
cli_opt_error(int ch, int argc, char **argv)
{
	const char *tok = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	int is_long = strncmp(tok, "--", 2) == 0;

	if (ch == ':' && !is_long && optopt != 0)
		cli_err("option '-%c' needs an argument; 'liveroot %s --help' "
		    "lists the options", optopt, cli_verb);
	else if (ch == ':')
		cli_err("option '%s' needs an argument; 'liveroot %s --help' "
		    "lists the options", tok, cli_verb);
	else if (!is_long && optopt != 0)
		cli_err("unknown option '-%c'; 'liveroot %s --help' lists the "
		    "options", optopt, cli_verb);
	else
		cli_err("unknown option '%s'; 'liveroot %s --help' lists the "
		    "options", tok, cli_verb);
	return (CLI_ERROR);
}

int
cli_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return (1);
	}
	return (0);
}

int
cli_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	uint64_t mul;
	char *end;

	if (s == NULL || *s == '\0' || *s == '-')
		return (EINVAL);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return (EINVAL);
	if ((mul = config_size_unit(*end)) != 1)
		end++;
	if (mul != 1 && *end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return (EINVAL);
	if (__builtin_mul_overflow((uint64_t)v, mul, out))
		return (ERANGE);
	return (0);
}

int
cli_parse_size_pct(const char *s, uint64_t whole, uint64_t *out)
{
	size_t n = s ? strlen(s) : 0;
	unsigned long long v;
	char *end;

	if (n > 1 && s[n - 1] == '%') {
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno != 0 || end != s + n - 1 || v > 100)
			return (EINVAL);
		*out = (uint64_t)((long double)whole * v / 100);
		return (0);
	}
	return (cli_parse_size(s, out));
}

double
cli_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static double
ts_sec(const struct timespec *t)
{
	return (t->tv_sec + t->tv_nsec / 1e9);
}

void
cli_progress_start(struct cli_progress *p, const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->enabled = isatty(STDERR_FILENO);
	p->label = label;
	p->total = total;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

void
cli_progress_update(struct cli_progress *p, uint64_t done)
{
	struct timespec now;
	double el;

	if (!p->enabled)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ts_sec(&now) - ts_sec(&p->last) < 0.25 && done < p->total)
		return;
	p->last = now;
	el = ts_sec(&now) - ts_sec(&p->start);
	if (p->total > 0)
		fprintf(stderr, "\r%s: %5.1f%%  %ju / %ju MiB  %.1f MB/s ",
		    p->label, 100.0 * done / p->total, (uintmax_t)(done >> 20),
		    (uintmax_t)(p->total >> 20),
		    el > 0 ? done / el / 1e6 : 0.0);
	else
		fprintf(stderr, "\r%s: %ju MiB ", p->label,
		    (uintmax_t)(done >> 20));
}

void
cli_progress_done(struct cli_progress *p)
{
	if (p->enabled)
		fputc('\n', stderr);
}

void
cli_progress_cb(uint64_t done, uint64_t total, void *arg)
{
	(void)total;
	cli_progress_update(arg, done);
}

/*
 * Length of the well-formed UTF-8 sequence at s (1..4), or 0 when the bytes
 * there are not one (stray continuation, overlong, surrogate, > U+10FFFF,
 * cut short by the NUL).
 */
static int
utf8_seq(const unsigned char *s)
{
	int n, i;
	uint32_t c;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return (0);
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	c = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c < 0xe000))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return (0);
	return (n);
}

/*
 * Names and labels come from media and need not be UTF-8: a byte that does
 * not start a well-formed sequence is written as its Latin-1 code point
 * (\u00XX), so the output is always valid UTF-8 JSON.
 */
void
cli_json_str(FILE *f, const char *s)
{
	int n;

	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x80) {
			if ((n = utf8_seq((const unsigned char *)s)) == 0)
				fprintf(f, "\\u%04x", c);
			else {
				fwrite(s, 1, (size_t)n, f);
				s += n - 1;
			}
		} else if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void
cli_safe_str(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
	}
}
