#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e, issue 10 scenarios 1 and 2: no -kernel.  SeaBIOS boots live.iso
# through its El Torito record (GRUB i386-pc) as a CD, then a byte copy of
# the ISO as a USB stick through the hybrid MBR; GRUB (on the serial port:
# the e2e images are built with --serial) loads the kernel and initramfs
# from the ISO and the live system comes up.
. "$(dirname "$0")/lib.sh"
e2e_init

E2E_NOKERNEL=1 e2e_boot seabios-cd -M pc -cdrom "$LIVE/live.iso"
e2e_expect "GNU GRUB" 60 "seabios-cd: SeaBIOS started GRUB from the CD's El Torito record"
e2e_expect "live.label=LIVEROOT" 60 "seabios-cd: GRUB booted the kernel with live.label= (the menu's default entry)"
e2e_expect "liveroot: found root image by local on /dev/sr0" 90 "seabios-cd: found on the CD"
e2e_expect_live none

e2e_stick
# shellcheck disable=SC2046
E2E_NOKERNEL=1 e2e_boot seabios-usb -M pc $(e2e_usb_args "$IMG/stick.img")
e2e_expect "GNU GRUB" 60 "seabios-usb: SeaBIOS started GRUB from the stick's hybrid MBR"
e2e_expect "liveroot: found root image by local on /dev/sd" 90 "seabios-usb: found on the USB stick"
e2e_expect_live none
e2e_done
