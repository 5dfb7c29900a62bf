/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rowrmap.c - the rowr written-granule map, its fixed range-lock table and
 * its on-disk encoding; see rowrmap.h for the format and the locking rules.
 * Kernel-clean: memory only through the caller's lr_allocator, at init.
 * Every header field is bounded (with checked arithmetic) before it sizes
 * anything; the decoder never reads past len.
 */
#include <liveroot/rowrmap.h>
#include <liveroot/util.h>

static const uint8_t rowrmap_magic[8] = { 'L', 'R', 'R', 'O', 'W', 'R', 'M',
    'P' };

int
lr_rowrmap_check_granule(uint32_t granule)
{
	if (!lr_is_pow2(granule) || granule < LR_ROWRMAP_GRANULE_MIN ||
	    granule > LR_ROWRMAP_GRANULE_MAX)
		return (EINVAL);
	return (0);
}

uint64_t
lr_rowrmap_bitmap_bytes(uint64_t size, uint32_t granule)
{
	return ((lr_div_roundup(size, granule) + 7) / 8);
}

static uint32_t
log2_u32(uint32_t v)
{
	uint32_t s = 0;

	while ((1u << s) < v)
		s++;
	return (s);
}

int
lr_rowrmap_init(struct lr_rowrmap *m, uint64_t size, uint32_t granule,
    uint32_t nlocks, const struct lr_allocator *a, struct diag *d)
{
	uint64_t ng, wbytes, lbytes;

	memset(m, 0, sizeof(*m));
	if (lr_rowrmap_check_granule(granule) != 0)
		return (diag_set(d, EINVAL, "granule %u is not a power of 2 "
		    "between %u and %u", granule, LR_ROWRMAP_GRANULE_MIN,
		    LR_ROWRMAP_GRANULE_MAX));
	if (size == 0)
		return (diag_set(d, EINVAL, "an overlay of 0 bytes makes no "
		    "sense: the lower device is empty"));
	if (nlocks == 0)
		nlocks = LR_ROWRMAP_NLOCKS;
	ng = lr_div_roundup(size, granule);
	wbytes = lr_bitmap_words(ng) * sizeof(uint64_t);
	if (wbytes > (uint64_t)SIZE_MAX / 2)
		return (diag_set(d, ENOMEM, "a map for %ju granules does not "
		    "fit in memory", (uintmax_t)ng));
	lbytes = (uint64_t)nlocks * sizeof(struct lr_rowrmap_lock);
	m->a = a;
	m->size = size;
	m->granule = granule;
	m->shift = log2_u32(granule);
	m->ngranules = ng;
	m->nlocks = nlocks;
	if ((m->bm.words = a->alloc((size_t)wbytes, a->arg)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory for a %ju-byte "
		    "overlay map", (uintmax_t)wbytes));
	if ((m->locks = a->alloc((size_t)lbytes, a->arg)) == NULL) {
		a->free(m->bm.words, (size_t)wbytes, a->arg);
		m->bm.words = NULL;
		return (diag_set(d, ENOMEM, "out of memory for the overlay's "
		    "lock table"));
	}
	lr_bitmap_init(&m->bm, m->bm.words, ng);
	return (0);
}

void
lr_rowrmap_fini(struct lr_rowrmap *m)
{
	if (m->a == NULL)
		return;
	if (m->bm.words != NULL)
		m->a->free(m->bm.words, lr_bitmap_bytes(m->ngranules),
		    m->a->arg);
	if (m->locks != NULL)
		m->a->free(m->locks, (size_t)m->nlocks *
		    sizeof(struct lr_rowrmap_lock), m->a->arg);
	m->bm.words = NULL;
	m->locks = NULL;
	m->a = NULL;
}

uint64_t
lr_rowrmap_mem_bytes(const struct lr_rowrmap *m)
{
	return (lr_bitmap_bytes(m->ngranules) +
	    (uint64_t)m->nlocks * sizeof(struct lr_rowrmap_lock));
}

