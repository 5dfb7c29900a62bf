#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e, issue 10 scenarios 3, 4 and 5: no -kernel.  Debian's OVMF boots
# live.iso's El Torito EFI image as a CD, then a byte copy of the ISO as a
# USB stick through the hybrid GPT's EFI system partition; then the Secure
# Boot build of OVMF with Microsoft's keys enrolled (enforcing) boots the
# CD through Debian's signed shim, GRUB and kernel, and the kernel says
# "Secure boot enabled".
. "$(dirname "$0")/lib.sh"
e2e_init
for f in /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_CODE_4M.ms.fd; do
	[ -f "$f" ] || e2e_skip "$f is missing (Debian package ovmf)"
done

# shellcheck disable=SC2046
E2E_NOKERNEL=1 e2e_boot ovmf-cd -M q35 $(e2e_ovmf) -cdrom "$LIVE/live.iso"
e2e_expect "GNU GRUB" 90 "ovmf-cd: OVMF started shim and GRUB from the CD's El Torito EFI image"
e2e_expect "liveroot: found root image by local on /dev/sr0" 120 "ovmf-cd: found on the CD"
e2e_expect_live none

e2e_stick
# shellcheck disable=SC2046
E2E_NOKERNEL=1 e2e_boot ovmf-usb -M q35 $(e2e_ovmf) $(e2e_usb_args "$IMG/stick.img")
e2e_expect "GNU GRUB" 90 "ovmf-usb: OVMF started GRUB from the stick's EFI system partition"
e2e_expect "liveroot: found root image by local on /dev/sd" 120 "ovmf-usb: found on the USB stick"
e2e_expect_live none

# shellcheck disable=SC2046,SC2086
E2E_NOKERNEL=1 e2e_boot secureboot $e2e_sb_args $(e2e_ovmf ms) -cdrom "$LIVE/live.iso"
e2e_expect "GNU GRUB" 90 "secureboot: the firmware verified shim, shim verified GRUB"
e2e_expect "secureboot: Secure boot enabled" 120 "secureboot: the kernel (verified through shim) says Secure boot enabled"
e2e_expect "liveroot: found root image by local on /dev/sr0" 120 "secureboot: found on the CD"
e2e_expect_live none
e2e_done
