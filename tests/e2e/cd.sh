#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 1, CD: the live ISO as a virtual CD drive.  The IDE CD of the
# pc machine (ata_piix + sr_mod) and a virtio-scsi CD; the live system also
# shows that liveroot left its boot log in /run/liveroot/boot.log.
. "$(dirname "$0")/lib.sh"
e2e_init

E2E_APPEND="example.check=log" e2e_boot ide -M pc -cdrom "$LIVE/live.iso"
e2e_expect "liveroot: found root image by local on /dev/sr0" 90 "ide: found on the IDE CD /dev/sr0"
e2e_expect "LIVEROOT-MARKER: nbd0 queue max_sectors_kb=1024 read_ahead_kb=1024" 90 \
    "ide: nbd0 takes 1 MiB requests and reads ahead 1 MiB"
e2e_expect_live log
grep -q "BOOTLOG: .*liveroot: found root image by local" "$E2E_LOG" &&
    e2e_ok "ide: /run/liveroot/boot.log holds the boot log" ||
    e2e_fail "ide: /run/liveroot/boot.log lacks the 'found' line"

E2E_APPEND="live.label=LIVEROOT" e2e_boot vscsi -M pc \
    -device virtio-scsi-pci,id=scsi0 \
    -drive "if=none,id=cd0,file=$LIVE/live.iso,format=raw,media=cdrom,readonly=on" \
    -device scsi-cd,bus=scsi0.0,drive=cd0
e2e_expect "liveroot: found root image by local on /dev/sr0" 90 "vscsi: found on the virtio-scsi CD"
e2e_expect_live none

e2e_done
