#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/boot/run.sh [--check] [BUILDDIR] - boot times of a live system in QEMU (TCG),
# liveroot beside dracut's dmsquash-live: the same Debian kernel, the same
# root content, the same machine.  Not a test: it prints a table.
#
#   liveroot: initramfs of `liveroot mklive`, rootfs.uzip (zstd) in an ISO
#   dracut:   `dracut --no-hostonly -a dmsquash-live` with the same kernel's
#             modules; the same ext4 image as LiveOS/rootfs.img inside a
#             squashfs (zstd) in an ISO; root=live:CDLABEL=...
#
# Two roots: the example (examples/tiny-root, a few MB of busybox) and a
# realistic one, `debootstrap --variant=minbase bookworm` (cached in
# $W/minbase-bookworm, so only the first run downloads), booted with
# bench/boot/init.sh as live.init= / init= (no systemd in the live system);
# and that of tests/e2e/systemd.sh, `debootstrap --variant=minbase
# --include=systemd-sysv,udev bookworm` (its cache,
# $LIVEROOT_CACHE/minbase-systemd-bookworm, default REPO/cache, made the
# same way when missing), booting systemd, with a unit after
# multi-user.target (bench/boot/liveroot-bench.service) printing the marker.
# Rows (ROWS selects a subset; default all):
#   cd-lr cd-dr        tiny root, ISO as a CD
#   usb-lr usb-dr      tiny root, ISO dd'd to a USB stick (xhci)
#   pre-lr             tiny root, rootfs.uzip inside liveroot's initramfs
#   http-lr http-dr    tiny root over HTTP: a private nginx on loopback reached
#                      through QEMU user networking + guestfwd (as tests/e2e);
#                      liveroot live.url=.../rootfs.uzip into RAM, dracut
#                      livenet root=live:http://.../squashfs.img (its own
#                      initramfs with dracut-network's modules)
#   mb-lr mb-dr        minbase root, ISO as a CD
#   sd-lr sd-dr        minbase+systemd root, ISO as a CD, 1024 MiB guest (as
#                      the systemd e2e): hand-off = the live root's systemd
#                      starts (its UserspaceTimestampMonotonic), marker =
#                      multi-user.target reached (bench/boot/systemd-marker.sh)
#   fw-bios-lr fw-bios-dr  tiny root, the ISO as a CD booted by SeaBIOS and
#                      GRUB (no -kernel): liveroot's own ISO (mklive
#                      --serial), and the same ISO with dracut's initramfs
#                      and LiveOS/squashfs.img in place of liveroot's
#                      initramfs and rootfs.uzip (fw_isos below)
#   fw-uefi-lr fw-uefi-dr  the same two ISOs booted by OVMF (q35, no Secure
#                      Boot) through shim and GRUB
# Each row boots N times (BOOTS, default 5) and takes the median of the
# kernel's uptime (so "from the kernel's first line") at two points the live
# system's init prints: when it started (the hand-off) and when it proved the
# root writable (the marker).  The fw-* rows measure from QEMU's start
# instead, by the wall clock (the kernel's uptime does not see the firmware
# and GRUB): the marker is when the script saw the marker line on the serial
# console (polled every 0.05 s), the hand-off that minus the guest's uptime
# between hand-off and marker, and their "pre-kernel" column the hand-off
# minus the guest's uptime at the hand-off (firmware, GRUB, and GRUB reading
# the kernel and initramfs).  The "init" column is liveroot-init's own time
# from the exec of /init to switch_root, its "liveroot: init N s" line (or,
# from a liveroot-init that prints none, the uptime stamps of its "starting"
# and "handing over to" lines, marked *); "-" for dracut.  A boot that does
# not print the marker within
# BOOT_TIMEOUT s (default 180) is stopped and left out of the medians; the
# row names it in its "failed:" column and the script exits 1 after the
# table.  Every boot's transcript stays in $W/NAME.I.log.  Every command that
# builds what is booted is checked: a failure stops the script, naming it and
# the end of its stderr (exit 1).  Needs dracut-core, dracut-live,
# dracut-network and debootstrap (a run installs them with
# scripts/install-deps.sh --bench; --check only reports them), and root
# (debootstrap, and the image trees are root-owned).
set -u
BENCH=boot
SRC=$(cd "$(dirname "$0")/../.." && pwd)
top=$SRC
ALLROWS="cd-lr cd-dr usb-lr usb-dr pre-lr http-lr http-dr mb-lr mb-dr sd-lr sd-dr fw-bios-lr fw-bios-dr fw-uefi-lr fw-uefi-dr"
USAGE="env: BOOTS (boots per row, default 5), BOOT_TIMEOUT (s, 180),
     ROWS (default \"$ALLROWS\"),
     SUITE (bookworm), DEBIAN_MIRROR, LIVEROOT_BENCH_DIR (/tmp/liveroot-bench-boot),
     LIVEROOT_CACHE (REPO/cache: the minbase+systemd tree of rows sd-*)"
. "$SRC/bench/lib.sh"
. "$SRC/scripts/nginx_lib.sh"
bench_args "$@"
LIVEROOT=$L
INIT=$BUILD/cmd/liveroot-init
BOOTS=${BOOTS:-5}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}
N=$BOOTS
TMO=$BOOT_TIMEOUT
ROWS=${ROWS:-$ALLROWS}
SUITE=${SUITE:-bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
W=${LIVEROOT_BENCH_DIR:-/tmp/liveroot-bench-boot}
CACHE=${LIVEROOT_CACHE:-$SRC/cache}

want() {
	case " $ROWS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# Known rows only; any dracut row needs dracut (and its base initramfs)
need_dracut=0
need_fw=0
for r in $ROWS; do
	case " $ALLROWS " in
	*" $r "*) ;;
	*) bench_err "ROWS: unknown row '$r' (rows: $ALLROWS)" ;;
	esac
	case $r in
	*-dr) need_dracut=1 ;;
	esac
	case $r in
	fw-*) need_fw=1 ;;
	esac
