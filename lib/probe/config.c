/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.c - the live.* keys: defaults, /etc/liveroot/defaults, the kernel
 * command line, aliases and validation (see config.h).
 *
 * One table names every key with its parser; the command line and the
 * defaults file both end in config_set().  A value that does not parse keeps
 * what was there before and adds a problem naming the key, the value and
 * what is accepted; problems past LIVE_MAX_PROBLEMS are counted, not kept.
 * Pure string work, no allocation, no I/O.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/config.h>

static const char *const strategy_names[LIVE_S_COUNT] = {
	"preload", "local", "ventoy", "findiso", "net"
};

const char *
config_strategy_name(enum live_strategy s)
{
	if ((unsigned)s >= LIVE_S_COUNT)
		return ("?");
	return (strategy_names[s]);
}

int
config_strategy_from_name(const char *name, size_t len)
{
	int i;

	for (i = 0; i < LIVE_S_COUNT; i++)
		if (strlen(strategy_names[i]) == len &&
		    strncmp(strategy_names[i], name, len) == 0)
			return (i);
	return (-1);
}

const char *
config_handoff_name(enum live_handoff h)
{
	switch (h) {
	case LIVE_HANDOFF_AUTO:		return ("auto");
	case LIVE_HANDOFF_SWITCH_ROOT:	return ("switch_root");
	case LIVE_HANDOFF_CHROOT:	return ("chroot");
	case LIVE_HANDOFF_REROOT:	return ("reroot");
	}
	return ("?");
}

const char *
config_geom_name(enum live_geom g)
{
	switch (g) {
	case LIVE_GEOM_AUTO:	return ("auto");
	case LIVE_GEOM_ROWR:	return ("rowr");
	case LIVE_GEOM_GUNION:	return ("gunion");
	}
	return ("?");
}

const char *
config_fetch_name(enum live_fetch f)
{
	switch (f) {
	case LIVE_FETCH_LAZY:	return ("lazy");
	case LIVE_FETCH_FULL:	return ("full");
	}
	return ("?");
}

const char *
config_problem_kind_name(enum live_problem_kind k)
{
	switch (k) {
	case LIVE_P_INVALID:		return ("invalid");
	case LIVE_P_UNKNOWN:		return ("unknown");
	case LIVE_P_UNSUPPORTED:	return ("unsupported");
	}
	return ("?");
}

static void LR_PRINTF(4, 5)
problem(struct live_config *c, enum live_problem_kind kind, const char *key,
    const char *fmt, ...)
{
	struct live_problem *p;
	va_list ap;

	if (c->nproblems >= LIVE_MAX_PROBLEMS) {
		c->problems_dropped++;
		return;
	}
	p = &c->problems[c->nproblems++];
	p->kind = kind;
	snprintf(p->key, sizeof(p->key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
}

uint64_t
config_size_unit(char c)
{
	switch (c) {
	case 'k': case 'K': return (1ULL << 10);
	case 'm': case 'M': return (1ULL << 20);
	case 'g': case 'G': return (1ULL << 30);
	case 't': case 'T': return (1ULL << 40);
	default: return (1);
	}
}

int
config_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	uint64_t mul;
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return (EINVAL);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return (ERANGE);
	if ((mul = config_size_unit(*end)) != 1)
		end++;
	if (mul != 1 && (end[0] == 'i' || end[0] == 'I') &&
	    (end[1] == 'B' || end[1] == 'b'))
		end += 2;
	else if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return (EINVAL);
	if (v > UINT64_MAX / mul)
		return (ERANGE);
	*out = (uint64_t)v * mul;
	return (0);
}

static int
parse_bool(const char *v, int *out)
{
	if (v == NULL || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 ||
	    strcmp(v, "true") == 0 || strcmp(v, "on") == 0) {
		*out = 1;
		return (0);
	}
	if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0 ||
	    strcmp(v, "false") == 0 || strcmp(v, "off") == 0) {
		*out = 0;
		return (0);
	}
	return (EINVAL);
}

static int
copy_str(struct live_config *c, const char *key, char *dst, size_t len,
    const char *v)
{
	if (v == NULL)
		v = "";
	if (strlen(v) >= len) {
		problem(c, LIVE_P_INVALID, key, "%s: value of %zu bytes is "
		    "longer than the %zu accepted; kept the previous value",
		    key, strlen(v), len - 1);
		return (EINVAL);
	}
	memcpy(dst, v, strlen(v) + 1);
	return (0);
}

