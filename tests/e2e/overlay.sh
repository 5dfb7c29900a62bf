#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 11, the overlay: the live system writes 64 MiB, syncs, drops
# caches and reads it back intact (through nbd -> rowr -> RAM upper); with
# live.overlay=32M a larger write fails inside the live system (the upper is
# full), and the live system keeps running.
. "$(dirname "$0")/lib.sh"
e2e_init

E2E_MEM=768 E2E_APPEND="example.check=overlay64" e2e_boot overlay64 -M pc -cdrom "$LIVE/live.iso"
e2e_expect_live overlay64

E2E_MEM=768 E2E_APPEND="live.overlay=32M example.check=enospc" e2e_boot enospc -M pc -cdrom "$LIVE/live.iso"
e2e_expect_live enospc
e2e_done
