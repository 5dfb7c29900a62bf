#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# locate.sh - `liveroot locate` and `liveroot inspect` against media made by
# tools nobody here wrote, at test time, in a scratch directory:
#   - an xorriso ISO (Rock Ridge, Joliet, label) holding /rootfs.uzip (a real
#     uzip from `liveroot mkuzip`) - local, whole device;
#   - the same ISO dd'd onto a bigger "stick" with an xorriso-made MBR
#     (isohybrid shape) and inside a GPT partition (local, partition);
#   - a GPT disk (sgdisk) with a FAT32 partition (mkfs.vfat + mmd/mcopy)
#     holding /isos/live.iso - findiso;
#   - a Ventoy-layout disk: MBR (sfdisk) with p1 at LBA 2048 exFAT "Ventoy"
#     (mkfs.exfat) and p2 32 MiB FAT16 "VTOYEFI" (mkfs.vfat), the MBR disk id
#     and signature written, and the ISO copied through mount.exfat-fuse onto
#     a volume filled with small files of which every other one was deleted,
#     so that it is REALLY fragmented (asserted: > 1 extent) - ventoy without
#     os_param (layout search), and with forged os_params (raw + location
#     list, raw alone, ACPI VTOY table, EFI variable) that must all give the
#     same extents; a wrong checksum is rejected with a message.
# The oracle is always the file's own bytes as another tool reads them
# (xorriso -osirrox, mcopy, mount.exfat-fuse): `locate --extract` must give
# them byte for byte, and the ISO's own extents (from --json) must
# reassemble the ISO file.
#
# Exits 0 all good, 1 on failure, 77 when a tool is absent.

set -u

: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
LR=$LIVEROOT

. "$(dirname "$0")/lib.sh"
LIB_TAP=1
need_tools "scripts/install-deps.sh installs it" xorriso sgdisk sfdisk \
    mkfs.vfat mkfs.exfat mmd mcopy python3 cmp dd