static int
set_probe(struct live_config *c, const char *key, const char *v)
{
	enum live_strategy order[LIVE_S_COUNT];
	int seen[LIVE_S_COUNT] = { 0 };
	size_t n = 0, len;
	const char *p, *e;
	int s;

	if (v == NULL || *v == '\0') {
		problem(c, LIVE_P_INVALID, key, "%s: empty; give a comma list "
		    "of preload,local,ventoy,findiso,net; kept the default",
		    key);
		return (EINVAL);
	}
	for (p = v; *p != '\0'; p = (*e == ',') ? e + 1 : e) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		len = (size_t)(e - p);
		if (len == 0)
			continue;
		s = config_strategy_from_name(p, len);
		if (s < 0) {
			problem(c, LIVE_P_INVALID, key, "%s=%s: '%.*s' is not "
			    "a strategy (preload, local, ventoy, findiso, "
			    "net); kept the previous order", key, v, (int)len,
			    p);
			return (EINVAL);
		}
		if (seen[s])
			continue;
		seen[s] = 1;
		order[n++] = (enum live_strategy)s;
	}
	if (n == 0) {
		problem(c, LIVE_P_INVALID, key, "%s=%s: no strategy named; "
		    "kept the previous order", key, v);
		return (EINVAL);
	}
	memcpy(c->probe, order, n * sizeof(order[0]));
	c->nprobe = n;
	c->probe_set = 1;
	return (0);
}

static int
set_timeout(struct live_config *c, const char *key, const char *v)
{
	unsigned long t;
	char *end;

	if (v == NULL || !isdigit((unsigned char)*v))
		goto bad;
	errno = 0;
	t = strtoul(v, &end, 10);
	if (errno != 0 || (*end != '\0' && strcmp(end, "s") != 0) ||
	    t > 86400)
		goto bad;
	c->timeout_s = (unsigned)t;
	return (0);
bad:
	problem(c, LIVE_P_INVALID, key, "%s=%s: not a number of seconds "
	    "(0..86400); kept %u", key, v ? v : "", c->timeout_s);
	return (EINVAL);
}

static int
set_overlay(struct live_config *c, const char *key, const char *v)
{
	unsigned long pct;
	uint64_t bytes;
	size_t len;
	char *end;

	len = v ? strlen(v) : 0;
	if (len > 1 && v[len - 1] == '%') {
		if (!isdigit((unsigned char)v[0]))
			goto bad;
		errno = 0;
		pct = strtoul(v, &end, 10);
		if (errno != 0 || end != v + len - 1 || pct == 0 || pct > 100)
			goto bad;
		c->overlay_pct = (unsigned)pct;
		c->overlay_bytes = 0;
		return (0);
	}
	if (config_parse_size(v, &bytes) != 0 || bytes < 4096)
		goto bad;
	c->overlay_bytes = bytes;
	c->overlay_pct = 0;
	return (0);
bad:
	problem(c, LIVE_P_INVALID, key, "%s=%s: not a size (e.g. 512M, 2G, "
	    "at least 4K) or a share of RAM (1%%..100%%); kept the previous "
	    "value", key, v ? v : "");
	return (EINVAL);
}

static int
set_sha256(struct live_config *c, const char *key, const char *v)
{
	char buf[65];
	size_t i;

	if (v == NULL || strlen(v) != 64)
		goto bad;
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)v[i]))
			goto bad;
		buf[i] = (char)tolower((unsigned char)v[i]);
	}
	buf[64] = '\0';
	memcpy(c->sha256, buf, sizeof(buf));
	return (0);
bad:
	problem(c, LIVE_P_INVALID, key, "%s: '%.80s' is not 64 hex digits "
	    "(a SHA-256 as sha256sum prints it); no checksum will be "
	    "checked", key, v ? v : "");
	c->sha256[0] = '\0';
	return (EINVAL);
}

static int
set_handoff(struct live_config *c, const char *key, const char *v)
{
	static const enum live_handoff all[] = { LIVE_HANDOFF_AUTO,
	    LIVE_HANDOFF_SWITCH_ROOT, LIVE_HANDOFF_CHROOT,
	    LIVE_HANDOFF_REROOT };
	size_t i;

	for (i = 0; v != NULL && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(v, config_handoff_name(all[i])) == 0) {
			c->handoff = all[i];
			return (0);
		}
	problem(c, LIVE_P_INVALID, key, "%s=%s: use auto, switch_root, "
	    "chroot or reroot; kept %s", key, v ? v : "",
	    config_handoff_name(c->handoff));
	return (EINVAL);
}

