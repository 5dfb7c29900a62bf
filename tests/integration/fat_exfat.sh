#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# fat_exfat.sh - the FAT, exFAT and Ventoy parsers against real tools.
# FAT12/16/32 images are made by mkfs.vfat and filled by mtools (long names,
# subdirectories, a fragmented file made by filling the volume, deleting
# every other file and copying a big one in); an exFAT image is made by
# mkfs.exfat and filled through mount.exfat-fuse on a loop device (root
# only; skipped with a message otherwise).  fatcat (built from fatcat.c)
# reads files through the parsers' extent lists; every file is compared
# byte for byte with what mcopy / the FUSE mount return.  A forged Ventoy
# os_param + location list, wrapped in an ACPI table and an EFI variable,
# must decode to the exFAT file's extents; a wrong checksum must be refused.
set -u
: "${BUILDDIR:?}"
FATCAT=$BUILDDIR/tests/integration/fatcat
T=${TMPDIR:-/tmp}/fat_exfat.$$
mkdir -p "$T"
LOOP=""
cleanup() {
	if mountpoint -q "$T/mnt" 2>/dev/null; then umount "$T/mnt"; fi
	if [ -n "$LOOP" ]; then losetup -d "$LOOP"; fi
	rm -rf "$T"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

for tool in mkfs.vfat mcopy mmd mdel python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (apt-get install dosfstools mtools python3)"
		exit 77
	fi
done
[ -x "$FATCAT" ] || { echo "FAIL: $FATCAT not built"; exit 1; }

head -c 100000 /dev/urandom >"$T/big.bin"
head -c 300000 /dev/urandom >"$T/frag.bin"
printf 'hello\n' >"$T/hello.txt"
head -c 2000 /dev/urandom >"$T/small.bin"

# --- FAT12 / FAT16 / FAT32 ---
for spec in "12 2880 1" "16 20480 4" "32 70000 1"; do
	set -- $spec
	bits=$1 secs=$2 spc=$3
	img=$T/fat$bits.img
	rm -f "$img"
	mkfs.vfat -C -F "$bits" -s "$spc" -S 512 -n "VOL$bits" "$img" \
	    $((secs / 2)) >/dev/null 2>&1 || { bad "mkfs.vfat -F $bits"; continue; }
	M="mcopy -i $img"
	mmd -i "$img" ::/Sub ::/Sub/Deeper
	$M "$T/hello.txt" "::/A long file name with spaces.txt"
	$M "$T/small.bin" ::/SHORT.BIN
	$M "$T/small.bin" ::/lower.bin
	$M "$T/big.bin" "::/Sub/Deeper/Big Binary Data.bin"
	# Fragment: fill with small files, delete every other, copy one in.
	i=0
	while [ $i -lt 40 ]; do
		$M "$T/small.bin" "::/Sub/filler$i.dat" || break
		i=$((i + 1))
	done
	i=0
	while [ $i -lt 40 ]; do
		mdel -i "$img" "::/Sub/filler$i.dat"
		i=$((i + 2))
	done
	if [ $bits = 32 ]; then
		# mtools allocates after FSInfo's next-free hint: point it
		# back at cluster 2 so the freed holes are reused.
		printf '\002\000\000\000' | dd of="$img" bs=1 \
		    seek=$((512 + 492)) conv=notrunc 2>/dev/null
	fi
	$M "$T/frag.bin" "::/Sub/Fragmented File.bin"

	check "[ \"\$($FATCAT $img type)\" = fat$bits ]" "fat$bits: type"
	check "[ \"\$($FATCAT $img label)\" = VOL$bits ]" "fat$bits: label"
	for f in "/A long file name with spaces.txt:hello.txt" \
	    "/short.bin:small.bin" "/LOWER.BIN:small.bin" \
	    "/sub/deeper/BIG BINARY DATA.BIN:big.bin" \
	    "/Sub/Fragmented File.bin:frag.bin" \
	    "/sub/filler1.dat:small.bin"; do
		p=${f%%:*} want=${f##*:}
		check "$FATCAT $img cat \"$p\" | cmp -s - \"$T/$want\"" \
		    "fat$bits: $p differs from $want"
		check "mcopy -n -i $img \"::$p\" - 2>/dev/null | cmp -s - \"$T/$want\"" \
		    "fat$bits: mcopy of $p differs"
	done
	n=$($FATCAT "$img" extents "/Sub/Fragmented File.bin" | wc -l)
	check "[ $n -gt 1 ]" "fat$bits: the fragmented file has $n extent(s)"
	check "$FATCAT $img ls /sub | grep -q '^f 2000 filler1.dat\$'" \
	    "fat$bits: listing of /Sub"
	check "$FATCAT $img ls / | grep -q '^d 0 Sub\$'" "fat$bits: root listing"
	check "! $FATCAT $img cat /nonexistent 2>/dev/null" \
	    "fat$bits: a missing file is found"
	check "! $FATCAT $img vtoyefi" "fat$bits: VOL$bits taken for VTOYEFI"
done

# Ventoy's VTOYEFI partition: FAT16 labelled VTOYEFI.
mkfs.vfat -C -F 16 -n VTOYEFI "$T/vtoyefi.img" 32768 >/dev/null 2>&1
check "$FATCAT $T/vtoyefi.img vtoyefi" "VTOYEFI label not recognised"

# --- exFAT through the FUSE driver on a loop device ---
ex=$T/ex.img
exfat_ok=0
if [ "$(id -u)" != 0 ]; then
	echo "SKIP exFAT part: needs root for losetup and FUSE"
elif ! command -v mkfs.exfat >/dev/null || ! command -v mount.exfat-fuse >/dev/null; then
	echo "SKIP exFAT part: exfatprogs / exfat-fuse are not installed"
else
	truncate -s 16M "$ex"
	mkfs.exfat -L Ventoy -c 4096 "$ex" >/dev/null
	mkdir -p "$T/mnt"
	LOOP=$(losetup -f --show "$ex")
	if mount.exfat-fuse "$LOOP" "$T/mnt" >/dev/null 2>&1; then
		exfat_ok=1
		mkdir -p "$T/mnt/ISO/Sub dir"
		cp "$T/big.bin" "$T/mnt/ISO/Contiguous Größe.bin"
		cp "$T/hello.txt" "$T/mnt/hello.txt"
		i=0
		while [ $i -lt 300 ]; do
			head -c 8192 /dev/zero >"$T/mnt/ISO/Sub dir/fill$i"
			i=$((i + 1))
		done
		i=0
		while [ $i -lt 300 ]; do
			rm "$T/mnt/ISO/Sub dir/fill$i"
			i=$((i + 2))
		done
		head -c 1000000 /dev/urandom >"$T/frag2.bin"
		cp "$T/frag2.bin" "$T/mnt/ISO/fragmented.iso"
		sync
		cp "$T/mnt/ISO/fragmented.iso" "$T/fuse-frag.bin"
		cp "$T/mnt/ISO/Contiguous Größe.bin" "$T/fuse-cont.bin"
		umount "$T/mnt"
	else
		echo "SKIP exFAT part: mount.exfat-fuse failed (no /dev/fuse?)"
	fi
	losetup -d "$LOOP"
	LOOP=""
	# 4096-byte sectors (BytesPerSectorShift 12) via a 4K loop device.
	truncate -s 32M "$T/ex4k.img"
	if LOOP=$(losetup --sector-size 4096 -f --show "$T/ex4k.img" 2>/dev/null) &&
	    mkfs.exfat -L Big4K "$LOOP" >/dev/null 2>&1 &&
	    mount.exfat-fuse "$LOOP" "$T/mnt" >/dev/null 2>&1; then
		mkdir "$T/mnt/d"
		cp "$T/big.bin" "$T/mnt/d/b.bin"
		umount "$T/mnt"
		check "[ \"\$($FATCAT $T/ex4k.img label)\" = Big4K ]" \
		    "exfat 4K sectors: label"
		check "$FATCAT $T/ex4k.img cat /D/B.BIN | cmp -s - $T/big.bin" \
		    "exfat 4K sectors: file differs"
	else
		echo "SKIP exFAT 4K-sector part: no 4K loop device"
	fi
	if [ -n "$LOOP" ]; then losetup -d "$LOOP"; fi
	LOOP=""
fi
if [ $exfat_ok = 1 ]; then
	check "[ \"\$($FATCAT $ex type)\" = exfat ]" "exfat: type"
	check "[ \"\$($FATCAT $ex label)\" = Ventoy ]" "exfat: label"
	check "$FATCAT $ex cat /iso/FRAGMENTED.ISO | cmp -s - $T/fuse-frag.bin" \
	    "exfat: fragmented file differs from the FUSE copy"
	check "cmp -s $T/frag2.bin $T/fuse-frag.bin" "exfat: FUSE copy differs"
	check "$FATCAT $ex cat '/ISO/contiguous GRÖSSE.bin' >/dev/null 2>&1; [ \$? = 1 ]" \
	    "exfat: up-case table: ß must not fold to SS"
	check "$FATCAT $ex cat '/ISO/contiguous GRÖßE.BIN' | cmp -s - $T/fuse-cont.bin" \
	    "exfat: contiguous file differs (case-insensitive Ö)"
	check "$FATCAT $ex info '/ISO/Contiguous Größe.bin' | grep -qx 'nofatchain 1'" \
	    "exfat: contiguous file is not NoFatChain"
	check "$FATCAT $ex info /ISO/fragmented.iso | grep -qx 'nofatchain 0'" \
	    "exfat: fragmented file is NoFatChain"
	n=$($FATCAT "$ex" extents /ISO/fragmented.iso | wc -l)
	check "[ $n -gt 1 ]" "exfat: the fragmented file has $n extent(s)"
	check "[ \$($FATCAT $ex ls '/iso/sub dir' | wc -l) = 150 ]" \
	    "exfat: listing of a multi-cluster directory"
	check "$FATCAT $ex cat /hello.txt | cmp -s - $T/hello.txt" "exfat: hello.txt"

	# --- Ventoy: forge os_param + location list for fragmented.iso ---
	$FATCAT "$ex" extents /ISO/fragmented.iso >"$T/ext.txt"
	python3 - "$T" "$(stat -c %s "$ex")" <<'EOF'
import struct, sys
t, disk = sys.argv[1], int(sys.argv[2])
ext = [tuple(map(int, l.split())) for l in open(t + "/ext.txt")]
guid = bytes([0x20, 0x20, 0x77, 0x77, 0x77, 0x2e, 0x76, 0x65,
              0x6e, 0x74, 0x6f, 0x79, 0x2e, 0x6e, 0x65, 0x74])
size = sum(l for o, l in ext)
regs, img = b"", 0
for o, l in ext:
    cnt = (l + 2047) // 2048
    regs += struct.pack("<IIQ", cnt, img, o // 512)
    img += cnt
loc = guid + struct.pack("<III", 2048, 512, len(ext)) + regs
p = bytearray(512)
p[0:16] = guid
p[17:33] = bytes(range(1, 17))
struct.pack_into("<QHH", p, 33, disk, 1, 0)
path = b"/ISO/fragmented.iso"
p[45:45 + len(path)] = path
struct.pack_into("<QQI", p, 429, size, 0x80000, len(loc))
struct.pack_into("<I", p, 481, 0x12345678)
p[16] = (-sum(p)) & 0xff
open(t + "/param.bin", "wb").write(bytes(p) + loc)
open(t + "/efivar.bin", "wb").write(b"\x07\0\0\0" + bytes(p))
body = bytes(p) + loc
hdr = bytearray(b"VTOY" + struct.pack("<I", 36 + len(body)) + b"\x01\0" +
                b"VENTOY" + b"VTOYTBL " + b"\x01\0\0\0" + b"VTOY" + b"\x01\0\0\0")
tbl = bytearray(hdr + body)
tbl[9] = (-sum(tbl)) & 0xff
open(t + "/acpi.bin", "wb").write(bytes(tbl))
bad = bytearray(tbl); bad[100] ^= 1
open(t + "/acpi-bad.bin", "wb").write(bytes(bad))
badp = bytearray(p); badp[200] ^= 0x40
open(t + "/param-bad.bin", "wb").write(bytes(badp) + loc)
mem = bytearray(b"\xa5" * 4096 + guid + b"\0" * 100 + b"\x33" * 1001 + bytes(p) + loc + b"\0" * 300)
open(t + "/lowmem.bin", "wb").write(bytes(mem))
EOF
	for kind in acpi param; do
		$FATCAT "$T/$kind.bin" ventoy-$kind >"$T/$kind.out" 2>&1
		check "grep -qx 'path /ISO/fragmented.iso' $T/$kind.out" \
		    "ventoy $kind: image path"
		check "grep -x '[0-9]* [0-9]*' $T/$kind.out | cmp -s - $T/ext.txt" \
		    "ventoy $kind: extents differ from the exFAT file's"
	done
	check "$FATCAT $T/efivar.bin ventoy-efivar | grep -qx 'signature 12345678'" \
	    "ventoy efivar"
	$FATCAT "$T/lowmem.bin" ventoy-scan >"$T/scan.out" 2>&1
	check "grep -qx 'offset 5213' $T/scan.out" "ventoy scan: offset"
	check "grep -x '[0-9]* [0-9]*' $T/scan.out | cmp -s - $T/ext.txt" \
	    "ventoy scan: extents"
	$FATCAT "$T/acpi-bad.bin" ventoy-acpi >"$T/bad.out" 2>&1; rc=$?
	check "[ $rc = 2 ] && grep -q 'ACPI checksum is wrong' $T/bad.out" \
	    "ventoy: a wrong ACPI checksum is accepted"
	$FATCAT "$T/param-bad.bin" ventoy-param >"$T/bad.out" 2>&1; rc=$?
	check "[ $rc = 2 ] && grep -q 'sum to' $T/bad.out" \
	    "ventoy: a wrong os_param checksum is accepted"
	# Reading the image through the Ventoy extents gives the file back.
	python3 - "$ex" "$T/ext.txt" "$T/via-ventoy.bin" 1000000 <<'EOF'
import sys
img, ext, out, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
f = open(img, "rb"); data = b""
for l in open(ext):
    o, n = map(int, l.split()); f.seek(o); data += f.read(n)
open(out, "wb").write(data[:size])
EOF
	check "cmp -s $T/via-ventoy.bin $T/frag2.bin" "ventoy: extents do not read back the ISO"
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
