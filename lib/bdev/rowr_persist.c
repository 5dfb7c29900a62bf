/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rowr_persist.c - persistence of the rowr overlay (rules in rowr.h): the
 * map file (load, check, atomic save), the lower's identity and its lock,
 * the crash-safe commit record, and the upper and map files by path.  The
 * I/O engine is rowr.c; the device is shared through rowr_impl.h.
 */
#define _GNU_SOURCE
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/fmt_uzip.h>
#include <liveroot/os.h>
#include <liveroot/rowr.h>
#include <liveroot/rowrmap.h>
#include <liveroot/util.h>
#include <liveroot/uzip.h>

#include "rowr_impl.h"

#define ID_SAMPLES	64	/* blocks hashed for a lower's identity */
#define ID_BLOCK	4096u

/* --- the lower's identity and lock (rules in rowr.h) --------------------- */

typedef int (*id_read_fn)(void *arg, void *buf, size_t len, uint64_t off,
    struct diag *d);

static int
id_read_bdev(void *arg, void *buf, size_t len, uint64_t off, struct diag *d)
{
	return (bdev_read(arg, buf, len, off, d));
}

/* The union, as a commit leaves the lower; the whole-device lock is held. */
static int
id_read_union(void *arg, void *buf, size_t len, uint64_t off, struct diag *d)
{
	return (rowr_read_locked(arg, buf, len, off, d));
}

_Static_assert(LR_ROWRMAP_HASHLEN == OS_SHA256_LEN,
    "the identity hash is a SHA-256");

static int
sha_start(struct os_sha256 **c, struct diag *d)
{
	if (os_sha256_new(c) != 0)
		return (diag_set(d, ENOMEM, "cannot start a SHA-256 of the "
		    "lower (out of memory?)"));
	return (0);
}

static int
sha_end(struct os_sha256 *c, int ok, uint8_t *out, struct diag *d)
{
	if (ok && os_sha256_final(c, out) != 0)
		ok = 0;
	os_sha256_free(c);
	return (ok ? 0 : diag_set(d, EIO, "SHA-256 of the lower failed"));
}

/*
 * Adds size (8 bytes LE) and ID_SAMPLES blocks of ID_BLOCK bytes spread
 * evenly over [0, size), the first and the last included, to c; all of it
 * when it is no bigger than the samples.  *ok turns 0 when c fails.
 */
static int
id_add_samples(struct os_sha256 *c, id_read_fn rd, void *arg, uint64_t size,
    int *ok, struct diag *d)
{
	uint8_t buf[ID_BLOCK], le[8];
	uint64_t span, q, rem, off;
	size_t n;
	int i, error = 0;

	lr_le64enc(le, size);
	*ok = *ok && os_sha256_update(c, le, sizeof(le)) == 0;
	if (size <= (uint64_t)ID_SAMPLES * ID_BLOCK) {
		for (off = 0; off < size && *ok && error == 0; off += n) {
			n = (size_t)LR_MIN(size - off, ID_BLOCK);
			if ((error = rd(arg, buf, n, off, d)) == 0)
				*ok = os_sha256_update(c, buf, n) == 0;
		}
		return (error);
	}
	span = size - ID_BLOCK;
	q = span / (ID_SAMPLES - 1);
	rem = span % (ID_SAMPLES - 1);
	for (i = 0; i < ID_SAMPLES && *ok && error == 0; i++) {
		off = q * (uint64_t)i + rem * (uint64_t)i / (ID_SAMPLES - 1);
		if ((error = rd(arg, buf, ID_BLOCK, off, d)) == 0)
			*ok = os_sha256_update(c, buf, ID_BLOCK) == 0;
	}
	return (error);
}

/* The sampled identity: SHA-256 of id_add_samples() over the lower. */
static int
id_hash_samples(id_read_fn rd, void *arg, uint64_t size, uint8_t *out,
    struct diag *d)
{
	struct os_sha256 *c;
	int ok = 1, error;

	if ((error = sha_start(&c, d)) != 0)
		return (error);
	if ((error = id_add_samples(c, rd, arg, size, &ok, d)) != 0) {
		os_sha256_free(c);
		return (diag_prefix(d, "hashing the lower: "));
	}
	return (sha_end(c, ok, out, d));
}

