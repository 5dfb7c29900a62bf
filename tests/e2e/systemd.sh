#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e, issue 11 #1: a real distribution's systemd shuts down cleanly over
# liveroot's root device.  The root is `debootstrap --variant=minbase
# --include=systemd-sysv,udev bookworm` (made once per machine in
# $LIVEROOT_CACHE/minbase-systemd-bookworm, default REPO/cache; only the
# first run downloads, from deb.debian.org, the package registry) with one
# unit added: after multi-user.target it prints markers on the console
# (the NBD server's argv[0], the failed units), writes and syncs 16 MiB
# through the overlay and runs `systemctl poweroff`.  Booted from the ISO
# as a CD (-kernel PVH, as the other scenarios), not quiet, so systemd's
# and the kernel's shutdown lines are in the transcript.
#
# Passes when: the NBD device was attached by netlink (no NBD_DO_IT
# thread), the server's argv[0] starts with '@', systemd returned to
# /run/initramfs/shutdown, which unmounted /oldroot (or remounted it
# read-only), the server flushed its stack and exited, the machine powered
# off; and nowhere "I/O error", "NBD_DO_IT returned" or "shutting down
# sockets".  Both boots keep the overlay in a file on an ext4 disk
# (live.persist=LABEL=LRSYS): the first boot's shutdown ends with the
# server's "persistence saved, ... unmounted"; the second boot finds the
# first one's file and no journal to recover, neither in the root (nbd0)
# nor on the persistence disk (vda).
. "$(dirname "$0")/lib.sh"
e2e_need debootstrap debootstrap
e2e_init

SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${LIVEROOT_CACHE:-$SRCDIR/cache}
MB=$CACHE/minbase-systemd-$SUITE

