#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The whole test suite, as the README tells users to run it (make test):
#  1. install the Debian packages it needs (scripts/install-deps.sh);
#  2. build and run every suite (unit, fuzz corpus replay, the runner's own
#     self-test, integration, e2e);
#  3. build again with -Db_sanitize=address,undefined and run the unit, fuzz,
#     geom and integration suites under ASan+UBSan, and once more with clang
#     and -Db_sanitize=thread for the geom suite (the GEOM harness runs
#     geom_rowr's I/O on worker threads) under ThreadSanitizer;
#  4. print one closing line "N passed, N failed" over all of it
#     (scripts/test-summary.py).
#
# What counts as a failure (scripts/test-summary.py):
#  - a build that fails (meson setup or ninja), whatever an earlier run left:
#    a build's test log is deleted before it is built, and a build that fails
#    counts as a failure on its own;
#  - a test that fails, times out, or (under CI) is skipped;
#  - a test that passed but printed a line starting with "SKIP" (a part of it
#    did not run) when CI is set: CI installs every tool;
#  - any sanitizer report.  The sanitizer pass runs with ASan's and UBSan's
#    own exit codes (86, 87: never a status a test expects, like 1) and with
#    ASan's log_path, so its report is kept in a file even when a test
#    script throws the program's stderr away; every report file is a
#    failure, and so is a test whose output mentions "Sanitizer" or holds a
#    UBSan "runtime error:" (UBSan ignores log_path inside ASan's runtime).
#
# SUITES="unit fuzz" limits the suites; NO_ASAN=1 skips step 3.
# FREEBSD_SYSDIR=PATH (a FreeBSD 14 source tree, see DEVELOPERS.md) adds the
# suite 'freebsd': geom_rowr.ko cross-built and linked against it, and the
# portable code compiled against its headers.
set -u
cd "$(dirname "$0")/.." || exit 2
top=$(pwd)

scripts/install-deps.sh || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }

SUITES=${SUITES:-"unit fuzz selftest geom integration e2e"}
PLAIN_OPTS=""
if [ -n "${FREEBSD_SYSDIR:-}" ]; then
	PLAIN_OPTS="-Dfreebsd_sysdir=$FREEBSD_SYSDIR"
	SUITES="$SUITES freebsd"
fi
ASAN_SUITES=""
for s in $SUITES; do
	case $s in e2e|selftest|freebsd) ;; *) ASAN_SUITES="$ASAN_SUITES $s" ;; esac
done

suite_args() {
	for s in "$@"; do printf -- '--suite %s ' "$s"; done
}

# run_build DIR "SETUP OPTIONS" SUITE... : configure (once), build, test.
# Writes DIR/liveroot-build-status: "ok", or "failed: WHAT" when the
# configuration or the build failed (then no test log exists: it was
# removed before the build started).
run_build() {
	dir=$1; shift
	opts=$1; shift
	mkdir -p "$dir"
	rm -f "$dir/meson-logs/testlog.json"
	echo "failed: not built" >"$dir/liveroot-build-status"
	if [ ! -f "$dir/build.ninja" ]; then
		# shellcheck disable=SC2086
		if ! meson setup "$dir" $opts >"$top/$dir.setup.log" 2>&1; then
			cat "$top/$dir.setup.log"
			echo "failed: meson setup $dir (see $dir.setup.log)" \
			    >"$dir/liveroot-build-status"
			return 1
		fi
	fi
	if ! ninja -C "$dir" >"$top/$dir.ninja.log" 2>&1; then
		cat "$top/$dir.ninja.log"
		echo "failed: ninja -C $dir (see $dir.ninja.log)" \
		    >"$dir/liveroot-build-status"
		return 1
	fi
	echo ok >"$dir/liveroot-build-status"
	# shellcheck disable=SC2046
	meson test -C "$dir" --no-rebuild --print-errorlogs $(suite_args "$@")
}

# The e2e suite (QEMU boots, most of the wall time, about one core) runs
# while the plain build's other suites and then the sanitizer builds run in
# the background: the machines here have two cores.  Its timeouts are doubled
# for that (LIVEROOT_E2E_SLOW; they only bound waits, no result is timed),
# and its log is meson-logs/e2elog.json beside the plain testlog.json.
PLAIN_SUITES=""
E2E=0
for s in $SUITES; do
	case $s in e2e) E2E=1 ;; *) PLAIN_SUITES="$PLAIN_SUITES $s" ;; esac
done

sanitizers() {
	if [ "${NO_ASAN:-0}" != 1 ] && [ -n "$ASAN_SUITES" ]; then
		logs=$top/build-asan/sanitizer-logs
		rm -rf "$logs"
		mkdir -p "$logs"
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87:log_path=$logs/ubsan \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86:log_path=$logs/asan \
		run_build build-asan "-Db_sanitize=address,undefined -Db_lundef=false" \
		    $ASAN_SUITES
	fi
	case " $SUITES " in
	*" geom "*)
		if [ "${NO_TSAN:-0}" != 1 ]; then
			logs=$top/build-tsan/sanitizer-logs
			rm -rf "$logs"
			mkdir -p "$logs"
			CC=clang TSAN_OPTIONS=halt_on_error=1:exitcode=88:log_path=$logs/tsan \
			    run_build build-tsan "-Db_sanitize=thread -Db_lundef=false" geom
		fi
		;;
	esac
}

dirs=build
[ "${NO_ASAN:-0}" != 1 ] && [ -n "$ASAN_SUITES" ] && dirs="$dirs build-asan"
case " $SUITES " in
*" geom "*) [ "${NO_TSAN:-0}" != 1 ] && dirs="$dirs build-tsan" ;;
esac
rm -f build/meson-logs/e2elog.json
if [ "$E2E" = 1 ] && [ -z "$PLAIN_SUITES" ]; then
	run_build build "$PLAIN_OPTS" e2e
	E2E=0
elif [ "$E2E" = 1 ]; then
	# the plain build first (the e2e suite needs it), then: the e2e suite
	# here, and the plain build's other suites followed by the sanitizer
	# passes in the background
	run_build build "$PLAIN_OPTS" selftest > "$top/plain-first.log" 2>&1
	if [ "$(cat build/liveroot-build-status)" = ok ]; then
		( run_build build "$PLAIN_OPTS" $PLAIN_SUITES; sanitizers ) \
		    > "$top/sanitizers.log" 2>&1 &
		bg=$!
		echo "== e2e suite (the other suites and the sanitizer builds run meanwhile; their output follows) =="
		LIVEROOT_E2E_SLOW=${LIVEROOT_E2E_SLOW:-2} meson test -C build \
		    --no-rebuild --print-errorlogs --logbase e2elog --suite e2e
		wait $bg
		cat "$top/sanitizers.log"
	else
		cat "$top/plain-first.log"
		sanitizers
	fi
else
	run_build build "$PLAIN_OPTS" $PLAIN_SUITES
	sanitizers
fi

python3 scripts/test-summary.py $dirs
