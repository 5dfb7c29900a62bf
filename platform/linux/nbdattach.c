/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nbdattach.c - the root stack served to the kernel's nbd driver.
 *
 * PID 1 forks the server process, which owns everything with threads:
 *   image bytes -> uzip -> rowr (RAM upper, capped), as the plan's stack
 *   spec says (stack_open_on) -> NBD server on one end of a socketpair;
 *   a lazy net source's background filler (fill.h) starts here too;
 *   the other end goes to the kernel by netlink (NBD_CMD_CONNECT, nbdnl.c:
 *   no thread of ours sleeps in the kernel, so systemd-shutdown's
 *   kill(-1, SIGSTOP) cannot make the kernel tear the device down), or,
 *   when the kernel has no "nbd" genetlink family, with NBD_SET_SOCK and a
 *   thread in NBD_DO_IT (said on the console).  Block size and flags come
 *   from the plan and the stack.  When the kernel disconnects (the
 *   shutdown program of shutdown.c does), the server flushes the stack and
 *   exits.
 * The server reports "OK <size> <uzip>" or "ERR <message>" on a pipe and
 * then serves for the life of the system: it must outlive switch_root, so
 * it locks its memory (MCL_ONFAULT: pages shared copy-on-write with PID 1
 * are not duplicated), sets PR_SET_IO_FLUSHER (its own allocations must not
 * wait on the writeback it is serving), protects itself from the OOM
 * killer, ignores the signals a shutdown sends, and names itself with a
 * leading '@' so systemd's shutdown leaves it alone.  Only the server keeps
 * its end of the socketpair; PID 1 closes both ends (the kernel holds its
 * own reference after NBD_SET_SOCK), or NBD_DO_IT would never return after
 * a disconnect.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/nbd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <liveroot/chain.h>
#include <liveroot/fill.h>
#include <liveroot/nbd.h>
#include <liveroot/stack.h>

#include "lrinit.h"
#include "nbdnl.h"

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

static int doit_fd = -1;
static pthread_t doit_th;

/*
 * errlog: a pass-through layer on top of the stack that puts the first
 * errors on the console (the kernel only sees EIO; the message naming the
 * cluster or the overlay cap is here).  At most 20 lines, then every
 * 1000th.  Thread-safe: the counter is atomic, each line one write(2).
 * Only reads and writes are watched; the core forwards the other ops.
 */
struct errlog {
	struct bdev	b;
	unsigned long	n;
};

static void
errlog_note(struct bdev *b, const char *op, size_t len, uint64_t off,
    int e, struct diag *d)
{
	struct errlog *l = (struct errlog *)b;
	unsigned long n = __atomic_add_fetch(&l->n, 1, __ATOMIC_RELAXED);

	if (n <= 20 || n % 1000 == 0)
		lri_log("nbd server: %s of %zu bytes at %llu failed (error "
		    "%lu): %s%s", op, len, (unsigned long long)off, n,
		    d != NULL && d->msg[0] ? d->msg : strerror(e),
		    e == ENOSPC ? ": live.overlay= sets the overlay's cap" :
		    "");
}

static int
errlog_read(struct bdev *b, void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	struct diag md;
	int e;

	diag_clear(&md);
	if ((e = bdev_read(b->lower, buf, len, off, &md)) != 0) {
		errlog_note(b, "read", len, off, e, &md);
		if (d != NULL)
			*d = md;
	}
	return (e);
}

static int
errlog_write(struct bdev *b, const void *buf, size_t len, uint64_t off,
    struct diag *d)
{
	struct diag md;
	int e;

	diag_clear(&md);
	if ((e = bdev_write(b->lower, buf, len, off, &md)) != 0) {
		/* ENOSPC of the capped overlay is the live system's business
		 * (it sees ENOSPC); say it once in a while only. */
		if (e != ENOSPC ||
		    __atomic_load_n(&((struct errlog *)b)->n,
		    __ATOMIC_RELAXED) < 3)
			errlog_note(b, "write", len, off, e, &md);
		if (d != NULL)
			*d = md;
	}
	return (e);
}

static void
errlog_destroy(struct bdev *b)
{
	free(b);
}

