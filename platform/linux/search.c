/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * search.c - the I/O of liveroot-init's search for the root image: Ventoy's
 * os_param (ACPI table VTOY, else the EFI variable VentoyOsParam), the
 * preload and net strategies (the fetch bounded by live.timeout= and its
 * progress logged), one device opened and searched by locate, and the
 * listing of every device when nothing was found.  What it sees goes into
 * the caller's struct probe_report; when a device is tried again and which
 * hint fits are lib/probe/report.c's decisions.
 *
 * The net strategy reads lazily by default (live.fetch=lazy, issue 13):
 * the image is pinned by one Range request (http.h), URL.hashes is fetched
 * whole and verified (the signify key with URL.hashes.sig, else
 * live.sha256=, which then pins the hashes file), and the source is a fill
 * device (fill.h) over the HTTP device: nothing but the clusters the boot
 * reads comes before the system starts.  Its filler thread is started by
 * the NBD server process (nbdattach.c); its events are logged here
 * (fill_event, called in that process).  The whole download of before is
 * the fallback, said on the console, when the server serves no ranges, when
 * the image must be checked and the server has no URL.hashes(.sig), or when
 * live.sha256= is not the hashes file's (the image's own, as boot.ipxe
 * files of older mklive runs give it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liveroot/fetch.h>
#include <liveroot/fill.h>
#include <liveroot/fmt_uzip_hashes.h>
#include <liveroot/fmt_ventoy.h>
#include <liveroot/http.h>
#include <liveroot/inventory.h>
#include <liveroot/locate.h>

#include "lrinit.h"

/* --- ventoy os_param ------------------------------------------------------ */

/* A valid os_param: noted in r and kept without its first hdr bytes. */
static void
param_found(struct probe_report *r, const char *where,
    const struct fmt_ventoy_param *p, unsigned char *buf, size_t len,
    size_t hdr, unsigned char **param, size_t *plen)
{
	r->param_found = 1;
	snprintf(r->param_where, sizeof(r->param_where), "%s", where);
	snprintf(r->param_note, sizeof(r->param_note),
	    "image %s (%llu bytes) on partition %u", p->image_path,
	    (unsigned long long)p->image_size, p->part);
	memmove(buf, buf + hdr, len - hdr);
	*param = buf;
	*plen = len - hdr;
	lri_log("ventoy: os_param found in the %s: %s", r->param_where,
	    r->param_note);
}

void
lri_os_param_read(struct probe_report *r, unsigned char **param,
    size_t *plen)
{
	struct fmt_ventoy_param p;
	const uint8_t *loc = NULL;
	size_t len, loclen = 0;
	struct diag d;
	unsigned char *buf;
	char *text;

	diag_clear(&d);
	if (os_read_file("/sys/firmware/acpi/tables/VTOY", 1 << 20, &text,
	    &len, NULL) == 0) {
		buf = (unsigned char *)text;
		if (fmt_ventoy_acpi_decode(buf, len, &p, &loc, &loclen,
		    &d) == 0) {
			param_found(r, "ACPI table VTOY", &p, buf, len,
			    FMT_VENTOY_ACPI_HDR, param, plen);
			return;
		}
		lri_log("ventoy: ACPI table VTOY present but invalid: %s",
		    d.msg);
		snprintf(r->param_note, sizeof(r->param_note),
		    "ACPI VTOY invalid: %s", d.msg);
		free(buf);
	}
	if (os_read_file("/sys/firmware/efi/efivars/" FMT_VENTOY_EFIVAR_NAME,
	    1 << 20, &text, &len, NULL) == 0) {
		buf = (unsigned char *)text;
		diag_clear(&d);
		if (len > 4 && fmt_ventoy_efivar_decode(buf, len, &p, &d) ==
		    0) {
			/* the variable's 4-byte attribute word first */
			param_found(r, "EFI variable VentoyOsParam", &p, buf,
			    len, 4, param, plen);
			return;
		}
		lri_log("ventoy: EFI variable VentoyOsParam present but "
		    "invalid: %s", d.msg);
		free(buf);
	}
}

/* --- preload and net ----------------------------------------------------- */

static void
fetch_progress(uint64_t done, uint64_t total, void *arg)
{
	static double last;
	double now = lri_uptime();

	(void)arg;
	if (now - last < 1.0 && done != total)
		return;
	last = now;
	if (total != 0)
		lri_log("fetching: %llu / %llu bytes (%llu%%)",
		    (unsigned long long)done, (unsigned long long)total,
		    (unsigned long long)(done * 100 / total));
	else
		lri_log("fetching: %llu bytes", (unsigned long long)done);
}

