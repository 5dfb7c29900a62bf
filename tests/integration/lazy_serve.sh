#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# lazy_serve.sh - the lazy network root (issue 13 #2) through `liveroot
# serve --lower URL` against a private nginx on loopback: the union read
# with nbdcopy equals the image extracted locally, with its hashes file
# given as a URL, and `serve -v` counts the HTTP requests and the demand
# and background bytes (with --no-prefetch: demand reads alone, each byte
# once); one flipped byte in one cluster on the server
# fails the read of that cluster, naming it; nginx stopped during the
# background fill and started again: the fill resumes and completes (the
# http layer's retries counted); the file replaced on the server mid-run:
# reads fail with ESTALE naming both versions, and the fill stops; a
# location without Range support: serve says so and downloads the whole
# image instead.
set -u
: "${LIVEROOT:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
PATH=$PATH:/usr/sbin:/sbin
. "$(dirname "$0")/lib.sh"
need_tools "Debian packages nginx-light, libnbd-bin" nginx nbdcopy
W=${TMPDIR:-/tmp}/lazy_serve.$$
mkdir -p "$W/www/norange" "$W/ng/tmp"
cd "$W" || exit 1
NGPID=""
SERVER_PID=""
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	[ -n "$NGPID" ] && kill "$NGPID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM
LIB_TAP=1
LIB_CHECK_OUT=$W/check.out
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

# --- the image: 6 MiB of random, zeros and text; uzip with hashes ----------
head -c 2097152 /dev/urandom >"$W/in.raw"
head -c 1048576 /dev/zero >>"$W/in.raw"
seq 1 60000 | sed 's/.*/liveroot lazy serve line & padding padding/' |
    head -c 1048576 >>"$W/in.raw"
head -c 2097152 /dev/urandom >>"$W/in.raw"
U=$W/www/rootfs.uzip
if ! "$LIVEROOT" mkuzip -q -s 65536 --hashes -o "$U" "$W/in.raw" \
    >"$W/mkuzip.out" 2>&1; then
	bad "mkuzip: $(cat "$W/mkuzip.out")"
	finish
fi
[ -f "$U.hashes" ] || { bad "mkuzip --hashes wrote no $U.hashes"; finish; }
USIZE=$(stat -c %s "$U")
# The tampered copy: one byte flipped in the middle of the file (inside a
# cluster of the first random MiBs' compressed data), the same hashes.
cp "$U" "$W/www/bad.uzip"
cp "$U.hashes" "$W/www/bad.uzip.hashes"
FLIP=$((USIZE / 4))
python3 - "$W/www/bad.uzip" "$FLIP" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2]))
    f.write(bytes([b[0] ^ 0x5a]))
EOF
cp "$U" "$W/www/slow.uzip"
cp "$U" "$W/www/swap.uzip"
cp "$U" "$W/www/norange/rootfs.uzip"

