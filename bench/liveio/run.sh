#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/liveio/run.sh [--check] [BUILDDIR] - I/O inside the booted live
# system, through its root, liveroot beside dracut's dmsquash-live: the same
# Debian kernel, the same root tree, the same guest (QEMU TCG, SMP vCPUs,
# MEM MiB, the ISO as a CD).  Not a test: it prints a table.
#
#   liveroot: nbd0 served by liveroot-init's server: rowr (RAM upper) over
#             uzip (zstd) over rootfs.uzip on the CD (`liveroot mklive`)
#   dracut:   dm-snapshot (sparse overlay file in the initramfs, 4 KiB
#             chunks) over loop over rootfs.img in a squashfs (zstd) over
#             loop over LiveOS/squashfs.img on the CD; root=live:CDLABEL=
#             rd.live.image (dracut --no-hostonly -a dmsquash-live)
#
# The root: the minbase+systemd tree that tests/e2e/systemd.sh caches
# ($LIVEROOT_CACHE/minbase-systemd-bookworm, default REPO/cache; made by
# debootstrap the same way when it is missing), plus /liveio/mixed.bin
# (SIZE_MB MiB, per MiB random, text, zeros, text) and /liveio/random.bin
# (SIZE_MB MiB of random bytes), the workload program (bench/liveio/io.c,
# compiled static here) and bench/liveio/init.sh as the live system's init
# (live.init= / init=: no systemd runs beside the workloads).  Both live
# systems boot the same ext4 image (mklive --keep-ext4).  In the guest, the
# page cache dropped before each: sequential read of each file (1 MiB
# reads), RR random 4 KiB reads of mixed.bin, a sequential write of a new
# WRITE_MB MiB file + fsync + sync, RW random 4 KiB writes into
# random.bin (copy-on-write into the overlay) + fsync + sync.  Each boot
# runs every workload once; the table gives the median over BOOTS boots and
# the ratio liveroot / dracut (higher is better on every row).  A boot
# whose init reports a failed workload, or that does not finish within
# BOOT_TIMEOUT s, is named in the "failed" line and left out; the script
# then exits 1 after the table.  Transcripts stay in $W/SIDE.I.log.
#
# Tuning experiments: LR_APPEND / DR_APPEND add kernel arguments to one
# side, e.g. LR_APPEND=liveio.sysfs=block/nbd0/queue/read_ahead_kb=1024
# (init.sh writes each P=V of liveio.sysfs= under /sys before the
# workloads); CLUSTER sets rootfs.uzip's cluster size (mklive -s).  The
# side "lrt" (SIDES="lr lrt dr") is liveroot again with LRT_APPEND (default:
# nbd0's read-ahead and request size raised from 128 KiB to 1 MiB), booted
# in the same run, so the table shows what that tuning gives beside the
# default.  The boots alternate between the sides (lr.1 dr.1 lr.2 ...), so
# a change in the shared machine's load hits every side alike.
#
# Persistence (SIDES="lrp drp dro", issue 11): the overlay on a "stick", a raw
# disk (virtio-blk, cache=writeback) with one ext4 partition LRPERS
# (STICK_MB MiB) holding every side's persistence file, a fresh copy of
# it for every boot:
#   lrp: liveroot, live.persist=LABEL=LRPERS; /liveroot.overlay and its map
#        made beforehand by `liveroot overlay create --for live.iso` (so the
#        first-boot creation is not timed; sparse, as liveroot makes it)
#   drp: dracut, rd.live.overlay=LABEL=LRPERS (dm-snapshot, the COW store a
#        file at dracut's default path /LiveOS/overlay-LIVEDRACUT-<ISO
#        UUID>, DRP_MB MiB written with dd from /dev/zero beforehand:
#        dmsquash-live-root.sh uses an existing file, it never makes one)
#   dro: dracut, rd.live.overlay=LABEL=LRPERS:/dro/overlay
#        rd.live.overlay.overlayfs=1 (overlayfs: the upper is that directory,
#        /dro/ovlwork its work directory)
# The guest runs init.sh's persist rows (liveio.mode=persist): the two
# writes, then what they wrote read back after drop_caches.  A boot whose
# transcript says the persistent overlay was not used (liveroot's "changes
# will NOT be kept", dracut's "Unable to find a persistent overlay") or
# whose stick does not hold the writes afterwards (debugfs: liveroot's file
# grown by WRITE_MB, dm-snapshot's header in dracut's COW file, new.bin in
# the overlayfs upper) counts as failed.
set -u
BENCH=liveio
SRC=$(cd "$(dirname "$0")/../.." && pwd)
top=$SRC
USAGE="env: BOOTS (boots per side, default 3), BOOT_TIMEOUT (s, 900),
     SIDES (\"lr dr\"; persistence: lrp drp dro), SIZE_MB (256), WRITE_MB
     (128), RR (4096), RW (4096), STICK_MB (2048), DRP_MB (1024),
     SMP (vCPUs, 2), MEM (guest MiB, 2048), CLUSTER (uzip cluster bytes,
     mklive's default), LR_APPEND, DR_APPEND, LRT_APPEND (extra kernel
     arguments of each side; sides: lr dr lrt),
     LIVEROOT_CACHE (REPO/cache), DEBIAN_MIRROR,
     LIVEROOT_BENCH_DIR (/tmp/liveroot-bench-liveio)"
. "$SRC/bench/lib.sh"
bench_args "$@"
LIVEROOT=$L
INIT=$BUILD/cmd/liveroot-init
BOOTS=${BOOTS:-3}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-900}
SIDES=${SIDES:-lr dr}
SIZE_MB=${SIZE_MB:-256}
WRITE_MB=${WRITE_MB:-128}
RR=${RR:-4096}
RW=${RW:-4096}
SMP=${SMP:-2}
STICK_MB=${STICK_MB:-2048}
DRP_MB=${DRP_MB:-1024}
MEM=${MEM:-2048}
CLUSTER=${CLUSTER:-}
LR_APPEND=${LR_APPEND:-}
DR_APPEND=${DR_APPEND:-}
LRT_APPEND=${LRT_APPEND:-liveio.sysfs=block/nbd0/queue/max_sectors_kb=1024,block/nbd0/queue/read_ahead_kb=1024}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${LIVEROOT_CACHE:-$SRC/cache}
W=${LIVEROOT_BENCH_DIR:-/tmp/liveroot-bench-liveio}

