#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e, issue 13: the lazy network root.  The example live system with a
# 16 MiB incompressible /filler that the boot never reads (so most of
# rootfs.uzip is still on the server when the system is up) is served by a
# private nginx, rate-limited (limit_rate) so the background fill takes
# longer than the boot, and reached through guestfwd as in http.sh.
# live.sha256= is the sha256 of rootfs.uzip.hashes (what mklive's
# boot.ipxe gives in lazy mode).
#  (a) "live system up" comes before "image complete in RAM", which follows.
#  (b) the same boot: nginx is stopped mid-fill and started again 5 s later;
#      the system answers on its console meanwhile, and the fill resumes
#      and completes (nginx's second log has the ranges).
#  (c) the file on the server is replaced by another one (another size and
#      ETag) as soon as the boot has pinned it, while demand reads are slow
#      (limit_rate without a fast start): the boot FAILS, with the message
#      naming both versions.  It fails rather than serving I/O errors to a
#      live system because at that point at most the first chunk (header,
#      TOC, the first clusters) is in RAM: the probe (when even that chunk
#      comes from the other file), else the mount or /sbin/init needs more,
#      every later request gets the other file, and the HTTP layer refuses
#      it (ESTALE) - no byte of the second file reaches the root.
#  (d) one byte in the middle of rootfs.uzip (a cluster of /filler) flipped
#      on the server, the hashes file unchanged: the system boots (the boot
#      does not read /filler), and reading /filler over the console fails
#      with the cluster named on the console.
#  (e) live.overlay=98%: the image and the overlay do not fit in RAM: the
#      boot says so with the numbers and boots without the background fill.
#  (f) nginx with max_ranges 0 (no Range support): the whole download,
#      still pinned by live.sha256= of the hashes file, which checks every
#      cluster as it is read (what boot.ipxe gives works on such a server).
#  (g) a signify key in the initramfs: rootfs.uzip.hashes.sig verified
#      (lazy boot), and refused when another key made it.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need curl curl
e2e_need nginx nginx-light
e2e_need perl perl-base

# $IMG/lazy: rootfs.uzip (+ .hashes) of the example tree with /filler
mklazy() {
	t=$IMG/lazy.tmp
	rm -rf "$t"
	mkdir -p "$t"
	cp -a "$IMG/tree" "$t/tree" &&
	    head -c 16777216 /dev/urandom > "$t/tree/filler" &&
	    "$LIVEROOT" mklive -q --init "$E2E_INIT" --kernel-dir "$E2E_KDIR" \
	    --boot none --serial --free 16M -o "$t/live" "$t/tree" &&
	    mkdir -p "$t/out" &&
	    cp "$t/live/netboot/rootfs.uzip" "$t/live/netboot/rootfs.uzip.hashes" "$t/out/" &&
	    sha256sum "$t/out/rootfs.uzip.hashes" | cut -d' ' -f1 > "$t/out/hashes.sha256" &&
	    mv "$t/out" "$IMG/lazy" && rm -rf "$t"
}
e2e_once lazy mklazy || { e2e_fail "building the lazy image"; e2e_done; }
hsha=$(cat "$IMG/lazy/hashes.sha256")
size=$(stat -c %s "$IMG/lazy/rootfs.uzip")
e2e_log "lazy image: $size bytes"

# A private nginx on a port kept for the whole script (the guestfwd names
# it): lazy_nginx DIR RATE FAST NAME [DIRECTIVE] - RATE bytes/s per
# response after its first FAST bytes (limit_rate_after; 0: from the first
# byte), its files in $RUN/nginx-NAME, DIRECTIVE added to the server.
LPORT=""
for p in $(seq $((30000 + $$ % 20000)) $((30000 + $$ % 20000 + 50))); do
	if ! grep -q ":$(printf '%04X' "$p") " /proc/net/tcp 2>/dev/null; then
		LPORT=$p
		break
	fi
