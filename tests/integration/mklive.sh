#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# mklive.sh - `liveroot mklive` checked with tools nobody here wrote:
# xorriso reads the ISO (label, files), debugfs/e2fsck read the ext4 image
# inside rootfs.uzip, cpio lists the initramfs, sha256sum checks the
# netboot hash.  Uses Debian's kernel from the cache (scripts/kernel.sh) and
# the liveroot-init of this build.
set -u
: "${LIVEROOT:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
T=${TMPDIR:-/tmp}/mklive.$$
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
LIB_TAP=1
LIB_CHECK_OUT=$T/out
for t in xorriso mke2fs debugfs e2fsck cpio zstd gzip depmod; do
	command -v $t >/dev/null 2>&1 || [ -x /usr/sbin/$t ] || [ -x /sbin/$t ] ||
	    { echo "SKIP: $t is not installed"; exit 77; }
done
PATH=$PATH:/usr/sbin:/sbin
INIT=$BUILDDIR/cmd/liveroot-init
[ -x "$INIT" ] || { echo "FAIL: $INIT is not built"; echo "0 passed, 1 failed"; exit 1; }
eval "$(sh "$SRCDIR/scripts/kernel.sh")" || { echo "FAIL: scripts/kernel.sh"; echo "0 passed, 1 failed"; exit 1; }
KDIR=$(dirname "$VMLINUX")

sh "$SRCDIR/examples/tiny-root/build.sh" "$T/tree" 2>/dev/null
check "the example tree has busybox and the init script" \
    test -x "$T/tree/bin/busybox" -a -x "$T/tree/sbin/init" -a -L "$T/tree/bin/sh"

mkdir -p "$T/extra/etc/liveroot"
echo "live.timeout=7" > "$T/extra/etc/liveroot/defaults"
if "$LIVEROOT" mklive --json --init "$INIT" --kernel-dir "$KDIR" -L MKLIVETEST \
    --free 32M --extra-initramfs "$T/extra" -o "$T/out1" "$T/tree" > "$T/json" 2> "$T/err"; then
	ok "mklive builds"
else
	bad "mklive builds"
	cat "$T/err"
	echo "$pass passed, $fail failed"
	exit 1
fi
O=$T/out1
check "--json names the ISO, the label and the sha256" \
    grep -q "\"iso\":\"$O/live.iso\".*\"label\":\"MKLIVETEST\"" "$T/json"
check "the intermediate ext4 is removed" test ! -e "$O/rootfs.ext4"
check "no staging directory is left behind" sh -c "! ls -a '$O' | grep -q '^\\.initramfs'"

# The ISO, read by xorriso
xorriso -indev "$O/live.iso" -pvd_info > "$T/pvd" 2>&1
check "xorriso: the volume id is the label" grep -q "Volume Id *: MKLIVETEST" "$T/pvd"
xorriso -osirrox on -indev "$O/live.iso" -extract /rootfs.uzip "$T/r.uzip" \
    -extract /boot/initramfs.img "$T/i.img" -extract /boot/vmlinuz "$T/vmlinuz" > /dev/null 2>&1
check "xorriso: /rootfs.uzip in the ISO is rootfs.uzip" cmp "$T/r.uzip" "$O/rootfs.uzip"
check "xorriso: /boot/initramfs.img in the ISO is initramfs.img" cmp "$T/i.img" "$O/initramfs.img"
check "xorriso: /boot/vmlinuz is the cached kernel" cmp "$T/vmlinuz" "$VMLINUZ"

# rootfs.uzip -> ext4, read by e2fsprogs
check "rootfs.uzip is a zstd uzip" sh -c "head -c 13 '$O/rootfs.uzip' | tail -c 2 | grep -q Z4"
check "liveroot uzip extract" "$LIVEROOT" uzip extract "$O/rootfs.uzip" "$T/root.ext4"
check "e2fsck: the ext4 image is clean" e2fsck -fn "$T/root.ext4"
debugfs -R "cat /sbin/init" "$T/root.ext4" > "$T/init.out" 2>/dev/null
check "debugfs: /sbin/init in the image is the example's init.sh" cmp "$T/init.out" "$SRCDIR/examples/tiny-root/init.sh"
debugfs -R "stat /bin/busybox" "$T/root.ext4" > "$T/bb.stat" 2>/dev/null
check "debugfs: files are owned by root" grep -q "User: *0 *Group: *0" "$T/bb.stat"
free=$(dumpe2fs -h "$T/root.ext4" 2>/dev/null | awk -F: '/^Free blocks/ { print $2 * 4096 }')
check "the file system has at least --free 32M free ($free bytes)" test "${free:-0}" -ge 33554432