for k in BOOTS BOOT_TIMEOUT SIZE_MB WRITE_MB RR RW SMP MEM STICK_MB DRP_MB; do
	bench_knob "$k" 1
done
[ -z "$CLUSTER" ] || bench_knob CLUSTER 4096
want_dr=0 want_p=0 want_ram=0
for s in $SIDES; do
	case $s in
	lr | lrt) want_ram=1 ;;
	dr) want_dr=1 want_ram=1 ;;
	lrp) want_p=1 ;;
	drp | dro) want_dr=1 want_p=1 ;;
	*) bench_err "SIDES: unknown side '$s' (sides: lr dr lrt lrp drp dro)" ;;
	esac
done
[ $want_p = 0 ] || [ "$DRP_MB" -gt "$((WRITE_MB + RW * 4 / 1024 + 64))" ] ||
    bench_err "DRP_MB=$DRP_MB cannot hold the writes (WRITE_MB=$WRITE_MB and RW=$RW 4 KiB blocks, plus dm-snapshot's metadata): raise DRP_MB"
[ $want_p = 0 ] || [ "$STICK_MB" -gt "$((DRP_MB + WRITE_MB + RW * 4 / 1024 + 128))" ] ||
    bench_err "STICK_MB=$STICK_MB cannot hold dracut's DRP_MB=$DRP_MB file and liveroot's writes: raise STICK_MB"
[ $want_p = 0 ] || bench_need_tool mke2fs=e2fsprogs debugfs=e2fsprogs sfdisk=fdisk
bench_need_exe "$LIVEROOT" "$INIT"
bench_need_tool qemu-system-x86_64=qemu-system-x86 xorriso=xorriso \
    mksquashfs=squashfs-tools cc=gcc
[ -r /usr/share/qemu/qboot.rom ] ||
    bench_err "/usr/share/qemu/qboot.rom is missing: install the Debian package qemu-system-data (scripts/install-deps.sh)"
