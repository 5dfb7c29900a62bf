/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmtsrc.c - a bdev as a lib/fmt parser's medium (struct bdev_src in
 * bdev.h): the one read callback between the block stack and the parsers.
 *
 * Parsers read a directory entry, a FAT sector or a descriptor at a time, so
 * reads shorter than a cache block are served from BDEV_SRC_SLOTS blocks of
 * BDEV_SRC_BLK bytes (the last one of the device may be short), the least
 * recently used block replaced; longer reads go straight down.  A block is
 * tagged only once it was read whole, so a failed read leaves no stale
 * slot; when a block cannot be read whole (a bad sector elsewhere in it)
 * the request itself is read directly, so only the bytes asked for decide.
 * Every failure is the device's own diag (bdev_read names the device and
 * the offset).  No locking: one adapter, one thread.
 */
#include <stdlib.h>
#include <string.h>

#include <liveroot/bdev.h>
#include <liveroot/util.h>

/* The slot holding block blk, read in when it is not there. */
static int
src_block(struct bdev_src *s, uint64_t blk, const uint8_t **cbp,
    struct diag *d)
{
	uint64_t bstart = blk * BDEV_SRC_BLK;
	size_t i, victim = 0;
	int error;

	for (i = 0; i < BDEV_SRC_SLOTS; i++) {
		if (s->tag[i] == blk + 1) {
			s->used[i] = ++s->tick;
			*cbp = s->cache + i * BDEV_SRC_BLK;
			return (0);
		}
		if (s->used[i] < s->used[victim])
			victim = i;
	}
	s->tag[victim] = 0;
	if ((error = bdev_read(s->b, s->cache + victim * BDEV_SRC_BLK,
	    (size_t)LR_MIN((uint64_t)BDEV_SRC_BLK, bdev_size(s->b) - bstart),
	    bstart, d)) != 0)
		return (error);
	s->tag[victim] = blk + 1;
	s->used[victim] = ++s->tick;
	*cbp = s->cache + victim * BDEV_SRC_BLK;
	return (0);
}

static int
src_read(void *arg, void *buf, size_t len, uint64_t off, struct diag *d)
{
	struct bdev_src *s = arg;
	const uint8_t *cb;
	uint8_t *p = buf;

	s->nreads++;
	s->maxread = LR_MAX(s->maxread, len);
	if (!lr_range_ok(off, len, bdev_size(s->b)))
		return (diag_set(d, EIO, "read of %zu bytes at offset %ju is "
		    "past the end of %s (%ju bytes)", len, (uintmax_t)off,
		    s->b->desc, (uintmax_t)bdev_size(s->b)));
	if (len >= BDEV_SRC_BLK || s->cache == NULL)
		return (bdev_read(s->b, buf, len, off, d));
	while (len > 0) {
		uint64_t blk = off / BDEV_SRC_BLK;
		size_t in = (size_t)(off - blk * BDEV_SRC_BLK);
		size_t n = (size_t)LR_MIN((uint64_t)len, LR_MIN(
		    (uint64_t)BDEV_SRC_BLK, bdev_size(s->b) - blk *
		    BDEV_SRC_BLK) - in);

		/* a block that cannot be read whole: only what was asked */
		if (src_block(s, blk, &cb, d) != 0)
			return (bdev_read(s->b, p, len, off, d));
		memcpy(p, cb + in, n);
		p += n;
		off += n;
		len -= n;
	}
	return (0);
}

void
bdev_src_init(struct bdev_src *s, struct bdev *b, int cached)
{
	memset(s, 0, sizeof(*s));
	s->b = b;
	s->src.read = src_read;
	s->src.arg = s;
	s->src.size = bdev_size(b);
	if (cached)
		s->cache = malloc((size_t)BDEV_SRC_SLOTS * BDEV_SRC_BLK);
}

void
bdev_src_fini(struct bdev_src *s)
{
	if (s == NULL)
		return;
	free(s->cache);
	memset(s, 0, sizeof(*s));
}