static const struct bdev_ops errlog_ops = {
	.name = "errlog",
	.read = errlog_read,
	.write = errlog_write,
	.destroy = errlog_destroy,
};

static void *
doit_thread(void *arg)
{
	sigset_t all;
	char msg[160];
	int r;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	r = ioctl(doit_fd, NBD_DO_IT);
	snprintf(msg, sizeof(msg), "nbd: NBD_DO_IT returned (%s); the root "
	    "device is gone", r == 0 ? "disconnect" : strerror(errno));
	lri_log_raw(msg);
	ioctl(doit_fd, NBD_CLEAR_QUE);
	ioctl(doit_fd, NBD_CLEAR_SOCK);
	return (NULL);
}

static void
rename_self(char **argv)
{
	static const char name[] = "@liveroot-nbd";
	size_t l;

	prctl(PR_SET_NAME, "liveroot-nbd", 0, 0, 0);
	if (argv == NULL || argv[0] == NULL)
		return;
	l = strlen(argv[0]);
	if (l >= sizeof(name) - 1) {
		memset(argv[0], 0, l);
		memcpy(argv[0], name, sizeof(name) - 1);
	} else
		argv[0][0] = '@';
}

static void
harden(void)
{
	int fd;

	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 &&
	    mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
		lri_log("nbd server: mlockall: %s (memory not locked)",
		    strerror(errno));
	if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) != 0)
		lri_log("nbd server: PR_SET_IO_FLUSHER: %s", strerror(errno));
	if ((fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC)) >=
	    0) {
		(void)!write(fd, "-1000", 5);
		close(fd);
	}
}

static void
report(int fd, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	(void)!write(fd, buf, (size_t)n);
}

/* "/dev/nbdN" -> N, or -1. */
static long
nbd_index(const char *dev)
{
	const char *p = strrchr(dev, '/');
	char *end;
	long n;

	p = p != NULL ? p + 1 : dev;
	if (strncmp(p, "nbd", 3) != 0 || p[3] < '0' || p[3] > '9')
		return (-1);
	n = strtol(p + 3, &end, 10);
	return (*end == '\0' && n >= 0 && n < 1 << 20 ? n : -1);
}

/* NBD_CMD_CONNECT (nbdnl.c); ENOENT: no netlink interface, use ioctls. */
static int
attach_netlink(const char *dev, uint64_t size, uint32_t blksize,
    unsigned long flags, int kside, struct diag *d)
{
	struct lri_nbdnl_connect c;
	long idx;

	if ((idx = nbd_index(dev)) < 0)
		return (diag_set(d, ENOENT, "%s is not named /dev/nbdN",
		    dev));
	memset(&c, 0, sizeof(c));
	c.index = (uint32_t)idx;
	c.size = size;
	c.blksize = blksize;
	c.flags = flags;
	c.sockfd = (uint32_t)kside;
	return (lri_nbdnl_attach(&c, d));
}

/*
 * Serve until the kernel disconnects (a shutdown: NBD_CMD_DISC after its
 * flush), then flush the stack so whatever it writes through is on its
 * medium before the process exits.
 */
static void __attribute__((noreturn))
serve(struct nbd_server *srv, struct bdev *rw, int sside, const char *pmnt)
{
	struct diag d;
	int e, fe;

	diag_clear(&d);
	e = nbd_server_serve_fd(srv, sside, 0, &d);
	lri_log("nbd server: connection ended (%s)", e ? d.msg : "orderly");
	if (doit_fd >= 0)
		pthread_join(doit_th, NULL);
	diag_clear(&d);
	if ((fe = bdev_flush(rw, &d)) != 0)
		lri_log("nbd server: flushing the root stack: %s", d.msg);
	else
		lri_log("nbd server: root stack flushed; exiting");
	if (pmnt != NULL) {
		/* The overlay's files closed (a last save), then the file
		 * system that holds them unmounted: clean for the next boot
		 * and for any other system that reads the stick. */
		bdev_destroy(rw);
		sync();
		if (umount(pmnt) == 0)
			lri_log("nbd server: persistence saved, %s unmounted",
			    pmnt);
		else if (mount(NULL, pmnt, NULL, MS_REMOUNT | MS_RDONLY,
		    NULL) == 0)
			lri_log("nbd server: umount %s: %s; remounted it "
			    "read-only", pmnt, strerror(errno));
		else
			lri_log("nbd server: cannot unmount %s (%s): synced "
			    "only", pmnt, strerror(errno));
	}
	_exit(e || fe ? 1 : 0);
}

