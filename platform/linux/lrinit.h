/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lrinit.h - the Linux platform layer of liveroot-init: the library
 * liveroot_linux (platform/linux/meson.build), used by liveroot-init and
 * its unit tests.
 *
 * Thin wrappers around what only the kernel can do: the console log with
 * uptime stamps, module loading with dependencies, block device discovery
 * by netlink uevents (the message read by fmt_uevent.h), the search's I/O,
 * the NBD attach with a server process that outlives the hand-off, the
 * network link and DHCP, PID 1's chores and the hand-off itself.  Every
 * decision that needs no kernel (config, order, plan, retries, hints)
 * lives in lib/probe.
 *
 * PID 1 is single-threaded but for the module loader's pool (modules.c),
 * which never logs and is joined by lri_modules_wait before the server
 * process is forked; every other thread (uzip workers, NBD workers,
 * NBD_DO_IT) lives in the forked server process.
 */
#ifndef LIVEROOT_LRINIT_H
#define LIVEROOT_LRINIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <liveroot/bdev.h>
#include <liveroot/chain.h>
#include <liveroot/config.h>
#include <liveroot/diag.h>
#include <liveroot/initramfs.h>
#include <liveroot/locate.h>
#include <liveroot/os.h>
#include <liveroot/report.h>

/* --- log.c: "[   3.214] liveroot: ..." on the console and in memory ----- */
void	lri_log(const char *fmt, ...) LR_PRINTF(1, 2);
void	lri_log_raw(const char *line);		/* adds prefix and newline */
double	lri_uptime(void);
/* Write the whole log so far to path (directories made); 0 or errno. */
int	lri_log_save(const char *path);
extern int lri_debug;

/* --- modules.c: what the devices ask for, in parallel ------------------ */
struct lri_mod_stats {
	unsigned	loaded, present, builtin, missing, failed;
	unsigned	unasked;	/* listed drivers no device asked for */
	unsigned	background;	/* still loading in the background */
	double		seconds;	/* time the caller waited for loads */
};
struct lri_mods;
/*
 * Read list_path (one module a line, args after the name) and, under
 * /lib/modules/KVER, modules.dep and modules.alias; load every staged
 * module the modalias of a device in /sys asks for (coldplug), each with
 * its dependencies and once, by a pool of threads joined before the
 * return, /sys scanned again until no new device asks for more; then
 * start loading the listed modules no device alias names (nbd, ext4, ...)
 * in the background: lri_modules_wait joins those threads, and must be
 * called before anything needs them or forks a child that does more than
 * exec.  *mp is the table for the calls below (NULL when nothing could be
 * read; every call accepts NULL).
 */
int	lri_modules_start(const char *list_path, struct lri_mods **mp);
/* Wait for the background's loads (their threads end). */
void	lri_modules_wait(struct lri_mods *m);
/* Load the module name now if it is staged and not loaded yet (af_packet
 * before udhcpc), from the background's queue if it is there. */
void	lri_modules_need(struct lri_mods *m, const char *name);
/* A new device's modalias (a uevent's MODALIAS=): queue what it asks for. */
void	lri_modules_note(struct lri_mods *m, const char *alias, size_t len);
/* Look at /sys again (after a lost uevent): queue what is new. */
void	lri_modules_rescan(struct lri_mods *m);
/* Load what new devices asked for (helpers joined): the number loaded. */
unsigned lri_modules_flush(struct lri_mods *m);
void	lri_modules_stats(struct lri_mods *m, struct lri_mod_stats *st);
void	lri_modules_free(struct lri_mods *m);

/* --- devices.c: block devices by uevent -------------------------------- */
#define LRI_MAXDEV	128

struct lri_dev {
	char	name[32];
	int	partition;		/* a partition (not probed itself) */
	int	gone;
	int	dirty;			/* appeared or changed: probe again */
	double	appeared;		/* uptime */
	uint64_t size;
	int	probed;
	int	err;			/* errno of the last open/probe */
	double	retry_at;		/* probe again then (0: no) */
	unsigned tries;			/* transient failures so far */
	char	describe[400];		/* probe_describe_device */
	char	seen[1100];		/* locate's "what was here" */
};

