/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ext4.c - the ext2/3/4 reader on images made at test time by mke2fs -d
 * from a tree written here (random bytes, so mke2fs makes no holes of its
 * own), each loaded into a buffer of exactly its size: ext2 with 1 KiB
 * blocks (double indirect blocks), ext3, ext4 with and without 64bit and
 * flex_bg, meta_bg with 24 groups, 64 KiB blocks, inline_data, htree
 * directories (e2fsck -D), a file fragmented by debugfs (small files
 * written, every other removed, a big one written over the gaps), a file
 * with a hole and one with unwritten extents (debugfs fallocate).  The
 * oracles: the bytes of the file put in, and `debugfs -R blocks` (every
 * block of every file checked, in order).  Then hostile edits of a real
 * image, named after what they do: each must give its clean error.
 * Exits 77 when mke2fs or debugfs is absent.  With an argument DIR it
 * writes small images to DIR (fuzz seeds) and exits.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <unistd.h>

#include <liveroot/fmt_ext4.h>
#include <liveroot/inventory.h>
#include <liveroot/util.h>

#include "t.h"
#include "timg.h"

static char T[256];		/* scratch directory */
static uint64_t seed = 0x5eed4e47;

static int LR_PRINTF(1, 2)
sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return (-1);
	return (WEXITSTATUS(st));
}

static void
put(const char *rel, size_t len)
{
	char p[512];
	FILE *f;
	size_t i;

	snprintf(p, sizeof(p), "%s/%s", T, rel);
	if ((f = fopen(p, "wb")) == NULL) {
		perror(p);
		exit(2);
	}
	for (i = 0; i < len; i++)
		fputc('A' + (int)(t_rand(&seed) % 58), f);
	fclose(f);
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *b;
	FILE *f;

	if (stat(path, &st) != 0 || (f = fopen(path, "rb")) == NULL)
		return (NULL);
	if ((b = malloc((size_t)st.st_size ? (size_t)st.st_size : 1)) ==
	    NULL || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(b);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	*len = (size_t)st.st_size;
	return (b);
}

/* The tree every image is made from. */
static void
mktree(void)
{
	char p[512];
	int i;

	CHECK_EQ(sh("mkdir -p '%s/tree/iso dir' '%s/tree/bigdir' "
	    "'%s/tree/deep/a/b' '%s/tree/mid'", T, T, T, T), 0);
	for (i = 0; i < 10; i++) {
		snprintf(p, sizeof(p), "tree/mid/entry_%02d.bin", i);
		put(p, 3000);
	}
	put("tree/iso dir/x.iso", 300000);
	put("tree/hello.txt", 100);
	put("tree/tiny.txt", 40);
	put("tree/deep/a/b/c.txt", 5000);
	for (i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "tree/bigdir/file_number_%03d", i);
		put(p, 10 + i);
	}
	CHECK_EQ(sh("ln -s deep '%s/tree/link'", T), 0);
	/* a hole: 8 KiB of data, 128 KiB of zeros, 8 KiB of data */
	put("s1", 8192);
	CHECK_EQ(sh("cd '%s' && cat s1 > tree/sparse.bin && head -c 131072 "
	    "/dev/zero >> tree/sparse.bin && cat s1 >> tree/sparse.bin", T),
	    0);
	put("one.bin", 4096);
	put("frag.bin", 70000);
}

struct img {
	char		 path[512];
	uint8_t		*b;
	size_t		 len;
	struct fmt_mem	 fm;
	struct fmt_src	 src;
	struct fmt_ext4	 fs;
	uint32_t	 bs;
};

static int
img_load(struct img *m, struct diag *d)
{
	free(m->b);
	if ((m->b = slurp(m->path, &m->len)) == NULL) {
		fprintf(stderr, "cannot read %s\n", m->path);
		exit(2);
	}
	fmt_mem_src(&m->src, &m->fm, m->b, m->len);
	return (fmt_ext4_open(&m->fs, &m->src, d));
}

/*
 * Makes T/NAME.img: mke2fs -t TYPE -b BS OPTS -d tree, SIZE; then, when
 * frag, debugfs writes 6 files of 4 KiB into /frag, removes every other,
 * writes frag.bin over the gaps (4 extents: the inode holds them) and
 * /unwritten with fallocate over its hole; then e2fsck -fyD when htree.
 */
