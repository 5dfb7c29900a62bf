#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/locate/run.sh - how long `liveroot locate` takes to find the root
# image on a large Ventoy disk, beside what a shell initramfs would do, all
# measured in the same run on the same disk:
#
#   disk    a 32 GiB sparse Ventoy-layout image (MBR, p1 exFAT "Ventoy" at
#           LBA 2048, p2 32 MiB FAT16 "VTOYEFI", disk id and signature),
#           FILES small files (default 10000) in DIRS directories on p1,
#           a decoy ISO with another label, and /live.iso (label LIVE_BENCH)
#           holding /rootfs.uzip - written through mount.exfat-fuse on a
#           loop device (needs root)
#   rows    liveroot locate, Ventoy layout search (no os_param)
#           liveroot locate --ventoy-param (os_param + location list)
#           liveroot locate --iso /live.iso (findiso on p1)
#           peer: blkid -p of p1 (identify only, through a loop device)
#           peer: losetup + mount.exfat-fuse + test -f /live.iso + umount
#           (the first step of a shell findiso; reading the ISO not counted)
#   cold    the disk image's page cache dropped before each run
#           (dd iflag=nocache; /proc/sys/vm/drop_caches when writable)
#   warm    the same command run right before, untimed
#
# Median of N runs (default 11), milliseconds.  Every command is checked:
# a failure (while building the disk or in any timed run) stops the script
# before the table, naming the command and the end of its stderr (exit 1).
# Not a test: nothing asserts a timing (the target for the first row is
# < 50 ms warm).
#
# usage: bench/locate/run.sh [--check] [BUILDDIR]        (default: build)
set -eu

BENCH=locate
SRC=$(cd "$(dirname "$0")/../.." && pwd)
USAGE="env: FILES (default 10000), DIRS (20), N (runs per row, 11),
     BENCH_DIR (default /tmp/liveroot-locate-bench)"
. "$SRC/bench/lib.sh"
bench_args "$@"
FILES=${FILES:-10000}
DIRS=${DIRS:-20}
N=${N:-11}
W=${BENCH_DIR:-/tmp/liveroot-locate-bench}

bench_knob FILES 0
bench_knob DIRS 1
bench_knob N 1
bench_need_exe "$L"
bench_need_tool sfdisk=fdisk mkfs.exfat=exfatprogs mkfs.vfat=dosfstools \
    mount.exfat-fuse=exfat-fuse fusermount=fuse3 losetup=mount \
    mountpoint=util-linux xorriso=xorriso blkid=util-linux python3=python3
[ "$(id -u)" = 0 ] || bench_err "needs root (loop devices, FUSE): run it as root"
bench_checked "liveroot $L" "tools: sfdisk mkfs.exfat mkfs.vfat mount.exfat-fuse fusermount losetup xorriso blkid python3" "root"

LOOP=""
cleanup() {
	if mountpoint -q "$W/mnt" 2>/dev/null; then fusermount -u "$W/mnt" || true; fi
	if [ -n "$LOOP" ]; then losetup -d "$LOOP" || true; fi
	rm -rf "$W"
}
rm -rf "$W"
mkdir -p "$W/mnt" "$W/root" "$W/decoy"
trap cleanup EXIT
trap 'exit 2' INT TERM
cd "$W"

echo "bench/locate: building a 32 GiB sparse Ventoy disk with $FILES files" >&2
head -c 4000000 /dev/urandom > root/rootfs.uzip
echo decoy > decoy/rootfs.uzip
bench_run "xorriso (live.iso)" xorriso -as mkisofs -R -J -V LIVE_BENCH \
    -o live.iso root >/dev/null
bench_run "xorriso (decoy.iso)" xorriso -as mkisofs -R -J -V DECOY \
    -o decoy.iso decoy >/dev/null
SECT=$((32 * 1024 * 1024 * 2))		# 32 GiB in sectors
P2SZ=65536
P1SZ=$((SECT - 2048 - P2SZ - 2048))
P2START=$((2048 + P1SZ))
truncate -s 32G vt.img
printf 'label: dos\nlabel-id: 0x5a17c0de\nunit: sectors\n2048,%s,7\n%s,%s,ef\n' \
    "$P1SZ" "$P2START" "$P2SZ" >vt.sfdisk
bench_run sfdisk sfdisk -q vt.img <vt.sfdisk >/dev/null
printf '\126\124\117\131\021\042\063\104\125\146\167\210\231\252\273\314' >vt.sig
bench_run "dd (MBR signature)" dd if=vt.sig of=vt.img bs=1 seek=384 conv=notrunc
truncate -s 32M efi.img
bench_run mkfs.vfat mkfs.vfat -F 16 -n VTOYEFI efi.img >/dev/null
bench_run "dd (VTOYEFI into p2)" dd if=efi.img of=vt.img bs=1M \
    seek=$((P2START * 512)) oflag=seek_bytes conv=notrunc