int
lr_rowrmap_lock_try(struct lr_rowrmap *m, uint64_t g0, uint64_t g1,
    int writer, uint32_t *slot)
{
	uint32_t i, fr = UINT32_MAX;

	for (i = 0; i < m->nlocks; i++) {
		const struct lr_rowrmap_lock *l = &m->locks[i];

		if (!l->used) {
			if (fr == UINT32_MAX)
				fr = i;
			continue;
		}
		if (l->g0 < g1 && g0 < l->g1 && (writer || l->writer))
			return (EBUSY);
	}
	if (fr == UINT32_MAX)
		return (EAGAIN);
	m->locks[fr].g0 = g0;
	m->locks[fr].g1 = g1;
	m->locks[fr].writer = writer != 0;
	m->locks[fr].used = 1;
	m->nused++;
	*slot = fr;
	return (0);
}

void
lr_rowrmap_unlock(struct lr_rowrmap *m, uint32_t slot)
{
	if (slot < m->nlocks && m->locks[slot].used) {
		m->locks[slot].used = 0;
		m->nused--;
	}
}

bool
lr_rowrmap_probe(const void *buf, size_t len)
{
	return (len >= sizeof(rowrmap_magic) &&
	    memcmp(buf, rowrmap_magic, sizeof(rowrmap_magic)) == 0);
}

/* The identity block's offsets (rowrmap.h). */
#define ID_KIND		0
#define ID_DEV		8
#define ID_INO		16
#define ID_SIZE		24
#define ID_MSEC		32
#define ID_MNSEC	40
#define ID_HASH		48
#define ID_AFTER	80
#define ID_NSEC_MAX	1000000000u

int
lr_rowrmap_hdr_decode(const void *buf, size_t len, uint64_t filelen,
    struct lr_rowrmap_hdr *h, struct diag *d)
{
	const uint8_t *p = buf;
	uint64_t want, total;

	memset(h, 0, sizeof(*h));
	if (len < LR_ROWRMAP_HDR)
		return (diag_set(d, EINVAL, "truncated: %zu bytes, the header "
		    "alone is %u", len, LR_ROWRMAP_HDR));
	if (!lr_rowrmap_probe(p, len))
		return (diag_set(d, EINVAL, "not an overlay map (bad magic)"));
	if (lr_crc32(0, p, 60) != lr_le32dec(p + 60))
		return (diag_set(d, EINVAL, "header checksum mismatch"));
	h->version = lr_le32dec(p + 8);
	h->granule = lr_le32dec(p + 12);
	h->size = lr_le64dec(p + 16);
	h->generation = lr_le64dec(p + 24);
	h->bitmap_bytes = lr_le64dec(p + 32);
	h->pathlen = lr_le32dec(p + 40);
	h->data_crc = lr_le32dec(p + 44);
	if (h->version != LR_ROWRMAP_VERSION &&
	    h->version != LR_ROWRMAP_VERSION_1)
		return (diag_set(d, EINVAL, "version %u is not supported "
		    "(this liveroot reads versions %u and %u)", h->version,
		    LR_ROWRMAP_VERSION_1, LR_ROWRMAP_VERSION));
	if (h->version == LR_ROWRMAP_VERSION_1) {
		if (!lr_is_zero(p + 48, 12))
			return (diag_set(d, EINVAL, "reserved header bytes "
			    "are not zero"));
		h->pathoff = LR_ROWRMAP_HDR;
	} else {
		h->flags = lr_le32dec(p + 48);
		if ((h->flags & ~LR_ROWRMAP_F_COMMIT) != 0)
			return (diag_set(d, EINVAL, "unknown flags 0x%x",
			    h->flags));
		if (!lr_is_zero(p + 52, 8))
			return (diag_set(d, EINVAL, "reserved header bytes "
			    "are not zero"));
		h->pathoff = LR_ROWRMAP_HDR + LR_ROWRMAP_IDLEN;
	}
	if (lr_rowrmap_check_granule(h->granule) != 0)
		return (diag_set(d, EINVAL, "granule %u is invalid",
		    h->granule));
	if (h->size == 0)
		return (diag_set(d, EINVAL, "union size is 0"));
	want = lr_rowrmap_bitmap_bytes(h->size, h->granule);
	if (h->bitmap_bytes != want)
		return (diag_set(d, EINVAL, "bitmap is %ju bytes, a %ju-byte "
		    "union at granule %u needs %ju", (uintmax_t)h->bitmap_bytes,
		    (uintmax_t)h->size, h->granule, (uintmax_t)want));
	if (h->pathlen > LR_ROWRMAP_PATHMAX)
		return (diag_set(d, EINVAL, "lower path length %u is over %u",
		    h->pathlen, LR_ROWRMAP_PATHMAX));
	if (lr_add_overflow((uint64_t)h->pathoff + h->pathlen,
	    h->bitmap_bytes, &total) || total != filelen)
		return (diag_set(d, EINVAL, "file is %ju bytes, its header "
		    "says %ju (truncated or overwritten)", (uintmax_t)filelen,
		    (uintmax_t)((uint64_t)h->pathoff + h->pathlen +
		    LR_MIN(h->bitmap_bytes, UINT64_MAX / 2))));
	return (0);
}

