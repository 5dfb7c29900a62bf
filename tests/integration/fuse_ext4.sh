#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# fuse_ext4.sh - `liveroot mount-file` end to end: an ext4 image made from a
# small tree (mke2fs -d), compressed to uzip, exposed writable through FUSE
# with a RAM upper, loop-mounted, changed, unmounted, remounted (the same
# mount-file process), checked, and e2fsck -fn on the FUSE file.  Then the
# detaching mode, and a read-only export refusing writes.  Regressions of
# issue 8 item 4: relative paths in the detached mode (the map was written
# to / after the daemon's chdir), other users writing through
# -o allow_other (default_permissions is now always on), a lone --lower
# written in place (now read-only without --writable-lower).
#
# Needs root for mount -o loop.  Without /dev/fuse or loop devices: exit 77,
# or 1 when CI=true.  Prints "N passed, N failed".
set -u

: "${LIVEROOT:?LIVEROOT must name the liveroot binary}"
. "$(dirname "$0")/lib.sh"
LIB_ERR=1
LIB_NAME=fuse_ext4

for t in mke2fs e2fsck fusermount3 mount umount losetup; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is missing"
done
[ -c /dev/fuse ] || skip "/dev/fuse is missing (modprobe fuse)"
[ "$(id -u)" = 0 ] || skip "mount -o loop needs root"
[ -e /dev/loop-control ] || skip "no loop devices (modprobe loop)"
"$LIVEROOT" mount-file --help >/dev/null 2>&1 ||
    skip "this liveroot was built without FUSE"