static void
fetch_log(const char *msg, void *arg)
{
	(void)arg;
	lri_log("%s", msg);
}

enum probe_outcome
lri_strategy_preload(const struct live_config *c, struct probe_report *r,
    struct probe_source *out, struct diag *d)
{
	struct bdev *b;
	struct stat st;
	int e;

	r->preload_tried = 1;
	if (stat(c->image, &st) != 0) {
		diag_set(d, ENOENT, "no %s in the initramfs", c->image);
		return (PROBE_NOT_HERE);
	}
	if ((e = bdev_file_open(c->image, BDEV_FILE_RDONLY, 0, &b, d)) != 0)
		return (PROBE_ERROR);
	out->strategy = LIVE_S_PRELOAD;
	snprintf(out->device, sizeof(out->device), "initramfs:%s", c->image);
	out->size = bdev_size(b);
	out->bdev = b;
	lri_sig_file(c->image, out);
	return (PROBE_FOUND);
}

/*
 * The bound on the whole fetch: live.timeout= when it was given (at least
 * 5 s), else the library's default (FETCH_TOTAL_DEFAULT); the 30 s default
 * of the device wait is far too short for an image.
 */
static unsigned
fetch_bound(const struct live_config *c)
{
	enum live_source src;
	const char *key;
	char buf[32];
	size_t i;

	for (i = 0; config_key_at(c, i, &key, buf, sizeof(buf), &src); i++)
		if (strcmp(key, "live.timeout") == 0)
			return (src == LIVE_SRC_DEFAULT ? 0 :
			    c->timeout_s < 5 ? 5 : c->timeout_s);
	return (0);
}

/* What fixes a failed fetch, in the boot's terms (the library names none). */
static const char *const net_hints[FETCH_FIX_COUNT] = {
	[FETCH_FIX_URL] = " (live.url=)",
	[FETCH_FIX_SHA256] = " (live.sha256=)",
	[FETCH_FIX_TIME] = "; live.timeout= sets the bound",
	[FETCH_FIX_CA] = ", with --ca FILE at mklive time",
	[FETCH_FIX_RESERVE] = " (live.overlay=)",
};

/* --- lazy: http -> fill (RAM) -> uzip with the hashes file --------------- */

/* The background fill's run: a demand read waits at most for one run. */
#define LAZY_RUN	(2u << 20)
/* The hashes file: 32 bytes a cluster; 64 MiB covers 2 M clusters. */
#define LAZY_HASHES_MAX	(64u << 20)

static uint64_t
mem_available(void)
{
	unsigned long long kb;
	char line[256];
	uint64_t v = 0;
	FILE *f;

	if ((f = fopen("/proc/meminfo", "re")) == NULL)
		return (0);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
			v = (uint64_t)kb * 1024;
			break;
		}
	fclose(f);
	return (v);
}

/* Called in the NBD server process (the filler thread, or a reader). */
static void
fill_event(enum bdev_fill_event ev, uint64_t have, uint64_t total,
    const char *msg, void *arg)
{
	unsigned pct = total ? (unsigned)(have * 100 / total) : 100;
	unsigned long long mib = have >> 20, tmib = total >> 20;

	(void)arg;
	switch (ev) {
	case BDEV_FILL_PROGRESS:
		lri_log("fill: %u%% in RAM (%llu of %llu MiB)", pct, mib, tmib);
		break;
	case BDEV_FILL_STALLED:
		lri_log("fill: stalled at %u%%: %s; retrying (the system runs "
		    "on; a read of what is not in RAM waits for the server)",
		    pct, msg ? msg : "the server does not answer");
		break;
	case BDEV_FILL_RESUMED:
		lri_log("fill: resumed at %u%%: the server answers again", pct);
		break;
	case BDEV_FILL_COMPLETE:
		lri_log("fill: image complete in RAM: the network is no longer "
		    "needed (%llu MiB)", tmib);
		break;
	case BDEV_FILL_STOPPED:
		lri_log("fill: stopped at %u%% (%llu of %llu MiB in RAM): %s; "
		    "reads of the rest fail", pct, mib, tmib,
		    msg ? msg : "the server's file changed");
		break;
	}
}

