/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check.c - the root image checked before it is used, whatever the source:
 *
 *   signature  when the initramfs holds a signify public key
 *              (INITRAMFS_PUBKEY, or live.pubkey= naming another file in
 *              it: liveroot mklive --pubkey), the image must carry IMAGE.sig
 *              (beside it on the medium, in the initramfs, or URL.sig) made
 *              with that key; a missing or wrong one ends the boot with a
 *              diagnosis naming the key
 *   sha256     live.sha256= for every source (a download is already checked
 *              while it arrives, by lib/net)
 *   check      live.check=1 (dracut's rd.live.check, live-boot's
 *              verify-checksums): every byte read (a medium's read errors
 *              show now, not in the middle of the session) and, for a uzip
 *              image, every cluster decompressed
 *
 * Both are computed in one sequential pass over the image's bytes (after
 * live.toram's copy, from RAM), with progress on the console: a medium is
 * read once for the check.  The signature file's text comes with the probe's
 * answer (struct probe_source.sig).
 *
 * A lazy net source (live.fetch=lazy, issue 13), and a download from a
 * server without ranges in lazy mode, are not hashed whole before use:
 * their IMAGE.hashes is checked instead (lri_check_hashes: the same key
 * against URL.hashes.sig, or live.sha256=, which then pins the hashes
 * file), and the uzip layer checks every cluster against it as it comes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/fetch.h>
#include <liveroot/initramfs.h>
#include <liveroot/os.h>
#include <liveroot/signify.h>
#include <liveroot/uzip.h>

#include "lrinit.h"

#define CHECK_CHUNK	(1u << 20)

const char *
lri_pubkey(const struct live_config *c)
{
	if (c->pubkey[0] != '\0')
		return (c->pubkey);
	return (access(INITRAMFS_PUBKEY, R_OK) == 0 ? INITRAMFS_PUBKEY : NULL);
}

void
lri_sig_file(const char *image, struct probe_source *out)
{
	char p[300], *text;
	size_t len;

	out->siglen = 0;
	if (snprintf(p, sizeof(p), "%s.sig", image) >= (int)sizeof(p) ||
	    os_read_file(p, sizeof(out->sig) - 1, &text, &len, NULL) != 0)
		return;
	memcpy(out->sig, text, len);
	out->sig[len] = '\0';
	out->siglen = len;
	free(text);
}

void
lri_sig_fetch(const struct live_config *c, const struct fetch_opts *image,
    struct probe_source *out)
{
	struct fetch_opts fo = *image;
	struct fetch_result fr;
	struct bdev *b = NULL;
	struct diag d;
	char url[sizeof(c->url) + 8];
	size_t q = strcspn(c->url, "?#");
	uint64_t n;

	out->siglen = 0;
	if (lri_pubkey(c) == NULL)
		return;			/* nobody would read it */
	/* URL.sig, before a query or fragment */
	snprintf(url, sizeof(url), "%.*s.sig%s", (int)q, c->url, c->url + q);
	fo.url = url;
	fo.sha256 = NULL;
	fo.reserve_bytes = 0;
	fo.total_s = 60;
	fo.progress = NULL;
	memset(&fr, 0, sizeof(fr));
	diag_clear(&d);
	if (net_fetch_mem(&fo, &b, &fr, &d) != 0) {
		lri_log("signature: no %s.sig: %s", out->device, d.msg);
		return;
	}
	n = bdev_size(b);
	if (n > 0 && n < sizeof(out->sig) &&
	    bdev_read(b, out->sig, (size_t)n, 0, &d) == 0) {
		out->sig[n] = '\0';
		out->siglen = (size_t)n;
	}
	bdev_destroy(b);
}

int
lri_fetch_small(const struct fetch_opts *base, const char *url, size_t max,
    void **buf, size_t *len, long *status, struct diag *d)
{
	struct fetch_opts fo = *base;
	struct fetch_result fr;
	struct bdev *b = NULL;
	uint64_t n;
	void *p;
	int e;

	*buf = NULL;
	*len = 0;
	fo.url = url;
	fo.sha256 = NULL;
	fo.reserve_bytes = 0;
	fo.total_s = 60;
	fo.progress = NULL;
	memset(&fr, 0, sizeof(fr));
	e = net_fetch_mem(&fo, &b, &fr, d);
	if (status != NULL)
		*status = fr.http_status;
	if (e != 0)
		return (e);
	n = bdev_size(b);
	if (n == 0 || n > max) {
		bdev_destroy(b);
		return (diag_set(d, EFBIG, "%s: %llu bytes, expected 1..%zu",
		    url, (unsigned long long)n, max));
	}
	if ((p = malloc((size_t)n)) == NULL) {
		bdev_destroy(b);
		return (diag_set(d, ENOMEM, "out of memory for %s", url));
	}
	if ((e = bdev_read(b, p, (size_t)n, 0, d)) != 0) {
		free(p);
		bdev_destroy(b);
		return (e);
	}
	bdev_destroy(b);
	*buf = p;
	*len = (size_t)n;
	return (0);
}

