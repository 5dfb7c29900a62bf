#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# mklive_freebsd.sh - `liveroot mklive --platform freebsd TREE`: the cdroot
# tree a FreeBSD host finishes.  system.uzip decompresses (liveroot uzip
# extract) to a UFS2 image (the superblock magic, where FreeBSD looks for
# it: Debian's makefs cannot read an image back), loader.conf has the
# ramdisk and module lines, the init_script passes `sh -n`, README.freebsd
# names the FreeBSD commands, two builds with SOURCE_DATE_EPOCH give the
# same system.uzip, and a tree without /sbin/init is refused by name.  No
# kernel cache is needed.
set -u
: "${LIVEROOT:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
T=${TMPDIR:-/tmp}/mklive_freebsd.$$
mkdir -p "$T"
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
LIB_TAP=1
LIB_CHECK_OUT=$T/check.out
need_tools "Debian package makefs" makefs
need_tools "coreutils" sha256sum od
cd "$T" || exit 1

# a small tree: the example's files and an /sbin/init (the live root's)
mkdir -p tree/sbin tree/etc tree/bin
cp "$SRCDIR/examples/tiny-root/init.sh" tree/etc/rc
printf '#!/bin/sh\nexec /bin/sh /etc/rc\n' > tree/sbin/init
chmod 755 tree/sbin/init
head -c 300000 /dev/urandom > tree/bin/blob
echo liveroot-ffs-marker-42 > tree/etc/marker
touch -d @1600000000 tree/etc/marker tree/etc/rc tree/sbin/init tree/bin/blob

export SOURCE_DATE_EPOCH=1700000000
if "$LIVEROOT" mklive --platform freebsd --json --free 8M -L FBSDTEST \
    -o out1 tree > json 2> err; then
	ok "mklive --platform freebsd builds (no kernel cache needed)"
else
	bad "mklive --platform freebsd builds"
	cat err
	echo "$pass passed, $fail failed"
	exit 1
fi
check "--json names the cdroot" grep -q '"platform":"freebsd","cdroot":"out1/cdroot"' json
for f in cdroot/system.uzip cdroot/boot/loader.conf cdroot/boot/ramdisk.files \
    ramdisk/liveroot-init.sh README.freebsd; do
	check "out1/$f exists" test -s "out1/$f"
done
check "no FFS image left behind without --keep-ext4" test ! -e out1/system.ffs

# system.uzip -> FFS: UFS2 magic 0x19540119 (little-endian) at
# SBLOCK + 1372, SBLOCK one of FreeBSD's SBLOCKSEARCH 65536, 8192
check "system.uzip decompresses" "$LIVEROOT" uzip extract -q out1/cdroot/system.uzip ffs.img
magic() { od -A n -t x4 -j $(($1 + 1372)) -N 4 ffs.img | tr -d ' \n'; }
if [ "$(magic 65536)" = 19540119 ] || [ "$(magic 8192)" = 19540119 ]; then
	ok "the image is UFS2 (superblock magic 0x19540119)"
else
	bad "the image is UFS2: magic $(magic 65536) at 64K, $(magic 8192) at 8K"
fi
sz=$(stat -c %s ffs.img)
check "the FFS image has the free space asked for (>= 8 MiB)" test "$sz" -ge 8388608
check "the tree's files are in the image" grep -qaF liveroot-ffs-marker-42 ffs.img

# loader.conf: the ramdisk as md_image, the first root, init_path and
# init_script, geom_uzip and geom_rowr preloaded, live.* as kenv lines
for l in 'mfsroot_load="YES"' 'mfsroot_type="md_image"' \
    'mfsroot_name="/boot/ramdisk.ufs"' 'vfs.root.mountfrom="ufs:/dev/md0"' \
    'init_path="/sbin/init"' 'init_script="/liveroot-init.sh"' \
    'geom_uzip_load="YES"' 'geom_rowr_load="YES"' 'live.image="/system.uzip"'; do
	check "loader.conf: $l" grep -qxF "$l" out1/cdroot/boot/loader.conf
