/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plan_freebsd_steps.h - the FreeBSD plan as data, and its executor
 * (lib/probe/plan_freebsd_steps.c).
 *
 * plan_freebsd_steps() builds the FreeBSD plan as an ordered list of
 * steps, each one base-system action with its arguments fixed at build
 * time (load a module, wait for a device, attach an md, run a GEOM verb
 * with a fixed argv, mount, set a kenv variable, reroot), with notes that
 * say why.  The one list has two readers: plan_freebsd_commands()
 * (plan_freebsd.c) renders it as an sh(1) script, a line per step and a
 * "# why" line per note, and fbsd_exec() runs it through a table of
 * operations (struct fbsd_ops).  So the script and the executor cannot
 * disagree about what is done, in which order, with which arguments.  The decisions are
 * plan_freebsd.c's (plan_freebsd_plan_handoff(), plan_freebsd_reroot_safe()
 * ...): reroot exactly when nothing under the new root hangs on a vnode of
 * the old root.
 *
 * Two implementations of the operations exist: FreeBSD's
 * (platform/freebsd/ops.c: kldload(2), DIOCGMEDIASIZE, MDIOCATTACH on
 * /dev/mdctl, nmount(2), kenv(2), reboot(2) with RB_REROOT, and fork+execv
 * with a fixed argv for the GEOM verbs, mount_cd9660, fetch and gpart), and
 * a recording one (tests/unit/test_fbsd_exec.c) that writes each operation
 * as the base-tool calls the plan's script makes for it, so one log format
 * (tests/golden/freebsd/NAME.calls) holds both the script run against
 * recording stand-ins and the executor run against recording ops.  Neither
 * test is a FreeBSD run.
 *
 * The run-time values the script keeps in sh variables are the executor's
 * state: "size" (the lower's bytes: a device's media size, a file's size,
 * fetch -s) and "root" (the overlay's provider).  A step whose argument
 * depends on them says so by a flag, never by text in a value (a URL or an
 * image path is never expanded).  The one branch, live.geom=auto, is a
 * FBSD_KLDTRY step followed by steps that run only when it loaded
 * (FBSD_IF_LOADED) or only when it did not (FBSD_IF_FAILED).
 *
 * Failure follows the script: a wait that times out takes the diagnostic
 * path (the block, then halt, or exit 1 to init(8)'s single-user shell with
 * live.shell=1), any other failed step ends the run with status 1 and a
 * console line naming what failed and the fix.
 *
 * No allocation: struct fbsd_steps holds the steps and their strings.
 * Stateless functions; one struct per thread.
 */
#ifndef LIVEROOT_PLAN_FREEBSD_STEPS_H
#define LIVEROOT_PLAN_FREEBSD_STEPS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"
#include "plan_freebsd.h"

enum fbsd_step_kind {
	FBSD_KLDLOAD = 1,	/* a: module (kldload -n); b: the message
				   when it fails, or NULL (a generic one) */
	FBSD_KLDTRY,		/* a: module; loaded or not decides the branch */
	FBSD_WAIT,		/* a: device, secs; b: message (die when die) */
	FBSD_MKDIR,		/* a: directory (mkdir -p) */
	FBSD_MOUNT,		/* a: fstype, b: from (root: the state's), c: on,
				   d: options or NULL */
	FBSD_UMOUNT,		/* a: mount point */
	FBSD_EXEC,		/* argv: a base tool, fixed argv */
	FBSD_MDATTACH,		/* md */
	FBSD_MDDETACH,		/* md.unit */
	FBSD_DEVSIZE,		/* size = the media size of a */
	FBSD_FILESIZE,		/* size = the size of the file a */
	FBSD_FETCHSIZE,		/* size = fetch -s a; else the diagnostic
				   path with b */
	FBSD_FETCH,		/* a: URL into the device b (padded to 1 MiB) */
	FBSD_SHA256,		/* the first size bytes of a hash to b; else c */
	FBSD_COPY,		/* a into the device b (1 MiB blocks, padded) */
	FBSD_TRUNCATE,		/* a: file, to size bytes (sparse) */
	FBSD_ROOT,		/* root = a */
	FBSD_LOG,		/* a: a console line ("liveroot: " + a);
				   with_size: size follows it, then c */
	FBSD_KENV,		/* kenv a=b (with_root: b then the root) */
	FBSD_REROOT,		/* reboot -r */
	FBSD_NOMEDIUM,		/* a: the diagnostic path's message */
	FBSD_NOTE		/* a: why the next steps (the script's "# a"
				   line); the executor skips it */
};

enum fbsd_step_cond {
	FBSD_ALWAYS = 0,
	FBSD_IF_LOADED,		/* the last FBSD_KLDTRY loaded its module */
	FBSD_IF_FAILED		/* it did not */
};

#define FBSD_MAX_STEPS		160
#define FBSD_MAX_ARGV		(FBSD_MAX_EXTENTS + 4)
#define FBSD_ARGV_POOL		(FBSD_MAX_EXTENTS * 12 + 64)
#define FBSD_ARENA		32768

/* An md(4) to attach: mdconfig -a -t TYPE [-o readonly] [-f FILE] [-s N] -u U */
struct fbsd_md {
	int		unit;
	int		swap;		/* 1: swap-backed; 0: vnode over file */
	int		readonly;
	int		size_from_state; /* the size is the state's size */
	int		mib;		/* size rounded up to whole MiB (-s Nm);
					   else bytes (-s Nb) */
	uint64_t	bytes;		/* when not size_from_state (swap) */
	const char	*file;		/* vnode */
};

struct fbsd_step {
	enum fbsd_step_kind	kind;
	enum fbsd_step_cond	cond;
	const char		*a, *b, *c, *d;
	unsigned		secs;		/* FBSD_WAIT */
	int			die;		/* FBSD_WAIT: die, not nomedium */
	int			from_root;	/* FBSD_MOUNT: from is root */
	int			with_root;	/* FBSD_KENV */
	int			with_size;	/* FBSD_LOG */
	int			quiet;		/* FBSD_KLDTRY: no error text */
	struct fbsd_md		md;
	const char *const	*argv;		/* FBSD_EXEC: NULL-terminated */
};

struct fbsd_steps {
	struct fbsd_step	step[FBSD_MAX_STEPS];
	size_t			n;
	struct fbsd_step	spare;		/* filled past the end */
	const char		*argv[FBSD_ARGV_POOL];	/* the steps' argv */
	size_t			nargv;
	enum live_handoff	handoff;	/* REROOT, CHROOT; AUTO: none */
	unsigned		timeout_s;
	int			shell;		/* live.shell */
	char			arena[FBSD_ARENA];
	size_t			used;
	int			overflow;
};

/*
 * The plan of c and the resolved source s (as plan_freebsd_commands() takes
 * them) as steps.  0, or EINVAL with d set (a source the plan cannot
 * express: net without a URL, a control character in a value, more steps
 * or text than the struct holds).
 */
int	plan_freebsd_steps(const struct live_config *c,
	    const struct fbsd_source *s, uint64_t overlay_cap,
	    struct fbsd_steps *st, struct diag *d);

/*
 * The operations the executor needs.  Each returns 0 or a positive errno;
 * arguments are borrowed for the call.  console() takes one line without
 * its newline.  halt() and reroot() return only when they failed (or in a
 * recording).
 */
struct fbsd_ops {
	int	(*kldload)(void *arg, const char *module, int quiet);
	int	(*dev_present)(void *arg, const char *dev);
	int	(*dev_size)(void *arg, const char *dev, uint64_t *bytes);
	int	(*file_size)(void *arg, const char *path, uint64_t *bytes);
	int	(*mkdir_p)(void *arg, const char *path);
	int	(*mount)(void *arg, const char *fstype, const char *from,
		    const char *on, const char *options);
	int	(*unmount)(void *arg, const char *on);
	/* argv[0] an absolute path; *status the exit status (or 128+signal) */
	int	(*exec)(void *arg, const char *const *argv, int *status);
	int	(*md_attach)(void *arg, const struct fbsd_md *md,
		    uint64_t bytes);
	int	(*md_detach)(void *arg, int unit);
	int	(*truncate)(void *arg, const char *path, uint64_t bytes);
	int	(*fetch_size)(void *arg, const char *url, uint64_t *bytes);
	int	(*fetch)(void *arg, const char *url, const char *dev);
	int	(*sha256)(void *arg, const char *dev, uint64_t len,
		    char hex[65]);
	int	(*copy)(void *arg, const char *from, const char *dev);
	int	(*kenv_set)(void *arg, const char *name, const char *value);
	int	(*reroot)(void *arg);
	int	(*halt)(void *arg);
	void	(*sleep1)(void *arg);
	/* kern.disks, "" when unknown */
	void	(*disks)(void *arg, char *buf, size_t len);
	void	(*console)(void *arg, const char *line);
	void	*arg;
};

/*
 * Run the steps.  Returns the status the script would exit with: 0 when
 * every step ran (reroot requested, or init_chroot set for init(8)), 1 when
 * a step failed or the diagnostic path ran (its console lines said why);
 * *failed (may be NULL) gets the index of the failed step, or st->n.
 */
int	fbsd_exec(const struct fbsd_steps *st, const struct fbsd_ops *ops,
	    size_t *failed);

/* The step's name, for a failure message ("mdconfig", "geom rowr"). */
const char *fbsd_step_name(const struct fbsd_step *s);

/*
 * Apply a kenv(2) KENV_DUMP buffer ("name=value" strings, NUL-separated,
 * len bytes) to c with config_set(), as the command line would be: the
 * loader's variables (loader.conf, the loader prompt) are FreeBSD's boot
 * arguments.  Returns the number of live keys seen.
 */
size_t	fbsd_config_from_kenv(struct live_config *c, const char *buf,
	    size_t len);

#endif
