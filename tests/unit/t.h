/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t.h - the unit tests' few macros.  Each CHECK counts; the program prints
 * "N passed, N failed" and exits non-zero when anything failed.
 */
#ifndef LIVEROOT_T_H
#define LIVEROOT_T_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(c) do {							\
	if (c)								\
		t_pass++;						\
	else {								\
		t_fail++;						\
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__,	\
		    __LINE__, #c);					\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a == _b)							\
		t_pass++;						\
	else {								\
		t_fail++;						\
		fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n",\
		    __FILE__, __LINE__, #a, #b, _a, _b);		\
	}								\
} while (0)

/* The diag message must contain the substring. */
#define CHECK_MSG(d, sub) do {						\
	if (strstr((d)->msg, (sub)) != NULL)				\
		t_pass++;						\
	else {								\
		t_fail++;						\
		fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n",	\
		    __FILE__, __LINE__, (d)->msg, (sub));		\
	}								\
} while (0)

static inline int
t_done(void)
{
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return (t_fail != 0);
}

/* Deterministic PRNG (xorshift64*) for tests and fuzz drivers. */
static inline uint64_t
t_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 2685821657736338717ULL);
}

/* Appends s, then the one character sep, to the string buf of size bytes. */
static inline void
t_append(char *buf, size_t size, const char *s, const char *sep)
{
	strncat(buf, s, size - strlen(buf) - 2);
	strcat(buf, sep);
}

/* Sets b[at] so that the len bytes at b sum to 0 (mod 256). */
static inline void
t_fix_sum8(uint8_t *b, size_t len, size_t at)
{
	uint8_t s = 0;
	size_t i;

	b[at] = 0;
	for (i = 0; i < len; i++)
		s = (uint8_t)(s + b[i]);
	b[at] = (uint8_t)(0x100 - s);
}

#endif