/*
 * The uzip identity: SHA-256 of the image file's bytes [0, data_off) (its
 * header and table of contents), then of samples of the whole file (a table
 * alone does not tell apart two images of incompressible clusters).
 */
static int
id_hash_uzip(struct bdev *raw, uint64_t data_off, uint8_t *out,
    struct diag *d)
{
	uint64_t off;
	uint8_t *buf;
	struct os_sha256 *c;
	size_t n;
	int ok = 1, error = 0;

	if ((buf = malloc(ROWR_COPY_CHUNK)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory hashing the lower"));
	if ((error = sha_start(&c, d)) != 0) {
		free(buf);
		return (error);
	}
	for (off = 0; off < data_off && ok; off += n) {
		n = (size_t)LR_MIN(data_off - off, ROWR_COPY_CHUNK);
		if ((error = bdev_read(raw, buf, n, off, d)) != 0)
			break;
		ok = os_sha256_update(c, buf, n) == 0;
	}
	free(buf);
	if (error == 0)
		error = id_add_samples(c, id_read_bdev, raw, raw->size, &ok, d);
	if (error != 0) {
		os_sha256_free(c);
		return (diag_prefix(d, "hashing the lower uzip image: "));
	}
	return (sha_end(c, ok, out, d));
}

/* The hints: device, inode and mtime of the lower's path, when it has one. */
static void
id_stat(const char *path, struct lr_rowrmap_ident *id)
{
	struct stat st;

	if (path == NULL || path[0] == '\0' || stat(path, &st) != 0)
		return;
	id->dev = (uint64_t)st.st_dev;
	id->ino = (uint64_t)st.st_ino;
	id->mtime_sec = (int64_t)st.st_mtim.tv_sec;
	id->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
}

/* The identity of a lower device: a uzip layer's table, else samples. */
static int
id_of_lower(struct bdev *lower, const char *path, struct lr_rowrmap_ident *id,
    struct diag *d)
{
	struct fmt_uzip_hdr uh;
	int error;

	memset(id, 0, sizeof(*id));
	if (bdev_uzip_info(lower, &uh, NULL) == 0 && lower->lower != NULL) {
		id->kind = LR_ROWRMAP_ID_UZIP;
		id->size = lower->lower->size;
		error = id_hash_uzip(lower->lower, uh.data_off, id->hash, d);
	} else {
		id->kind = LR_ROWRMAP_ID_SAMPLED;
		id->size = lower->size;
		error = id_hash_samples(id_read_bdev, lower, lower->size,
		    id->hash, d);
	}
	if (error == 0)
		id_stat(path, id);
	return (error);
}

/*
 * The identity of the file at path, taken as `kind` says (a uzip image's
 * table, or samples of the raw file); a file that is no uzip image any more
 * gets sampled, so its kind differs.
 */
static int
id_of_path(const char *path, uint32_t kind, struct lr_rowrmap_ident *id,
    struct diag *d)
{
	uint8_t hdr[FMT_UZIP_HDRLEN];
	struct fmt_uzip_hdr uh;
	struct bdev *raw;
	int error;

	memset(id, 0, sizeof(*id));
	if ((error = bdev_file_open(path, BDEV_FILE_RDONLY, 0, &raw, d)) != 0)
		return (diag_prefix(d, "lower: "));
	id->size = raw->size;
	if (kind == LR_ROWRMAP_ID_UZIP && raw->size >= sizeof(hdr) &&
	    bdev_read(raw, hdr, sizeof(hdr), 0, NULL) == 0 &&
	    fmt_uzip_probe(hdr, sizeof(hdr)) &&
	    fmt_uzip_header(hdr, sizeof(hdr), raw->size, &uh, NULL) == 0) {
		id->kind = LR_ROWRMAP_ID_UZIP;
		error = id_hash_uzip(raw, uh.data_off, id->hash, d);
	} else {
		id->kind = LR_ROWRMAP_ID_SAMPLED;
		error = id_hash_samples(id_read_bdev, raw, raw->size, id->hash,
		    d);
	}
	bdev_destroy(raw);
	if (error == 0)
		id_stat(path, id);
	return (error);
}

static int
id_same(const struct lr_rowrmap_ident *a, const struct lr_rowrmap_ident *b)
{
	return (a->kind == b->kind &&
	    memcmp(a->hash, b->hash, LR_ROWRMAP_HASHLEN) == 0);
}

static int
id_same_file(const struct lr_rowrmap_ident *a, const struct lr_rowrmap_ident *b)
{
	return (a->dev != 0 && a->dev == b->dev && a->ino == b->ino);
}

/* Refuse a lower that is not the recorded one, naming both. */
static int
id_refuse(const char *map_path, const char *rec_path,
    const struct lr_rowrmap_ident *rec, const char *found,
    const struct lr_rowrmap_ident *cur, struct diag *d)
{
	char rh[13], ch[13];
	const char *why;

	os_hex(rec->hash, 6, rh);
	os_hex(cur->hash, 6, ch);
	if (rec->kind != cur->kind)
		why = rec->kind == LR_ROWRMAP_ID_UZIP ? "it was a uzip image" :
		    "it is a uzip image now";
	else if (id_same_file(rec, cur))
		why = "the same file, changed since";
	else
		why = "another file";
	return (diag_set(d, BDEV_ROWR_ELOWER, "%s: made on another lower "
	    "(%s): recorded %s, %ju bytes, sha256 %s; found %s, %ju bytes, "
	    "sha256 %s; its written granules would sit on the wrong base: "
	    "put the recorded lower back, or drop the overlay", map_path, why,
	    rec_path, (uintmax_t)rec->size, rh, found, (uintmax_t)cur->size,
	    ch));
}

/*
 * Check the lower of a just-decoded map against rec (the map's record) and
 * set r->ident.  A commit in progress accepts the lower before (hash), after
 * (hash_after) or, the same file, half-way.
 */
static int
id_verify(struct bdev_rowr *r, const char *map_path,
    const struct lr_rowrmap_ident *rec, struct diag *d)
{
	struct lr_rowrmap_ident cur;
	int error;

	if ((error = id_of_lower(r->b.lower, r->lower_path, &cur, d)) != 0)
		return (diag_prefix(d, "%s: checking the lower: ", map_path));
	if (rec->kind == LR_ROWRMAP_ID_NONE) {
		r->ident = cur;		/* a version 1 map: record it */
		r->force_save = 1;
		return (0);
	}
	if (r->mapflags & LR_ROWRMAP_F_COMMIT) {
		if (id_same(rec, &cur) || (rec->kind == cur.kind &&
		    (memcmp(rec->hash_after, cur.hash,
		    LR_ROWRMAP_HASHLEN) == 0 || (id_same_file(rec, &cur) &&
		    rec->size == cur.size)))) {
			r->ident = *rec;
			return (0);
		}
	} else if (id_same(rec, &cur)) {
		if (rec->dev != cur.dev || rec->ino != cur.ino ||
		    rec->size != cur.size || rec->mtime_sec != cur.mtime_sec ||
		    rec->mtime_nsec != cur.mtime_nsec)
			r->force_save = 1;	/* a copy, or touched */
		r->ident = cur;
		return (0);
	}
	return (id_refuse(map_path, r->lower_path, rec, r->b.lower->desc, &cur,
	    d));
}

/* The shared lock on the lower (rowr.h); EBUSY while a commit holds it. */
static int
lower_lock_shared(struct bdev_rowr *r, struct diag *d)
{
	int fd, error;

	if (r->lower_path == NULL || r->lower_path[0] == '\0')
		return (0);
	/* The lower was opened by other means when this fails: no lock. */
	if ((fd = open(r->lower_path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return (0);
	if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
		error = errno;
		close(fd);
		if (error == EWOULDBLOCK)
			return (diag_set(d, EBUSY, "the lower %s is in use by "
			    "a commit into it (another process holds it "
			    "locked): wait for the commit to finish",
			    r->lower_path));
		return (0);		/* no flock on this file system */
	}
	r->lockfd = fd;
	return (0);
}

/* Turn the lower's lock exclusive for a commit (excl) or back to shared. */
int
rowr_lower_lock_commit(struct bdev_rowr *r, int excl, struct diag *d)
{
	if (r->lockfd < 0)
		return (0);
	if (!excl) {
		(void)flock(r->lockfd, LOCK_SH | LOCK_NB);
		return (0);
	}
	if (flock(r->lockfd, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		return (0);
	/* A failed conversion dropped the shared lock: take it back. */
	(void)flock(r->lockfd, LOCK_SH | LOCK_NB);
	return (diag_set(d, EBUSY, "cannot commit into the lower %s now: it "
	    "is in use (another overlay on it is open, or a commit into it "
	    "runs): stop that first", r->lower_path));
}

/*
 * Record the commit in the map, durably, before the lower is touched: the
 * COMMIT flag and the hash the lower will have once the union is in it.
 * The whole-device lock is held.
 */
int
rowr_commit_begin(struct bdev_rowr *r, struct diag *d)
{
	uint8_t after[LR_ROWRMAP_HASHLEN];
	int error;

	memset(after, 0, sizeof(after));
	if (r->ident.kind == LR_ROWRMAP_ID_SAMPLED && (error =
	    id_hash_samples(id_read_union, r, r->b.size, after, d)) != 0)
		return (diag_prefix(d, "commit: "));
	pthread_mutex_lock(&r->save_mtx);
	memcpy(r->ident.hash_after, after, sizeof(after));
	r->mapflags |= LR_ROWRMAP_F_COMMIT;
	if ((error = rowr_save_locked(r, 1, d)) != 0) {
		r->mapflags &= ~LR_ROWRMAP_F_COMMIT;
		memset(r->ident.hash_after, 0, sizeof(after));
	}
	pthread_mutex_unlock(&r->save_mtx);
	if (error != 0)
		diag_prefix(d, "commit: recording it in the map before the "
		    "lower is touched: ");
	return (error);
}

/* The lower holds the union now: record its new identity, drop COMMIT. */
int
rowr_commit_end(struct bdev_rowr *r, struct diag *d)
{
	struct lr_rowrmap_ident id;
	int error;

	if ((error = id_of_lower(r->b.lower, r->lower_path, &id, d)) != 0)
		return (diag_prefix(d, "commit: "));
	pthread_mutex_lock(&r->save_mtx);
	r->ident = id;
	r->mapflags &= ~LR_ROWRMAP_F_COMMIT;
	pthread_mutex_unlock(&r->save_mtx);
	return (0);
}

/* --- persistence --------------------------------------------------------- */

/* Save the map if it changed since the last save (or force); save_mtx held. */
int
rowr_save_locked(struct bdev_rowr *r, int force, struct diag *d)
{
	uint64_t changes, len;
	uint32_t pathlen;
	uint8_t *buf;
	int error;

	changes = __atomic_load_n(&r->changes, __ATOMIC_ACQUIRE);
	pathlen = r->lower_path != NULL ? (uint32_t)strlen(r->lower_path) : 0;
	len = lr_rowrmap_encoded_len(&r->map, pathlen);
	if ((buf = malloc((size_t)len)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory saving the overlay "
		    "map (%ju bytes)", (uintmax_t)len));
	/* Snapshot first: every bit in it names data already written. */
	if ((error = lr_rowrmap_encode_ext(&r->map, r->generation + 1,
	    r->mapflags, &r->ident, r->lower_path, pathlen, buf,
	    (size_t)len)) != 0) {
		error = diag_set(d, error, "%s: internal error encoding the "
		    "overlay map", r->map_path);
		goto out;
	}
	if ((error = bdev_flush(r->upper, d)) != 0) {
		diag_prefix(d, "overlay flush of the upper: ");
		goto out;
	}
	if (!force && !r->force_save && changes == r->saved_changes)
		goto out;
	if ((error = os_atomic_write(r->map_path, buf, (size_t)len,
	    "the overlay map", d)) != 0)
		goto out;
	r->generation++;
	r->saved_changes = changes;
	r->force_save = 0;
out:
	free(buf);
	return (error);
}

int
bdev_rowr_save(struct bdev *b, struct diag *d)
{
	struct bdev_rowr *r = rowr_of(b);
	int error;

	if (r == NULL || r->map_path == NULL)
		return (diag_set(d, EINVAL, "%s is not a persistent overlay",
		    b->desc));
	if (b->readonly)
		return (0);
	pthread_mutex_lock(&r->save_mtx);
	error = rowr_save_locked(r, 1, d);
	pthread_mutex_unlock(&r->save_mtx);
	return (error);
}

#define MAP_FIX	"restore it from a backup, or drop the overlay"

static int
map_corrupt(const char *path, struct diag *d)
{
	size_t l;

	diag_prefix(d, "%s: overlay map is corrupt: ", path);
	if (d != NULL && (l = strlen(d->msg)) + 3 < sizeof(d->msg))
		snprintf(d->msg + l, sizeof(d->msg) - l, "; %s", MAP_FIX);
	if (d != NULL)
		d->code = BDEV_ROWR_ECORRUPT;
	return (BDEV_ROWR_ECORRUPT);
}

/* Reads and checks a whole map file; *bufp (malloc'd) holds it. */
static int
map_file_load(const char *path, uint8_t **bufp, size_t *lenp,
    struct lr_rowrmap_hdr *h, struct diag *d)
{
	uint8_t hdr[LR_ROWRMAP_HDR], *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd, error;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		error = errno;
		if (error == ENOENT)
			return (diag_set(d, error, "%s: no overlay map here "
			    "(not an overlay, or it was destroyed)", path));
		return (diag_set(d, error, "%s: %s", path, strerror(error)));
	}
	if (fstat(fd, &st) != 0) {
		error = errno;
		close(fd);
		return (diag_set(d, error, "%s: %s", path, strerror(error)));
	}
	n = pread(fd, hdr, sizeof(hdr), 0);
	if (n < 0) {
		error = errno;
		close(fd);
		return (diag_set(d, error, "%s: %s", path, strerror(error)));
	}
	if ((error = lr_rowrmap_hdr_decode(hdr, (size_t)n,
	    (uint64_t)st.st_size, h, d)) != 0) {
		close(fd);
		return (map_corrupt(path, d));
	}
	if ((uint64_t)st.st_size > SIZE_MAX / 2 ||
	    (buf = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return (diag_set(d, ENOMEM, "%s: out of memory for a %ju-byte "
		    "map", path, (uintmax_t)st.st_size));
	}
	n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		error = n < 0 ? errno : EIO;
		free(buf);
		close(fd);
		return (diag_set(d, error, "%s: short read of the overlay map",
		    path));
	}
	close(fd);
	*bufp = buf;
	*lenp = (size_t)st.st_size;
	return (0);
}


int
bdev_rowr_read_info(const char *map_path, struct bdev_rowr_info *info,
    struct diag *d)
{
	struct lr_rowrmap_hdr h;
	const char *p;
	uint8_t *buf;
	size_t len, i;
	int error;

	memset(info, 0, sizeof(*info));
	if ((error = map_file_load(map_path, &buf, &len, &h, d)) != 0)
		return (error);
	if ((error = lr_rowrmap_decode(buf, len, &h, &p, NULL, d)) != 0) {
		free(buf);
		return (map_corrupt(map_path, d));
	}
	info->size = h.size;
	info->granule = h.granule;
	info->generation = h.generation;
	info->version = h.version;
	info->commit_pending = (h.flags & LR_ROWRMAP_F_COMMIT) != 0;
	info->lower_kind = h.ident.kind;
	info->lower_size = h.ident.size;
	if (h.ident.kind != LR_ROWRMAP_ID_NONE)
		os_hex(h.ident.hash, LR_ROWRMAP_HASHLEN, info->lower_sha256);
	memcpy(info->lower_path, p, h.pathlen);
	info->lower_path[h.pathlen] = '\0';
	for (i = 0; i < h.bitmap_bytes; i++)
		info->granules_written += (uint64_t)__builtin_popcount(
		    buf[h.pathoff + h.pathlen + i]);
	free(buf);
	return (0);
}

/* Loads and decodes a whole map file: header, identity and lower path. */
static int
map_read_head(const char *map_path, struct lr_rowrmap_hdr *h, char **lower,
    struct diag *d)
{
	const char *p;
	uint8_t *buf;
	size_t len;
	int error;

	if ((error = map_file_load(map_path, &buf, &len, h, d)) != 0)
		return (error);
	if ((error = lr_rowrmap_decode(buf, len, h, &p, NULL, d)) != 0) {
		free(buf);
		return (map_corrupt(map_path, d));
	}
	if ((*lower = strndup(p, h->pathlen)) == NULL)
		error = diag_set(d, ENOMEM, "out of memory");
	free(buf);
	return (error);
}

static int
commit_refuse(const char *map_path, const char *lower, struct diag *d)
{
	return (diag_set(d, BDEV_ROWR_ECOMMIT, "%s: a commit into the lower "
	    "%s was interrupted, so the lower may be half-written: the overlay "
	    "must not be used until the commit is run again and completes "
	    "(the upper still holds every written granule)", map_path,
	    lower));
}

int
bdev_rowr_check_lower(const char *map_path, struct diag *d)
{
	struct lr_rowrmap_ident cur;
	struct lr_rowrmap_hdr h;
	char *lower = NULL;
	int error, fd;

	if ((error = map_read_head(map_path, &h, &lower, d)) != 0)
		return (error);
	if (h.flags & LR_ROWRMAP_F_COMMIT) {
		/* Running now, or interrupted?  The commit holds the lock. */
		error = commit_refuse(map_path, lower, d);
		if ((fd = open(lower, O_RDONLY | O_CLOEXEC | O_NOCTTY)) >= 0) {
			if (flock(fd, LOCK_SH | LOCK_NB) != 0 &&
			    errno == EWOULDBLOCK)
				error = diag_set(d, EBUSY, "%s: a commit into "
				    "the lower %s is running now: wait for it "
				    "to finish", map_path, lower);
			close(fd);
		}
		goto out;
	}
	if (h.ident.kind == LR_ROWRMAP_ID_NONE)
		goto out;
	if ((error = id_of_path(lower, h.ident.kind, &cur, d)) != 0) {
		diag_prefix(d, "%s: ", map_path);
		goto out;
	}
	if (!id_same(&h.ident, &cur))
		error = id_refuse(map_path, lower, &h.ident, lower, &cur, d);
out:
	free(lower);
	return (error);
}

int
bdev_rowr_open_persistent(struct bdev *lower, struct bdev *upper,
    const char *map_path, const char *lower_path,
    const struct bdev_rowr_opts *o, int flags, struct bdev **out,
    struct diag *d)
{
	struct lr_rowrmap_hdr h;
	struct bdev_rowr *r;
	struct stat st;
	const char *p;
	uint8_t *buf = NULL;
	size_t len;
	int error;

	if (flags & BDEV_ROWR_CREATE) {
		if (lower_path != NULL && strlen(lower_path) >
		    LR_ROWRMAP_PATHMAX)
			return (diag_set(d, ENAMETOOLONG, "lower path is over "
			    "%u bytes", LR_ROWRMAP_PATHMAX));
		if (upper->readonly)
			return (diag_set(d, EROFS, "cannot create an overlay "
			    "on the read-only upper %s", upper->desc));
		if (lstat(map_path, &st) == 0)
			return (diag_set(d, EEXIST, "%s already exists: the "
			    "upper is already an overlay (use it, or drop it "
			    "first)", map_path));
		if ((error = rowr_alloc(lower, upper, o != NULL ? o->granule :
		    0, &r, d)) != 0)
			return (error);
		if ((r->lower_path = strdup(lower_path != NULL ? lower_path :
		    "")) == NULL) {
			rowr_free(r);
			return (diag_set(d, ENOMEM, "out of memory"));
		}
	} else {
		if ((error = map_file_load(map_path, &buf, &len, &h, d)) != 0)
			return (error);
		if (h.size != lower->size) {
			free(buf);
			return (diag_set(d, BDEV_ROWR_ELOWER, "%s: the overlay "
			    "was made for a %ju-byte lower, but %s is %ju "
			    "bytes: another lower, or it changed since; put "
			    "the recorded lower back, or drop the overlay",
			    map_path, (uintmax_t)h.size, lower->desc,
			    (uintmax_t)lower->size));
		}
		if ((error = rowr_alloc(lower, upper, h.granule, &r, d)) != 0) {
			free(buf);
			return (error);
		}
		if ((error = lr_rowrmap_decode(buf, len, &h, &p, &r->map,
		    d)) != 0) {
			free(buf);
			rowr_free(r);
			return (map_corrupt(map_path, d));
		}
		r->generation = h.generation;
		r->mapflags = h.flags;
		r->lower_path = strndup(p, h.pathlen);
		free(buf);
		if (r->lower_path == NULL) {
			rowr_free(r);
			return (diag_set(d, ENOMEM, "out of memory"));
		}
		if ((h.flags & LR_ROWRMAP_F_COMMIT) &&
		    !(flags & BDEV_ROWR_RESUME)) {
			error = commit_refuse(map_path, r->lower_path, d);
			rowr_free(r);
			return (error);
		}
	}
	if ((r->map_path = strdup(map_path)) == NULL) {
		rowr_free(r);
		return (diag_set(d, ENOMEM, "out of memory"));
	}
	if ((error = lower_lock_shared(r, d)) != 0) {
		rowr_free(r);
		return (error);
	}
	if (flags & BDEV_ROWR_CREATE)
		error = id_of_lower(lower, r->lower_path, &r->ident, d);
	else
		error = id_verify(r, map_path, &h.ident, d);
	if (error != 0) {
		rowr_free(r);
		return (error);
	}
	if (flags & BDEV_ROWR_CREATE) {
		pthread_mutex_lock(&r->save_mtx);
		error = rowr_save_locked(r, 1, d);
		pthread_mutex_unlock(&r->save_mtx);
		if (error != 0) {
			rowr_free(r);
			return (error);
		}
	}
	*out = &r->b;
	return (0);
}

char *
bdev_rowr_map_path(const char *upper_path)
{
	size_t n = strlen(upper_path) + sizeof(".rowrmap");
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s.rowrmap", upper_path);
	return (p);
}

int
bdev_rowr_open_upper(const char *path, int rdonly, struct bdev **out,
    struct diag *d)
{
	int fd, error;

	if ((fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC)) < 0) {
		error = errno;
		return (diag_set(d, error, "upper %s: %s%s", path,
		    strerror(error), error == ENOENT ? " (was it moved or "
		    "removed? the map names it by path)" : ""));
	}
	if (flock(fd, (rdonly ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
		error = errno;
		close(fd);
		if (error == EWOULDBLOCK)
			return (diag_set(d, EBUSY, "overlay %s is in use by "
			    "another process (an NBD server?): stop it first",
			    path));
		return (diag_set(d, error, "%s: cannot lock: %s", path,
		    strerror(error)));
	}
	if ((error = bdev_file_from_fd(fd, path, rdonly ? BDEV_FILE_RDONLY :
	    0, out, d)) != 0)
		close(fd);
	return (error);
}

int
bdev_rowr_destroy_files(const char *upper_path, int flags, struct diag *d)
{
	struct lr_rowrmap_hdr h;
	char *map_path, *lower = NULL, tmp[PATH_MAX + 8];
	struct stat st;
	struct diag ld;
	int fd, error = 0;

	if ((map_path = bdev_rowr_map_path(upper_path)) == NULL)
		return (diag_set(d, ENOMEM, "out of memory"));
	if (lstat(map_path, &st) != 0) {
		error = diag_set(d, ENOENT, "%s is not an overlay (no %s)",
		    upper_path, map_path);
		goto out;
	}
	if ((fd = open(upper_path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) != 0 &&
		    errno == EWOULDBLOCK) {
			close(fd);
			error = diag_set(d, EBUSY, "overlay %s is in use by "
			    "another process: stop it first", upper_path);
			goto out;
		}
		close(fd);
	}
	/* A corrupt map can go; one whose commit is pending needs forcing. */
	if (!(flags & BDEV_ROWR_DESTROY_FORCE) &&
	    map_read_head(map_path, &h, &lower, &ld) == 0 &&
	    (h.flags & LR_ROWRMAP_F_COMMIT)) {
		error = diag_set(d, BDEV_ROWR_ECOMMIT, "%s: a commit into the "
		    "lower %s was interrupted: the lower may be half-written "
		    "and only this overlay can complete it; finish the commit, "
		    "or force the removal", map_path, lower);
		goto out;
	}
	if (unlink(map_path) != 0) {
		error = diag_set(d, errno, "%s: %s", map_path, strerror(errno));
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", map_path);
	(void)unlink(tmp);
	if ((flags & BDEV_ROWR_DESTROY_REMOVE) && unlink(upper_path) != 0 &&
	    errno != ENOENT)
		error = diag_set(d, errno, "%s: %s", upper_path,
		    strerror(errno));
out:
	free(lower);
	free(map_path);
	return (error);
}
