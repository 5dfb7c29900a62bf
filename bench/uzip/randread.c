/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * randread.c - random 4 KiB reads through bdev_uzip (file -> uzip), for
 * bench/uzip/run.sh.  Fixed seed, so every run reads the same offsets.
 * Two patterns: "uniform" over the whole device, and "hot" (90% of the
 * reads in the first 10% of the device, the rest uniform), each from T
 * threads.  Prints one line per pattern: reads/s, the cache hit rate
 * (hits / (hits + misses); zero clusters counted apart) and the number of
 * failed reads, the first failure's message on stderr.  Not a test.
 *
 * usage: uzip_randread IMAGE [reads [threads [workers [cache_clusters]]]]
 * prints: PATTERN N reads T threads W workers R reads/s hit H% (cache C
 *         clusters, Z zero) errors E
 * exit:   0 no read failed, 1 some reads failed (lines printed), 2 it could
 *         not run (usage, open, thread)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <liveroot/bdev.h>
#include <liveroot/uzip.h>

struct rr {
	struct bdev	*b;
	uint64_t	 seed;
	long		 n;
	int		 hot;
	long		 errors;
	struct diag	 first;		/* the first failure */
};

static uint64_t
rr_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 2685821657736338717ULL);
}

static void *
rr_run(void *arg)
{
	struct rr *r = arg;
	struct diag d;
	uint8_t buf[4096];
	uint64_t pages = r->b->size / 4096, p;
	long i;

	for (i = 0; i < r->n; i++) {
		if (r->hot && rr_rand(&r->seed) % 10 != 0)
			p = rr_rand(&r->seed) % (pages / 10 + 1);
		else
			p = rr_rand(&r->seed) % pages;
		if (bdev_read(r->b, buf, sizeof(buf), p * 4096, &d) != 0 &&
		    r->errors++ == 0)
			r->first = d;
	}
	return (NULL);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

int
main(int argc, char **argv)
{
	struct bdev_uzip_opts uo = { 0, 1 };
	struct bdev_uzip_stats st;
	struct bdev *f, *u;
	struct rr r[64];
	pthread_t t[64];
	struct diag d;
	long reads = argc > 2 ? atol(argv[2]) : 20000, errors, total = 0;
	int threads = argc > 3 ? atoi(argv[3]) : 1, i, hot, n;
	double t0, el, hr;

	if (argc < 2 || threads < 1 || threads > 64 || reads < threads) {
		fprintf(stderr, "usage: uzip_randread IMAGE [reads [threads "
		    "[workers [cache_clusters]]]]\n");
		return (2);
	}
	uo.workers = argc > 4 ? (unsigned)atoi(argv[4]) : 1;
	uo.cache_clusters = argc > 5 ? (unsigned)atoi(argv[5]) : 0;
	for (hot = 0; hot <= 1; hot++) {
		if (bdev_file_open(argv[1], BDEV_FILE_RDONLY, 0, &f, &d) != 0) {
			fprintf(stderr, "uzip_randread: %s\n", d.msg);
			return (2);
		}
		if (bdev_uzip_new(f, &uo, &u, &d) != 0) {
			fprintf(stderr, "uzip_randread: %s\n", d.msg);
			bdev_destroy(f);
			return (2);
		}
		if (u->size < 4096) {
			fprintf(stderr, "uzip_randread: %s: device of %ju "
			    "bytes, less than one 4 KiB read\n", argv[1],
			    (uintmax_t)u->size);
			bdev_destroy(u);
			return (2);
		}
		t0 = now();
		for (i = 0; i < threads; i++) {
			r[i] = (struct rr){ u, 0x5eed0000u + (uint64_t)i,
			    reads / threads, hot, 0, { 0, "" } };
			if ((n = pthread_create(&t[i], NULL, rr_run,
			    &r[i])) != 0) {
				fprintf(stderr, "uzip_randread: thread: %s\n",
				    strerror(n));
				while (i-- > 0)
					pthread_join(t[i], NULL);
				bdev_destroy(u);
				return (2);
			}
		}
		errors = 0;
		for (i = 0; i < threads; i++) {
			pthread_join(t[i], NULL);
			if (r[i].errors != 0 && errors == 0)
				fprintf(stderr, "uzip_randread: %s read "
				    "failed: %s\n", hot ? "hot" : "uniform",
				    r[i].first.msg);
			errors += r[i].errors;
		}
		total += errors;
		el = now() - t0;
		bdev_uzip_stats(u, &st);
		hr = st.hits + st.misses ? 100.0 * st.hits /
		    (double)(st.hits + st.misses) : 0.0;
		printf("%s %ld reads %d threads %u workers %.0f reads/s "
		    "hit %.1f%% (cache %u clusters, %ju zero) errors %ld\n",
		    hot ? "hot" : "uniform", reads / threads * threads, threads,
		    uo.workers, (double)(reads / threads * threads) / el, hr,
		    st.cache_clusters, (uintmax_t)st.zero, errors);
		bdev_destroy(u);
	}
	return (total != 0 ? 1 : 0);
}