for f in /usr/lib/x86_64-linux-gnu/libc.a /usr/lib/libc.a; do
	[ -r "$f" ] && break
	[ "$f" != /usr/lib/libc.a ] ||
	    bench_err "no static libc (libc.a) for the guest's workload program: install the Debian package libc6-dev (scripts/install-deps.sh)"
done
[ "$(id -u)" = 0 ] || bench_err "needs root (the root tree is root-owned; debootstrap)"
if [ "$CHECK" = 1 ]; then
	later=""
	for t in dracut debootstrap; do
		command -v "$t" >/dev/null 2>&1 || later="$later $t"
	done
	have=missing
	[ -f "$CACHE/minbase-systemd-$SUITE.complete" ] && have=cached
	bench_checked "liveroot $LIVEROOT" "liveroot-init $INIT" \
	    "tools: qemu-system-x86_64 xorriso mksquashfs cc libc.a qboot.rom" \
	    "sides: $SIDES" "root tree: $CACHE/minbase-systemd-$SUITE ($have)" \
	    "$( [ $want_p = 0 ] || echo "persistence stick: $STICK_MB MiB ext4 LRPERS (mke2fs debugfs sfdisk), dracut's COW file $DRP_MB MiB")" \
	    "${later:+bench packages:$later not installed yet (a run installs them: scripts/install-deps.sh --bench)}"
fi
mkdir -p "$W" || bench_err "cannot create LIVEROOT_BENCH_DIR=$W"

st=0
sh "$top/scripts/install-deps.sh" --bench >&2 || st=$?
[ "$st" = 0 ] || bench_err "scripts/install-deps.sh --bench failed (exit $st), its output is above"
if [ $want_dr = 1 ]; then
	command -v dracut > /dev/null 2>&1 && [ -d /usr/lib/dracut/modules.d/90dmsquash-live ] ||
	    bench_err "the dracut side is wanted but dracut's dmsquash-live is not installed: install dracut-core and dracut-live (scripts/install-deps.sh --bench), or set SIDES=lr"
fi
bench_run "scripts/kernel.sh" sh "$top/scripts/kernel.sh" >"$W/kernel.env"
# shellcheck source=/dev/null
. "$W/kernel.env"
[ -n "${VMLINUX:-}" ] && [ -f "$VMLINUX" ] && [ -n "${KVER:-}" ] && [ -d "${MODULES:-}" ] ||
    bench_die "scripts/kernel.sh printed no usable VMLINUX/KVER/MODULES: $(cat "$W/kernel.env")"
KDIR=$(dirname "$VMLINUX")

