#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Install every build and test dependency of liveroot from Debian packages.
# Idempotent and fast when everything is present: dpkg-query decides, apt-get
# runs only for what is missing.  Needs root (or sudo) only when something is
# missing.
set -eu

PKGS="
build-essential meson ninja-build pkg-config clang llvm libclang-rt-14-dev
zlib1g-dev liblzma-dev libzstd-dev libcurl4-openssl-dev libssl-dev libfuse3-dev fuse3
e2fsprogs xz-utils zstd squashfs-tools cloop-utils time makefs
xorriso exfatprogs exfat-fuse dosfstools mtools gdisk fdisk
libnbd-bin libnbd-dev nbdkit qemu-utils qemu-system-x86 socat nginx-light busybox-static
libsodium-dev signify-openbsd
linux-headers-amd64 cpio kmod curl ca-certificates openssl lld
grub-common grub-pc-bin grub-efi-amd64-bin grub-efi-amd64-signed shim-signed ovmf man-db ntfs-3g
erofs-utils xfsprogs btrfs-progs f2fs-tools debootstrap
"
# Peers that only the benchmarks run (bench/*/run.sh call this with --bench).
BENCH_PKGS="dracut-core dracut-live dracut-network debootstrap"
if [ "${1:-}" = "--bench" ]; then
	PKGS="$PKGS $BENCH_PKGS"
fi

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