W=$(mktemp -d "${TMPDIR:-/tmp}/locate.XXXXXX") || exit 1
LOOP=""
MNT="$W/mnt"
cleanup() {
	if [ -n "$LOOP" ]; then
		mountpoint -q "$MNT" 2>/dev/null && fusermount -u "$MNT" 2>/dev/null
		mountpoint -q "$MNT" 2>/dev/null && umount "$MNT" 2>/dev/null
		losetup -d "$LOOP" 2>/dev/null
	fi
	if [ -n "${LOCATE_KEEP:-}" ]; then echo "# kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT INT TERM

cd "$W" || exit 1

# --- the ISO ---------------------------------------------------------------
mkdir -p isoroot/boot
head -c 2500000 /dev/urandom > plain
dd if=/dev/zero bs=65536 count=16 >> plain 2>/dev/null
head -c 700000 /dev/urandom >> plain
if "$LR" mkuzip -o isoroot/rootfs.uzip plain >/dev/null 2>&1; then
	echo "# rootfs.uzip made by liveroot mkuzip"
else
	cp plain isoroot/rootfs.uzip
fi
echo "live marker" > isoroot/boot/marker
xorriso -as mkisofs -R -J -V LIVE_TEST -o live.iso isoroot >/dev/null 2>&1 ||
    { echo "xorriso failed"; exit 1; }
xorriso -osirrox on -indev live.iso -extract /rootfs.uzip oracle.uzip \
    >/dev/null 2>&1 || { echo "xorriso -osirrox failed"; exit 1; }
check "xorriso's rootfs.uzip is the file put in" cmp -s oracle.uzip isoroot/rootfs.uzip

# local, whole device
"$LR" locate --json live.iso > iso.json
check "local finds the image on the ISO (exit 0)" [ $? -eq 0 ]
check "strategy is local" [ "$(jget iso.json 'j["strategy"]')" = local ]
check "label is read" [ "$(jget iso.json 'j["label"]')" = LIVE_TEST ]
"$LR" locate --label LIVE_TEST --extract x1 live.iso >/dev/null
check "local --extract equals xorriso -osirrox" cmp -s x1 oracle.uzip
"$LR" locate --label OTHER live.iso > nf.txt 2>nf.err
check "another label: exit 1" [ $? -eq 1 ]
check "another label: says what was seen" grep -q "ISO label 'LIVE_TEST' is not 'OTHER'" nf.txt
"$LR" locate --image /boot/marker --extract x2 live.iso >/dev/null
check "--image selects another file" cmp -s x2 isoroot/boot/marker
"$LR" locate --image /nope live.iso >/dev/null 2>&1
check "missing image: exit 1" [ $? -eq 1 ]

# an ISO without the image (a decoy on the Ventoy disk)
mkdir -p decoyroot
echo decoy > decoyroot/readme.txt
xorriso -as mkisofs -R -J -V DECOY -o decoy.iso decoyroot >/dev/null 2>&1 ||
    { echo "xorriso (decoy) failed"; exit 1; }

# --- an isohybrid-shaped stick (MBR by xorriso, dd'd onto a bigger disk) ---
truncate -s 16M efi.img
mkfs.vfat -n EFIBOOT efi.img >/dev/null
xorriso -as mkisofs -R -J -V LIVE_HYB -append_partition 2 0xef efi.img \
    -o hybrid.iso isoroot >/dev/null 2>&1 || { echo "xorriso (hybrid) failed"; exit 1; }
truncate -s 64M stick.img
dd if=hybrid.iso of=stick.img conv=notrunc bs=1M 2>/dev/null
"$LR" inspect stick.img > stick.txt
check "inspect: stick has an MBR" grep -q "partition table: MBR" stick.txt
check "inspect: stick shows the ISO label" grep -q "iso9660 'LIVE_HYB'" stick.txt
"$LR" locate --label LIVE_HYB --extract x3 stick.img >/dev/null
check "isohybrid stick: --extract equals the file" cmp -s x3 oracle.uzip

# --- an ISO inside a GPT partition (local, partition) ----------------------
truncate -s 32M gptiso.img
sgdisk -n 1:2048:+8M -t 1:8300 -n 2:0:0 -t 2:0700 gptiso.img >/dev/null
dd if=live.iso of=gptiso.img bs=1M seek=1048576 oflag=seek_bytes conv=notrunc 2>/dev/null
"$LR" locate --json gptiso.img > gptiso.json
check "ISO in GPT partition 1: found" [ "$(jget gptiso.json 'j["partition"]')" = 1 ]
check "ISO in GPT partition 1: image at partition start + offset" \
    [ "$(jget gptiso.json 'j["extents"][0]["loff"]')" = \
      "$(( 1048576 + $(jget iso.json 'j["extents"][0]["loff"]') ))" ]

# --- findiso: a GPT disk with FAT32 holding /isos/live.iso ----------------
truncate -s 80M fat32.img
mkfs.vfat -F 32 -n LIVEFAT fat32.img >/dev/null
mmd -i fat32.img ::/isos
# a few files first, some deleted, so the ISO's clusters are not trivial
for i in 1 2 3 4 5 6; do
	head -c 300000 /dev/urandom > "f$i"
	mcopy -i fat32.img "f$i" "::/isos/f$i"
done
mdel -i fat32.img ::/isos/f2 ::/isos/f4 2>/dev/null
mcopy -i fat32.img live.iso ::/isos/live.iso
mcopy -i fat32.img ::/isos/live.iso fat-oracle.iso
check "mcopy gives the ISO back" cmp -s fat-oracle.iso live.iso
truncate -s 100M gptfat.img
sgdisk -n 1:2048:+4M -t 1:ef00 -n 2:0:+80M -t 2:0700 gptfat.img >/dev/null
P2=$(sgdisk -i 2 gptfat.img | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
dd if=fat32.img of=gptfat.img bs=1M seek=$((P2 * 512)) oflag=seek_bytes conv=notrunc 2>/dev/null
"$LR" locate gptfat.img > nofind.txt 2>/dev/null
check "FAT disk without --iso: not found (exit 1)" [ $? -eq 1 ]
"$LR" locate --iso /isos/live.iso --json gptfat.img > fat.json
check "findiso: found" [ "$(jget fat.json 'j["strategy"]')" = findiso ]
check "findiso: partition 2" [ "$(jget fat.json 'j["partition"]')" = 2 ]
"$LR" locate --iso /ISOS/LIVE.ISO --extract x4 gptfat.img >/dev/null
check "findiso (any case): --extract equals xorriso -osirrox of mcopy's ISO" cmp -s x4 oracle.uzip
reassemble gptfat.img fat.json iso_extents fat-iso.re
check "findiso: the ISO's extents reassemble mcopy's ISO" cmp -s fat-iso.re fat-oracle.iso
"$LR" locate --iso /isos/none.iso gptfat.img > nf2.txt 2>/dev/null
check "findiso: absent ISO: exit 1" [ $? -eq 1 ]
check "findiso: absent ISO: says so" grep -q "no file /isos/none.iso on the fat32 volume 'LIVEFAT'" nf2.txt

# hostile: an ISO whose volume claims more than the file holding it, with
# the image's extent past the end of the file (inside the claimed volume)
python3 - live.iso evil.iso <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
blocks = len(d) // 2048
struct.pack_into('<I', d, 0x8000 + 80, blocks + 3000)
struct.pack_into('>I', d, 0x8000 + 84, blocks + 3000)
n = 0
i = d.find(b'ROOTFS.UZI;1')
while i >= 0:
    rec = i - 33
    struct.pack_into('<I', d, rec + 2, blocks + 10)
    struct.pack_into('>I', d, rec + 6, blocks + 10)
    n += 1
    i = d.find(b'ROOTFS.UZI;1', i + 1)
assert n > 0
open(sys.argv[2], 'wb').write(d)
EOF
mcopy -i fat32.img evil.iso ::/isos/evil.iso
"$LR" locate --iso /isos/evil.iso fat32.img >/dev/null 2>evil.err
check "ISO claiming more than its file: exit 2" [ $? -eq 2 ]
check "ISO claiming more than its file: the message says past the end" grep -q "past the end" evil.err

# unpartitioned FAT device
"$LR" locate --iso /isos/live.iso --extract x5 fat32.img >/dev/null
check "findiso on an unpartitioned FAT32: --extract equals the file" cmp -s x5 oracle.uzip

# --- the Ventoy disk -------------------------------------------------------
ventoy_ok=1
if [ "$(id -u)" != 0 ] || ! command -v losetup >/dev/null 2>&1 ||
    ! command -v mount.exfat-fuse >/dev/null 2>&1 || [ ! -e /dev/fuse ]; then
	echo "# SKIP the Ventoy part: needs root, losetup, mount.exfat-fuse and /dev/fuse"
	ventoy_ok=0
fi
if [ $ventoy_ok = 1 ]; then
	P1SZ=$((32 * 2048))		# 32 MiB in sectors
	P2START=$((2048 + P1SZ))
	truncate -s 80M vt.img
	printf 'label: dos\nlabel-id: 0x5a17c0de\nunit: sectors\n2048,%s,7\n%s,65536,ef\n' \
	    "$P1SZ" "$P2START" | sfdisk -q vt.img >/dev/null 2>&1 ||
	    { echo "sfdisk failed"; exit 1; }
	# Ventoy's 16-byte disk id at 0x180
	printf '\126\124\117\131\021\042\063\104\125\146\167\210\231\252\273\314' |
	    dd of=vt.img bs=1 seek=384 conv=notrunc 2>/dev/null
	truncate -s 32M efi16.img
	mkfs.vfat -F 16 -n VTOYEFI efi16.img >/dev/null
	dd if=efi16.img of=vt.img bs=1M seek=$((P2START * 512)) oflag=seek_bytes conv=notrunc 2>/dev/null
	LOOP=$(losetup -f --show -o $((2048 * 512)) --sizelimit $((P1SZ * 512)) vt.img) ||
	    { echo "losetup failed"; exit 1; }
	mkfs.exfat -L Ventoy "$LOOP" >/dev/null 2>&1 || { echo "mkfs.exfat failed"; exit 1; }
	mkdir -p "$MNT"
	mount.exfat-fuse "$LOOP" "$MNT" >/dev/null 2>&1 || { echo "mount.exfat-fuse failed"; exit 1; }
	# fill with 256 KiB files, delete every other one, then copy the ISO
	mkdir "$MNT/fill"
	head -c 262144 /dev/urandom > chunk
	i=0
	while cp chunk "$MNT/fill/$i" 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge 2000 ] && break
	done
	j=0
	while [ $j -lt $i ]; do
		rm -f "$MNT/fill/$j"
		j=$((j + 2))
	done
	mkdir -p "$MNT/other"
	cp plain "$MNT/other/notes.txt"
	cp decoy.iso "$MNT/a-decoy.iso"
	cp live.iso "$MNT/live.iso"
	sync
	cp "$MNT/live.iso" vt-oracle.iso
	fusermount -u "$MNT" 2>/dev/null || umount "$MNT"
	losetup -d "$LOOP"
	LOOP=""
	check "exfat-fuse gives the ISO back" cmp -s vt-oracle.iso live.iso
	check "MBR: disk signature at 0x1B8" [ "$(od -An -tx1 -j440 -N4 vt.img | tr -d ' ')" = dec0175a ]
	check "MBR: disk id at 0x180" [ "$(od -An -tx1 -j384 -N4 vt.img | tr -d ' ')" = 56544f59 ]
	check "MBR: partition 1 still at LBA 2048" [ "$(od -An -tu4 -j454 -N4 vt.img | tr -d ' ')" = 2048 ]

	"$LR" inspect --json vt.img > vt-inspect.json
	check "inspect: Ventoy layout" [ "$(jget vt-inspect.json 'j[0]["ventoy"]["layout"]')" = True ]
	check "inspect: p1 exfat 'Ventoy'" [ "$(jget vt-inspect.json 'j[0]["partitions"][0]["fs"] + "/" + j[0]["partitions"][0]["label"]')" = exfat/Ventoy ]
	check "inspect: p2 fat16 'VTOYEFI'" [ "$(jget vt-inspect.json 'j[0]["partitions"][1]["fs"] + "/" + j[0]["partitions"][1]["label"]')" = fat16/VTOYEFI ]

	# ventoy without os_param: layout recognised, data partition searched
	"$LR" locate --json --label LIVE_TEST vt.img > vt.json
	check "ventoy (layout): found" [ "$(jget vt.json 'j["strategy"]')" = ventoy ]
	check "ventoy (layout): the ISO path" [ "$(jget vt.json 'j["iso_path"]')" = /live.iso ]
	niso=$(jget vt.json 'len(j["iso_extents"])')
	nimg=$(jget vt.json 'len(j["extents"])')
	echo "# fragmented ISO: $niso extents; rootfs.uzip inside it: $nimg extents"
	check "the ISO is really fragmented (> 1 extent)" [ "$niso" -gt 1 ]
	check "the image inside crosses fragments (> 1 extent)" [ "$nimg" -gt 1 ]
	reassemble vt.img vt.json iso_extents vt-iso.re
	check "ventoy: the ISO's extents reassemble exfat-fuse's ISO" cmp -s vt-iso.re vt-oracle.iso
	"$LR" locate --label LIVE_TEST --extract x6 vt.img >/dev/null
	check "ventoy (two-level): --extract equals xorriso -osirrox" cmp -s x6 oracle.uzip
	"$LR" locate --extract x6b vt.img >/dev/null
	check "ventoy, no label: the decoy ISO without the image is skipped" cmp -s x6b oracle.uzip
	"$LR" locate --label NOT_THERE vt.img > vtnf.txt 2>/dev/null
	check "ventoy, another label: exit 1" [ $? -eq 1 ]
	check "ventoy, another label: names the ISO seen" grep -q "/live.iso: ISO label 'LIVE_TEST' is not 'NOT_THERE'" vtnf.txt
	check "ventoy, another label: counts the ISOs seen" grep -q "2 ISO file(s), none matched" vtnf.txt

	# forged os_params from the real extents
	python3 - vt.img vt.json <<'EOF' || bad "forging os_params"
import json, struct, sys
img, js = sys.argv[1:3]
j = json.load(open(js))
mbr = open(img, 'rb').read(512)
guid = bytes([0x20, 0x20, 0x77, 0x77, 0x77, 0x2e, 0x76, 0x65, 0x6e, 0x74,
              0x6f, 0x79, 0x2e, 0x6e, 0x65, 0x74])
disk_size = len(open(img, 'rb').read())
regions = b''
for e in j['iso_extents']:
    assert e['voff'] % 2048 == 0 and e['len'] % 2048 == 0 and e['loff'] % 512 == 0
    regions += struct.pack('<IIQ', e['len'] // 2048, e['voff'] // 2048, e['loff'] // 512)
loc = guid + struct.pack('<III', 2048, 512, len(j['iso_extents'])) + regions
def param(with_loc, path=b'/live.iso', sig=None):
    p = bytearray(512)
    p[0:16] = guid
    p[17:33] = mbr[0x180:0x190]
    struct.pack_into('<QHH', p, 33, disk_size, 1, 0)
    p[45:45 + len(path)] = path
    struct.pack_into('<QQI', p, 429, j['iso_size'], 0, len(loc) if with_loc else 0)
    p[481:485] = mbr[0x1b8:0x1bc] if sig is None else struct.pack('<I', sig)
    p[16] = (-sum(p)) & 0xff
    return bytes(p)
open('vp-raw-loc.bin', 'wb').write(param(True) + loc)
open('vp-raw.bin', 'wb').write(param(False))
open('vp-efi.bin', 'wb').write(struct.pack('<I', 7) + param(False))
body = param(True) + loc
hdr = bytearray(b'VTOY' + struct.pack('<I', 36 + len(body)) + b'\x01\x00' +
                b'VENTOY' + b'VENTOY  ' + struct.pack('<I', 1) + b'VTOY' +
                struct.pack('<I', 1))
t = bytearray(hdr + body)
t[9] = (-sum(t)) & 0xff
open('vp-acpi.bin', 'wb').write(bytes(t))
bad = bytearray(param(True) + loc)
bad[100] ^= 0x5a
open('vp-badsum.bin', 'wb').write(bytes(bad))
open('vp-otherdisk.bin', 'wb').write(param(True, sig=0x01020304) + loc)
open('vp-nolabel.bin', 'wb').write(param(False, path=b'/other/notes.txt'))
# a location list whose last region lies past the end of the disk
far = bytearray(loc)
struct.pack_into('<Q', far, len(far) - 8, disk_size // 512 + 100)
open('vp-pastend.bin', 'wb').write(param(True) + bytes(far))
EOF
	want=$(jget vt.json 'j["extents"]')
	for f in vp-raw-loc vp-raw vp-efi vp-acpi; do
		"$LR" locate --strategy ventoy --ventoy-param $f.bin --json vt.img > $f.json
		check "os_param ($f): found by ventoy" [ "$(jget $f.json 'j["strategy"]')" = ventoy ]
		check "os_param ($f): the same extents as the layout search" \
		    [ "$(jget $f.json 'j["extents"]')" = "$want" ]
	done
	"$LR" locate --ventoy-param vp-acpi.bin --extract x7 vt.img >/dev/null
	check "os_param (ACPI): --extract equals xorriso -osirrox" cmp -s x7 oracle.uzip
	"$LR" locate --ventoy-param vp-badsum.bin vt.img > /dev/null 2> badsum.err
	check "wrong os_param checksum: exit 2" [ $? -eq 2 ]
	check "wrong os_param checksum: a message says so" grep -qi "checksum" badsum.err
	"$LR" locate --strategy ventoy --ventoy-param vp-otherdisk.bin vt.img > od.txt 2>/dev/null
	check "os_param of another disk: not found (exit 1)" [ $? -eq 1 ]
	check "os_param of another disk: says so" grep -q "another disk" od.txt
	"$LR" locate --strategy ventoy --ventoy-param vp-nolabel.bin vt.img > nl.txt 2>/dev/null
	check "os_param naming a file that is no ISO: exit 1" [ $? -eq 1 ]
	"$LR" locate --ventoy-param vp-pastend.bin vt.img >/dev/null 2>pe.err
	check "os_param location list past the disk end: exit 2" [ $? -eq 2 ]
	check "os_param location list past the disk end: a message" grep -qi "location list" pe.err
	printf 'garbage garbage garbage' > vp-garbage.bin
	"$LR" locate --ventoy-param vp-garbage.bin vt.img >/dev/null 2>garb.err
	check "a file that is no os_param: exit 2 with a message" \
	    sh -c "[ $? -eq 2 ] && grep -q 'not a Ventoy os_param' garb.err"
fi

# --- not found: one line per device ----------------------------------------
truncate -s 4M blank.img
"$LR" locate --label LIVE_TEST blank.img gptfat.img fat32.img > nf3.txt 2>nf3.err
check "not found on three devices: exit 1" [ $? -eq 1 ]
check "not found: a line per device" [ "$(wc -l < nf3.txt)" -eq 3 ]
check "not found: blank device seen as zeros" grep -q "^blank.img: 4.0 MiB; 0x8000: zeros" nf3.txt
check "not found: GPT disk lists its partitions" grep -q "^gptfat.img: .*GPT, 2 partition(s).*fat32 'LIVEFAT'" nf3.txt
"$LR" locate --json blank.img > nf.json 2>/dev/null
check "not found --json: found false" [ "$(jget nf.json 'j["found"]')" = False ]
"$LR" locate /nonexistent/device > /dev/null 2> ne.err
check "unopenable device: exit 2" [ $? -eq 2 ]
"$LR" locate --help | grep -q "usage: liveroot locate"
check "locate --help" [ $? -eq 0 ]
"$LR" inspect --help | grep -q "usage: liveroot inspect"
check "inspect --help" [ $? -eq 0 ]
# A label that is not UTF-8 (Latin-1 "CAF\351" and a 0xFF byte patched into
# the primary volume descriptor): --json must still be valid UTF-8 JSON.
cp live.iso latin1.iso
printf 'CAF\351\377' | dd of=latin1.iso bs=1 seek=$((0x8028)) conv=notrunc 2>/dev/null
"$LR" inspect --json latin1.iso > latin1.json
check "inspect --json: a non-UTF-8 ISO label still gives valid JSON" \
    python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' latin1.json
"$LR" locate --json latin1.iso > latin1-loc.json
check "locate --json: a non-UTF-8 ISO label still gives valid JSON" \
    python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' latin1-loc.json
"$LR" locate > /dev/null 2>&1
check "locate without a device: exit 2" [ $? -eq 2 ]

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