done

# the init_script: the plan's commands for the CD
S=out1/ramdisk/liveroot-init.sh
check "the init_script passes sh -n" sh -n "$S"
check "the init_script is the plan's for local:/dev/cd0" grep -qF 'source local /dev/cd0' "$S"
check "the init_script attaches /system.uzip" \
    grep -qF 'mdconfig -a -t vnode -o readonly -f /livemedia/system.uzip -u 10' "$S"
check "the init_script mounts the live root" grep -qF 'mount -t ufs "$root" /newroot' "$S"
check "the init_script is executable" test -x "$S"

# ramdisk.files: the script and what it calls
F=out1/cdroot/boot/ramdisk.files
for f in /liveroot-init.sh /sbin/init /bin/sh /sbin/kldload /sbin/mdconfig \
    /sbin/mount_cd9660 /sbin/geom /lib/geom/geom_rowr.so /usr/sbin/diskinfo /bin/kenv; do
	check "ramdisk.files lists $f" grep -qxF "$f" "$F"
done
check "ramdisk.files does not list a tool the script does not call (fetch)" \
    sh -c "! grep -qxF /usr/bin/fetch $F"

# README.freebsd: the FreeBSD commands
R=out1/README.freebsd
check "README: builds geom_rowr.ko from freebsd/" grep -qF 'make -C $LR/freebsd/sys/modules/geom/geom_rowr' "$R"
check "README: makefs the ramdisk" grep -qF 'makefs -t ffs -o version=2 -B little cdroot/boot/ramdisk.ufs ramdisk' "$R"
check "README: makefs -t cd9660 with the boot loader and the label" \
    grep -qF 'makefs -t cd9660 -o rockridge -o label=FBSDTEST -o bootimage=i386\;cdroot/boot/cdboot -o no-emul-boot live.iso cdroot' "$R"
check "README's commands pass sh -n" sh -n "$R"

# reproducible: another build, elsewhere, later: the same system.uzip
sleep 1
if "$LIVEROOT" mklive --platform freebsd -q --free 8M -L FBSDTEST --keep-ext4 \
    -o other/dir/out2 tree 2> err2; then
	ok "a second build"
else
	bad "a second build: $(cat err2)"
fi
check "with SOURCE_DATE_EPOCH two builds give the same system.uzip" \
    cmp out1/cdroot/system.uzip other/dir/out2/cdroot/system.uzip
check "--keep-ext4 keeps OUT/system.ffs" test -s other/dir/out2/system.ffs
check "the same init_script" cmp "$S" other/dir/out2/ramdisk/liveroot-init.sh
check "the same loader.conf" cmp out1/cdroot/boot/loader.conf other/dir/out2/cdroot/boot/loader.conf

# failing inputs
mkdir -p noinit/etc
echo x > noinit/etc/x
expect_err "a tree without /sbin/init" 2 "noinit/sbin/init: No such file or directory: a FreeBSD root tree needs /sbin/init" \
    "$LIVEROOT" mklive --platform freebsd -q -o out3 noinit
check "nothing built for it" test ! -e out3/cdroot/system.uzip
expect_err "--platform windows" 2 "--platform windows: linux or freebsd" \
    "$LIVEROOT" mklive --platform windows -o out4 tree
expect_err "a bad SOURCE_DATE_EPOCH" 2 "SOURCE_DATE_EPOCH=yesterday: not seconds" \
    env SOURCE_DATE_EPOCH=yesterday "$LIVEROOT" mklive --platform freebsd -o out5 tree
expect_err "--platform freebsd --initramfs-only" 2 "--platform freebsd needs a TREE" \
    "$LIVEROOT" mklive --platform freebsd --initramfs-only -o out6
check "--help names --platform" sh -c "\"$LIVEROOT\" mklive --help | grep -q -- '--platform NAME'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
