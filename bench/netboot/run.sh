#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/netboot/run.sh [--check] [BUILDDIR] - booting a root of more than 1
# GiB over HTTP in QEMU (TCG), over a 100 Mbit/s link: time from QEMU's
# start to the marker, and the bytes the guest fetched before it.  Not a
# test: it prints a table.
#
# The root: the minbase+systemd tree of tests/e2e/systemd.sh
# ($LIVEROOT_CACHE/minbase-systemd-bookworm, made as bench/boot makes it
# when missing) with /filler.bin (FILLER_MB MiB of random bytes, default
# 1024: incompressible, never read by the boot) and bench/fleet/marker.sh
# as a unit after multi-user.target; `liveroot mklive` of it, and for
# dracut the same ext4 image as LiveOS/rootfs.img in a zstd squashfs.
# Made once and cached in $LIVEROOT_CACHE/netboot/ (rm -rf it to rebuild;
# FILLER_MB or the marker changed: rebuilt).  liveroot's initramfs is made
# from this build's liveroot-init on every run.
#
# The link: a private nginx on loopback, reached by the guest at
# 10.0.2.100:80 through QEMU user networking (restrict=on) and a guestfwd
# running socat into bench/netboot/shaper.c, which relays to nginx and
# holds the server-to-guest bytes of all connections together to RATE
# bytes/s (default 12500000 = 100 Mbit/s; nginx's limit_rate would limit
# each connection alone).  The shaper counts the bytes it relayed: read at
# the marker, that is "bytes before the marker" (HTTP headers included).
#
# Rows (ROWS, default "lazy full dracut"):
#   lazy    liveroot, live.url=http://10.0.2.100/rootfs.uzip live.fetch=lazy
#           (the background fill on, at its default share)
#   share   the same with live.fetch.share=SHARE (default 25): the fill
#           transfers that share of the time
#   nopf    the same with live.fetch.prefetch=off: demand reads only
#   full    liveroot, live.fetch=full: the whole image into RAM first
#   dracut  dracut 059 livenet, root=live:http://10.0.2.100/squashfs.img
#           (bench/boot's initramfs: dmsquash-live livenet network-legacy)
# Each row boots BOOTS times (default 3); the marker is the wall clock from
# QEMU's start until the script saw "LIVEROOT-MARKER: uptime" on the serial
# console (polled every 0.05 s); QEMU is stopped right after.  A boot that
# does not reach the marker within BOOT_TIMEOUT s (default 600) is named in
# the "failed" column, left out of the medians, and the script exits 1
# after the table.  Transcripts: $W/ROW.I.log.
set -u
BENCH=netboot
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ALLROWS="lazy share nopf full dracut"
USAGE="env: BOOTS (boots per row, default 3), BOOT_TIMEOUT (s, 600),
     ROWS (default \"lazy full dracut\"; also share nopf), SHARE (25),
     RATE (bytes/s, 12500000),
     FILLER_MB (1024), MEM (guest MiB, 3072), LIVEROOT_CACHE (REPO/cache),
     LIVEROOT_BENCH_DIR (/tmp/liveroot-bench-netboot)"
. "$SRC/bench/lib.sh"
. "$SRC/scripts/nginx_lib.sh"
bench_args "$@"
BOOTS=${BOOTS:-3}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
ROWS=${ROWS:-lazy full dracut}
RATE=${RATE:-12500000}
FILLER_MB=${FILLER_MB:-1024}
MEM=${MEM:-3072}
SHARE=${SHARE:-25}
CACHE=${LIVEROOT_CACHE:-$SRC/cache}
W=${LIVEROOT_BENCH_DIR:-/tmp/liveroot-bench-netboot}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
INIT=$BUILD/cmd/liveroot-init
SHAPER=$BUILD/bench/netboot_shaper

bench_knob BOOTS 1
bench_knob BOOT_TIMEOUT 1
bench_knob RATE 1000
bench_knob FILLER_MB 0
bench_knob MEM 256
bench_knob SHARE 1
[ "$SHARE" -le 100 ] || bench_err "SHARE=$SHARE: 1..100 (live.fetch.share)"
want() {
	case " $ROWS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}
for r in $ROWS; do
	case " $ALLROWS " in
	*" $r "*) ;;
	*) bench_err "ROWS: unknown row '$r' (rows: $ALLROWS)" ;;
	esac
