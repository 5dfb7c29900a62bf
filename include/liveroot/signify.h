/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * signify.h - OpenBSD signify's Ed25519 keys and signatures (lib/sig):
 * the files signify-openbsd -G/-S write and -V reads, so images signed by
 * either tool verify with the other.
 *
 * Each file is two lines: "untrusted comment: TEXT" and the base64 of
 *   public key  "Ed" keynum[8] pubkey[32]
 *   secret key  "Ed" "BK" kdfrounds[4, big-endian] salt[16] checksum[8]
 *               keynum[8] seckey[64]   (checksum: SHA-512(seckey)[0..8])
 *   signature   "Ed" keynum[8] sig[64]
 * Ed25519 is pure (RFC 8032, not prehashed) over the whole file.  Signing
 * and verifying stream the message: verification reads it once
 * (h = SHA-512(R || A || M), then [S]B == R + [h]A with libsodium's
 * group operations), signing twice (r depends on the message, then h).
 * Secret keys protected by a passphrase (kdfrounds > 0, bcrypt_pbkdf) are
 * refused with the fix: liveroot runs unattended.
 * Every length is checked before use; a parse error names the file and
 * what is wrong.  Thread-safe; sig_init() once before anything else.
 */
#ifndef LIVEROOT_SIGNIFY_H
#define LIVEROOT_SIGNIFY_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define SIG_KEYNUM_LEN		8
#define SIG_PUB_LEN		32
#define SIG_SEC_LEN		64
#define SIG_SIG_LEN		64
#define SIG_COMMENT_MAX		1024	/* signify's COMMENTMAXLEN */
#define SIG_FILE_MAX		4096	/* a key or signature file */

/* "Made by another key": ENOKEY on Linux, EAUTH on FreeBSD. */
#ifdef ENOKEY
#define SIG_EKEY		ENOKEY
#else
#define SIG_EKEY		EAUTH
#endif

struct sig_pub {
	uint8_t	keynum[SIG_KEYNUM_LEN];
	uint8_t	pk[SIG_PUB_LEN];
};

struct sig_sec {
	uint8_t	keynum[SIG_KEYNUM_LEN];
	uint8_t	sk[SIG_SEC_LEN];	/* seed[32] || pk[32] */
};

struct sig_sig {
	uint8_t	keynum[SIG_KEYNUM_LEN];
	uint8_t	sig[SIG_SIG_LEN];	/* R[32] || S[32] */
};

/* libsodium's sodium_init(); EIO if it fails. */
int	sig_init(struct diag *d);

/*
 * Parse the text of a key or signature file (what names it: for the
 * messages).  0, or EINVAL with d saying what is wrong.
 */
int	sig_parse_pub(const char *text, size_t len, const char *what,
	    struct sig_pub *out, struct diag *d);
int	sig_parse_sec(const char *text, size_t len, const char *what,
	    struct sig_sec *out, struct diag *d);
int	sig_parse_sig(const char *text, size_t len, const char *what,
	    struct sig_sig *out, struct diag *d);

/* The same, from a file (at most SIG_FILE_MAX bytes). */
int	sig_read_pub(const char *path, struct sig_pub *out, struct diag *d);
int	sig_read_sec(const char *path, struct sig_sec *out, struct diag *d);
int	sig_read_sig(const char *path, struct sig_sig *out, struct diag *d);

/* A signature file's text for sig (comment: "verify with PUBNAME"). */
int	sig_format_sig(const struct sig_sig *sig, const char *comment,
	    char *buf, size_t len, struct diag *d);

/* Streaming verification: init, update with every byte, final. */
struct sig_verify {
	uint8_t		R[32], S[32], A[32];
	uint64_t	state[32];	/* crypto_hash_sha512_state */
};
/* SIG_EKEY when the signature's keynum is not the key's (named in d). */
int	sig_verify_init(struct sig_verify *v, const struct sig_pub *pub,
	    const struct sig_sig *sig, struct diag *d);
void	sig_verify_update(struct sig_verify *v, const void *buf, size_t len);
/* 0 valid; EBADMSG not (d says so). */
int	sig_verify_final(struct sig_verify *v, struct diag *d);

/*
 * Reads: a callback the signer calls to stream the message from the start
 * (twice); returns the bytes read into buf (0 at the end) or -1 with
 * errno set.
 */
typedef long (*sig_read_fn)(void *arg, void *buf, size_t len);
typedef int (*sig_rewind_fn)(void *arg);
int	sig_sign(const struct sig_sec *sec, sig_read_fn rd, sig_rewind_fn rw,
	    void *arg, struct sig_sig *out, struct diag *d);

/* Whole files: verify PATH against sig (0, EBADMSG, or an errno). */
int	sig_verify_file(const char *path, const struct sig_pub *pub,
	    const struct sig_sig *sig, struct diag *d);
int	sig_sign_file(const char *path, const struct sig_sec *sec,
	    struct sig_sig *out, struct diag *d);

#endif