struct lri_devs {
	int		fd;		/* netlink uevent socket, -1 if none */
	struct lri_mods	*mods;		/* modaliases of new devices go here */
	struct lri_dev	dev[LRI_MAXDEV];
	size_t		n;
	double		wait_start, wait_end;
};

int	lri_devs_open(struct lri_devs *ds);
/* Scan /sys/class/block for devices not yet known. Returns new ones. */
int	lri_devs_scan(struct lri_devs *ds);
/* Wait up to timeout_ms for uevents; returns the number of block devices
 * that appeared or changed (0 on timeout). */
int	lri_devs_wait(struct lri_devs *ds, int timeout_ms);
/* One uevent message: 1 when a disk is new or changed (to probe), else 0. */
int	lri_devs_event(struct lri_devs *ds, const void *msg, size_t len);

/* --- nbdattach.c -------------------------------------------------------- */
struct lri_stack_opts {
	struct stack_spec spec;		/* the plan's (plan_stack_spec) */
	uint32_t	blksize;	/* the plan's NBD logical block size */
	const char	*nbd_dev;	/* the plan's, "/dev/nbd0" */
	char		**argv;		/* main's argv, for the '@' name */
	const char	*persist_mnt;	/* live.persist's mount point: the
					 * server unmounts it after its last
					 * save; NULL: none */
};
/*
 * Fork the server process: it builds the stack spec describes on img
 * (stack_open_on: uzip, then rowr over a capped RAM upper), attaches it to
 * nbd_dev over a socketpair and serves it for the life of the system.
 * img is consumed (the parent's copy is dropped).  On return 0 the device
 * is live; *size is its size.
 */
int	lri_stack_start(struct bdev *img, const struct lri_stack_opts *o,
	    pid_t *server, uint64_t *size, int *uzip, struct diag *d);

/* --- persist.c ---------------------------------------------------------- */
struct live_plan;
struct lri_persist {
	char	dev[48];	/* /dev/vda1 */
	char	fstype[16];	/* ext4, vfat, exfat */
	int	mounted;
};
/*
 * Finds the file system labelled p->persist_label (waiting a little for
 * late devices), loads its driver and mounts it read-write on
 * PLAN_PERSIST_DIR, with the directories of the file made.  0, or an
 * error whose message names the label, what was seen and the fix.
 */
int	lri_persist_mount(struct lri_devs *ds, struct lri_mods *mods,
	    const struct live_plan *p, struct lri_persist *ps, struct diag *d);
/* What the overlay may hold: the union's size, at most the free space
 * there plus what the file already has, at most live.persist.size. */
uint64_t lri_persist_cap(const struct live_plan *p, uint64_t union_size);
void	lri_persist_umount(struct lri_persist *ps);

/* --- handoff.c ---------------------------------------------------------- */
int	lri_mount_root(const char *dev, const char *fstype, const char *dir,
	    struct diag *d);
/* The root image's file system through the plan's stack (logged); unknown
 * when it cannot be read. */
enum fmt_fs lri_root_fs(const struct live_plan *p, struct bdev *img);
/*
 * A read-only root (p->rootfs squashfs or erofs, served on p->nbd_dev):
 * mounted read-only on p->lowerdir; dracut's LiveOS/rootfs.img in it is
 * served through rowr on p->inner_dev (a second server process) and
 * mounted on p->newroot, else an overlayfs (tmpfs upper capped at
 * p->overlay_cap on p->rwdir) is.  p->inner says which.
 */
int	lri_mount_readonly_root(struct live_plan *p, char **argv,
	    struct diag *d);
/* overlayfs on newroot: lowerdir lower, upper/ and work/ in a tmpfs of cap
 * bytes mounted on rwdir. */
int	lri_mount_overlay(const char *lower, const char *rwdir, uint64_t cap,
	    const char *newroot, struct diag *d);
/*
 * Make the file system run out of space before the RAM overlay does: the
 * kernel's nbd driver turns the overlay's ENOSPC into EIO (and ext4 then
 * aborts its journal), so free space beyond what the overlay can take is
 * taken by a preallocated file (unwritten extents: no data is written)
 * in lost+found.  The live system then sees ENOSPC and keeps running.
 */
int	lri_overlay_reserve(const char *newroot, const char *dev, uint64_t cap,
	    uint64_t *reserved, char *where, size_t wlen, struct diag *d);
