/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * extmap.c - an ordered list of extents of a lower shown as one contiguous
 * device (dm-linear; Ventoy's geom_ventoy).  Extents are validated whole at
 * creation (sorted, no overlap, inside the lower and the device); lookups are
 * a binary search; a request crossing extents is split and each piece moved
 * to its place in the lower (read, write, write-zeroes and trim alike: the
 * core would forward them unmoved); gaps read as zeros, refuse writes and
 * write-zeroes with EIO, and are skipped by trim (it is advisory).  Flush
 * is left to the core.
 */
#include <stdlib.h>
#include <string.h>

#include <liveroot/bdev.h>
#include <liveroot/util.h>

struct bdev_extmap {
	struct bdev		 b;
	size_t			 n;
	struct bdev_extent	*ext;
};

int
bdev_extmap_validate(const struct bdev_extent *ext, size_t n, uint64_t size,
    uint64_t lower_size, struct diag *d)
{
	uint64_t prev_end = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct bdev_extent *e = &ext[i];

		if (e->len == 0)
			return (diag_set(d, EINVAL, "extent %zu is empty", i));
		if (e->voff < prev_end)
			return (diag_set(d, EINVAL, "extent %zu (at %ju) overlaps "
			    "or is out of order with the previous one (ending "
			    "at %ju)", i, (uintmax_t)e->voff,
			    (uintmax_t)prev_end));
		if (!lr_range_ok(e->voff, e->len, size))
			return (diag_set(d, EINVAL, "extent %zu (%ju+%ju) lies "
			    "past the end of the %ju-byte device", i,
			    (uintmax_t)e->voff, (uintmax_t)e->len,
			    (uintmax_t)size));
		if (!lr_range_ok(e->loff, e->len, lower_size))
			return (diag_set(d, EINVAL, "extent %zu (%ju bytes at "
			    "%ju) lies past the end of the underlying device "
			    "(%ju bytes): the map does not belong to this "
			    "device, or the device is truncated", i,
			    (uintmax_t)e->len, (uintmax_t)e->loff,
			    (uintmax_t)lower_size));
		prev_end = e->voff + e->len;
	}
	return (0);
}

/* Index of the first extent ending after off (n if none). */
static size_t
find(const struct bdev_extmap *m, uint64_t off)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->ext[mid].voff + m->ext[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

/*
 * One request cut at the extents: op is BDEV_OP_READ, _WRITE (buf), _ZEROES
 * or _TRIM (buf NULL).
 */
static int
extmap_io(struct bdev *b, enum bdev_op op, void *buf, uint64_t len,
    uint64_t off, struct diag *d)
{
	struct bdev_extmap *m = (struct bdev_extmap *)b;
	uint8_t *p = buf;
	size_t i = find(m, off);
	uint64_t n, loff;
	int error = 0;

	while (len > 0) {
		const struct bdev_extent *e = i < m->n ? &m->ext[i] : NULL;

		if (e == NULL || off < e->voff) {	/* a gap */
			n = LR_MIN(len, (e ? e->voff : b->size) - off);
			if (op == BDEV_OP_WRITE || op == BDEV_OP_ZEROES)
				return (diag_set(d, EIO, "write at %ju falls "
				    "in a hole of %s", (uintmax_t)off,
				    b->desc));
			if (op == BDEV_OP_READ)
				memset(p, 0, (size_t)n);
		} else {
			n = LR_MIN(len, e->voff + e->len - off);
			loff = e->loff + (off - e->voff);
			if (op == BDEV_OP_READ)
				error = bdev_read(b->lower, p, (size_t)n, loff,
				    d);
			else if (op == BDEV_OP_WRITE)
				error = bdev_write(b->lower, p, (size_t)n, loff,
				    d);
			else if (op == BDEV_OP_ZEROES)
				error = bdev_write_zeroes(b->lower, loff, n, d);
			else
				error = bdev_trim(b->lower, loff, n, d);
			if (error != 0)
				return (error);
			i++;
		}
		if (p != NULL)
			p += n;
		off += n;
		len -= n;
	}
	return (0);
}

static int
extmap_read(struct bdev *b, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	return (extmap_io(b, BDEV_OP_READ, buf, len, off, d));
}

static int
extmap_write(struct bdev *b, const void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	return (extmap_io(b, BDEV_OP_WRITE, (void *)(uintptr_t)buf, len, off,
	    d));
}

static int
extmap_zeroes(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	return (extmap_io(b, BDEV_OP_ZEROES, NULL, len, off, d));
}

static int
extmap_trim(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	return (extmap_io(b, BDEV_OP_TRIM, NULL, len, off, d));
}

static void
extmap_destroy(struct bdev *b)
{
	struct bdev_extmap *m = (struct bdev_extmap *)b;

	free(m->ext);
	free(m);
}

static const struct bdev_ops extmap_ops = {
	.name = "extmap",
	.read = extmap_read,
	.write = extmap_write,
	.trim = extmap_trim,
	.write_zeroes = extmap_zeroes,
	.destroy = extmap_destroy,
};

int
bdev_extmap_new(struct bdev *lower, const struct bdev_extent *ext, size_t n,
    uint64_t size, struct bdev **out, struct diag *d)
{
	struct bdev_extmap *m;
	int error;

	if ((error = bdev_extmap_validate(ext, n, size, lower->size, d)) != 0)
		return (error);
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (n > 0 && (m->ext = calloc(n, sizeof(*ext))) == NULL)) {
		free(m);
		return (diag_set(d, ENOMEM, "out of memory for %zu extents",
		    n));
	}
	if (n > 0)
		memcpy(m->ext, ext, n * sizeof(*ext));
	m->n = n;
	bdev_init(&m->b, &extmap_ops, size, lower->blksize, lower->readonly,
	    lower, "extmap(%s, %zu extents)", lower->desc, n);
	*out = &m->b;
	return (0);
}
