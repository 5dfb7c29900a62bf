#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# completion.sh - scripts/liveroot.bash-completion against the program, so
# the completion cannot rot: its verbs are the verbs of `liveroot help`;
# for every verb, every long option that `liveroot VERB --help` names is
# offered (completing "--" after the verb), every option offered is named
# in that --help (-h/--help are always accepted, cli_wants_help), and an
# option that --help shows with an argument ("--label LABEL", "--tcp
# [HOST:]PORT") takes one in the completion, and no other does.  Runs the
# completion function in bash, as bash runs it on TAB.
set -u
: "${LIVEROOT:?}" "${SRCDIR:?}"
export LC_ALL=C
T=${TMPDIR:-/tmp}/completion.$$
mkdir -p "$T/empty"
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
LIB_TAP=1
need_tools "Debian package bash" bash
COMP=${LIVEROOT_COMPLETION:-$SRCDIR/scripts/liveroot.bash-completion}

# complete WORD...: what TAB offers for the last WORD of "liveroot WORD...",
# one per line, run in an empty directory (no file names get in the way)
complete_words() {
	(cd "$T/empty" && bash -c '
		. "$1" || exit 3
		shift
		spec=$(complete -p liveroot) || exit 4
		fn=${spec#*-F }
		fn=${fn%% *}
		COMP_WORDS=(liveroot "$@")
		COMP_CWORD=$#
		COMP_LINE="liveroot $*"
		COMP_POINT=${#COMP_LINE}
		"$fn" liveroot "${COMP_WORDS[COMP_CWORD]}" \
		    "${COMP_WORDS[COMP_CWORD-1]}"
		for w in "${COMPREPLY[@]}"; do echo "$w"; done' sh "$COMP" "$@")
}

check "bash sources the completion and 'complete -p liveroot' names it" \
    bash -c '. "$1" && complete -p liveroot | grep -q "^complete -F [_a-z]* liveroot$"' \
    sh "$COMP"

verbs=$("$LIVEROOT" help | awk '/^verbs:/ { f = 1; next } f && /^  [a-z]/ { print $1 }')
check "liveroot help lists verbs" test -n "$verbs"
complete_words "" | grep -v '^-' | sort > "$T/cverbs"
echo "$verbs" | sort > "$T/verbs"
if cmp -s "$T/verbs" "$T/cverbs"; then
	ok "the completion's verbs are those of liveroot help"
else
	bad "the completion's verbs differ from liveroot help (< help, > completion):"
	diff "$T/verbs" "$T/cverbs"
fi

for v in $verbs; do
	"$LIVEROOT" "$v" --help > "$T/help" 2>&1
	# quoted text names other commands ('liveroot serve --overlay UPPER')
	sed "s/'[^']*'//g" "$T/help" > "$T/help.own"
	grep -oE -- '(^|[^A-Za-z0-9-])--[a-z0-9][a-z0-9-]*' "$T/help.own" |
	    sed 's/^[^-]*//' | sort -u > "$T/hlong"
	# options shown with an argument: one space, then a word that starts
	# with a capital letter, or "[" and one ("[HOST:]PORT")
	grep -oE -- '(^|[^A-Za-z0-9-])--[a-z0-9][a-z0-9-]* \[?[A-Z]' "$T/help.own" |
	    sed 's/^[^-]*//; s/ .*//' | sort -u > "$T/harg"
	complete_words "$v" -- 2>&1 | sort -u > "$T/clong"
	complete_words "$v" - 2>&1 | sort -u > "$T/call"
	missing=$(comm -23 "$T/hlong" "$T/clong" | tr '\n' ' ')
	if [ -z "$missing" ]; then
		ok "$v: every long option of --help is completed"
	else
		bad "$v: --help names options the completion lacks: $missing"
	fi
	extra=""
	for o in $(cat "$T/call"); do
		case $o in -h|--help) continue ;; esac
		grep -qE -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|\$)" "$T/help.own" ||
		    extra="$extra $o"
	done
	if [ -z "$extra" ]; then
		ok "$v: every option completed is in --help"
	else
		bad "$v: the completion offers options --help does not name:$extra"
	fi
	# an option that takes an argument offers no options after it
	: > "$T/carg"
	for o in $(grep -- '^--' "$T/call"); do
		complete_words "$v" "$o" - | grep -q -- '^-' || echo "$o" >> "$T/carg"
	done
	sort -u -o "$T/carg" "$T/carg"
	if cmp -s "$T/harg" "$T/carg"; then
		ok "$v: the options taking an argument are those of --help"
	else
		bad "$v: options taking an argument differ (< --help, > completion):"
		diff "$T/harg" "$T/carg"
	fi
done

# A few completions as a user meets them
r=$(complete_words mk | tr '\n' ' ')
check "mk<TAB> offers mkuzip and mklive ($r)" test "$r" = "mkuzip mklive "
r=$(complete_words mklive --codec "" | tr '\n' ' ')
check "mklive --codec <TAB> offers the codecs ($r)" test "$r" = "zstd zlib lzma "
# bash splits "--compress=g" at the '=' (COMP_WORDBREAKS)
r=$(complete_words mklive --compress = g | tr '\n' ' ')
check "mklive --compress=g<TAB> offers gzip ($r)" test "$r" = "gzip "
r=$(complete_words locate --strategy local,v | tr '\n' ' ')
check "locate --strategy local,v<TAB> ($r)" test "$r" = "local,ventoy "
r=$(complete_words uzip -w 2 "" | tr '\n' ' ')
check "uzip -w 2 <TAB> offers the operations ($r)" test "$r" = "info check extract hashes "
mkdir -p "$T/empty/adir"
: > "$T/empty/afile"
r=$(complete_words mklive -o "" | tr '\n' ' ')
check "mklive -o <TAB> offers directories only ($r)" test "$r" = "adir "
r=$(complete_words inspect "" | sort | tr '\n' ' ')
check "inspect <TAB> offers files ($r)" test "$r" = "adir afile "
rm -rf "$T/empty/adir" "$T/empty/afile"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
