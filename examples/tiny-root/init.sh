#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# /sbin/init of the example live system.  It runs as PID 1 after
# liveroot-init's hand-off, proves the root is alive and writable, runs the
# check named by the kernel command line key example.check=NAME, prints one
# result line and powers off.  Lines the e2e tests match:
#   LIVEROOT-MARKER: live system up
#   LIVEROOT-CHECK NAME: PASS [detail]   |   LIVEROOT-CHECK NAME: FAIL why
# Checks:
#   none      (default) only the marker and the write/read-back
#   overlay64 write 64 MiB, sync, drop caches, read back, compare sha256
#   enospc    write more than the overlay holds (boot with live.overlay=32M):
#             the write must fail with ENOSPC (or the overlay's ENOSPC seen
#             by the kernel as nbd error 28), and the system must keep
#             running
#   firmware  insmod /lib/modules/extra/lr_fwtest.ko (built by the test):
#             the kernel loads firmware example.fwname= (default
#             liveroot-test.fw) from the live root's /lib/firmware
#   log       print /run/liveroot/boot.log
#   toram     (the default after live.toram=1) say the medium may go, wait
#             for a line on the console (the test ejects the CD, then
#             sends it), drop the caches and read every file of the root:
#             the system runs from RAM alone
#   persist   (boot with live.persist=) print what the root kept from the
#             boots before: "PASS kept: TEXT" when /root/kept exists, else
#             write it ("boot example.boot=N"), sync: "PASS written"
#   powercut  (boot with live.persist=) write files /root/pc/bB_I
#             (B = example.boot=, I = 1, 2, ...: 16 KiB of "B I" lines),
#             each followed by sync and "LIVEROOT-SYNCED bB_I"; the test
#             kills QEMU at a random point and checks every synced file
# example.hold=1 keeps the system up (a shell on the console) instead of
# powering off.
PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PATH

mount -t proc proc /proc 2>/dev/null
t_start=$(cut -d' ' -f1 /proc/uptime)
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /run /tmp
grep -q ' /run ' /proc/mounts || mount -t tmpfs -o mode=755 tmpfs /run
hostname -F /etc/hostname 2>/dev/null

echo "LIVEROOT-MARKER: live system up"

arg() {
	# the value of kernel command line key $1, or $2
	v=$(tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p" | tail -n 1)
	echo "${v:-$2}"
}

check=$(arg example.check "")
if [ -z "$check" ]; then
	check=none
	grep -qw 'live.toram=1' /proc/cmdline && check=toram
fi
result() {
	echo "LIVEROOT-CHECK $check: $*"
}

# The root must be writable: write a file, read it back.
stamp="written at $(cat /proc/uptime)"
if echo "$stamp" > /root/liveroot-test && sync &&
    [ "$(cat /root/liveroot-test)" = "$stamp" ]; then
	echo "LIVEROOT-MARKER: root is writable"
	# for bench/boot: kernel uptime when init started / root proven writable
	echo "LIVEROOT-MARKER: uptime init=$t_start writable=$(cut -d' ' -f1 /proc/uptime)"
	q=/sys/block/nbd0/queue
	[ -r $q/max_sectors_kb ] &&
	    echo "LIVEROOT-MARKER: nbd0 queue max_sectors_kb=$(cat $q/max_sectors_kb) read_ahead_kb=$(cat $q/read_ahead_kb)"
else
	echo "LIVEROOT-MARKER: root is NOT writable"
	[ "$check" = none ] && check=writable
	result "FAIL the root file system is not writable"
	check=""
fi

case "$check" in
"")
	;;
none)
	result PASS
	;;
overlay64)
	if ! dd if=/dev/urandom of=/root/big bs=1M count=64 2>/run/dd.err; then
		result "FAIL writing 64 MiB: $(tail -n 1 /run/dd.err)"
	else
		a=$(sha256sum /root/big | cut -d' ' -f1)
		sync
		echo 3 > /proc/sys/vm/drop_caches
		b=$(sha256sum /root/big | cut -d' ' -f1)
		sz=$(stat -c %s /root/big)
		if [ "$a" = "$b" ] && [ "$sz" = 67108864 ]; then
			result "PASS 64 MiB written, synced, re-read after drop_caches, sha256 $a"
		else
			result "FAIL read back differs: size $sz, sha256 $a before, $b after"
		fi
	fi
	;;
