/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timg.h - scaffolding for the unit tests of the crafted-image parsers: an
 * image in a buffer of exactly its size (so ASan sees any over-read) read
 * through the library's fmt_mem, a collector of listed names, and the
 * writer of fuzz seeds.  Include after t.h.
 */
#ifndef LIVEROOT_TIMG_H
#define LIVEROOT_TIMG_H

#include <liveroot/fmt.h>

/* An image in an exact-size buffer, read through the library's fmt_mem. */
struct timg {
	uint8_t		*b;
	size_t		 len;
	struct fmt_mem	 fm;
};

static inline void
timg_src(struct fmt_src *src, struct timg *m)
{
	fmt_mem_src(src, &m->fm, m->b, m->len);
}

/* Listed names, each followed by '|', and their count. */
struct timg_names {
	char	buf[1024];
	int	n;
};

static inline int
timg_names_add(struct timg_names *nm, const char *name)
{
	t_append(nm->buf, sizeof(nm->buf), name, "|");
	nm->n++;
	return (0);
}

/* Writes len bytes to DIR/NAME (or to NAME when dir is NULL): 0, or 2. */
static inline int
timg_write(const char *dir, const char *name, const void *b, size_t len)
{
	char path[1024];
	FILE *f;
	int error = 0;

	if (dir != NULL)
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%s", name);
	if ((f = fopen(path, "wb")) == NULL)
		return (2);
	if (fwrite(b, 1, len, f) != len)
		error = 2;
	if (fclose(f) != 0)
		error = 2;
	return (error);
}

/* A little-endian field of w (1, 2, 4 or 8) bytes at off: its value. */
struct timg_field {
	uint16_t	off;
	uint8_t		w;
	uint64_t	v;
};

static inline void
timg_put(uint8_t *b, const struct timg_field *f, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < f[i].w; k++)
			b[f[i].off + k] = (uint8_t)(f[i].v >> (8 * k));
}

#define TIMG_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* A hostile entry of a crafted image: its path, the error, the message. */
struct timg_bad {
	const char	*path;
	int		 error;
	const char	*msg;
};

#endif
