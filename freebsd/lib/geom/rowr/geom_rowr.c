/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * geom_rowr.c - the geom(8) library of the ROWR class (geom_rowr.so): the
 * class's verbs as one table.  geom(8) turns a command line into a gctl
 * request (-g and -s as intmax_t "granule"/"size", -f and -v as int
 * "force"/"verbose", the names as arg0..argN) and the kernel class
 * (g_rowr.c) checks and answers it; list, status, load and unload are
 * geom(8)'s own.
 */
#include <stdint.h>
#include <stdio.h>

#include <geom/rowr/g_rowr.h>

struct gctl_req;	/* <libgeom.h>; core/geom.h names it only */
#include "core/geom.h"

uint32_t lib_version = G_LIB_VERSION;
uint32_t version = G_ROWR_VERSION;

struct g_command class_commands[] = {
	{ "create", G_FLAG_LOADKLD, NULL,
	    {
		{ 'g', "granule", "0", G_TYPE_NUMBER },
		{ 's', "size", "0", G_TYPE_NUMBER },
		{ 'v', "verbose", NULL, G_TYPE_BOOL },
		G_OPT_SENTINEL
	    },
	    "[-v] [-g granule] [-s size] name rodev rwdev"
	},
	{ "destroy", 0, NULL,
	    {
		{ 'f', "force", NULL, G_TYPE_BOOL },
		{ 'v', "verbose", NULL, G_TYPE_BOOL },
		G_OPT_SENTINEL
	    },
	    "[-fv] name ..."
	},
	{ "revert", 0, NULL,
	    {
		{ 'v', "verbose", NULL, G_TYPE_BOOL },
		G_OPT_SENTINEL
	    },
	    "[-v] name ..."
	},
	{ "commit", 0, NULL,
	    {
		{ 'f', "force", NULL, G_TYPE_BOOL },
		{ 'v', "verbose", NULL, G_TYPE_BOOL },
		G_OPT_SENTINEL
	    },
	    "[-fv] name ..."
	},
	G_CMD_SENTINEL
};
