#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# nbd_interop.sh - `liveroot serve` against real NBD clients: nbdinfo (size,
# flags, read-only), nbdcopy (a uzip-backed export equals its input),
# qemu-io (patterns at odd offsets, read back), qemu-img compare (against
# an image built locally with the same writes), two clients at once, TCP,
# a persistent overlay across restarts, and SIGTERM shutdown.
#
# Env: LIVEROOT (the binary), BUILDDIR (for nbdpoke), TMPDIR.  Prints
# "N passed, N failed".
set -u

: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
POKE=${BUILDDIR:-.}/tests/integration/nbdpoke
. "$(dirname "$0")/lib.sh"
LIB_ERR=1
LIB_NAME=nbd_interop

for t in nbdinfo nbdcopy qemu-io qemu-img; do
	command -v "$t" >/dev/null 2>&1 ||
	    skip "$t is missing (install libnbd-bin and qemu-utils)"
done

W=$(mktemp -d "${TMPDIR:-/tmp}/nbd_interop.XXXXXX") || exit 1
SERVER_PID=""
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM

# start_server LOGNAME ARGS...: runs serve in the background until it says
# where it listens (the line goes to $W/LOGNAME.out).
start_server() {
	log=$1
	shift
	: >"$W/$log.out"	# truncated here, before the server can write
	"$LIVEROOT" serve "$@" >>"$W/$log.out" 2>"$W/$log.err" &
	SERVER_PID=$!
	wait_started "$log" grep -qs 'listening on' "$W/$log.out"
}

# A 4 MiB input: random, zeros, text, random (cluster-aligned).
head -c 1048576 /dev/urandom >"$W/in.raw"
head -c 1048576 /dev/zero >>"$W/in.raw"
seq 1 40000 | sed 's/.*/liveroot nbd interop line & padding padding/' |
    head -c 1048576 >>"$W/in.raw"
head -c 1048576 /dev/urandom >>"$W/in.raw"
[ "$(wc -c <"$W/in.raw")" -eq 4194304 ] || bad "input is not 4 MiB"

# The uzip images: liveroot mkuzip when it is there, and always the
# independent cloop writer when installed (cloop v2 = uzip zlib v2).
UZIPS=""
if "$LIVEROOT" mkuzip --help >/dev/null 2>&1; then
	if "$LIVEROOT" mkuzip -A zstd -s 65536 -o "$W/in.uzip" "$W/in.raw" \
	    >/dev/null 2>"$W/mkuzip.err"; then
		UZIPS="$W/in.uzip"
	else
		bad "liveroot mkuzip: $(cat "$W/mkuzip.err")"
	fi
else
	echo "nbd_interop: no 'liveroot mkuzip' in this build yet" >&2
fi
if command -v create_compressed_fs >/dev/null 2>&1; then
	create_compressed_fs -q -B 65536 "$W/in.raw" "$W/in.cloop" \
	    >/dev/null 2>&1 && UZIPS="$UZIPS $W/in.cloop"
fi
[ -n "$UZIPS" ] || bad "no uzip image could be made"

SOCK="$W/s.sock"
URI="nbd+unix:///?socket=$SOCK"

# --- 1. read-only uzip-backed exports: nbdinfo, nbdcopy ------------------
for u in $UZIPS; do
	name=$(basename "$u")
	if start_server "ro-$name" --lower "$u" --readonly --unix "$SOCK"; then
		nbdinfo --json "$URI" >"$W/info.json" 2>&1
		check "$name: nbdinfo size" grep -q '"export-size": 4194304' \
		    "$W/info.json"
		check "$name: nbdinfo read-only" grep -q \
		    '"is_read_only": true' "$W/info.json"
		check "$name: no trim on read-only" grep -q \
		    '"can_trim": false' "$W/info.json"
		rm -f "$W/copy.raw"
		check "$name: nbdcopy" nbdcopy "$URI" "$W/copy.raw"
		check "$name: copy equals the input" cmp -s "$W/copy.raw" \
		    "$W/in.raw"
		# A write must be refused as a write to a read-only export:
		# qemu-io sees the READ_ONLY flag and will not open for
		# writing (EACCES, "Permission denied"); a raw client that
		# ignores the flag gets the server's EPERM (NBD error 1).
		qemu-io -f raw -c 'write -P 0x11 0 512' "$URI" \
		    >"$W/rw.out" 2>&1
		check "$name: qemu-io write fails" test $? -ne 0
		check "$name: qemu-io: refused as read-only" grep -q \
		    'Could not open image: Permission denied' "$W/rw.out"
		if [ -x "$POKE" ]; then
			check "$name: a raw write gets EPERM" test \
			    "$("$POKE" "$SOCK" write 0 512 17 2>&1)" = \
			    "error 1"
		else
			bad "nbdpoke was not built ($POKE)"
		fi
		check "$name: SIGTERM exits 0" stop_server
	else
		bad "$name: serve did not start"
	fi
