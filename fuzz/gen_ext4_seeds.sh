#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# gen_ext4_seeds.sh BUILDDIR - regenerates the seed corpus of fuzz_ext4:
# small mke2fs -d images written by the unit test (ext4 with an htree
# directory, ext2 with an indirect block).
set -eu
B=${1:?usage: gen_ext4_seeds.sh BUILDDIR}
set -- ext4	# gen_lib.sh reads the directories from "$@" (sh drops the args of .)
. "$(dirname "$0")/gen_lib.sh"
"$B/tests/unit/test_ext4" "$C/ext4"
