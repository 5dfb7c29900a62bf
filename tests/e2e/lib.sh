# SPDX-License-Identifier: BSD-2-Clause
#
# lib.sh - the QEMU end-to-end harness, sourced by every tests/e2e/*.sh.
#
# What it does:
#   e2e_init            find the tools, the kernel (scripts/kernel.sh) and
#                       liveroot-init; build the example live system ONCE per
#                       run and share it (under $LIVEROOT_E2E_DIR, default
#                       /tmp/liveroot-e2e; keyed by the inputs, built under a
#                       flock so scenarios never race); exits 77 only when a
#                       tool is truly absent.
#   e2e_boot NAME [qemu args]   start QEMU (TCG) in the background: the kernel
#                       and initramfs given by -kernel/-initrd (PVH vmlinux +
#                       qboot by default, E2E_FW=seabios for the bzImage), the
#                       serial console logged to $RUN/console.log, its input
#                       fed from a FIFO (e2e_send), the monitor on a socket
#                       (e2e_monitor).  E2E_APPEND adds kernel arguments,
#                       E2E_MEM sets the RAM (default 512 MiB).
#   e2e_wait TEXT [S]   wait until the console shows TEXT (fixed string) or
#                       QEMU exits or S seconds pass, or a dead end shows
#                       (E2E_ABORT, an ERE; default: halted, rescue shell,
#                       kernel panic; E2E_ABORT= disables it).
#   e2e_expect/e2e_reject  assert a line is there / is not there.
#   e2e_end [S]         wait for the guest to power off; kill QEMU after S s.
#   e2e_ok/e2e_fail     count; a failure prints the boot transcript.
#   e2e_done            prints "N passed, N failed" and exits 0 or 1.
# Invariants: one VM at a time per script; every QEMU started here is
# stopped here (by its PID); nothing outside $E2E and /tmp is written.
set -u

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILDDIR=${BUILDDIR:-$SRCDIR/build}
LIVEROOT=${LIVEROOT:-$BUILDDIR/cmd/liveroot}
E2E=${LIVEROOT_E2E_DIR:-/tmp/liveroot-e2e}
E2E_SCEN=$(basename "$0" .sh)
E2E_PASS=0
E2E_FAILS=0
E2E_QPID=""
E2E_BOOT_FAILED=0
E2E_MEM=${E2E_MEM:-512}
E2E_FW=${E2E_FW:-qboot}
E2E_APPEND=${E2E_APPEND:-}
# timeouts scale for slow machines: LIVEROOT_E2E_SLOW=2 doubles them
E2E_SLOW=${LIVEROOT_E2E_SLOW:-1}

e2e_log() {
	echo "e2e $E2E_SCEN: $*"
}

e2e_skip() {
	echo "e2e $E2E_SCEN: SKIP: $*"
	exit 77
}

e2e_need() {
	# e2e_need TOOL PACKAGE
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] ||
	    e2e_skip "'$1' is not installed (Debian package $2)"
}

e2e_cleanup() {
	if [ -n "$E2E_QPID" ] && kill -0 "$E2E_QPID" 2>/dev/null; then
		kill "$E2E_QPID" 2>/dev/null
		sleep 0.3
		kill -9 "$E2E_QPID" 2>/dev/null
	fi
	E2E_QPID=""
	for f in ${E2E_CLEANUP_PIDS:-}; do
		kill "$f" 2>/dev/null
	done
}
trap 'e2e_cleanup' EXIT
trap 'e2e_cleanup; exit 2' INT TERM

# --- building the shared images ----------------------------------------------