static int
build(struct img *m, const char *name, const char *type, unsigned bs,
    const char *opts, const char *size, int frag, int htree)
{
	struct diag d;
	FILE *f;
	int i, error;

	snprintf(m->path, sizeof(m->path), "%s/%s.img", T, name);
	m->bs = bs;
	/* mke2fs may leave the file shorter than the volume: extend it */
	if (sh("mke2fs -q -F -t %s -b %u -L '%s' %s -d '%s/tree' '%s' %s "
	    ">/dev/null 2>&1 && truncate -s %s '%s'", type, bs, name, opts, T,
	    m->path, size, size, m->path) != 0) {
		fprintf(stderr, "%s: mke2fs failed\n", name);
		return (-1);
	}
	if (frag) {
		char cmds[512];

		snprintf(cmds, sizeof(cmds), "%s/cmds", T);
		if ((f = fopen(cmds, "w")) == NULL)
			return (-1);
		fprintf(f, "mkdir /frag\n");
		for (i = 0; i < 6; i++)
			fprintf(f, "write %s/one.bin /frag/s%d\n", T, i);
		for (i = 0; i < 6; i += 2)
			fprintf(f, "rm /frag/s%d\n", i);
		fprintf(f, "write %s/frag.bin /frag/big.bin\n", T);
		fprintf(f, "write %s/tree/sparse.bin /unwritten\n", T);
		fprintf(f, "fallocate /unwritten 0 100\n");
		fclose(f);
		if (sh("debugfs -w -f '%s' '%s' >/dev/null 2>&1", cmds,
		    m->path) != 0)
			return (-1);
	}
	if (htree && sh("e2fsck -fyD '%s' >/dev/null 2>&1", m->path) > 2)
		return (-1);
	diag_clear(&d);
	error = img_load(m, &d);
	if (error != 0)
		fprintf(stderr, "%s: open: %s\n", name, d.msg);
	return (error);
}

/*
 * debugfs's data blocks of path in logical order, from `stat`: after
 * "BLOCKS:" or "EXTENTS:", entries "(L1[-L2][[u]]):P1[-P2]" separated by
 * ", "; "(IND)", "(ETB0)"... (mapping blocks) are skipped.  Holes are not
 * listed, so the logical numbers must run 0, 1, 2...
 */
static int
debugfs_map(const struct img *m, const char *path, uint64_t *blk,
    size_t max, size_t *n)
{
	char cmd[1024], *buf, *q;
	unsigned long long l1, l2, p1, p2, k;
	size_t bl = 0, cap = 1 << 20;
	int in = 0, c;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "debugfs -R 'stat \"%s\"' '%s' "
	    "2>/dev/null", path, m->path);
	if ((p = popen(cmd, "r")) == NULL || (buf = malloc(cap)) == NULL)
		return (-1);
	while ((c = fgetc(p)) != EOF && bl + 1 < cap)
		buf[bl++] = (char)c;
	buf[bl] = '\0';
	pclose(p);
	*n = 0;
	q = strstr(buf, "BLOCKS:\n");
	if (q == NULL)
		q = strstr(buf, "EXTENTS:\n");
	for (; q != NULL && (q = strchr(q, '(')) != NULL; q++) {
		in = 1;
		if (q[1] < '0' || q[1] > '9')
			continue;
		l1 = strtoull(q + 1, &q, 10);
		l2 = *q == '-' ? strtoull(q + 1, &q, 10) : l1;
		if (strncmp(q, "[u]", 3) == 0)
			q += 3;
		if (strncmp(q, "):", 2) != 0)
			break;
		p1 = strtoull(q + 2, &q, 10);
		p2 = *q == '-' ? strtoull(q + 1, &q, 10) : p1;
		if (l1 != *n || p2 - p1 != l2 - l1)
			break;
		for (k = 0; k <= l2 - l1 && *n < max; k++)
			blk[(*n)++] = p1 + k;
	}
	free(buf);
	return (in ? 0 : -1);
}

/* debugfs's block list of path (data and mapping blocks), in blk. */
static int
debugfs_blocks(const struct img *m, const char *path, uint64_t *blk,
    size_t max, size_t *n)
{
	char cmd[1024];
	unsigned long long v;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "debugfs -R 'blocks \"%s\"' '%s' "
	    "2>/dev/null", path, m->path);
	if ((p = popen(cmd, "r")) == NULL)
		return (-1);
	*n = 0;
	while (fscanf(p, "%llu", &v) == 1)
		if (*n < max)
			blk[(*n)++] = v;
	pclose(p);
	return (0);
}

/*
 * path on the image must hold the bytes of T/host; its blocks must be
 * debugfs's.  Returns its number of extents (0 on failure).
 */
