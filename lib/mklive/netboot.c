/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netboot.c - OUT/netboot: what an HTTP server hands an iPXE client.
 * vmlinuz, initramfs.img and rootfs.uzip (hard links where the file
 * system allows, else copies; no PVH vmlinux: that is QEMU's test
 * convenience, not what users ship),
 * rootfs.uzip.hashes (per-cluster SHA-256, fmt_uzip_hashes.h) and the
 * .sig files of both when mklive signs,
 * rootfs.uzip.sha256 (sha256sum's format) and two iPXE scripts:
 * boot.ipxe boots lazily (live.fetch=lazy: the system starts before the
 * image is in; live.sha256= is then the sha256 of rootfs.uzip.hashes, which
 * checks every cluster), boot-full.ipxe downloads the whole image into RAM
 * first (live.fetch=full, live.sha256= of rootfs.uzip).  console=ttyS0
 * only with opts->serial.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/os.h>

#include "mklive_int.h"

static int
link_into(struct mk *m, const char *src, const char *name)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/%s", m->r->netboot, name);
	return (os_link_or_copy(src, p, m->d));
}

static int
write_into(struct mk *m, const char *name, const char *text, int n)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/%s", m->r->netboot, name);
	return (os_write_file(p, text, (size_t)n, 0644, m->d));
}

/* An iPXE script booting the root with live.fetch=how, pinned by sha. */
static int
write_ipxe(struct mk *m, const char *name, const char *what, const char *how,
    const char *sha)
{
	struct mklive_result *r = m->r;
	const struct mklive_opts *o = m->o;
	char ipxe[2048];
	int n;

	n = snprintf(ipxe, sizeof(ipxe),
	    "#!ipxe\n"
	    "# liveroot netboot: kernel and initramfs over HTTP; the root "
	    "image is\n"
	    "# %s\n"
	    "dhcp\n"
	    "kernel %s/vmlinuz%s live.probe=net "
	    "live.url=%s/rootfs.uzip live.fetch=%s live.sha256=%s%s%s\n"
	    "initrd %s/initramfs.img\n"
	    "boot\n", what,
	    o->net_base, o->serial ? " console=ttyS0,115200" : "",
	    o->net_base, how, sha, o->cmdline ? " " : "",
	    o->cmdline ? o->cmdline : "", o->net_base);
	if (n < 0 || (size_t)n >= sizeof(ipxe)) {
		r->bad_input = MKLIVE_IN_NETBOOT;
		return (diag_set(m->d, E2BIG, "%s: the base URL and the "
		    "kernel arguments are too long", name));
	}
	return (write_into(m, name, ipxe, n));
}

int
mk_netboot(struct mk *m)
{
	struct mklive_result *r = m->r;
	char ipxe[2048], hsha[65];
	int e, n;

	mk_step(m, "netboot directory %s", r->netboot);
	if ((e = os_mkdir_p(r->netboot, 0755, m->d)) != 0)
		return (e);
	if (r->sha256[0] == '\0' &&
	    (e = os_sha256_file(r->uzip, r->sha256, m->d)) != 0)
		return (diag_prefix(m->d, "sha256 of %s: ", r->uzip));
	if ((e = link_into(m, r->uzip, "rootfs.uzip")) != 0 ||
	    (e = link_into(m, r->initramfs, "initramfs.img")) != 0 ||
	    (e = link_into(m, r->vmlinuz, "vmlinuz")) != 0 ||
	    (e = link_into(m, r->hashes, "rootfs.uzip.hashes")) != 0 ||
	    (r->sig[0] != '\0' && (e = link_into(m, r->sig,
	    "rootfs.uzip.sig")) != 0) ||
	    (r->hashes_sig[0] != '\0' && (e = link_into(m, r->hashes_sig,
	    "rootfs.uzip.hashes.sig")) != 0))
		return (e);
	if ((e = os_sha256_file(r->hashes, hsha, m->d)) != 0)
		return (diag_prefix(m->d, "sha256 of %s: ", r->hashes));
	n = snprintf(ipxe, sizeof(ipxe), "%s  rootfs.uzip\n", r->sha256);
	if ((e = write_into(m, "rootfs.uzip.sha256", ipxe, n)) != 0)
		return (e);
	if ((e = write_ipxe(m, "boot.ipxe", "read lazily by liveroot-init: "
	    "the system starts before it is all in,\n# every cluster checked "
	    "against rootfs.uzip.hashes (its sha256 below).", "lazy",
	    hsha)) != 0)
		return (e);
	return (write_ipxe(m, "boot-full.ipxe", "fetched whole into RAM by "
	    "liveroot-init first, checked by its sha256\n# (below), then "
	    "used.", "full", r->sha256));
}
