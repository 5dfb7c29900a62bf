/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_fetch.c - `liveroot fetch URL -o FILE`: fetch a root image with the
 * code liveroot-init runs for live.url= at boot (lib/net/fetch.c, the same
 * engine and defaults: retries, Range resume, minimum speed, total bound,
 * redirect and 206 rules, TLS verification, sha256), into a file instead of
 * RAM, so a netboot server can be tested from any machine.
 *
 * The bytes go to FILE.XXXXXX next to FILE; only a complete (and, with
 * --sha256, verified) image is fsynced and renamed to FILE.  On an error,
 * or SIGINT/SIGTERM/SIGHUP, the temporary file is removed: FILE is never a
 * partial or unverified image.  Single-threaded.
 *
 * Exit status: 0 fetched, 2 error.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/fetch.h>
#include <liveroot/os.h>

#include "cli.h"
#include "verbs.h"

static const char fetch_usage[] =
"usage: liveroot fetch URL -o FILE [--sha256 HEX] [--timeout S] [--ca FILE]\n"
"                      [-q]\n"
"\n"
"Fetch a root image over HTTP(S) with the code liveroot-init uses for\n"
"live.url= at boot (same retries, resume, bounds and checks), to test a\n"
"netboot server.  FILE appears only once the image is complete and, with\n"
"--sha256, verified.\n"
"\n"
"  -o, --output FILE   where the image goes (written as FILE.XXXXXX, then\n"
"                      renamed; removed on failure)\n"
"      --sha256 HEX    the image's SHA-256, as live.sha256=\n"
"      --timeout S     bound on the whole fetch, retries included, as\n"
"                      live.timeout= (default 1800)\n"
"      --ca FILE       CA bundle (PEM) for https://, as mklive --ca\n"
"                      (default: the system's)\n"
"  -q, --quiet         no progress, retry lines or summary\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 fetched (and verified), 2 error.\n";

static char fetch_tmp[PATH_MAX];
static volatile sig_atomic_t fetch_have_tmp;

static void
fetch_on_signal(int sig)
{
	if (fetch_have_tmp)
		(void)unlink(fetch_tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

struct fetch_ui {
	struct cli_progress	 p;
	int			 quiet;
	int			 midline;	/* a progress line is open */
};

static void
fetch_progress(uint64_t done, uint64_t total, void *arg)
{
	struct fetch_ui *ui = arg;

	ui->p.total = total;
	cli_progress_update(&ui->p, done);
	ui->midline = ui->p.enabled;
}

static void
fetch_log(const char *msg, void *arg)
{
	struct fetch_ui *ui = arg;

	if (ui->midline)
		fputc('\n', stderr);
	ui->midline = 0;
	fprintf(stderr, "liveroot fetch: %s\n", msg);
}

static void
fetch_signals(void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
}

/* What fixes a failed fetch, in this command's terms. */
static const char *const fetch_hints[FETCH_FIX_COUNT] = {
	[FETCH_FIX_SHA256] = " (--sha256)",
	[FETCH_FIX_TIME] = "; --timeout sets the bound",
	[FETCH_FIX_CA] = ", with --ca FILE here and with --ca FILE at mklive "
	    "time for the boot",
};

int
verb_fetch(int argc, char **argv)
{
	enum { O_SHA = 256, O_TIMEOUT, O_CA };
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "sha256", required_argument, NULL, O_SHA },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "ca", required_argument, NULL, O_CA },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct fetch_opts o;
	struct fetch_result r;
	struct fetch_ui ui;
	struct diag d;
	struct stat st;
	const char *out = NULL;
	char disp[160], *end;
	unsigned long ul;
	mode_t um;
	int c, fd, e;

	memset(&o, 0, sizeof(o));
	memset(&ui, 0, sizeof(ui));
	diag_clear(&d);
	if (cli_wants_help(argc, argv))
		return (cli_usage(fetch_usage, 0));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case O_SHA:
			o.sha256 = optarg;
			break;
		case O_TIMEOUT:
			errno = 0;
			ul = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    optarg[0] == '-' || ul < 1 || ul > 86400) {
				cli_err("--timeout %s: seconds, 1 to 86400",
				    optarg);
				return (CLI_ERROR);
			}
			o.total_s = (unsigned)ul;
			break;
		case O_CA:
			o.ca_file = optarg;
			break;
		case 'q':
			ui.quiet = 1;
			break;
		default:
			return (cli_opt_error(c, argc, argv));
		}
	}
	if (optind != argc - 1) {
		cli_err("%s; 'liveroot fetch --help' shows the usage",
		    optind >= argc ? "no URL given" : "one URL only");
		return (CLI_ERROR);
	}
	o.url = argv[optind];
	net_url_redact(o.url, disp, sizeof(disp));
	if (out == NULL) {
		cli_err("no output file: give -o FILE");
		return (CLI_ERROR);
	}
	if (o.sha256 != NULL && !os_sha256_hex_ok(o.sha256)) {
		cli_err("--sha256 %.80s: not 64 hex digits", o.sha256);
		return (CLI_ERROR);
	}
	if (o.ca_file != NULL && access(o.ca_file, R_OK) != 0) {
		cli_err("--ca %s: %s", o.ca_file, strerror(errno));
		return (CLI_ERROR);
	}
	if (stat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
		cli_err("%s: not a regular file; give the file to write with "
		    "-o FILE", out);
		return (CLI_ERROR);
	}
	if (snprintf(fetch_tmp, sizeof(fetch_tmp), "%s.XXXXXX", out) >=
	    (int)sizeof(fetch_tmp)) {
		cli_err("%.40s...: path too long", out);
		return (CLI_ERROR);
	}
	fetch_signals(fetch_on_signal);
	if ((fd = mkstemp(fetch_tmp)) < 0) {
		e = errno;
		fetch_signals(SIG_DFL);
		cli_err("cannot create %s: %s: check that the directory exists "
		    "and is writable", fetch_tmp, strerror(e));
		return (CLI_ERROR);
	}
	fetch_have_tmp = 1;
	um = umask(0);
	umask(um);
	(void)fchmod(fd, 0666 & ~um);

	if (!ui.quiet) {
		cli_progress_start(&ui.p, "fetch", 0);
		o.progress = fetch_progress;
		o.log = fetch_log;
		o.arg = &ui;
	}
	if ((e = net_fetch_fd(&o, fd, out, &r, &d)) != 0)
		net_fetch_hint(&d, &r, fetch_hints);
	if (!ui.quiet && ui.midline)
		cli_progress_done(&ui.p);
	if (e == 0 && fsync(fd) != 0)
		e = diag_set(&d, errno, "fsync %s: %s", fetch_tmp,
		    strerror(errno));
	if (close(fd) != 0 && e == 0)
		e = diag_set(&d, errno, "close %s: %s", fetch_tmp,
		    strerror(errno));
	if (e == 0 && rename(fetch_tmp, out) != 0)
		e = diag_set(&d, errno, "rename %s to %s: %s", fetch_tmp, out,
		    strerror(errno));
	if (e != 0)
		(void)unlink(fetch_tmp);
	fetch_have_tmp = 0;
	fetch_signals(SIG_DFL);
	if (e != 0)
		return (cli_diag(&d, e));
	if (!ui.quiet) {
		printf("%s: %ju bytes from %s, sha256 %s%s (%u attempt(s), %u "
		    "resumed, %u redirect(s))\n", out, (uintmax_t)r.size, disp,
		    r.sha256, o.sha256 != NULL ? " verified" : "", r.attempts,
		    r.resumes, r.redirects);
	}
	return (CLI_OK);
}
