/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_cpio.c - the initramfs archive of pack.h: one newc entry byte for
 * byte (header fields, name and data padded to 4), a tree archived in
 * sorted order with directories, files, symbolic links and nothing else
 * (a fifo is left out), owner root and mtime 0 so two runs give the same
 * bytes, the archive read back by a strict newc reader, a size over the
 * format's 32 bits refused; and each compressor's output decompressed by
 * the library that reads it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include <liveroot/os.h>
#include <liveroot/pack.h>

#include "t.h"

static char dir[] = "/tmp/test_cpio.XXXXXX";

static uint32_t
hex8(const unsigned char *p)
{
	char b[9];

	memcpy(b, p, 8);
	b[8] = '\0';
	return ((uint32_t)strtoul(b, NULL, 16));
}

struct ent {
	char		name[64];
	uint32_t	ino, mode, uid, gid, nlink, mtime, size, rmaj, rmin;
	char		data[64];
};

/* A strict newc reader: every field and length checked against len. */
static int
read_newc(const unsigned char *b, size_t len, struct ent *e, size_t max)
{
	size_t o = 0, n = 0, nl, h;

	while (n < max) {
		if (len - o < 110 || memcmp(b + o, "070701", 6) != 0)
			return (-1);
		h = o;
		e[n].ino = hex8(b + h + 6);
		e[n].mode = hex8(b + h + 14);
		e[n].uid = hex8(b + h + 22);
		e[n].gid = hex8(b + h + 30);
		e[n].nlink = hex8(b + h + 38);
		e[n].mtime = hex8(b + h + 46);
		e[n].size = hex8(b + h + 54);
		e[n].rmaj = hex8(b + h + 78);
		e[n].rmin = hex8(b + h + 86);
		nl = hex8(b + h + 94);
		if (hex8(b + h + 102) != 0 || nl == 0 || nl > 64 ||
		    len - o - 110 < nl || b[o + 110 + nl - 1] != '\0')
			return (-1);
		memcpy(e[n].name, b + o + 110, nl);
		o = (o + 110 + nl + 3) & ~(size_t)3;
		if (o > len || len - o < e[n].size || e[n].size >= 64)
			return (-1);
		memcpy(e[n].data, b + o, e[n].size);
		e[n].data[e[n].size] = '\0';
		o = (o + e[n].size + 3) & ~(size_t)3;
		if (o > len)
			return (-1);
		if (strcmp(e[n++].name, "TRAILER!!!") == 0)
			return (o == len ? (int)n : -1);
	}
	return (-1);
}

static void
test_entry(void)
{
	static const char want[] =
	    "070701"
	    "00000001" "000081A4" "00000000" "00000000" "00000001"
	    "00000000" "00000002" "00000000" "00000000" "00000000"
	    "00000000" "00000002" "00000000"
	    "a\0"			/* 110 + 2: 112, no padding */
	    "hi\0\0";			/* 2, padded to 4 */
	struct pack_cpio c;

	pack_cpio_init(&c);
	CHECK_EQ(pack_cpio_entry(&c, "a", S_IFREG | 0644, 1, "hi", 2, 0, 0),
	    0);
	CHECK_EQ(c.len, sizeof(want) - 1);
	CHECK(c.buf != NULL && memcmp(c.buf, want, sizeof(want) - 1) == 0);
	/* a name that ends the header at a multiple of 4: no padding */
	CHECK_EQ(pack_cpio_entry(&c, "bb", S_IFDIR | 0755, 2, NULL, 0, 0, 0),
	    0);
	CHECK_EQ(c.len, sizeof(want) - 1 + 110 + 3 + 3);	/* 229 -> 232 */
	CHECK_EQ(c.len % 4, 0);
	/* past newc's 32-bit size field: refused before anything is read */
	CHECK_EQ(pack_cpio_entry(&c, "big", S_IFREG | 0644, 1, NULL,
	    (size_t)UINT32_MAX + 1, 0, 0), EFBIG);
	CHECK_EQ(c.len, sizeof(want) - 1 + 116);
	pack_cpio_free(&c);
	CHECK(c.buf == NULL && c.len == 0 && c.ino == 0);
}

