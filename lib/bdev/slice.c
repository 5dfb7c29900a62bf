/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * slice.c - an offset+length window of a lower (a partition; gnop -o -s).
 * Stateless: requests are shifted and passed down; every op that carries an
 * offset is set here (the core would forward it unshifted), flush is left
 * to the core.
 */
#include <stdlib.h>

#include <liveroot/bdev.h>
#include <liveroot/util.h>

struct bdev_slice {
	struct bdev	b;
	uint64_t	off;
};

static int
slice_read(struct bdev *b, void *buf, size_t len, uint64_t off, struct diag *d)
{
	struct bdev_slice *s = (struct bdev_slice *)b;

	return (bdev_read(b->lower, buf, len, s->off + off, d));
}

static int
slice_write(struct bdev *b, const void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	struct bdev_slice *s = (struct bdev_slice *)b;

	return (bdev_write(b->lower, buf, len, s->off + off, d));
}

static int
slice_trim(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	struct bdev_slice *s = (struct bdev_slice *)b;

	return (bdev_trim(b->lower, s->off + off, len, d));
}

static int
slice_zeroes(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	struct bdev_slice *s = (struct bdev_slice *)b;

	return (bdev_write_zeroes(b->lower, s->off + off, len, d));
}

static void
slice_destroy(struct bdev *b)
{
	free(b);
}

static const struct bdev_ops slice_ops = {
	.name = "slice",
	.read = slice_read,
	.write = slice_write,
	.trim = slice_trim,
	.write_zeroes = slice_zeroes,
	.destroy = slice_destroy,
};

int
bdev_slice_new(struct bdev *lower, uint64_t off, uint64_t len,
    struct bdev **out, struct diag *d)
{
	struct bdev_slice *s;

	if (!lr_range_ok(off, len, lower->size))
		return (diag_set(d, EINVAL, "slice of %ju bytes at offset %ju "
		    "does not fit in %s (size %ju bytes)", (uintmax_t)len,
		    (uintmax_t)off, lower->desc, (uintmax_t)lower->size));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	s->off = off;
	bdev_init(&s->b, &slice_ops, len, lower->blksize, lower->readonly,
	    lower, "slice(%s@%ju+%ju)", lower->desc, (uintmax_t)off,
	    (uintmax_t)len);
	*out = &s->b;
	return (0);
}
