// models-manifest.mjs - write DIR/manifest.json describing the exported packs in DIR
// (prefrec export: <AFF>.item.pack + <AFF>.cust.NNN.pack), for the kiosk and the shop page:
// which affiliates there are, their shard counts, every file (for the kiosk's offline cache),
// a version that changes whenever any pack changes (the CRC32s in the pack headers), and a few
// example member numbers (customers known to the most affiliates) for the demo pages.
// Public mode (--public; { public: true }), for a site directory (scripts/site.sh): the item
// packs only, and nothing about members: no shards, no example member numbers, no member
// counts; it refuses a directory holding a customer shard, a pack with a customer tensor or a
// member count, or item packs of different exports (SECURITY.md, "Members' data").
//   node web/kiosk/models-manifest.mjs [--public] models/   (scripts/site.sh: --public)
//   import { writeManifest } from './models-manifest.mjs'; await writeManifest(dir, { public: true });
// Reads the documented pack header (checked as the engine checks it: magic, version, sizes,
// CRC32), manifest and customer string table (docs/model.md); shard names by ../shard.js.
import { createHash } from 'node:crypto';
import { readFile, readdir, stat, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { shardFile } from '../shard.js';

const MAGIC = 'PRFPACK\0';
// f32 f16 i8 u8 i32 u32 q8r q4r q8c q4c u16 u8d pc8 pc16 d16 r16 pcx (+ row scales, codebooks,
// segment sizes, denominators, escapes)
const DTYPE_BYTES = [4, 2, 1, 1, 4, 4, 1, 1, 1, 1, 2, 1, 1, 2, 2, 2, 1];
let crcTable;

/** CRC32 (IEEE 802.3 / zlib) of the bytes, continuing from crc. */
function crc32(bytes, crc = 0) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  crc = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 255] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** Header, manifest JSON and tensor table of one pack file's bytes, checked as the engine
 * checks them (docs/model.md, "The pack format"): magic, version, sizes and offsets, the CRC32,
 * the manifest JSON, every tensor inside the data section. Throws naming the file and what. */
export function readPack(buf, name) {
  const bad = (what) => new Error(`${name}: not a valid prefrec pack: ${what}`);
  if (buf.length < 64) throw bad(`${buf.length} bytes, shorter than the 64-byte header`);
  if (buf.toString('latin1', 0, 8) !== MAGIC) throw bad('wrong magic (expected "PRFPACK\\0" at byte 0)');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u32 = (o) => dv.getUint32(o, true), u64 = (o) => Number(dv.getBigUint64(o, true));
  const version = u32(8);
  if (version < 1 || version > 4) throw bad(`format version ${version} at byte 8 (this reader knows versions 1 to 4)`);
  if (u32(12) !== 64) throw bad(`header size ${u32(12)} at byte 12 (expected 64)`);
  if (u64(16) !== buf.length) throw bad(`file size ${u64(16)} at byte 16, but the file has ${buf.length} bytes`);
  const mOff = u32(24), mLen = u32(28), tOff = u32(32), n = u32(36), dOff = u64(40), dLen = u64(48);
  if (mOff !== 64) throw bad(`manifest offset ${mOff} at byte 24 (expected 64)`);
  if (tOff !== mOff + mLen) throw bad(`tensor table offset ${tOff} at byte 32 (expected 64 + manifest size ${mLen})`);
  if (n > 4096) throw bad(`${n} tensors at byte 36 (at most 4096)`);
  if (dOff !== Math.ceil((tOff + 64 * n) / 64) * 64 || dOff > buf.length) throw bad(`data offset ${dOff} at byte 40`);
  if (dLen !== buf.length - dOff) throw bad(`data size ${dLen} at byte 48 (expected ${buf.length - dOff})`);
  if (u32(56) !== 0) throw bad(`flags ${u32(56)} at byte 56 (expected 0)`);
  const crc = u32(60), got = crc32(buf.subarray(64), crc32(buf.subarray(0, 60)));
  if (got !== crc) throw bad(`CRC32 ${got.toString(16)} of the contents, header says ${crc.toString(16)} (damaged or truncated)`);
  let manifest;
  try {
    manifest = JSON.parse(buf.toString('utf8', mOff, mOff + mLen));
  } catch (e) {
    throw bad(`manifest at byte ${mOff}: ${e.message}`);
  }
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) throw bad(`manifest at byte ${mOff} is not a JSON object`);
  const tensors = {};
  for (let i = 0; i < n; i++) {
    const e = tOff + 64 * i;
    const tname = buf.toString('latin1', e, e + 32).replace(/\0+$/, '');
    const dtype = u32(e + 32), ndim = u32(e + 36), offset = u64(e + 56);
    if (!(dtype < DTYPE_BYTES.length) || ndim < 1 || ndim > 4 || (dtype >= 6 && version < 2) || (dtype === 16 && version < 4)) throw bad(`tensor ${i} "${tname}" at byte ${e}: dtype ${dtype}, ndim ${ndim}`);
    const shape = [0, 1, 2, 3].slice(0, ndim).map((d) => u32(e + 40 + 4 * d));
    const elems = shape.reduce((a, b) => a * b, 1), rows = ndim > 1 ? shape[0] : 1;
    // q8r: a f32 scale per row, then a byte a value; q4r: a scale and (cols + 1) / 2 bytes a row;
    // q8c, q4c: the same after a codebook of 256 / 16 f32 levels
    const book = dtype === 8 ? 1024 : dtype === 9 ? 64 : 0;
    // pc8, pc16: a prior, rows + 1 segment sizes and a count row more; r16: offset, denominator;
    // pcx: the prior, the sizes, e, a flag a row, then the rows whose size (bit 31 masked) is not
    // 0, a byte a count (two when flagged), then e escapes of 8 bytes (prefrec/pack.h)
    const head = 8 + 5 * (rows + 1) + 4;
    const pcx = () => {
      if (offset + head > buf.length) return head;
      let planes = 0;
      for (let r = 0; r <= rows; r++) planes += (u32(offset + 8 + 4 * r) & 0x7fffffff) !== 0 ? 1 + (buf[offset + 12 + 4 * (rows + 1) + r] !== 0) : 0;
      return head + planes * (rows ? elems / rows : 0) + 8 * u32(offset + 8 + 4 * (rows + 1));
    };
    const bytes = dtype === 16 ? pcx()
      : dtype === 6 || dtype === 8 ? book + 4 * rows + elems
      : dtype === 7 || dtype === 9 ? book + (rows ? rows * (4 + Math.floor((elems / rows + 1) / 2)) : 0)
        : dtype === 12 || dtype === 13 ? 8 + 4 * (rows + 1) + (rows ? (elems + elems / rows) * DTYPE_BYTES[dtype] : 0)
          : dtype === 15 ? 16 + 2 * elems
            : elems * DTYPE_BYTES[dtype];
    if (offset < dOff || offset + bytes > buf.length) throw bad(`tensor "${tname}" at byte ${e}: data [${offset}, ${offset + bytes}) outside the data section`);
    tensors[tname] = { dtype, shape, offset, bytes };
  }
  return { version, crc, manifest, tensors, dv };
}

