#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 2, USB stick: the ISO dd'd to a disk image attached as USB
# mass storage (qemu-xhci + usb-storage, module arg delay_use=0).
. "$(dirname "$0")/lib.sh"
e2e_init

mkstick() {
	cp "$LIVE/live.iso" "$IMG/stick.img.tmp" &&
	    truncate -s %1M "$IMG/stick.img.tmp" &&
	    mv "$IMG/stick.img.tmp" "$IMG/stick.img"
}
e2e_once stick.img mkstick || { e2e_fail "building the stick image"; e2e_done; }

e2e_boot usb -M pc -device qemu-xhci,id=xhci \
    -drive "if=none,id=u,file=$IMG/stick.img,format=raw,readonly=on" \
    -device usb-storage,bus=xhci.0,drive=u
e2e_expect "liveroot: found root image by local on /dev/sd" 90 "usb: found on the USB stick"
e2e_expect_live none
e2e_done
