/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * signify.c - signify's key and signature files, and Ed25519 over a
 * streamed message (signify.h), on libsodium: its SHA-512 and its
 * ed25519 group and scalar operations.  libsodium's crypto_sign_*() want
 * the whole message in memory; a root image is gigabytes read once from
 * a CD, so the signature equation is evaluated here from the parts:
 *
 *   sign    h = SHA-512(seed); a = clamp(h[0..32]); r = SHA-512(h[32..64]
 *           || M) mod L; R = [r]B; k = SHA-512(R || A || M) mod L;
 *           S = r + k a mod L                        (RFC 8032, 5.1.6)
 *   verify  S < L, A a valid point, k as above; [S]B - [k]A == R (5.1.7,
 *           the cofactorless equation signify and libsodium use)
 *
 * The result is bit for bit crypto_sign_detached()'s (tests/unit/test_sig
 * checks it) and signify-openbsd's (tests/integration/sign.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <liveroot/os.h>
#include <liveroot/signify.h>

#define COMMENT_HDR	"untrusted comment: "
#define PKALG		"Ed"
#define KDFALG		"BK"

_Static_assert(sizeof(((struct sig_verify *)0)->state) >=
    sizeof(crypto_hash_sha512_state), "sig_verify.state too small");

int
sig_init(struct diag *d)
{
	if (sodium_init() < 0)
		return (diag_set(d, EIO, "libsodium failed to initialise"));
	return (0);
}

/*
 * The base64 line of a signify file, decoded into out (exactly want
 * bytes).  what names the file, kind the sort of file expected.
 */
