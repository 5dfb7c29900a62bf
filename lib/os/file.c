/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * file.c - whole-file helpers (os.h): read to the end with a bound, write
 * with an exact mode, copy, link-or-copy, mkdir -p, and the durable
 * replace (temporary file, fsync, rename, fsync of the directory) that the
 * overlay map uses.  Paths are bounded by PATH_MAX; every failure names
 * the path.  No state: safe on any thread.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/os.h>

int
os_path_join(char *buf, size_t len, const char *a, const char *b)
{
	int n;

	n = snprintf(buf, len, "%s/%s", a, b);
	if (n < 0 || (size_t)n >= len)
		return (ENAMETOOLONG);
	return (0);
}

int
os_mkdir_p(const char *path, mode_t mode, struct diag *d)
{
	char buf[PATH_MAX];
	char *p, c;

	if (strlen(path) >= sizeof(buf))
		return (diag_set(d, ENAMETOOLONG, "%s: path too long", path));
	if (path[0] == '\0')
		return (diag_set(d, ENOENT, "mkdir: an empty path"));
	strcpy(buf, path);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return (diag_set(d, errno, "mkdir %s: %s", buf,
			    strerror(errno)));
		*p = c;
		if (c == '\0')
			break;
	}
	return (0);
}

int
os_mkdir_parent(const char *path, struct diag *d)
{
	char buf[PATH_MAX];
	char *s;

	if (strlen(path) >= sizeof(buf))
		return (diag_set(d, ENAMETOOLONG, "%s: path too long", path));
	strcpy(buf, path);
	if ((s = strrchr(buf, '/')) == NULL || s == buf)
		return (0);
	*s = '\0';
	return (os_mkdir_p(buf, 0755, d));
}

int
os_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return (errno);
		}
		if (n == 0)
			return (EIO);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

int
os_read_each(int fd, const char *path,
    int (*fn)(void *arg, const void *buf, size_t len), void *arg,
    struct diag *d)
{
	char buf[1 << 16];
	ssize_t n;
	int e;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return (diag_set(d, errno, "%s: read: %s", path,
			    strerror(errno)));
		if (n == 0)
			return (0);
		if ((e = fn(arg, buf, (size_t)n)) != 0)
			return (e);
	}
}

/* os_read_file's sink: a buffer that grows up to max bytes (and a NUL). */
struct grow {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 max;
	const char	*path;
	struct diag	*d;
};

static int
grow_put(void *arg, const void *p, size_t n)
{
	struct grow *g = arg;
	size_t ncap;
	char *nb;

	if (n > g->max - g->len)
		return (diag_set(g->d, EFBIG, "%s: larger than %zu bytes",
		    g->path, g->max));
	if (n >= g->cap - g->len) {
		ncap = g->cap;
		while (ncap - g->len <= n) {
			if (ncap > SIZE_MAX / 2)
				return (diag_set(g->d, ENOMEM, "%s: out of "
				    "memory", g->path));
			ncap *= 2;
		}
		if ((nb = realloc(g->buf, ncap)) == NULL)
			return (diag_set(g->d, ENOMEM, "%s: out of memory",
			    g->path));
		g->buf = nb;
		g->cap = ncap;
	}
	memcpy(g->buf + g->len, p, n);
	g->len += n;
	return (0);
}

int
os_read_file(const char *path, size_t max, char **out, size_t *lenp,
    struct diag *d)
{
	struct grow g = { NULL, 0, 4096, max, path, d };
	struct stat st;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "%s: %s", path, strerror(errno)));
	/* The size is a hint only: /proc and /sys files say 0 or 4096. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size < LR_MIN(max, SIZE_MAX - 2))
		g.cap = (size_t)st.st_size + 2;
	if ((g.buf = malloc(g.cap)) == NULL) {
		close(fd);
		return (diag_set(d, ENOMEM, "%s: out of memory", path));
	}
	e = os_read_each(fd, path, grow_put, &g, d);
	close(fd);
	if (e != 0) {
		free(g.buf);
		return (e);
	}
	g.buf[g.len] = '\0';
	*out = g.buf;
	if (lenp != NULL)
		*lenp = g.len;
	return (0);
}

int
os_write_file(const char *path, const void *buf, size_t len, mode_t mode,
    struct diag *d)
{
	int fd, e;

	if ((e = os_mkdir_parent(path, d)) != 0)
		return (e);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return (diag_set(d, errno, "%s: %s", path, strerror(errno)));
	if ((e = os_write_all(fd, buf, len)) != 0) {
		close(fd);
		return (diag_set(d, e, "%s: write: %s", path, strerror(e)));
	}
	if (fchmod(fd, mode) != 0 || close(fd) != 0)
		return (diag_set(d, errno, "%s: %s", path, strerror(errno)));
	return (0);
}

/* os_copy_file's sink: the destination file. */
struct copy {
	int		 fd;
	const char	*dst;
	struct diag	*d;
};

