/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bdev.c - the boundary of every layer: range, overflow and read-only
 * checks happen here once (nbdkit's backend.c idea), so layers see only
 * valid requests; then the layer's gate, then its op or, when it left the op
 * NULL, the same request to its lower (nbdkit's filters.c).  Also reference
 * counting and a chunked copy.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/bdev.h>
#include <liveroot/util.h>

void
bdev_init(struct bdev *b, const struct bdev_ops *ops, uint64_t size,
    uint32_t blksize, int readonly, struct bdev *lower, const char *descfmt,
    ...)
{
	va_list ap;

	b->ops = ops;
	b->size = size;
	b->blksize = blksize ? blksize : 512;
	b->readonly = readonly || (ops->write == NULL && lower == NULL);
	b->lower = lower;
	b->refs = 1;
	va_start(ap, descfmt);
	vsnprintf(b->desc, sizeof(b->desc), descfmt, ap);
	va_end(ap);
}

/*
 * One request, at the boundary of b: the read-only flag (for what changes
 * data) and the range (with overflow) are checked, an empty request ends
 * there, the gate sees the rest; then the layer's op, or, when it left it
 * NULL, the same request at the lower's boundary.  A device without a lower
 * and without the op: trim and flush have nothing to do, write-zeroes
 * writes zero buffers (write is refused above: such a device is read-only).
 * Layers always get a diag to fill, even when the caller passed none, so a
 * layer can read back the code of a failed lower call (diag_prefix).
 */
static int
request(struct bdev *b, enum bdev_op op, void *buf, uint64_t len,
    uint64_t off, struct diag *d)
{
	static const char *const what[] = { "read", "write", "write-zeroes",
	    "trim", "flush" };
	const struct bdev_ops *ops = b->ops;
	struct diag local;
	int error;

	if (d == NULL) {
		diag_clear(&local);
		d = &local;
	}
	if (op != BDEV_OP_READ && op != BDEV_OP_FLUSH && b->readonly)
		return (diag_set(d, EROFS, "%s is read-only", b->desc));
	if (!lr_range_ok(off, len, b->size))
		return (diag_set(d, EINVAL, "%s of %ju bytes at offset %ju "
		    "is outside %s (size %ju bytes)", what[op], (uintmax_t)len,
		    (uintmax_t)off, b->desc, (uintmax_t)b->size));
	if (len == 0 && op != BDEV_OP_FLUSH)
		return (0);
	if (ops->gate != NULL && (error = ops->gate(b, op, off, len, d)) != 0)
		return (error);
	if (op == BDEV_OP_READ && ops->read != NULL)
		return (ops->read(b, buf, (size_t)len, off, d));
	if (op == BDEV_OP_WRITE && ops->write != NULL)
		return (ops->write(b, buf, (size_t)len, off, d));
	if (op == BDEV_OP_ZEROES && ops->write_zeroes != NULL)
		return (ops->write_zeroes(b, off, len, d));
	if (op == BDEV_OP_TRIM && ops->trim != NULL)
		return (ops->trim(b, off, len, d));
	if (op == BDEV_OP_FLUSH && ops->flush != NULL)
		return (ops->flush(b, d));
	if (b->lower != NULL)
		return (request(b->lower, op, buf, len, off, d));
	if (op == BDEV_OP_ZEROES)
		return (bdev_zero_fill(b, off, len, d));
	if (op == BDEV_OP_READ)
		return (diag_set(d, ENXIO, "%s has no read operation",
		    b->desc));
	return (0);
}

int
bdev_read(struct bdev *b, void *buf, size_t len, uint64_t off, struct diag *d)
{
	return (request(b, BDEV_OP_READ, buf, len, off, d));
}

int
bdev_write(struct bdev *b, const void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	return (request(b, BDEV_OP_WRITE, (void *)(uintptr_t)buf, len, off, d));
}

int
bdev_flush(struct bdev *b, struct diag *d)
{
	return (request(b, BDEV_OP_FLUSH, NULL, 0, 0, d));
}

int
bdev_trim(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	return (request(b, BDEV_OP_TRIM, NULL, len, off, d));
}

int
bdev_write_zeroes(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	return (request(b, BDEV_OP_ZEROES, NULL, len, off, d));
}

int
bdev_zero_fill(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	static const uint8_t zeros[65536];
	int error;

	while (len > 0) {
		size_t n = (size_t)LR_MIN(len, sizeof(zeros));

		if ((error = b->ops->write(b, zeros, n, off, d)) != 0)
			return (error);
		off += n;
		len -= n;
	}
	return (0);
}

int
bdev_allocated(struct bdev *b, uint64_t *bytes)
{
	if (b->ops->allocated == NULL)
		return (ENOTSUP);
	return (b->ops->allocated(b, bytes));
}

void
bdev_ref(struct bdev *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
}

void
bdev_destroy(struct bdev *b)
{
	struct bdev *lower;

	while (b != NULL) {
		if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) != 0)
			return;
		lower = b->lower;
		b->ops->destroy(b);
		b = lower;
	}
}

int
bdev_copy(struct bdev *src, uint64_t soff, struct bdev *dst, uint64_t doff,
    uint64_t len, size_t chunk, void (*progress)(uint64_t, uint64_t, void *),
    void *arg, struct diag *d)
{
	uint64_t done = 0;
	uint8_t *buf;
	int error = 0;

	if (chunk == 0)
		chunk = 1 << 20;
	if ((buf = malloc(chunk)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory for a %zu-byte "
		    "copy buffer", chunk));
	while (done < len) {
		size_t n = (size_t)LR_MIN(len - done, chunk);

		if ((error = bdev_read(src, buf, n, soff + done, d)) != 0)
			break;
		if ((error = bdev_write(dst, buf, n, doff + done, d)) != 0)
			break;
		done += n;
		if (progress != NULL)
			progress(done, len, arg);
	}
	free(buf);
	return (error);
}