static int
parse_file(const char *text, size_t len, const char *what, const char *kind,
    uint8_t *out, size_t want, struct diag *d)
{
	const char *p = text, *nl, *end = text + len;
	size_t blen;
	const char *b64end;

	if (len < sizeof(COMMENT_HDR) - 1 ||
	    memcmp(p, COMMENT_HDR, sizeof(COMMENT_HDR) - 1) != 0)
		return (diag_set(d, EINVAL, "%s: not a signify %s (the first "
		    "line must start with \"untrusted comment: \")", what,
		    kind));
	if ((nl = memchr(p, '\n', len)) == NULL ||
	    (size_t)(nl - p) > sizeof(COMMENT_HDR) - 1 + SIG_COMMENT_MAX)
		return (diag_set(d, EINVAL, "%s: the comment line is not "
		    "ended or longer than %d bytes", what, SIG_COMMENT_MAX));
	p = nl + 1;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return (diag_set(d, EINVAL, "%s: the base64 line of the %s is "
		    "missing or not ended by a newline", what, kind));
	if (sodium_base642bin(out, want, p, (size_t)(nl - p), NULL, &blen,
	    &b64end, sodium_base64_VARIANT_ORIGINAL) != 0 || b64end != nl ||
	    blen != want)
		return (diag_set(d, EINVAL, "%s: the second line is not the "
		    "base64 of a %zu-byte %s", what, want, kind));
	for (p = nl + 1; p < end; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
			return (diag_set(d, EINVAL, "%s: data after the %s "
			    "(an embedded signature, signify -e, is not "
			    "supported: sign the file detached)", what, kind));
	if (memcmp(out, PKALG, 2) != 0)
		return (diag_set(d, EINVAL, "%s: algorithm '%c%c', not "
		    "Ed25519 ('Ed')", what, out[0] >= 0x20 && out[0] < 0x7f ?
		    out[0] : '?', out[1] >= 0x20 && out[1] < 0x7f ? out[1] :
		    '?'));
	return (0);
}

int
sig_parse_pub(const char *text, size_t len, const char *what,
    struct sig_pub *out, struct diag *d)
{
	uint8_t b[2 + SIG_KEYNUM_LEN + SIG_PUB_LEN];
	int e;

	if ((e = parse_file(text, len, what, "public key", b, sizeof(b),
	    d)) != 0)
		return (e);
	memcpy(out->keynum, b + 2, SIG_KEYNUM_LEN);
	memcpy(out->pk, b + 2 + SIG_KEYNUM_LEN, SIG_PUB_LEN);
	return (0);
}

int
sig_parse_sec(const char *text, size_t len, const char *what,
    struct sig_sec *out, struct diag *d)
{
	uint8_t b[2 + 2 + 4 + 16 + 8 + SIG_KEYNUM_LEN + SIG_SEC_LEN];
	uint8_t h[crypto_hash_sha512_BYTES];
	uint32_t rounds;
	int e;

	if ((e = parse_file(text, len, what, "secret key", b, sizeof(b),
	    d)) != 0)
		return (e);
	if (memcmp(b + 2, KDFALG, 2) != 0)
		e = diag_set(d, EINVAL, "%s: unknown key derivation (not "
		    "'BK')", what);
	rounds = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 |
	    (uint32_t)b[6] << 8 | b[7];
	if (e == 0 && rounds != 0)
		e = diag_set(d, EINVAL, "%s: the key is protected by a "
		    "passphrase (%u bcrypt rounds), which liveroot cannot ask "
		    "for: make a key without one (signify-openbsd -G -n)", what,
		    rounds);
	if (e == 0) {
		memcpy(out->keynum, b + 32, SIG_KEYNUM_LEN);
		memcpy(out->sk, b + 40, SIG_SEC_LEN);
		crypto_hash_sha512(h, out->sk, SIG_SEC_LEN);
		if (sodium_memcmp(h, b + 24, 8) != 0)
			e = diag_set(d, EINVAL, "%s: the key's checksum is "
			    "wrong: the file is damaged", what);
	}
	sodium_memzero(b, sizeof(b));
	sodium_memzero(h, sizeof(h));
	if (e != 0)
		sodium_memzero(out, sizeof(*out));
	return (e);
}

int
sig_parse_sig(const char *text, size_t len, const char *what,
    struct sig_sig *out, struct diag *d)
{
	uint8_t b[2 + SIG_KEYNUM_LEN + SIG_SIG_LEN];
	int e;

	if ((e = parse_file(text, len, what, "signature", b, sizeof(b),
	    d)) != 0)
		return (e);
	memcpy(out->keynum, b + 2, SIG_KEYNUM_LEN);
	memcpy(out->sig, b + 2 + SIG_KEYNUM_LEN, SIG_SIG_LEN);
	return (0);
}

/* One parser of a key or signature file's text. */
typedef int (*parse_fn)(const char *text, size_t len, const char *what,
    void *out, struct diag *d);

/*
 * A whole small file (ENOENT, EACCES, EFBIG named) handed to parse; the
 * text is wiped before it is freed (it may be a secret key).
 */
static int
read_parse(const char *path, parse_fn parse, void *out, struct diag *d)
{
	char *t;
	size_t n;
	int e;

	if ((e = os_read_file(path, SIG_FILE_MAX, &t, &n, d)) != 0) {
		if (strstr(d->msg, path) == NULL)
			diag_prefix(d, "%s: ", path);
		return (e);
	}
	e = parse(t, n, path, out, d);
	sodium_memzero(t, n);
	free(t);
	return (e);
}

/* The parsers as parse_fn (a cast call would be undefined behaviour). */
static int
parse_pub(const char *t, size_t n, const char *w, void *o, struct diag *d)
{
	return (sig_parse_pub(t, n, w, o, d));
}

static int
parse_sec(const char *t, size_t n, const char *w, void *o, struct diag *d)
{
	return (sig_parse_sec(t, n, w, o, d));
}

static int
parse_sig(const char *t, size_t n, const char *w, void *o, struct diag *d)
{
	return (sig_parse_sig(t, n, w, o, d));
}

int
sig_read_pub(const char *path, struct sig_pub *out, struct diag *d)
{
	return (read_parse(path, parse_pub, out, d));
}

int
sig_read_sec(const char *path, struct sig_sec *out, struct diag *d)
{
	return (read_parse(path, parse_sec, out, d));
}

int
sig_read_sig(const char *path, struct sig_sig *out, struct diag *d)
{
	return (read_parse(path, parse_sig, out, d));
}

int
sig_format_sig(const struct sig_sig *sig, const char *comment, char *buf,
    size_t len, struct diag *d)
{
	uint8_t b[2 + SIG_KEYNUM_LEN + SIG_SIG_LEN];
	char b64[sodium_base64_ENCODED_LEN(sizeof(b),
	    sodium_base64_VARIANT_ORIGINAL)];
	int n;

	memcpy(b, PKALG, 2);
	memcpy(b + 2, sig->keynum, SIG_KEYNUM_LEN);
	memcpy(b + 2 + SIG_KEYNUM_LEN, sig->sig, SIG_SIG_LEN);
	sodium_bin2base64(b64, sizeof(b64), b, sizeof(b),
	    sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(buf, len, COMMENT_HDR "%.*s\n%s\n", SIG_COMMENT_MAX,
	    comment, b64);
	if (n < 0 || (size_t)n >= len)
		return (diag_set(d, E2BIG, "signature comment too long"));
	return (0);
}

/* 64 bytes reduced mod L into 32. */
static void
reduce64(uint8_t out[32], const uint8_t in[64])
{
	crypto_core_ed25519_scalar_reduce(out, in);
}

static void
hex8(char out[17], const uint8_t k[8])
{
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", k[i]);
}

int
sig_verify_init(struct sig_verify *v, const struct sig_pub *pub,
    const struct sig_sig *sig, struct diag *d)
{
	crypto_hash_sha512_state *st = (crypto_hash_sha512_state *)v->state;
	char a[17], b[17];

	if (memcmp(pub->keynum, sig->keynum, SIG_KEYNUM_LEN) != 0) {
		hex8(a, sig->keynum);
		hex8(b, pub->keynum);
		return (diag_set(d, SIG_EKEY, "the signature was made by key "
		    "%s, not by this public key (%s): check that the image "
		    "and its .sig belong to this key", a, b));
	}
	memcpy(v->R, sig->sig, 32);
	memcpy(v->S, sig->sig + 32, 32);
	memcpy(v->A, pub->pk, 32);
	crypto_hash_sha512_init(st);
	crypto_hash_sha512_update(st, v->R, 32);
	crypto_hash_sha512_update(st, v->A, 32);
	return (0);
}

void
sig_verify_update(struct sig_verify *v, const void *buf, size_t len)
{
	crypto_hash_sha512_update((crypto_hash_sha512_state *)v->state, buf,
	    len);
}

int
sig_verify_final(struct sig_verify *v, struct diag *d)
{
	uint8_t h[64], k[32], s64[64], sred[32], sB[32], kA[32], R2[32];
	int ok;

	crypto_hash_sha512_final((crypto_hash_sha512_state *)v->state, h);
	reduce64(k, h);
	memset(s64, 0, sizeof(s64));
	memcpy(s64, v->S, 32);
	reduce64(sred, s64);
	ok = memcmp(sred, v->S, 32) == 0 &&		/* S < L */
	    crypto_core_ed25519_is_valid_point(v->A) &&
	    crypto_scalarmult_ed25519_base_noclamp(sB, v->S) == 0 &&
	    crypto_scalarmult_ed25519_noclamp(kA, k, v->A) == 0 &&
	    crypto_core_ed25519_sub(R2, sB, kA) == 0 &&
	    sodium_memcmp(R2, v->R, 32) == 0;
	if (!ok)
		return (diag_set(d, EBADMSG, "the signature does not match: "
		    "the data or its .sig was changed, or they belong to "
		    "different keys"));
	return (0);
}

int
sig_sign(const struct sig_sec *sec, sig_read_fn rd, sig_rewind_fn rw,
    void *arg, struct sig_sig *out, struct diag *d)
{
	crypto_hash_sha512_state st;
	uint8_t az[64], a64[64], a[32], r64[64], r[32], R[32], k64[64], k[32];
	uint8_t ka[32], S[32], buf[65536];
	const uint8_t *A = sec->sk + 32;
	long n;
	int e = 0;

	crypto_hash_sha512(az, sec->sk, 32);
	az[0] &= 248;
	az[31] &= 127;
	az[31] |= 64;
	memset(a64, 0, sizeof(a64));
	memcpy(a64, az, 32);
	reduce64(a, a64);
	/* the key's halves agree: [a]B is its public key */
	if (crypto_scalarmult_ed25519_base_noclamp(R, a) != 0 ||
	    sodium_memcmp(R, A, 32) != 0) {
		e = diag_set(d, EINVAL, "the secret key's public half does not "
		    "match its seed: the key file is damaged");
		goto out;
	}
	/* pass 1: r = SHA-512(prefix || M) */
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, az + 32, 32);
	while ((n = rd(arg, buf, sizeof(buf))) > 0)
		crypto_hash_sha512_update(&st, buf, (size_t)n);
	if (n < 0) {
		e = diag_set(d, errno, "reading the message: %s",
		    strerror(errno));
		goto out;
	}
	crypto_hash_sha512_final(&st, r64);
	reduce64(r, r64);
	if (crypto_scalarmult_ed25519_base_noclamp(R, r) != 0) {
		e = diag_set(d, EINVAL, "signing failed (r = 0)");
		goto out;
	}
	/* pass 2: k = SHA-512(R || A || M) */
	if (rw(arg) != 0) {
		e = diag_set(d, errno, "rewinding the message: %s",
		    strerror(errno));
		goto out;
	}
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, R, 32);
	crypto_hash_sha512_update(&st, A, 32);
	while ((n = rd(arg, buf, sizeof(buf))) > 0)
		crypto_hash_sha512_update(&st, buf, (size_t)n);
	if (n < 0) {
		e = diag_set(d, errno, "reading the message: %s",
		    strerror(errno));
		goto out;
	}
	crypto_hash_sha512_final(&st, k64);
	reduce64(k, k64);
	crypto_core_ed25519_scalar_mul(ka, k, a);
	crypto_core_ed25519_scalar_add(S, r, ka);
	memcpy(out->keynum, sec->keynum, SIG_KEYNUM_LEN);
	memcpy(out->sig, R, 32);
	memcpy(out->sig + 32, S, 32);
out:
	sodium_memzero(az, sizeof(az));
	sodium_memzero(a64, sizeof(a64));
	sodium_memzero(a, sizeof(a));
	sodium_memzero(r64, sizeof(r64));
	sodium_memzero(r, sizeof(r));
	sodium_memzero(ka, sizeof(ka));
	sodium_memzero(&st, sizeof(st));
	return (e);
}

