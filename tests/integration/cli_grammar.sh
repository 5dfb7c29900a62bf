#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# cli_grammar.sh - one command-line grammar for every verb of `liveroot`:
#  - every verb listed by `liveroot help` answers --help with its usage on
#    stdout and exit 0;
#  - an unknown option is refused with exit 2 and ONE error line of the
#    form "liveroot VERB: ..." (no getopt-style "uzip: invalid option");
#  - options are accepted after the operands (regression: `liveroot uzip
#    info IMAGE --json` printed the usage and failed);
#  - -q/--quiet silences the verbs that print progress or results;
#  - mkuzip --help names -L.
set -u
: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
W=$(mktemp -d "${TMPDIR:-/tmp}/cli_grammar.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
cd "$W" || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { d=$1; shift; if "$@"; then ok; else bad "$d"; fi; }

verbs=$("$LIVEROOT" help | sed -n '/^verbs:/,/^$/p' | awk 'NF && !/^verbs:/ {print $1}')
check "liveroot help lists the verbs" test -n "$verbs"
for v in $verbs; do
	"$LIVEROOT" "$v" --help >out.txt 2>err.txt
	st=$?
	check "$v --help: exit 0 (got $st)" test "$st" = 0
	case $v in help|version) continue ;; esac
	check "$v --help: usage on stdout" grep -q "usage: liveroot $v" out.txt
	"$LIVEROOT" "$v" --no-such-option operand >out.txt 2>err.txt
	st=$?
	check "$v --no-such-option: exit 2 (got $st)" test "$st" = 2
	check "$v --no-such-option: the error has the form 'liveroot $v: ...' ($(head -n 1 err.txt))" \
	    sh -c "head -n 1 err.txt | grep -q '^liveroot $v: .*no-such-option'"
	check "$v --no-such-option: one error line, no usage dump ($(wc -l <err.txt) lines)" \
	    test "$(wc -l <err.txt)" -le 2
done

# Options after operands, and --quiet.
head -c 300000 /dev/urandom >in.bin
check "mkuzip IN -o OUT -q" "$LIVEROOT" mkuzip in.bin -o img.uzip -q
"$LIVEROOT" mkuzip in.bin -q -o q.uzip >out.txt 2>err.txt
check "mkuzip -q: no output at all" test ! -s out.txt -a ! -s err.txt
"$LIVEROOT" uzip info img.uzip --json >out.txt 2>err.txt
check "uzip info IMAGE --json (option after the operand)" grep -q '"codec":"zlib"' out.txt
"$LIVEROOT" uzip check img.uzip -q >out.txt 2>err.txt
st=$?
check "uzip check IMAGE -q: exit 0, silent" test "$st" = 0 -a ! -s out.txt -a ! -s err.txt
"$LIVEROOT" uzip extract img.uzip out.bin --workers 2 -q
check "uzip extract IMAGE OUT --workers 2 -q" cmp -s -n 300000 in.bin out.bin
mkdir -p isoroot && cp img.uzip isoroot/rootfs.uzip &&
    xorriso -as mkisofs -R -V LIVE_CLI -o live.iso isoroot >/dev/null 2>&1
"$LIVEROOT" locate live.iso --json >out.txt 2>err.txt
check "locate DEVICE --json" grep -q '"found": *true' out.txt
"$LIVEROOT" locate live.iso -q >out.txt 2>err.txt
st=$?
check "locate DEVICE -q: exit 0, silent" test "$st" = 0 -a ! -s out.txt -a ! -s err.txt
"$LIVEROOT" locate in.bin -q >out.txt 2>err.txt
st=$?
check "locate -q, not found: exit 1, silent" test "$st" = 1 -a ! -s out.txt -a ! -s err.txt
"$LIVEROOT" inspect live.iso --json >out.txt 2>err.txt
check "inspect DEVICE --json" grep -q 'LIVE_CLI' out.txt
"$LIVEROOT" init-plan "live.label=X" --json >out.txt 2>err.txt
check "init-plan CMDLINE --json" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' out.txt
"$LIVEROOT" mkuzip --help >out.txt
check "mkuzip --help lists -L" grep -q -- '-L ' out.txt
check "mkuzip usage line has L" grep -q 'mkuzip \[-d[A-Za-z]*L' out.txt
"$LIVEROOT" uzip check -w >out.txt 2>err.txt
check "a missing option argument is named" grep -q "^liveroot uzip: option '-w' needs an argument" err.txt

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
