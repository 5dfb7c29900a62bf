#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The live system's init for bench/liveio: run.sh installs it as
# /sbin/liveio-init in the root tree, with its workload program as
# /usr/local/bin/liveio-io (bench/liveio/io.c, static) and the test files in
# /liveio, and boots with live.init= (liveroot) or init= (dracut), so the
# same script runs the same workloads on both live systems and nothing else
# runs beside them (no systemd).  Before each workload the page cache is
# dropped (sync; echo 3 > /proc/sys/vm/drop_caches), so the reads reach the
# root device and, below it, the compressed image.
#
# Kernel command line (set by run.sh):
#   liveio.rr=N        random 4 KiB reads (default 4096)
#   liveio.rw=N        random 4 KiB writes (default 4096)
#   liveio.wmb=MIB     the sequential write's size (default 128)
#   liveio.sysfs=P=V[,P=V...]  sysfs values written before the workloads,
#                      P relative to /sys (e.g. block/nbd0/queue/read_ahead_kb=1024)
#   liveio.mode=persist  the persistence rows instead (run.sh's sides lrp,
#                      drp, dro: the overlay is on a disk): the two writes,
#                      then what they wrote read back on a cold page cache
#                      (new.bin sequentially, random.bin's written blocks
#                      in the same order), so the reads reach the
#                      persistence file
# Output: LIVEIO-INFO lines (the root device and its queue settings), one
# LIVEIO-RESULT line per workload (io.c's, with row=NAME first), then
# "LIVEIO: done" (or "LIVEIO: FAILED ..."), and the machine powers off
# through sysrq.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null

rr=4096 rw=4096 wmb=128 sysfs="" mode=""
for a in $(cat /proc/cmdline); do
	case $a in
	liveio.rr=*) rr=${a#*=} ;;
	liveio.rw=*) rw=${a#*=} ;;
	liveio.wmb=*) wmb=${a#*=} ;;
	liveio.sysfs=*) sysfs=${a#*=} ;;
	liveio.mode=*) mode=${a#*=} ;;
	esac
done

fail() {
	echo "LIVEIO: FAILED $*"
	sync
	echo o > /proc/sysrq-trigger
	while :; do sleep 1; done
}

for kv in $(echo "$sysfs" | tr ',' ' '); do
	echo "${kv#*=}" > "/sys/${kv%%=*}" ||
	    fail "writing ${kv#*=} to /sys/${kv%%=*}"
	echo "LIVEIO-INFO sysfs /sys/${kv%%=*} = $(cat "/sys/${kv%%=*}")"
done

# The root device and its queue, and the devices under it (dracut's
# device-mapper snapshot over loop devices)
dev=$(awk '$5 == "/" { print $3; exit }' /proc/self/mountinfo)
src=$(awk '$5 == "/" { for (i = 7; i < NF; i++) if ($i == "-") { print $(i + 2); exit } }' /proc/self/mountinfo)
echo "LIVEIO-INFO root $src ($dev), $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB"
blk=$(basename "$(readlink -f "/sys/dev/block/$dev")")
for b in $blk $(ls "/sys/block/$blk/slaves" 2>/dev/null); do
	q=/sys/block/$b/queue
	echo "LIVEIO-INFO $b: read_ahead_kb $(cat $q/read_ahead_kb) max_sectors_kb $(cat $q/max_sectors_kb) logical_block_size $(cat $q/logical_block_size)$( [ -r /sys/block/$b/loop/backing_file ] && echo " backing $(cat /sys/block/$b/loop/backing_file)")"
done
pid=$(cat /sys/block/nbd0/pid 2>/dev/null) &&
    echo "LIVEIO-INFO nbd0 server: $(tr '\0' ' ' < "/proc/$pid/cmdline")"

IO=/usr/local/bin/liveio-io
# run ROW ARGS...: one workload on a cold page cache; its LIVEIO-RESULT
# line gets row=ROW
run() {
	_row=$1
	shift
	sync
	echo 3 > /proc/sys/vm/drop_caches || fail "drop_caches"
	_out=$("$IO" "$@") || fail "liveio-io $* (exit $?): $_out"
	echo "$_out" | sed "s/^LIVEIO-RESULT /LIVEIO-RESULT row=$_row /"
}
if [ "$mode" = persist ]; then
	# the disks, and the overlay's mounts (dracut's stick; liveroot's is
	# the initramfs' own, not seen here)
	for b in $(ls /sys/block); do
		case $b in vd* | sd*)
			echo "LIVEIO-INFO disk $b: $(($(cat /sys/block/$b/size) / 2048)) MiB, write_cache $(cat /sys/block/$b/queue/write_cache 2>/dev/null)" ;;
		esac
	done
	awk '$2 ~ /^\/run\/initramfs|^\/run\/overlayfs/ || $3 == "overlay" { print "LIVEIO-INFO mount " $1 " on " $2 " type " $3 }' /proc/mounts
	run seqwrite seqwrite /liveio/new.bin "$wmb"
	run randwrite randwrite /liveio/random.bin "$rw" 2
	run readback-seq seqread /liveio/new.bin
	run readback-rand randread /liveio/random.bin "$rw" 2
else
	run seqread-mixed seqread /liveio/mixed.bin
	run seqread-random seqread /liveio/random.bin
	run randread randread /liveio/mixed.bin "$rr" 1
	run seqwrite seqwrite /liveio/new.bin "$wmb"
	run randwrite randwrite /liveio/random.bin "$rw" 2
fi
echo "LIVEIO: done"
sync
echo o > /proc/sysrq-trigger
# sysrq runs the power-off asynchronously: PID 1 must not exit meanwhile
while :; do
	sleep 1
done
