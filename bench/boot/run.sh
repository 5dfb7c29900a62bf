#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/boot/run.sh [BUILDDIR] - boot times of the example live system in
# QEMU (TCG), liveroot beside dracut's dmsquash-live: the same Debian kernel,
# the same root content, the same machine.  Not a test: it prints a table.
#
#   liveroot: initramfs of `liveroot mklive`, rootfs.uzip (zstd) in an ISO
#   dracut:   `dracut --no-hostonly -a dmsquash-live` with the same kernel's
#             modules; the same ext4 image as LiveOS/rootfs.img inside a
#             squashfs (zstd) in an ISO; root=live:CDLABEL=...
#
# Per transport (CD, USB stick; liveroot also preload) it boots
# N times (BOOTS, default 5) and takes the median of the kernel's uptime
# (so "from the kernel's first line") at two points the live system's init
# prints: when it started (the hand-off) and when it proved the root
# writable (the live marker).  Needs dracut-core and dracut-live
# (scripts/install-deps.sh --bench installs them), root for nothing.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${BUILDDIR:-$top/build}}
LIVEROOT=$build/cmd/liveroot
INIT=$build/cmd/liveroot-init
N=${BOOTS:-5}
W=${LIVEROOT_BENCH_DIR:-/tmp/liveroot-bench-boot}
mkdir -p "$W"
[ -x "$LIVEROOT" ] && [ -x "$INIT" ] || { echo "build first: $LIVEROOT, $INIT"; exit 2; }
sh "$top/scripts/install-deps.sh" --bench || exit 2
eval "$(sh "$top/scripts/kernel.sh")" || exit 2
KDIR=$(dirname "$VMLINUX")

echo "bench/boot: building the images in $W" >&2
sh "$top/examples/tiny-root/build.sh" "$W/tree" 2>/dev/null || exit 2
"$LIVEROOT" mklive --keep-ext4 --init "$INIT" --kernel-dir "$KDIR" -o "$W/lr" "$W/tree" > /dev/null || exit 2
cp "$W/lr/live.iso" "$W/lr-stick.img"
truncate -s %1M "$W/lr-stick.img"
mkdir -p "$W/pre"
cp "$W/lr/rootfs.uzip" "$W/pre/"
"$LIVEROOT" mklive --initramfs-only --init "$INIT" --kernel-dir "$KDIR" \
    --extra-initramfs "$W/pre" -o "$W/lr-pre" > /dev/null || exit 2

have_dracut=0
if command -v dracut > /dev/null 2>&1 && [ -d /usr/lib/dracut/modules.d/90dmsquash-live ] &&
    command -v mksquashfs > /dev/null 2>&1; then
	have_dracut=1
	rm -rf "$W/dr" && mkdir -p "$W/dr/iso/LiveOS" "$W/dr/sq/LiveOS"
	cp "$W/lr/rootfs.ext4" "$W/dr/sq/LiveOS/rootfs.img"
	mksquashfs "$W/dr/sq" "$W/dr/iso/LiveOS/squashfs.img" -comp zstd -noappend -quiet > /dev/null || have_dracut=0
	xorriso -as mkisofs -quiet -R -J -V LIVEDRACUT -o "$W/dr/live.iso" "$W/dr/iso" 2>/dev/null || have_dracut=0
	cp "$W/dr/live.iso" "$W/dr-stick.img"
	truncate -s %1M "$W/dr-stick.img"
	dracut --quiet --force --no-hostonly --kver "$KVER" --kmoddir "$MODULES" \
	    --add "dmsquash-live" --omit "plymouth" \
	    --add-drivers "virtio_pci virtio_blk ata_piix sr_mod sd_mod cdrom isofs squashfs loop dm_mod dm_snapshot overlay ext4 xhci_pci usb_storage" \
	    --compress zstd "$W/dr/initramfs.img" > "$W/dr/dracut.log" 2>&1 || {
		cat "$W/dr/dracut.log" >&2
		have_dracut=0
	}
fi

