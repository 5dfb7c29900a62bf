/* SPDX-License-Identifier: BSD-2-Clause */
/* mem.c - a medium that is a buffer in memory (see fmt.h).  Kernel-clean. */
#include <liveroot/fmt.h>

int
fmt_mem_read(void *arg, void *buf, size_t len, uint64_t off)
{
	const struct fmt_mem *m = arg;

	if (off > m->len || len > m->len - off)
		return (EIO);
	memcpy(buf, m->data + off, len);
	return (0);
}
