#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench_scripts.sh - the bench/*/run.sh scripts fail loudly (issue 8, item 8):
#   (a) a relative build directory is resolved against the caller's cwd
#       (`sh bench/locate/run.sh build` used to stop at
#       "build/cmd/liveroot: not found" after the script's cd): --check with
#       a relative path from another directory, and the failure runs below
#       all reach their measured command through a relative path;
#   (b) a missing build directory (or binary) stops at once with an error
#       naming the absolute path and the fix ("make build"), exit 2;
#   (c) a failing measured command stops the script with
#       "bench/NAME: WHAT failed (exit 3): <its stderr>" and exit 1 before
#       any table row: a stub cmd/liveroot that exits 3 for one command
#       (BENCH_STUB_FAIL, a case pattern over its arguments) and runs the
#       real binary otherwise;
#   (d) a client's error count is shown: a stub uzip_randread reporting
#       failed reads, and a stub `serve` (nbdkit with its error filter) that
#       fails some reads, give a table whose rows are marked, then exit 1.
# Tiny sizes throughout (seconds); no timing is looked at.  bench/boot and
# bench/liveio are only run with --check and a missing build directory (a
# real run boots QEMU for minutes).  The bench/locate parts need root (loop devices, FUSE).
#
# Exits 0 all good, 1 on failure.

set -u

: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
: "${SRCDIR:?SRCDIR must name the source tree}"
: "${BUILDDIR:?BUILDDIR must name the build directory}"

W=$(mktemp -d "${TMPDIR:-/tmp}/bench_scripts.XXXXXX") || exit 1
# unix socket paths are short: the overlay scratch stays under /tmp
OV=$(mktemp -d /tmp/lrbench-ov.XXXXXX) || exit 1
trap 'rm -rf "$W" "$OV"' EXIT
trap 'exit 1' INT TERM

. "$(dirname "$0")/lib.sh"
LIB_TAP=1
# show NAME: the last run's output, for the log
show() {
	echo "--- $1: exit $rc; stdout:"
	sed 's/^/    /' "$W/out"
	echo "--- stderr:"
	sed 's/^/    /' "$W/err"
}
# bench NAME ARGS...: run bench/NAME/run.sh from $W (so relative paths
# are relative to $W), output in $W/out and $W/err, status in $rc
bench() {
	b=$1
	shift
	rc=0
	(cd "$W" && sh "$SRCDIR/bench/$b/run.sh" "$@") >"$W/out" 2>"$W/err" || rc=$?
	show "bench/$b $*"
}
# no_rows: stdout holds no table row and no table header
no_rows() {
	! grep -q '^|' "$W/out" && ! grep -q '^liveroot locate on' "$W/out"
}

RR=$BUILDDIR/bench/uzip_randread
[ -x "$RR" ] || { bad "$RR is built (ninja -C $BUILDDIR)"; echo "$pass passed, $fail failed"; exit 1; }

# b: the real build directory, reached through a relative path from $W
ln -s "$BUILDDIR" "$W/b"

# stub: a build directory whose cmd/liveroot fails (exit 3) when its
# arguments match BENCH_STUB_FAIL; with BENCH_STUB_NBDKIT_ERRORS set, its
# `serve` is nbdkit's memory plugin behind the error filter (reads fail).
# Its bench/uzip_randread reports failed reads when BENCH_STUB_RR_ERRORS is
# set, and is the real one otherwise.
mkdir -p "$W/stub/cmd" "$W/stub/bench"
cat >"$W/stub/cmd/liveroot" <<EOF
#!/bin/sh
case "\$*" in
\${BENCH_STUB_FAIL:-/no match/})
	echo "stub liveroot: '\$*' refused on purpose" >&2
	exit 3
	;;
esac
if [ "\$1" = serve ] && [ -n "\${BENCH_STUB_NBDKIT_ERRORS:-}" ]; then
	while [ \$# -gt 0 ]; do
		case \$1 in
		--lower) lower=\$2; shift ;;
		--unix) sock=\$2; shift ;;
		esac
		shift
	done
	exec nbdkit -f -U "\$sock" --filter=error memory \\
	    size=\$(stat -c %s "\$lower") error-pread=EIO error-pread-rate=20%
fi
exec "$LIVEROOT" "\$@"
EOF
cat >"$W/stub/bench/uzip_randread" <<EOF
#!/bin/sh
if [ -n "\${BENCH_STUB_RR_ERRORS:-}" ]; then
	echo "uniform \$2 reads \$3 threads \$4 workers 5000 reads/s hit 10.0% (cache 128 clusters, 0 zero) errors 0"
	echo "hot \$2 reads \$3 threads \$4 workers 6000 reads/s hit 50.0% (cache 128 clusters, 0 zero) errors 7"
	echo "uzip_randread: hot read failed: stub: injected read error" >&2
	exit 1
fi
exec "$RR" "\$@"
EOF
ln -s "$(dirname "$LIVEROOT")/liveroot-init" "$W/stub/cmd/liveroot-init"
chmod +x "$W/stub/cmd/liveroot" "$W/stub/bench/uzip_randread"
mkdir -p "$W/empty"

# A tiny tree for bench/uzip
mkdir -p "$W/tree"
cp -R "$SRCDIR/bench" "$W/tree/"
head -c 300000 "$LIVEROOT" >"$W/tree/bin"

export BENCH_DIR LIVEROOT_BENCH_DIR TREE READS SIZE_MB REPS ROW_MB FILES DIRS N
LIVEROOT_BENCH_DIR=$W/boot-w
TREE=$W/tree READS=200 SIZE_MB=4 REPS=1 ROW_MB=1 FILES=10 DIRS=2 N=1

