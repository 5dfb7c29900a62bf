/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_modalias.c - the modules.alias parser and the modalias readers
 * (fmt_modalias.h) on the raw input (an exact-size buffer, no NUL after
 * it), read as modules.alias, as a sysfs modalias value and as a uevent.
 * Every entry is checked against the parser's promises: its pattern inside
 * the input and within its bound, the literal prefix free of glob
 * characters and ended by one (or by the pattern's end), the device flag
 * what fmt_modalias_is_device says, a module name with no '/', '-' or NUL
 * within its bound, line numbers rising; an accepted value or uevent alias
 * inside the input, short of FMT_MODALIAS_MAX, with a ':' and no blank or
 * control byte.  A broken promise aborts (a finding); any other result is
 * fine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_modalias.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
inside(const char *p, size_t len, const char *buf, size_t size)
{
	return (p >= buf && len <= size && (size_t)(p - buf) <= size - len);
}

static int
is_glob(char c)
{
	return (c == '*' || c == '?' || c == '[');
}

static void
check_value(const char *p, size_t len, const char *buf, size_t size)
{
	size_t i;

	if (len == 0 || len >= FMT_MODALIAS_MAX || !inside(p, len, buf, size) ||
	    memchr(p, ':', len) == NULL)
		abort();
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			abort();
}

static void
run_alias(const char *buf, size_t size)
{
	struct fmt_modalias_iter it;
	struct fmt_modalias_ent e;
	size_t n = 0, nl, i, last = 0;

	fmt_modalias_init(&it, buf, size);
	while (fmt_modalias_next(&it, &e)) {
		nl = strlen(e.name);
		if (!inside(e.pattern, e.patlen, buf, size) ||
		    e.patlen == 0 || e.patlen >= FMT_MODALIAS_MAX ||
		    e.prefix > e.patlen || nl == 0 ||
		    nl >= FMT_MODDEP_NAMEMAX || strpbrk(e.name, "/-") != NULL ||
		    e.line <= last || e.line > it.line ||
		    e.device != fmt_modalias_is_device(e.pattern, e.patlen))
			abort();
		for (i = 0; i < e.prefix; i++)
			if (is_glob(e.pattern[i]))
				abort();
		if (e.prefix < e.patlen && !is_glob(e.pattern[e.prefix]))
			abort();
		for (i = 0; i < e.patlen; i++)
			if ((unsigned char)e.pattern[i] <= 0x20 ||
			    (unsigned char)e.pattern[i] >= 0x7f)
				abort();
		last = e.line;
		n++;
	}
	if (n + it.bad > it.line || it.off != size)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *a;
	size_t len, alen;

	run_alias(buf, size);
	if (fmt_modalias_value(buf, size, &len) == 0)
		check_value(buf, len, buf, size);
	if (fmt_modalias_uevent(buf, size, &a, &alen) == 0)
		check_value(a, alen, buf, size);
	(void)fmt_modalias_is_device(buf, size);
	return (0);
}