done

# --- 2. raw lower + RAM upper: qemu-io patterns, qemu-img compare --------
cp "$W/in.raw" "$W/expect.raw"
cp "$W/in.raw" "$W/lower.raw"
IO1="-c 'write -P 0x5a 1 4095' -c 'write -P 0xa5 12345 70001'"
IO1="$IO1 -c 'write -z 2097153 9999' -c 'write -P 0x33 4194303 1'"
IO1="$IO1 -c 'discard 524288 65536' -c flush"
# The same writes on a local copy give the expected image; discard on a
# raw file punches a hole (zeros), as the overlay's write-zeroes does...
# but trim is advisory, so compare the discarded range separately.
eval qemu-io -f raw "$IO1" "$W/expect.raw" >/dev/null 2>&1
if start_server rw --lower "$W/lower.raw" --upper mem:16M --unix "$SOCK"; then
	eval qemu-io -f raw "$IO1" "'$URI'" >"$W/io1.out" 2>&1
	check "qemu-io writes" test $? -eq 0
	check "qemu-io writes: no error" sh -c \
	    "! grep -qi 'error\|fail' '$W/io1.out'"
	qemu-io -f raw -c 'read -P 0x5a 1 4095' -c 'read -P 0xa5 12345 70001' \
	    -c 'read -P 0 2097153 9999' -c 'read -P 0x33 4194303 1' \
	    "$URI" >"$W/io2.out" 2>&1
	check "qemu-io reads back the patterns" sh -c \
	    "! grep -qi 'fail\|error' '$W/io2.out'"
	# Discarded data is either zero or the old data: make both images
	# agree there, then compare the whole device.
	qemu-io -f raw -c 'write -P 0x77 524288 65536' "$URI" >/dev/null 2>&1
	qemu-io -f raw -c 'write -P 0x77 524288 65536' "$W/expect.raw" \
	    >/dev/null 2>&1
	check "qemu-img compare with the expected image" \
	    qemu-img compare -q -f raw -F raw "$W/expect.raw" "$URI"
	check "the lower was not touched" cmp -s "$W/lower.raw" "$W/in.raw"

	# Two clients at once, each on its own region, then cross-checks.
	qemu-io -f raw -c 'write -P 0x61 1048576 524288' \
	    -c 'write -P 0x62 1572864 500000' "$URI" >"$W/c1.out" 2>&1 &
	c1=$!
	qemu-io -f raw -c 'write -P 0x71 3145728 524288' \
	    -c 'write -P 0x72 3670016 400000' "$URI" >"$W/c2.out" 2>&1 &
	c2=$!
	nbdinfo --size "$URI" >"$W/size.out" 2>&1
	check "nbdinfo while two clients write" grep -qx 4194304 \
	    "$W/size.out"
	wait $c1
	check "client 1" test $? -eq 0
	wait $c2
	check "client 2" test $? -eq 0
	qemu-io -f raw -c 'read -P 0x61 1048576 524288' \
	    -c 'read -P 0x62 1572864 500000' \
	    -c 'read -P 0x71 3145728 524288' \
	    -c 'read -P 0x72 3670016 400000' "$URI" >"$W/c3.out" 2>&1
	check "both clients' writes read back" sh -c \
	    "! grep -qi 'fail\|error' '$W/c3.out'"
	check "SIGTERM exits 0" stop_server
	check "socket removed at exit" test ! -e "$SOCK"
	check "stats printed with -v only" sh -c "! grep -q connections \
	    '$W/rw.err'"
else
	bad "rw serve did not start"
fi

# --- 3. TCP on loopback, an ephemeral port ------------------------------
if start_server tcp --lower "$W/in.raw" --readonly --tcp 127.0.0.1:0 -v; then
	addr=$(sed -n 's/.*listening on tcp:\(.*\)$/\1/p' "$W/tcp.out" |
	    head -n 1)
	nbdinfo --size "nbd://$addr" >"$W/tsize.out" 2>&1
	check "TCP export size" grep -qx 4194304 "$W/tsize.out"
	check "TCP SIGTERM exits 0" stop_server
	check "-v prints statistics" grep -q '1 connections' "$W/tcp.err"