/* Strict decode of the version 2 identity block at p. */
static int
ident_decode(const uint8_t *p, uint32_t flags, struct lr_rowrmap_ident *id,
    struct diag *d)
{
	memset(id, 0, sizeof(*id));
	id->kind = lr_le32dec(p + ID_KIND);
	if (id->kind == LR_ROWRMAP_ID_NONE) {
		if (!lr_is_zero(p, LR_ROWRMAP_IDLEN))
			return (diag_set(d, EINVAL, "lower identity is not "
			    "recorded but its bytes are not zero"));
		return (0);
	}
	if (id->kind != LR_ROWRMAP_ID_SAMPLED && id->kind != LR_ROWRMAP_ID_UZIP)
		return (diag_set(d, EINVAL, "unknown lower identity kind %u",
		    id->kind));
	if (!lr_is_zero(p + 4, 4) || !lr_is_zero(p + 44, 4) ||
	    !lr_is_zero(p + 112, 16))
		return (diag_set(d, EINVAL, "reserved identity bytes are not "
		    "zero"));
	id->dev = lr_le64dec(p + ID_DEV);
	id->ino = lr_le64dec(p + ID_INO);
	id->size = lr_le64dec(p + ID_SIZE);
	id->mtime_sec = (int64_t)lr_le64dec(p + ID_MSEC);
	id->mtime_nsec = lr_le32dec(p + ID_MNSEC);
	if (id->mtime_nsec >= ID_NSEC_MAX)
		return (diag_set(d, EINVAL, "lower mtime nanoseconds %u are "
		    "out of range", id->mtime_nsec));
	memcpy(id->hash, p + ID_HASH, LR_ROWRMAP_HASHLEN);
	memcpy(id->hash_after, p + ID_AFTER, LR_ROWRMAP_HASHLEN);
	if (!(flags & LR_ROWRMAP_F_COMMIT) &&
	    !lr_is_zero(id->hash_after, LR_ROWRMAP_HASHLEN))
		return (diag_set(d, EINVAL, "a post-commit hash is recorded "
		    "but no commit is in progress"));
	return (0);
}

int
lr_rowrmap_decode(const void *buf, size_t len, struct lr_rowrmap_hdr *h,
    const char **path, struct lr_rowrmap *m, struct diag *d)
{
	const uint8_t *p = buf, *bits;
	uint64_t ng, i, nb;
	int error;

	if ((error = lr_rowrmap_hdr_decode(buf, len, len, h, d)) != 0)
		return (error);
	if (lr_crc32(0, p + LR_ROWRMAP_HDR, len - LR_ROWRMAP_HDR) !=
	    h->data_crc)
		return (diag_set(d, EINVAL, "map data checksum mismatch"));
	if (h->version != LR_ROWRMAP_VERSION_1 &&
	    (error = ident_decode(p + LR_ROWRMAP_HDR, h->flags, &h->ident,
	    d)) != 0)
		return (error);
	bits = p + h->pathoff + h->pathlen;
	nb = h->bitmap_bytes;
	ng = lr_div_roundup(h->size, h->granule);
	if (ng % 8 != 0 && (bits[nb - 1] >> (ng % 8)) != 0)
		return (diag_set(d, EINVAL, "bits set past the last granule"));
	*path = (const char *)(p + h->pathoff);
	if (m == NULL)
		return (0);
	if (m->size != h->size || m->granule != h->granule)
		return (diag_set(d, EINVAL, "map is for %ju bytes at granule "
		    "%u, the overlay is %ju bytes at granule %u",
		    (uintmax_t)h->size, h->granule, (uintmax_t)m->size,
		    m->granule));
	lr_bitmap_clear_all(&m->bm);
	for (i = 0; i < nb; i++) {
		uint64_t b = bits[i];

		if (b != 0)
			__atomic_fetch_or(&m->bm.words[i / 8],
			    b << (8 * (i % 8)), __ATOMIC_RELAXED);
	}
	return (0);
}

