/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_plan_freebsd.c - the FreeBSD --source SPEC parser and the command
 * emitter on arbitrary input: the input up to its first newline is SPEC
 * (copied to an exact-size NUL-terminated buffer), the rest a kernel
 * command line.  Any result is fine; a crash, an over-read or a command
 * line longer than the emitter's buffer going unnoticed is not.  Every
 * emitted line must be one line (no newline smuggled in through SPEC), and
 * the plan's text lines (with the source, and before the probe) are
 * produced from the same input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/plan_freebsd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
line(void *arg, const char *text)
{
	size_t *n = arg;

	if (strchr(text, '\n') != NULL)
		abort();
	(*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct live_config c;
	struct fbsd_source s;
	struct diag d;
	const uint8_t *nl;
	char *spec, *cmd;
	size_t k, n = 0;

	nl = memchr(data, '\n', size);
	k = nl != NULL ? (size_t)(nl - data) : size;
	if ((spec = malloc(k + 1)) == NULL)
		return (0);
	memcpy(spec, data, k);
	spec[k] = '\0';
	cmd = NULL;
	if (nl != NULL && (cmd = malloc(size - k)) != NULL) {
		memcpy(cmd, nl + 1, size - k - 1);
		cmd[size - k - 1] = '\0';
	}
	config_init(&c);
	if (cmd != NULL)
		config_parse_cmdline(&c, cmd);
	diag_clear(&d);
	plan_freebsd_lines(&c, NULL, 1ULL << 30, 1ULL << 32, line, &n);
	(void)plan_freebsd_plan_handoff(&c, NULL);
	if (plan_freebsd_parse_source(spec, &s, &d) == 0) {
		(void)plan_freebsd_reroot_safe(&s, c.image, c.toram, NULL, 0);
		(void)plan_freebsd_plan_handoff(&c, &s);
		plan_freebsd_lines(&c, &s, 1ULL << 30, 1ULL << 32, line, &n);
		(void)plan_freebsd_commands(&c, &s, 1ULL << 30, line, &n, &d);
	}
	free(cmd);
	free(spec);
	return (0);
}
