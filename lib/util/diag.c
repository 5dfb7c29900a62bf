/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * diag.c - filling a caller-owned struct diag.  Kernel-clean (vsnprintf
 * exists in the FreeBSD kernel).
 */
#include <liveroot/diag.h>

void
diag_clear(struct diag *d)
{
	if (d == NULL)
		return;
	d->code = 0;
	d->msg[0] = '\0';
}

int
diag_set(struct diag *d, int code, const char *fmt, ...)
{
	va_list ap;

	if (d == NULL)
		return (code);
	d->code = code;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return (code);
}

int
diag_prefix(struct diag *d, const char *fmt, ...)
{
	char old[DIAG_MSGLEN];
	size_t n;
	va_list ap;

	/*
	 * Only ever called on an error path: never answer "success", even
	 * without a diag to read the code from.
	 */
	if (d == NULL)
		return (EIO);
	memcpy(old, d->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	n = strlen(d->msg);
	if (n < sizeof(d->msg) - 1)
		snprintf(d->msg + n, sizeof(d->msg) - n, "%s", old);
	if (d->code == 0)
		d->code = EIO;
	return (d->code);
}

int
diag_default(struct diag *d, int code, const char *what)
{
	if (d == NULL)
		return (code);
	if (d->code == 0 || d->msg[0] == '\0') {
		d->code = code;
		snprintf(d->msg, sizeof(d->msg), "%s: error %d", what, code);
	}
	return (code);
}
