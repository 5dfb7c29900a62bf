#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 3, findiso: a GPT virtio disk (sgdisk) with a FAT32
# partition (mkfs.vfat + mcopy) holding the live ISO as the file
# /isos/live.iso; the kernel command line names it with live.iso= (and the
# findiso= alias in a second boot).
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need sgdisk gdisk
e2e_need mkfs.vfat dosfstools
e2e_need mcopy mtools

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
e2e_once findiso.img mkfindiso || { e2e_fail "building the findiso disk"; e2e_done; }

disk="-drive if=none,id=vd0,file=$IMG/findiso.img,format=raw,readonly=on -device virtio-blk-pci,drive=vd0"
# shellcheck disable=SC2086
E2E_APPEND="live.iso=/isos/live.iso" e2e_boot liveiso -M pc $disk
e2e_expect "liveroot: found root image by findiso on /dev/vda" 90 "liveiso: found by findiso on the FAT32 partition"
e2e_expect_live none

# shellcheck disable=SC2086
E2E_APPEND="findiso=/isos/live.iso" e2e_boot alias -M pc $disk
e2e_expect "liveroot: found root image by findiso on /dev/vda" 90 "alias: findiso= works as live.iso="
e2e_expect_live none
e2e_done