done

bench_knob BOOTS 1
bench_knob BOOT_TIMEOUT 1
bench_need_exe "$LIVEROOT" "$INIT"
bench_need_tool qemu-system-x86_64=qemu-system-x86 xorriso=xorriso \
    mksquashfs=squashfs-tools nginx=nginx-light socat=socat curl=curl
[ -r /usr/share/qemu/qboot.rom ] ||
    bench_err "/usr/share/qemu/qboot.rom is missing: install the Debian package qemu-system-data (scripts/install-deps.sh)"
# the fw-* rows: SeaBIOS (QEMU's default -M pc firmware) and OVMF
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
fwcheck=""
if [ $need_fw = 1 ]; then
	[ -r /usr/share/seabios/bios-256k.bin ] ||
	    bench_err "/usr/share/seabios/bios-256k.bin is missing (the fw-bios rows boot SeaBIOS): install the Debian package seabios (scripts/install-deps.sh)"
	for f in "$OVMF_CODE" "$OVMF_VARS"; do
		[ -r "$f" ] ||
		    bench_err "$f is missing (the fw-uefi rows boot OVMF): install the Debian package ovmf (scripts/install-deps.sh)"
	done
	fwcheck="firmware: SeaBIOS, $OVMF_CODE"
fi
if [ "$CHECK" = 1 ]; then
	later=""
	for t in dracut debootstrap; do
		command -v "$t" >/dev/null 2>&1 || later="$later $t"
	done
	sdcheck=""
	if want sd-lr || want sd-dr; then
		sdcheck="minbase+systemd tree: $CACHE/minbase-systemd-bookworm (missing: a run makes it with debootstrap)"
		[ ! -f "$CACHE/minbase-systemd-bookworm.complete" ] ||
		    sdcheck="minbase+systemd tree: $CACHE/minbase-systemd-bookworm (cached)"
	fi
	bench_checked "liveroot $LIVEROOT" "liveroot-init $INIT" \
	    "tools: qemu-system-x86_64 xorriso mksquashfs nginx socat curl qboot.rom" \
	    "rows: $ROWS" "$fwcheck" "$sdcheck" \
	    "${later:+bench packages:$later not installed yet (a run installs them: scripts/install-deps.sh --bench)}"
fi
mkdir -p "$W" || bench_err "cannot create LIVEROOT_BENCH_DIR=$W"

st=0
sh "$top/scripts/install-deps.sh" --bench >&2 || st=$?
[ "$st" = 0 ] || bench_err "scripts/install-deps.sh --bench failed (exit $st), its output is above"
bench_run "scripts/kernel.sh" sh "$top/scripts/kernel.sh" >"$W/kernel.env"
# shellcheck source=/dev/null
. "$W/kernel.env"
[ -n "${VMLINUX:-}" ] && [ -f "$VMLINUX" ] && [ -n "${KVER:-}" ] && [ -d "${MODULES:-}" ] ||
    bench_die "scripts/kernel.sh printed no usable VMLINUX/KVER/MODULES: $(cat "$W/kernel.env")"
KDIR=$(dirname "$VMLINUX")

pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 2' INT TERM