static void
http_log(const char *msg, void *arg)
{
	(void)arg;
	lri_log("http: %s", msg);
}

/* An error of bdev_http_open as the full fetch reports its own. */
static enum probe_outcome
lazy_error(struct probe_report *r, struct diag *d)
{
	struct fetch_result fr;

	memset(&fr, 0, sizeof(fr));
	if (d->code == ENOENT)
		fr.fix = FETCH_FIX_URL;
	else if (d->code == ETIMEDOUT)
		fr.fix = FETCH_FIX_TIME;
	else if (d->code == EACCES && strncmp(d->msg, "HTTP ", 5) != 0)
		fr.fix = FETCH_FIX_CA;	/* the certificate (else a 4xx) */
	net_fetch_hint(d, &fr, net_hints);
	snprintf(r->net_error, sizeof(r->net_error), "%s", d->msg);
	if (strncmp(d->msg, "HTTP ", 5) == 0) {
		r->http_status = strtol(d->msg + 5, NULL, 10);
		lri_log("%s", d->msg);
	} else
		lri_log("fetch failed: %s", d->msg);
	return (PROBE_ERROR);
}

/*
 * The lazy source, or PROBE_NOT_HERE: fall back to the whole download (the
 * reason logged).  A server that only lacks Range requests still gets its
 * URL.hashes checked here: out->hashes (out->hashes_pinned when the key or
 * live.sha256= verified it) then checks the downloaded image cluster by
 * cluster.  fo: the full fetch's options (CA bundle, bounds).
 */
static enum probe_outcome
lazy_open(const struct live_config *c, struct probe_report *r,
    const char *ifname, const struct fetch_opts *fo, struct probe_source *out,
    struct diag *d)
{
	struct bdev_http_opts ho;
	struct bdev_http_info hi;
	struct bdev_fill_opts flo;
	struct fmt_uzhash uh;
	struct bdev *http = NULL, *fill = NULL;
	char hurl[sizeof(c->url) + 8], hname[160], how[400], magic[512];
	size_t q = strcspn(c->url, "?#"), hlen = 0;
	uint64_t need, avail, reserve;
	void *hashes = NULL;
	long status = 0;
	int e, pinned, verified = 0, prefetch = c->prefetch;
	struct diag hd;

	lri_log("fetching %s lazily (live.fetch=lazy): Range requests, the "
	    "clusters the boot reads first", r->net_url);
	memset(&ho, 0, sizeof(ho));
	ho.url = c->url;
	ho.ca_file = fo->ca_file;
	ho.open_s = fo->total_s ? (fo->total_s < 60 ? fo->total_s : 60) : 0;
	ho.log = http_log;
	memset(&hi, 0, sizeof(hi));
	if ((e = bdev_http_open(&ho, &http, d)) == ENOTSUP) {
		lri_log("lazy: %s", d->msg);
		diag_clear(d);
	} else if (e != 0)
		return (lazy_error(r, d));
	else {
		(void)bdev_http_info(http, &hi);
		lri_log("lazy: %s pinned: %llu bytes%s%s%s%s%s", hi.url,
		    (unsigned long long)hi.size, hi.etag[0] ? ", ETag " : "",
		    hi.etag, hi.last_modified[0] ? ", Last-Modified " : "",
		    hi.last_modified, hi.etag[0] || hi.last_modified[0] ? "" :
		    " (no ETag, no Last-Modified: only a change of size is "
		    "seen)");
	}

