/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_config.c - the live.* configuration parsers: the input as a
 * defaults file (exact length, no NUL), then as a kernel command line (a
 * NUL-terminated copy), then the plan and every key printed.  Any result is
 * fine; a crash, an over-read or a field left unterminated is not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/chain.h>
#include <liveroot/config.h>

static void
sink(void *arg, const char *line)
{
	size_t *n = arg;

	*n += strlen(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct live_config c;
	struct live_plan p;
	struct probe_step st[LIVE_S_COUNT];
	const char *key;
	enum live_source src;
	char val[1100], *s;
	size_t i, n = 0;

	config_init(&c);
	config_parse_defaults(&c, (const char *)data, size);
	if ((s = malloc(size + 1)) == NULL)
		return (0);
	memcpy(s, data, size);
	s[size] = '\0';
	config_parse_cmdline(&c, s);
	free(s);
	for (i = 0; config_key_at(&c, i, &key, val, sizeof(val), &src); i++)
		n += strlen(val);
	for (i = 0; i < c.nproblems; i++)
		n += strlen(c.problems[i].msg) + strlen(c.problems[i].key);
	n += strlen(c.label) + strlen(c.image) + strlen(c.iso) +
	    strlen(c.url) + strlen(c.sha256) + strlen(c.init);
	(void)probe_chain_steps(&c, st, LIVE_S_COUNT);
	plan_build(&c, NULL, -1, (uint64_t)1 << 30, PLAN_LINUX, &p);
	plan_lines(&p, sink, &n);
	return (n == (size_t)-1);
}
