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

static void
test_partition_file(void)
{
	struct bdev_extent part = { 0, 1 * MiB, 10 * MiB };
	struct fmt_extent in[] = { { 0, 4096 }, { 8192, 4096 } };
	struct bdev_extent *e;
	struct diag d;
	size_t n;

	CHECK_EQ(probe_compose(&part, 1, 10 * MiB, in, 2, 8000, 16 * MiB,
	    "f", &e, &n, &d), 0);
	CHECK_EQ(n, 2);
	if (n == 2) {
		CHECK_EQ(e[0].voff, 0);
		CHECK_EQ(e[0].loff, 1 * MiB);
		CHECK_EQ(e[0].len, 4096);
		CHECK_EQ(e[1].voff, 4096);
		CHECK_EQ(e[1].loff, 1 * MiB + 8192);
		CHECK_EQ(e[1].len, 8000 - 4096);
	}
	free(e);
}

static void
test_merge_adjacent(void)
{
	struct bdev_extent part = { 0, 2048, 1 * MiB };
	struct fmt_extent in[] = { { 4096, 4096 }, { 8192, 4096 },
	    { 12288, 100 } };
	struct bdev_extent *e;
	struct diag d;
	size_t n;

	CHECK_EQ(probe_compose(&part, 1, 1 * MiB, in, 3, 8292, 2 * MiB,
	    "f", &e, &n, &d), 0);
	CHECK_EQ(n, 1);
	if (n == 1) {
		CHECK_EQ(e[0].loff, 2048 + 4096);
		CHECK_EQ(e[0].len, 8292);
	}
	free(e);
}

/* An ISO in a fragmented file; the root image crosses both fragments. */
static void
test_two_level_split(void)
{
	/* The ISO file: 3 fragments on the disk, out of disk order. */
	struct bdev_extent iso[] = {
		{ 0, 50 * MiB, 1 * MiB },
		{ 1 * MiB, 10 * MiB, 1 * MiB },
		{ 2 * MiB, 30 * MiB, 1 * MiB },
	};
	/* The image inside the ISO: one run from 0.5 MiB to 2.5 MiB. */
	struct fmt_extent in = { MiB / 2, 2 * MiB };
	struct bdev_extent *e;
	struct diag d;
	size_t n;

	CHECK_EQ(probe_compose(iso, 3, 3 * MiB, &in, 1, 2 * MiB, 64 * MiB,
	    "rootfs.uzip", &e, &n, &d), 0);
	CHECK_EQ(n, 3);
	if (n == 3) {
		CHECK_EQ(e[0].voff, 0);
		CHECK_EQ(e[0].loff, 50 * MiB + MiB / 2);
		CHECK_EQ(e[0].len, MiB / 2);
		CHECK_EQ(e[1].voff, MiB / 2);
		CHECK_EQ(e[1].loff, 10 * MiB);
		CHECK_EQ(e[1].len, MiB);
		CHECK_EQ(e[2].voff, MiB / 2 + MiB);
		CHECK_EQ(e[2].loff, 30 * MiB);
		CHECK_EQ(e[2].len, MiB / 2);
	}
	free(e);
}

/* Multi-extent ISO file: runs not in container order are kept in file order. */
static void
test_multi_extent_order(void)
{
	struct bdev_extent whole = { 0, 0, 8 * MiB };
	struct fmt_extent in[] = { { 4 * MiB, MiB }, { 1 * MiB, MiB } };
	struct bdev_extent *e;
	struct diag d;
	size_t n;

	CHECK_EQ(probe_compose(&whole, 1, 8 * MiB, in, 2, 2 * MiB, 8 * MiB,
	    "f", &e, &n, &d), 0);
	CHECK_EQ(n, 2);
	if (n == 2) {
		CHECK_EQ(e[0].loff, 4 * MiB);
		CHECK_EQ(e[1].voff, MiB);
		CHECK_EQ(e[1].loff, 1 * MiB);
	}
	free(e);
}