static int
set_geom(struct live_config *c, const char *key, const char *v)
{
	static const enum live_geom all[] = { LIVE_GEOM_AUTO, LIVE_GEOM_ROWR,
	    LIVE_GEOM_GUNION };
	size_t i;

	for (i = 0; v != NULL && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(v, config_geom_name(all[i])) == 0) {
			c->geom = all[i];
			return (0);
		}
	problem(c, LIVE_P_INVALID, key, "%s=%s: use auto, rowr or gunion; "
	    "kept %s", key, v ? v : "", config_geom_name(c->geom));
	return (EINVAL);
}

static int
set_fetch(struct live_config *c, const char *key, const char *v)
{
	if (v != NULL && strcmp(v, "lazy") == 0)
		c->fetch = LIVE_FETCH_LAZY;
	else if (v != NULL && strcmp(v, "full") == 0)
		c->fetch = LIVE_FETCH_FULL;
	else {
		problem(c, LIVE_P_INVALID, key, "%s=%.60s: use lazy (read "
		    "with Range requests as needed, the rest in the "
		    "background) or full (the whole image into RAM first); "
		    "kept %s", key, v ? v : "", config_fetch_name(c->fetch));
		return (EINVAL);
	}
	return (0);
}

/* live.fetch.share=PCT: the background fill's share of the time. */
static int
set_share(struct live_config *c, const char *key, const char *v)
{
	unsigned long pct;
	char *end;

	if (v == NULL || !isdigit((unsigned char)v[0]))
		goto bad;
	errno = 0;
	pct = strtoul(v, &end, 10);
	if (errno != 0 || (*end != '\0' && strcmp(end, "%") != 0) ||
	    pct == 0 || pct > 100)
		goto bad;
	c->fetch_share = (unsigned)pct;
	return (0);
bad:
	problem(c, LIVE_P_INVALID, key, "%s=%.60s: give a share of the time "
	    "for the background fill, 1..100 (percent); kept %u", key,
	    v ? v : "", c->fetch_share ? c->fetch_share : 100);
	return (EINVAL);
}

static int
set_flag(struct live_config *c, const char *key, const char *v, int *out)
{
	if (parse_bool(v, out) == 0)
		return (0);
	problem(c, LIVE_P_INVALID, key, "%s=%s: use 1 or 0 (yes/no, on/off); "
	    "kept %d", key, v, *out);
	return (EINVAL);
}

static int
set_path(struct live_config *c, const char *key, char *dst, size_t len,
    const char *v)
{
	if (v == NULL || v[0] != '/') {
		problem(c, LIVE_P_INVALID, key, "%s=%s: needs an absolute "
		    "path starting with '/'; kept %s", key, v ? v : "",
		    dst[0] ? dst : "none");
		return (EINVAL);
	}
	return (copy_str(c, key, dst, len, v));
}

static int
set_url(struct live_config *c, const char *key, const char *v)
{
	if (v == NULL || (strncmp(v, "http://", 7) != 0 &&
	    strncmp(v, "https://", 8) != 0)) {
		problem(c, LIVE_P_INVALID, key, "%s=%s: only http:// and "
		    "https:// URLs are fetched", key, v ? v : "");
		return (EINVAL);
	}
	return (copy_str(c, key, c->url, sizeof(c->url), v));
}

/* The key table; its order is that of src[] and config_key_at(). */
enum {
	K_PROBE, K_LABEL, K_IMAGE, K_ISO, K_URL, K_SHA256, K_PUBKEY,
	K_TIMEOUT, K_TORAM, K_OVERLAY, K_PERSIST, K_HANDOFF, K_INIT, K_SHELL,
	K_DEBUG, K_GEOM, K_CHECK, K_PERSIST_SIZE, K_FETCH, K_FETCH_PREFETCH,
	K_FETCH_SHARE, K_COUNT
};

static const char *const key_names[K_COUNT] = {
	"live.probe", "live.label", "live.image", "live.iso", "live.url",
	"live.sha256", "live.pubkey", "live.timeout", "live.toram",
	"live.overlay", "live.persist", "live.handoff", "live.init",
	"live.shell", "live.debug", "live.geom", "live.check",
	"live.persist.size", "live.fetch", "live.fetch.prefetch",
	"live.fetch.share",
};

/*
 * live.persist=LABEL=NAME[:/FILE] (dracut's rd.live.overlay= has the same
 * form).  The file is absolute, without "." or ".." components: it is
 * opened below the file system's mount point.  "" turns persistence off.
 */
