/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_serve.c - `liveroot serve`: build a stack (stack.h) and export it over
 * NBD on a unix socket, TCP (loopback unless a host is given) or one
 * inherited file descriptor.  Runs in the foreground; SIGTERM/SIGINT stop
 * the server (nbd_server_stop is async-signal-safe), then the stack is
 * flushed and closed.  The only global is the server pointer the signal
 * handler needs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/nbd.h>

#include "cli.h"
#include "stack.h"
#include "verbs.h"

static const char serve_usage[] =
"usage: liveroot serve --lower FILE [--upper mem:SIZE|FILE] [options]\n"
"           (--unix PATH | --tcp [HOST:]PORT | --fd N [--no-handshake])\n"
"       liveroot serve --overlay UPPER ... \n"
"\n"
"Export a block stack over NBD until SIGTERM or SIGINT, then flush it.\n"
"\n"
"Where:\n"
"  --unix PATH         listen on a unix socket (replaced if it exists)\n"
"  --tcp [HOST:]PORT   listen on TCP; loopback unless HOST is given\n"
"                      (\"*:PORT\" = every address)\n"
"  --fd N              serve one connection on the inherited socket N\n"
"  --no-handshake      with --fd: skip the negotiation (a socket handed\n"
"                      to the Linux kernel with NBD_SET_SOCK)\n"
"Export:\n"
"  --name NAME         export name (default \"\", the default export)\n"
"  --threads N         worker threads per connection (default 4)\n"
"  -v, --verbose       print statistics at exit\n"
"  -f, --foreground    accepted for compatibility; serve never detaches\n"
"Stack:\n"
"%s"
"\n"
"Exit status: 0 after a clean stop, 2 on an error.\n";

static struct nbd_server *serve_server;

static void
serve_signal(int sig)
{
	(void)sig;
	if (serve_server != NULL)
		nbd_server_stop(serve_server);
}

static void
serve_ready(void *arg, const char *where)
{
	(void)arg;
	printf("liveroot serve: listening on %s\n", where);
	fflush(stdout);
}

static int
usage(int error)
{
	FILE *f = error ? stderr : stdout;

	fprintf(f, serve_usage, stack_usage);
	return (error ? CLI_ERROR : CLI_OK);
}

/* "PORT", "HOST:PORT", "[V6]:PORT". */
static int
split_hostport(char *s, char **host, char **port)
{
	char *c;

	if (s[0] == '[') {
		if ((c = strstr(s, "]:")) == NULL)
			return (-1);
		*c = '\0';
		*host = s + 1;
		*port = c + 2;
	} else if ((c = strrchr(s, ':')) != NULL) {
		*c = '\0';
		*host = s;
		*port = c + 1;
	} else {
		*host = NULL;
		*port = s;
	}
	return (**port == '\0' ? -1 : 0);
}

int
verb_serve(int argc, char **argv)
{
	struct stack_opts so;
	struct nbd_export_opts eo = { .name = "" };
	struct nbd_server_stats st;
	struct sigaction sa;
	struct diag d;
	struct bdev *top = NULL;
	char *unix_path = NULL, *tcp = NULL, *host = NULL, *port = NULL, *end;
	long fd = -1;
	int i = 1, r, verbose = 0, handshake = 1, error, rc = CLI_ERROR;

	if (cli_wants_help(argc, argv))
		return (usage(0));
	memset(&so, 0, sizeof(so));
	diag_clear(&d);
	while (i < argc) {
		const char *a = argv[i];

		if ((r = stack_parse_opt(&so, argc, argv, &i)) < 0)
			return (CLI_ERROR);
		if (r > 0)
			continue;
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
			verbose = 1;
		else if (strcmp(a, "-f") == 0 ||
		    strcmp(a, "--foreground") == 0)
			;
		else if (strcmp(a, "--no-handshake") == 0)
			handshake = 0;
		else if (i + 1 < argc && strcmp(a, "--unix") == 0)
			unix_path = argv[++i];
		else if (i + 1 < argc && strcmp(a, "--tcp") == 0)
			tcp = argv[++i];
		else if (i + 1 < argc && strcmp(a, "--name") == 0)
			eo.name = argv[++i];
		else if (i + 1 < argc && strcmp(a, "--fd") == 0) {
			errno = 0;
			fd = strtol(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || fd < 0 ||
			    fd > 65535) {
				cli_err("--fd: '%s' is not a file descriptor",
				    argv[i]);
				return (CLI_ERROR);
			}
		} else if (i + 1 < argc && strcmp(a, "--threads") == 0) {
			errno = 0;
			eo.threads = (unsigned)strtoul(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || eo.threads > 64) {
				cli_err("--threads: '%s' is not a number from "
				    "0 to 64", argv[i]);
				return (CLI_ERROR);
			}
		} else {
			cli_err("unknown or incomplete option '%s'", a);
			return (usage(1));
		}
		i++;
	}
	if ((fd >= 0) + (unix_path != NULL || tcp != NULL) != 1) {
		cli_err("say where to serve: --unix PATH and/or --tcp "
		    "[HOST:]PORT, or --fd N");
		return (usage(1));
	}
	if (!handshake && fd < 0) {
		cli_err("--no-handshake goes with --fd only");
		return (CLI_ERROR);
	}
	if (tcp != NULL && split_hostport(tcp, &host, &port) != 0) {
		cli_err("--tcp: '%s' is not [HOST:]PORT", tcp);
		return (CLI_ERROR);
	}
	if ((error = stack_build(&so, &top, &d)) != 0)
		return (cli_diag(&d, error));
	eo.readonly = so.readonly;
	if ((error = nbd_server_new(top, &eo, &serve_server, &d)) != 0) {
		cli_diag(&d, error);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = serve_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (fd >= 0) {
		error = nbd_server_serve_fd(serve_server, (int)fd, handshake,
		    &d);
	} else {
		nbd_server_set_ready_cb(serve_server, serve_ready, NULL);
		error = nbd_server_listen(serve_server, unix_path, host, port,
		    &d);
	}
	if (error != 0) {
		cli_diag(&d, error);
		goto out;
	}
	diag_clear(&d);
	if ((error = bdev_flush(top, &d)) != 0) {
		cli_diag(&d, error);
		goto out;
	}
	rc = CLI_OK;
out:
	if (verbose && serve_server != NULL) {
		nbd_server_get_stats(serve_server, &st);
		fprintf(stderr, "nbd: %ju connections, %ju reads (%ju bytes), "
		    "%ju writes (%ju bytes), %ju flushes, %ju trims, "
		    "%ju write-zeroes, %ju error replies, %ju clients "
		    "dropped\n", (uintmax_t)st.connections,
		    (uintmax_t)st.reads, (uintmax_t)st.bytes_read,
		    (uintmax_t)st.writes, (uintmax_t)st.bytes_written,
		    (uintmax_t)st.flushes, (uintmax_t)st.trims,
		    (uintmax_t)st.zeroes, (uintmax_t)st.errors,
		    (uintmax_t)st.protocol_errors);
		stack_print_stats(stderr, top);
	}
	if (serve_server != NULL &&
	    nbd_server_last_error(serve_server, &d) != 0)
		cli_err("last request error: %s", d.msg);
	if (serve_server != NULL) {
		struct nbd_server *s = serve_server;

		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		serve_server = NULL;
		nbd_server_destroy(s);
	}
	bdev_destroy(top);
	return (rc);
}
