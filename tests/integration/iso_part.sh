#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# iso_part.sh - the lib/fmt ISO 9660, MBR and GPT parsers (through the
# fmtcat helper) against images made by the real tools: xorriso (Rock Ridge,
# Joliet, plain names, deep paths, a multi-extent file over 4 GiB, isohybrid
# MBR and GPT), sfdisk and sgdisk.  Every file is compared byte for byte with
# what `xorriso -osirrox on -extract` gives, every table with `sfdisk --json`.
#
# ISO_PART_HUGE=0 skips the 4.2 GiB multi-extent image (it is written
# sparse, takes ~20 s and needs ~1 MB of real disk).
set -u

FMTCAT=${BUILDDIR:?}/tests/integration/fmtcat
pass=0
fail=0

for tool in xorriso sfdisk sgdisk python3 mkfs.vfat cmp; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "iso_part: SKIP: $tool is not installed (scripts/install-deps.sh)"
		exit 77
	fi
done
[ -x "$FMTCAT" ] || { echo "iso_part: $FMTCAT not built"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/iso_part.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM

ok() {
	pass=$((pass + 1))
}

bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}

check() {
	# check "what" command...
	what=$1
	shift
	if "$@"; then ok; else bad "$what"; fi
}

# --- a tree with awkward names ------------------------------------------
S=$T/src
mkdir -p "$S/deep/l1/l2/l3/l4/l5/l6/l7/l8/l9/l10/l11" "$S/Mixed Case Dir" \
    "$S/dir.with.dots"
echo deep >"$S/deep/l1/l2/l3/l4/l5/l6/l7/l8/l9/l10/l11/bottom.txt"
echo spaces >"$S/Mixed Case Dir/file with spaces.TXT"
u8=$(printf 'Gr\303\274\303\237e_\342\202\254.txt')
printf 'gr\303\274\303\237e\n' >"$S/$u8"
long=$(printf 'n%.0s' $(seq 1 150))
echo long >"$S/$long.dat"
: >"$S/empty"
echo dots >"$S/dir.with.dots/x.y.z."
head -c 1048577 /dev/urandom >"$S/random.bin"
ln -s random.bin "$S/link"

xorriso -outdev "$T/a.iso" -volid LIVEROOT_T -joliet on -map "$S" / \
    >/dev/null 2>&1 || { echo "iso_part: xorriso failed"; exit 1; }

# compare every regular file of an extracted tree with fmtcat cat
# cmp_tree DIR IMAGE FLAGS
cmp_tree() {
	dir=$1
	img=$2
	flags=$3
	(cd "$dir" && find . -type f) | sed 's|^\.||' | sort >"$T/files"
	n=0
	while IFS= read -r f; do
		n=$((n + 1))
		# shellcheck disable=SC2086
		if "$FMTCAT" $flags cat "$img" "$f" >"$T/out" 2>"$T/err" &&
		    cmp -s "$T/out" "$dir$f"; then
			ok
		else
			bad "$img $flags: '$f' differs: $(cat "$T/err")"
		fi
	done <"$T/files"
	[ "$n" -gt 0 ] || bad "$img $flags: nothing extracted"
}

# compare the walk (files and dirs, sizes of files) with the extracted tree
cmp_list() {
	dir=$1
	img=$2
	flags=$3
	# shellcheck disable=SC2086
	"$FMTCAT" $flags ls "$img" >"$T/ls" 2>"$T/err" || bad "ls $img: $(cat "$T/err")"
	awk -F'\t' '$3 == "f" { print $1 "\t" $2 } $3 == "d" { print $1 "\td" }' \
	    "$T/ls" | sort >"$T/ls.a"
	(cd "$dir" && find . -mindepth 1 \( -type f -printf '%p\t%s\n' \) -o \
	    \( -type d -printf '%p\td\n' \)) | sed 's|^\.||' | sort >"$T/ls.b"
	if cmp -s "$T/ls.a" "$T/ls.b"; then ok; else
		bad "$img $flags: listing differs"
		diff "$T/ls.a" "$T/ls.b" | head -10
	fi
}

# Rock Ridge
rm -rf "$T/x"
xorriso -osirrox on -indev "$T/a.iso" -extract / "$T/x" >/dev/null 2>&1
cmp_tree "$T/x" "$T/a.iso" ""
cmp_list "$T/x" "$T/a.iso" ""
check "RR symlink flagged" grep -q "^/link	.*	l	" "$T/ls"
check "RR long name" "$FMTCAT" cat "$T/a.iso" "/$long.dat" >/dev/null
check "RR deep path" "$FMTCAT" cat "$T/a.iso" \
    /deep/l1/l2/l3/l4/l5/l6/l7/l8/l9/l10/l11/bottom.txt >/dev/null
check "RR names are exact" sh -c "! '$FMTCAT' cat '$T/a.iso' /RANDOM.BIN 2>/dev/null"
"$FMTCAT" info "$T/a.iso" >"$T/info"
check "label" grep -qx "label LIVEROOT_T" "$T/info"
check "names rr" grep -qx "names rr" "$T/info"

