/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GH_SYS_LOCK_H
#define GH_SYS_LOCK_H
#include <sys/param.h>
#endif
