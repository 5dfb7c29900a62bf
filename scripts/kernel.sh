#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# kernel.sh - fetch Debian's own kernel (the linux-image-6.1.0-NN-amd64 that
# linux-image-amd64 depends on) into a cache for the QEMU boots of the e2e
# tests and `make demo`.  Nothing is installed: the .deb is taken with
# `apt-get download` and unpacked with `dpkg -x`; /boot is never touched.
#
# Result (under $LIVEROOT_CACHE/kernel, default REPO/cache/kernel):
#   KVER                      the kernel release, e.g. 6.1.0-56-amd64
#   root/                     the unpacked package (boot/, lib/modules/KVER/)
#   vmlinuz                   the bzImage (SeaBIOS / iPXE boots)
#   vmlinux                   the ELF kernel extracted from it (PVH + qboot)
#   modules -> root/lib/modules  with modules.dep made by depmod -b
# Prints KVER=, VMLINUZ=, VMLINUX=, MODULES= lines on stdout (sourceable).
#
# Idempotent: when the stamp file names the wanted version, it only prints.
# The headers check: the firmware e2e test builds a module against
# /usr/src/linux-headers-KVER; a mismatch is reported (not fatal here).
set -eu

die() {
	echo "kernel.sh: $*" >&2
	exit 2
}

need() {
	command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install the Debian package $2 (scripts/install-deps.sh)"
}

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${LIVEROOT_CACHE:-$here/cache}
kdir=$cache/kernel
mkdir -p "$kdir"

need apt-cache apt
need dpkg dpkg
need depmod kmod

# Which versioned package does the meta package want?
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
if [ -z "$pkg" ]; then
	if [ -f "$kdir/stamp" ]; then
		pkg=$(cat "$kdir/stamp")
	else
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
	fi
fi
[ -n "$pkg" ] || die "cannot tell which kernel linux-image-amd64 depends on: run 'apt-get update' and retry"
kver=${pkg#linux-image-}

if [ ! -f "$kdir/stamp" ] || [ "$(cat "$kdir/stamp")" != "$pkg" ] ||
    [ ! -s "$kdir/vmlinux" ]; then
	echo "kernel.sh: fetching $pkg into $kdir" >&2
	tmp=$kdir/tmp.$$
	rm -rf "$tmp" "$kdir/root" "$kdir/vmlinux" "$kdir/vmlinuz" "$kdir/stamp"
	mkdir -p "$tmp"
	trap 'rm -rf "$tmp"' EXIT INT TERM
	(cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) ||
	    { apt-get update -qq >/dev/null 2>&1 || true;
	      (cd "$tmp" && apt-get download "$pkg" >&2); } ||
	    die "apt-get download $pkg failed (network or apt sources?)"
	deb=$(ls "$tmp"/*.deb | head -n 1)
	dpkg -x "$deb" "$tmp/root" || die "dpkg -x $deb failed"
	[ -f "$tmp/root/boot/vmlinuz-$kver" ] || die "$deb holds no boot/vmlinuz-$kver"
	depmod -b "$tmp/root" "$kver" || die "depmod -b failed"

	# Extract the ELF vmlinux from the bzImage the way the kernel's
	# scripts/extract-vmlinux does: find each compression magic, try to
	# decompress from there, keep the first result that is an ELF.
	bz=$tmp/root/boot/vmlinuz-$kver
	try() {
		# $1 = magic (printf octal escapes), $2 = decompressor command
		for pos in $(LC_ALL=C grep -abo "$(printf "$1")" "$bz" 2>/dev/null | cut -d: -f1); do
			tail -c +$((pos + 1)) "$bz" | $2 > "$tmp/vmlinux" 2>/dev/null || true
			if [ "$(head -c 4 "$tmp/vmlinux" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
				return 0
			fi
		done
		return 1
	}
	try '\037\213\010' 'gzip -dc' ||
	    try '\3757zXZ\000' 'xz -dc' ||
	    try '\050\265\057\375' 'zstd -dc' ||
	    try 'BZh' 'bzip2 -dc' ||
	    try '\135\000\000\000' 'xz -dc --format=lzma' ||
	    die "no ELF vmlinux found inside $bz (unknown compression?)"
	mv "$tmp/root" "$kdir/root"
	mv "$tmp/vmlinux" "$kdir/vmlinux"
	cp "$kdir/root/boot/vmlinuz-$kver" "$kdir/vmlinuz"
	ln -sfn root/lib/modules "$kdir/modules"
	echo "$kver" > "$kdir/KVER"
	echo "$pkg" > "$kdir/stamp"
	rm -rf "$tmp"
	trap - EXIT INT TERM
fi

if [ ! -d "/usr/src/linux-headers-$kver" ]; then
	echo "kernel.sh: warning: /usr/src/linux-headers-$kver is missing: the firmware e2e test needs linux-headers-amd64 at the same version (apt-get install linux-headers-$kver)" >&2
fi

echo "KVER=$kver"
echo "VMLINUZ=$kdir/vmlinuz"
echo "VMLINUX=$kdir/vmlinux"
echo "MODULES=$kdir/root/lib/modules/$kver"