qpid="" mnt=""
cleanup() {
	[ -z "$qpid" ] || kill "$qpid" 2>/dev/null
	[ -z "$mnt" ] || umount "$mnt"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

# The minbase+systemd tree: tests/e2e/systemd.sh's cache, made the same way
# (under the same lock) when it is missing.
MB=$CACHE/minbase-systemd-$SUITE
mkdir -p "$CACHE" || bench_die "cannot create LIVEROOT_CACHE=$CACHE"
exec 7> "$CACHE/minbase-systemd.lock"
flock 7
if [ ! -f "$MB.complete" ]; then
	echo "bench/liveio: debootstrap --variant=minbase --include=systemd-sysv,udev $SUITE (once per machine; log $MB.log)" >&2
	rm -rf "$MB" "$MB.tmp"
	st=0
	debootstrap --variant=minbase --include=systemd-sysv,udev \
	    "$SUITE" "$MB.tmp" "$MIRROR" > "$MB.log" 2>&1 || st=$?
	[ "$st" = 0 ] || bench_fail "debootstrap of the minbase+systemd root (log $MB.log)" "$st" "$MB.log"
	rm -f "$MB.tmp"/var/cache/apt/archives/*.deb
	bench_run "mv $MB.tmp $MB" mv "$MB.tmp" "$MB"
	touch "$MB.complete"
fi
flock -u 7

# The images are rebuilt only when what goes into them changed: the key is
# the sizes, the cluster size, the tree's stamp and the bytes of
# the programs and scripts put into them (a tuning rerun boots at once).
key=$(cat "$top/bench/liveio/io.c" "$top/bench/liveio/init.sh" "$LIVEROOT" \
    "$INIT" "$VMLINUX" | md5sum | cut -d' ' -f1)
key="$key $SIZE_MB $WRITE_MB ${CLUSTER:-default} $(stat -c %Y "$MB.complete")"
if [ "$(cat "$W/images.key" 2>/dev/null)" = "$key" ] && [ -f "$W/lr/live.iso" ] &&
    { [ $want_dr = 0 ] || [ -f "$W/dr/live.iso" ]; }; then
	echo "bench/liveio: reusing the images in $W (same key)" >&2
else
	rm -f "$W/images.key"
	echo "bench/liveio: building the images in $W" >&2
	t=$W/tree
	rm -rf "$t" "$W/lr" "$W/dr"
	bench_run "cp -a $MB" cp -a "$MB" "$t"
	bench_run "cc bench/liveio/io.c" cc -std=c11 -O2 -static -o "$W/io" "$top/bench/liveio/io.c"
	bench_run "install io" install -m 0755 "$W/io" "$t/usr/local/bin/liveio-io"
	bench_run "install init.sh" install -m 0755 "$top/bench/liveio/init.sh" "$t/sbin/liveio-init"
	mkdir -p "$t/liveio" || bench_die "cannot create $t/liveio"
	bench_run "io gen mixed.bin" "$W/io" gen "$t/liveio/mixed.bin" "$SIZE_MB" mixed
	bench_run "io gen random.bin" "$W/io" gen "$t/liveio/random.bin" "$SIZE_MB" random
	bench_run "liveroot mklive" "$LIVEROOT" mklive --keep-ext4 --boot none \
	    --free "$((WRITE_MB + 128))M" ${CLUSTER:+-s "$CLUSTER"} \
	    --init "$INIT" --kernel-dir "$KDIR" -o "$W/lr" "$t" > /dev/null
	rm -rf "$t"

	# dracut's side: the same ext4 image as LiveOS/rootfs.img in a squashfs
	# (zstd, mksquashfs's default 128 KiB blocks), LiveOS/squashfs.img on an
	# ISO labelled LIVEDRACUT, and an initramfs with dmsquash-live, as
	# bench/boot makes them.
	if [ $want_dr = 1 ]; then
		mkdir -p "$W/dr/iso/LiveOS" "$W/dr/sq/LiveOS" || bench_die "cannot create $W/dr"
		bench_run "ln rootfs.img (dracut)" ln "$W/lr/rootfs.ext4" "$W/dr/sq/LiveOS/rootfs.img"
		bench_run "mksquashfs (dracut)" mksquashfs "$W/dr/sq" "$W/dr/iso/LiveOS/squashfs.img" \
		    -comp zstd -noappend -quiet > /dev/null
		rm -rf "$W/dr/sq"
		bench_run "xorriso (dracut)" xorriso -as mkisofs -quiet -R -J \
		    -V LIVEDRACUT -o "$W/dr/live.iso" "$W/dr/iso"
		st=0
		dracut --quiet --force --no-hostonly --kver "$KVER" --kmoddir "$MODULES" \
		    --add dmsquash-live --omit plymouth \
		    --add-drivers "ata_piix sr_mod cdrom isofs squashfs loop dm_mod dm_snapshot ext4" \
		    --compress zstd "$W/dr/initramfs.img" > "$W/dr/dracut.log" 2>&1 || st=$?
		[ "$st" = 0 ] || bench_fail "dracut (log $W/dr/dracut.log)" "$st" "$W/dr/dracut.log"
	fi
	echo "$key" > "$W/images.key"
fi

# The stick of the persistence sides: $W/stick.img, remade every run (a
# few seconds); each boot gets a fresh sparse copy, $W/stick.boot.img.
# dracut's default overlay path is /LiveOS/overlay-<CD label>-<CD UUID>.
P=/liveroot.overlay
DRP="" DRO=/dro/overlay
if [ $want_p = 1 ]; then
	echo "bench/liveio: building the persistence stick $W/stick.img (ext4 LRPERS, $STICK_MB MiB)" >&2
	st=$W/stick
	rm -rf "$st.d" "$st.part" "$st.img"
	mkdir -p "$st.d/dro/overlay" "$st.d/dro/ovlwork" "$st.mnt" ||
	    bench_die "cannot create $st.d"
	bench_run "liveroot overlay create --for $W/lr/live.iso" "$LIVEROOT" overlay create \
	    --for "$W/lr/live.iso" "$st.d$P" > /dev/null
	if [ $want_dr = 1 ]; then
		DRP=/LiveOS/overlay-$(blkid -s LABEL -o value "$W/dr/live.iso")-$(blkid -s UUID -o value "$W/dr/live.iso")
		mkdir -p "$st.d/LiveOS" || bench_die "cannot create $st.d/LiveOS"
	fi
	bench_run "mke2fs LRPERS" mke2fs -q -t ext4 -L LRPERS -d "$st.d" "$st.part" "${STICK_MB}M" > /dev/null
	rm -rf "$st.d"
	if [ -n "$DRP" ]; then
		# written, not sparse: mke2fs -d would leave zero blocks as holes
		bench_run "mount $st.part" mount -o loop "$st.part" "$st.mnt"
		mnt=$st.mnt
		st2=0
		dd if=/dev/zero of="$st.mnt$DRP" bs=1M count="$DRP_MB" conv=fsync status=none || st2=$?
		umount "$st.mnt" || st2=$?
		mnt=""
		[ "$st2" = 0 ] || bench_die "writing dracut's overlay file $DRP on the stick (dd, umount $st.mnt) failed (exit $st2)"
	fi
	truncate -s "$((STICK_MB + 2))M" "$st.img" ||
	    bench_die "cannot create $st.img"
	printf 'start=2048, type=83\n' | bench_run "sfdisk $st.img" sfdisk -q "$st.img"
	bench_run "dd the partition into $st.img" dd if="$st.part" of="$st.img" bs=1M seek=1 \
	    conv=notrunc,sparse status=none
	rm -f "$st.part"
fi
# stick_blocks FILE: FILE's 512-byte blocks on the boot's stick
stick_blocks() {
	debugfs -R "stat $1" "$W/stick.boot.img?offset=1048576" 2>/dev/null |
	    sed -n 's/.*Blockcount: *\([0-9]*\).*/\1/p'
}