# boot NAME INITRD APPEND QEMU-ARGS...: prints "init writable" uptimes; a
# boot that halts (or runs past 300 s) is stopped and prints nothing
boot() {
	name=$1 initrd=$2 append=$3
	shift 3
	log=$W/$name.log
	qemu-system-x86_64 -accel tcg -m 512 -nodefaults -no-reboot \
	    -display none -serial stdio -M pc "$@" \
	    -bios /usr/share/qemu/qboot.rom -kernel "$VMLINUX" -initrd "$initrd" \
	    -append "console=ttyS0 quiet $append" < /dev/null > "$log" 2>&1 &
	qp=$!
	t=0
	while kill -0 "$qp" 2>/dev/null && [ $t -lt 1500 ]; do
		grep -qE "LIVEROOT-MARKER: powering off|liveroot: halted|System halted|Kernel panic" "$log" && break
		sleep 0.2
		t=$((t + 1))
	done
	sleep 0.5
	kill "$qp" 2>/dev/null
	wait "$qp" 2>/dev/null
	sed -n 's/.*LIVEROOT-MARKER: uptime init=\([0-9.]*\) writable=\([0-9.]*\).*/\1 \2/p' "$log" | head -n 1
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# row LABEL NAME INITRD APPEND QEMU-ARGS...
row() {
	label=$1
	shift
	: > "$W/times"
	i=0
	while [ $i -lt "$N" ]; do
		boot "$@" >> "$W/times"
		i=$((i + 1))
	done
	ok=$(grep -c . "$W/times")
	h=$(cut -d' ' -f1 "$W/times" | median)
	m=$(cut -d' ' -f2 "$W/times" | median)
	printf '%-34s %10s %10s %6s\n' "$label" "$h" "$m" "$ok/$N"
	echo "$h" > "$W/last.h"
}

printf '\nboot times under QEMU TCG, %s, median of %s boots (kernel uptime, s)\n\n' "$KVER" "$N"
printf '%-34s %10s %10s %6s\n' "transport / initramfs" "hand-off" "marker" "ok"
printf '%-34s %10s %10s %6s\n' "---------------------" "--------" "------" "--"
cd_lr="-cdrom $W/lr/live.iso"
usb_args() {
	echo "-device qemu-xhci,id=xhci -drive if=none,id=u,file=$1,format=raw,readonly=on -device usb-storage,bus=xhci.0,drive=u"
}
# shellcheck disable=SC2086
row "CD        liveroot" lr-cd "$W/lr/initramfs.img" "" $cd_lr
lr_cd=$(cat "$W/last.h")
if [ $have_dracut = 1 ]; then
	# shellcheck disable=SC2086
	row "CD        dracut dmsquash-live" dr-cd "$W/dr/initramfs.img" \
	    "root=live:CDLABEL=LIVEDRACUT rd.live.image rd.shell=0" -cdrom "$W/dr/live.iso"
	dr_cd=$(cat "$W/last.h")
fi
# shellcheck disable=SC2046
row "USB       liveroot" lr-usb "$W/lr/initramfs.img" "" $(usb_args "$W/lr-stick.img")
if [ $have_dracut = 1 ]; then
	# shellcheck disable=SC2046
	row "USB       dracut dmsquash-live" dr-usb "$W/dr/initramfs.img" \
	    "root=live:CDLABEL=LIVEDRACUT rd.live.image rd.shell=0" $(usb_args "$W/dr-stick.img")
fi
row "preload   liveroot" lr-pre "$W/lr-pre/initramfs.img" "live.timeout=5"
if [ $have_dracut = 0 ]; then
	echo "dracut: not measured (install dracut-core dracut-live and squashfs-tools)"
elif [ -n "${lr_cd:-}" ] && [ -n "${dr_cd:-}" ] && [ "$lr_cd" != - ] && [ "$dr_cd" != - ]; then
	awk -v a="$lr_cd" -v b="$dr_cd" 'BEGIN { printf "\nCD hand-off: liveroot %.2f s, dracut %.2f s: liveroot takes %.0f%% of dracut'"'"'s time\n", a, b, 100 * a / b }'
fi
echo "transcripts: $W/*.log"
