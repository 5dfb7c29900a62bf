#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# install.sh - `meson install` of this build into a DESTDIR, then the
# installed copy used as a user would use it:
#  - exactly these files, under the configured prefix: bindir/liveroot,
#    libexecdir/liveroot/liveroot-init (PID 1 of an initramfs, not a command),
#    every docs/*.8 in mandir/man8, the bash completion in
#    datadir/bash-completion/completions/liveroot; nothing of freebsd/;
#  - every installed manual page renders with `man --warnings -l` (80
#    columns) without a warning;
#  - bash sources the installed completion and `complete -p liveroot` works;
#  - the installed liveroot mklive builds the bundled tiny root into an ISO
#    and an initramfs whose /init is the installed liveroot-init.
# The mklive runs happen in a private mount namespace (unshare -m, root)
# where the source tree and the build tree are empty (the kernel cache of
# scripts/kernel.sh, inside the source tree, is bind-mounted to $T/kernel
# first), from an empty working directory: the installed copy cannot fall
# back on either tree.  There the configured libexecdir is also replaced by
# an empty one, so that a lone installed `liveroot` is shown to use it and
# nothing else.
set -u
: "${LIVEROOT:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
export LC_ALL=C
T=${TMPDIR:-/tmp}/install.$$
mkdir -p "$T/work" "$T/kernel"
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2
. "$(dirname "$0")/lib.sh"
LIB_TAP=1
LIB_CHECK_OUT=$T/out
PATH=$PATH:/usr/sbin:/sbin
for t in meson python3 bash xorriso mke2fs cpio zstd depmod; do
	command -v $t >/dev/null 2>&1 ||
	    { echo "SKIP: $t is not installed (scripts/install-deps.sh)"; exit 77; }
done
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

# Where this build installs (meson's prefix and directories).
meson introspect "$BUILDDIR" --buildoptions > "$T/opts.json" 2>"$T/out" ||
    { bad "meson introspect $BUILDDIR"; cat "$T/out"; finish; }
eval "$(python3 -c '
import json, os, shlex, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
for k in ("prefix", "bindir", "libexecdir", "mandir", "datadir"):
	print("%s=%s" % (k.upper(),
	    shlex.quote(os.path.normpath(os.path.join(o["prefix"], o[k])))))
' "$T/opts.json")"
LIBEXECDIR=$LIBEXECDIR/liveroot

D=$T/dest
if meson install -C "$BUILDDIR" --no-rebuild --destdir "$D" > "$T/install.log" 2>&1; then
	ok "meson install --destdir"
else
	bad "meson install --destdir"
	cat "$T/install.log"
	finish
fi
LR=$D$BINDIR/liveroot
INIT=$D$LIBEXECDIR/liveroot-init

(cd "$D" && find . ! -type d | sed 's|^\.||' | sort) > "$T/files"
{
	echo "$BINDIR/liveroot"
	echo "$LIBEXECDIR/liveroot-init"
	for m in "$SRCDIR"/docs/*.8; do
		echo "$MANDIR/man8/${m##*/}"
	done
	echo "$DATADIR/bash-completion/completions/liveroot"
} | sort > "$T/want"
if cmp -s "$T/want" "$T/files"; then
	ok "installs liveroot, liveroot-init in $LIBEXECDIR, $(ls "$SRCDIR"/docs/*.8 | wc -l) man pages, the completion, and nothing else"
else
	bad "the installed files differ (< wanted, > installed under $D):"
	diff "$T/want" "$T/files"
fi
check "no liveroot-init in bindir or sbindir" sh -c \
    "! ls '$D$PREFIX'/bin/liveroot-init '$D$PREFIX'/sbin/liveroot-init 2>/dev/null | grep -q ."
check "the installed liveroot-init is this build's" cmp "$INIT" "$BUILDDIR/cmd/liveroot-init"

