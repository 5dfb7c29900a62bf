/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sign.c - mklive's signatures (signify.h): with a secret key,
 * OUT/rootfs.uzip.sig beside rootfs.uzip and OUT/rootfs.uzip.hashes.sig
 * beside rootfs.uzip.hashes (both also in the ISO and the netboot
 * directory), verifiable with signify-openbsd -V or liveroot verify; with
 * a public key, INITRAMFS_PUBKEY in the initramfs, so liveroot-init
 * refuses a root image whose signature is missing or not that key's
 * (platform/linux/check.c).  The keys are checked before anything is
 * built: readable, well-formed, one key pair when both are given.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/initramfs.h>
#include <liveroot/os.h>
#include <liveroot/signify.h>

#include "mklive_int.h"

int
mk_sign_check(struct mk *m)
{
	const struct mklive_opts *o = m->o;
	struct sig_sec sec;
	struct sig_pub pub;
	int e;

	if (o->sign_key == NULL && o->pubkey == NULL)
		return (0);
	if ((e = sig_init(m->d)) != 0)
		return (e);
	memset(&sec, 0, sizeof(sec));
	if (o->sign_key != NULL &&
	    (e = sig_read_sec(o->sign_key, &sec, m->d)) != 0) {
		m->r->bad_input = MKLIVE_IN_SIGNKEY;
		return (e);
	}
	if (o->pubkey != NULL &&
	    (e = sig_read_pub(o->pubkey, &pub, m->d)) != 0) {
		m->r->bad_input = MKLIVE_IN_PUBKEY;
		goto out;
	}
	if (o->sign_key != NULL && o->pubkey != NULL &&
	    (memcmp(sec.keynum, pub.keynum, SIG_KEYNUM_LEN) != 0 ||
	    memcmp(sec.sk + 32, pub.pk, SIG_PUB_LEN) != 0)) {
		m->r->bad_input = MKLIVE_IN_PUBKEY;
		e = diag_set(m->d, EINVAL, "%s and %s are not one key pair: "
		    "the initramfs would refuse the image signed with %s",
		    o->pubkey, o->sign_key, o->sign_key);
	}
out:
	memset(&sec, 0, sizeof(sec));
	return (e);
}

/* PATH.sig (into sigpath), signed with o->sign_key. */
static int
mk_sign_one(struct mk *m, const char *path, char *sigpath, size_t splen)
{
	const struct mklive_opts *o = m->o;
	struct sig_sec sec;
	struct sig_sig sig;
	char text[SIG_FILE_MAX], comment[256];
	const char *b;
	size_t l;
	int e;

	snprintf(sigpath, splen, "%.4000s.sig", path);
	mk_step(m, "signing %s with %s", path, o->sign_key);
	if ((e = sig_read_sec(o->sign_key, &sec, m->d)) != 0)
		return (e);
	e = sig_sign_file(path, &sec, &sig, m->d);
	memset(&sec, 0, sizeof(sec));
	if (e != 0)
		return (e);
	/* signify's comment: "verify with NAME.pub" */
	b = strrchr(o->sign_key, '/');
	b = b != NULL ? b + 1 : o->sign_key;
	l = strlen(b);
	if (l > 4 && strcmp(b + l - 4, ".sec") == 0)
		snprintf(comment, sizeof(comment), "verify with %.*s.pub",
		    (int)(l - 4 > 200 ? 200 : l - 4), b);
	else
		snprintf(comment, sizeof(comment), "signed by liveroot mklive");
	if ((e = sig_format_sig(&sig, comment, text, sizeof(text), m->d)) != 0)
		return (e);
	return (os_write_file(sigpath, text, strlen(text), 0644, m->d));
}

/*
 * OUT/rootfs.uzip.sig and OUT/rootfs.uzip.hashes.sig with o->sign_key
 * (Ed25519 signatures are deterministic: the same inputs, the same files).
 */
int
mk_sign(struct mk *m)
{
	struct mklive_result *r = m->r;
	int e;

	if (m->o->sign_key == NULL)
		return (0);
	if ((e = mk_sign_one(m, r->uzip, r->sig, sizeof(r->sig))) != 0)
		return (e);
	return (mk_sign_one(m, r->hashes, r->hashes_sig,
	    sizeof(r->hashes_sig)));
}

/* INITRAMFS_PUBKEY in the staging tree. */
int
mk_stage_pubkey(struct mk *m)
{
	char p[PATH_MAX], *text;
	size_t len;
	int e;

	if (m->o->pubkey == NULL)
		return (0);
	if ((e = os_read_file(m->o->pubkey, SIG_FILE_MAX, &text, &len,
	    m->d)) != 0) {
		m->r->bad_input = MKLIVE_IN_PUBKEY;
		return (e);
	}
	snprintf(p, sizeof(p), "%s%s", m->staging, INITRAMFS_PUBKEY);
	e = os_write_file(p, text, len, 0644, m->d);
	free(text);
	if (e == 0)
		mk_step(m, "initramfs: public key %s as %s (the root image "
		    "must be signed with its key)", m->o->pubkey,
		    INITRAMFS_PUBKEY);
	return (e);
}
