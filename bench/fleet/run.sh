#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/fleet/run.sh [--check] [BUILDDIR] - many machines booting one root
# image lazily from one HTTP server, on loopback: CLIENTS (default 32)
# `liveroot serve --lower http://.../rootfs.uzip --hashes ...` user-space
# stacks (http -> fill -> uzip, each on its own unix socket; --no-prefetch
# by default, so only what the boot reads is fetched), each replayed
# by bench/fleet/replay.c (libnbd) reading a recorded boot read trace, all
# at once, against one private nginx.  Not a test: it prints a table.
#
# Rows:
#   one      one client against nginx: what one boot fetches (B1 bytes, R1
#            requests)
#   direct   CLIENTS clients against one nginx, each through its own URL
#            (cNN/rootfs.uzip, hard links of one file: one ETag), so the
#            access log tells the clients apart: nginx's bytes sent (its
#            $bytes_sent, headers included) and requests, against CLIENTS x
#            B1, and the bytes any client fetched twice (overlapping Range
#            requests of one URL: only the 1-byte open probe, bytes=0-0,
#            which the first chunk's request repeats)
#   cdn      CLIENTS clients against an nginx edge (proxy_cache + slice 1m +
#            proxy_cache_lock) in front of an origin nginx, one URL for all:
#            the edge's bytes and requests, the origin's, and how often the
#            origin was asked for one range (about once)
# Per row: each client's time from the start of its serve (open: the TOC
# and the hashes file) to "trace done" (min / median / max), the
# replayer's failed reads (must be 0; a row with errors is marked and the
# script exits 1 after the table; with VERIFY= a read of wrong bytes
# counts) and the http layer's retries (from `serve -v`).  What one client
# fetches varies a little from run to run: the uzip layer's read-ahead
# depends on the timing of the replayer's concurrent reads.
#
# The image and the trace: by default the minbase+systemd root of
# tests/e2e/systemd.sh ($LIVEROOT_CACHE/minbase-systemd-bookworm, made as
# bench/boot/run.sh makes it when missing) with bench/fleet/marker.sh as a
# unit after multi-user.target, made by `liveroot mklive` once and cached
# in $LIVEROOT_CACHE/fleet/ (rm -rf it to rebuild).  The trace is recorded
# once, by booting that image in QEMU (liveroot, the ISO as a CD) with
# trace_event=block:block_rq_issue on the kernel command line: the kernel
# traces every request it issues, and marker.sh prints the reads of
# /dev/nbd0 (offset and length, in order) when multi-user.target is reached
# (see marker.sh); stored as $LIVEROOT_CACHE/fleet/trace.  IMAGE= and
# TRACE= use another image (IMAGE.hashes beside it) and trace instead
# (tests/integration/fleet_smoke.sh does, with a tiny image).
#
# Bounds: CLIENTS at most 64; every row must end within TIMEOUT s (default
# 300): the clients still running then are stopped and counted as failed.
# Every server started here is stopped here, by its PID.
set -u
BENCH=fleet
SRC=$(cd "$(dirname "$0")/../.." && pwd)
USAGE="env: CLIENTS (default 32, at most 64), QD (replay queue depth, 4),
     TIMEOUT (s per row, 300), ROWS (default \"one direct cdn\"),
     IMAGE and TRACE (an image with IMAGE.hashes, and its trace: no boot),
     LIVEROOT_CACHE (REPO/cache), LIVEROOT_BENCH_DIR (/tmp/liveroot-bench-fleet),
     SERVE_ARGS (more arguments for every liveroot serve; default
     --no-prefetch: demand reads only, no background fill),
     PREPARE=1 (only make the image and record the trace),
     VERIFY (a file with the image's content: every read is compared)"
. "$SRC/bench/lib.sh"
. "$SRC/scripts/nginx_lib.sh"
bench_args "$@"
CLIENTS=${CLIENTS:-32}
QD=${QD:-4}
TIMEOUT=${TIMEOUT:-300}
ROWS=${ROWS:-one direct cdn}
IMAGE=${IMAGE:-}
TRACE=${TRACE:-}
SERVE_ARGS=${SERVE_ARGS---no-prefetch}
VERIFY=${VERIFY:-}
CACHE=${LIVEROOT_CACHE:-$SRC/cache}
W=${LIVEROOT_BENCH_DIR:-/tmp/liveroot-bench-fleet}
REPLAY=$BUILD/bench/fleet_replay
INIT=$BUILD/cmd/liveroot-init
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

bench_knob CLIENTS 1
[ -z "$VERIFY" ] || [ -r "$VERIFY" ] || bench_err "VERIFY=$VERIFY: not found"
bench_knob QD 1
bench_knob TIMEOUT 1
[ "$CLIENTS" -le 64 ] || bench_err "CLIENTS=$CLIENTS: at most 64"
[ "$QD" -le 64 ] || bench_err "QD=$QD: at most 64"
for r in $ROWS; do
	case $r in
	one | direct | cdn) ;;
	*) bench_err "ROWS: unknown row '$r' (rows: one direct cdn)" ;;
	esac
