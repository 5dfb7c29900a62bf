#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# overlay_cli.sh - `liveroot overlay` on real files: create, status, revert,
# commit, destroy, checked with cmp.  Writes reach the overlay through
# `liveroot serve --overlay` and qemu-io (an NBD client nobody here wrote);
# nbdcopy reads the union back, in a later server session than the writes,
# so the map's persistence is part of every check.  Bad input: a missing
# lower, a too-small upper, a corrupt and a truncated map, a lower replaced
# by other bytes of the same size, a symlink planted at the map's temporary
# file; a version 1 map; options after operands and -q.
set -u

: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
for t in qemu-io nbdcopy python3 cmp timeout; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "SKIP: $t is not installed (qemu-utils, libnbd-bin, python3)"
		exit 77
	fi
done

W=$(mktemp -d "${TMPDIR:-/tmp}/overlay_cli.XXXXXX")
SRV=""
trap 'if [ -n "$SRV" ]; then kill "$SRV" 2>/dev/null; fi; rm -rf "$W"' EXIT INT TERM
cd "$W" || exit 1

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@"; then ok; else bad "$d"; fi
}

SOCK="$W/s.sock"
URI="nbd+unix:///?socket=$SOCK"

serve_start() {
	rm -f "$SOCK"
	"$LIVEROOT" serve --overlay "$1" --unix "$SOCK" >serve.log 2>&1 &
	SRV=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$SOCK" ] || { bad "serve did not start: $(cat serve.log)"; return 1; }
}

serve_stop() {
	kill -TERM "$SRV" 2>/dev/null
	wait "$SRV" 2>/dev/null
	SRV=""
}

# union UPPER OUT: read the whole union through a fresh server.
union() {
	serve_start "$1" || return 1
	nbdcopy "$URI" "$2"
	r=$?
	serve_stop
	return $r
}

# write_at UPPER: the writes of the test, through a fresh server.
write_some() {
	serve_start "$1" || return 1
	qemu-io -f raw "$URI" -c 'write -P 0xab 1000 5000' \
	    -c 'write -P 0xcd 2000000 100000' -c 'write -P 0x11 2999990 10' \
	    >qemu-io.log 2>&1
	r=$?
	serve_stop
	return $r
}

