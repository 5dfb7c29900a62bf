#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# standin.sh - a RECORDING STAND-IN for a FreeBSD base tool.  Not FreeBSD,
# and not a FreeBSD run: tests/integration/plan_freebsd_run.sh links this
# file under each tool's name (mdconfig, geom, gnop, kldload, mount, ...)
# into a directory, gives that directory to a generated init_script as
# LIVEROOT_PATH (its whole PATH), runs the script with sh on Linux and
# compares the log with tests/golden/freebsd/NAME.calls: the order and the
# arguments of the calls, nothing more.
#
# Every call appends "NAME ARGS" to $STANDIN_LOG and changes nothing else
# (mkdir, mount, dd... only log).  A stand-in whose input is a pipe reads it
# to the end before it logs, so a pipeline logs in its own order.  What the
# script reads from a tool:
#   diskinfo DEV     "DEV 512 $STANDIN_SIZE 0 0"
#   fetch -s URL     $STANDIN_SIZE        stat -f %z FILE  $STANDIN_SIZE
#   sha256 -q        $STANDIN_SHA256      sysctl -n ...    $STANDIN_DISKS
#   awk, head        the real tool (they only filter)
# Failures on demand:
#   STANDIN_FAIL="NAME:WORD ..."  NAME fails when WORD is one of its
#                                 arguments (kldload:geom_rowr, diskinfo:/dev/da0)
#   STANDIN_LATE="DEV:N"          diskinfo DEV fails its first N calls
# STANDIN_STATE is a scratch directory for the counters.
PATH=/usr/bin:/bin
export PATH
name=${0##*/}
: "${STANDIN_LOG:?}" "${STANDIN_STATE:?}"
in=
if [ -p /dev/stdin ]; then
	in=$(mktemp "$STANDIN_STATE/in.XXXXXX")
	cat > "$in"
fi
printf '%s\n' "$name${*:+ $*}" >> "$STANDIN_LOG"

fails() {
	for f in ${STANDIN_FAIL:-}; do
		[ "${f%%:*}" = "$name" ] || continue
		for a in "$@"; do
			[ "$a" = "${f#*:}" ] && return 0
		done
	done
	return 1
}
if fails "$@"; then
	echo "$name: failing on purpose (STANDIN_FAIL)" >&2
	exit 1
fi

size=${STANDIN_SIZE:-268435456}
case $name in
diskinfo)
	if [ -n "${STANDIN_LATE:-}" ] && [ "$1" = "${STANDIN_LATE%:*}" ]; then
		c=$(cat "$STANDIN_STATE/late" 2>/dev/null || echo 0)
		echo $((c + 1)) > "$STANDIN_STATE/late"
		if [ "$c" -lt "${STANDIN_LATE##*:}" ]; then
			echo "diskinfo: $1: No such file or directory" >&2
			exit 1
		fi
	fi
	printf '%s\t512\t%s\t0\t0\n' "$1" "$size"
	;;
fetch)
	[ "$1" = -s ] && echo "$size"
	;;
stat)
	echo "$size"
	;;
sha256)
	echo "${STANDIN_SHA256:-0000000000000000000000000000000000000000000000000000000000000000}"
	;;
sysctl)
	echo "${STANDIN_DISKS:-cd0 ada0}"
	;;
awk|head)
	if [ -n "$in" ]; then
		"$name" "$@" < "$in"
		st=$?
		rm -f "$in"
		exit $st
	fi
	exec "$name" "$@" < /dev/null
	;;
esac
[ -n "$in" ] && rm -f "$in"
exit 0
