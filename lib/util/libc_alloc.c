/* SPDX-License-Identifier: BSD-2-Clause */
/* libc_alloc.c - the userland lr_allocator (calloc/free). */
#include <stdlib.h>

#include <liveroot/lr_deps.h>

static void *
libc_alloc(size_t len, void *arg)
{
	(void)arg;
	return (calloc(1, len));
}

static void
libc_free(void *p, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free(p);
}

const struct lr_allocator lr_libc_allocator = { libc_alloc, libc_free, NULL };
