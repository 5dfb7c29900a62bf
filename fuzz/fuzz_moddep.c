/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_moddep.c - the modules.dep / modules.builtin parser (fmt_moddep.h)
 * on the raw input (an exact-size buffer, no NUL after it), read as
 * modules.dep and as a list.  Every entry is checked against the parser's
 * promises: its spans inside the input, its path and name within their
 * bounds, a name with no '/', '-' or NUL, dependency tokens inside the
 * deps span and free of blanks, and fmt_moddep_find finding the entry's
 * name no later than the entry.  A broken promise aborts (a finding);
 * any other result is fine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_moddep.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
inside(const char *p, size_t len, const char *buf, size_t size)
{
	return (p >= buf && len <= size && (size_t)(p - buf) <= size - len);
}

static void
check_deps(const struct fmt_moddep_ent *e)
{
	const char *p;
	size_t pos = 0, len, i, n = 0;

	while (fmt_moddep_dep_next(e->deps, e->depslen, &pos, &p, &len)) {
		if (len == 0 || !inside(p, len, e->deps, e->depslen) ||
		    ++n > e->depslen)
			abort();
		for (i = 0; i < len; i++)
			if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r')
				abort();
	}
}

static void
run(const char *buf, size_t size, enum fmt_moddep_kind kind)
{
	struct fmt_moddep_iter it;
	struct fmt_moddep_ent e, f;
	size_t n = 0, nl;

	fmt_moddep_init(&it, buf, size, kind);
	while (fmt_moddep_next(&it, &e)) {
		nl = strlen(e.name);
		if (!inside(e.path, e.pathlen, buf, size) ||
		    !inside(e.deps, e.depslen, buf, size) ||
		    e.pathlen == 0 || e.pathlen > FMT_MODDEP_PATHMAX ||
		    nl == 0 || nl >= FMT_MODDEP_NAMEMAX ||
		    strpbrk(e.name, "/-") != NULL ||
		    (kind == FMT_MODDEP_LIST && e.depslen != 0) ||
		    e.deps < e.path + e.pathlen || e.line == 0 ||
		    e.line > it.line)
			abort();
		check_deps(&e);
		if (!fmt_moddep_find(buf, size, kind, e.name, &f) ||
		    f.line > e.line || strcmp(f.name, e.name) != 0)
			abort();
		n++;
	}
	if (n + it.bad > it.line || it.off != size)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[FMT_MODDEP_NAMEMAX];

	run((const char *)data, size, FMT_MODDEP_DEP);
	run((const char *)data, size, FMT_MODDEP_LIST);
	if (fmt_moddep_name((const char *)data, size, name,
	    sizeof(name)) == 0 && (strlen(name) == 0 ||
	    strpbrk(name, "/-") != NULL))
		abort();
	return (0);
}
