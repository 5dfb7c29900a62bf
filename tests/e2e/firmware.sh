#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 12, firmware: an out-of-tree module (tests/e2e/fwtest, built
# against linux-headers-KVER of the same kernel) calls request_firmware()
# for /lib/firmware/liveroot-test.fw, which exists only in the live root.
#  1. after liveroot's hand-off (PID 1 switch_root) the kernel reads it: the
#     size and CRC-32 the module prints match the file;
#  2. a file absent from the live root: the load must fail (the check can
#     fail);
#  3. live.handoff=chroot (a child process chroots, the wrong hand-off): the
#     kernel still looks in the initramfs and fails to find the file.
. "$(dirname "$0")/lib.sh"
e2e_init
if [ -f "$IMG/fwtest.missing" ]; then
	cat "$IMG/fwtest.missing"
	e2e_need make make
	[ -d "/usr/src/linux-headers-$KVER" ] ||
	    e2e_skip "linux-headers-$KVER is not installed (linux-headers-amd64 must match linux-image-amd64)"
	e2e_fail "the firmware test module did not build"
	e2e_done
fi
size=$(cat "$IMG/fw.size")
crc=$(cat "$IMG/fw.crc")

E2E_APPEND="example.check=firmware" e2e_boot present -M pc -cdrom "$LIVE/live.iso"
e2e_expect_live firmware
if grep -qF "LIVEROOT-CHECK firmware: PASS firmware liveroot-test.fw: $size bytes crc32 $crc" "$E2E_LOG"; then
	e2e_ok "present: the kernel read $size bytes, crc32 $crc, from the live root"
else
	e2e_fail "present: expected $size bytes crc32 $crc"
fi

E2E_APPEND="example.check=firmware example.fwname=liveroot-absent.fw" e2e_boot absent -M pc -cdrom "$LIVE/live.iso"
e2e_expect "LIVEROOT-CHECK firmware: FAIL firmware liveroot-absent.fw: error -2" 150 "absent: a file not in the live root fails to load (ENOENT)"
e2e_end 60

E2E_APPEND="live.handoff=chroot example.check=firmware" e2e_boot chroot -M pc -cdrom "$LIVE/live.iso"
e2e_expect "LIVEROOT-CHECK firmware: FAIL firmware liveroot-test.fw: error -2" 150 "chroot: after a child-process chroot the kernel still looks in the old root"
e2e_end 60
e2e_done