done
bench_need_exe "$L" "$REPLAY"
bench_need_tool nginx=nginx-light curl=curl
if [ -n "$IMAGE$TRACE" ]; then
	[ -n "$IMAGE" ] && [ -n "$TRACE" ] ||
	    bench_err "IMAGE= and TRACE= go together (an image and a trace of it)"
	for f in "$IMAGE" "$IMAGE.hashes" "$TRACE"; do
		[ -r "$f" ] || bench_err "$f: not found (IMAGE=, TRACE=; the hashes file is written by liveroot mkuzip --hashes)"
	done
	what="image $IMAGE, trace $TRACE"
else
	bench_need_exe "$INIT"
	bench_need_tool qemu-system-x86_64=qemu-system-x86 flock=util-linux
	what="image and trace: $CACHE/fleet (made on the first run)"
fi
PREPARE=${PREPARE:-0}
# the http lower of serve: the lazy network root of issue 13
[ "$PREPARE" = 1 ] || "$L" serve --help 2>&1 | grep -q -- '--hashes' ||
    bench_err "$L: serve has no --hashes (no http:// lower): build a liveroot with the lazy network root (issue 13)"
bench_checked "liveroot $L" "replayer $REPLAY" "$what" "rows: $ROWS, $CLIENTS clients, QD $QD"

mkdir -p "$W" || bench_err "cannot create LIVEROOT_BENCH_DIR=$W"
W=$(cd "$W" && pwd)
pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 2' INT TERM

# --- the image and its trace -------------------------------------------------