echo "bench/boot: building the images in $W" >&2
bench_run "examples/tiny-root/build.sh" sh "$top/examples/tiny-root/build.sh" "$W/tree" >&2
# --serial --cmdline quiet: the GRUB menu of the fw-* rows; the -kernel
# rows pass their own command line and do not read it
bench_run "liveroot mklive (tiny root)" "$LIVEROOT" mklive --keep-ext4 \
    --serial --cmdline quiet \
    --init "$INIT" --kernel-dir "$KDIR" -o "$W/lr" "$W/tree" > /dev/null
bench_run "cp live.iso (USB stick)" cp "$W/lr/live.iso" "$W/lr-stick.img"
bench_run "truncate (USB stick)" truncate -s %1M "$W/lr-stick.img"
mkdir -p "$W/pre"
bench_run "cp rootfs.uzip (preload)" cp "$W/lr/rootfs.uzip" "$W/pre/"
bench_run "liveroot mklive --initramfs-only (preload)" "$LIVEROOT" mklive \
    --initramfs-only --init "$INIT" --kernel-dir "$KDIR" \
    --extra-initramfs "$W/pre" -o "$W/lr-pre" > /dev/null

# The realistic root: debootstrap once per suite, then reuse the tree.
mb=$W/minbase-$SUITE
if want mb-lr || want mb-dr; then
	if [ ! -f "$mb.complete" ]; then
		echo "bench/boot: debootstrap --variant=minbase $SUITE (once; log $W/debootstrap.log)" >&2
		rm -rf "$mb" "$mb.tmp"
		st=0
		debootstrap --variant=minbase "$SUITE" "$mb.tmp" "$MIRROR" > "$W/debootstrap.log" 2>&1 || st=$?
		[ "$st" = 0 ] || bench_fail "debootstrap --variant=minbase $SUITE (log $W/debootstrap.log)" "$st" "$W/debootstrap.log"
		rm -f "$mb.tmp"/var/cache/apt/archives/*.deb
		bench_run "mv $mb.tmp $mb" mv "$mb.tmp" "$mb"
		touch "$mb.complete"
	fi
	bench_run "install bench/boot/init.sh" install -m 0755 "$top/bench/boot/init.sh" "$mb/sbin/liveroot-bench-init"
	bench_run "liveroot mklive (minbase root)" "$LIVEROOT" mklive --keep-ext4 \
	    --init "$INIT" --kernel-dir "$KDIR" -o "$W/lr-mb" "$mb" > /dev/null
fi

# The minbase+systemd root: tests/e2e/systemd.sh's cached tree (made the
# same way, under the same lock, when missing; the suite is the e2e's),
# copied, with the marker unit added; systemd boots it (no live.init=).
sd=$CACHE/minbase-systemd-bookworm
if want sd-lr || want sd-dr; then
	mkdir -p "$CACHE" || bench_die "cannot create LIVEROOT_CACHE=$CACHE"
	exec 7> "$CACHE/minbase-systemd.lock"
	flock 7
	if [ ! -f "$sd.complete" ]; then
		echo "bench/boot: debootstrap --variant=minbase --include=systemd-sysv,udev bookworm (once per machine; log $sd.log)" >&2
		rm -rf "$sd" "$sd.tmp"
		st=0
		debootstrap --variant=minbase --include=systemd-sysv,udev \
		    bookworm "$sd.tmp" "$MIRROR" > "$sd.log" 2>&1 || st=$?
		[ "$st" = 0 ] || bench_fail "debootstrap of the minbase+systemd root (log $sd.log)" "$st" "$sd.log"
		rm -f "$sd.tmp"/var/cache/apt/archives/*.deb
		bench_run "mv $sd.tmp $sd" mv "$sd.tmp" "$sd"
		touch "$sd.complete"
	fi
	flock -u 7
	rm -rf "$W/sd-tree"
	bench_run "cp -a $sd" cp -a "$sd" "$W/sd-tree"
	bench_run "install bench/boot/systemd-marker.sh" install -m 0755 \
	    "$top/bench/boot/systemd-marker.sh" "$W/sd-tree/usr/local/sbin/liveroot-bench-marker"
	bench_run "install bench/boot/liveroot-bench.service" install -m 0644 \
	    "$top/bench/boot/liveroot-bench.service" "$W/sd-tree/etc/systemd/system/liveroot-bench.service"
	mkdir -p "$W/sd-tree/etc/systemd/system/multi-user.target.wants"
	bench_run "enable liveroot-bench.service" ln -sf ../liveroot-bench.service \
	    "$W/sd-tree/etc/systemd/system/multi-user.target.wants/liveroot-bench.service"
	bench_run "liveroot mklive (minbase+systemd root)" "$LIVEROOT" mklive --keep-ext4 \
	    --init "$INIT" --kernel-dir "$KDIR" -o "$W/lr-sd" "$W/sd-tree" > /dev/null
	rm -rf "$W/sd-tree"
fi

# dracut_iso EXT4 DIR: DIR/squashfs.img (LiveOS/rootfs.img inside) and
# DIR/live.iso (LiveOS/squashfs.img, label LIVEDRACUT)
dracut_iso() {
	rm -rf "$2"
	mkdir -p "$2/iso/LiveOS" "$2/sq/LiveOS" || bench_die "cannot create $2"
	bench_run "cp rootfs.img (dracut, $2)" cp "$1" "$2/sq/LiveOS/rootfs.img"
	bench_run "mksquashfs (dracut, $2)" mksquashfs "$2/sq" "$2/squashfs.img" \
	    -comp zstd -noappend -quiet > /dev/null
	rm -rf "$2/sq"
	bench_run "ln squashfs.img (dracut, $2)" ln "$2/squashfs.img" "$2/iso/LiveOS/squashfs.img"
	bench_run "xorriso (dracut, $2)" xorriso -as mkisofs -quiet -R -J \
	    -V LIVEDRACUT -o "$2/live.iso" "$2/iso"
}

# dracut_initramfs OUT MODULES DRIVERS
dracut_initramfs() {
	st=0
	dracut --quiet --force --no-hostonly --kver "$KVER" --kmoddir "$MODULES" \
	    --add "$2" --omit "plymouth" --add-drivers "$3" \
	    --compress zstd "$1" > "$1.log" 2>&1 || st=$?
	[ "$st" = 0 ] || bench_fail "dracut --add '$2' (log $1.log)" "$st" "$1.log"
}

# The dracut side is built only when a dracut row is wanted, and then it
# must build: install-deps.sh --bench above installed it.
have_dracut=0
have_drnet=0
drv="virtio_pci virtio_blk ata_piix sr_mod sd_mod cdrom isofs squashfs loop dm_mod dm_snapshot overlay ext4 xhci_pci usb_storage"
if [ $need_dracut = 1 ]; then
	command -v dracut > /dev/null 2>&1 && [ -d /usr/lib/dracut/modules.d/90dmsquash-live ] ||
	    bench_err "dracut rows wanted but dracut's dmsquash-live is not installed: install dracut-core and dracut-live (scripts/install-deps.sh --bench), or set ROWS to liveroot rows only"
	mkdir -p "$W/dr"
	dracut_iso "$W/lr/rootfs.ext4" "$W/dr"
	bench_run "cp live.iso (dracut USB stick)" cp "$W/dr/live.iso" "$W/dr-stick.img"
	bench_run "truncate (dracut USB stick)" truncate -s %1M "$W/dr-stick.img"
	dracut_initramfs "$W/dr/initramfs.img" dmsquash-live "$drv"
	if want mb-dr; then
		dracut_iso "$W/lr-mb/rootfs.ext4" "$W/dr-mb"
	fi
	if want sd-dr; then
		dracut_iso "$W/lr-sd/rootfs.ext4" "$W/dr-sd"
	fi
	have_dracut=1
fi
if want http-dr; then
	[ -d /usr/lib/dracut/modules.d/90livenet ] && [ -d /usr/lib/dracut/modules.d/35network-legacy ] ||
	    bench_err "row http-dr wanted but dracut's livenet or network-legacy module is not installed: install dracut-network (scripts/install-deps.sh --bench)"
	# network-legacy (dhclient), not dracut 059's default systemd-networkd
	# handler here: that one brings the link up but never runs the
	# initqueue/online hooks, so livenet's netroot never fetches
	dracut_initramfs "$W/dr/initramfs-net.img" "dmsquash-live livenet network-legacy" \
	    "$drv virtio_net e1000 af_packet"
	have_drnet=1
fi

# The fw-* rows' two ISOs, $W/fw/lr.iso and $W/fw/dr.iso, both made here
# the same way from the files of liveroot's $W/lr/live.iso (mklive --serial
# --cmdline quiet): the same GRUB (El Torito i386-pc image, hybrid MBR, and
# the ESP with shim and GRUB), kernel, grub.cfg and xorriso options, so only
# the initramfs and the root image differ.  The boot options are xorriso's
# own report of live.iso (-report_el_torito as_mkisofs: the MBR and the ESP
# are read from live.iso as intervals), the file-system ones mklive's (-r -J
# -joliet-long).  Both grub.cfg get "set timeout=0" (GRUB's menu wait is not
# measured); dracut's ISO has its initramfs, LiveOS/squashfs.img (the same
# ext4 image as rootfs.uzip) instead of /rootfs.uzip, and
# "root=live:CDLABEL=LABEL rd.live.image rd.shell=0" where liveroot's
# entries pass live.label=LABEL (the console= and quiet stay).
# fw_iso DIR OUT: the ISO OUT of the files in DIR, booting as live.iso
fw_iso() {
	_fwd=$1 _fwo=$2
	eval "set -- $(tr '\n' ' ' < "$W/fw/boot-opts")"
	bench_run "xorriso (rebuild $_fwo)" xorriso -as mkisofs -quiet -r -J \
	    -joliet-long "$@" -o "$_fwo" "$_fwd" > /dev/null
}
fw_isos() {
	_src=$W/lr/live.iso
	rm -rf "$W/fw"
	mkdir -p "$W/fw" || bench_die "cannot create $W/fw"
	bench_run "xorriso -report_el_torito ($_src)" xorriso -indev "$_src" \
	    -report_el_torito as_mkisofs > "$W/fw/boot-opts"
	grep -q '^-b ' "$W/fw/boot-opts" && grep -q '^-e ' "$W/fw/boot-opts" ||
	    bench_die "$_src has no BIOS and UEFI El Torito images (xorriso -report_el_torito as_mkisofs: $(tr '\n' ' ' < "$W/fw/boot-opts")): the fw-* rows need mklive's hybrid ISO"
	_label=$(sed -n "s/^-V '\(.*\)'\$/\1/p" "$W/fw/boot-opts")
	[ -n "$_label" ] || bench_die "no volume label (-V) in xorriso's report of $_src"
	bench_run "xorriso -osirrox (extract $_src)" xorriso -osirrox on \
	    -indev "$_src" -extract / "$W/fw/lr-tree"
	bench_run "chmod (extracted tree)" chmod -R u+w "$W/fw/lr-tree"
	rm -f "$W/fw/lr-tree/boot.catalog"
	_cfg=boot/grub/grub.cfg
	bench_run "sed timeout=0 (grub.cfg)" sed -i 's/^set timeout=.*/set timeout=0/' "$W/fw/lr-tree/$_cfg"
	grep -q '^set timeout=0$' "$W/fw/lr-tree/$_cfg" ||
	    bench_die "$_src: its $_cfg has no 'set timeout=' line to set to 0"
	grep -q "live\.label=$_label " "$W/fw/lr-tree/$_cfg" ||
	    bench_die "$_src: its $_cfg passes no live.label=$_label"
	fw_iso "$W/fw/lr-tree" "$W/fw/lr.iso"
	[ $have_dracut = 1 ] || return 0
	bench_run "cp -a (dracut's ISO tree)" cp -a "$W/fw/lr-tree" "$W/fw/dr-tree"
	rm -f "$W/fw/dr-tree/rootfs.uzip"
	mkdir -p "$W/fw/dr-tree/LiveOS" || bench_die "cannot create $W/fw/dr-tree/LiveOS"
	bench_run "ln squashfs.img (dracut, fw)" ln "$W/dr/squashfs.img" "$W/fw/dr-tree/LiveOS/squashfs.img"
	bench_run "cp initramfs.img (dracut, fw)" cp "$W/dr/initramfs.img" "$W/fw/dr-tree/boot/initramfs.img"
	bench_run "sed root=live: (dracut's grub.cfg)" sed -i \
	    "s/live\.label=$_label /root=live:CDLABEL=$_label rd.live.image rd.shell=0 /" \
	    "$W/fw/dr-tree/$_cfg"
	! grep -q 'live\.label=' "$W/fw/dr-tree/$_cfg" ||
	    bench_die "dracut's $_cfg still passes live.label="
	fw_iso "$W/fw/dr-tree" "$W/fw/dr.iso"
}
# dracut's only when a dracut row is wanted (have_dracut)
if [ $need_fw = 1 ]; then
	fw_isos
