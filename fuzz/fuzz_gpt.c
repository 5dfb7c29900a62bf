/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_gpt.c - the partition-table reader over the raw input as a disk,
 * aimed at GPT (seeds: small GPT disks with both headers, 512- and
 * 4096-byte sectors): header and entry bounds, CRCs, the backup path, names
 * and GUIDs.  The disk is read twice, once with room for every partition
 * and once with room for one (ENOSPC path).  Any result is fine; a crash, a
 * hang or an over-read is not.
 */
#include "fz_part.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fmt_part_table *t;
	struct fmt_part *parts;
	char g[37];
	uint32_t i;

	if ((parts = calloc(128, sizeof(*parts))) == NULL)
		return (0);
	if ((t = fz_part_open(data, size, parts, 128)) != NULL) {
		for (i = 0; i < t->nparts; i++) {
			fmt_guid_str(parts[i].type_guid, g);
			(void)fmt_gpt_type_name(parts[i].type_guid);
			if (strlen(parts[i].name) >= FMT_PART_NAMELEN)
				abort();
		}
		free(t);
	}
	free(fz_part_open(data, size, parts, 1));
	free(parts);
	return (0);
}