done
[ -n "$LPORT" ] || { e2e_fail "no free port for nginx"; e2e_done; }
E2E_PORT=$LPORT
NGX_PID=""
lazy_nginx() {
	d=$RUN/nginx-$4
	mkdir -p "$d/tmp"
	cat > "$d/nginx.conf" <<NGX
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/tmp;
	proxy_temp_path $d/tmp;
	fastcgi_temp_path $d/tmp;
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$LPORT;
		root $1;
		limit_rate $2;
		limit_rate_after $3;
		${5:-}
	}
}
NGX
	nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" -g 'daemon off;' &
	NGX_PID=$!
	E2E_CLEANUP_PIDS="${E2E_CLEANUP_PIDS:-} $NGX_PID"
	i=0
	while [ $i -lt 50 ]; do
		case $(curl -s -o /dev/null -w '%{http_code}' -r 0-0 "http://127.0.0.1:$LPORT/rootfs.uzip") in
		200|206) return 0 ;;
		esac
		sleep 0.1
		i=$((i + 1))
	done
	cat "$d/error.log"
	e2e_fail "nginx did not start"
	return 1
}
lazy_nginx_stop() {
	kill "$NGX_PID" 2>/dev/null
	i=0
	while kill -0 "$NGX_PID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	wait "$NGX_PID" 2>/dev/null
}
lazy_boot() {
	E2E_APPEND="live.probe=net live.url=http://10.0.2.100/rootfs.uzip live.sha256=$hsha $1" \
	    e2e_boot "$2" -M pc -netdev "$(e2e_netdev)" -device virtio-net-pci,netdev=n0
}

WWW=$RUN/www
mkdir -p "$WWW"
cp "$IMG/lazy/rootfs.uzip" "$IMG/lazy/rootfs.uzip.hashes" "$WWW/"

# --- (a) and (b) ---------------------------------------------------------
# 1 MB/s after a fast first 512 KiB of each response: demand reads (256 KiB
# chunks) are quick, the background's 2 MiB runs are slow (~16 s in all)
lazy_nginx "$WWW" 1m 512k a || e2e_done
lazy_boot "example.hold=1" fill
e2e_expect "liveroot: fetching http://10.0.2.100/rootfs.uzip lazily" 90 "a: the root is read lazily"
e2e_expect "liveroot: sha256 OK (http://10.0.2.100/rootfs.uzip.hashes: sha256 $hsha)" 30 \
    "a: live.sha256= pins rootfs.uzip.hashes"
e2e_expect "LIVEROOT-MARKER: live system up" 120 "a: the live system is up"
if grep -qF "image complete in RAM" "$E2E_LOG"; then
	e2e_fail "a: the image was complete in RAM before the system was up (the fill was not slower than the boot)"
else
	e2e_ok "a: live system up before the image is complete in RAM"
fi
e2e_expect "LIVEROOT-MARKER: holding" 60 "a: the system holds (shell on the console)"
if e2e_wait "% in RAM (" 30; then
	e2e_ok "a: the fill's progress is on the console"
else
	e2e_fail "a: no fill progress on the console"
fi
# (b) the server goes away mid-fill and comes back
lazy_nginx_stop
e2e_log "nginx stopped at $(( $(date +%s) - E2E_T0 )) s"
sleep 1
e2e_send 'echo LAZY-ALIVE-$((40+2))'
e2e_expect "LAZY-ALIVE-42" 30 "b: the system answers while the server is down"
sleep 4
grep -qF "image complete in RAM" "$E2E_LOG" &&
    e2e_fail "b: the fill was complete before nginx was stopped (too fast to test)"
lazy_nginx "$WWW" 1m 512k b || e2e_done
e2e_log "nginx started again at $(( $(date +%s) - E2E_T0 )) s"
e2e_expect "liveroot: fill: image complete in RAM: the network is no longer needed" 120 \
    "b: the fill resumed and completed"
grep -qE "liveroot: (http: .*trying again|fill: stalled)" "$E2E_LOG" &&
    e2e_ok "b: the outage was seen and retried (console)" ||
    e2e_fail "b: no retry of the fill on the console"
grep -q '"GET /rootfs.uzip HTTP/1.1" 206' "$RUN/nginx-b/access.log" &&
    e2e_ok "b: the restarted nginx served the rest (ranges in its log)" ||
    e2e_fail "b: the restarted nginx served no range"
