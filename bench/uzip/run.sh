#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/uzip/run.sh - uzip create and read speed, liveroot beside its peers,
# measured in the same run on the same input:
#
#   input   an ext4 image of a real tree (TREE, default /usr/bin, >= 300 MB)
#           made with mke2fs -d, in BENCH_DIR (default /tmp/liveroot-uzip-bench)
#   create  128 KiB clusters, zstd level LEVEL (default 9), JOBS threads:
#           liveroot mkuzip -A zstd | mksquashfs of TREE (zstd, same level,
#           -b 128K, same threads) | create_compressed_fs (cloop, zlib)
#   read    the whole device sequentially: liveroot uzip extract (1 and 2
#           workers) | unsquashfs (to a tmpfs dir) | zstd -T1 -d of the
#           image compressed as one stream at the same level
#   random  4 KiB reads through bdev_uzip (bench/uzip_randread, fixed seed):
#           reads/s, cache hit rate and read errors, uniform and hot-set
#
# Every file is read once before its timed run, so all rows read from the
# page cache.  Rates are MiB/s (2^20 bytes per second of wall time).  Every
# command is checked: a failure stops the script naming it and the end of
# its stderr (exit 1); read errors of uzip_randread are shown in the table,
# mark the row and make the script exit 1 after the table.  Not a test:
# nothing asserts a timing.
#
# usage: bench/uzip/run.sh [--check] [BUILDDIR]   (default: build)
set -eu

BENCH=uzip
SRC=$(cd "$(dirname "$0")/../.." && pwd)
USAGE="env: TREE (default /usr/bin), LEVEL (9), JOBS (nproc), READS (20000),
     BENCH_DIR (default /tmp/liveroot-uzip-bench)"
. "$SRC/bench/lib.sh"
bench_args "$@"
RR=$BUILD/bench/uzip_randread
TREE=${TREE:-/usr/bin}
LEVEL=${LEVEL:-9}
JOBS=${JOBS:-$(nproc)}
W=${BENCH_DIR:-/tmp/liveroot-uzip-bench}
READS=${READS:-20000}

bench_knob LEVEL 1
bench_knob JOBS 1
bench_knob READS 2
bench_need_exe "$L" "$RR"
bench_need_tool mke2fs=e2fsprogs mksquashfs=squashfs-tools \
    unsquashfs=squashfs-tools create_compressed_fs=cloop-utils zstd=zstd \
    /usr/bin/time=time
[ -d "$TREE" ] || bench_err "TREE=$TREE is not a directory: set TREE to the tree to image"
bench_checked "liveroot $L" "uzip_randread $RR" "tools: mke2fs mksquashfs unsquashfs create_compressed_fs zstd /usr/bin/time" "TREE $TREE"

rm -rf "$W"
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT
trap 'exit 2' INT TERM

size() { stat -c %s "$1"; }
warm() { cat "$@" >/dev/null; }

TREE_MB=$(du -sm "$TREE" | cut -f1)
IMG_MB=$((TREE_MB * 115 / 100 + 64))
echo "bench/uzip: ext4 image of $TREE ($TREE_MB MiB) -> $IMG_MB MiB image" >&2
bench_run "mke2fs -d $TREE" mke2fs -q -F -t ext4 -b 4096 -d "$TREE" \
    "$W/root.ext4" "${IMG_MB}M" >/dev/null
IMG=$W/root.ext4
ISZ=$(size "$IMG")
TSZ=$(du -sb "$TREE" | cut -f1)
warm "$IMG"

ROWS=""
# row WHAT COMMAND INPUT BYTES OUTFILE|-: one table row from WALL and CPU
row() {
	out=-
	[ "$5" = - ] || out=$(bench_mib "$(size "$5")")
	ROWS="$ROWS$1|$2|$3|$WALL ($CPU)|$(bench_mibs "$4" "$WALL")|$out
"
}
# extract_rows UZIP BYTES WHAT ROWNOTE SIZE: the read rows of `liveroot uzip
# extract -w 1` and `-w 2` of UZIP (BYTES out; WHAT ends the failure name,
# ROWNOTE the row's name, SIZE is its size column)
extract_rows() {
	for w in 1 2; do
		bench_best3 "liveroot uzip extract -w $w$3" \
		    "$L" uzip extract -w "$w" "$1" -
		row read "liveroot uzip extract -w $w$4" "$5" "$2" -
	done
}

# --- create -----------------------------------------------------------------
echo "bench/uzip: create" >&2
bench_timed "liveroot mkuzip" "$L" mkuzip -A zstd -C "$LEVEL" -j "$JOBS" \
    -s 131072 -o "$W/root.uzip" "$IMG"
row create "liveroot mkuzip -A zstd -C $LEVEL -j $JOBS -s 128K" \
    "$(bench_mib "$ISZ") MiB image" "$ISZ" "$W/root.uzip"

find "$TREE" -type f -exec cat {} + >/dev/null 2>&1 || true
bench_timed mksquashfs mksquashfs "$TREE" "$W/root.sqfs" -comp zstd \
    -Xcompression-level "$LEVEL" -b 128K -processors "$JOBS" -noappend \
    -quiet -no-progress
row create "mksquashfs -comp zstd -Xcompression-level $LEVEL -b 128K -processors $JOBS" \
    "$(bench_mib "$TSZ") MiB tree" "$TSZ" "$W/root.sqfs"

bench_timed create_compressed_fs create_compressed_fs -q -B 131072 \
    -t "$JOBS" "$IMG" "$W/root.cloop"
row create "create_compressed_fs -B 131072 -t $JOBS (zlib 9)" \
    "$(bench_mib "$ISZ") MiB image" "$ISZ" "$W/root.cloop"

