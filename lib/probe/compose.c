/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compose.c - composing extent maps: a file's byte runs inside a container,
 * and the container's map onto the base device, give the file's map onto the
 * base device (partition -> file in exFAT/FAT -> file in the ISO).
 *
 * Invariants of the result: sorted by voff, contiguous from 0 to file_size
 * (a file has no holes), adjacent runs that continue each other on the base
 * device merged, every run inside the base device.  The whole result is
 * checked with bdev_extmap_validate() before it is handed out.  Every sum is
 * checked arithmetic; the output grows geometrically with an overflow check.
 * No locking: pure function of its inputs.
 */
#include <stdlib.h>
#include <string.h>

#include <liveroot/bdev.h>
#include <liveroot/locate.h>
#include <liveroot/util.h>

struct cmp_out {
	struct bdev_extent	*ext;
	size_t			 n;
	size_t			 cap;
};

static int
out_push(struct cmp_out *o, uint64_t voff, uint64_t loff, uint64_t len,
    struct diag *d)
{
	struct bdev_extent *e;

	if (o->n > 0) {
		e = &o->ext[o->n - 1];
		if (e->voff + e->len == voff && e->loff + e->len == loff) {
			e->len += len;
			return (0);
		}
	}
	if (o->n == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 16;

		if (ncap < o->cap || ncap > SIZE_MAX / sizeof(*e) ||
		    (e = realloc(o->ext, ncap * sizeof(*e))) == NULL)
			return (diag_set(d, ENOMEM, "out of memory for %zu "
			    "extents", ncap));
		o->ext = e;
		o->cap = ncap;
	}
	e = &o->ext[o->n++];
	e->voff = voff;
	e->loff = loff;
	e->len = len;
	return (0);
}

/* Index of the first outer extent ending after off (n if none). */
static size_t
outer_find(const struct bdev_extent *x, size_t n, uint64_t off)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x[mid].voff + x[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

int
probe_compose(const struct bdev_extent *outer, size_t nouter,
    uint64_t outer_size, const struct fmt_extent *in, size_t nin,
    uint64_t file_size, uint64_t base_size, const char *what,
    struct bdev_extent **out, size_t *nout, struct diag *d)
{
	struct cmp_out o = { NULL, 0, 0 };
	uint64_t done = 0, prev_end = 0;
	size_t i;
	int error;

	*out = NULL;
	*nout = 0;
	if (what == NULL)
		what = "file";
	/* The container's map must itself be sane and inside the base. */
	for (i = 0; i < nouter; i++) {
		if (outer[i].len == 0 || outer[i].voff < prev_end ||
		    !lr_range_ok(outer[i].voff, outer[i].len, outer_size) ||
		    !lr_range_ok(outer[i].loff, outer[i].len, base_size))
			return (diag_set(d, EINVAL, "%s: the container's extent "
			    "%zu (%ju+%ju -> %ju) is empty, out of order or "
			    "outside the device", what, i,
			    (uintmax_t)outer[i].voff, (uintmax_t)outer[i].len,
			    (uintmax_t)outer[i].loff));
		prev_end = outer[i].voff + outer[i].len;
	}
	for (i = 0; i < nin && done < file_size; i++) {
		uint64_t off = in[i].off;
		uint64_t len = LR_MIN(in[i].len, file_size - done);
		size_t j;

		if (!lr_range_ok(in[i].off, in[i].len, outer_size)) {
			error = diag_set(d, EINVAL, "%s: run %zu (%ju bytes "
			    "at %ju) lies past the end of its %ju-byte "
			    "container: the file system is corrupt", what, i,
			    (uintmax_t)in[i].len, (uintmax_t)in[i].off,
			    (uintmax_t)outer_size);
			goto fail;
		}
		j = outer_find(outer, nouter, off);
		while (len > 0) {
			const struct bdev_extent *x;
			uint64_t n;

			x = j < nouter ? &outer[j] : NULL;
			if (x == NULL || off < x->voff) {
				error = diag_set(d, EINVAL, "%s: byte %ju of "
				    "its container is not mapped onto the "
				    "device (a hole in the container's map)",
				    what, (uintmax_t)off);
				goto fail;
			}
			n = LR_MIN(len, x->voff + x->len - off);
			if ((error = out_push(&o, done, x->loff +
			    (off - x->voff), n, d)) != 0)
				goto fail;
			done += n;
			off += n;
			len -= n;
			j++;
		}
	}
	if (done < file_size) {
		error = diag_set(d, EINVAL, "%s: its runs cover %ju of its "
		    "%ju bytes: the file system is corrupt", what,
		    (uintmax_t)done, (uintmax_t)file_size);
		goto fail;
	}
	if ((error = bdev_extmap_validate(o.ext, o.n, file_size, base_size,
	    d)) != 0) {
		diag_prefix(d, "%s: ", what);
		goto fail;
	}
	*out = o.ext;
	*nout = o.n;
	return (0);
fail:
	free(o.ext);
	return (error);
}
