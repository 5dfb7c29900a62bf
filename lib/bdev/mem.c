/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem.c - sparse RAM (md malloc / brd twin) on the sparse page array.
 * Pages are allocated on the first non-zero write, read as zeros before,
 * and freed by trim or by writing zeros over a whole page.  A byte cap
 * bounds the memory; a write past it fails with ENOSPC before anything is
 * changed, naming the cap.  One mutex serialises the page table; the copy is
 * short (at most one request) so that is cheap.
 *
 * bdev_mem_adopt() wraps an existing flat buffer instead (a RAM copy of a
 * downloaded image), read-only unless asked.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/bdev.h>
#include <liveroot/sparse.h>
#include <liveroot/util.h>

struct bdev_mem {
	struct bdev	 b;
	pthread_mutex_t	 mtx;
	struct lr_sparse sp;
	uint64_t	 cap;
	uint8_t		*flat;		/* adopted buffer, or NULL */
};

static int
mem_read(struct bdev *b, void *buf, size_t len, uint64_t off, struct diag *d)
{
	struct bdev_mem *m = (struct bdev_mem *)b;

	(void)d;
	if (m->flat != NULL) {
		memcpy(buf, m->flat + off, len);
		return (0);
	}
	pthread_mutex_lock(&m->mtx);
	lr_sparse_read(&m->sp, buf, len, off);
	pthread_mutex_unlock(&m->mtx);
	return (0);
}

static int
mem_write(struct bdev *b, const void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	struct bdev_mem *m = (struct bdev_mem *)b;
	uint64_t used;
	int error;

	if (m->flat != NULL) {
		memcpy(m->flat + off, buf, len);
		return (0);
	}
	pthread_mutex_lock(&m->mtx);
	error = lr_sparse_write(&m->sp, buf, len, off);
	used = lr_sparse_bytes_used(&m->sp);
	pthread_mutex_unlock(&m->mtx);
	if (error == ENOSPC)
		return (diag_set(d, ENOSPC, "RAM overlay full: %ju of its %ju "
		    "MiB cap in use, a %zu-byte write at offset %ju needs more "
		    "(raise the cap, e.g. live.overlay= or --upper-size)",
		    (uintmax_t)(used >> 20), (uintmax_t)(m->cap >> 20), len,
		    (uintmax_t)off));
	if (error != 0)
		return (diag_set(d, error, "RAM device: out of memory writing "
		    "%zu bytes at offset %ju", len, (uintmax_t)off));
	return (0);
}

static int
mem_trim(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	struct bdev_mem *m = (struct bdev_mem *)b;

	(void)d;
	if (m->flat != NULL) {
		memset(m->flat + off, 0, (size_t)len);
		return (0);
	}
	pthread_mutex_lock(&m->mtx);
	lr_sparse_zero(&m->sp, off, len);
	pthread_mutex_unlock(&m->mtx);
	return (0);
}

static void
mem_destroy(struct bdev *b)
{
	struct bdev_mem *m = (struct bdev_mem *)b;

	if (m->flat != NULL)
		free(m->flat);
	else
		lr_sparse_fini(&m->sp);
	pthread_mutex_destroy(&m->mtx);
	free(m);
}

static const struct bdev_ops mem_ops = {
	.name = "mem",
	.read = mem_read,
	.write = mem_write,
	.trim = mem_trim,
	.write_zeroes = mem_trim,	/* zeroing is freeing */
	.destroy = mem_destroy,
};

static const struct bdev_ops mem_ro_ops = {
	.name = "mem",
	.read = mem_read,
	.destroy = mem_destroy,
};

int
bdev_mem_new(uint64_t size, uint64_t cap_bytes, struct bdev **out,
    struct diag *d)
{
	struct bdev_mem *m;
	int error;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if ((error = lr_sparse_init(&m->sp, size, cap_bytes,
	    &lr_libc_allocator)) != 0) {
		free(m);
		return (diag_set(d, error, "cannot create a %ju-byte RAM "
		    "device: %s", (uintmax_t)size, strerror(error)));
	}
	pthread_mutex_init(&m->mtx, NULL);
	m->cap = cap_bytes;
	bdev_init(&m->b, &mem_ops, size, 4096, 0, NULL, "mem(%ju MiB, cap %ju "
	    "MiB)", (uintmax_t)(size >> 20), (uintmax_t)(cap_bytes >> 20));
	*out = &m->b;
	return (0);
}

int
bdev_mem_adopt(void *buf, uint64_t size, int writable, struct bdev **out,
    struct diag *d)
{
	struct bdev_mem *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	pthread_mutex_init(&m->mtx, NULL);
	m->flat = buf;
	m->cap = size;
	bdev_init(&m->b, writable ? &mem_ops : &mem_ro_ops, size, 4096,
	    !writable, NULL, "ram(%ju bytes)", (uintmax_t)size);
	*out = &m->b;
	return (0);
}

uint64_t
bdev_mem_bytes_used(struct bdev *b)
{
	struct bdev_mem *m = (struct bdev_mem *)b;
	uint64_t u;

	if (m->flat != NULL)
		return (m->b.size);
	pthread_mutex_lock(&m->mtx);
	u = lr_sparse_bytes_used(&m->sp);
	pthread_mutex_unlock(&m->mtx);
	return (u);
}

uint64_t
bdev_mem_cap(struct bdev *b)
{
	return (((struct bdev_mem *)b)->cap);
}
