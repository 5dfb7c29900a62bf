#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# sign.sh - `liveroot sign` and `liveroot verify` held to signify-openbsd
# (Debian's signify-openbsd, the reference): its keys sign with liveroot
# byte for byte as signify does (Ed25519 is deterministic), liveroot's
# signatures verify with signify and signify's with liveroot; a changed
# image, another key, a damaged or passphrase-protected key, missing files
# each get their exit status and message.
set -u
: "${LIVEROOT:?}"
T=${TMPDIR:-/tmp}/sign.$$
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
LIB_TAP=1
LIB_CHECK_OUT=$T/check.out
command -v signify-openbsd > /dev/null 2>&1 || {
	echo "FAIL: signify-openbsd is not installed (scripts/install-deps.sh)"
	echo "0 passed, 1 failed"; exit 1; }
cd "$T" || exit 1
L=$LIVEROOT

signify-openbsd -G -n -p k.pub -s k.sec -c "liveroot test key" || exit 1
signify-openbsd -G -n -p o.pub -s o.sec -c "another key" || exit 1
head -c 3000001 /dev/urandom > img
: > empty

check "sign: a 3 MB image" "$L" sign -s k.sec -m img -x img.lr.sig
signify-openbsd -S -s k.sec -m img -x img.sf.sig
check "sign: the same bytes as signify-openbsd -S (comment included)" cmp img.lr.sig img.sf.sig
check "signify-openbsd -V accepts liveroot's signature" \
    signify-openbsd -V -q -p k.pub -m img -x img.lr.sig
check "verify: accepts signify's signature" "$L" verify -q -p k.pub -m img -x img.sf.sig
check "sign: default SIGFILE is FILE.sig" sh -c "'$L' sign -q -s k.sec -m img && cmp img.sig img.sf.sig"
check "verify: default SIGFILE is FILE.sig, says Signature Verified" \
    sh -c "'$L' verify -p k.pub -m img | grep -qx 'Signature Verified'"
check "an empty file signs and verifies (with signify too)" \
    sh -c "'$L' sign -q -s k.sec -m empty && signify-openbsd -V -q -p k.pub -m empty && '$L' verify -q -p k.pub -m empty"

# exit 1: not valid
cp img changed
printf 'x' | dd of=changed bs=1 seek=1500000 conv=notrunc status=none
expect_err "verify: a changed image is refused (exit 1)" 1 "does not match" \
    "$L" verify -p k.pub -m changed -x img.sig
check "... as signify-openbsd refuses it" sh -c "! signify-openbsd -V -q -p k.pub -m changed -x img.sig 2>/dev/null"
expect_err "verify: another key's public key is refused, naming both key numbers (exit 1)" 1 "not by this public key" \
    "$L" verify -p o.pub -m img
cp img.sig flipped.sig
python3 - flipped.sig <<'PY'
import base64, sys
lines = open(sys.argv[1]).read().split("\n")
b = bytearray(base64.b64decode(lines[1])); b[50] ^= 1
lines[1] = base64.b64encode(bytes(b)).decode()
open(sys.argv[1], "w").write("\n".join(lines))
PY
expect_err "verify: a signature with a flipped bit is refused (exit 1)" 1 "does not match" \
    "$L" verify -p k.pub -m img -x flipped.sig

# exit 2: errors, named
# signify-openbsd -G without -n asks a terminal for the passphrase: the
# same key with its kdfrounds field made 42, as such a key has
python3 - k.sec pw.sec <<'PY'
import base64, sys
lines = open(sys.argv[1]).read().split("\n")
b = bytearray(base64.b64decode(lines[1])); b[4:8] = (42).to_bytes(4, "big")
lines[1] = base64.b64encode(bytes(b)).decode()
open(sys.argv[2], "w").write("\n".join(lines))
PY
expect_err "sign: a passphrase-protected key is refused with the fix" 2 "signify-openbsd -G -n" \
    "$L" sign -s pw.sec -m img -x pw.sig
check "... and no signature file is left" test ! -e pw.sig
sed '2s/^R/Q/' k.sec > bad.sec
expect_err "sign: a damaged key (base64 changed) is named" 2 "bad.sec" \
    "$L" sign -s bad.sec -m img -x bad.sig
expect_err "sign: a public key given as -s is refused" 2 "k.pub" \
    "$L" sign -s k.pub -m img -x x.sig
expect_err "sign: a missing image is named" 2 "nothing" \
    "$L" sign -s k.sec -m nothing
expect_err "verify: a missing signature file is named" 2 "nothing.sig" \
    "$L" verify -p k.pub -m img -x nothing.sig
expect_err "verify: -s is sign's flag, not verify's" 2 "unknown option '-s'" \
    "$L" verify -s k.sec -m img
expect_err "verify: --seckey is sign's option" 2 "--seckey is an option of liveroot sign" \
    "$L" verify --seckey k.sec -m img
expect_err "sign: no -m" 2 "-m FILE are needed" "$L" sign -s k.sec
check "sign --help" sh -c "'$L' sign --help | grep -q 'usage: liveroot sign'"
check "verify --help" sh -c "'$L' verify --help | grep -q 'usage: liveroot verify'"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
