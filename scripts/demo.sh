#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# demo.sh - `make demo`: make the example live ISO and boot it in QEMU as a
# CD through the PC's firmware (SeaBIOS -> the ISO's El Torito record ->
# GRUB -> Debian's kernel and liveroot's initramfs; no -kernel), the boot
# transcript shown live on this terminal, until the
# live system prints its marker and powers off.  `make demo` has already
# installed the Debian packages (scripts/install-deps.sh) and built liveroot
# (build/); this script fetches Debian's kernel into cache/ (scripts/kernel.sh,
# never into /boot), builds the example root (examples/tiny-root) and runs
# `liveroot mklive`.  Work files go to $LIVEROOT_DEMO_DIR (/tmp/liveroot-demo).
# QEMU runs under TCG (KVM is not required) and is stopped after 120 s.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$top/build}
dir=${LIVEROOT_DEMO_DIR:-/tmp/liveroot-demo}
say() {
	if [ -t 1 ]; then
		printf '\n\033[1mdemo: %s\033[0m\n' "$*"
	else
		printf '\ndemo: %s\n' "$*"
	fi
}
t0=$(date +%s)

for f in "$build/cmd/liveroot" "$build/cmd/liveroot-init"; do
	[ -x "$f" ] || { echo "demo: $f is not built: run 'make build' first" >&2; exit 2; }
done

say "fetching Debian's kernel (linux-image-amd64) into the cache"
eval "$(sh "$top/scripts/kernel.sh")"

say "building the example live root (busybox + an init script)"
sh "$top/examples/tiny-root/build.sh" "$dir/tree"

say "liveroot mklive: ext4 -> rootfs.uzip -> hybrid live.iso (BIOS+UEFI), initramfs with liveroot-init"
# --serial: GRUB and the kernel talk on the serial port, which is this
# terminal; without it the ISO is made for a screen
"$build/cmd/liveroot" mklive -v --serial --cmdline quiet -o "$dir/live" \
    -L LIVEROOT "$dir/tree"

say "booting $dir/live/live.iso as a CD from SeaBIOS in QEMU (TCG); Ctrl-a x quits"
echo "qemu-system-x86_64 -accel tcg -m 512 -nodefaults -M pc -cdrom $dir/live/live.iso -serial mon:stdio ..."
log=$dir/console.log
set +e
timeout 120 qemu-system-x86_64 -accel tcg -m 512 -nodefaults -no-reboot \
    -display none -serial mon:stdio -M pc -cdrom "$dir/live/live.iso" \
    | tee "$log"
set -e
if grep -q "LIVEROOT-MARKER: live system up" "$log" &&
    grep -q "LIVEROOT-CHECK none: PASS" "$log"; then
	say "the live system came up from the CD (firmware -> GRUB -> liveroot-init) and powered off ($(( $(date +%s) - t0 )) s in all)"
	say "to write it to a USB stick: dd if=$dir/live/live.iso of=/dev/sdX bs=4M conv=fsync (it is a hybrid image)"
	exit 0
fi
say "the live system did not come up: the transcript is in $log"
exit 1
