#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# build.sh - make the example live root tree (a few MB) from Debian packages
# at build time; nothing binary is committed.
#
#   examples/tiny-root/build.sh OUTDIR [EXTRA_DIR ...]
#
# The tree: busybox (from the busybox-static package) with its applet links,
# the /sbin/init of this directory (init.sh), the usual empty mount points.
# Each EXTRA_DIR is copied over the tree afterwards (the e2e tests add a test
# module and a firmware file this way).  OUTDIR is replaced.
#
# busybox comes from the installed busybox-static package when present,
# else from `apt-get download busybox-static` into the cache
# ($LIVEROOT_CACHE or REPO/cache).
set -eu

die() {
	echo "tiny-root: $*" >&2
	exit 2
}

[ $# -ge 1 ] || die "usage: build.sh OUTDIR [EXTRA_DIR ...]"
out=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${LIVEROOT_CACHE:-$repo/cache}

bb=""
if [ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null || true)" = "install ok installed" ] &&
    [ -x /bin/busybox ]; then
	bb=/bin/busybox
else
	mkdir -p "$cache/busybox"
	if [ ! -x "$cache/busybox/root/bin/busybox" ]; then
		(cd "$cache/busybox" && rm -f ./*.deb && apt-get download busybox-static >/dev/null) ||
		    die "apt-get download busybox-static failed: install it (apt-get install busybox-static)"
		rm -rf "$cache/busybox/root"
		dpkg -x "$cache"/busybox/busybox-static_*.deb "$cache/busybox/root"
	fi
	bb=$cache/busybox/root/bin/busybox
fi
file -L "$bb" 2>/dev/null | grep -q 'statically linked' ||
    ldd "$bb" 2>&1 | grep -q 'not a dynamic' ||
    die "$bb is not statically linked: the example root needs busybox-static"

rm -rf "$out"
mkdir -p "$out"
cd "$out"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev run tmp root mnt var/tmp \
    lib/firmware lib/modules
chmod 1777 tmp var/tmp
chmod 700 root
cp "$bb" bin/busybox
chmod 755 bin/busybox
for a in $("$bb" --list-full); do
	case "$a" in
	sbin/init|linuxrc) continue ;;
	esac
	[ -e "$a" ] || ln -s /bin/busybox "$a"
done
install -m 755 "$here/init.sh" sbin/init
echo liveroot-example > etc/hostname
printf 'root:x:0:0:root:/root:/bin/sh\n' > etc/passwd
printf 'root:x:0:\n' > etc/group
printf 'liveroot example live system\n' > etc/issue
# an OS tree by the os-release(5) rule (systemd's switch-root, used by the
# dracut comparison in bench/boot, insists on it)
printf 'NAME="liveroot example"\nID=liveroot-example\nPRETTY_NAME="liveroot example live system"\n' > etc/os-release

for extra in "$@"; do
	[ -d "$extra" ] || die "$extra: not a directory"
	cp -a "$extra"/. .
done
echo "tiny-root: built $out ($(du -sk . | cut -f1) KiB)" >&2