/** Customer codes and purchase counts of a customer shard (or full pack) read by readPack; throws
 * naming the file if the string or offset tables do not fit each other. */
export function packCustomers(pack, buf, name) {
  const off = pack.tensors['customer.code.off'], str = pack.tensors['customer.code.str'];
  const boff = pack.tensors['customer.bought.off'];
  if (!off || !str) return [];
  const n = off.shape[0] - 1, out = [];
  const bad = (what) => new Error(`${name}: not a valid prefrec pack: ${what}`);
  if (n < 0 || (boff && boff.shape[0] !== n + 1)) throw bad('customer.code.off and customer.bought.off disagree on the customer count');
  for (let i = 0; i < n; i++) {
    const a = pack.dv.getUint32(off.offset + 4 * i, true), b = pack.dv.getUint32(off.offset + 4 * i + 4, true);
    if (!(a < b && b <= str.bytes)) throw bad(`customer.code.off[${i}] = ${a}..${b} outside customer.code.str (${str.bytes} bytes)`);
    const bought = boff ? pack.dv.getUint32(boff.offset + 4 * i + 4, true) - pack.dv.getUint32(boff.offset + 4 * i, true) : 0;
    out.push({ code: buf.toString('utf8', str.offset + a, str.offset + b - 1), bought });
  }
  return out;
}

// Manifest members of an item pack that count members (prefrec export drops them when the export
// has an export id: --site or --records).
const COUNTS = ['n_customers', 'n_bought'];
const TRAINING_COUNTS = ['pairs', 'train_pairs', 'valid_pairs'];