enospc)
	# The image has far more free space than 96 MiB: only the overlay's
	# cap can stop this write.  Either liveroot makes the file system
	# itself run out (ENOSPC in dd), or the overlay refuses the block
	# write with ENOSPC (28), which Linux's nbd driver logs ("Other side
	# returned error (28)") and turns into EIO, or EROFS once ext4 has
	# aborted its journal.
	if dd if=/dev/urandom of=/root/big bs=1M count=96 conv=fsync 2>/run/dd.err; then
		result "FAIL a 96 MiB write fit into the overlay (is live.overlay=32M set?)"
	else
		if grep -q 'No space left on device' /run/dd.err; then
			why="ENOSPC: No space left on device"
		elif dmesg | grep -q 'nbd.*returned error (28)'; then
			why="the overlay answered ENOSPC to the kernel; dd saw: $(grep -o -e 'Input/output error' -e 'Read-only file system' /run/dd.err | head -n 1)"
		else
			why=""
		fi
		if [ -z "$why" ]; then
			result "FAIL the write failed ($(tr '\n' ' ' < /run/dd.err)), but not because the overlay was full"
		elif [ "$(cat /etc/hostname)" = liveroot-example ] && ls / >/dev/null &&
		    [ "$(echo alive)" = alive ]; then
			result "PASS the write failed ($why); the system keeps running"
		else
			result "FAIL the system does not respond after the failed write"
		fi
	fi
	;;
firmware)
	name=$(arg example.fwname liveroot-test.fw)
	ko=/lib/modules/extra/lr_fwtest.ko
	if [ ! -f "$ko" ]; then
		result "FAIL $ko is missing from the live root"
	elif insmod "$ko" "name=$name" 2>/run/insmod.err; then
		line=$(dmesg | grep 'lr_fwtest:' | tail -n 1)
		result "PASS ${line#*lr_fwtest: }"
	else
		line=$(dmesg | grep 'lr_fwtest:' | tail -n 1)
		result "FAIL ${line#*lr_fwtest: }"
	fi
	;;
toram)
	echo "LIVEROOT-TORAM: the root is in RAM; remove the medium, then send a line"
	if ! read -t 120 -r _line < /dev/console; then
		result "FAIL no line on the console within 120 s"
	else
		sync
		echo 3 > /proc/sys/vm/drop_caches
		n=$(find / -xdev -type f | wc -l)
		if find / -xdev -type f -exec cat {} + > /dev/null 2> /run/cat.err &&
		    echo after > /root/after-eject && sync &&
		    [ "$(cat /root/after-eject)" = after ]; then
			result "PASS $n files read and one written after the medium went (caches dropped)"
		else
			result "FAIL after the medium went: $(head -n 2 /run/cat.err | tr '\n' ' ')"
		fi
	fi
	;;
log)
	if [ -f /run/liveroot/boot.log ]; then
		sed 's/^/BOOTLOG: /' /run/liveroot/boot.log
		result PASS
	else
		result "FAIL /run/liveroot/boot.log is missing"
	fi
	;;
persist)
	if [ -f /root/kept ]; then
		result "PASS kept: $(cat /root/kept)"
	elif echo "boot $(arg example.boot 0)" > /root/kept && sync; then
		result "PASS written"
	else
		result "FAIL cannot write /root/kept"
	fi
	;;
powercut)
	b=$(arg example.boot 0)
	mkdir -p /root/pc
	echo "LIVEROOT-POWERCUT: boot $b, $(ls /root/pc | wc -l) files kept"
	i=1
	while [ "$i" -le 300 ]; do
		yes "$b $i" | head -c 16384 > "/root/pc/b${b}_$i" || break
		sync || break
		echo "LIVEROOT-SYNCED b${b}_$i"
		i=$((i + 1))
	done
	result "PASS $((i - 1)) files written and synced"
	;;
*)
	result "FAIL unknown check (none overlay64 enospc firmware toram log persist powercut)"
	;;
esac

if [ "$(arg example.hold 0)" = 1 ]; then
	echo "LIVEROOT-MARKER: holding (shell on the console)"
	exec /bin/sh </dev/console >/dev/console 2>&1
fi
echo "LIVEROOT-MARKER: powering off"
sync
# read-only first: the root's last writes and its journal reach the overlay
# (a persistent one saves its map), so the next boot finds it clean
mount -o remount,ro / 2>/dev/null
poweroff -f
