/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bdev.h - the block stack.
 *
 * A bdev is a byte-addressed device of a fixed size.  Layers stack like
 * nbdkit filters or GEOM classes: a layer holds its lower explicitly and
 * reaches it only through bdev_read()/bdev_write()/...  Those wrappers check
 * the range (with overflow) and the read-only flag once, at the boundary, so
 * a layer's ops may assume a valid request.
 *
 * Forwarding (nbdkit's filters.c): an op a layer leaves NULL goes to its
 * lower, at the same offsets, through the lower's own boundary.  A layer
 * that moves offsets (slice, extmap) or keeps data of its own (rowr, uzip)
 * therefore sets every op it supports; a pure tap (faulty, a logger) sets
 * only what it adds.  Without a lower, NULL means: no write (read-only), no
 * flush or trim to do (trim is advisory), write-zeroes writes zero buffers.
 * A tap that fails requests (fault injection) sets `gate`, which sees every
 * request that reaches the layer before its op or the forwarding does.
 *
 * Capabilities are asked, never guessed from a layer's name: bdev_allocated()
 * says how much storage a device holds when its layer can tell.
 *
 * Errors are positive errno values; the human detail goes into a caller-owned
 * struct diag (may be NULL).
 *
 * Ownership: a constructor that takes a lower takes ownership of it only when
 * it succeeds; on failure the caller still owns the lower.  To share a lower
 * between several layers, bdev_ref() it once per extra owner; bdev_destroy()
 * drops one reference and destroys the device (and its lowers) at zero.
 * bdev_destroy(NULL) is a no-op.
 *
 * Concurrency: every op of every layer may be called from several threads at
 * once (the NBD server keeps several requests in flight).  Layers with state
 * lock it themselves.
 */
#ifndef LIVEROOT_BDEV_H
#define LIVEROOT_BDEV_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "fmt.h"

struct bdev;

/* What a request is, for a gate. */
enum bdev_op {
	BDEV_OP_READ,
	BDEV_OP_WRITE,
	BDEV_OP_ZEROES,
	BDEV_OP_TRIM,
	BDEV_OP_FLUSH,		/* off and len are 0 */
};

struct bdev_ops {
	const char *name;	/* for descriptions only: never tested */
	/* Each may be NULL when the layer has a lower: see forwarding above. */
	int	(*read)(struct bdev *, void *buf, size_t len, uint64_t off,
		    struct diag *);
	int	(*write)(struct bdev *, const void *buf, size_t len,
		    uint64_t off, struct diag *);
	int	(*flush)(struct bdev *, struct diag *);
	int	(*trim)(struct bdev *, uint64_t off, uint64_t len,
		    struct diag *);
	int	(*write_zeroes)(struct bdev *, uint64_t off, uint64_t len,
		    struct diag *);
	/* Optional: 0 lets the request through, an errno fails it. */
	int	(*gate)(struct bdev *, enum bdev_op op, uint64_t off,
		    uint64_t len, struct diag *);
	/* Optional, asked of this layer only (never forwarded): the bytes of
	 * storage it holds now (RAM in use, a file's allocated blocks). */
	int	(*allocated)(struct bdev *, uint64_t *bytes);
	/* Frees the layer's own state; the core then drops the lower. */
	void	(*destroy)(struct bdev *);
};

struct bdev {
	const struct bdev_ops	*ops;
	uint64_t		 size;		/* bytes */
	uint32_t		 blksize;	/* preferred minimum I/O, power of 2 */
	int			 readonly;
	struct bdev		*lower;		/* owned reference, or NULL */
	int			 refs;		/* atomic */
	char			 desc[128];	/* "uzip(file(/x.uzip))" for logs */
};

/*
 * For layer implementations: fill the common part. refs starts at 1.  A
 * layer without a lower and without a write op is read-only.
 */
void	bdev_init(struct bdev *b, const struct bdev_ops *ops, uint64_t size,
	    uint32_t blksize, int readonly, struct bdev *lower,
	    const char *descfmt, ...) LR_PRINTF(7, 8);
/* For layer implementations: write len zero bytes at off through b's own
 * write op (a write-zeroes fallback; the request is already checked). */
int	bdev_zero_fill(struct bdev *b, uint64_t off, uint64_t len,
	    struct diag *d);

int	bdev_read(struct bdev *b, void *buf, size_t len, uint64_t off,
	    struct diag *d);
int	bdev_write(struct bdev *b, const void *buf, size_t len, uint64_t off,
	    struct diag *d);
int	bdev_flush(struct bdev *b, struct diag *d);
int	bdev_trim(struct bdev *b, uint64_t off, uint64_t len, struct diag *d);
int	bdev_write_zeroes(struct bdev *b, uint64_t off, uint64_t len,
	    struct diag *d);
/* 0 and *bytes, or ENOTSUP when the layer cannot tell. */
int	bdev_allocated(struct bdev *b, uint64_t *bytes);
void	bdev_ref(struct bdev *b);
void	bdev_destroy(struct bdev *b);

static inline uint64_t
bdev_size(const struct bdev *b)
{
	return (b->size);
}

/* Copy len bytes from src at soff to dst at doff, in chunks; progress
 * callback (may be NULL) gets bytes done so far. */
int	bdev_copy(struct bdev *src, uint64_t soff, struct bdev *dst,
	    uint64_t doff, uint64_t len, size_t chunk,
	    void (*progress)(uint64_t done, uint64_t total, void *arg),
	    void *arg, struct diag *d);

/* --- file: a regular file or a device node, pread/pwrite ---------------- */
#define BDEV_FILE_RDONLY	0x01
#define BDEV_FILE_DIRECT	0x02	/* O_DIRECT; falls back when refused */
#define BDEV_FILE_CREATE	0x04	/* create/extend to `size` (sparse) */

int	bdev_file_open(const char *path, int flags, uint64_t size,
	    struct bdev **out, struct diag *d);
/* Takes ownership of fd on success. */
int	bdev_file_from_fd(int fd, const char *name, int flags,
	    struct bdev **out, struct diag *d);

/* --- mem: sparse RAM, allocated on write, freed on trim, capped --------- */
/* cap_bytes 0 = no cap.  A write past the cap fails with ENOSPC, naming it. */
int	bdev_mem_new(uint64_t size, uint64_t cap_bytes, struct bdev **out,
	    struct diag *d);
uint64_t bdev_mem_bytes_used(struct bdev *b);
uint64_t bdev_mem_cap(struct bdev *b);
/* A mem device whose contents are the given buffer (adopted, freed with
 * free() at destroy).  Read-only unless writable; used for RAM copies. */
int	bdev_mem_adopt(void *buf, uint64_t size, int writable,
	    struct bdev **out, struct diag *d);
/* A read-only mem device over a buffer it borrows (never freed by it): the
 * buffer must outlive the device. */
int	bdev_mem_wrap(const void *buf, uint64_t size, struct bdev **out,
	    struct diag *d);

/* --- slice: an offset+length window of a lower (a partition) ------------ */
int	bdev_slice_new(struct bdev *lower, uint64_t off, uint64_t len,
	    struct bdev **out, struct diag *d);

/* --- extmap: extents of a lower shown as one contiguous device ---------- */
struct bdev_extent {
	uint64_t	voff;		/* offset in the extmap device */
	uint64_t	loff;		/* offset in the lower */
	uint64_t	len;
};
/*
 * Extents are copied.  They must be sorted by voff, must not overlap in the
 * virtual space, must each lie inside the lower and inside `size`; gaps read
 * as zeros and refuse writes.  Refused with EINVAL and a diag naming the
 * extent otherwise.
 */
int	bdev_extmap_new(struct bdev *lower, const struct bdev_extent *ext,
	    size_t n, uint64_t size, struct bdev **out, struct diag *d);
/* Validation alone (used by the locators before they build a device). */
int	bdev_extmap_validate(const struct bdev_extent *ext, size_t n,
	    uint64_t size, uint64_t lower_size, struct diag *d);

/* --- src: a bdev as a lib/fmt parser's medium --------------------------- */
/*
 * The one adapter between the block stack and the parsers: &s->src is the
 * parser's struct fmt_src.  Reads go through bdev_read() (a failed one fills
 * the parser's diag with the device's own message) and, for the small reads
 * parsers make (a directory entry, a FAT sector), through a cache of
 * BDEV_SRC_SLOTS blocks of BDEV_SRC_BLK bytes, least recently used out.
 * The device is borrowed: it must outlive the adapter and must not be
 * written while the adapter is in use (the cache would be stale).  One
 * thread at a time.
 */
#define BDEV_SRC_BLK	(64 * 1024)
#define BDEV_SRC_SLOTS	8

struct bdev_src {
	struct fmt_src	 src;
	struct bdev	*b;			/* borrowed */
	uint8_t		*cache;			/* NULL: every read goes down */
	uint64_t	 tag[BDEV_SRC_SLOTS];	/* block + 1; 0 = empty */
	uint64_t	 used[BDEV_SRC_SLOTS];
	uint64_t	 tick;
	uint64_t	 nreads;		/* reads the parser made ... */
	size_t		 maxread;		/* ... and the largest one */
};

/* With cached, the cache is allocated when memory allows (it is optional). */
void	bdev_src_init(struct bdev_src *s, struct bdev *b, int cached);
void	bdev_src_fini(struct bdev_src *s);

#endif