# Rock Ridge deep-directory relocation (CL/RE entries, a relocation dir)
xorriso -compliance deep_paths_off -rr_reloc_dir RR_MOVED -outdev "$T/rl.iso" \
    -map "$S" / >/dev/null 2>&1
rm -rf "$T/x"
xorriso -osirrox on -indev "$T/rl.iso" -extract / "$T/x" >/dev/null 2>&1
cmp_tree "$T/x" "$T/rl.iso" ""
cmp_list "$T/x" "$T/rl.iso" ""
check "relocated deep path" sh -c "'$FMTCAT' -R -J ls '$T/rl.iso' |
    grep -q '^/RR_MOVED/'"

# Joliet (Rock Ridge ignored)
rm -rf "$T/x"
xorriso -read_fs norock -osirrox on -indev "$T/a.iso" -extract / "$T/x" \
    >/dev/null 2>&1
cmp_tree "$T/x" "$T/a.iso" "-R"
cmp_list "$T/x" "$T/a.iso" "-R"
check "Joliet UTF-8 name" sh -c "'$FMTCAT' -R cat '$T/a.iso' '/$u8' | cmp -s - '$S/$u8'"
check "Joliet case-insensitive" "$FMTCAT" -R cat "$T/a.iso" /RANDOM.BIN >/dev/null

# plain ISO 9660 names
rm -rf "$T/x"
xorriso -read_fs ecma119 -osirrox on -indev "$T/a.iso" -extract / "$T/x" \
    >/dev/null 2>&1
cmp_tree "$T/x" "$T/a.iso" "-R -J"
cmp_list "$T/x" "$T/a.iso" "-R -J"
check "plain case-insensitive" "$FMTCAT" -R -J cat "$T/a.iso" /random.bin >/dev/null

# --- partition tables ---------------------------------------------------
# sfdisk --json -> "index start size type uuid name", as fmtcat part prints
sfjson() {
	sfdisk --json "$1" 2>/dev/null | python3 -c '
import json, re, sys
t = json.load(sys.stdin)["partitiontable"]
for p in t.get("partitions", []):
    n = re.search(r"(\d+)$", p["node"]).group(1)
    print(n, p["start"], p["size"], p["type"], p.get("uuid", "-"),
          p.get("name", ""))
' | sed 's/ *$//' | sort -n
}

cmp_part() {
	"$FMTCAT" part "$1" >"$T/p.a" 2>"$T/err" || { bad "part $1: $(cat "$T/err")"; return; }
	grep -v '^#' "$T/p.a" | sed 's/ *$//' | sort -n >"$T/p.a2"
	sfjson "$1" >"$T/p.b"
	if [ -s "$T/p.b" ] && cmp -s "$T/p.a2" "$T/p.b"; then ok; else
		bad "part $1: differs from sfdisk --json"
		diff "$T/p.a2" "$T/p.b" | head -10
	fi
}

# MBR with an extended partition and logicals
truncate -s 64M "$T/m.img"
printf 'label: dos\n2048,8192,c,*\n,20M,83\n,,5\n,5M,83\n,5M,7\n,2M,a5\n' |
    sfdisk -q "$T/m.img" >/dev/null 2>&1
cmp_part "$T/m.img"
check "MBR has logical 7" grep -q '^7 ' "$T/p.a"

# GPT made by sgdisk, with the ISO copied into partition 2
truncate -s 64M "$T/g.img"
sgdisk -n1:2048:+8M -t1:ef00 -c1:"EFI System" -n2:0:+20M -t2:8300 \
    -c2:"root fs" -n4:0:0 -t4:a503 -c4:"ufs" "$T/g.img" >/dev/null 2>&1
