#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 9, no medium: a virtio disk with nothing live on it.  The
# diagnostic block names the devices seen and ends with a hint; without
# live.shell the system halts (never reboots); with live.shell=1 the rescue
# shell answers a command sent over the serial console.
. "$(dirname "$0")/lib.sh"
e2e_init
# the rescue shell is the point here, not a dead end
E2E_ABORT="Kernel panic"

mkblank() {
	truncate -s 64M "$IMG/blank.img" && mkfs.ext4 -q -F -L DATA "$IMG/blank.img"
}
e2e_once blank.img mkblank || { e2e_fail "building a blank disk"; e2e_done; }

disk="-drive if=none,id=vd0,file=$IMG/blank.img,format=raw,readonly=on -device virtio-blk-pci,drive=vd0"

# shellcheck disable=SC2086
E2E_APPEND="live.timeout=4" e2e_boot halt -M pc $disk
e2e_expect "liveroot: ROOT IMAGE NOT FOUND" 90 "halt: the diagnostic block starts"
e2e_expect "vda" 5 "halt: the block lists the virtio disk vda"
e2e_expect "liveroot: hint:" 10 "halt: a hint ends the block"
e2e_expect "liveroot: halted; the messages above say why" 20 "halt: halted with the message kept"
sleep 2
if kill -0 "$E2E_QPID" 2>/dev/null; then
	e2e_ok "halt: no reboot, no power-off: the machine stays halted"
else
	e2e_fail "halt: QEMU exited (a reboot or power-off after the failure)"
fi
e2e_reject "LIVEROOT-MARKER" "halt: no live system"
e2e_end 1

# shellcheck disable=SC2086
E2E_APPEND="live.timeout=4 live.shell=1" e2e_boot shell -M pc $disk
e2e_expect "liveroot: ROOT IMAGE NOT FOUND" 90 "shell: the diagnostic block"
if e2e_expect "liveroot: rescue shell" 30 "shell: rescue shell announced"; then
	sleep 1
	# the shell answers: arithmetic the console cannot echo by itself
	e2e_send 'echo RESCUE-ANSWER-$((6*7))'
	e2e_expect "RESCUE-ANSWER-42" 20 "shell: the rescue shell answered a command over serial"
	e2e_send 'poweroff -f'
fi
e2e_end 20
e2e_done
