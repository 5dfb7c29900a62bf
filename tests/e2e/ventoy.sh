#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 4, Ventoy layout without os_param: what a Ventoy boot looks
# like after the firmware handed over when no os_param reaches the OS.  The
# ISO is a fragmented file on the exFAT partition "Ventoy"; liveroot
# recognises the layout (VTOYEFI) and finds it with its own exFAT reader.
. "$(dirname "$0")/lib.sh"
e2e_init
. "$(dirname "$0")/ventoy-disk.sh"

# shellcheck disable=SC2086
E2E_APPEND="live.label=LIVEROOT" e2e_boot noparam -M pc $VTOY_DISK
e2e_expect "liveroot: found root image by ventoy on /dev/vda" 90 "noparam: found by ventoy (own exFAT reader)"
n=$(grep -F "liveroot: found root image by ventoy" "$E2E_LOG" | sed -n 's/.*, \([0-9]*\) extents).*/\1/p')
if [ "${n:-0}" -gt 1 ]; then
	e2e_ok "noparam: the image is in $n extents (the ISO really is fragmented)"
else
	e2e_fail "noparam: expected more than 1 extent, got '${n:-?}'"
fi
e2e_expect_live none
e2e_done
