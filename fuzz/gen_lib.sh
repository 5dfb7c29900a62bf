# SPDX-License-Identifier: BSD-2-Clause
#
# gen_lib.sh - sourced by fuzz/gen_*_seeds.sh (`. "$(dirname "$0")/gen_lib.sh"
# DIR...`): C, the corpus directory (with the subdirectories DIR... made);
# T, a scratch directory removed on exit.
C=$(dirname "$0")/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for gen_d in "$@"; do
	mkdir -p "$C/$gen_d"
done
