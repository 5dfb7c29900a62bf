/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.h - byte-order decoders and checked arithmetic.  Header-only and
 * kernel-clean.  Every on-disk integer is decoded byte by byte (never by
 * casting a pointer), and every size computed from on-disk values goes
 * through the checked helpers.
 */
#ifndef LIVEROOT_UTIL_H
#define LIVEROOT_UTIL_H

#include "lr_deps.h"

static inline uint16_t
lr_le16dec(const void *p)
{
	const uint8_t *b = p;

	return ((uint16_t)(b[0] | (b[1] << 8)));
}

static inline uint32_t
lr_le32dec(const void *p)
{
	const uint8_t *b = p;

	return ((uint32_t)b[0] | ((uint32_t)b[1] << 8) |
	    ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24));
}

static inline uint64_t
lr_le64dec(const void *p)
{
	const uint8_t *b = p;

	return ((uint64_t)lr_le32dec(b) | ((uint64_t)lr_le32dec(b + 4) << 32));
}

static inline uint16_t
lr_be16dec(const void *p)
{
	const uint8_t *b = p;

	return ((uint16_t)((b[0] << 8) | b[1]));
}

static inline uint32_t
lr_be32dec(const void *p)
{
	const uint8_t *b = p;

	return (((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
	    ((uint32_t)b[2] << 8) | (uint32_t)b[3]);
}

static inline uint64_t
lr_be64dec(const void *p)
{
	const uint8_t *b = p;

	return (((uint64_t)lr_be32dec(b) << 32) | (uint64_t)lr_be32dec(b + 4));
}

static inline void
lr_le16enc(void *p, uint16_t v)
{
	uint8_t *b = p;

	b[0] = v & 0xff;
	b[1] = v >> 8;
}

static inline void
lr_le32enc(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = v & 0xff;
	b[1] = (v >> 8) & 0xff;
	b[2] = (v >> 16) & 0xff;
	b[3] = v >> 24;
}

static inline void
lr_le64enc(void *p, uint64_t v)
{
	lr_le32enc(p, (uint32_t)v);
	lr_le32enc((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

static inline void
lr_be32enc(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = v >> 24;
	b[1] = (v >> 16) & 0xff;
	b[2] = (v >> 8) & 0xff;
	b[3] = v & 0xff;
}

static inline void
lr_be64enc(void *p, uint64_t v)
{
	lr_be32enc(p, (uint32_t)(v >> 32));
	lr_be32enc((uint8_t *)p + 4, (uint32_t)v);
}

/* Checked arithmetic: return true on overflow (then *r is unspecified). */
static inline bool
lr_add_overflow(uint64_t a, uint64_t b, uint64_t *r)
{
	return (__builtin_add_overflow(a, b, r));
}

static inline bool
lr_mul_overflow(uint64_t a, uint64_t b, uint64_t *r)
{
	return (__builtin_mul_overflow(a, b, r));
}

/* True when [off, off+len) lies inside [0, size), without overflow. */
static inline bool
lr_range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return (off <= size && len <= size - off);
}

static inline uint64_t
lr_div_roundup(uint64_t a, uint64_t b)
{
	return (a / b + (a % b != 0));
}

static inline bool
lr_is_pow2(uint64_t v)
{
	return (v != 0 && (v & (v - 1)) == 0);
}

/* True when every byte of buf is zero; word-at-a-time where aligned. */
bool	lr_is_zero(const void *buf, size_t len);

/* strlcpy: copies what of src fits in dst (len > 0), always NUL-terminated. */
void	lr_scopy(char *dst, size_t len, const char *src);

/* CRC-32 (IEEE 802.3, the one GPT and zlib use), incremental: crc=0 first. */
uint32_t lr_crc32(uint32_t crc, const void *buf, size_t len);

#endif
