/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * initramfs.h - the contract between the initramfs `liveroot mklive` builds
 * (lib/mklive) and liveroot-init, the /init that runs from it: where each
 * file is, and what is in it.  Both sides name these paths only through
 * this header.
 *
 *   /init                       liveroot-init, with every library ldd names
 *                               and the dynamic loader
 *   /bin/busybox                static busybox and its applet links
 *   INITRAMFS_UDHCPC_SCRIPT     udhcpc's event script: configures the
 *                               interface from udhcpc's environment
 *   /lib/modules/KVER           the boot modules and their dependencies
 *                               (modules.dep of `depmod -b`)
 *   INITRAMFS_MODULES           the modules to load, one a line: the name,
 *                               then module parameters ("usb_storage
 *                               delay_use=0"); INITRAMFS_DEFAULT_MODULES
 *                               unless mklive was told otherwise
 *   INITRAMFS_VERSION           "liveroot VERSION\n"
 *   INITRAMFS_DEFAULTS          live.* defaults (key=value lines), optional,
 *                               read before the kernel command line
 *   FETCH_CA_PATH               the CA bundle (PEM) an https:// live.url= is
 *                               verified with (the name is older than this
 *                               header: docs and tests use it)
 *   INITRAMFS_PUBKEY            a signify public key (mklive --pubkey),
 *                               optional: the root image must then carry a
 *                               valid signature of it (IMAGE.sig)
 *   INITRAMFS_NEWROOT           where the root file system is mounted before
 *                               the switch
 *   /dev/console                c 5 1, made in the archive, so the kernel
 *                               gives /init its console
 */
#ifndef LIVEROOT_INITRAMFS_H
#define LIVEROOT_INITRAMFS_H

#define INITRAMFS_MODULES	"/etc/liveroot/modules"
#define INITRAMFS_VERSION	"/etc/liveroot/version"
#define INITRAMFS_DEFAULTS	"/etc/liveroot/defaults"
#define FETCH_CA_PATH		"/etc/liveroot/ca-certificates.crt"
#define INITRAMFS_PUBKEY	"/etc/liveroot/signify.pub"
#define INITRAMFS_NEWROOT	"/newroot"
#define INITRAMFS_UDHCPC_SCRIPT	"/usr/share/udhcpc/default.script"
#define INITRAMFS_MODULE_DIR	"/lib/modules"	/* + "/" + uname -r */

/* The boot modules, an initializer: { INITRAMFS_DEFAULT_MODULES }. */
#define INITRAMFS_DEFAULT_MODULES					\
	"virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net", "ata_piix", \
	"ahci", "sr_mod", "sd_mod", "xhci_pci", "usb_storage delay_use=0", \
	"uas", "e1000", "nbd", "ext4", "crc32c_generic", "af_packet", \
	"squashfs", "erofs", "overlay"

/*
 * Staged in the initramfs but not in INITRAMFS_MODULES: liveroot-init
 * loads them only when it needs them (live.persist on FAT or exFAT).
 */
#define INITRAMFS_ONDEMAND_MODULES					\
	"vfat", "exfat", "nls_cp437", "nls_utf8", "nls_iso8859_1"

#endif
