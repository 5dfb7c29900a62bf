/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replay.c - the plain driver linked with each fuzz target when libFuzzer is
 * not used: it feeds every file of the corpus directories given on the
 * command line to LLVMFuzzerTestOneInput, then a fixed number of
 * deterministic mutations of each (bit flips, byte sets, truncations,
 * interesting integers), so every test run also exercises nearby inputs.
 * Under ASan+UBSan a crash fails the test.  Prints "N passed, N failed".
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 2685821657736338717ULL);
}

static void
mutate(uint8_t *b, size_t *len, uint64_t *s)
{
	static const uint32_t interesting[] = { 0, 1, 0x7f, 0x80, 0xff, 0x100,
	    0x200, 0x800, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff,
	    0x80000000, 0xfffffffe, 0xffffffff };
	int k, n = 1 + (int)(rnd(s) % 4);
	size_t p;

	for (k = 0; k < n && *len > 0; k++) {
		p = rnd(s) % *len;
		switch (rnd(s) % 5) {
		case 0:
			b[p] ^= (uint8_t)(1u << (rnd(s) % 8));
			break;
		case 1:
			b[p] = (uint8_t)rnd(s);
			break;
		case 2:
			*len = p + 1;
			break;
		case 3: {
			uint32_t v = interesting[rnd(s) % 16];
			size_t w = (rnd(s) & 1) ? 4 : 2, i;

			for (i = 0; i < w && p + i < *len; i++)
				b[p + i] = (uint8_t)(v >> (8 * ((rnd(s) & 1) ?
				    i : w - 1 - i)));
			break;
		}
		default:
			b[p] = 0;
			break;
		}
	}
}

static int
run_file(const char *path, long mutations, long *runs)
{
	uint8_t *data, *m;
	FILE *f;
	long sz, i;
	size_t len;
	uint64_t s;

	if ((f = fopen(path, "rb")) == NULL)
		return (-1);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc(sz > 0 ? (size_t)sz : 1);
	m = malloc(sz > 0 ? (size_t)sz : 1);
	if (data == NULL || m == NULL ||
	    fread(data, 1, (size_t)sz, f) != (size_t)sz) {
		fclose(f);
		free(data);
		free(m);
		return (-1);
	}
	fclose(f);
	/* An exact-size copy, so ASan sees a one-byte over-read. */
	memcpy(m, data, (size_t)sz);
	LLVMFuzzerTestOneInput(m, (size_t)sz);
	(*runs)++;
	s = 0x9e3779b97f4a7c15ULL ^ (uint64_t)sz;
	for (i = 0; i < mutations && sz > 0; i++) {
		uint8_t *x;

		len = (size_t)sz;
		memcpy(m, data, len);
		mutate(m, &len, &s);
		if ((x = malloc(len ? len : 1)) == NULL)
			break;
		memcpy(x, m, len);
		LLVMFuzzerTestOneInput(x, len);
		free(x);
		(*runs)++;
	}
	free(data);
	free(m);
	return (0);
}

int
main(int argc, char **argv)
{
	long runs = 0, files = 0, mutations = 200;
	const char *env = getenv("FUZZ_MUTATIONS");
	int i, bad = 0;

	if (env != NULL)
		mutations = strtol(env, NULL, 10);
	for (i = 1; i < argc; i++) {
		struct stat st;
		DIR *dir;
		struct dirent *de;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: no such corpus\n", argv[i]);
			bad++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i], mutations, &runs) != 0)
				bad++;
			files++;
			continue;
		}
		if ((dir = opendir(argv[i])) == NULL) {
			bad++;
			continue;
		}
		while ((de = readdir(dir)) != NULL) {
			char p[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
			if (run_file(p, mutations, &runs) != 0)
				bad++;
			files++;
		}
		closedir(dir);
	}
	if (files == 0) {
		fprintf(stderr, "replay: empty corpus\n");
		bad++;
	}
	printf("replayed %ld corpus files, %ld inputs\n", files, runs);
	printf("%ld passed, %d failed\n", files - bad, bad);
	return (bad != 0);
}
