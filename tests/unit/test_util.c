/* SPDX-License-Identifier: BSD-2-Clause */
/* test_util.c - byte order, checked arithmetic, bitmap, sparse, diag. */
#include <liveroot/bitmap.h>
#include <liveroot/diag.h>
#include <liveroot/sparse.h>
#include <liveroot/util.h>

#include "t.h"

static void
test_endian(void)
{
	uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t e[8];

	CHECK_EQ(lr_le16dec(b), 0x0201);
	CHECK_EQ(lr_le32dec(b), 0x04030201);
	CHECK(lr_le64dec(b) == 0x0807060504030201ULL);
	CHECK_EQ(lr_be16dec(b), 0x0102);
	CHECK_EQ(lr_be32dec(b), 0x01020304);
	CHECK(lr_be64dec(b) == 0x0102030405060708ULL);
	lr_be64enc(e, 0x0102030405060708ULL);
	CHECK(memcmp(e, b, 8) == 0);
	lr_le64enc(e, 0x0807060504030201ULL);
	CHECK(memcmp(e, b, 8) == 0);
	lr_le16enc(e, 0xbeef);
	CHECK_EQ(lr_le16dec(e), 0xbeef);
}

static void
test_checked(void)
{
	uint64_t r;

	CHECK(!lr_add_overflow(1, 2, &r) && r == 3);
	CHECK(lr_add_overflow(UINT64_MAX, 1, &r));
	CHECK(lr_mul_overflow(1ULL << 32, 1ULL << 32, &r));
	CHECK(!lr_mul_overflow(1ULL << 31, 1ULL << 32, &r) && r == 1ULL << 63);
	CHECK(lr_range_ok(0, 10, 10));
	CHECK(!lr_range_ok(1, 10, 10));
	CHECK(!lr_range_ok(UINT64_MAX, 2, 10));
	CHECK(!lr_range_ok(5, UINT64_MAX, 10));
	CHECK_EQ(lr_div_roundup(10, 4), 3);
	CHECK_EQ(lr_div_roundup(8, 4), 2);
	CHECK(lr_is_pow2(4096) && !lr_is_pow2(0) && !lr_is_pow2(6));
}

