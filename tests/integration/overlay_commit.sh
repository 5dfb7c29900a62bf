#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# overlay_commit.sh - `liveroot overlay commit` killed and resumed, and the
# lock it holds on the lower.  Regressions:
#  - a commit killed with SIGKILL part-way left the lower torn while the
#    overlay still opened as if nothing had happened (status, serve and
#    revert went on; a revert or destroy then lost the only copy of the
#    data).  Now the map records the commit before the lower is touched:
#    after a kill, status and serve refuse with "re-run 'liveroot overlay
#    commit UPPER'", and that run leaves the lower byte-identical to the
#    union (cmp).  Killed 8 times at random points after the commit began
#    writing the lower (a poller watches the lower's first bytes, then waits
#    a random share of the time an uninterrupted commit takes from there).
#  - nothing locked the lower: a second overlay on the same lower could be
#    committed or served while a commit changed the lower under it.  Now
#    both are refused while the commit runs (the commit is held stopped with
#    SIGSTOP once it has begun writing, so the check does not race).
set -u

: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
. "$(dirname "$0")/lib.sh"
need_tools "libnbd-bin, python3" nbdcopy python3 cmp timeout

W=$(mktemp -d "${TMPDIR:-/tmp}/overlay_commit.XXXXXX")
SRV=""
trap 'if [ -n "$SRV" ]; then kill "$SRV" 2>/dev/null; fi; rm -rf "$W"' EXIT INT TERM
cd "$W" || exit 1

SOCK="$W/s.sock"
MB=64

# sig.py SIGNAL MAXDELAY SEED CMD...: start CMD, wait until it has begun
# writing lower.img (its first 4 KiB differ from orig.img), wait a random
# 0..MAXDELAY seconds, send SIGNAL.  KILL: reap it, print its delay.  STOP:
# write its pid to stopped.pid, wait for the file "go", SIGCONT it and exit
# with its exit status.  NONE: print the seconds from then to its exit.
cat >sig.py <<'EOF'
import os, random, signal, subprocess, sys, time
sig, maxdelay, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
first = open("orig.img", "rb").read(4096)
p = subprocess.Popen(sys.argv[4:], stdout=subprocess.DEVNULL,
    stderr=open("sig.err", "w"))
fd = os.open("lower.img", os.O_RDONLY)
t0 = time.monotonic()
while (p.poll() is None and os.pread(fd, 4096, 0) == first and
       time.monotonic() - t0 < 60):
    time.sleep(0.0005)
began = os.pread(fd, 4096, 0) != first
if sig == "NONE":
    t1 = time.monotonic()
    rc = p.wait()
    print("%.3f" % (time.monotonic() - t1))
    sys.exit(rc)
delay = random.Random(seed).uniform(0, maxdelay)
time.sleep(delay)
if sig == "KILL":
    p.send_signal(signal.SIGKILL)
    p.wait()
    print("delay %.3f began %d" % (delay, began))
    sys.exit(0)
p.send_signal(signal.SIGSTOP)
open("stopped.pid", "w").write("%d %d\n" % (p.pid, began))
while not os.path.exists("go"):
    time.sleep(0.01)
p.send_signal(signal.SIGCONT)
sys.exit(p.wait())
EOF

granules() { # granules: granules_written of up.img, from status --json
	"$LIVEROOT" overlay status --json up.img 2>/dev/null | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["granules_written"])'
}

# The overlay: every granule of a 64 MiB lower rewritten (through serve and
# nbdcopy), so the commit copies 64 MiB and a kill lands part-way.
python3 -c '
import random
r = random.Random(7)
n = '$MB' << 20
open("orig.img", "wb").write(r.randbytes(n))
open("expect.img", "wb").write(r.randbytes(n))'
cp orig.img lower.img
check "create" "$LIVEROOT" overlay create lower.img up.img
rm -f "$SOCK"
"$LIVEROOT" serve --overlay up.img --unix "$SOCK" >serve.log 2>&1 &
SRV=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "write the union through serve" nbdcopy expect.img "nbd+unix:///?socket=$SOCK"
kill -TERM "$SRV" 2>/dev/null
wait "$SRV" 2>/dev/null
SRV=""
NG=$((MB * 256))
check "all $NG granules written" test "$(granules)" = "$NG"
cp --sparse=always up.img up.save
cp up.img.rowrmap map.save

lower_state() {
	if cmp -s lower.img orig.img; then echo "the original"
	elif cmp -s lower.img expect.img; then echo "the union"
	else echo "torn (neither the original nor the union)"; fi
}

restore() {
	cp orig.img lower.img
	cp --sparse=always up.save up.img
	cp map.save up.img.rowrmap
	rm -f up.img.rowrmap.tmp
}

