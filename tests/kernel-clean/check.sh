#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# kernel-clean: compile every source of lib/util and lib/fmt (except the
# userland-only libc_alloc.c) with -ffreestanding -nostdinc -D_KERNEL against
# tests/kernel-clean/stub, which offers only what the FreeBSD kernel offers.
# A file that includes a libc header or calls malloc/printf fails here.
set -u
: "${SRCDIR:?}"
CC=${CC:-cc}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pass=0 fail=0
for f in "$SRCDIR"/lib/util/*.c "$SRCDIR"/lib/fmt/*.c; do
	[ -f "$f" ] || continue
	case $(basename "$f") in libc_alloc.c) continue ;; esac
	# -fno-pie: kernel code is not position-independent (kern.mk), and a
	# PIE compiler would reach for _GLOBAL_OFFSET_TABLE_ on a function pointer
	if $CC -std=c11 -ffreestanding -nostdinc -fno-builtin -D_KERNEL -fno-pie \
	    -Werror=implicit-function-declaration -Werror=int-conversion \
	    -I"$SRCDIR/tests/kernel-clean/stub" -I"$SRCDIR/include" \
	    -I"$SRCDIR/lib" -c "$f" -o "$out/x.o" 2>"$out/err"; then
		# Undefined symbols must all be ones the kernel provides.
		bad=$(nm -u "$out/x.o" | awk '{print $2}' | grep -vxE \
		    'mem(cpy|move|set|cmp|chr)|str(len|nlen|cmp|ncmp|casecmp|ncasecmp|chr|rchr)|v?snprintf|lr_[a-z0-9_]+|diag_[a-z_]+|fmt_[a-z0-9_]+|rowrmap_[a-z0-9_]+|__stack_chk_fail|__popcountdi2|__ctzdi2' || true)
		if [ -n "$bad" ]; then
			echo "FAIL $(basename "$f"): calls what the kernel lacks: $bad"
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	else
		echo "FAIL $(basename "$f"): does not compile kernel-clean:"
		head -5 "$out/err"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