else
	bad "tcp serve did not start"
fi

# --- 4. persistent overlay: writes survive a restart ---------------------
cp "$W/in.raw" "$W/plower.raw"
if start_server p1 --lower "$W/plower.raw" --upper "$W/upper.img" \
    --unix "$SOCK"; then
	qemu-io -f raw -c 'write -P 0x44 777 3333' "$URI" >/dev/null 2>&1
	check "persistent: stop" stop_server
	if start_server p2 --overlay "$W/upper.img" --readonly --unix "$SOCK"
	then
		qemu-io -f raw -r -c 'read -P 0x44 777 3333' "$URI" \
		    >"$W/p.out" 2>&1
		check "persistent: writes survive a restart" sh -c \
		    "! grep -qi 'fail\|error' '$W/p.out'"
		check "persistent: stop 2" stop_server
	else
		bad "persistent reopen did not start: $(cat "$W/p2.err")"
	fi
	check "persistent: lower untouched" cmp -s "$W/plower.raw" "$W/in.raw"
else
	bad "persistent serve did not start"
fi

# --- 4b. persistent overlay over a uzip lower: the union is decompressed --
for u in $UZIPS; do
	up="$W/upper-$(basename "$u").img"
	if start_server pu1 --lower "$u" --upper "$up" --unix "$SOCK"; then
		check "uzip overlay: size" test "$(nbdinfo --size "$URI")" \
		    -eq 4194304
		qemu-io -f raw -c 'write -P 0x46 1000 5000' "$URI" \
		    >/dev/null 2>&1
		check "uzip overlay: stop" stop_server
		if start_server pu2 --overlay "$up" --unix "$SOCK"; then
			qemu-io -f raw -c 'read -P 0x46 1000 5000' \
			    -c 'read -P 0 1048576 1048576' "$URI" \
			    >"$W/pu.out" 2>&1
			check "uzip overlay: writes and lower after reopen" \
			    sh -c "! grep -qi 'fail\|error' '$W/pu.out'"
			rm -f "$W/pcopy.raw"
			nbdcopy "$URI" "$W/pcopy.raw"
			printf '\106%.0s' $(seq 1 5000) >"$W/F"
			cp "$W/in.raw" "$W/pexp.raw"
			dd if="$W/F" of="$W/pexp.raw" bs=1 seek=1000 \
			    conv=notrunc 2>/dev/null
			check "uzip overlay: whole device as expected" \
			    cmp -s "$W/pcopy.raw" "$W/pexp.raw"
			check "uzip overlay: stop 2" stop_server
		else
			bad "uzip overlay reopen: $(cat "$W/pu2.err")"
		fi
	else
		bad "uzip overlay did not start: $(cat "$W/pu1.err")"
	fi
done

# --- 4c. --fd: one connection on an inherited socket (socat's socketpair) -
# socat is in scripts/install-deps.sh: without it this part is a SKIP.
if command -v socat >/dev/null 2>&1; then
	rm -f "$SOCK"
	socat UNIX-LISTEN:"$SOCK" EXEC:"$LIVEROOT serve --lower $W/in.raw \
--readonly --fd 0" 2>"$W/fd.err" &
	sp=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	check "--fd: size" test "$(nbdinfo --size "$URI" 2>&1)" = 4194304
	wait $sp
	check "--fd: socat and serve exit 0" test $? -eq 0
else
	echo "SKIP: nbd_interop: --fd not tested: socat is missing (apt-get" \
	    "install socat, or scripts/install-deps.sh)"
fi

# --- 5. usage errors --------------------------------------------------------
"$LIVEROOT" serve --lower "$W/in.raw" >/dev/null 2>&1
check "no listen address: exit 2" test $? -eq 2
"$LIVEROOT" serve --lower "$W/nonexistent" --unix "$SOCK" >/dev/null \
    2>"$W/e.err"
check "missing lower: exit 2" test $? -eq 2
check "missing lower: named" grep -q nonexistent "$W/e.err"
"$LIVEROOT" serve --help >"$W/h.out" 2>&1
check "--help exits 0" test $? -eq 0
check "--help shows the stack options" grep -q -- '--upper' "$W/h.out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