static void
test_empty_file(void)
{
	struct bdev_extent whole = { 0, 0, MiB };
	struct bdev_extent *e;
	struct diag d;
	size_t n = 7;

	CHECK_EQ(probe_compose(&whole, 1, MiB, NULL, 0, 0, MiB, "f", &e, &n,
	    &d), 0);
	CHECK_EQ(n, 0);
	free(e);
}

static void
test_run_past_container_refused(void)
{
	struct bdev_extent part = { 0, 0, MiB };
	struct fmt_extent in = { MiB - 512, 1024 };
	struct bdev_extent *e;
	struct diag d;
	size_t n;

	diag_clear(&d);
	CHECK_EQ(probe_compose(&part, 1, MiB, &in, 1, 1024, 2 * MiB,
	    "live.iso", &e, &n, &d), EINVAL);
	CHECK_MSG(&d, "live.iso");
	CHECK_MSG(&d, "past the end");
	CHECK(e == NULL && n == 0);
}

static void
test_run_overflowing_offset_refused(void)
{
	struct bdev_extent part = { 0, 0, MiB };
	struct fmt_extent in = { UINT64_MAX - 10, 100 };
	struct bdev_extent *e;
	struct diag d;
	size_t n;

	CHECK_EQ(probe_compose(&part, 1, MiB, &in, 1, 100, 2 * MiB, "f", &e,
	    &n, &d), EINVAL);
	CHECK_MSG(&d, "past the end");
}

static void
test_run_in_container_hole_refused(void)
{
	struct bdev_extent iso[] = {
		{ 0, 0, MiB },
		{ 2 * MiB, 4 * MiB, MiB },	/* hole at [1, 2) MiB */
	};
	struct fmt_extent in = { MiB / 2, MiB };
	struct bdev_extent *e;
	struct diag d;
	size_t n;

	CHECK_EQ(probe_compose(iso, 2, 3 * MiB, &in, 1, MiB, 8 * MiB, "f",
	    &e, &n, &d), EINVAL);
	CHECK_MSG(&d, "hole");
}

static void
test_runs_shorter_than_file_refused(void)
{
	struct bdev_extent part = { 0, 0, MiB };
	struct fmt_extent in = { 0, 4096 };
	struct bdev_extent *e;
	struct diag d;
	size_t n;

	CHECK_EQ(probe_compose(&part, 1, MiB, &in, 1, 5000, MiB, "f", &e, &n,
	    &d), EINVAL);
	CHECK_MSG(&d, "cover 4096 of its 5000");
}

static void
test_container_outside_device_refused(void)
{
	struct bdev_extent part = { 0, 15 * MiB, 2 * MiB };
	struct fmt_extent in = { 0, 4096 };
	struct bdev_extent *e;
	struct diag d;
	size_t n;

	CHECK_EQ(probe_compose(&part, 1, 2 * MiB, &in, 1, 4096, 16 * MiB,
	    "f", &e, &n, &d), EINVAL);
	CHECK_MSG(&d, "outside the device");
}

static void
test_container_unsorted_refused(void)
{
	struct bdev_extent iso[] = {
		{ MiB, 0, MiB },
		{ 0, 4 * MiB, MiB },
	};
	struct fmt_extent in = { 0, 4096 };
	struct bdev_extent *e;
	struct diag d;
	size_t n;

	CHECK_EQ(probe_compose(iso, 2, 2 * MiB, &in, 1, 4096, 8 * MiB, "f",
	    &e, &n, &d), EINVAL);
	CHECK_MSG(&d, "out of order");
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
	test_partition_file();
	test_merge_adjacent();
	test_two_level_split();
	test_multi_extent_order();
	test_empty_file();
	test_run_past_container_refused();
	test_run_overflowing_offset_refused();
	test_run_in_container_hole_refused();
	test_runs_shorter_than_file_refused();
	test_container_outside_device_refused();
	test_container_unsorted_refused();
	test_random_against_model();
	return (t_done());
}
