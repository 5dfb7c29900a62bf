/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client.c - the one NBD load generator for bench/overlay/run.sh, so every
 * server (liveroot serve, nbdkit, qemu-nbd) is measured by the same client.
 * libnbd, asynchronous, a fixed queue depth; sequential or random (fixed
 * seed, block-aligned) reads or writes of one block size.
 *
 * usage: client URI seqread|randread|seqwrite|randwrite BS TOTAL [QD] [SEED]
 * prints: OP BS MiB/s IOPS ERRORS   (MiB/s = 2^20 bytes per second)
 * exit:   0 every request succeeded; 1 ERRORS requests (or the final flush)
 *         failed, the line printed all the same and the first failure on
 *         stderr; 2 it could not run (usage, connect, a request refused)
 *
 * A benchmark tool, not a test: it never asserts a timing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libnbd.h>

struct slot {
	struct slot	*next;
	uint8_t		*buf;
};

struct ctx {
	struct slot	*free;
	uint64_t	 errors;
	int		 first_err;	/* errno of the first failed request */
};

struct cb_arg {
	struct ctx	*c;
	struct slot	*s;
};

static int
on_done(void *user, int *error)
{
	struct cb_arg *a = user;

	if (*error != 0 && a->c->errors++ == 0)
		a->c->first_err = *error;
	a->s->next = a->c->free;
	a->c->free = a->s;
	return (1);	/* retire the command */
}

/* libnbd calls it exactly once per command, also when it was never issued */
static void
free_arg(void *user)
{
	free(user);
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 2685821657736338717ULL);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

int
main(int argc, char **argv)
{
	struct nbd_handle *h = NULL;
	struct ctx c = { NULL, 0, 0 };
	struct slot *slots = NULL;
	uint64_t bs, total, n, i, blocks, seed = 42, off;
	int64_t size;
	unsigned qd = 16, k;
	int rnd_mode, wr, rc = 2;
	double t0, t;

	if (argc < 5 || (strcmp(argv[2], "seqread") != 0 &&
	    strcmp(argv[2], "randread") != 0 &&
	    strcmp(argv[2], "seqwrite") != 0 &&
	    strcmp(argv[2], "randwrite") != 0)) {
		fprintf(stderr, "usage: client URI seqread|randread|seqwrite|"
		    "randwrite BS TOTAL [QD] [SEED]\n");
		return (2);
	}
	rnd_mode = strncmp(argv[2], "rand", 4) == 0;
	wr = strstr(argv[2], "write") != NULL;
	bs = strtoull(argv[3], NULL, 0);
	total = strtoull(argv[4], NULL, 0);
	if (argc > 5)
		qd = (unsigned)strtoul(argv[5], NULL, 0);
	if (argc > 6)
		seed = strtoull(argv[6], NULL, 0);
	if (bs == 0 || qd == 0 || qd > 1024 || total < bs) {
		fprintf(stderr, "client: BS must be > 0 and <= TOTAL, QD "
		    "1..1024\n");
		return (2);
	}
	if ((h = nbd_create()) == NULL || nbd_connect_uri(h, argv[1]) == -1) {
		fprintf(stderr, "client: %s\n", nbd_get_error());
		goto out;
	}
	if ((size = nbd_get_size(h)) < 0 || (uint64_t)size < bs) {
		fprintf(stderr, "client: export of %" PRId64 " bytes, smaller "
		    "than one block of %" PRIu64 "\n", size, bs);
		goto out;
	}
	blocks = (uint64_t)size / bs;
	n = total / bs;
	if ((slots = calloc(qd, sizeof(*slots))) == NULL) {
		perror("client");
		goto out;
	}
	for (k = 0; k < qd; k++) {
		if ((slots[k].buf = malloc(bs)) == NULL) {
			perror("client");
			goto out;
		}
		memset(slots[k].buf, 0x5a ^ k, bs);
		slots[k].next = c.free;
		c.free = &slots[k];
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		struct cb_arg *a;
		struct slot *s;
		int64_t cookie;

		while (c.free == NULL)
			if (nbd_poll(h, -1) == -1) {
				fprintf(stderr, "client: %s\n",
				    nbd_get_error());
				goto out;
			}
		s = c.free;
		c.free = s->next;
		off = rnd_mode ? (rnd(&seed) % blocks) * bs : (i % blocks) * bs;
		if ((a = malloc(sizeof(*a))) == NULL) {
			perror("client");
			goto out;
		}
		a->c = &c;
		a->s = s;
		nbd_completion_callback cb = { .callback = on_done,
		    .user_data = a, .free = free_arg };
		if (wr)
			cookie = nbd_aio_pwrite(h, s->buf, bs, off, cb, 0);
		else
			cookie = nbd_aio_pread(h, s->buf, bs, off, cb, 0);
		if (cookie == -1) {
			fprintf(stderr, "client: %s\n", nbd_get_error());
			goto out;
		}
	}
	while (nbd_aio_in_flight(h) > 0)
		if (nbd_poll(h, -1) == -1) {
			fprintf(stderr, "client: %s\n", nbd_get_error());
			goto out;
		}
	if (wr && nbd_flush(h, 0) == -1) {
		fprintf(stderr, "client: flush: %s\n", nbd_get_error());
		c.errors++;
	}
	t = now() - t0;
	if (c.first_err != 0)
		fprintf(stderr, "client: %" PRIu64 " of %" PRIu64 " %s "
		    "requests failed, the first with: %s\n", c.errors, n,
		    argv[2], strerror(c.first_err));
	printf("%s %" PRIu64 " %.1f %.0f %" PRIu64 "\n", argv[2], bs,
	    (double)(n * bs) / t / 1048576.0, (double)n / t, c.errors);
	nbd_shutdown(h, 0);
	rc = c.errors != 0;
out:
	if (h != NULL)
		nbd_close(h);	/* frees the arguments of commands in flight */
	if (slots != NULL)
		for (k = 0; k < qd; k++)
			free(slots[k].buf);
	free(slots);
	return (rc);
}