done
bench_need_exe "$L" "$INIT" "$SHAPER"
bench_need_tool qemu-system-x86_64=qemu-system-x86 mksquashfs=squashfs-tools \
    nginx=nginx-light socat=socat curl=curl flock=util-linux
[ -r /usr/share/qemu/qboot.rom ] ||
    bench_err "/usr/share/qemu/qboot.rom is missing: install the Debian package qemu-system-data (scripts/install-deps.sh)"
if [ "$CHECK" = 1 ]; then
	later=""
	want dracut && ! command -v dracut >/dev/null 2>&1 && later=" dracut"
	bench_checked "liveroot $L" "liveroot-init $INIT" "shaper $SHAPER" \
	    "rows: $ROWS, $BOOTS boots each, link $RATE bytes/s" \
	    "root: $CACHE/netboot (made on the first run: minbase+systemd + $FILLER_MB MiB filler)" \
	    "${later:+bench packages:$later not installed yet (a run installs them: scripts/install-deps.sh --bench)}"
fi
mkdir -p "$W" || bench_err "cannot create LIVEROOT_BENCH_DIR=$W"
W=$(cd "$W" && pwd)

if want dracut; then
	st=0
	sh "$SRC/scripts/install-deps.sh" --bench >&2 || st=$?
	[ "$st" = 0 ] || bench_err "scripts/install-deps.sh --bench failed (exit $st), its output is above"
	[ -d /usr/lib/dracut/modules.d/90livenet ] && [ -d /usr/lib/dracut/modules.d/35network-legacy ] ||
	    bench_err "row dracut wanted but dracut's livenet or network-legacy module is not installed: install dracut-network (scripts/install-deps.sh --bench)"
fi
bench_run "scripts/kernel.sh" sh "$SRC/scripts/kernel.sh" > "$W/kernel.env"
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

# --- the root, once -----------------------------------------------------------
NB=$CACHE/netboot
mkdir -p "$NB" || bench_die "cannot create $NB"
key=$({ echo "filler $FILLER_MB"; cat "$SRC/bench/fleet/marker.sh" \
    "$SRC/bench/fleet/liveroot-fleet.service"; } | cksum | cut -d' ' -f1)
exec 7> "$CACHE/minbase-systemd.lock"
flock 7
sd=$CACHE/minbase-systemd-bookworm
if [ ! -f "$sd.complete" ]; then
	echo "bench/netboot: debootstrap --variant=minbase --include=systemd-sysv,udev bookworm (once per machine; log $sd.log)" >&2
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
if [ "$(cat "$NB/key" 2>/dev/null)" != "$key" ]; then
	echo "bench/netboot: building the root in $NB (once: $FILLER_MB MiB of filler, mklive, mksquashfs)" >&2
	rm -rf "$NB/tree" "$NB/lr" "$NB/dr" "$NB/key"
	bench_run "cp -a $sd" cp -a "$sd" "$NB/tree"
	bench_run "install bench/fleet/marker.sh" install -m 0755 \
	    "$SRC/bench/fleet/marker.sh" "$NB/tree/usr/local/sbin/liveroot-fleet-marker"
	bench_run "install bench/fleet/liveroot-fleet.service" install -m 0644 \
	    "$SRC/bench/fleet/liveroot-fleet.service" "$NB/tree/etc/systemd/system/liveroot-fleet.service"
	mkdir -p "$NB/tree/etc/systemd/system/multi-user.target.wants"
	bench_run "enable liveroot-fleet.service" ln -sf ../liveroot-fleet.service \
	    "$NB/tree/etc/systemd/system/multi-user.target.wants/liveroot-fleet.service"
	bench_run "filler ($FILLER_MB MiB)" dd if=/dev/urandom of="$NB/tree/filler.bin" \
	    bs=1M count="$FILLER_MB" status=none
	bench_run "liveroot mklive (netboot root)" "$L" mklive -q --keep-ext4 \
	    --boot none --init "$INIT" --kernel-dir "$KDIR" -o "$NB/lr" "$NB/tree"
	rm -rf "$NB/tree" "$NB/lr/live.iso"
	[ -f "$NB/lr/rootfs.uzip.hashes" ] || bench_die "liveroot mklive wrote no $NB/lr/rootfs.uzip.hashes"
	mkdir -p "$NB/dr/sq/LiveOS" || bench_die "cannot create $NB/dr"
	bench_run "mv rootfs.ext4" mv "$NB/lr/rootfs.ext4" "$NB/dr/sq/LiveOS/rootfs.img"
	bench_run "mksquashfs (dracut)" mksquashfs "$NB/dr/sq" "$NB/dr/squashfs.img" \
	    -comp zstd -noappend -quiet > /dev/null
	rm -rf "$NB/dr/sq"
	echo "$key" > "$NB/key"
