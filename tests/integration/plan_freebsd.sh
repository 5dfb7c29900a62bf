#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# plan_freebsd.sh - golden tests of the FreeBSD plan: for every scenario in
# tests/golden/freebsd (NAME.cmdline = the kernel command line, NAME.source
# = the resolved source given as --source, NAME.expected = the commands),
# `liveroot init-plan --freebsd --commands` must print exactly the expected
# lines (diff -u shown on failure).  The expected files were written by hand
# review against the FreeBSD man pages and sources (see
# lib/probe/plan_freebsd.c); never regenerate them blindly.  Also: each plan
# is valid sh (sh -n), the --json "commands" array equals the same lines
# (parsed by python3), the text output carries them, the plan's lines agree
# with the commands (hand-off, cap), and bad sources fail.  The scripts are
# run against recording stand-ins by plan_freebsd_run.sh.
set -u

: "${LIVEROOT:?}"
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
G=$SRCDIR/tests/golden/freebsd
T=$(mktemp -d "${TMPDIR:-/tmp}/plan_freebsd.XXXXXX")
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

command -v python3 > /dev/null 2>&1 || { echo "SKIP: python3 is not installed (Debian package python3)"; exit 77; }

plan() {
	# plan NAME [extra options...]: the commands of scenario NAME
	n=$1
	shift
	"$LIVEROOT" init-plan --freebsd --ram 4G "$@" \
	    --source "$(cat "$G/$n.source")" "$(cat "$G/$n.cmdline")"
}