off=$(sfdisk --json "$T/g.img" | python3 -c '
import json, sys
print(json.load(sys.stdin)["partitiontable"]["partitions"][1]["start"])')
dd if="$T/a.iso" of="$T/g.img" bs=512 seek="$off" conv=notrunc 2>/dev/null
cmp_part "$T/g.img"
check "ISO inside GPT partition 2" sh -c \
    "'$FMTCAT' -p 2 cat '$T/g.img' /random.bin | cmp -s - '$S/random.bin'"
"$FMTCAT" part "$T/g.img" >"$T/before"

# GPT primary header damaged -> backup used, same partitions
cp "$T/g.img" "$T/gd.img"
printf 'XXXX' | dd of="$T/gd.img" bs=1 seek=$((512 + 16)) conv=notrunc 2>/dev/null
"$FMTCAT" part "$T/gd.img" >"$T/after" 2>&1
check "backup GPT used when the primary header CRC is wrong" \
    grep -q "backup-used: primary GPT header at LBA 1: header CRC mismatch" "$T/after"
grep -v '^#' "$T/before" >"$T/p.before"
grep -v '^#' "$T/after" >"$T/p.after"
check "backup GPT gives the same partitions" cmp -s "$T/p.before" "$T/p.after"
# primary entry array damaged -> backup used
cp "$T/g.img" "$T/ge.img"
printf 'Z' | dd of="$T/ge.img" bs=1 seek=$((1024 + 60)) conv=notrunc 2>/dev/null
"$FMTCAT" part "$T/ge.img" >"$T/after" 2>&1
check "backup GPT used when the primary entries CRC is wrong" \
    grep -q "entry array CRC mismatch" "$T/after"
# both damaged -> refused
printf 'Z' | dd of="$T/gd.img" bs=1 seek=$((64 * 1048576 - 512 + 20)) \
    conv=notrunc 2>/dev/null
check "both GPT headers damaged is an error" sh -c \
    "! '$FMTCAT' part '$T/gd.img' >/dev/null 2>&1"

# isohybrid: MBR (ISO as partition 1, 0xCD; EFI image appended as 2)
truncate -s 2M "$T/efi.img"
mkfs.vfat "$T/efi.img" >/dev/null 2>&1
xorriso -as mkisofs -R -J -V LIVEHY -o "$T/hy.iso" -partition_offset 16 \
    -append_partition 2 0xef "$T/efi.img" "$S" >/dev/null 2>&1
cmp_part "$T/hy.iso"
check "isohybrid MBR: ISO at 0" sh -c \
    "'$FMTCAT' cat '$T/hy.iso' /random.bin | cmp -s - '$S/random.bin'"
check "isohybrid MBR: ISO in partition 1" sh -c \
    "'$FMTCAT' -p 1 cat '$T/hy.iso' /random.bin | cmp -s - '$S/random.bin'"
# isohybrid GPT
xorriso -as mkisofs -R -J -V LIVEGPT -o "$T/hg.iso" -partition_offset 16 \
    -appended_part_as_gpt -append_partition 2 \
    C12A7328-F81F-11D2-BA4B-00A0C93EC93B "$T/efi.img" "$S" >/dev/null 2>&1
cmp_part "$T/hg.iso"
check "isohybrid GPT: ISO in partition 1" sh -c \
    "'$FMTCAT' -p 1 cat '$T/hg.iso' '/$u8' | cmp -s - '$S/$u8'"

# --- a multi-extent file over 4 GiB --------------------------------------
if [ "${ISO_PART_HUGE:-1}" != 0 ]; then
	H=$T/huge
	mkdir -p "$H"
	sz=$((4300 * 1048576))
	b=4294965248	# xorriso's extent size: 4 GiB - 2048
	truncate -s "$sz" "$H/huge.bin"
	printf 'HEAD' | dd of="$H/huge.bin" conv=notrunc 2>/dev/null
	printf 'ACROSS-THE-EXTENT-BOUNDARY' | dd of="$H/huge.bin" bs=1 \
	    seek=$((b - 10)) conv=notrunc 2>/dev/null
	printf 'TAIL' | dd of="$H/huge.bin" bs=1 seek=$((sz - 4)) \
	    conv=notrunc 2>/dev/null
	echo small >"$H/small.txt"
	xorriso -md5 off -outdev - -joliet on -map "$H" / 2>/dev/null |
	    cp --sparse=always /dev/stdin "$T/h.iso"
	"$FMTCAT" extents "$T/h.iso" /huge.bin >"$T/ext" 2>&1
	xorriso -indev "$T/h.iso" -find /huge.bin -exec report_sections -- \
	    2>/dev/null | awk -F, '/^File data lba/ { gsub(/ /, "");
	    printf "%.0f %s\n", $2 * 2048, $4 }' >"$T/ext.x"
	if [ "$(wc -l <"$T/ext")" -ge 2 ] && cmp -s "$T/ext" "$T/ext.x"; then
		ok
	else
		bad "multi-extent: extents differ from xorriso report_sections"
		cat "$T/ext" "$T/ext.x"
	fi
	for range in "0 4096" "$((b - 4096)) 8192" "$((sz - 5000)) 5000"; do
		# shellcheck disable=SC2086
		set -- $range
		"$FMTCAT" range "$T/h.iso" /huge.bin "$1" "$2" >"$T/r.a"
		dd if="$H/huge.bin" bs=1024 skip="$1" count="$2" \
		    iflag=skip_bytes,count_bytes 2>/dev/null >"$T/r.b"
		check "multi-extent bytes $range" cmp -s "$T/r.a" "$T/r.b"
	done
	check "multi-extent size (Joliet tree)" sh -c \
	    "'$FMTCAT' -R ls '$T/h.iso' | grep -q '^/huge.bin	$sz	f	2\$'"
	check "small file after a multi-extent one" sh -c \
	    "'$FMTCAT' cat '$T/h.iso' /small.txt | cmp -s - '$H/small.txt'"
	rm -f "$T/h.iso" "$H/huge.bin"
else
	echo "iso_part: multi-extent >4 GiB image skipped (ISO_PART_HUGE=0)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
