/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_compose.c - probe_compose on crafted maps: partition -> file -> file
 * in the ISO, merging, splitting across fragments, and the refusals (a run
 * past its container, a run in a hole of the container's map, runs shorter
 * than the file, a container map outside the device), plus a randomised
 * check against a byte-by-byte model.
 */
#include <stdlib.h>

#include <liveroot/locate.h>

#include "t.h"

#define MiB	(1024ULL * 1024)

/*
 * One file of a container (a partition, an ISO in fragments) composed onto
 * the device: the container's extents, the file's runs in the container,
 * the sizes, and then the extents wanted (n of them), or the error and
 * the messages wanted.
 */
struct compose_case {
	const char		*name;
	struct bdev_extent	 c[3];
	size_t			 nc;
	uint64_t		 csize;
	struct fmt_extent	 in[3];
	size_t			 nin;
	uint64_t		 fsize, devsize;
	int			 error;
	struct bdev_extent	 want[3];
	size_t			 n;
	const char		*msg[2];
};

static const struct compose_case cases[] = {
	/* partition_file */
	{ "part", { { 0, 1 * MiB, 10 * MiB } }, 1, 10 * MiB,
	    { { 0, 4096 }, { 8192, 4096 } }, 2, 8000, 16 * MiB, 0,
	    { { 0, 1 * MiB, 4096 }, { 4096, 1 * MiB + 8192, 8000 - 4096 } },
	    2, { NULL } },
	/* merge_adjacent */
	{ "merge", { { 0, 2048, 1 * MiB } }, 1, 1 * MiB,
	    { { 4096, 4096 }, { 8192, 4096 }, { 12288, 100 } }, 3, 8292,
	    2 * MiB, 0, { { 0, 2048 + 4096, 8292 } }, 1, { NULL } },
	/*
	 * two_level_split: an ISO in 3 fragments on the disk, out of disk
	 * order; the image inside it, one run from 0.5 MiB to 2.5 MiB,
	 * crosses both fragment boundaries.
	 */
	{ "rootfs.uzip", { { 0, 50 * MiB, 1 * MiB },
	    { 1 * MiB, 10 * MiB, 1 * MiB }, { 2 * MiB, 30 * MiB, 1 * MiB } },
	    3, 3 * MiB, { { MiB / 2, 2 * MiB } }, 1, 2 * MiB, 64 * MiB, 0,
	    { { 0, 50 * MiB + MiB / 2, MiB / 2 }, { MiB / 2, 10 * MiB, MiB },
	    { MiB / 2 + MiB, 30 * MiB, MiB / 2 } }, 3, { NULL } },
	/* multi_extent_order: runs not in container order stay in file order */
	{ "f", { { 0, 0, 8 * MiB } }, 1, 8 * MiB,
	    { { 4 * MiB, MiB }, { 1 * MiB, MiB } }, 2, 2 * MiB, 8 * MiB, 0,
	    { { 0, 4 * MiB, MiB }, { MiB, 1 * MiB, MiB } }, 2, { NULL } },
	/* empty_file */
	{ "f", { { 0, 0, MiB } }, 1, MiB, { { 0, 0 } }, 0, 0, MiB, 0,
	    { { 0, 0, 0 } }, 0, { NULL } },
	/* run_past_container_refused */
	{ "live.iso", { { 0, 0, MiB } }, 1, MiB, { { MiB - 512, 1024 } }, 1,
	    1024, 2 * MiB, EINVAL, { { 0, 0, 0 } }, 0,
	    { "live.iso", "past the end" } },
	/* run_overflowing_offset_refused */
	{ "f", { { 0, 0, MiB } }, 1, MiB, { { UINT64_MAX - 10, 100 } }, 1,
	    100, 2 * MiB, EINVAL, { { 0, 0, 0 } }, 0, { "past the end" } },
	/* run_in_container_hole_refused: a hole at [1, 2) MiB */
	{ "f", { { 0, 0, MiB }, { 2 * MiB, 4 * MiB, MiB } }, 2, 3 * MiB,
	    { { MiB / 2, MiB } }, 1, MiB, 8 * MiB, EINVAL, { { 0, 0, 0 } }, 0,
	    { "hole" } },
	/* runs_shorter_than_file_refused */
	{ "f", { { 0, 0, MiB } }, 1, MiB, { { 0, 4096 } }, 1, 5000, MiB,
	    EINVAL, { { 0, 0, 0 } }, 0, { "cover 4096 of its 5000" } },
	/* container_outside_device_refused */
	{ "f", { { 0, 15 * MiB, 2 * MiB } }, 1, 2 * MiB, { { 0, 4096 } }, 1,
	    4096, 16 * MiB, EINVAL, { { 0, 0, 0 } }, 0,
	    { "outside the device" } },
	/* container_unsorted_refused */
	{ "f", { { MiB, 0, MiB }, { 0, 4 * MiB, MiB } }, 2, 2 * MiB,
	    { { 0, 4096 } }, 1, 4096, 8 * MiB, EINVAL, { { 0, 0, 0 } }, 0,
	    { "out of order" } },
};

