/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * modalias.c - modules.alias and a device's modalias (fmt_modalias.h).
 *
 * Invariants: every read is inside [buf, buf + len): a line ends at the
 * first '\n' (memchr bounded by what is left) or at len; a word is a run
 * of non-blanks inside its line; the pattern and the module name are
 * measured against their bounds before anything is taken from them.  A
 * malformed line is counted and skipped, never half-used.  A uevent is
 * walked string by string, each ended by the first NUL (memchr bounded by
 * what is left) or by the end of the message.  No allocation, no state
 * beyond the cursor.
 */
#include <liveroot/fmt_modalias.h>

#include "fmt_text.h"

static int
is_blank(char c)
{
	return (c == ' ' || c == '\t' || c == '\r');
}

/* A byte that may stand in a pattern, a modalias or a module name. */
static int
is_word(char c)
{
	return ((unsigned char)c > 0x20 && (unsigned char)c < 0x7f);
}

void
fmt_modalias_init(struct fmt_modalias_iter *it, const void *buf, size_t len)
{
	memset(it, 0, sizeof(*it));
	it->buf = buf;
	it->len = buf != NULL ? len : 0;
}

int
fmt_modalias_is_device(const char *p, size_t len)
{
	static const char *const pseudo[] = { "devname", "symbol" };
	size_t i, k;

	for (i = 0; i < len; i++) {
		if (p[i] == ':')
			break;
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '_' ||
		    p[i] == '*'))
			return (0);
	}
	if (i == 0 || i == len)
		return (0);
	for (k = 0; k < LR_NELEM(pseudo); k++)
		if (strlen(pseudo[k]) == i && memcmp(p, pseudo[k], i) == 0)
			return (0);
	return (1);
}

/* The next word of [*s, eol): 1 with *w and *wlen, or 0 when none. */
static int
word(const char **s, const char *eol, const char **w, size_t *wlen)
{
	const char *p = *s;

	while (p < eol && is_blank(*p))
		p++;
	if (p == eol)
		return (0);
	*w = p;
	while (p < eol && !is_blank(*p))
		p++;
	*wlen = (size_t)(p - *w);
	*s = p;
	return (1);
}

/* One line [s, eol): 0 an alias, 1 empty or a comment, -1 malformed. */
static int
line_parse(const char *s, const char *eol, struct fmt_modalias_ent *e)
{
	const char *w, *name, *p;
	size_t wlen, namelen, i;

	while (s < eol && is_blank(*s))
		s++;
	if (s == eol || *s == '#')
		return (1);
	for (p = s; p < eol; p++)
		if (!is_word(*p) && !is_blank(*p))
			return (-1);
	if (!word(&s, eol, &w, &wlen) || wlen != 5 ||
	    memcmp(w, "alias", 5) != 0)
		return (-1);
	if (!word(&s, eol, &e->pattern, &e->patlen) ||
	    !word(&s, eol, &name, &namelen) || word(&s, eol, &w, &wlen))
		return (-1);
	if (e->patlen >= FMT_MODALIAS_MAX)
		return (-1);
	if (fmt_moddep_name(name, namelen, e->name, sizeof(e->name)) != 0 ||
	    memchr(name, '/', namelen) != NULL)
		return (-1);
	for (i = 0; i < e->patlen; i++)
		if (e->pattern[i] == '*' || e->pattern[i] == '?' ||
		    e->pattern[i] == '[')
			break;
	e->prefix = i;
	e->device = fmt_modalias_is_device(e->pattern, e->patlen);
	return (0);
}

int
fmt_modalias_next(struct fmt_modalias_iter *it, struct fmt_modalias_ent *e)
{
	const char *s, *eol;
	int r;

	while (fmt_next_line(it->buf, it->len, &it->off, &s, &eol)) {
		it->line++;
		if ((r = line_parse(s, eol, e)) == 0) {
			e->line = it->line;
			return (1);
		}
		if (r < 0)
			it->bad++;
	}
	return (0);
}

int
fmt_modalias_value(const char *s, size_t len, size_t *out)
{
	size_t i;

	while (len > 0 && (s[len - 1] == '\n' || is_blank(s[len - 1])))
		len--;
	if (len == 0)
		return (EINVAL);
	if (len >= FMT_MODALIAS_MAX)
		return (ENAMETOOLONG);
	for (i = 0; i < len; i++)
		if (!is_word(s[i]))
			return (EINVAL);
	if (memchr(s, ':', len) == NULL)
		return (EINVAL);
	*out = len;
	return (0);
}

int
fmt_modalias_uevent(const void *msg, size_t len, const char **alias,
    size_t *alen)
{
	const char *m = msg, *s, *nul, *val = NULL;
	size_t i = 0, l, vlen = 0;
	int add = 0;

	if (m == NULL || len == 0 || len >= FMT_UEVENT_MAX)
		return (EINVAL);
	if (len >= 7 && memcmp(m, "libudev", 7) == 0)
		return (ENOENT);
	while (i < len) {
		s = m + i;
		nul = memchr(s, '\0', len - i);
		l = nul != NULL ? (size_t)(nul - s) : len - i;
		if (l >= 7 && memcmp(s, "ACTION=", 7) == 0)
			add = l == 10 && memcmp(s + 7, "add", 3) == 0;
		if (l >= 9 && memcmp(s, "MODALIAS=", 9) == 0) {
			val = s + 9;
			vlen = l - 9;
		}
		i += l + 1;
	}
	if (!add || val == NULL)
		return (ENOENT);
	if (fmt_modalias_value(val, vlen, alen) != 0)
		return (EINVAL);
	*alias = val;
	return (0);
}
