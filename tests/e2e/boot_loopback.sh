#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e, issue 10 scenario 6: the ISO as a file on a multiboot stick.  A
# separate disk holds live.iso under "/iso dir/" on a FAT32 partition (mcopy)
# and, in a second run, on an exFAT partition (exfat-fuse on a loop
# device); a GRUB boot CD made here with grub-mkrescue does what GRUB
# multiboot tools do: `loopback loop FILE; set iso_path=FILE; export
# iso_path; configfile (loop)/boot/grub/loopback.cfg`.  The ISO's
# loopback.cfg passes "live.iso=${iso_path}" and liveroot-init finds the
# file again (findiso) on the data disk.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need grub-mkrescue grub-common
e2e_need sgdisk gdisk
e2e_need mkfs.vfat dosfstools
e2e_need mcopy mtools
e2e_need mkfs.exfat exfatprogs
e2e_need mount.exfat-fuse exfat-fuse
e2e_need losetup mount
[ "$(id -u)" = 0 ] || e2e_skip "building the exFAT disk needs root (losetup, FUSE)"
ISOFILE="/iso dir/live.iso"

# mkgrubcd: $IMG/grubcd.iso, GRUB on a CD whose menu loops the ISO file
mkgrubcd() {
	t=$RUN/grubcd.tmp
	rm -rf "$t"
	mkdir -p "$t/boot/grub"
	cat > "$t/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
insmod part_gpt
insmod fat
insmod exfat
insmod iso9660
insmod loopback
set timeout=1
menuentry 'live.iso from a file (loopback.cfg)' {
	search --no-floppy --set=root --file "$ISOFILE"
	loopback loop "$ISOFILE"
	set iso_path="$ISOFILE"
	export iso_path
	configfile (loop)/boot/grub/loopback.cfg
}
CFG
	grub-mkrescue -o "$IMG/grubcd.iso.tmp" "$t" > "$t.log" 2>&1 &&
	    mv "$IMG/grubcd.iso.tmp" "$IMG/grubcd.iso"
}

# mkdisk FS: $IMG/loop-FS.img, a GPT disk whose one partition holds the ISO
mkdisk() {
	fs=$1
	t=$RUN/loop-$fs.tmp
	mkdir -p "$t.mnt"
	mb=$(( $(stat -c %s "$LIVE/live.iso") / 1048576 + 48 ))
	rm -f "$t.part" "$t.disk"
	if [ "$fs" = fat32 ]; then
		mkfs.vfat -F 32 -n LIVEDATA -C "$t.part" $((mb * 1024)) >/dev/null &&
		    mmd -i "$t.part" "::/iso dir" &&
		    mcopy -i "$t.part" "$LIVE/live.iso" "::$ISOFILE" || return 1
	else
		truncate -s ${mb}M "$t.part" &&
		    mkfs.exfat -L LIVEDATA "$t.part" >/dev/null || return 1
		loop=$(losetup -f --show "$t.part") || return 1
		if ! mount.exfat-fuse "$loop" "$t.mnt"; then
			losetup -d "$loop"
			return 1
		fi
		mkdir -p "$t.mnt/iso dir" && cp "$LIVE/live.iso" "$t.mnt$ISOFILE"
		r=$?
		umount "$t.mnt"
		losetup -d "$loop"
		[ $r = 0 ] || return 1
	fi
	truncate -s $(( (mb + 2) * 1048576 )) "$t.disk" &&
	    sgdisk -o -n 1:2048:+${mb}M -t 1:0700 -c 1:LIVEDATA "$t.disk" >/dev/null &&
	    dd if="$t.part" of="$t.disk" bs=1M seek=1 conv=notrunc status=none &&
	    rm -f "$t.part" && mv "$t.disk" "$IMG/loop-$fs.img"
}

e2e_once grubcd.iso mkgrubcd || { e2e_fail "grub-mkrescue: building the GRUB CD"; e2e_done; }
for fs in fat32 exfat; do
	e2e_once "loop-$fs.img" mkdisk $fs || { e2e_fail "building the $fs disk"; continue; }
	E2E_NOKERNEL=1 e2e_boot "$fs" -M pc -boot d -cdrom "$IMG/grubcd.iso" \
	    -drive "if=none,id=vd0,file=$IMG/loop-$fs.img,format=raw,readonly=on" \
	    -device virtio-blk-pci,drive=vd0
	e2e_expect "GNU GRUB" 60 "$fs: the GRUB CD started"
	e2e_expect "live.iso=$ISOFILE" 90 "$fs: loopback.cfg booted the kernel with live.iso=\"$ISOFILE\" intact"
	e2e_expect "liveroot: found root image by findiso on /dev/vda" 120 "$fs: liveroot-init found the ISO file on the $fs partition (findiso)"
	e2e_expect_live none
done
e2e_done
