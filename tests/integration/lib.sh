# SPDX-License-Identifier: BSD-2-Clause
#
# lib.sh - sourced by the integration scripts (`. "$(dirname "$0")/lib.sh"`):
# the pass/fail counters and the checks they share.  Settings, read when a
# function runs:
#   LIB_TAP=1        ok prints "ok - WHAT" and bad "FAIL - WHAT"; without
#                    it ok is silent and bad prints "FAIL: WHAT"
#   LIB_ERR=1        bad prints on stderr
#   LIB_CHECK_OUT=F  check sends the command's output to F, shown on failure
pass=0
fail=0
ok() {
	pass=$((pass + 1))
	[ -z "${LIB_TAP:-}" ] || echo "ok - $*"
}
bad() {
	fail=$((fail + 1))
	if [ -n "${LIB_TAP:-}" ]; then lib_m="FAIL - $*"; else lib_m="FAIL: $*"; fi
	if [ -n "${LIB_ERR:-}" ]; then echo "$lib_m" >&2; else echo "$lib_m"; fi
}
# check DESCRIPTION COMMAND...: one pass or one failure
check() {
	d=$1
	shift
	if [ -z "${LIB_CHECK_OUT:-}" ]; then
		if "$@"; then ok "$d"; else bad "$d"; fi
	elif "$@" >"$LIB_CHECK_OUT" 2>&1; then
		ok "$d"
	else
		bad "$d"
		cat "$LIB_CHECK_OUT"
	fi
}
# expect_err DESCRIPTION WANT_STATUS MESSAGE_SUBSTRING COMMAND...: the
# command exits WANT_STATUS with MESSAGE_SUBSTRING on stderr (out.txt and
# err.txt in the current directory keep its output)
expect_err() {
	d=$1; want=$2; msg=$3; shift 3
	"$@" >out.txt 2>err.txt
	st=$?
	if [ "$st" -ne "$want" ]; then
		bad "$d: exit $st, want $want ($(cat err.txt))"
	elif ! grep -qF -- "$msg" err.txt; then
		bad "$d: message lacks '$msg': $(cat err.txt)"
	else
		ok
	fi
}
# need_tools HINT TOOL...: "SKIP: TOOL is not installed (HINT)" and exit 77
# when a tool is absent
need_tools() {
	lib_hint=$1
	shift
	for lib_t in "$@"; do
		if ! command -v "$lib_t" >/dev/null 2>&1; then
			echo "SKIP: $lib_t is not installed ($lib_hint)"
			exit 77
		fi
	done
}
# skip MESSAGE: "LIB_NAME: MESSAGE" on stderr and exit 77 (1 when CI=true:
# there every tool is installed)
skip() {
	echo "${LIB_NAME:+$LIB_NAME: }$*" >&2
	[ "${CI:-}" = true ] && exit 1
	exit 77
}
# wait_started LOG TEST...: wait (10 s at most) until TEST succeeds while
# the server $SERVER_PID lives; else show $W/LOG.err on stderr, return 1
wait_started() {
	lib_log=$1
	shift
	lib_i=0
	while ! "$@"; do
		lib_i=$((lib_i + 1))
		if [ $lib_i -gt 200 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "server did not start:" >&2
			cat "$W/$lib_log.err" >&2
			return 1
		fi
		sleep 0.05
	done
	return 0
}
# stop_server: SIGTERM to $SERVER_PID; its exit status
stop_server() {
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID"
	rc=$?
	SERVER_PID=""
	return $rc
}
# jget FILE EXPR: a python expression over the JSON object j
jget() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
# reassemble DEVICE JSON KEY OUT: concatenate the extents j[KEY] of DEVICE
reassemble() {
	python3 - "$1" "$2" "$3" "$4" <<'EOF'
import json, sys
dev, js, key, out = sys.argv[1:5]
j = json.load(open(js))
with open(dev, 'rb') as f, open(out, 'wb') as o:
    pos = 0
    for e in j[key]:
        assert e['voff'] == pos, (e, pos)
        f.seek(e['loff'])
        b = f.read(e['len'])
        assert len(b) == e['len']
        o.write(b)
        pos += e['len']
EOF
}
