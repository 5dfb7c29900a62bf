/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client.c - the one NBD load generator for bench/overlay/run.sh, so every
 * server (liveroot serve, nbdkit, qemu-nbd) is measured by the same client.
 * libnbd, asynchronous, a fixed queue depth; sequential or random (fixed
 * seed, block-aligned) reads or writes of one block size.
 *
 * usage: client URI seqread|randread|seqwrite|randwrite BS TOTAL [QD] [SEED]
 * prints: OP BS MB/s IOPS errors
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
};

struct cb_arg {
	struct ctx	*c;
	struct slot	*s;
};

static int
on_done(void *user, int *error)
{
	struct cb_arg *a = user;

	if (*error != 0)
		a->c->errors++;
	a->s->next = a->c->free;
	a->c->free = a->s;
	free(a);
	return (1);	/* retire the command */
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
	struct nbd_handle *h;
	struct ctx c = { NULL, 0 };
	struct slot *slots;
	uint64_t bs, total, n, i, blocks, seed = 42, off;
	int64_t size;
	unsigned qd = 16, k;
	int rnd_mode, wr;
	double t0, t;

	if (argc < 5) {
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
	if (bs == 0 || qd == 0 || qd > 1024)
		return (2);
	if ((h = nbd_create()) == NULL || nbd_connect_uri(h, argv[1]) == -1) {
		fprintf(stderr, "client: %s\n", nbd_get_error());
		return (2);
	}
	if ((size = nbd_get_size(h)) < 0 || (uint64_t)size < bs) {
		fprintf(stderr, "client: bad export size\n");
		return (2);
	}
	blocks = (uint64_t)size / bs;
	n = total / bs;
	slots = calloc(qd, sizeof(*slots));
	for (k = 0; k < qd; k++) {
		slots[k].buf = malloc(bs);
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
				return (2);
			}
		s = c.free;
		c.free = s->next;
		off = rnd_mode ? (rnd(&seed) % blocks) * bs : (i % blocks) * bs;
		a = malloc(sizeof(*a));
		a->c = &c;
		a->s = s;
		nbd_completion_callback cb = { .callback = on_done,
		    .user_data = a };
		if (wr)
			cookie = nbd_aio_pwrite(h, s->buf, bs, off, cb, 0);
		else
			cookie = nbd_aio_pread(h, s->buf, bs, off, cb, 0);
		if (cookie == -1) {
			fprintf(stderr, "client: %s\n", nbd_get_error());
			return (2);
		}
	}
	while (nbd_aio_in_flight(h) > 0)
		if (nbd_poll(h, -1) == -1)
			break;
	if (wr)
		(void)nbd_flush(h, 0);
	t = now() - t0;
	printf("%s %" PRIu64 " %.1f %.0f %" PRIu64 "\n", argv[2], bs,
	    (double)(n * bs) / t / 1048576.0, (double)n / t, c.errors);
	nbd_shutdown(h, 0);
	nbd_close(h);
	for (k = 0; k < qd; k++)
		free(slots[k].buf);
	free(slots);
	return (c.errors != 0);
}
