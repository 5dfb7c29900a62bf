/* SPDX-License-Identifier: BSD-2-Clause */
/* Stand-in for the kernel's sys/errno.h (FreeBSD numbering). */
#ifndef STUB_SYS_ERRNO_H
#define STUB_SYS_ERRNO_H
#define EPERM 1
#define ENOENT 2
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define ENOTDIR 20
#define EISDIR 21
#define EINVAL 22
#define EFBIG 27
#define ENOSPC 28
#define EROFS 30
#define ERANGE 34
#define EAGAIN 35
#define EOPNOTSUPP 45
#define ENOTSUP EOPNOTSUPP
#define ELOOP 62
#define ENAMETOOLONG 63
#define EOVERFLOW 84
#define EILSEQ 86
#define EBADMSG 89
#define EINTEGRITY 97
#endif
