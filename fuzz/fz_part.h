/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fz_part.h - shared by fuzz_gpt and fuzz_mbr: the input read as a disk's
 * partition table.
 */
#ifndef LIVEROOT_FZ_PART_H
#define LIVEROOT_FZ_PART_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_part.h>

/*
 * The partition table of the input with room for max partitions in parts:
 * a heap copy (so ASan sees an over-read of it) for the caller to free, or
 * NULL when there is none.
 */
static struct fmt_part_table *
fz_part_open(const uint8_t *data, size_t size, struct fmt_part *parts,
    uint32_t max)
{
	struct fmt_mem m;
	struct fmt_src src;
	struct fmt_part_table *t;
	struct diag d;

	fmt_mem_src(&src, &m, data, size);
	if ((t = malloc(sizeof(*t))) == NULL)
		return (NULL);
	if (fmt_part_open(&src, t, parts, max, &d) != 0) {
		free(t);
		return (NULL);
	}
	return (t);
}

#endif