static size_t
check_file(struct img *m, const char *path, const char *host)
{
	static uint64_t want[4096];
	struct fmt_ext4_dirent e;
	struct fmt_extent *ext;
	struct diag d;
	char hp[512];
	uint8_t *hb, *got;
	size_t hl, n = 0, i, nw = 0, nb = 0, pos = 0;
	uint64_t o;
	int ok = 1;

	snprintf(hp, sizeof(hp), "%s/%s", T, host);
	if ((hb = slurp(hp, &hl)) == NULL)
		return (0);
	diag_clear(&d);
	if (fmt_ext4_lookup(&m->fs, path, &e, &d) != 0) {
		fprintf(stderr, "%s: %s: %s\n", m->path, path, d.msg);
		CHECK(0);
		free(hb);
		return (0);
	}
	CHECK(e.is_reg && !e.is_dir);
	CHECK_EQ(e.size, hl);
	CHECK_EQ(fmt_ext4_extents(&m->fs, &e, NULL, 0, &n, &d),
	    hl > 0 ? ENOSPC : 0);
	ext = calloc(n + 1, sizeof(*ext));
	got = malloc(hl + 1);
	CHECK_EQ(fmt_ext4_extents(&m->fs, &e, ext, n, &n, &d), 0);
	for (i = 0; i < n && ok; i++) {
		if (!lr_range_ok(ext[i].off, ext[i].len, m->len) ||
		    ext[i].len > hl - pos) {
			ok = 0;
			break;
		}
		memcpy(got + pos, m->b + ext[i].off, ext[i].len);
		pos += ext[i].len;
		if (i > 0)	/* coalesced: never contiguous */
			CHECK(ext[i - 1].off + ext[i - 1].len != ext[i].off);
	}
	CHECK(ok && pos == hl && memcmp(got, hb, hl) == 0);
	while (path[0] == '/' && path[1] == '/')
		path++;
	CHECK_EQ(debugfs_map(m, path, want, LR_NELEM(want), &nw), 0);
	{
		for (i = 0; i < n && ok; i++)
			for (o = 0; o < ext[i].len; o += m->bs) {
				if (nb >= nw || want[nb] !=
				    (ext[i].off + o) / m->bs)
					ok = 0;
				nb++;
			}
		CHECK(ok && nb == nw);
		if (!ok || nb != nw)
			fprintf(stderr, "%s: %s: blocks differ from debugfs\n",
			    m->path, path);
	}
	free(got);
	free(ext);
	free(hb);
	return (n);
}

struct names {
	int	n;
	int	bigdir, isodir, hello, link, lf;
	int	stop_after;
};

static int
names_cb(void *arg, const struct fmt_ext4_dirent *e)
{
	struct names *nm = arg;

	nm->n++;
	nm->bigdir += strcmp(e->name, "bigdir") == 0 && e->is_dir;
	nm->isodir += strcmp(e->name, "iso dir") == 0 && e->is_dir;
	nm->hello += strcmp(e->name, "hello.txt") == 0 && e->is_reg &&
	    e->size == 100;
	nm->link += strcmp(e->name, "link") == 0 && !e->is_dir && !e->is_reg;
	nm->lf += strcmp(e->name, "lost+found") == 0;
	if (nm->stop_after > 0 && nm->n == nm->stop_after)
		return (-1);
	return (0);
}

static int
bigdir_cb(void *arg, const struct fmt_ext4_dirent *e)
{
	int *n = arg, k;

	if (sscanf(e->name, "file_number_%d", &k) == 1 && e->is_reg &&
	    e->size == (uint64_t)(10 + k))
		(*n)++;
	if (sscanf(e->name, "entry_%d.bin", &k) == 1 && e->is_reg &&
	    e->size == 3000)
		(*n)++;
	return (0);
}

/* What every image holds. */
static void
check_common(struct img *m, const char *kind, int holes)
{
	struct fmt_ext4_dirent e, big;
	struct names nm;
	struct diag d;
	size_t n;
	int cnt = 0;

	CHECK(m->fs.kind != NULL && strcmp(m->fs.kind, kind) == 0);
	CHECK_EQ(m->fs.block_size, m->bs);
	CHECK(fmt_ext4_probe(m->b, m->len));
	memset(&nm, 0, sizeof(nm));
	CHECK_EQ(fmt_ext4_list(&m->fs, NULL, names_cb, &nm, &d), 0);
	CHECK(nm.bigdir == 1 && nm.isodir == 1 && nm.hello == 1 &&
	    nm.link == 1 && nm.lf == 1);
	memset(&nm, 0, sizeof(nm));
	nm.stop_after = 2;
	CHECK_EQ(fmt_ext4_list(&m->fs, NULL, names_cb, &nm, &d), 0);
	CHECK_EQ(nm.n, 2);
	CHECK(check_file(m, "/iso dir/x.iso", "tree/iso dir/x.iso") > 0);
	CHECK(check_file(m, "//deep/a/b/c.txt", "tree/deep/a/b/c.txt") > 0);
	CHECK(check_file(m, "/bigdir/file_number_150",
	    "tree/bigdir/file_number_150") > 0);
	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/bigdir", &big, &d), 0);
	CHECK(big.is_dir && (big.size > m->bs || m->bs == 65536));
	CHECK_EQ(fmt_ext4_list(&m->fs, &big, bigdir_cb, &cnt, &d), 0);
	CHECK_EQ(cnt, 300);
	CHECK_EQ(fmt_ext4_extents(&m->fs, &big, NULL, 0, &n, &d),
	    ENOSPC);
	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/nope", &e, &d), ENOENT);
	CHECK_MSG(&d, "no /nope");
	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/HELLO.TXT", &e, &d), ENOENT);
	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/hello.txt/x", &e, &d), ENOTDIR);
	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/link/a", &e, &d), ENOTDIR);
	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/link", &e, &d), 0);
	CHECK_EQ(fmt_ext4_extents(&m->fs, &e, NULL, 0, &n, &d), ENOTSUP);
	CHECK_MSG(&d, "symbolic link");
	CHECK_EQ(fmt_ext4_list(&m->fs, &e, names_cb, &nm, &d), ENOTDIR);
	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/", &e, &d), 0);
	CHECK(e.is_root && e.is_dir && e.ino == FMT_EXT4_ROOT_INO);
	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/sparse.bin", &e, &d), 0);
	if (holes) {
		CHECK_EQ(fmt_ext4_extents(&m->fs, &e, NULL, 0, &n, &d),
		    EINVAL);
		CHECK_MSG(&d, "sparse.bin: logical block");
		CHECK_MSG(&d, "a hole");
	}
}