e2e_send 'echo LAZY-AFTER-$((6*7)); poweroff -f'
e2e_expect "LAZY-AFTER-42" 30 "b: the system still runs after the fill"
e2e_end 30 || true
lazy_nginx_stop

# --- (c) the file replaced mid-boot --------------------------------------
cp "$IMG/lazy/rootfs.uzip" "$WWW/rootfs.uzip"
cp "$LIVE/rootfs.uzip" "$RUN/other.uzip"
lazy_nginx "$WWW" 200k 0 c || e2e_done
E2E_ABORT="liveroot: halted; |Kernel panic|liveroot: rescue shell"
lazy_boot "live.shell=0" swap
if e2e_wait "liveroot: lazy: http://10.0.2.100/rootfs.uzip pinned" 120; then
	mv "$RUN/other.uzip" "$WWW/rootfs.uzip"
	e2e_ok "c: the file was replaced on the server after the boot pinned it"
else
	e2e_fail "c: the boot never pinned the file"
fi
e2e_expect "the server now serves another file" 120 "c: the other file is refused"
if grep -F "the server now serves another file" "$E2E_LOG" | head -n 1 |
    grep -qE "ETag \"[0-9a-f]+-[0-9a-f]+\" \(size $size\) at open, ETag \"[0-9a-f]+-[0-9a-f]+\" \(size [0-9]+\) now"; then
	e2e_ok "c: the message names both versions (ETag and size)"
else
	e2e_fail "c: the message does not name both versions"
fi
e2e_wait "liveroot: halted; " 120 || e2e_wait "Kernel panic" 5
grep -qE "liveroot: halted; |Kernel panic" "$E2E_LOG" &&
    e2e_ok "c: the boot fails (no root made of two files)" ||
    e2e_fail "c: the boot did not fail"
e2e_reject "LIVEROOT-MARKER: live system up" "c: no live system"
e2e_end 1 || true
unset E2E_ABORT
lazy_nginx_stop

# --- (d) one byte of one cluster flipped on the server -------------------
cp "$IMG/lazy/rootfs.uzip" "$WWW/rootfs.uzip"
perl -e '
	open(my $f, "+<", $ARGV[0]) or die; binmode $f;
	my $at = int((-s $f) / 2);
	seek($f, $at, 0); read($f, my $b, 1);
	seek($f, $at, 0); print $f chr(ord($b) ^ 0x5a); close $f;' "$WWW/rootfs.uzip"
lazy_nginx "$WWW" 0 0 d || e2e_done
lazy_boot "example.hold=1" tamper
e2e_expect "LIVEROOT-MARKER: holding" 120 "d: the system boots (the boot does not read the flipped cluster)"
# the status is printed plus 100, so the echoed command never matches
e2e_send 'cat /filler > /dev/null; echo "LAZY-READ-$((100 + $?))"'
e2e_expect "LAZY-READ-1" 60 "d: reading /filler ends"
grep -qE "LAZY-READ-1(0[1-9]|[1-9][0-9])" "$E2E_LOG" &&
    e2e_ok "d: reading /filler fails" ||
    e2e_fail "d: reading /filler did not fail"
e2e_wait "rootfs.uzip.hashes says" 10
grep -qE "nbd server: read of .* failed .*cluster [0-9]+ at offset [0-9]+ .* has sha256 [0-9a-f]{64}, .*rootfs.uzip.hashes says [0-9a-f]{64}" "$E2E_LOG" &&
    e2e_ok "d: the console names the cluster and both hashes" ||
    e2e_fail "d: no console line naming the cluster"
e2e_send 'poweroff -f'
e2e_end 30 || true
lazy_nginx_stop

# --- (e) not enough RAM for the whole image and the overlay ---------------
cp "$IMG/lazy/rootfs.uzip" "$WWW/rootfs.uzip"
lazy_nginx "$WWW" 0 0 e || e2e_done
lazy_boot "live.overlay=98%" ram
e2e_expect "MiB are available: no background fill" 90 \
    "e: the RAM check names the numbers and turns the background fill off"
