#!/usr/bin/env python3
"""packdump.py - an independent reader of prefrec packs for the shell tests (docs/model.md, "The
pack format"): checks the header, the CRC32 and the tensor table, and prints one JSON object per
file: {"file", "manifest", "tensors": {name: [dtype, shape]}, "strings": {base: [...]}, "floats":
{name: [...]}} with every string table (<base>.off + <base>.str) decoded and, with --floats
NAME, that f32 tensor's values. Exit 1 naming the file and what when a pack is not valid.
  python3 packdump.py [--floats NAME ...] FILE...
"""
import json
import struct
import sys
import zlib

DTYPES = {0: ('f32', 4), 1: ('f16', 2), 2: ('i8', 1), 3: ('u8', 1), 4: ('i32', 4), 5: ('u32', 4),
          6: ('q8r', 1), 7: ('q4r', 1), 8: ('q8c', 1), 9: ('q4c', 1), 10: ('u16', 2), 11: ('u8d', 1),
          12: ('pc8', 1), 13: ('pc16', 2), 14: ('d16', 2), 15: ('r16', 2), 16: ('pcx', 1)}
# 6..15: version 2 (and 3: version 2 with compact neighbour lists, blend.*.rows); 6..9: an f32 scale per row on top (8, 9: and a codebook of 256 / 16 levels);
# 12, 13: a prior and rows + 1 segment sizes, and a count row more; 15: an offset and a denominator;
# 16: version 4, a prior, rows + 1 sizes, the escapes' number e, rows + 1 flags, a byte a count
# (two when flagged) of the rows whose size (bit 31 masked) is not 0, then e escapes of 8 bytes


def pcx_bytes(buf, off, shape):
    rows = shape[0] if len(shape) > 1 else 1
    head = 8 + 5 * (rows + 1) + 4
    if off + head > len(buf):
        return head
    sizes = struct.unpack_from(f'<{rows + 1}I', buf, off + 8)
    e, = struct.unpack_from('<I', buf, off + 8 + 4 * (rows + 1))
    flags = buf[off + 12 + 4 * (rows + 1):off + head]
    planes = sum(1 + (f != 0) for x, f in zip(sizes, flags) if x & 0x7FFFFFFF)
    n = 1
    for d in shape:
        n *= d
    return head + planes * (n // rows if rows else 0) + 8 * e


def stored_bytes(dtype, shape):
    n = 1
    for d in shape:
        n *= d
    rows = shape[0] if len(shape) > 1 else 1
    if dtype in (6, 8):
        return 4 * rows + n + (1024 if dtype == 8 else 0)
    if dtype in (7, 9):
        return (rows * (4 + (n // rows + 1) // 2) if rows else 0) + (64 if dtype == 9 else 0)
    if dtype in (12, 13):
        return 8 + 4 * (rows + 1) + ((n + n // rows) * DTYPES[dtype][1] if rows else 0)
    if dtype == 15:
        return 16 + 2 * n
    return n * DTYPES[dtype][1]


def dump(path, floats):
    buf = open(path, 'rb').read()
    bad = lambda what: SystemExit(f'{path}: not a valid prefrec pack: {what}')
    if len(buf) < 64 or buf[:8] != b'PRFPACK\0':
        raise bad('short or wrong magic')
    version, hsize, fsize, moff, mlen, toff, n, doff, dlen, flags, crc = struct.unpack_from(
        '<IIQIIIIQQII', buf, 8)
    if version not in (1, 2, 3, 4) or hsize != 64 or fsize != len(buf) or flags != 0:
        raise bad(f'header: version {version}, header size {hsize}, file size {fsize}')
    if zlib.crc32(buf[64:], zlib.crc32(buf[:60])) != crc:
        raise bad('CRC32')
    manifest = json.loads(buf[moff:moff + mlen].decode('utf-8'))
    tensors, raw = {}, {}
    for i in range(n):
        e = toff + 64 * i
        name = buf[e:e + 32].rstrip(b'\0').decode('ascii')
        dtype, ndim = struct.unpack_from('<II', buf, e + 32)
        shape = list(struct.unpack_from('<4I', buf, e + 40))[:ndim]
        off, = struct.unpack_from('<Q', buf, e + 56)
        if dtype not in DTYPES or not 1 <= ndim <= 4 or (dtype >= 6 and version < 2) or (dtype == 16 and version < 4):
            raise bad(f'tensor {name}: dtype {dtype}, ndim {ndim}')
        size = pcx_bytes(buf, off, shape) if dtype == 16 else stored_bytes(dtype, shape)
        if off < doff or off + size > len(buf):
            raise bad(f'tensor {name} outside the file')
        tensors[name] = [DTYPES[dtype][0], shape]
        raw[name] = buf[off:off + size]
    strings = {}
    for name in tensors:
        if name.endswith('.off') and name[:-4] + '.str' in tensors:
            base = name[:-4]
            if tensors[name][0] == 'u8d':  # u8 steps: the offsets are their running sums
                offs, total = [], 0
                for step in raw[name]:
                    total += step
                    offs.append(total)
            else:
                offs = struct.unpack(f'<{len(raw[name]) // 4}I', raw[name])
            s = raw[base + '.str']
            strings[base] = [s[offs[i]:offs[i + 1] - 1].decode('utf-8') for i in range(len(offs) - 1)]
    out = {'file': path, 'manifest': manifest, 'tensors': tensors, 'strings': strings}
    out['floats'] = {f: list(struct.unpack(f'<{len(raw[f]) // 4}f', raw[f])) for f in floats
                     if f in raw and tensors[f][0] == 'f32'}
    return out


def main(argv):
    floats, files = [], []
    it = iter(argv)
    for a in it:
        if a == '--floats':
            floats.append(next(it))
        else:
            files.append(a)
    for f in files:
        print(json.dumps(dump(f, floats), ensure_ascii=False))


if __name__ == '__main__':
    main(sys.argv[1:])
