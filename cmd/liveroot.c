/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * liveroot.c - the multi-verb command.  One table (geom(8) shape): each verb
 * is a function that gets argv starting at the verb name, handles its own
 * --help, and returns the exit status.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "verbs.h"

#ifndef LIVEROOT_VERSION
#define LIVEROOT_VERSION "unknown"
#endif

static const struct verb verbs[] = {
	{ "help",	verb_help,	"list the verbs, or show one verb's help" },
	{ "version",	verb_version,	"print the version" },
	{ "locate",	verb_locate,	"find the root image on devices (local, ventoy, findiso)" },
	{ "inspect",	verb_inspect,	"show partitions, file systems, ISO labels, Ventoy markers" },
	{ "serve",	verb_serve,	"export a block stack over NBD" },
	{ "mount-file",	verb_mount_file, "show a block stack as one file through FUSE" },
	{ "mkuzip",	verb_mkuzip,	"compress a file or device into a uzip image" },
	{ "uzip",	verb_uzip,	"inspect, check or extract a uzip image" },
	{ "overlay",	verb_overlay,	"create, inspect, revert, commit a persistent overlay" },
	{ "init-plan",	verb_init_plan,	"show what liveroot-init does with a kernel command line" },
	{ "mklive",	verb_mklive,	"build a live ISO, initramfs and netboot files from a tree" },
	{ "fetch",	verb_fetch,	"fetch a root image over HTTP(S) as liveroot-init does" },
	{ "sign",	verb_sign,	"sign a root image (signify's Ed25519 format)" },
	{ "verify",	verb_verify,	"check a root image's signify signature" },
	{ "remaster",	verb_remaster,	"save the running live root as a new uzip image" },
};

static const struct verb *
find_verb(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return (&verbs[i]);
	return (NULL);
}

static void
list_verbs(FILE *f)
{
	size_t i;

	fprintf(f, "usage: liveroot VERB [options] [args]\n"
	    "       liveroot VERB --help\n\n"
	    "liveroot finds, assembles and hands over the writable root of a "
	    "live system.\n\nverbs:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nSee liveroot(8) for details.\n");
}

int
verb_help(int argc, char **argv)
{
	const struct verb *v;
	char *hargv[3];

	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		list_verbs(stdout);
		return (CLI_OK);
	}
	if ((v = find_verb(argv[1])) == NULL) {
		cli_err("unknown verb '%s'; 'liveroot help' lists them",
		    argv[1]);
		return (CLI_ERROR);
	}
	if (v->fn == verb_help) {
		list_verbs(stdout);
		return (CLI_OK);
	}
	hargv[0] = argv[1];
	hargv[1] = "--help";
	hargv[2] = NULL;
	cli_verb = v->name;
	return (v->fn(2, hargv));
}

int
verb_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("liveroot %s\n", LIVEROOT_VERSION);
	return (CLI_OK);
}

int
main(int argc, char **argv)
{
	const struct verb *v;

	if (argc < 2) {
		list_verbs(stderr);
		return (CLI_ERROR);
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		list_verbs(stdout);
		return (CLI_OK);
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)
		return (verb_version(argc - 1, argv + 1));
	if ((v = find_verb(argv[1])) == NULL) {
		cli_err("unknown verb '%s'; 'liveroot help' lists them",
		    argv[1]);
		return (CLI_ERROR);
	}
	cli_verb = v->name;
	return (v->fn(argc - 1, argv + 1));
}
