#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# init_plan.sh - `liveroot init-plan`: what liveroot-init makes of a kernel
# command line, checked through the CLI (text and JSON, parsed by python3's
# json module), the exit statuses, a defaults file and the cmdline wins rule,
# and liveroot-init's refusal to run as anything but PID 1.
set -u

: "${LIVEROOT:?}"
BUILDDIR=${BUILDDIR:-$(dirname "$(dirname "$LIVEROOT")")}
INIT=$(dirname "$LIVEROOT")/liveroot-init
T=$(mktemp -d "${TMPDIR:-/tmp}/init_plan.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

check() {
	# check NAME EXPECTED-STATUS PATTERN -- ARGS...
	name=$1 want=$2 pat=$3
	shift 4
	"$LIVEROOT" init-plan "$@" > "$T/out" 2> "$T/err"
	st=$?
	if [ "$st" -ne "$want" ]; then
		bad "$name: exit $st, wanted $want"; cat "$T/out" "$T/err"; return
	fi
	if [ -n "$pat" ] && ! grep -qF -- "$pat" "$T/out"; then
		bad "$name: output lacks '$pat'"; cat "$T/out"; return
	fi
	ok
}

command -v python3 > /dev/null 2>&1 || { echo "SKIP: python3 is not installed (Debian package python3)"; exit 77; }

# A clean command line: exit 0, the plan on the default order.
check clean 0 "1. source: probe preload,local,ventoy,findiso,net (devices: wait up to 30 s)" -- \
    --ram 1G "BOOT_IMAGE=/vmlinuz console=ttyS0 quiet example.check=overlay64"
check overlay-default 0 "rowr: RAM upper capped at 512.0 MiB (536870912 bytes" -- \
    --ram 1G "console=ttyS0"
check overlay-size 0 "capped at 32.0 MiB" -- --ram 1G "live.overlay=32M"
check handoff-chroot 0 "handoff: chroot to /sbin/init (a child chroots" -- "live.handoff=chroot"
check shell 0 "then a rescue shell" -- "live.shell=1"
check steps 0 "2. wait for devices (up to 7 s), trying local, ventoy on each" -- \
    "live.probe=preload,local,ventoy,net live.timeout=7"
check url-order 0 "1. source: probe preload,net" -- "root=live:http://10.0.2.100/rootfs.uzip"
# issue 13: the lazy network root and its fallback, or the full download
check lazy 0 "2. net: live.fetch=lazy: URL.hashes into RAM first" -- "root=live:http://10.0.2.100/rootfs.uzip"
check lazy-fallback 0 "3. net fallback: the whole image into RAM first" -- "live.url=http://10.0.2.100/rootfs.uzip"
check lazy-share 0 "in the background at 25% of the time" -- "live.url=http://h/r.uzip live.fetch.share=25"
check lazy-noprefetch 0 "no background fill (live.fetch.prefetch=off)" -- "live.url=http://h/r.uzip live.fetch.prefetch=off"
check fetch-full 0 "2. net: live.fetch=full: the whole image into RAM first" -- "live.url=http://h/r.uzip live.fetch=full"
check fetch-key 0 "live.fetch     full" -- "live.fetch=full"
check bad-fetch 1 "live.fetch=fast: use lazy" -- "live.url=http://h/r.uzip live.fetch=fast"
check bad-share 1 "live.fetch.share=0: give a share of the time" -- "live.fetch.share=0"
check freebsd 0 "handoff: decided by the source found: reroot to /sbin/init if the image is in RAM" -- --freebsd ""

# Problems: exit 1 and the console's messages.
check unknown 1 "unknown: live.lable: unknown key" -- "live.lable=X"
check bad-size 1 "live.overlay=lots: not a size" -- "live.overlay=lots"
check bad-probe 1 "'floppy' is not a strategy" -- "live.probe=local,floppy"
check pubkey 0 "live.pubkey    /k.pem" -- "live.pubkey=/k.pem"
check pubkey-relative 1 "live.pubkey=k.pem: needs an absolute path" -- "live.pubkey=k.pem"
check other-tools 1 "ignored: live-media=/dev/sdb (live-boot); liveroot: give live.label=" -- \
    "boot=live toram live-media=/dev/sdb"
check usage 2 "" -- "a" "b"
check bad-ram 2 "" -- --ram lots ""
"$LIVEROOT" init-plan --help | grep -q 'usage: liveroot init-plan' && ok || bad "help"

# JSON, read by a real parser.
"$LIVEROOT" init-plan --json --ram 2G \
    'root=live:CDLABEL=MY_LIVE "live.iso=/isos/my live.iso" live.overlay=25% live.lable=1 live.timeout=9' \
    > "$T/j.json"
[ $? -eq 1 ] && ok || bad "json exit status"
if python3 - "$T/j.json" << 'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
c = j["config"]
assert c["live.label"] == {"value": "MY_LIVE", "source": "cmdline"}, c["live.label"]
assert c["live.iso"]["value"] == "/isos/my live.iso"
assert c["live.timeout"]["value"] == "9"
assert c["live.image"] == {"value": "/rootfs.uzip", "source": "default"}
assert j["overlay_bytes"] == 512 * 1024 * 1024, j["overlay_bytes"]
assert j["ram_bytes"] == 2 * 1024 ** 3
assert [p["key"] for p in j["problems"]] == ["live.lable"], j["problems"]
assert j["problems"][0]["kind"] == "unknown"
assert j["steps"][0] == {"devices": False, "strategies": ["preload"]}
assert j["steps"][1] == {"devices": True, "strategies": ["local", "ventoy", "findiso"]}
assert j["handoff"] == "switch_root"
assert j["plan"][0].startswith("1. source: probe")
EOF
then ok; else bad "json content"; cat "$T/j.json"; fi

# A defaults file, with the command line winning.
cat > "$T/defaults" << 'EOF'
# liveroot defaults
live.label=FROMFILE
live.timeout = 12
live.shell=1
EOF
"$LIVEROOT" init-plan --json --defaults "$T/defaults" "live.shell=0" > "$T/d.json"
if python3 - "$T/d.json" << 'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["config"]
assert c["live.label"] == {"value": "FROMFILE", "source": "defaults-file"}, c["live.label"]
assert c["live.timeout"]["value"] == "12"
assert c["live.shell"] == {"value": "0", "source": "cmdline"}
EOF
then ok; else bad "defaults file"; cat "$T/d.json"; fi

# The command line from a file (as /proc/cmdline, with its newline).
printf 'console=ttyS0 live.label=FILECMD\n' > "$T/cmdline"
check cmdline-file 0 "live.label     FILECMD" -- --cmdline-file "$T/cmdline"

# liveroot-init refuses to run as anything but PID 1, and says why.
if [ -x "$INIT" ]; then
	"$INIT" > "$T/out" 2>&1
	st=$?
	[ "$st" -eq 2 ] && grep -q 'runs only as PID 1' "$T/out" && ok ||
	    { bad "liveroot-init not PID 1: exit $st"; cat "$T/out"; }
	"$INIT" --version | grep -q '^liveroot-init ' && ok || bad "liveroot-init --version"
else
	bad "$INIT is not built"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
