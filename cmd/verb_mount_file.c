/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_mount_file.c - `liveroot mount-file`: the FUSE frontend.  A stack
 * (stack.h) appears as one file, MOUNTPOINT/NAME, whose size is the device
 * size; read, write, fsync and fallocate (PUNCH_HOLE and ZERO_RANGE become
 * write-zeroes, which a rowr upper turns into freed granules) go straight to
 * the bdev.  It is for hosts without a kernel NBD client: loop-mount the
 * file, or hand it to any tool that takes an image file.
 *
 * libfuse's multithreaded loop calls the ops from several threads at once;
 * the bdev allows that (bdev.h), and the ops keep no state of their own.
 *
 * Without -f the stack is built and the file system mounted in a child,
 * which reports success or the error through a pipe before its parent
 * exits (forking after the stack's threads started would lose them).
 * The child then does chdir("/"), so every path (lower, upper, overlay,
 * the mount point) is made absolute before anything else: an overlay map
 * written at the end must land beside its upper, not in /.
 * The FUSE session ends on unmount (fusermount3 -u) or SIGTERM/SIGINT/
 * SIGHUP; then the stack is flushed and closed.
 *
 * Access: the kernel checks the file's mode (default_permissions is
 * always passed), so `-o allow_other` lets other users read the 0644 file
 * but never write it; `-o umask=077` keeps them out altogether.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "stack.h"
#include "verbs.h"

#ifdef LIVEROOT_HAVE_FUSE

#define FUSE_USE_VERSION 31
#include <fcntl.h>
#include <fuse.h>
#include <linux/falloc.h>
#include <sys/stat.h>

#include <liveroot/bdev.h>

static const char mf_usage[] =
"usage: liveroot mount-file --lower FILE [--upper mem:SIZE|FILE] [options]\n"
"           MOUNTPOINT\n"
"       liveroot mount-file --overlay UPPER [options] MOUNTPOINT\n"
"\n"
"Show a block stack as one file, MOUNTPOINT/NAME, through FUSE.  Unmount\n"
"with 'fusermount3 -u MOUNTPOINT'; the stack is then flushed and closed.\n"
"\n"
"Options:\n"
"  --name NAME         the file's name (default \"disk\")\n"
"  -f, --foreground    stay in the foreground (default: detach once\n"
"                      mounted)\n"
"  -s                  single-threaded FUSE loop\n"
"  -o OPTS             extra FUSE mount options; the file's mode is always\n"
"                      enforced (default_permissions): with allow_other,\n"
"                      other users may read the 0644 file, never write it;\n"
"                      add umask=077 to keep them out\n"
"  -q, --quiet         print errors only (overrides -v)\n"
"  -v, --verbose       print statistics when the session ends\n"
"Stack:\n"
"%s"
"\n"
"Exit status: 0 after a clean unmount, 2 on an error.\n";

struct mf {
	struct bdev	*b;
	const char	*name;		/* without the slash */
	int		 readonly;
};

static struct mf *
mf_get(void)
{
	return (fuse_get_context()->private_data);
}

static int
mf_is_file(const struct mf *m, const char *path)
{
	return (path[0] == '/' && strcmp(path + 1, m->name) == 0);
}

static int
mf_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct mf *m = mf_get();

	(void)fi;
	memset(st, 0, sizeof(*st));
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return (0);
	}
	if (!mf_is_file(m, path))
		return (-ENOENT);
	st->st_mode = S_IFREG | (m->readonly ? 0444 : 0644);
	st->st_nlink = 1;
	st->st_size = (off_t)m->b->size;
	st->st_blksize = m->b->blksize;
	st->st_blocks = (blkcnt_t)((m->b->size + 511) / 512);
	return (0);
}

static int
mf_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
    struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct mf *m = mf_get();

	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/") != 0)
		return (-ENOTDIR);
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, m->name, NULL, 0, 0);
	return (0);
}

static int
mf_open(const char *path, struct fuse_file_info *fi)
{
	struct mf *m = mf_get();

	if (!mf_is_file(m, path))
		return (-ENOENT);
	if (m->readonly && (fi->flags & O_ACCMODE) != O_RDONLY)
		return (-EROFS);
	return (0);
}

static int
mf_read(const char *path, char *buf, size_t len, off_t off,
    struct fuse_file_info *fi)
{
	struct mf *m = mf_get();
	int error;

