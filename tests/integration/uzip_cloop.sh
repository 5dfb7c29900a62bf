#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# uzip_cloop.sh - uzip images against Linux cloop-utils, which read and write
# cloop V2.0 (byte-compatible with uzip zlib v2):
#  - an image made by create_compressed_fs reads back byte-identical through
#    `liveroot uzip extract` (and passes `uzip check`);
#  - `liveroot mkuzip -A zlib -Z` output (no elided zero clusters: cloop has
#    none) extracts byte-identical with extract_compressed_fs;
#  - mkuzip round trips for every codec, with and without -d, default names;
#  - CLI errors: missing file, corrupt cluster, truncated image, bad flags.
set -u

: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
. "$(dirname "$0")/lib.sh"
need_tools "cloop-utils, python3" create_compressed_fs \
    extract_compressed_fs cmp python3

W=$(mktemp -d "${TMPDIR:-/tmp}/uzip_cloop.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
cd "$W" || exit 1

# A 3 MiB input: text, random bytes, a zero run, repeated blocks, and a
# tail that is not a multiple of any cluster size.
python3 - <<'EOF'
import random
r = random.Random(7)
b = bytearray()
while len(b) < 1 << 20:
    b += b"liveroot uzip integration line %d\n" % len(b)
b += bytes(r.getrandbits(8) for _ in range(512 * 1024))
b += bytes(700 * 1024)
blk = bytes(r.getrandbits(8) for _ in range(65536))
b += blk * 6
b += b"tail" * 1000
open("in.bin", "wb").write(b)
EOF
SIZE=$(wc -c <in.bin)

# Compare the first SIZE bytes of $1 with in.bin; the rest must be zeros.
same_padded() {
	python3 - "$1" "$SIZE" <<'EOF'
import sys
d = open(sys.argv[1], "rb").read()
n = int(sys.argv[2])
src = open("in.bin", "rb").read()
sys.exit(0 if d[:n] == src and d[n:].count(0) == len(d) - n else 1)
EOF
}

# 1. create_compressed_fs -> liveroot uzip extract
create_compressed_fs -q -B 65536 in.bin cloop.img >cfs.log 2>&1
check "create_compressed_fs ran" test -s cloop.img
check "uzip check of a cloop image" "$LIVEROOT" uzip check cloop.img
"$LIVEROOT" uzip extract cloop.img cloop.out
check "cloop image extracts byte-identical" same_padded cloop.out
"$LIVEROOT" uzip extract -w 1 cloop.img - >cloop1.out
check "cloop image to stdout, 1 worker" same_padded cloop1.out
"$LIVEROOT" uzip info --json cloop.img >info.json
check "info --json of cloop" python3 -c '
import json; j = json.load(open("info.json"))
assert j["codec"] == "zlib" and j["cluster_size"] == 65536, j
assert j["clusters"] == j["data_clusters"] > 0, j'

# 2. liveroot mkuzip -A zlib -> extract_compressed_fs
"$LIVEROOT" mkuzip -A zlib -Z -s 65536 -o mk.uzip in.bin
extract_compressed_fs mk.uzip - 2>/dev/null >mk.out
check "mkuzip -A zlib -Z extracts with extract_compressed_fs" \
    same_padded mk.out

# 3. round trips, default output names, -S summary
for a in zlib lzma zstd; do
	for dd in "" -d; do
		cp in.bin rt.bin
		"$LIVEROOT" mkuzip -S -A "$a" $dd -j 2 -s 32768 rt.bin >sum.txt
		case $a in
		zlib) o=rt.bin.uzip ;;
		lzma) o=rt.bin.ulzma ;;
		zstd) o=rt.bin.uzst ;;
		esac
		check "mkuzip -A $a $dd: default name $o" test -s "$o"
		check "mkuzip -S summary ($a $dd)" \
		    grep -q "^compressed data to [0-9]* bytes, saved" sum.txt
		"$LIVEROOT" uzip extract "$o" rt.out
		check "round trip -A $a $dd" same_padded rt.out
		sz=$(wc -c <"$o")
		check "$o is a multiple of 512" test $((sz % 512)) -eq 0
		if [ -n "$dd" ]; then
			"$LIVEROOT" uzip info --json "$o" >i.json
			check "dedup found the repeated blocks ($a)" python3 -c '
import json; j = json.load(open("i.json")); assert j["dedup_clusters"] >= 8, j'
		fi
		rm -f "$o" rt.out
	done
done
"$LIVEROOT" mkuzip -L -o l.img in.bin
check "-L is lzma" sh -c "\"$LIVEROOT\" uzip info l.img | grep -q 'codec: *lzma'"

# A block device as input (needs root and a free loop device; a note
# otherwise, the rest of the script still runs).
head -c 2097152 in.bin >blk.bin
if [ "$(id -u)" = 0 ] && LOOP=$(losetup -f --show blk.bin 2>/dev/null); then
	"$LIVEROOT" mkuzip -A zstd -d -o blk.uzip "$LOOP"
	losetup -d "$LOOP"
	"$LIVEROOT" uzip extract blk.uzip blk.out
	check "block device input round trip" cmp blk.out blk.bin
else
	echo "SKIP: no loop device (not root?): block device input not tested"
fi

