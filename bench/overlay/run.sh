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
# RAM.  Both liveroot rows write into their RAM upper, never into the lower
# file (so serve's --writable-lower is not involved).  Each server starts
# fresh; reads run before writes, so reads come from the lower.  Rates are
# MiB/s (2^20 bytes per second).  A server that does not start or dies, a
# client that cannot run, or a command that fails stops the script, naming
# it and the end of its stderr (exit 1).  Failed requests are counted by the
# client: a cell with failed requests is marked, the "client errors" row
# sums them, and the script exits 1 after the table.  Not a test: nothing
# asserts a timing.
#
# usage: bench/overlay/run.sh [--check] [BUILDDIR]     (default: build)
set -eu

BENCH=overlay
SRC=$(cd "$(dirname "$0")/../.." && pwd)
USAGE="env: SIZE_MB (device size, default 256), QD (queue depth, default 16),
     REPS (repetitions per row, the best counts; default 3; 1 = first
     writes only), ROW_MB (MiB moved per row and repetition; default 64
     for 4 KiB rows, 256 for 128 KiB rows),
     BENCH_DIR (scratch, default /dev/shm/liveroot-bench)"
. "$SRC/bench/lib.sh"
bench_args "$@"
SIZE_MB=${SIZE_MB:-256}
QD=${QD:-16}
REPS=${REPS:-3}
ROW_MB=${ROW_MB:-}
W=${BENCH_DIR:-/dev/shm/liveroot-bench}
SOCK=$W/s.sock
URI="nbd+unix:///?socket=$SOCK"

bench_knob SIZE_MB 1
bench_knob QD 1
bench_knob REPS 1
[ -z "$ROW_MB" ] || bench_knob ROW_MB 1
bench_need_exe "$L"
bench_need_tool nbdkit=nbdkit qemu-nbd=qemu-utils qemu-img=qemu-utils \
    cc=build-essential pkg-config=pkg-config
pkg-config --exists libnbd ||
    bench_err "libnbd is not installed: install the Debian package libnbd-dev (scripts/install-deps.sh)"
bench_checked "liveroot $L" "tools: nbdkit qemu-nbd qemu-img cc pkg-config libnbd"

rm -rf "$W"
mkdir -p "$W"
PID=""
trap '[ -z "$PID" ] || kill $PID 2>/dev/null; rm -rf "$W"' EXIT
trap 'exit 2' INT TERM

# shellcheck disable=SC2046
bench_run "cc bench/overlay/client.c" cc -O2 -std=c11 -D_DEFAULT_SOURCE \
    -o "$W/client" "$SRC/bench/overlay/client.c" $(pkg-config --cflags --libs libnbd)

# The lower: per MiB random, text, zeros, text (compresses about 2:1).
echo "bench/overlay: making a $SIZE_MB MiB lower" >&2
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
[ "$(stat -c %s "$W/lower.raw")" = $((SIZE_MB * 1048576)) ] ||
    bench_die "the lower $W/lower.raw is not $SIZE_MB MiB (is $W full?)"
bench_run "liveroot mkuzip" "$L" mkuzip -A zstd -o "$W/lower.uzip" \
    "$W/lower.raw" >/dev/null

# wait_sock NAME: the server $PID must create $SOCK (within 20 s)
wait_sock() {
	i=0
	while [ ! -S "$SOCK" ]; do
		if ! kill -0 "$PID" 2>/dev/null; then
			st=0
			wait "$PID" || st=$?
			PID=""
			bench_fail "server $1" "$st" "$W/$1.err"
		fi
		i=$((i + 1))
		if [ $i -gt 400 ]; then
			kill "$PID" 2>/dev/null || true
			PID=""
			bench_die "server $1 made no socket $SOCK within 20 s: $(tail -n 5 "$W/$1.err")"
		fi
		sleep 0.05
	done
	sleep 0.1
}

ROWS="seqread:4096 randread:4096 seqread:131072 randread:131072
seqwrite:4096 randwrite:4096 seqwrite:131072 randwrite:131072"

