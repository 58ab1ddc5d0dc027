// The customer shard rule in JS (shard.js, exported by prefrec.js) against the files the C
// exporter wrote (src/train/pack_export.c: <stem>.cust.%03d.pack, FNV-1a-32 % N): every customer
// of every committed sample shard (models/sample) is found by shardPath in the file it is in.
// Also: the pack reader of the models manifest refuses damaged packs by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fnv1a32, shardCount, shardFile, shardOf, shardPath } from '../shard.js';
import { packCustomers, readPack } from '../kiosk/models-manifest.mjs';

const sample = join(dirname(fileURLToPath(import.meta.url)), '../../models/sample');

test('shardFile and shardPath name files as prefrec export does', () => {
  assert.equal(fnv1a32('a'), 0xe40c292c); // FNV-1a test vector
  assert.equal(shardFile('A01.item.pack', 7), 'A01.cust.007.pack');
  assert.equal(shardFile('models/A01.pack', 0), 'models/A01.cust.000.pack');
  assert.equal(shardFile('/m/A01.item.pack', 4095), '/m/A01.cust.4095.pack');
  assert.equal(shardPath('m/A01.item.pack', 'M1', 4), `m/A01.cust.00${fnv1a32('M1') % 4}.pack`);
  assert.equal(shardCount(4096), 4096);
  assert.throws(() => shardFile('A01.item.pack', 4096), /shard must be an integer 0\.\.4095, got 4096/);
  assert.throws(() => shardFile('A01.item.pack', -1), /shard must be an integer/);
  assert.throws(() => shardFile('A01.json', 0), /A01\.json: an item pack name ends in \.item\.pack or \.pack/);
  assert.throws(() => shardPath('A01.item.pack', 'M1', 0), /shards must be an integer 1\.\.4096, got 0/);
});

test('every customer of the committed sample shards is where shardPath says (C and JS agree)', () => {
  const items = readdirSync(sample).filter((f) => f.endsWith('.item.pack')).sort();
  assert.equal(items.length, 6);
  let checked = 0;
  for (const item of items) {
    const p = readPack(readFileSync(join(sample, item)), item);
    const n = p.manifest.shards;
    assert.equal(n, 4, `${item}: shards`);
    for (let s = 0; s < n; s++) {
      const f = shardFile(item, s);
      const buf = readFileSync(join(sample, f)); // the C exporter's name: throws if JS names it otherwise
      const sp = readPack(buf, f);
      assert.equal(sp.manifest.shard, s, `${f}: manifest shard`);
      assert.equal(sp.manifest.item_crc, p.crc, `${f}: item_crc`);
      const codes = packCustomers(sp, buf, f);
      assert.ok(codes.length > 0, `${f}: no customers`);
      for (const { code } of codes) {
        assert.equal(shardPath(item, code, n), f, `${item}: customer ${code}`);
        assert.equal(shardOf(code, n), s);
        checked++;
      }
    }
  }
  assert.ok(checked > 100, `only ${checked} customers checked`);
});

test('the manifest pack reader refuses damaged packs, naming the file and what', () => {
  const good = readFileSync(join(sample, 'A01.cust.000.pack'));
  const bad = (mutate) => {
    const b = Buffer.from(good);
    return mutate(b) || b;
  };
  assert.throws(() => readPack(good.subarray(0, 40), 'x.pack'), /^Error: x\.pack: not a valid prefrec pack: 40 bytes, shorter than the 64-byte header$/);
  assert.throws(() => readPack(bad((b) => { b[0] = 0x51; }), 'x.pack'), /x\.pack: not a valid prefrec pack: wrong magic/);
  assert.throws(() => readPack(bad((b) => { b.writeUInt32LE(5, 8); }), 'x.pack'), /format version 5 at byte 8/);
  assert.throws(() => readPack(good.subarray(0, good.length - 1), 'x.pack'), /file size \d+ at byte 16, but the file has \d+ bytes/);
  assert.throws(() => readPack(bad((b) => { b.writeUInt32LE(5000, 36); }), 'x.pack'), /5000 tensors at byte 36/);
  assert.throws(() => readPack(bad((b) => { b.writeUInt32LE(1 << 30, 28); }), 'x.pack'), /tensor table offset \d+ at byte 32/);
  assert.throws(() => readPack(bad((b) => { b[b.length - 1] ^= 1; }), 'x.pack'), /CRC32 [0-9a-f]+ of the contents, header says [0-9a-f]+/);
  // every single-byte change of the header is refused (the CRC covers what the checks do not)
  for (let i = 0; i < 64; i++) {
    assert.throws(() => readPack(bad((b) => { b[i] ^= 0x20; }), 'x.pack'), /x\.pack: not a valid prefrec pack: /, `byte ${i}`);
  }
});