is_root=0
[ "$(id -u)" = 0 ] && is_root=1

# --- (a) a relative build directory, --check ---------------------------------
for s in uzip overlay locate boot liveio; do
	if [ $s = locate ] && [ $is_root = 0 ]; then
		echo "SKIP: bench/locate --check needs root (loop devices)"
		continue
	fi
	BENCH_DIR=$W/$s-w
	bench $s --check b
	check "$s: --check with a relative build dir exits 0" test "$rc" = 0
	check "$s: the relative build dir is resolved against the caller's cwd" \
	    grep -qF "bench/$s: check ok: build directory $W/b" "$W/out"
	check "$s: --check measures nothing" test ! -e "$W/$s-w"
done

# --- (b) a missing build directory, a build directory without the binary ----
for s in uzip overlay locate boot liveio; do
	BENCH_DIR=$W/$s-w
	bench $s nobuild
	check "$s: a missing build dir exits 2" test "$rc" = 2
	check "$s: the error names the absolute path and the fix" \
	    grep -qF "bench/$s: $W/nobuild: no such build directory: build first (make build), or pass the build directory" "$W/err"
	bench $s empty
	check "$s: a build dir without the binary exits 2" test "$rc" = 2
	check "$s: the error names the binary and the fix" \
	    grep -qF "bench/$s: $W/empty/cmd/liveroot: not found: build first (make build" "$W/err"
	check "$s: nothing was measured" no_rows
done

# bench/liveio: an unknown side is named before anything is built or booted
BENCH_DIR=$W/liveio-w
SIDES=zz bench liveio --check b
check "liveio: an unknown SIDES value exits 2" test "$rc" = 2
check "liveio: the error names the side and the known ones" \
    grep -qF "bench/liveio: SIDES: unknown side 'zz' (sides:" "$W/err"
unset SIDES

# --- (c) a failing measured command ------------------------------------------
# stub_fail NAME PATTERN WHAT ERROR THING: bench/NAME with the stub failing the
# commands PATTERN exits 1 ("NAME: WHAT exits 1"), prints ERROR (naming
# the failed THING), and no table row
stub_fail() {
	BENCH_STUB_FAIL=$2 bench "$1" stub
	check "$1: $3 exits 1" test "$rc" = 1
	check "$1: the failure names the $5, its status and its stderr" \
	    grep -qF "$4" "$W/err"
	check "$1: no table row after the failure" no_rows
}
BENCH_DIR=$W/uzip-w
stub_fail uzip 'uzip extract -w 2 *' "a failing timed read" \
    "bench/uzip: liveroot uzip extract -w 2 failed (exit 3): stub liveroot: 'uzip extract -w 2 " \
    command

BENCH_DIR=$OV/w
stub_fail overlay 'serve *' "a server that fails" \
    "bench/overlay: server lr-raw failed (exit 3): stub liveroot: 'serve " \
    server

if [ $is_root = 1 ]; then
	BENCH_DIR=$W/locate-w
	stub_fail locate 'locate --label LIVE_BENCH *' "a failing timed run" \
	    "bench/locate: liveroot locate (Ventoy layout search) failed (exit 3): stub liveroot: 'locate --label LIVE_BENCH " \
	    row
	check "locate: the disk image was built from the relative build dir" \
	    grep -qF "building a 32 GiB sparse Ventoy disk" "$W/err"
else
	echo "SKIP: bench/locate failure run needs root (loop devices, FUSE)"
fi

# --- (d) error counts: the table shows them, the script exits 1 -------------
BENCH_DIR=$W/uzip-w
BENCH_STUB_RR_ERRORS=1 bench uzip stub
check "uzip: read errors exit 1 after the table" test "$rc" = 1
check "uzip: the create and read rows are printed" \
    grep -q '^| read | liveroot uzip extract -w 1 (to /dev/null) | .* | [0-9.]* ([0-9.]*) | [0-9.-]* | - |$' "$W/out"
check "uzip: the random table has an errors column" \
    grep -qF "| pattern | threads | workers | reads/s | cache hit rate | cache clusters | errors |" "$W/out"
check "uzip: a row with read errors is marked" \
    grep -qF "| hot | 1 | 1 | 6000 | 50.0% | 128 | 7 (FAILED) |" "$W/out"
check "uzip: a row without read errors shows 0" \
    grep -qF "| uniform | 1 | 1 | 5000 | 10.0% | 128 | 0 |" "$W/out"
check "uzip: the error count and the first error are on stderr" \
    grep -q "uzip_randread had 14 read errors" "$W/err"

BENCH_DIR=$OV/w
BENCH_STUB_NBDKIT_ERRORS=1 bench overlay stub
check "overlay: client errors exit 1 after the table" test "$rc" = 1
check "overlay: a cell with failed requests is marked" \
    grep -q '^| seqread | 4K | [0-9.]* MiB/s, [0-9]* IOPS, [0-9]* ERRORS |' "$W/out"
check "overlay: the write rows of the same server have no errors" \
    grep -q '^| seqwrite | 4K | [0-9.]* MiB/s, [0-9]* IOPS |' "$W/out"
check "overlay: the client errors row" \
    grep -q '^| client errors | | [1-9][0-9]* | [1-9][0-9]* | 0 | 0 |$' "$W/out"
check "overlay: the client's first error is on stderr" \
    grep -q "requests failed, the first with: Input/output error" "$W/err"
check "overlay: says the numbers are not valid" \
    grep -q "bench/overlay: [0-9]* client requests failed" "$W/err"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
