/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_moddep.h - the module lists depmod(8) writes under /lib/modules/KVER:
 *
 *   modules.dep      one module a line: its path (relative to the module
 *                    directory), ':', then the paths of every module it
 *                    needs, the whole closure, separated by blanks:
 *                      kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko ...
 *   modules.builtin  one path a line, nothing after it (FMT_MODDEP_LIST;
 *   modules.order    the same shape).
 *
 * A module's name is the last component of its path without ".ko" and what
 * follows it (".ko.xz", ".ko.zst"), with '-' read as '_', as the kernel
 * names modules: kernel/drivers/usb/storage/usb-storage.ko -> usb_storage.
 *
 * mklive reads modules.dep to copy a module and its dependencies into the
 * initramfs; liveroot-init reads the same file to load them.  Both use
 * this one parser.
 *
 * Kernel-clean, allocation-free, stateless but for the caller's cursor:
 * entries point into the caller's buffer (not NUL-terminated), which is
 * never read outside [buf, buf + len) and may hold NUL bytes (a line with
 * one is bad).  Bounds: a path is 1 to FMT_MODDEP_PATHMAX bytes, a name
 * 1 to FMT_MODDEP_NAMEMAX - 1.  A line that breaks them, a modules.dep
 * line without its ':', or a path with a blank is skipped and counted in
 * the cursor's `bad`; empty lines are skipped silently.
 */
#ifndef LIVEROOT_FMT_MODDEP_H
#define LIVEROOT_FMT_MODDEP_H

#include "lr_deps.h"

#define FMT_MODDEP_NAMEMAX	64	/* with the NUL (the kernel's is 56) */
#define FMT_MODDEP_PATHMAX	1024

enum fmt_moddep_kind {
	FMT_MODDEP_DEP,			/* modules.dep: "path: dep dep" */
	FMT_MODDEP_LIST,		/* modules.builtin/.order: "path" */
};

struct fmt_moddep_ent {
	const char	*path;		/* into the buffer */
	size_t		 pathlen;
	const char	*deps;		/* after ':' and its blanks */
	size_t		 depslen;	/* 0 for none (and for LIST) */
	char		 name[FMT_MODDEP_NAMEMAX];	/* NUL-terminated */
	size_t		 line;		/* 1-based line number */
};

struct fmt_moddep_iter {
	const char	*buf;
	size_t		 len;
	size_t		 off;		/* the start of the next line */
	size_t		 line;		/* lines consumed */
	size_t		 bad;		/* lines skipped as malformed */
	enum fmt_moddep_kind kind;
};

void	fmt_moddep_init(struct fmt_moddep_iter *it, const void *buf,
	    size_t len, enum fmt_moddep_kind kind);
/* The next well-formed entry: 1 with *e filled, or 0 at the end. */
int	fmt_moddep_next(struct fmt_moddep_iter *it, struct fmt_moddep_ent *e);
/*
 * The dependency paths of a deps span, one per call: *pos starts at 0; 1
 * with *p and *plen set, or 0 when there are no more.
 */
int	fmt_moddep_dep_next(const char *deps, size_t depslen, size_t *pos,
	    const char **p, size_t *plen);
/*
 * The module name of a path or of a name ("usb-storage") in s[0, len),
 * into name (namelen bytes, NUL-terminated).  0; EINVAL for an empty name,
 * ENAMETOOLONG when it does not fit.
 */
int	fmt_moddep_name(const char *s, size_t len, char *name, size_t namelen);
/* The first entry whose name is name (already a module name): 1 or 0. */
int	fmt_moddep_find(const void *buf, size_t len, enum fmt_moddep_kind kind,
	    const char *name, struct fmt_moddep_ent *e);

#endif