# The initramfs, read by cpio
zstd -dc "$O/initramfs.img" > "$T/i.cpio" 2>/dev/null
check "the initramfs is zstd" test -s "$T/i.cpio"
cpio -it < "$T/i.cpio" > "$T/list" 2>/dev/null
for f in init bin/busybox bin/sh sbin/udhcpc usr/share/udhcpc/default.script \
    etc/liveroot/modules etc/liveroot/version etc/liveroot/defaults \
    "lib/modules/$KVER/modules.dep" "lib/modules/$KVER/modules.dep.bin"; do
	check "initramfs holds /$f" grep -qx "$f" "$T/list"
done
check "no busybox init shadows /init" sh -c "! grep -qx -e sbin/init -e linuxrc '$T/list'"
for lib in $(ldd "$INIT" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
	check "initramfs holds the library $lib" grep -qx "${lib#/}" "$T/list"
done
cpio -itv < "$T/i.cpio" 2>/dev/null | awk '$3 != "root" || $4 != "root"' > "$T/notroot"
check "every initramfs entry is owned by root" test ! -s "$T/notroot"
check "the initramfs has /dev/console (c 5,1) for the kernel to open" \
    sh -c "cpio -itv < '$T/i.cpio' 2>/dev/null | grep -q '^crw------- .* 5, *1 .*dev/console\$'"
mkdir -p "$T/ix"
(cd "$T/ix" && cpio -id < "$T/i.cpio" 2>/dev/null)
check "the init in the initramfs is liveroot-init" cmp "$T/ix/init" "$INIT"
check "the --extra-initramfs file is there" grep -qx "live.timeout=7" "$T/ix/etc/liveroot/defaults"
check "usb_storage gets delay_use=0" grep -qx "usb_storage delay_use=0" "$T/ix/etc/liveroot/modules"
# every module to load, and every dependency modules.dep names, is there
missing=""
while read -r m args; do
	for ko in $(modprobe -d "$T/ix" -S "$KVER" --show-depends "$m" 2>&1 | awk '$1 == "insmod" { print $2 }'); do
		[ -f "$ko" ] || missing="$missing $ko"
	done
	modprobe -d "$T/ix" -S "$KVER" --show-depends "$m" > /dev/null 2>&1 || missing="$missing $m"
done < "$T/ix/etc/liveroot/modules"
check "every boot module and its dependencies are in the initramfs (modprobe --show-depends)" test -z "$missing"
[ -n "$missing" ] && echo "missing:$missing"
check "ext4 and nbd are boot modules" sh -c "grep -qx ext4 '$T/ix/etc/liveroot/modules' && grep -qx nbd '$T/ix/etc/liveroot/modules'"

# netboot
check "netboot: the sha256 file matches rootfs.uzip" sh -c "cd '$O/netboot' && sha256sum -c rootfs.uzip.sha256"
sha=$(cut -d' ' -f1 "$O/netboot/rootfs.uzip.sha256")
hsha=$(sha256sum "$O/netboot/rootfs.uzip.hashes" | cut -d' ' -f1)
check "netboot: boot.ipxe boots lazily, live.sha256 pins rootfs.uzip.hashes" \
    sh -c "head -n 1 '$O/netboot/boot.ipxe' | grep -qx '#!ipxe' && grep -q 'live.url=http://10.0.2.100/rootfs.uzip live.fetch=lazy live.sha256=$hsha' '$O/netboot/boot.ipxe'"
check "netboot: boot-full.ipxe fetches the image whole, live.sha256 of rootfs.uzip" \
    sh -c "head -n 1 '$O/netboot/boot-full.ipxe' | grep -qx '#!ipxe' && grep -q 'live.url=http://10.0.2.100/rootfs.uzip live.fetch=full live.sha256=$sha' '$O/netboot/boot-full.ipxe'"
check "netboot: no PVH vmlinux (a QEMU test convenience, not for users)" test ! -e "$O/netboot/vmlinux"
check "netboot: boot.ipxe forces no console=ttyS0 without --serial" sh -c "! grep -q console= '$O/netboot/boot.ipxe'"
for f in vmlinuz initramfs.img rootfs.uzip rootfs.uzip.hashes; do
	check "netboot: $f" test -s "$O/netboot/$f"
done
check "rootfs.uzip.hashes: uzip check --hashes passes" "$LIVEROOT" uzip \
    check -q --hashes "$O/rootfs.uzip.hashes" "$O/rootfs.uzip"
check "netboot: rootfs.uzip.hashes is OUT's" \
    cmp "$O/rootfs.uzip.hashes" "$O/netboot/rootfs.uzip.hashes"

# reproducible initramfs; gzip variant
"$LIVEROOT" mklive --initramfs-only --init "$INIT" --kernel-dir "$KDIR" -o "$T/a" > /dev/null 2>&1
"$LIVEROOT" mklive --initramfs-only --init "$INIT" --kernel-dir "$KDIR" -o "$T/b" > /dev/null 2>&1
check "two initramfs builds are byte-identical" cmp "$T/a/initramfs.img" "$T/b/initramfs.img"
check "--initramfs-only builds no ISO" test ! -e "$T/a/live.iso"
"$LIVEROOT" mklive --initramfs-only --compress gzip --init "$INIT" --kernel-dir "$KDIR" -o "$T/g" > /dev/null 2>&1
check "--compress gzip gives a valid gzip stream" gzip -t "$T/g/initramfs.img"

# errors: exit status 2 and a message that names the problem
expect_err() {
	# expect_err WHAT PATTERN ARGS...
	w=$1
	p=$2
	shift 2
	"$LIVEROOT" mklive "$@" > "$T/eo" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -q -- "$p" "$T/eo"; then ok "$w"; else bad "$w (exit $rc)"; cat "$T/eo"; fi
}
expect_err "no tree: usage error" "no TREE given" --kernel-dir "$KDIR" --init "$INIT"
expect_err "a tree that is not a directory" "not a directory" --kernel-dir "$KDIR" --init "$INIT" -o "$T/e" "$T/nonexistent"
expect_err "a label over 32 characters" "1 to 32 characters" -L 0123456789012345678901234567890123 --kernel-dir "$KDIR" --init "$INIT" -o "$T/e" "$T/tree"
expect_err "an unknown codec" "one of zstd, zlib, lzma" -A lz4 --kernel-dir "$KDIR" --init "$INIT" -o "$T/e" "$T/tree"
expect_err "a bad --free" "not a size" --free lots --kernel-dir "$KDIR" --init "$INIT" -o "$T/ef" "$T/tree"
check "a bad --free is refused before any work (no initramfs.img)" test ! -e "$T/ef/initramfs.img"
expect_err "no busybox: names busybox-static" "busybox-static" --busybox "$T/no-busybox" --kernel-dir "$KDIR" --init "$INIT" -o "$T/e" "$T/tree"
expect_err "no kernel cache: names scripts/kernel.sh" "scripts/kernel.sh" --kernel-dir "$T/tree" --init "$INIT" -o "$T/e" "$T/tree"
expect_err "no init binary" "liveroot-init" --kernel-dir "$KDIR" --init "$T/no-init" -o "$T/e" "$T/tree"
check "--help prints the usage" sh -c "'$LIVEROOT' mklive --help | grep -q 'usage: liveroot mklive'"

# The netboot checksum is libcrypto's: a PATH without sha256sum will do.
mkdir -p "$T/nosha"
for f in /usr/bin/* /bin/* /usr/sbin/* /sbin/*; do
	[ "${f##*/}" = sha256sum ] || ln -sf "$f" "$T/nosha/" 2>/dev/null
