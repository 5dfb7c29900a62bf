/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_mbr.c - the partition-table reader over the raw input as a disk,
 * aimed at the MBR and its EBR chain (seeds: MBR disks with extended
 * partitions).  Also the probe and the type-name table.  Any result is
 * fine; a crash, a hang or an over-read is not.
 */
#include "fz_part.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fmt_part_table *t;
	struct fmt_part parts[8];
	uint32_t i;

	(void)fmt_part_probe(data, size);
	if ((t = fz_part_open(data, size, parts, 8)) == NULL)
		return (0);
	for (i = 0; i < t->nparts; i++)
		(void)fmt_mbr_type_name(parts[i].mbr_type);
	free(t);
	return (0);
}
