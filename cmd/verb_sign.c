/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_sign.c - `liveroot sign` and `liveroot verify`: signify's detached
 * Ed25519 signatures of a root image, with signify's flags (-s SECKEY / -p
 * PUBKEY, -m FILE, -x SIGFILE defaulting to FILE.sig), on lib/sig: what
 * signify-openbsd -S signs verifies here and the other way round.  The
 * image is streamed (verify reads it once, sign twice); the signature is
 * written as SIGFILE.XXXXXX and renamed.  Single-threaded.
 *
 * Exit status: sign 0 signed, 2 error; verify 0 valid, 1 not valid (or
 * made by another key), 2 error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/os.h>
#include <liveroot/signify.h>

#include "cli.h"
#include "verbs.h"

static const char sign_usage[] =
"usage: liveroot sign -s SECKEY -m FILE [-x SIGFILE] [-q]\n"
"\n"
"Sign FILE (a root image) with the signify secret key SECKEY: an Ed25519\n"
"signature in signify's format, detached, that signify-openbsd -V and\n"
"liveroot verify accept and that an initramfs built with a public key\n"
"checks at boot.  Keys come from signify-openbsd -G -n (no passphrase:\n"
"liveroot runs unattended).\n"
"\n"
"  -s, --seckey SECKEY  the secret key\n"
"  -m, --message FILE   the file to sign\n"
"  -x, --sigfile SIGFILE  where the signature goes (default FILE.sig)\n"
"  -q, --quiet          no summary line\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 signed, 2 error.  See liveroot-sign(8).\n";

static const char verify_usage[] =
"usage: liveroot verify -p PUBKEY -m FILE [-x SIGFILE] [-q]\n"
"\n"
"Check FILE against its signify signature SIGFILE with the public key\n"
"PUBKEY, as signify-openbsd -V does and liveroot-init does at boot.\n"
"\n"
"  -p, --pubkey PUBKEY  the public key\n"
"  -m, --message FILE   the signed file\n"
"  -x, --sigfile SIGFILE  its signature (default FILE.sig)\n"
"  -q, --quiet          no \"Signature Verified\" line\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 valid, 1 not valid (changed, or another key's), 2 error.\n"
"See liveroot-sign(8).\n";

struct sign_args {
	const char	*key;		/* -s or -p */
	const char	*msg;
	const char	*sigfile;
	int		 quiet;
	char		 sigbuf[PATH_MAX];
};

static int
sign_parse(int argc, char **argv, int verify, struct sign_args *a)
{
	static const struct option lo[] = {
		{ "seckey", required_argument, NULL, 's' },
		{ "pubkey", required_argument, NULL, 'p' },
		{ "message", required_argument, NULL, 'm' },
		{ "sigfile", required_argument, NULL, 'x' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *usage = verify ? verify_usage : sign_usage;
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, verify ? ":p:m:x:qh" :
	    ":s:m:x:qh", lo, NULL)) != -1) {
		switch (c) {
		case 's':	/* sign's getopt string has s, verify's p; */
		case 'p':	/* --seckey/--pubkey reach both */
			if ((c == 'p') != verify) {
				cli_err("--%s is an option of liveroot %s",
				    c == 'p' ? "pubkey" : "seckey", c == 'p' ?
				    "verify" : "sign");
				return (CLI_ERROR);
			}
			a->key = optarg;
			break;
		case 'm':
			a->msg = optarg;
			break;
		case 'x':
			a->sigfile = optarg;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'h':
			return (cli_usage(usage, 0));
		default:
			return (cli_opt_error(c, argc, argv));
		}
	}
	if (optind != argc) {
		cli_err("%s: unexpected argument (the file is -m FILE)",
		    argv[optind]);
		return (cli_usage(usage, 1));
	}
	if (a->key == NULL || a->msg == NULL) {
		cli_err("%s and -m FILE are needed", verify ? "-p PUBKEY" :
		    "-s SECKEY");
		return (cli_usage(usage, 1));
	}
	if (a->sigfile == NULL) {
		if (strlen(a->msg) + 5 > sizeof(a->sigbuf)) {
			cli_err("%s: path too long", a->msg);
			return (CLI_ERROR);
		}
		snprintf(a->sigbuf, sizeof(a->sigbuf), "%s.sig", a->msg);
		a->sigfile = a->sigbuf;
	}
	return (-1);
}

/* "verify with NAME.pub": signify's comment, from the secret key's name. */
static void
pub_name(const char *seckey, char *out, size_t len)
{
	const char *b = strrchr(seckey, '/');
	size_t l;

	b = b != NULL ? b + 1 : seckey;
	l = strlen(b);
	if (l > 4 && strcmp(b + l - 4, ".sec") == 0)
		snprintf(out, len, "verify with %.*s.pub", (int)(l - 4), b);
	else
		snprintf(out, len, "signature from liveroot sign");
}

int
verb_sign(int argc, char **argv)
{
	struct sign_args a;
	struct sig_sec sec;
	struct sig_sig sig;
	struct diag d;
	char text[SIG_FILE_MAX], comment[300];
	int rc;

	diag_clear(&d);
	if ((rc = sign_parse(argc, argv, 0, &a)) >= 0)
		return (rc);
	if (sig_init(&d) != 0 || sig_read_sec(a.key, &sec, &d) != 0)
		return (cli_diag(&d, d.code));
	rc = sig_sign_file(a.msg, &sec, &sig, &d);
	memset(&sec, 0, sizeof(sec));
	if (rc != 0)
		return (cli_diag(&d, d.code));
	pub_name(a.key, comment, sizeof(comment));
	if (sig_format_sig(&sig, comment, text, sizeof(text), &d) != 0 ||
	    os_atomic_write(a.sigfile, text, strlen(text), "the signature",
	    &d) != 0)
		return (cli_diag(&d, d.code));
	if (!a.quiet)
		printf("%s: signed, signature in %s\n", a.msg, a.sigfile);
	return (CLI_OK);
}

int
verb_verify(int argc, char **argv)
{
	struct sign_args a;
	struct sig_pub pub;
	struct sig_sig sig;
	struct diag d;
	int rc, e;

	diag_clear(&d);
	if ((rc = sign_parse(argc, argv, 1, &a)) >= 0)
		return (rc);
	if (sig_init(&d) != 0 || sig_read_pub(a.key, &pub, &d) != 0 ||
	    sig_read_sig(a.sigfile, &sig, &d) != 0)
		return (cli_diag(&d, d.code));
	e = sig_verify_file(a.msg, &pub, &sig, &d);
	if (e == EBADMSG || e == SIG_EKEY) {
		cli_err("%s", d.msg);
		return (CLI_NOTFOUND);
	}
	if (e != 0)
		return (cli_diag(&d, d.code));
	if (!a.quiet)
		printf("Signature Verified\n");
	return (CLI_OK);
}