# fleet_image: $CACHE/fleet/live (mklive of the minbase+systemd root with
# the marker unit) and $CACHE/fleet/trace, each made once
fleet_image() {
	fc=$CACHE/fleet
	mkdir -p "$fc" || bench_die "cannot create $fc"
	exec 7> "$CACHE/minbase-systemd.lock"
	flock 7
	sd=$CACHE/minbase-systemd-bookworm
	if [ ! -f "$sd.complete" ]; then
		echo "bench/fleet: debootstrap --variant=minbase --include=systemd-sysv,udev bookworm (once per machine; log $sd.log)" >&2
		rm -rf "$sd" "$sd.tmp"
		st=0
		debootstrap --variant=minbase --include=systemd-sysv,udev \
		    bookworm "$sd.tmp" "$MIRROR" > "$sd.log" 2>&1 || st=$?
		[ "$st" = 0 ] || bench_fail "debootstrap of the minbase+systemd root (log $sd.log)" "$st" "$sd.log"
		rm -f "$sd.tmp"/var/cache/apt/archives/*.deb
		bench_run "mv $sd.tmp $sd" mv "$sd.tmp" "$sd"
		touch "$sd.complete"
	fi
	flock -u 7
	if [ ! -f "$fc/live.complete" ]; then
		echo "bench/fleet: building the image in $fc/live (once)" >&2
		rm -rf "$fc/tree" "$fc/live" "$fc/trace"
		bench_run "cp -a $sd" cp -a "$sd" "$fc/tree"
		bench_run "install bench/fleet/marker.sh" install -m 0755 \
		    "$SRC/bench/fleet/marker.sh" "$fc/tree/usr/local/sbin/liveroot-fleet-marker"
		bench_run "install bench/fleet/liveroot-fleet.service" install -m 0644 \
		    "$SRC/bench/fleet/liveroot-fleet.service" "$fc/tree/etc/systemd/system/liveroot-fleet.service"
		mkdir -p "$fc/tree/etc/systemd/system/multi-user.target.wants"
		bench_run "enable liveroot-fleet.service" ln -sf ../liveroot-fleet.service \
		    "$fc/tree/etc/systemd/system/multi-user.target.wants/liveroot-fleet.service"
		bench_run "liveroot mklive (fleet root)" "$L" mklive --keep-ext4 \
		    --init "$INIT" -o "$fc/live" "$fc/tree" > /dev/null
		rm -rf "$fc/tree"
		[ -f "$fc/live/rootfs.uzip.hashes" ] ||
		    bench_die "liveroot mklive wrote no $fc/live/rootfs.uzip.hashes"
		touch "$fc/live.complete"
	fi
	if [ ! -s "$fc/trace" ]; then
		echo "bench/fleet: recording the boot read trace (one QEMU boot; transcript $fc/trace-boot.log)" >&2
		bench_run "scripts/kernel.sh" sh "$SRC/scripts/kernel.sh" > "$W/kernel.env"
		# shellcheck source=/dev/null
		. "$W/kernel.env"
		log=$fc/trace-boot.log
		: > "$log"
		qemu-system-x86_64 -accel tcg -m 1024 -nodefaults -no-reboot \
		    -display none -serial stdio -M pc \
		    -bios /usr/share/qemu/qboot.rom -kernel "$VMLINUX" \
		    -initrd "$fc/live/initramfs.img" -cdrom "$fc/live/live.iso" \
		    -append "console=ttyS0 quiet trace_event=block:block_rq_issue trace_buf_size=16M" \
		    < /dev/null > "$log" 2>&1 &
		qp=$!
		pids="$pids $qp"
		end=$(($(date +%s) + 600))
		while kill -0 "$qp" 2>/dev/null; do
			grep -aq "LIVEROOT-MARKER: powering off" "$log" && break
			[ "$(date +%s)" -lt "$end" ] || break
			sleep 0.2
		done
		sleep 0.5
		kill "$qp" 2>/dev/null
		wait "$qp" 2>/dev/null
		grep -aq "FLEET-TRACE-END" "$log" ||
		    bench_die "the trace boot printed no trace within 600 s: see $log"
		# the ring buffer must not have dropped any event
		ew=$(tr -d '\r' < "$log" | sed -n 's/.*entries-in-buffer\/entries-written: \([0-9]*\)\/\([0-9]*\).*/\1 \2/p' | head -n 1)
		# shellcheck disable=SC2086
		set -- $ew
		[ $# = 2 ] && [ "$1" = "$2" ] ||
		    bench_die "the trace boot lost events (entries-in-buffer/entries-written: ${ew:-none}): raise trace_buf_size; see $log"
		tr -d '\r' < "$log" | sed -n '/FLEET-TRACE-BEGIN/,/FLEET-TRACE-END/p' |
		    grep -E '^[0-9]+ [0-9]+$' > "$fc/trace.tmp"
		[ -s "$fc/trace.tmp" ] || bench_die "the trace boot traced no read of /dev/nbd0: see $log"
		mv "$fc/trace.tmp" "$fc/trace"
	fi
	IMAGE=$fc/live/rootfs.uzip
	TRACE=$fc/trace
}
[ -n "$IMAGE" ] || fleet_image
if [ "$PREPARE" = 1 ]; then
	echo "bench/fleet: image $IMAGE, trace $TRACE"
	exit 0
fi

treads=$(grep -cE '^[0-9]+ [0-9]+$' "$TRACE")
tbytes=$(awk '/^[0-9]+ [0-9]+$/ { s += $2 } END { printf "%.0f", s }' "$TRACE")
isize=$(stat -c %s "$IMAGE")

# --- nginx --------------------------------------------------------------------

# The access log: the URI, the status, $bytes_sent (headers and body),
# $body_bytes_sent and the Range header, one request a line.
ports=$(nginx_free_ports $((22000 + $$ % 20000)) 200 2 | tr '\n' ' ')
# shellcheck disable=SC2086
set -- $ports
[ $# = 2 ] || bench_die "no two free loopback ports for nginx in $((22000 + $$ % 20000))..+200"
PORT=$1
EPORT=$2

# fleet_conf DIR: the head of an nginx.conf in DIR, enough connections for
# CLIENTS x the http lower's connections
fleet_conf() {
	cat <<NGX
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log;
events { worker_connections 1024; }
http {
	log_format fleet '\$uri \$status \$bytes_sent \$body_bytes_sent "\$http_range"';
	access_log $1/access.log fleet;
	client_body_temp_path $1/tmp;
	proxy_temp_path $1/tmp;
	fastcgi_temp_path $1/tmp;
	default_type application/octet-stream;
	keepalive_requests 100000;
NGX
}

# nginx_start NAME PROBE-URL: nginx -c $W/NAME/nginx.conf, waiting until
# it answers PROBE-URL (any HTTP status); its access log starts empty
nginx_start() {
	d=$W/$1
	nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" -g 'daemon off;' 2>"$d/stderr.log" &
	pids="$pids $!"
	i=0
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "$2")" != 000 ]; do
		i=$((i + 1))
		if [ $i -ge 50 ]; then
			cat "$d/stderr.log" >> "$d/error.log"
			bench_die "nginx ($1) did not answer $2 within 5 s: $(tail -n 5 "$d/error.log")"
		fi
		sleep 0.1
	done
	: > "$d/access.log"
}

rm -rf "$W/origin" "$W/edge" "$W/www" "$W/run"
mkdir -p "$W/origin/tmp" "$W/edge/tmp" "$W/edge/cache" "$W/www" "$W/run"
bench_run "ln rootfs.uzip" ln -f "$IMAGE" "$W/www/rootfs.uzip" 2>/dev/null ||
    bench_run "cp rootfs.uzip" cp "$IMAGE" "$W/www/rootfs.uzip"
bench_run "cp rootfs.uzip.hashes" cp "$IMAGE.hashes" "$W/www/rootfs.uzip.hashes"
i=1
while [ $i -le "$CLIENTS" ]; do
	c=$(printf 'c%02d' $i)
	mkdir -p "$W/www/$c"
	ln "$W/www/rootfs.uzip" "$W/www/$c/rootfs.uzip"
	ln "$W/www/rootfs.uzip.hashes" "$W/www/$c/rootfs.uzip.hashes"
	i=$((i + 1))
done

# The origin: the nginx config of docs/serving.md (static files: Range,
# ETag and Last-Modified from the file, no gzip)
{ fleet_conf "$W/origin"; cat <<NGX; } > "$W/origin/nginx.conf"
	sendfile on;
	tcp_nopush on;
	server {
		listen 127.0.0.1:$PORT;
		root $W/www;
		location ~ \.uzip(\.hashes)?\$ {
			gzip off;
			add_header Cache-Control "public, max-age=3600";
		}
	}
}
NGX
# The edge (a CDN's in miniature): ranges cut into 1 MiB slices, each
# slice fetched from the origin once (proxy_cache_lock) and cached
{ fleet_conf "$W/edge"; cat <<NGX; } > "$W/edge/nginx.conf"
	proxy_cache_path $W/edge/cache levels=1:2 keys_zone=fleet:10m
	    max_size=8g inactive=1h use_temp_path=off;
	upstream origin {
		server 127.0.0.1:$PORT;
		keepalive 16;
	}
	server {
		listen 127.0.0.1:$EPORT;
		location / {
			slice 1m;
			proxy_cache fleet;
			proxy_cache_key \$uri\$is_args\$args\$slice_range;
			proxy_set_header Range \$slice_range;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_cache_valid 200 206 1h;
			proxy_cache_lock on;
			proxy_cache_lock_timeout 60s;
			proxy_cache_lock_age 60s;
			proxy_pass http://origin;
		}
	}
}
NGX
nginx_start origin "http://127.0.0.1:$PORT/rootfs.uzip"
want() {
	case " $ROWS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}
# the probe is a 404 of the origin, never cached: the edge starts empty
want cdn && nginx_start edge "http://127.0.0.1:$EPORT/no-such-file"

# --- the clients --------------------------------------------------------------

# client I URL: serve URL on $W/run/I.sock, replay the trace against it;
# $W/run/I.out gets "seconds-from-serve-start replayer-line", I.err the
# errors.  The serve stops when the replay ends.
client() {
	_i=$1 _u=$2
	_s=$W/run/$_i.sock
	_t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	"$L" serve -v --lower "$_u" --hashes "$_u.hashes" --unix "$_s" \
	    $SERVE_ARGS > "$W/run/$_i.serve.out" 2>"$W/run/$_i.serve.err" &
	_sp=$!
	_n=0
	# its "listening on" line: the socket is bound and listening
	until grep -q 'listening on' "$W/run/$_i.serve.out" 2>/dev/null; do
		if ! kill -0 "$_sp" 2>/dev/null; then
			echo "liveroot serve exited before listening: $(tail -n 3 "$W/run/$_i.serve.err")" > "$W/run/$_i.err"
			return 1
		fi
		_n=$((_n + 1))
		if [ $_n -ge 3000 ]; then
			kill "$_sp" 2>/dev/null
			echo "liveroot serve did not listen within 30 s" > "$W/run/$_i.err"
			return 1
		fi
		sleep 0.01
	done
	_st=0
	# shellcheck disable=SC2086
	"$REPLAY" "nbd+unix:///?socket=$_s" "$TRACE" "$QD" $VERIFY > "$W/run/$_i.rep" 2>"$W/run/$_i.err" || _st=$?
	_t1=$(date +%s.%N)
	kill "$_sp" 2>/dev/null
	wait "$_sp" 2>/dev/null
	[ -s "$W/run/$_i.rep" ] || return 1
	echo "$(awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.3f", b - a }') $(cat "$W/run/$_i.rep")" > "$W/run/$_i.out"
	return $_st
}

