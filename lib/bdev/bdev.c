/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bdev.c - the boundary of every layer: range, overflow, read-only and
 * missing-op checks happen here once (nbdkit's backend.c idea), so layers
 * see only valid requests.  Also reference counting and a chunked copy.
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
	b->readonly = readonly || ops->write == NULL;
	b->lower = lower;
	b->refs = 1;
	va_start(ap, descfmt);
	vsnprintf(b->desc, sizeof(b->desc), descfmt, ap);
	va_end(ap);
}

/*
 * Layers always get a diag to fill, even when the caller passed none, so a
 * layer can read back the code of a failed lower call (diag_prefix).
 */
#define LOCAL_DIAG(d, local) do {					\
	if ((d) == NULL) {						\
		diag_clear(&(local));					\
		(d) = &(local);						\
	}								\
} while (0)

static int
check_range(struct bdev *b, const char *what, uint64_t off, uint64_t len,
    struct diag *d)
{
	if (!lr_range_ok(off, len, b->size))
		return (diag_set(d, EINVAL, "%s of %ju bytes at offset %ju "
		    "is outside %s (size %ju bytes)", what, (uintmax_t)len,
		    (uintmax_t)off, b->desc, (uintmax_t)b->size));
	return (0);
}

int
bdev_read(struct bdev *b, void *buf, size_t len, uint64_t off, struct diag *d)
{
	struct diag local;
	int error;

	LOCAL_DIAG(d, local);

	if ((error = check_range(b, "read", off, len, d)) != 0)
		return (error);
	if (len == 0)
		return (0);
	return (b->ops->read(b, buf, len, off, d));
}

int
bdev_write(struct bdev *b, const void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	struct diag local;
	int error;

	LOCAL_DIAG(d, local);

	if (b->readonly)
		return (diag_set(d, EROFS, "%s is read-only", b->desc));
	if ((error = check_range(b, "write", off, len, d)) != 0)
		return (error);
	if (len == 0)
		return (0);
	return (b->ops->write(b, buf, len, off, d));
}

int
bdev_flush(struct bdev *b, struct diag *d)
{
	if (b->ops->flush == NULL)
		return (0);
	return (b->ops->flush(b, d));
}

int
bdev_trim(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	struct diag local;
	int error;

	LOCAL_DIAG(d, local);

	if (b->readonly)
		return (diag_set(d, EROFS, "%s is read-only", b->desc));
	if ((error = check_range(b, "trim", off, len, d)) != 0)
		return (error);
	/* Trim is advisory: a layer without it simply keeps the data. */
	if (len == 0 || b->ops->trim == NULL)
		return (0);
	return (b->ops->trim(b, off, len, d));
}

int
bdev_write_zeroes(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	static const uint8_t zeros[65536];
	int error;

	if (b->readonly)
		return (diag_set(d, EROFS, "%s is read-only", b->desc));
	if ((error = check_range(b, "write-zeroes", off, len, d)) != 0)
		return (error);
	if (len == 0)
		return (0);
	if (b->ops->write_zeroes != NULL)
		return (b->ops->write_zeroes(b, off, len, d));
	while (len > 0) {
		size_t n = (size_t)LR_MIN(len, sizeof(zeros));

		if ((error = b->ops->write(b, zeros, n, off, d)) != 0)
			return (error);
		off += n;
		len -= n;
	}
	return (0);
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
