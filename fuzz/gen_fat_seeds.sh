#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# gen_fat_seeds.sh BUILDDIR - regenerates the seed corpora of fuzz_fat,
# fuzz_exfat and fuzz_ventoy: the crafted images of the unit tests (which
# write them when given a path) and one small mkfs.vfat + mtools image.
set -eu
B=${1:?usage: gen_fat_seeds.sh BUILDDIR}
. "$(dirname "$0")/gen_lib.sh" fat exfat ventoy
"$B/tests/unit/test_fat" "$C/fat"
"$B/tests/unit/test_exfat" "$C/exfat/crafted.img"
"$B/tests/unit/test_ventoy" "$C/ventoy/acpi.bin"
mkfs.vfat -C -F 12 -n SEED "$T/s.img" 64 >/dev/null
printf 'hello\n' >"$T/h.txt"
head -c 3000 /dev/urandom >"$T/r.bin"
mmd -i "$T/s.img" ::/Sub ::/Sub/Deeper
mcopy -i "$T/s.img" "$T/h.txt" "::/A long file name.txt"
mcopy -i "$T/s.img" "$T/r.bin" ::/Sub/Deeper/x.bin
mcopy -i "$T/s.img" "$T/r.bin" ::/Sub/second.bin
cp "$T/s.img" "$C/fat/mkfs-fat12.img"
V=$C/ventoy
dd if="$V/acpi.bin" of="$V/param-loc.bin" bs=1 skip=36 2>/dev/null
{ printf '\007\000\000\000'; dd if="$V/acpi.bin" bs=1 skip=36 count=512 2>/dev/null; } >"$V/efivar.bin"
{ head -c 301 /dev/zero; cat "$V/param-loc.bin"; head -c 100 /dev/zero; } >"$V/lowmem.bin"