# run_server NAME: the server is already starting as $PID, its stderr in
# $W/NAME.err; appends "NAME OP BS MiB/s IOPS ERRORS" lines to $W/results
run_server() {
	name=$1
	wait_sock "$name"
	for r in $ROWS; do
		op=${r%:*}
		bs=${r#*:}
		if [ -n "$ROW_MB" ]; then total=$((ROW_MB * 1048576))
		elif [ "$bs" -eq 4096 ]; then total=$((64 * 1048576))
		else total=$((256 * 1048576)); fi
		# Best of REPS: the machine may be shared.  Writes after the
		# first repetition overwrite what the first one allocated.
		: >"$W/reps"
		k=0
		while [ $k -lt "$REPS" ]; do
			st=0
			"$W/client" "$URI" "$op" "$bs" "$total" "$QD" 42 \
			    >"$W/client.out" 2>"$W/client.err" || st=$?
			# 1: some requests failed; the line is there all the same
			if [ "$st" -gt 1 ] ||
			    ! grep -q "^$op $bs [0-9.]* [0-9]* [0-9]*\$" "$W/client.out"; then
				bench_fail "client $op $bs against $name" "$st" "$W/client.err"
			fi
			cat "$W/client.out" >>"$W/reps"
			[ "$st" = 0 ] ||
			    sed "s/^/$name: /" "$W/client.err" >>"$W/client-errors.txt"
			k=$((k + 1))
		done
		# the best rate; the errors of every repetition
		awk -v n="$name" '$3 > b || NR == 1 { b = $3; io = $4 } { e += $5 }
		    END { printf "%s %s %s %.1f %.0f %d\n", n, $1, $2, b, io, e }' \
		    "$W/reps" >>"$W/results"
		kill -0 "$PID" 2>/dev/null ||
		    { st=0; wait "$PID" || st=$?; PID=""
		      bench_fail "server $name (died during $op $bs)" "$st" "$W/$name.err"; }
	done
	rss=$(awk '/VmRSS/ { print $2 }' "/proc/$PID/status")
	echo "$name rss $rss" >>"$W/results"
	kill -TERM "$PID"
	st=0
	wait "$PID" || st=$?
	PID=""
	[ "$st" = 0 ] || bench_fail "server $name (stopping on SIGTERM)" "$st" "$W/$name.err"
	rm -f "$SOCK"
}

: >"$W/results"
echo "bench/overlay: liveroot raw" >&2
"$L" serve -v --lower "$W/lower.raw" --upper mem:4G --unix "$SOCK" \
    >/dev/null 2>"$W/lr-raw.err" &
PID=$!
run_server lr-raw
echo "bench/overlay: liveroot uzip" >&2
"$L" serve -v --lower "$W/lower.uzip" --upper mem:4G --unix "$SOCK" \
    >/dev/null 2>"$W/lr-uzip.err" &
PID=$!
run_server lr-uzip
echo "bench/overlay: nbdkit cow" >&2
TMPDIR=$W nbdkit -f -U "$SOCK" --filter=cow file file="$W/lower.raw" \
    >/dev/null 2>"$W/nbdkit.err" &
PID=$!
run_server nbdkit
echo "bench/overlay: qemu-nbd qcow2" >&2
bench_run "qemu-img create (qcow2 overlay)" qemu-img create -q -f qcow2 \
    -b "$W/lower.raw" -F raw "$W/ov.qcow2"
qemu-nbd -t -k "$SOCK" -f qcow2 "$W/ov.qcow2" >/dev/null 2>"$W/qemu.err" &
PID=$!
run_server qemu

map=$(sed -n 's/.*map \([0-9]*\) bytes.*/\1/p' "$W/lr-raw.err" | head -n 1)
cell() {	# cell SERVER OP BS
	awk -v s="$1" -v o="$2" -v b="$3" \
	    '$1 == s && $2 == o && $3 == b { printf "%s MiB/s, %s IOPS", $4, $5
	    if ($6 != 0) printf ", %d ERRORS", $6 }' "$W/results"
}
errs() { awk -v s="$1" '$1 == s && $2 != "rss" { e += $6 } END { print e + 0 }' "$W/results"; }
rss() { awk -v s="$1" '$1 == s && $2 == "rss" { printf "%d MiB", $3 / 1024 }' "$W/results"; }

echo
echo "Device $SIZE_MB MiB, queue depth $QD, best of $REPS, unix socket, overlays in RAM;"
echo "uzip lower made by liveroot mkuzip (zstd).  $(nproc) CPUs, $(uname -r)."
echo "MiB/s = 2^20 bytes per second; client errors = failed requests over all repetitions."
echo
echo "| op | bs | liveroot raw+RAM | liveroot uzip+RAM | nbdkit file+cow | qemu-nbd qcow2 |"
echo "|---|---|---|---|---|---|"
for r in $ROWS; do
	op=${r%:*}
	bs=${r#*:}
	echo "| $op | $((bs / 1024))K | $(cell lr-raw "$op" "$bs") | $(cell lr-uzip "$op" "$bs") | $(cell nbdkit "$op" "$bs") | $(cell qemu "$op" "$bs") |"
done
echo "| client errors | | $(errs lr-raw) | $(errs lr-uzip) | $(errs nbdkit) | $(errs qemu) |"
echo "| server RSS after the run | | $(rss lr-raw) | $(rss lr-uzip) | $(rss nbdkit) | $(rss qemu) |"
if [ -n "$map" ]; then
	echo "| overlay map per GiB | | 32 KiB (1 bit per 4K granule; $map bytes measured for $SIZE_MB MiB incl. the fixed lock table) | same | 4 KiB (2 bits per 64K block) | 128 KiB of L2 entries (8 B per 64K cluster, cached) |"
fi
echo
echo "liveroot RSS includes the written data (its upper is in the process);"
echo "the peers keep theirs in files under $W (RAM, but outside the process)."
ERRS=$(awk '$2 != "rss" { e += $6 } END { print e + 0 }' "$W/results")
if [ "$ERRS" != 0 ]; then
	cat "$W/client-errors.txt" >&2
	bench_die "$ERRS client requests failed (cells marked ERRORS above): those numbers are not valid"
fi