# --- killed at random points ------------------------------------------------
# How long a whole commit writes the lower: the kills land in 0..90% of it.
restore
T=$(python3 sig.py NONE 0 0 "$LIVEROOT" overlay commit up.img)
check "an uninterrupted commit" test $? = 0
check "lower = union after it" cmp -s lower.img expect.img
echo "a commit writes the lower for ${T}s"
MAXD=$(python3 -c "print(0.9 * float('${T:-0.1}'))")
interrupted=0
seed=${OVERLAY_COMMIT_SEED:-$$}
echo "kill seeds from $seed"
# At least 8 kills; more (up to 24) until 4 have landed part-way: under load
# a commit's duration varies, so a fixed 8 may all land before or after it.
k=0
while [ "$k" -lt 8 ] || { [ "$interrupted" -lt 4 ] && [ "$k" -lt 24 ]; }; do
	k=$((k + 1))
	restore
	out=$(python3 sig.py KILL "$MAXD" $((seed + k)) "$LIVEROOT" overlay commit up.img)
	"$LIVEROOT" overlay status up.img >st.txt 2>err.txt
	rc=$?
	if [ $rc = 0 ] && cmp -s lower.img orig.img &&
	    [ "$(granules)" = "$NG" ]; then
		echo "kill $k ($out): before the commit began"
		ok
	elif [ $rc = 0 ] && cmp -s lower.img expect.img &&
	    [ "$(granules)" = 0 ]; then
		echo "kill $k ($out): after the commit finished"
		ok
	elif [ $rc = 2 ] &&
	    grep -q "re-run 'liveroot overlay commit up.img'" err.txt; then
		echo "kill $k ($out): interrupted, refused: $(cat err.txt)"
		interrupted=$((interrupted + 1))
		ok
		timeout 10 "$LIVEROOT" serve --overlay up.img --unix "$SOCK" >/dev/null 2>err2.txt
		check "kill $k: serve refuses" test $? != 0
		check "kill $k: serve says the commit was interrupted" \
		    grep -q "commit into the lower .* was interrupted" err2.txt
		check "kill $k: serve names the command that finishes it" \
		    grep -q "re-run 'liveroot overlay commit up.img'" err2.txt
		"$LIVEROOT" overlay revert up.img >/dev/null 2>err2.txt
		check "kill $k: revert refuses" test $? = 2
		check "kill $k: revert says re-run commit" \
		    grep -q "re-run 'liveroot overlay commit up.img'" err2.txt
		"$LIVEROOT" overlay destroy up.img 2>err2.txt
		check "kill $k: destroy keeps a pending overlay" test $? = 2 -a -e up.img.rowrmap
		check "kill $k: re-run commit" "$LIVEROOT" overlay commit up.img \
		    >commit.log 2>&1
		check "kill $k: re-run said it finishes the commit" \
		    grep -q "finishing the commit that was interrupted" commit.log
		check "kill $k: lower = union after the re-run" cmp -s lower.img expect.img
		check "kill $k: status after the re-run" "$LIVEROOT" overlay status -q up.img
		check "kill $k: nothing written after the re-run" test "$(granules)" = 0
	else
		bad "kill $k ($out): inconsistent: status exit $rc, $(granules) granules written, the lower is $(lower_state) $(cat err.txt)"
	fi
done
echo "$interrupted of $k kills interrupted the commit"
check "at least 4 of $k kills landed part-way" test "$interrupted" -ge 4

# --- the lower is locked during a commit ------------------------------------
restore
check "a second overlay on the same lower" "$LIVEROOT" overlay create lower.img upB.img
rm -f go stopped.pid
python3 sig.py STOP 0 1 "$LIVEROOT" overlay commit up.img &
POLL=$!
i=0
while [ ! -s stopped.pid ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
check "the commit began and is held" grep -q " 1$" stopped.pid
"$LIVEROOT" overlay commit upB.img >/dev/null 2>err.txt
check "commit of another overlay on the lower is refused" test $? = 2
check "... as in use" grep -q "in use" err.txt
timeout 10 "$LIVEROOT" serve --overlay upB.img --unix "$SOCK" >/dev/null 2>err.txt
check "serve of another overlay on the lower is refused" test $? != 0
check "... as in use by a commit" grep -q "in use by a commit" err.txt
"$LIVEROOT" overlay commit up.img >/dev/null 2>err.txt
check "a second commit of the same overlay is refused" test $? = 2
check "... as in use" grep -q "in use" err.txt
"$LIVEROOT" overlay status up.img >/dev/null 2>err.txt
check "status while the commit runs: exit 2" test $? = 2
check "status says a commit is running" grep -q "is running now" err.txt
touch go
wait "$POLL"
check "the held commit completes" test $? = 0
check "lower = union after it" cmp -s lower.img expect.img
"$LIVEROOT" overlay status upB.img >/dev/null 2>err.txt
check "the other overlay now refuses the changed lower" test $? = 2
check "... naming both lowers" grep -q "made on another lower.*recorded .*lower.img, 67108864 bytes, sha256 [0-9a-f]*; found .*lower.img, 67108864 bytes, sha256 [0-9a-f]*" err.txt

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
