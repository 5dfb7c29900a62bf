/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * g_rowr.h - what the geom_rowr kernel class and its geom(8) library
 * (geom_rowr.so) share: the class name and the control protocol version.
 * The parameters of the control verbs are listed here once:
 *
 *   create  [-v] [-g granule] [-s size] name rodev rwdev
 *           nargs=3, arg0=name, arg1=rodev (the lower), arg2=rwdev (the
 *           upper); "granule" and "size" intmax_t, 0 = default
 *   destroy [-fv] name ...      "force" int
 *   revert  [-v] name ...
 *   commit  [-fv] name ...      "force" int
 *
 * Every request carries "version" (uint32_t, G_ROWR_VERSION) and "verbose".
 */
#ifndef _G_ROWR_H_
#define	_G_ROWR_H_

#define	G_ROWR_CLASS_NAME	"ROWR"
#define	G_ROWR_VERSION		1

#endif
