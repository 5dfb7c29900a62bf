/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uevent.c - a kernel uevent message (fmt_uevent.h).
 *
 * Invariants: every read is inside [msg, msg + len): a string ends at the
 * first NUL (memchr bounded by what is left) or at len; a value is kept as
 * a pointer and a length into the message, compared by length, and the
 * device name is measured against devname before it is copied.
 */
#include <liveroot/fmt_uevent.h>

struct span {
	const char	*p;
	size_t		 len;
};

static int
span_is(const struct span *s, const char *word)
{
	size_t n = strlen(word);

	return (s->p != NULL && s->len == n && memcmp(s->p, word, n) == 0);
}

/* s[0, len) starts with key: its value into *v. */
static void
take(const char *s, size_t len, const char *key, struct span *v)
{
	size_t k = strlen(key);

	if (len >= k && memcmp(s, key, k) == 0) {
		v->p = s + k;
		v->len = len - k;
	}
}

int
fmt_uevent_parse(const void *msg, size_t len, struct fmt_uevent *ev)
{
	const char *m = msg, *s, *nul;
	struct span action = { NULL, 0 }, subsys = { NULL, 0 },
	    name = { NULL, 0 }, type = { NULL, 0 };
	size_t i = 0, l;

	memset(ev, 0, sizeof(*ev));
	if (m == NULL || len == 0 || len >= FMT_UEVENT_MAX)
		return (EINVAL);
	if (len >= 7 && memcmp(m, "libudev", 7) == 0)
		return (ENOENT);
	while (i < len) {
		s = m + i;
		nul = memchr(s, '\0', len - i);
		l = nul != NULL ? (size_t)(nul - s) : len - i;
		take(s, l, "ACTION=", &action);
		take(s, l, "SUBSYSTEM=", &subsys);
		take(s, l, "DEVNAME=", &name);
		take(s, l, "DEVTYPE=", &type);
		i += l + 1;
	}
	if (action.p == NULL || name.p == NULL || !span_is(&subsys, "block"))
		return (ENOENT);
	if (name.len >= 5 && memcmp(name.p, "/dev/", 5) == 0) {
		name.p += 5;
		name.len -= 5;
	}
	if (name.len == 0)
		return (ENOENT);
	if (name.len >= sizeof(ev->devname))
		return (ENAMETOOLONG);
	memcpy(ev->devname, name.p, name.len);
	ev->devname[name.len] = '\0';
	ev->partition = span_is(&type, "partition");
	if (span_is(&action, "add"))
		ev->action = FMT_UEVENT_ADD;
	else if (span_is(&action, "change"))
		ev->action = FMT_UEVENT_CHANGE;
	else if (span_is(&action, "remove"))
		ev->action = FMT_UEVENT_REMOVE;
	else
		ev->action = FMT_UEVENT_OTHER;
	return (0);
}
