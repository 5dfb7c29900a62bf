# SPDX-License-Identifier: BSD-2-Clause
#
# ventoy_param.py IMG JSON OUT DISK_SIZE - forges the Ventoy os_param (512
# bytes, checksummed) and its location list for /live.iso on the Ventoy
# disk IMG, from `liveroot locate --json IMG` output in JSON, into OUT.
# Used by bench/locate/run.sh and fuzz/gen_locate_seeds.sh.
import json, struct, sys
img, js, out, disk_size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
j = json.load(open(js))
mbr = open(img, 'rb').read(512)
guid = bytes([0x20, 0x20, 0x77, 0x77, 0x77, 0x2e, 0x76, 0x65, 0x6e, 0x74,
              0x6f, 0x79, 0x2e, 0x6e, 0x65, 0x74])
reg = b''.join(struct.pack('<IIQ', e['len'] // 2048, e['voff'] // 2048,
               e['loff'] // 512) for e in j['iso_extents'])
loc = guid + struct.pack('<III', 2048, 512, len(j['iso_extents'])) + reg
p = bytearray(512)
p[0:16] = guid
p[17:33] = mbr[0x180:0x190]
struct.pack_into('<QHH', p, 33, disk_size, 1, 0)
p[45:54] = b'/live.iso'
struct.pack_into('<QQI', p, 429, j['iso_size'], 0, len(loc))
p[481:485] = mbr[0x1b8:0x1bc]
p[16] = (-sum(p)) & 0xff
open(out, 'wb').write(bytes(p) + loc)