static int
copy_put(void *arg, const void *p, size_t n)
{
	struct copy *c = arg;
	int e;

	if ((e = os_write_all(c->fd, p, n)) != 0)
		return (diag_set(c->d, e, "%s: write: %s", c->dst,
		    strerror(e)));
	return (0);
}

int
os_copy_file(const char *src, const char *dst, mode_t mode, struct diag *d)
{
	struct copy c = { -1, dst, d };
	int in, e;

	if ((e = os_mkdir_parent(dst, d)) != 0)
		return (e);
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return (diag_set(d, errno, "%s: %s", src, strerror(errno)));
	c.fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (c.fd < 0) {
		e = errno;
		close(in);
		return (diag_set(d, e, "%s: %s", dst, strerror(e)));
	}
	e = os_read_each(in, src, copy_put, &c, d);
	close(in);
	if (fchmod(c.fd, mode) != 0 && e == 0)
		e = diag_set(d, errno, "%s: chmod: %s", dst, strerror(errno));
	if (close(c.fd) != 0 && e == 0)
		e = diag_set(d, errno, "%s: %s", dst, strerror(errno));
	return (e);
}

int
os_link_or_copy(const char *src, const char *dst, struct diag *d)
{
	struct stat st;

	(void)unlink(dst);
	if (link(src, dst) == 0)
		return (0);
	if (stat(src, &st) != 0)
		return (diag_set(d, errno, "%s: %s", src, strerror(errno)));
	return (os_copy_file(src, dst, st.st_mode & 07777, d));
}

void
os_fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (copy == NULL)
		return;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >=
	    0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

/*
 * Creates tmp O_EXCL|O_NOFOLLOW, so nothing planted there is followed or
 * overwritten.  A leftover of a write that crashed (a regular file of ours
 * with one link; the caller's lock says no writer of ours runs) is removed
 * first; anything else there is refused, named.
 */
static int
open_tmp(const char *tmp, const char *what, int *fdp, struct diag *d)
{
	struct stat st;
	int fd, tries, error = EEXIST;

	for (tries = 0; tries < 3; tries++) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
		if (fd >= 0) {
			*fdp = fd;
			return (0);
		}
		if ((error = errno) != EEXIST)
			break;
		if (lstat(tmp, &st) != 0)
			continue;	/* gone meanwhile */
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		    st.st_nlink != 1)
			return (diag_set(d, EEXIST, "%s: cannot save %s: a %s "
			    "is in the way of its temporary file and is no "
			    "leftover of ours (not followed, not overwritten): "
			    "remove it", tmp, what,
			    S_ISLNK(st.st_mode) ? "symbolic link" :
			    S_ISREG(st.st_mode) ? "file of another owner or "
			    "with other links" : "non-regular file"));
		if (unlink(tmp) != 0 && errno != ENOENT) {
			error = errno;
			break;
		}
	}
	return (diag_set(d, error, "%s: cannot create %s's temporary file: %s",
	    tmp, what, strerror(error)));
}

int
os_atomic_write(const char *path, const void *buf, size_t len,
    const char *what, struct diag *d)
{
	char tmp[PATH_MAX + 8];
	int fd = -1, error;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return (diag_set(d, ENAMETOOLONG, "%s: path too long", path));
	if ((error = open_tmp(tmp, what, &fd, d)) != 0)
		return (error);
	error = os_write_all(fd, buf, len);
	if (error == 0 && fsync(fd) != 0)
		error = errno;
	if (close(fd) != 0 && error == 0)
		error = errno;
	if (error == 0 && rename(tmp, path) != 0)
		error = errno;
	if (error != 0) {
		(void)unlink(tmp);
		return (diag_set(d, error, "%s: cannot save %s: %s (is the "
		    "disk full or read-only?)", path, what, strerror(error)));
	}
	os_fsync_dir_of(path);
	return (0);
}
