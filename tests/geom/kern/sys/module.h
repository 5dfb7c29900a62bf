/* SPDX-License-Identifier: BSD-2-Clause */
/* The harness's <sys/module.h>: classes are registered by gh_add_class(). */
#ifndef GH_SYS_MODULE_H
#define GH_SYS_MODULE_H
#include <sys/param.h>
typedef struct module *module_t;
typedef struct moduledata {
	const char	*name;
	int		(*evhand)(module_t, int, void *);
	void		*priv;
} moduledata_t;
#define	MODULE_VERSION(name, v)	extern int gh_module_version_##name
#endif
