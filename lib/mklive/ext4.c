/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ext4.c - OUT/rootfs.ext4: the tree is measured (data in 4 KiB blocks,
 * inodes; symbolic links and special files not followed), the file system
 * sized as content + the free space asked for + ext4's metadata and
 * journal as mke2fs lays them out, rounded up to 1 MiB, and made by
 * `mke2fs -d` (files owned by root, inode tables initialised, no discard).
 * The walk is bounded in depth (64) and path length (PATH_MAX).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/os.h>

#include "mklive_int.h"

#define TREE_MAXDEPTH	64
#define MIN_FREE	(64ULL << 20)

struct tree_size {
	uint64_t	bytes;		/* data rounded up to 4 KiB blocks */
	uint64_t	inodes;
};

static int
tree_measure(const char *dir, struct tree_size *ts, int depth, struct diag *d);

int
mk_tree_measure(const char *dir, uint64_t *bytes, uint64_t *inodes,
    struct diag *d)
{
	struct tree_size ts = { *bytes, *inodes };
	int e;

	e = tree_measure(dir, &ts, 0, d);
	*bytes = ts.bytes;
	*inodes = ts.inodes;
	return (e);
}

static int
tree_measure(const char *dir, struct tree_size *ts, int depth, struct diag *d)
{
	DIR *dp;
	struct dirent *de;
	struct stat st;
	char p[PATH_MAX];
	int e = 0;

	if (depth > TREE_MAXDEPTH)
		return (diag_set(d, ELOOP, "%s: directories nested too deep",
		    dir));
	if ((dp = opendir(dir)) == NULL)
		return (diag_set(d, errno, "%s: %s", dir, strerror(errno)));
	while (e == 0 && (de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (os_path_join(p, sizeof(p), dir, de->d_name) != 0) {
			e = diag_set(d, ENAMETOOLONG, "%s/%s: path too long",
			    dir, de->d_name);
			break;
		}
		if (lstat(p, &st) != 0) {
			e = diag_set(d, errno, "%s: %s", p, strerror(errno));
			break;
		}
		ts->inodes++;
		if (S_ISDIR(st.st_mode)) {
			ts->bytes += 4096;
			e = tree_measure(p, ts, depth + 1, d);
		} else if (S_ISREG(st.st_mode)) {
			ts->bytes += ((uint64_t)st.st_size + 4095) & ~4095ULL;
		} else if (S_ISLNK(st.st_mode) && st.st_size >= 60) {
			ts->bytes += 4096;
		}
	}
	closedir(dp);
	return (e);
}

/* ext4 journal size as mke2fs picks it for a file system of `blocks` 4K blocks. */
static uint64_t
ext4_journal_bytes(uint64_t blocks)
{
	if (blocks < 32768)
		return (1024 * 4096ULL);
	if (blocks < 256 * 1024)
		return (4096 * 4096ULL);
	if (blocks < 512 * 1024)
		return (8192 * 4096ULL);
	if (blocks < 4096 * 1024)
		return (16384 * 4096ULL);
	return (32768 * 4096ULL);
}

uint64_t
mk_free_bytes(const struct mklive_opts *o, uint64_t content)
{
	uint64_t f;

	switch (o->free_mode) {
	case MKLIVE_FREE_BYTES:
		return (o->free);
	case MKLIVE_FREE_PCT:
		return ((uint64_t)((long double)content * o->free / 100));
	default:
		f = content / 4;
		return (f < MIN_FREE ? MIN_FREE : f);
	}
}

int
mk_ext4(struct mk *m, const char *img)
{
	const char *tree = m->o->tree;
	struct tree_size ts = { 0, 1 };
	uint64_t freeb, size, meta;
	char sizek[32];
	int e;

	if ((e = tree_measure(tree, &ts, 0, m->d)) != 0)
		return (e);
	freeb = mk_free_bytes(m->o, ts.bytes);
	/* metadata: inode tables (256 B an inode, 4 KiB ratio on small
	 * file systems), bitmaps, group descriptors; then the journal */
	meta = ts.inodes * 256 + ts.bytes / 16 + (4ULL << 20);
	size = ts.bytes + freeb + meta;
	size += (size / 4096) * 64;		/* inode ratio 1 per 16K, 256 B */
	size += ext4_journal_bytes(size / 4096);
	size = (size + (1 << 20) - 1) & ~((uint64_t)(1 << 20) - 1);
	m->r->ext4_bytes = size;
	snprintf(sizek, sizeof(sizek), "%juk", (uintmax_t)(size >> 10));
	mk_step(m, "ext4 image of %s: %ju MiB (%ju MiB content, %ju MiB free)",
	    tree, (uintmax_t)(size >> 20), (uintmax_t)(ts.bytes >> 20),
	    (uintmax_t)(freeb >> 20));
	(void)unlink(img);
	{
		char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-b",
		    "4096", "-m", "0", "-L", "liveroot", "-E",
		    "root_owner=0:0,lazy_itable_init=0,nodiscard",
		    "-d", (char *)tree, (char *)img, sizek, NULL };

		if ((e = mk_run(m, argv, NULL, 0, 0, m->d)) != 0)
			return (diag_prefix(m->d, "making the ext4 image of "
			    "%s: ", tree));
	}
	return (0);
}
