/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * file.c - the bottom layer: a regular file or a device node, through
 * pread/pwrite (thread-safe without a lock).  Size from fstat for files and
 * from the platform ioctl for devices.  O_DIRECT is optional; when the file
 * system refuses it the layer falls back to buffered I/O, and unaligned
 * requests on an O_DIRECT descriptor bounce through an aligned buffer.
 *
 * Locking: none on buffered descriptors.  On an O_DIRECT one a bounced write
 * is a read-modify-write of whole 4 KiB blocks, so it holds `rw` exclusive
 * (and aligned writes hold it shared): a concurrent write to other bytes of
 * the same block is never put back to its old contents.  O_DIRECT is dropped
 * at open when the size is not a multiple of 4 KiB (the tail block could not
 * be read or written whole).
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/fs.h>
#endif
#ifdef __FreeBSD__
#include <sys/disk.h>
#endif

#include <liveroot/bdev.h>
#include <liveroot/util.h>

struct bdev_file {
	struct bdev	 b;
	int		 fd;
	int		 direct;
	int		 isdev;
	char		*path;
	pthread_rwlock_t rw;	/* O_DIRECT writes: bounce exclusive */
};

#define DIRECT_ALIGN	4096

static int
file_io(struct bdev_file *f, int wr, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n;

		if (wr)
			n = pwrite(f->fd, p, len, (off_t)off);
		else
			n = pread(f->fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return (diag_set(d, errno, "%s %s at offset %ju: %s",
			    wr ? "writing" : "reading", f->path,
			    (uintmax_t)off, strerror(errno)));
		}
		if (n == 0) {
			if (wr)
				return (diag_set(d, EIO, "writing %s at offset "
				    "%ju: no progress", f->path,
				    (uintmax_t)off));
			/* The file shrank under us: treat as a short device. */
			return (diag_set(d, EIO, "reading %s at offset %ju: "
			    "unexpected end of file (was it truncated while in "
			    "use?)", f->path, (uintmax_t)off));
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return (0);
}

/* An unaligned request on an O_DIRECT descriptor goes through a bounce. */
static int
file_bounce(struct bdev_file *f, int wr, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	uint64_t a0 = off & ~(uint64_t)(DIRECT_ALIGN - 1);
	uint64_t a1 = lr_div_roundup(off + len, DIRECT_ALIGN) * DIRECT_ALIGN;
	size_t blen;
	void *bb;
	int error;

	if (a1 > f->b.size)	/* tail of a file not a multiple of 4 KiB */
		a1 = f->b.size;
	blen = (size_t)(a1 - a0);
	if (posix_memalign(&bb, DIRECT_ALIGN, lr_div_roundup(blen,
	    DIRECT_ALIGN) * DIRECT_ALIGN) != 0)
		return (diag_set(d, ENOMEM, "out of memory for I/O bounce"));
	if (wr)
		pthread_rwlock_wrlock(&f->rw);
	error = file_io(f, 0, bb, blen, a0, d);
	if (error == 0 && wr) {
		memcpy((uint8_t *)bb + (off - a0), buf, len);
		error = file_io(f, 1, bb, blen, a0, d);
	}
	if (wr)
		pthread_rwlock_unlock(&f->rw);
	if (error == 0 && !wr)
		memcpy(buf, (uint8_t *)bb + (off - a0), len);
	free(bb);
	return (error);
}

static int
file_read(struct bdev *b, void *buf, size_t len, uint64_t off, struct diag *d)
{
	struct bdev_file *f = (struct bdev_file *)b;

	if (f->direct && (((uintptr_t)buf | off | len) & (DIRECT_ALIGN - 1)))
		return (file_bounce(f, 0, buf, len, off, d));
	return (file_io(f, 0, buf, len, off, d));
}

static int
file_write(struct bdev *b, const void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	struct bdev_file *f = (struct bdev_file *)b;
	int error;

	if (!f->direct)
		return (file_io(f, 1, (void *)(uintptr_t)buf, len, off, d));
	if (((uintptr_t)buf | off | len) & (DIRECT_ALIGN - 1))
		return (file_bounce(f, 1, (void *)(uintptr_t)buf, len, off, d));
	pthread_rwlock_rdlock(&f->rw);
	error = file_io(f, 1, (void *)(uintptr_t)buf, len, off, d);
	pthread_rwlock_unlock(&f->rw);
	return (error);
}

static int
file_flush(struct bdev *b, struct diag *d)
{
	struct bdev_file *f = (struct bdev_file *)b;

	if (fsync(f->fd) != 0 && errno != EINVAL && errno != EROFS)
		return (diag_set(d, errno, "flushing %s: %s", f->path,
		    strerror(errno)));
	return (0);
}

static int
file_trim(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
	struct bdev_file *f = (struct bdev_file *)b;

	(void)d;
#ifdef __linux__
	if (f->isdev) {
		uint64_t r[2] = { off, len };

		(void)ioctl(f->fd, BLKDISCARD, r);
	} else
		(void)fallocate(f->fd, FALLOC_FL_PUNCH_HOLE |
		    FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
#else
	(void)f;
	(void)off;
	(void)len;
#endif
	return (0);	/* advisory: the data may stay */
}

/*
 * Zeroing without writing zeros where the platform can: a hole punched in a
 * regular file reads as zeros (and gives the space back); on a device,
 * BLKZEROOUT.  Otherwise a plain zero-buffer write.
 */
static int
file_write_zeroes(struct bdev *b, uint64_t off, uint64_t len, struct diag *d)
{
#ifdef __linux__
	struct bdev_file *f = (struct bdev_file *)b;

	if (!f->isdev && fallocate(f->fd, FALLOC_FL_PUNCH_HOLE |
	    FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return (0);
	if (f->isdev) {
		uint64_t r[2] = { off, len };

		if (ioctl(f->fd, BLKZEROOUT, r) == 0)
			return (0);
	}
#endif
	return (bdev_zero_fill(b, off, len, d));
}

/* A regular file's allocated blocks; a device cannot tell. */
static int
file_allocated(struct bdev *b, uint64_t *bytes)
{
	struct bdev_file *f = (struct bdev_file *)b;
	struct stat st;

	if (f->isdev || fstat(f->fd, &st) != 0)
		return (ENOTSUP);
	*bytes = (uint64_t)st.st_blocks * 512;
	return (0);
}

static void
file_destroy(struct bdev *b)
{
	struct bdev_file *f = (struct bdev_file *)b;

	close(f->fd);
	pthread_rwlock_destroy(&f->rw);
	free(f->path);
	free(f);
}

static const struct bdev_ops file_ops = {
	.name = "file",
	.read = file_read,
	.write = file_write,
	.flush = file_flush,
	.trim = file_trim,
	.write_zeroes = file_write_zeroes,
	.allocated = file_allocated,
	.destroy = file_destroy,
};

static const struct bdev_ops file_ro_ops = {
	.name = "file",
	.read = file_read,
	.flush = file_flush,
	.allocated = file_allocated,
	.destroy = file_destroy,
};

static int
fd_size(int fd, const char *name, int *isdev, uint64_t *size, struct diag *d)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return (diag_set(d, errno, "%s: %s", name, strerror(errno)));
	*isdev = 0;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return (0);
	}
	if (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode)) {
		*isdev = 1;
#if defined(__linux__)
		if (ioctl(fd, BLKGETSIZE64, size) == 0)
			return (0);
#elif defined(__FreeBSD__)
		off_t ms;

		if (ioctl(fd, DIOCGMEDIASIZE, &ms) == 0) {
			*size = (uint64_t)ms;
			return (0);
		}
#endif
		{
			off_t e = lseek(fd, 0, SEEK_END);

			if (e >= 0) {
				*size = (uint64_t)e;
				return (0);
			}
		}
		return (diag_set(d, errno, "%s: cannot get the device size: %s",
		    name, strerror(errno)));
	}
	return (diag_set(d, EINVAL, "%s is neither a regular file nor a "
	    "device", name));
}

int
bdev_file_from_fd(int fd, const char *name, int flags, struct bdev **out,
    struct diag *d)
{
	struct bdev_file *f;
	uint64_t size;
	int isdev = 0, error, fl;

	if ((error = fd_size(fd, name, &isdev, &size, d)) != 0)
		return (error);
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(name)) == NULL) {
		free(f);
		return (diag_set(d, ENOMEM, "out of memory"));
	}
	f->fd = fd;
	f->isdev = isdev;
