/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sha256.c - the one SHA-256 of liveroot (os.h): the image check of a
 * fetch, the overlay's identity of its lower, the netboot checksum of
 * mklive.  A thin wrapper over OpenSSL's libcrypto (EVP), which every
 * program already links for HTTPS.  It is not in kernel-clean lib/util:
 * libcrypto is a userland library the FreeBSD kernel module cannot link
 * (and nothing kernel-side hashes).  A context is used by one thread at a
 * time; different contexts are independent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <liveroot/os.h>

struct os_sha256 {
	EVP_MD_CTX	*md;
};

int
os_sha256_new(struct os_sha256 **out)
{
	struct os_sha256 *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (ENOMEM);
	if ((c->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		os_sha256_free(c);
		return (ENOMEM);
	}
	*out = c;
	return (0);
}

int
os_sha256_reset(struct os_sha256 *c)
{
	return (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) == 1 ? 0 :
	    ENOMEM);
}

int
os_sha256_update(struct os_sha256 *c, const void *buf, size_t len)
{
	return (EVP_DigestUpdate(c->md, buf, len) == 1 ? 0 : EIO);
}

int
os_sha256_final(struct os_sha256 *c, uint8_t out[OS_SHA256_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(c->md, md, &n) != 1 || n != OS_SHA256_LEN)
		return (EIO);
	memcpy(out, md, OS_SHA256_LEN);
	return (0);
}

void
os_sha256_free(struct os_sha256 *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

int
os_sha256_buf(const void *buf, size_t len, uint8_t out[OS_SHA256_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) != 1 ||
	    n != OS_SHA256_LEN)
		return (EIO);
	memcpy(out, md, OS_SHA256_LEN);
	return (0);
}

void
os_hex(const void *buf, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * len] = '\0';
}

int
os_sha256_hex_ok(const char *s)
{
	return (s != NULL && strlen(s) == OS_SHA256_HEXLEN &&
	    strspn(s, "0123456789abcdefABCDEF") == OS_SHA256_HEXLEN);
}

/* os_sha256_file's sink. */
struct hashing {
	struct os_sha256	*c;
	const char		*path;
	struct diag		*d;
};

static int
hash_put(void *arg, const void *p, size_t n)
{
	struct hashing *h = arg;

	if (os_sha256_update(h->c, p, n) != 0)
		return (diag_set(h->d, EIO, "%s: SHA-256 failed", h->path));
	return (0);
}

int
os_sha256_file(const char *path, char hex[OS_SHA256_HEXLEN + 1],
    struct diag *d)
{
	struct hashing h = { NULL, path, d };
	uint8_t dig[OS_SHA256_LEN];
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "%s: %s", path, strerror(errno)));
	if (os_sha256_new(&h.c) != 0) {
		close(fd);
		return (diag_set(d, ENOMEM, "%s: out of memory for SHA-256",
		    path));
	}
	e = os_read_each(fd, path, hash_put, &h, d);
	close(fd);
	if (e == 0 && os_sha256_final(h.c, dig) != 0)
		e = diag_set(d, EIO, "%s: SHA-256 failed", path);
	if (e == 0)
		os_hex(dig, OS_SHA256_LEN, hex);
	os_sha256_free(h.c);
	return (e);
}
