/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A stand-in for the FreeBSD kernel's headers, just enough for
 * lr_deps.h under _KERNEL: it declares only what the kernel's libkern
 * offers (mem*, str*, *printf).  Compiling lib/util and lib/fmt with
 * -ffreestanding -nostdinc against it proves they reach libc through
 * lr_deps.h alone and use nothing a kernel lacks.
 */
#ifndef STUB_SYS_PARAM_H
#define STUB_SYS_PARAM_H
typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;
typedef __UINTPTR_TYPE__ uintptr_t;
typedef __INTPTR_TYPE__ intptr_t;
typedef __UINT8_TYPE__ uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __INT8_TYPE__ int8_t;
typedef __INT16_TYPE__ int16_t;
typedef __INT32_TYPE__ int32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINTMAX_TYPE__ uintmax_t;
typedef __INTMAX_TYPE__ intmax_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)
#define SIZE_MAX __SIZE_MAX__
#define UINT64_MAX __UINT64_MAX__
#define UINT32_MAX __UINT32_MAX__
#define UINT16_MAX __UINT16_MAX__
#define INT64_MAX __INT64_MAX__
#define INT32_MAX __INT32_MAX__
#endif
