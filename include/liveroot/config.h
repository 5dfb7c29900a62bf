/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.h - the live.* configuration of liveroot-init (lib/probe).
 *
 * One struct live_config holds every live.* key (liveroot-init(8)), filled from
 * defaults, then /etc/liveroot/defaults (key=value lines), then the kernel
 * command line (Linux /proc/cmdline) or kenv (FreeBSD); a later source wins,
 * and within one source a repeated key's last value wins.  The familiar
 * aliases map onto the live.* keys: root=live:CDLABEL=X and root=live:LABEL=X
 * set live.label, root=live:http(s)://... sets live.url, findiso=PATH sets
 * live.iso.
 *
 * Nothing here fails the boot: a bad value (a size that does not parse, an
 * unknown strategy, a timeout that is not a number) keeps the default and is
 * recorded as a problem with a message naming the key, the value and what is
 * accepted; an unknown live.* key is recorded too.  The caller reports
 * them on the console.  Keys outside live.* and the aliases are ignored
 * (the live system's own init reads them).
 *
 * Fixed-size storage only; no allocation.  Not thread-safe per struct.
 */
#ifndef LIVEROOT_CONFIG_H
#define LIVEROOT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* The strategies of the probe chain, in their default order. */
enum live_strategy {
	LIVE_S_PRELOAD = 0,
	LIVE_S_LOCAL,
	LIVE_S_VENTOY,
	LIVE_S_FINDISO,
	LIVE_S_NET,
	LIVE_S_COUNT
};

enum live_handoff {
	LIVE_HANDOFF_AUTO = 0,		/* switch_root on Linux, reroot on FreeBSD */
	LIVE_HANDOFF_SWITCH_ROOT,	/* PID 1 moves the new root over / */
	LIVE_HANDOFF_CHROOT,		/* a child chroots (the negative test) */
	LIVE_HANDOFF_REROOT		/* FreeBSD reboot -r */
};

/* live.geom: the FreeBSD overlay class (the Linux init ignores the key). */
enum live_geom {
	LIVE_GEOM_AUTO = 0,	/* geom_rowr when it loads, else gunion */
	LIVE_GEOM_ROWR,		/* geom_rowr (liveroot's class) */
	LIVE_GEOM_GUNION	/* gunion (FreeBSD 14 base) */
};

/* live.fetch: how the net strategy reads a root image over HTTP. */
enum live_fetch {
	LIVE_FETCH_LAZY = 0,	/* Range requests, in RAM as read and in the
				   background (issue 13); the whole download
				   when the server serves no ranges */
	LIVE_FETCH_FULL		/* the whole image into RAM first */
};

/* What kind of note a problem is. */
enum live_problem_kind {
	LIVE_P_INVALID = 0,	/* bad value, default kept */
	LIVE_P_UNKNOWN,		/* unknown live.* key */
	LIVE_P_UNSUPPORTED	/* accepted, not supported here */
};

#define LIVE_MAX_PROBLEMS	16
#define LIVE_PROBLEM_LEN	256

struct live_problem {
	enum live_problem_kind	kind;
	char			key[48];
	char			msg[LIVE_PROBLEM_LEN];
};

/* A word of another tool's command line, mapped or not needed (config.c). */
#define LIVE_MAX_NOTES		16
struct live_note {
	char			key[48];
	char			msg[160];
};

/* Where a value came from (for init-plan and the boot log). */
enum live_source {
	LIVE_SRC_DEFAULT = 0,
	LIVE_SRC_FILE,		/* /etc/liveroot/defaults */
	LIVE_SRC_CMDLINE
};

#define LIVE_DEFAULT_IMAGE	"/rootfs.uzip"
#define LIVE_DEFAULT_INIT	"/sbin/init"
#define LIVE_DEFAULT_TIMEOUT	30
#define LIVE_DEFAULT_OVERLAY_PCT 50
/* live.fetch.share: the background fill's share of the time while the boot
 * reads (full speed once it is quiet); bench/netboot: 100 kept a 100 Mbit/s
 * link busy under the boot (0.23x dracut, 25% of the image before the
 * marker), 25 met the targets (0.15x, 6%). */
#define LIVE_DEFAULT_FETCH_SHARE 25
/* live.persist=LABEL=NAME without :/FILE: this file on that file system. */
#define LIVE_DEFAULT_PERSIST_FILE "/liveroot.overlay"

struct live_config {
	/* live.probe: order and subset; nprobe entries of probe[] are valid. */
	enum live_strategy	probe[LIVE_S_COUNT];
	size_t			nprobe;
	int			probe_set;	/* live.probe given explicitly */

	char			label[64];	/* "" = any */
	char			image[256];
	char			iso[256];	/* "" = findiso off */
	char			url[1024];	/* "" = net off */
	char			sha256[65];	/* "" = none; lowercase hex */
	char			pubkey[256];	/* signify key in the initramfs;
					   "": INITRAMFS_PUBKEY if there */
	unsigned		timeout_s;
	int			toram;

	/* live.overlay: bytes (overlay_bytes != 0) or a share of RAM. */
	uint64_t		overlay_bytes;
	unsigned		overlay_pct;

	/* live.persist=LABEL=NAME[:/FILE]: the overlay's upper in FILE on the
	 * file system labelled NAME (persist[] as given; "" = RAM upper). */
	char			persist[256];
	char			persist_label[64];
	char			persist_file[192];	/* absolute */
	uint64_t		persist_size;	/* live.persist.size; 0 = the
						   union's size */
	enum live_handoff	handoff;
	enum live_geom		geom;
	char			init[256];
	int			shell;
	int			debug;
	int			check;		/* live.check: read and verify
						   the whole image before use */
	/* live.fetch, live.fetch.prefetch, live.fetch.share (1..100; 0 =
	 * not given: LIVE_DEFAULT_FETCH_SHARE) */
	enum live_fetch		fetch;
	int			prefetch;
	unsigned		fetch_share;

	/* Source of each key, indexed by the key table of config.c. */
	enum live_source	src[24];	/* K_COUNT (21) <= 24 */

	struct live_problem	problems[LIVE_MAX_PROBLEMS];
	size_t			nproblems;
	size_t			problems_dropped;	/* beyond the array */

	/* dracut/live-boot/archiso/casper words: "mapped: ..." and "not
	 * needed: ..." (the ignored ones are problems, "unsupported") */
	struct live_note	notes[LIVE_MAX_NOTES];
	size_t			nnotes;
	size_t			notes_dropped;
};

/* Fill every key with its default. */
void	config_init(struct live_config *c);

/*
 * Parse a kernel command line (Linux rules: whitespace separates words,
 * double quotes group and are removed, "--" ends the kernel's part).
 * Returns the number of problems added (0 = all good).
 */
size_t	config_parse_cmdline(struct live_config *c, const char *cmdline);

/*
 * Parse /etc/liveroot/defaults content: key=value lines, '#' comments,
 * blank lines; the value may be double-quoted.  Same keys as the command
 * line.  Returns the number of problems added.
 */
size_t	config_parse_defaults(struct live_config *c, const char *text,
	    size_t len);

/*
 * Apply one key=value pair (value may be NULL for a bare word).  Returns 1
 * when the key was a live key or alias, 0 when it is not ours.  Invalid
 * values are recorded as problems.
 */
int	config_set(struct live_config *c, const char *key, const char *value,
	    enum live_source src);

/* After all sources: apply rules that depend on several keys (the default
 * probe order when live.url is given).  Idempotent. */
void	config_finish(struct live_config *c);

/* The overlay cap in bytes for a machine with ram_bytes of RAM. */
uint64_t config_overlay_bytes(const struct live_config *c, uint64_t ram_bytes);

/* "4096", "64K", "16M", "2G" (binary units, optional B/iB).  0 or EINVAL/ERANGE. */
int	config_parse_size(const char *s, uint64_t *out);
/* The multiplier of a size's unit letter: k, m, g, t (either case); else 1. */
uint64_t config_size_unit(char c);

const char *config_strategy_name(enum live_strategy s);
/* -1 when the name is not a strategy. */
int	config_strategy_from_name(const char *name, size_t len);
const char *config_handoff_name(enum live_handoff h);
const char *config_geom_name(enum live_geom g);
const char *config_fetch_name(enum live_fetch f);
const char *config_problem_kind_name(enum live_problem_kind k);

/*
 * Iterate the keys for printing: returns 0 past the last key, else fills
 * *key and writes the current value as text into buf.
 */
int	config_key_at(const struct live_config *c, size_t i, const char **key,
	    char *buf, size_t len, enum live_source *src);

#endif