static void
test_zero_crc(void)
{
	uint8_t buf[100];

	memset(buf, 0, sizeof(buf));
	CHECK(lr_is_zero(buf, sizeof(buf)));
	CHECK(lr_is_zero(buf + 3, 0));
	buf[99] = 1;
	CHECK(!lr_is_zero(buf, sizeof(buf)));
	CHECK(lr_is_zero(buf + 1, 98));
	buf[1] = 1;
	CHECK(!lr_is_zero(buf + 1, 5));
	/* The standard check value of CRC-32. */
	CHECK(lr_crc32(0, "123456789", 9) == 0xCBF43926u);
	CHECK(lr_crc32(lr_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
}

/* lr_scopy: what fits, always NUL-terminated, never past len. */
static void
test_scopy(void)
{
	char b[8];

	memset(b, 'x', sizeof(b));
	lr_scopy(b, 4, "abcdef");
	CHECK(strcmp(b, "abc") == 0 && b[4] == 'x');
	lr_scopy(b, sizeof(b), "hi");
	CHECK(strcmp(b, "hi") == 0);
	lr_scopy(b, 1, "hi");
	CHECK(b[0] == '\0');
}

/* Compare every query against a naive per-bit model. */
static void
test_bitmap(void)
{
	enum { N = 1000 };
	uint64_t words[(N + 63) / 64];
	unsigned char model[N];
	struct lr_bitmap bm;
	uint64_t s = 42, i, a, n, lim;
	int round, ok;

	memset(words, 0, sizeof(words));
	memset(model, 0, sizeof(model));
	lr_bitmap_init(&bm, words, N);
	CHECK_EQ(lr_bitmap_next_set(&bm, 0, N), N);
	CHECK_EQ(lr_bitmap_next_clear(&bm, 0, N), 0);
	CHECK_EQ(lr_bitmap_run_end(&bm, 0, N), N);
	ok = 1;
	for (round = 0; round < 2000; round++) {
		a = t_rand(&s) % N;
		n = t_rand(&s) % (N - a + 1);
		if (t_rand(&s) & 1) {
			lr_bitmap_set_range(&bm, a, n);
			memset(model + a, 1, n);
		} else {
			lr_bitmap_clear_range(&bm, a, n);
			memset(model + a, 0, n);
		}
		a = t_rand(&s) % N;
		lim = a + t_rand(&s) % (N - a + 1);
		for (i = a; i < lim && !model[i]; i++)
			;
		ok &= lr_bitmap_next_set(&bm, a, lim) == i;
		for (i = a; i < lim && model[i]; i++)
			;
		ok &= lr_bitmap_next_clear(&bm, a, lim) == i;
		for (i = a; i < lim && model[i] == model[a]; i++)
			;
		ok &= a >= lim || lr_bitmap_run_end(&bm, a, lim) == i;
		n = 0;
		for (i = a; i < lim; i++)
			n += model[i];
		ok &= lr_bitmap_count(&bm, a, lim) == n;
		ok &= lr_bitmap_test(&bm, a) == (model[a] != 0);
	}
	CHECK(ok);
	/* Out-of-range requests are clamped, never written past the end. */
	lr_bitmap_set_range(&bm, N - 2, 100);
	CHECK(lr_bitmap_test(&bm, N - 1));
	CHECK(!lr_bitmap_test(&bm, N));
	lr_bitmap_clear_all(&bm);
	CHECK_EQ(lr_bitmap_count(&bm, 0, N), 0);
}

static int fail_alloc_after = -1;

static void *
t_alloc(size_t len, void *arg)
{
	(void)arg;
	if (fail_alloc_after == 0)
		return (NULL);
	if (fail_alloc_after > 0)
		fail_alloc_after--;
	return (calloc(1, len));
}

static void
t_free(void *p, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free(p);
}

static const struct lr_allocator talloc = { t_alloc, t_free, NULL };

static void
test_sparse(void)
{
	enum { SZ = 8 << 20 };
	struct lr_sparse sp;
	uint8_t *model, *buf;
	uint64_t s = 7, off, len;
	int round, ok = 1;

	model = calloc(1, SZ);
	buf = calloc(1, SZ);
	CHECK(lr_sparse_init(&sp, SZ, 0, &talloc) == 0);
	lr_sparse_read(&sp, buf, 4096, 0);
	CHECK(lr_is_zero(buf, 4096));
	CHECK_EQ(lr_sparse_bytes_used(&sp), 0);
	/* A zero write to a hole allocates nothing. */
	CHECK(lr_sparse_write(&sp, buf, 65536, 12345) == 0);
	CHECK_EQ(lr_sparse_bytes_used(&sp), 0);
	for (round = 0; round < 3000; round++) {
		off = t_rand(&s) % SZ;
		len = t_rand(&s) % LR_MIN(SZ - off, 3 * 4096 + 1);
		switch (t_rand(&s) % 3) {
		case 0:
			for (uint64_t i = 0; i < len; i++)
				buf[i] = (uint8_t)t_rand(&s);
			ok &= lr_sparse_write(&sp, buf, len, off) == 0;
			memcpy(model + off, buf, len);
			break;
		case 1:
			lr_sparse_zero(&sp, off, len);
			memset(model + off, 0, len);
			break;
		default:
			lr_sparse_read(&sp, buf, len, off);
			ok &= memcmp(buf, model + off, len) == 0;
		}
	}
	CHECK(ok);
	lr_sparse_read(&sp, buf, SZ, 0);
	CHECK(memcmp(buf, model, SZ) == 0);
	/* Zeroing everything frees every page and leaf. */
	lr_sparse_zero(&sp, 0, SZ);
	CHECK_EQ(lr_sparse_bytes_used(&sp), 0);
	CHECK_EQ(sp.leaves, 0);
	lr_sparse_fini(&sp);

	/* The cap: a write that would pass it changes nothing. */
	CHECK(lr_sparse_init(&sp, SZ, 3 * 4096, &talloc) == 0);
	memset(buf, 0xab, 4 * 4096);
	CHECK_EQ(lr_sparse_write(&sp, buf, 4 * 4096, 0), ENOSPC);
	CHECK_EQ(lr_sparse_bytes_used(&sp), 0);
	CHECK_EQ(lr_sparse_write(&sp, buf, 3 * 4096, 0), 0);
	CHECK_EQ(lr_sparse_write(&sp, buf, 1, 3 * 4096), ENOSPC);
	/* Overwriting allocated pages needs no new memory. */
	CHECK_EQ(lr_sparse_write(&sp, buf, 3 * 4096, 0), 0);
	lr_sparse_zero(&sp, 4096, 4096);
	CHECK_EQ(lr_sparse_write(&sp, buf, 1, 3 * 4096), 0);
	lr_sparse_fini(&sp);

	/* Allocation failure: ENOMEM, and old data intact. */
	CHECK(lr_sparse_init(&sp, SZ, 0, &talloc) == 0);
	memset(buf, 0x11, 4096);
	CHECK_EQ(lr_sparse_write(&sp, buf, 4096, 0), 0);
	fail_alloc_after = 1;
	memset(buf, 0x22, 3 * 4096);
	CHECK_EQ(lr_sparse_write(&sp, buf, 3 * 4096, 0), ENOMEM);
	fail_alloc_after = -1;
	lr_sparse_read(&sp, buf, 3 * 4096, 0);
	CHECK(buf[0] == 0x11 && buf[4095] == 0x11 && buf[4096] == 0);
	lr_sparse_fini(&sp);
	free(model);
	free(buf);
}

static void
test_diag(void)
{
	struct diag d;

	diag_clear(&d);
	CHECK_EQ(d.code, 0);
	CHECK_EQ(diag_set(&d, EIO, "cluster %d bad", 7), EIO);
	CHECK(strcmp(d.msg, "cluster 7 bad") == 0);
	CHECK_EQ(diag_prefix(&d, "image %s: ", "x.uzip"), EIO);
	CHECK(strcmp(d.msg, "image x.uzip: cluster 7 bad") == 0);
	CHECK_EQ(diag_set(NULL, ENOSPC, "ignored"), ENOSPC);
	diag_clear(&d);
	CHECK_EQ(diag_default(&d, EINVAL, "open"), EINVAL);
	CHECK_MSG(&d, "open");
}

int
main(void)
{
	test_endian();
	test_checked();
	test_zero_crc();
	test_scopy();
	test_bitmap();
	test_sparse();
	test_diag();
	return (t_done());
}