	(void)path;
	(void)fi;
	if (off < 0)
		return (-EINVAL);
	if ((uint64_t)off >= m->b->size)
		return (0);
	if (len > m->b->size - (uint64_t)off)
		len = (size_t)(m->b->size - (uint64_t)off);
	if ((error = bdev_read(m->b, buf, len, (uint64_t)off, NULL)) != 0)
		return (-error);
	return ((int)len);
}

static int
mf_write(const char *path, const char *buf, size_t len, off_t off,
    struct fuse_file_info *fi)
{
	struct mf *m = mf_get();
	int error;

	(void)path;
	(void)fi;
	if (m->readonly)
		return (-EROFS);
	if (off < 0)
		return (-EINVAL);
	if ((uint64_t)off >= m->b->size)
		return (len == 0 ? 0 : -ENOSPC);
	if (len > m->b->size - (uint64_t)off)
		len = (size_t)(m->b->size - (uint64_t)off);
	if ((error = bdev_write(m->b, buf, len, (uint64_t)off, NULL)) != 0)
		return (-error);
	return ((int)len);
}

static int
mf_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	(void)fi;
	return (-bdev_flush(mf_get()->b, NULL));
}

static int
mf_fallocate(const char *path, int mode, off_t off, off_t len,
    struct fuse_file_info *fi)
{
	struct mf *m = mf_get();
	uint64_t end;

	(void)path;
	(void)fi;
	if (m->readonly)
		return (-EROFS);
	if (off < 0 || len <= 0)
		return (-EINVAL);
	end = (uint64_t)off + (uint64_t)len;
	if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
		if ((uint64_t)off >= m->b->size)
			return (0);
		if (end > m->b->size)
			end = m->b->size;
		return (-bdev_write_zeroes(m->b, (uint64_t)off,
		    end - (uint64_t)off, NULL));
	}
	if (mode & ~FALLOC_FL_KEEP_SIZE)
		return (-EOPNOTSUPP);
	/* Plain allocation: the device is always "allocated". */
	return (end > m->b->size && !(mode & FALLOC_FL_KEEP_SIZE) ?
	    -EFBIG : 0);
}

static int
mf_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct mf *m = mf_get();

	(void)path;
	(void)fi;
	return ((uint64_t)size == m->b->size ? 0 : -EPERM);
}

static int
mf_utimens(const char *path, const struct timespec tv[2],
    struct fuse_file_info *fi)
{
	(void)path;
	(void)tv;
	(void)fi;
	return (0);
}

static void *
mf_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->use_ino = 0;
	cfg->attr_timeout = 3600;
	cfg->entry_timeout = 3600;
	return (fuse_get_context()->private_data);
}

static const struct fuse_operations mf_ops = {
	.init = mf_init,
	.getattr = mf_getattr,
	.readdir = mf_readdir,
	.open = mf_open,
	.read = mf_read,
	.write = mf_write,
	.fsync = mf_fsync,
	.fallocate = mf_fallocate,
	.truncate = mf_truncate,
	.utimens = mf_utimens,
};

static int
usage(void)
{
	printf(mf_usage, stack_usage);
	return (CLI_OK);
}

/* Tells the waiting parent (if any) how the start went. */
static void
notify(int fd, char status)
{
	if (fd >= 0) {
		(void)write(fd, &status, 1);
		close(fd);
	}
}

