#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# http_bdev.sh - the HTTP block layer (lib/bdev/http.c) through httpbd
# against a private nginx on loopback and, for the faults nginx does not
# make, a small python3 server: the size and identity pinned at open;
# random reads, reads at the end and the whole file compared with the file,
# from several threads over a pool of connections (kept alive: nginx sees
# no more connections than the pool has, and no byte twice); a redirect
# followed at open; a file replaced on the server after open (another size,
# or only another mtime, hence ETag) fails the next read and every later
# one with ESTALE naming both versions; a location without Range support
# (max_ranges 0) gives ENOTSUP; 404 and an empty file are clear errors; a
# server that closes mid-body or answers 503 is retried and the data is
# still right; a 206 of the wrong range and a compressed range are refused;
# a stalled server ends at the read's time bound.  Over HTTPS (HTTP/2, a
# test CA made here by openssl): reads with the CA, a certificate that does
# not verify refused at open naming the host, and a redirect from HTTPS to
# plain HTTP refused.
set -u
: "${LIVEROOT:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
PATH=$PATH:/usr/sbin:/sbin
HTTPBD=$BUILDDIR/tests/integration/httpbd
for t in nginx:nginx-light python3:python3 openssl:openssl; do
	command -v "${t%%:*}" >/dev/null 2>&1 ||
	    { echo "SKIP: ${t%%:*} is not installed (Debian package ${t#*:})"; exit 77; }
