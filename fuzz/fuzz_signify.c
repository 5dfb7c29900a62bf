/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_signify.c - signify's key and signature parsers (signify.h) on the
 * raw input, read as a public key, a secret key and a signature.  The
 * promises: a parse either fails with a message or fills its output from
 * the input's base64 line; a parsed signature formats back to a text that
 * parses to the same bytes; a verification of the parsed signature with
 * the parsed public key over the input itself ends (0, EBADMSG or
 * SIG_EKEY).  A broken promise aborts; any other result is fine.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/signify.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	const char *t = (const char *)data;
	struct sig_pub pub;
	struct sig_sec sec;
	struct sig_sig sig, back;
	struct sig_verify v;
	struct diag d;
	char text[SIG_FILE_MAX];
	int have_pub, have_sig, e;

	if (!inited) {
		if (sig_init(&d) != 0)
			abort();
		inited = 1;
	}
	diag_clear(&d);
	have_pub = sig_parse_pub(t, size, "fuzz.pub", &pub, &d) == 0;
	if (!have_pub && d.msg[0] == '\0')
		abort();
	diag_clear(&d);
	if (sig_parse_sec(t, size, "fuzz.sec", &sec, &d) != 0 &&
	    d.msg[0] == '\0')
		abort();
	diag_clear(&d);
	have_sig = sig_parse_sig(t, size, "fuzz.sig", &sig, &d) == 0;
	if (have_sig) {
		if (sig_format_sig(&sig, "fuzz", text, sizeof(text), &d) != 0 ||
		    sig_parse_sig(text, strlen(text), "back", &back, &d) != 0 ||
		    memcmp(&back, &sig, sizeof(sig)) != 0)
			abort();
		memcpy(pub.keynum, sig.keynum, sizeof(pub.keynum));
		memcpy(pub.pk, sig.sig, sizeof(pub.pk));
		have_pub = 1;
	}
	if (have_pub && have_sig) {
		if ((e = sig_verify_init(&v, &pub, &sig, &d)) == 0) {
			sig_verify_update(&v, data, size);
			e = sig_verify_final(&v, &d);
		}
		if (e != 0 && e != EBADMSG && e != SIG_EKEY)
			abort();
	}
	return (0);
}
