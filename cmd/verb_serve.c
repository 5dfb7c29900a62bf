/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_serve.c - `liveroot serve`: build a stack (stack.h) and export it over
 * NBD on a unix socket, TCP (loopback unless a host is given) or one
 * inherited file descriptor.  Runs in the foreground; SIGTERM/SIGINT stop
 * the server (nbd_server_stop is async-signal-safe), then the stack is
 * flushed and closed.  The only global is the server pointer the signal
 * handler needs.  What a client may cost (memory in flight, connections,
 * time) is bounded by nbd.h's limits; this file gives them their command
 * line defaults (a send timeout of 30 s, a handshake timeout of 10 s) and
 * warns when a TCP address is not loopback: NBD has no authentication.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
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
"usage: liveroot serve --lower FILE|URL [--upper mem:SIZE|FILE] [options]\n"
"           (--unix PATH | --tcp [HOST:]PORT | --fd N [--no-handshake])\n"
"       liveroot serve --overlay UPPER ... \n"
"\n"
"Export a block stack over NBD until SIGTERM or SIGINT, then flush it.\n"
"NBD has no authentication and no encryption: whoever reaches the socket\n"
"can read the disk (and write it unless it is read-only).\n"
"\n"
"Where:\n"
"  --unix PATH         listen on a unix socket (replaced if it exists)\n"
"  --tcp [HOST:]PORT   listen on TCP; loopback unless HOST is given\n"
"                      (\"*:PORT\" = every address; warns when not loopback)\n"
"  --fd N              serve one connection on the inherited socket N\n"
"  --no-handshake      with --fd: skip the negotiation (a socket handed\n"
"                      to the Linux kernel with NBD_SET_SOCK)\n"
"Export:\n"
"  --name NAME         export name (default \"\", the default export)\n"
"  --threads N         worker threads per connection (default 4)\n"
"Limits:\n"
"  --max-clients N     connections served at once (default 16); one more\n"
"                      is closed at once and logged\n"
"  --max-memory SIZE   request payloads in flight over all clients, beyond\n"
"                      1M each (default 128M); a request over it waits\n"
"  --max-client-memory SIZE\n"
"                      payloads in flight on one connection (default 64M)\n"
"  --send-timeout SEC  cut off a client that reads nothing of a reply for\n"
"                      SEC seconds (default 30, 0 = never)\n"
"  --handshake-timeout SEC\n"
"                      cut off a client still negotiating after SEC seconds\n"
"                      (default 10, 0 = never)\n"
"Output:\n"
"  -q, --quiet         do not print the \"listening on\" lines\n"
"  -v, --verbose       print statistics at exit (and, for a URL lower, the\n"
"                      fill's progress and the HTTP counts)\n"
"  -f, --foreground    accepted for compatibility; serve never detaches\n"
"Stack:\n"
"%s"
"\n"
"Exit status: 0 after a clean stop, 2 on an error.\n";

enum {
	O_UNIX = 0x200, O_TCP, O_FD, O_NO_HANDSHAKE, O_NAME, O_THREADS,
	O_MAX_CLIENTS, O_MAX_MEM, O_MAX_CLIENT_MEM, O_SEND_TMO, O_HS_TMO
};

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

/* The server's lines about clients (refused, cut off): one write each. */
static void
serve_log(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "liveroot serve: %s\n", msg);
}

static int
usage(void)
{
	printf(serve_usage, stack_usage);
	return (CLI_OK);
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

/* 1 when every address host resolves to is a loopback one (NULL: yes). */
static int
host_is_loopback(const char *host)
{
	struct addrinfo hints, *res, *ai;
	const struct sockaddr_in6 *s6;
	const uint8_t *a;
	int yes = 1;

	if (host == NULL)
		return (1);
	if (host[0] == '\0' || strcmp(host, "*") == 0)
		return (0);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return (0);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			a = (const uint8_t *)&((const struct sockaddr_in *)
			    ai->ai_addr)->sin_addr;
			if (a[0] != 127)
				yes = 0;
		} else if (ai->ai_family == AF_INET6) {
			s6 = (const struct sockaddr_in6 *)ai->ai_addr;
			a = s6->sin6_addr.s6_addr;
			if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) &&
			    !(IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
			    a[12] == 127))
				yes = 0;
		} else
			yes = 0;
	}
	freeaddrinfo(res);
	return (yes);
}

static int
parse_num(const char *opt, const char *s, unsigned long min,
    unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v < min || v > max) {
		cli_err("%s: '%s' is not a number from %lu to %lu", opt, s,
		    min, max);
		return (-1);
	}
	*out = v;
	return (0);
}

/* Seconds ("30", "0.5") to milliseconds, at most a day. */
static int
parse_seconds(const char *opt, const char *s, unsigned *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0) ||
	    v > 86400) {
		cli_err("%s: '%s' is not a number of seconds from 0 to 86400",
		    opt, s);
		return (-1);
	}
	*ms = (unsigned)(v * 1000 + 0.5);
	if (*ms == 0 && v > 0)
		*ms = 1;
	return (0);
}

static int
parse_mem(const char *opt, const char *s, uint64_t *out)
{
	if (cli_parse_size(s, out) != 0 || *out < NBD_MIN_MEM) {
		cli_err("%s: '%s' is not a size of at least 1M (64M, 1G)", opt,
		    s);
		return (-1);
	}
	return (0);
}

