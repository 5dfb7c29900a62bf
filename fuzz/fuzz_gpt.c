/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_gpt.c - the partition-table reader over the raw input as a disk,
 * aimed at GPT (seeds: small GPT disks with both headers, 512- and
 * 4096-byte sectors): header and entry bounds, CRCs, the backup path, names
 * and GUIDs.  The disk is read twice, once with room for every partition
 * and once with room for one (ENOSPC path).  Any result is fine; a crash, a
 * hang or an over-read is not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_part.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fmt_mem m;
	struct fmt_src src;
	struct fmt_part_table *t;
	struct fmt_part *parts;
	struct diag d;
	char g[37];
	uint32_t i;

	fmt_mem_src(&src, &m, data, size);
	t = malloc(sizeof(*t));
	parts = calloc(128, sizeof(*parts));
	if (t == NULL || parts == NULL)
		goto out;
	if (fmt_part_open(&src, t, parts, 128, &d) == 0) {
		for (i = 0; i < t->nparts; i++) {
			fmt_guid_str(parts[i].type_guid, g);
			(void)fmt_gpt_type_name(parts[i].type_guid);
			if (strlen(parts[i].name) >= FMT_PART_NAMELEN)
				abort();
		}
	}
	(void)fmt_part_open(&src, t, parts, 1, &d);
out:
	free(t);
	free(parts);
	return (0);
}