# nginx_stats LOG: "REQUESTS BYTES_SENT" of an access log (fleet format)
nginx_stats() {
	awk '{ n++; s += $3 } END { printf "%d %.0f\n", n, s }' "$1"
}

# refetched LOG: bytes asked for more than once by one URI (each client has
# its own URI in the direct row): the sum of the overlaps of the Range
# requests of each URI, plus whole-file GETs beyond the first
refetched() {
	sed -n 's/^\([^ ]*\) 20[06] [0-9]* [0-9]* "bytes=\([0-9]*\)-\([0-9]*\)"$/\1 \2 \3/p' "$1" |
	    sort -k1,1 -k2,2n |
	    awk '$1 != u { u = $1; end = -1 }
		{ if ($2 <= end) { e = ($3 < end ? $3 : end); d += e - $2 + 1 }
		  if ($3 > end) end = $3 }
		END { printf "%.0f\n", d }'
}

# repeats LOG: how many times the most asked range was asked (origin)
repeats() {
	awk '{ n[$1 " " $5]++ } END { m = 0; for (k in n) if (n[k] > m) m = n[k]; print m }' "$1"
}

# row NAME N URLFN: N clients at once, URLFN I giving each client's URL;
# sets T_MIN T_MED T_MAX (s), ERRS (failed reads + failed clients)
errrows=""
run_row() {
	_name=$1 _n=$2 _urlfn=$3
	rm -f "$W/run/"*
	: > "$W/origin/access.log"
	: > "$W/edge/access.log"
	_cp=""
	_i=1
	while [ $_i -le "$_n" ]; do
		client "$_i" "$($_urlfn "$_i")" &
		_cp="$_cp $!"
		_i=$((_i + 1))
	done
	pids="$pids $_cp"
	# the row's time bound: stop what still runs after TIMEOUT s
	(sleep "$TIMEOUT"; for _p in $_cp; do pkill -P "$_p" 2>/dev/null; kill "$_p" 2>/dev/null; done) &
	_wd=$!
	for _p in $_cp; do
		wait "$_p" 2>/dev/null
	done
	kill "$_wd" 2>/dev/null
	wait "$_wd" 2>/dev/null
	ERRS=0
	RETRIES=$(cat "$W/run/"*.serve.err 2>/dev/null |
	    sed -n 's/^http: [0-9]* requests, [0-9]* bytes, \([0-9]*\) retries.*/\1/p' |
	    awk '{ s += $1 } END { print s + 0 }')
	: > "$W/times"
	_i=1
	while [ $_i -le "$_n" ]; do
		if [ -s "$W/run/$_i.out" ]; then
			# shellcheck disable=SC2046
			set -- $(cat "$W/run/$_i.out")
			# SECONDS reads N bytes N seconds S errors N
			echo "$1" >> "$W/times"
			ERRS=$((ERRS + $9))
		else
			ERRS=$((ERRS + 1))
			echo "bench/fleet: $_name: client $_i failed: $(cat "$W/run/$_i.err" 2>/dev/null)" >&2
		fi
		_i=$((_i + 1))
	done
	# shellcheck disable=SC2046
	set -- $(sort -n "$W/times" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - -"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f %.2f %.2f\n", v[1], m, v[NR] }')
	T_MIN=$1 T_MED=$2 T_MAX=$3
	[ "$ERRS" = 0 ] || errrows="$errrows $_name"
	rm -rf "$W/run.$_name"
	cp -r "$W/run" "$W/run.$_name"
}
url_one() { echo "http://127.0.0.1:$PORT/rootfs.uzip"; }
url_direct() { printf 'http://127.0.0.1:%s/c%02d/rootfs.uzip\n' "$PORT" "$1"; }
url_edge() { echo "http://127.0.0.1:$EPORT/rootfs.uzip"; }

