#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 10, bad media: each fault gives its own message (or, for a
# dropped connection, succeeds after resuming) and none hangs past its
# timeout:
#   trunc    a truncated rootfs.uzip
#   corrupt  a rootfs.uzip with a corrupt cluster (the first: the ext4
#            superblock is in it, so the mount needs it)
#   sha      a wrong live.sha256
#   404      a URL the server does not have
#   cut      the connection cut after 400000 bytes of the first response;
#            liveroot resumes with a Range request and boots
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need curl curl
e2e_need perl perl-base

bad=$RUN/www
mkdir -p "$bad"
cp "$LIVE/netboot/rootfs.uzip" "$bad/rootfs.uzip"
size=$(stat -c %s "$bad/rootfs.uzip")
head -c $((size / 2)) "$bad/rootfs.uzip" > "$bad/trunc.uzip"
# corrupt cluster 0: its offset is TOC entry 0 (big-endian u64 at 136)
cp "$bad/rootfs.uzip" "$bad/corrupt.uzip"
perl -e '
	open(my $f, "+<", $ARGV[0]) or die; binmode $f;
	seek($f, 136, 0); read($f, my $b, 16);
	my ($hi0, $lo0, $hi1, $lo1) = unpack("NNNN", $b);
	my ($o0, $o1) = ($hi0 * 4294967296 + $lo0, $hi1 * 4294967296 + $lo1);
	die "cluster 0 is empty\n" if $o1 <= $o0 + 16;
	seek($f, $o0 + int(($o1 - $o0) / 2), 0);
	print $f "\xde\xad\xbe\xef" x 4; close $f;' "$bad/corrupt.uzip" ||
    { e2e_fail "corrupting a cluster"; e2e_done; }
e2e_nginx "$bad" || e2e_done
url=http://10.0.2.100
# boot NAME [guestfwd command]: a boot with the virtio NIC on user networking
boot() {
	b=$1
	shift
	e2e_boot "$b" -M pc -netdev "$(e2e_netdev "$@")" -device virtio-net-pci,netdev=n0
}

E2E_APPEND="live.probe=net live.url=$url/trunc.uzip live.timeout=20" boot trunc
e2e_expect "liveroot: halted; the messages above say why" 120 "trunc: the boot stops (halted, messages kept)"
if grep -qiE "liveroot: .*truncated" "$E2E_LOG"; then
	e2e_ok "trunc: the message says the image is truncated"
else
	e2e_fail "trunc: no message naming the truncation"
fi
e2e_reject "LIVEROOT-MARKER" "trunc: no live system"
e2e_end 1

E2E_APPEND="live.probe=net live.url=$url/corrupt.uzip live.timeout=20" boot corrupt
e2e_wait "liveroot: halted;" 120
if grep -qiE "liveroot: .*cluster .*(decompress|corrupt)" "$E2E_LOG"; then
	e2e_ok "corrupt: the message names the corrupt cluster"
else
	e2e_fail "corrupt: no message naming a cluster that does not decompress"
fi
e2e_reject "LIVEROOT-MARKER" "corrupt: no live system"
e2e_end 1

zero=0000000000000000000000000000000000000000000000000000000000000000
E2E_APPEND="live.probe=net live.fetch=full live.url=$url/rootfs.uzip live.sha256=$zero" boot sha
e2e_expect "liveroot: sha256 MISMATCH" 120 "sha: a wrong live.sha256 is refused"
e2e_reject "LIVEROOT-MARKER" "sha: no live system"
e2e_end 1

E2E_APPEND="live.probe=net live.url=$url/missing.uzip" boot 404
e2e_expect "liveroot: HTTP 404 for $url/missing.uzip" 120 "404: the status and the URL are named"
e2e_expect "liveroot: hint:" 30 "404: a hint follows"
e2e_reject "LIVEROOT-MARKER" "404: no live system"
e2e_end 1

# the first connection is cut after 400000 bytes; later ones pass
# (QEMU gives the command the connection as stderr too: keep socat's
# messages out of the HTTP stream)
cat > "$RUN/cut.sh" <<CUT
#!/bin/sh
exec 2>/dev/null
if mkdir "$RUN/cut.done" 2>/dev/null; then
	socat STDIO TCP:127.0.0.1:$E2E_PORT | head -c 400000
else
	exec socat STDIO TCP:127.0.0.1:$E2E_PORT
fi
CUT
rm -rf "$RUN/cut.done"
sha=$(cut -d' ' -f1 "$LIVE/netboot/rootfs.uzip.sha256")
E2E_APPEND="live.probe=net live.fetch=full live.url=$url/rootfs.uzip live.sha256=$sha" boot cut "sh $RUN/cut.sh"
e2e_expect "liveroot: sha256 OK" 150 "cut: the download completed after the cut"
e2e_expect_live none
if [ -d "$RUN/cut.done" ] && grep -q '"GET /rootfs.uzip HTTP/1.1" 206' "$RUN/nginx/access.log"; then
	e2e_ok "cut: the connection was cut and liveroot resumed with a Range request (206)"
else
	e2e_fail "cut: no cut connection or no ranged request in nginx's access log"
	cat "$RUN/nginx/access.log"
fi
e2e_done
