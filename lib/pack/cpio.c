/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cpio.c - the cpio newc writer of pack.h, in memory.  The buffer grows by
 * doubling (checked against SIZE_MAX) and always keeps 4 spare bytes for a
 * padding; a field that does not fit the format's 32 bits is EFBIG.  The
 * tree walk is bounded in depth (64) and in path length (PATH_MAX), reads
 * directories with scandir+alphasort (sorted: reproducible) and never
 * follows a symbolic link.  One thread per struct pack_cpio.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/os.h>
#include <liveroot/pack.h>

#define CPIO_MAXDEPTH	64

void
pack_cpio_init(struct pack_cpio *c)
{
	memset(c, 0, sizeof(*c));
}

void
pack_cpio_free(struct pack_cpio *c)
{
	free(c->buf);
	pack_cpio_init(c);
}

static int
cpio_put(struct pack_cpio *c, const void *p, size_t n)
{
	size_t ncap;
	unsigned char *nb;

	if (n > SIZE_MAX - 4 - c->len)
		return (ENOMEM);
	if (c->len + n + 4 > c->cap) {
		ncap = c->cap ? c->cap : 1 << 20;
		while (ncap < c->len + n + 4) {
			if (ncap > SIZE_MAX / 2)
				return (ENOMEM);
			ncap *= 2;
		}
		if ((nb = realloc(c->buf, ncap)) == NULL)
			return (ENOMEM);
		c->buf = nb;
		c->cap = ncap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return (0);
}

static int
cpio_pad4(struct pack_cpio *c)
{
	static const char z[4];

	return (cpio_put(c, z, (4 - (c->len & 3)) & 3));
}

int
pack_cpio_entry(struct pack_cpio *c, const char *name, uint32_t mode,
    uint32_t nlink, const void *data, size_t size, uint32_t rmajor,
    uint32_t rminor)
{
	char hdr[111];
	size_t nlen = strlen(name);
	int e;

	if (size > UINT32_MAX || nlen >= UINT32_MAX)
		return (EFBIG);
	snprintf(hdr, sizeof(hdr),
	    "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
	    ++c->ino, mode, 0u, 0u, nlink, 0u, (uint32_t)size, 0u, 0u, rmajor,
	    rminor, (uint32_t)nlen + 1, 0u);
	if ((e = cpio_put(c, hdr, 110)) != 0 ||
	    (e = cpio_put(c, name, nlen + 1)) != 0 ||
	    (e = cpio_pad4(c)) != 0)
		return (e);
	if (size > 0 && ((e = cpio_put(c, data, size)) != 0 ||
	    (e = cpio_pad4(c)) != 0))
		return (e);
	return (0);
}

int
pack_cpio_trailer(struct pack_cpio *c)
{
	return (pack_cpio_entry(c, "TRAILER!!!", 0, 1, NULL, 0, 0, 0));
}

/* One directory entry at path p, named r in the archive. */
static int
cpio_one(struct pack_cpio *c, const char *root, const char *p, const char *r,
    int depth, struct diag *d);

static int
cpio_walk(struct pack_cpio *c, const char *root, const char *rel, int depth,
    struct diag *d)
{
	struct dirent **names = NULL;
	char dir[PATH_MAX], p[PATH_MAX], r[PATH_MAX];
	const char *nm;
	int n, i, e = 0;

	if (depth > CPIO_MAXDEPTH)
		return (diag_set(d, ELOOP, "%s: nested too deep", rel));
	if (rel[0] == '\0')
		snprintf(dir, sizeof(dir), "%s", root);
	else if (os_path_join(dir, sizeof(dir), root, rel) != 0)
		return (diag_set(d, ENAMETOOLONG, "%s: path too long", rel));
	if ((n = scandir(dir, &names, NULL, alphasort)) < 0)
		return (diag_set(d, errno, "%s: %s", dir, strerror(errno)));
	for (i = 0; i < n; i++) {
		nm = names[i]->d_name;
		if (e != 0 || strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
			continue;
		if (rel[0] == '\0')
			snprintf(r, sizeof(r), "%s", nm);
		else if (os_path_join(r, sizeof(r), rel, nm) != 0) {
			e = diag_set(d, ENAMETOOLONG, "%s/%s: too long", rel,
			    nm);
			continue;
		}
		if (os_path_join(p, sizeof(p), root, r) != 0) {
			e = diag_set(d, ENAMETOOLONG, "%s: too long", r);
			continue;
		}
		e = cpio_one(c, root, p, r, depth, d);
		if (e != 0 && d != NULL && d->code == 0)
			diag_set(d, e, "cpio: %s: %s", r, strerror(e));
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return (e);
}

static int
cpio_one(struct pack_cpio *c, const char *root, const char *p, const char *r,
    int depth, struct diag *d)
{
	struct stat st;
	char t[PATH_MAX], *data = NULL;
	size_t len = 0;
	ssize_t k;
	int e;

	if (lstat(p, &st) != 0)
		return (diag_set(d, errno, "%s: %s", p, strerror(errno)));
	if (S_ISDIR(st.st_mode)) {
		e = pack_cpio_entry(c, r, (uint32_t)st.st_mode, 2, NULL, 0, 0,
		    0);
		return (e != 0 ? e : cpio_walk(c, root, r, depth + 1, d));
	}
	if (S_ISLNK(st.st_mode)) {
		k = readlink(p, t, sizeof(t));
		if (k < 0 || (size_t)k >= sizeof(t))
			return (diag_set(d, EIO, "%s: readlink failed", p));
		return (pack_cpio_entry(c, r, (uint32_t)st.st_mode, 1, t,
		    (size_t)k, 0, 0));
	}
	if (S_ISREG(st.st_mode)) {
		if ((e = os_read_file(p, SIZE_MAX, &data, &len, d)) != 0)
			return (e);
		e = pack_cpio_entry(c, r, (uint32_t)st.st_mode, 1, data, len,
		    0, 0);
		free(data);
		return (e);
	}
	/* devices, fifos, sockets: the kernel's devtmpfs makes /dev */
	return (0);
}

int
pack_cpio_tree(struct pack_cpio *c, const char *root, struct diag *d)
{
	return (cpio_walk(c, root, "", 0, d));
}
