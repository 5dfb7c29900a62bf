/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replay.c - one client of bench/fleet/run.sh: replays a recorded boot read
 * trace against an NBD export (libnbd, asynchronous, a fixed queue depth,
 * the reads issued in the order of the trace) and says how long it took.
 *
 * usage: fleet_replay URI TRACE [QD [REF]]
 *   URI    an NBD URI, e.g. nbd+unix:///?socket=/tmp/x.sock
 *   TRACE  one read a line, "OFFSET LENGTH" in decimal bytes (what the
 *          guest kernel read from /dev/nbd0 during a boot, in order);
 *          empty lines and lines starting with '#' are skipped
 *   QD     reads in flight at once (default 4, 1..64)
 *   REF    a file holding what the export should read (the image
 *          extracted): every read is compared with it, and a read that
 *          differs counts as failed ("mismatches N" is added to the line)
 * prints: reads N bytes N seconds S errors N
 * exit:   0 every read succeeded; 1 some failed (the line is printed all
 *         the same, the first failure on stderr); 2 it could not run
 *         (usage, the trace, connect, a read past the export's end)
 *
 * A read longer than 4 MiB is split; buffers are allocated once.  A
 * benchmark tool, not a test: it never asserts a timing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libnbd.h>

#define REPLAY_MAXREQ	(4u << 20)
#define REPLAY_MAXQD	64

struct req {
	uint64_t	off;
	uint32_t	len;
};

struct slot {
	struct slot	*next;
	uint8_t		*buf;
};

struct ctx {
	struct slot	*free;
	uint64_t	 errors;
	uint64_t	 mismatches;
	int		 first_err;
	FILE		*ref;
	uint8_t		*refbuf;
};

struct cb_arg {
	struct ctx	*c;
	struct slot	*s;
	uint64_t	 off;
	uint32_t	 len;
};

static int
on_done(void *user, int *error)
{
	struct cb_arg *a = user;
	struct ctx *c = a->c;

	if (*error != 0 && c->errors++ == 0)
		c->first_err = *error;
	if (*error == 0 && c->ref != NULL && (fseeko(c->ref, (off_t)a->off,
	    SEEK_SET) != 0 || fread(c->refbuf, 1, a->len, c->ref) != a->len ||
	    memcmp(c->refbuf, a->s->buf, a->len) != 0)) {
		if (c->mismatches++ == 0)
			fprintf(stderr, "fleet_replay: bytes %" PRIu64 "+%"
			    PRIu32 " differ from the reference file\n", a->off,
			    a->len);
		if (c->errors++ == 0)
			c->first_err = EIO;
	}
	a->s->next = a->c->free;
	a->c->free = a->s;
	return (1);
}

static void
free_arg(void *user)
{
	free(user);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* The trace as requests of at most REPLAY_MAXREQ; 0 or an errno. */
static int
load_trace(const char *path, struct req **out, size_t *n)
{
	FILE *f;
	char line[256];
	struct req *v = NULL, *nv;
	size_t cap = 0, cnt = 0;
	unsigned long lineno = 0;
	uint64_t off, len;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "fleet_replay: %s: %s\n", path, strerror(errno));
		return (errno);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%" SCNu64 " %" SCNu64, &off, &len) != 2 ||
		    len == 0 || off > INT64_MAX || len > INT64_MAX - off) {
			fprintf(stderr, "fleet_replay: %s:%lu: not \"OFFSET "
			    "LENGTH\" in bytes: %s", path, lineno, line);
			fclose(f);
			free(v);
			return (EINVAL);
		}
		while (len > 0) {
			uint32_t l = len > REPLAY_MAXREQ ? REPLAY_MAXREQ :
			    (uint32_t)len;

			if (cnt == cap) {
				cap = cap ? cap * 2 : 1024;
				if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
					fclose(f);
					free(v);
					return (ENOMEM);
				}
				v = nv;
			}
			v[cnt].off = off;
			v[cnt].len = l;
			cnt++;
			off += l;
			len -= l;
		}
	}
	fclose(f);
	if (cnt == 0) {
		fprintf(stderr, "fleet_replay: %s: no reads in the trace\n",
		    path);
		free(v);
		return (EINVAL);
	}
	*out = v;
	*n = cnt;
	return (0);
}