done
T=${TMPDIR:-/tmp}/http_bdev.$$
mkdir -p "$T"
NGPID=""
STUBPID=""
cleanup() {
	[ -n "$NGPID" ] && kill "$NGPID" 2>/dev/null
	[ -n "$STUBPID" ] && kill "$STUBPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"
LIB_TAP=1
LIB_CHECK_OUT=$T/check.out
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

# --- the files, nginx ---------------------------------------------------------
W=$T/www
mkdir -p "$W/norange" "$T/ng/tmp"
dd if=/dev/urandom of="$W/img.bin" bs=1024 count=5000 2>/dev/null
printf 'xyz' >> "$W/img.bin"		# not a multiple of 512
cp "$W/img.bin" "$W/norange/img.bin"
for f in swap same; do cp "$W/img.bin" "$W/$f.bin"; done
printf 'A' > "$W/one.bin"
: > "$W/empty.bin"
SIZE=$(stat -c %s "$W/img.bin")

listening() { grep -q ":$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp 2>/dev/null; }
. "$SRCDIR/scripts/nginx_lib.sh"
set -- $(nginx_free_ports $((30000 + $$ % 20000)) 80 2)
HP=${1:-}
SP=${2:-}
[ -n "$SP" ] || { bad "no free ports for nginx"; finish; }
ossl() { openssl "$@" > "$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; bad "openssl $1"; finish; }; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.crt" \
    -subj "/CN=liveroot test CA" -days 2 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
ossl req -newkey rsa:2048 -nodes -keyout "$T/srv.key" -out "$T/srv.csr" -subj "/CN=127.0.0.1"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$T/srv.ext"
ossl x509 -req -in "$T/srv.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
    -out "$T/srv.crt" -days 2 -extfile "$T/srv.ext"
{ nginx_conf_head "$T/ng"; cat <<NGX; } > "$T/ng/nginx.conf"
	log_format conn '\$connection \$status \$http_range';
	log_format proto '\$server_protocol \$status \$http_range';
	server {
		listen 127.0.0.1:$HP;
		root $W;
		access_log $T/ng/conn.log conn;
		keepalive_requests 100000;
		location /norange/ { max_ranges 0; }
		location = /redir { return 302 /img.bin; }
	}
	server {
		listen 127.0.0.1:$SP ssl http2;
		ssl_certificate $T/srv.crt;
		ssl_certificate_key $T/srv.key;
		root $W;
		access_log $T/ng/tls.log proto;
		location = /tohttp { return 302 http://127.0.0.1:$HP/img.bin; }
	}
}
NGX
nginx -e "$T/ng/error.log" -p "$T/ng" -c "$T/ng/nginx.conf" -g 'daemon off;' &
NGPID=$!
i=0
while ! { listening "$HP" && listening "$SP"; }; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$T/ng/error.log"; bad "nginx did not start"; finish; }
	sleep 0.1
done
H=http://127.0.0.1:$HP
S=https://127.0.0.1:$SP

# run NAME ARGS...: httpbd with stdout/stderr kept in $T/NAME.out/.err,
# status in $rc
run() {
	n=$1
	shift
	"$HTTPBD" "$@" > "$T/$n.out" 2> "$T/$n.err"
	rc=$?
}
# failed NAME CODE TEXT: open failed with CODE and TEXT in the message
failed() {
	if [ "$rc" -eq 1 ] && grep -q "^httpbd: $2: " "$T/$1.err" &&
	    grep -qF -- "$3" "$T/$1.err"; then
		ok "$1: $2, \"$3\""
	else
		bad "$1: expected $2 and \"$3\"; got $rc:"
		cat "$T/$1.out" "$T/$1.err"
	fi
}
# field NAME KEY: a "KEY value" line of $T/NAME.out
field() { sed -n "s/^$2 //p" "$T/$1.out" | head -1; }

# --- open pins the file -------------------------------------------------------
run info "$H/img.bin" info
check "info: opens" test "$rc" -eq 0
check "info: the size is the file's" test "$(field info size)" = "$SIZE"
check "info: an ETag is pinned" sh -c "grep -q '^etag \"[0-9a-f]*-[0-9a-f]*\"\$' '$T/info.out'"
check "info: Last-Modified is pinned" sh -c "grep -q '^last-modified .*GMT\$' '$T/info.out'"
check "info: read-only, blksize 512" sh -c "grep -qx 'blksize 512' '$T/info.out' && grep -qx 'readonly 1' '$T/info.out'"

# --- reads compared with the file ---------------------------------------------
: > "$T/ng/conn.log"
run cmp4 -c 4 "$H/img.bin" compare "$W/img.bin" 150 4 1
check "compare: 4 threads x 150 random reads, end and whole file equal the file" test "$rc" -eq 0
[ "$rc" -eq 0 ] || cat "$T/cmp4.err"
# "ok reads R asked A bytes B requests Q retries X failed F"
set -- $(cat "$T/cmp4.out") x x x x x x x x x x x x
if [ "$1" = ok ] && [ "$5" = "$7" ] && [ "$9" -eq $(($3 + 1)) ] && [ "${11}" = 0 ] && [ "${13}" = 0 ]; then
	ok "compare: no byte fetched twice, one request a read (and open's)"
else
	bad "compare: want bytes = asked, requests = reads + 1, no retry: $(cat "$T/cmp4.out")"
fi
nconn=$(cut -d' ' -f1 "$T/ng/conn.log" | sort -u | wc -l)
nreq=$(wc -l < "$T/ng/conn.log")
check "compare: nginx saw $nreq requests on $nconn connections (at most 4: kept alive)" \
    sh -c "[ $nconn -ge 1 ] && [ $nconn -le 4 ] && [ $nreq -eq $9 ]"
check "compare: every request to nginx asked one range and got 206" \
    sh -c "! grep -v ' 206 bytes=[0-9]*-[0-9]*\$' '$T/ng/conn.log'"

run cmp8 -c 2 "$H/img.bin" compare "$W/img.bin" 60 8 2
check "compare: 8 threads on a pool of 2 connections" test "$rc" -eq 0
[ "$rc" -eq 0 ] || cat "$T/cmp8.err"
run one -c 1 "$H/one.bin" compare "$W/one.bin" 10 2 3
check "compare: a file of 1 byte" test "$rc" -eq 0

# --- redirects, errors of open ------------------------------------------------
run redir "$H/redir" info
check "redirect: followed at open, the final URL pinned" sh -c "[ $rc -eq 0 ] && grep -qx 'redirects 1' '$T/redir.out' && grep -qx 'url $H/img.bin' '$T/redir.out' && grep -qx 'size $SIZE' '$T/redir.out'"
run missing "$H/nothere.bin" info
failed missing ENOENT "HTTP 404 for $H/nothere.bin: the image is not on the server"
run norange "$H/norange/img.bin" info
failed norange ENOTSUP "$H/norange/img.bin does not serve ranges"
check "norange: the message says it can be downloaded whole" grep -q "downloaded whole" "$T/norange.err"
run empty "$H/empty.bin" info
failed empty EINVAL "$H/empty.bin is empty (0 bytes)"
run scheme "ftp://127.0.0.1/x" info
failed scheme EINVAL "only http:// and https://"

# --- HTTPS --------------------------------------------------------------------
run tls -c 3 -C "$T/ca.crt" "$S/img.bin" compare "$W/img.bin" 40 3 5
check "https: reads with the test CA equal the file" test "$rc" -eq 0
[ "$rc" -eq 0 ] || cat "$T/tls.err"
check "https: nginx served them over HTTP/2" grep -q '^HTTP/2.0 206 bytes=' "$T/ng/tls.log"
run tlsca "$S/img.bin" info
failed tlsca EACCES "cannot verify the TLS certificate of 127.0.0.1:$SP"
run tohttp -C "$T/ca.crt" "$S/tohttp" info
failed tohttp EPROTO "$S/tohttp redirects from HTTPS to plain HTTP"

# --- the file changes on the server after open --------------------------------
# swap_test NAME FILE: open FILE, let the caller's command change it, read twice
swap_test() {
	rm -f "$T/flag"
	"$HTTPBD" "$H/$2" wait "$T/flag" 1000 4096 > "$T/$1.out" 2> "$T/$1.err" &
	sp=$!
	i=0
	while ! grep -q '^open$' "$T/$1.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || break
		sleep 0.05
	done
}
f0=$fail
swap_test swap swap.bin
head -c 4000000 /dev/urandom > "$T/new.bin"
mv "$T/new.bin" "$W/swap.bin"
touch "$T/flag"
wait "$sp"
check "swap: the first read after a new file (other size) fails with ESTALE" \
    sh -c "sed -n 2p '$T/swap.out' | grep -q '^read ESTALE: $H/swap.bin: the server now serves another file: ETag \"[0-9a-f-]*\" (size $SIZE) at open, ETag \"[0-9a-f-]*\" (size 4000000) now'"
check "swap: and so does the next one (never two versions)" \
    sh -c "sed -n 3p '$T/swap.out' | grep -q '^read ESTALE: .*size $SIZE) at open'"
[ "$fail" -eq "$f0" ] || cat "$T/swap.out" "$T/swap.err"

f0=$fail
swap_test same same.bin
touch -d '2001-02-03 04:05:06' "$W/same.bin"
touch "$T/flag"
wait "$sp"
tags=$(sed -n '2s/^read ESTALE: .*: ETag \("[0-9a-f-]*"\) (size [0-9]*) at open, ETag \("[0-9a-f-]*"\) (size [0-9]*) now.*/\1 \2/p' "$T/same.out")
check "same size, another mtime (ETag): ESTALE naming both ETags ($tags)" \
    sh -c "set -- $tags; [ \$# -eq 2 ] && [ \"\$1\" != \"\$2\" ] && grep -q '(size $SIZE) at open, ETag .* (size $SIZE) now' '$T/same.out'"
[ "$fail" -eq "$f0" ] || cat "$T/same.out" "$T/same.err"

# --- faults: a small python3 server -------------------------------------------
cat > "$T/stub.py" <<'EOF'
import http.server, os, re, socketserver, sys, threading, time
data = open(sys.argv[1], 'rb').read()
lock = threading.Lock()
count = {}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a):
        pass
    def do_GET(self):
        path = self.path
        with lock:
            count[path] = count.get(path, 0) + 1
            n = count[path]
        m = re.fullmatch(r'bytes=(\d+)-(\d+)', self.headers.get('Range', ''))
        if path == '/flaky' and n % 3 == 2:
            self.send_response(503)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        if not m:
            self.send_response(200)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        a, b = int(m.group(1)), min(int(m.group(2)), len(data) - 1)
        body = data[a:b + 1]
        ca = a + 1 if path == '/lie' and a > 0 else a
        if path == '/stall' and a > 0:
            time.sleep(30)
        self.send_response(206)
        self.send_header('ETag', '"stub-1"')
        self.send_header('Accept-Ranges', 'bytes')
        self.send_header('Content-Range', 'bytes %d-%d/%d' % (ca, ca + len(body) - 1, len(data)))
        self.send_header('Content-Length', str(len(body)))
        if path == '/enc':
            self.send_header('Content-Encoding', 'gzip')
        self.end_headers()
        if path == '/cut' and len(body) > 1 and n % 2 == 0:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(('127.0.0.1', 0), H)
open(sys.argv[2] + '.tmp', 'w').write(str(s.server_address[1]))
os.rename(sys.argv[2] + '.tmp', sys.argv[2])
s.serve_forever()
EOF
head -c 700000 /dev/urandom > "$T/stub.bin"
python3 "$T/stub.py" "$T/stub.bin" "$T/stub.port" 2> "$T/stub.err" &
STUBPID=$!
i=0
while [ ! -s "$T/stub.port" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$T/stub.err"; bad "the python3 server did not start"; finish; }
	sleep 0.1
done
P=http://127.0.0.1:$(cat "$T/stub.port")

for f in cut flaky; do
	run $f -c 3 -v "$P/$f" compare "$T/stub.bin" 30 3 4
	set -- $(cat "$T/$f.out") x x x x x x x x x x x x
	check "$f: retried (${11} retries) and every read equals the file" \
	    sh -c "[ $rc -eq 0 ] && [ '${11}' != x ] && [ '${11}' -gt 0 ] && [ '${13}' = 0 ]"
	[ "$rc" -eq 0 ] || cat "$T/$f.err" | tail -5
done
check "cut: the log says what was retried" grep -q "log: .*bytes .*: the connection closed after\|log: .*bytes .*: .*transfer closed" "$T/cut.err"

touch "$T/flag"
run lie "$P/lie" wait "$T/flag" 1000 10
check "lie: a 206 of another range fails the read (EIO) and names both ranges" \
    grep -q "^read EIO: $P/lie answered bytes 1000-1009 with bytes 1001-1010/700000" "$T/lie.out"
run enc "$P/enc" info
failed enc EPROTO "with a Content-Encoding"
t0=$(date +%s)
run stall -r 2 "$P/stall" wait "$T/flag" 5000 10
secs=$(($(date +%s) - t0))
check "stall: the read ends at its bound (2 s) with EIO, in $secs s" \
    sh -c "[ $secs -lt 10 ] && grep -q '^read EIO: .*bytes 5000-5009 not read within 2 s' '$T/stall.out'"
finish