/* Check that init exists and is executable inside newroot. */
int	lri_check_init(const char *newroot, const char *init, struct diag *d);
/* PID 1: move mounts, delete the initramfs, MS_MOVE, chroot, exec.  Returns
 * only on failure. */
int	lri_switch_root(const char *newroot, const char *init, struct diag *d);
/* A child chroots and execs init; PID 1 keeps waiting.  Returns the pid. */
int	lri_chroot_child(const char *newroot, const char *init, pid_t *pid,
	    struct diag *d);

/*
 * systemd's return to the initramfs at shutdown: /run/initramfs/shutdown
 * (the static program of shutdown.c, carried inside liveroot-init) and the
 * mount points systemd binds into /run/initramfs.  lri_switch_root calls
 * it while /run is the initramfs'.
 */
int	lri_shutdown_prepare(struct diag *d);

/* --- netup.c ------------------------------------------------------------ */
/* Bring up lo and every interface, run udhcpc until one gets a lease
 * (bounded by timeout_s).  The interface name goes to ifname. */
int	lri_net_up(unsigned timeout_s, char *ifname, size_t len,
	    struct diag *d);

/* --- boot.c: PID 1's chores -------------------------------------------- */
void	lri_early_mounts(void);
/* live.toram: copy the image into RAM when it fits beside keep bytes. */
void	lri_to_ram(struct probe_source *src, uint64_t keep);
/* Only reap children, forever. */
void	lri_rest_forever(void) __attribute__((noreturn));
/* A failed boot: the rescue shell (live.shell=1), else a halt. */
void	lri_rescue(int shell) __attribute__((noreturn));

/* --- search.c: the search's I/O; what it sees goes into the report ----- */
/* Ventoy's os_param, kept in *param (allocated) for locate. */
void	lri_os_param_read(struct probe_report *r, unsigned char **param,
	    size_t *plen);
enum probe_outcome lri_strategy_preload(const struct live_config *c,
	    struct probe_report *r, struct probe_source *out, struct diag *d);
enum probe_outcome lri_strategy_net(const struct live_config *c,
	    struct probe_report *r, struct probe_source *out, struct diag *d);
/* Open /dev/NAME and search it with lo; a device that is not ready is
 * given a retry time (dv->retry_at). */
enum probe_outcome lri_probe_dev(struct lri_dev *dv,
	    const struct locate_opts *lo, struct probe_source *out,
	    struct diag *d);
/* Log every device after a failed search; count the disks into r. */
void	lri_devs_list(struct lri_devs *ds, struct probe_report *r);

/* --- small helpers (log.c; files: os_read_file, os_mkdir_p of os.h) ---- */
uint64_t lri_ram_bytes(void);

/* --- the image checked before use (check.c) ------------------------------ */
struct fetch_opts;
/* IMAGE.sig from a file beside it / fetched beside the URL, into out. */
void	lri_sig_file(const char *image, struct probe_source *out);
void	lri_sig_fetch(const struct live_config *c,
	    const struct fetch_opts *image, struct probe_source *out);
/*
 * The signature (the initramfs has a public key) and live.sha256= (not
 * a download: checked as it came) over the image, in one pass; 0, or an
 * errno with d naming the image, the key and the fix.
 */
int	lri_check_image(const struct live_config *c, struct probe_source *src,
	    struct diag *d);
/* The signify public key the initramfs holds, or NULL: none wanted. */
const char *lri_pubkey(const struct live_config *c);
/* A small file at url fetched whole (1..max bytes) into *buf (malloc'd). */
int	lri_fetch_small(const struct fetch_opts *base, const char *url,
	    size_t max, void **buf, size_t *len, long *status, struct diag *d);
/*
 * A lazy boot's IMAGE.hashes (buf, len bytes, fetched from url; name for
 * messages): live.sha256= must be its sha256, and with a signify key in the
 * initramfs URL.sig (fetched here) its signature.  0 with how saying by
 * what; ENOENT nothing pins it; EBADMSG live.sha256= is another file's (the
 * image's, maybe); ENODATA no URL.sig; another errno a bad signature.
 */
int	lri_check_hashes(const struct live_config *c,
	    const struct fetch_opts *fo, const char *url, const char *name,
	    const void *buf, size_t len, char *how, size_t howlen,
	    struct diag *d);

#endif
