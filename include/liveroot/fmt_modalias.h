/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt_modalias.h - modules.alias, the device-to-module table depmod(8)
 * writes under /lib/modules/KVER, and a device's modalias as the kernel
 * announces it (/sys/.../modalias, MODALIAS= of a uevent):
 *
 *   # Aliases extracted from modules themselves.
 *   alias pci:v00008086d00007010sv*sd*bc*sc*i* ata_piix
 *   alias scsi:t-0x05* sr_mod
 *   alias fs-ext4 ext4
 *
 * One alias a line: the word "alias", a pattern (fnmatch(3) syntax: '*',
 * '?', "[...]"), the module's name; blanks between them.  A device asks
 * for every module whose pattern matches its modalias, as udev's coldplug
 * does (the matching itself is the caller's: fnmatch(3) in userland).
 *
 * A pattern is a device's when it has the form BUS:... (pci:, usb:,
 * virtio:, scsi:, acpi*:, ...): the bus, a non-empty run of [a-z0-9_*],
 * then ':', the bus not one of the pseudo prefixes "devname" and
 * "symbol".  fs-ext4, crypto-crc32c, net-pf-17 and block-major-8-* name
 * modules the kernel asks for by itself; no device carries them.
 *
 * Kernel-clean, allocation-free, stateless but for the caller's cursor:
 * entries point into the caller's buffer (not NUL-terminated), which is
 * never read outside [buf, buf + len) and may hold anything.  Bounds: a
 * pattern is 1 to FMT_MODALIAS_MAX - 1 bytes, a module name 1 to
 * FMT_MODDEP_NAMEMAX - 1.  A line that breaks them, that does not start
 * with "alias", has a word missing or one too many, or holds a NUL or a
 * control character is skipped and counted in `bad`; empty lines and '#'
 * comments are skipped silently.
 */
#ifndef LIVEROOT_FMT_MODALIAS_H
#define LIVEROOT_FMT_MODALIAS_H

#include "lr_deps.h"
#include "fmt_moddep.h"
#include "fmt_uevent.h"

#define FMT_MODALIAS_MAX	4096	/* a pattern or a modalias, with NUL (a
					   sysfs attribute is a page at most) */

struct fmt_modalias_ent {
	const char	*pattern;	/* into the buffer */
	size_t		 patlen;
	size_t		 prefix;	/* bytes before the first * ? [ */
	int		 device;	/* a BUS:... pattern (above) */
	char		 name[FMT_MODDEP_NAMEMAX];	/* '-' read as '_' */
	size_t		 line;		/* 1-based line number */
};

struct fmt_modalias_iter {
	const char	*buf;
	size_t		 len;
	size_t		 off;		/* the start of the next line */
	size_t		 line;		/* lines consumed */
	size_t		 bad;		/* lines skipped as malformed */
};

void	fmt_modalias_init(struct fmt_modalias_iter *it, const void *buf,
	    size_t len);
/* The next well-formed alias: 1 with *e filled, or 0 at the end. */
int	fmt_modalias_next(struct fmt_modalias_iter *it,
	    struct fmt_modalias_ent *e);
/* Whether pattern p[0, len) is a device's (BUS:...). */
int	fmt_modalias_is_device(const char *p, size_t len);
/*
 * A device's modalias s[0, len) as read from sysfs (a trailing newline and
 * blanks are dropped): its length in *out, 0; EINVAL when it is empty,
 * holds a blank, NUL or control character, or has no ':'; ENAMETOOLONG
 * when it is FMT_MODALIAS_MAX bytes or more.
 */
int	fmt_modalias_value(const char *s, size_t len, size_t *out);
/*
 * The MODALIAS= value of a kernel uevent message (fmt_uevent.h's format)
 * whose ACTION= is "add": 0 with *alias and *alen pointing into
 * msg (checked with fmt_modalias_value); ENOENT when there is none (udev's
 * own messages, other actions); EINVAL for an empty message, one of
 * FMT_UEVENT_MAX bytes or more, or a bad value.
 */
int	fmt_modalias_uevent(const void *msg, size_t len, const char **alias,
	    size_t *alen);

#endif
