#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 7, iPXE: no -kernel; SeaBIOS runs QEMU's own iPXE NIC ROM
# (-boot n), which gets boot.ipxe from QEMU's built-in TFTP (mklive wrote
# it into the netboot directory); the script loads the kernel and the
# initramfs over HTTP from nginx (through the guestfwd), and liveroot-init
# fetches the root the way scenario 6 does.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need curl curl
e2e_nginx "$LIVE/netboot" || e2e_done

E2E_NETOPTS=",tftp=$LIVE/netboot,bootfile=boot.ipxe"
E2E_NOKERNEL=1 e2e_boot ipxe -M pc -boot n -netdev "$(e2e_netdev)" -device virtio-net-pci,netdev=n0
e2e_expect "liveroot: fetching http://10.0.2.100/rootfs.uzip" 180 "ipxe: iPXE booted the kernel; liveroot-init fetches the root"
e2e_expect "liveroot: sha256 OK" 90 "ipxe: sha256 from boot.ipxe verified"
e2e_expect_live none
grep -q '"GET /vmlinuz HTTP/1.1" 200' "$RUN/nginx/access.log" &&
    grep -q '"GET /initramfs.img HTTP/1.1" 200' "$RUN/nginx/access.log" &&
    e2e_ok "ipxe: kernel and initramfs came over HTTP (nginx's access log)" ||
    e2e_fail "ipxe: nginx did not serve vmlinuz and initramfs.img"
e2e_done
