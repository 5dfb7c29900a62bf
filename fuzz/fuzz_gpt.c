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

struct fz {
	const uint8_t	*data;
	size_t		size;
};

static int
fz_read(void *arg, void *buf, size_t len, uint64_t off)
{
	struct fz *z = arg;

	if (off > z->size || len > z->size - off)
		return (EIO);
	memcpy(buf, z->data + off, len);
	return (0);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = { data, size };
	struct fmt_src src = { fz_read, &z, size };
	struct fmt_part_table *t;
	struct fmt_part *parts;
	struct diag d;
	char g[37];
	uint32_t i;

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
