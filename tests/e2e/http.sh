#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 6, HTTP: nginx (a real server, started here on loopback)
# reached through QEMU user networking with restrict=on and a guestfwd
# through socat; liveroot-init gets an address by DHCP (busybox udhcpc),
# fetches live.url into RAM, checks live.sha256, and boots from it.  A
# second boot uses the root=live:http://... alias.
# HTTPS: a test CA made here signs a certificate for 10.0.2.100; nginx also
# serves over TLS, reached at 10.0.2.100:443.  The initramfs gets the test
# CA at /etc/liveroot/ca-certificates.crt (what mklive --ca does) through a
# cpio appended to it (the kernel unpacks concatenated archives in order and
# a later file replaces an earlier one):
# the boot verifies the server and comes up.  With the initramfs as mklive
# made it (the build machine's CA bundle, which does not hold the test CA)
# the boot refuses the certificate at once, naming the host and the fix,
# and does not retry.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need curl curl
e2e_need openssl openssl
e2e_need cpio cpio
TLS=$RUN/tls
mkdir -p "$TLS/cpio/etc/liveroot"
(
	cd "$TLS" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=liveroot e2e CA" \
	    -keyout ca.key -out ca.pem &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=10.0.2.100" \
	    -keyout srv.key -out srv.csr &&
	printf 'subjectAltName=IP:10.0.2.100\n' >ext.cnf &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	    -days 2 -extfile ext.cnf -out srv.pem
) >"$TLS/openssl.log" 2>&1 || { cat "$TLS/openssl.log"; e2e_fail "openssl: test CA"; e2e_done; }
cp "$TLS/ca.pem" "$TLS/cpio/etc/liveroot/ca-certificates.crt"
(cd "$TLS/cpio" && find . | cpio -o -H newc 2>/dev/null) >"$TLS/ca.cpio"
# the kernel takes a following archive only at a 4-byte boundary (zero
# bytes between archives are skipped)
cp "$LIVE/initramfs.img" "$TLS/initramfs-testca.img"
pad=$(( (4 - $(wc -c <"$TLS/initramfs-testca.img") % 4) % 4 ))
head -c "$pad" /dev/zero >>"$TLS/initramfs-testca.img"
cat "$TLS/ca.cpio" >>"$TLS/initramfs-testca.img"
E2E_TLS_CERT=$TLS/srv.pem E2E_TLS_KEY=$TLS/srv.key e2e_nginx "$LIVE/netboot" || e2e_done
sha=$(cut -d' ' -f1 "$LIVE/netboot/rootfs.uzip.sha256")

E2E_APPEND="live.probe=net live.fetch=full live.url=http://10.0.2.100/rootfs.uzip live.sha256=$sha" \
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

# (set before the calls: "$(e2e_netdev)" is expanded before a prefix
# assignment would apply)
E2E_NETOPTS=",guestfwd=tcp:10.0.2.100:443-cmd:socat -lf $RUN/socat-tls.log STDIO TCP:127.0.0.1:$E2E_TLS_PORT"
E2E_INITRD=$TLS/initramfs-testca.img \
E2E_APPEND="live.probe=net live.fetch=full live.url=https://10.0.2.100/rootfs.uzip?token=SECRET live.sha256=$sha" \
    e2e_boot https -M pc -netdev "$(e2e_netdev)" -device virtio-net-pci,netdev=n0
e2e_expect "liveroot: fetching https://10.0.2.100/rootfs.uzip (within" 90 "https: fetching (the query is not printed)"
e2e_expect "CA bundle /etc/liveroot/ca-certificates.crt" 10 "https: the initramfs' CA bundle is used"
e2e_expect "liveroot: sha256 OK" 90 "https: verified server, sha256 verified"
e2e_expect "liveroot: found root image by net" 30 "https: found by net"
e2e_expect_live none
e2e_reject "SECRET" "https: the URL's query string never reaches the console"

E2E_ABORT= \
E2E_APPEND="live.probe=net live.url=https://10.0.2.100/rootfs.uzip live.shell=0" \
    e2e_boot https-wrongca -M pc -netdev "$(e2e_netdev)" -device virtio-net-pci,netdev=n0
e2e_expect "cannot verify the TLS certificate of 10.0.2.100" 120 "https, CA not in the initramfs: refused"
e2e_expect "--ca FILE at mklive time" 10 "https, CA not in the initramfs: the fix is named"
e2e_reject "retrying" "https, CA not in the initramfs: not retried as transient"
e2e_done