e2e_key() {
	# what the shared images depend on
	{
		for f in "$LIVEROOT" "$E2E_INIT" "$SRCDIR"/examples/tiny-root/* \
		    "$SRCDIR"/tests/e2e/fwtest/* "$SRCDIR"/tests/e2e/lib.sh \
		    "$SRCDIR"/tests/e2e/ventoy-disk.sh; do
			[ -e "$f" ] && cksum < "$f"
		done
		echo "$KVER"
	} | cksum | cut -d' ' -f1
}

e2e_build_fwtest() {
	# the firmware test module and its firmware file, when the headers of
	# the same kernel are installed (linux-headers-amd64)
	extra=$1
	hdr=/usr/src/linux-headers-$KVER
	if [ ! -d "$hdr" ]; then
		echo "no $hdr: the firmware scenario will skip" > "$E2E/images/fwtest.missing"
		return 0
	fi
	b=$E2E/images/fwtest-build
	rm -rf "$b"
	mkdir -p "$b" "$extra/lib/modules/extra" "$extra/lib/firmware"
	cp "$SRCDIR"/tests/e2e/fwtest/lr_fwtest.c "$SRCDIR"/tests/e2e/fwtest/Kbuild "$b"/
	if ! make -s -C "$hdr" M="$b" modules > "$b/make.log" 2>&1; then
		cat "$b/make.log"
		echo "building the firmware test module failed" > "$E2E/images/fwtest.missing"
		return 0
	fi
	cp "$b/lr_fwtest.ko" "$extra/lib/modules/extra/"
	# deterministic content, 100003 bytes (not a multiple of a page)
	i=0
	while [ $i -lt 100003 ]; do
		printf 'liveroot firmware test block %08d\n' $i
		i=$((i + 38))
	done | head -c 100003 > "$extra/lib/firmware/liveroot-test.fw"
	stat -c %s "$extra/lib/firmware/liveroot-test.fw" > "$E2E/images/fw.size"
	# CRC-32 (zlib's) from gzip's trailer
	gzip -c < "$extra/lib/firmware/liveroot-test.fw" | tail -c 8 | head -c 4 |
	    od -An -tx4 | tr -d ' \n' > "$E2E/images/fw.crc"
}

e2e_build_images() {
	img=$E2E/images
	rm -rf "$img"
	mkdir -p "$img/extra"
	e2e_log "building the example live system in $img (once per run)"
	e2e_build_fwtest "$img/extra"
	sh "$SRCDIR/examples/tiny-root/build.sh" "$img/tree" "$img/extra" ||
	    return 1
	# 160 MiB free: the overlay64 check writes 64 MiB with room to spare
	# --serial: GRUB on ttyS0 and console=ttyS0 in every menu entry and
	# in boot.ipxe, so that the firmware scenarios see the boot
	"$LIVEROOT" mklive --init "$E2E_INIT" --kernel-dir "$E2E_KDIR" \
	    --serial --free 160M -o "$img/live" "$img/tree" > "$img/mklive.log" 2>&1 ||
	    { cat "$img/mklive.log"; return 1; }
	e2e_key > "$img/key"
}

e2e_init() {
	e2e_need qemu-system-x86_64 qemu-system-x86
	e2e_need xorriso xorriso
	e2e_need mke2fs e2fsprogs
	e2e_need socat socat
	e2e_need flock util-linux
	[ -x "$LIVEROOT" ] || { echo "e2e: $LIVEROOT is not built"; exit 1; }
	E2E_INIT=${LIVEROOT_INIT:-$(dirname "$LIVEROOT")/liveroot-init}
	if [ ! -x "$E2E_INIT" ]; then
		echo "e2e $E2E_SCEN: FAIL: $E2E_INIT is not built (liveroot-init)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	mkdir -p "$E2E"
	kout=$(sh "$SRCDIR/scripts/kernel.sh") || {
		echo "e2e: scripts/kernel.sh failed"; echo "0 passed, 1 failed"; exit 1; }
	eval "$kout"
	E2E_KDIR=$(dirname "$VMLINUX")
	exec 9> "$E2E/lock"
	flock 9
	if [ ! -f "$E2E/images/key" ] || [ "$(cat "$E2E/images/key")" != "$(e2e_key)" ]; then
		if ! e2e_build_images; then
			flock -u 9
			echo "e2e $E2E_SCEN: FAIL: building the example live system failed"
			echo "0 passed, 1 failed"
			exit 1
		fi
	fi
	flock -u 9
	IMG=$E2E/images
	LIVE=$IMG/live
	RUN=$E2E/run/$E2E_SCEN
	rm -rf "$RUN"
	mkdir -p "$RUN"
}

# e2e_once NAME CMD...: build a derived image once (under the lock); CMD
# must create $IMG/NAME.
e2e_once() {
	n=$1
	shift
	flock 9
	if [ ! -e "$IMG/$n" ]; then
		if ! "$@" > "$RUN/build-$n.log" 2>&1 || [ ! -e "$IMG/$n" ]; then
			flock -u 9
			cat "$RUN/build-$n.log"
			rm -rf "$IMG/$n"
			return 1
		fi
	fi
	flock -u 9
	return 0
}

# e2e_stick: $IMG/stick.img, the ISO dd'd to a USB stick (its size rounded up
# to 1 MiB), built once; a failure to build it ends the scenario
e2e_mkstick() {
	cp "$LIVE/live.iso" "$IMG/stick.img.tmp" &&
	    truncate -s %1M "$IMG/stick.img.tmp" &&
	    mv "$IMG/stick.img.tmp" "$IMG/stick.img"
}
e2e_stick() {
	e2e_once stick.img e2e_mkstick ||
	    { e2e_fail "building the stick image"; e2e_done; }
}

# --- running QEMU -----------------------------------------------------------

# e2e_ovmf [ms]: the pflash arguments of Debian's OVMF (package ovmf), with
# a fresh copy of its variable store for this boot; "ms": the Secure Boot
# build with Microsoft's keys enrolled (needs -machine q35,smm=on and
# e2e_sb_args).
e2e_ovmf() {
	code=/usr/share/OVMF/OVMF_CODE_4M.fd
	vars=/usr/share/OVMF/OVMF_VARS_4M.fd
	if [ "${1:-}" = ms ]; then
		code=/usr/share/OVMF/OVMF_CODE_4M.ms.fd
		vars=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
	fi
	cp "$vars" "$RUN/ovmf-vars-$E2E_SCEN-${1:-plain}.fd" || return 1
	echo "-drive if=pflash,format=raw,unit=0,readonly=on,file=$code -drive if=pflash,format=raw,unit=1,file=$RUN/ovmf-vars-$E2E_SCEN-${1:-plain}.fd"
}
e2e_sb_args="-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on"

# e2e_usb_args IMAGE: a USB stick on an xHCI controller
e2e_usb_args() {
	echo "-device qemu-xhci,id=xhci -drive if=none,id=u,file=$1,format=raw -device usb-storage,bus=xhci.0,drive=u"
}

# e2e_boot NAME [QEMU args...]; E2E_KERNEL/E2E_INITRD override the defaults;
# E2E_NOKERNEL=1 boots from the firmware only (iPXE).
e2e_boot() {
	E2E_NAME=$1
	shift
	E2E_BOOT_FAILED=0
	E2E_LOG=$RUN/$E2E_NAME.console.log
	E2E_ERR=$RUN/$E2E_NAME.qemu.log
	E2E_MON=$RUN/$E2E_NAME.mon
	E2E_FIFO=$RUN/$E2E_NAME.in
	rm -f "$E2E_LOG" "$E2E_ERR" "$E2E_MON" "$E2E_FIFO"
	mkfifo "$E2E_FIFO"
	exec 8<> "$E2E_FIFO"
	: > "$E2E_LOG"
	set -- -accel tcg -m "$E2E_MEM" -nodefaults -no-reboot -display none \
	    -chardev stdio,id=ser0,signal=off -serial chardev:ser0 \
	    -monitor "unix:$E2E_MON,server=on,wait=off" "$@"
	if [ "${E2E_NOKERNEL:-0}" != 1 ]; then
		if [ "$E2E_FW" = seabios ]; then
			set -- "$@" -kernel "${E2E_KERNEL:-$VMLINUZ}"
		else
			set -- "$@" -bios /usr/share/qemu/qboot.rom \
			    -kernel "${E2E_KERNEL:-$VMLINUX}"
		fi
		set -- "$@" -initrd "${E2E_INITRD:-$LIVE/initramfs.img}" \
		    -append "console=ttyS0 ${E2E_QUIET-quiet} $E2E_APPEND"
	fi
	echo "qemu-system-x86_64 $*" > "$E2E_ERR"
	E2E_T0=$(date +%s)
	qemu-system-x86_64 "$@" <&8 >"$E2E_LOG" 2>>"$E2E_ERR" &
	E2E_QPID=$!
}

# e2e_wait TEXT [TIMEOUT]: 0 when the console shows TEXT.
e2e_wait() {
	t=$(( ${2:-60} * E2E_SLOW * 5 ))
	while [ "$t" -gt 0 ]; do
		grep -qF -- "$1" "$E2E_LOG" && return 0
		# a dead end: do not wait for the timeout
		if [ -n "${E2E_ABORT-x}" ] && grep -qE -- \
		    "${E2E_ABORT:-liveroot: halted; |Kernel panic|liveroot: rescue shell}" "$E2E_LOG"; then
			sleep 0.5
			grep -qF -- "$1" "$E2E_LOG"
			return $?
		fi
		if ! kill -0 "$E2E_QPID" 2>/dev/null; then
			grep -qF -- "$1" "$E2E_LOG"
			return $?
		fi
		sleep 0.2
		t=$((t - 1))
	done
	return 1
}

e2e_send() {
	# a line to the serial console
	printf '%s\n' "$1" >&8
}

e2e_monitor() {
	printf '%s\n' "$1" | socat - "UNIX-CONNECT:$E2E_MON" > "$RUN/$E2E_NAME.mon.log" 2>&1
}

# e2e_end [TIMEOUT]: wait for power-off; kill QEMU after TIMEOUT seconds.
e2e_end() {
	t=$(( ${1:-30} * E2E_SLOW * 5 ))
	while [ "$t" -gt 0 ] && kill -0 "$E2E_QPID" 2>/dev/null; do
		sleep 0.2
		t=$((t - 1))
	done
	if kill -0 "$E2E_QPID" 2>/dev/null; then
		kill "$E2E_QPID" 2>/dev/null
		sleep 0.3
		kill -9 "$E2E_QPID" 2>/dev/null
		wait "$E2E_QPID" 2>/dev/null
		E2E_QPID=""
		exec 8>&-
		return 1
	fi
	wait "$E2E_QPID" 2>/dev/null
	E2E_QPID=""
	exec 8>&-
	return 0
}

e2e_transcript() {
	echo "---- boot transcript of $E2E_SCEN/$E2E_NAME ($(( $(date +%s) - E2E_T0 )) s) ----"
	sed 's/\r$//' "$E2E_LOG"
	echo "---- qemu ----"
	cat "$E2E_ERR"
	echo "---- end of $E2E_SCEN/$E2E_NAME ----"
}

e2e_ok() {
	E2E_PASS=$((E2E_PASS + 1))
	echo "ok - $E2E_SCEN: $*"
}

e2e_fail() {
	E2E_FAILS=$((E2E_FAILS + 1))
	E2E_BOOT_FAILED=1
	echo "FAIL - $E2E_SCEN: $*"
	e2e_transcript
}

# e2e_expect TEXT [TIMEOUT] [what]: wait for TEXT, count the result.
e2e_expect() {
	if [ "$E2E_BOOT_FAILED" = 1 ]; then
		E2E_FAILS=$((E2E_FAILS + 1))
		echo "FAIL - $E2E_SCEN: ${3:-$E2E_NAME}: not reached (an earlier step of this boot failed)"
		return 1
	fi
	if e2e_wait "$1" "${2:-60}"; then
		e2e_ok "${3:-$E2E_NAME: saw '$1'}"
		return 0
	fi
	e2e_fail "${3:-$E2E_NAME}: '$1' did not appear within ${2:-60} s"
	return 1
}

e2e_reject() {
	if grep -qF -- "$1" "$E2E_LOG"; then
		e2e_fail "${2:-$E2E_NAME}: '$1' must not appear"
		return 1
	fi
	e2e_ok "${2:-$E2E_NAME: no '$1'}"
	return 0
}

# The usual proof of a good boot: found, handed over, the live system up,
# its check passed, powered off.
e2e_expect_live() {
	check=${1:-none}
	e2e_expect "liveroot: found root image by" 90 "$E2E_NAME: root image found" &&
	e2e_expect "liveroot: handing over to" 60 "$E2E_NAME: hand-off" &&
	e2e_expect "LIVEROOT-MARKER: live system up" 60 "$E2E_NAME: live system up" &&
	e2e_wait "LIVEROOT-CHECK $check:" 120
	if [ "$E2E_BOOT_FAILED" = 1 ]; then
		r=1
	elif grep -qF -- "LIVEROOT-CHECK $check: PASS" "$E2E_LOG"; then
		e2e_ok "$E2E_NAME: check $check passed"
		r=0
	else
		e2e_fail "$E2E_NAME: check $check did not pass"
		r=1
	fi
	if [ "$E2E_BOOT_FAILED" = 1 ]; then
		e2e_end 1
		return 1
	fi
	if ! e2e_end 60; then
		[ $r = 0 ] && e2e_fail "$E2E_NAME: the live system did not power off"
		return 1
	fi
	return $r
}

# The uptime-stamped line "[   3.214] liveroot: TEXT..." -> 3.214
e2e_stamp() {
	grep -F -- "$1" "$E2E_LOG" | head -n 1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'
}

e2e_done() {
	echo "$E2E_PASS passed, $E2E_FAILS failed"
	[ "$E2E_FAILS" = 0 ]
	exit $?
}

# --- the network: a private nginx on loopback, reached from the guest at
# 10.0.2.100:80 through QEMU user networking (restrict=on) and a guestfwd
# that runs socat for each connection -----------------------------------------

# e2e_nginx ROOTDIR: start nginx serving ROOTDIR on 127.0.0.1:$E2E_PORT;
# with E2E_TLS_CERT and E2E_TLS_KEY set, also over TLS on $E2E_TLS_PORT
# (= E2E_PORT + 1).
e2e_nginx() {
	e2e_need nginx nginx-light
	d=$RUN/nginx
	mkdir -p "$d/tmp"
	E2E_PORT=""
	for p in $(seq $((20000 + $$ % 20000)) $((20000 + $$ % 20000 + 50))); do
		if ! grep -q ":$(printf '%04X' "$p") " /proc/net/tcp 2>/dev/null &&
		    ! grep -q ":$(printf '%04X' $((p + 1))) " /proc/net/tcp 2>/dev/null; then
			E2E_PORT=$p
			break
		fi
	done
	[ -n "$E2E_PORT" ] || { e2e_fail "no free port for nginx"; return 1; }
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
		listen 127.0.0.1:$E2E_PORT;
		root $1;
	}
$(if [ -n "${E2E_TLS_CERT:-}" ]; then
	E2E_TLS_PORT=$((E2E_PORT + 1))
	printf '\tserver {\n\t\tlisten 127.0.0.1:%s ssl;\n' "$E2E_TLS_PORT"
	printf '\t\tssl_certificate %s;\n\t\tssl_certificate_key %s;\n' \
	    "$E2E_TLS_CERT" "$E2E_TLS_KEY"
	printf '\t\troot %s;\n\t}\n' "$1"
fi)
}
NGX
	[ -z "${E2E_TLS_CERT:-}" ] || E2E_TLS_PORT=$((E2E_PORT + 1))
	nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" -g 'daemon off;' &
	E2E_NGINX_PID=$!
	E2E_CLEANUP_PIDS="${E2E_CLEANUP_PIDS:-} $E2E_NGINX_PID"
	i=0
	while [ $i -lt 50 ]; do
		if curl -sf -o /dev/null "http://127.0.0.1:$E2E_PORT/" ||
		    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$E2E_PORT/")" = 404 ] ||
		    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$E2E_PORT/")" = 403 ]; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	cat "$d/error.log"
	e2e_fail "nginx did not start"
	return 1
}

# e2e_netdev [CMD]: the -netdev argument; the guest reaches nginx at
# http://10.0.2.100/.  CMD replaces the per-connection socat (commas must be
# doubled for QEMU).  Extra ",key=value" options from E2E_NETOPTS.
e2e_netdev() {
	# socat logs to a file: QEMU hands the command the connection as its
	# stderr too, and a message there would land in the HTTP stream
	cmd=${1:-socat -lf $RUN/socat.log STDIO TCP:127.0.0.1:$E2E_PORT}
	echo "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:$cmd${E2E_NETOPTS:-}"
}