#ifdef O_DIRECT
	if ((fl = fcntl(fd, F_GETFL)) != -1 && (fl & O_DIRECT) != 0) {
		/* a tail shorter than 4 KiB cannot go through O_DIRECT */
		if (size % DIRECT_ALIGN == 0 ||
		    fcntl(fd, F_SETFL, fl & ~O_DIRECT) != 0)
			f->direct = 1;
	}
#endif
	pthread_rwlock_init(&f->rw, NULL);
	bdev_init(&f->b, (flags & BDEV_FILE_RDONLY) ? &file_ro_ops : &file_ops,
	    size, isdev ? 512 : 4096, (flags & BDEV_FILE_RDONLY) != 0, NULL,
	    "%s", name);
	*out = &f->b;
	return (0);
}

int
bdev_file_open(const char *path, int flags, uint64_t size, struct bdev **out,
    struct diag *d)
{
	int oflags, fd, error;
	struct stat st;

	oflags = (flags & BDEV_FILE_RDONLY) ? O_RDONLY : O_RDWR;
	oflags |= O_CLOEXEC;
	if (flags & BDEV_FILE_CREATE)
		oflags |= O_CREAT;
	fd = -1;
#ifdef O_DIRECT
	if (flags & BDEV_FILE_DIRECT)
		fd = open(path, oflags | O_DIRECT, 0644);
#endif
	if (fd < 0)
		fd = open(path, oflags, 0644);
	if (fd < 0) {
		error = errno;
		if (error == ENOENT)
			return (diag_set(d, error, "%s: no such file or "
			    "device (check the path)", path));
		if (error == EACCES || error == EPERM)
			return (diag_set(d, error, "%s: permission denied "
			    "(run as root, or open it read-only)", path));
		if (error == EROFS)
			return (diag_set(d, error, "%s is on a read-only "
			    "file system; open it read-only", path));
		return (diag_set(d, error, "%s: %s", path, strerror(error)));
	}
	if ((flags & BDEV_FILE_CREATE) && fstat(fd, &st) == 0 &&
	    S_ISREG(st.st_mode) && (uint64_t)st.st_size < size &&
	    ftruncate(fd, (off_t)size) != 0) {
		error = errno;
		close(fd);
		return (diag_set(d, error, "%s: cannot extend to %ju bytes: %s",
		    path, (uintmax_t)size, strerror(error)));
	}
	if ((error = bdev_file_from_fd(fd, path, flags, out, d)) != 0)
		close(fd);
	return (error);
}