	/* URL.hashes, before a query or fragment */
	snprintf(hurl, sizeof(hurl), "%.*s.hashes%s", (int)q, c->url,
	    c->url + q);
	net_url_redact(hurl, hname, sizeof(hname));
	pinned = c->sha256[0] != '\0' || lri_pubkey(c) != NULL;
	lri_log("fetching %s", hname);
	diag_clear(&hd);
	if ((e = lri_fetch_small(fo, hurl, LAZY_HASHES_MAX, &hashes, &hlen,
	    &status, &hd)) != 0) {
		if (pinned || status != 404) {
			lri_log("lazy: no %s (%s): the image cannot be checked "
			    "cluster by cluster; fetching it whole", hname,
			    hd.msg);
			goto fallback;
		}
		lri_log("lazy: no %s on the server: the clusters are not "
		    "checked (nothing pins the image: no signify key, no "
		    "live.sha256=)", hname);
	} else {
		diag_clear(&hd);
		e = lri_check_hashes(c, fo, hurl, hname, hashes, hlen, how,
		    sizeof(how), &hd);
		if (e == EBADMSG || e == ENODATA) {
			lri_log("lazy: %s; %s", hd.msg, e == EBADMSG ?
			    "taking it as the image's, which is fetched whole "
			    "and checked" : "fetching the whole image instead "
			    "(with its own signature)");
			goto fallback;
		}
		if (e == 0) {
			verified = 1;
			lri_log("%s OK (%s: %s)", c->sha256[0] ? "sha256" :
			    "signature", hname, how);
		} else if (e == ENOENT)
			lri_log("lazy: %s: every cluster is checked against "
			    "it, but %s", hname, hd.msg);
		else {
			/* a bad signature: the file is not used, and
			 * lri_check_image refuses the image it was for */
			lri_log("lazy: %s", hd.msg);
			free(hashes);
			hashes = NULL;
			hlen = 0;
		}
		memset(&uh, 0, sizeof(uh));
		diag_clear(d);
		if (hashes != NULL && fmt_uzhash_parse(hashes, hlen, &uh, d) !=
		    0)
			goto fail;
		if (hashes != NULL && http != NULL && uh.image_size != hi.size) {
			diag_set(d, EINVAL, "%s is the hashes file of an image "
			    "of %llu bytes, %s has %llu: the server holds parts "
			    "of two versions; put the image and its hashes file "
			    "of one build on it", hname, (unsigned long long)
			    uh.image_size, hi.url, (unsigned long long)hi.size);
			goto fail;
		}
	}
	if (http == NULL) {
		/* no ranges: the download is checked by the hashes file */
		if (hashes != NULL)
			lri_log("lazy: the whole image is checked cluster by "
			    "cluster against %s as it is read", hname);
		out->hashes = hashes;
		out->hashes_len = hashes != NULL ? hlen : 0;
		out->hashes_pinned = verified;
		snprintf(out->hashes_name, sizeof(out->hashes_name), "%s",
		    hname);
		return (PROBE_NOT_HERE);
	}

	/* RAM: the background fill keeps the whole image, beside the
	 * overlay; without it only what is read stays */
	reserve = config_overlay_bytes(c, lri_ram_bytes());
	need = bdev_fill_ram_needed(hi.size, BDEV_FILL_CHUNK_DEFAULT) + hlen;
	avail = mem_available();
	if (prefetch && avail != 0 && need + reserve > avail) {
		lri_log("lazy: the whole image in RAM needs %llu MiB and the "
		    "overlay may take %llu MiB; %llu MiB are available: no "
		    "background fill, only what is read stays in RAM and the "
		    "network stays needed (a smaller live.overlay= makes "
		    "room)", (unsigned long long)(need >> 20),
		    (unsigned long long)(reserve >> 20),
		    (unsigned long long)(avail >> 20));
		prefetch = 0;
	}
	memset(&flo, 0, sizeof(flo));
	flo.run = LAZY_RUN;
	flo.share_pct = c->fetch_share ? c->fetch_share :
	    LIVE_DEFAULT_FETCH_SHARE;
	flo.prefetch = prefetch;
	flo.event = fill_event;
	if ((e = bdev_fill_new(http, &flo, &fill, d)) != 0)
		goto fail;
	http = NULL;		/* the fill's */
	/*
	 * The first chunk now (the uzip header and TOC): a server that
	 * already serves another file is named here, before the stack's
	 * "is this uzip?" look would take a failed read for "not uzip".
	 */
	if ((e = bdev_read(fill, magic, sizeof(magic), 0, d)) != 0) {
		bdev_destroy(fill);
		goto fail;
	}
	out->strategy = LIVE_S_NET;
	snprintf(out->device, sizeof(out->device), "%s", r->net_url);
	snprintf(out->detail, sizeof(out->detail), "lazily via %s: Range "
	    "requests, in RAM as read%s", ifname, prefetch ?
	    " and in the background" : "");
	out->size = bdev_size(fill);
	out->bdev = fill;
	out->lazy = 1;
	out->prefetch = prefetch;
	out->fill_share = c->fetch_share ? c->fetch_share :
	    LIVE_DEFAULT_FETCH_SHARE;
	out->fill_chunk = BDEV_FILL_CHUNK_DEFAULT;
	out->hashes = hashes;
	out->hashes_len = hashes != NULL ? hlen : 0;
	out->hashes_pinned = verified;
	snprintf(out->hashes_name, sizeof(out->hashes_name), "%s", hname);
	lri_log("lazy: %s: %llu bytes served from the network as read%s%s",
	    r->net_url, (unsigned long long)out->size, prefetch ?
	    ", the rest fetched in the background" : "", hashes != NULL ?
	    ", every cluster checked against its hash" : "");
	return (PROBE_FOUND);

fallback:
	free(hashes);
	bdev_destroy(http);
	diag_clear(d);
	return (PROBE_NOT_HERE);
fail:
	free(hashes);
	bdev_destroy(http);
	snprintf(r->net_error, sizeof(r->net_error), "%s", d->msg);
	lri_log("lazy: %s", d->msg);
	return (PROBE_ERROR);
}