# boot SIDE I: one boot; its LIVEIO-RESULT lines in $W/SIDE.I.res
# ("ROW MIB/S IOPS"), nothing there when it failed, and then why in
# $W/SIDE.I.why
boot() {
	side=$1 res=$W/$1.$2.res log=$W/$1.$2.log why=$W/$1.$2.why
	: > "$log"
	: > "$res"
	rm -f "$why"
	disk="" rows=5
	case $side in
	lrp | drp | dro)
		rows=4
		cp --sparse=always "$W/stick.img" "$W/stick.boot.img" ||
		    bench_die "cannot copy $W/stick.img to $W/stick.boot.img"
		disk="-drive if=none,id=vd0,file=$W/stick.boot.img,format=raw,cache=writeback -device virtio-blk-pci,drive=vd0"
		pblocks=$(stick_blocks "$P")
		;;
	esac
	if [ "$side" = lrp ]; then
		set -- "$W/lr/initramfs.img" "$W/lr/live.iso" \
		    "live.init=/sbin/liveio-init live.persist=LABEL=LRPERS liveio.mode=persist $LR_APPEND"
	elif [ "$side" = drp ]; then
		set -- "$W/dr/initramfs.img" "$W/dr/live.iso" \
		    "root=live:CDLABEL=LIVEDRACUT rd.live.image rd.live.overlay=LABEL=LRPERS rd.shell=0 init=/sbin/liveio-init liveio.mode=persist $DR_APPEND"
	elif [ "$side" = dro ]; then
		set -- "$W/dr/initramfs.img" "$W/dr/live.iso" \
		    "root=live:CDLABEL=LIVEDRACUT rd.live.image rd.live.overlay=LABEL=LRPERS:$DRO rd.live.overlay.overlayfs=1 rd.shell=0 init=/sbin/liveio-init liveio.mode=persist $DR_APPEND"
	elif [ "$side" = lr ]; then
		set -- "$W/lr/initramfs.img" "$W/lr/live.iso" \
		    "live.init=/sbin/liveio-init $LR_APPEND"
	elif [ "$side" = lrt ]; then
		set -- "$W/lr/initramfs.img" "$W/lr/live.iso" \
		    "live.init=/sbin/liveio-init $LRT_APPEND"
	else
		set -- "$W/dr/initramfs.img" "$W/dr/live.iso" \
		    "root=live:CDLABEL=LIVEDRACUT rd.live.image rd.shell=0 init=/sbin/liveio-init $DR_APPEND"
	fi
	qemu-system-x86_64 -accel tcg -m "$MEM" -smp "$SMP" -nodefaults \
	    -no-reboot -display none -serial stdio -M pc \
	    -bios /usr/share/qemu/qboot.rom -kernel "$VMLINUX" -initrd "$1" \
	    -append "console=ttyS0 quiet liveio.rr=$RR liveio.rw=$RW liveio.wmb=$WRITE_MB $3" \
	    -cdrom "$2" $disk < /dev/null > "$log" 2>&1 &
	qpid=$!
	_end=$(($(date +%s) + BOOT_TIMEOUT))
	while kill -0 "$qpid" 2>/dev/null; do
		grep -aqE "LIVEIO: (done|FAILED)|liveroot: halted|Kernel panic|Press \[Enter\] to continue" "$log" && break
		[ "$(date +%s)" -lt "$_end" ] || break
		sleep 0.2
	done
	sleep 0.5
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	qpid=""
	if ! grep -aq "LIVEIO: done" "$log"; then
		tr -d '\r' < "$log" | grep -aE "LIVEIO: FAILED|liveroot: halted|Kernel panic" |
		    head -n 1 > "$why"
		[ -s "$why" ] ||
		    echo "no \"LIVEIO: done\" within BOOT_TIMEOUT=$BOOT_TIMEOUT s" > "$why"
		return 0
	fi
	tr -d '\r' < "$log" | awk '
	/^LIVEIO-RESULT / {
		for (i = 2; i <= NF; i++) {
			split($i, kv, "=")
			v[kv[1]] = kv[2]
		}
		printf "%s %.1f %.0f\n", v["row"], v["bytes"] / 1048576 / v["secs"], v["ops"] / v["secs"]
	}' > "$res.tmp"
	# the persistent overlay was used: nothing said otherwise, and the
	# writes are in the stick's file
	case $side in
	lrp)
		a=$(stick_blocks "$P")
		if grep -aq "changes will NOT be kept" "$log"; then
			echo "liveroot used a RAM overlay (\"changes will NOT be kept\")" > "$why"
		elif [ "$(( ${a:-0} - ${pblocks:-0} ))" -lt "$((WRITE_MB * 2048))" ]; then
			echo "$P on the stick grew by $(( (${a:-0} - ${pblocks:-0}) / 2048 )) MiB, less than WRITE_MB=$WRITE_MB: the writes did not reach it" > "$why"
		fi ;;
	drp)
		b=$(debugfs -R "bmap $DRP 0" "$W/stick.boot.img?offset=1048576" 2>/dev/null)
		m=$(dd if="$W/stick.boot.img" bs=4096 skip=$((256 + ${b:-0})) count=1 status=none | head -c 4)
		if [ "$m" != SnAp ] || ! tr -d '\r' < "$log" | grep -aq "backing [^ ]*$DRP\$"; then
			echo "dracut's dm-snapshot COW store is not $DRP on the stick (no snapshot header there, or another loop backing file in the LIVEIO-INFO lines)" > "$why"
		fi ;;
	dro)
		a=$(stick_blocks "$DRO/liveio/new.bin")
		[ "${a:-0}" -ge "$((WRITE_MB * 2048))" ] ||
		    echo "$DRO/liveio/new.bin is not on the stick (${a:-0} blocks): dracut's overlayfs upper was not used" > "$why"
		;;
	esac
	if grep -aq "Unable to find a persistent overlay" "$log"; then
		echo "dracut: \"Unable to find a persistent overlay\"" > "$why"
	fi
	[ ! -s "$why" ] && [ "$(wc -l < "$res.tmp")" = "$rows" ] && mv "$res.tmp" "$res"
	[ -s "$res" ] || [ -s "$why" ] ||
	    echo "$(wc -l < "$res.tmp") LIVEIO-RESULT lines, not $rows" > "$why"
	rm -f "$res.tmp"
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