fi

# The HTTP server: nginx on a free loopback port serving $W/www; the guest
# reaches it at 10.0.2.100:80 through a guestfwd running socat.
port=""
if want http-lr || want http-dr; then
	mkdir -p "$W/www" "$W/nginx/tmp"
	rm -f "$W/www/"*
	ln "$W/lr/rootfs.uzip" "$W/www/rootfs.uzip"
	[ -f "$W/dr/squashfs.img" ] && ln "$W/dr/squashfs.img" "$W/www/squashfs.img"
	port=$(nginx_free_ports $((21000 + $$ % 20000)) 50 1)
	[ -n "$port" ] || bench_die "no free loopback port for nginx in $((21000 + $$ % 20000))..+50"
	{ nginx_conf_head "$W/nginx"; cat <<NGX; } > "$W/nginx/nginx.conf"
	sendfile on;
	server {
		listen 127.0.0.1:$port;
		root $W/www;
	}
}
NGX
	nginx -e "$W/nginx/error.log" -p "$W/nginx" -c "$W/nginx/nginx.conf" -g 'daemon off;' \
	    2>"$W/nginx/stderr.log" &
	pids="$pids $!"
	i=0
	until curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:$port/rootfs.uzip"; do
		i=$((i + 1))
		if [ $i -ge 50 ]; then
			cat "$W/nginx/stderr.log" >> "$W/nginx/error.log"
			bench_die "nginx on 127.0.0.1:$port served no rootfs.uzip within 5 s: $(tail -n 5 "$W/nginx/error.log")"
		fi
		sleep 0.1
	done
