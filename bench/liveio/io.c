/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/liveio/io.c - the I/O workloads of bench/liveio, run inside the
 * booted live system by its init (bench/liveio/init.sh), and the generator
 * of the root's test files, run on the host.  Built static by run.sh (the
 * live root is a bare Debian minbase, no compiler in it), so it uses libc
 * only.
 *
 *   io gen FILE MIB mixed|random   write FILE: per MiB random, text, zeros,
 *                                  text (mixed, about 2:1 for zstd), or all
 *                                  random (incompressible)
 *   io seqread FILE                read FILE with 1 MiB read()s
 *   io randread FILE N SEED        N 4 KiB pread()s at random 4 KiB-aligned
 *                                  offsets of FILE (queue depth 1)
 *   io seqwrite FILE MIB           create FILE, 1 MiB write()s of random
 *                                  data, fsync, sync
 *   io randwrite FILE N SEED       N 4 KiB pwrite()s at random aligned
 *                                  offsets inside the existing FILE, fsync,
 *                                  sync
 *
 * Each workload prints one line
 *   LIVEIO-RESULT op=OP bytes=B ops=N secs=S errors=E
 * where secs is the wall time (CLOCK_MONOTONIC) of the whole workload,
 * the final fsync and sync included, and errors counts failed or short
 * calls (the workload goes on after one, so the count is complete).  The
 * random offsets come from a fixed-seed xorshift, so both live systems
 * read and write the same blocks.  Exit 0 when errors is 0, else 1; 2 on
 * a usage or open error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB	(1024 * 1024)
#define BLK	4096

static uint64_t rng;

static uint64_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng);
}