/* Each compressor's output, read back by zstd and zlib themselves. */
static void
test_compress(const unsigned char *in, size_t len)
{
	const struct pack_compressor *pc;
	unsigned char *z = NULL, *z2 = NULL, *back;
	size_t zlen = 0, z2len = 0;
	z_stream zs;

	back = malloc(len + 1);
	pc = pack_compressor("zstd");
	CHECK(pc != NULL && pc->compress != NULL);
	CHECK_EQ(pc->compress(in, len, &z, &zlen), 0);
	CHECK_EQ(ZSTD_getFrameContentSize(z, zlen), len);
	CHECK_EQ(ZSTD_decompress(back, len + 1, z, zlen), len);
	CHECK(memcmp(back, in, len) == 0);
	CHECK_EQ(pc->compress(in, len, &z2, &z2len), 0);
	CHECK(zlen == z2len && memcmp(z, z2, zlen) == 0);	/* reproducible */
	free(z);
	free(z2);

	pc = pack_compressor("gzip");
	CHECK(pc != NULL && pc->compress != NULL);
	CHECK_EQ(pc->compress(in, len, &z, &zlen), 0);
	CHECK(zlen > 18 && z[0] == 0x1f && z[1] == 0x8b);
	memset(&zs, 0, sizeof(zs));
	CHECK_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = z;
	zs.avail_in = (uInt)zlen;
	zs.next_out = back;
	zs.avail_out = (uInt)len + 1;
	CHECK_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
	CHECK_EQ(zs.total_out, len);
	CHECK(memcmp(back, in, len) == 0);
	inflateEnd(&zs);
	free(z);

	pc = pack_compressor("none");
	CHECK(pc != NULL && pc->compress == NULL);
	CHECK(pack_compressor("xz") == NULL);
	CHECK(pack_compressor("") == NULL);
	free(back);
}

static void
mk(const char *rel, const char *text)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if (text == NULL)
		CHECK_EQ(mkdir(p, 0750), 0);
	else
		CHECK_EQ(os_write_file(p, text, strlen(text), 0644, NULL), 0);
}

static void
test_tree(void)
{
	struct pack_cpio c, c2;
	struct ent e[16];
	struct diag d;
	char p[PATH_MAX];
	int n;

	if (mkdtemp(dir) == NULL) {
		CHECK(0);
		return;
	}
	mk("b", NULL);
	mk("b/z", "zz");
	mk("b/a", "aaaa");
	mk("a", "1");
	snprintf(p, sizeof(p), "%s/c", dir);
	CHECK_EQ(symlink("b/a", p), 0);
	snprintf(p, sizeof(p), "%s/fifo", dir);
	CHECK_EQ(mkfifo(p, 0600), 0);
	snprintf(p, sizeof(p), "%s/a", dir);
	CHECK_EQ(chmod(p, 0755), 0);

	pack_cpio_init(&c);
	diag_clear(&d);
	CHECK_EQ(pack_cpio_tree(&c, dir, &d), 0);
	CHECK_EQ(pack_cpio_entry(&c, "dev/console", S_IFCHR | 0600, 1, NULL,
	    0, 5, 1), 0);
	CHECK_EQ(pack_cpio_trailer(&c), 0);
	n = read_newc(c.buf, c.len, e, 16);
	CHECK_EQ(n, 7);
	if (n == 7) {
		/* sorted, depth first, the fifo left out */
		CHECK(strcmp(e[0].name, "a") == 0);
		CHECK(strcmp(e[1].name, "b") == 0);
		CHECK(strcmp(e[2].name, "b/a") == 0);
		CHECK(strcmp(e[3].name, "b/z") == 0);
		CHECK(strcmp(e[4].name, "c") == 0);
		CHECK(strcmp(e[5].name, "dev/console") == 0);
		CHECK_EQ(e[0].mode, S_IFREG | 0755);
		CHECK(strcmp(e[0].data, "1") == 0);
		CHECK_EQ(e[1].mode, S_IFDIR | 0750);
		CHECK_EQ(e[1].nlink, 2);
		CHECK(strcmp(e[2].data, "aaaa") == 0);
		CHECK(S_ISLNK(e[4].mode) && strcmp(e[4].data, "b/a") == 0);
		CHECK(S_ISCHR(e[5].mode) && e[5].rmaj == 5 && e[5].rmin == 1);
		for (n = 0; n < 7; n++) {
			CHECK_EQ(e[n].ino, n + 1);
			CHECK(e[n].uid == 0 && e[n].gid == 0 &&
			    e[n].mtime == 0);
		}
	}
	/* reproducible: a second archive of the same tree, byte for byte */
	pack_cpio_init(&c2);
	CHECK_EQ(pack_cpio_tree(&c2, dir, NULL), 0);
	CHECK_EQ(pack_cpio_entry(&c2, "dev/console", S_IFCHR | 0600, 1,
	    NULL, 0, 5, 1), 0);
	CHECK_EQ(pack_cpio_trailer(&c2), 0);
	CHECK(c.len == c2.len && memcmp(c.buf, c2.buf, c.len) == 0);
	pack_cpio_free(&c2);

	/* a missing root is named */
	pack_cpio_init(&c2);
	diag_clear(&d);
	snprintf(p, sizeof(p), "%s/none", dir);
	CHECK_EQ(pack_cpio_tree(&c2, p, &d), ENOENT);
	CHECK_MSG(&d, "none");
	pack_cpio_free(&c2);

	test_compress(c.buf, c.len);
	test_compress((const unsigned char *)"", 0);
	pack_cpio_free(&c);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	CHECK_EQ(system(p), 0);
}

int
main(void)
{
	test_entry();
	test_tree();
	return (t_done());
}