fi
# the -netdev value (one word: the guestfwd command has spaces)
netdev() {
	echo "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:socat -lf $W/socat.log STDIO TCP:127.0.0.1:$port"
}

# boot_wait LOG PID: wait until the boot printed its marker, halted, or ran
# past BOOT_TIMEOUT (polling every 0.05 s), then stop QEMU.  Sets MARK_AT to
# the wall clock (date +%s.%N) when the marker line was first seen ("" if
# never) and UPTIMES to the guest's "init writable" uptimes ("" if none).
boot_wait() {
	_end=$(($(date +%s) + TMO))
	MARK_AT=""
	while kill -0 "$2" 2>/dev/null; do
		if [ -z "$MARK_AT" ] && grep -aq "LIVEROOT-MARKER: uptime" "$1"; then
			MARK_AT=$(date +%s.%N)
		fi
		grep -aqE "LIVEROOT-MARKER: powering off|liveroot: halted|System halted|Kernel panic" "$1" && break
		[ "$(date +%s)" -lt "$_end" ] || break
		sleep 0.05
	done
	# QEMU ended between two looks: the marker came at most then
	[ -n "$MARK_AT" ] || ! grep -aq "LIVEROOT-MARKER: uptime" "$1" ||
	    MARK_AT=$(date +%s.%N)
	sleep 0.5
	kill "$2" 2>/dev/null
	wait "$2" 2>/dev/null
	UPTIMES=$(LC_ALL=C sed -n 's/.*LIVEROOT-MARKER: uptime init=\([0-9.]*\) writable=\([0-9.]*\).*/\1 \2/p' "$1" | head -n 1)
}

