/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - the boot log of liveroot-init and a few file helpers.
 *
 * Every line goes to the console (fd 1, one write(2) per line so lines of
 * the NBD server process do not interleave mid-line) with the uptime in
 * brackets, CLOCK_BOOTTIME like the kernel's own stamps, and is kept in a
 * fixed in-memory buffer that is saved to /run/liveroot/boot.log of the
 * live system, mode 0600 (root only: it names servers, devices and the
 * configuration).  A full buffer keeps the first lines and counts the rest.
 * Every http:// or https:// URL in a line is written without its query
 * string, fragment and user:password@ (net_url_redact), whoever logged it:
 * a signed or tokened live.url= does not leak to the console or the file.
 * PID 1 is single-threaded: no locking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include <liveroot/fetch.h>

#include "lrinit.h"

int lri_debug;

static char	logbuf[256 * 1024];
static size_t	loglen;
static size_t	logdropped;

double
lri_uptime(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0 &&
	    clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return (0);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* text with each URL redacted, into out (cut to len - 1 bytes). */
static void
redact_urls(const char *text, char *out, size_t len)
{
	char url[1100], red[1100];
	const char *p = text;
	size_t o = 0, n, r;

	while (*p != '\0' && o + 1 < len) {
		if (strncasecmp(p, "http://", 7) != 0 &&
		    strncasecmp(p, "https://", 8) != 0) {
			out[o++] = *p++;
			continue;
		}
		n = strcspn(p, " \t\r\n\"'<>");
		snprintf(url, sizeof(url), "%.*s", (int)(n < sizeof(url) ? n :
		    sizeof(url) - 1), p);
		net_url_redact(url, red, sizeof(red));
		r = strlen(red);
		if (r > len - 1 - o)
			r = len - 1 - o;
		memcpy(out + o, red, r);
		o += r;
		p += n;
	}
	out[o] = '\0';
}

void
lri_log_raw(const char *text)
{
	char line[1600], clean[1500];
	double t = lri_uptime();
	long s = (long)t, ms = (long)((t - (double)s) * 1000);
	int n;
	ssize_t w;
	size_t off = 0;

	redact_urls(text, clean, sizeof(clean));
	n = snprintf(line, sizeof(line), "[%4ld.%03ld] liveroot: %s\n", s, ms,
	    clean);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	while (off < (size_t)n) {
		w = write(STDOUT_FILENO, line + off, (size_t)n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (loglen + (size_t)n <= sizeof(logbuf)) {
		memcpy(logbuf + loglen, line, (size_t)n);
		loglen += (size_t)n;
	} else
		logdropped++;
}

void
lri_log(const char *fmt, ...)
{
	char text[1500];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	lri_log_raw(text);
}

int
lri_log_save(const char *path)
{
	char dir[512], *slash, tail[80];
	int fd, e = 0, n;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		(void)os_mkdir_p(dir, 0755, NULL);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0)
		return (errno);
	/* open() keeps the mode of a file that was there */
	if (fchmod(fd, 0600) != 0) {
		e = errno;
		close(fd);
		return (e);
	}
	if (write(fd, logbuf, loglen) != (ssize_t)loglen)
		e = errno ? errno : EIO;
	if (logdropped != 0) {
		n = snprintf(tail, sizeof(tail), "(%zu more lines not kept)\n",
		    logdropped);
		if (write(fd, tail, (size_t)n) != n)
			e = errno ? errno : EIO;
	}
	if (close(fd) != 0 && e == 0)
		e = errno;
	return (e);
}

uint64_t
lri_ram_bytes(void)
{
	struct sysinfo si;

	if (sysinfo(&si) != 0)
		return (0);
	return ((uint64_t)si.totalram * si.mem_unit);
}
