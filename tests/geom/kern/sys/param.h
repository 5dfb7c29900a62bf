/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The GEOM harness's stand-in for the FreeBSD kernel's <sys/param.h>: the
 * host's own (MIN, MAX, roundup, NBBY), what the kernel adds to it, and the
 * libc headers the harness needs, all included here, before <sys/malloc.h>
 * turns malloc/free into the kernel's three- and two-argument forms.
 */
#ifndef GH_SYS_PARAM_H
#define GH_SYS_PARAM_H
#include_next <sys/param.h>
#include <sys/types.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef roundup2
#define	roundup2(x, y)	(((x) + ((y) - 1)) & ~((__typeof__(x))(y) - 1))
#endif
#ifndef rounddown2
#define	rounddown2(x, y) ((x) & ~((__typeof__(x))(y) - 1))
#endif
#ifndef nitems
#define	nitems(x)	(sizeof((x)) / sizeof((x)[0]))
#endif
#define	PRIBIO		76
#ifndef EOPNOTSUPP
#define	EOPNOTSUPP	ENOTSUP
#endif
#endif
