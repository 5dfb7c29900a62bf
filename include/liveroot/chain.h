/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * chain.h - the probe chain and the plan of liveroot-init (lib/probe).
 *
 * The chain walks the strategies of live.probe in order.  preload and net
 * are "immediate": they are asked once, at their place.  local, ventoy and
 * findiso look at block devices; consecutive device strategies form one
 * wait phase in which every device (present, or appearing by a kernel event
 * until live.timeout) is tried with those strategies in their order.  So
 * "preload,local,ventoy,findiso,net" means: the initramfs, then devices
 * until found or timeout, then the network.
 *
 * Each strategy answers PROBE_FOUND (a source), PROBE_NOT_HERE (try the
 * next) or PROBE_ERROR (a real error: logged with its diag, the chain goes
 * on, and the last error is kept for the diagnostic block).  Every attempt
 * is logged through the caller's log callback.  The chain itself does no
 * I/O: the platform supplies the strategies (struct probe_ops).
 *
 * The plan is plain data: source -> [toram] -> uzip -> rowr (RAM upper,
 * capped) -> nbd -> mount -> hand-off.  A lazy net source (live.fetch=lazy,
 * issue 13) is http -> fill (RAM) -> uzip with IMAGE.hashes -> rowr -> nbd:
 * the source's hashes go into the stack spec (plan_stack_spec).  It is built before the probe (the
 * source still unknown: init-plan prints that) and again after it.
 *
 * The root image's file system (fmt_fs.h, by its magic after uzip) picks
 * the shape on Linux: a block file system the kernel writes (ext4, xfs,
 * btrfs, f2fs) gets the rowr overlay as above; a read-only one (squashfs,
 * erofs) is served read-only (no rowr), mounted read-only on
 * PLAN_LOWER_DIR, and an overlayfs with its upper in a tmpfs on
 * PLAN_RW_DIR, capped at the overlay cap, is the root (as live-boot
 * does).  A squashfs holding LiveOS/rootfs.img (dracut's layout) is only
 * the container: that file is the root, through rowr on PLAN_INNER_DEV
 * (a block-level overlay, as dracut's dm-snapshot).  Both mount points sit
 * under /run, which the hand-off moves into the live root, so they stay
 * visible there.
 */
#ifndef LIVEROOT_CHAIN_H
#define LIVEROOT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "bdev.h"
#include "config.h"
#include "fmt_fs.h"
#include "diag.h"
#include "stack.h"

enum probe_outcome {
	PROBE_FOUND = 0,
	PROBE_NOT_HERE,
	PROBE_ERROR
};

/* What a strategy found. */
struct probe_source {
	enum live_strategy	strategy;
	char			device[1040];	/* device, initramfs file or URL */
	char			detail[400];	/* "ISO /isos/x.iso label LIVE" */
	uint64_t		size;		/* bytes of the root image */
	size_t			nextents;	/* extents on device (0: a file/RAM) */
	struct bdev		*bdev;		/* the image's bytes; owned */
	char			sig[4096];	/* IMAGE.sig's text (signify) */
	size_t			siglen;		/* 0: none found beside it */
	/*
	 * The lazy net source (live.fetch=lazy): bdev is a fill device over
	 * HTTP (fill.h), not a copy in RAM.  fill_chunk: its chunk size.
	 * hashes (IMAGE.hashes, hashes_len bytes, owned, freed by
	 * probe_source_clear) check every cluster as it is read: a lazy
	 * source's, or a download's whose server serves no ranges.
	 * hashes_pinned: the signature or live.sha256= verified them, so
	 * the image is never hashed whole (it is not read whole first).
	 * NULL when there was none (or none to be trusted).
	 */
	int			lazy;
	int			hashes_pinned;
	int			prefetch;	/* the background fill runs */
	unsigned		fill_share;	/* its share, 1..100 */
	uint32_t		fill_chunk;
	void			*hashes;
	size_t			hashes_len;
	char			hashes_name[160];	/* URL.hashes, redacted */
};

/* One step of the chain: an immediate strategy, or a device wait phase. */
struct probe_step {
	int			devices;	/* 1: a wait phase over devices */
	enum live_strategy	strategy;	/* immediate: which */
	enum live_strategy	order[LIVE_S_COUNT]; /* device phase: in order */
	size_t			norder;
};

/* Split c->probe into steps; returns the number of steps (<= LIVE_S_COUNT). */
size_t	probe_chain_steps(const struct live_config *c,
	    struct probe_step *steps, size_t max);

struct probe_ops {
	/* Immediate strategies (preload, net); NULL = "not available here". */
	enum probe_outcome (*immediate)(void *arg, enum live_strategy s,
	    const struct live_config *c, struct probe_source *out,
	    struct diag *d);
	/* A wait phase: try the strategies (in order) on every device until
	 * found or c->timeout_s; NULL = no devices on this platform. */
	enum probe_outcome (*devices)(void *arg, const struct probe_step *st,
	    const struct live_config *c, struct probe_source *out,
	    struct diag *d);
	/* One log line, without "liveroot: " and without a newline. */
	void	(*log)(void *arg, const char *line);
	void	*arg;
};

struct probe_chain_result {
	int		found;
	size_t		attempts;
	size_t		errors;
	struct diag	last_error;	/* code 0 when none */
};

/*
 * Run the chain.  0 with r->found = 1 and *src filled when found; ENOENT
 * when nothing was found (r says how many strategies erred, last_error the
 * last one).  Never fails otherwise.
 */
int	probe_chain_run(const struct live_config *c, const struct probe_ops *ops,
	    struct probe_source *src, struct probe_chain_result *r);

void	probe_source_clear(struct probe_source *s);	/* drops s->bdev */

/* --- the plan ------------------------------------------------------------ */

enum plan_platform { PLAN_LINUX = 0, PLAN_FREEBSD };

#define PLAN_LOWER_DIR	"/run/liveroot/lower"	/* read-only root */
#define PLAN_RW_DIR	"/run/liveroot/rw"	/* tmpfs: upper/, work/ */
#define PLAN_INNER_DEV	"/dev/nbd1"		/* dracut's rootfs.img */
#define PLAN_DRACUT_IMAGE "LiveOS/rootfs.img"	/* inside the squashfs */
/*
 * live.persist's file system is mounted here, on the initramfs' own root,
 * not under /run: the NBD server keeps that root after the hand-off, so
 * its paths stay valid, and the live system neither sees nor unmounts it
 * (the server unmounts it when it has saved the overlay, at shutdown).
 */
#define PLAN_PERSIST_DIR "/liveroot-persist"

struct live_plan {
	enum plan_platform	platform;
	int			have_source;
	struct probe_source	source;		/* bdev is never set here;
						   hashes borrowed from the
						   caller's source */
	enum live_strategy	probe[LIVE_S_COUNT];
	size_t			nprobe;
	unsigned		timeout_s;
	int			toram;
	int			uzip;		/* 1 yes, 0 raw image, -1 decide by magic */
	uint64_t		ram_bytes;
	uint64_t		overlay_cap;	/* RAM upper cap */
	uint32_t		granule;
	uint32_t		nbd_blksize;	/* logical block size served */
	char			nbd_dev[32];
	char			fstype[16];
	char			newroot[64];
	enum live_handoff	handoff;	/* resolved: never AUTO */
	char			init[256];
	int			shell;
	/* The root image's file system (plan_set_rootfs): FMT_FS_UNKNOWN
	 * until it was read, then the image's (after uzip). */
	enum fmt_fs		rootfs;
	/* A read-only root: -1 look for PLAN_DRACUT_IMAGE in it at boot,
	 * 1 it is there (plan_set_inner) and is the root, 0 it is not. */
	int			inner;
	enum fmt_fs		innerfs;
	char			lowerdir[64];
	char			rwdir[64];
	char			inner_dev[32];
	/*
	 * live.persist (Linux, a writable root): the rowr upper is the file
	 * persist_upper (PLAN_PERSIST_DIR + the file) with its map beside
	 * it, made on the first boot; persist_lower is what the map records
	 * as its lower.  persist_size: live.persist.size, 0 = the union's.
	 * persist_other: asked for where it is not built (FreeBSD, or a
	 * read-only root's overlayfs): said by the plan, RAM upper.
	 */
	int			persist;
	int			persist_other;
	char			persist_label[64];
	char			persist_file[192];
	char			persist_upper[256];
	char			persist_lower[320];
	uint64_t		persist_size;
	/*
	 * The network (live.url= given and net in live.probe; Linux):
	 * net_fetch, prefetch and fetch_share as configured; before the
	 * probe the plan names the lazy stack and its fallback.
	 */
	int			net;
	enum live_fetch		net_fetch;
	int			net_prefetch;
	unsigned		net_share;
};

/*
 * Build the plan from the config, the source (NULL before the probe) and
 * the machine's RAM.  uzip: 1/0 when known, -1 to decide at run time.
 */
void	plan_build(const struct live_config *c, const struct probe_source *src,
	    int uzip, uint64_t ram_bytes, enum plan_platform platform,
	    struct live_plan *p);

/* No persistence after all (its file system or file cannot be used). */
void	plan_drop_persist(struct live_plan *p);

/*
 * The root stack the plan describes (the found image -> uzip as p->uzip
 * says -> rowr over a RAM upper of p->overlay_cap bytes, or the persistent
 * upper file of live.persist, p->granule): the one spec both the printed
 * plan (its uzip and rowr lines) and the boot (liveroot-init's NBD server)
 * are made of.  The spec points into p.
 */
void	plan_stack_spec(const struct live_plan *p, struct stack_spec *s);

/*
 * The root image's file system, once read: fstype becomes its kernel name;
 * a read-only kind (squashfs, erofs) drops the rowr layer (plan_stack_spec)
 * and is looked into for PLAN_DRACUT_IMAGE (inner = -1).  FMT_FS_UNKNOWN
 * keeps today's ext4 plan.
 */
void	plan_set_rootfs(struct live_plan *p, enum fmt_fs fs);
/* A read-only root holds the dracut image (fs: its file system) or not. */
void	plan_set_inner(struct live_plan *p, int found, enum fmt_fs fs);
/* 1 when the root is the read-only image itself with an overlayfs. */
int	plan_uses_overlayfs(const struct live_plan *p);
/* The device mounted on newroot (nbd_dev, or inner_dev for dracut's);
 * NULL when an overlayfs is the root. */
const char *plan_root_dev(const struct live_plan *p);
/*
 * The stack of dracut's rootfs.img (the file, raw): rowr over a RAM upper
 * of the overlay cap, as the main stack of a writable root.
 */
void	plan_inner_spec(const struct live_plan *p, struct stack_spec *s);
/*
 * Read the file system of img as the plan's stack exposes it (through
 * uzip when p->uzip says so or the magic says so; one cluster cached, no
 * thread) into *fs; img stays the caller's.  0, or an error with d set
 * (a damaged uzip image).
 */
int	plan_detect_fs(struct bdev *img, const struct live_plan *p,
	    enum fmt_fs *fs, struct diag *d);

/* The plan as numbered text lines ("1. source: ..."), one call per line. */
void	plan_lines(const struct live_plan *p,
	    void (*line)(void *arg, const char *text), void *arg);

/* 1 when buf (at least 16 bytes of an image) starts like a uzip image. */
int	plan_is_uzip_magic(const void *buf, size_t len);

#endif
