#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""mkext4.py - an ext2/3/4 image holding files as `cp` onto a mounted
file system leaves them (every block allocated and written), without a
mount and without root.

    mkext4.py [--frag N] [--mkfs OPTS] [--label L] IMG SIZE SRC:DEST...

mke2fs -d and debugfs' write turn every all-zero block of a file into a
hole, and an ISO has zero blocks, so each file is placed in two steps:
debugfs writes a placeholder of the same size with no zero byte in it (so
every block is allocated), then the file's own bytes are written into the
blocks `debugfs -R stat` lists for it (logical block order).  With --frag N,
N files of 64 KiB are written first and every other one removed, so the
placed files are fragmented.  Each placed file is checked with
`debugfs -R dump` against its source.  DEST directories are made.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def run(args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, **kw)


def debugfs(img, req, write=False):
    args = ['debugfs'] + (['-w'] if write else []) + ['-R', req, img]
    return run(args).stdout.decode('utf-8', 'replace')


def quote(p):
    return '"' + p + '"'


def main(argv):
    frag, mkfs, label = 0, '-t ext4', 'DATA'
    while argv and argv[0].startswith('--'):
        opt = argv.pop(0)
        if opt == '--frag':
            frag = int(argv.pop(0))
        elif opt == '--mkfs':
            mkfs = argv.pop(0)
        elif opt == '--label':
            label = argv.pop(0)
        else:
            sys.exit('mkext4.py: unknown option ' + opt)
    if len(argv) < 2:
        sys.exit(__doc__)
    img, size, files = argv[0], argv[1], [a.split(':', 1) for a in argv[2:]]
    tmp = tempfile.mkdtemp(prefix='mkext4.')
    try:
        tree = os.path.join(tmp, 'tree')
        os.makedirs(os.path.join(tree, 'fill'))
        for i in range(frag):
            with open(os.path.join(tree, 'fill', 'f%03d' % i), 'wb') as f:
                f.write(os.urandom(65536))
        if os.path.exists(img):
            os.unlink(img)
        run(['mke2fs', '-q', '-F', '-L', label] + mkfs.split() +
            ['-d', tree, img, size])
        bs = int(re.search(r'Block size:\s+(\d+)',
                           debugfs(img, 'stats')).group(1))
        cmds = [('rm /fill/f%03d' % i) for i in range(0, frag, 2)]
        made = set()
        for n, (src, dest) in enumerate(files):
            parts = dest.strip('/').split('/')
            for k in range(1, len(parts)):
                d = '/' + '/'.join(parts[:k])
                if d not in made:
                    made.add(d)
                    cmds.append('mkdir ' + quote(d))
            ph = os.path.join(tmp, 'ph%d' % n)
            left = os.path.getsize(src)
            with open(ph, 'wb') as f:
                while left > 0:
                    k = min(left, 1 << 20)
                    f.write(b'\xff' * k)
                    left -= k
            cmds.append('write %s %s' % (quote(ph), quote(dest)))
        cf = os.path.join(tmp, 'cmds')
        with open(cf, 'w') as f:
            f.write('\n'.join(cmds) + '\n')
        run(['debugfs', '-w', '-f', cf, img])
        ext = re.compile(r'\((\d+)(?:-(\d+))?(?:\[u\])?\):(\d+)(?:-(\d+))?')
        for src, dest in files:
            st = debugfs(img, 'stat ' + quote(dest))
            m = re.search(r'(BLOCKS|EXTENTS):\n(.*?)(\n\n|\Z)', st, re.S)
            if m is None:
                sys.exit('mkext4.py: no block list for ' + dest)
            sz = os.path.getsize(src)
            want = (sz + bs - 1) // bs
            nxt = 0
            with open(src, 'rb') as s, open(img, 'r+b') as o:
                for l1, l2, p1, p2 in ext.findall(m.group(2)):
                    l1, p1 = int(l1), int(p1)
                    l2 = int(l2) if l2 else l1
                    if l1 != nxt:
                        sys.exit('mkext4.py: %s: block %d missing' %
                                 (dest, nxt))
                    s.seek(l1 * bs)
                    o.seek(p1 * bs)
                    o.write(s.read((l2 - l1 + 1) * bs))
                    nxt = l2 + 1
            if nxt < want:
                sys.exit('mkext4.py: %s: %d of %d blocks' % (dest, nxt, want))
            out = os.path.join(tmp, 'dump')
            debugfs(img, 'dump %s %s' % (quote(dest), quote(out)))
            with open(out, 'rb') as a, open(src, 'rb') as b:
                while True:
                    x, y = a.read(1 << 20), b.read(1 << 20)
                    if x != y:
                        sys.exit('mkext4.py: %s: debugfs dump differs' %
                                 dest)
                    if not x:
                        break
            os.unlink(out)
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    main(sys.argv[1:])
