#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# nbd_limits.sh - what a client may cost `liveroot serve`, and what a lone
# --lower lets it do (issue 8, items 3 and 8):
#  1. the stuck-client attack: 8 connections x 4 READs of 32 MiB whose
#     replies are never read (nbdpoke) kept the server at ~1 GiB RSS; now
#     its RSS stays under 256 MiB, another client is served meanwhile, and
#     every stuck client is cut off by the send timeout;
#  2. --max-clients: one more is refused (and logged), the others go on;
#  3. `serve --lower FILE` wrote into FILE: now a write gets EPERM and the
#     file is unchanged; with --writable-lower it is written;
#  4. the non-loopback warning, -q, and the getopt command line.
#
# Env: LIVEROOT (the binary), BUILDDIR (for nbdpoke), TMPDIR.  Prints
# "N passed, N failed".
set -u

: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
: "${BUILDDIR:?BUILDDIR must name the build directory}"
POKE=$BUILDDIR/tests/integration/nbdpoke
. "$(dirname "$0")/lib.sh"
LIB_ERR=1
LIB_NAME=nbd_limits

for t in nbdinfo qemu-io sha256sum; do
	command -v "$t" >/dev/null 2>&1 ||
	    skip "$t is missing (install libnbd-bin, qemu-utils)"
