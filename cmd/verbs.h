/* SPDX-License-Identifier: BSD-2-Clause */
/* verbs.h - the entry points of the verbs in the table of liveroot.c. */
#ifndef LIVEROOT_VERBS_H
#define LIVEROOT_VERBS_H

int	verb_help(int argc, char **argv);
int	verb_version(int argc, char **argv);

#endif
