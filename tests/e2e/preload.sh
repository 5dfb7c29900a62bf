#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e: preload.  The root image is inside the initramfs (a "preload" variant
# made with `liveroot mklive --initramfs-only --extra-initramfs DIR`, DIR
# holding /rootfs.uzip), the way a boot loader preloads it; the machine has
# no disk, no CD, no network.  liveroot-init uses it in place.
. "$(dirname "$0")/lib.sh"
e2e_init

mkpreload() {
	rm -rf "$RUN/pre" "$IMG/preload.tmp"
	mkdir -p "$RUN/pre"
	cp "$LIVE/rootfs.uzip" "$RUN/pre/rootfs.uzip" &&
	    "$LIVEROOT" mklive --initramfs-only --init "$E2E_INIT" \
		--kernel-dir "$E2E_KDIR" --extra-initramfs "$RUN/pre" \
		-o "$IMG/preload.tmp" &&
	    mv "$IMG/preload.tmp" "$IMG/preload"
}
e2e_once preload mkpreload || { e2e_fail "building the preload initramfs"; e2e_done; }

E2E_INITRD=$IMG/preload/initramfs.img E2E_APPEND="live.timeout=5" e2e_boot preload -M pc
e2e_expect "liveroot: found root image by preload" 90 "preload: found in the initramfs"
e2e_expect_live none
e2e_done
