#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e, issue 11 #6: the session kept as the next image, from inside.
#  1. A CD whose rootfs.uzip is the example tree plus the liveroot binary
#     and its shared libraries (ldd) boots (PVH, qboot) with a second,
#     empty ext4 disk (virtio, /dev/vda).  In the live system: a file is
#     written to the root; `liveroot remaster -o /root/x.uzip` is refused
#     (the output is on the root it would freeze: /dev/nbd0 on /, found by
#     mountinfo); `liveroot remaster -o /mnt/new.uzip` onto the mounted
#     disk succeeds and says how long / was frozen; a write after it works
#     (thawed); power off.
#  2. On the host new.uzip is taken out of the disk (debugfs, no mount),
#     checked (`liveroot uzip check`), put on a new CD as its rootfs.uzip
#     and booted with the usual initramfs: the file written in boot 1 is
#     there, and the new image boots to the live marker.
. "$(dirname "$0")/lib.sh"
e2e_need debugfs e2fsprogs
e2e_init

# The example tree with liveroot in /usr/bin and its libraries where ldd
# finds them on the host (the dynamic loader's default paths).
mk_remaster_iso() {
	t=$IMG/remaster.d
	rm -rf "$t"
	mkdir -p "$t/iso" "$t/tree/usr/bin" &&
	    cp -a "$IMG/tree/." "$t/tree/" &&
	    cp "$LIVEROOT" "$t/tree/usr/bin/liveroot" || return 1
	for so in $(ldd "$LIVEROOT" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
	    $1 ~ /^\// { print $1 }'); do
		mkdir -p "$t/tree$(dirname "$so")" &&
		    cp -L "$so" "$t/tree$so" || return 1
	done
	mb=$(( $(du -sm "$t/tree" | cut -f1) + 24 ))
	mke2fs -q -F -t ext4 -L rootfs -d "$t/tree" "$t/root.img" "${mb}M" &&
	    "$LIVEROOT" mkuzip -q -A zstd -o "$t/iso/rootfs.uzip" "$t/root.img" &&
	    xorriso -as mkisofs -quiet -r -V LIVEROOT -o "$t/remaster.iso" "$t/iso" &&
	    mv "$t/remaster.iso" "$IMG/remaster.iso" && rm -rf "$t"
}
e2e_once remaster.iso mk_remaster_iso || { e2e_fail "building remaster.iso"; e2e_done; }

nonce="kept-$(date +%s)-$$"
rm -f "$RUN/out.img"
mke2fs -q -F -t ext4 -L OUT "$RUN/out.img" 256M > /dev/null ||
    { e2e_fail "making the output disk"; e2e_done; }

# 1. boot, write, remaster onto /dev/vda
E2E_APPEND="example.hold=1" e2e_boot first -M pc -cdrom "$IMG/remaster.iso" \
    -drive "if=none,id=vd0,file=$RUN/out.img,format=raw" \
    -device virtio-blk-pci,drive=vd0
e2e_expect "LIVEROOT-MARKER: live system up" 90 "first: live system up"
if e2e_expect "LIVEROOT-MARKER: holding" 30 "first: shell"; then
	sleep 1
	e2e_send "echo $nonce > /root/kept.txt; sync; liveroot remaster -o /root/x.uzip; echo REFUSED-RC=\$?"
	e2e_expect "REFUSED-RC=2" 30 "first: an output on the root is refused"
	e2e_expect "is on the root file system (/dev/nbd0 on /) that remaster freezes" 5 \
	    "first: the root's device is /dev/nbd0, found by mountinfo"
	e2e_send "mount /dev/vda /mnt && liveroot remaster -o /mnt/new.uzip; echo \"REMASTER\"\"-END rc=\$?\""
	e2e_expect "REMASTER-END rc=" 60 "first: remaster ran"
	e2e_expect "REMASTER-END rc=0" 1 "first: remaster succeeded"
	e2e_expect "remaster: / was frozen for" 1 "first: says how long / was frozen"
	e2e_expect "/mnt/new.uzip: " 1 "first: the summary line"
	e2e_send "echo after > /root/after && sync && echo THAWED\"\"-OK; umount /mnt; echo UMOUNT-RC=\$?"
	e2e_expect "THAWED-OK" 20 "first: the root is writable after remaster (thawed)"
	e2e_expect "UMOUNT-RC=0" 10 "first: the output disk unmounted"
	e2e_send "poweroff -f"
fi
e2e_end 30 || e2e_fail "first: did not power off"

# 2. the new image, booted
rm -rf "$RUN/iso2" "$RUN/new.uzip"
mkdir -p "$RUN/iso2"
debugfs -R "dump /new.uzip $RUN/new.uzip" "$RUN/out.img" > /dev/null 2>&1
if [ -s "$RUN/new.uzip" ] && "$LIVEROOT" uzip check -q "$RUN/new.uzip"; then
	e2e_ok "new.uzip taken out of the disk checks (every cluster)"
else
	e2e_fail "new.uzip is missing from the output disk or does not check"
	e2e_done
fi
cp "$RUN/new.uzip" "$RUN/iso2/rootfs.uzip"
xorriso -as mkisofs -quiet -r -V LIVEROOT -o "$RUN/new.iso" "$RUN/iso2" \
    > "$RUN/xorriso.log" 2>&1 ||
    { e2e_fail "making new.iso"; e2e_done; }
E2E_APPEND="example.hold=1" e2e_boot second -M pc -cdrom "$RUN/new.iso"
e2e_expect "LIVEROOT-MARKER: live system up" 90 "second: the new image boots"
if e2e_expect "LIVEROOT-MARKER: holding" 30 "second: shell"; then
	sleep 1
	e2e_send "echo \"KEPT: \$(cat /root/kept.txt)\""
	e2e_expect "KEPT: $nonce" 20 "second: the file written in the first session is there"
	e2e_send "poweroff -f"
fi
e2e_end 30 || e2e_fail "second: did not power off"
e2e_done
