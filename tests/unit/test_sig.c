/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sig.c - lib/sig (signify.h): the streamed Ed25519 signer gives
 * libsodium's crypto_sign_detached() signature bit for bit, for messages
 * around the buffer sizes; the streamed verifier accepts those and refuses
 * any flipped bit of message, R or S, S >= L, another key's keynum; and
 * the key and signature parsers refuse each malformed file with its own
 * message.  (tests/integration/sign.sh holds it to signify-openbsd.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <liveroot/signify.h>

#include "t.h"

struct mem {
	const uint8_t	*p;
	size_t		 len, off, chunk;
};

static long
mem_read(void *arg, void *buf, size_t len)
{
	struct mem *m = arg;
	size_t n = m->len - m->off;

	if (n > len)
		n = len;
	if (m->chunk != 0 && n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return ((long)n);
}

static int
mem_rewind(void *arg)
{
	((struct mem *)arg)->off = 0;
	return (0);
}

static void
keypair(struct sig_sec *sec, struct sig_pub *pub)
{
	uint8_t pk[32];

	crypto_sign_keypair(pk, sec->sk);
	randombytes_buf(sec->keynum, sizeof(sec->keynum));
	memcpy(pub->keynum, sec->keynum, sizeof(pub->keynum));
	memcpy(pub->pk, pk, 32);
}

static int
verify_mem(const struct sig_pub *pub, const struct sig_sig *sig,
    const uint8_t *m, size_t len, size_t chunk)
{
	struct sig_verify v;
	struct diag d;
	size_t off = 0, n;
	int e;

	diag_clear(&d);
	if ((e = sig_verify_init(&v, pub, sig, &d)) != 0)
		return (e);
	while (off < len) {
		n = len - off < chunk ? len - off : chunk;
		sig_verify_update(&v, m + off, n);
		off += n;
	}
	return (sig_verify_final(&v, &d));
}

static void
test_sign_verify(void)
{
	static const size_t lens[] = { 0, 1, 63, 64, 65535, 65536, 65537,
	    200001 };
	struct sig_sec sec;
	struct sig_pub pub, other;
	struct sig_sig sig, bad;
	struct sig_sec sec2;
	struct diag d;
	uint8_t ref[64], *m;
	struct mem mm;

	keypair(&sec, &pub);
	keypair(&sec2, &other);
	m = malloc(200001);
	randombytes_buf(m, 200001);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i];

		mm = (struct mem){ m, len, 0, i % 2 ? 777 : 0 };
		diag_clear(&d);
		CHECK_EQ(sig_sign(&sec, mem_read, mem_rewind, &mm, &sig, &d), 0);
		crypto_sign_detached(ref, NULL, m, len, sec.sk);
		CHECK(memcmp(sig.sig, ref, 64) == 0);	/* libsodium's bytes */
		CHECK(memcmp(sig.keynum, sec.keynum, 8) == 0);
		CHECK_EQ(verify_mem(&pub, &sig, m, len, 4096), 0);
		if (len < 70000)	/* byte by byte */
			CHECK_EQ(verify_mem(&pub, &sig, m, len, 1), 0);
		if (len > 0) {		/* a flipped message bit */
			m[len / 2] ^= 0x10;
			CHECK_EQ(verify_mem(&pub, &sig, m, len, 4096), EBADMSG);
			m[len / 2] ^= 0x10;
		}
		bad = sig;			/* a flipped bit of R, of S */
		bad.sig[3] ^= 1;
		CHECK_EQ(verify_mem(&pub, &bad, m, len, 4096), EBADMSG);
		bad = sig;
		bad.sig[40] ^= 1;
		CHECK_EQ(verify_mem(&pub, &bad, m, len, 4096), EBADMSG);
	}
	/* S + L: the same point equation, but not canonical: refused */
	{
		static const uint8_t L[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a,
		    0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
		    0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
		unsigned c = 0;

		mm = (struct mem){ m, 100, 0, 0 };
		CHECK_EQ(sig_sign(&sec, mem_read, mem_rewind, &mm, &sig, &d), 0);
		bad = sig;
		for (int i = 0; i < 32; i++) {
			c += bad.sig[32 + i] + L[i];
			bad.sig[32 + i] = (uint8_t)c;
			c >>= 8;
		}
		if (bad.sig[63] < 0x20)	/* still 256 bits */
			CHECK_EQ(verify_mem(&pub, &bad, m, 100, 4096), EBADMSG);
	}
	/* another key: SIG_EKEY by keynum; same keynum, other key: EBADMSG */
	CHECK_EQ(verify_mem(&other, &sig, m, 100, 4096), SIG_EKEY);
	memcpy(other.keynum, sig.keynum, 8);
	CHECK_EQ(verify_mem(&other, &sig, m, 100, 4096), EBADMSG);
	/* a secret key whose halves disagree */
	sec2 = sec;
	sec2.sk[40] ^= 1;
	mm = (struct mem){ m, 100, 0, 0 };
	diag_clear(&d);
	CHECK_EQ(sig_sign(&sec2, mem_read, mem_rewind, &mm, &sig, &d), EINVAL);
	CHECK_MSG(&d, "damaged");
	free(m);
}

/* A file's text: comment line + base64 of bin. */
static void
file_text(char *out, size_t len, const char *comment, const uint8_t *bin,
    size_t n)
{
	char b64[512];

	sodium_bin2base64(b64, sizeof(b64), bin, n,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, len, "untrusted comment: %s\n%s\n", comment, b64);
}

static void
test_parse(void)
{
	uint8_t pubbin[42], secbin[104], sigbin[74], h[64];
	struct sig_pub pub;
	struct sig_sec sec;
	struct sig_sig sig;
	struct diag d;
	char t[2048];

	memcpy(pubbin, "Ed", 2);
	randombytes_buf(pubbin + 2, 40);
	file_text(t, sizeof(t), "k public key", pubbin, sizeof(pubbin));
	CHECK_EQ(sig_parse_pub(t, strlen(t), "k.pub", &pub, &d), 0);
	CHECK(memcmp(pub.keynum, pubbin + 2, 8) == 0);
	CHECK(memcmp(pub.pk, pubbin + 10, 32) == 0);
	/* each fault its own message */
	diag_clear(&d);
	CHECK_EQ(sig_parse_pub("hello\n", 6, "k.pub", &pub, &d), EINVAL);
	CHECK_MSG(&d, "untrusted comment");
	CHECK_EQ(sig_parse_pub(t, (size_t)(strchr(t, '\n') - t) + 5, "k.pub",
	    &pub, &d), EINVAL);		/* cut in the base64 line */
	CHECK_MSG(&d, "base64 line");
	file_text(t, sizeof(t), "k", pubbin, 41);	/* a byte short */
	CHECK_EQ(sig_parse_pub(t, strlen(t), "k.pub", &pub, &d), EINVAL);
	CHECK_MSG(&d, "42-byte public key");
	pubbin[0] = 'X';
	file_text(t, sizeof(t), "k", pubbin, sizeof(pubbin));
	CHECK_EQ(sig_parse_pub(t, strlen(t), "k.pub", &pub, &d), EINVAL);
	CHECK_MSG(&d, "not Ed25519");
	pubbin[0] = 'E';
	file_text(t, sizeof(t), "k", pubbin, sizeof(pubbin));
	strcat(t, "trailing\n");
	CHECK_EQ(sig_parse_pub(t, strlen(t), "k.pub", &pub, &d), EINVAL);
	CHECK_MSG(&d, "embedded signature");
	memset(t, 'c', 1500);
	memcpy(t, "untrusted comment: ", 19);
	t[1500] = '\n';
	CHECK_EQ(sig_parse_pub(t, 1501, "k.pub", &pub, &d), EINVAL);
	CHECK_MSG(&d, "1024 bytes");

	/* secret keys: no passphrase, checksum right */
	memcpy(secbin, "EdBK", 4);
	memset(secbin + 4, 0, 4);		/* kdfrounds 0 */
	randombytes_buf(secbin + 8, 16);	/* salt */
	randombytes_buf(secbin + 32, 8 + 64);
	crypto_hash_sha512(h, secbin + 40, 64);
	memcpy(secbin + 24, h, 8);
	file_text(t, sizeof(t), "k secret key", secbin, sizeof(secbin));
	CHECK_EQ(sig_parse_sec(t, strlen(t), "k.sec", &sec, &d), 0);
	CHECK(memcmp(sec.sk, secbin + 40, 64) == 0);
	secbin[50] ^= 1;
	file_text(t, sizeof(t), "k", secbin, sizeof(secbin));
	CHECK_EQ(sig_parse_sec(t, strlen(t), "k.sec", &sec, &d), EINVAL);
	CHECK_MSG(&d, "checksum");
	secbin[50] ^= 1;
	secbin[7] = 42;				/* 42 bcrypt rounds */
	file_text(t, sizeof(t), "k", secbin, sizeof(secbin));
	CHECK_EQ(sig_parse_sec(t, strlen(t), "k.sec", &sec, &d), EINVAL);
	CHECK_MSG(&d, "passphrase");
	CHECK_MSG(&d, "signify-openbsd -G -n");
	/* a signature file */
	memcpy(sigbin, "Ed", 2);
	randombytes_buf(sigbin + 2, 72);
	file_text(t, sizeof(t), "verify with k.pub", sigbin, sizeof(sigbin));
	CHECK_EQ(sig_parse_sig(t, strlen(t), "x.sig", &sig, &d), 0);
	CHECK(memcmp(sig.sig, sigbin + 10, 64) == 0);
	/* and written back the same */
	{
		char back[1024];

		CHECK_EQ(sig_format_sig(&sig, "verify with k.pub", back,
		    sizeof(back), &d), 0);
		CHECK(strcmp(back, t) == 0);
	}
	/* a public key file given as the signature */
	file_text(t, sizeof(t), "k public key", pubbin, sizeof(pubbin));
	CHECK_EQ(sig_parse_sig(t, strlen(t), "x.sig", &sig, &d), EINVAL);
	CHECK_MSG(&d, "74-byte signature");
}

int
main(void)
{
	struct diag d;

	if (sig_init(&d) != 0) {
		fprintf(stderr, "%s\n", d.msg);
		return (1);
	}
	test_sign_verify();
	test_parse();
	return (t_done());
}