nfailed=0
failed=""
ok_lr=0 ok_dr=0 ok_lrt=0 n_lr=0 n_dr=0 n_lrt=0
ok_lrp=0 ok_drp=0 ok_dro=0 n_lrp=0 n_drp=0 n_dro=0
for s in lr dr lrt lrp drp dro; do
	rm -f "$W/$s".*.res "$W/$s".*.log
done
rm -f "$W"/*.why
i=1
while [ $i -le "$BOOTS" ]; do
	for s in $SIDES; do
		echo "bench/liveio: boot $s.$i" >&2
		boot "$s" "$i"
		eval "n_$s=\$((n_$s + 1))"
		if [ -s "$W/$s.$i.res" ]; then
			eval "ok_$s=\$((ok_$s + 1))"
		else
			nfailed=$((nfailed + 1))
			failed="$failed $s.$i"
		fi
	done
	i=$((i + 1))
done
tuned=0
case " $SIDES " in
*" lrt "*) tuned=1 ;;
esac

# cell SIDE ROW COLUMN: the median over the side's boots (2 = MiB/s, 3 = IOPS)
cell() {
	cat "$W/$1".*.res 2>/dev/null | awk -v r="$2" -v c="$3" '$1 == r { print $c }' | median
}
lrsz=$(stat -c %s "$W/lr/rootfs.uzip")
printf '\nI/O inside the live system under QEMU TCG, %s, median of %s boots per side\n' "$KVER" "$BOOTS"
printf '%s, host %s CPUs, load %s; guest %s vCPUs, %s MiB, the ISO as a CD (IDE)\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$SMP" "$MEM"
printf 'files: mixed.bin %s MiB (random, text, zeros, text per MiB), random.bin %s MiB; rootfs.uzip %s MiB' \
    "$SIZE_MB" "$SIZE_MB" "$(bench_mib "$lrsz")"
[ ! -f "$W/dr/live.iso" ] ||
    printf ', squashfs.img %s MiB' "$(bench_mib "$(stat -c %s "$W/dr/iso/LiveOS/squashfs.img")")"
printf '\n'
[ -z "$LR_APPEND$DR_APPEND$CLUSTER" ] ||
    printf 'tuning: LR_APPEND="%s" DR_APPEND="%s" CLUSTER=%s\n' "$LR_APPEND" "$DR_APPEND" "${CLUSTER:-default}"
[ $tuned = 0 ] || printf 'liveroot tuned: LRT_APPEND="%s"\n' "$LRT_APPEND"
# ratio A B: A / B, or - when either is missing
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'
}
if [ $want_ram = 1 ]; then
printf '\n| workload | unit | liveroot (nbd+uzip+rowr) | dracut (loop+squashfs+dm-snapshot) | liveroot / dracut |'
[ $tuned = 0 ] || printf ' liveroot tuned | tuned / dracut |'
printf ' target |\n|---|---|---|---|---|'
[ $tuned = 0 ] || printf -- '---|---|'
printf -- '---|\n'
for r in "seqread-mixed|sequential read, mixed.bin ($SIZE_MB MiB, 1 MiB reads)|2|MiB/s|0.8" \
    "seqread-random|sequential read, random.bin ($SIZE_MB MiB, incompressible)|2|MiB/s|0.8" \
    "randread|random 4 KiB reads of mixed.bin ($RR, QD1)|3|IOPS|0.8" \
    "seqwrite|sequential write of a new file ($WRITE_MB MiB) + fsync + sync|2|MiB/s|1.0" \
    "randwrite|random 4 KiB writes into random.bin ($RW) + fsync + sync|3|IOPS|1.0"; do
	key=${r%%|*}
	rest=${r#*|}
	label=${rest%%|*}
	rest=${rest#*|}
	col=${rest%%|*}
	rest=${rest#*|}
	unit=${rest%%|*}
	target=${rest#*|}
	a=$(cell lr "$key" "$col")
	b=$(cell dr "$key" "$col")
	ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }')
	printf '| %s | %s | %s | %s | %s |' "$label" "$unit" "$a" "$b" "$ratio"
	if [ $tuned = 1 ]; then
		c=$(cell lrt "$key" "$col")
		ratio=$(awk -v a="$c" -v b="$b" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }')
		printf ' %s | %s |' "$c" "$ratio"
	fi
	printf ' >= %s |\n' "$target"
done
fi
if [ $want_p = 1 ]; then
	dro=0
	case " $SIDES " in
	*" dro "*) dro=1 ;;
	esac
	printf '\nPersistence: the overlay on a %s MiB virtio-blk disk (cache=writeback), one ext4 partition LRPERS, a fresh copy per boot\n' "$STICK_MB"
	printf 'liveroot: live.persist=LABEL=LRPERS, %s made beforehand (liveroot overlay create --for live.iso, sparse)\n' "$P"
	[ $want_dr = 0 ] ||
	    printf 'dracut: rd.live.overlay=LABEL=LRPERS, dm-snapshot COW in %s (%s MiB, dd from /dev/zero)\n' "$DRP" "$DRP_MB"
	[ $dro = 0 ] ||
	    printf 'dracut overlayfs: rd.live.overlay=LABEL=LRPERS:%s rd.live.overlay.overlayfs=1\n' "$DRO"
	printf '\n| workload | unit | liveroot (rowr upper in a file) | dracut (dm-snapshot, COW file) | liveroot / dracut |'
	[ $dro = 0 ] || printf ' dracut overlayfs | liveroot / dracut overlayfs |'
	printf '\n|---|---|---|---|---|'
	[ $dro = 0 ] || printf -- '---|---|'
	printf '\n'
	for r in "seqwrite|sequential write of a new file ($WRITE_MB MiB) + fsync + sync|2|MiB/s" \
	    "randwrite|random 4 KiB writes into random.bin ($RW) + fsync + sync|3|IOPS" \
	    "readback-seq|read back the new file after drop_caches (1 MiB reads)|2|MiB/s" \
	    "readback-rand|read back the $RW written 4 KiB blocks after drop_caches (QD1)|3|IOPS"; do
		key=${r%%|*}
		rest=${r#*|}
		label=${rest%%|*}
		rest=${rest#*|}
		col=${rest%%|*}
		unit=${rest#*|}
		a=$(cell lrp "$key" "$col")
		b=$(cell drp "$key" "$col")
		printf '| %s | %s | %s | %s | %s |' "$label" "$unit" "$a" "$b" "$(ratio "$a" "$b")"
		if [ $dro = 1 ]; then
			c=$(cell dro "$key" "$col")
			printf ' %s | %s |' "$c" "$(ratio "$a" "$c")"
		fi
		printf '\n'
	done
fi
printf '\nboots ok:'
[ $want_ram = 0 ] || printf ' liveroot %s/%s, dracut %s/%s' "$ok_lr" "$n_lr" "$ok_dr" "$n_dr"
[ $tuned = 0 ] || printf ', liveroot tuned %s/%s' "$ok_lrt" "$n_lrt"
[ $want_p = 0 ] || printf '%s persistence: liveroot %s/%s, dracut %s/%s, dracut overlayfs %s/%s' \
    "$( [ $want_ram = 0 ] || echo ";")" "$ok_lrp" "$n_lrp" "$ok_drp" "$n_drp" "$ok_dro" "$n_dro"
printf '%s\n' "${failed:+; failed:$failed}"
echo "transcripts: $W/SIDE.I.log (LIVEIO-INFO lines: the root device and its queue), results: $W/SIDE.I.res"
for f in $failed; do
	echo "failed boot $f: $(cat "$W/$f.why" 2>/dev/null) (transcript $W/$f.log)"
done
[ "$nfailed" = 0 ] ||
    bench_die "$nfailed boots did not finish the workloads within ${BOOT_TIMEOUT} s, reported a failed workload or (persistence) did not use the stick (named in failed:, left out of the medians): see $W/SIDE.I.log"