# init_time LOG: liveroot-init's own time (s), from its "liveroot: init N s"
# line; from a liveroot-init that prints none, the uptime stamps of its
# "liveroot-init ... starting" and "handing over to" lines, marked "*";
# "-" when the transcript has neither (dracut)
init_time() {
	_v=$(LC_ALL=C sed -n 's/.*liveroot: init \([0-9][0-9.]*\) s.*/\1/p' "$1" | tail -n 1)
	if [ -n "$_v" ]; then
		echo "$_v"
		return
	fi
	_a=$(LC_ALL=C sed -n 's/.*\[ *\([0-9][0-9.]*\)\] liveroot: liveroot-init .* starting.*/\1/p' "$1" | head -n 1)
	_b=$(LC_ALL=C sed -n 's/.*\[ *\([0-9][0-9.]*\)\] liveroot: handing over to .*/\1/p' "$1" | head -n 1)
	if [ -n "$_a" ] && [ -n "$_b" ]; then
		awk -v a="$_a" -v b="$_b" 'BEGIN { printf "%.2f*\n", b - a }'
	else
		echo "-"
	fi
}

# boot_k NAME INITRD APPEND QEMU-ARGS...: the kernel straight from QEMU
# (qboot, -kernel); prints "HAND-OFF MARKER INIT -", the guest's uptimes, or
# nothing for a boot that never printed the marker
boot_k() {
	name=$1 initrd=$2 append=$3
	shift 3
	log=$W/$name.log
	: > "$log"
	qemu-system-x86_64 -accel tcg -m "$qmem" -nodefaults -no-reboot \
	    -display none -serial stdio -M pc "$@" \
	    -bios /usr/share/qemu/qboot.rom -kernel "$VMLINUX" -initrd "$initrd" \
	    -append "console=ttyS0 quiet $append" < /dev/null > "$log" 2>&1 &
	boot_wait "$log" $!
	[ -n "$UPTIMES" ] || return 0
	echo "$UPTIMES $(init_time "$log") -"
}