static uint64_t imap(const struct img *, const char *);

/*
 * libext2fs never spills an inline directory into its "system.data"
 * attribute (the kernel does): put an entry for hello.txt's inode,
 * "extra.txt", into the empty attribute value of the inline /deep.
 */
static void
test_inline_xattr(struct img *m)
{
	struct fmt_ext4_dirent e, h;
	struct names nm;
	struct diag d;
	uint64_t ioff, x, e0;
	uint8_t *b;

	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/hello.txt", &h, &d), 0);
	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/deep", &e, &d), 0);
	CHECK((e.flags & 0x10000000) != 0 && e.size == 60);
	ioff = imap(m, "/deep");
	CHECK_EQ(ioff, e.inode_off);
	b = m->b + ioff;
	x = 128 + lr_le16dec(b + 128);
	CHECK_EQ(lr_le32dec(b + x), 0xea020000u);
	e0 = x + 4;
	/* the first attribute: system.data, empty */
	CHECK(b[e0] == 4 && b[e0 + 1] == 7 && memcmp(b + e0 + 16, "data",
	    4) == 0 && lr_le32dec(b + e0 + 8) == 0);
	if (e0 + 200 + 20 > 512)
		return;
	lr_le16enc(b + e0 + 2, 200);
	lr_le32enc(b + e0 + 8, 20);
	lr_le32enc(b + e0 + 200, h.ino);
	lr_le16enc(b + e0 + 204, 20);
	b[e0 + 206] = 9;
	b[e0 + 207] = 1;
	memcpy(b + e0 + 208, "extra.txt", 9);
	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/deep/extra.txt", &e, &d), 0);
	CHECK(e.ino == h.ino && e.size == 100);
	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/deep/a/b/c.txt", &e, &d), 0);
	/* a value that runs past the inode: refused */
	lr_le32enc(b + e0 + 8, 400);
	memset(&nm, 0, sizeof(nm));
	CHECK_EQ(fmt_ext4_lookup(&m->fs, "/deep", &e, &d), 0);
	CHECK_EQ(fmt_ext4_list(&m->fs, &e, names_cb, &nm, &d), EINVAL);
	CHECK_MSG(&d, "system.data");
	lr_le32enc(b + e0 + 8, 0);
}

static int
probe_names_cb(void *arg, const struct probe_fs_dirent *e)
{
	struct names *nm = arg;

	nm->n++;
	nm->isodir += strcmp(e->name, "iso dir") == 0 && e->is_dir &&
	    e->entsize == sizeof(struct fmt_ext4_dirent);
	return (0);
}

