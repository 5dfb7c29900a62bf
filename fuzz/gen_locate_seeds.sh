#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# gen_locate_seeds.sh LIVEROOT - regenerates the seed corpus of fuzz_locate
# from media made by real tools (xorriso, sgdisk, sfdisk, mkfs.vfat, mcopy,
# mkfs.exfat + mount.exfat-fuse: needs root for the loop device).  Each seed
# is the sparse encoding fuzz_locate.c reads: flags, device size in 64 KiB
# units, an optional Ventoy param, then the device's non-zero 512-byte
# sectors as {u32 sector, u16 length, bytes} runs.  LIVEROOT (the binary) is
# used to read the fragmented ISO's extents for the forged os_param.
set -eu
LR=${1:?usage: gen_locate_seeds.sh LIVEROOT}
C=$(cd "$(dirname "$0")" && pwd)/corpus/locate
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
LOOP=""
cleanup() {
	mountpoint -q "$T/mnt" 2>/dev/null && fusermount -u "$T/mnt"
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$C" "$T/root" "$T/mnt"
cd "$T"
printf 'a tiny root image\n' > root/rootfs.uzip
xorriso -as mkisofs -R -J -V LIVE_TEST -o live.iso root >/dev/null 2>&1

enc() {	# enc IMAGE FLAGS OUT [PARAMFILE]
	python3 - "$@" <<'EOF'
import struct, sys
img, flags, out = sys.argv[1], int(sys.argv[2], 0), sys.argv[3]
d = open(img, 'rb').read()
param = open(sys.argv[4], 'rb').read() if len(sys.argv) > 4 else None
units = (len(d) + 65535) // 65536
assert units <= 1024
b = bytearray([flags | (0x20 if param else 0)]) + struct.pack('<H', units)
if param:
    b += struct.pack('<H', len(param)) + param
s, n = 0, len(d) // 512
while s < n:
    if not any(d[s * 512:(s + 1) * 512]):
        s += 1
        continue
    e = s
    while e < n and e - s < 127 and any(d[e * 512:(e + 1) * 512]):
        e += 1
    b += struct.pack('<IH', s, (e - s) * 512) + d[s * 512:e * 512]
    s = e
open(out, 'wb').write(b)
EOF
}

# 1. the ISO as a whole device (local), with the label
enc live.iso 0x01 "$C/iso-whole.bin"

# 2. GPT disk, FAT16 partition 2 holding /live.iso (findiso)
truncate -s 24M gpt.img
sgdisk -n 1:2048:+1M -t 1:ef00 -n 2:0:0 -t 2:0700 gpt.img >/dev/null
P2=$(sgdisk -i 2 gpt.img | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
SZ=$(( (24 * 2048 - 34 - P2) * 512 ))
truncate -s "$SZ" fat.img
mkfs.vfat -F 16 -n LIVEFAT fat.img >/dev/null
mcopy -i fat.img live.iso ::/live.iso
dd if=fat.img of=gpt.img bs=512 seek="$P2" conv=notrunc 2>/dev/null
enc gpt.img 0x02 "$C/gpt-fat16-findiso.bin"

# 3. Ventoy layout: MBR, p1 exFAT "Ventoy", p2 FAT16 "VTOYEFI", a split ISO
truncate -s 44M vt.img
printf 'label: dos\nlabel-id: 0x5a17c0de\nunit: sectors\n2048,16384,7\n18432,65536,ef\n' |
    sfdisk -q vt.img >/dev/null
printf '\126\124\117\131\021\042\063\104\125\146\167\210\231\252\273\314' |
    dd of=vt.img bs=1 seek=384 conv=notrunc 2>/dev/null
truncate -s 32M efi.img
mkfs.vfat -F 16 -n VTOYEFI efi.img >/dev/null
dd if=efi.img of=vt.img bs=512 seek=18432 conv=notrunc 2>/dev/null
LOOP=$(losetup -f --show -o 1048576 --sizelimit 8388608 vt.img)
mkfs.exfat -L Ventoy "$LOOP" >/dev/null
mount.exfat-fuse "$LOOP" mnt >/dev/null 2>&1
head -c 8192 /dev/zero | tr '\0' 'a' > mnt/a
head -c 8192 /dev/zero > mnt/b
head -c 8192 /dev/zero | tr '\0' 'c' > mnt/c
rm mnt/a mnt/c
cp live.iso mnt/live.iso
fusermount -u mnt
losetup -d "$LOOP"
LOOP=""
enc vt.img 0x01 "$C/ventoy-layout.bin"

# 4. the same with a forged os_param and location list (ventoy only)
"$LR" locate --json vt.img > vt.json
python3 "$SRC/scripts/ventoy_param.py" vt.img vt.json vp.bin $((44 << 20))
enc vt.img 0x08 "$C/ventoy-param.bin" vp.bin
# 5. the same hand-over as an ACPI "VTOY" table (locate accepts it as is)
python3 - vp.bin vtoy.bin <<'EOF'
import struct, sys
body = open(sys.argv[1], 'rb').read()
t = bytearray(b'VTOY' + struct.pack('<I', 36 + len(body)) + b'\x01\x00' +
              b'VENTOY' + b'VENTOY  ' + struct.pack('<I', 1) + b'VTOY' +
              struct.pack('<I', 1) + body)
t[9] = (-sum(t)) & 0xff
open(sys.argv[2], 'wb').write(bytes(t))
EOF
enc vt.img 0x08 "$C/ventoy-acpi.bin" vtoy.bin
ls -l "$C"
