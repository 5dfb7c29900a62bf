#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e, issue 11 #4: the root image checked at boot.  An initramfs built with
# `mklive --pubkey` boots the image `mklive --sign` signed with that key
# ("signature OK"), and refuses, with a diagnosis naming the key, the
# example ISO that has no signature and an ISO whose rootfs.uzip.sig is
# another key's.  live.sha256= is checked for a CD too (wrong: refused;
# right: "sha256 OK").  live.check=1 reads and decompresses the whole
# image before use: a good CD passes, a CD whose rootfs.uzip has a corrupt
# cluster is refused before anything mounts it.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need signify-openbsd signify-openbsd
e2e_need perl perl-base

mksigned() {
	t=$IMG/signed.tmp
	rm -rf "$t"
	mkdir -p "$t"
	signify-openbsd -G -n -p "$t/k.pub" -s "$t/k.sec" -c "e2e key" &&
	    signify-openbsd -G -n -p "$t/o.pub" -s "$t/o.sec" -c "other key" &&
	    "$LIVEROOT" mklive -q --init "$E2E_INIT" --kernel-dir "$E2E_KDIR" \
	    --boot none --sign "$t/k.sec" --pubkey "$t/k.pub" -L SIGNED \
	    -o "$t/live" "$IMG/tree" &&
	    signify-openbsd -S -s "$t/o.sec" -m "$t/live/rootfs.uzip" -x "$t/other.sig" &&
	    mkdir -p "$t/other" && cp "$t/live/rootfs.uzip" "$t/other/" &&
	    cp "$t/other.sig" "$t/other/rootfs.uzip.sig" &&
	    xorriso -as mkisofs -quiet -r -V SIGNED -o "$t/other.iso" "$t/other" &&
	    mkdir -p "$t/corrupt" && cp "$LIVE/rootfs.uzip" "$t/corrupt/" &&
	    perl -e '
		open(my $f, "+<", $ARGV[0]) or die; binmode $f;
		seek($f, 136, 0); read($f, my $b, 16);
		my ($hi0, $lo0, $hi1, $lo1) = unpack("NNNN", $b);
		my ($o0, $o1) = ($hi0 * 4294967296 + $lo0, $hi1 * 4294967296 + $lo1);
		die "cluster 0 is empty\n" if $o1 <= $o0 + 16;
		seek($f, $o0 + int(($o1 - $o0) / 2), 0);
		print $f "\xde\xad\xbe\xef" x 4; close $f;' "$t/corrupt/rootfs.uzip" &&
	    xorriso -as mkisofs -quiet -r -V LIVEROOT -o "$t/corrupt.iso" "$t/corrupt" &&
	    mv "$t" "$IMG/signed"
}
e2e_once signed mksigned || { e2e_fail "building the signed images"; e2e_done; }
S=$IMG/signed

E2E_INITRD=$S/live/initramfs.img e2e_boot good -M pc -cdrom "$S/live/live.iso"
e2e_expect "liveroot: signature OK" 90 "good: the image signed with the initramfs' key is accepted"
e2e_expect_live none

E2E_ABORT="" E2E_INITRD=$S/live/initramfs.img e2e_boot unsigned -M pc -cdrom "$LIVE/live.iso"
e2e_expect "has no signature" 90 "unsigned: an image without rootfs.uzip.sig is refused"
e2e_reject "LIVEROOT-MARKER: live system up" "unsigned: the unsigned root was not used"
e2e_end 5 || :

E2E_ABORT="" E2E_INITRD=$S/live/initramfs.img e2e_boot otherkey -M pc -cdrom "$S/other.iso"
e2e_expect "not by this public key" 90 "otherkey: a signature of another key is refused, naming both keys"
e2e_reject "LIVEROOT-MARKER: live system up" "otherkey: that root was not used"
e2e_end 5 || :

sha=$(sha256sum "$LIVE/rootfs.uzip" | cut -d' ' -f1)
E2E_ABORT="" E2E_APPEND="live.sha256=$(echo "$sha" | tr 0-9a-f 1-9a-f0)" e2e_boot badsha -M pc -cdrom "$LIVE/live.iso"
e2e_expect "sha256 MISMATCH" 90 "badsha: a wrong live.sha256= refuses the CD's image"
e2e_reject "LIVEROOT-MARKER: live system up" "badsha: that root was not used"
e2e_end 5 || :

E2E_APPEND="live.sha256=$sha" e2e_boot goodsha -M pc -cdrom "$LIVE/live.iso"
e2e_expect "liveroot: sha256 OK" 90 "goodsha: live.sha256= is checked for a CD too"
e2e_expect_live none

E2E_APPEND="rd.live.check" e2e_boot check -M pc -cdrom "$LIVE/live.iso"
e2e_expect "liveroot: check: decompressing:" 90 "check: rd.live.check (live.check=1) decompressed the whole image before use"
e2e_expect_live none

E2E_ABORT="" E2E_APPEND="live.check=1" e2e_boot corrupt -M pc -cdrom "$S/corrupt.iso"
e2e_expect "is damaged" 90 "corrupt: live.check=1 refuses a CD whose image has a corrupt cluster"
e2e_reject "liveroot: mounted" "corrupt: nothing mounted the damaged image"
e2e_end 5 || :
e2e_done
