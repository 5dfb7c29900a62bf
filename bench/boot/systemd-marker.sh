#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/boot's marker for the minbase+systemd root (rows sd-lr, sd-dr):
# run.sh installs it as /usr/local/sbin/liveroot-bench-marker with the unit
# bench/boot/liveroot-bench.service (After= and WantedBy=multi-user.target,
# as tests/e2e/systemd.sh's unit), so it runs once multi-user.target is
# reached.  It prints the marker line run.sh reads, in the kernel's uptime:
# init = when the live root's systemd started (its
# UserspaceTimestampMonotonic: after dracut's switch-root, the systemd of
# the real root; under liveroot, the exec of /sbin/init by liveroot-init),
# writable = now (multi-user.target reached).  CLOCK_MONOTONIC and
# /proc/uptime agree in a guest that never suspends.  Then it powers off
# (run.sh stops QEMU once it sees "powering off").
say() {
	echo "$*" > /dev/console
}
now=$(cut -d' ' -f1 /proc/uptime)
us=$(systemctl show -P UserspaceTimestampMonotonic)
ird=$(systemctl show -P InitRDTimestampMonotonic)
init=$(awk -v u="$us" 'BEGIN { printf "%.2f", u / 1e6 }')
say "LIVEROOT-MARKER: multi-user.target reached"
say "LIVEROOT-MARKER: uptime init=$init writable=$now"
say "LIVEROOT-SYSTEMD: initrd systemd at ${ird} us, userspace at ${us} us, failed units: $(systemctl --failed --no-legend --plain | wc -l)"
say "LIVEROOT-MARKER: powering off"
systemctl poweroff --no-block
