#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# mklive_boot.sh - what `liveroot mklive` puts on live.iso for firmware,
# read back with tools nobody here wrote: xorriso's El Torito and
# partition report, mtools on the ESP image, GRUB's own grub-script-check
# on the configuration files; the kernel options (--kernel/--modules-dir,
# --kver) and their errors; the tree checks (/sbin/init, --init-path, many
# small files); and reproducibility under SOURCE_DATE_EPOCH.  The ISOs are
# booted by the e2e suite (tests/e2e/firmware_*.sh).
set -u
: "${LIVEROOT:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
T=${TMPDIR:-/tmp}/mklive_boot.$$
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
LIB_TAP=1
LIB_CHECK_OUT=$T/check.out
PATH=$PATH:/usr/sbin:/sbin
for t in xorriso mke2fs e2fsck debugfs grub-mkimage grub-script-check mkfs.fat mcopy mdir signify-openbsd; do
	command -v $t >/dev/null 2>&1 || { echo "FAIL: $t is not installed (scripts/install-deps.sh)"; echo "0 passed, 1 failed"; exit 1; }
done
INIT=$BUILDDIR/cmd/liveroot-init
[ -x "$INIT" ] || { echo "FAIL: $INIT is not built"; echo "0 passed, 1 failed"; exit 1; }
eval "$(sh "$SRCDIR/scripts/kernel.sh")" || { echo "FAIL: scripts/kernel.sh"; echo "0 passed, 1 failed"; exit 1; }
KDIR=$(dirname "$VMLINUX")
MODS=$KDIR/root/lib/modules/$KVER

sh "$SRCDIR/examples/tiny-root/build.sh" "$T/tree" 2>/dev/null

# --- one build with the kernel named like any other input ----------------
O=$T/out
if SOURCE_DATE_EPOCH=1700000000 "$LIVEROOT" mklive --json --init "$INIT" \
    --kernel "$VMLINUZ" --modules-dir "$MODS" -L BOOTTEST \
    --cmdline "quiet example.x=1" -o "$O" "$T/tree" > "$T/json" 2> "$T/err"; then
	ok "mklive --kernel VMLINUZ --modules-dir DIR builds"
else
	bad "mklive --kernel VMLINUZ --modules-dir DIR builds"
	cat "$T/err"
	echo "$pass passed, $fail failed"
	exit 1
fi
check "--json: the kernel release is read from the bzImage ($KVER)" \
    grep -q "\"kernel_version\":\"$KVER\"" "$T/json"
check "no staging directory is left behind" sh -c "! ls -a '$O' | grep -q '^\\.iso'"

xorriso -indev "$O/live.iso" -report_el_torito plain -report_system_area plain \
    > "$T/report" 2>&1
check "El Torito: a BIOS no-emulation boot image (GRUB i386-pc)" \
    grep -qE "El Torito boot img : +1 +BIOS +y +none" "$T/report"
check "El Torito: a UEFI boot image" grep -qE "El Torito boot img : +2 +UEFI +y +none" "$T/report"
check "El Torito: the BIOS image is /boot/grub/i386-pc/eltorito.img" \
    grep -q "El Torito img path : *1 */boot/grub/i386-pc/eltorito.img" "$T/report"
check "system area: GRUB's hybrid MBR and a GPT (a copied USB stick boots)" \
    grep -qE "System area summary: MBR .*grub2-mbr.*GPT|MBR protective-msdos-label grub2-mbr.*GPT" "$T/report"
check "GPT: partition 2 is the EFI system partition" \
    grep -qE "GPT type GUID *: *2 *28732ac11ff8d211ba4b00a0c93ec93b" "$T/report"