static void
test_cases(void)
{
	const struct compose_case *t;
	struct bdev_extent *e;
	struct diag d;
	size_t i, k, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = &cases[i];
		diag_clear(&d);
		n = 7;
		CHECK_EQ(probe_compose(t->c, t->nc, t->csize,
		    t->nin > 0 ? t->in : NULL, t->nin, t->fsize, t->devsize,
		    t->name, &e, &n, &d), t->error);
		CHECK_EQ(n, t->n);
		for (k = 0; k < t->n && k < n; k++) {
			CHECK_EQ(e[k].voff, t->want[k].voff);
			CHECK_EQ(e[k].loff, t->want[k].loff);
			CHECK_EQ(e[k].len, t->want[k].len);
		}
		for (k = 0; k < 2 && t->msg[k] != NULL; k++)
			CHECK_MSG(&d, t->msg[k]);
		if (t->error != 0)
			CHECK(e == NULL);
		else
			free(e);
	}
}

/*
 * Randomised: a container of B blocks scattered over the device by a random
 * permutation, a file made of random runs of the container; every byte of
 * the composed map must land where the byte-by-byte model says.
 */
static uint64_t
model_map(const struct bdev_extent *x, size_t n, uint64_t off)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (off >= x[i].voff && off < x[i].voff + x[i].len)
			return (x[i].loff + (off - x[i].voff));
	return (UINT64_MAX);
}

static void
test_random_against_model(void)
{
	enum { B = 32, BS = 64, NR = 12 };
	uint64_t seed = 0x10ca7e;
	int iter, bad = 0;

	for (iter = 0; iter < 300; iter++) {
		struct bdev_extent outer[B], *e;
		struct fmt_extent in[NR];
		unsigned perm[B];
		uint64_t fsz = 0, runs = 0, v;
		size_t i, n;
		struct diag d;

		for (i = 0; i < B; i++)
			perm[i] = (unsigned)i;
		for (i = B - 1; i > 0; i--) {
			size_t j = t_rand(&seed) % (i + 1);
			unsigned t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		for (i = 0; i < B; i++) {
			outer[i].voff = i * BS;
			outer[i].loff = 4096 + perm[i] * (uint64_t)BS * 2;
			outer[i].len = BS;
		}
		for (i = 0; i < NR; i++) {
			in[i].off = t_rand(&seed) % (B * BS - 1);
			in[i].len = 1 + t_rand(&seed) % (B * BS - in[i].off);
			runs += in[i].len;
		}
		fsz = runs - t_rand(&seed) % (in[NR - 1].len);
		if (probe_compose(outer, B, B * BS, in, NR, fsz, 4096 +
		    2 * B * BS, "r", &e, &n, &d) != 0) {
			bad++;
			continue;
		}
		/* Walk the file byte by byte against the model. */
		v = 0;
		for (i = 0; i < NR && v < fsz; i++) {
			uint64_t k;

			for (k = 0; k < in[i].len && v < fsz; k++, v++) {
				uint64_t want = model_map(outer, B,
				    in[i].off + k);
				uint64_t got = model_map(e, n, v);

				if (want != got)
					bad++;
			}
		}
		if (model_map(e, n, fsz) != UINT64_MAX)
			bad++;
		for (i = 1; i < n; i++)
			if (e[i - 1].loff + e[i - 1].len == e[i].loff)
				bad++;		/* should have been merged */
		free(e);
	}
	CHECK_EQ(bad, 0);
}

int
main(void)
{
	test_cases();
	test_random_against_model();
	return (t_done());
}
