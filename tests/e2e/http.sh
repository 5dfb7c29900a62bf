#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 6, HTTP: nginx (a real server, started here on loopback)
# reached through QEMU user networking with restrict=on and a guestfwd
# through socat; liveroot-init gets an address by DHCP (busybox udhcpc),
# fetches live.url into RAM, checks live.sha256, and boots from it.  A
# second boot uses the root=live:http://... alias.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need curl curl
e2e_nginx "$LIVE/netboot" || e2e_done
sha=$(cut -d' ' -f1 "$LIVE/netboot/rootfs.uzip.sha256")

E2E_APPEND="live.probe=net live.url=http://10.0.2.100/rootfs.uzip live.sha256=$sha" \
    e2e_boot http -M pc -netdev "$(e2e_netdev)" -device virtio-net-pci,netdev=n0
e2e_expect "liveroot: fetching http://10.0.2.100/rootfs.uzip" 90 "http: fetching the root image"
e2e_expect "liveroot: sha256 OK" 90 "http: sha256 verified"
e2e_expect "liveroot: found root image by net" 30 "http: found by net"
e2e_expect_live none
grep -q '"GET /rootfs.uzip HTTP/1.1" 200' "$RUN/nginx/access.log" &&
    e2e_ok "http: nginx served rootfs.uzip (access log)" ||
    e2e_fail "http: nginx's access log shows no GET /rootfs.uzip"

E2E_APPEND="root=live:http://10.0.2.100/rootfs.uzip" \
    e2e_boot alias -M pc -netdev "$(e2e_netdev)" -device e1000,netdev=n0
e2e_expect "liveroot: found root image by net" 120 "alias: root=live:http://... over an e1000 NIC"
e2e_expect_live none
e2e_done
