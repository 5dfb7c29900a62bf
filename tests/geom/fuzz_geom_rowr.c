/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_geom_rowr.c - the geom_rowr kernel class on the GEOM harness against
 * a flat model.  The input picks the shape (sector sizes, granule, lower
 * size, a union larger or smaller than the lower, a read-only lower), then
 * a list of 6-byte operations: reads, writes and deletes of random sizes
 * submitted without waiting (a batch: many bios in flight, completing out
 * of order), flushes, batch ends, revert, commit, faults (an upper that
 * fails writes or runs out of space, a lower that fails reads, M_NOWAIT
 * allocations that fail) and, last, orphaning the lower or the upper with
 * bios in flight.
 *
 * Within a batch, writes and deletes never overlap each other byte-wise (an
 * overlapping one ends the batch first), so their outcome does not depend
 * on the order the class sees them; reads may overlap them and must return,
 * byte for byte, the value before or after the batch.  The model keeps the
 * union's bytes, which of them are known (a failed write into a granule
 * that may already be written leaves its bytes undefined, as a disk does),
 * the lower's bytes, and per granule written / not / maybe.  Without faults
 * every operation must succeed; any divergence, a GEOM rule broken
 * (harness violation) or a leak aborts.
 */
#include "gh.h"

#include "g_rowr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern struct g_class g_rowr_class;

#define	MAXSZ		(512 * 1024)
#define	MAXLEN		(64 * 1024)
#define	MAXBATCH	16
#define	MAXOPS		150

#define	DIE(...) do {							\
	fprintf(stderr, "fuzz_geom_rowr: " __VA_ARGS__);		\
	fputc('\n', stderr);						\
	abort();							\
} while (0)

struct pend {
	struct bio	*bp;
	int		 cmd;
	uint64_t	 off, len;
	uint8_t		*buf;
	int		 error;
};

static struct {
	uint8_t		 u[MAXSZ], known[MAXSZ];	/* the union */
	uint8_t		 lo[MAXSZ], loknown[MAXSZ];	/* the lower (0 past it) */
	uint8_t		 before[MAXSZ], kbefore[MAXSZ];
	uint8_t		 wr[MAXSZ / 512], wrbefore[MAXSZ / 512];
	uint8_t		 touched[MAXSZ];	/* by a batch write/delete */
	uint64_t	 size, lsize;
	uint32_t	 g, ss;
	int		 faults;	/* any fault armed: errors allowed */
	int		 rolower;
	struct pend	 p[MAXBATCH];
	int		 np;
	struct gh_md	*lower, *upper;
	struct g_consumer *cp;
	char		 name[32], lname[32], uname[32];
} M;

static int inited, seq;

static void
batch_start(void)
{
	memcpy(M.before, M.u, M.size);
	memcpy(M.kbefore, M.known, M.size);
	memcpy(M.wrbefore, M.wr, M.size / M.g + 1);
	memset(M.touched, 0, M.size);
}

static int
granule_written_by_other(int self, uint64_t g)
{
	int i;

	for (i = 0; i < M.np; i++) {
		struct pend *q = &M.p[i];

		if (i != self && q->cmd == BIO_WRITE && q->error == 0 &&
		    q->off / M.g <= g && g <= (q->off + q->len - 1) / M.g)
			return (1);
	}
	return (0);
}

