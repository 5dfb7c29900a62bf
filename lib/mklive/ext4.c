/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ext4.c - OUT/rootfs.ext4: the tree is measured (data in 4 KiB blocks,
 * inodes; symbolic links and special files not followed), the file system
 * sized as content + the free space asked for + ext4's metadata and
 * journal as mke2fs lays them out, rounded up to 1 MiB, and made by
 * `mke2fs -d` (files owned by root, inode tables initialised, no discard)
 * with room for the tree's inodes and as many again per 16 KiB of free
 * space (-N; mke2fs's own ratio runs out on trees of many small files).
 * With an epoch (SOURCE_DATE_EPOCH) the build is reproducible: the UUID
 * and directory hash seed derive from the epoch and the label, mke2fs's
 * own clock is the epoch (E2FSPROGS_FAKE_TIME), and ext4_clamp.c clamps
 * the time stamps it copied from the tree.  mke2fs 1.47.0 lays the files
 * out in the order readdir(3) returns them, so the same tree directory
 * gives the same image; a fresh copy of the tree may not.
 * The walk is bounded in depth (64) and path length (PATH_MAX).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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
	uint64_t freeb, size, meta, inodes;
	char sizek[32], ninodes[32], ext[160], fake[48], *env[2] = { NULL };
	struct os_run run;
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
	/* every file of the tree, its lost+found and reserved inodes, and
	 * one per 16 KiB of the free space asked for */
	inodes = ts.inodes + 64 + freeb / 16384;
	inodes = inodes < 1024 ? 1024 : inodes;
	if (inodes > UINT32_MAX - 65536)
		return (diag_set(m->d, EFBIG, "%s: %ju inodes: more than ext4 "
		    "holds", tree, (uintmax_t)ts.inodes));
	snprintf(ninodes, sizeof(ninodes), "%ju", (uintmax_t)inodes);
	snprintf(ext, sizeof(ext), "root_owner=0:0,lazy_itable_init=0,"
	    "nodiscard");
	if (m->o->epoch != NULL) {
		char uuid[40];

		mk_epoch_uuid(m, "ext4", uuid);
		snprintf(ext, sizeof(ext), "root_owner=0:0,lazy_itable_init=0,"
		    "nodiscard,hash_seed=%s", uuid);
		snprintf(fake, sizeof(fake), "E2FSPROGS_FAKE_TIME=%s",
		    m->o->epoch);
		env[0] = fake;
	}
	mk_step(m, "ext4 image of %s: %ju MiB (%ju MiB content, %ju MiB free)",
	    tree, (uintmax_t)(size >> 20), (uintmax_t)(ts.bytes >> 20),
	    (uintmax_t)(freeb >> 20));
	(void)unlink(img);
	{
		char uuid[40];
		char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-b",
		    "4096", "-m", "0", "-L", "liveroot", "-N", ninodes, "-E",
		    ext, "-d", (char *)tree, (char *)img, sizek, NULL, NULL,
		    NULL };

		if (m->o->epoch != NULL) {
			mk_epoch_uuid(m, "ext4", uuid);
			argv[19] = "-U";
			argv[20] = uuid;
		}
		memset(&run, 0, sizeof(run));
		run.talk = m->o->talk;
		run.env = env;
		if (m->o->report != NULL) {
			run.failed_output = mk_tool_output;
			run.arg = m;
		}
		if ((e = os_run(argv, &run, m->d)) != 0)
			return (diag_prefix(m->d, "making the ext4 image of "
			    "%s: ", tree));
	}
	if (m->o->epoch != NULL &&
	    (e = mk_ext4_clamp(img, (uint32_t)strtoul(m->o->epoch, NULL, 10),
	    m->d)) != 0)
		return (diag_prefix(m->d, "clamping the time stamps to "
		    "SOURCE_DATE_EPOCH: "));
	return (0);
}
