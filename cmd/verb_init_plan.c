/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_init_plan.c - `liveroot init-plan "CMDLINE"`: what liveroot-init
 * would do with a kernel command line, without booting: every live.* key
 * with its value and where it came from, the problems it would report, the
 * probe steps and the plan.  Text or --json.  Exit 0 when the command line
 * is clean, 1 when it has problems (unknown or invalid keys), 2 on error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/chain.h>
#include <liveroot/config.h>
#include <liveroot/plan_freebsd.h>

#include "cli.h"
#include "verbs.h"

static const char usage_text[] =
"usage: liveroot init-plan [--json] [--defaults FILE] [--ram SIZE]\n"
"                          [--freebsd [--source SPEC] [--commands]]\n"
"                          [CMDLINE | --cmdline-file FILE]\n"
"\n"
"Parse a kernel command line (and optionally /etc/liveroot/defaults content)\n"
"the way liveroot-init does, and print the configuration, the problems it\n"
"would report on the console, the probe steps and the plan.\n"
"\n"
"  CMDLINE             the command line, one argument (quote it)\n"
"  --cmdline-file FILE read it from FILE (e.g. /proc/cmdline)\n"
"  --defaults FILE     an /etc/liveroot/defaults file, read first\n"
"  --ram SIZE          RAM of the target machine for live.overlay=N%\n"
"                      (default: this machine's)\n"
"  --freebsd           the FreeBSD plan (reroot or chroot, geom_rowr or\n"
"                      gunion: live.geom=auto|rowr|gunion) instead of Linux\n"
"  --source SPEC       with --freebsd: a resolved source; print the exact\n"
"                      FreeBSD commands (an init_script) after the plan:\n"
"                        preload:/dev/md0        local:/dev/cd0\n"
"                        local:/dev/da0:OFF+LEN  ventoy:/dev/ada0:OFF+LEN,...\n"
"                        findiso:/dev/da0s1:/isos/live.iso[:msdosfs|ufs|ext2fs]\n"
"                        net:URL (net: alone uses live.url)\n"
"                        none (nothing found: the diagnostic path)\n"
"                      OFF and LEN in bytes, multiples of 512\n"
"  --commands          print only the commands (a reviewable sh script)\n"
"  --json              machine-readable output\n"
"\n"
"Exit status: 0 clean, 1 the command line has problems, 2 error.\n";

static const char *
src_name(enum live_source s)
{
	switch (s) {
	case LIVE_SRC_DEFAULT:	return ("default");
	case LIVE_SRC_FILE:	return ("defaults-file");
	case LIVE_SRC_CMDLINE:	return ("cmdline");
	}
	return ("?");
}

struct jl {
	int	first;
};

static void
text_line(void *arg, const char *text)
{
	(void)arg;
	printf("  %s\n", text);
}

static void
null_line(void *arg, const char *text)
{
	(void)arg;
	(void)text;
}

static void
cmd_line(void *arg, const char *text)
{
	(void)arg;
	printf("%s\n", text);
}

static void
json_line(void *arg, const char *text)
{
	struct jl *j = arg;

	printf("%s\n    ", j->first ? "" : ",");
	j->first = 0;
	cli_json_str(stdout, text);
}

static char *
slurp(const char *path)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	if ((buf = malloc(1 << 20)) == NULL) {
		fclose(f);
		return (NULL);
	}
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