static void
batch_end(void)
{
	uint64_t i, g, a, e;
	int k;

	for (k = 0; k < M.np; k++)
		M.p[k].error = gh_io_wait(M.p[k].bp);
	/* Writes and deletes: order-independent, applied in any order. */
	for (k = 0; k < M.np; k++) {
		struct pend *q = &M.p[k];

		if (q->error != 0 && !M.faults)
			DIE("cmd %d at %ju+%ju failed (%d) without a fault",
			    q->cmd, (uintmax_t)q->off, (uintmax_t)q->len,
			    q->error);
		if (q->cmd == BIO_WRITE && q->error == 0) {
			memcpy(M.u + q->off, q->buf, q->len);
			memset(M.known + q->off, 1, q->len);
			for (g = q->off / M.g; g * M.g < q->off + q->len; g++)
				M.wr[g] = 1;
		} else if (q->cmd == BIO_WRITE) {
			for (g = q->off / M.g; g * M.g < q->off + q->len; g++) {
				if (M.wrbefore[g] == 0 &&
				    !granule_written_by_other(k, g))
					continue;	/* invisible */
				a = g * M.g > q->off ? g * M.g : q->off;
				e = (g + 1) * M.g < q->off + q->len ?
				    (g + 1) * M.g : q->off + q->len;
				memset(M.known + a, 0, e - a);
			}
		} else if (q->cmd == BIO_DELETE) {
			a = (q->off + M.g - 1) / M.g * M.g;
			e = q->off + q->len == M.size ? M.size :
			    (q->off + q->len) / M.g * M.g;
			for (; a < e; a += M.g) {
				uint64_t z = a + M.g < M.size ? a + M.g :
				    M.size;

				g = a / M.g;
				if (q->error == 0) {
					memcpy(M.u + a, M.lo + a, z - a);
					memcpy(M.known + a, M.loknown + a,
					    z - a);
					M.wr[g] = 0;
				} else {
					memset(M.known + a, 0, z - a);
					M.wr[g] = 2;
				}
			}
		}
	}
	/* Reads: each byte as before the batch, or as after it. */
	for (k = 0; k < M.np; k++) {
		struct pend *q = &M.p[k];

		if (q->cmd != BIO_READ)
			continue;
		if (q->error != 0) {
			if (!M.faults)
				DIE("read at %ju+%ju failed (%d) without a "
				    "fault", (uintmax_t)q->off,
				    (uintmax_t)q->len, q->error);
			continue;
		}
		for (i = 0; i < q->len; i++) {
			uint64_t o = q->off + i;
			uint8_t v = q->buf[i];

			if (!M.touched[o]) {
				if (M.kbefore[o] && v != M.before[o])
					DIE("read at %ju: %02x, model %02x",
					    (uintmax_t)o, v, M.before[o]);
			} else if (M.kbefore[o] && M.known[o] &&
			    v != M.before[o] && v != M.u[o])
				DIE("read at %ju (overlapping a write): %02x, "
				    "before %02x after %02x", (uintmax_t)o, v,
				    M.before[o], M.u[o]);
		}
	}
	for (k = 0; k < M.np; k++)
		free(M.p[k].buf);
	M.np = 0;
	batch_start();
}

static void
submit(int cmd, uint64_t off, uint64_t len, uint64_t seed)
{
	struct pend *q;
	uint64_t i;
	int k;

	if (cmd != BIO_READ)
		for (k = 0; k < M.np; k++)
			if (M.p[k].cmd != BIO_READ && M.p[k].off < off + len &&
			    off < M.p[k].off + M.p[k].len) {
				batch_end();
				break;
			}
	if (M.np == MAXBATCH)
		batch_end();
	q = &M.p[M.np++];
	q->cmd = cmd;
	q->off = off;
	q->len = len;
	q->buf = cmd == BIO_DELETE ? NULL : malloc(len);
	if (cmd == BIO_WRITE)
		for (i = 0; i < len; i++)
			q->buf[i] = (uint8_t)(seed + i * 13 + (i >> 8));
	if (cmd != BIO_READ)
		memset(M.touched + off, 1, len);
	q->bp = gh_io_submit(M.cp, cmd, off, len, q->buf);
}

static int
ctl(const char *verb, int force)
{
	char msg[512];

	return (gh_ctl(&g_rowr_class, verb, msg, sizeof(msg),
	    "version", 'u', (uint32_t)G_ROWR_VERSION, "nargs", 'i', 1,
	    "arg0", 's', M.name, "force", 'i', force, (char *)NULL));
}

static void
reopen(void)
{
	int error;

	if ((M.cp = gh_open(M.name, 1, 1, 1, &error)) == NULL)
		DIE("reopen %s: %d", M.name, error);
}

static void
forget_all(void)
{
	memcpy(M.u, M.lo, M.size);
	memcpy(M.known, M.loknown, M.size);
	memset(M.wr, 0, M.size / M.g + 1);
}

