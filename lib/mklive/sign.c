/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sign.c - mklive's signature (signify.h): with a secret key,
 * OUT/rootfs.uzip.sig beside rootfs.uzip (and in the ISO and the netboot
 * directory), verifiable with signify-openbsd -V or liveroot verify.  The
 * key is checked before anything is built.  (The initramfs side, a public
 * key liveroot-init checks the image with at boot, is not there yet.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/os.h>
#include <liveroot/signify.h>

#include "mklive_int.h"

int
mk_sign_check(struct mk *m)
{
	struct sig_sec sec;
	int e;

	if (m->o->sign_key == NULL)
		return (0);
	if ((e = sig_init(m->d)) != 0)
		return (e);
	if ((e = sig_read_sec(m->o->sign_key, &sec, m->d)) != 0)
		m->r->bad_input = MKLIVE_IN_SIGNKEY;
	memset(&sec, 0, sizeof(sec));
	return (e);
}

/* OUT/rootfs.uzip.sig, signed with o->sign_key. */
int
mk_sign(struct mk *m)
{
	const struct mklive_opts *o = m->o;
	struct mklive_result *r = m->r;
	struct sig_sec sec;
	struct sig_sig sig;
	char text[SIG_FILE_MAX], comment[256];
	const char *b;
	size_t l;
	int e;

	if (o->sign_key == NULL)
		return (0);
	snprintf(r->sig, sizeof(r->sig), "%.4000s.sig", r->uzip);
	mk_step(m, "signing %s with %s", r->uzip, o->sign_key);
	if ((e = sig_read_sec(o->sign_key, &sec, m->d)) != 0)
		return (e);
	e = sig_sign_file(r->uzip, &sec, &sig, m->d);
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
	return (os_write_file(r->sig, text, strlen(text), 0644, m->d));
}
