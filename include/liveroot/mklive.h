/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mklive.h - build a live system from a directory tree (lib/mklive):
 *
 *   TREE --mke2fs -d--> rootfs.ext4 --uzip--> rootfs.uzip --xorriso--> live.iso
 *   liveroot-init + its libraries + busybox + modules --cpio newc--> initramfs.img
 *   netboot/ = vmlinuz, initramfs.img, rootfs.uzip(.sha256), boot.ipxe
 *
 * live.iso is a hybrid image (iso.c, grub.c): El Torito BIOS (GRUB
 * i386-pc) and UEFI (shim + Debian's signed GRUB on a FAT ESP image that
 * the hybrid GPT also reaches), so it boots as a CD and, copied byte for
 * byte, as a USB disk, with Secure Boot too; /boot/grub/grub.cfg is the
 * menu and /boot/grub/loopback.cfg boots the ISO from a file (findiso).
 * With opts->epoch (SOURCE_DATE_EPOCH) every output is byte-reproducible.
 *
 * The initramfs is the one initramfs.h describes, then each extra
 * directory copied over it; its cpio archive is reproducible (pack.h).
 * The kernel is opts->kernel (a bzImage; its release read from its setup
 * header) with the modules of opts->modules_dir (/lib/modules/RELEASE),
 * or else a kernel cache of scripts/kernel.sh: KVER, vmlinuz,
 * root/lib/modules/KVER.
 *
 * External tools: mke2fs (e2fsprogs), xorriso, depmod (kmod), ldd
 * (libc-bin), cp and rm (coreutils), and for the boot loaders
 * grub-mkimage (grub-common), mkfs.fat (dosfstools), mcopy (mtools) and
 * the files of grub-pc-bin, shim-signed, grub-efi-amd64-signed; a missing one is named with its
 * Debian package before any work.  Every output is written under a
 * temporary name and renamed; on failure the partial outputs are removed.
 * The library prints nothing and installs no signal handler: it reports
 * through opts->report, and a caller that wants rootfs.uzip's partial
 * output removed on SIGINT/SIGTERM arms uzip_write's handler between the
 * MKLIVE_EV_UZIP_START and _END events.  Single-threaded (the uzip writer
 * runs its own workers); no state beyond one call.
 */
#ifndef LIVEROOT_MKLIVE_H
#define LIVEROOT_MKLIVE_H

#include <stdint.h>

#include "codec.h"
#include "diag.h"

#define MKLIVE_MAXMOD		64	/* boot modules */
#define MKLIVE_MAXEXTRA		16	/* extra initramfs directories */
/* The build machine's CA bundle (Debian's ca-certificates). */
#define MKLIVE_DEFAULT_CA	"/etc/ssl/certs/ca-certificates.crt"

enum mklive_event {
	MKLIVE_EV_STEP,		/* text: the step now done ("ISO out/live.iso...") */
	MKLIVE_EV_TOOL_OUTPUT,	/* text: what a quiet tool said before failing */
	MKLIVE_EV_NO_CA,	/* text: MKLIVE_DEFAULT_CA, absent: https://
				   URLs will not verify at boot */
	MKLIVE_EV_UZIP_START,	/* rootfs.uzip is being written */
	MKLIVE_EV_UZIP_PROGRESS, /* done of total bytes compressed */
	MKLIVE_EV_UZIP_END,
	MKLIVE_EV_ISO_START,	/* xorriso writes live.iso */
	MKLIVE_EV_ISO_PROGRESS,	/* done of total (10000 = 100.00%) */
	MKLIVE_EV_ISO_END,
};

/* What live.iso boots from (mklive_opts.boot); 0: -kernel only. */
#define MKLIVE_BOOT_BIOS	0x1	/* GRUB i386-pc: El Torito + hybrid MBR */
#define MKLIVE_BOOT_UEFI	0x2	/* shim + signed GRUB: El Torito EFI + ESP */

/* The boot loader files (defaults: Debian's packages). */
#define MKLIVE_GRUB_PC_DIR	"/usr/lib/grub/i386-pc"		/* grub-pc-bin */
#define MKLIVE_SHIM		"/usr/lib/shim/shimx64.efi.signed" /* shim-signed */
#define MKLIVE_MOKMANAGER	"/usr/lib/shim/mmx64.efi.signed"
#define MKLIVE_GRUB_EFI		\
	"/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed" /* grub-efi-amd64-signed */

/* What mklive_build() makes. */
enum mklive_platform {
	MKLIVE_LINUX = 0,	/* initramfs, rootfs.uzip, live.iso, netboot/ */
	MKLIVE_FREEBSD,		/* cdroot/ (system.uzip, boot/loader.conf,
				   boot/ramdisk.files), ramdisk/liveroot-init.sh,
				   README.freebsd: freebsd.c (makefs) */
};

/* What the free space of the ext4 (FreeBSD: FFS) file system is. */
enum mklive_free {
	MKLIVE_FREE_DEFAULT,	/* 64 MiB or 25% of the content, the larger */
	MKLIVE_FREE_BYTES,	/* free */
	MKLIVE_FREE_PCT,	/* free percent of the content */
};