static void
server_main(struct bdev *img, const struct lri_stack_opts *o, int rep,
    int kside, int sside)
{
	struct nbd_export_opts no = { "", 0, 4 };
	struct bdev *rw = NULL;
	struct nbd_server *srv = NULL;
	struct diag d;
	unsigned long flags;
	uint32_t blksize;
	int nbd, uz = 0, e;

	diag_clear(&d);
	rename_self(o->argv);
	setsid();
	if ((e = stack_open_on(img, &o->spec, &rw, &uz, &d)) != 0) {
		report(rep, "ERR %s", d.msg);
		_exit(1);
	}
	/* The lazy net source's filler: a thread, so here, after the fork
	 * (the stack owns img now; the pointer stays valid with it). */
	if (bdev_is_fill(img) && (e = bdev_fill_start(img, &d)) != 0) {
		report(rep, "ERR the background fill: %s", d.msg);
		_exit(1);
	}
	{
		struct errlog *l = calloc(1, sizeof(*l));

		if (l == NULL) {
			report(rep, "ERR out of memory");
			_exit(1);
		}
		bdev_init(&l->b, &errlog_ops, bdev_size(rw), rw->blksize, 0,
		    rw, "errlog(%s)", rw->desc);
		rw = &l->b;
	}
	blksize = o->blksize != 0 ? o->blksize : 512;
	if (bdev_size(rw) % blksize != 0) {
		report(rep, "ERR the root image is %llu bytes, not a multiple "
		    "of %u: not a file system image",
		    (unsigned long long)bdev_size(rw), blksize);
		_exit(1);
	}
	flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
	    NBD_FLAG_SEND_TRIM;
	if (rw->readonly)
		flags |= NBD_FLAG_READ_ONLY;
	/* Netlink first; no fd of the device may be open (EBUSY). */
	if ((e = attach_netlink(o->nbd_dev, bdev_size(rw), blksize, flags,
	    kside, &d)) == 0) {
		close(kside);
		if ((e = nbd_server_new(rw, &no, &srv, &d)) != 0) {
			report(rep, "ERR nbd server: %s", d.msg);
			_exit(1);
		}
		harden();
		report(rep, "OK %llu %d", (unsigned long long)bdev_size(rw),
		    uz);
		close(rep);
		serve(srv, rw, sside, o->persist_mnt);
	}
	if (e != ENOENT) {
		report(rep, "ERR %s: %s", o->nbd_dev, d.msg);
		_exit(1);
	}
	lri_log("nbd: %s; attaching %s with the NBD_DO_IT ioctl instead (a "
	    "shutdown that stops every process, as systemd's does, will "
	    "tear the root device down)", d.msg, o->nbd_dev);
	diag_clear(&d);
	if ((nbd = open(o->nbd_dev, O_RDWR | O_CLOEXEC)) < 0) {
		report(rep, "ERR cannot open %s: %s (is the nbd module in "
		    INITRAMFS_MODULES "?)", o->nbd_dev, strerror(errno));
		_exit(1);
	}
	if (ioctl(nbd, NBD_SET_BLKSIZE, (unsigned long)blksize) != 0 ||
	    ioctl(nbd, NBD_SET_SIZE_BLOCKS,
	    (unsigned long)(bdev_size(rw) / blksize)) != 0 ||
	    ioctl(nbd, NBD_SET_FLAGS, flags) != 0 ||
	    ioctl(nbd, NBD_SET_SOCK, (unsigned long)kside) != 0) {
		report(rep, "ERR %s: NBD setup ioctl failed: %s (device in "
		    "use?)", o->nbd_dev, strerror(errno));
		_exit(1);
	}
	close(kside);
	if ((e = nbd_server_new(rw, &no, &srv, &d)) != 0) {
		report(rep, "ERR nbd server: %s", d.msg);
		_exit(1);
	}
	harden();
	doit_fd = nbd;
	if ((e = pthread_create(&doit_th, NULL, doit_thread, NULL)) != 0) {
		report(rep, "ERR cannot start the NBD_DO_IT thread: %s",
		    strerror(e));
		_exit(1);
	}
	report(rep, "OK %llu %d", (unsigned long long)bdev_size(rw), uz);
	close(rep);
	serve(srv, rw, sside, o->persist_mnt);
}

