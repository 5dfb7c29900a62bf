#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""test-summary.py BUILDDIR... - the closing line of scripts/run-tests.sh.

For each build directory it reads liveroot-build-status (written by
run-tests.sh before and after the build), the meson test log of THIS run
(run-tests.sh deletes it before building, so a log from an earlier run is
never read) and the sanitizer report files under sanitizer-logs/.  Prints
one line per problem and then "N passed, N failed" (", N skipped" outside
CI).  Exit status 1 when anything failed.

Counted as failed: a build that failed; a build that succeeded but left no
test log; a test that did not pass; under CI, a skipped test and every
"SKIP" line printed by a test that passed (a part of it did not run); a
test whose output mentions "Sanitizer" or holds a UBSan "runtime error:"
(UBSan ignores log_path when it runs inside ASan's runtime: its exit code
87 is what exposes a report that a test script threw away); every sanitizer
report file.
"""
import json
import os
import re
import sys

SKIP_LINE = re.compile(r"^(# )?SKIP\b", re.M)


def main(dirs):
    ci = os.environ.get("CI", "") not in ("", "0", "false")
    passed = failed = skipped = 0
    for d in dirs:
        tag = "" if d == "build" else d.replace("build-", "") + ":"
        status_path = os.path.join(d, "liveroot-build-status")
        try:
            status = open(status_path).read().strip()
        except OSError:
            status = "failed: no build status (the build did not start)"
        if status != "ok":
            print(f"FAILED: build {d}: {status}")
            failed += 1
            continue
        log = os.path.join(d, "meson-logs", "testlog.json")
        if not os.path.exists(log):
            print(f"FAILED: {d}: the build succeeded but no test ran "
                  f"(no {log})")
            failed += 1
            continue
        # the e2e suite's own log (run-tests.sh runs it apart)
        logs_in = [log]
        e2e = os.path.join(d, "meson-logs", "e2elog.json")
        if os.path.exists(e2e):
            logs_in.append(e2e)
        lines = []
        for path in logs_in:
            with open(path) as fh:
                lines.extend(fh)
        ran = 0
        for line in lines:
            r = json.loads(line)
            ran += 1
            name = tag + r["name"]
            res = r.get("result")
            out = (r.get("stdout") or "") + (r.get("stderr") or "")
            if "Sanitizer" in out or "runtime error:" in out:
                failed += 1
                print(f"FAILED: {name}: a sanitizer report is in its output")
                continue
            if res in ("OK", "EXPECTEDFAIL"):
                parts = SKIP_LINE.findall(out)
                if parts and ci:
                    failed += 1
                    print(f"FAILED: {name}: {len(parts)} part(s) skipped "
                          "(a skip is a failure under CI):")
                    for m in re.finditer(r"^(?:# )?SKIP\b.*$", out, re.M):
                        print(f"    {m.group(0)}")
                    continue
                if parts:
                    print(f"note: {name}: {len(parts)} part(s) skipped")
                passed += 1
            elif res == "SKIP":
                skipped += 1
                print(f"skipped: {name}" +
                      (" (counted as failed under CI)" if ci else ""))
                if ci:
                    failed += 1
            else:
                failed += 1
                print(f"FAILED: {name} ({res})")
        if ran == 0:
            print(f"FAILED: {d}: the test log is empty")
            failed += 1
        logs = os.path.join(d, "sanitizer-logs")
        if os.path.isdir(logs):
            for f in sorted(os.listdir(logs)):
                failed += 1
                path = os.path.join(logs, f)
                print(f"FAILED: sanitizer report {path}:")
                with open(path, errors="replace") as fh:
                    for i, l in enumerate(fh):
                        if i >= 30:
                            print("    ...")
                            break
                        print("    " + l.rstrip())
    if passed + failed + skipped == 0:
        failed += 1
    print(f"{passed} passed, {failed} failed" +
          (f", {skipped} skipped" if skipped and not ci else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["build"]))
