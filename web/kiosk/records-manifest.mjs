// records-manifest.mjs - write DIR/records.json, the list of a kiosk's member records
// (prefrec export --records DIR: export.json + <kid>.rec), so that the kiosk's service worker
// (sw.js) caches every record and a member can sign in offline even at their first visit.
// It names no member: file names are keyed hashes of the codes, which the kiosk's disk holds
// anyway (SECURITY.md, "Members' data"). Never put a records folder on a public site.
//   node web/kiosk/records-manifest.mjs DIR
//   import { writeRecordsManifest } from './records-manifest.mjs'; await writeRecordsManifest(dir);
// records.json: {"format": "prefrec-kiosk-records", "export_id": "<32 hex>", "files": ["<kid>.rec", ...]}
import { readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Write dir/records.json (atomically) and return it; throws naming the folder when it is not a
 * records export. */
export async function writeRecordsManifest(dir) {
  const path = join(dir, 'export.json');
  let e;
  try {
    e = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read a records export (${err.code || err.message}); run prefrec export --records ${dir}`);
  }
  if (e?.format !== 'prefrec-records' || !/^[0-9a-f]{32}$/.test(e.export_id)) throw new Error(`${path}: not a prefrec records export`);
  const files = (await readdir(dir)).filter((f) => /^[0-9a-f]{32}\.rec$/.test(f)).sort();
  const m = { format: 'prefrec-kiosk-records', export_id: e.export_id, files };
  const out = join(dir, 'records.json'), tmp = `${out}.tmp.${process.pid}`;
  await writeFile(tmp, JSON.stringify(m) + '\n');
  await rename(tmp, out);
  return m;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node web/kiosk/records-manifest.mjs DIR (a prefrec export --records folder)');
    process.exit(2);
  }
  try {
    const m = await writeRecordsManifest(dir);
    console.error(`records-manifest: ${join(dir, 'records.json')}: ${m.files.length} records of export ${m.export_id}`);
  } catch (err) {
    console.error(`records-manifest: ${err.message}`);
    process.exit(1);
  }
}