static int
set_persist(struct live_config *c, const char *key, const char *v)
{
	const char *lab, *colon, *f, *p;
	size_t ll;

	if (v == NULL || v[0] == '\0') {
		c->persist[0] = c->persist_label[0] = c->persist_file[0] = '\0';
		return (0);
	}
	if (strncmp(v, "LABEL=", 6) != 0) {
		problem(c, LIVE_P_INVALID, key, "%s=%.100s: give LABEL=<file "
		    "system label>[:/FILE] (the partition that keeps the "
		    "overlay, by its label); ignored", key, v);
		return (EINVAL);
	}
	lab = v + 6;
	colon = strchr(lab, ':');
	ll = colon != NULL ? (size_t)(colon - lab) : strlen(lab);
	if (ll == 0 || ll >= sizeof(c->persist_label)) {
		problem(c, LIVE_P_INVALID, key, "%s=%.100s: the label must have "
		    "1..%zu characters; ignored", key, v,
		    sizeof(c->persist_label) - 1);
		return (EINVAL);
	}
	f = colon != NULL ? colon + 1 : LIVE_DEFAULT_PERSIST_FILE;
	if (f[0] != '/' || f[1] == '\0' || strlen(f) >=
	    sizeof(c->persist_file) || f[strlen(f) - 1] == '/') {
		problem(c, LIVE_P_INVALID, key, "%s=%.100s: the file must be "
		    "an absolute path on that file system (e.g. "
		    "LABEL=%.*s:/liveroot.overlay), at most %zu bytes; "
		    "ignored", key, v, (int)ll, lab,
		    sizeof(c->persist_file) - 1);
		return (EINVAL);
	}
	for (p = f; p != NULL; p = strchr(p + 1, '/'))
		if (strncmp(p, "/./", 3) == 0 || strncmp(p, "/../", 4) == 0 ||
		    strcmp(p, "/.") == 0 || strcmp(p, "/..") == 0 ||
		    strncmp(p, "//", 2) == 0) {
			problem(c, LIVE_P_INVALID, key, "%s=%.100s: no \".\", "
			    "\"..\" or empty parts in the file's path; "
			    "ignored", key, v);
			return (EINVAL);
		}
	if (copy_str(c, key, c->persist, sizeof(c->persist), v) != 0)
		return (EINVAL);
	memcpy(c->persist_label, lab, ll);
	c->persist_label[ll] = '\0';
	snprintf(c->persist_file, sizeof(c->persist_file), "%s", f);
	return (0);
}

static int
set_persist_size(struct live_config *c, const char *key, const char *v)
{
	uint64_t bytes;

	if (config_parse_size(v, &bytes) != 0 || bytes < (1 << 20)) {
		problem(c, LIVE_P_INVALID, key, "%s=%s: not a size (e.g. 512M, "
		    "4G, at least 1M); kept the union's size", key,
		    v ? v : "");
		return (EINVAL);
	}
	c->persist_size = bytes;
	return (0);
}

static int
set_key(struct live_config *c, int k, const char *key, const char *v)
{
	switch (k) {
	case K_PROBE:	return (set_probe(c, key, v));
	case K_LABEL:	return (copy_str(c, key, c->label, sizeof(c->label), v));
	case K_IMAGE:	return (set_path(c, key, c->image, sizeof(c->image), v));
	case K_ISO:	return (set_path(c, key, c->iso, sizeof(c->iso), v));
	case K_URL:	return (set_url(c, key, v));
	case K_SHA256:	return (set_sha256(c, key, v));
	case K_PUBKEY:	/* a signify public key in the initramfs */
		return (set_path(c, key, c->pubkey, sizeof(c->pubkey), v));
	case K_TIMEOUT:	return (set_timeout(c, key, v));
	case K_TORAM:	return (set_flag(c, key, v, &c->toram));
	case K_OVERLAY:	return (set_overlay(c, key, v));
	case K_PERSIST:	return (set_persist(c, key, v));
	case K_PERSIST_SIZE:
		return (set_persist_size(c, key, v));
	case K_HANDOFF:	return (set_handoff(c, key, v));
	case K_INIT:	return (set_path(c, key, c->init, sizeof(c->init), v));
	case K_SHELL:	return (set_flag(c, key, v, &c->shell));
	case K_DEBUG:	return (set_flag(c, key, v, &c->debug));
	case K_GEOM:	return (set_geom(c, key, v));
	case K_CHECK:	return (set_flag(c, key, v, &c->check));
	case K_FETCH:	return (set_fetch(c, key, v));
	case K_FETCH_PREFETCH:
		return (set_flag(c, key, v, &c->prefetch));
	case K_FETCH_SHARE:
		return (set_share(c, key, v));
	}
	return (EINVAL);
}

