# SPDX-License-Identifier: BSD-2-Clause
#
# bench/lib.sh - what every bench/*/run.sh shares.  A run.sh sets BENCH (its
# name, e.g. "uzip"), SRC (the source tree) and USAGE, sources this file and
# calls bench_args "$@" before it changes directory.
#
# The rules it enforces:
#   - the build directory argument is resolved against the caller's cwd at
#     once (BUILD is absolute afterwards), default $BUILDDIR or SRC/build;
#   - a missing binary or tool stops the script before any work, naming the
#     path and the fix (exit 2);
#   - every command whose result goes into a table runs through bench_run or
#     bench_timed: its status is checked and a failure stops the script with
#     "bench/NAME: WHAT failed (exit N): <last lines of its stderr>" (exit 1),
#     so no table row is ever printed from a failed command;
#   - --check validates the arguments, the binaries and the tools, prints
#     the resolved paths and exits 0 before anything is measured.
# Sizes are MiB (2^20 bytes) and rates MiB/s everywhere.  POSIX sh only (no
# pipefail): outputs go to files and each status is tested on its own.

# bench_err MSG: a setup error (before any measurement), exit 2
bench_err() {
	echo "bench/$BENCH: $*" >&2
	exit 2
}

# bench_die MSG: a failure during the run, exit 1
bench_die() {
	echo "bench/$BENCH: $*" >&2
	exit 1
}

# bench_fail WHAT STATUS ERRFILE: WHAT failed; the last lines of its stderr
bench_fail() {
	_last=""
	[ -s "$3" ] && _last=$(tail -n 5 "$3" | sed '2,$s/^/    /')
	[ -n "$_last" ] || _last="(nothing on stderr)"
	bench_die "$1 failed (exit $2): $_last"
}

bench_usage() {
	echo "usage: bench/$BENCH/run.sh [--check] [BUILDDIR]"
	echo "  BUILDDIR  the Meson build directory, relative to the current"
	echo "            directory or absolute (default: \$BUILDDIR, else build)"
	echo "  --check   check the arguments, binaries and tools, then exit"
	[ -z "${USAGE:-}" ] || printf '%s\n' "$USAGE"
}

# bench_args "$@": sets CHECK (0 or 1), BUILD (absolute) and L (the built
# cmd/liveroot)
bench_args() {
	CHECK=0
	BUILD=""
	for _a in "$@"; do
		case $_a in
		--check) CHECK=1 ;;
		-h | --help) bench_usage; exit 0 ;;
		-*) bench_usage >&2; bench_err "unknown option $_a" ;;
		*)
			[ -z "$BUILD" ] ||
			    { bench_usage >&2; bench_err "one build directory, not '$BUILD' and '$_a'"; }
			BUILD=$_a
			;;
		esac
	done
	[ -n "$BUILD" ] || BUILD=${BUILDDIR:-$SRC/build}
	case $BUILD in
	/*) ;;
	*) BUILD=$PWD/$BUILD ;;
	esac
	if [ -d "$BUILD" ]; then
		BUILD=$(cd "$BUILD" && pwd)
	fi
	L=$BUILD/cmd/liveroot
}

# bench_knob NAME MIN: the variable NAME (an env knob) is a whole number >= MIN
bench_knob() {
	_v=""
	eval "_v=\${$1}"
	case $_v in
	"" | *[!0-9]*) bench_err "$1=$_v: not a whole number" ;;
	esac
	[ "$_v" -ge "$2" ] || bench_err "$1=$_v: must be at least $2"
}

# bench_need_exe PATH...: each must be a built executable
bench_need_exe() {
	for _f in "$@"; do
		[ -x "$_f" ] && continue
		if [ -d "$BUILD" ]; then
			bench_err "$_f: not found: build first (make build, or ninja -C $BUILD), or pass the build directory: bench/$BENCH/run.sh BUILDDIR"
		fi
		bench_err "$BUILD: no such build directory: build first (make build), or pass the build directory: bench/$BENCH/run.sh BUILDDIR"
	done
}

# bench_need_tool TOOL=PACKAGE...: each TOOL on PATH (or an absolute path)
bench_need_tool() {
	for _tp in "$@"; do
		_t=${_tp%%=*}
		command -v "$_t" >/dev/null 2>&1 ||
		    bench_err "$_t is not installed: install the Debian package ${_tp#*=} (scripts/install-deps.sh)"
	done
}

# bench_checked WHAT...: with --check, report what was checked and exit 0
bench_checked() {
	[ "$CHECK" = 1 ] || return 0
	echo "bench/$BENCH: check ok: build directory $BUILD"
	for _x in "$@"; do
		[ -z "$_x" ] || echo "bench/$BENCH: check ok: $_x"
	done
	exit 0
}

# bench_run WHAT CMD...: run CMD (stdout where the caller sends it, stderr
# kept in $W/stderr.txt); stop the script if it fails
bench_run() {
	_what=$1
	shift
	_st=0
	"$@" 2>"$W/stderr.txt" || _st=$?
	[ "$_st" = 0 ] || bench_fail "$_what" "$_st" "$W/stderr.txt"
}

# bench_timed WHAT CMD...: one run of CMD under GNU time, stdout discarded;
# sets WALL (s) and CPU (user + sys s); stops the script if it fails
bench_timed() {
	_what=$1
	shift
	_st=0
	rm -f "$W/time.txt"
	/usr/bin/time -f "%e %U %S" -o "$W/time.txt" "$@" >/dev/null \
	    2>"$W/stderr.txt" || _st=$?
	[ "$_st" = 0 ] || bench_fail "$_what" "$_st" "$W/stderr.txt"
	_t=$(tail -n 1 "$W/time.txt" 2>/dev/null) || _t=""
	case $_t in
	[0-9]*" "[0-9]*" "[0-9]*) ;;
	*) bench_die "$_what: no timing from /usr/bin/time (got '$_t')" ;;
	esac
	WALL=$(echo "$_t" | awk '{ printf "%.2f", $1 }')
	CPU=$(echo "$_t" | awk '{ printf "%.2f", $2 + $3 }')
}

# bench_best3 WHAT CMD...: bench_timed three times, keep the shortest wall
# time (the machine may be shared)
bench_best3() {
	_bw=""
	_bc=""
	for _ in 1 2 3; do
		bench_timed "$@"
		if [ -z "$_bw" ] || [ "$(echo "$WALL $_bw" | awk '{ print ($1 < $2) }')" = 1 ]; then
			_bw=$WALL
			_bc=$CPU
		fi
	done
	WALL=$_bw
	CPU=$_bc
}

# bench_mibs BYTES SECONDS: MiB/s (2^20 bytes per second); "-" when the
# time is below GNU time's 0.01 s resolution
bench_mibs() {
	echo "$1 $2" | awk '{ if ($2 > 0) printf "%.1f", $1 / $2 / 1048576; else printf "-" }'
}

# bench_mib BYTES: MiB, one decimal
bench_mib() {
	echo "$1" | awk '{ printf "%.1f", $1 / 1048576 }'
}