/** The public manifest of a site's models folder: item packs (and their .sig files) only. */
async function buildPublicManifest(dir) {
  const names = (await readdir(dir)).sort();
  const bad = (what) => new Error(`${dir}: not a public models folder: ${what}`);
  for (const f of names) {
    if (!/^[^.]+\.item\.pack(\.sig)?$/.test(f) && f !== 'manifest.json') {
      throw bad(`${f} is not an item pack or its signature (only <AFF>.item.pack and <AFF>.item.pack.sig belong here)`);
    }
  }
  const items = names.filter((f) => f.endsWith('.item.pack'));
  if (!items.length) throw new Error(`${dir}: no <AFF>.item.pack files (run prefrec export, or bash scripts/demo.sh)`);
  const affiliates = [], files = [], crcs = [];
  let exportId = null;
  for (const item of items) {
    const buf = await readFile(join(dir, item));
    const p = readPack(buf, item);
    const m = p.manifest;
    if (m.part !== 'item') throw bad(`${item} is a "${m.part}" pack, not an item pack`);
    const cust = Object.keys(p.tensors).find((t) => t.startsWith('customer.'));
    if (cust) throw bad(`${item} holds the customer tensor ${cust}`);
    const counts = COUNTS.filter((k) => k in m).concat(TRAINING_COUNTS.filter((k) => m.training && k in m.training));
    if (counts.length) throw bad(`${item} counts members (${counts.join(', ')}): export it with --site or --records`);
    if (typeof m.export_id !== 'string' || !/^[0-9a-f]{32}$/.test(m.export_id)) throw bad(`${item} has no export_id`);
    if (exportId && m.export_id !== exportId) throw bad(`${item} is of export ${m.export_id}, ${items[0]} of ${exportId}: export them together`);
    exportId = m.export_id;
    crcs.push(p.crc);
    const sig = names.includes(`${item}.sig`) ? `${item}.sig` : null;
    if (sig) crcs.push(crc32(await readFile(join(dir, sig))));
    files.push(item, ...(sig ? [sig] : []));
    affiliates.push({
      affiliate: m.affiliate || item.split('.')[0], item, shards: 0, bytes: (await stat(join(dir, item))).size,
      products: m.n_products ?? null, ...(sig ? { sig } : {}),
      // Subresource Integrity of the pack: the pages refuse a pack replaced on a CDN
      integrity: `sha256-${createHash('sha256').update(buf).digest('base64')}`,
    });
  }
  for (const f of names) {
    if (f.endsWith('.sig') && !files.includes(f)) throw bad(`${f} signs no item pack here`);
  }
  let h = 0x811c9dc5;
  for (const c of crcs) for (let k = 0; k < 4; k++) h = Math.imul(h ^ ((c >>> (8 * k)) & 255), 0x01000193) >>> 0;
  return { format: 'prefrec-models', version: h.toString(16).padStart(8, '0'), export_id: exportId, affiliates, files, examples: [] };
}

/** The manifest object for the packs in dir (throws if there are none). With { public: true }:
 * the public manifest of a site (see the top of this file). */
export async function buildManifest(dir, { examples = 8, public: pub = false } = {}) {
  if (pub) return buildPublicManifest(dir);
  const names = (await readdir(dir)).filter((f) => f.endsWith('.pack')).sort();
  const items = names.filter((f) => /^[^.]+\.item\.pack$/.test(f));
  if (!items.length) throw new Error(`${dir}: no <AFF>.item.pack files (run prefrec export, or bash scripts/demo.sh)`);
  const affiliates = [], files = [], crcs = [];
  const seen = new Map(); // customer -> {affiliates, bought}
  for (const item of items) {
    const buf = await readFile(join(dir, item));
    const p = readPack(buf, item);
    const aff = p.manifest.affiliate || item.split('.')[0];
    const shards = p.manifest.shards || 0;
    const shardFiles = [];
    for (let s = 0; s < shards; s++) {
      const f = shardFile(item, s);
      if (!names.includes(f)) throw new Error(`${dir}: ${item} says ${shards} shards but ${f} is missing`);
      const sb = await readFile(join(dir, f));
      const sp = readPack(sb, f);
      if (sp.manifest.item_crc !== undefined && sp.manifest.item_crc !== p.crc) {
        throw new Error(`${dir}: ${f} belongs to another export of ${item} (item_crc differs): re-export`);
      }
      for (const c of packCustomers(sp, sb, f)) {
        const e = seen.get(c.code) || { affiliates: 0, bought: 0 };
        e.affiliates++;
        e.bought += c.bought;
        seen.set(c.code, e);
      }
      crcs.push(sp.crc);
      shardFiles.push(f);
    }
    crcs.push(p.crc);
    files.push(item, ...shardFiles);
    affiliates.push({
      affiliate: aff, item, shards, bytes: (await stat(join(dir, item))).size,
      products: p.manifest.n_products ?? null, customers: p.manifest.n_customers ?? null,
    });
  }
  // FNV-1a over the CRCs: any changed pack changes the version (and so the kiosk's cache).
  let h = 0x811c9dc5;
  for (const c of crcs) for (let k = 0; k < 4; k++) h = Math.imul(h ^ ((c >>> (8 * k)) & 255), 0x01000193) >>> 0;
  const ex = [...seen].sort((a, b) => b[1].affiliates - a[1].affiliates || b[1].bought - a[1].bought || (a[0] < b[0] ? -1 : 1))
    .slice(0, examples).map(([code]) => code);
  return { format: 'prefrec-models', version: h.toString(16).padStart(8, '0'), affiliates, files, examples: ex };
}

/** Write dir/manifest.json (atomically: temp file + rename); returns the manifest. */
export async function writeManifest(dir, opts) {
  const m = await buildManifest(dir, opts);
  const out = join(dir, 'manifest.json'), tmp = `${out}.tmp.${process.pid}`;
  await writeFile(tmp, JSON.stringify(m, null, 1) + '\n');
  await rename(tmp, out);
  return m;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const pub = args[0] === '--public';
  const dir = (pub ? args[1] : args[0]) || 'models';
  try {
    const m = await writeManifest(dir, { public: pub });
    console.error(`models-manifest: ${join(dir, 'manifest.json')}: ${m.affiliates.length} affiliates, ` +
      `${m.files.length} files, version ${m.version}${pub ? ' (public: item packs only, no member data)' : ''}`);
  } catch (e) {
    console.error(`models-manifest: ${e.message}`);
    process.exit(1);
  }
}