static void
revert_or_commit(int commit)
{
	uint64_t g, a, e;
	int error;

	batch_end();
	gh_close(M.cp);
	error = ctl(commit ? "commit" : "revert", 0);
	if (!commit) {
		if (error != 0)
			DIE("revert failed: %d", error);
		forget_all();
	} else if (M.rolower) {
		if (error == 0)
			DIE("commit into a read-only lower succeeded");
	} else {
		for (g = 0; g * M.g < M.size; g++) {
			if (M.wr[g] == 0)
				continue;
			a = g * M.g;
			e = a + M.g < M.lsize ? a + M.g : M.lsize;
			for (; a < e; a++) {
				M.lo[a] = M.u[a];
				M.loknown[a] = error == 0 && M.wr[g] == 1 &&
				    M.known[a];
			}
		}
		if (error == 0)
			forget_all();
		else if (!M.faults)
			DIE("commit failed: %d", error);
	}
	reopen();
	batch_start();
}

static void
orphan(int upper)
{
	uint8_t b[512];
	int k, error;

	/* Keep bios in flight: the batch is not waited for first. */
	gh_md_destroy(upper ? M.upper : M.lower);
	for (k = 0; k < M.np; k++) {
		error = gh_io_wait(M.p[k].bp);
		if (error != 0 && error != ENXIO && !M.faults)
			DIE("bio failed with %d around an orphaning", error);
		free(M.p[k].buf);
	}
	M.np = 0;
	gh_settle();
	if ((error = gh_io(M.cp, BIO_READ, 0, 512, b)) != ENXIO)
		DIE("read after orphaning: %d, not ENXIO", error);
	gh_close(M.cp);
	M.cp = NULL;
	gh_settle();
	if (gh_find_geom(&g_rowr_class, M.name) != NULL)
		DIE("%s outlived its %s", M.name, upper ? "upper" : "lower");
	gh_md_destroy(upper ? M.lower : M.upper);
}

