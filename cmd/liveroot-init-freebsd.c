/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * liveroot-init-freebsd.c - liveroot-init for FreeBSD: the init_script of
 * a FreeBSD live ramdisk (loader.conf:
 * init_script="/liveroot-init-freebsd"), run by init(8) before it starts
 * the system.  FreeBSD only (platform/freebsd).
 *
 * init(8) stays PID 1, as the FreeBSD plan wants (plan_freebsd.c: reboot -r
 * signals PID 1; init(8) reads init_chroot only after init_script
 * returned).  init(8) execs an executable init_script directly, so this
 * program is one: configuration (defaults, then the loader's variables
 * from kenv(2), FreeBSD's boot arguments) -> the probe chain
 * (lib/probe/chain.c with the strategies of platform/freebsd/probe.c) ->
 * the plan as steps (lib/probe/plan_freebsd_steps.c, the same decisions
 * and calls as the script `liveroot init-plan --freebsd --commands`
 * prints) -> the executor with the base system's interfaces
 * (platform/freebsd/ops.c).
 *
 * Exit status as the script's: 0 when the hand-off is set up (reboot -r
 * was requested, or init_chroot names the live root for init(8)); 1 on
 * failure, after a console line naming what failed and the diagnostic
 * block when no image was found.  On 1 init(8) goes to single-user mode:
 * its shell on the console is the rescue shell (live.shell=1); with
 * live.shell=0 the diagnostic path halts first.  The program never runs
 * a shell of its own: init(8)'s is the one with a controlling terminal.
 * Run other than by init(8) (its parent not PID 1) it refuses: by hand on
 * a running system it would reroot it.
 */
#include <sys/types.h>
#include <sys/sysctl.h>

#include <errno.h>
#include <kenv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/chain.h>
#include <liveroot/config.h>
#include <liveroot/os.h>
#include <liveroot/plan_freebsd.h>
#include <liveroot/plan_freebsd_steps.h>

#include "fbsd.h"

#ifndef LIVEROOT_VERSION
#define LIVEROOT_VERSION "unknown"
#endif

#define DEFAULTS	"/etc/liveroot/defaults"

static struct live_config cfg;
static struct fbsd_steps steps;

static void
read_config(void)
{
	char *text, *buf;
	size_t len, i;
	int n;

	config_init(&cfg);
	if (os_read_file(DEFAULTS, 1 << 20, &text, &len, NULL) == 0) {
		config_parse_defaults(&cfg, text, len);
		free(text);
	}
	if ((n = kenv(KENV_DUMP, NULL, NULL, 0)) > 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if ((n = kenv(KENV_DUMP, NULL, buf, n)) > 0)
			(void)fbsd_config_from_kenv(&cfg, buf, (size_t)n);
		free(buf);
	}
	config_finish(&cfg);
	for (i = 0; i < cfg.nproblems; i++)
		fprintf(stderr, "liveroot: %s key %s\n",
		    config_problem_kind_name(cfg.problems[i].kind),
		    cfg.problems[i].msg);
	if (cfg.handoff == LIVE_HANDOFF_SWITCH_ROOT)
		fprintf(stderr, "liveroot: live.handoff=switch_root is Linux's; "
		    "the FreeBSD rule applies (reroot when the image is in "
		    "RAM or on GEOM windows of a disk, else chroot)\n");
}

static uint64_t
ram_bytes(void)
{
	unsigned long m = 0;
	size_t len = sizeof(m);

	if (sysctlbyname("hw.physmem", &m, &len, NULL, 0) < 0)
		return (0);
	return ((uint64_t)m);
}

int
main(int argc, char **argv)
{
	struct probe_chain_result res;
	struct probe_source src;
	struct probe_ops pops;
	struct fbsd_probe probe;
	struct fbsd_ops ops;
	struct diag d;

	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("liveroot-init (FreeBSD) %s\n", LIVEROOT_VERSION);
		return (0);
	}
	if (argc > 1 || getpid() == 1 || getppid() != 1) {
		/* By hand on a running system it would reroot it. */
		fprintf(argc > 1 && strcmp(argv[1], "--help") == 0 ? stdout :
		    stderr, "usage: liveroot-init-freebsd: init(8) runs it as "
		    "init_script (loader.conf: init_script=\"/liveroot-init-"
		    "freebsd\"); it refuses to run otherwise (not as "
		    "init_path, not by hand).  `liveroot init-plan --freebsd` "
		    "shows the plan without booting.\n");
		return (argc > 1 && strcmp(argv[1], "--help") == 0 ? 0 : 1);
	}
	read_config();

	fbsd_probe_ops(&probe, &pops);
	memset(&src, 0, sizeof(src));
	memset(&res, 0, sizeof(res));
	if (probe_chain_run(&cfg, &pops, &src, &res) != 0 || !res.found) {
		probe.src.none = 1;
		if (res.last_error.code != 0)
			fprintf(stderr, "liveroot: last error: %s\n",
			    res.last_error.msg);
	} else
		fprintf(stderr, "liveroot: found: %s %s\n",
		    config_strategy_name(src.strategy), src.device);
	probe_source_clear(&src);

	diag_clear(&d);
	if (plan_freebsd_steps(&cfg, &probe.src, config_overlay_bytes(&cfg,
	    ram_bytes()), &steps, &d) != 0) {
		fprintf(stderr, "liveroot: the plan: %s\n", d.msg);
		return (1);
	}
	fprintf(stderr, "liveroot: hand-off: %s\n", probe.src.none ? "none" :
	    config_handoff_name(steps.handoff));
	fbsd_ops_init(&ops);
	return (fbsd_exec(&steps, &ops, NULL));
}