mib() { bench_mib "$1"; }

printf '\nfleet: %s, %s CPUs, load %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'image %s MiB (%s); trace %s reads, %s MiB of the device; replay queue depth %s\n' \
    "$(mib "$isize")" "$IMAGE" "$treads" "$(mib "$tbytes")" "$QD"
printf 'time: from the start of a client'"'"'s liveroot serve to its trace done (s); bytes: nginx'"'"'s $bytes_sent\n\n'
printf '| row | clients | trace done min / median / max (s) | server | requests | MiB sent | x one client | re-fetched bytes | errors (http retries) |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'

B1=""
R1=""
: > "$W/results"
if want one || want direct; then
	run_row one 1 url_one
	# shellcheck disable=SC2046
	set -- $(nginx_stats "$W/origin/access.log")
	R1=$1 B1=$2
	rf=$(refetched "$W/origin/access.log")
	if want one; then
		printf '| one client | 1 | %s / %s / %s | nginx | %s | %s | 1.00 | %s | %s |\n' \
		    "$T_MIN" "$T_MED" "$T_MAX" "$R1" "$(mib "$B1")" "$rf" "$ERRS ($RETRIES)"
	fi
	cp "$W/origin/access.log" "$W/one.origin.log"
	echo "FLEET-RESULT row=one clients=1 requests=$R1 bytes=$B1 refetched=$rf errors=$ERRS retries=$RETRIES" >> "$W/results"
