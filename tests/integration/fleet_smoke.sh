#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# fleet_smoke.sh - bench/fleet/run.sh, small: 4 `liveroot serve --lower
# http://...` clients replaying a short read trace of a 6 MiB image against
# one private nginx, then through an nginx edge (proxy_cache + slice) in
# front of an origin nginx.  Asserts the bounds the bench reports (never a
# time): every read succeeded; no client fetched a byte twice beyond the
# 1-byte open probe; the 4 clients together fetched at most 4x the image
# (in at most 4x one request per 256 KiB chunk of it); the origin
# behind the edge was asked each 1 MiB slice once and sent at most the
# image's slices.  Every read of every client is compared with the
# image's content (VERIFY=): a read of wrong bytes is a failed read.
set -u
: "${LIVEROOT:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
PATH=$PATH:/usr/sbin:/sbin
. "$(dirname "$0")/lib.sh"
need_tools "Debian packages nginx-light, curl" nginx curl
REPLAY=$BUILDDIR/bench/fleet_replay
if [ ! -x "$REPLAY" ]; then
	echo "SKIP: $REPLAY is not built (libnbd-dev is not installed)"
	exit 77
fi
W=${TMPDIR:-/tmp}/fleet_smoke.$$
mkdir -p "$W"
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
trap 'exit 2' INT TERM
LIB_TAP=1

# The image: 6 MiB of random, zeros and text, 64 KiB clusters, hashes
head -c 2097152 /dev/urandom > "$W/in.raw"
head -c 1048576 /dev/zero >> "$W/in.raw"
seq 1 80000 | sed 's/.*/fleet smoke line & of the example root/' |
    head -c 1048576 >> "$W/in.raw"
head -c 2097152 /dev/urandom >> "$W/in.raw"
if ! "$LIVEROOT" mkuzip -q -s 65536 --hashes -o "$W/rootfs.uzip" \
    "$W/in.raw" > "$W/mkuzip.out" 2>&1; then
	bad "mkuzip: $(cat "$W/mkuzip.out")"
	echo "$pass passed, $fail failed"
	exit 1
fi
USIZE=$(stat -c %s "$W/rootfs.uzip")
# The trace: 40 reads, 4 KiB to 128 KiB, across the whole device (some
# twice, as a boot rereads), in a fixed order
awk 'BEGIN {
	s = 12345
	for (i = 0; i < 40; i++) {
		s = (s * 1103515245 + 12345) % 2147483648
		off = (s % 1536) * 4096
		len = 4096 * (1 + s % 32)
		if (off + len > 6291456)
			len = 6291456 - off
		print off, len
		if (i % 10 == 9)
			print off, len
	}
}' > "$W/trace"

st=0
IMAGE=$W/rootfs.uzip TRACE=$W/trace CLIENTS=4 TIMEOUT=60 VERIFY=$W/in.raw \
    LIVEROOT_BENCH_DIR=$W/bench \
    sh "$SRCDIR/bench/fleet/run.sh" "$BUILDDIR" > "$W/run.out" 2> "$W/run.err" || st=$?
if [ "$st" = 0 ]; then
	ok "bench/fleet/run.sh with 4 clients exits 0"
else
	bad "bench/fleet/run.sh exited $st: $(tail -n 5 "$W/run.err")"
	cat "$W/run.out"
fi

# val ROW KEY: a value of a FLEET-RESULT line
val() {
	sed -n "s/^FLEET-RESULT row=$1 .*[ ]$2=\([0-9]*\).*/\1/p" "$W/run.out" | head -n 1
}
b1=$(val one bytes)
r1=$(val one requests)
bd=$(val direct bytes)
rd=$(val direct requests)
if [ -z "$b1" ] || [ -z "$bd" ] || [ -z "$(val cdn origin_bytes)" ]; then
	bad "no FLEET-RESULT lines for the rows one, direct and cdn"
	cat "$W/run.out" "$W/run.err"
	echo "$pass passed, $fail failed"
	exit 1
fi
for row in one direct cdn; do
	e=$(val $row errors)
	if [ "$e" = 0 ]; then ok "$row: every read succeeded, with the right bytes"; else bad "$row: $e failed reads or clients"; fi
done
# each client's bytes=0-0 open probe overlaps its first read by 1 byte
rf=$(val one refetched)
if [ "$rf" -le 1 ]; then ok "one client fetched no byte twice"; else bad "one client fetched $rf bytes twice"; fi
rf=$(val direct refetched)
if [ "$rf" -le 4 ]; then ok "4 clients: none fetched a byte twice"; else bad "4 clients fetched $rf bytes twice"; fi
# one client fetched something, and not more than the image, its hashes
# file and the headers
hs=$(stat -c %s "$W/rootfs.uzip.hashes")
if [ "$b1" -gt 0 ] && [ "$b1" -le $((USIZE + hs + (USIZE / 262144 + 3) * 512)) ]; then
	ok "one client: $b1 bytes sent (image $USIZE)"
else
	bad "one client: $b1 bytes sent, image $USIZE + hashes $hs"
fi
# what a client fetches depends on the uzip layer's read-ahead (timing), so
# the bound is the image: no client fetched more than the image, its
# hashes file and the headers of one request per 256 KiB fill chunk
chunks=$(( (USIZE + 262143) / 262144 + 2 ))
max1=$((USIZE + hs + chunks * 512))
if [ "$bd" -le $((4 * max1)) ] && [ "$bd" -ge "$b1" ]; then
	ok "4 clients: $bd bytes sent, one client $b1 (at most 4x $max1)"
else
	bad "4 clients: $bd bytes sent, one client $b1: want at most 4x $max1"
fi
if [ "$rd" -le $((4 * chunks)) ]; then
	ok "4 clients: $rd requests, one client $r1 (at most 4x $chunks)"
else
	bad "4 clients: $rd requests, one client $r1: want at most 4x $chunks"
fi
rep=$(val cdn origin_max_repeats)
if [ "$rep" = 1 ]; then ok "the origin behind the edge saw each slice once"; else bad "the origin saw one slice $rep times"; fi
ob=$(val cdn origin_bytes)
slices=$(( (USIZE + 1048575) / 1048576 + 1 ))
if [ "$ob" -le $((USIZE + hs + slices * 1024)) ]; then
	ok "origin behind the edge: $ob bytes for an image of $USIZE"
else
	bad "origin behind the edge: $ob bytes, more than the image ($USIZE) and hashes ($hs)"
fi

# a sanitizer build's reports (serve and the replayer write them on stderr)
san=$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$W"/bench/run.*/* 2>/dev/null)
if [ -z "$san" ]; then
	ok "no sanitizer report from any serve or replayer"
else
	bad "sanitizer reports in: $san"
	head -n 30 $san
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
