/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef STUB_MACHINE_STDARG_H
#define STUB_MACHINE_STDARG_H
typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_end(ap) __builtin_va_end(ap)
#define va_arg(ap, t) __builtin_va_arg(ap, t)
#define va_copy(d, s) __builtin_va_copy(d, s)
#endif
