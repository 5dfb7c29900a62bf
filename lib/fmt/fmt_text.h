/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_text.h - private text helpers of the FAT and exFAT readers: UTF-16 to
 * UTF-8 (unpaired surrogates become U+FFFD), UTF-8 decoding one code point
 * at a time (invalid bytes become U+FFFD, never read past the end), a
 * simple case fold used when no up-case table is available, and the steps
 * of a path lookup.  Kernel-clean, no state.
 */
#ifndef LIVEROOT_FMT_TEXT_H
#define LIVEROOT_FMT_TEXT_H

#include <liveroot/diag.h>
#include <liveroot/fmt.h>
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

/*
 * Clusters (FAT and exFAT number them from 2): EINVAL unless c is one of
 * the nclusters, with "FS: WHAT: WHICH c is outside 2..N (past the cluster
 * count): the file system is corrupt, run FSCK".
 */
int	fmt_clu_check(const char *fs, const char *what, const char *which,
	    uint32_t c, uint32_t nclusters, const char *fsck, struct diag *d);

/* The byte offset of cluster c of the clusters of size bytes at base. */
static inline uint64_t
fmt_clu_off(uint64_t base, uint32_t size, uint32_t c)
{
	return (base + (uint64_t)(c - 2) * size);
}

/*
 * The next component of path, from *s on: leading '/'s are skipped, then
 * the component is [*s, *e) (*s == *e at the end of the path).  Counts it
 * in *depth.  ELOOP past maxdepth components, ENOTDIR when the walk so far
 * (a directory when is_dir) cannot hold it; fs ("FAT") names the reader in
 * the message.
 */
int	fmt_path_next(const char *fs, const char *path, const char **s,
	    const char **e, int *depth, int maxdepth, bool is_dir,
	    struct diag *d);

/*
 * A component of path (ending at e) that the walk of its directory did not
 * find: the walk's error, else ENOENT naming the path up to e.
 */
int	fmt_path_missing(const char *fs, const char *path, const char *e,
	    int error, struct diag *d);

/*
 * The next line of buf[0, len) at *off: [*s, *eol) without its '\n'
 * (the last line may lack one); *off moves past it.  0 at the end.
 */
int	fmt_next_line(const char *buf, size_t len, size_t *off,
	    const char **s, const char **eol);

/*
 * An extent list filled run by run (a file system's "each run" callback):
 * up to max entries are stored, n counts them all, so n > max tells the
 * caller how many it needs.
 */
struct fmt_ext_list {
	struct fmt_extent	*ext;
	size_t			 max, n;
};
int	fmt_ext_list_add(void *list, uint64_t off, uint64_t len);

#endif
