#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# overlay_to.sh - `liveroot overlay commit --to NEW.uzip` (issue 11 #6):
# the union of a lower and an overlay written through `liveroot serve`
# (qemu-io writes 40 scattered patterned ranges) becomes a new uzip image whose content is
# the union byte for byte (liveroot uzip extract; cmp), for a raw lower and
# for a uzip lower, with each codec; the lower and the upper are untouched
# (sha256 before/after); errors are named.
set -u
: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
. "$(dirname "$0")/lib.sh"
LIB_TAP=1
need_tools "qemu-utils, python3" qemu-io python3 cmp sha256sum
W=$(mktemp -d "${TMPDIR:-/tmp}/overlay_to.XXXXXX")
SRV=""
trap 'if [ -n "$SRV" ]; then kill "$SRV" 2>/dev/null; fi; rm -rf "$W"' EXIT INT TERM
cd "$W" || exit 1
L=$LIVEROOT
SOCK=$W/s.sock

# 24 MiB: random data, a zero run, text
python3 -c '
import random
r = random.Random(11)
open("orig.img", "wb").write(r.randbytes(8 << 20) + bytes(8 << 20) + b"liveroot " * ((8 << 20) // 9) + bytes((8 << 20) % 9))'

# write_union LOWER UPPER: the overlay, and scattered writes through serve;
# expect.img is the union the writes make
write_union() {
	"$L" overlay create "$1" "$2" > /dev/null || return 1
	rm -f "$SOCK"
	"$L" serve --overlay "$2" --unix "$SOCK" > serve.log 2>&1 &
	SRV=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	python3 - "$SOCK" <<'PY'
import random, subprocess, sys
sock = sys.argv[1]
r = random.Random(5)
data = bytearray(open("base.img", "rb").read())
args = ["qemu-io", "-f", "raw", "nbd+unix:///?socket=" + sock]
for k in range(40):
    off = r.randrange(0, len(data) - 70000)
    n = r.randrange(1, 70000)
    pat = r.randrange(1, 256)
    data[off:off + n] = bytes([pat]) * n
    args += ["-c", "write -P %d %d %d" % (pat, off, n)]
args += ["-c", "flush"]
open("expect.img", "wb").write(data)
subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
PY
	st=$?
	kill -TERM "$SRV" 2>/dev/null
	wait "$SRV" 2>/dev/null
	SRV=""
	return $st
}

# raw lower
cp orig.img lower.img
cp orig.img base.img
check "raw lower: 40 writes through serve" write_union lower.img up.img
sum_before=$(sha256sum lower.img up.img up.img.rowrmap)
for codec in zstd zlib lzma; do
	check "raw lower: commit --to new-$codec.uzip (-A $codec)" \
	    "$L" overlay commit -q --to "new-$codec.uzip" -A "$codec" up.img
	check "raw lower: new-$codec.uzip checks (every cluster)" "$L" uzip check -q "new-$codec.uzip"
	rm -f "x-$codec.img"
	"$L" uzip extract -q "new-$codec.uzip" "x-$codec.img" 2>/dev/null
	check "raw lower: new-$codec.uzip holds the union byte for byte" cmp "x-$codec.img" expect.img
done
check "raw lower: LOWER, UPPER and the map are untouched" \
    test "$(sha256sum lower.img up.img up.img.rowrmap)" = "$sum_before"
check "the overlay still serves after commit --to (status)" "$L" overlay status -q up.img

# a uzip lower (what a live system's overlay sits on)
"$L" mkuzip -q -A zstd -o lower.uzip orig.img
cp orig.img base.img
check "uzip lower: 40 writes through serve" write_union lower.uzip up2.img
check "uzip lower: commit --to next.uzip" "$L" overlay commit -q --to next.uzip up2.img
"$L" uzip extract -q next.uzip next.img 2>/dev/null
check "uzip lower: next.uzip is the union byte for byte" cmp next.img expect.img

# errors
expect_err "commit --to: an overlay that is not there" 2 "nothere.img" \
    "$L" overlay commit --to z.uzip nothere.img
expect_err "commit --to: an unknown codec" 2 "one of zstd, zlib, lzma" \
    "$L" overlay commit --to z.uzip -A lz4 up.img
expect_err "commit --to: an output in a missing directory is named" 2 "nodir" \
    "$L" overlay commit --to nodir/z.uzip up.img
check "... and leaves no partial file" sh -c "! ls nodir 2>/dev/null"
expect_err "-A without --to" 2 "-A goes with commit --to" \
    "$L" overlay commit -A zstd up.img
expect_err "status -A is not an option" 2 "unknown option" \
    "$L" overlay status -A zstd up.img

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
