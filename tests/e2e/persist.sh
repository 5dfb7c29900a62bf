#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e, issue 11 #2: persistence (live.persist=LABEL=NAME[:/FILE]).
#  1. The common case, one stick: an exFAT partition (Ventoy's file system)
#     holds the live ISO (found by findiso) and, after the first boot, the
#     persistence file: boot 1 writes /root/kept, boot 2 finds it.
#  2. A persistence file made for another image (`liveroot overlay create
#     --for OTHER.uzip`) is refused with both images named, the system boots
#     with a RAM overlay, and the file is left as it was.
#  3. Power cuts: an ext4 disk keeps the overlay; the live system writes
#     numbered files, each followed by sync and a LIVEROOT-SYNCED line; QEMU
#     is killed (SIGKILL) at a random point, during the writes or during the
#     boot, PERSIST_CUTS times (default 20), each a fresh boot.  After each
#     cut, on a copy of the disk: its own journal replayed (what the kernel
#     does at mount), the overlay's files taken out, the union read through
#     `liveroot serve` (rootfs.uzip + the upper + its map), its ext4 journal
#     replayed, `e2fsck -fn` clean, and every file whose sync was reported,
#     in any boot so far, there and intact.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need mkfs.exfat exfatprogs
e2e_need mount.exfat-fuse exfat-fuse
e2e_need losetup mount
e2e_need sgdisk gdisk
e2e_need debugfs e2fsprogs
e2e_need qemu-img qemu-utils
[ "$(id -u)" = 0 ] || e2e_skip "building the exFAT stick needs root (losetup, FUSE)"

CUTS=${PERSIST_CUTS:-20}

# $IMG/persist-exfat.img: GPT, one exFAT partition LIVEDATA with /live.iso
mkstick() {
	t=$RUN/stick.tmp
	mkdir -p "$t.mnt"
	mb=$(( $(stat -c %s "$LIVE/live.iso") / 1048576 + 320 ))
	rm -f "$t.part" "$t.disk"
	truncate -s ${mb}M "$t.part" &&
	    mkfs.exfat -L LIVEDATA "$t.part" >/dev/null || return 1
	loop=$(losetup -f --show "$t.part") || return 1
	if ! mount.exfat-fuse "$loop" "$t.mnt"; then
		losetup -d "$loop"
		return 1
	fi
	cp "$LIVE/live.iso" "$t.mnt/live.iso"
	r=$?
	umount "$t.mnt"
	losetup -d "$loop"
	[ $r = 0 ] || return 1
	truncate -s $(( (mb + 2) * 1048576 )) "$t.disk" &&
	    sgdisk -o -n 1:2048:+${mb}M -t 1:0700 -c 1:LIVEDATA "$t.disk" >/dev/null &&
	    dd if="$t.part" of="$t.disk" bs=1M seek=1 conv=notrunc status=none &&
	    rm -f "$t.part" && mv "$t.disk" "$IMG/persist-exfat.img"
}

# boot NAME DISK APPEND: the ISO as a CD unless findiso finds it on DISK
boot() {
	n=$1 disk=$2
	shift 2
	E2E_MEM=512 E2E_APPEND="$*" e2e_boot "$n" -M pc $CDROM \
	    -drive "if=none,id=vd0,file=$disk,format=raw" \
	    -device virtio-blk-pci,drive=vd0
}

# --- 1. one exFAT stick: the ISO and the persistence file -----------------
if e2e_once persist-exfat.img mkstick; then
	cp --sparse=always "$IMG/persist-exfat.img" "$RUN/stick.img"
	CDROM=""
	boot stick1 "$RUN/stick.img" "live.iso=/live.iso live.persist=LABEL=LIVEDATA example.check=persist example.boot=1"
	e2e_expect "liveroot: found root image by findiso on /dev/vda" 90 "stick1: the ISO found on the exFAT partition"
	e2e_expect "persist: /dev/vda1 (exfat, \"LIVEDATA\") mounted" 60 "stick1: the same partition mounted for persistence"
	e2e_expect_live persist
	e2e_expect "LIVEROOT-CHECK persist: PASS written" 1 "stick1: a file written in the live system"
	boot stick2 "$RUN/stick.img" "live.iso=/live.iso live.persist=LABEL=LIVEDATA example.check=persist example.boot=2"
	e2e_expect_live persist
	e2e_expect "LIVEROOT-CHECK persist: PASS kept: boot 1" 1 "stick2: the file of boot 1 is there"
	e2e_reject "changes will NOT be kept" "stick2: persistence used"
	rm -f "$RUN/stick.img"
else
	e2e_fail "building the exFAT stick"
fi