# The installed liveroot answers; mklive --help names where liveroot-init is.
check "installed liveroot --help" "$LR" --help
"$LR" mklive --help > "$T/mkhelp" 2>&1
check "mklive --help names $LIBEXECDIR" grep -qF "$LIBEXECDIR" "$T/mkhelp"

# Every installed manual page renders, without a warning.
if command -v man >/dev/null 2>&1; then
	for p in "$D$MANDIR"/man8/*.8; do
		MANWIDTH=80 man --warnings -l "$p" > "$T/man.txt" 2> "$T/man.err"
		if [ -s "$T/man.err" ] || [ ! -s "$T/man.txt" ]; then
			bad "man -l ${p##*/}: renders with warnings or not at all:"
			cat "$T/man.err"
		else
			ok "man -l ${p##*/} renders without warnings"
		fi
	done
else
	echo "SKIP: the man pages are not rendered: man is not installed (Debian package man-db)"
fi
check "liveroot(8) says where liveroot-init is installed" \
    grep -q "libexec/liveroot/liveroot-init" "$D$MANDIR/man8/liveroot.8"

# The installed completion, as bash loads it.
C=$D$DATADIR/bash-completion/completions/liveroot
check "the installed completion is scripts/liveroot.bash-completion" \
    cmp "$C" "$SRCDIR/scripts/liveroot.bash-completion"
check "bash sources the installed completion: complete -p liveroot" \
    bash -c '. "$1" && complete -p liveroot' sh "$C"

# --- the installed mklive, with the source and build trees out of reach ---
eval "$(sh "$SRCDIR/scripts/kernel.sh")" ||
    { bad "scripts/kernel.sh (the kernel cache)"; finish; }
KDIR=$(dirname "$VMLINUX")
sh "$SRCDIR/examples/tiny-root/build.sh" "$T/tree" > "$T/out" 2>&1
check "the example tree" test -x "$T/tree/sbin/init"