# the ESP: the El Torito EFI image is the appended partition
xorriso -osirrox on -indev "$O/live.iso" -extract_boot_images "$T/bootimg" > /dev/null 2>&1
esp=$(ls "$T"/bootimg/*uefi* 2>/dev/null | head -n 1)
check "the UEFI boot image can be extracted" test -s "${esp:-/nonexistent}"
mdir -i "$esp" -/ -b :: > "$T/esp.list" 2>&1
check "ESP: /EFI/BOOT/BOOTX64.EFI is Debian's signed shim" sh -c \
    "mtype -i '$esp' ::/EFI/BOOT/BOOTX64.EFI | cmp - /usr/lib/shim/shimx64.efi.signed"
check "ESP: /EFI/BOOT/grubx64.efi is Debian's signed GRUB for CDs" sh -c \
    "mtype -i '$esp' ::/EFI/BOOT/grubx64.efi | cmp - /usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed"
check "ESP: /EFI/BOOT/mmx64.efi is MokManager" grep -qi "EFI/BOOT/mmx64.efi" "$T/esp.list"
mtype -i "$esp" ::/boot/grub/grub.cfg > "$T/esp.cfg" 2>&1
id=$(xorriso -indev "$O/live.iso" -ls /.disk 2>/dev/null | sed -n "s/.*'\\(liveroot-[0-9a-f]*\\)'.*/\\1/p")
check "the ISO has its id file /.disk/liveroot-ID" test -n "$id"
check "ESP grub.cfg finds the ISO by its id file and runs its menu" \
    sh -c "grep -q 'search --no-floppy --set=root --file /.disk/$id' '$T/esp.cfg' && grep -q 'configfile' '$T/esp.cfg'"

for f in grub.cfg loopback.cfg; do
	xorriso -osirrox on -indev "$O/live.iso" -extract "/boot/grub/$f" "$T/$f" > /dev/null 2>&1
	check "$f: GRUB's grub-script-check accepts it" grub-script-check "$T/$f"
done
check "grub.cfg: four entries (live, copy to RAM, rescue shell, serial)" \
    test "$(grep -c '^menuentry' "$T/grub.cfg")" = 4
check "grub.cfg: every linux line passes live.label=BOOTTEST and --cmdline" \
    test "$(grep -c 'linux /boot/vmlinuz live.label=BOOTTEST.* quiet example.x=1$' "$T/grub.cfg")" = 4
check "grub.cfg: copy to RAM passes live.toram=1" grep -q "live.toram=1" "$T/grub.cfg"
check "grub.cfg: the rescue entry passes live.shell=1" grep -q "live.shell=1" "$T/grub.cfg"
check "grub.cfg: the serial entry passes console=ttyS0,115200" grep -q "console=ttyS0,115200" "$T/grub.cfg"
check "grub.cfg: without --serial GRUB stays on the screen, default the live entry" \
    sh -c "! grep -q '^serial' '$T/grub.cfg' && grep -qx 'set default=live' '$T/grub.cfg'"
check "loopback.cfg: every entry passes \"live.iso=\${iso_path}\" (findiso)" \
    test "$(grep -c 'linux /boot/vmlinuz "live.iso=${iso_path}"' "$T/loopback.cfg")" = 4
check "the ISO's /boot/vmlinuz is the --kernel given" sh -c \
    "xorriso -osirrox on -indev '$O/live.iso' -extract /boot/vmlinuz '$T/vmlinuz' >/dev/null 2>&1 && cmp '$T/vmlinuz' '$VMLINUZ'"

# --- reproducibility ----------------------------------------------------
# A second build a second later, the tree's ctimes and atimes changed (as
# by unpacking it again): the same bytes.
sleep 1
chmod -R u+w "$T/tree"
find "$T/tree" -type f -exec cat {} + > /dev/null
SOURCE_DATE_EPOCH=1700000000 "$LIVEROOT" mklive -q --init "$INIT" \
    --kernel "$VMLINUZ" --modules-dir "$MODS" -L BOOTTEST \
    --cmdline "quiet example.x=1" -o "$T/out2" "$T/tree" 2> "$T/err2"
for f in live.iso rootfs.uzip rootfs.uzip.hashes initramfs.img; do
	check "SOURCE_DATE_EPOCH: two builds give the same $f" cmp "$O/$f" "$T/out2/$f"
done
SOURCE_DATE_EPOCH=1700000000 "$LIVEROOT" mklive -q --keep-ext4 --boot none \
    --init "$INIT" --kernel "$VMLINUZ" --modules-dir "$MODS" -o "$T/out3" \
    "$T/tree" 2> "$T/err3"
check "SOURCE_DATE_EPOCH: e2fsck finds the clamped ext4 clean (inode checksums)" \
    e2fsck -fn "$T/out3/rootfs.ext4"
debugfs -R "stat /sbin/init" "$T/out3/rootfs.ext4" > "$T/stat" 2>/dev/null
check "SOURCE_DATE_EPOCH: times are clamped to it" sh -c \
    "grep -q 'ctime: 0x6553f100' '$T/stat' && grep -q 'atime: 0x6553f100' '$T/stat'"
check "--boot none: an ISO without El Torito records" sh -c \
    "! xorriso -indev '$T/out3/live.iso' -report_el_torito plain 2>&1 | grep -q 'El Torito boot img'"

# --- --sign: rootfs.uzip.sig, checked by signify-openbsd -------------------
signify-openbsd -G -n -p "$T/live.pub" -s "$T/live.sec" -c "mklive test key"
if "$LIVEROOT" mklive -q --boot none --sign "$T/live.sec" --init "$INIT" \
    --kernel-dir "$KDIR" -o "$T/signed" "$T/tree" 2> "$T/signed.err"; then
	ok "--sign SECKEY builds"
	check "--sign: signify-openbsd -V accepts rootfs.uzip.sig" \
	    signify-openbsd -V -q -p "$T/live.pub" -m "$T/signed/rootfs.uzip"
	check "--sign: the signature is in the netboot directory" \
	    cmp "$T/signed/rootfs.uzip.sig" "$T/signed/netboot/rootfs.uzip.sig"
	check "--sign: the signature is in the ISO beside /rootfs.uzip" sh -c \
	    "xorriso -osirrox on -indev '$T/signed/live.iso' -extract /rootfs.uzip.sig '$T/iso.sig' >/dev/null 2>&1 && cmp '$T/iso.sig' '$T/signed/rootfs.uzip.sig'"
	check "--sign: signify-openbsd -V accepts rootfs.uzip.hashes.sig" \
	    signify-openbsd -V -q -p "$T/live.pub" -m "$T/signed/rootfs.uzip.hashes"
	for f in rootfs.uzip.hashes rootfs.uzip.hashes.sig; do
		check "--sign: $f is in the netboot directory" \
		    cmp "$T/signed/$f" "$T/signed/netboot/$f"
		check "--sign: $f is in the ISO" sh -c \
		    "xorriso -osirrox on -indev '$T/signed/live.iso' -extract /$f '$T/iso.f' >/dev/null 2>&1 && cmp '$T/iso.f' '$T/signed/$f'"
	done
else
	bad "--sign SECKEY builds"; cat "$T/signed.err"
fi

# --- the kernel options' errors -----------------------------------------
experr() {
	# experr WHAT PATTERN ARGS...
	w=$1; p=$2; shift 2
	"$LIVEROOT" mklive "$@" > "$T/eo" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -q -- "$p" "$T/eo"; then ok "$w"; else bad "$w (exit $rc)"; cat "$T/eo"; fi
}
experr "--kernel not a bzImage" "not a Linux kernel" --init "$INIT" --kernel "$T/tree/sbin/init" --modules-dir "$MODS" -o "$T/e" "$T/tree"
mkdir -p "$T/mods/9.9.9-other"
: > "$T/mods/9.9.9-other/modules.dep"
experr "--modules-dir of another release" "modules of release 9.9.9-other" --init "$INIT" --kernel "$VMLINUZ" --modules-dir "$T/mods/9.9.9-other" -o "$T/e" "$T/tree"
experr "--modules-dir without modules.dep" "no modules.dep" --init "$INIT" --kernel "$VMLINUZ" --modules-dir "$T/tree" -o "$T/e" "$T/tree"
experr "--kernel without --modules-dir" "needs --modules-dir" --init "$INIT" --kernel "$VMLINUZ" -o "$T/e" "$T/tree"
experr "--kver of a kernel not installed" "install the kernel's linux-image package" --init "$INIT" --kver 0.0.0-none -o "$T/e" "$T/tree"
experr "--kver with --kernel" "without --kernel" --init "$INIT" --kver "$KVER" --kernel "$VMLINUZ" -o "$T/e" "$T/tree"
experr "--boot with an unknown firmware" "bios, uefi" --boot coreboot --init "$INIT" --kernel-dir "$KDIR" -o "$T/e" "$T/tree"
experr "--label GRUB would misread" "is not a letter" -L 'MY;LABEL' --init "$INIT" --kernel-dir "$KDIR" -o "$T/e" "$T/tree"
experr "--cmdline with GRUB syntax" "special to GRUB" --cmdline 'a=1; reboot' --init "$INIT" --kernel-dir "$KDIR" -o "$T/e" "$T/tree"
signify-openbsd -G -n -p "$T/other.pub" -s "$T/other.sec" -c "another key"
experr "--sign and --pubkey of two key pairs" "not one key pair" --sign "$T/live.sec" --pubkey "$T/other.pub" --init "$INIT" --kernel-dir "$KDIR" -o "$T/e" "$T/tree"
experr "--pubkey given a secret key" "42-byte public key" --pubkey "$T/live.sec" --init "$INIT" --kernel-dir "$KDIR" -o "$T/e" "$T/tree"
if "$LIVEROOT" mklive -q --initramfs-only --pubkey "$T/live.pub" --init "$INIT" \
    --kernel-dir "$KDIR" -o "$T/pk" 2> "$T/pk.err"; then
	mkdir -p "$T/pkx" && (cd "$T/pkx" && zstd -dc "$T/pk/initramfs.img" | cpio -id 2>/dev/null)
	check "--pubkey: the key is the initramfs' /etc/liveroot/signify.pub" \
	    cmp "$T/pkx/etc/liveroot/signify.pub" "$T/live.pub"
else
	bad "--pubkey builds"; cat "$T/pk.err"
fi
experr "--sign with a public key: named" "live.pub" --sign "$T/live.pub" --init "$INIT" --kernel-dir "$KDIR" -o "$T/e" "$T/tree"
experr "--sign with a missing key: named" "--sign: " --sign "$T/none.sec" --init "$INIT" --kernel-dir "$KDIR" -o "$T/e" "$T/tree"
experr "--shim missing: names shim-signed" "shim-signed" --shim "$T/none.efi" --init "$INIT" --kernel-dir "$KDIR" -o "$T/e" "$T/tree"

# --- the tree is checked before anything is built -----------------------
mkdir -p "$T/noinit/etc"
echo x > "$T/noinit/etc/hostname"
experr "a tree without /sbin/init: names the fix" "no /sbin/init" --init "$INIT" --kernel-dir "$KDIR" -o "$T/ni" "$T/noinit"
check "... and nothing was built" test ! -e "$T/ni/initramfs.img"
mkdir -p "$T/noinit/lib/systemd" "$T/noinit/sbin"
printf '#!/bin/sh\n' > "$T/noinit/lib/systemd/systemd"
chmod 755 "$T/noinit/lib/systemd/systemd"
ln -s /lib/systemd/systemd "$T/noinit/sbin/init"
if "$LIVEROOT" mklive -q --boot none --init "$INIT" --kernel-dir "$KDIR" -o "$T/sl" "$T/noinit" 2> "$T/sl.err"; then
	ok "/sbin/init as an absolute symbolic link inside the tree is accepted"
else
	bad "/sbin/init as an absolute symbolic link inside the tree is accepted"; cat "$T/sl.err"
fi
rm "$T/noinit/sbin/init"
if "$LIVEROOT" mklive -q --boot none --init-path /lib/systemd/systemd --init "$INIT" \
    --kernel-dir "$KDIR" -o "$T/ip" "$T/noinit" 2> "$T/ip.err"; then
	ok "--init-path names the live init"
	mkdir -p "$T/ipx" && (cd "$T/ipx" && zstd -dc "$T/ip/initramfs.img" | cpio -id 2>/dev/null)
	check "--init-path reaches liveroot-init as live.init= in its defaults" \
	    grep -qx "live.init=/lib/systemd/systemd" "$T/ipx/etc/liveroot/defaults"
else
	bad "--init-path names the live init"; cat "$T/ip.err"
fi
experr "--init-path that is not in the tree" "--init-path /sbin/nothing" --init-path /sbin/nothing --init "$INIT" --kernel-dir "$KDIR" -o "$T/e" "$T/noinit"

# 120,000 small files: the inode count is passed to mke2fs (the tree in
# RAM when /dev/shm is there: a disk makes this the slowest check)
MANY=$T/many
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	MANY=/dev/shm/mklive_boot.many.$$
	trap 'rm -rf "$T" "$MANY"' EXIT
fi
mkdir -p "$MANY"
cp -a "$T/tree/." "$MANY/"
python3 - "$MANY/data" <<'EOF'
import os, sys
root = sys.argv[1]
for d in range(120):
    p = os.path.join(root, "d%03d" % d)
    os.makedirs(p)
    for f in range(1000):
        with open(os.path.join(p, "f%04d" % f), "w") as fh:
            fh.write("x")
EOF
if "$LIVEROOT" mklive -q --boot none --init "$INIT" --kernel-dir "$KDIR" \
    --free 1M -o "$T/mo" "$MANY" 2> "$T/mo.err"; then
	ok "a tree of 120,000 small files builds (mke2fs -N)"
else
	bad "a tree of 120,000 small files builds (mke2fs -N)"; tail -5 "$T/mo.err"
fi
rm -rf "$MANY"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