json_field() { # json_field FILE KEY
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# 3000000 bytes: not a multiple of the granule, so the last one is short.
python3 -c '
import random
r = random.Random(42)
open("lower.img", "wb").write(bytes(r.getrandbits(8) for _ in range(3000000)))'
cp lower.img orig.img
python3 -c '
d = bytearray(open("lower.img", "rb").read())
d[1000:6000] = b"\xab" * 5000
d[2000000:2100000] = b"\xcd" * 100000
d[2999990:3000000] = b"\x11" * 10
open("expect.img", "wb").write(d)'

# --- create, status ----------------------------------------------------------
check "overlay --help exits 0" "$LIVEROOT" overlay --help >/dev/null
check "create" "$LIVEROOT" overlay create lower.img up.img
check "create made a sparse upper of the union size" \
    test "$(stat -c %s up.img)" = 3000000 -a "$(stat -c %b up.img)" = 0
check "create made the map" test -s up.img.rowrmap
"$LIVEROOT" overlay status --json up.img >st.json
check "status --json exits 0" test $? = 0
check "status: size" test "$(json_field st.json size)" = 3000000
check "status: granule" test "$(json_field st.json granule)" = 4096
check "status: map bytes" test "$(json_field st.json map_bytes)" = 96
check "status: nothing written" test "$(json_field st.json granules_written)" = 0
"$LIVEROOT" overlay status up.img >st.txt
check "status text names the lower" grep -q "lower .*lower.img" st.txt

# --- writes persist; the lower is untouched ---------------------------------
check "write through serve + qemu-io" write_some up.img
check "union read back in a new session" union up.img u1.img
check "union = expected after writes (persistent map)" cmp -s u1.img expect.img
check "lower untouched" cmp -s lower.img orig.img
"$LIVEROOT" overlay status --json up.img >st.json
# 1000..6000 -> 0..1, 2000000..2100000 -> 488..512, last granule 732.
check "status: 28 granules written" \
    test "$(json_field st.json granules_written)" = 28
check "status: upper bytes in use" \
    test "$(json_field st.json upper_bytes_used)" -ge $((28 * 4096 - 4096))

# --- revert ------------------------------------------------------------------
check "revert" "$LIVEROOT" overlay revert up.img >/dev/null
check "union after revert" union up.img u2.img
check "union = lower after revert" cmp -s u2.img lower.img
"$LIVEROOT" overlay status --json up.img >st.json
check "status after revert: 0 written" \
    test "$(json_field st.json granules_written)" = 0
# (the short last granule's block stays: a hole is punched in whole blocks)
check "revert freed the upper's blocks" \
    test "$(json_field st.json upper_bytes_used)" -le 4096

# --- commit ------------------------------------------------------------------
check "write again" write_some up.img
check "commit" "$LIVEROOT" overlay commit up.img >commit.log 2>&1
check "commit reports the granules" grep -q "committed 28 granules" commit.log
check "lower = expected after commit" cmp -s lower.img expect.img
check "union after commit" union up.img u3.img
check "union = expected after commit" cmp -s u3.img expect.img
"$LIVEROOT" overlay status --json up.img >st.json
check "status after commit: 0 written" \
    test "$(json_field st.json granules_written)" = 0

# --- destroy -----------------------------------------------------------------
check "destroy" "$LIVEROOT" overlay destroy up.img
check "destroy removed the map" test ! -e up.img.rowrmap
check "destroy kept the upper" test -e up.img
"$LIVEROOT" overlay status up.img >/dev/null 2>err.txt
check "status of a non-overlay exits 1" test $? = 1
check "status says it is no overlay" grep -q "no overlay map" err.txt
check "create over the kept upper" "$LIVEROOT" overlay create --granule 64K lower.img up.img
check "destroy --remove" "$LIVEROOT" overlay destroy --remove up.img
check "destroy --remove removed the upper" test ! -e up.img

# --- bad input -----------------------------------------------------------------
"$LIVEROOT" overlay create missing.img up.img 2>err.txt
check "missing lower exits 2" test $? = 2
check "missing lower: message" grep -q "missing.img: no such file" err.txt
check "missing lower leaves nothing behind" test ! -e up.img -a ! -e up.img.rowrmap
truncate -s 100K small.img
"$LIVEROOT" overlay create lower.img small.img 2>err.txt
check "too-small upper exits 2" test $? = 2
check "too-small upper names the size to use" grep -q "truncate -s 3000000 small.img" err.txt
"$LIVEROOT" overlay create --granule 3000 lower.img up.img 2>err.txt
check "bad granule exits 2" test $? = 2
check "bad granule: message" grep -q "power of 2" err.txt

"$LIVEROOT" overlay create lower.img up.img
printf '\377' | dd of=up.img.rowrmap bs=1 seek=80 conv=notrunc 2>/dev/null
"$LIVEROOT" overlay status up.img 2>err.txt
check "corrupt map exits 2" test $? = 2
check "corrupt map: message" grep -q "up.img.rowrmap: overlay map is corrupt" err.txt
"$LIVEROOT" serve --overlay up.img --unix "$SOCK" >/dev/null 2>err.txt
check "serve refuses a corrupt map" test $? != 0
check "serve: corrupt map message" grep -q "corrupt" err.txt
check "destroy works on a corrupt map" "$LIVEROOT" overlay destroy up.img
"$LIVEROOT" overlay create lower.img up.img
truncate -s 50 up.img.rowrmap
"$LIVEROOT" overlay revert up.img 2>err.txt
check "truncated map exits 2" test $? = 2
check "truncated map: message" grep -q "corrupt: truncated" err.txt
"$LIVEROOT" overlay bogus up.img 2>/dev/null
check "unknown sub-command exits 2" test $? = 2

# --- the lower's identity ------------------------------------------------------
# Regression: a lower replaced by other data of the same size was accepted by
# status and serve (only its path and size were recorded), so every written
# granule sat on the wrong base.  Now both refuse, naming the recorded and the
# found lower (path, size, hash prefix); a copy of the right bytes is fine.
cp lower.img lowi.img
check "create on lowi.img" "$LIVEROOT" overlay create lowi.img upi.img
"$LIVEROOT" overlay status upi.img >st.txt
check "status shows the lower's identity" \
    grep -q "identity     sha256 [0-9a-f]\{64\} (of 64 sampled blocks), checked" st.txt
python3 -c '
import random
open("lowi.img", "r+b").write(random.Random(9).randbytes(3000000))'
"$LIVEROOT" overlay status upi.img >/dev/null 2>err.txt
check "status refuses a same-size other lower" test $? = 2
check "status names both lowers" grep -q "upi.img.rowrmap: made on another lower (the same file, changed since): recorded .*/lowi.img, 3000000 bytes, sha256 [0-9a-f]\{12\}; found .*/lowi.img, 3000000 bytes, sha256 [0-9a-f]\{12\};" err.txt
check "status names the fix" grep -q "put the recorded lower back, or drop the overlay ('liveroot overlay destroy upi.img')" err.txt
timeout 10 "$LIVEROOT" serve --overlay upi.img --unix "$SOCK" >/dev/null 2>err.txt
check "serve refuses a same-size other lower" test $? = 2
check "serve names both lowers" grep -q "made on another lower .*recorded .*/lowi.img, 3000000 bytes, sha256 [0-9a-f]\{12\}; found .*lowi.img, 3000000 bytes, sha256 [0-9a-f]\{12\}" err.txt
"$LIVEROOT" overlay revert upi.img >/dev/null 2>err.txt
check "revert refuses it too" test $? = 2
cp lower.img lowi.new
mv lowi.new lowi.img
check "a copy of the right bytes (a new inode) is accepted" \
    "$LIVEROOT" overlay status -q upi.img

# A uzip lower is identified by its table and samples of the image file.
python3 -c '
import random
r = random.Random(11)
open("za.bin", "wb").write(r.randbytes(1000000))
open("zb.bin", "wb").write(r.randbytes(1000000))'
"$LIVEROOT" mkuzip za.bin -o za.uzip >/dev/null 2>&1 &&
    "$LIVEROOT" mkuzip zb.bin -o zb.uzip >/dev/null 2>&1
check "two uzip images of the same size" test "$(stat -c %s za.uzip)" = "$(stat -c %s zb.uzip)"
timeout 2 "$LIVEROOT" serve --lower za.uzip --upper upz.img --unix "$SOCK" >/dev/null 2>&1
"$LIVEROOT" overlay status upz.img >st.txt
check "a uzip lower's identity" grep -q "identity     sha256 [0-9a-f]\{64\} (of the uzip table and sampled blocks), checked" st.txt
cp za.uzip za.save
cp zb.uzip za.uzip
"$LIVEROOT" overlay status upz.img >/dev/null 2>err.txt
check "status refuses another uzip image" test $? = 2
check "... naming both" grep -q "made on another lower (the same file, changed since): recorded .*/za.uzip, [0-9]* bytes, sha256 [0-9a-f]\{12\}; found .*/za.uzip" err.txt
timeout 10 "$LIVEROOT" serve --overlay upz.img --unix "$SOCK" >/dev/null 2>err.txt
check "serve refuses another uzip image" grep -q "made on another lower" err.txt
cp za.save za.uzip
check "the right image again" "$LIVEROOT" overlay status -q upz.img

# Regression: `overlay create X.uzip UPPER` recorded the compressed file as
# the lower (the map's size was the file's), and `serve --overlay UPPER`,
# which decompresses it, refused it as the wrong size.  The overlay's lower
# is the decompressed image; its identity is the image file's.
"$LIVEROOT" serve --lower za.uzip --unix "$SOCK" >/dev/null 2>&1 &
SRV=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
nbdcopy "$URI" zdec.img
serve_stop
rm -f "$SOCK"
check "create on a uzip image" "$LIVEROOT" overlay create za.uzip upc.img
"$LIVEROOT" overlay status --json upc.img >st.json
check "... the union is the decompressed image" \
    test "$(json_field st.json size)" = "$(stat -c %s zdec.img)"
check "... identified as a uzip image" \
    test "$(json_field st.json lower_identity)" = uzip
check "serve --overlay opens it" union upc.img zu.img
check "... and reads the decompressed bytes" cmp zdec.img zu.img
check "... which begin with the image's" cmp -n 1000000 za.bin zu.img
serve_start upc.img && qemu-io -f raw "$URI" -c 'write -P 0x5a 4096 8192' \
    >qemu-io.log 2>&1
serve_stop
python3 -c '
d = bytearray(open("zdec.img", "rb").read())
d[4096:12288] = b"\x5a" * 8192
open("zexp.img", "wb").write(d)'
check "a write through it persists" union upc.img zu.img
check "... over the decompressed lower" cmp zexp.img zu.img
"$LIVEROOT" overlay commit -q upc.img 2>err.txt
check "commit into a uzip image is refused" test $? = 2
check "... saying why" grep -q "za.uzip is a uzip image, which is read-only: nothing can be committed into it" err.txt
check "revert on it" "$LIVEROOT" overlay revert -q upc.img
check "... gives the image back" union upc.img zu.img
check "... byte for byte" cmp zdec.img zu.img

# --- the map's temporary file ----------------------------------------------------
# Regression: UPPER.rowrmap.tmp was opened with O_TRUNC and followed: a
# symbolic link planted there had its target overwritten by the map.
echo precious >victim.txt
ln -s victim.txt upi.img.rowrmap.tmp
"$LIVEROOT" overlay revert upi.img >/dev/null 2>err.txt
check "a save over a planted symlink is refused" test $? = 2
check "... naming it" grep -q "upi.img.rowrmap.tmp: cannot save the overlay map: a symbolic link is in the way" err.txt
check "the symlink's target is untouched" test "$(cat victim.txt)" = precious
check "the map is still a regular file" test -f upi.img.rowrmap -a ! -L upi.img.rowrmap
rm -f upi.img.rowrmap.tmp
echo stale >upi.img.rowrmap.tmp
check "a stale temporary file of ours is replaced" "$LIVEROOT" overlay revert -q upi.img
check "... and gone after the save" test ! -e upi.img.rowrmap.tmp

# --- a map from before identities (version 1) --------------------------------
python3 -c '
import os, struct, zlib
path = os.path.abspath("lower.img").encode()
bits = bytes([0x01]) + bytes(91)
h = b"LRROWRMP" + struct.pack("<IIQQQI", 1, 4096, 3000000, 7, 92, len(path))
h += struct.pack("<I", zlib.crc32(path + bits)) + bytes(12)
h += struct.pack("<I", zlib.crc32(h))
open("upv1.img.rowrmap", "wb").write(h + path + bits)
open("upv1.img", "wb").truncate(3000000)'
"$LIVEROOT" overlay status --json upv1.img >st.json 2>err.txt
check "a version 1 map opens" test $? = 0
check "... reported as version 1" test "$(json_field st.json map_version)" = 1
check "... without a recorded identity" test "$(json_field st.json lower_identity)" = none
check "... with a warning" grep -q "warning: upv1.img.rowrmap (a version 1 map) records no identity" err.txt
check "... and its granule" test "$(json_field st.json granules_written)" = 1
check "revert of a version 1 map" "$LIVEROOT" overlay revert -q upv1.img
"$LIVEROOT" overlay status --json upv1.img >st.json
check "... saves it as version 2" test "$(json_field st.json map_version)" = 2
check "... with the identity recorded" test "$(json_field st.json lower_identity)" = sampled

# --- one grammar: options after operands, -q --------------------------------
"$LIVEROOT" overlay status upi.img --json >st.json
check "status UPPER --json (option after the operand)" test "$(json_field st.json size)" = 3000000
check "create LOWER UPPER --granule 64K" "$LIVEROOT" overlay create lower.img upg.img --granule 64K
"$LIVEROOT" overlay status upg.img --json >st.json
check "... took the granule" test "$(json_field st.json granule)" = 65536
check "status -q prints nothing" test -z "$("$LIVEROOT" overlay status -q upi.img)"
check "revert UPPER --quiet prints nothing" test -z "$("$LIVEROOT" overlay revert upi.img --quiet)"
"$LIVEROOT" overlay status --bogus upi.img 2>err.txt >/dev/null
check "an unknown option exits 2" test $? = 2
check "... in one line through cli_err" test "$(wc -l <err.txt)" = 1
check "... naming it" grep -q "^liveroot overlay: unknown option '--bogus'" err.txt
"$LIVEROOT" overlay create lower.img 2>err.txt
check "a missing operand exits 2" test $? = 2
check "... in one line naming what is missing" grep -q "^liveroot overlay: create needs LOWER and UPPER; 'liveroot overlay --help'" err.txt
check "destroy UPPER --remove" "$LIVEROOT" overlay destroy upg.img --remove
check "... removed the upper" test ! -e upg.img

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
