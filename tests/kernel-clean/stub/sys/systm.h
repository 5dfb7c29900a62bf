/* SPDX-License-Identifier: BSD-2-Clause */
/* Stand-in for the kernel's sys/systm.h: libkern's string and print functions. */
#ifndef STUB_SYS_SYSTM_H
#define STUB_SYS_SYSTM_H
#include <sys/param.h>
#include <machine/stdarg.h>
void	*memcpy(void *, const void *, size_t);
void	*memmove(void *, const void *, size_t);
void	*memset(void *, int, size_t);
int	 memcmp(const void *, const void *, size_t);
void	*memchr(const void *, int, size_t);
size_t	 strlen(const char *);
size_t	 strnlen(const char *, size_t);
int	 strcmp(const char *, const char *);
int	 strncmp(const char *, const char *, size_t);
int	 strcasecmp(const char *, const char *);
int	 strncasecmp(const char *, const char *, size_t);
char	*strchr(const char *, int);
char	*strrchr(const char *, int);
int	 snprintf(char *, size_t, const char *, ...);
int	 vsnprintf(char *, size_t, const char *, va_list);
#endif