# --- nginx ----------------------------------------------------------------
listening() { grep -q ":$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp 2>/dev/null; }
. "$SRCDIR/scripts/nginx_lib.sh"
HP=$(nginx_free_ports $((20000 + $$ % 20000)) 80 1)
[ -n "$HP" ] || { bad "no free port for nginx"; finish; }
{ nginx_conf_head "$W/ng"; cat <<NGX; } >"$W/ng/nginx.conf"
	log_format rng '\$status \$http_range \$uri';
	server {
		listen 127.0.0.1:$HP;
		root $W/www;
		access_log $W/ng/rng.log rng;
		keepalive_requests 100000;
		location /norange/ { max_ranges 0; }
		location = /slow.uzip { limit_rate 1m; }
	}
}
NGX
start_nginx() {
	nginx -e "$W/ng/error.log" -p "$W/ng" -c "$W/ng/nginx.conf" \
	    -g 'daemon off;' &
	NGPID=$!
	i=0
	while ! listening "$HP"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$W/ng/error.log"; return 1; }
		sleep 0.1
	done
}
stop_nginx() {
	kill "$NGPID"
	wait "$NGPID" 2>/dev/null
	NGPID=""
	i=0
	while listening "$HP" && [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.1
	done
}
start_nginx || { bad "nginx did not start"; finish; }
H=http://127.0.0.1:$HP
SOCK=$W/nbd.sock
NBD="nbd+unix:///?socket=$SOCK"

"$LIVEROOT" uzip extract "$U" "$W/local.raw" >/dev/null 2>&1 ||
    bad "uzip extract"
cmp -s "$W/local.raw" "$W/in.raw" || bad "the extracted image is the input"

# start_server LOG ARGS...: serve in the background until it listens
start_server() {
	log=$1
	shift
	: >"$W/$log.out"
	"$LIVEROOT" serve "$@" --unix "$SOCK" >>"$W/$log.out" \
	    2>"$W/$log.err" &
	SERVER_PID=$!
	wait_started "$log" grep -qs 'listening on' "$W/$log.out"
}
# wait_line LOG TEXT: wait (60 s at most) for TEXT in $W/LOG.err
wait_line() {
	i=0
	while ! grep -qF -- "$2" "$W/$1.err"; do
		i=$((i + 1))
		[ $i -lt 600 ] || return 1
		sleep 0.1
	done
}
# has LOG TEXT DESCRIPTION: TEXT in $W/LOG.err
has() {
	if grep -qF -- "$2" "$W/$1.err"; then
		ok "$3"
	else
		bad "$3: no \"$2\" in:"
		cat "$W/$1.err"
	fi
}

# --- 1. the union over HTTP equals the local image --------------------------
if start_server lazy -v --lower "$H/rootfs.uzip" \
    --hashes "$H/rootfs.uzip.hashes" --upper mem:64M; then
	check "lazy: nbdcopy of the union" nbdcopy "$NBD" "$W/lazy.raw"
	check "lazy: the union equals the local image" \
	    cmp "$W/lazy.raw" "$W/local.raw"
	wait_line lazy "image complete in RAM" ||
	    bad "lazy: the fill did not complete"
	stop_server || bad "lazy: serve exited $rc"
	has lazy "image complete in RAM ($USIZE bytes)" \
	    "lazy: complete, the network no longer needed"
	has lazy "fill: $USIZE of $USIZE bytes in RAM, complete" \
	    "lazy: serve -v prints the fill's counts"
	has lazy "http: " "lazy: serve -v prints the http counts"
	# every byte of the image fetched once: demand + background = size
	set -- $(sed -n 's/.*demand [0-9]* fetches (\([0-9]*\) bytes), background [0-9]* fetches (\([0-9]*\) bytes).*/\1 \2/p' "$W/lazy.err")
	if [ $# -eq 2 ] && [ $(($1 + $2)) -eq "$USIZE" ]; then
		ok "lazy: demand $1 + background $2 bytes = the image"
	else
		bad "lazy: demand + background bytes are not $USIZE: $*"
	fi
	hb=$(sed -n 's/^http: [0-9]* requests, \([0-9]*\) bytes.*/\1/p' "$W/lazy.err")
	if [ "$hb" = "$USIZE" ]; then
		ok "lazy: HTTP body bytes = the image, nothing fetched twice"
	else
		bad "lazy: HTTP body bytes $hb, not $USIZE"
		cat "$W/lazy.err"
	fi
	grep -q '^206 bytes=' "$W/ng/rng.log" &&
	    ! grep -q '^200 .*rootfs.uzip$' "$W/ng/rng.log" &&
	    ok "lazy: nginx saw Range requests only for the image" ||
	    { bad "lazy: nginx log"; cat "$W/ng/rng.log"; }
else
	bad "lazy: serve did not start"
fi

# --- 1b. no prefetch: every byte comes by demand, each once -------------------
if start_server demand -v --no-prefetch --lower "$H/rootfs.uzip" \
    --hashes "$H/rootfs.uzip.hashes" --upper mem:64M --connections 3; then
	check "demand: nbdcopy of the union" nbdcopy "$NBD" "$W/demand.raw"
	check "demand: the union equals the local image" \
	    cmp "$W/demand.raw" "$W/local.raw"
	stop_server || bad "demand: serve exited $rc"
	has demand "demand" "demand: serve -v prints the fill's counts"
	set -- $(sed -n 's/.*demand \([0-9]*\) fetches (\([0-9]*\) bytes), background \([0-9]*\) fetches.*/\1 \2 \3/p' "$W/demand.err")
	if [ $# -eq 3 ] && [ "$1" -gt 1 ] && [ "$2" -eq "$USIZE" ] &&
	    [ "$3" -eq 0 ]; then
		ok "demand: $1 demand fetches brought the image, nothing else"
	else
		bad "demand: demand/background counts: $*"
		cat "$W/demand.err"
	fi
else
	bad "demand: serve did not start"
fi

# --- 2. one flipped byte on the server: that cluster's read fails ------------
if start_server bad --no-prefetch --lower "$H/bad.uzip" \
    --hashes "$H/bad.uzip.hashes" --upper mem:64M; then
	if nbdcopy "$NBD" "$W/bad.raw" >"$W/badcopy.out" 2>&1; then
		bad "bad: the tampered image read whole"
	else
		ok "bad: reading the tampered image fails"
	fi
	stop_server
	has bad "the image was changed or is corrupt; it was not decompressed" \
	    "bad: the error says the cluster's hash does not match"
	has bad "bad.uzip.hashes says" "bad: it names the hashes file"
	# the cluster named holds the flipped byte
	set -- $(sed -n 's/.*: cluster \([0-9]*\) at offset \([0-9]*\) (\([0-9]*\) bytes) has sha256.*/\1 \2 \3/p' "$W/bad.err")
	if [ $# -eq 3 ] && [ "$2" -le "$FLIP" ] && [ "$FLIP" -lt $(($2 + $3)) ]
	then
		ok "bad: the error names cluster $1, which holds the flipped byte"
	else
		bad "bad: the cluster named ($*) does not hold byte $FLIP"
		cat "$W/bad.err"
	fi
else
	bad "bad: serve did not start"
fi

# --- 3. nginx away during the fill, back: the fill resumes, completes --------
if start_server slow -v --lower "$H/slow.uzip" --upper mem:64M \
    --connections 2; then
	sleep 1
	if grep -qF "image complete" "$W/slow.err"; then
		bad "slow: the fill completed before nginx was stopped"
	fi
	stop_nginx
	sleep 2
	start_nginx || { bad "nginx did not start again"; finish; }
	if wait_line slow "image complete in RAM"; then
		ok "slow: the fill resumed and completed"
	else
		bad "slow: the fill did not complete"
		cat "$W/slow.err"
	fi
	check "slow: nbdcopy of the union" nbdcopy "$NBD" "$W/slow.raw"
	check "slow: the union equals the local image" \
	    cmp "$W/slow.raw" "$W/local.raw"
	stop_server || bad "slow: serve exited $rc"
	r=$(sed -n 's/^http: .* \([0-9]*\) retries.*/\1/p' "$W/slow.err")
	if [ -n "$r" ] && [ "$r" -gt 0 ]; then
		ok "slow: requests were retried while nginx was away ($r)"
	else
		bad "slow: no retries counted"
		cat "$W/slow.err"
	fi
else
	bad "slow: serve did not start"
fi

# --- 4. the file replaced on the server: ESTALE naming both ------------------
if start_server swap --no-prefetch --lower "$H/swap.uzip" --upper mem:64M
then
	head -c 1000 /dev/urandom >>"$W/www/swap.uzip"
	touch -d '2001-01-01' "$W/www/swap.uzip"
	if nbdcopy "$NBD" "$W/swap.raw" >"$W/swapcopy.out" 2>&1; then
		bad "swap: the union read whole from a replaced file"
	else
		ok "swap: reading after the file was replaced fails"
	fi
	stop_server
	has swap "the server now serves another file" \
	    "swap: the error says the file changed"
	has swap "(size $USIZE) at open" "swap: it names the version at open"
	has swap "(size $((USIZE + 1000))) now" "swap: and the one now"
else
	bad "swap: serve did not start"
fi

# --- 5. no Range support: the whole file, said so ---------------------------
if start_server norange -v --lower "$H/norange/rootfs.uzip" --upper mem:64M
then
	check "norange: nbdcopy of the union" nbdcopy "$NBD" "$W/nr.raw"
	check "norange: the union equals the local image" \
	    cmp "$W/nr.raw" "$W/local.raw"
	stop_server || bad "norange: serve exited $rc"
	has norange "does not answer Range requests: downloading the whole" \
	    "norange: serve says it downloads the whole image"
	has norange "http: no ranges: downloaded the whole image, $USIZE bytes" \
	    "norange: serve -v counts the download"
else
	bad "norange: serve did not start"
fi

# --- 6. options that need a URL lower, and a URL with a file upper -----------
expect_err "options: --no-prefetch needs a URL lower" 2 \
    "tune a --lower given as an http(s):// URL" \
    "$LIVEROOT" serve --lower "$U" --no-prefetch --unix "$SOCK"
expect_err "options: a URL lower takes no persistent upper" 2 \
    "needs a local lower" \
    "$LIVEROOT" serve --lower "$H/rootfs.uzip" --upper "$W/up.img" \
    --unix "$SOCK"
finish