e2e_expect_live none
e2e_reject "image complete in RAM" "e: no background fill"
lazy_nginx_stop

# --- (f) a server without Range requests: the whole download -------------
lazy_nginx "$WWW" 0 0 f "max_ranges 0;" || e2e_done
lazy_boot "" noranges
e2e_expect "does not serve ranges" 90 "f: a server without ranges is said"
e2e_expect "liveroot: sha256 OK (http://10.0.2.100/rootfs.uzip.hashes" 30 \
    "f: live.sha256= still pins rootfs.uzip.hashes"
e2e_expect "the whole image is checked cluster by cluster against" 30 \
    "f: the download is checked by the hashes file"
e2e_expect "liveroot: fetching http://10.0.2.100/rootfs.uzip (within" 30 \
    "f: the whole image is fetched instead"
e2e_expect_live none
lazy_nginx_stop

# --- (g) a signify key in the initramfs: the hashes file's signature ------
# the initramfs gets the key by an appended cpio (as http.sh adds its CA)
if ! command -v signify-openbsd > /dev/null 2>&1 || ! command -v cpio > /dev/null 2>&1; then
	echo "e2e lazy: SKIP: (g) needs signify-openbsd and cpio (Debian packages signify-openbsd, cpio)"
	e2e_done
fi
K=$RUN/keys
mkdir -p "$K/cpio/etc/liveroot"
signify-openbsd -G -n -p "$K/k.pub" -s "$K/k.sec" -c "lazy e2e key" &&
    signify-openbsd -G -n -p "$K/o.pub" -s "$K/o.sec" -c "other key" &&
    cp "$K/k.pub" "$K/cpio/etc/liveroot/signify.pub" &&
    (cd "$K/cpio" && find . | cpio -o -H newc 2>/dev/null) > "$K/key.cpio" &&
    cp "$LIVE/initramfs.img" "$K/initramfs-key.img" &&
    head -c $(( (4 - $(wc -c < "$K/initramfs-key.img") % 4) % 4 )) /dev/zero >> "$K/initramfs-key.img" &&
    cat "$K/key.cpio" >> "$K/initramfs-key.img" &&
    "$LIVEROOT" sign -q -s "$K/k.sec" -m "$WWW/rootfs.uzip.hashes" ||
    { e2e_fail "g: keys and the signed hashes file"; e2e_done; }
lazy_nginx "$WWW" 0 0 g || e2e_done
E2E_INITRD=$K/initramfs-key.img \
E2E_APPEND="live.probe=net live.url=http://10.0.2.100/rootfs.uzip" \
    e2e_boot signed -M pc -netdev "$(e2e_netdev)" -device virtio-net-pci,netdev=n0
e2e_expect "liveroot: signature OK (http://10.0.2.100/rootfs.uzip.hashes: signature (key /etc/liveroot/signify.pub))" 90 \
    "g: the key verifies rootfs.uzip.hashes.sig"
e2e_expect "liveroot: lazy: http://10.0.2.100/rootfs.uzip: $size bytes served" 30 "g: and the boot is lazy"
e2e_expect_live none
# the hashes file signed by another key: refused, naming the key
"$LIVEROOT" sign -q -s "$K/o.sec" -m "$WWW/rootfs.uzip.hashes" ||
    { e2e_fail "g: signing with the other key"; e2e_done; }
E2E_INITRD=$K/initramfs-key.img \
E2E_APPEND="live.probe=net live.url=http://10.0.2.100/rootfs.uzip live.shell=0" \
    e2e_boot signed-other -M pc -netdev "$(e2e_netdev)" -device virtio-net-pci,netdev=n0
e2e_expect "rootfs.uzip.hashes (key /etc/liveroot/signify.pub): the signature was made by key" 90 \
    "g: another key's signature of the hashes file is named"
e2e_expect "does not verify with the key of /etc/liveroot/signify.pub" 30 \
    "g: the image is refused, naming the key and the fix"
e2e_wait "liveroot: halted; " 60
e2e_reject "LIVEROOT-MARKER: live system up" "g: no live system with another key's hashes"
e2e_end 1 || true
lazy_nginx_stop
e2e_done