# --- 2. a persistence file made for another image --------------------------
CDROM="-cdrom $LIVE/live.iso"
mkforeign() {
	t=$RUN/foreign
	rm -rf "$t" && mkdir -p "$t/fs" || return 1
	# the same root, another codec: another image of the same size
	"$LIVEROOT" overlay create "$LIVE/rootfs.uzip" "$t/empty.ovl" >/dev/null &&
	    "$LIVEROOT" overlay commit -q --to "$t/other.uzip" -A zlib "$t/empty.ovl" &&
	    "$LIVEROOT" overlay create --for "$t/other.uzip" "$t/fs/liveroot.overlay" &&
	    mke2fs -q -t ext4 -L LRFOREIGN -d "$t/fs" "$IMG/persist-foreign.img" 320M
}
if e2e_once persist-foreign.img mkforeign; then
	cp --sparse=always "$IMG/persist-foreign.img" "$RUN/foreign.img"
	before=$(debugfs -R "cat /liveroot.overlay.rowrmap" "$RUN/foreign.img" 2>/dev/null | sha256sum)
	boot foreign "$RUN/foreign.img" "live.persist=LABEL=LRFOREIGN example.check=persist"
	e2e_expect "other.uzip" 90 "foreign: the refusal names the image the file was made for"
	e2e_expect "is not used" 30 "foreign: the persistence file is refused"
	e2e_expect "changes will NOT be kept" 30 "foreign: the console says the overlay is in RAM"
	e2e_expect_live persist
	after=$(debugfs -R "cat /liveroot.overlay.rowrmap" "$RUN/foreign.img" 2>/dev/null | sha256sum)
	if [ "$before" = "$after" ]; then
		e2e_ok "foreign: the refused file's map is unchanged"
	else
		e2e_fail "foreign: the refused file's map was changed"
	fi
	rm -f "$RUN/foreign.img"
else
	e2e_fail "building the disk with a foreign persistence file"
fi

# --- 3. power cuts ----------------------------------------------------------
W=$RUN/pc
rm -rf "$W"
mkdir -p "$W"
rm -f "$RUN/pc.img"
mke2fs -q -t ext4 -L LRPC "$RUN/pc.img" 320M || e2e_fail "mke2fs of the power-cut disk"
: > "$W/synced"
cut_boot=0		# cuts that hit the boot, before the first write
cut_write=0		# cuts while files were written

rnd() {	# 0..$1-1
	echo $(( $(od -An -N2 -tu2 /dev/urandom) % $1 ))
}

# check_union I: the host's view after cut I, on $W/cI (a copy of the disk
# taken at the cut and the synced list then); runs in the background while
# the next boot runs; its verdict goes to $W/cI/verdict ("ok ..." or
# "FAIL ...").
check_union() {
	i=$1
	c=$W/c$i
	verdict() { echo "$*" > "$c/verdict"; }
	e2fsck -E journal_only -y "$c/disk.img" > "$c/fsck0.log" 2>&1
	if ! e2fsck -fn "$c/disk.img" > "$c/fsck1.log" 2>&1; then
		verdict "FAIL cut $i: the persistence disk's ext4 is not clean: $(tail -n 3 "$c/fsck1.log" | tr '\n' ' ')"
		return
	fi
	if ! debugfs -R "stat /liveroot.overlay.rowrmap" "$c/disk.img" 2>/dev/null | grep -q Inode; then
		rm -f "$c/disk.img"
		if [ "$(wc -l < "$c/synced")" = 0 ]; then
			verdict "ok cut $i: before the overlay was made; nothing synced to keep"
		else
			verdict "FAIL cut $i: the overlay's files are missing although files were synced"
		fi
		return
	fi
	if ! debugfs -R "dump /liveroot.overlay $c/upper" "$c/disk.img" >/dev/null 2>&1 ||
	    ! debugfs -R "dump /liveroot.overlay.rowrmap $c/upper.rowrmap" "$c/disk.img" >/dev/null 2>&1; then
		verdict "FAIL cut $i: cannot take the overlay's files out"
		return
	fi
	rm -f "$c/disk.img"
	"$LIVEROOT" serve -q --lower "$LIVE/rootfs.uzip" --upper "$c/upper" \
	    --unix "$c/sock" 2> "$c/serve.err" &
	sp=$!
	t=0
	while [ ! -S "$c/sock" ] && [ $t -lt 100 ] && kill -0 $sp 2>/dev/null; do
		sleep 0.1; t=$((t + 1))
	done
	qemu-img convert -f raw -O raw "nbd+unix:///?socket=$c/sock" "$c/union.raw" 2> "$c/convert.err"
	r=$?
	kill $sp 2>/dev/null
	wait $sp 2>/dev/null
	rm -f "$c/upper"
	if [ $r != 0 ]; then
		verdict "FAIL cut $i: reading the union through liveroot serve failed: $(cat "$c/serve.err" "$c/convert.err" | head -n 3 | tr '\n' ' ')"
		return
	fi
	e2fsck -E journal_only -y "$c/union.raw" > "$c/fsck2.log" 2>&1
	if ! e2fsck -fn "$c/union.raw" > "$c/fsck3.log" 2>&1; then
		verdict "FAIL cut $i: e2fsck -fn of the union: $(grep -v '^Pass\|^e2fsck\|^/' "$c/fsck3.log" | head -n 5 | tr '\n' ' ')"
		return
	fi
	debugfs -R "rdump /root/pc $c" "$c/union.raw" >/dev/null 2>&1
	rm -f "$c/union.raw"
	bad=""
	nok=0
	while read -r f; do
		b=${f#b}; b=${b%_*}; n=${f#*_}
		if yes "$b $n" | head -c 16384 | cmp -s - "$c/pc/$f"; then
			nok=$((nok + 1))
		else
			bad="$bad $f"
		fi
	done < "$c/synced"
	if [ -n "$bad" ]; then
		verdict "FAIL cut $i: synced files missing or damaged:$bad"
		return
	fi
	rm -rf "$c/pc"
	verdict "ok cut $i: union clean (e2fsck -fn after its journal replay), all $nok synced files intact"
}

# collect I: wait for check I and count its verdict
collect() {
	[ -n "${CPID:-}" ] || return 0
	wait "$CPID"
	CPID=""
	v=$(cat "$W/c$1/verdict" 2>/dev/null || echo "FAIL cut $1: the check left no verdict")
	case $v in
	ok*)	echo "   ${v#ok }" ; CHECKED=$((CHECKED + 1)) ;;
	*)	e2e_fail "${v#FAIL }"; CHECKFAIL=1 ;;
	esac
}

