/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * moddep.c - modules.dep and modules.builtin (fmt_moddep.h).
 *
 * Invariants: every read is inside [buf, buf + len): a line ends at the
 * first '\n' (memchr bounded by what is left) or at len; its blanks are
 * trimmed before anything is taken from it; a path or name is measured
 * against its bound before it is copied.  Malformed lines are counted and
 * skipped, never half-used.  No allocation, no state beyond the cursor.
 */
#include <liveroot/fmt_moddep.h>

#include "fmt_text.h"

static int
is_blank(char c)
{
	return (c == ' ' || c == '\t' || c == '\r');
}

void
fmt_moddep_init(struct fmt_moddep_iter *it, const void *buf, size_t len,
    enum fmt_moddep_kind kind)
{
	memset(it, 0, sizeof(*it));
	it->buf = buf;
	it->len = buf != NULL ? len : 0;
	it->kind = kind;
}

int
fmt_moddep_name(const char *s, size_t len, char *name, size_t namelen)
{
	const char *b = s;
	size_t i, n;

	for (i = 0; i < len; i++)
		if (s[i] == '/')
			b = s + i + 1;
	n = len - (size_t)(b - s);
	/* ".ko" ends the name where it ends the span or a suffix follows */
	for (i = 0; i + 3 <= n; i++)
		if (memcmp(b + i, ".ko", 3) == 0 &&
		    (i + 3 == n || b[i + 3] == '.')) {
			n = i;
			break;
		}
	if (n == 0 || memchr(b, '\0', n) != NULL)
		return (EINVAL);
	if (n >= namelen)
		return (ENAMETOOLONG);
	for (i = 0; i < n; i++)
		name[i] = b[i] == '-' ? '_' : b[i];
	name[n] = '\0';
	return (0);
}

/* One line [s, eol): 0 an entry, 1 empty, -1 malformed. */
static int
line_parse(enum fmt_moddep_kind kind, const char *s, const char *eol,
    struct fmt_moddep_ent *e)
{
	const char *end, *p;
	size_t i;

	while (s < eol && is_blank(*s))
		s++;
	while (eol > s && is_blank(eol[-1]))
		eol--;
	if (s == eol)
		return (1);
	if (memchr(s, '\0', (size_t)(eol - s)) != NULL)
		return (-1);
	if (kind == FMT_MODDEP_DEP) {
		if ((end = memchr(s, ':', (size_t)(eol - s))) == NULL)
			return (-1);
		for (p = end + 1; p < eol && is_blank(*p); p++)
			;
	} else {
		end = eol;
		p = eol;
	}
	e->path = s;
	e->pathlen = (size_t)(end - s);
	e->deps = p;
	e->depslen = (size_t)(eol - p);
	if (e->pathlen == 0 || e->pathlen > FMT_MODDEP_PATHMAX)
		return (-1);
	for (i = 0; i < e->pathlen; i++)
		if (is_blank(s[i]))
			return (-1);
	if (fmt_moddep_name(e->path, e->pathlen, e->name,
	    sizeof(e->name)) != 0)
		return (-1);
	return (0);
}

int
fmt_moddep_next(struct fmt_moddep_iter *it, struct fmt_moddep_ent *e)
{
	const char *s, *eol;
	int r;

	while (fmt_next_line(it->buf, it->len, &it->off, &s, &eol)) {
		it->line++;
		if ((r = line_parse(it->kind, s, eol, e)) == 0) {
			e->line = it->line;
			return (1);
		}
		if (r < 0)
			it->bad++;
	}
	return (0);
}

int
fmt_moddep_dep_next(const char *deps, size_t depslen, size_t *pos,
    const char **p, size_t *plen)
{
	size_t i = *pos, start;

	while (i < depslen && is_blank(deps[i]))
		i++;
	if (i >= depslen) {
		*pos = depslen;
		return (0);
	}
	start = i;
	while (i < depslen && !is_blank(deps[i]))
		i++;
	*p = deps + start;
	*plen = i - start;
	*pos = i;
	return (1);
}

int
fmt_moddep_find(const void *buf, size_t len, enum fmt_moddep_kind kind,
    const char *name, struct fmt_moddep_ent *e)
{
	struct fmt_moddep_iter it;

	fmt_moddep_init(&it, buf, len, kind);
	while (fmt_moddep_next(&it, e))
		if (strcmp(e->name, name) == 0)
			return (1);
	return (0);
}
