#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# locate_ntfs.sh - findiso on NTFS, read by liveroot's own reader (Debian's
# kernel has no ntfs3; no mount): an xorriso ISO holding /rootfs.uzip is
# copied as "/iso dir/x.iso" onto NTFS volumes made by mkntfs and filled
# through ntfs-3g (FUSE), a cluster at a time between padding files so the
# ISO has many runs: 4 KiB clusters in partition 2 of a GPT disk (sgdisk),
# and 64 KiB clusters in partition 1 of an MBR disk (sfdisk, type 7).  The
# oracles are the bytes put in (ntfscat agrees): `locate --extract` must
# give the image back, the ISO's extents from --json must reassemble the
# ISO.  inspect names the volume; a path in another case is found (NTFS
# names are case-insensitive); an absent ISO, a file too small to have
# clusters (resident) and a sparse ISO give their messages.
#
# Exits 0 all good, 1 on failure, 77 when a tool is absent (1 under CI).
set -u

: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
LR=$LIVEROOT
HERE=$(cd "$(dirname "$0")" && pwd)

. "$HERE/lib.sh"
LIB_TAP=1
LIB_NAME=locate_ntfs
PATH=$PATH:/usr/sbin:/sbin
need_tools "scripts/install-deps.sh installs it" xorriso sgdisk sfdisk \
    mkntfs ntfs-3g ntfscat fusermount python3 cmp dd
[ -c /dev/fuse ] || skip "/dev/fuse is missing (modprobe fuse)"