fi
if want direct; then
	run_row direct "$CLIENTS" url_direct
	# shellcheck disable=SC2046
	set -- $(nginx_stats "$W/origin/access.log")
	rq=$1 by=$2
	rf=$(refetched "$W/origin/access.log")
	x=$(awk -v a="$by" -v b="$B1" -v n="$CLIENTS" 'BEGIN { printf "%.2f", a / b }')
	printf '| %s clients, one nginx | %s | %s / %s / %s | nginx | %s | %s | %s (ideal %s) | %s | %s |\n' \
	    "$CLIENTS" "$CLIENTS" "$T_MIN" "$T_MED" "$T_MAX" "$rq" "$(mib "$by")" "$x" "$CLIENTS" "$rf" "$ERRS ($RETRIES)"
	cp "$W/origin/access.log" "$W/direct.origin.log"
	echo "FLEET-RESULT row=direct clients=$CLIENTS requests=$rq bytes=$by refetched=$rf errors=$ERRS retries=$RETRIES" >> "$W/results"
fi
if want cdn; then
	run_row cdn "$CLIENTS" url_edge
	# shellcheck disable=SC2046
	set -- $(nginx_stats "$W/edge/access.log")
	erq=$1 eby=$2
	# shellcheck disable=SC2046
	set -- $(nginx_stats "$W/origin/access.log")
	orq=$1 oby=$2
	rep=$(repeats "$W/origin/access.log")
	ex=$(awk -v a="$eby" -v b="${B1:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }')
	ox=$(awk -v a="$oby" -v b="${B1:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }')
	printf '| %s clients, nginx edge (proxy_cache, slice 1m) | %s | %s / %s / %s | edge | %s | %s | %s | | %s |\n' \
	    "$CLIENTS" "$CLIENTS" "$T_MIN" "$T_MED" "$T_MAX" "$erq" "$(mib "$eby")" "$ex" "$ERRS ($RETRIES)"
	printf '| (the same run) | | | origin | %s | %s | %s | a range asked at most %sx | |\n' \
	    "$orq" "$(mib "$oby")" "$ox" "$rep"
	cp "$W/origin/access.log" "$W/cdn.origin.log"
	cp "$W/edge/access.log" "$W/cdn.edge.log"
	echo "FLEET-RESULT row=cdn clients=$CLIENTS edge_requests=$erq edge_bytes=$eby origin_requests=$orq origin_bytes=$oby origin_max_repeats=$rep errors=$ERRS retries=$RETRIES" >> "$W/results"
fi
echo
cat "$W/results"
echo "re-fetched: bytes one client asked for twice (the overlap of its Range requests; the open's bytes=0-0 probe is 1 byte of it)"
echo "logs: $W/ROW.origin.log, $W/cdn.edge.log; each client's serve and replay: $W/run.ROW/"
[ -z "$errrows" ] ||
    bench_die "rows with failed reads or clients:$errrows (see the FLEET-RESULT lines and $W/run.ROW/*.err)"
exit 0
