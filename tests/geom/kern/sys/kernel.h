/* SPDX-License-Identifier: BSD-2-Clause */
/* The harness's <sys/kernel.h>: nothing a GEOM class needs at run time. */
#ifndef GH_SYS_KERNEL_H
#define GH_SYS_KERNEL_H
#include <sys/param.h>
#endif