# 4. errors
expect_err "missing input" 2 "nothere.bin: cannot open" \
    "$LIVEROOT" mkuzip -o x.uzip nothere.bin
check "no partial output after a failure" test ! -e x.uzip
expect_err "bad cluster size" 2 "cluster size should be multiple of 512" \
    "$LIVEROOT" mkuzip -s 1000 in.bin
expect_err "bad codec" 2 "invalid algorithm" \
    "$LIVEROOT" mkuzip -A lz4 in.bin
expect_err "missing image" 2 "nothere.uzip" \
    "$LIVEROOT" uzip info nothere.uzip
"$LIVEROOT" mkuzip -A zstd -o c.uzip in.bin
python3 - <<'EOF'
d = bytearray(open("c.uzip", "rb").read())
off = int.from_bytes(d[136 + 8 * 5:136 + 8 * 6], "big")
d[off + 8:off + 40] = b"\xa5" * 32
open("corrupt.uzip", "wb").write(d)
open("trunc.uzip", "wb").write(d[:len(d) // 2])
open("trunctoc.uzip", "wb").write(d[:300])
EOF
expect_err "corrupt cluster: check" 1 "cluster 5 at offset" \
    "$LIVEROOT" uzip check corrupt.uzip
expect_err "corrupt cluster: extract" 1 "does not decompress (zstd:" \
    "$LIVEROOT" uzip extract corrupt.uzip co.out
check "no partial extract output" test ! -e co.out
expect_err "truncated image" 1 "the image is truncated" \
    "$LIVEROOT" uzip check trunc.uzip
expect_err "truncated TOC" 1 "longer than the 300-byte image" \
    "$LIVEROOT" uzip info trunctoc.uzip
printf 'hello' >notuzip.bin
expect_err "not a uzip image" 1 "too short for a uzip image" \
    "$LIVEROOT" uzip info notuzip.bin
# Regression (uzip TOC lies): the TOC of a valid 3-cluster zlib image is
# rewritten (1) so that cluster 0 is 17000 bytes long (junk after its zlib
# stream, which ends early, so decompression alone "works"; g_uzip refuses
# more than compressBound(16384) = 16402 at taste), (2) so that cluster 1
# starts beyond the end of the file.  uzip info, uzip check and the stack at
# open (uzip extract) must all refuse both.
head -c 49152 /dev/zero | tr '\0' 'a' >lies.bin
"$LIVEROOT" mkuzip -A zlib -o lies.uzip lies.bin >/dev/null 2>&1
python3 - lies.uzip <<'PY'
import struct, sys
img = open(sys.argv[1], "rb").read()
n = struct.unpack(">I", img[132:136])[0]
toc = list(struct.unpack(">%dQ" % (n + 1), img[136:136 + 8 * (n + 1)]))
assert n == 3, n
def write(name, toc, data):
    hdr = img[:136] + struct.pack(">%dQ" % (n + 1), *toc)
    out = hdr + data
    out += b"\0" * (-len(out) % 512)
    open(name, "wb").write(out)
d0 = toc[0]
c0 = img[toc[0]:toc[1]]
rest = img[toc[1]:]
pad = 17000 - len(c0)
long_toc = [toc[0]] + [t + pad for t in toc[1:3]] + [0]
write("long.uzip", long_toc, c0 + b"\x5a" * pad + rest)
past = list(toc)
past[1] = len(img) + 4096
write("past.uzip", past, img[d0:])
PY
for v in info check extract; do
	case $v in extract) out=lies.out ;; *) out="" ;; esac
	# shellcheck disable=SC2086
	expect_err "TOC lies: long cluster, uzip $v" 1 \
	    "that geom_uzip accepts for 16384-byte zlib clusters" \
	    "$LIVEROOT" uzip $v long.uzip $out
	# shellcheck disable=SC2086
	expect_err "TOC lies: cluster past the end, uzip $v" 1 \
	    "lies outside the data area" "$LIVEROOT" uzip $v past.uzip $out
done
check "TOC lies: nothing extracted" test ! -s lies.out

# An interrupted mkuzip leaves neither the output nor its temporary file.
head -c 67108864 /dev/urandom >rnd.bin
# (A background job of sh starts with SIGINT ignored; python3 restores the
# default before exec, as an interactive shell would.)
for sig in INT TERM; do
	python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$LIVEROOT" mkuzip -A lzma -C 9 -j 1 \
	    -o sig.uzip rnd.bin 2>/dev/null &
	pid=$!
	# signalled once its temporary output exists: mid-run, whatever the
	# machine's load (a fixed sleep let a fast run finish first)
	i=0
	while [ $i -lt 200 ] && ! ls sig.uzip.* >/dev/null 2>&1; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -"$sig" "$pid"
	wait "$pid"
	st=$?
	check "SIG$sig ends mkuzip by the signal (status $st)" test "$st" -gt 128
	check "SIG$sig leaves no partial output" \
	    sh -c '! ls sig.uzip* >/dev/null 2>&1'
done

check "mkuzip --help" sh -c "\"$LIVEROOT\" mkuzip --help | grep -q 'usage: liveroot mkuzip'"
check "uzip --help" sh -c "\"$LIVEROOT\" uzip --help | grep -q 'liveroot uzip extract'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