int
verb_init_plan(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "defaults", required_argument, NULL, 'd' },
		{ "cmdline-file", required_argument, NULL, 'c' },
		{ "ram", required_argument, NULL, 'r' },
		{ "freebsd", no_argument, NULL, 'f' },
		{ "source", required_argument, NULL, 's' },
		{ "commands", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct live_config c;
	struct live_plan p;
	struct probe_step st[LIVE_S_COUNT];
	const char *defaults = NULL, *cmdfile = NULL, *key;
	char *cmdline = NULL, *text, val[1100];
	enum live_source src;
	uint64_t ram = 0;
	size_t i, j, n;
	int json = 0, freebsd = 0, ch, cmds_only = 0;
	struct jl jl;
	const char *spec = NULL;
	struct fbsd_source fs;
	struct probe_source ps;
	struct diag d;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'd': defaults = optarg; break;
		case 'c': cmdfile = optarg; break;
		case 'f': freebsd = 1; break;
		case 's': spec = optarg; break;
		case 'C': cmds_only = 1; break;
		case 'r':
			if (cli_parse_size(optarg, &ram) != 0 || ram == 0) {
				cli_err("--ram %s: not a size (e.g. 2G)",
				    optarg);
				return (CLI_ERROR);
			}
			break;
		case 'h':
			return (cli_usage(usage_text, 0));
		default:
			return (cli_opt_error(ch, argc, argv));
		}
	}
	if ((spec != NULL || cmds_only) && !freebsd) {
		cli_err("--source and --commands need --freebsd");
		return (CLI_ERROR);
	}
	if (cmds_only && spec == NULL) {
		cli_err("--commands needs --source SPEC (the resolved source)");
		return (CLI_ERROR);
	}
	if (spec != NULL) {
		diag_clear(&d);
		if (plan_freebsd_parse_source(spec, &fs, &d) != 0)
			return (cli_diag(&d, d.code));
	}
	if (cmdfile != NULL) {
		if (optind != argc)
			return (cli_usage(usage_text, 1));
		if ((cmdline = slurp(cmdfile)) == NULL) {
			cli_err("cannot read %s: %s", cmdfile,
			    strerror(errno));
			return (CLI_ERROR);
		}
	} else if (optind + 1 == argc) {
		cmdline = strdup(argv[optind]);
	} else if (optind == argc) {
		cmdline = strdup("");
	} else {
		cli_err("give the command line as ONE argument (quote it)");
		return (CLI_ERROR);
	}
	if (ram == 0) {
		long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

		if (pages > 0 && psz > 0)
			ram = (uint64_t)pages * (uint64_t)psz;
	}

	config_init(&c);
	if (defaults != NULL) {
		if ((text = slurp(defaults)) == NULL) {
			cli_err("cannot read %s: %s", defaults,
			    strerror(errno));
			free(cmdline);
			return (CLI_ERROR);
		}
		config_parse_defaults(&c, text, strlen(text));
		free(text);
	}
	config_parse_cmdline(&c, cmdline);
	free(cmdline);
	if (spec != NULL) {
		memset(&ps, 0, sizeof(ps));
		ps.strategy = fs.strategy;
		snprintf(ps.device, sizeof(ps.device), "%s",
		    fs.none ? "none" : fs.strategy == LIVE_S_NET ?
		    (fs.url[0] ? fs.url : c.url) : fs.device);
		ps.nextents = fs.next;
		for (i = 0; i < fs.next; i++)
			ps.size += fs.ext[i].len;
		plan_build(&c, &ps, plan_freebsd_image_is_uzip(c.image), ram,
		    PLAN_FREEBSD, &p);
		/* A source the commands cannot express fails before any
		 * output (so --json never prints half an object). */
		diag_clear(&d);
		if (plan_freebsd_commands(&c, &fs, p.overlay_cap, null_line,
		    NULL, &d) != 0)
			return (cli_diag(&d, d.code));
		if (cmds_only) {
			(void)plan_freebsd_commands(&c, &fs, p.overlay_cap,
			    cmd_line, NULL, &d);
			return (c.nproblems + c.problems_dropped ?
			    CLI_NOTFOUND : CLI_OK);
		}
	} else
		plan_build(&c, NULL, -1, ram, freebsd ? PLAN_FREEBSD :
		    PLAN_LINUX, &p);
	/* FreeBSD: before the probe the hand-off is not decided (auto). */
	if (freebsd)
		p.handoff = plan_freebsd_plan_handoff(&c, spec ? &fs : NULL);
	n = probe_chain_steps(&c, st, LIVE_S_COUNT);

	if (json) {
		printf("{\n  \"config\": {");
		for (i = 0; config_key_at(&c, i, &key, val, sizeof(val), &src);
		    i++) {
			printf("%s\n    ", i ? "," : "");
			cli_json_str(stdout, key);
			printf(": {\"value\": ");
			cli_json_str(stdout, val);
			printf(", \"source\": \"%s\"}", src_name(src));
		}
		printf("\n  },\n  \"overlay_bytes\": %llu,\n  \"ram_bytes\": "
		    "%llu,\n  \"problems\": [",
		    (unsigned long long)p.overlay_cap,
		    (unsigned long long)ram);
		for (i = 0; i < c.nproblems; i++) {
			printf("%s\n    {\"kind\": \"%s\", \"key\": ",
			    i ? "," : "",
			    config_problem_kind_name(c.problems[i].kind));
			cli_json_str(stdout, c.problems[i].key);
			printf(", \"message\": ");
			cli_json_str(stdout, c.problems[i].msg);
			printf("}");
		}
		printf("%s],\n  \"notes\": [", c.nproblems ? "\n  " : "");
		for (i = 0; i < c.nnotes; i++) {
			printf("%s\n    {\"key\": ", i ? "," : "");
			cli_json_str(stdout, c.notes[i].key);
			printf(", \"message\": ");
			cli_json_str(stdout, c.notes[i].msg);
			printf("}");
		}
		printf("%s],\n  \"steps\": [", c.nnotes ? "\n  " : "");
		for (i = 0; i < n; i++) {
			printf("%s\n    {\"devices\": %s, \"strategies\": [",
			    i ? "," : "", st[i].devices ? "true" : "false");
			if (st[i].devices)
				for (j = 0; j < st[i].norder; j++)
					printf("%s\"%s\"", j ? ", " : "",
					    config_strategy_name(
					    st[i].order[j]));
			else
				printf("\"%s\"",
				    config_strategy_name(st[i].strategy));
			printf("]}");
		}
		printf("\n  ],\n  \"handoff\": \"%s\",\n  \"plan\": [",
		    config_handoff_name(p.handoff));
		jl.first = 1;
		if (freebsd)
			plan_freebsd_lines(&c, spec ? &fs : NULL,
			    p.overlay_cap, ram, json_line, &jl);
		else
			plan_lines(&p, json_line, &jl);
		printf("\n  ]");
		if (spec != NULL) {
			printf(",\n  \"commands\": [");
			jl.first = 1;
			(void)plan_freebsd_commands(&c, &fs, p.overlay_cap,
			    json_line, &jl, &d);
			printf("\n  ]");
		}
		printf("\n}\n");
	} else {
		printf("config:\n");
		for (i = 0; config_key_at(&c, i, &key, val, sizeof(val), &src);
		    i++)
			printf("  %-14s %-24s (%s)\n", key, val[0] ? val :
			    "-", src_name(src));
		if (c.nproblems) {
			printf("problems:\n");
			for (i = 0; i < c.nproblems; i++)
				printf("  %s: %s\n", config_problem_kind_name(
				    c.problems[i].kind), c.problems[i].msg);
		}
		if (c.nnotes) {
			printf("other tools' arguments:\n");
			for (i = 0; i < c.nnotes; i++)
				printf("  %s\n", c.notes[i].msg);
		}
		printf("probe steps:\n");
		for (i = 0; i < n; i++) {
			if (!st[i].devices) {
				printf("  %zu. %s\n", i + 1,
				    config_strategy_name(st[i].strategy));
				continue;
			}
			printf("  %zu. wait for devices (up to %u s), trying "
			    "", i + 1, c.timeout_s);
			for (j = 0; j < st[i].norder; j++)
				printf("%s%s", j ? ", " : "",
				    config_strategy_name(st[i].order[j]));
			printf(" on each\n");
		}
		printf("plan:\n");
		if (freebsd)
			plan_freebsd_lines(&c, spec ? &fs : NULL,
			    p.overlay_cap, ram, text_line, NULL);
		else
			plan_lines(&p, text_line, NULL);
		if (spec != NULL) {
			printf("commands:\n");
			(void)plan_freebsd_commands(&c, &fs, p.overlay_cap,
			    text_line, NULL, &d);
		}
	}
	return (c.nproblems + c.problems_dropped ? CLI_NOTFOUND : CLI_OK);
}
