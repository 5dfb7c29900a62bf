/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem.c - sparse RAM (md malloc / brd twin) on the sparse page array.
 * Pages are allocated on the first non-zero write, read as zeros before,
 * and freed by trim and write-zeroes (whole pages).  A byte cap
 * bounds the memory; a write past it fails with ENOSPC before anything is
 * changed, naming the cap.
 *
 * Memory: 4 KiB pages (and the sparse array's 4 KiB leaf tables) come from
 * a page pool of 2 MiB anonymous mappings.  A fresh mapping reads as zeros,
 * so allocation needs no memset; a freed page is given back to the kernel
 * with MADV_DONTNEED (it reads as zeros again) and kept on a free stack for
 * reuse, so a trimmed RAM upper really returns its memory.  The mappings
 * themselves (address space only) live until destroy.
 *
 * Locking: a reader-writer lock.  Reads and overwrites of allocated pages
 * hold it shared (they never change the page table), so concurrent requests
 * copy in parallel; a write that must allocate, and trim, hold it exclusive.
 * Concurrent overlapping writes land in some order, as on a disk.
 *
 * bdev_mem_adopt() wraps an existing flat buffer instead (a RAM copy of a
 * downloaded image), read-only unless asked; bdev_mem_wrap() does the same
 * with a buffer it only borrows (a test image, a fuzz input).
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/bdev.h>
#include <liveroot/sparse.h>
#include <liveroot/util.h>

/* Linux: do not reserve swap for the pool's slabs (FreeBSD has no such flag). */
#ifdef MAP_NORESERVE
#define POOL_NORESERVE	MAP_NORESERVE
#else
#define POOL_NORESERVE	0
#endif

#define POOL_SLAB	(2u << 20)
#define POOL_PAGE	LR_SPARSE_PAGE

struct page_pool {
	uint8_t		**slabs;	/* POOL_SLAB-byte mappings */
	size_t		  nslabs, slabcap;
	size_t		  bump;		/* next fresh byte in the last slab */
	void		**free;		/* stack of freed (zeroed) pages */
	size_t		  nfree, freecap;
};

struct bdev_mem {
	struct bdev	 b;
	pthread_rwlock_t lock;
	struct lr_sparse sp;
	struct page_pool pool;
	struct lr_allocator alloc;
	uint64_t	 cap;
	uint8_t		*flat;		/* adopted buffer, or NULL */
	int		 borrowed;	/* flat is the caller's: not freed */
};

static void *
pool_alloc(size_t len, void *arg)
{
	struct page_pool *p = arg;
	void *pg;

	if (len != POOL_PAGE)
		return (calloc(1, len));
	if (p->nfree > 0)
		return (p->free[--p->nfree]);
	if (p->nslabs == 0 || p->bump == POOL_SLAB) {
		uint8_t *s;

		if (p->nslabs == p->slabcap) {
			size_t nc = p->slabcap ? p->slabcap * 2 : 16;
			uint8_t **ns = realloc(p->slabs, nc * sizeof(*ns));

			if (ns == NULL)
				return (NULL);
			p->slabs = ns;
			p->slabcap = nc;
		}
		s = mmap(NULL, POOL_SLAB, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | POOL_NORESERVE, -1, 0);
		if (s == MAP_FAILED)
			return (NULL);
		p->slabs[p->nslabs++] = s;
		p->bump = 0;
	}
	pg = p->slabs[p->nslabs - 1] + p->bump;
	p->bump += POOL_PAGE;
	return (pg);
}

static void
pool_free(void *pg, size_t len, void *arg)
{
	struct page_pool *p = arg;

	if (len != POOL_PAGE) {
		free(pg);
		return;
	}
	(void)madvise(pg, POOL_PAGE, MADV_DONTNEED);
	if (p->nfree == p->freecap) {
		size_t nc = p->freecap ? p->freecap * 2 : 1024;
		void **nf = realloc(p->free, nc * sizeof(*nf));

		if (nf == NULL) {
			/* Cannot track it: the page stays mapped, zeroed and
			 * unused until destroy; nothing is lost. */
			return;
		}
		p->free = nf;
		p->freecap = nc;
	}
	p->free[p->nfree++] = pg;
}

static void
pool_fini(struct page_pool *p)
{
	size_t i;

	for (i = 0; i < p->nslabs; i++)
		munmap(p->slabs[i], POOL_SLAB);
	free(p->slabs);
	free(p->free);
	memset(p, 0, sizeof(*p));
}

static int
mem_read(struct bdev *b, void *buf, size_t len, uint64_t off, struct diag *d)
{
	struct bdev_mem *m = (struct bdev_mem *)b;

	(void)d;
	if (m->flat != NULL) {
		memcpy(buf, m->flat + off, len);
		return (0);
	}
	pthread_rwlock_rdlock(&m->lock);
	lr_sparse_read(&m->sp, buf, len, off);
	pthread_rwlock_unlock(&m->lock);
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
	pthread_rwlock_rdlock(&m->lock);
	error = lr_sparse_overwrite(&m->sp, buf, len, off);
	pthread_rwlock_unlock(&m->lock);
	if (error == 0)
		return (0);
	pthread_rwlock_wrlock(&m->lock);
	error = lr_sparse_write(&m->sp, buf, len, off);
	used = lr_sparse_bytes_used(&m->sp);
	pthread_rwlock_unlock(&m->lock);
	if (error == ENOSPC)
		return (diag_set(d, ENOSPC, "RAM overlay full: %ju of its %ju "
		    "MiB cap in use, a %zu-byte write at offset %ju needs more "
		    "(raise the cap)",
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
	pthread_rwlock_wrlock(&m->lock);
	lr_sparse_zero(&m->sp, off, len);
	pthread_rwlock_unlock(&m->lock);
	return (0);
}

static void
mem_destroy(struct bdev *b)
{
	struct bdev_mem *m = (struct bdev_mem *)b;

	if (m->flat != NULL) {
		if (!m->borrowed)
			free(m->flat);
	} else {
		lr_sparse_fini(&m->sp);
		pool_fini(&m->pool);
	}
	pthread_rwlock_destroy(&m->lock);
	free(m);
}

static int
mem_allocated(struct bdev *b, uint64_t *bytes)
{
	*bytes = bdev_mem_bytes_used(b);
	return (0);
}

static const struct bdev_ops mem_ops = {
	.name = "mem",
	.read = mem_read,
	.write = mem_write,
	.trim = mem_trim,
	.write_zeroes = mem_trim,	/* zeroing is freeing */
	.allocated = mem_allocated,
	.destroy = mem_destroy,
};

static const struct bdev_ops mem_ro_ops = {
	.name = "mem",
	.read = mem_read,
	.allocated = mem_allocated,
	.destroy = mem_destroy,
};

static void
lock_init(pthread_rwlock_t *l)
{
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
#ifdef PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP
	/* Allocating writers must not starve behind a stream of readers. */
	pthread_rwlockattr_setkind_np(&a,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
	pthread_rwlock_init(l, &a);
	pthread_rwlockattr_destroy(&a);
}

int
bdev_mem_new(uint64_t size, uint64_t cap_bytes, struct bdev **out,
    struct diag *d)
{
	struct bdev_mem *m;
	int error;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	m->alloc.alloc = pool_alloc;
	m->alloc.free = pool_free;
	m->alloc.arg = &m->pool;
	if ((error = lr_sparse_init(&m->sp, size, cap_bytes, &m->alloc)) != 0) {
		free(m);
		return (diag_set(d, error, "cannot create a %ju-byte RAM "
		    "device: %s", (uintmax_t)size, strerror(error)));
	}
	lock_init(&m->lock);
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
	lock_init(&m->lock);
	m->flat = buf;
	m->cap = size;
	bdev_init(&m->b, writable ? &mem_ops : &mem_ro_ops, size, 4096,
	    !writable, NULL, "ram(%ju bytes)", (uintmax_t)size);
	*out = &m->b;
	return (0);
}

int
bdev_mem_wrap(const void *buf, uint64_t size, struct bdev **out,
    struct diag *d)
{
	static uint8_t none;
	int error;

	if ((error = bdev_mem_adopt(size > 0 ? (void *)(uintptr_t)buf : &none,
	    size, 0, out, d)) != 0)
		return (error);
	((struct bdev_mem *)*out)->borrowed = 1;
	return (0);
}

uint64_t
bdev_mem_bytes_used(struct bdev *b)
{
	struct bdev_mem *m = (struct bdev_mem *)b;
	uint64_t u;

	if (m->flat != NULL)
		return (m->b.size);
	pthread_rwlock_rdlock(&m->lock);
	u = lr_sparse_bytes_used(&m->sp);
	pthread_rwlock_unlock(&m->lock);
	return (u);
}

uint64_t
bdev_mem_cap(struct bdev *b)
{
	return (((struct bdev_mem *)b)->cap);
}