enum probe_outcome
lri_strategy_net(const struct live_config *c, struct probe_report *r,
    struct probe_source *out, struct diag *d)
{
	struct fetch_opts fo;
	struct fetch_result fr;
	struct bdev *b = NULL;
	char ifname[32];
	uint64_t ram = lri_ram_bytes();
	int e;

	if (c->url[0] == '\0') {
		diag_set(d, ENOENT, "no live.url= (or root=live:http...) "
		    "given");
		return (PROBE_NOT_HERE);
	}
	r->net_tried = 1;
	/* the URL only ever printed without query and user:password@ */
	net_url_redact(c->url, r->net_url, sizeof(r->net_url));
	if ((e = lri_net_up(c->timeout_s, ifname, sizeof(ifname), d)) != 0) {
		snprintf(r->net_error, sizeof(r->net_error), "%s", d->msg);
		return (PROBE_ERROR);
	}
	memset(&fo, 0, sizeof(fo));
	memset(&fr, 0, sizeof(fr));
	fo.url = c->url;
	fo.sha256 = c->sha256[0] ? c->sha256 : NULL;
	fo.reserve_bytes = config_overlay_bytes(c, ram);
	fo.total_s = fetch_bound(c);
	/* the build machine's CA bundle, put there by liveroot mklive */
	fo.ca_file = access(FETCH_CA_PATH, R_OK) == 0 ? FETCH_CA_PATH : NULL;
	fo.progress = fetch_progress;
	fo.log = fetch_log;
	if (c->fetch == LIVE_FETCH_LAZY) {
		enum probe_outcome o = lazy_open(c, r, ifname, &fo, out, d);

		if (o != PROBE_NOT_HERE)
			return (o);
		/* live.sha256= pinned the hashes file, which pins the
		 * image: its clusters are checked as they are read */
		if (out->hashes_pinned)
			fo.sha256 = NULL;
	}
	lri_log("fetching %s (within %u s; %s)", r->net_url,
	    fo.total_s ? fo.total_s : FETCH_TOTAL_DEFAULT, fo.ca_file ?
	    "CA bundle " FETCH_CA_PATH : "no CA bundle in the initramfs");
	e = net_fetch_mem(&fo, &b, &fr, d);
	r->http_status = fr.http_status;
	if (e != 0) {
		net_fetch_hint(d, &fr, net_hints);
		snprintf(r->net_error, sizeof(r->net_error), "%s", d->msg);
		if (e == EBADMSG) {
			r->sha_bad = 1;
			lri_log("sha256 MISMATCH: %s", d->msg);
		}
		else if (strncmp(d->msg, "HTTP ", 5) == 0)
			lri_log("%s", d->msg);
		else
			lri_log("fetch failed: %s", d->msg);
		return (PROBE_ERROR);
	}
	if (fo.sha256 != NULL)
		lri_log("sha256 OK (%s)", fr.sha256);
	lri_log("fetched %llu bytes in %u attempt(s), %u resumed",
	    (unsigned long long)fr.size, fr.attempts, fr.resumes);
	out->strategy = LIVE_S_NET;
	snprintf(out->device, sizeof(out->device), "%s", r->net_url);
	snprintf(out->detail, sizeof(out->detail), "in RAM via %s", ifname);
	out->size = bdev_size(b);
	out->bdev = b;
	if (!out->hashes_pinned)	/* else the hashes' signature did */
		lri_sig_fetch(c, &fo, out);
	return (PROBE_FOUND);
}

/* --- devices -------------------------------------------------------------- */

static enum live_strategy
strategy_of(const char *name)
{
	int s = name ? config_strategy_from_name(name, strlen(name)) : -1;

	return (s < 0 ? LIVE_S_LOCAL : (enum live_strategy)s);
}