/* The format table's ext2/3/4 row: probe, open, list, a file's runs. */
static void
test_probe_row(struct img *m, const char *kind)
{
	struct probe_fs fs;
	struct fmt_extent *ext = NULL;
	struct names nm;
	struct diag d;
	char kinds[128];
	uint64_t size = 0, pos = 0;
	size_t n = 0, i;
	uint8_t *hb;
	char hp[512];
	size_t hl;

	CHECK_EQ(probe_fs_open(&fs, &m->src, PROBE_FS_ISO9660 |
	    PROBE_FS_FAT | PROBE_FS_EXFAT, &d), ENOENT);
	CHECK_EQ(probe_fs_open(&fs, &m->src, PROBE_FS_ANY, &d), 0);
	CHECK(fs.kind == PROBE_FS_EXT4 && fs.e4 != NULL && fs.obj == fs.e4);
	CHECK(fs.name != NULL && strcmp(fs.name, kind) == 0);
	CHECK(fs.label != NULL && strcmp(fs.label, kind) == 0);
	memset(&nm, 0, sizeof(nm));
	CHECK_EQ(probe_fs_list(&fs, NULL, probe_names_cb, &nm, &d), 0);
	CHECK(nm.isodir == 1 && nm.n >= 8);
	CHECK_EQ(probe_fs_file(&fs, "/iso dir/x.iso", &ext, &n, &size, &d),
	    0);
	snprintf(hp, sizeof(hp), "%s/tree/iso dir/x.iso", T);
	if ((hb = slurp(hp, &hl)) != NULL) {
		CHECK_EQ(size, hl);
		for (i = 0; i < n && pos + ext[i].len <= hl &&
		    lr_range_ok(ext[i].off, ext[i].len, m->len); i++) {
			CHECK(memcmp(m->b + ext[i].off, hb + pos,
			    ext[i].len) == 0);
			pos += ext[i].len;
		}
		CHECK_EQ(pos, hl);
		free(hb);
	}
	free(ext);
	CHECK_EQ(probe_fs_file(&fs, "/bigdir", &ext, &n, &size, &d), EISDIR);
	CHECK_EQ(probe_fs_file(&fs, "/nope", &ext, &n, &size, &d), ENOENT);
	probe_fs_close(&fs);
	CHECK(fs.obj == NULL && fs.e4 == NULL && fs.kind == 0);
	probe_fs_kinds_str(PROBE_FS_FILES, kinds, sizeof(kinds));
	CHECK(strstr(kinds, "ext2/3/4") != NULL);
}

static void
test_images(void)
{
	struct img m;
	struct fmt_ext4_dirent e;
	struct diag d;
	size_t n;

	memset(&m, 0, sizeof(m));
	/* ext2, 1 KiB blocks: x.iso (293 blocks) reaches double indirect */
	if (build(&m, "ext2", "ext2", 1024, "", "8M", 1, 0) == 0) {
		check_common(&m, "ext2", 1);
		test_probe_row(&m, "ext2");
		CHECK(check_file(&m, "/frag/big.bin", "frag.bin") > 1);
		CHECK(check_file(&m, "/frag/s1", "one.bin") > 0);
		CHECK(!m.fs.needs_recovery && m.fs.desc_size == 32);
		CHECK_EQ(strcmp(m.fs.label, "ext2"), 0);
	} else
		CHECK(0);
	if (build(&m, "ext3", "ext3", 4096, "", "16M", 0, 1) == 0)
		check_common(&m, "ext3", 1);
	else
		CHECK(0);
	/* ext4 as Debian makes it: 64bit, flex_bg, metadata_csum */
	if (build(&m, "ext4", "ext4", 4096, "", "16M", 1, 1) == 0) {
		check_common(&m, "ext4", 1);
		test_probe_row(&m, "ext4");
		CHECK_EQ(m.fs.desc_size, 64);
		CHECK(check_file(&m, "/frag/big.bin", "frag.bin") > 1);
		CHECK_EQ(fmt_ext4_lookup(&m.fs, "/bigdir", &e, &d), 0);
		CHECK((e.flags & 0x1000) != 0);	/* htree: EXT4_INDEX_FL */
		CHECK_EQ(fmt_ext4_lookup(&m.fs, "/unwritten", &e, &d), 0);
		CHECK_EQ(fmt_ext4_extents(&m.fs, &e, NULL, 0, &n, &d), EINVAL);
		CHECK_MSG(&d, "unwritten");
	} else
		CHECK(0);
	if (build(&m, "ext4-small", "ext4", 1024, "-O ^64bit,^flex_bg",
	    "8M", 1, 1) == 0) {
		check_common(&m, "ext4", 1);
		CHECK_EQ(m.fs.desc_size, 32);
		CHECK(check_file(&m, "/frag/big.bin", "frag.bin") > 1);
	} else
		CHECK(0);
	/* meta_bg: descriptors in the groups, 24 groups of 1024 blocks */
	if (build(&m, "metabg", "ext4", 1024, "-g 1024 -N 400 "
	    "-O meta_bg,^resize_inode,64bit", "24M", 0, 0) == 0) {
		check_common(&m, "ext4", 1);
		CHECK(m.fs.ngroups == 24 && m.fs.inodes_per_group < 32);
	} else
		CHECK(0);
	if (build(&m, "bs64k", "ext4", 65536, "", "32M", 0, 0) == 0)
		check_common(&m, "ext4", 1);
	else
		CHECK(0);
	if (build(&m, "inline", "ext4", 4096, "-I 512 -O inline_data", "16M",
	    0, 0) == 0) {
		CHECK(check_file(&m, "/iso dir/x.iso", "tree/iso dir/x.iso") >
		    0);
		CHECK(check_file(&m, "/deep/a/b/c.txt",
		    "tree/deep/a/b/c.txt") > 0);
		test_inline_xattr(&m);
		CHECK_EQ(fmt_ext4_lookup(&m.fs, "/tiny.txt", &e, &d), 0);
		CHECK_EQ(fmt_ext4_extents(&m.fs, &e, NULL, 0, &n, &d),
		    ENOTSUP);
		CHECK_MSG(&d, "tiny.txt is stored inline");
		CHECK_EQ(fmt_ext4_lookup(&m.fs, "/deep", &e, &d), 0);
		CHECK((e.flags & 0x10000000) != 0);	/* an inline dir */
		CHECK_EQ(fmt_ext4_extents(&m.fs, &e, NULL, 0, &n, &d),
		    ENOTSUP);
	} else
		CHECK(0);
	free(m.b);
}

