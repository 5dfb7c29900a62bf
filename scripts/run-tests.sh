#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The whole test suite, as the README tells users to run it (make test):
#  1. install the Debian packages it needs (scripts/install-deps.sh);
#  2. build and run every suite (unit, fuzz corpus replay, integration, e2e);
#  3. build again with -Db_sanitize=address,undefined and run the unit, fuzz
#     and integration suites under ASan+UBSan;
#  4. print one closing line "N passed, N failed" over all of it.
# Under CI (CI=true) a skipped test counts as failed: CI installs every tool,
# so a skip there means something is missing.
# SUITES="unit fuzz" limits the suites; NO_ASAN=1 skips step 3.
set -u
cd "$(dirname "$0")/.." || exit 2
top=$(pwd)

scripts/install-deps.sh || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }

SUITES=${SUITES:-"unit fuzz integration e2e"}
ASAN_SUITES=""
for s in $SUITES; do
	case $s in e2e) ;; *) ASAN_SUITES="$ASAN_SUITES $s" ;; esac
done

suite_args() {
	for s in "$@"; do printf -- '--suite %s ' "$s"; done
}

run_build() {
	dir=$1; shift
	opts=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		# shellcheck disable=SC2086
		meson setup "$dir" $opts >"$top/$dir.setup.log" 2>&1 ||
		    { cat "$top/$dir.setup.log"; return 1; }
	fi
	ninja -C "$dir" >"$top/$dir.ninja.log" 2>&1 ||
	    { cat "$top/$dir.ninja.log"; return 1; }
	rm -f "$dir/meson-logs/testlog.json"
	# shellcheck disable=SC2046
	meson test -C "$dir" --no-rebuild --print-errorlogs $(suite_args "$@")
}

fails=0
run_build build "" $SUITES || fails=$((fails + 1))
if [ "${NO_ASAN:-0}" != 1 ] && [ -n "$ASAN_SUITES" ]; then
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	run_build build-asan "-Db_sanitize=address,undefined -Db_lundef=false" \
	    $ASAN_SUITES || fails=$((fails + 1))
fi

python3 - "$fails" build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, os, sys
build_fail = int(sys.argv[1])
ci = os.environ.get("CI", "") not in ("", "0", "false")
passed = failed = skipped = 0
for path in sys.argv[2:]:
    if not os.path.exists(path):
        continue
    tag = "asan:" if "asan" in path else ""
    for line in open(path):
        r = json.loads(line)
        res = r.get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
            print(f"skipped: {tag}{r['name']}" + (" (counted as failed under CI)" if ci else ""))
            if ci:
                failed += 1
        else:
            failed += 1
            print(f"FAILED: {tag}{r['name']} ({res})")
failed += build_fail and (passed + failed == 0)
if passed + failed + skipped == 0:
    failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped and not ci else ""))
sys.exit(1 if failed else 0)
PY