void
config_init(struct live_config *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < LIVE_S_COUNT; i++)
		c->probe[i] = (enum live_strategy)i;
	c->nprobe = LIVE_S_COUNT;
	snprintf(c->image, sizeof(c->image), "%s", LIVE_DEFAULT_IMAGE);
	snprintf(c->init, sizeof(c->init), "%s", LIVE_DEFAULT_INIT);
	c->timeout_s = LIVE_DEFAULT_TIMEOUT;
	c->overlay_pct = LIVE_DEFAULT_OVERLAY_PCT;
	c->handoff = LIVE_HANDOFF_AUTO;
	c->fetch = LIVE_FETCH_LAZY;
	c->prefetch = 1;
}

static void
mark(struct live_config *c, int k, enum live_source src)
{
	if (k >= 0 && (size_t)k < sizeof(c->src) / sizeof(c->src[0]))
		c->src[k] = src;
}

/* root=live:CDLABEL=X, root=live:LABEL=X, root=live:http(s)://... */
static int
set_root_alias(struct live_config *c, const char *v, enum live_source src)
{
	const char *r;

	if (v == NULL || strncmp(v, "live:", 5) != 0)
		return (0);		/* root=/dev/sda1 and friends: not ours */
	r = v + 5;
	if (strncmp(r, "CDLABEL=", 8) == 0) {
		if (copy_str(c, "root=live:CDLABEL", c->label,
		    sizeof(c->label), r + 8) == 0)
			mark(c, K_LABEL, src);
	} else if (strncmp(r, "LABEL=", 6) == 0) {
		if (copy_str(c, "root=live:LABEL", c->label, sizeof(c->label),
		    r + 6) == 0)
			mark(c, K_LABEL, src);
	} else if (strncmp(r, "http://", 7) == 0 ||
	    strncmp(r, "https://", 8) == 0) {
		if (set_url(c, "root=live:URL", r) == 0)
			mark(c, K_URL, src);
	} else {
		problem(c, LIVE_P_INVALID, "root", "root=%.120s: liveroot "
		    "understands root=live:CDLABEL=X, root=live:LABEL=X and "
		    "root=live:http(s)://URL", v);
	}
	return (1);
}