W=$(mktemp -d "${TMPDIR:-/tmp}/locate_ntfs.XXXXXX") || exit 1
MNT=$W/mnt
cleanup() {
	mountpoint -q "$MNT" 2>/dev/null && fusermount -u "$MNT"
	if [ -n "${LOCATE_KEEP:-}" ]; then echo "# kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT INT TERM
# mkvol IMG SIZE CLUSTER LABEL: an NTFS volume holding "/iso dir/x.iso"
# (written a cluster at a time, each followed by a padding file deleted at
# the end), /notes.txt and /sparse.iso (a hole in the middle)
mkvol() {
	truncate -s "$2" "$1"
	mkntfs -F -Q -s 512 -c "$3" -L "$4" "$1" >/dev/null 2>&1 ||
	    { echo "mkntfs failed"; exit 1; }
	mkdir -p "$MNT"
	ntfs-3g "$1" "$MNT" 2>mount.err || skip "ntfs-3g cannot mount: $(cat mount.err)"
	mkdir -p "$MNT/iso dir" "$MNT/pad"
	n=$(( ($(wc -c < x.iso) + $3 - 1) / $3 ))
	i=0
	while [ $i -lt $n ]; do
		dd if=x.iso of="$MNT/iso dir/x.iso" bs="$3" skip=$i seek=$i \
		    count=1 conv=notrunc,fsync 2>/dev/null
		[ $i -ge 40 ] || dd if=/dev/zero of="$MNT/pad/$i" bs="$3" \
		    count=1 conv=fsync 2>/dev/null
		i=$((i + 1))
	done
	rm -rf "$MNT/pad"
	cp isoroot/boot/marker "$MNT/notes.txt"
	dd if=x.iso of="$MNT/sparse.iso" bs=65536 count=4 2>/dev/null
	dd if=x.iso of="$MNT/sparse.iso" bs=65536 skip=12 seek=12 count=4 \
	    conv=notrunc 2>/dev/null
	fusermount -u "$MNT"
	ntfscat "$1" "/iso dir/x.iso" > "$1.oracle" 2>/dev/null
	check "ntfscat gives the ISO back ($1)" cmp -s "$1.oracle" x.iso
}

cd "$W" || exit 1

# --- the ISO ---------------------------------------------------------------
mkdir -p isoroot/boot
head -c 1500000 /dev/urandom > isoroot/rootfs.uzip
echo "live marker" > isoroot/boot/marker
xorriso -as mkisofs -R -J -V LIVE_NT -o x.iso isoroot >/dev/null 2>&1 ||
    { echo "xorriso failed"; exit 1; }

# --- 4 KiB clusters in GPT partition 2 -------------------------------------
mkvol p2.img 24M 4096 NTDATA
truncate -s 40M gpt.img
sgdisk -n 1:2048:+4M -t 1:ef00 -n 2:0:+24M -t 2:0700 gpt.img >/dev/null
P2=$(sgdisk -i 2 gpt.img | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
dd if=p2.img of=gpt.img bs=1M seek=$((P2 * 512)) oflag=seek_bytes \
    conv=notrunc 2>/dev/null

"$LR" inspect gpt.img > inspect.txt 2>&1
check "inspect: p2 is ntfs 'NTDATA'" grep -q "ntfs 'NTDATA'" inspect.txt
"$LR" locate gpt.img > nf.txt 2>/dev/null
check "NTFS disk without --iso: not found (exit 1)" [ $? -eq 1 ]
"$LR" locate --iso "/iso dir/x.iso" --json gpt.img > nt.json
check "findiso on NTFS: exit 0" [ $? -eq 0 ]
check "findiso on NTFS: strategy findiso" [ "$(jget nt.json 'j["strategy"]')" = findiso ]
check "findiso on NTFS: partition 2" [ "$(jget nt.json 'j["partition"]')" = 2 ]
check "findiso on NTFS: the ISO's label" [ "$(jget nt.json 'j["label"]')" = LIVE_NT ]
reassemble gpt.img nt.json iso_extents nt-iso.re
check "findiso on NTFS: the ISO's extents reassemble the ISO" cmp -s nt-iso.re x.iso
ne=$(jget nt.json 'len(j["iso_extents"])')
check "findiso on NTFS: the ISO has many extents on the disk ($ne)" [ "$ne" -gt 10 ]
"$LR" locate --iso "/iso dir/x.iso" --extract x1 gpt.img >/dev/null
check "findiso on NTFS: --extract equals the image" cmp -s x1 isoroot/rootfs.uzip
"$LR" locate --iso "/ISO DIR/X.ISO" --image /boot/marker --extract x2 \
    gpt.img >/dev/null
check "findiso on NTFS: another case, --image /boot/marker" cmp -s x2 isoroot/boot/marker
"$LR" locate --iso "/iso dir/none.iso" gpt.img > nf2.txt 2>/dev/null
check "findiso on NTFS: absent ISO: exit 1" [ $? -eq 1 ]
check "findiso on NTFS: absent ISO: says so" \
    grep -q "no file /iso dir/none.iso on the ntfs volume 'NTDATA'" nf2.txt
"$LR" locate --iso "/notes.txt" gpt.img > nf4.txt 2> nf4.err
check "findiso on NTFS: a file inside its MFT record: exit 2" [ $? -eq 2 ]
check "findiso on NTFS: a file inside its MFT record: says so" \
    grep -q "notes.txt: its 12 bytes are stored inside its MFT record" nf4.err
"$LR" locate --iso /sparse.iso gpt.img > sp.out 2> sp.err
check "findiso on NTFS: a sparse ISO: exit 2" [ $? -eq 2 ]
check "findiso on NTFS: a sparse ISO: the message names the file and the hole" \
    grep -q "sparse.iso is sparse" sp.err

# --- 64 KiB clusters in MBR partition 1 ------------------------------------
mkvol m1.img 48M 65536 BIGCLU
truncate -s 64M mbr.img
printf '2048,98304,7\n' | sfdisk -q mbr.img >/dev/null 2>&1 ||
    { echo "sfdisk failed"; exit 1; }
dd if=m1.img of=mbr.img bs=1M seek=1 conv=notrunc 2>/dev/null
"$LR" locate --iso "/iso dir/x.iso" --json --extract x3 mbr.img > mbr.json
check "findiso on NTFS (MBR, 64 KiB clusters): found" \
    [ "$(jget mbr.json 'j["strategy"]')" = findiso ]
check "findiso on NTFS (MBR): partition 1" [ "$(jget mbr.json 'j["partition"]')" = 1 ]
check "findiso on NTFS (MBR): --extract equals the image" cmp -s x3 isoroot/rootfs.uzip
reassemble mbr.img mbr.json iso_extents mbr-iso.re
check "findiso on NTFS (MBR): the ISO's extents reassemble the ISO" cmp -s mbr-iso.re x.iso
"$LR" inspect mbr.img > inspect2.txt 2>&1
check "inspect: p1 is ntfs 'BIGCLU'" grep -q "ntfs 'BIGCLU'" inspect2.txt

echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
