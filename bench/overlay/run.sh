#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/overlay/run.sh - overlay throughput over NBD, liveroot beside its
# peers, measured by one client (client.c, libnbd) in the same run:
#
#   liveroot raw   liveroot serve --lower RAW  --upper mem:   (rowr + RAM)
#   liveroot uzip  liveroot serve --lower UZIP --upper mem:   (uzip + rowr)
#   nbdkit cow     nbdkit --filter=cow file file=RAW          (cow temp file)
#   qemu-nbd       qemu-nbd on a qcow2 overlay, backing file RAW
#
# Every overlay lives in RAM (/dev/shm), so the comparison is RAM against
# RAM.  Each server starts fresh; reads run before writes, so reads come from
# the lower.  Not a test: nothing asserts a timing.
#
# usage: bench/overlay/run.sh [BUILDDIR]     (default: build)
# env:   SIZE_MB (device size, default 256), QD (queue depth, default 16),
#        REPS (repetitions per row, the best counts; default 3; 1 = first
#        writes only),
#        BENCH_DIR (scratch, default /dev/shm/liveroot-bench)
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
L=$BUILD/cmd/liveroot
SIZE_MB=${SIZE_MB:-256}
QD=${QD:-16}
REPS=${REPS:-3}
W=${BENCH_DIR:-/dev/shm/liveroot-bench}
SOCK=$W/s.sock
URI="nbd+unix:///?socket=$SOCK"

for t in nbdkit qemu-nbd qemu-img cc pkg-config; do
	command -v $t >/dev/null 2>&1 || { echo "run.sh: $t missing" >&2; exit 1; }
done
[ -x "$L" ] || { echo "run.sh: no $L (build first)" >&2; exit 1; }
rm -rf "$W"
mkdir -p "$W"
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$W"' EXIT INT TERM

cc -O2 -std=c11 -D_DEFAULT_SOURCE -o "$W/client" "$SRC/bench/overlay/client.c" \
    $(pkg-config --cflags --libs libnbd)

# The lower: per MiB random, text, zeros, text (compresses about 2:1).
echo "run.sh: making a $SIZE_MB MiB lower" >&2
seq 1 200000 | sed 's/.*/line & of the benchmark lower image, some text/' |
    head -c 1048576 >"$W/text"
i=0
while [ $i -lt "$SIZE_MB" ]; do
	case $((i % 4)) in
	0) head -c 1048576 /dev/urandom ;;
	2) head -c 1048576 /dev/zero ;;
	*) cat "$W/text" ;;
	esac
	i=$((i + 1))
done >"$W/lower.raw"
if "$L" mkuzip --help >/dev/null 2>&1; then
	"$L" mkuzip -A zstd -o "$W/lower.uzip" "$W/lower.raw" >/dev/null
	UZIPBY="liveroot mkuzip (zstd)"
else
	create_compressed_fs -q -B 65536 "$W/lower.raw" "$W/lower.uzip" \
	    >/dev/null 2>&1
	UZIPBY="create_compressed_fs (zlib, 64K)"
fi

wait_sock() {
	i=0
	while [ ! -S "$SOCK" ]; do
		i=$((i + 1))
		[ $i -gt 400 ] && { echo "run.sh: server did not start" >&2; return 1; }
		sleep 0.05
	done
	sleep 0.1
}

ROWS="seqread:4096 randread:4096 seqread:131072 randread:131072
seqwrite:4096 randwrite:4096 seqwrite:131072 randwrite:131072"

# run_server NAME: the server is already starting as $PID.
run_server() {
	name=$1
	wait_sock
	for r in $ROWS; do
		op=${r%:*}
		bs=${r#*:}
		if [ "$bs" -eq 4096 ]; then total=$((64 * 1048576)); else
			total=$((256 * 1048576)); fi
		# Best of REPS: the machine may be shared.  Writes after the
		# first repetition overwrite what the first one allocated.
		k=0
		while [ $k -lt "$REPS" ]; do
			"$W/client" "$URI" "$op" "$bs" "$total" "$QD" 42
			k=$((k + 1))
		done | sort -k3,3 -g -r | head -n 1 |
		    awk -v n="$name" '{ printf "%s %s %s %.1f %.0f\n", n, $1, $2, $3, $4 }' \
		    >>"$W/results"
	done
	rss=$(awk '/VmRSS/ { print $2 }' /proc/$PID/status)
	echo "$name rss $rss" >>"$W/results"
	kill -TERM $PID
	wait $PID || true
	PID=""
	rm -f "$SOCK"
}

: >"$W/results"
echo "run.sh: liveroot raw" >&2
"$L" serve -v --lower "$W/lower.raw" --upper mem:4G --unix "$SOCK" \
    >/dev/null 2>"$W/lr-raw.err" &
PID=$!
run_server lr-raw
echo "run.sh: liveroot uzip" >&2
"$L" serve -v --lower "$W/lower.uzip" --upper mem:4G --unix "$SOCK" \
    >/dev/null 2>"$W/lr-uzip.err" &
PID=$!
run_server lr-uzip
echo "run.sh: nbdkit cow" >&2
TMPDIR=$W nbdkit -f -U "$SOCK" --filter=cow file file="$W/lower.raw" &
PID=$!
run_server nbdkit
echo "run.sh: qemu-nbd qcow2" >&2
qemu-img create -q -f qcow2 -b "$W/lower.raw" -F raw "$W/ov.qcow2"
qemu-nbd -t -k "$SOCK" -f qcow2 "$W/ov.qcow2" &
PID=$!
run_server qemu

map=$(sed -n 's/.*map \([0-9]*\) bytes.*/\1/p' "$W/lr-raw.err" | head -n 1)
cell() {	# cell SERVER OP BS
	awk -v s="$1" -v o="$2" -v b="$3" \
	    '$1 == s && $2 == o && $3 == b { printf "%s MB/s, %s IOPS", $4, $5 }' \
	    "$W/results"
}
rss() { awk -v s="$1" '$1 == s && $2 == "rss" { printf "%d MiB", $3 / 1024 }' "$W/results"; }

echo
echo "Device $SIZE_MB MiB, queue depth $QD, best of $REPS, unix socket, overlays in RAM;"
echo "uzip lower made by $UZIPBY.  $(nproc) CPUs, $(uname -r)."
echo
echo "| op | bs | liveroot raw+RAM | liveroot uzip+RAM | nbdkit file+cow | qemu-nbd qcow2 |"
echo "|---|---|---|---|---|---|"
for r in $ROWS; do
	op=${r%:*}
	bs=${r#*:}
	echo "| $op | $((bs / 1024))K | $(cell lr-raw $op $bs) | $(cell lr-uzip $op $bs) | $(cell nbdkit $op $bs) | $(cell qemu $op $bs) |"
done
echo "| server RSS after the run | | $(rss lr-raw) | $(rss lr-uzip) | $(rss nbdkit) | $(rss qemu) |"
if [ -n "$map" ]; then
	echo "| overlay map per GiB | | 32 KiB (1 bit per 4K granule; $map bytes measured for $SIZE_MB MiB incl. the fixed lock table) | same | 4 KiB (2 bits per 64K block) | 128 KiB of L2 entries (8 B per 64K cluster, cached) |"
fi
echo
echo "liveroot RSS includes the written data (its upper is in the process);"
echo "the peers keep theirs in files under $W (RAM, but outside the process)."
