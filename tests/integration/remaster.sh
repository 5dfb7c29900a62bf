#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# remaster.sh - `liveroot remaster -o NEW.uzip` (issue 11 #6) on the host,
# without QEMU: a loop-mounted ext4 image plays the live root (the hidden
# --root MOUNTPOINT freezes it instead of "/").
#  - --help; the refusals, each before anything is frozen and naming the
#    fix: no -o, an unknown codec, not root, no such device, not a mount
#    point, an overlayfs root, an output on the frozen file system, an
#    output on a loop device whose file is on it, too little free space
#    (both numbers named), stdout redirected to a file on it;
#  - files written, remastered (device found by mountinfo, and by
#    --device): `liveroot uzip check`, the extracted image's e2fsck -fn is
#    clean and holds the files; the file system is thawed afterwards;
#  - stale-cache regression: the device's page cache is filled, a file is
#    then rewritten through the file system (its data bypasses that
#    cache): the image holds the new bytes (the device is read O_DIRECT);
#  - while it reads, the root IS frozen (fsfreeze -f answers "busy");
#    SIGTERM and SIGINT thaw it and leave no partial image; SIGKILL thaws
#    it too (the guardian process).
set -u
: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
. "$(dirname "$0")/lib.sh"
LIB_TAP=1
LIB_NAME=remaster
need_tools "e2fsprogs" mkfs.ext4 e2fsck debugfs
need_tools "util-linux" losetup fsfreeze setpriv mount umount
need_tools "coreutils" env sha256sum
[ "$(id -u)" = 0 ] || skip "freezing and loop-mounting need root"
[ -e /dev/loop-control ] || skip "no loop devices (modprobe loop)"
L=$LIVEROOT
W=$(mktemp -d "${TMPDIR:-/tmp}/remaster.XXXXXX")
LOOP="" LOOP2="" BG=""
cleanup() {
	[ -z "$BG" ] || kill -9 "$BG" 2>/dev/null
	fsfreeze -u "$W/mnt" 2>/dev/null
	for m in "$W/inner" "$W/small" "$W/ov" "$W/mnt"; do
		umount "$m" 2>/dev/null
	done
	[ -z "$LOOP2" ] || losetup -d "$LOOP2" 2>/dev/null
	[ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
cd "$W" || exit 1
mkdir mnt out inner small ov ovl ovu ovw notmnt

# The "root": 96 MiB ext4 (4 KiB blocks) on a loop device.
mkfs.ext4 -q -F -b 4096 -L liveroot root.img 96M > /dev/null || exit 1
LOOP=$(losetup -f --show root.img) || skip "losetup -f failed (no free loop device)"
mount "$LOOP" mnt || exit 1

# writable ROOT: a write (and its sync) finishes within 10 s; if it does
# not, ROOT is thawed here (so that the writer and this test can end)
writable() {
	(echo x > "$1/.w" && sync -f "$1/.w" && rm -f "$1/.w") &
	wp=$!
	i=0
	while kill -0 "$wp" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$wp" 2>/dev/null; then
		echo "$1 is still frozen after 10 s: thawing it here"
		fsfreeze -u "$1"
		wait "$wp"
		return 1
	fi
	wait "$wp"
}
# no_partial DIR: DIR holds no uzip and no temporary beside one
no_partial() {
	[ -z "$(ls -A "$1")" ]
}

# --- --help and the refusals ----------------------------------------------
"$L" remaster --help > out.txt 2> err.txt
check "--help: exit 0, the usage on stdout" grep -q "^usage: liveroot remaster -o NEW.uzip" out.txt
check "--help names the supported roots and the overlayfs limit" \
    grep -q "overlayfs" out.txt
check "--help does not show the test-only --root" sh -c '! grep -q -- "--root" out.txt'
expect_err "no -o" 2 "-o NEW.uzip is needed" "$L" remaster
expect_err "an operand instead of -o" 2 "unexpected operand 'x.uzip'" "$L" remaster x.uzip
expect_err "an unknown codec" 2 "-A lz4: one of zstd, zlib, lzma" \
    "$L" remaster -o out/x.uzip -A lz4
expect_err "-j 0" 2 "-j 0: give a number of threads" "$L" remaster -o out/x.uzip -j 0
expect_err "not root" 2 "must be run as root" \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$L" remaster -o /tmp/x.uzip
expect_err "no such device (--device)" 2 "/dev/liveroot-none: no such device" \
    "$L" remaster --root mnt --device /dev/liveroot-none -o out/x.uzip
expect_err "not a mount point" 2 "is not a mount point" \
    "$L" remaster --root notmnt -o out/x.uzip
mkdir -p ovl/etc && echo lower > ovl/etc/hostname
if mount -t overlay overlay -o "lowerdir=$W/ovl,upperdir=$W/ovu,workdir=$W/ovw" ov 2>/dev/null; then
	expect_err "an overlayfs root: not supported, what is named" 2 \
	    "is an overlayfs (a squashfs or erofs image with a RAM upper), not a file system on a block device: remaster does not support it; it supports a root on a block device" \
	    "$L" remaster --root ov -o out/x.uzip
	umount ov
else
	bad "mount -t overlay failed on this host (the overlay refusal is not tested)"
fi
expect_err "an output on the frozen file system is refused, /run named" 2 \
    "is on the root file system ($LOOP on $W/mnt) that remaster freezes: writing there would hang; write it to another file system: a USB stick (mount it, e.g. on /mnt), /run (a tmpfs, in RAM), or /tmp if it is a tmpfs" \
    "$L" remaster --root mnt -o mnt/new.uzip
check "... and nothing is written there" test ! -e mnt/new.uzip
check "... and the root is not left frozen" writable mnt
expect_err "the same through a relative path from inside it" 2 "is on the root file system" \
    sh -c "cd mnt && exec '$L' remaster --root '$W/mnt' -o x.uzip"

# a file system on a loop device whose file is on the "root"
mkfs.ext4 -q -F mnt/inner.img 8M > /dev/null && LOOP2=$(losetup -f --show mnt/inner.img) &&
    mount "$LOOP2" inner
expect_err "an output on a loop device backed by a file on the root" 2 \
    "is on a loop device whose file $W/mnt/inner.img is on the root file system" \
    "$L" remaster --root mnt -o inner/x.uzip
umount inner; losetup -d "$LOOP2"; LOOP2=""; rm -f mnt/inner.img

mount -t tmpfs -o size=4m tmpfs small
expect_err "too little free space: both numbers named" 2 \
    "has 4194304 bytes free, and the image of $LOOP may need up to 100675728 bytes" \
    "$L" remaster --root mnt -o small/x.uzip
check "... and nothing is left there" no_partial small
umount small
expect_err "stdout in a file on the frozen file system" 2 \
    "stdout or stderr is a file on the root file system ($W/mnt)" \
    sh -c "exec '$L' remaster --root mnt -o out/x.uzip > mnt/log"
rm -f mnt/log
check "after the refusals: nothing in out/" no_partial out

# --- a remaster -----------------------------------------------------------
mkdir -p mnt/etc mnt/root
echo "liveroot remaster test" > mnt/etc/motd
head -c 3000000 /dev/urandom > mnt/root/blob
seq 1 100000 > mnt/root/numbers
sum_blob=$(sha256sum < mnt/root/blob)
"$L" remaster --root mnt -o out/new.uzip > out.txt 2> err.txt
st=$?
check "remaster --root (device by mountinfo): exit 0 ($(tail -n 1 err.txt))" test $st = 0
check "it names the device it found and the codec" \
    grep -q "remaster: $LOOP (ext4 on $W/mnt), 100663296 bytes -> out/new.uzip (zstd)" err.txt
check "it prints how long the root was frozen" grep -q "remaster: $W/mnt was frozen for [0-9.]* s" err.txt
check "the summary line" grep -q "out/new.uzip: 100663296 bytes of $LOOP as [0-9]* bytes (zstd)" out.txt
check "the root is thawed afterwards (a write works)" writable mnt
check "uzip check of the new image" "$L" uzip check -q out/new.uzip
"$L" uzip extract -q out/new.uzip x.img
check "the extracted image's file system is clean (e2fsck -fn)" sh -c "e2fsck -fn x.img > /dev/null 2>&1"
check "... and holds /etc/motd" test "$(debugfs -R 'cat /etc/motd' x.img 2>/dev/null)" = "liveroot remaster test"
check "... and /root/blob byte for byte" \
    test "$(debugfs -R 'cat /root/blob' x.img 2>/dev/null | sha256sum)" = "$sum_blob"
check "... and /root/numbers" sh -c "debugfs -R 'cat /root/numbers' x.img 2>/dev/null | cmp -s - mnt/root/numbers"
check "only the image in out/ (no temporary left)" test "$(ls out)" = new.uzip

# --device, -A, -j, -q; the output replaced
"$L" remaster --root mnt --device "$LOOP" -o out/new.uzip -A zlib -j 2 -q > out.txt 2> err.txt
st=$?
check "--device $LOOP -A zlib -j 2 -q: exit 0, silent" test $st = 0 -a ! -s out.txt -a ! -s err.txt
check "... a zlib image that checks" sh -c "'$L' uzip info out/new.uzip --json | grep -q '\"codec\":\"zlib\"' && '$L' uzip check -q out/new.uzip"
check "the root is thawed after the second run" writable mnt

# stale-cache regression: fill the device's page cache, then rewrite a
# file through the file system; ext4 writes file data around that cache,
# so a buffered read of the device would give the old bytes
dd if="$LOOP" of=/dev/null bs=1M status=none
head -c 3000000 /dev/urandom | dd of=mnt/root/blob conv=notrunc status=none
sync -f mnt/root/blob
sum_blob=$(sha256sum < mnt/root/blob)
rm -f out/new.uzip x.img
"$L" remaster --root mnt -o out/new.uzip -q
"$L" uzip extract -q out/new.uzip x.img
check "a file rewritten after the device was cached: the image has the new bytes" \
    test "$(debugfs -R 'cat /root/blob' x.img 2>/dev/null | sha256sum)" = "$sum_blob"
rm -f x.img out/new.uzip

# --- frozen while it reads; signals ---------------------------------------
# 64 MiB of random data compressed by one lzma thread: the reader waits for
# the compressor, so the freeze lasts long enough to look at it.
head -c $((64 << 20)) /dev/urandom > mnt/root/slow
sync

# slow_start [env args]: remaster in the background; waits until its
# temporary output exists (the freeze is at the first read, just after)
slow_start() {
	"$@" "$L" remaster --root mnt -o out/slow.uzip -A lzma -j 1 -q \
	    --read-ahead 0 \
	    > bg.out 2> bg.err &
	BG=$!
	i=0
	while [ $i -lt 100 ] && [ -z "$(ls out)" ]; do sleep 0.1; i=$((i + 1)); done
	sleep 0.5
}
# frozen_now: fsfreeze -f fails with "busy" on a frozen file system (and,
# should it not be frozen, the freeze is undone at once)
frozen_now() {
	if fsfreeze -f mnt 2> ff.err; then
		fsfreeze -u mnt
		return 1
	fi
	grep -qi busy ff.err
}

slow_start env
check "while it reads, the root is frozen (fsfreeze -f: busy)" frozen_now
kill -TERM "$BG"
wait "$BG"
st=$?
BG=""
check "SIGTERM: the process ends by the signal (status $st)" test $st = 143
check "SIGTERM: the root is thawed" writable mnt
check "SIGTERM: no partial image left" no_partial out

slow_start env --default-signal=INT
kill -INT "$BG"
wait "$BG"
st=$?
BG=""
check "SIGINT: the process ends by the signal (status $st)" test $st = 130
check "SIGINT: the root is thawed" writable mnt
check "SIGINT: no partial image left" no_partial out

slow_start env
check "before SIGKILL the root is frozen" frozen_now
kill -KILL "$BG"
wait "$BG" 2>/dev/null
BG=""
check "SIGKILL: the guardian thaws the root" writable mnt
rm -f out/*

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