/* Byte offset of path's inode in the image (debugfs imap). */
static uint64_t
imap(const struct img *m, const char *path)
{
	char cmd[1024], line[256];
	unsigned long long blk = 0;
	unsigned off = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "debugfs -R 'imap \"%s\"' '%s' "
	    "2>/dev/null", path, m->path);
	if ((p = popen(cmd, "r")) == NULL)
		return (0);
	while (fgets(line, sizeof(line), p) != NULL)
		if (sscanf(line, " located at block %llu, offset 0x%x", &blk,
		    &off) == 2)
			break;
	pclose(p);
	return (blk * m->bs + off);
}

/* Reopens m over a copy of its bytes with f applied at off. */
static int
hostile(struct img *m, size_t len, uint64_t off, const void *bytes,
    size_t n, struct diag *d)
{
	struct fmt_mem fm;
	struct fmt_src src;
	uint8_t *b;
	int error;

	b = malloc(len);
	memcpy(b, m->b, LR_MIN(len, m->len));
	if (bytes != NULL)
		memcpy(b + off, bytes, n);
	fmt_mem_src(&src, &fm, b, len);
	diag_clear(d);
	error = fmt_ext4_open(&m->fs, &src, d);
	free(m->b);
	m->b = b;
	m->len = len;
	fmt_mem_src(&m->src, &m->fm, m->b, m->len);
	m->fs.src = m->src;
	return (error);
}

static void
le32(uint8_t *b, uint32_t v)
{
	lr_le32enc(b, v);
}

