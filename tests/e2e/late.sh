#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 8, late device: the machine boots with an empty USB
# controller; the USB stick (the dd'd ISO) is hot-plugged through the QEMU
# monitor 8 s after QEMU started, while liveroot-init waits for devices by
# kernel events.  The kernel's own first line about the new disk ("[sdX]",
# loglevel 6) and liveroot's "found" line carry uptime stamps: found must
# come within 1 s of the kernel announcing the disk.
. "$(dirname "$0")/lib.sh"
e2e_init

e2e_stick

E2E_QUIET="loglevel=6" E2E_APPEND="live.timeout=90" e2e_boot late -M pc -device qemu-xhci,id=xhci
if ! e2e_wait "liveroot: probe local+ventoy+findiso: waiting" 90; then
	e2e_fail "late: liveroot-init never started waiting for devices"
	e2e_done
fi
now=$(date +%s)
[ $((now - E2E_T0)) -lt 8 ] && sleep $((8 - (now - E2E_T0)))
e2e_monitor "drive_add 0 if=none,id=u,file=$IMG/stick.img,format=raw,readonly=on"
e2e_monitor "device_add usb-storage,bus=xhci.0,drive=u,id=stick"
e2e_log "hot-plugged the stick $(( $(date +%s) - E2E_T0 )) s after start"
e2e_expect "liveroot: found root image by local on /dev/sd" 60 "late: the hot-plugged stick was found"
k=$(grep -E '^\[ *[0-9.]+\] .*\[sd[a-z]+\]' "$E2E_LOG" | head -n 1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
f=$(e2e_stamp "liveroot: found root image by")
if [ -n "$k" ] && [ -n "$f" ] &&
    awk -v k="$k" -v f="$f" 'BEGIN { exit !(f - k <= 1.0 && f >= k) }'; then
	e2e_ok "late: found at $f s, $(awk -v k="$k" -v f="$f" 'BEGIN { printf "%.3f", f - k }') s after the kernel announced the disk at $k s"
else
	e2e_fail "late: kernel announced the disk at '${k:-?}' s, liveroot found it at '${f:-?}' s: not within 1 s"
fi
e2e_expect_live none
e2e_done