bench_run "losetup (p1)" losetup -f --show -o 1048576 \
    --sizelimit $((P1SZ * 512)) vt.img >loop.txt
LOOP=$(cat loop.txt)
bench_run mkfs.exfat mkfs.exfat -L Ventoy "$LOOP" >/dev/null
bench_run "mount.exfat-fuse (p1)" mount.exfat-fuse "$LOOP" mnt >/dev/null
bench_run "python3 (writing $FILES files onto p1)" python3 - mnt "$FILES" "$DIRS" <<'EOF'
import os, sys
mnt, files, dirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = (files + dirs - 1) // dirs
n = 0
for d in range(dirs):
    p = os.path.join(mnt, 'data%02d' % d)
    os.mkdir(p)
    for i in range(per):
        if n == files:
            break
        with open(os.path.join(p, 'file%05d.txt' % i), 'wb') as f:
            f.write(b'x' * 700)
        n += 1
EOF
mkdir mnt/old
bench_run "cp decoy.iso" cp decoy.iso mnt/old/decoy.iso
bench_run "cp live.iso" cp live.iso mnt/live.iso
bench_run "fusermount -u (p1)" fusermount -u mnt
bench_run "losetup -d (p1)" losetup -d "$LOOP"
LOOP=""

bench_run "liveroot locate --json --label LIVE_BENCH" "$L" locate --json \
    --label LIVE_BENCH vt.img > vt.json
bench_run "python3 (forging the os_param)" python3 \
    "$SRC/scripts/ventoy_param.py" vt.img vt.json vp.bin $((32 << 30))

P1OFF=1048576
cat > peer_blkid.sh <<EOF
l=\$(losetup -f --show -r -o $P1OFF --sizelimit $((P1SZ * 512)) $W/vt.img)
blkid -p \$l >/dev/null; r=\$?
losetup -d \$l
exit \$r
EOF
cat > peer_mount.sh <<EOF
l=\$(losetup -f --show -r -o $P1OFF --sizelimit $((P1SZ * 512)) $W/vt.img)
mount.exfat-fuse -o ro \$l $W/mnt >/dev/null || { losetup -d \$l; exit 1; }
test -f $W/mnt/live.iso; r=\$?
fusermount -u $W/mnt
losetup -d \$l
exit \$r
EOF

# The timed runs: python3 prints its own "bench/locate: ROW failed" line.
st=0
python3 - "$N" "$W/vt.img" \
    "liveroot locate (Ventoy layout search)|$L locate --label LIVE_BENCH $W/vt.img" \
    "liveroot locate --ventoy-param|$L locate --strategy ventoy --ventoy-param $W/vp.bin $W/vt.img" \
    "liveroot locate --iso /live.iso|$L locate --strategy findiso --iso /live.iso $W/vt.img" \
    "peer: blkid -p p1|sh $W/peer_blkid.sh" \
    "peer: losetup+mount.exfat-fuse+test -f|sh $W/peer_mount.sh" <<'EOF' || st=$?
import os, statistics, subprocess, sys, time
n, img, rows = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
def drop():
    subprocess.run(['dd', 'if=' + img, 'iflag=nocache', 'count=0'],
                   stderr=subprocess.DEVNULL)
    try:
        with open('/proc/sys/vm/drop_caches', 'w') as f:
            f.write('1')
    except OSError:
        pass
# Every run's status is checked; the table is printed only when every row
# was measured, so a failure never leaves a row with a missing number.
def run(name, cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    dt = (time.perf_counter() - t) * 1000
    if r.returncode != 0:
        err = r.stderr.decode(errors='replace').strip().splitlines()[-5:]
        sys.stderr.write('bench/locate: %s failed (exit %d): %s\n' % (
            name, r.returncode,
            '\n    '.join(err) if err else '(nothing on stderr)'))
        sys.exit(1)
    return dt
table = []
for row in rows:
    name, cmd = row.split('|', 1)
    cold = []
    for _ in range(n):
        drop()
        cold.append(run(name, cmd))
    run(name, cmd)
    warm = [run(name, cmd) for _ in range(n)]
    table.append((name, statistics.median(cold), statistics.median(warm)))
print('liveroot locate on a 32 GiB Ventoy disk, %s files on exFAT p1 '
      '(median of %d, ms)' % (os.environ.get('FILES', '10000'), n))
print('%-44s %10s %10s' % ('command', 'cold', 'warm'))
for name, cold, warm in table:
    print('%-44s %10.1f %10.1f' % (name, cold, warm))
EOF
[ "$st" = 0 ] || exit 1
