/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os.h - the userland helpers the library and the programs share: whole
 * files read and written, directories made, files copied and replaced
 * atomically, an external tool run, and SHA-256.
 *
 * Userland only (lib/os): these call libc's file and process functions and
 * OpenSSL's libcrypto, which the FreeBSD kernel module cannot; what must
 * compile into the kernel lives in lib/util and lib/fmt instead.
 *
 * Every function returns 0 or a positive errno, with the detail, naming
 * the path or the tool, in an optional caller-owned struct diag (NULL:
 * not interested).  Nothing here prints, exits or installs a signal
 * handler; nothing keeps state between calls, so calls on different
 * threads are independent.
 */
#ifndef LIVEROOT_OS_H
#define LIVEROOT_OS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* --- files (file.c) ------------------------------------------------------- */

/* a "/" b into buf; ENAMETOOLONG when it does not fit. */
int	os_path_join(char *buf, size_t len, const char *a, const char *b);
/* mkdir -p with mode for every directory made. */
int	os_mkdir_p(const char *path, mode_t mode, struct diag *d);
/* mkdir -p of path's parent directory (mode 0755). */
int	os_mkdir_parent(const char *path, struct diag *d);
/* write(2) until all of buf is written (EINTR retried); 0 or errno. */
int	os_write_all(int fd, const void *buf, size_t len);
/*
 * Reads fd to its end (EINTR retried) and hands each chunk to fn; stops at
 * fn's first nonzero return, which it returns.  A read error is named with
 * path ("PATH: read: why").
 */
int	os_read_each(int fd, const char *path,
	    int (*fn)(void *arg, const void *buf, size_t len), void *arg,
	    struct diag *d);
/*
 * Reads the whole file at path (to its end, so /proc and /sys files work)
 * into a malloc'd buffer with a NUL after the content; *lenp (may be NULL)
 * gets the length without it.  A file longer than max bytes is EFBIG.
 */
int	os_read_file(const char *path, size_t max, char **out, size_t *lenp,
	    struct diag *d);
/* Creates or truncates path (parents made) and writes buf; mode exactly. */
int	os_write_file(const char *path, const void *buf, size_t len,
	    mode_t mode, struct diag *d);
/* Copies src (following symbolic links) to dst (parents made), mode exactly. */
int	os_copy_file(const char *src, const char *dst, mode_t mode,
	    struct diag *d);
/* A hard link of src at dst (an old dst removed), else a copy. */
int	os_link_or_copy(const char *src, const char *dst, struct diag *d);
/* fsync(2) of the directory holding path; best effort. */
void	os_fsync_dir_of(const char *path);
/*
 * Replaces path with buf durably: path.tmp is created O_EXCL|O_NOFOLLOW
 * (mode 0644 less the umask), written, fsynced and renamed over path, then
 * the directory is fsynced.  A leftover path.tmp of an earlier crash (a
 * regular file of ours with one link) is removed first; anything else
 * there is refused and named, never followed or overwritten.  The caller
 * guarantees no other writer of path runs (a lock).  `what` names the file
 * in messages ("the overlay map": "cannot save the overlay map: ...").
 */
int	os_atomic_write(const char *path, const void *buf, size_t len,
	    const char *what, struct diag *d);

/* --- external tools (run.c) ----------------------------------------------- */

struct os_tool {
	const char	*name;		/* "mke2fs" */
	const char	*package;	/* the Debian package: "e2fsprogs" */
};

/*
 * Finds an executable in $PATH (then /usr/sbin and /sbin, which a user's
 * PATH often lacks); a name with a '/' is taken as it is.  0 or ENOENT.
 */
int	os_find_in_path(const char *name, char *buf, size_t len);
/* ENOENT naming the first missing tool and its Debian package. */
int	os_check_tools(const struct os_tool *t, size_t n, struct diag *d);

struct os_run {
	/*
	 * out != NULL: the tool's stdout (and its stderr when merge) is
	 * captured there, NUL-terminated, cut at outlen - 1 bytes.
	 * out == NULL and talk: the tool's stdout and stderr go to our
	 * stderr.  out == NULL, not talk: both are collected (the first
	 * 4 KiB) and handed to failed_output only when the tool fails, as
	 * mke2fs and xorriso talk even when all is well.
	 */
	char		*out;
	size_t		 outlen;
	int		 merge;
	int		 talk;
	void		(*failed_output)(void *arg, const char *text);
	void		*arg;
	/* "NAME=value" strings set in the child's environment, or NULL. */
	char *const	*env;
	/*
	 * Each line (cut at '\n' or '\r', at most 511 bytes) of the output
	 * that is collected or captured, as it arrives (a tool's progress
	 * lines), or NULL.
	 */
	void		(*line)(void *arg, const char *line);
};

/*
 * Runs argv[0] (found as os_find_in_path does) with argv and waits for it.
 * 0 when it exits 0; EIO naming the exit status or signal otherwise.  r may
 * be NULL (output collected, never shown).
 */
int	os_run(char *const argv[], const struct os_run *r, struct diag *d);

/* --- SHA-256 (sha256.c, OpenSSL's EVP) ------------------------------------ */

#define OS_SHA256_LEN		32
#define OS_SHA256_HEXLEN	64

struct os_sha256;

/* A context ready for os_sha256_update; ENOMEM. */
int	os_sha256_new(struct os_sha256 **out);
/* Starts the context over (nothing hashed yet). */
int	os_sha256_reset(struct os_sha256 *c);
int	os_sha256_update(struct os_sha256 *c, const void *buf, size_t len);
/* The digest of everything since new/reset; EIO if libcrypto fails. */
int	os_sha256_final(struct os_sha256 *c, uint8_t out[OS_SHA256_LEN]);
void	os_sha256_free(struct os_sha256 *c);	/* NULL: no-op */
/* One buffer at once. */
int	os_sha256_buf(const void *buf, size_t len, uint8_t out[OS_SHA256_LEN]);
/* A whole file, as lowercase hex (sha256sum's digits). */
int	os_sha256_file(const char *path, char hex[OS_SHA256_HEXLEN + 1],
	    struct diag *d);
/* Lowercase hex of len bytes into out (2 * len + 1 bytes, NUL-terminated). */
void	os_hex(const void *buf, size_t len, char *out);
/* True when s is exactly 64 hex digits (either case). */
int	os_sha256_hex_ok(const char *s);

/* The monotonic clock, in seconds (clock.c). */
double	os_now_s(void);
/* Sleeps ms milliseconds, resumed after a signal. */
void	os_sleep_ms(unsigned ms);

#endif
