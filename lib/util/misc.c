/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * misc.c - small kernel-clean helpers: zero test, CRC-32, string copy.
 */
#include <liveroot/util.h>

bool
lr_is_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t w;

	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		if (*p != 0)
			return (false);
		p++;
		len--;
	}
	while (len >= 32) {
		uint64_t a, b, c, e;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&e, p + 24, 8);
		if ((a | b | c | e) != 0)
			return (false);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		memcpy(&w, p, 8);
		if (w != 0)
			return (false);
		p += 8;
		len -= 8;
	}
	while (len > 0) {
		if (*p != 0)
			return (false);
		p++;
		len--;
	}
	return (true);
}

static uint32_t crc_table[256];
static volatile int crc_ready;

static void
crc_init(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	__atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
}

uint32_t
lr_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* Filling the table twice from two threads writes the same values. */
	if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE))
		crc_init();
	crc = ~crc;
	while (len-- > 0)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return (~crc);
}

void
lr_scopy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}
