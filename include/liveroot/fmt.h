/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt.h - what every lib/fmt parser shares: the medium is reached only
 * through a caller-supplied read callback (so the same parsers run over a
 * file, a bdev stack or a kernel provider), and a file found on it is
 * described as a list of contiguous byte runs.  Kernel-clean.
 *
 * The two media of the tree: a bdev through struct bdev_src (bdev.h, with a
 * block cache; userland) and a buffer in memory through struct fmt_mem
 * below.  Parsers read through fmt_src_read(), which bounds the request by
 * the medium's size and keeps the callback's own detail of a failure.
 */
#ifndef LIVEROOT_FMT_H
#define LIVEROOT_FMT_H

#include "diag.h"
#include "lr_deps.h"

/*
 * Read len bytes at byte offset off of the medium: 0, or a positive errno
 * with d (may be NULL) saying what failed and where, in the medium's own
 * words (the device's path, its I/O error).
 */
typedef int (*fmt_read_fn)(void *arg, void *buf, size_t len, uint64_t off,
    struct diag *d);
struct fmt_src { fmt_read_fn read; void *arg; uint64_t size; /* bytes */ };
/* One contiguous run of a file on the medium (byte offsets). */
struct fmt_extent { uint64_t off; uint64_t len; };

/*
 * A parser's read: EINVAL when [off, off + len) is not inside the medium
 * ("past the end of the medium: the medium is truncated"); otherwise the
 * callback's answer, with its message, or "read of N bytes at offset O
 * failed (error E)" when it gave none.
 */
int	fmt_src_read(const struct fmt_src *src, void *buf, size_t len,
	    uint64_t off, struct diag *d);

/*
 * A medium that is a buffer in memory (a preloaded image, a fuzz input, a
 * crafted test image): fmt_mem_src() points src at m, which must outlive
 * src.  Reads outside the buffer fail with EIO.
 */
struct fmt_mem { const uint8_t *data; size_t len; };
int	fmt_mem_read(void *arg, void *buf, size_t len, uint64_t off,
	    struct diag *d);

static inline void
fmt_mem_src(struct fmt_src *src, struct fmt_mem *m, const void *data,
    size_t len)
{
	m->data = (const uint8_t *)data;
	m->len = len;
	src->read = fmt_mem_read;
	src->arg = m;
	src->size = len;
}

#endif
