/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_text.h - private text helpers of the FAT and exFAT readers: UTF-16 to
 * UTF-8 (unpaired surrogates become U+FFFD), UTF-8 decoding one code point
 * at a time (invalid bytes become U+FFFD, never read past the end), and a
 * simple case fold used when no up-case table is available.  Kernel-clean,
 * no state.
 */
#ifndef LIVEROOT_FMT_TEXT_H
#define LIVEROOT_FMT_TEXT_H

#include <liveroot/lr_deps.h>

/*
 * Converts n UTF-16 units to NUL-terminated UTF-8 in out (size outlen >= 1).
 * Returns the bytes written (without the NUL); truncates on a character
 * boundary when out is too small.
 */
size_t	fmt_utf16_to_utf8(const uint16_t *u, size_t n, char *out,
	    size_t outlen);

/* Decodes one code point from s[*i..len); advances *i (at least by 1). */
uint32_t fmt_utf8_next(const char *s, size_t len, size_t *i);

/*
 * UTF-8 to UTF-16: returns the number of units, or (size_t)-1 when more than
 * max units would be needed.
 */
size_t	fmt_utf8_to_utf16(const char *s, size_t len, uint16_t *u, size_t max);

/* Simple upper-case mapping: ASCII, Latin-1, Greek, Cyrillic. */
uint32_t fmt_fold(uint32_t c);

/* Case-insensitive comparison of two UTF-8 strings of given lengths. */
bool	fmt_utf8_caseeq(const char *a, size_t alen, const char *b,
	    size_t blen);

#endif