W=$(mktemp -d "${TMPDIR:-/tmp}/fuse_ext4.XXXXXX") || exit 1
MNT="$W/fuse"
EXT="$W/ext"
# A mount point other users can reach ($W is private): for the permission
# checks run as nobody.
PM=$(mktemp -d /tmp/fuse_ext4_perm.XXXXXX) || exit 1
chmod 755 "$PM"
RELUP="relup.$$.img"
MF_PID=""
cleanup() {
	mountpoint -q "$EXT" 2>/dev/null && umount "$EXT"
	mountpoint -q "$MNT" 2>/dev/null && fusermount3 -u "$MNT"
	mountpoint -q "$PM" 2>/dev/null && fusermount3 -u "$PM"
	rmdir "$PM" 2>/dev/null
	rm -f "/$RELUP.rowrmap" "/$RELUP"	# only a regression leaves them
	[ -n "$MF_PID" ] && kill "$MF_PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM
mkdir -p "$MNT" "$EXT" "$W/tree/etc" "$W/tree/usr/share"

# The tree and the image.
echo "hello from the lower" >"$W/tree/etc/motd"
echo "to be removed" >"$W/tree/etc/old"
echo "original" >"$W/tree/etc/overwrite-me"
head -c 300000 /dev/urandom >"$W/tree/usr/share/blob"
seq 1 20000 >"$W/tree/usr/share/numbers"
mke2fs -q -F -t ext4 -b 4096 -d "$W/tree" "$W/fs.img" 32M >/dev/null 2>&1 ||
    { bad "mke2fs"; echo "$pass passed, $fail failed"; exit 1; }
# Mark the last (free) block so the image does not end in a zero cluster:
# a uzip v2 (cloop) image takes the last cluster's end from the file size.
printf 'liveroot end marker' | dd of="$W/fs.img" bs=1 seek=33550336 \
    conv=notrunc 2>/dev/null

if "$LIVEROOT" mkuzip --help >/dev/null 2>&1; then
	"$LIVEROOT" mkuzip -o "$W/fs.uzip" "$W/fs.img" >/dev/null 2>&1
	check "liveroot mkuzip" test $? -eq 0
elif command -v create_compressed_fs >/dev/null 2>&1; then
	echo "fuse_ext4: no 'liveroot mkuzip' yet; using create_compressed_fs" \
	    >&2
	create_compressed_fs -q -B 65536 "$W/fs.img" "$W/fs.uzip" \
	    >/dev/null 2>&1
	check "create_compressed_fs" test $? -eq 0
else
	skip "neither 'liveroot mkuzip' nor create_compressed_fs"
fi
uzip_sum=$(sha256sum <"$W/fs.uzip")

# wait_file PATH: until it exists (5 s).
wait_file() {
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.05
	done
	return 0
}
# write_pat DESC PATFILE LEN BLOCK: LEN random bytes (kept in PATFILE)
# written into $MNT/disk at 4 KiB block BLOCK, checked by reading back
write_pat() {
	head -c "$3" /dev/urandom >"$2"
	dd if="$2" of="$MNT/disk" bs=4096 seek="$4" conv=notrunc 2>/dev/null
	check "$1" cmp -s -n "$3" -i "0:$(($4 * 4096))" "$2" "$MNT/disk"
}

# --- 1. foreground, RAM upper, loop mount, change, remount --------------
"$LIVEROOT" mount-file -f -v --lower "$W/fs.uzip" --upper mem:64M "$MNT" \
    2>"$W/mf.err" &
MF_PID=$!
if ! wait_file "$MNT/disk"; then
	bad "mount-file did not come up: $(cat "$W/mf.err")"
	echo "$pass passed, $fail failed"
	exit 1
fi
check "file size is the device size" test "$(stat -c %s "$MNT/disk")" \
    -eq 33554432
check "unchanged image reads as the original" cmp -s "$MNT/disk" \
    "$W/fs.img"

if mount -o loop "$MNT/disk" "$EXT" 2>"$W/mount.err"; then
	ok
	check "lower file visible" grep -qx "hello from the lower" \
	    "$EXT/etc/motd"
	echo "new file" >"$EXT/etc/new"
	rm "$EXT/etc/old"
	echo "overwritten" >"$EXT/etc/overwrite-me"
	head -c 2000000 /dev/urandom >"$EXT/big"
	sha_big=$(sha256sum <"$EXT/big")
	mkdir "$EXT/dir"
	seq 1 1000 >"$EXT/dir/list"
	umount "$EXT"
	check "umount" test $? -eq 0
	mount -o loop "$MNT/disk" "$EXT"
	check "remount" test $? -eq 0
	check "new file kept" grep -qx "new file" "$EXT/etc/new"
	check "removed file gone" test ! -e "$EXT/etc/old"
	check "overwritten file" grep -qx "overwritten" \
	    "$EXT/etc/overwrite-me"
	check "big file intact" test "$(sha256sum <"$EXT/big")" = \
	    "$sha_big"
	check "untouched lower file intact" cmp -s \
	    "$EXT/usr/share/blob" "$W/tree/usr/share/blob"
	check "new dir" test "$(wc -l <"$EXT/dir/list")" -eq 1000
	# Free the big file: fstrim reaches the overlay as a punch-hole.
	rm "$EXT/big"
	command -v fstrim >/dev/null 2>&1 && fstrim "$EXT" 2>/dev/null
	umount "$EXT"
	check "umount 2" test $? -eq 0
else
	bad "mount -o loop: $(cat "$W/mount.err")"
fi
e2fsck -fn "$MNT/disk" >"$W/fsck.out" 2>&1
check "e2fsck -fn clean" test $? -eq 0 || cat "$W/fsck.out" >&2
check "the uzip image was not changed" test \
    "$(sha256sum <"$W/fs.uzip")" = "$uzip_sum"
fusermount3 -u "$MNT"
check "fusermount3 -u" test $? -eq 0
wait "$MF_PID"
check "mount-file exits 0 after unmount" test $? -eq 0
MF_PID=""
check "-v prints overlay statistics" grep -q "granules written" "$W/mf.err"

# --- 2. detached mode, read-only ------------------------------------------
"$LIVEROOT" mount-file --readonly --name root.img --lower "$W/fs.uzip" \
    "$MNT" 2>"$W/mf2.err"
check "detached mount-file returns 0" test $? -eq 0
if wait_file "$MNT/root.img"; then
	check "detached: content" cmp -s "$MNT/root.img" "$W/fs.img"
	if (echo x >"$W/x" && dd if="$W/x" of="$MNT/root.img" \
	    conv=notrunc 2>/dev/null); then
		bad "read-only file accepted a write"
	else
		ok
	fi
	fusermount3 -u "$MNT"
	check "detached: unmount" test $? -eq 0
else
	bad "detached mount-file did not come up: $(cat "$W/mf2.err")"
fi

# --- 2b. fallocate --punch-hole on the FUSE file reads back as zeros -------
if command -v fallocate >/dev/null 2>&1; then
	"$LIVEROOT" mount-file --raw --lower "$W/fs.img" --upper mem:8M "$MNT" \
	    2>"$W/mf3.err"
	if wait_file "$MNT/disk"; then
		write_pat "write through FUSE" "$W/pat" 65536 1000
		fallocate -p -o 4100000 -l 50000 "$MNT/disk"
		check "punch-hole" test $? -eq 0
		head -c 50000 /dev/zero >"$W/z"
		check "punched range reads zeros" cmp -s -n 50000 \
		    -i 0:4100000 "$W/z" "$MNT/disk"
		check "bytes before the hole kept" cmp -s -n 4000 \
		    "$W/pat" "$MNT/disk" -i 0:4096000
		fusermount3 -u "$MNT"
	else
		bad "raw mount-file did not come up: $(cat "$W/mf3.err")"
	fi
fi

# --- 2c. relative paths, detached; the option after the operand ------------
# The daemon does chdir("/"): the map of a relative --upper used to be
# written to /NAME.rowrmap, and the overlay kept 0 granules.
cp "$W/fs.img" "$W/rel.img"
(cd "$W" && "$LIVEROOT" mount-file fuse --raw --lower rel.img \
    --upper "$RELUP") 2>"$W/rel.err"
check "relative: mount-file returns 0" test $? -eq 0
if wait_file "$MNT/disk"; then
	write_pat "relative: write through FUSE" "$W/relpat" 40960 2000
	fusermount3 -u "$MNT"
	check "relative: unmount" test $? -eq 0
	# The detached daemon saves the map as it ends.
	i=0
	until "$LIVEROOT" overlay status "$W/$RELUP" 2>/dev/null |
	    grep -q 'written *10 granules' || [ $i -gt 100 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	"$LIVEROOT" overlay status "$W/$RELUP" >"$W/relst.out" 2>&1
	check "relative: overlay status shows the 10 granules" grep -q \
	    'written *10 granules' "$W/relst.out"
	check "relative: no stray map in /" test ! -e "/$RELUP.rowrmap"
	check "relative: the lower is unchanged" cmp -s "$W/rel.img" \
	    "$W/fs.img"
else
	bad "relative: mount-file did not come up: $(cat "$W/rel.err")"
fi

# --- 2d. a lone --lower is read-only unless --writable-lower ---------------
"$LIVEROOT" mount-file --raw --lower "$W/rel.img" "$MNT" 2>"$W/lone.err"
if wait_file "$MNT/disk"; then
	if dd if="$W/relpat" of="$MNT/disk" bs=4096 seek=10 conv=notrunc \
	    2>/dev/null; then
		bad "lone --lower: the file took a write"
	else
		ok
	fi
	fusermount3 -u "$MNT"
	check "lone --lower: the image is unchanged" cmp -s "$W/rel.img" \
	    "$W/fs.img"
else
	bad "lone --lower: mount-file did not come up: $(cat "$W/lone.err")"
fi

# --- 2e. -o allow_other: other users never write (default_permissions) ----
if command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
	asnobody() {
		setpriv --reuid=nobody --regid="$(id -g nobody)" \
		    --clear-groups "$@"
	}
	"$LIVEROOT" mount-file --raw --lower "$W/fs.img" --upper mem:8M \
	    -o allow_other "$PM" 2>"$W/ao.err"
	if wait_file "$PM/disk"; then
		check "allow_other: nobody may read the 0644 file" asnobody \
		    sh -c "head -c 4096 '$PM/disk' >/dev/null"
		asnobody sh -c "printf x | dd of='$PM/disk' conv=notrunc" \
		    >"$W/ao.out" 2>&1
		check "allow_other: nobody's write fails" test $? -ne 0
		check "allow_other: nobody's write: permission denied" grep -q \
		    'Permission denied' "$W/ao.out"
		check "allow_other: the owner still writes" sh -c \
		    "printf y | dd of='$PM/disk' conv=notrunc 2>/dev/null"
		fusermount3 -u "$PM"
	else
		bad "allow_other: mount-file did not come up: $(cat "$W/ao.err")"
	fi
	"$LIVEROOT" mount-file --raw --lower "$W/fs.img" --upper mem:8M \
	    -o allow_other,umask=077 "$PM" 2>"$W/um.err"
	if wait_file "$PM/disk"; then
		asnobody sh -c "head -c 4096 '$PM/disk' >/dev/null" \
		    >"$W/um.out" 2>&1
		check "umask=077: nobody's read fails" test $? -ne 0
		check "umask=077: nobody's read: permission denied" grep -q \
		    'Permission denied' "$W/um.out"
		fusermount3 -u "$PM"
	else
		bad "umask=077: mount-file did not come up: $(cat "$W/um.err")"
	fi
else
	echo "SKIP: fuse_ext4: allow_other not tested: no setpriv or no user" \
	    "nobody"
fi

# --- 3. errors --------------------------------------------------------------
"$LIVEROOT" mount-file --lower "$W/missing" "$MNT" 2>"$W/e.err"
check "missing lower: exit 2" test $? -eq 2
check "missing lower: named" grep -q missing "$W/e.err"
"$LIVEROOT" mount-file --lower "$W/fs.img" "$W/no-such-dir" 2>"$W/e2.err"
check "bad mount point: exit 2" test $? -eq 2
check "bad mount point: named" grep -q "liveroot mount-file: .*no-such-dir" \
    "$W/e2.err"
"$LIVEROOT" mount-file --lower "$W/fs.img" "$MNT" "$W" 2>"$W/e3.err"
check "two mount points: exit 2" test $? -eq 2
"$LIVEROOT" mount-file --lower "$W/fs.img" --frob "$MNT" 2>"$W/e4.err"
check "unknown option: exit 2" test $? -eq 2
check "unknown option: through cli_err" grep -q \
    "^liveroot mount-file: unknown option '--frob'" "$W/e4.err"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
