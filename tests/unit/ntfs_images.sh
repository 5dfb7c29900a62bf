#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# ntfs_images.sh OUTDIR - the NTFS volumes test_ntfs reads: mkntfs makes one
# volume per cluster size (512, 4096, 65536 bytes; 512-byte sectors) and
# ntfs-3g (FUSE) fills it, since ntfscp cannot make directories:
#   /iso dir/sub dir/x y.iso   a file in nested directories with spaces
#   /big dir/                  300 empty files: an index of several INDX blocks
#   /frag/frag.bin             written a cluster at a time, each followed by a
#                              new padding file (deleted at the end): a run
#                              per two clusters at first (ntfs-3g later
#                              allocates longer runs); at 512 more runs than
#                              one MFT record holds: an $ATTRIBUTE_LIST and
#                              extension records
#   /small.txt                 100 bytes: resident $DATA
#   /sparse.iso                a hole between two written clusters
# The file contents are kept in OUTDIR/src.CS/ for comparison.  Exits 77
# (saying why; 1 when CI=true) when mkntfs, ntfs-3g or /dev/fuse is missing
# or a FUSE mount is refused; 1 when a step fails.
set -eu
OUT=${1:?usage: ntfs_images.sh OUTDIR}
PATH=$PATH:/usr/sbin:/sbin
# skip MESSAGE: exit 77 saying why (1 under CI, where everything is there)
skip() {
	echo "ntfs_images.sh: $*"
	[ "${CI:-}" = true ] && exit 1
	exit 77
}
for t in mkntfs ntfs-3g fusermount ntfsinfo; do
	command -v $t >/dev/null 2>&1 ||
	    skip "$t is not installed (apt-get install ntfs-3g fuse3)"
done
[ -c /dev/fuse ] || skip "/dev/fuse is missing (modprobe fuse)"
MNT=$OUT/mnt
mkdir -p "$MNT"
cleanup() { if mountpoint -q "$MNT" 2>/dev/null; then fusermount -u "$MNT" || umount "$MNT"; fi; }
trap cleanup EXIT

for spec in "512 4M 400" "4096 8M 150" "65536 32M 100"; do
	set -- $spec
	cs=$1 size=$2 chunks=$3
	img=$OUT/c$cs.img src=$OUT/src.$cs
	mkdir -p "$src"
	rm -f "$img"
	truncate -s "$size" "$img"
	mkntfs -F -Q -s 512 -c "$cs" -L "NTFS$cs" "$img" >/dev/null 2>&1
	ntfs-3g "$img" "$MNT" 2>"$OUT/mount.err" ||
	    skip "ntfs-3g cannot mount here: $(cat "$OUT/mount.err")"
	head -c $((5 * cs + 777)) /dev/urandom >"$src/x y.iso"
	head -c 100 /dev/urandom >"$src/small.txt"
	head -c $((chunks * cs)) /dev/urandom >"$src/frag.bin"
	mkdir -p "$MNT/iso dir/sub dir" "$MNT/big dir" "$MNT/frag"
	cp "$src/x y.iso" "$MNT/iso dir/sub dir/x y.iso"
	cp "$src/small.txt" "$MNT/small.txt"
	i=0
	while [ $i -lt 300 ]; do
		: >"$MNT/big dir/entry $(printf %03d $i) with a longer name.bin"
		i=$((i + 1))
	done
	pad=$((cs < 1024 ? 1024 : cs))
	i=0
	while [ $i -lt "$chunks" ]; do
		dd if="$src/frag.bin" of="$MNT/frag/frag.bin" bs="$cs" skip=$i \
		    seek=$i count=1 conv=notrunc,fsync 2>/dev/null
		dd if=/dev/zero of="$MNT/frag/pad$i" bs=$pad count=1 \
		    conv=fsync 2>/dev/null
		i=$((i + 1))
	done
	rm -f "$MNT"/frag/pad*
	head -c "$cs" /dev/urandom >"$MNT/sparse.iso"
	head -c "$cs" /dev/urandom | dd of="$MNT/sparse.iso" bs="$cs" seek=8 \
	    conv=notrunc 2>/dev/null
	fusermount -u "$MNT"
	ntfsinfo -v -F "/frag/frag.bin" "$img" >"$OUT/frag.$cs.info" 2>/dev/null
	if [ "$cs" = 512 ] && ! grep -q 'ATTRIBUTE_LIST' "$OUT/frag.$cs.info"; then
		echo "ntfs_images.sh: /frag/frag.bin on c$cs.img has no attribute list"
		exit 1
	fi
done
exit 0