done
if PATH=$T/nosha "$LIVEROOT" mklive -q --free 1M --init "$INIT" --kernel-dir "$KDIR" \
    -o "$T/nosha-out" "$T/tree" > "$T/nosha.err" 2>&1; then
	check "no sha256sum needed: the netboot hash is rootfs.uzip's" \
	    sh -c "cd '$T/nosha-out/netboot' && sha256sum -c rootfs.uzip.sha256"
else
	bad "no sha256sum needed: mklive failed"
	cat "$T/nosha.err"
fi

# SIGTERM while rootfs.uzip is written: the partial image is removed and
# mklive ends by the signal (the verb arms uzip_write's cleanup).
mkdir -p "$T/big"
cp -a "$T/tree/." "$T/big/"
head -c 50331648 /dev/urandom > "$T/big/random.bin"
"$LIVEROOT" mklive -v -A lzma --init "$INIT" --kernel-dir "$KDIR" -o "$T/sig" \
    "$T/big" > /dev/null 2> "$T/sig.err" &
pid=$!
i=0
while ! grep -q "compressing" "$T/sig.err" 2>/dev/null && [ $i -lt 1200 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.5
kill -TERM "$pid"
wait "$pid"
st=$?
check "SIGTERM during rootfs.uzip ends mklive by the signal (status $st)" test "$st" -gt 128
check "SIGTERM during rootfs.uzip leaves no partial rootfs.uzip" \
    sh -c "! ls -a '$T/sig' | grep -q '^rootfs\.uzip'"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