/* sig_sign's reader over a file descriptor. */
static long
fd_read(void *arg, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(*(int *)arg, buf, len);
	while (n < 0 && errno == EINTR);
	return ((long)n);
}

static int
fd_rewind(void *arg)
{
	return (lseek(*(int *)arg, 0, SEEK_SET) == 0 ? 0 : -1);
}

int
sig_sign_file(const char *path, const struct sig_sec *sec,
    struct sig_sig *out, struct diag *d)
{
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "%s: %s", path, strerror(errno)));
	e = sig_sign(sec, fd_read, fd_rewind, &fd, out, d);
	close(fd);
	if (e != 0)
		diag_prefix(d, "%s: ", path);
	return (e);
}

int
sig_verify_file(const char *path, const struct sig_pub *pub,
    const struct sig_sig *sig, struct diag *d)
{
	struct sig_verify v;
	uint8_t buf[65536];
	long n;
	int fd, e;

	if ((e = sig_verify_init(&v, pub, sig, d)) != 0)
		return (e);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "%s: %s", path, strerror(errno)));
	while ((n = fd_read(&fd, buf, sizeof(buf))) > 0)
		sig_verify_update(&v, buf, (size_t)n);
	e = errno;
	close(fd);
	if (n < 0)
		return (diag_set(d, e, "%s: %s", path, strerror(e)));
	if ((e = sig_verify_final(&v, d)) != 0)
		diag_prefix(d, "%s: ", path);
	return (e);
}
