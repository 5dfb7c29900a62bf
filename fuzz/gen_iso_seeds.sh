#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# gen_iso_seeds.sh BUILDDIR - regenerates the seed corpora of fuzz_iso9660,
# fuzz_mbr and fuzz_gpt: the crafted images of the unit tests (which write
# them when given paths) and one small xorriso image (Rock Ridge with PX/TF/
# SL entries, Joliet).  fuzz_iso9660 inputs start at byte 0x8000 of the
# image, so the seed is sectors 16..N, cut after the last non-empty sector.
# Seeds are named *.bin: .gitignore keeps *.iso and *.img out of git.
set -eu
B=${1:?usage: gen_iso_seeds.sh BUILDDIR}
. "$(dirname "$0")/gen_lib.sh" iso9660 mbr gpt
"$B/tests/unit/test_iso9660" "$C/iso9660"
"$B/tests/unit/test_part" "$C/mbr" "$C/gpt"
mkdir -p "$T/s/Sub/Deeper"
echo hello >"$T/s/A long Rock Ridge name.txt"
echo x >"$T/s/Sub/Deeper/x.bin"
ln -s ../x "$T/s/Sub/link"
xorriso -as mkisofs -R -J -V SEED -o "$T/s.iso" "$T/s" >/dev/null 2>&1
# the last non-empty sector
last=$(python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
print(max(i for i in range(len(d) // 2048) if any(d[i * 2048:(i + 1) * 2048])))
' "$T/s.iso")
dd if="$T/s.iso" of="$C/iso9660/xorriso-rr-joliet.bin" bs=2048 skip=16 \
    count=$((last - 15)) 2>/dev/null
ls -l "$C/iso9660" "$C/mbr" "$C/gpt"
