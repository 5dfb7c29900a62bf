/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run.c - running an external tool (os.h): found in $PATH or the sbin
 * directories, forked and exec'd with an argv (never a shell), its output
 * captured, passed through or collected for a failure, and its exit status
 * turned into a message naming it.  An exec that fails in the child comes
 * back to the parent through a close-on-exec pipe, so the child prints
 * nothing of ours.  Signals are the caller's business; no state is kept.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/os.h>

#define RUN_COLLECT	4096	/* what a quiet tool's failure shows */
#define RUN_LINE	512	/* a line handed to os_run.line */

int
os_find_in_path(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	const char *p, *e;
	int n;

	if (strchr(name, '/') != NULL) {
		if ((size_t)snprintf(buf, len, "%s", name) >= len)
			return (ENAMETOOLONG);
		return (access(name, X_OK) == 0 ? 0 : ENOENT);
	}
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = e + 1) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		n = snprintf(buf, len, "%.*s/%s", (int)(e - p), p, name);
		if (n > 0 && (size_t)n < len && access(buf, X_OK) == 0)
			return (0);
		if (*e == '\0')
			break;
	}
	/* sbin is not always in a user's PATH */
	snprintf(buf, len, "/usr/sbin/%s", name);
	if (access(buf, X_OK) == 0)
		return (0);
	snprintf(buf, len, "/sbin/%s", name);
	if (access(buf, X_OK) == 0)
		return (0);
	return (ENOENT);
}

int
os_check_tools(const struct os_tool *t, size_t n, struct diag *d)
{
	char buf[PATH_MAX];
	size_t i;

	for (i = 0; i < n; i++)
		if (os_find_in_path(t[i].name, buf, sizeof(buf)) != 0)
			return (diag_set(d, ENOENT, "'%s' not found: install "
			    "the Debian package %s (scripts/install-deps.sh "
			    "installs everything)", t[i].name, t[i].package));
	return (0);
}

/* The child: wire stdout/stderr, exec; an exec error goes up errfd. */
static void
run_child(const char *exe, char *const argv[], int piped, int merge,
    const int pfd[2], int errfd, char *const *env)
{
	int e;

	for (; env != NULL && *env != NULL; env++)
		(void)putenv(*env);

	if (piped) {
		dup2(pfd[1], STDOUT_FILENO);
		if (merge)
			dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		close(pfd[1]);
	} else {
		dup2(STDERR_FILENO, STDOUT_FILENO);
	}
	execv(exe, argv);
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(127);
}

/* Hands r->line each complete line of buf (the partial one kept). */
static void
run_lines(const struct os_run *r, char *lb, size_t *ll, const char *buf,
    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\r') {
			lb[*ll] = '\0';
			if (*ll > 0)
				r->line(r->arg, lb);
			*ll = 0;
		} else if (*ll < RUN_LINE - 1)
			lb[(*ll)++] = buf[i];
	}
}

/* Reads the pipe to its end; keeps what fits in cap (NUL-terminated). */
static size_t
run_drain(int fd, char *cap, size_t caplen, const struct os_run *r)
{
	char tmp[4096], lb[RUN_LINE];
	size_t got = 0, k, ll = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (r->line != NULL)
			run_lines(r, lb, &ll, tmp, (size_t)n);
		if (got + 1 < caplen) {
			k = (size_t)n;
			if (k > caplen - 1 - got)
				k = caplen - 1 - got;
			memcpy(cap + got, tmp, k);
			got += k;
		}
	}
	cap[got] = '\0';
	return (got);
}

int
os_run(char *const argv[], const struct os_run *r, struct diag *d)
{
	static const struct os_run none = { 0 };
	char exe[PATH_MAX], quiet[RUN_COLLECT], *cap;
	int pfd[2] = { -1, -1 }, efd[2] = { -1, -1 };
	int st, piped, merge, collect, exec_err = 0;
	size_t caplen, got = 0;
	pid_t pid;

	if (r == NULL)
		r = &none;
	if (os_find_in_path(argv[0], exe, sizeof(exe)) != 0)
		return (diag_set(d, ENOENT, "'%s' not found in PATH",
		    argv[0]));
	cap = r->out;
	caplen = r->outlen;
	merge = r->merge;
	collect = cap == NULL && !r->talk;
	if (collect) {
		cap = quiet;
		caplen = sizeof(quiet);
		merge = 1;
	}
	piped = cap != NULL;
	if (pipe(efd) != 0)
		return (diag_set(d, errno, "pipe: %s", strerror(errno)));
	(void)fcntl(efd[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(efd[1], F_SETFD, FD_CLOEXEC);
	if (piped && pipe(pfd) != 0) {
		close(efd[0]);
		close(efd[1]);
		return (diag_set(d, errno, "pipe: %s", strerror(errno)));
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0)
		run_child(exe, argv, piped, merge, pfd, efd[1], r->env);
	st = errno;
	close(efd[1]);
	if (piped)
		close(pfd[1]);
	if (pid < 0) {
		close(efd[0]);
		if (piped)
			close(pfd[0]);
		return (diag_set(d, st, "fork: %s", strerror(st)));
	}
	if (piped) {
		got = run_drain(pfd[0], cap, caplen, r);
		close(pfd[0]);
	}
	while (read(efd[0], &exec_err, sizeof(exec_err)) < 0 && errno == EINTR)
		;
	close(efd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return (diag_set(d, errno, "waitpid: %s",
			    strerror(errno)));
	if (exec_err != 0)
		return (diag_set(d, exec_err, "exec %s: %s", exe,
		    strerror(exec_err)));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return (0);
	collect = collect && got > 0 && r->failed_output != NULL;
	if (collect)
		r->failed_output(r->arg, cap);
	if (WIFEXITED(st))
		return (diag_set(d, EIO, "%s failed (exit status %d)%s",
		    argv[0], WEXITSTATUS(st), collect ?
		    "; its messages are above" : ""));
	return (diag_set(d, EIO, "%s killed by signal %d", argv[0],
	    WTERMSIG(st)));
}
