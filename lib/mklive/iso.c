/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iso.c - OUT/live.iso: an ISO 9660 image (Rock Ridge and Joliet names)
 * made by xorriso, holding /rootfs.uzip, /boot/vmlinuz and
 * /boot/initramfs.img under the volume id the caller gave; what locate
 * and liveroot-init look for on a CD.  Written as live.iso.tmp and
 * renamed; a failure removes the temporary file.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mklive_int.h"

int
mk_iso(struct mk *m)
{
	const struct mklive_result *r = m->r;
	char g1[PATH_MAX + 16], g2[PATH_MAX + 16], g3[PATH_MAX + 24];
	char tmp[PATH_MAX + 8];
	char *argv[] = { "xorriso", "-as", "mkisofs", "-quiet", "-R", "-J",
	    "-V", (char *)m->o->label, "-o", tmp, "-graft-points", g1, g2, g3,
	    NULL };

	snprintf(tmp, sizeof(tmp), "%s.tmp", r->iso);
	snprintf(g1, sizeof(g1), "/rootfs.uzip=%s", r->uzip);
	snprintf(g2, sizeof(g2), "/boot/vmlinuz=%s", r->vmlinuz);
	snprintf(g3, sizeof(g3), "/boot/initramfs.img=%s", r->initramfs);
	mk_step(m, "ISO %s, label %s", r->iso, m->o->label);
	(void)unlink(tmp);
	if (mk_run(m, argv, NULL, 0, 0, m->d) != 0) {
		(void)unlink(tmp);
		return (diag_prefix(m->d, "making %s: ", r->iso));
	}
	if (rename(tmp, r->iso) != 0)
		return (diag_set(m->d, errno, "rename %s: %s", tmp,
		    strerror(errno)));
	return (0);
}