count=0
for f in "$G"/*.cmdline; do
	n=$(basename "$f" .cmdline)
	count=$((count + 1))
	if [ ! -f "$G/$n.source" ] || [ ! -f "$G/$n.expected" ]; then
		bad "$n: $n.source or $n.expected is missing"; continue
	fi
	plan "$n" --commands > "$T/$n.out" 2> "$T/$n.err"
	st=$?
	if [ "$st" -ne 0 ]; then
		bad "$n: exit $st"; cat "$T/$n.err"; continue
	fi
	if diff -u "$G/$n.expected" "$T/$n.out" > "$T/$n.diff"; then
		ok
	else
		bad "$n: the commands differ from $n.expected"
		cat "$T/$n.diff"
	fi
	# The plan is a script: it must at least parse.
	if sh -n "$T/$n.out" 2> "$T/$n.sh"; then ok; else
		bad "$n: not valid sh"; cat "$T/$n.sh"; fi
	# --json: the same lines in "commands".
	plan "$n" --json > "$T/$n.json"
	if python3 - "$T/$n.json" "$G/$n.expected" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
want = open(sys.argv[2]).read().splitlines()
sys.exit(0 if doc["commands"] == want else 1)
EOF
	then ok; else bad "$n: --json commands differ"; fi
	# Text: the plan, then the commands indented.
	plan "$n" > "$T/$n.txt"
	sed -n '/^commands:$/,$p' "$T/$n.txt" | sed '1d; s/^  //' > "$T/$n.tcmd"
	if cmp -s "$T/$n.tcmd" "$G/$n.expected"; then ok; else
		bad "$n: text output lacks the commands"; fi
done
[ "$count" -ge 16 ] && ok || bad "only $count golden scenarios"

# The comparison itself must catch a changed command.
sed 's/-u 12$/-u 13/' "$G/cd.expected" > "$T/mutant"
if plan cd --commands | diff -u "$T/mutant" - > /dev/null; then
	bad "a changed md unit went unnoticed"
else
	ok
fi

# Hand-off rule through the CLI.
plan reroot-forced-cd --commands > "$T/forced"
grep -q '^# WARNING: live.handoff=reroot forced, but md10 reads the vnode /livemedia/rootfs.uzip' "$T/forced" && ok || bad "forced reroot: no warning naming the vnode"
grep -qx 'reboot -r' "$T/forced" && ok || bad "forced reroot: no reboot -r"
grep -qx 'kenv init_chroot=/newroot' "$G/cd.expected" && ! grep -qx 'reboot -r' "$G/cd.expected" && ok || bad "cd: not a chroot"
"$LIVEROOT" init-plan --freebsd --ram 4G --source local:/dev/cd0 "" | grep -qF "handoff: chroot to /newroot (init_chroot" && ok || bad "plan line: chroot"

# Regression (a new user's report): the plan alone said "handoff: reroot"
# while the same plan with --source local:/dev/cd0 said chroot.  Before the
# probe the hand-off is not decided, and the plan says what decides it.
"$LIVEROOT" init-plan --freebsd --ram 4G "" > "$T/alone"
grep -q '^  [0-9]*\. handoff: decided by the source found: reroot to /sbin/init if the image is in RAM (preload, toram, net) or read through GEOM windows of a disk (extents), else chroot to /newroot (init_chroot) with the live root' "$T/alone" &&
    ! grep -q 'handoff: reroot to' "$T/alone" && ok ||
    { bad "plan alone: claims a hand-off"; cat "$T/alone"; }
"$LIVEROOT" init-plan --freebsd --ram 4G --json "" > "$T/alone.json"
python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["handoff"] != "auto")' "$T/alone.json" && ok || bad "plan alone: --json handoff is not auto"
# toram decides it before the probe: the image ends up in RAM.
"$LIVEROOT" init-plan --freebsd --ram 4G "live.toram=1" | grep -q '^  [0-9]*\. handoff: reroot to /sbin/init' && ok || bad "toram alone: not reroot"
# For every scenario the plan's hand-off is the script's.
for f in "$G"/*.cmdline; do
	n=$(basename "$f" .cmdline)
	plan "$n" | sed -n '/^plan:$/,/^commands:$/p' > "$T/$n.plan"
	if grep -q '^  [0-9]*\. handoff: reroot' "$T/$n.plan"; then
		grep -qx 'reboot -r' "$G/$n.expected" && ok || bad "$n: plan reroot, script not"
	elif grep -q '^  [0-9]*\. handoff: chroot' "$T/$n.plan"; then
		grep -qx 'kenv init_chroot=/newroot' "$G/$n.expected" && ok || bad "$n: plan chroot, script not"
	else
		grep -q 'source: none found' "$T/$n.plan" && ! grep -q 'reboot -r\|init_chroot' "$G/$n.expected" && ok || bad "$n: no hand-off"
	fi
	# Regression: the FreeBSD plan said "rowr: RAM upper capped" while its
	# script used gunion, which cannot cap.  Now "capped" in the plan means
	# a capped upper (a size= tmpfs) in the script, and gunion says not.
	if grep -q '^  [0-9]*\. rowr: RAM upper capped' "$T/$n.plan"; then
		bad "$n: the Linux rowr line in a FreeBSD plan"
	elif grep -q 'overlay: gunion' "$T/$n.plan"; then
		grep -q 'not capped at' "$T/$n.plan" && ! grep -q 'mount -t tmpfs' "$G/$n.expected" && ok || bad "$n: gunion claims a cap"
	elif grep -q 'caps the upper\|upper in RAM capped at' "$T/$n.plan"; then
		grep -q 'mount -t tmpfs -o size=' "$G/$n.expected" && ok || bad "$n: a cap the script lacks"
	elif grep -q 'overlay: .*not capped at' "$T/$n.plan"; then
		! grep -q 'mount -t tmpfs' "$G/$n.expected" && ok || bad "$n: an uncapped plan caps"
	else
		grep -q 'source: none found' "$T/$n.plan" && ok || bad "$n: no overlay line"
	fi
done
grep -q 'overlay: live.geom=auto: geom_rowr if it loads, else gunion (the script logs which); geom_rowr caps the upper in RAM at 2.0 GiB (2147483648 bytes; RAM 4.0 GiB), gunion does not' "$T/cd.plan" && ok || bad "cd: the overlay line"
grep -q 'overlay: gunion, the upper a swap-backed md12 as large as the image, not capped at 2.0 GiB' "$T/cd-gunion.plan" && ok || bad "cd-gunion: the overlay line"
grep -q 'overlay: geom_rowr, the upper a swap-backed md12 as large as the image, not capped at 2.0 GiB .*reboot -r unmounts the tmpfs a cap needs' "$T/preload-rowr.plan" && ok || bad "preload-rowr: the overlay line"
# live.geom: an invalid value is a problem (exit 1), the default kept.
"$LIVEROOT" init-plan --freebsd "live.geom=zfs" > "$T/g" 2>&1
[ $? -eq 1 ] && grep -q 'live.geom=zfs: use auto, rowr or gunion; kept auto' "$T/g" && ok || { bad "live.geom=zfs"; cat "$T/g"; }

# Errors: exit 2 with a message naming the problem.
err() {
	# err NAME PATTERN ARGS...
	name=$1 pat=$2
	shift 2
	"$LIVEROOT" init-plan "$@" > "$T/eo" 2> "$T/ee"
	st=$?
	if [ "$st" -ne 2 ]; then bad "$name: exit $st, wanted 2"; return; fi
	if [ -s "$T/eo" ]; then bad "$name: output on stdout despite the error"; return; fi
	grep -qF -- "$pat" "$T/ee" && ok || { bad "$name: stderr lacks '$pat'"; cat "$T/ee"; }
}
err unaligned "512-byte aligned" --freebsd --source ventoy:/dev/ada0:100+512 ""
err exfat "no exFAT driver" --freebsd --source findiso:/dev/da0s1:/l.iso:exfat ""
err no-url "no URL" --freebsd --commands --source net: ""
err no-url-json "no URL" --freebsd --json --source net: ""
err no-freebsd "need --freebsd" --source local:/dev/cd0 ""
err no-source "--commands needs --source" --freebsd --commands ""
err bad-source "or none: nothing found" --freebsd --source nothing ""
"$LIVEROOT" init-plan --help | grep -q -- '--source SPEC' && ok || bad "help lacks --source"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
