/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * httpbd.c - bdev_http (http.h) from the command line, for http_bdev.sh:
 *
 *   httpbd [-c CONNS] [-r READ_S] [-C CA_FILE] [-v] URL info
 *	open, print "size N", "etag E", "last-modified L", "redirects N"
 *   httpbd ... URL compare FILE NREADS THREADS SEED
 *	open, then THREADS threads each read NREADS random ranges (some at
 *	the end of the file, some of one byte, up to 256 KiB) and compare
 *	them with FILE; the first byte, the last byte and the whole file
 *	too.  Prints "ok reads R asked A bytes B requests Q retries X".
 *   httpbd ... URL wait FLAG OFF LEN
 *	open, print "open", wait (30 s at most) until the file FLAG exists,
 *	then read LEN bytes at OFF twice, each time printing "read ok" or
 *	"read ERRNAME: message".
 *
 * An error of open prints "httpbd: ERRNAME: message" on stderr, exit 1; a
 * mismatch or a failed read in compare exits 1 too.  -v logs the device's
 * log lines on stderr ("log: ...").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <liveroot/http.h>

#define MAXREAD	(256 * 1024)

static const char *
ename(int e)
{
	static const struct { int e; const char *n; } t[] = {
		{ ENOTSUP, "ENOTSUP" }, { ENOENT, "ENOENT" },
		{ ESTALE, "ESTALE" }, { EIO, "EIO" }, { EPROTO, "EPROTO" },
		{ EACCES, "EACCES" }, { ELOOP, "ELOOP" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { EINVAL, "EINVAL" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return (t[i].n);
	return ("E?");
}

static void
log_cb(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "log: %s\n", msg);
}

static struct bdev *dev;
static uint8_t *ref;
static uint64_t size;
static unsigned nreads;
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static uint64_t asked, done_reads;
static int bad;

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 2685821657736338717ULL);
}

static int
check_read(uint8_t *buf, uint64_t off, uint64_t len)
{
	struct diag d;
	int e;

	diag_clear(&d);
	if ((e = bdev_read(dev, buf, (size_t)len, off, &d)) != 0) {
		fprintf(stderr, "httpbd: read %ju+%ju: %s: %s\n",
		    (uintmax_t)off, (uintmax_t)len, ename(e), d.msg);
		return (-1);
	}
	if (memcmp(buf, ref + off, (size_t)len) != 0) {
		fprintf(stderr, "httpbd: read %ju+%ju: the bytes differ from "
		    "the file\n", (uintmax_t)off, (uintmax_t)len);
		return (-1);
	}
	pthread_mutex_lock(&mtx);
	asked += len;
	done_reads++;
	pthread_mutex_unlock(&mtx);
	return (0);
}

static void *
worker(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
	uint64_t off, len, max;
	uint8_t *buf = malloc(MAXREAD);
	unsigned i;

	if (buf == NULL)
		abort();
	for (i = 0; i < nreads; i++) {
		max = size < MAXREAD ? size : MAXREAD;
		switch (rnd(&s) % 8) {
		case 0:		/* at the end */
			len = 1 + rnd(&s) % max;
			off = size - len;
			break;
		case 1:		/* one byte */
			len = 1;
			off = rnd(&s) % size;
			break;
		default:
			off = rnd(&s) % size;
			max = size - off < max ? size - off : max;
			len = 1 + rnd(&s) % max;
			break;
		}
		if (check_read(buf, off, len) != 0) {
			pthread_mutex_lock(&mtx);
			bad = 1;
			pthread_mutex_unlock(&mtx);
			break;
		}
	}
	free(buf);
	return (NULL);
}

static int
load(const char *path)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) != 0) {
		perror(path);
		return (-1);
	}
	size = (uint64_t)st.st_size;
	if ((ref = malloc(size ? size : 1)) == NULL)
		return (-1);
	while (got < size) {
		if ((n = read(fd, ref + got, size - got)) <= 0) {
			perror(path);
			return (-1);
		}
		got += (size_t)n;
	}
	close(fd);
	return (0);
}

