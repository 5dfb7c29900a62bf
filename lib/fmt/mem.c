/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem.c - the parsers' side of the medium (see fmt.h): fmt_src_read, the
 * bounded read every parser goes through, and a medium that is a buffer in
 * memory.  Kernel-clean.
 */
#include <liveroot/fmt.h>
#include <liveroot/util.h>

int
fmt_src_read(const struct fmt_src *src, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	struct diag rd;
	int error;

	if (!lr_range_ok(off, len, src->size))
		return (diag_set(d, EINVAL, "read of %zu bytes at offset %llu "
		    "is past the end of the medium (%llu bytes): the medium is "
		    "truncated", len, (unsigned long long)off,
		    (unsigned long long)src->size));
	diag_clear(&rd);
	if ((error = src->read(src->arg, buf, len, off, &rd)) == 0)
		return (0);
	if (rd.msg[0] == '\0')
		return (diag_set(d, error, "read of %zu bytes at offset %llu "
		    "failed (error %d)", len, (unsigned long long)off, error));
	rd.code = error;
	if (d != NULL)
		*d = rd;
	return (error);
}

int
fmt_mem_read(void *arg, void *buf, size_t len, uint64_t off, struct diag *d)
{
	const struct fmt_mem *m = arg;

	if (off > m->len || len > m->len - off)
		return (diag_set(d, EIO, "read of %zu bytes at offset %llu is "
		    "outside the %zu-byte buffer", len,
		    (unsigned long long)off, m->len));
	memcpy(buf, m->data + off, len);
	return (0);
}