static const uint32_t granules[8] = { 512, 1024, 2048, 4096, 8192, 16384,
    4096, 65536 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t lss, uss;
	uint64_t usize, i, nsec, off, len;
	const uint8_t *op;
	char msg[512];
	int error, nops, orphaned = 0;

	if (size < 2)
		return (0);
	if (!inited) {
		gh_init(3, 2, 7);
		gh_add_class(&g_rowr_class);
		inited = 1;
	}
	M.np = 0;
	M.faults = 0;
	lss = (data[0] & 1) ? 4096 : 512;
	uss = (data[0] & 2) ? 4096 : 512;
	M.ss = lss > uss ? lss : uss;
	M.g = granules[(data[0] >> 2) & 7];
	if (M.g < M.ss)
		M.g = M.ss;
	M.rolower = (data[0] & 0x80) != 0;
	M.lsize = ((uint64_t)(data[1] % 64) + 1) * 4096;
	if (lss == 512)
		M.lsize -= (uint64_t)(data[1] >> 6) * 512;
	switch ((data[0] >> 5) & 3) {
	case 1:		/* a union past the lower's end */
		M.size = M.lsize + (uint64_t)(data[1] % 16 + 1) * 4096;
		break;
	case 2:		/* a union of only the lower's start */
		M.size = M.lsize > 8192 ? M.lsize / 2 : M.lsize;
		break;
	default:
		M.size = 0;
		break;
	}
	if (M.size != 0)
		M.size = M.size / M.ss * M.ss;
	usize = (M.size != 0 ? M.size : M.lsize + M.ss) +
	    (uint64_t)(data[1] & 3) * 4096;
	snprintf(M.name, sizeof(M.name), "fz%d", seq);
	snprintf(M.lname, sizeof(M.lname), "fzl%d", seq);
	snprintf(M.uname, sizeof(M.uname), "fzu%d", seq++);
	M.lower = gh_md_new(M.lname, M.lsize, lss);
	M.upper = gh_md_new(M.uname, usize, uss);
	for (i = 0; i < M.lsize; i++)
		gh_md_data(M.lower)[i] = (uint8_t)(i * 7 + (i >> 9) + data[1]);
	gh_md_readonly(M.lower, M.rolower);
	error = gh_ctl(&g_rowr_class, "create", msg, sizeof(msg),
	    "version", 'u', (uint32_t)G_ROWR_VERSION, "nargs", 'i', 3,
	    "arg0", 's', M.name, "arg1", 's', M.lname, "arg2", 's', M.uname,
	    "granule", 'j', (intmax_t)M.g, "size", 'j', (intmax_t)M.size,
	    (char *)NULL);
	if (error != 0)
		DIE("create: %s", msg);
	reopen();
	M.size = (uint64_t)M.cp->provider->mediasize;
	if (M.size > MAXSZ)
		DIE("union of %ju bytes", (uintmax_t)M.size);
	memset(M.lo, 0, M.size);
	memcpy(M.lo, gh_md_data(M.lower), M.lsize < M.size ? M.lsize :
	    M.size);
	memset(M.loknown, 1, M.size);
	forget_all();
	batch_start();
	nsec = M.size / M.ss;
	for (nops = 0, op = data + 2; op + 6 <= data + size && nops < MAXOPS;
	    op += 6, nops++) {
		off = (((uint64_t)op[1] << 8) | op[2]) % nsec;
		len = 1 + (((uint64_t)op[3] << 8) | op[4]) % (nsec - off);
		if (len * M.ss > MAXLEN)
			len = MAXLEN / M.ss;
		off *= M.ss;
		len *= M.ss;
		switch (op[0] % 10) {
		case 0:
		case 1:
			submit(BIO_READ, off, len, 0);
			break;
		case 2:
		case 3:
		case 4:
			submit(BIO_WRITE, off, len, op[5] + nops);
			break;
		case 5:
			submit(BIO_DELETE, off, len, 0);
			break;
		case 6:
			batch_end();
			error = gh_io(M.cp, BIO_FLUSH, 0, 0, NULL);
			if (error != 0 && !M.faults)
				DIE("flush: %d", error);
			break;
		case 7:
			batch_end();
			break;
		case 8:
			revert_or_commit(op[5] & 1);
			break;
		default:
			batch_end();
			/* cases 0-3 inject a fault */
			M.faults = M.faults || op[5] % 6 < 4;
			switch (op[5] % 6) {
			case 0:
				gh_md_fail(M.upper, BIO_WRITE, EIO, op[1] % 8,
				    1 + op[2] % 4);
				break;
			case 1:
				gh_md_cap(M.upper, (uint64_t)(op[1] % 32 + 1) *
				    4096);
				break;
			case 2:
				gh_md_fail(M.lower, BIO_READ, EIO, op[1] % 8,
				    1 + op[2] % 4);
				break;
			case 3:
				gh_set_nowait_fail(20 + op[1] % 200);
				break;
			case 4:
				gh_md_fail(M.upper, BIO_WRITE, 0, 0, 0);
				gh_md_fail(M.lower, BIO_READ, 0, 0, 0);
				gh_md_cap(M.upper, 0);
				gh_set_nowait_fail(0);
				M.faults = 0;
				break;
			default:
				orphan(op[1] & 1);
				orphaned = 1;
				break;
			}
			break;
		}
		if (orphaned)
			break;
	}
	if (!orphaned) {
		batch_end();
		gh_set_nowait_fail(0);
		M.faults = 0;
		gh_md_fail(M.lower, BIO_READ, 0, 0, 0);
		submit(BIO_READ, 0, M.size, 0);
		batch_end();
		gh_close(M.cp);
		if ((error = ctl("destroy", 0)) != 0)
			DIE("destroy: %d", error);
		gh_md_destroy(M.lower);
		gh_md_destroy(M.upper);
	}
	gh_set_nowait_fail(0);
	gh_settle();
	if (gh_find_geom(&g_rowr_class, M.name) != NULL)
		DIE("%s is still there", M.name);
	if (gh_violations() != 0)
		DIE("%u GEOM rule violations", gh_violations());
	return (0);
}
