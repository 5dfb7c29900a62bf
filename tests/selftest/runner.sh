#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# runner.sh - the test runner (scripts/run-tests.sh + test-summary.py) must
# never report success for a run that failed.  It is run on a tiny Meson
# project made here (so each case takes seconds), with the real runner
# scripts copied in and a no-op install-deps.sh:
#  1. a clean run passes ("1 passed, 0 failed", exit 0);
#  2. regression: a build that fails after a green run (the old runner
#     returned before deleting testlog.json and counted the stale log:
#     "18 passed, 0 failed", exit 0) must fail and count no stale test;
#  3. a test that prints "SKIP: ..." for a part it did not run passes
#     outside CI and fails under CI=true; a test that exits 77 likewise;
#  4. a heap overflow in a program whose test expects exit status 1 and
#     throws its stderr away (the ASan report hid behind status 1) must fail
#     the sanitizer pass, and so must a UBSan report (signed overflow) in a
#     program that then exits 0.
set -u
: "${SRCDIR:?}"
T=${TMPDIR:-/tmp}/runner-selftest.$$
P=$T/proj
rm -rf "$T"
mkdir -p "$P/scripts"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

cp "$SRCDIR/scripts/run-tests.sh" "$SRCDIR/scripts/test-summary.py" "$P/scripts/"
printf '#!/bin/sh\nexit 0\n' >"$P/scripts/install-deps.sh"
chmod +x "$P/scripts/"*

cat >"$P/meson.build" <<'M'
project('selftest', 'c', default_options : ['warning_level=1'])
lib = static_library('m', 'misc.c')
foreach t : ['ok'] + (import('fs').exists('extra.txt') ? ['skippart', 'overflow', 'ubsan', 'skip77'] : [])
  exe = executable('t_' + t, 't_' + t + '.c', link_with : lib)
  test(t, find_program('sh'), args : [files('wrap.sh'), exe.full_path(), t], depends : exe, suite : 'unit')
endforeach
M
cat >"$P/misc.c" <<'C'
int misc(int x) { return x + 1; }
C
cat >"$P/wrap.sh" <<'S'
#!/bin/sh
# The overflow program's test "expects" status 1 and hides its stderr.
case $2 in
overflow) "$1" 2>/dev/null; [ $? -eq 1 ] ;;
skip77) exit 77 ;;
*) "$1" ;;
esac
S
cat >"$P/t_ok.c" <<'C'
#include <stdio.h>
int misc(int);
int main(void) { printf("%d passed, 0 failed\n", misc(0)); return 0; }
C
cat >"$P/t_skippart.c" <<'C'
#include <stdio.h>
int main(void) { puts("SKIP: the exFAT part: no /dev/fuse"); puts("3 passed, 0 failed"); return 0; }
C
cat >"$P/t_overflow.c" <<'C'
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
	char *p = malloc(8);
	memset(p, 'x', 9 + (argc > 5));	/* one byte too many */
	(void)argv;
	free(p);
	return 1;	/* what its test expects */
}
C
printf "int main(void) { return 0; }\n" >"$P/t_skip77.c"
cat >"$P/t_ubsan.c" <<'C'
#include <limits.h>
#include <stdio.h>
int main(int argc, char **argv) {
	int x = INT_MAX - 1 + argc;
	(void)argv;
	x += 1;		/* signed overflow */
	printf("%d\n", x);
	return 0;
}
C

run() {	# run EXPECTED_STATUS LABEL ENV... : runs the runner in $P
	want=$1 label=$2
	shift 2
	( cd "$P" && env "$@" sh scripts/run-tests.sh ) >"$T/out" 2>&1
	got=$?
	last=$(tail -n 1 "$T/out")
	if [ "$got" = "$want" ]; then ok; else
		bad "$label: exit $got, expected $want"; sed 's/^/    /' "$T/out" | tail -n 25
	fi
}

# 1. clean
run 0 "clean run" SUITES=unit NO_ASAN=1 CI=
[ "$last" = "1 passed, 0 failed" ] && ok || bad "clean run: last line '$last'"

# 2. a build broken after a green run
echo '#error x' >>"$P/misc.c"
run 1 "broken build after a green run" SUITES=unit NO_ASAN=1 CI=
[ "$last" = "0 passed, 1 failed" ] && ok || bad "broken build: last line '$last' (a stale log was counted?)"
grep -q '^FAILED: build build: failed: ninja' "$T/out" && ok || bad "broken build: no 'FAILED: build' line"
# a broken configuration is a failure too
sed -i '/#error x/d' "$P/misc.c"
cp "$P/meson.build" "$P/meson.build.good"
echo 'syntax error here(' >>"$P/meson.build"
rm -rf "$P/build"
run 1 "broken meson.build" SUITES=unit NO_ASAN=1 CI=
mv "$P/meson.build.good" "$P/meson.build"

# 3. skipped parts and skipped tests
touch "$P/extra.txt"
sed -i "s/'overflow', 'ubsan', //" "$P/meson.build"
run 0 "a skipped part outside CI" SUITES=unit NO_ASAN=1 CI=
grep -q '^note: skippart: 1 part(s) skipped' "$T/out" && ok || bad "no note for the skipped part"
run 1 "a skipped part under CI" SUITES=unit NO_ASAN=1 CI=true
grep -q 'SKIP: the exFAT part' "$T/out" && ok || bad "the skipped part is not named under CI"
grep -q '^skipped: skip77 (counted as failed under CI)' "$T/out" && ok || bad "exit 77 not counted under CI"

# 4. sanitizer reports
sed -i "s/'skippart', /'skippart', 'overflow', 'ubsan', /" "$P/meson.build"
rm -f "$P/t_skippart.c"
printf '#include <stdio.h>\nint main(void) { puts("1 passed, 0 failed"); return 0; }\n' >"$P/t_skippart.c"
sed -i "s/, 'skip77'//" "$P/meson.build"
run 0 "overflow without sanitizers (the bug is invisible there)" SUITES=unit NO_ASAN=1 CI=
run 1 "sanitizer pass with a hidden heap overflow and a UBSan report" SUITES=unit NO_ASAN=0 CI=
grep -q 'FAILED: sanitizer report .*asan' "$T/out" && ok || bad "the ASan report is not named"
grep -q 'FAILED: asan:ubsan: a sanitizer report is in its output' "$T/out" && ok || bad "the UBSan report is not named"
grep -q 'FAILED: asan:.*overflow' "$T/out" && ok || bad "the overflow test passed under ASan (status hid the report)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