# The minbase+systemd tree, once per machine (under its own lock).
mkdir -p "$CACHE"
exec 7> "$CACHE/minbase-systemd.lock"
flock 7
if [ ! -f "$MB.complete" ]; then
	e2e_log "debootstrap --variant=minbase --include=systemd-sysv,udev $SUITE (once per machine; log $MB.log)"
	rm -rf "$MB" "$MB.tmp"
	if ! debootstrap --variant=minbase --include=systemd-sysv,udev \
	    "$SUITE" "$MB.tmp" "$MIRROR" > "$MB.log" 2>&1; then
		flock -u 7
		tail -n 20 "$MB.log"
		e2e_fail "debootstrap of the minbase+systemd root failed (log $MB.log)"
		e2e_done
	fi
	rm -f "$MB.tmp"/var/cache/apt/archives/*.deb
	mv "$MB.tmp" "$MB" && touch "$MB.complete"
fi
flock -u 7

# The live system: the cached tree plus the test's unit, built once per run.
mk_systemd_live() {
	t=$IMG/systemd-tree
	rm -rf "$t" "$IMG/systemd-live"
	cp -a "$MB" "$t" || return 1
	cat > "$t/usr/local/sbin/liveroot-e2e" <<'EOF'
#!/bin/sh
say() { echo "LIVEROOT-SYSTEMD: $*" > /dev/console; }
say "multi-user.target reached"
pid=$(cat /sys/block/nbd0/pid 2>/dev/null)
say "nbd server pid ${pid:-none} argv: $(tr '\0' ' ' < /proc/${pid:-0}/cmdline 2>/dev/null)"
say "failed units: $(systemctl --failed --no-legend --plain | wc -l)"
boot=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^e2e.boot=//p')
if [ -f /var/lib/liveroot-e2e-kept ]; then
	say "kept: $(cat /var/lib/liveroot-e2e-kept)"
else
	say "nothing kept yet"
fi
echo "boot $boot" > /var/lib/liveroot-e2e-kept
if dd if=/dev/urandom of=/var/tmp/e2e.bin bs=1M count=16 2>/dev/null && sync; then
	say "wrote 16 MiB and synced"
fi
say "systemctl poweroff"
systemctl poweroff --no-block
EOF
	chmod 0755 "$t/usr/local/sbin/liveroot-e2e"
	cat > "$t/etc/systemd/system/liveroot-e2e.service" <<'EOF'
[Unit]
Description=liveroot e2e: markers, a write, then poweroff
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/liveroot-e2e

[Install]
WantedBy=multi-user.target
EOF
	mkdir -p "$t/etc/systemd/system/multi-user.target.wants"
	ln -sf ../liveroot-e2e.service \
	    "$t/etc/systemd/system/multi-user.target.wants/liveroot-e2e.service"
	echo liveroot-e2e > "$t/etc/hostname"
	"$LIVEROOT" mklive --init "$E2E_INIT" --kernel-dir "$E2E_KDIR" \
	    -o "$IMG/systemd-live" "$t" || return 1
	rm -rf "$t"
}
e2e_once systemd-live mk_systemd_live ||
    { e2e_fail "building the minbase+systemd live system"; e2e_done; }

rm -f "$RUN/persist.img"
mke2fs -q -t ext4 -L LRSYS "$RUN/persist.img" 1G ||
    { e2e_fail "mke2fs of the persistence disk"; e2e_done; }

# sysboot N: boot N with the persistence disk, up to the power-off
sysboot() {
E2E_MEM=1024 E2E_QUIET= E2E_APPEND="systemd.show_status=1 live.persist=LABEL=LRSYS e2e.boot=$1" \
    e2e_boot "systemd$1" -M pc -cdrom "$IMG/systemd-live/live.iso" \
    -drive "if=none,id=vd0,file=$RUN/persist.img,format=raw" \
    -device virtio-blk-pci,drive=vd0
e2e_expect "liveroot: persist: /dev/vda (ext4, \"LRSYS\") mounted" 90 "boot $1: the persistence disk mounted"
e2e_expect "liveroot: handing over to" 90 "boot $1: hand-off" &&
e2e_expect "LIVEROOT-SYSTEMD: multi-user.target reached" 240 "multi-user.target reached" &&
e2e_expect "LIVEROOT-SYSTEMD: systemctl poweroff" 60 "the unit wrote, synced and asked for poweroff"
if grep -q "LIVEROOT-SYSTEMD: nbd server pid [0-9]* argv: @" "$E2E_LOG"; then
	e2e_ok "the NBD server's argv[0] starts with '@' ($(grep -o 'argv: @[^ ]*' "$E2E_LOG" | head -n 1))"
else
	e2e_fail "the NBD server's argv[0] does not start with '@'"
fi
grep -q "LIVEROOT-SYSTEMD: failed units: 0" "$E2E_LOG" &&
    e2e_ok "no failed unit" ||
    e2e_fail "failed units after boot"
e2e_expect "liveroot: shutdown: back in the initramfs to poweroff" 120 \
    "systemd-shutdown returned to /run/initramfs/shutdown"
if e2e_wait "liveroot: shutdown: powering off" 60 &&
    grep -qE "liveroot: shutdown: /oldroot \(/dev/nbd0\) (unmounted|remounted read-only)" "$E2E_LOG"; then
	e2e_ok "$(grep -oE '/oldroot \(/dev/nbd0\) (unmounted|remounted read-only)' "$E2E_LOG" | head -n 1)"
else
	e2e_fail "/oldroot was neither unmounted nor remounted read-only"
fi
e2e_expect "liveroot: nbd server: root stack flushed; exiting" 5 \
    "the NBD server flushed its stack and exited after the disconnect"
if e2e_end 120; then
	e2e_ok "the machine powered off"
else
	e2e_fail "the machine did not power off"
fi
e2e_reject "with the NBD_DO_IT ioctl instead" "the device was attached by netlink"
e2e_reject "NBD_DO_IT returned" "no 'NBD_DO_IT returned'"
e2e_reject "shutting down sockets" "no 'shutting down sockets'"
e2e_reject "I/O error" "no I/O error"
e2e_reject "changes will NOT be kept" "boot $1: the overlay is the persistence file"
e2e_expect "liveroot: nbd server: persistence saved, /liveroot-persist unmounted" 1 \
    "boot $1: the server saved the overlay and unmounted its disk"
}

sysboot 1
e2e_expect "LIVEROOT-SYSTEMD: nothing kept yet" 1 "boot 1: a new persistence file"
sysboot 2
e2e_expect "LIVEROOT-SYSTEMD: kept: boot 1" 1 "boot 2: what boot 1 wrote is there"
e2e_reject "EXT4-fs (nbd0): recovery complete" "boot 2: the root's journal needed no recovery"
e2e_reject "EXT4-fs (vda): recovery complete" "boot 2: the persistence disk's journal needed no recovery"
rm -f "$RUN/persist.img"
e2e_done