static int
compare(char **av)
{
	struct bdev_http_stats st;
	pthread_t th[64];
	unsigned nt, i;
	uint8_t *all;
	uint64_t seed;

	if (load(av[0]) != 0)
		return (1);
	nreads = (unsigned)strtoul(av[1], NULL, 10);
	nt = (unsigned)strtoul(av[2], NULL, 10);
	seed = strtoull(av[3], NULL, 10);
	if (nt == 0 || nt > 64 || size == 0)
		return (1);
	if (bdev_size(dev) != size) {
		fprintf(stderr, "httpbd: size %ju, the file has %ju\n",
		    (uintmax_t)bdev_size(dev), (uintmax_t)size);
		return (1);
	}
	if ((all = malloc(size)) == NULL)
		return (1);
	if (check_read(all, 0, 1) != 0 || check_read(all, size - 1, 1) != 0 ||
	    check_read(all, 0, size) != 0)
		return (1);
	free(all);
	for (i = 0; i < nt; i++)
		if (pthread_create(&th[i], NULL, worker,
		    (void *)(uintptr_t)(seed * 64 + i)) != 0)
			return (1);
	for (i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	if (bad)
		return (1);
	bdev_http_stats(dev, &st);
	printf("ok reads %ju asked %ju bytes %ju requests %ju retries %ju "
	    "failed %ju\n", (uintmax_t)done_reads, (uintmax_t)asked,
	    (uintmax_t)st.bytes, (uintmax_t)st.requests,
	    (uintmax_t)st.retries, (uintmax_t)st.failed);
	free(ref);
	return (0);
}

static int
wait_read(char **av)
{
	struct diag d;
	uint64_t off = strtoull(av[1], NULL, 10), len = strtoull(av[2], NULL,
	    10);
	uint8_t *buf;
	int i, e;

	printf("open\n");
	fflush(stdout);
	for (i = 0; access(av[0], F_OK) != 0; i++) {
		if (i > 600)
			return (1);
		usleep(50000);
	}
	if (len == 0 || (buf = malloc(len)) == NULL)
		return (1);
	for (i = 0; i < 2; i++) {
		diag_clear(&d);
		if ((e = bdev_read(dev, buf, (size_t)len, off, &d)) == 0)
			printf("read ok\n");
		else
			printf("read %s: %s\n", ename(e), d.msg);
	}
	free(buf);
	return (0);
}

int
main(int argc, char **argv)
{
	struct bdev_http_opts o;
	struct bdev_http_info info;
	struct diag d;
	int c, e, r;

	memset(&o, 0, sizeof(o));
	while ((c = getopt(argc, argv, "c:r:C:v")) != -1)
		switch (c) {
		case 'C':
			o.ca_file = optarg;
			break;
		case 'c':
			o.connections = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			o.read_s = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'v':
			o.log = log_cb;
			break;
		default:
			return (2);
		}
	argc -= optind;
	argv += optind;
	if (argc < 2) {
		fprintf(stderr, "usage: httpbd [-c N] [-r S] [-C CA] [-v] URL "
		    "info|compare|wait ...\n");
		return (2);
	}
	o.url = argv[0];
	o.backoff_ms = 50;
	diag_clear(&d);
	if ((e = bdev_http_open(&o, &dev, &d)) != 0) {
		fprintf(stderr, "httpbd: %s: %s\n", ename(e), d.msg);
		return (1);
	}
	if (strcmp(argv[1], "info") == 0) {
		bdev_http_info(dev, &info);
		printf("size %ju\netag %s\nlast-modified %s\nredirects %u\n"
		    "url %s\nblksize %u\nreadonly %d\n", (uintmax_t)info.size,
		    info.etag, info.last_modified, info.redirects, info.url,
		    dev->blksize, dev->readonly);
		r = 0;
	} else if (strcmp(argv[1], "compare") == 0 && argc == 6)
		r = compare(argv + 2);
	else if (strcmp(argv[1], "wait") == 0 && argc == 5)
		r = wait_read(argv + 2);
	else
		r = 2;
	bdev_destroy(dev);
	return (r);
}