static void
test_hostile(void)
{
	struct img m;
	struct fmt_ext4_dirent e;
	struct diag d;
	uint8_t v[4], zero[16] = { 0 };
	uint64_t ino, off;
	size_t n, len;

	memset(&m, 0, sizeof(m));
	if (build(&m, "hostile", "ext4", 1024, "-O ^metadata_csum", "8M", 1,
	    0) != 0) {
		CHECK(0);
		return;
	}
	len = m.len;
	/* the image cut short: open refuses, naming the truncation */
	CHECK_EQ(hostile(&m, len / 2, 0, NULL, 0, &d), EINVAL);
	CHECK_MSG(&d, "truncated image");
	CHECK_EQ(hostile(&m, 1500, 0, NULL, 0, &d), EINVAL);
	CHECK_MSG(&d, "smaller than a superblock");
	CHECK(!fmt_ext4_probe(m.b, 1500));
	CHECK_EQ(img_load(&m, &d), 0);
	/* no magic */
	CHECK_EQ(hostile(&m, len, 1024 + 0x38, zero, 2, &d), EINVAL);
	CHECK_MSG(&d, "not an ext2/3/4");
	CHECK(!fmt_ext4_probe(m.b, m.len));
	CHECK_EQ(img_load(&m, &d), 0);
	/* an incompat feature bit nobody knows */
	le32(v, m.fs.incompat | 0x80000000u);
	CHECK_EQ(hostile(&m, len, 1024 + 0x60, v, 4, &d), ENOTSUP);
	CHECK_MSG(&d, "incompatible features 0x80000000");
	CHECK_EQ(img_load(&m, &d), 0);
	/* the journal-device bit: not a file system */
	le32(v, m.fs.incompat | 0x8);
	CHECK_EQ(hostile(&m, len, 1024 + 0x60, v, 4, &d), EINVAL);
	CHECK_MSG(&d, "external journal");
	CHECK_EQ(img_load(&m, &d), 0);
	/* block size 2^7 KiB */
	le32(v, 7);
	CHECK_EQ(hostile(&m, len, 1024 + 0x18, v, 4, &d), EINVAL);
	CHECK_EQ(img_load(&m, &d), 0);
	/* inode size 100 */
	CHECK_EQ(hostile(&m, len, 1024 + 0x58, "\x64\x00", 2, &d), EINVAL);
	CHECK_MSG(&d, "inode size 100");
	CHECK_EQ(img_load(&m, &d), 0);
	/* more inodes than the groups hold */
	le32(v, 0xffffffffu);
	CHECK_EQ(hostile(&m, len, 1024 + 0x00, v, 4, &d), EINVAL);
	CHECK_EQ(img_load(&m, &d), 0);
	/* a block count far past the medium */
	le32(v, 0x7fffffffu);
	CHECK_EQ(hostile(&m, len, 1024 + 0x04, v, 4, &d), EINVAL);
	CHECK_MSG(&d, "truncated image");
	CHECK_EQ(img_load(&m, &d), 0);

	/* the file's extent header: bad magic */
	ino = imap(&m, "/frag/big.bin");
	CHECK(ino > 0);
	off = ino + 0x28;
	CHECK_EQ(hostile(&m, len, off, "\x00\x00", 2, &d), 0);
	CHECK_EQ(fmt_ext4_lookup(&m.fs, "/frag/big.bin", &e, &d), 0);
	CHECK_EQ(fmt_ext4_extents(&m.fs, &e, NULL, 0, &n, &d), EINVAL);
	CHECK_MSG(&d, "big.bin: extent node in the inode is malformed");
	CHECK_EQ(img_load(&m, &d), 0);
	/* depth 1 over leaf entries: the "child" is a data block */
	CHECK_EQ(hostile(&m, len, off + 6, "\x01\x00", 2, &d), 0);
	CHECK_EQ(fmt_ext4_lookup(&m.fs, "/frag/big.bin", &e, &d), 0);
	CHECK_EQ(fmt_ext4_extents(&m.fs, &e, NULL, 0, &n, &d), EINVAL);
	CHECK_EQ(img_load(&m, &d), 0);
	/* depth 9 */
	CHECK_EQ(hostile(&m, len, off + 6, "\x09\x00", 2, &d), 0);
	CHECK_EQ(fmt_ext4_lookup(&m.fs, "/frag/big.bin", &e, &d), 0);
	CHECK_EQ(fmt_ext4_extents(&m.fs, &e, NULL, 0, &n, &d), EINVAL);
	CHECK_EQ(img_load(&m, &d), 0);
	/* the first extent of length 0 */
	CHECK_EQ(hostile(&m, len, off + 12 + 4, "\x00\x00", 2, &d), 0);
	CHECK_EQ(fmt_ext4_lookup(&m.fs, "/frag/big.bin", &e, &d), 0);
	CHECK_EQ(fmt_ext4_extents(&m.fs, &e, NULL, 0, &n, &d), EINVAL);
	CHECK_MSG(&d, "length 0");
	CHECK_EQ(img_load(&m, &d), 0);
	/* the first extent starting past the end of the volume */
	CHECK_EQ(hostile(&m, len, off + 12 + 8, "\xff\xff\xff\x00", 4, &d),
	    0);
	CHECK_EQ(fmt_ext4_lookup(&m.fs, "/frag/big.bin", &e, &d), 0);
	CHECK_EQ(fmt_ext4_extents(&m.fs, &e, NULL, 0, &n, &d), EINVAL);
	CHECK_MSG(&d, "outside");
	CHECK_EQ(img_load(&m, &d), 0);
	/* the second extent maps logical block 0 again */
	CHECK_EQ(hostile(&m, len, off + 24, zero, 4, &d), 0);
	CHECK_EQ(fmt_ext4_lookup(&m.fs, "/frag/big.bin", &e, &d), 0);
	CHECK_EQ(fmt_ext4_extents(&m.fs, &e, NULL, 0, &n, &d), EINVAL);
	CHECK_MSG(&d, "mapped twice");
	CHECK_EQ(img_load(&m, &d), 0);
	/* a size of 2^40 bytes: more blocks than the volume */
	CHECK_EQ(hostile(&m, len, ino + 0x6c, "\x00\x01\x00\x00", 4, &d), 0);
	CHECK_EQ(fmt_ext4_lookup(&m.fs, "/frag/big.bin", &e, &d), 0);
	CHECK_EQ(fmt_ext4_extents(&m.fs, &e, NULL, 0, &n, &d), EINVAL);
	CHECK_MSG(&d, "larger than the file system");
	CHECK_EQ(img_load(&m, &d), 0);
	/* a size one block past the mapped blocks: a hole at the end */
	CHECK_EQ(fmt_ext4_lookup(&m.fs, "/frag/big.bin", &e, &d), 0);
	le32(v, (uint32_t)(e.size + 1024));
	CHECK_EQ(hostile(&m, len, ino + 0x04, v, 4, &d), 0);
	CHECK_EQ(fmt_ext4_lookup(&m.fs, "/frag/big.bin", &e, &d), 0);
	CHECK_EQ(fmt_ext4_extents(&m.fs, &e, NULL, 0, &n, &d), EINVAL);
	CHECK_MSG(&d, "hole at the end");
	CHECK_EQ(img_load(&m, &d), 0);

	/* the root directory's first entry: rec_len 3 */
	{
		uint64_t blk[4];
		struct names nm;

		CHECK_EQ(debugfs_blocks(&m, "/", blk, 4, &n), 0);
		CHECK(n >= 1);
		CHECK_EQ(hostile(&m, len, blk[0] * 1024 + 4, "\x03\x00", 2,
		    &d), 0);
		memset(&nm, 0, sizeof(nm));
		CHECK_EQ(fmt_ext4_list(&m.fs, NULL, names_cb, &nm, &d),
		    EINVAL);
		CHECK_MSG(&d, "rec_len 3");
		CHECK_EQ(fmt_ext4_lookup(&m.fs, "/hello.txt", &e, &d),
		    EINVAL);
		CHECK_EQ(img_load(&m, &d), 0);
		/* rec_len running past its block */
		CHECK_EQ(hostile(&m, len, blk[0] * 1024 + 4, "\x00\x08", 2,
		    &d), 0);
		CHECK_EQ(fmt_ext4_list(&m.fs, NULL, names_cb, &nm, &d),
		    EINVAL);
		CHECK_EQ(img_load(&m, &d), 0);
		/* an entry naming inode 0xffffffff */
		CHECK_EQ(hostile(&m, len, blk[0] * 1024 + 24, "\xff\xff\xff"
		    "\xff", 4, &d), 0);
		CHECK_EQ(fmt_ext4_list(&m.fs, NULL, names_cb, &nm, &d),
		    EINVAL);
		CHECK_MSG(&d, "outside 1..");
		CHECK_EQ(img_load(&m, &d), 0);
	}
	/* the root inode made a regular file: open refuses */
	ino = imap(&m, "/");
	CHECK_EQ(hostile(&m, len, ino + 1, "\x81", 1, &d), EINVAL);
	CHECK_MSG(&d, "root inode is not a directory");
	CHECK_EQ(img_load(&m, &d), 0);
	/* group 0's inode table pointer past the volume */
	CHECK_EQ(hostile(&m, len, 2048 + 8, "\xff\xff\xff\x7f", 4, &d),
	    EINVAL);
	CHECK_MSG(&d, "inode table");
	free(m.b);
}

