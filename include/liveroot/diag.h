/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * struct diag - the human detail of an error.  Library functions return 0 or
 * a positive errno; when they fail they may also fill a caller-owned diag with
 * the same code and a message that names the thing and, where there is one,
 * the fix.  A NULL diag is allowed everywhere and means "not interested".
 */
#ifndef LIVEROOT_DIAG_H
#define LIVEROOT_DIAG_H

#include "lr_deps.h"

#define DIAG_MSGLEN	384

struct diag {
	int	code;
	char	msg[DIAG_MSGLEN];
};

#if defined(__GNUC__)
#define LR_PRINTF(a, b)	__attribute__((format(printf, a, b)))
#else
#define LR_PRINTF(a, b)
#endif

void	diag_clear(struct diag *d);
/* Sets code and message; returns code, so `return (diag_set(d, EIO, ...));`. */
int	diag_set(struct diag *d, int code, const char *fmt, ...) LR_PRINTF(3, 4);
/*
 * Prepends context ("cluster 7: ") to an existing message; returns d->code,
 * or EIO when d is NULL or holds no code: it is for error paths, so
 * `return (diag_prefix(d, ...))` never turns an error into success.
 */
int	diag_prefix(struct diag *d, const char *fmt, ...) LR_PRINTF(2, 3);
/* Sets a generic message for code if d holds none yet; returns code. */
int	diag_default(struct diag *d, int code, const char *what);

#endif
