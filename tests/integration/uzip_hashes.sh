#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# uzip_hashes.sh - IMAGE.hashes (issue 13 section 3) through the CLI:
#  - `mkuzip --hashes` writes IMAGE.hashes while it writes the image (every
#    codec, with and without -d), exactly 56 + 32 * clusters bytes, equal to
#    what `uzip hashes` computes for the finished image, and `uzip check
#    --hashes` passes;
#  - the tamper test: one byte flipped in one cluster of a copy of the
#    image: `uzip check --hashes` fails naming that cluster and its offset,
#    with -k every other cluster still reads and matches, and `uzip
#    extract --hashes` refuses to write the bad cluster;
#  - refused at open, naming both files: the hashes file of another image,
#    a truncated hashes file, an image whose header was changed.
set -u

: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
. "$(dirname "$0")/lib.sh"
need_tools "coreutils" dd cmp od head base64

W=$(mktemp -d "${TMPDIR:-/tmp}/uzip_hashes.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
cd "$W" || exit 1

# About 1.8 MiB: 50 clusters of text, a zero run, the same text again
# (cluster-aligned: dedup back-references), a short tail.
head -c 700000 /dev/urandom | base64 | head -c 819200 >text.bin
{ cat text.bin; dd if=/dev/zero bs=65536 count=3 2>/dev/null; cat text.bin
  printf 'tail'; } >in.bin

# be64 FILE OFFSET: the big-endian 64-bit integer at OFFSET
be64() {
	od -An -tx1 -j "$2" -N 8 "$1" | tr -d ' \n' | { read -r h; echo $((0x$h)); }
}
# be32 FILE OFFSET
be32() {
	od -An -tx1 -j "$2" -N 4 "$1" | tr -d ' \n' | { read -r h; echo $((0x$h)); }
}

for v in "zlib" "lzma" "zstd" "zstd -d" "zlib -d"; do
	set -- $v
	name=$1${2:-}
	rm -f "$name.uzip" "$name.uzip.hashes"
	check "mkuzip --hashes -A $v" "$LIVEROOT" mkuzip -q --hashes -A $v \
	    -s 16384 -o "$name.uzip" in.bin
	n=$(be32 "$name.uzip" 132)
	check "$name: hashes file is 56 + 32 * $n bytes" \
	    test "$(wc -c <"$name.uzip.hashes")" -eq $((56 + 32 * n))
	check "$name: uzip check --hashes passes" "$LIVEROOT" uzip check -q \
	    --hashes "$name.uzip.hashes" "$name.uzip"
	check "$name: uzip hashes of the image = mkuzip's" sh -c \
	    "\"$LIVEROOT\" uzip hashes -q -o again.hashes $name.uzip &&
	    cmp -s again.hashes $name.uzip.hashes"
	check "$name: uzip extract --hashes is the input" sh -c \
	    "\"$LIVEROOT\" uzip extract -q --hashes $name.uzip.hashes \
	    $name.uzip out.bin && cmp -s -n $(wc -c <in.bin) out.bin in.bin"
done
check "uzip hashes: default name IMAGE.hashes" sh -c \
    "cp zstd.uzip z2.uzip && \"$LIVEROOT\" uzip hashes z2.uzip >/dev/null &&
    cmp -s z2.uzip.hashes zstd.uzip.hashes"
check "mkuzip without --hashes writes no hashes file" sh -c \
    "\"$LIVEROOT\" mkuzip -q -o plain.uzip in.bin && test ! -e plain.uzip.hashes"

# The tamper test: flip one byte in the middle of cluster 5.
K=5
n=$(be32 zlib.uzip 132)
off=$(be64 zlib.uzip $((136 + 8 * K)))
end=$(be64 zlib.uzip $((136 + 8 * (K + 1))))
pos=$(( (off + end) / 2 ))
cp zlib.uzip bad.uzip
b=$(od -An -tu1 -j "$pos" -N 1 bad.uzip | tr -d ' ')
printf "\\$(printf '%03o' $(( (b + 1) % 256 )))" |
    dd of=bad.uzip bs=1 seek="$pos" conv=notrunc 2>/dev/null
check "the copy differs in one byte" sh -c \
    "test \$(cmp -l zlib.uzip bad.uzip | wc -l) -eq 1"
expect_err "tampered cluster: check fails naming cluster $K" 1 \
    "bad.uzip: cluster $K at offset $off" \
    "$LIVEROOT" uzip check -q --hashes zlib.uzip.hashes bad.uzip
check "tampered cluster: the message has both hashes" \
    grep -q "has sha256 [0-9a-f]\{64\}, zlib.uzip.hashes says [0-9a-f]\{64\}" err.txt
expect_err "tampered cluster: -k reads every other cluster" 1 \
    "bad.uzip: 1 of $n clusters are bad, the others decompress and match" \
    "$LIVEROOT" uzip check -k -q --hashes zlib.uzip.hashes bad.uzip
check "tampered cluster: -k names only cluster $K" \
    test "$(grep -c 'has sha256' err.txt)" -eq 1
expect_err "tampered cluster: extract --hashes fails" 1 \
    "cluster $K at offset $off" \
    "$LIVEROOT" uzip extract -q --hashes zlib.uzip.hashes bad.uzip bad.out
check "tampered cluster: no partial output" test ! -e bad.out

# Refused at open.
expect_err "the hashes of another image (other size) are refused" 1 \
    "zstd.uzip.hashes is " \
    "$LIVEROOT" uzip check -q --hashes zstd.uzip.hashes zlib.uzip
check "... naming the image too" grep -q "zlib.uzip has $n clusters" err.txt
check "-d made back-references (a smaller image)" \
    test "$(wc -c <zlib-d.uzip)" -lt "$(wc -c <zlib.uzip)"
expect_err "the hashes of the dedup image are refused for the other" 1 \
    "zlib-d.uzip.hashes is the hashes file of an image of $n clusters" \
    "$LIVEROOT" uzip check -q --hashes zlib-d.uzip.hashes zlib.uzip
head -c $((56 + 32 * n - 1)) zlib.uzip.hashes >trunc.hashes
expect_err "a truncated hashes file is refused" 1 "truncated" \
    "$LIVEROOT" uzip check -q --hashes trunc.hashes zlib.uzip
cp zlib.uzip hdr.uzip
printf 'X' | dd of=hdr.uzip bs=1 seek=40 conv=notrunc 2>/dev/null
expect_err "a changed header is refused naming both files" 1 \
    "zlib.uzip.hashes does not match hdr.uzip" \
    "$LIVEROOT" uzip check -q --hashes zlib.uzip.hashes hdr.uzip
expect_err "uzip hashes of a non-uzip file" 1 "not a uzip image" \
    "$LIVEROOT" uzip hashes in.bin
expect_err "uzip check --hashes of a missing file" 2 "nope.hashes" \
    "$LIVEROOT" uzip check --hashes nope.hashes zlib.uzip

check "mkuzip --help names --hashes" sh -c \
    "\"$LIVEROOT\" mkuzip --help | grep -q -- '--hashes'"
check "uzip --help names hashes" sh -c \
    "\"$LIVEROOT\" uzip --help | grep -q 'liveroot uzip hashes'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
