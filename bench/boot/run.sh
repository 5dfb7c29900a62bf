#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/boot/run.sh [BUILDDIR] - boot times of a live system in QEMU (TCG),
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
# bench/boot/init.sh as live.init= / init= (no systemd in the live system).
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
# Each row boots N times (BOOTS, default 5) and takes the median of the
# kernel's uptime (so "from the kernel's first line") at two points the live
# system's init prints: when it started (the hand-off) and when it proved the
# root writable (the marker).  A boot that does not print the marker within
# BOOT_TIMEOUT s (default 180) is stopped and left out of the medians.  Every
# boot's transcript stays in $W/NAME.I.log.  Needs dracut-core, dracut-live,
# dracut-network and debootstrap (scripts/install-deps.sh --bench), and root
# (debootstrap, and the image trees are root-owned).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${BUILDDIR:-$top/build}}
LIVEROOT=$build/cmd/liveroot
INIT=$build/cmd/liveroot-init
N=${BOOTS:-5}
TMO=${BOOT_TIMEOUT:-180}
ROWS=${ROWS:-"cd-lr cd-dr usb-lr usb-dr pre-lr http-lr http-dr mb-lr mb-dr"}
SUITE=${SUITE:-bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
W=${LIVEROOT_BENCH_DIR:-/tmp/liveroot-bench-boot}
mkdir -p "$W"
[ -x "$LIVEROOT" ] && [ -x "$INIT" ] || { echo "build first: $LIVEROOT, $INIT"; exit 2; }
sh "$top/scripts/install-deps.sh" --bench >&2 || exit 2
eval "$(sh "$top/scripts/kernel.sh")" || exit 2
KDIR=$(dirname "$VMLINUX")

want() {
	case " $ROWS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 2' INT TERM

echo "bench/boot: building the images in $W" >&2
sh "$top/examples/tiny-root/build.sh" "$W/tree" 2>/dev/null || exit 2
"$LIVEROOT" mklive --keep-ext4 --init "$INIT" --kernel-dir "$KDIR" -o "$W/lr" "$W/tree" > /dev/null || exit 2
cp "$W/lr/live.iso" "$W/lr-stick.img"
truncate -s %1M "$W/lr-stick.img"
mkdir -p "$W/pre"
cp "$W/lr/rootfs.uzip" "$W/pre/"
"$LIVEROOT" mklive --initramfs-only --init "$INIT" --kernel-dir "$KDIR" \
    --extra-initramfs "$W/pre" -o "$W/lr-pre" > /dev/null || exit 2

# The realistic root: debootstrap once per suite, then reuse the tree.
mb=$W/minbase-$SUITE
if want mb-lr || want mb-dr; then
	if [ ! -f "$mb.complete" ]; then
		echo "bench/boot: debootstrap --variant=minbase $SUITE (once; log $W/debootstrap.log)" >&2
		rm -rf "$mb" "$mb.tmp"
		debootstrap --variant=minbase "$SUITE" "$mb.tmp" "$MIRROR" > "$W/debootstrap.log" 2>&1 || {
			tail -n 20 "$W/debootstrap.log" >&2
			exit 2
		}
		rm -f "$mb.tmp"/var/cache/apt/archives/*.deb
		mv "$mb.tmp" "$mb" && touch "$mb.complete" || exit 2
	fi
	install -m 0755 "$top/bench/boot/init.sh" "$mb/sbin/liveroot-bench-init" || exit 2
	"$LIVEROOT" mklive --keep-ext4 --init "$INIT" --kernel-dir "$KDIR" -o "$W/lr-mb" "$mb" > /dev/null || exit 2
fi

# dracut_iso EXT4 DIR: DIR/squashfs.img (LiveOS/rootfs.img inside) and
# DIR/live.iso (LiveOS/squashfs.img, label LIVEDRACUT)
dracut_iso() {
	rm -rf "$2" && mkdir -p "$2/iso/LiveOS" "$2/sq/LiveOS" || return 1
	cp "$1" "$2/sq/LiveOS/rootfs.img" || return 1
	mksquashfs "$2/sq" "$2/squashfs.img" -comp zstd -noappend -quiet > /dev/null || return 1
	rm -rf "$2/sq"
	ln "$2/squashfs.img" "$2/iso/LiveOS/squashfs.img" || return 1
	xorriso -as mkisofs -quiet -R -J -V LIVEDRACUT -o "$2/live.iso" "$2/iso" 2>/dev/null
}

# dracut_initramfs OUT MODULES DRIVERS
dracut_initramfs() {
	dracut --quiet --force --no-hostonly --kver "$KVER" --kmoddir "$MODULES" \
	    --add "$2" --omit "plymouth" --add-drivers "$3" \
	    --compress zstd "$1" > "$1.log" 2>&1 || {
		cat "$1.log" >&2
		return 1
	}
}

have_dracut=0
drv="virtio_pci virtio_blk ata_piix sr_mod sd_mod cdrom isofs squashfs loop dm_mod dm_snapshot overlay ext4 xhci_pci usb_storage"
if command -v dracut > /dev/null 2>&1 && [ -d /usr/lib/dracut/modules.d/90dmsquash-live ] &&
    command -v mksquashfs > /dev/null 2>&1; then
	have_dracut=1
	mkdir -p "$W/dr"
	dracut_iso "$W/lr/rootfs.ext4" "$W/dr" || have_dracut=0
	cp "$W/dr/live.iso" "$W/dr-stick.img"
	truncate -s %1M "$W/dr-stick.img"
	dracut_initramfs "$W/dr/initramfs.img" dmsquash-live "$drv" || have_dracut=0
	if want mb-dr; then
		dracut_iso "$W/lr-mb/rootfs.ext4" "$W/dr-mb" || have_dracut=0
	fi
fi
have_drnet=0
if [ $have_dracut = 1 ] && want http-dr && [ -d /usr/lib/dracut/modules.d/90livenet ] &&
    [ -d /usr/lib/dracut/modules.d/35network-legacy ]; then
	# network-legacy (dhclient), not dracut 059's default systemd-networkd
	# handler here: that one brings the link up but never runs the
	# initqueue/online hooks, so livenet's netroot never fetches
	dracut_initramfs "$W/dr/initramfs-net.img" "dmsquash-live livenet network-legacy" \
	    "$drv virtio_net e1000 af_packet" && have_drnet=1
fi

# The HTTP server: nginx on a free loopback port serving $W/www; the guest
# reaches it at 10.0.2.100:80 through a guestfwd running socat.
port=""
if want http-lr || want http-dr; then
	mkdir -p "$W/www" "$W/nginx/tmp"
	rm -f "$W/www/"*
	ln "$W/lr/rootfs.uzip" "$W/www/rootfs.uzip"
	[ -f "$W/dr/squashfs.img" ] && ln "$W/dr/squashfs.img" "$W/www/squashfs.img"
	for p in $(seq $((21000 + $$ % 20000)) $((21000 + $$ % 20000 + 50))); do
		if ! grep -q ":$(printf '%04X' "$p") " /proc/net/tcp 2>/dev/null; then
			port=$p
			break
		fi
	done
	cat > "$W/nginx/nginx.conf" <<NGX
worker_processes 1;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 64; }
http {
	access_log $W/nginx/access.log;
	client_body_temp_path $W/nginx/tmp;
	proxy_temp_path $W/nginx/tmp;
	fastcgi_temp_path $W/nginx/tmp;
	default_type application/octet-stream;
	sendfile on;
	server {
		listen 127.0.0.1:$port;
		root $W/www;
	}
}
NGX
	nginx -e "$W/nginx/error.log" -p "$W/nginx" -c "$W/nginx/nginx.conf" -g 'daemon off;' &
	pids="$pids $!"
	i=0
	until curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:$port/rootfs.uzip"; do
		i=$((i + 1))
		[ $i -lt 50 ] || { cat "$W/nginx/error.log" >&2; port=""; break; }
		sleep 0.1
	done
fi
# the -netdev value (one word: the guestfwd command has spaces)
netdev() {
	echo "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:socat -lf $W/socat.log STDIO TCP:127.0.0.1:$port"
}

# boot NAME INITRD APPEND QEMU-ARGS...: prints "init writable" uptimes; a
# boot that halts (or runs past BOOT_TIMEOUT) is stopped and prints nothing
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
	while kill -0 "$qp" 2>/dev/null && [ $t -lt $((TMO * 5)) ]; do
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

# row KEY LABEL INITRD APPEND QEMU-ARGS...: N boots, transcripts KEY.I.log,
# the median hand-off in $W/KEY.h
row() {
	key=$1 label=$2
	shift 2
	want "$key" || return 0
	: > "$W/times"
	i=1
	fails=""
	while [ $i -le "$N" ]; do
		t=$(boot "$key.$i" "$@")
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
	printf '%-36s %10s %10s %6s%s\n' "$label" "$h" "$m" "$ok/$N" "${fails:+  failed:$fails}"
	echo "$h" > "$W/$key.h"
}

rm -f "$W"/*.h
printf '\nboot times under QEMU TCG, %s, median of %s boots (kernel uptime, s)\n' "$KVER" "$N"
printf '%s, %s CPUs, load %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-36s %10s %10s %6s\n' "transport / initramfs" "hand-off" "marker" "ok"
printf '%-36s %10s %10s %6s\n' "---------------------" "--------" "------" "--"
usb_args() {
	echo "-device qemu-xhci,id=xhci -drive if=none,id=u,file=$1,format=raw,readonly=on -device usb-storage,bus=xhci.0,drive=u"
}
drlive="root=live:CDLABEL=LIVEDRACUT rd.live.image rd.shell=0"
# shellcheck disable=SC2086
row cd-lr "CD        liveroot" "$W/lr/initramfs.img" "" -cdrom "$W/lr/live.iso"
if [ $have_dracut = 1 ]; then
	row cd-dr "CD        dracut dmsquash-live" "$W/dr/initramfs.img" "$drlive" -cdrom "$W/dr/live.iso"
fi
# shellcheck disable=SC2046
row usb-lr "USB       liveroot" "$W/lr/initramfs.img" "" $(usb_args "$W/lr-stick.img")
if [ $have_dracut = 1 ]; then
	# shellcheck disable=SC2046
	row usb-dr "USB       dracut dmsquash-live" "$W/dr/initramfs.img" "$drlive" $(usb_args "$W/dr-stick.img")
fi
row pre-lr "preload   liveroot" "$W/lr-pre/initramfs.img" "live.timeout=5"
if [ -n "$port" ]; then
	row http-lr "HTTP      liveroot" "$W/lr/initramfs.img" \
	    "live.probe=net live.url=http://10.0.2.100/rootfs.uzip" \
	    -netdev "$(netdev)" -device virtio-net-pci,netdev=n0
	if [ $have_drnet = 1 ]; then
		row http-dr "HTTP      dracut livenet" "$W/dr/initramfs-net.img" \
		    "root=live:http://10.0.2.100/squashfs.img rd.live.image rd.neednet=1 ip=dhcp rd.shell=0" \
		    -netdev "$(netdev)" -device virtio-net-pci,netdev=n0
	fi
fi
if [ -f "$W/lr-mb/live.iso" ]; then
	row mb-lr "CD minbase liveroot" "$W/lr-mb/initramfs.img" \
	    "live.init=/sbin/liveroot-bench-init" -cdrom "$W/lr-mb/live.iso"
	if [ $have_dracut = 1 ] && [ -f "$W/dr-mb/live.iso" ]; then
		row mb-dr "CD minbase dracut dmsquash-live" "$W/dr/initramfs.img" \
		    "$drlive init=/sbin/liveroot-bench-init" -cdrom "$W/dr-mb/live.iso"
	fi
fi
[ $have_dracut = 1 ] || echo "dracut: not measured (install dracut-core dracut-live and squashfs-tools)"

# hand-off ratio liveroot / dracut per transport
echo
for t in cd usb http mb; do
	a=$(cat "$W/$t-lr.h" 2>/dev/null) b=$(cat "$W/$t-dr.h" 2>/dev/null)
	case "$a$b" in
	*-* | "") continue ;;
	esac
	[ -n "$a" ] && [ -n "$b" ] || continue
	awk -v t="$t" -v a="$a" -v b="$b" 'BEGIN { printf "%-5s hand-off liveroot / dracut: %.2f / %.2f s = %.2f\n", t, a, b, a / b }'
done
echo "transcripts: $W/KEY.I.log"