int
lri_check_hashes(const struct live_config *c, const struct fetch_opts *fo,
    const char *url, const char *name, const void *buf, size_t len,
    char *how, size_t howlen, struct diag *d)
{
	const char *key = lri_pubkey(c);
	uint8_t h[OS_SHA256_LEN];
	char hex[OS_SHA256_HEXLEN + 1], sigurl[1100];
	size_t q = strcspn(url, "?#"), siglen;
	struct sig_verify v;
	struct sig_pub pub;
	struct sig_sig sig;
	struct diag fd;
	void *text;
	int e;

	how[0] = '\0';
	if (key == NULL && c->sha256[0] == '\0')
		return (diag_set(d, ENOENT, "nothing pins %s: no signify key "
		    "in the initramfs, no live.sha256=", name));
	if (c->sha256[0] != '\0') {
		if ((e = os_sha256_buf(buf, len, h)) != 0)
			return (diag_set(d, e, "sha256 of %s failed", name));
		os_hex(h, OS_SHA256_LEN, hex);
		if (strcmp(hex, c->sha256) != 0)
			return (diag_set(d, EBADMSG, "live.sha256= is not the "
			    "sha256 of %s (%s)", name, hex));
		snprintf(how, howlen, "sha256 %s", hex);
	}
	if (key == NULL)
		return (0);
	if ((e = sig_init(d)) != 0 || (e = sig_read_pub(key, &pub, d)) != 0)
		return (diag_prefix(d, "the initramfs' public key: "));
	/* URL.sig, before a query or fragment */
	snprintf(sigurl, sizeof(sigurl), "%.*s.sig%s", (int)q, url, url + q);
	diag_clear(&fd);
	if (lri_fetch_small(fo, sigurl, SIG_FILE_MAX, &text, &siglen, NULL,
	    &fd) != 0)
		return (diag_set(d, ENODATA, "no %s.sig: %s", name, fd.msg));
	e = sig_parse_sig(text, siglen, "IMAGE.hashes.sig", &sig, d);
	free(text);
	if (e != 0 || (e = sig_verify_init(&v, &pub, &sig, d)) != 0)
		return (diag_prefix(d, "%s (key %s): ", name, key));
	sig_verify_update(&v, buf, len);
	if ((e = sig_verify_final(&v, d)) != 0)
		return (diag_prefix(d, "signature of %s (key %s): ", name,
		    key));
	snprintf(how + strlen(how), howlen - strlen(how), "%ssignature (key "
	    "%s)", how[0] ? " and " : "", key);
	return (0);
}

/* One pass over b: sha256 and/or the signature's hash, or just reading. */
static int
check_pass(struct bdev *b, const char *what, struct os_sha256 *sha,
    struct sig_verify *v, struct diag *d)
{
	uint64_t off = 0, size = bdev_size(b);
	unsigned last = 0, pct;
	uint8_t *buf;
	size_t n;
	double t0 = lri_uptime();
	int e = 0;