CDROM="-cdrom $LIVE/live.iso"
i=1
CHECKED=0
CHECKFAIL=0
CPID=""
while [ $i -le "$CUTS" ]; do
	boot "cut$i" "$RUN/pc.img" "live.persist=LABEL=LRPC example.check=powercut example.boot=$i"
	if [ $((i % 5)) = 0 ]; then
		# during the boot: up to 8 s after QEMU started
		sleep "$(rnd 8).$(rnd 10)"
	else
		if ! e2e_wait "LIVEROOT-SYNCED b${i}_" 120; then
			e2e_fail "cut $i: the live system wrote nothing"
			e2e_end 1
			break
		fi
		sleep "$(rnd 3).$(rnd 10)"
	fi
	kill -9 "$E2E_QPID" 2>/dev/null
	wait "$E2E_QPID" 2>/dev/null
	E2E_QPID=""
	exec 8>&-
	sed -n 's/^LIVEROOT-SYNCED \(b[0-9]*_[0-9]*\).*/\1/p' "$E2E_LOG" | tr -d '\r' >> "$W/synced"
	if grep -q "LIVEROOT-SYNCED" "$E2E_LOG"; then
		cut_write=$((cut_write + 1))
	else
		cut_boot=$((cut_boot + 1))
	fi
	if grep -qE "I/O error|EXT4-fs error|Kernel panic|liveroot: halted" "$E2E_LOG"; then
		e2e_fail "cut $i: errors on the console before the cut"
	fi
	echo "   cut $i: $(grep -c LIVEROOT-SYNCED "$E2E_LOG") files synced in this boot, $(wc -l < "$W/synced") in all"
	collect $((i - 1))
	[ "$CHECKFAIL" = 0 ] || break
	rm -rf "$W/c$i" && mkdir -p "$W/c$i"
	cp --sparse=always "$RUN/pc.img" "$W/c$i/disk.img"
	cp "$W/synced" "$W/c$i/synced"
	check_union $i &
	CPID=$!
	i=$((i + 1))
done
collect $((i - 1))
if [ "$CHECKFAIL" = 0 ] && [ "$CHECKED" = "$CUTS" ]; then
	e2e_ok "power cuts: $CUTS kills ($cut_write while writing, $cut_boot during the boot); after each the union was clean and every file synced so far intact ($(wc -l < "$W/synced") in all)"
elif [ "$CHECKFAIL" = 0 ]; then
	e2e_fail "power cuts: only $CHECKED of $CUTS cuts checked"
fi
# a last boot ends normally: the root remounted read-only, kept files there
boot final "$RUN/pc.img" "live.persist=LABEL=LRPC example.check=persist example.boot=final"
e2e_expect_live persist
e2e_expect "LIVEROOT-CHECK persist: PASS" 1 "final: the live system runs on the persistence kept through $CUTS cuts"
rm -f "$RUN/pc.img"
e2e_done