uint64_t
lr_rowrmap_encoded_len(const struct lr_rowrmap *m, uint32_t pathlen)
{
	return (LR_ROWRMAP_HDR + LR_ROWRMAP_IDLEN + (uint64_t)pathlen +
	    lr_rowrmap_bitmap_bytes(m->size, m->granule));
}

/* 0 when id can be written as it is (the decoder's rules). */
static int
ident_check(const struct lr_rowrmap_ident *id, uint32_t flags)
{
	if (id->kind == LR_ROWRMAP_ID_NONE)
		return (id->dev == 0 && id->ino == 0 && id->size == 0 &&
		    id->mtime_sec == 0 && id->mtime_nsec == 0 &&
		    lr_is_zero(id->hash, LR_ROWRMAP_HASHLEN) &&
		    lr_is_zero(id->hash_after, LR_ROWRMAP_HASHLEN) ? 0 :
		    EINVAL);
	if (id->kind != LR_ROWRMAP_ID_SAMPLED && id->kind != LR_ROWRMAP_ID_UZIP)
		return (EINVAL);
	if (id->mtime_nsec >= ID_NSEC_MAX)
		return (EINVAL);
	if (!(flags & LR_ROWRMAP_F_COMMIT) &&
	    !lr_is_zero(id->hash_after, LR_ROWRMAP_HASHLEN))
		return (EINVAL);
	return (0);
}

int
lr_rowrmap_encode_ext(const struct lr_rowrmap *m, uint64_t generation,
    uint32_t flags, const struct lr_rowrmap_ident *ident, const char *path,
    uint32_t pathlen, void *buf, size_t len)
{
	uint8_t *p = buf, *id, *bits;
	uint64_t nb, i;

	if (pathlen > LR_ROWRMAP_PATHMAX ||
	    len != lr_rowrmap_encoded_len(m, pathlen) ||
	    (flags & ~LR_ROWRMAP_F_COMMIT) != 0 ||
	    (ident != NULL && ident_check(ident, flags) != 0))
		return (EINVAL);
	nb = lr_rowrmap_bitmap_bytes(m->size, m->granule);
	memset(p, 0, LR_ROWRMAP_HDR + LR_ROWRMAP_IDLEN);
	memcpy(p, rowrmap_magic, sizeof(rowrmap_magic));
	lr_le32enc(p + 8, LR_ROWRMAP_VERSION);
	lr_le32enc(p + 12, m->granule);
	lr_le64enc(p + 16, m->size);
	lr_le64enc(p + 24, generation);
	lr_le64enc(p + 32, nb);
	lr_le32enc(p + 40, pathlen);
	lr_le32enc(p + 48, flags);
	id = p + LR_ROWRMAP_HDR;
	if (ident != NULL && ident->kind != LR_ROWRMAP_ID_NONE) {
		lr_le32enc(id + ID_KIND, ident->kind);
		lr_le64enc(id + ID_DEV, ident->dev);
		lr_le64enc(id + ID_INO, ident->ino);
		lr_le64enc(id + ID_SIZE, ident->size);
		lr_le64enc(id + ID_MSEC, (uint64_t)ident->mtime_sec);
		lr_le32enc(id + ID_MNSEC, ident->mtime_nsec);
		memcpy(id + ID_HASH, ident->hash, LR_ROWRMAP_HASHLEN);
		memcpy(id + ID_AFTER, ident->hash_after, LR_ROWRMAP_HASHLEN);
	}
	if (pathlen > 0)
		memcpy(id + LR_ROWRMAP_IDLEN, path, pathlen);
	bits = id + LR_ROWRMAP_IDLEN + pathlen;
	for (i = 0; i < nb; i++) {
		uint64_t w = __atomic_load_n(&m->bm.words[i / 8],
		    __ATOMIC_RELAXED);

		bits[i] = (uint8_t)(w >> (8 * (i % 8)));
	}
	lr_le32enc(p + 44, lr_crc32(0, p + LR_ROWRMAP_HDR,
	    len - LR_ROWRMAP_HDR));
	lr_le32enc(p + 60, lr_crc32(0, p, 60));
	return (0);
}

int
lr_rowrmap_encode(const struct lr_rowrmap *m, uint64_t generation,
    const char *path, uint32_t pathlen, void *buf, size_t len)
{
	return (lr_rowrmap_encode_ext(m, generation, 0, NULL, path, pathlen,
	    buf, len));
}
