# SPDX-License-Identifier: BSD-2-Clause
# gen_blob.py IN OUT SYMBOL: an assembler file that carries the file IN as
# the bytes between SYMBOL and SYMBOL_end (.incbin; hidden symbols).
import os
import sys

src, out, sym = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(out, "w") as f:
    f.write("\t.section .rodata\n\t.balign 16\n")
    for s in (sym, sym + "_end"):
        f.write("\t.globl %s\n\t.hidden %s\n" % (s, s))
    f.write('%s:\n\t.incbin "%s"\n%s_end:\n' % (sym, src, sym))
    f.write('\t.section .note.GNU-stack,"",@progbits\n')
