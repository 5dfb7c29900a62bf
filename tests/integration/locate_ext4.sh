#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# locate_ext4.sh - findiso on ext2/3/4, read by liveroot's own reader (no
# mount): an xorriso ISO holding /rootfs.uzip is placed as "/iso dir/x.iso"
# on an ext4 file system (mkext4.py: mke2fs + debugfs, fragmented first, so
# the ISO has several extents) in partition 2 of a GPT disk (sgdisk), and on
# an unpartitioned ext2 with 1 KiB blocks (indirect blocks).  The oracles
# are the bytes of the files put in (debugfs dump agrees, mkext4.py checks):
# `locate --extract` must give the image back, the ISO's extents from
# --json must reassemble the ISO.  inspect names the ext4 volume; an absent
# ISO, a wrong-case path and an ISO with holes (mke2fs -d of the ISO itself
# turns its zero blocks into holes) give their messages.
#
# Exits 0 all good, 1 on failure, 77 when a tool is absent.
set -u

: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
LR=$LIVEROOT
HERE=$(cd "$(dirname "$0")" && pwd)

. "$HERE/lib.sh"
LIB_TAP=1
PATH=$PATH:/usr/sbin:/sbin
need_tools "scripts/install-deps.sh installs it" xorriso sgdisk mke2fs \
    debugfs python3 cmp dd

W=$(mktemp -d "${TMPDIR:-/tmp}/locate_ext4.XXXXXX") || exit 1
cleanup() {
	if [ -n "${LOCATE_KEEP:-}" ]; then echo "# kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT INT TERM

cd "$W" || exit 1

# --- the ISO ---------------------------------------------------------------
mkdir -p isoroot/boot
head -c 1500000 /dev/urandom > isoroot/rootfs.uzip
echo "live marker" > isoroot/boot/marker
xorriso -as mkisofs -R -J -V LIVE_E4 -o x.iso isoroot >/dev/null 2>&1 ||
    { echo "xorriso failed"; exit 1; }

# --- ext4 in GPT partition 2, the ISO fragmented ---------------------------
python3 "$HERE/mkext4.py" --frag 24 --label E4DATA --mkfs "-t ext4 -b 4096" \
    p2.img 24M "x.iso:/iso dir/x.iso" "isoroot/boot/marker:/notes.txt" ||
    { echo "mkext4.py failed"; exit 1; }
ne=$(debugfs -R 'stat "/iso dir/x.iso"' p2.img 2>/dev/null |
    grep -o '([0-9][0-9-]*):' | wc -l)
check "the ISO is fragmented on the ext4 volume ($ne extents)" [ "$ne" -gt 1 ]
truncate -s 40M gpt.img
sgdisk -n 1:2048:+4M -t 1:ef00 -n 2:0:+24M -t 2:8300 gpt.img >/dev/null
P2=$(sgdisk -i 2 gpt.img | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
dd if=p2.img of=gpt.img bs=1M seek=$((P2 * 512)) oflag=seek_bytes \
    conv=notrunc 2>/dev/null

"$LR" inspect gpt.img > inspect.txt 2>&1
check "inspect: p2 is ext4 'E4DATA'" grep -q "ext4 'E4DATA'" inspect.txt
"$LR" locate gpt.img > nf.txt 2>/dev/null
check "ext4 disk without --iso: not found (exit 1)" [ $? -eq 1 ]
"$LR" locate --iso "/iso dir/x.iso" --json gpt.img > e4.json
check "findiso on ext4: exit 0" [ $? -eq 0 ]
check "findiso on ext4: strategy findiso" [ "$(jget e4.json 'j["strategy"]')" = findiso ]
check "findiso on ext4: partition 2" [ "$(jget e4.json 'j["partition"]')" = 2 ]
check "findiso on ext4: the ISO's label" [ "$(jget e4.json 'j["label"]')" = LIVE_E4 ]
reassemble gpt.img e4.json iso_extents e4-iso.re
check "findiso on ext4: the ISO's extents reassemble the ISO" cmp -s e4-iso.re x.iso
check "findiso on ext4: the ISO has several extents on the disk" \
    [ "$(jget e4.json 'len(j["iso_extents"])')" -gt 1 ]
"$LR" locate --iso "/iso dir/x.iso" --extract x1 gpt.img >/dev/null
check "findiso on ext4: --extract equals the image" cmp -s x1 isoroot/rootfs.uzip
"$LR" locate --iso "/iso dir/x.iso" --image /boot/marker --extract x2 \
    gpt.img >/dev/null
check "findiso on ext4: --image /boot/marker" cmp -s x2 isoroot/boot/marker
"$LR" locate --iso "/iso dir/none.iso" gpt.img > nf2.txt 2>/dev/null
check "findiso on ext4: absent ISO: exit 1" [ $? -eq 1 ]
check "findiso on ext4: absent ISO: says so" \
    grep -q "no file /iso dir/none.iso on the ext4 volume 'E4DATA'" nf2.txt
"$LR" locate --iso "/ISO DIR/x.iso" gpt.img > nf3.txt 2>/dev/null
check "findiso on ext4: names are case-sensitive (exit 1)" [ $? -eq 1 ]
"$LR" locate --iso "/notes.txt" gpt.img > nf4.txt 2>/dev/null
check "findiso on ext4: a file that is no ISO: not found" [ $? -eq 1 ]

# --- unpartitioned ext2, 1 KiB blocks: indirect blocks --------------------
python3 "$HERE/mkext4.py" --frag 8 --label OLD2 --mkfs "-t ext2 -b 1024" \
    e2.img 8M "x.iso:/isos/x.iso" || { echo "mkext4.py (ext2) failed"; exit 1; }
"$LR" locate --iso /isos/x.iso --json --extract x3 e2.img > e2.json
check "findiso on unpartitioned ext2: found" [ "$(jget e2.json 'j["strategy"]')" = findiso ]
check "findiso on unpartitioned ext2: --extract equals the image" cmp -s x3 isoroot/rootfs.uzip
reassemble e2.img e2.json iso_extents e2-iso.re
check "findiso on ext2: the ISO's extents reassemble the ISO" cmp -s e2-iso.re x.iso
"$LR" inspect e2.img > inspect2.txt 2>&1
check "inspect: whole device is ext2 'OLD2'" grep -q "ext2 'OLD2'" inspect2.txt

# --- an ISO with holes: refused, naming the file ---------------------------
mkdir -p sparse/isos
cp x.iso sparse/isos/x.iso
mke2fs -q -F -t ext4 -L HOLES -d sparse sparse.img 16M >/dev/null 2>&1
"$LR" locate --iso /isos/x.iso sparse.img > sp.out 2> sp.err
check "an ISO with holes: exit 2" [ $? -eq 2 ]
check "an ISO with holes: the message names the file and the hole" \
    grep -q "x.iso: logical block [0-9]* (byte [0-9]*) is a hole" sp.err

echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
