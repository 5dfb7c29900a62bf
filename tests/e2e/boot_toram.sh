#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e, issue 10 scenario 7: the "copy to RAM" entry of live.iso's GRUB menu,
# chosen on the serial console (SeaBIOS, CD, no -kernel): liveroot-init
# copies the root image into RAM; once the live system is up the test
# ejects the CD through QEMU's monitor and tells the system so on the
# console; it drops its caches and reads every file of its root, and keeps
# running (the example init's toram check).
. "$(dirname "$0")/lib.sh"
e2e_init

E2E_NOKERNEL=1 e2e_boot toram -M pc -cdrom "$LIVE/live.iso"
if e2e_expect "copy to RAM" 60 "toram: GRUB shows its menu on the serial console"; then
	sleep 1
	# the menu's default is the serial entry (4th); up twice: copy to RAM
	printf '\033[A' >&8
	sleep 0.3
	printf '\033[A' >&8
	sleep 0.3
	printf '\r' >&8
fi
e2e_expect "live.toram=1" 60 "toram: GRUB booted the copy-to-RAM entry"
e2e_expect "liveroot: toram: done" 120 "toram: liveroot-init copied the image into RAM"
if e2e_expect "LIVEROOT-TORAM:" 120 "toram: the live system is up and waits for the eject"; then
	e2e_monitor "eject -f ide1-cd0"
	e2e_monitor "info block"
	if grep -A1 '^ide1-cd0' "$RUN/$E2E_NAME.mon.log" | grep -q 'not inserted'; then
		e2e_ok "toram: QEMU ejected the CD"
	else
		e2e_fail "toram: the CD is still in the drive: $(cat "$RUN/$E2E_NAME.mon.log")"
	fi
	e2e_send "ejected"
fi
e2e_wait "LIVEROOT-CHECK toram:" 180
if grep -q "LIVEROOT-CHECK toram: PASS" "$E2E_LOG"; then
	e2e_ok "toram: the system runs from RAM without its CD ($(grep -o 'LIVEROOT-CHECK toram: PASS.*' "$E2E_LOG" | head -n 1))"
else
	e2e_fail "toram: the system did not run on without its CD"
fi
e2e_end 60 || e2e_fail "toram: the live system did not power off"
e2e_done