fi
# liveroot's initramfs: this build's liveroot-init, every run
bench_run "liveroot mklive --initramfs-only" "$L" mklive -q --initramfs-only \
    --init "$INIT" --kernel-dir "$KDIR" -o "$W/lr"
# dracut's: as bench/boot's http-dr row, cached per kernel
drv="virtio_pci virtio_blk ata_piix sr_mod sd_mod cdrom isofs squashfs loop dm_mod dm_snapshot overlay ext4 virtio_net e1000 af_packet"
if want dracut && [ "$(cat "$NB/dr/initramfs-net.kver" 2>/dev/null)" != "$KVER" ]; then
	st=0
	dracut --quiet --force --no-hostonly --kver "$KVER" --kmoddir "$MODULES" \
	    --add "dmsquash-live livenet network-legacy" --omit "plymouth" \
	    --add-drivers "$drv" --compress zstd "$NB/dr/initramfs-net.img" \
	    > "$NB/dr/initramfs-net.log" 2>&1 || st=$?
	[ "$st" = 0 ] || bench_fail "dracut --add 'dmsquash-live livenet network-legacy' (log $NB/dr/initramfs-net.log)" "$st" "$NB/dr/initramfs-net.log"
	echo "$KVER" > "$NB/dr/initramfs-net.kver"
fi
USIZE=$(stat -c %s "$NB/lr/rootfs.uzip")
HSIZE=$(stat -c %s "$NB/lr/rootfs.uzip.hashes")
SQSIZE=$(stat -c %s "$NB/dr/squashfs.img")

# --- the link -----------------------------------------------------------------
mkdir -p "$W/www" "$W/nginx/tmp"
rm -f "$W/www/"*
for f in "$NB/lr/rootfs.uzip" "$NB/lr/rootfs.uzip.hashes" "$NB/dr/squashfs.img"; do
	ln -f "$f" "$W/www/" 2>/dev/null || bench_run "cp $f" cp "$f" "$W/www/"
done
port=$(nginx_free_ports $((23000 + $$ % 20000)) 100 1)
[ -n "$port" ] || bench_die "no free loopback port for nginx in $((23000 + $$ % 20000))..+100"
{ nginx_conf_head "$W/nginx"; cat <<NGX; } > "$W/nginx/nginx.conf"
	log_format nb '\$msec \$uri \$status \$bytes_sent "\$http_range"';
	access_log $W/nginx/nb.log nb;
	sendfile on;
	keepalive_requests 100000;
	server {
		listen 127.0.0.1:$port;
		root $W/www;
		location ~ \\.uzip(\\.hashes)?\$ {
			gzip off;
		}
	}
}
NGX
nginx -e "$W/nginx/error.log" -p "$W/nginx" -c "$W/nginx/nginx.conf" -g 'daemon off;' \
    2>"$W/nginx/stderr.log" &
pids="$pids $!"
i=0
until curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:$port/rootfs.uzip"; do
	i=$((i + 1))
	[ $i -lt 50 ] || bench_die "nginx on 127.0.0.1:$port served no rootfs.uzip within 5 s: $(tail -n 5 "$W/nginx/error.log" "$W/nginx/stderr.log")"
	sleep 0.1