done
[ -x "$POKE" ] || { echo "nbd_limits: $POKE was not built" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/nbd_limits.XXXXXX") || exit 1
SERVER_PID=""
POKE_PID=""
cleanup() {
	[ -n "$POKE_PID" ] && kill "$POKE_PID" 2>/dev/null
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM
SOCK="$W/s.sock"
URI="nbd+unix:///?socket=$SOCK"

# start_server LOGNAME ARGS...: serve in the background until the socket
# is there (works with -q too).
start_server() {
	log=$1
	shift
	rm -f "$SOCK"
	"$LIVEROOT" serve "$@" >"$W/$log.out" 2>"$W/$log.err" &
	SERVER_PID=$!
	wait_started "$log" test -S "$SOCK" || { SERVER_PID=""; return 1; }
}

# kb FIELD: VmRSS / VmHWM of the server, in kB.
kb() {
	sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" \
	    "/proc/$SERVER_PID/status"
}

# wait_for FILE PATTERN [TENTHS]: until FILE holds a line matching PATTERN.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt "${3:-100}" ] && return 1
		sleep 0.1
	done
	return 0
}

# --- 1. the stuck-client attack -------------------------------------------
truncate -s 64M "$W/big.img"
if start_server attack --lower "$W/big.img" --send-timeout 2 \
    --unix "$SOCK"; then
	rss0=$(kb VmRSS)
	"$POKE" "$SOCK" hold 8 4 33554432 60000 >"$W/poke.out" \
	    2>"$W/poke.err" &
	POKE_PID=$!
	check "attack: requests sent" wait_for "$W/poke.out" '^sent 8'
	sleep 1		# let the server take what it will
	qemu-io -f raw -r -c 'read -P 0 16M 1M' "$URI" >"$W/good.out" 2>&1
	check "attack: another client's 1 MiB read is served" \
	    grep -q 'read 1048576/1048576' "$W/good.out"
	check "attack: nbdinfo meanwhile" test "$(nbdinfo --size "$URI" \
	    2>&1)" = 67108864
	rss=$(kb VmRSS)
	hwm=$(kb VmHWM)
	echo "nbd_limits: server RSS idle ${rss0} kB, under attack ${rss} kB," \
	    "peak ${hwm} kB (limit 262144 kB)"
	check "attack: RSS under 256 MiB" test "${rss:-999999}" -lt 262144
	check "attack: peak RSS under 256 MiB" test "${hwm:-999999}" -lt \
	    262144
	# The stuck clients go in rounds of what the memory cap lets in,
	# each cut 2 s after its reply stopped moving.
	wait "$POKE_PID"
	POKE_PID=""
	check "attack: every stuck client cut off" grep -qx 'cut 8 of 8' \
	    "$W/poke.out"
	check "attack: the cut is logged" grep -q \
	    'client #[0-9]* (unix): .*send timeout.*disconnected' \
	    "$W/attack.err"
	check "attack: still serving after" test "$(nbdinfo --size "$URI" \
	    2>&1)" = 67108864
	check "attack: SIGTERM exits 0" stop_server
else
	bad "attack: serve did not start"
fi

# --- 2. --max-clients --------------------------------------------------------
if start_server maxc --lower "$W/big.img" --max-clients 2 --unix "$SOCK"
then
	"$POKE" "$SOCK" hold 2 0 0 5000 >"$W/hold.out" 2>"$W/hold.err" &
	POKE_PID=$!
	check "max-clients: two connected" wait_for "$W/hold.out" '^sent 2'
	if nbdinfo --size "$URI" >"$W/third.out" 2>&1; then
		bad "max-clients: a third client was served"
	else
		ok
	fi
	check "max-clients: the refusal is logged" grep -q \
	    'client #3 (unix) refused: already serving 2 clients' \
	    "$W/maxc.err"
	wait "$POKE_PID"
	POKE_PID=""
	check "max-clients: the two go on" grep -qx 'alive 2' "$W/hold.out"
	i=0
	until nbdinfo --size "$URI" >"$W/later.out" 2>&1 || [ $i -gt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	check "max-clients: served again once they left" grep -qx 67108864 \
	    "$W/later.out"
	check "max-clients: SIGTERM exits 0" stop_server
else
	bad "max-clients: serve did not start"
fi

# --- 3. a lone --lower is read-only; --writable-lower writes it -------------
head -c 1048576 /dev/urandom >"$W/w.img"
sum0=$(sha256sum <"$W/w.img")
if start_server ro --lower "$W/w.img" --unix "$SOCK"; then
	nbdinfo --json "$URI" >"$W/ro.json" 2>&1
	check "lone --lower: advertised read-only" grep -q \
	    '"is_read_only": true' "$W/ro.json"
	# nbdpoke ignores the flag and writes anyway: the server says EPERM.
	check "lone --lower: a raw NBD write gets EPERM" test \
	    "$("$POKE" "$SOCK" write 0 512 17 2>&1)" = "error 1"
	qemu-io -f raw -c 'write -P 0x22 4096 512' "$URI" >"$W/qw.out" 2>&1
	check "lone --lower: qemu-io write refused" test $? -ne 0
	check "lone --lower: qemu-io says permission denied" grep -q \
	    'Permission denied' "$W/qw.out"
	check "lone --lower: SIGTERM exits 0" stop_server
else
	bad "lone --lower: serve did not start"
fi
check "lone --lower: the file is unchanged" test \
    "$(sha256sum <"$W/w.img")" = "$sum0"

if start_server rw --lower "$W/w.img" --writable-lower --unix "$SOCK"; then
	check "--writable-lower: a raw NBD write is done" test \
	    "$("$POKE" "$SOCK" write 0 512 17 2>&1)" = "error 0"
	qemu-io -f raw -c 'write -P 0x22 4096 512' "$URI" >"$W/qw2.out" 2>&1
	check "--writable-lower: qemu-io write" test $? -eq 0
	check "--writable-lower: SIGTERM exits 0" stop_server
else
	bad "--writable-lower: serve did not start"
fi
printf '\021%.0s' $(seq 1 512) >"$W/p11"
printf '\042%.0s' $(seq 1 512) >"$W/p22"
check "--writable-lower: bytes 0..511 written" cmp -s -n 512 "$W/p11" \
    "$W/w.img"
check "--writable-lower: bytes 4096..4607 written" cmp -s -n 512 \
    "$W/p22" "$W/w.img" 0 4096
check "--writable-lower: the file changed" test \
    "$(sha256sum <"$W/w.img")" != "$sum0"

"$LIVEROOT" serve --lower "$W/w.img" --writable-lower --upper mem:1M \
    --unix "$SOCK" >/dev/null 2>"$W/c1.err"
check "--writable-lower with --upper: exit 2" test $? -eq 2
check "--writable-lower with --upper: says why" grep -q \
    'liveroot serve: --writable-lower .*drop' "$W/c1.err"
"$LIVEROOT" serve --lower "$W/w.img" --writable-lower --readonly \
    --unix "$SOCK" >/dev/null 2>"$W/c2.err"
check "--writable-lower with --readonly: exit 2" test $? -eq 2

# --- 4. warning, -q, command line -------------------------------------------
# 192.0.2.1 (TEST-NET-1) is on no interface: the warning comes, then bind
# fails without anything going on the network.
"$LIVEROOT" serve --lower "$W/w.img" --tcp 192.0.2.1:0 >/dev/null \
    2>"$W/warn.err"
check "non-loopback: exit 2 (cannot bind)" test $? -eq 2
check "non-loopback: warning about no authentication" grep -q \
    'liveroot serve: warning: .*192.0.2.1.*not a loopback.*no authentication' \
    "$W/warn.err"
rm -f "$SOCK"
"$LIVEROOT" serve --tcp 127.0.0.1:0 --lower "$W/w.img" -v >"$W/lo.out" \
    2>"$W/lo.err" &
SERVER_PID=$!
check "loopback: listening" wait_for "$W/lo.out" 'listening on tcp:127.0.0.1:'
check "loopback: no warning" sh -c "! grep -q warning '$W/lo.err'"
check "loopback: SIGTERM exits 0" stop_server
check "-v prints the limits' counters" grep -q '0 refused, 0 timed out' \
    "$W/lo.err"

if start_server quiet -q --unix "$SOCK" --lower "$W/w.img"; then
	check "-q: serves" test "$(nbdinfo --size "$URI" 2>&1)" = 1048576
	check "-q: SIGTERM exits 0" stop_server
	check "-q: nothing on stdout" test ! -s "$W/quiet.out"
else
	bad "-q: serve did not start"
fi
"$LIVEROOT" serve stray --lower "$W/w.img" --unix "$SOCK" >/dev/null \
    2>"$W/op.err"
check "an operand: exit 2" test $? -eq 2
check "an operand: named" grep -q "liveroot serve: unexpected argument 'stray'" \
    "$W/op.err"
"$LIVEROOT" serve --lower "$W/w.img" --unix "$SOCK" --bogus >/dev/null \
    2>"$W/bo.err"
check "unknown option: exit 2" test $? -eq 2
check "unknown option: through cli_err" grep -q \
    "^liveroot serve: unknown option '--bogus'" "$W/bo.err"
"$LIVEROOT" serve --lower "$W/w.img" --unix "$SOCK" --send-timeout x \
    >/dev/null 2>"$W/st.err"
check "bad --send-timeout: exit 2" test $? -eq 2
"$LIVEROOT" serve --lower "$W/w.img" --unix "$SOCK" --max-memory 4K \
    >/dev/null 2>"$W/mm.err"
check "--max-memory under 1M: exit 2" test $? -eq 2
check "--max-memory under 1M: says the minimum" grep -q 'at least 1M' \
    "$W/mm.err"
"$LIVEROOT" serve --lower "$W/w.img" --unix >/dev/null 2>"$W/na.err"
check "a missing argument: exit 2" test $? -eq 2
check "a missing argument: named" grep -q "'--unix' needs an argument" \
    "$W/na.err"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