/*
 * Larger requests on the NBD device: the kernel's nbd driver leaves
 * max_sectors_kb at 128 and read_ahead_kb at 128, where a loop device (what
 * dracut reads through) gets 1280; every request is a round trip to the
 * server, so sequential reads of the root ran at half of dracut's speed
 * (bench/liveio) until both were raised to 1 MiB (at most what the driver
 * allows: max_hw_sectors_kb).  Best effort: a failure only costs speed.
 */
static void
queue_tune(const char *name)
{
	static const char *const knob[] = { "max_sectors_kb",
	    "read_ahead_kb" };
	char path[96], val[32];
	unsigned long hw = 1024;
	size_t i;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/block/%s/queue/max_hw_sectors_kb",
	    name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if ((n = read(fd, val, sizeof(val) - 1)) > 0) {
			val[n] = '\0';
			hw = strtoul(val, NULL, 10);
		}
		close(fd);
	}
	if (hw == 0 || hw > 1024)
		hw = 1024;
	n = snprintf(val, sizeof(val), "%lu", hw);
	for (i = 0; i < sizeof(knob) / sizeof(knob[0]); i++) {
		snprintf(path, sizeof(path), "/sys/block/%s/queue/%s", name,
		    knob[i]);
		if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 ||
		    write(fd, val, (size_t)n) != n)
			lri_log("nbd: cannot set %s to %s KiB: %s", path, val,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
	}
}

int
lri_stack_start(struct bdev *img, const struct lri_stack_opts *o,
    pid_t *server, uint64_t *size, int *uzip, struct diag *d)
{
	char buf[640], pidpath[96];
	int rep[2], sv[2], e, st, i;
	unsigned long long sz;
	ssize_t n, got = 0;
	struct stat sb;
	const char *base;
	pid_t pid;

	if (pipe2(rep, O_CLOEXEC) != 0)
		return (diag_set(d, errno, "pipe: %s", strerror(errno)));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		e = errno;
		close(rep[0]);
		close(rep[1]);
		return (diag_set(d, e, "socketpair: %s", strerror(e)));
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		e = errno;
		close(rep[0]); close(rep[1]); close(sv[0]); close(sv[1]);
		return (diag_set(d, e, "fork: %s", strerror(e)));
	}
	if (pid == 0) {
		close(rep[0]);
		server_main(img, o, rep[1], sv[0], sv[1]);
		_exit(1);
	}
	/* PID 1 keeps neither end of the socketpair nor the image. */
	close(rep[1]);
	close(sv[0]);
	close(sv[1]);
	bdev_destroy(img);
	while ((size_t)got < sizeof(buf) - 1) {
		n = read(rep[0], buf + got, sizeof(buf) - 1 - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	close(rep[0]);
	if (strncmp(buf, "OK ", 3) != 0 ||
	    sscanf(buf + 3, "%llu %d", &sz, uzip) != 2) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			pid = 0;
		return (diag_set(d, EIO, "%s", strncmp(buf, "ERR ", 4) == 0 ?
		    buf + 4 : "the NBD server process died before it was "
		    "ready"));
	}
	*size = sz;
	*server = pid;
	/* NBD_DO_IT has started the device when the pid file appears. */
	base = strrchr(o->nbd_dev, '/');
	snprintf(pidpath, sizeof(pidpath), "/sys/block/%s/pid",
	    base ? base + 1 : o->nbd_dev);
	for (i = 0; i < 500; i++) {
		if (stat(pidpath, &sb) == 0) {
			queue_tune(base ? base + 1 : o->nbd_dev);
			return (0);
		}
		usleep(10 * 1000);
	}
	return (diag_set(d, ETIMEDOUT, "%s did not start within 5 s (no %s)",
	    o->nbd_dev, pidpath));
}
