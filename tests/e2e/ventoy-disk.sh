# SPDX-License-Identifier: BSD-2-Clause
#
# ventoy-disk.sh - sourced by ventoy.sh and ventoy_acpi.sh (after lib.sh):
# builds $IMG/ventoy.img once, a Ventoy-layout disk made by tools nobody
# here wrote: MBR (sfdisk) with partition 1 at LBA 2048, exFAT labelled
# "Ventoy" (mkfs.exfat), holding /live.iso REALLY fragmented (mounted with
# mount.exfat-fuse on a loop device: filled with 1 MiB files, every other
# one deleted, then the ISO copied in), and partition 2, 32 MiB FAT16
# "VTOYEFI" (mkfs.vfat); the MBR disk id (16 bytes at 0x180) and signature
# (0x1B8) are set.  Needs root for losetup and FUSE.
e2e_need sfdisk fdisk
e2e_need mkfs.exfat exfatprogs
e2e_need mount.exfat-fuse exfat-fuse
e2e_need mkfs.vfat dosfstools
e2e_need losetup mount
[ "$(id -u)" = 0 ] || e2e_skip "building a fragmented exFAT needs root (losetup, FUSE)"

VTOY_DISKID=4c495645524f4f54564f594449534b31	# 16 bytes at 0x180
VTOY_SIG=0x4c564f54				# at 0x1B8

mkventoy() {
	t=$RUN/ventoy.tmp
	mkdir -p "$t.mnt"
	isosz=$(stat -c %s "$LIVE/live.iso")
	p1mb=$(( 2 * isosz / 1048576 + 40 ))
	rm -f "$t.p1" "$t.p2" "$t.disk"
	truncate -s ${p1mb}M "$t.p1" &&
	    mkfs.exfat -L Ventoy -c 4096 "$t.p1" >/dev/null || return 1
	loop=$(losetup -f --show "$t.p1") || return 1
	if ! mount.exfat-fuse "$loop" "$t.mnt"; then
		losetup -d "$loop"
		return 1
	fi
	i=0
	while dd if=/dev/zero of="$t.mnt/fill$i" bs=1M count=1 status=none 2>/dev/null; do
		i=$((i + 1))
	done
	rm -f "$t.mnt/fill$i"
	j=0
	while [ $j -lt $i ]; do
		rm -f "$t.mnt/fill$j"
		j=$((j + 2))
	done
	cp "$LIVE/live.iso" "$t.mnt/live.iso"
	r=$?
	cmp -s "$LIVE/live.iso" "$t.mnt/live.iso" || r=1
	umount "$t.mnt"
	losetup -d "$loop"
	[ $r = 0 ] || return 1
	mkfs.vfat -F 16 -n VTOYEFI -C "$t.p2" 32768 >/dev/null || return 1
	truncate -s $(( (p1mb + 32 + 2) * 1048576 )) "$t.disk"
	printf 'label: dos\nlabel-id: %s\nstart=2048, size=%d, type=7\nstart=%d, size=65536, type=ef\n' \
	    "$VTOY_SIG" $((p1mb * 2048)) $((2048 + p1mb * 2048)) |
	    sfdisk -q "$t.disk" || return 1
	dd if="$t.p1" of="$t.disk" bs=1M seek=1 conv=notrunc status=none &&
	    dd if="$t.p2" of="$t.disk" bs=1M seek=$((1 + p1mb)) conv=notrunc status=none || return 1
	perl -e 'print pack("H32", $ARGV[0])' "$VTOY_DISKID" |
	    dd of="$t.disk" bs=1 seek=$((0x180)) conv=notrunc status=none
	rm -f "$t.p1" "$t.p2"
	mv "$t.disk" "$IMG/ventoy.img"
}
e2e_once ventoy.img mkventoy || { e2e_fail "building the Ventoy-layout disk"; e2e_done; }
VTOY_DISK="-drive if=none,id=vd0,file=$IMG/ventoy.img,format=raw,readonly=on -device virtio-blk-pci,drive=vd0"