# boot_fw NAME bios|uefi ISO: the ISO as a CD through SeaBIOS (-M pc) or
# OVMF (-M q35, a fresh copy of its variable store each boot), GRUB and the
# menu's default entry; prints "HAND-OFF MARKER INIT PRE" with HAND-OFF and
# MARKER in wall-clock s from QEMU's start and PRE the part of HAND-OFF
# before the kernel's clock started (firmware and GRUB: HAND-OFF minus the
# guest's uptime at the hand-off), or nothing as boot_k
boot_fw() {
	name=$1
	log=$W/$name.log
	if [ "$2" = uefi ]; then
		bench_run "cp $OVMF_VARS" cp "$OVMF_VARS" "$W/$name.vars.fd"
		set -- "$3" -M q35 \
		    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
		    -drive "if=pflash,format=raw,unit=1,file=$W/$name.vars.fd"
	else
		set -- "$3" -M pc
	fi
	iso=$1
	shift
	: > "$log"
	t0=$(date +%s.%N)
	qemu-system-x86_64 -accel tcg -m 512 -nodefaults -no-reboot \
	    -display none -serial stdio "$@" -cdrom "$iso" \
	    < /dev/null > "$log" 2>&1 &
	boot_wait "$log" $!
	rm -f "$W/$name.vars.fd"
	[ -n "$UPTIMES" ] && [ -n "$MARK_AT" ] || return 0
	echo "$t0 $MARK_AT $UPTIMES $(init_time "$log")" |
	    awk '{ m = $2 - $1; h = m - ($4 - $3); printf "%.2f %.2f %s %.2f\n", h, m, $5, h - $3 }'
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# row KEY LABEL BOOT ARGS...: N boots by BOOT (boot_k or boot_fw) NAME
# ARGS..., transcripts KEY.I.log, each boot's numbers in $W/KEY.times (a
# line "HAND-OFF MARKER INIT PRE-KERNEL" per boot that reached the marker),
# the medians of hand-off and marker in $W/KEY.h and $W/KEY.m
row() {
	key=$1 label=$2
	shift 2
	want "$key" || return 0
	: > "$W/times"
	i=1
	fails=""
	bootfn=$1
	shift
	while [ $i -le "$N" ]; do
		t=$("$bootfn" "$key.$i" "$@")
		if [ -n "$t" ]; then
			echo "$t" >> "$W/times"
		else
			fails="$fails $i"
		fi
		i=$((i + 1))
	done
	ok=$(grep -c . "$W/times")
	h=$(cut -d' ' -f1 "$W/times" | median)
	m=$(cut -d' ' -f2 "$W/times" | median)
	# init: the boots that have one; "*" if any came from the stamps
	it=$(cut -d' ' -f3 "$W/times" | grep -v '^-$' | tr -d '*' | median)
	if [ "$it" != - ] && cut -d' ' -f3 "$W/times" | grep -q '\*'; then
		it="$it*"
		stamps=1
	fi
	pre=$(cut -d' ' -f4 "$W/times" | grep -v '^-$' | median)
	printf '%-36s %10s %10s %8s %10s %6s%s\n' "$label" "$h" "$m" "$it" "$pre" "$ok/$N" "${fails:+  failed:$fails}"
	cp "$W/times" "$W/$key.times"
	echo "$h" > "$W/$key.h"
	echo "$m" > "$W/$key.m"
	nfailed=$((nfailed + N - ok))
}
nfailed=0
stamps=0
qmem=512

rm -f "$W"/*.h "$W"/*.m
printf '\nboot times under QEMU TCG, %s, median of %s boots (s)\n' "$KVER" "$N"
printf '%s, %s CPUs, load %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "hand-off, marker: the kernel's uptime (-kernel rows); from QEMU's start, wall clock (firmware rows)"
echo "init: liveroot-init, exec of /init to switch_root"
printf 'pre-kernel: firmware and GRUB, from QEMU start until the kernel clock starts (firmware rows)\n\n'
printf '%-36s %10s %10s %8s %10s %6s\n' "transport / initramfs" "hand-off" "marker" "init" "pre-kernel" "ok"
printf '%-36s %10s %10s %8s %10s %6s\n' "---------------------" "--------" "------" "----" "----------" "--"
usb_args() {
	echo "-device qemu-xhci,id=xhci -drive if=none,id=u,file=$1,format=raw,readonly=on -device usb-storage,bus=xhci.0,drive=u"
}
drlive="root=live:CDLABEL=LIVEDRACUT rd.live.image rd.shell=0"
# shellcheck disable=SC2086
row cd-lr "CD        liveroot" boot_k "$W/lr/initramfs.img" "" -cdrom "$W/lr/live.iso"
if [ $have_dracut = 1 ]; then
	row cd-dr "CD        dracut dmsquash-live" boot_k "$W/dr/initramfs.img" "$drlive" -cdrom "$W/dr/live.iso"
fi
# shellcheck disable=SC2046
row usb-lr "USB       liveroot" boot_k "$W/lr/initramfs.img" "" $(usb_args "$W/lr-stick.img")
if [ $have_dracut = 1 ]; then
	# shellcheck disable=SC2046
	row usb-dr "USB       dracut dmsquash-live" boot_k "$W/dr/initramfs.img" "$drlive" $(usb_args "$W/dr-stick.img")
fi
row pre-lr "preload   liveroot" boot_k "$W/lr-pre/initramfs.img" "live.timeout=5"
if [ -n "$port" ]; then
	row http-lr "HTTP      liveroot" boot_k "$W/lr/initramfs.img" \
	    "live.probe=net live.url=http://10.0.2.100/rootfs.uzip" \
	    -netdev "$(netdev)" -device virtio-net-pci,netdev=n0
	if [ $have_drnet = 1 ]; then
		row http-dr "HTTP      dracut livenet" boot_k "$W/dr/initramfs-net.img" \
		    "root=live:http://10.0.2.100/squashfs.img rd.live.image rd.neednet=1 ip=dhcp rd.shell=0" \
		    -netdev "$(netdev)" -device virtio-net-pci,netdev=n0
	fi
fi
if [ -f "$W/lr-mb/live.iso" ]; then
	row mb-lr "CD minbase liveroot" boot_k "$W/lr-mb/initramfs.img" \
	    "live.init=/sbin/liveroot-bench-init" -cdrom "$W/lr-mb/live.iso"
	if [ $have_dracut = 1 ] && [ -f "$W/dr-mb/live.iso" ]; then
		row mb-dr "CD minbase dracut dmsquash-live" boot_k "$W/dr/initramfs.img" \
		    "$drlive init=/sbin/liveroot-bench-init" -cdrom "$W/dr-mb/live.iso"
	fi
fi
if [ -f "$W/lr-sd/live.iso" ]; then
	qmem=1024
	row sd-lr "CD mb+systemd liveroot" boot_k "$W/lr-sd/initramfs.img" "" \
	    -cdrom "$W/lr-sd/live.iso"
	if [ $have_dracut = 1 ] && [ -f "$W/dr-sd/live.iso" ]; then
		row sd-dr "CD mb+systemd dracut dmsquash-live" boot_k "$W/dr/initramfs.img" \
		    "$drlive" -cdrom "$W/dr-sd/live.iso"
	fi
	qmem=512
fi
if [ $need_fw = 1 ]; then
	row fw-bios-lr "SeaBIOS CD liveroot" boot_fw bios "$W/fw/lr.iso"
	if [ $have_dracut = 1 ]; then
		row fw-bios-dr "SeaBIOS CD dracut dmsquash-live" boot_fw bios "$W/fw/dr.iso"
	fi
	row fw-uefi-lr "OVMF CD   liveroot" boot_fw uefi "$W/fw/lr.iso"
	if [ $have_dracut = 1 ]; then
		row fw-uefi-dr "OVMF CD   dracut dmsquash-live" boot_fw uefi "$W/fw/dr.iso"
	fi
fi
[ $stamps = 0 ] ||
    echo "init*: this liveroot-init prints no \"init N s\" line: from the uptime stamps of its \"starting\" and \"handing over to\" lines"

# ratio liveroot / dracut per transport: the hand-off of the -kernel rows,
# the marker from QEMU's start of the firmware rows
echo
for t in cd usb http mb sd fw-bios fw-uefi; do
	x=h what=hand-off
	case $t in
	fw-*) x=m what="marker from QEMU start" ;;
	esac
	a=$(cat "$W/$t-lr.$x" 2>/dev/null) b=$(cat "$W/$t-dr.$x" 2>/dev/null)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" != - ] && [ "$b" != - ] || continue
	awk -v t="$t" -v w="$what" -v a="$a" -v b="$b" 'BEGIN { printf "%-7s %s liveroot / dracut: %.2f / %.2f s = %.2f\n", t, w, a, b, a / b }'
	# minbase+systemd: the marker (multi-user.target reached) too
	[ "$t" = sd ] || continue
	a=$(cat "$W/sd-lr.m" 2>/dev/null) b=$(cat "$W/sd-dr.m" 2>/dev/null)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" != - ] && [ "$b" != - ] || continue
	awk -v a="$a" -v b="$b" 'BEGIN { printf "sd      multi-user.target liveroot / dracut: %.2f / %.2f s = %.2f\n", a, b, a / b }'
done
echo "transcripts: $W/KEY.I.log, each boot's numbers: $W/KEY.times"
[ "$nfailed" = 0 ] ||
    bench_die "$nfailed boots did not reach the marker within ${TMO} s (rows marked failed:, their medians leave them out): see $W/KEY.I.log"