static int
mf_run(struct stack_opts *so, const char *mnt, const char *fuseopts,
    const char *name, int single, int verbose, int notify_fd)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct mf m;
	struct diag d;
	struct fuse *f = NULL;
	int error, rc = CLI_ERROR, mounted = 0, nfd;

	diag_clear(&d);
	memset(&m, 0, sizeof(m));
	m.name = name;
	if ((error = stack_build(so, &m.b, &d)) != 0) {
		overlay_diag(&d, error, so->overlay != NULL ? so->overlay :
		    so->upper);
		notify(notify_fd, 1);
		return (CLI_ERROR);
	}
	m.readonly = so->readonly || m.b->readonly;
	/* The kernel enforces the file's mode for everyone, allow_other or
	 * not. */
	if (fuse_opt_add_arg(&args, "liveroot") != 0 ||
	    fuse_opt_add_arg(&args, "-o") != 0 ||
	    fuse_opt_add_arg(&args, "default_permissions") != 0 ||
	    (fuseopts != NULL && (fuse_opt_add_arg(&args, "-o") != 0 ||
	    fuse_opt_add_arg(&args, fuseopts) != 0))) {
		cli_err("out of memory");
		goto out;
	}
	if ((f = fuse_new(&args, &mf_ops, sizeof(mf_ops), &m)) == NULL) {
		cli_err("cannot set up FUSE (bad -o options?)");
		goto out;
	}
	if (fuse_mount(f, mnt) != 0) {
		cli_err("%s: cannot mount: is /dev/fuse there and the mount "
		    "point an existing directory?", mnt);
		goto out;
	}
	mounted = 1;
	if (fuse_set_signal_handlers(fuse_get_session(f)) != 0) {
		cli_err("cannot install signal handlers");
		goto out;
	}
	if (notify_fd >= 0) {
		(void)setsid();
		(void)!chdir("/");
		notify(notify_fd, 0);
		if ((nfd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(nfd, 0);
			dup2(nfd, 1);
			if (!verbose)
				dup2(nfd, 2);
			if (nfd > 2)
				close(nfd);
		}
		notify_fd = -1;
	}
	error = single ? fuse_loop(f) : fuse_loop_mt(f, 0);
	fuse_remove_signal_handlers(fuse_get_session(f));
	if (error < 0)
		cli_err("FUSE session ended with an error: %s",
		    strerror(-error));
	else
		rc = CLI_OK;
out:
	if (mounted)
		fuse_unmount(f);
	if (f != NULL)
		fuse_destroy(f);
	fuse_opt_free_args(&args);
	notify(notify_fd, 1);
	diag_clear(&d);
	if ((error = bdev_flush(m.b, &d)) != 0) {
		cli_diag(&d, error);
		rc = CLI_ERROR;
	}
	if (verbose)
		stack_print_stats(stderr, m.b);
	bdev_destroy(m.b);
	return (rc);
}

enum { O_NAME = 0x200 };

int
verb_mount_file(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, O_NAME },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		STACK_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct stack_opts so;
	struct diag d;
	const char *fuseopts = NULL, *name = "disk";
	char *mnt = NULL, status = 1;
	int ch, fg = 0, single = 0, verbose = 0, quiet = 0, pfd[2];
	int error, rc = CLI_ERROR;
	pid_t pid;

	if (cli_wants_help(argc, argv))
		return (usage());
	memset(&so, 0, sizeof(so));
	diag_clear(&d);
	while ((ch = stack_getopt(&so, argc, argv, ":fsvqho:" STACK_SHORTOPTS,
	    lo)) != -1) {
		switch (ch) {
		case -2:
			return (CLI_ERROR);
		case 'f':
			fg = 1;
			break;
		case 's':
			single = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'o':
			fuseopts = optarg;
			break;
		case O_NAME:
			name = optarg;
			break;
		case 'h':
			return (usage());
		default:
			return (cli_opt_error(ch, argc, argv));
		}
	}
	if (optind == argc) {
		cli_err("no MOUNTPOINT given ('liveroot mount-file --help' "
		    "shows the usage)");
		return (CLI_ERROR);
	}
	if (optind + 1 < argc) {
		cli_err("one MOUNTPOINT only: '%s' is one too many",
		    argv[optind + 1]);
		return (CLI_ERROR);
	}
	if (quiet)
		verbose = 0;
	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		cli_err("--name: '%s' is not a file name", name);
		return (CLI_ERROR);
	}
	/* Absolute paths: the detached child leaves the cwd for "/". */
	if ((mnt = realpath(argv[optind], NULL)) == NULL) {
		cli_err("%s: %s: give an existing directory as MOUNTPOINT",
		    argv[optind], strerror(errno));
		return (CLI_ERROR);
	}
	if ((error = stack_absolute(&so, &d)) != 0) {
		cli_diag(&d, error);
		goto out;
	}
	if (fg) {
		rc = mf_run(&so, mnt, fuseopts, name, single, verbose, -1);
		goto out;
	}
	if (pipe(pfd) != 0) {
		cli_err("pipe: %s", strerror(errno));
		goto out;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		cli_err("fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		goto out;
	}
	if (pid == 0) {
		close(pfd[0]);
		rc = mf_run(&so, mnt, fuseopts, name, single, verbose, pfd[1]);
		stack_opts_free(&so);
		free(mnt);
		_exit(rc);
	}
	close(pfd[1]);
	if (read(pfd[0], &status, 1) != 1)
		status = 1;
	close(pfd[0]);
	rc = status == 0 ? CLI_OK : CLI_ERROR;
out:
	stack_opts_free(&so);
	free(mnt);
	return (rc);
}

#else /* !LIVEROOT_HAVE_FUSE */

int
verb_mount_file(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_err("this liveroot was built without FUSE (libfuse3): install "
	    "libfuse3-dev and rebuild, or use 'liveroot serve' with an NBD "
	    "client");
	return (CLI_ERROR);
}

#endif
