#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e, issue 11 #5: roots that are not ext4.  Two ISOs built here with
# xorriso from the example tree, booted as a CD with the usual initramfs:
#   live-boot   /live/filesystem.squashfs (mksquashfs of the tree):
#               detected as squashfs, served read-only (no rowr), mounted
#               read-only on /run/liveroot/lower, an overlayfs with a
#               tmpfs upper is the root; both mounts stay visible in the
#               live system; live.overlay=32M caps the tmpfs (ENOSPC)
#   dracut      /LiveOS/squashfs.img holding LiveOS/rootfs.img (an ext4
#               image of the tree, mke2fs -d): that file is the root,
#               through rowr on /dev/nbd1
# Each reaches the live marker with a writable root (the example init
# writes and reads back a file).
. "$(dirname "$0")/lib.sh"
e2e_need mksquashfs squashfs-tools
e2e_init

# live-boot's layout: ISO /live/filesystem.squashfs
mk_sq_iso() {
	rm -rf "$IMG/sq.d"
	mkdir -p "$IMG/sq.d/iso/live" &&
	    mksquashfs "$IMG/tree" "$IMG/sq.d/iso/live/filesystem.squashfs" \
	    -noappend -quiet -no-progress &&
	    xorriso -as mkisofs -quiet -R -J -V LIVESQ -o "$IMG/sq.iso.tmp" \
	    "$IMG/sq.d/iso" &&
	    rm -rf "$IMG/sq.d" && mv "$IMG/sq.iso.tmp" "$IMG/sq.iso"
}
# dracut's layout (bench/boot/run.sh dracut_iso): ISO /LiveOS/squashfs.img
# holding LiveOS/rootfs.img, an ext4 image of the tree
mk_dracut_iso() {
	rm -rf "$IMG/dr.d"
	mb=$(( $(du -sm "$IMG/tree" | cut -f1) + 48 ))
	mkdir -p "$IMG/dr.d/sq/LiveOS" "$IMG/dr.d/iso/LiveOS" &&
	    mke2fs -q -F -t ext4 -L rootfs -d "$IMG/tree" \
	    "$IMG/dr.d/sq/LiveOS/rootfs.img" "${mb}M" &&
	    mksquashfs "$IMG/dr.d/sq" "$IMG/dr.d/iso/LiveOS/squashfs.img" \
	    -noappend -quiet -no-progress &&
	    xorriso -as mkisofs -quiet -R -J -V LIVEDRACUT \
	    -o "$IMG/dracut.iso.tmp" "$IMG/dr.d/iso" &&
	    rm -rf "$IMG/dr.d" && mv "$IMG/dracut.iso.tmp" "$IMG/dracut.iso"
}
e2e_once sq.iso mk_sq_iso || { e2e_fail "building sq.iso"; e2e_done; }
e2e_once dracut.iso mk_dracut_iso || { e2e_fail "building dracut.iso"; e2e_done; }

# 1. live-boot's squashfs; kept up to look at the mounts from inside.
E2E_APPEND="live.image=/live/filesystem.squashfs live.overlay=128M example.hold=1" \
    e2e_boot livesq -M pc -cdrom "$IMG/sq.iso"
e2e_expect "liveroot: found root image by local on /dev/sr0" 90 "livesq: found /live/filesystem.squashfs"
e2e_expect "liveroot: root image: squashfs (read-only" 30 "livesq: detected as squashfs"
e2e_expect "plan 5. mount: squashfs /dev/nbd0 read-only on /run/liveroot/lower" 30 "livesq: the plan says read-only + overlayfs"
e2e_expect "liveroot: overlayfs on /newroot: lower /run/liveroot/lower, upper in a tmpfs of 128 MiB" 30 "livesq: overlayfs mounted"
e2e_expect "LIVEROOT-MARKER: root is writable" 60 "livesq: the root is writable"
e2e_expect "LIVEROOT-CHECK none: PASS" 30 "livesq: check passed"
e2e_reject "rowr: RAM upper" "livesq: no rowr under squashfs"
if e2e_expect "LIVEROOT-MARKER: holding" 30 "livesq: shell"; then
	sleep 1
	e2e_send "grep -E ' /run/liveroot/(lower|rw) | / overlay ' /proc/mounts | sed 's/^/MOUNTS: /'; echo MOUNTS-END"
	e2e_expect "MOUNTS-END" 30 "livesq: mounts listed"
	e2e_expect "MOUNTS: /dev/nbd0 /run/liveroot/lower squashfs ro" 5 "livesq: the squashfs stays visible read-only"
	e2e_expect "MOUNTS: tmpfs /run/liveroot/rw tmpfs rw" 5 "livesq: the tmpfs upper stays visible"
	e2e_expect "MOUNTS: overlay / overlay rw" 5 "livesq: the root is the overlayfs"
	grep -q "MOUNTS: tmpfs /run/liveroot/rw tmpfs rw.*size=131072k" "$E2E_LOG" &&
	    e2e_ok "livesq: the tmpfs is capped at live.overlay=128M" ||
	    e2e_fail "livesq: the tmpfs is not capped at 128M"
	e2e_send "poweroff -f"
fi
e2e_end 30 || e2e_fail "livesq: did not power off"

# 2. The tmpfs upper is the overlay's cap: a 96 MiB write fails (ENOSPC).
E2E_APPEND="live.image=/live/filesystem.squashfs live.overlay=32M example.check=enospc" \
    e2e_boot sqfull -M pc -cdrom "$IMG/sq.iso"
e2e_expect_live enospc

# 3. dracut's LiveOS/squashfs.img holding LiveOS/rootfs.img (ext4).
E2E_APPEND="live.image=/LiveOS/squashfs.img" \
    e2e_boot dracut -M pc -cdrom "$IMG/dracut.iso"
e2e_expect "liveroot: root image: squashfs (read-only" 90 "dracut: the container is squashfs"
e2e_expect "liveroot: dracut layout: /run/liveroot/lower/LiveOS/rootfs.img (ext4) is the root" 30 "dracut: rootfs.img found in it"
e2e_expect "liveroot: nbd: /dev/nbd1 up" 30 "dracut: rootfs.img served through rowr on /dev/nbd1"
e2e_expect "liveroot: mounted /dev/nbd1 on /newroot" 30 "dracut: ext4 mounted"
e2e_expect_live none

e2e_done
