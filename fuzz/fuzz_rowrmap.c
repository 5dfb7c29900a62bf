/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_rowrmap.c - the persistent overlay map parser (rowrmap.h) on hostile
 * bytes.  The probe and the strict header check must never read past the
 * input; a map that decodes must fit a map initialised from its own header
 * (so a header can never size an allocation beyond the input).  A version 2
 * map must re-encode (flags and lower identity included) to exactly the
 * input bytes; a version 1 map must encode as version 2 and decode back to
 * the same size, granule, generation, path and bits, with no flags and no
 * identity.  Any divergence aborts.
 */
#include <stdlib.h>
#include <string.h>

#include <liveroot/rowrmap.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lr_rowrmap_hdr h, h2;
	struct lr_rowrmap m, m2;
	const char *path, *path2;
	uint8_t *again;
	uint64_t len;
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
	len = lr_rowrmap_encoded_len(&m, h.pathlen);
	if (h.version == LR_ROWRMAP_VERSION ? len != size :
	    len != size + LR_ROWRMAP_IDLEN)
		abort();
	if ((again = malloc((size_t)len)) == NULL)
		abort();
	if (lr_rowrmap_encode_ext(&m, h.generation, h.flags, &h.ident, path,
	    h.pathlen, again, (size_t)len) != 0)
		abort();
	if (h.version == LR_ROWRMAP_VERSION) {
		if (memcmp(again, data, size) != 0)
			abort();
	} else {
		if (lr_rowrmap_init(&m2, h.size, h.granule, 1,
		    &lr_libc_allocator, &d) != 0 ||
		    lr_rowrmap_decode(again, (size_t)len, &h2, &path2, &m2,
		    &d) != 0)
			abort();
		if (h2.version != LR_ROWRMAP_VERSION || h2.flags != 0 ||
		    h2.ident.kind != LR_ROWRMAP_ID_NONE ||
		    h2.size != h.size || h2.granule != h.granule ||
		    h2.generation != h.generation || h2.pathlen != h.pathlen ||
		    memcmp(path2, path, h.pathlen) != 0 ||
		    memcmp(again + h2.pathoff + h2.pathlen,
		    data + h.pathoff + h.pathlen, (size_t)h.bitmap_bytes) != 0)
			abort();
		lr_rowrmap_fini(&m2);
	}
	free(again);
	lr_rowrmap_fini(&m);
	return (0);
}
