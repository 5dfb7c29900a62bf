/* SPDX-License-Identifier: BSD-2-Clause */
/* verbs.h - the entry points of the verbs in the table of liveroot.c. */
#ifndef LIVEROOT_VERBS_H
#define LIVEROOT_VERBS_H

int	verb_help(int argc, char **argv);
int	verb_version(int argc, char **argv);
int	verb_locate(int argc, char **argv);
int	verb_inspect(int argc, char **argv);
int	verb_serve(int argc, char **argv);
int	verb_mount_file(int argc, char **argv);
int	verb_mkuzip(int argc, char **argv);
/*
 * verb_mkuzip.c: on = 1 makes SIGINT, SIGTERM and SIGHUP remove the partial
 * output of a running uzip_write() and end the process by the signal;
 * on = 0 restores the previous actions.
 */
void	mkuzip_signals(int on);
/* Adds " (-s)" to uzip_write()'s EFBIG advice of a larger cluster size. */
struct diag;
void	mkuzip_hint(struct diag *d, int error);
int	verb_uzip(int argc, char **argv);
int	verb_overlay(int argc, char **argv);
/* A rowr error about the overlay UPPER, with the fixing command added. */
struct diag;
int	overlay_diag(const struct diag *d, int code, const char *upper);
int	verb_init_plan(int argc, char **argv);
int	verb_mklive(int argc, char **argv);
int	verb_fetch(int argc, char **argv);
int	verb_sign(int argc, char **argv);
int	verb_verify(int argc, char **argv);
int	verb_remaster(int argc, char **argv);

#endif
