/* SPDX-License-Identifier: BSD-2-Clause */
/* The harness's sysctl(9): the knobs stay plain variables. */
#ifndef GH_SYS_SYSCTL_H
#define GH_SYS_SYSCTL_H
#include <sys/param.h>
#define	OID_AUTO	(-1)
#define	CTLFLAG_RD	0x80000000
#define	CTLFLAG_WR	0x40000000
#define	CTLFLAG_RW	(CTLFLAG_RD | CTLFLAG_WR)
#define	CTLFLAG_TUN	0x00080000
#define	CTLFLAG_RWTUN	(CTLFLAG_RW | CTLFLAG_TUN)
#define	CTLFLAG_MPSAFE	0x00040000
#define	SYSCTL_DECL(name)	extern int gh_sysctl_decl
#define	SYSCTL_NODE(parent, nbr, name, access, handler, descr)		\
	int gh_sysctl_node##parent##_##name __attribute__((unused))
#define	SYSCTL_INT(parent, nbr, name, access, ptr, val, descr)		\
	extern int gh_sysctl_decl
#define	SYSCTL_UINT(parent, nbr, name, access, ptr, val, descr)	\
	extern int gh_sysctl_decl
#define	SYSCTL_ULONG(parent, nbr, name, access, ptr, val, descr)	\
	extern int gh_sysctl_decl
#endif
