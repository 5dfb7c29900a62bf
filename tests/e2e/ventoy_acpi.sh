#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e scenario 5, Ventoy layout with os_param delivered as a real ACPI
# table: the test builds the "VTOY" table (36-byte ACPI header, Ventoy's
# 512-byte os_param, its image location list; every checksum right) and
# QEMU installs it with -acpitable, as Ventoy's boot loader would.  The ISO's
# fragments come from `liveroot locate --json`, checked independently first:
# the disk bytes at those offsets must equal the ISO file byte for byte.
. "$(dirname "$0")/lib.sh"
e2e_init
. "$(dirname "$0")/ventoy-disk.sh"

mkacpi() {
	t=$RUN/vtoy
	"$LIVEROOT" locate --strategy ventoy --json "$IMG/ventoy.img" > "$t.json" || return 1
	# the oracle: the ISO's bytes read back from the disk at those extents
	sed 's/"extents"/\n&/' "$t.json" | head -n 1 |
	    grep -o '"voff": [0-9]*, "loff": [0-9]*, "len": [0-9]*' |
	    sed 's/[^0-9 ]//g' > "$t.ext"
	[ "$(wc -l < "$t.ext")" -gt 1 ] || { echo "the ISO is not fragmented"; return 1; }
	: > "$t.iso"
	while read -r voff loff len; do
		dd if="$IMG/ventoy.img" bs=512 skip=$((loff / 512)) count=$((len / 512)) status=none >> "$t.iso"
		if [ $((len % 512)) != 0 ]; then
			dd if="$IMG/ventoy.img" bs=1 skip=$((loff + len / 512 * 512)) count=$((len % 512)) status=none >> "$t.iso"
		fi
	done < "$t.ext"
	cmp "$t.iso" "$LIVE/live.iso" || { echo "locate's ISO extents do not hold the ISO"; return 1; }
	rm -f "$t.iso"
	perl -e '
	use strict;
	my ($extf, $disk, $diskid, $sig, $isosz, $out) = @ARGV;
	my $guid = pack("C16", 0x20,0x20,0x77,0x77,0x77,0x2e,0x76,0x65,0x6e,0x74,0x6f,0x79,0x2e,0x6e,0x65,0x74);
	open(my $fh, "<", $extf) or die;
	my @r;
	while (<$fh>) {
		my ($voff, $loff, $len) = split;
		push @r, pack("VVQ<", int(($len + 2047) / 2048), $voff / 2048, $loff / 512);
	}
	my $loc = $guid . pack("VVV", 2048, 512, scalar @r) . join("", @r);
	my $p = $guid . "\0" . pack("H32", $diskid) . pack("Q<", -s $disk) .
	    pack("vv", 1, 0) . pack("a384", "/live.iso") . pack("Q<", $isosz) .
	    pack("Q<V", 0, length $loc) . ("\0" x 32) . pack("V", $sig);
	$p .= "\0" x (512 - length $p);
	my $s = 0; $s += $_ for unpack("C*", $p);
	substr($p, 16, 1) = chr((256 - $s % 256) % 256);
	my $body = $p . $loc;
	my $t = "VTOY" . pack("V", 36 + length $body) . pack("CC", 1, 0) .
	    "LVROOT" . "LIVEROOT" . pack("V", 1) . "LVRT" . pack("V", 1) . $body;
	$s = 0; $s += $_ for unpack("C*", $t);
	substr($t, 9, 1) = chr((256 - $s % 256) % 256);
	open(my $o, ">", $out) or die; binmode $o; print $o $t; close $o;
	' "$t.ext" "$IMG/ventoy.img" "$VTOY_DISKID" "$((VTOY_SIG))" \
	    "$(stat -c %s "$LIVE/live.iso")" "$IMG/vtoy.acpi"
}
if mkacpi > "$RUN/acpi.log" 2>&1; then
	e2e_ok "the ISO's $(wc -l < "$RUN/vtoy.ext") extents from locate hold the ISO byte for byte; VTOY table built"
else
	cat "$RUN/acpi.log"
	E2E_NAME=acpi E2E_LOG=$RUN/acpi.log E2E_ERR=/dev/null E2E_T0=$(date +%s) e2e_fail "building the VTOY ACPI table"
	e2e_done
fi

# shellcheck disable=SC2086
e2e_boot acpi -M pc -acpitable "file=$IMG/vtoy.acpi" $VTOY_DISK
e2e_expect "liveroot: ventoy: os_param found in the ACPI table VTOY" 90 "acpi: os_param read from /sys/firmware/acpi/tables/VTOY"
e2e_expect "liveroot: found root image by ventoy on /dev/vda" 90 "acpi: found by ventoy through os_param"
e2e_expect_live none
e2e_done
