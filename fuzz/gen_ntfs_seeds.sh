#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# gen_ntfs_seeds.sh BUILDDIR - regenerates the seed corpus of fuzz_ntfs:
# test_ntfs makes its mkntfs + ntfs-3g volumes (512, 4096 and 65536-byte
# clusters) and writes each as a packed seed of the blocks its reader read.
set -eu
B=${1:?usage: gen_ntfs_seeds.sh BUILDDIR}
set -- ntfs	# a sourced script sees these arguments in every sh
. "$(dirname "$0")/gen_lib.sh" ntfs
"$B/tests/unit/test_ntfs" "$(dirname "$0")/../tests/unit/ntfs_images.sh" \
    "$T" "$C/ntfs" >/dev/null
