#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e, the installed copy (issue 10, scenario 8): this build installed into
# a DESTDIR with `meson install`; that copy's `liveroot mklive`, run from an
# empty directory, builds the example live system with the installed
# liveroot-init (found under libexecdir, not in the build tree) and the
# kernel named by --kernel/--modules-dir, and its ISO boots as scenario 1
# does: SeaBIOS, the IDE CD, no -kernel (GRUB on the serial console:
# --serial).
. "$(dirname "$0")/lib.sh"
e2e_init

setup_fail() {
	E2E_FAILS=$((E2E_FAILS + 1))
	echo "FAIL - $E2E_SCEN: $1"
	[ -z "${2:-}" ] || cat "$2"
	e2e_done
}

D=$RUN/dest
meson install -C "$BUILDDIR" --no-rebuild --destdir "$D" > "$RUN/install.log" 2>&1 ||
    setup_fail "meson install --destdir $D" "$RUN/install.log"
LR=$(find "$D" -path '*/bin/liveroot' -type f | head -n 1)
INIT=$(find "$D" -path '*/libexec/liveroot/liveroot-init' -type f | head -n 1)
[ -x "$LR" ] && [ -x "$INIT" ] ||
    setup_fail "no bin/liveroot and libexec/liveroot/liveroot-init under $D"
e2e_ok "meson install: $LR, $INIT"

sh "$SRCDIR/examples/tiny-root/build.sh" "$RUN/tree" > "$RUN/tree.log" 2>&1 ||
    setup_fail "examples/tiny-root/build.sh" "$RUN/tree.log"
mkdir -p "$RUN/work"
(cd "$RUN/work" && unset LIVEROOT_CACHE &&
    "$LR" mklive --serial --kernel "$VMLINUZ" --modules-dir "$MODULES" \
    -o "$RUN/live" "$RUN/tree") \
    > "$RUN/mklive.log" 2>&1 ||
    setup_fail "the installed liveroot mklive" "$RUN/mklive.log"
mkdir -p "$RUN/iroot"
(cd "$RUN/iroot" && zstd -dc "$RUN/live/initramfs.img" | cpio -id --quiet init) 2>/dev/null
if cmp -s "$RUN/iroot/init" "$INIT"; then
	e2e_ok "the initramfs /init is the installed liveroot-init"
else
	setup_fail "the initramfs /init is not the installed liveroot-init"
fi

E2E_NOKERNEL=1 e2e_boot seabios-cd -M pc -cdrom "$RUN/live/live.iso"
e2e_expect "liveroot: found root image by local on /dev/sr0" 180 "seabios-cd: the installed copy's ISO boots from SeaBIOS and is found on the CD"
e2e_expect_live none

e2e_done
