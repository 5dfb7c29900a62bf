/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_rowrmap.c - the persistent overlay map parser (rowrmap.h) on hostile
 * bytes.  The probe and the strict header check must never read past the
 * input; a map that decodes must fit a map initialised from its own header
 * (so a header can never size an allocation beyond the input), and must
 * re-encode to exactly the input bytes.  Any divergence aborts.
 */
#include <stdlib.h>
#include <string.h>

#include <liveroot/rowrmap.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lr_rowrmap_hdr h;
	struct lr_rowrmap m;
	const char *path;
	uint8_t *again;
	struct diag d;

	(void)lr_rowrmap_probe(data, size);
	if (lr_rowrmap_hdr_decode(data, size, size, &h, &d) != 0)
		return (0);
	/* The header is consistent with the input length: the bitmap it
	 * implies is no bigger than the input. */
	if (h.bitmap_bytes > size)
		abort();
	if (lr_rowrmap_decode(data, size, &h, &path, NULL, &d) != 0)
		return (0);
	if (lr_rowrmap_init(&m, h.size, h.granule, 1, &lr_libc_allocator,
	    &d) != 0)
		abort();
	if (lr_rowrmap_decode(data, size, &h, &path, &m, &d) != 0)
		abort();
	if ((again = malloc(size)) == NULL)
		abort();
	if (lr_rowrmap_encoded_len(&m, h.pathlen) != size ||
	    lr_rowrmap_encode(&m, h.generation, path, h.pathlen, again,
	    size) != 0 || memcmp(again, data, size) != 0)
		abort();
	free(again);
	lr_rowrmap_fini(&m);
	return (0);
}
