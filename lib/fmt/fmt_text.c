/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_text.c - UTF-16/UTF-8 conversion, simple case folding and the path
 * steps of the lookups for the FAT and exFAT readers.  Every loop is bounded by the lengths it is given; no
 * input makes it read or write outside them.  No state, no locking.
 */
#include "fmt_text.h"

static size_t
put_utf8(uint32_t c, char *o)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return (1);
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3f));
		return (2);
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return (3);
	}
	o[0] = (char)(0xf0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return (4);
}

size_t
fmt_utf16_to_utf8(const uint16_t *u, size_t n, char *out, size_t outlen)
{
	char tmp[4];
	size_t i, o = 0, k;
	uint32_t c;

	for (i = 0; i < n; i++) {
		c = u[i];
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < n &&
		    u[i + 1] >= 0xdc00 && u[i + 1] < 0xe000) {
			c = 0x10000 + ((c - 0xd800) << 10) +
			    (u[i + 1] - 0xdc00);
			i++;
		} else if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd;
		k = put_utf8(c, tmp);
		if (o + k + 1 > outlen)
			break;
		memcpy(out + o, tmp, k);
		o += k;
	}
	if (outlen > 0)
		out[o] = '\0';
	return (o);
}

uint32_t
fmt_utf8_next(const char *s, size_t len, size_t *i)
{
	const uint8_t *p = (const uint8_t *)s;
	uint32_t c, min;
	size_t k, n;

	c = p[*i];
	if (c < 0x80) {
		(*i)++;
		return (c);
	}
	if ((c & 0xe0) == 0xc0) {
		n = 1;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2;
		c &= 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3;
		c &= 0x07;
		min = 0x10000;
	} else {
		(*i)++;
		return (0xfffd);
	}
	if (n > len - *i - 1) {
		(*i)++;
		return (0xfffd);
	}
	for (k = 1; k <= n; k++) {
		if ((p[*i + k] & 0xc0) != 0x80) {
			(*i)++;
			return (0xfffd);
		}
		c = (c << 6) | (p[*i + k] & 0x3f);
	}
	*i += n + 1;
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
		return (0xfffd);
	return (c);
}

size_t
fmt_utf8_to_utf16(const char *s, size_t len, uint16_t *u, size_t max)
{
	size_t i = 0, n = 0;
	uint32_t c;

	while (i < len) {
		c = fmt_utf8_next(s, len, &i);
		if (c >= 0x10000) {
			if (n + 2 > max)
				return ((size_t)-1);
			c -= 0x10000;
			u[n++] = (uint16_t)(0xd800 + (c >> 10));
			u[n++] = (uint16_t)(0xdc00 + (c & 0x3ff));
		} else {
			if (n + 1 > max)
				return ((size_t)-1);
			u[n++] = (uint16_t)c;
		}
	}
	return (n);
}

uint32_t
fmt_fold(uint32_t c)
{
	if (c >= 'a' && c <= 'z')
		return (c - 0x20);
	if (c >= 0xe0 && c <= 0xfe && c != 0xf7)
		return (c - 0x20);
	if (c == 0xff)
		return (0x178);
	if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2)
		return (c - 0x20);
	if (c >= 0x430 && c <= 0x44f)
		return (c - 0x20);
	if (c >= 0x450 && c <= 0x45f)
		return (c - 0x50);
	return (c);
}

bool
fmt_utf8_caseeq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;

	while (i < alen && j < blen) {
		if (fmt_fold(fmt_utf8_next(a, alen, &i)) !=
		    fmt_fold(fmt_utf8_next(b, blen, &j)))
			return (false);
	}
	return (i == alen && j == blen);
}

int
fmt_path_next(const char *fs, const char *path, const char **s,
    const char **e, int *depth, int maxdepth, bool is_dir, struct diag *d)
{
	const char *p = *s;

	while (*p == '/')
		p++;
	*s = *e = p;
	if (*p == '\0')
		return (0);
	while (**e != '\0' && **e != '/')
		(*e)++;
	if (++*depth > maxdepth)
		return (diag_set(d, ELOOP, "%s: %s: more than %d path "
		    "components", fs, path, maxdepth));
	if (!is_dir)
		return (diag_set(d, ENOTDIR, "%s: %s: %.*s is not a directory",
		    fs, path, (int)(p - path - 1), path));
	return (0);
}

int
fmt_path_missing(const char *fs, const char *path, const char *e, int error,
    struct diag *d)
{
	if (error != 0)
		return (error);
	return (diag_set(d, ENOENT, "%s: %s: no %.*s on the volume", fs, path,
	    (int)(e - path), path));
}

int
fmt_clu_check(const char *fs, const char *what, const char *which,
    uint32_t c, uint32_t nclusters, const char *fsck, struct diag *d)
{
	if (c < 2 || c > nclusters + 1)
		return (diag_set(d, EINVAL, "%s: %s: %s %u is outside 2..%u "
		    "(past the cluster count): the file system is corrupt, "
		    "run %s", fs, what, which, c, nclusters + 1, fsck));
	return (0);
}

int
fmt_ext_list_add(void *list, uint64_t off, uint64_t len)
{
	struct fmt_ext_list *x = list;

	if (x->n < x->max) {
		x->ext[x->n].off = off;
		x->ext[x->n].len = len;
	}
	x->n++;
	return (0);
}

int
fmt_next_line(const char *buf, size_t len, size_t *off, const char **s,
    const char **eol)
{
	size_t left;

	if (*off >= len)
		return (0);
	*s = buf + *off;
	left = len - *off;
	if ((*eol = memchr(*s, '\n', left)) == NULL)
		*eol = *s + left;
	*off += (size_t)(*eol - *s) + (*eol < *s + left ? 1 : 0);
	return (1);
}
