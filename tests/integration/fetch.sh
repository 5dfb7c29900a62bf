#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# fetch.sh - `liveroot fetch` (the fetch code of liveroot-init) against a
# real server: a private nginx on loopback, plain HTTP and TLS with a test
# CA made here by openssl.  Checked: a verified download; options after the
# operand; a wrong sha256, a 404 and every other failure leave no FILE and
# no temporary file (an older FILE stays as it was); a redirect loop ends at
# once; 5 redirects are followed, 6 are refused; HTTPS with --ca; the wrong
# CA (or the system's) refused at once, not retried, naming the host and
# the fix; an HTTPS URL redirected to plain HTTP refused; a server sending
# 2 B/s ends at the --timeout bound; SIGTERM removes the temporary file; no
# query string or user:password@ in any output; and `liveroot mklive --ca`
# puts the bundle where liveroot-init looks (FETCH_CA_PATH).
set -u
: "${LIVEROOT:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
PATH=$PATH:/usr/sbin:/sbin
for t in nginx:nginx-light openssl:openssl cpio:cpio sha256sum:coreutils; do
	command -v "${t%%:*}" >/dev/null 2>&1 ||
	    { echo "SKIP: ${t%%:*} is not installed (Debian package ${t#*:})"; exit 77; }
done
T=${TMPDIR:-/tmp}/fetch.$$
mkdir -p "$T"
NGPID=""
cleanup() {
	[ -n "$NGPID" ] && kill "$NGPID" 2>/dev/null
	[ -n "${BGPID:-}" ] && kill "$BGPID" 2>/dev/null
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

# --- the image, the CAs, nginx ------------------------------------------------
W=$T/www
mkdir -p "$W" "$T/out" "$T/ng/tmp"
dd if=/dev/urandom of="$W/img.bin" bs=1024 count=3000 2>/dev/null
cp "$W/img.bin" "$W/slow.bin"
sha=$(sha256sum "$W/img.bin" | cut -d' ' -f1)

ossl() { openssl "$@" > "$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; bad "openssl $1"; finish; }; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.crt" \
    -subj "/CN=liveroot test CA" -days 2 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other.key" -out "$T/other.crt" \
    -subj "/CN=some other CA" -days 2 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
ossl req -newkey rsa:2048 -nodes -keyout "$T/srv.key" -out "$T/srv.csr" -subj "/CN=127.0.0.1"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$T/srv.ext"
ossl x509 -req -in "$T/srv.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
    -out "$T/srv.crt" -days 2 -extfile "$T/srv.ext"

listening() { grep -q ":$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp 2>/dev/null; }
. "$SRCDIR/scripts/nginx_lib.sh"
set -- $(nginx_free_ports $((30000 + $$ % 20000)) 80 2)
HP=${1:-}
SP=${2:-}
[ -n "$SP" ] || { bad "no free ports for nginx"; finish; }
{ nginx_conf_head "$T/ng"; cat <<NGX; } > "$T/ng/nginx.conf"
	server {
		listen 127.0.0.1:$HP;
		root $W;
		location = /loop-a { return 302 /loop-b; }
		location = /loop-b { return 302 /loop-a; }
		location = /hop6 { return 302 /hop5; }
		location = /hop5 { return 302 /hop4; }
		location = /hop4 { return 302 /hop3; }
		location = /hop3 { return 302 /hop2; }
		location = /hop2 { return 302 /hop1; }
		location = /hop1 { return 302 /img.bin; }
		location = /slow.bin { limit_rate 2; }
	}
	server {
		listen 127.0.0.1:$SP ssl;
		ssl_certificate $T/srv.crt;
		ssl_certificate_key $T/srv.key;
		root $W;
		location = /tohttp { return 302 http://127.0.0.1:$HP/img.bin; }
		location = /tohttps { return 302 https://127.0.0.1:$SP/img.bin; }
	}
}
NGX
nginx -e "$T/ng/error.log" -p "$T/ng" -c "$T/ng/nginx.conf" -g 'daemon off;' &
NGPID=$!
i=0
while ! { listening "$HP" && listening "$SP"; }; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$T/ng/error.log"; bad "nginx did not start (does nginx-light have the ssl module?)"; finish; }
	sleep 0.1
done
H=http://127.0.0.1:$HP
S=https://127.0.0.1:$SP
O=$T/out/img

# run NAME ARGS...: liveroot fetch with stdout/stderr kept, status in $rc,
# seconds in $secs
run() {
	n=$1
	shift
	t0=$(date +%s)
	"$LIVEROOT" fetch "$@" > "$T/$n.out" 2> "$T/$n.err"
	rc=$?
	secs=$(($(date +%s) - t0))
}
# no_output NAME: neither FILE nor a temporary FILE.XXXXXX
no_output() {
	if [ -e "$O" ] || ls "$T/out" | grep -q '^img\.'; then
		bad "$1: an output file was left: $(ls "$T/out")"
	else
		ok "$1: no output file and no temporary file left"
	fi
}
# failed NAME TEXT: exit 2 and stderr holds TEXT as "liveroot fetch: ..."
failed() {
	if [ "$rc" -eq 2 ] && grep -q "^liveroot fetch: " "$T/$1.err" &&
	    grep -qF -- "$2" "$T/$1.err"; then
		ok "$1: exit 2, \"$2\""
	else
		bad "$1: expected exit 2 and \"$2\"; got $rc:"
		cat "$T/$1.err"
	fi
}

# --- plain HTTP ---------------------------------------------------------------
run good "$H/img.bin" --sha256 "$sha" -o "$O"
check "good: exit 0, options after the URL" test "$rc" -eq 0
check "good: FILE is the image" cmp "$O" "$W/img.bin"
check "good: the summary says verified" grep -q "sha256 $sha verified" "$T/good.out"
check "good: no temporary file left" sh -c "! ls '$T/out' | grep -q '^img\\.'"
rm -f "$O"

run quiet -q -o "$O" "$H/img.bin"
check "-q: exit 0, nothing on stdout or stderr" sh -c "[ $rc -eq 0 ] && [ ! -s '$T/quiet.out' ] && [ ! -s '$T/quiet.err' ]"
rm -f "$O"

zero=0000000000000000000000000000000000000000000000000000000000000000
run sha "$H/img.bin" -o "$O" --sha256 "$zero"
failed sha "sha256 mismatch for $H/img.bin"
no_output sha
echo old > "$O"
run sha2 "$H/img.bin" -o "$O" --sha256 "$zero"
check "sha: an older FILE is left as it was" sh -c "[ $rc -eq 2 ] && [ \"\$(cat '$O')\" = old ]"
rm -f "$O"

run 404 "$H/missing.bin" -o "$O"
failed 404 "HTTP 404 for $H/missing.bin"
no_output 404

run loop "$H/loop-a" -o "$O"
failed loop "redirect loop"
check "loop: ends at once ($secs s), not retried" sh -c "[ $secs -le 3 ] && ! grep -q retrying '$T/loop.err'"
no_output loop

run hop5 "$H/hop5" -o "$O" --sha256 "$sha"
check "5 redirects are followed" sh -c "[ $rc -eq 0 ] && grep -q '5 redirect(s)' '$T/hop5.out'"
rm -f "$O"
run hop6 "$H/hop6" -o "$O"
failed hop6 "more than 5 redirects"
no_output hop6

# 2 B/s: the whole fetch is bounded by --timeout, retries included
run slow "$H/slow.bin" -o "$O" --timeout 5
failed slow "not fetched within 5 s"
check "slow: ended at the bound ($secs s)" test "$secs" -le 12
no_output slow

# --- TLS -----------------------------------------------------------------------
run tls "$S/img.bin" -o "$O" --ca "$T/ca.crt" --sha256 "$sha"
check "https with --ca: exit 0" test "$rc" -eq 0
check "https with --ca: FILE is the image" cmp "$O" "$W/img.bin"
rm -f "$O"

run wrongca "$S/img.bin" -o "$O" --ca "$T/other.crt"
failed wrongca "cannot verify the TLS certificate of 127.0.0.1:$SP"
check "wrong CA: the fix is named" grep -qF -- "--ca FILE at mklive time" "$T/wrongca.err"
check "wrong CA: curl's reason is named" grep -qi "certificate" "$T/wrongca.err"
check "wrong CA: refused at once, not retried ($secs s)" sh -c "[ $secs -le 3 ] && ! grep -q retrying '$T/wrongca.err'"
no_output wrongca

run sysca "$S/img.bin" -o "$O"
failed sysca "cannot verify the TLS certificate of 127.0.0.1:$SP"
no_output sysca

run tohttp "$S/tohttp" -o "$O" --ca "$T/ca.crt"
failed tohttp "redirects from HTTPS to plain HTTP"
no_output tohttp

run tohttps "$S/tohttps" -o "$O" --ca "$T/ca.crt" --sha256 "$sha"
check "https -> https redirect is followed" sh -c "[ $rc -eq 0 ] && cmp -s '$O' '$W/img.bin'"
rm -f "$O"

# --- no secrets in the output ------------------------------------------------------
run secret "http://alice:hunter2@127.0.0.1:$HP/img.bin?token=SECRET" -o "$O"
check "secret: the fetch works" test "$rc" -eq 0
run secret2 "http://alice:hunter2@127.0.0.1:$HP/missing.bin?token=SECRET" -o "$O"
failed secret2 "HTTP 404 for $H/missing.bin"
check "no query string or user:password@ on stdout or stderr" \
    sh -c "! cat '$T/secret.out' '$T/secret.err' '$T/secret2.out' '$T/secret2.err' | grep -E 'SECRET|hunter2|alice'"
rm -f "$O"

# --- a signal removes the temporary file ------------------------------------------
"$LIVEROOT" fetch "$H/slow.bin" -o "$O" --timeout 60 > /dev/null 2>&1 &
BGPID=$!
i=0
while ! ls "$T/out" | grep -q '^img\.' && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "sigterm: the fetch writes a temporary file" sh -c "ls '$T/out' | grep -q '^img\\.'"
kill -TERM "$BGPID"
wait "$BGPID" 2>/dev/null
BGPID=""
no_output sigterm

# --- usage -----------------------------------------------------------------------
run noout "$H/img.bin"
failed noout "no output file: give -o FILE"
run badto "$H/img.bin" -o "$O" --timeout 0
failed badto "--timeout 0: seconds, 1 to 86400"
run ftp "ftp://127.0.0.1/img.bin" -o "$O"
failed ftp "only http:// and https://"
no_output usage

# --- mklive --ca: the bundle lands where liveroot-init looks ------------------------
INIT=$BUILDDIR/cmd/liveroot-init
K=$T/kernel
mkdir -p "$K/root/lib/modules/0.0.0-test"
echo 0.0.0-test > "$K/KVER"
: > "$K/root/lib/modules/0.0.0-test/modules.dep"
: > "$K/vmlinuz"
: > "$K/vmlinux"
if "$LIVEROOT" mklive --initramfs-only --compress none --modules ext4 \
    --init "$INIT" --kernel-dir "$K" --ca "$T/ca.crt" -o "$T/ml" > "$T/ml.out" 2>&1; then
	(cd "$T" && cpio -i --quiet --to-stdout etc/liveroot/ca-certificates.crt \
	    < "$T/ml/initramfs.img" > "$T/ml.ca")
	check "mklive --ca: the bundle is /etc/liveroot/ca-certificates.crt" cmp "$T/ml.ca" "$T/ca.crt"
else
	bad "mklive --initramfs-only --ca"
	cat "$T/ml.out"
fi
echo "not a certificate" > "$T/notpem"
if "$LIVEROOT" mklive --initramfs-only --compress none --modules ext4 \
    --init "$INIT" --kernel-dir "$K" --ca "$T/notpem" -o "$T/ml2" > "$T/ml2.out" 2>&1; then
	bad "mklive --ca with no certificate in it was accepted"
else
	check "mklive --ca refuses a file without a PEM certificate" grep -q "holds no PEM certificate" "$T/ml2.out"
fi
finish