/*
 * Small images for the fuzz corpus (224 KB together): ext4 with an
 * htree directory of 60 entries, 1 KiB blocks; ext2 with an indirect block.
 */
static int
seeds(const char *dir)
{
	int r = 0;

	r |= sh("cd '%s' && mkdir -p sd/sub sd/a/b sd2/a/b && cp "
	    "tree/bigdir/file_number_0[0-5]* sd/sub/ && cp tree/deep/a/b/c.txt "
	    "sd/a/b/ && cp tree/deep/a/b/c.txt sd2/a/b/ && head -c 20000 "
	    "frag.bin > sd2/x.iso && head -c 6000 frag.bin > sd/x.iso", T);
	r |= sh("mke2fs -q -F -t ext4 -b 1024 -N 96 -O ^has_journal -d "
	    "'%s/sd' '%s/ext4-htree.img' 160K >/dev/null 2>&1 && { e2fsck -fyD "
	    "'%s/ext4-htree.img' >/dev/null 2>&1; [ $? -le 2 ]; }", T, dir,
	    dir);
	/* mke2fs may leave the file shorter than the volume: extend it */
	r |= sh("mke2fs -q -F -t ext2 -b 1024 -N 32 -O ^resize_inode -d "
	    "'%s/sd2' '%s/ext2-ind.img' 64K >/dev/null 2>&1 && truncate -s 64K "
	    "'%s/ext2-ind.img'", T, dir, dir);
	return (r != 0 ? 2 : 0);
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR"), *path = getenv("PATH");
	char pbuf[2048];
	int r;

	snprintf(pbuf, sizeof(pbuf), "/usr/sbin:/sbin:%s",
	    path != NULL ? path : "/usr/bin:/bin");
	setenv("PATH", pbuf, 1);
	if (sh("command -v mke2fs >/dev/null && command -v debugfs "
	    ">/dev/null && command -v e2fsck >/dev/null") != 0) {
		printf("SKIP: mke2fs/debugfs not installed (apt-get install "
		    "e2fsprogs)\n");
		return (77);
	}
	snprintf(T, sizeof(T), "%s/test_ext4.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(T) == NULL) {
		perror(T);
		return (2);
	}
	mktree();
	if (argc > 1) {
		r = seeds(argv[1]);
		sh("rm -rf '%s'", T);
		return (r);
	}
	test_images();
	test_hostile();
	if (getenv("KEEP") == NULL)
		sh("rm -rf '%s'", T);
	return (t_done());
}