HIDE=1
why=""
case $T in
"$SRCDIR"/*|"$BUILDDIR"/*) HIDE=0; why="the scratch directory $T is inside the tree" ;;
esac
if [ $HIDE = 1 ] && ! unshare -m true 2>/dev/null; then
	HIDE=0
	why="unshare -m failed (it needs root)"
fi
# The lone-liveroot check puts an empty tmpfs on the nearest existing
# directory at or above libexecdir, and the installed libexec/liveroot in
# it: not where the system's own programs or this test's files live.
HIDE_AT=$LIBEXECDIR
while [ ! -d "$HIDE_AT" ]; do
	HIDE_AT=$(dirname "$HIDE_AT")
done
case $HIDE_AT in
/|/usr|/usr/lib*|/usr/libexec|/usr/bin|/usr/sbin|/usr/share|/lib*|/bin|/sbin|/etc|/var|/tmp)
	HIDE_AT="" ;;
esac
case $T/ in "$HIDE_AT"/*) HIDE_AT="" ;; esac
export T KDIR SRCDIR BUILDDIR LIBEXECDIR HIDE_AT

# hidden [LIBEXEC_SRC] -- CMD...: CMD in $T/work, in a mount namespace where
# the build tree and the source tree are empty (the kernel cache stays at
# $T/kernel); with LIBEXEC_SRC, $HIDE_AT is empty too but for
# $LIBEXECDIR, a bind mount of LIBEXEC_SRC.
hidden() {
	lx=""
	[ "$1" = -- ] || { lx=$1; shift; }
	shift
	if [ $HIDE = 0 ]; then
		(cd "$T/work" && "$@")
		return
	fi
	LX=$lx unshare -m sh -ec '
		mount --make-rprivate /
		mount --bind "$KDIR" "$T/kernel"
		for d in "$BUILDDIR" "$SRCDIR"; do
			[ ! -d "$d" ] || mount -t tmpfs -o size=64k,mode=0755 lr-hidden "$d"
		done
		if [ -n "$LX" ]; then
			mount -t tmpfs -o size=64k,mode=0755 lr-hidden "$HIDE_AT"
			mkdir -p "$LIBEXECDIR"
			mount --bind "$LX" "$LIBEXECDIR"
		fi
		cd "$T/work"
		exec "$@"' sh "$@"
}
if [ $HIDE = 1 ]; then
	K=$T/kernel
	check "the hidden namespace: no source tree, the kernel cache reachable" \
	    hidden -- sh -c "[ ! -e '$SRCDIR/meson.build' ] && [ ! -e '$BUILDDIR/build.ninja' ] && [ -s '$T/kernel/KVER' ]"
else
	K=$KDIR
	echo "SKIP: the source and build trees are not hidden from the installed copy: $why"
fi

unset LIVEROOT_CACHE
# the kernel named as a user names one: --kernel and --modules-dir
if hidden -- "$LR" mklive --kernel "$K/vmlinuz" --modules-dir "$K/modules/$KVER" \
    -L INSTALLED --free 16M -o "$T/live" "$T/tree" > "$T/mklive.log" 2>&1; then
	ok "the installed liveroot mklive builds the tiny root"
else
	bad "the installed liveroot mklive builds the tiny root:"
	cat "$T/mklive.log"
	finish
fi
check "live.iso and initramfs.img are there" \
    test -s "$T/live/live.iso" -a -s "$T/live/initramfs.img"
xorriso -osirrox on -indev "$T/live/live.iso" -extract /boot/initramfs.img "$T/i.img" \
    -extract /rootfs.uzip "$T/r.uzip" > "$T/out" 2>&1
check "the ISO holds this initramfs and rootfs.uzip" \
    sh -c "cmp '$T/i.img' '$T/live/initramfs.img' && cmp '$T/r.uzip' '$T/live/rootfs.uzip'"
check "the initramfs holds the modules of --modules-dir ($KVER)" \
    sh -c "zstd -dc '$T/live/initramfs.img' | cpio -it --quiet | grep -q '^lib/modules/$KVER/modules.dep$'"
mkdir -p "$T/iroot"
(cd "$T/iroot" && zstd -dc "$T/live/initramfs.img" | cpio -id --quiet init) 2>"$T/out"
check "the initramfs /init is the installed liveroot-init" cmp "$T/iroot/init" "$INIT"

if [ $HIDE = 1 ] && [ -n "$HIDE_AT" ]; then
	# liveroot alone (no libexec beside it): the configured libexecdir
	mkdir -p "$T/lone"
	cp "$LR" "$T/lone/liveroot"
	if hidden "$D$LIBEXECDIR" -- "$T/lone/liveroot" mklive --initramfs-only \
	    --kernel-dir "$K" -o "$T/lone-out" > "$T/lone.log" 2>&1; then
		rm -rf "$T/iroot" && mkdir -p "$T/iroot"
		(cd "$T/iroot" && zstd -dc "$T/lone-out/initramfs.img" |
		    cpio -id --quiet init) 2>"$T/out"
		check "a lone liveroot takes liveroot-init from $LIBEXECDIR" \
		    cmp "$T/iroot/init" "$INIT"
	else
		bad "a lone liveroot mklive --initramfs-only with $LIBEXECDIR:"
		cat "$T/lone.log"
	fi
	# and with nothing there, it says where it looked and how to fix it
	mkdir -p "$T/nolibexec"
	expect_err "no liveroot-init anywhere: the error names $LIBEXECDIR and --init" \
	    2 "nor in $LIBEXECDIR: install liveroot" \
	    hidden "$T/nolibexec" -- "$T/lone/liveroot" mklive --initramfs-only \
	    --kernel-dir "$K" -o "$T/none-out"
	grep -q -- "--init" err.txt
	check "... and the error names --init" test $? = 0
elif [ $HIDE = 1 ]; then
	echo "SKIP: a lone liveroot's use of $LIBEXECDIR is not checked: it would hide a system directory (prefix $PREFIX)"
fi

finish
