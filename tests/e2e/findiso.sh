#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 3, findiso: a GPT virtio disk (sgdisk) with a FAT32
# partition (mkfs.vfat + mcopy) holding the live ISO as the file
# /isos/live.iso; the kernel command line names it with live.iso= (and the
# findiso= alias in a second boot).  Then the same with an ext4 partition
# holding "/iso dir/live.iso" (mke2fs + debugfs through
# tests/integration/mkext4.py, fragmented, every block written as cp onto a
# mount would), and with an NTFS partition (mkntfs + ntfscp, which
# writes into the unmounted volume but makes no directories: /live.iso):
# liveroot-init reads ext4 and NTFS itself, Debian's kernel (no ntfs3)
# mounts nothing for them.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need sgdisk gdisk
e2e_need mkfs.vfat dosfstools
e2e_need mcopy mtools
e2e_need debugfs e2fsprogs
e2e_need python3 python3
e2e_need mkntfs ntfs-3g
e2e_need ntfscp ntfs-3g

mkfindiso() {
	t=$RUN/findiso.tmp
	isosz=$(stat -c %s "$LIVE/live.iso")
	mb=$(( isosz / 1048576 + 48 ))
	rm -f "$t.part" "$t.disk"
	mkfs.vfat -F 32 -n LIVEDATA -C "$t.part" $((mb * 1024)) &&
	    mmd -i "$t.part" ::/isos &&
	    mcopy -i "$t.part" "$LIVE/live.iso" ::/isos/live.iso &&
	    truncate -s $(( (mb + 2) * 1048576 )) "$t.disk" &&
	    sgdisk -o -n 1:2048:+${mb}M -t 1:0700 -c 1:LIVEDATA "$t.disk" >/dev/null &&
	    dd if="$t.part" of="$t.disk" bs=1M seek=1 conv=notrunc status=none &&
	    rm -f "$t.part" && mv "$t.disk" "$IMG/findiso.img"
}
# mkfindiso_ext4: $IMG/findiso-ext4.img, the same disk with ext4 holding
# the ISO, fragmented, under a directory with a space in its name
mkfindiso_ext4() {
	t=$RUN/findiso-ext4.tmp
	isosz=$(stat -c %s "$LIVE/live.iso")
	mb=$(( isosz / 1048576 + 48 ))
	rm -f "$t.part" "$t.disk"
	python3 "$SRCDIR/tests/integration/mkext4.py" --frag 32 \
	    --label LIVEDATA --mkfs "-t ext4" "$t.part" "${mb}M" \
	    "$LIVE/live.iso:/iso dir/live.iso" &&
	    truncate -s $(( (mb + 2) * 1048576 )) "$t.disk" &&
	    sgdisk -o -n 1:2048:+${mb}M -t 1:8300 -c 1:LIVEDATA "$t.disk" >/dev/null &&
	    dd if="$t.part" of="$t.disk" bs=1M seek=1 conv=notrunc status=none &&
	    rm -f "$t.part" && mv "$t.disk" "$IMG/findiso-ext4.img"
}
# mkfindiso_ntfs: $IMG/findiso-ntfs.img, the same disk with NTFS
mkfindiso_ntfs() {
	t=$RUN/findiso-ntfs.tmp
	isosz=$(stat -c %s "$LIVE/live.iso")
	mb=$(( isosz / 1048576 + 48 ))
	rm -f "$t.part" "$t.disk"
	truncate -s "${mb}M" "$t.part" &&
	    mkntfs -F -Q -L LIVEDATA "$t.part" >/dev/null &&
	    ntfscp "$t.part" "$LIVE/live.iso" /live.iso &&
	    truncate -s $(( (mb + 2) * 1048576 )) "$t.disk" &&
	    sgdisk -o -n 1:2048:+${mb}M -t 1:0700 -c 1:LIVEDATA "$t.disk" >/dev/null &&
	    dd if="$t.part" of="$t.disk" bs=1M seek=1 conv=notrunc status=none &&
	    rm -f "$t.part" && mv "$t.disk" "$IMG/findiso-ntfs.img"
}
e2e_once findiso.img mkfindiso || { e2e_fail "building the findiso disk"; e2e_done; }
e2e_once findiso-ext4.img mkfindiso_ext4 ||
    { e2e_fail "building the ext4 findiso disk"; e2e_done; }
e2e_once findiso-ntfs.img mkfindiso_ntfs ||
    { e2e_fail "building the NTFS findiso disk"; e2e_done; }

disk="-drive if=none,id=vd0,file=$IMG/findiso.img,format=raw,readonly=on -device virtio-blk-pci,drive=vd0"
# shellcheck disable=SC2086
E2E_APPEND="live.iso=/isos/live.iso" e2e_boot liveiso -M pc $disk
e2e_expect "liveroot: found root image by findiso on /dev/vda" 90 "liveiso: found by findiso on the FAT32 partition"
e2e_expect_live none

# shellcheck disable=SC2086
E2E_APPEND="findiso=/isos/live.iso" e2e_boot alias -M pc $disk
e2e_expect "liveroot: found root image by findiso on /dev/vda" 90 "alias: findiso= works as live.iso="
e2e_expect_live none

disk="-drive if=none,id=vd0,file=$IMG/findiso-ext4.img,format=raw,readonly=on -device virtio-blk-pci,drive=vd0"
# shellcheck disable=SC2086
E2E_APPEND='live.iso="/iso dir/live.iso"' e2e_boot ext4 -M pc $disk
e2e_expect "liveroot: found root image by findiso on /dev/vda" 90 "ext4: found by findiso on the ext4 partition, read by liveroot itself"
e2e_expect_live none

disk="-drive if=none,id=vd0,file=$IMG/findiso-ntfs.img,format=raw,readonly=on -device virtio-blk-pci,drive=vd0"
# shellcheck disable=SC2086
E2E_APPEND="live.iso=/live.iso" e2e_boot ntfs -M pc $disk
e2e_expect "liveroot: found root image by findiso on /dev/vda" 90 "ntfs: found by findiso on the NTFS partition, read by liveroot itself"
e2e_expect_live none
e2e_done
