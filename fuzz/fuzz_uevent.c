/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_uevent.c - the kernel uevent parser (fmt_uevent.h) on the raw input
 * (an exact-size buffer, no NUL after it).  Its promises are checked: the
 * input is never written, an accepted event has a NUL-terminated, non-empty
 * name shorter than FMT_UEVENT_NAMEMAX that appears in the input, an action
 * among the enum's, and the same answer twice.  A broken promise aborts (a
 * finding); any other result is fine.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_uevent.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fmt_uevent a, b;
	uint8_t *copy;
	size_t n;
	int e;

	if ((copy = calloc(1, size ? size : 1)) == NULL)
		return (0);
	if (size != 0)
		memcpy(copy, data, size);
	e = fmt_uevent_parse(copy, size, &a);
	if (size != 0 && memcmp(copy, data, size) != 0)
		abort();
	if (e != 0 && e != ENOENT && e != EINVAL && e != ENAMETOOLONG)
		abort();
	if (e == 0) {
		n = strnlen(a.devname, sizeof(a.devname));
		if (n == 0 || n >= sizeof(a.devname) ||
		    memmem(copy, size, a.devname, n) == NULL)
			abort();
		if (a.action > FMT_UEVENT_REMOVE || (a.partition != 0 &&
		    a.partition != 1))
			abort();
	}
	if (fmt_uevent_parse(copy, size, &b) != e || (e == 0 &&
	    memcmp(&a, &b, sizeof(a)) != 0))
		abort();
	free(copy);
	return (0);
}