static void
fill_random(unsigned char *p, size_t len)
{
	uint64_t v;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		v = xorshift();
		memcpy(p + i, &v, 8);
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static int
usage(void)
{
	fprintf(stderr, "usage: io gen FILE MIB mixed|random\n"
	    "       io seqread FILE\n"
	    "       io randread FILE N SEED\n"
	    "       io seqwrite FILE MIB\n"
	    "       io randwrite FILE N SEED\n");
	return (2);
}

static int
report(const char *op, uint64_t bytes, uint64_t ops, double t0,
    uint64_t errors)
{
	printf("LIVEIO-RESULT op=%s bytes=%llu ops=%llu secs=%.6f errors=%llu\n",
	    op, (unsigned long long)bytes, (unsigned long long)ops,
	    now() - t0, (unsigned long long)errors);
	fflush(stdout);
	return (errors == 0 ? 0 : 1);
}

static int
open_or_say(const char *path, int flags)
{
	int fd;

	if ((fd = open(path, flags, 0644)) < 0)
		fprintf(stderr, "io: %s: %s\n", path, strerror(errno));
	return (fd);
}

static int
gen(const char *path, long mib, const char *kind)
{
	static const char line[] = "line of the liveio benchmark root, some "
	    "text that compresses like a text file does\n";
	unsigned char *buf;
	long i;
	size_t o;
	int fd, random_only;

	random_only = strcmp(kind, "random") == 0;
	if (!random_only && strcmp(kind, "mixed") != 0)
		return (usage());
	/* two seeds: no MiB of one file repeats in the other */
	rng = random_only ? 0x2545f4914f6cdd1dULL : 0x9e3779b97f4a7c15ULL;
	if ((buf = malloc(MIB)) == NULL)
		return (2);
	if ((fd = open_or_say(path, O_WRONLY | O_CREAT | O_TRUNC)) < 0)
		return (2);
	for (i = 0; i < mib; i++) {
		switch (random_only ? 0 : i % 4) {
		case 0:
			fill_random(buf, MIB);
			break;
		case 2:
			memset(buf, 0, MIB);
			break;
		default:
			for (o = 0; o < MIB; o++)
				buf[o] = (unsigned char)line[(o + (size_t)i) %
				    (sizeof(line) - 1)];
			break;
		}
		if (write(fd, buf, MIB) != MIB) {
			fprintf(stderr, "io: writing %s: %s\n", path,
			    strerror(errno));
			return (2);
		}
	}
	if (close(fd) != 0) {
		fprintf(stderr, "io: closing %s: %s\n", path, strerror(errno));
		return (2);
	}
	free(buf);
	return (0);
}

static int
seqread(const char *path)
{
	unsigned char *buf;
	uint64_t bytes = 0, ops = 0, errors = 0;
	ssize_t n;
	double t0;
	int fd;

	if ((buf = malloc(MIB)) == NULL)
		return (2);
	if ((fd = open_or_say(path, O_RDONLY)) < 0)
		return (2);
	t0 = now();
	for (;;) {
		n = read(fd, buf, MIB);
		if (n == 0)
			break;
		if (n < 0) {
			errors++;
			if (lseek(fd, MIB, SEEK_CUR) < 0)
				break;
			continue;
		}
		bytes += (uint64_t)n;
		ops++;
	}
	close(fd);
	free(buf);
	return (report("seqread", bytes, ops, t0, errors));
}

/* randread and randwrite: N 4 KiB blocks at random aligned offsets of FILE */
static int
randio(const char *path, long n, const char *seed, int wr)
{
	unsigned char buf[BLK];
	uint64_t blocks, bytes = 0, errors = 0, off;
	struct stat st;
	double t0;
	long i;
	int fd;

	if (n <= 0)
		return (usage());
	rng = strtoull(seed, NULL, 0) | 1;
	if ((fd = open_or_say(path, wr ? O_WRONLY : O_RDONLY)) < 0)
		return (2);
	if (fstat(fd, &st) != 0 || st.st_size < BLK) {
		fprintf(stderr, "io: %s: not a file of at least 4 KiB\n", path);
		return (2);
	}
	blocks = (uint64_t)st.st_size / BLK;
	fill_random(buf, sizeof(buf));
	t0 = now();
	for (i = 0; i < n; i++) {
		off = xorshift() % blocks * BLK;
		if ((wr ? pwrite(fd, buf, BLK, (off_t)off) :
		    pread(fd, buf, BLK, (off_t)off)) != BLK)
			errors++;
		else
			bytes += BLK;
		buf[0]++;
	}
	if (wr) {
		if (fsync(fd) != 0)
			errors++;
		sync();
	}
	close(fd);
	return (report(wr ? "randwrite" : "randread", bytes, (uint64_t)n, t0,
	    errors));
}

static int
seqwrite(const char *path, long mib)
{
	unsigned char *buf;
	uint64_t bytes = 0, errors = 0;
	double t0;
	long i;
	int fd;

	if (mib <= 0)
		return (usage());
	if ((buf = malloc(MIB)) == NULL)
		return (2);
	rng = 0xd1b54a32d192ed03ULL;
	fill_random(buf, MIB);
	t0 = now();
	if ((fd = open_or_say(path, O_WRONLY | O_CREAT | O_TRUNC)) < 0)
		return (2);
	for (i = 0; i < mib; i++) {
		buf[i % MIB]++;
		if (write(fd, buf, MIB) != MIB)
			errors++;
		else
			bytes += MIB;
	}
	if (fsync(fd) != 0)
		errors++;
	if (close(fd) != 0)
		errors++;
	sync();
	free(buf);
	return (report("seqwrite", bytes, (uint64_t)mib, t0, errors));
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "gen") == 0)
		return (gen(argv[2], atol(argv[3]), argv[4]));
	if (argc == 3 && strcmp(argv[1], "seqread") == 0)
		return (seqread(argv[2]));
	if (argc == 5 && strcmp(argv[1], "randread") == 0)
		return (randio(argv[2], atol(argv[3]), argv[4], 0));
	if (argc == 5 && strcmp(argv[1], "randwrite") == 0)
		return (randio(argv[2], atol(argv[3]), argv[4], 1));
	if (argc == 4 && strcmp(argv[1], "seqwrite") == 0)
		return (seqwrite(argv[2], atol(argv[3])));
	return (usage());
}
