// models-manifest.mjs - write DIR/manifest.json describing the exported packs in DIR
// (prefrec export: <AFF>.item.pack + <AFF>.cust.NNN.pack), for the kiosk and the shop page:
// which affiliates there are, their shard counts, every file (for the kiosk's offline cache),
// a version that changes whenever any pack changes (the CRC32s in the pack headers), and a few
// example member numbers (customers known to the most affiliates) for the demo pages.
//   node web/kiosk/models-manifest.mjs models/          (scripts/serve.sh runs this)
//   import { writeManifest } from './models-manifest.mjs'; await writeManifest(dir);
// Reads only the documented pack header, manifest and customer string table (docs/model.md).
import { readFile, readdir, stat, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAGIC = 'PRFPACK\0';

/** Header, manifest JSON and tensor table of one pack file's bytes (throws naming the file). */
export function readPack(buf, name) {
  const bad = (what) => new Error(`${name}: ${what}`);
  if (buf.length < 64 || buf.toString('latin1', 0, 8) !== MAGIC) throw bad('not a prefrec pack (magic)');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u32 = (o) => dv.getUint32(o, true);
  const mOff = u32(24), mLen = u32(28), tOff = u32(32), n = u32(36);
  if (mOff + mLen > buf.length || tOff + 64 * n > buf.length) throw bad('header offsets outside the file');
  const manifest = JSON.parse(buf.toString('utf8', mOff, mOff + mLen));
  const tensors = {};
  for (let i = 0; i < n; i++) {
    const e = tOff + 64 * i;
    const tname = buf.toString('latin1', e, e + 32).replace(/\0+$/, '');
    const ndim = u32(e + 36);
    const shape = [0, 1, 2, 3].slice(0, ndim).map((d) => u32(e + 40 + 4 * d));
    tensors[tname] = { dtype: u32(e + 32), shape, offset: Number(dv.getBigUint64(e + 56, true)) };
  }
  return { version: u32(8), crc: u32(60), manifest, tensors, dv };
}

/** Customer codes and purchase counts of a customer shard (or full pack). */
function customers(pack, buf) {
  const off = pack.tensors['customer.code.off'], str = pack.tensors['customer.code.str'];
  const boff = pack.tensors['customer.bought.off'];
  if (!off || !str) return [];
  const n = off.shape[0] - 1, out = [];
  for (let i = 0; i < n; i++) {
    const a = pack.dv.getUint32(off.offset + 4 * i, true), b = pack.dv.getUint32(off.offset + 4 * i + 4, true);
    const bought = boff ? pack.dv.getUint32(boff.offset + 4 * i + 4, true) - pack.dv.getUint32(boff.offset + 4 * i, true) : 0;
    out.push({ code: buf.toString('utf8', str.offset + a, str.offset + b - 1), bought });
  }
  return out;
}

/** The manifest object for the packs in dir (throws if there are none). */
export async function buildManifest(dir, { examples = 8 } = {}) {
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
      const f = `${aff}.cust.${String(s).padStart(3, '0')}.pack`;
      if (!names.includes(f)) throw new Error(`${dir}: ${item} says ${shards} shards but ${f} is missing`);
      const sb = await readFile(join(dir, f));
      const sp = readPack(sb, f);
      if (sp.manifest.item_crc !== undefined && sp.manifest.item_crc !== p.crc) {
        throw new Error(`${dir}: ${f} belongs to another export of ${item} (item_crc differs): re-export`);
      }
      for (const c of customers(sp, sb)) {
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
  const dir = process.argv[2] || 'models';
  try {
    const m = await writeManifest(dir);
    console.error(`models-manifest: ${join(dir, 'manifest.json')}: ${m.affiliates.length} affiliates, ` +
      `${m.files.length} files, version ${m.version}`);
  } catch (e) {
    console.error(`models-manifest: ${e.message}`);
    process.exit(1);
  }
}