/* Try again later when probe_retry_delay says so. */
static void
retry(struct lri_dev *dv, int e, int at_open)
{
	double s = probe_retry_delay(e, dv->tries, at_open);

	if (s == 0)
		return;
	dv->tries++;
	dv->retry_at = lri_uptime() + s;
}

/* Try one device; PROBE_FOUND fills out. */
enum probe_outcome
lri_probe_dev(struct lri_dev *dv, const struct locate_opts *lo,
    struct probe_source *out, struct diag *d)
{
	struct locate_result r;
	struct bdev *b = NULL, *img = NULL;
	char path[64];
	int e;

	dv->dirty = 0;
	dv->probed = 1;
	dv->retry_at = 0;
	snprintf(path, sizeof(path), "/dev/%s", dv->name);
	diag_clear(d);
	if ((e = bdev_file_open(path, BDEV_FILE_RDONLY, 0, &b, d)) != 0) {
		dv->err = e;
		snprintf(dv->seen, sizeof(dv->seen), "cannot open: %s",
		    e == ENOMEDIUM ? "no medium" : strerror(e));
		if ((lri_debug || e != ENOMEDIUM) && dv->tries == 0)
			lri_log("%s: %s%s", path, dv->seen, probe_transient(e) ?
			    " (trying again while waiting)" : "");
		retry(dv, e, 1);
		return (PROBE_NOT_HERE);
	}
	dv->size = bdev_size(b);
	memset(&r, 0, sizeof(r));
	e = probe_locate_device(path, b, lo, &r, d);
	if (e == 0 && r.found) {
		e = bdev_extmap_new(b, r.ext, r.next, r.image_size, &img, d);
		if (e != 0) {
			locate_result_free(&r);
			bdev_destroy(b);
			return (PROBE_ERROR);
		}
		out->strategy = strategy_of(r.strategy);
		snprintf(out->device, sizeof(out->device), "%s", path);
		snprintf(out->detail, sizeof(out->detail), "%s%s%s%s%s",
		    r.label[0] ? "label " : "", r.label,
		    r.iso_path[0] ? (r.label[0] ? ", ISO " : "ISO ") : "",
		    r.iso_path, "");
		out->size = r.image_size;
		out->nextents = r.next;
		out->bdev = img;
		if (r.siglen > 0 && r.siglen < sizeof(out->sig)) {
			memcpy(out->sig, r.sig, r.siglen);
			out->siglen = r.siglen;
		}
		locate_result_free(&r);
		return (PROBE_FOUND);
	}
	(void)probe_describe_device(b, dv->describe, sizeof(dv->describe));
	if (e != 0) {
		dv->err = e;
		snprintf(dv->seen, sizeof(dv->seen), "error: %s", d->msg);
		lri_log("%s: %s", path, dv->seen);
		retry(dv, e, 0);
	} else {
		snprintf(dv->seen, sizeof(dv->seen), "%s", r.seen);
		lri_log("%s: not here: %s", path, r.seen[0] ? r.seen :
		    dv->describe);
	}
	locate_result_free(&r);
	bdev_destroy(b);
	return (e != 0 ? PROBE_ERROR : PROBE_NOT_HERE);
}

/*
 * Every device after a failed search, each whole disk counted in r (and
 * noted when it came late).
 */
void
lri_devs_list(struct lri_devs *ds, struct probe_report *r)
{
	size_t i;

	for (i = 0; i < ds->n; i++) {
		struct lri_dev *dv = &ds->dev[i];

		if (dv->partition) {
			lri_log("  %s: partition, %llu bytes (appeared at "
			    "%.1f s)", dv->name, (unsigned long long)dv->size,
			    dv->appeared);
			continue;
		}
		lri_log("  %s: %llu bytes, appeared at %.1f s%s%s: %s",
		    dv->name, (unsigned long long)dv->size, dv->appeared,
		    r->dev_waited && dv->appeared > ds->wait_end ?
		    " (after the wait, not probed)" : "",
		    dv->gone ? " (removed)" : "",
		    dv->describe[0] ? dv->describe : "(not described)");
		if (dv->seen[0] && strcmp(dv->seen, dv->describe) != 0)
			lri_log("  %s: %s", dv->name, dv->seen);
		probe_report_disk(r, dv->name, dv->appeared, ds->wait_start,
		    ds->wait_end);
	}
	if (r->disks == 0)
		lri_log("  no block device at all");
}