done
rm -f "$W/shaper.sock"
"$SHAPER" "$W/shaper.sock" "$port" "$RATE" "$W/shaper.count" 2>"$W/shaper.err" &
SHPID=$!
pids="$pids $SHPID"
i=0
until [ -S "$W/shaper.sock" ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || bench_die "the shaper did not listen on $W/shaper.sock: $(cat "$W/shaper.err")"
	sleep 0.1
done
netdev="user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:socat -lf $W/socat.log STDIO UNIX-CONNECT:$W/shaper.sock"

# shaped: the bytes the shaper relayed to the guest so far
shaped() {
	rm -f "$W/shaper.count"
	kill -USR1 "$SHPID" 2>/dev/null || bench_die "the shaper died: $(cat "$W/shaper.err")"
	_n=0
	until [ -s "$W/shaper.count" ]; do
		_n=$((_n + 1))
		[ $_n -lt 100 ] || bench_die "the shaper wrote no count within 2 s"
		sleep 0.02
	done
	cat "$W/shaper.count"
}

# boot NAME INITRD APPEND: one boot; prints "MARKER-S UPTIME BYTES" or
# nothing when the marker did not come
boot() {
	_log=$W/$1.log
	: > "$_log"
	_b0=$(shaped)
	_t0=$(date +%s.%N)
	qemu-system-x86_64 -accel tcg -m "$MEM" -nodefaults -no-reboot \
	    -display none -serial stdio -M pc \
	    -netdev "$netdev" -device virtio-net-pci,netdev=n0 \
	    -bios /usr/share/qemu/qboot.rom -kernel "$VMLINUX" -initrd "$2" \
	    -append "console=ttyS0 quiet $3" < /dev/null > "$_log" 2>&1 &
	_qp=$!
	_end=$(($(date +%s) + BOOT_TIMEOUT))
	_mark=""
	while kill -0 "$_qp" 2>/dev/null; do
		if grep -aq "LIVEROOT-MARKER: uptime" "$_log"; then
			_mark=$(date +%s.%N)
			_b1=$(shaped)
			break
		fi
		grep -aqE "liveroot: halted|System halted|Kernel panic|dracut Warning: Could not boot" "$_log" && break
		[ "$(date +%s)" -lt "$_end" ] || break
		sleep 0.05
	done
	if [ -z "$_mark" ] && grep -aq "LIVEROOT-MARKER: uptime" "$_log"; then
		_mark=$(date +%s.%N)
		_b1=$(shaped)
	fi
	sleep 0.5
	kill "$_qp" 2>/dev/null
	wait "$_qp" 2>/dev/null
	[ -n "$_mark" ] || return 0
	_up=$(LC_ALL=C sed -n 's/.*LIVEROOT-MARKER: uptime init=[0-9.]* writable=\([0-9.]*\).*/\1/p' "$_log" | head -n 1)
	echo "$_t0 $_mark ${_up:--} $_b0 $_b1" |
	    awk '{ printf "%.2f %s %.0f\n", $2 - $1, $3, $5 - $4 }'
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

nfailed=0
# row KEY LABEL SIZE INITRD APPEND
row() {
	want "$1" || return 0
	_key=$1 _label=$2 _size=$3
	shift 3
	: > "$W/$_key.times"
	_i=1
	_fails=""
	while [ $_i -le "$BOOTS" ]; do
		_t=$(boot "$_key.$_i" "$@")
		if [ -n "$_t" ]; then
			echo "$_t" >> "$W/$_key.times"
		else
			_fails="$_fails $_i"
		fi
		_i=$((_i + 1))
	done
	_ok=$(grep -c . "$W/$_key.times")
	_m=$(cut -d' ' -f1 "$W/$_key.times" | median)
	_u=$(cut -d' ' -f2 "$W/$_key.times" | grep -v '^-$' | median)
	_by=$(cut -d' ' -f3 "$W/$_key.times" | median)
	_sh=$(awk -v b="$_by" -v s="$_size" 'BEGIN { if (b == "-") print "-"; else printf "%.1f%%", 100 * b / s }')
	_mb=$(awk -v b="$_by" 'BEGIN { if (b == "-") print "-"; else printf "%.1f", b / 1048576 }')
	printf '| %s | %s | %s | %s | %s | %s/%s%s |\n' "$_label" "$_m" "$_u" "$_mb" "$_sh" \
	    "$_ok" "$BOOTS" "${_fails:+ failed:$_fails}"
	echo "$_m" > "$W/$_key.m"
	echo "$_by" > "$W/$_key.b"
	nfailed=$((nfailed + BOOTS - _ok))
}

rm -f "$W"/*.m "$W"/*.b
url=http://10.0.2.100
printf '\nnetboot under QEMU TCG, %s, %s CPUs, load %s; %s, median of %s boots, guest %s MiB\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$KVER" "$BOOTS" "$MEM"
printf 'link: %s bytes/s (%s Mbit/s) from nginx to the guest, all connections together (bench/netboot/shaper.c)\n' \
    "$RATE" "$(awk -v r="$RATE" 'BEGIN { printf "%.0f", r * 8 / 1e6 }')"
printf 'root: minbase+systemd + %s MiB filler; rootfs.uzip %s MiB (+ hashes %s KiB), dracut squashfs.img %s MiB\n' \
    "$FILLER_MB" "$(bench_mib "$USIZE")" "$((HSIZE / 1024))" "$(bench_mib "$SQSIZE")"
printf 'marker: multi-user.target reached, wall clock from QEMU start; bytes: relayed to the guest before the marker\n\n'
printf '| row | marker (s) | guest uptime at marker (s) | MiB before marker | share of the image | boots ok |\n'
printf '|---|---|---|---|---|---|\n'
row lazy "liveroot live.fetch=lazy" "$USIZE" "$W/lr/initramfs.img" \
    "live.probe=net live.url=$url/rootfs.uzip live.fetch=lazy"
row share "liveroot lazy, live.fetch.share=$SHARE" "$USIZE" "$W/lr/initramfs.img" \
    "live.probe=net live.url=$url/rootfs.uzip live.fetch=lazy live.fetch.share=$SHARE"
row nopf "liveroot lazy, live.fetch.prefetch=off" "$USIZE" "$W/lr/initramfs.img" \
    "live.probe=net live.url=$url/rootfs.uzip live.fetch=lazy live.fetch.prefetch=off"
row full "liveroot live.fetch=full" "$USIZE" "$W/lr/initramfs.img" \
    "live.probe=net live.url=$url/rootfs.uzip live.fetch=full"
row dracut "dracut 059 livenet" "$SQSIZE" "$NB/dr/initramfs-net.img" \
    "root=live:$url/squashfs.img rd.live.image rd.neednet=1 ip=dhcp rd.shell=0"
echo
b=$(cat "$W/dracut.m" 2>/dev/null)
for k in lazy share nopf full; do
	a=$(cat "$W/$k.m" 2>/dev/null)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" != - ] && [ "$b" != - ] || continue
	awk -v k="$k" -v a="$a" -v b="$b" 'BEGIN { printf "marker %s / dracut livenet: %.2f / %.2f s = %.2f%s\n", k, a, b, a / b, k == "full" ? "" : " (target <= 0.2)" }'
done
for k in lazy share nopf; do
	a=$(cat "$W/$k.b" 2>/dev/null)
	[ -n "$a" ] && [ "$a" != - ] || continue
	awk -v k="$k" -v a="$a" -v s="$USIZE" 'BEGIN { printf "bytes before the marker, %s: %.1f MiB = %.1f%% of rootfs.uzip (target <= 15%%)\n", k, a / 1048576, 100 * a / s }'
done
echo "transcripts: $W/ROW.I.log; nginx's log: $W/nginx/nb.log (\$msec \$uri \$status \$bytes_sent Range)"
[ "$nfailed" = 0 ] ||
    bench_die "$nfailed boots did not reach the marker within ${BOOT_TIMEOUT} s (rows marked failed:): see $W/ROW.I.log"
exit 0