static void LR_PRINTF(3, 4)
note(struct live_config *c, const char *key, const char *fmt, ...)
{
	struct live_note *n;
	va_list ap;

	if (c->nnotes >= LIVE_MAX_NOTES) {
		c->notes_dropped++;
		return;
	}
	n = &c->notes[c->nnotes++];
	snprintf(n->key, sizeof(n->key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(n->msg, sizeof(n->msg), fmt, ap);
	va_end(ap);
}

/*
 * The kernel arguments of other live-boot tools (dracut's dmsquash-live,
 * live-boot, archiso, casper): each is mapped to its liveroot key (a note
 * says so), or is not needed (a note), or is ignored with what to use
 * instead (an "unsupported" problem: init-plan exits 1).  Nothing a user
 * wrote is dropped without a word.  root=live:... is set_root_alias().
 */
enum alias_do {
	A_MAP,		/* value (or fixed) to key k */
	A_FLAG,		/* a flag; no value or y/yes/1 = "1", n/no/0 = "0" */
	A_NEEDLESS,	/* liveroot does it anyway */
	A_IGNORE,	/* not implemented: use hint */
};

static const struct alias {
	const char	*name;		/* "toram"; "rd.live." ends in '.': prefix */
	const char	*tool;
	enum alias_do	 what;
	int		 k;		/* A_MAP/A_FLAG: the liveroot key */
	const char	*fixed;		/* A_MAP: this value, or NULL: theirs */
	const char	*hint;		/* A_NEEDLESS/A_IGNORE: why, instead */
} aliases[] = {
	{ "toram", "live-boot", A_FLAG, K_TORAM, NULL, NULL },
	{ "copytoram", "archiso", A_FLAG, K_TORAM, NULL, NULL },
	{ "rd.live.ram", "dracut", A_FLAG, K_TORAM, NULL, NULL },
	{ "rd.live.debug", "dracut", A_FLAG, K_DEBUG, NULL, NULL },
	{ "fetch", "live-boot", A_MAP, K_URL, NULL, NULL },
	{ "persistence", "live-boot", A_MAP, K_PERSIST, "LABEL=persistence",
	    NULL },
	{ "persistence-label", "live-boot", A_MAP, K_PERSIST, NULL, NULL },
	{ "rd.live.overlay", "dracut", A_MAP, K_PERSIST, NULL, NULL },
	{ "rd.live.overlay.size", "dracut", A_MAP, K_OVERLAY, NULL, NULL },
	{ "cow_spacesize", "archiso", A_MAP, K_OVERLAY, NULL, NULL },
	{ "archisolabel", "archiso", A_MAP, K_LABEL, NULL, NULL },
	{ "img_loop", "archiso", A_MAP, K_ISO, NULL, NULL },
	{ "iso-scan/filename", "casper", A_MAP, K_ISO, NULL, NULL },
	{ "rd.live.image", "dracut", A_NEEDLESS, 0, NULL,
	    "liveroot always boots a live image" },
	{ "boot", "live-boot/casper", A_NEEDLESS, 0, NULL,
	    "liveroot-init is the live initramfs" },
	{ "img_dev", "archiso", A_NEEDLESS, 0, NULL,
	    "findiso searches every partition for live.iso=" },
	{ "rd.live.check", "dracut", A_FLAG, K_CHECK, NULL, NULL },
	{ "verify-checksums", "live-boot", A_FLAG, K_CHECK, NULL, NULL },
	{ "live-media", "live-boot", A_IGNORE, 0, NULL,
	    "give live.label=LABEL; every device is probed" },
	{ "live-media-path", "live-boot", A_IGNORE, 0, NULL,
	    "give live.image=/PATH/rootfs.uzip" },
	{ "archisosearchuuid", "archiso", A_IGNORE, 0, NULL,
	    "give live.label=LABEL" },
	{ "archisobasedir", "archiso", A_IGNORE, 0, NULL,
	    "give live.image=/PATH/rootfs.uzip" },
	{ "rd.live.dir", "dracut", A_IGNORE, 0, NULL,
	    "give live.image=/PATH/rootfs.uzip" },
	{ "rd.live.squashimg", "dracut", A_IGNORE, 0, NULL,
	    "give live.image=/PATH/rootfs.uzip" },
	{ "rd.shell", "dracut", A_IGNORE, 0, NULL,
	    "give live.shell=1 for a rescue shell" },
	{ "persistent", "casper", A_IGNORE, 0, NULL,
	    "give live.persist=LABEL=NAME[:/FILE]" },
	{ "rd.live.", "dracut", A_IGNORE, 0, NULL,
	    "not implemented; the live.* keys are in liveroot-init(8)" },
};

static const struct alias *
alias_find(const char *key)
{
	size_t i, l;

	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		l = strlen(aliases[i].name);
		if (strcmp(key, aliases[i].name) == 0 ||
		    (aliases[i].name[l - 1] == '.' &&
		    strncmp(key, aliases[i].name, l) == 0))
			return (&aliases[i]);
	}
	return (NULL);
}

/* One word of another tool: mapped, not needed, or ignored (said). */
static int
set_alias(struct live_config *c, const struct alias *a, const char *key,
    const char *v, enum live_source src)
{
	char val[320], shown[96];
	int *flag;

	snprintf(shown, sizeof(shown), "%s%s%.60s", key, v ? "=" : "",
	    v ? v : "");
	switch (a->what) {
	case A_FLAG:
		if (v != NULL && (strcmp(v, "y") == 0 || strcmp(v, "n") == 0))
			v = v[0] == 'y' ? "1" : "0";	/* archiso's y/n */
		flag = a->k == K_TORAM ? &c->toram : a->k == K_CHECK ?
		    &c->check : &c->debug;
		if (v != NULL && strcmp(v, "auto") != 0 &&
		    set_flag(c, key, v, flag) != 0)
			return (1);
		if (v == NULL || strcmp(v, "auto") == 0)
			*flag = 1;
		mark(c, a->k, src);
		note(c, key, "mapped: %s (%s) -> %s=%d", shown, a->tool,
		    key_names[a->k], *flag);
		return (1);
	case A_MAP:
		if (a->fixed != NULL)
			snprintf(val, sizeof(val), "%s", a->fixed);
		else if (v == NULL || v[0] == '\0') {
			problem(c, LIVE_P_INVALID, key, "%s (%s): needs a "
			    "value; ignored", key, a->tool);
			return (1);
		} else if (a->k == K_PERSIST && strcmp(key,
		    "persistence-label") == 0)
			snprintf(val, sizeof(val), "LABEL=%s", v);
		else if (a->k == K_OVERLAY && strcmp(key,
		    "rd.live.overlay.size") == 0)
			snprintf(val, sizeof(val), "%sM", v);	/* MiB */
		else
			snprintf(val, sizeof(val), "%s", v);
		/* persistence alone does not undo persistence-label= */
		if (a->fixed != NULL && a->k == K_PERSIST && c->persist[0])
			return (1);
		if (set_key(c, a->k, key, val) == 0) {
			mark(c, a->k, src);
			note(c, key, "mapped: %s (%s) -> %s=%.100s", shown,
			    a->tool, key_names[a->k], val);
		}
		return (1);
	case A_NEEDLESS:
		if (strcmp(key, "boot") == 0 && (v == NULL ||
		    (strcmp(v, "live") != 0 && strcmp(v, "casper") != 0)))
			return (0);	/* boot=... of something else */
		note(c, key, "not needed: %s (%s): %s", shown, a->tool,
		    a->hint);
		return (1);
	case A_IGNORE:
		if (strcmp(key, "rd.shell") == 0 && v != NULL &&
		    strcmp(v, "0") == 0) {
			note(c, key, "not needed: rd.shell=0 (dracut): "
			    "liveroot starts no shell unless live.shell=1");
			return (1);
		}
		problem(c, LIVE_P_UNSUPPORTED, key, "ignored: %s (%s); liveroot: "
		    "%s", shown, a->tool, a->hint);
		return (1);
	}
	return (0);
}

int
config_set(struct live_config *c, const char *key, const char *value,
    enum live_source src)
{
	const struct alias *a;
	int k;

	if (strcmp(key, "root") == 0)
		return (set_root_alias(c, value, src));
	if ((a = alias_find(key)) != NULL)
		return (set_alias(c, a, key, value, src));
	if (strcmp(key, "findiso") == 0) {
		if (set_path(c, "findiso", c->iso, sizeof(c->iso), value) == 0)
			mark(c, K_ISO, src);
		return (1);
	}
	if (strncmp(key, "live.", 5) != 0)
		return (0);
	for (k = 0; k < K_COUNT; k++)
		if (strcmp(key, key_names[k]) == 0)
			break;
	if (k == K_COUNT) {
		problem(c, LIVE_P_UNKNOWN, key, "%s: unknown key, ignored "
		    "(known: live.probe label image iso url sha256 pubkey "
		    "timeout toram overlay persist persist.size handoff init "
		    "shell debug check geom fetch fetch.prefetch fetch.share)",
		    key);
		return (1);
	}
	if (set_key(c, k, key, value) == 0)
		mark(c, k, src);
	return (1);
}

/*
 * Split the next word of a kernel command line into buf: whitespace
 * separates, double quotes group and are dropped (the kernel's next_arg()).
 * Returns the position after the word, or NULL at the end.
 */
static const char *
next_word(const char *p, char *buf, size_t len, int *truncated)
{
	size_t n = 0;
	int q = 0;

	*truncated = 0;
	while (*p != '\0' && isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return (NULL);
	for (; *p != '\0'; p++) {
		if (*p == '"') {
			q = !q;
			continue;
		}
		if (!q && isspace((unsigned char)*p))
			break;
		if (n + 1 < len)
			buf[n++] = *p;
		else
			*truncated = 1;
	}
	buf[n] = '\0';
	return (p);
}

static void
apply_word(struct live_config *c, char *w, enum live_source src)
{
	char *eq;

	eq = strchr(w, '=');
	if (eq != NULL)
		*eq++ = '\0';
	config_set(c, w, eq, src);
}

size_t
config_parse_cmdline(struct live_config *c, const char *cmdline)
{
	size_t before = c->nproblems + c->problems_dropped;
	char w[1536];
	const char *p = cmdline;
	int trunc;

	while (p != NULL && (p = next_word(p, w, sizeof(w), &trunc)) != NULL) {
		if (strcmp(w, "--") == 0)
			break;
		if (trunc) {
			w[40] = '\0';
			if (strncmp(w, "live.", 5) == 0 ||
			    strncmp(w, "root=", 5) == 0 ||
			    strncmp(w, "findiso=", 8) == 0)
				problem(c, LIVE_P_INVALID, "cmdline",
				    "%s...: word longer than %zu bytes, "
				    "ignored", w, sizeof(w) - 1);
			continue;
		}
		apply_word(c, w, LIVE_SRC_CMDLINE);
	}
	config_finish(c);
	return (c->nproblems + c->problems_dropped - before);
}

size_t
config_parse_defaults(struct live_config *c, const char *text, size_t len)
{
	size_t before = c->nproblems + c->problems_dropped;
	char line[1536], *s, *e, *eq, *v;
	size_t i = 0, n;

	while (i < len) {
		n = 0;
		while (i < len && text[i] != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = text[i];
			i++;
		}
		i++;
		line[n] = '\0';
		for (s = line; isspace((unsigned char)*s); s++)
			;
		if (*s == '#' || *s == '\0')
			continue;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		eq = strchr(s, '=');
		v = NULL;
		if (eq != NULL) {
			*eq = '\0';
			v = eq + 1;
			for (e = eq; e > s && isspace((unsigned char)e[-1]);)
				*--e = '\0';
			while (isspace((unsigned char)*v))
				v++;
			n = strlen(v);
			if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
				v[n - 1] = '\0';
				v++;
			}
		}
		if (!config_set(c, s, v, LIVE_SRC_FILE) &&
		    strncmp(s, "live.", 5) != 0)
			problem(c, LIVE_P_UNKNOWN, s, "%s: not a live.* key or "
			    "alias, ignored in /etc/liveroot/defaults", s);
	}
	config_finish(c);
	return (c->nproblems + c->problems_dropped - before);
}

void
config_finish(struct live_config *c)
{
	/*
	 * A URL without an explicit order: the image is on the network, so
	 * do not wait live.timeout for media first (dracut's root=live:http
	 * behaves the same).  An explicit live.probe always wins.
	 */
	if (!c->probe_set && c->url[0] != '\0') {
		c->probe[0] = LIVE_S_PRELOAD;
		c->probe[1] = LIVE_S_NET;
		c->nprobe = 2;
	} else if (!c->probe_set) {
		size_t i;

		for (i = 0; i < LIVE_S_COUNT; i++)
			c->probe[i] = (enum live_strategy)i;
		c->nprobe = LIVE_S_COUNT;
	}
}

uint64_t
config_overlay_bytes(const struct live_config *c, uint64_t ram_bytes)
{
	uint64_t v;

	if (c->overlay_bytes != 0)
		return (c->overlay_bytes);
	v = ram_bytes / 100 * c->overlay_pct +
	    ram_bytes % 100 * c->overlay_pct / 100;
	return (v & ~(uint64_t)4095);
}

int
config_key_at(const struct live_config *c, size_t i, const char **key,
    char *buf, size_t len, enum live_source *src)
{
	size_t j, o;

	if (i >= K_COUNT)
		return (0);
	*key = key_names[i];
	*src = c->src[i];
	buf[0] = '\0';
	switch (i) {
	case K_PROBE:
		for (j = 0, o = 0; j < c->nprobe && o < len; j++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
			    j ? "," : "", config_strategy_name(c->probe[j]));
		break;
	case K_LABEL:	snprintf(buf, len, "%s", c->label); break;
	case K_IMAGE:	snprintf(buf, len, "%s", c->image); break;
	case K_ISO:	snprintf(buf, len, "%s", c->iso); break;
	case K_URL:	snprintf(buf, len, "%s", c->url); break;
	case K_SHA256:	snprintf(buf, len, "%s", c->sha256); break;
	case K_PUBKEY:	snprintf(buf, len, "%s", c->pubkey); break;
	case K_TIMEOUT:	snprintf(buf, len, "%u", c->timeout_s); break;
	case K_TORAM:	snprintf(buf, len, "%d", c->toram); break;
	case K_OVERLAY:
		if (c->overlay_bytes != 0)
			snprintf(buf, len, "%" PRIu64, c->overlay_bytes);
		else
			snprintf(buf, len, "%u%%", c->overlay_pct);
		break;
	case K_PERSIST:	snprintf(buf, len, "%s", c->persist); break;
	case K_HANDOFF:	snprintf(buf, len, "%s", config_handoff_name(c->handoff)); break;
	case K_INIT:	snprintf(buf, len, "%s", c->init); break;
	case K_SHELL:	snprintf(buf, len, "%d", c->shell); break;
	case K_DEBUG:	snprintf(buf, len, "%d", c->debug); break;
	case K_GEOM:	snprintf(buf, len, "%s", config_geom_name(c->geom)); break;
	case K_CHECK:	snprintf(buf, len, "%d", c->check); break;
	case K_PERSIST_SIZE:
		if (c->persist_size != 0)
			snprintf(buf, len, "%" PRIu64, c->persist_size);
		break;
	case K_FETCH:	snprintf(buf, len, "%s", config_fetch_name(c->fetch)); break;
	case K_FETCH_PREFETCH:
		snprintf(buf, len, "%d", c->prefetch);
		break;
	case K_FETCH_SHARE:
		if (c->fetch_share != 0)
			snprintf(buf, len, "%u", c->fetch_share);
		break;
	}
	return (1);
}