	if ((buf = malloc(CHECK_CHUNK)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	while (off < size) {
		n = size - off < CHECK_CHUNK ? (size_t)(size - off) :
		    CHECK_CHUNK;
		if ((e = bdev_read(b, buf, n, off, d)) != 0) {
			diag_prefix(d, "%s at byte %llu: ", what,
			    (unsigned long long)off);
			break;
		}
		if (sha != NULL)
			os_sha256_update(sha, buf, n);
		if (v != NULL)
			sig_verify_update(v, buf, n);
		off += n;
		pct = (unsigned)(off * 10 / (size ? size : 1));
		if (pct != last && size >= (64u << 20)) {
			lri_log("check: %s %u%% (%llu of %llu MiB)", what,
			    pct * 10, (unsigned long long)(off >> 20),
			    (unsigned long long)(size >> 20));
			last = pct;
		}
	}
	free(buf);
	if (e == 0)
		lri_log("check: %s: %llu MiB in %.2f s", what,
		    (unsigned long long)(size >> 20), lri_uptime() - t0);
	return (e);
}

/* live.check of a uzip image: every cluster decompressed once. */
static int
check_uzip(struct probe_source *src, struct diag *d)
{
	/* inline: PID 1, no threads; a lazy image's clusters checked too */
	struct bdev_uzip_opts uo = { .workers = 1, .hashes = src->hashes,
	    .hashes_len = src->hashes_len, .hashes_name = src->hashes_name };
	struct bdev *u;
	char magic[16];
	int e;

	if (bdev_read(src->bdev, magic, sizeof(magic), 0, d) != 0 ||
	    memcmp(magic, "#!/bin/sh\n#", 11) != 0)
		return (0);			/* not a uzip: read already */
	bdev_ref(src->bdev);
	if ((e = bdev_uzip_new(src->bdev, &uo, &u, d)) != 0) {
		bdev_destroy(src->bdev);	/* our reference */
		return (diag_prefix(d, "the uzip image on %s: ",
		    src->device));
	}
	e = check_pass(u, "decompressing", NULL, NULL, d);
	bdev_destroy(u);
	if (e != 0)
		diag_prefix(d, "the uzip image on %s is damaged: ", src->device);
	return (e);
}

int
lri_check_image(const struct live_config *c, struct probe_source *src,
    struct diag *d)
{
	const char *key = lri_pubkey(c);
	int want_sha = c->sha256[0] != '\0' && src->strategy != LIVE_S_NET;
	struct os_sha256 *sha = NULL;
	struct sig_verify v;
	struct sig_pub pub;
	struct sig_sig sig;
	uint8_t h[OS_SHA256_LEN];
	char hex[OS_SHA256_HEXLEN + 1];
	int e;

	if (src->lazy || src->hashes_pinned) {
		/* checked by its hashes file, cluster by cluster as it
		 * comes: reading a lazy image whole here would fetch it all */
		if (src->lazy && key != NULL && !src->hashes_pinned)
			return (diag_set(d, EBADMSG, "the root image on %s: "
			    "the signature of its hashes file %s does not "
			    "verify with the key of %s (the line above says "
			    "why): this initramfs boots only images signed "
			    "with that key (liveroot mklive --sign)",
			    src->device, src->hashes_name, key));
		if (!c->check)
			return (0);
		if (src->lazy)
			lri_log("check: live.check=1 reads the whole lazy image "
			    "now (it is fetched first)");
		return (check_uzip(src, d));
	}
	if (key == NULL && !want_sha && !c->check)
		return (0);
	if (key != NULL) {
		if ((e = sig_init(d)) != 0 || (e = sig_read_pub(key, &pub,
		    d)) != 0)
			return (diag_prefix(d, "the initramfs' public key: "));
		if (src->siglen == 0)
			return (diag_set(d, ENOENT, "the root image on %s has no "
			    "signature (no %s.sig beside it): this initramfs "
			    "boots only images signed with the key of %s "
			    "(liveroot mklive --sign)", src->device,
			    src->strategy == LIVE_S_NET ? "URL" : c->image,
			    key));
		if ((e = sig_parse_sig(src->sig, src->siglen, "IMAGE.sig",
		    &sig, d)) != 0 || (e = sig_verify_init(&v, &pub, &sig,
		    d)) != 0)
			return (diag_prefix(d, "the root image on %s: ",
			    src->device));
	}
	if (want_sha && (e = os_sha256_new(&sha)) != 0)
		return (diag_set(d, e, "sha256: out of memory"));
	lri_log("check: %s%s%s%s of the root image on %s", want_sha ?
	    "sha256" : "", want_sha && key ? " and " : "", key ? "signature" :
	    "", !want_sha && !key ? "every byte" : "", src->device);
	e = check_pass(src->bdev, "reading the image", sha, key ? &v : NULL,
	    d);
	if (e == 0 && sha != NULL) {
		os_sha256_final(sha, h);
		for (int i = 0; i < OS_SHA256_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", h[i]);
		if (strcmp(hex, c->sha256) != 0)
			e = diag_set(d, EBADMSG, "sha256 MISMATCH: the root image "
			    "on %s has sha256 %s, live.sha256= says %s: the "
			    "medium is damaged or holds another image", src->device,
			    hex, c->sha256);
		else
			lri_log("sha256 OK (%s)", hex);
	}
	os_sha256_free(sha);
	if (e == 0 && key != NULL) {
		if ((e = sig_verify_final(&v, d)) != 0)
			diag_prefix(d, "signature of the root image on %s "
			    "(key %s): ", src->device, key);
		else
			lri_log("signature OK (key %s)", key);
	}
	if (e == 0 && c->check)
		e = check_uzip(src, d);
	return (e);
}