int
verb_serve(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "unix", required_argument, NULL, O_UNIX },
		{ "tcp", required_argument, NULL, O_TCP },
		{ "fd", required_argument, NULL, O_FD },
		{ "no-handshake", no_argument, NULL, O_NO_HANDSHAKE },
		{ "name", required_argument, NULL, O_NAME },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "max-clients", required_argument, NULL, O_MAX_CLIENTS },
		{ "max-memory", required_argument, NULL, O_MAX_MEM },
		{ "max-client-memory", required_argument, NULL,
		    O_MAX_CLIENT_MEM },
		{ "send-timeout", required_argument, NULL, O_SEND_TMO },
		{ "handshake-timeout", required_argument, NULL, O_HS_TMO },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		STACK_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct stack_opts so;
	struct nbd_export_opts eo = { .name = "", .send_timeout_ms = 30000,
	    .handshake_timeout_ms = 10000 };
	struct nbd_server_stats st;
	struct sigaction sa;
	struct diag d;
	struct bdev *top = NULL;
	char *unix_path = NULL, *tcp = NULL, *host = NULL, *port = NULL;
	unsigned long n;
	long fd = -1;
	int ch, verbose = 0, quiet = 0, handshake = 1, error;
	int rc = CLI_ERROR;

	if (cli_wants_help(argc, argv))
		return (usage());
	memset(&so, 0, sizeof(so));
	diag_clear(&d);
	while ((ch = stack_getopt(&so, argc, argv, ":qvfh" STACK_SHORTOPTS,
	    lo)) != -1) {
		switch (ch) {
		case -2:
			return (CLI_ERROR);
		case 'q':
			quiet = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'f':
			break;
		case 'h':
			return (usage());
		case O_NO_HANDSHAKE:
			handshake = 0;
			break;
		case O_UNIX:
			unix_path = optarg;
			break;
		case O_TCP:
			tcp = optarg;
			break;
		case O_NAME:
			eo.name = optarg;
			break;
		case O_FD:
			if (parse_num("--fd", optarg, 0, 65535, &n) != 0)
				return (CLI_ERROR);
			fd = (long)n;
			break;
		case O_THREADS:
			if (parse_num("--threads", optarg, 0, 64, &n) != 0)
				return (CLI_ERROR);
			eo.threads = (unsigned)n;
			break;
		case O_MAX_CLIENTS:
			if (parse_num("--max-clients", optarg, 1, 4096, &n) !=
			    0)
				return (CLI_ERROR);
			eo.max_clients = (unsigned)n;
			break;
		case O_MAX_MEM:
			if (parse_mem("--max-memory", optarg, &eo.mem_max) !=
			    0)
				return (CLI_ERROR);
			break;
		case O_MAX_CLIENT_MEM:
			if (parse_mem("--max-client-memory", optarg,
			    &eo.conn_mem_max) != 0)
				return (CLI_ERROR);
			break;
		case O_SEND_TMO:
			if (parse_seconds("--send-timeout", optarg,
			    &eo.send_timeout_ms) != 0)
				return (CLI_ERROR);
			break;
		case O_HS_TMO:
			if (parse_seconds("--handshake-timeout", optarg,
			    &eo.handshake_timeout_ms) != 0)
				return (CLI_ERROR);
			break;
		default:
			return (cli_opt_error(ch, argc, argv));
		}
	}
	if (optind < argc) {
		cli_err("unexpected argument '%s': serve takes options only "
		    "('liveroot serve --help' lists them)", argv[optind]);
		return (CLI_ERROR);
	}
	if ((fd >= 0) + (unix_path != NULL || tcp != NULL) != 1) {
		cli_err("say where to serve: --unix PATH and/or --tcp "
		    "[HOST:]PORT, or --fd N");
		return (CLI_ERROR);
	}
	if (!handshake && fd < 0) {
		cli_err("--no-handshake goes with --fd only");
		return (CLI_ERROR);
	}
	if (tcp != NULL && split_hostport(tcp, &host, &port) != 0) {
		cli_err("--tcp: '%s' is not [HOST:]PORT", tcp);
		return (CLI_ERROR);
	}
	if (tcp != NULL && !host_is_loopback(host))
		cli_err("warning: --tcp %s%s%s is not a loopback address: NBD "
		    "has no authentication and no encryption, so anyone who "
		    "can reach the port can read the disk%s; prefer --unix, "
		    "or an SSH tunnel to a loopback port", host, port[0] ?
		    ":" : "", port, so.readonly ? "" : " (and write it, "
		    "unless it is read-only)");
	so.verbose = verbose;
	if ((error = stack_build(&so, &top, &d)) != 0)
		return (overlay_diag(&d, error, so.overlay != NULL ?
		    so.overlay : so.upper));
	eo.readonly = so.readonly;
	if ((error = nbd_server_new(top, &eo, &serve_server, &d)) != 0) {
		cli_diag(&d, error);
		goto out;
	}
	nbd_server_set_log_cb(serve_server, serve_log, NULL);
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
		if (!quiet)
			nbd_server_set_ready_cb(serve_server, serve_ready,
			    NULL);
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
		    "dropped, %ju refused, %ju timed out, %ju requests "
		    "waited for memory, at most %ju bytes in flight\n",
		    (uintmax_t)st.connections,
		    (uintmax_t)st.reads, (uintmax_t)st.bytes_read,
		    (uintmax_t)st.writes, (uintmax_t)st.bytes_written,
		    (uintmax_t)st.flushes, (uintmax_t)st.trims,
		    (uintmax_t)st.zeroes, (uintmax_t)st.errors,
		    (uintmax_t)st.protocol_errors, (uintmax_t)st.refused,
		    (uintmax_t)st.timeouts, (uintmax_t)st.mem_waits,
		    (uintmax_t)st.mem_peak);
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
	if (verbose)
		stack_print_net_stats(stderr, &so);
	return (rc);
}
