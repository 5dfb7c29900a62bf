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
#           reads/s and cache hit rate, uniform and hot-set patterns
#
# Every file is read once before its timed run, so all rows read from the
# page cache.  Not a test: nothing asserts a timing.  Prints one table.
#
# usage: bench/uzip/run.sh [BUILDDIR]          (default: build)
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
L=$BUILD/cmd/liveroot
RR=$BUILD/bench/uzip_randread
TREE=${TREE:-/usr/bin}
LEVEL=${LEVEL:-9}
JOBS=${JOBS:-$(nproc)}
W=${BENCH_DIR:-/tmp/liveroot-uzip-bench}
READS=${READS:-20000}

for t in mke2fs mksquashfs unsquashfs create_compressed_fs zstd /usr/bin/time; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "bench/uzip: $t is not installed (scripts/install-deps.sh)" >&2
		exit 2
	fi
done
for f in "$L" "$RR"; do
	[ -x "$f" ] || { echo "bench/uzip: build first: $f" >&2; exit 2; }
done

rm -rf "$W"
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT INT TERM

now() { date +%s.%N; }
# secs START END
secs() { echo "$1 $2" | awk '{ printf "%.2f", $2 - $1 }'; }
# mbs BYTES SECONDS
mbs() { echo "$1 $2" | awk '{ printf "%.1f", ($2 > 0 ? $1 / $2 / 1e6 : 0) }'; }
size() { stat -c %s "$1"; }
mib() { echo "$1" | awk '{ printf "%.1f", $1 / 1048576 }'; }
warm() { cat "$@" >/dev/null; }
# best3 CMD...: "WALL CPU" of the run with the shortest wall time of three
# (the machine is shared; CPU = user + sys seconds, from GNU time)
best3() {
	b=""
	for _ in 1 2 3; do
		/usr/bin/time -f "%e %U %S" -o "$W/time.txt" "$@" >/dev/null 2>&1 || true
		r=$(awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$W/time.txt")
		if [ -z "$b" ] || [ "$(echo "$r $b" | awk '{ print ($1 < $3) }')" = 1 ]; then
			b=$r
		fi
	done
	echo "$b"
}
# once CMD...: "WALL CPU" of one run
once() {
	/usr/bin/time -f "%e %U %S" -o "$W/time.txt" "$@" >/dev/null 2>&1 || true
	awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$W/time.txt"
}
wall() { echo "${1% *}"; }
cpu() { echo "${1#* }"; }

TREE_MB=$(du -sm "$TREE" | cut -f1)
IMG_MB=$((TREE_MB * 115 / 100 + 64))
echo "bench/uzip: ext4 image of $TREE ($TREE_MB MB) -> $IMG_MB MB image" >&2
mke2fs -q -F -t ext4 -b 4096 -d "$TREE" "$W/root.ext4" "${IMG_MB}M"
IMG=$W/root.ext4
ISZ=$(size "$IMG")
TSZ=$(du -sb "$TREE" | cut -f1)
warm "$IMG"

ROWS=""
row() { ROWS="$ROWS$1
"; }

# --- create -----------------------------------------------------------------
echo "bench/uzip: create" >&2
r=$(once "$L" mkuzip -A zstd -C "$LEVEL" -j "$JOBS" -s 131072 -o "$W/root.uzip" "$IMG")
s=$(wall "$r")
row "create|liveroot mkuzip -A zstd -C $LEVEL -j $JOBS -s 128K|$(mib "$ISZ") MiB image|$s ($(cpu "$r"))|$(mbs "$ISZ" "$s")|$(mib "$(size "$W/root.uzip")")"

warm -r "$TREE" 2>/dev/null || find "$TREE" -type f -exec cat {} + >/dev/null 2>&1 || true
r=$(once mksquashfs "$TREE" "$W/root.sqfs" -comp zstd -Xcompression-level "$LEVEL" \
    -b 128K -processors "$JOBS" -noappend -quiet -no-progress)
s=$(wall "$r")
row "create|mksquashfs -comp zstd -Xcompression-level $LEVEL -b 128K -processors $JOBS|$(mib "$TSZ") MiB tree|$s ($(cpu "$r"))|$(mbs "$TSZ" "$s")|$(mib "$(size "$W/root.sqfs")")"

r=$(once create_compressed_fs -q -B 131072 -t "$JOBS" "$IMG" "$W/root.cloop")
s=$(wall "$r")
row "create|create_compressed_fs -B 131072 -t $JOBS (zlib 9)|$(mib "$ISZ") MiB image|$s ($(cpu "$r"))|$(mbs "$ISZ" "$s")|$(mib "$(size "$W/root.cloop")")"

zstd -q -"$LEVEL" -T"$JOBS" "$IMG" -o "$W/root.ext4.zst"
row "create|(zstd -$LEVEL -T$JOBS, one stream, for the read row)|$(mib "$ISZ") MiB image|-|-|$(mib "$(size "$W/root.ext4.zst")")"

# --- sequential read -----------------------------------------------------------
echo "bench/uzip: sequential read" >&2
warm "$W/root.uzip" "$W/root.sqfs" "$W/root.ext4.zst"
for w in 1 2; do
	r=$(best3 sh -c "\"$L\" uzip extract -w $w \"$W/root.uzip\" - >/dev/null")
	s=$(wall "$r")
	row "read|liveroot uzip extract -w $w (to /dev/null)|$(mib "$ISZ") MiB device|$s ($(cpu "$r"))|$(mbs "$ISZ" "$s")|-"
done

US=$(mktemp -d /dev/shm/liveroot-unsquash.XXXXXX)
r=$(best3 unsquashfs -f -q -n -d "$US/t" -processors "$JOBS" "$W/root.sqfs")
s=$(wall "$r")
rm -rf "$US"
row "read|unsquashfs -processors $JOBS (to tmpfs)|$(mib "$TSZ") MiB tree|$s ($(cpu "$r"))|$(mbs "$TSZ" "$s")|-"

r=$(best3 sh -c "zstd -q -T1 -d -c \"$W/root.ext4.zst\" >/dev/null")
s=$(wall "$r")
row "read|zstd -T1 -d (one stream, to /dev/null)|$(mib "$ISZ") MiB image|$s ($(cpu "$r"))|$(mbs "$ISZ" "$s")|-"

# The same without the ext4 free space (no zero clusters to skip): the
# tree's files concatenated, up to 256 MiB.
find "$TREE" -type f -print0 | xargs -0 cat 2>/dev/null | head -c 268435456 \
    >"$W/cat.bin" || true
CSZ=$(size "$W/cat.bin")
"$L" mkuzip -A zstd -C "$LEVEL" -j "$JOBS" -s 131072 -o "$W/cat.uzip" "$W/cat.bin"
zstd -q -"$LEVEL" -T"$JOBS" "$W/cat.bin" -o "$W/cat.zst"
rm -f "$W/cat.bin"
warm "$W/cat.uzip" "$W/cat.zst"
for w in 1 2; do
	r=$(best3 sh -c "\"$L\" uzip extract -w $w \"$W/cat.uzip\" - >/dev/null")
	s=$(wall "$r")
	row "read|liveroot uzip extract -w $w, files concatenated (no zero clusters)|$(mib "$CSZ") MiB|$s ($(cpu "$r"))|$(mbs "$CSZ" "$s")|-"
done
r=$(best3 sh -c "zstd -q -T1 -d -c \"$W/cat.zst\" >/dev/null")
s=$(wall "$r")
row "read|zstd -T1 -d, files concatenated|$(mib "$CSZ") MiB|$s ($(cpu "$r"))|$(mbs "$CSZ" "$s")|-"

# --- random reads ----------------------------------------------------------------
echo "bench/uzip: random 4 KiB reads" >&2
RRT=$W/rr.txt
"$RR" "$W/root.uzip" "$READS" 1 1 >"$RRT"
"$RR" "$W/root.uzip" "$READS" 2 2 >>"$RRT"

# --- the table ---------------------------------------------------------------------
echo
echo "uzip bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$("$L" uzip info "$W/root.uzip" | grep '^clusters:')"
echo "input: ext4 image of $TREE, $(mib "$ISZ") MiB (tree $(mib "$TSZ") MiB); zstd level $LEVEL, 128 KiB clusters/blocks, $JOBS threads"
echo
echo "seconds = wall (user+sys CPU); read rows: the best wall time of 3 runs; MB/s from wall time."
echo
echo "| what | command | input | seconds | MB/s | output MiB |"
echo "|---|---|---|---|---|---|"
printf '%s' "$ROWS" | while IFS='|' read -r a b c d e f; do
	[ -n "$a" ] && echo "| $a | $b | $c | $d | $e | $f |"
done
echo
echo "random 4 KiB reads through bdev_uzip ($READS reads, fixed seed; hot = 90% in the first 10%):"
echo
echo "| pattern | threads | workers | reads/s | cache hit rate | cache clusters |"
echo "|---|---|---|---|---|---|"
i=0
while read -r pat n _ th _ rs _ _ hit _ cc _; do
	i=$((i + 1))
	wk=1
	[ "$i" -gt 2 ] && wk=2
	echo "| $pat | $th | $wk | $rs | $hit | ${cc#(} |"
done <"$RRT"