int
main(int argc, char **argv)
{
	struct nbd_handle *h;
	struct ctx c = { NULL, 0, 0, 0, NULL, NULL };
	struct slot slots[REPLAY_MAXQD];
	struct req *v = NULL;
	size_t n = 0, i;
	uint64_t bytes = 0;
	int64_t size;
	long qd = 4;
	char *end;
	double t0, t1;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: fleet_replay URI TRACE [QD [REF]]\n");
		return (2);
	}
	if (argc == 5) {
		if ((c.ref = fopen(argv[4], "r")) == NULL ||
		    (c.refbuf = malloc(REPLAY_MAXREQ)) == NULL) {
			fprintf(stderr, "fleet_replay: %s: %s\n", argv[4],
			    strerror(errno));
			return (2);
		}
	}
	if (argc >= 4) {
		errno = 0;
		qd = strtol(argv[3], &end, 10);
		if (errno != 0 || *end != '\0' || qd < 1 || qd > REPLAY_MAXQD) {
			fprintf(stderr, "fleet_replay: QD '%s': 1..%d\n",
			    argv[3], REPLAY_MAXQD);
			return (2);
		}
	}
	if (load_trace(argv[2], &v, &n) != 0)
		return (2);
	if ((h = nbd_create()) == NULL) {
		fprintf(stderr, "fleet_replay: %s\n", nbd_get_error());
		return (2);
	}
	t0 = now();
	if (nbd_connect_uri(h, argv[1]) == -1) {
		fprintf(stderr, "fleet_replay: %s: %s\n", argv[1],
		    nbd_get_error());
		nbd_close(h);
		return (2);
	}
	if ((size = nbd_get_size(h)) < 0) {
		fprintf(stderr, "fleet_replay: %s\n", nbd_get_error());
		nbd_close(h);
		return (2);
	}
	for (i = 0; i < n; i++) {
		if (v[i].off + v[i].len > (uint64_t)size) {
			fprintf(stderr, "fleet_replay: the trace reads %" PRIu64
			    "+%" PRIu32 ", past the export's end (%" PRId64
			    " bytes): a trace of another image?\n", v[i].off,
			    v[i].len, size);
			nbd_close(h);
			free(v);
			return (2);
		}
	}
	for (i = 0; i < (size_t)qd; i++) {
		if ((slots[i].buf = malloc(REPLAY_MAXREQ)) == NULL) {
			fprintf(stderr, "fleet_replay: out of memory\n");
			return (2);
		}
		slots[i].next = c.free;
		c.free = &slots[i];
	}
	for (i = 0; i < n; i++) {
		struct cb_arg *a;

		while (c.free == NULL) {
			if (nbd_poll(h, -1) == -1) {
				fprintf(stderr, "fleet_replay: %s\n",
				    nbd_get_error());
				return (2);
			}
		}
		if ((a = malloc(sizeof(*a))) == NULL) {
			fprintf(stderr, "fleet_replay: out of memory\n");
			return (2);
		}
		a->c = &c;
		a->off = v[i].off;
		a->len = v[i].len;
		a->s = c.free;
		c.free = c.free->next;
		if (nbd_aio_pread(h, a->s->buf, v[i].len, v[i].off,
		    (nbd_completion_callback){ .callback = on_done,
		    .user_data = a, .free = free_arg }, 0) == -1) {
			fprintf(stderr, "fleet_replay: pread %" PRIu64 "+%"
			    PRIu32 ": %s\n", v[i].off, v[i].len,
			    nbd_get_error());
			return (2);
		}
		bytes += v[i].len;
	}
	while (nbd_aio_in_flight(h) > 0) {
		if (nbd_poll(h, -1) == -1) {
			fprintf(stderr, "fleet_replay: %s\n", nbd_get_error());
			return (2);
		}
	}
	t1 = now();
	printf("reads %zu bytes %" PRIu64 " seconds %.3f errors %" PRIu64,
	    n, bytes, t1 - t0, c.errors);
	if (c.ref != NULL)
		printf(" mismatches %" PRIu64, c.mismatches);
	printf("\n");
	if (c.errors > 0)
		fprintf(stderr, "fleet_replay: %" PRIu64 " reads failed, the "
		    "first: %s\n", c.errors, strerror(c.first_err));
	nbd_shutdown(h, 0);
	nbd_close(h);
	for (i = 0; i < (size_t)qd; i++)
		free(slots[i].buf);
	free(v);
	if (c.ref != NULL)
		fclose(c.ref);
	free(c.refbuf);
	return (c.errors > 0 ? 1 : 0);
}
