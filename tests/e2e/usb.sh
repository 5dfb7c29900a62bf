#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 2, USB stick: the ISO dd'd to a disk image attached as USB
# mass storage (qemu-xhci + usb-storage, module arg delay_use=0).
. "$(dirname "$0")/lib.sh"
e2e_init

e2e_stick

e2e_boot usb -M pc -device qemu-xhci,id=xhci \
    -drive "if=none,id=u,file=$IMG/stick.img,format=raw,readonly=on" \
    -device usb-storage,bus=xhci.0,drive=u
e2e_expect "liveroot: found root image by local on /dev/sd" 90 "usb: found on the USB stick"
e2e_expect_live none
e2e_done