bench_run "zstd -$LEVEL (one stream)" zstd -q -"$LEVEL" -T"$JOBS" "$IMG" \
    -o "$W/root.ext4.zst"
ROWS="${ROWS}create|(zstd -$LEVEL -T$JOBS, one stream, for the read row)|$(bench_mib "$ISZ") MiB image|-|-|$(bench_mib "$(size "$W/root.ext4.zst")")
"

# --- sequential read -----------------------------------------------------------
echo "bench/uzip: sequential read" >&2
warm "$W/root.uzip" "$W/root.sqfs" "$W/root.ext4.zst"
extract_rows "$W/root.uzip" "$ISZ" "" " (to /dev/null)" \
    "$(bench_mib "$ISZ") MiB device"

US=$(mktemp -d /dev/shm/liveroot-unsquash.XXXXXX)
trap 'rm -rf "$W" "$US"' EXIT
bench_best3 unsquashfs unsquashfs -f -q -n -d "$US/t" -processors "$JOBS" \
    "$W/root.sqfs"
rm -rf "$US"
row read "unsquashfs -processors $JOBS (to tmpfs)" \
    "$(bench_mib "$TSZ") MiB tree" "$TSZ" -

bench_best3 "zstd -d" zstd -q -T1 -d -c "$W/root.ext4.zst"
row read "zstd -T1 -d (one stream, to /dev/null)" \
    "$(bench_mib "$ISZ") MiB image" "$ISZ" -

# The same without the ext4 free space (no zero clusters to skip): the
# tree's files concatenated, up to 256 MiB (head ends the pipe early).
find "$TREE" -type f -print0 | xargs -0 cat 2>/dev/null | head -c 268435456 \
    >"$W/cat.bin" || true
CSZ=$(size "$W/cat.bin")
[ "$CSZ" -gt 0 ] || bench_die "no file content under TREE=$TREE to concatenate"
bench_run "liveroot mkuzip (files concatenated)" "$L" mkuzip -A zstd \
    -C "$LEVEL" -j "$JOBS" -s 131072 -o "$W/cat.uzip" "$W/cat.bin" >/dev/null
bench_run "zstd -$LEVEL (files concatenated)" zstd -q -"$LEVEL" -T"$JOBS" \
    "$W/cat.bin" -o "$W/cat.zst"
rm -f "$W/cat.bin"
warm "$W/cat.uzip" "$W/cat.zst"
extract_rows "$W/cat.uzip" "$CSZ" " (files concatenated)" \
    ", files concatenated (no zero clusters)" "$(bench_mib "$CSZ") MiB"
bench_best3 "zstd -d (files concatenated)" zstd -q -T1 -d -c "$W/cat.zst"
row read "zstd -T1 -d, files concatenated" "$(bench_mib "$CSZ") MiB" "$CSZ" -

# --- random reads ----------------------------------------------------------------
# uzip_randread exits 0 (no read errors), 1 (its line printed with a
# non-zero error count: shown in the table) or 2 (it could not run).
echo "bench/uzip: random 4 KiB reads" >&2
RRT=$W/rr.txt
: >"$RRT"
for tw in "1 1" "2 2"; do
	# shellcheck disable=SC2086
	set -- $tw
	st=0
	"$RR" "$W/root.uzip" "$READS" "$1" "$2" >"$W/rr1.txt" 2>"$W/rr$1.err" || st=$?
	n=$(grep -c ' errors [0-9]*$' "$W/rr1.txt" || true)
	if [ "$st" -gt 1 ] || [ "$n" != 2 ]; then
		bench_fail "uzip_randread ($1 threads, $2 workers)" "$st" "$W/rr$1.err"
	fi
	cat "$W/rr1.txt" >>"$RRT"
done
bench_run "liveroot uzip info" "$L" uzip info "$W/root.uzip" >"$W/info.txt"
CLUSTERS=$(grep '^clusters:' "$W/info.txt") ||
    bench_die "liveroot uzip info printed no 'clusters:' line"

# --- the table ---------------------------------------------------------------------
echo
echo "uzip bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$CLUSTERS"
echo "input: ext4 image of $TREE, $(bench_mib "$ISZ") MiB (tree $(bench_mib "$TSZ") MiB); zstd level $LEVEL, 128 KiB clusters/blocks, $JOBS threads"
echo
echo "seconds = wall (user+sys CPU); read rows: the best wall time of 3 runs; MiB/s = input MiB / wall seconds (- below 0.01 s)."
echo
echo "| what | command | input | seconds | MiB/s | output MiB |"
echo "|---|---|---|---|---|---|"
printf '%s' "$ROWS" | while IFS='|' read -r a b c d e f; do
	[ -n "$a" ] && echo "| $a | $b | $c | $d | $e | $f |"
done
echo
echo "random 4 KiB reads through bdev_uzip ($READS reads, fixed seed; hot = 90% in the first 10%):"
echo
echo "| pattern | threads | workers | reads/s | cache hit rate | cache clusters | errors |"
echo "|---|---|---|---|---|---|---|"
# uzip_randread's line: PATTERN N reads T threads W workers R reads/s hit H%
# (cache C clusters, Z zero) errors E
awk '{ e = $NF; printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $4, $6,
    $8, $11, $13, (e == 0 ? "0" : e " (FAILED)") }' "$RRT"
ERRS=$(awk '{ s += $NF } END { print s + 0 }' "$RRT")
if [ "$ERRS" != 0 ]; then
	cat "$W"/rr*.err >&2
	bench_die "uzip_randread had $ERRS read errors (rows marked FAILED above): the random-read numbers are not valid"
fi