struct mklive_opts {
	const char	*tree;		/* the root tree; NULL: initramfs only */
	const char	*out;		/* output directory (made) */
	const char	*label;		/* ISO volume id, 1 to 32 characters */
	enum mklive_free free_mode;
	uint64_t	 free;		/* bytes, or a percentage (<= 100) */
	const struct lr_codec *codec;	/* rootfs.uzip's */
	uint32_t	 blksz;		/* rootfs.uzip cluster size */
	const char	*kernel;	/* the kernel (bzImage) and */
	const char	*modules_dir;	/* its modules (/lib/modules/RELEASE);
					   both NULL: a kernel cache */
	const char	*kdir;		/* the kernel cache; or NULL and */
	const char	*const *kdir_try; /* the first of these with a KVER */
	const char	*init_path;	/* the live system's init (live.init=)
					   or NULL: /sbin/init, checked */
	unsigned	 boot;		/* MKLIVE_BOOT_* */
	int		 serial;	/* GRUB on ttyS0, serial entry default,
					   console=ttyS0 in boot.ipxe */
	const char	*grub_pc_dir;	/* NULL: MKLIVE_GRUB_PC_DIR ... */
	const char	*shim;		/* NULL: MKLIVE_SHIM */
	const char	*grub_efi;	/* NULL: MKLIVE_GRUB_EFI */
	const char	*sign_key;	/* signify secret key: rootfs.uzip.sig */
	const char	*pubkey;	/* signify public key: INITRAMFS_PUBKEY */
	const char	*init;		/* the /init binary (liveroot-init) */
	const char	*busybox;	/* a static busybox */
	const char	*compress;	/* pack_compressor() name */
	const char	*net_base;	/* boot.ipxe's base URL */
	const char	*cmdline;	/* extra kernel arguments, or NULL */
	const char	*ca;		/* CA bundle for FETCH_CA_PATH, or NULL */
	const char	*version;	/* for INITRAMFS_VERSION: "0.1.0" */
	const char	*const *mods;	/* boot modules: "name [args]" */
	int		 nmods;
	const char	*const *extra;	/* directories copied over the initramfs */
	int		 nextra;
	int		 keep_ext4;	/* keep OUT/rootfs.ext4 */
	int		 talk;		/* tools print to our stderr as they run */
	enum mklive_platform platform;
	const char	*epoch;		/* SOURCE_DATE_EPOCH (decimal): every
					   time stamp and id derived from it
					   (makefs -T, mke2fs, xorriso), or NULL */
	void		(*report)(void *arg, enum mklive_event ev,
			    const char *text, uint64_t done, uint64_t total);
	void		*arg;
};

/* Which input an error is about, so that the caller can name its option. */
enum mklive_input {
	MKLIVE_IN_NONE,
	MKLIVE_IN_KCACHE,	/* kdir NULL and no kdir_try is a cache */
	MKLIVE_IN_KDIR,		/* "DIR is not a kernel cache ...: why" */
	MKLIVE_IN_INIT,		/* the /init binary could not be copied */
	MKLIVE_IN_CA,		/* the CA bundle could not be read */
	MKLIVE_IN_CA_PEM,	/* the CA bundle holds no certificate */
	MKLIVE_IN_EXTRA,	/* extra[bad_index] could not be copied */
	MKLIVE_IN_NETBOOT,	/* net_base and cmdline make boot.ipxe too long */
	MKLIVE_IN_TREE,		/* the tree has no /sbin/init (init_path) */
	MKLIVE_IN_KERNEL,	/* kernel is not a bzImage / unreadable */
	MKLIVE_IN_MODDIR,	/* modules_dir is not the kernel's modules */
	MKLIVE_IN_BOOTFILE,	/* a boot loader file is missing */
	MKLIVE_IN_LABEL,	/* the label has a character GRUB misreads */
	MKLIVE_IN_CMDLINE,	/* so has cmdline */
	MKLIVE_IN_SIGNKEY,	/* sign_key unreadable or not a secret key */
	MKLIVE_IN_PUBKEY,	/* pubkey unreadable, or not sign_key's pair */
};

struct mklive_result {
	char		 kver[128];	/* the kernel's release */
	char		 vmlinuz[4096];
	char		 initramfs[4096];	/* OUT/initramfs.img */
	char		 uzip[4096];		/* OUT/rootfs.uzip */
	char		 sig[4096];	/* OUT/rootfs.uzip.sig, or "" */
	char		 hashes[4096];	/* OUT/rootfs.uzip.hashes */
	char		 hashes_sig[4096]; /* OUT/rootfs.uzip.hashes.sig, or "" */
	char		 iso[4096];		/* OUT/live.iso */
	char		 netboot[4096];		/* OUT/netboot */
	char		 cdroot[4096];		/* FreeBSD: OUT/cdroot */
	char		 readme[4096];		/* FreeBSD: OUT/README.freebsd */
	char		 sha256[65];	/* of rootfs.uzip, hex */
	uint64_t	 initramfs_bytes;
	uint64_t	 uzip_bytes;
	uint64_t	 ext4_bytes;	/* FreeBSD: the FFS image's */
	int		 nloaded;	/* boot modules found in the kernel */
	enum mklive_input bad_input;	/* on failure: the input at fault */
	int		 bad_index;	/* ... its index (MKLIVE_IN_EXTRA) */
};

/*
 * Builds OUT/initramfs.img and, with a tree, OUT/rootfs.uzip, OUT/live.iso
 * and OUT/netboot/; MKLIVE_FREEBSD: OUT/cdroot/system.uzip and the files
 * MKLIVE_FREEBSD names, from the tree alone (tools: makefs).  The caller has checked the options (label length,
 * module count, that the inputs exist).  Returns 0 with r filled, or an
 * errno with d saying what failed and r->bad_input naming the input.
 */
int	mklive_build(const struct mklive_opts *o, struct mklive_result *r,
	    struct diag *d);

#endif
