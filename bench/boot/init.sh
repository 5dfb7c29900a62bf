#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The live system's init for bench/boot's realistic root (a debootstrap
# minbase tree): run.sh installs it as /sbin/liveroot-bench-init and boots
# with live.init= (liveroot) or init= (dracut), so neither side starts
# systemd.  It prints the marker lines of examples/tiny-root/init.sh that
# run.sh reads (hand-off = when this script starts, marker = the root proven
# writable) and powers off through sysrq, which needs no poweroff binary
# (minbase has none).  Only coreutils, mount and a POSIX sh are used.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

mount -t proc proc /proc 2>/dev/null
t_start=$(cut -d' ' -f1 /proc/uptime)
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null

echo "LIVEROOT-MARKER: live system up"
stamp="written at $(cat /proc/uptime)"
if echo "$stamp" > /root/liveroot-test && sync &&
    [ "$(cat /root/liveroot-test)" = "$stamp" ]; then
	echo "LIVEROOT-MARKER: root is writable"
	echo "LIVEROOT-MARKER: uptime init=$t_start writable=$(cut -d' ' -f1 /proc/uptime)"
	echo "LIVEROOT-CHECK none: PASS $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-?}"), $(dpkg-query -W 2>/dev/null | wc -l) packages"
else
	echo "LIVEROOT-MARKER: root is NOT writable"
	echo "LIVEROOT-CHECK none: FAIL the root file system is not writable"
fi
echo "LIVEROOT-MARKER: powering off"
sync
echo o > /proc/sysrq-trigger
# sysrq runs the power-off asynchronously: PID 1 must not exit meanwhile
while :; do
	sleep 1
done
