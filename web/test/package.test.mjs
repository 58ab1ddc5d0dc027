// The npm package's promises that need no bundler (test/consumers/ has the installed ones):
// - packFormats: prefrec.js exports the pack format versions the engine reads, package.json's
//   prefrec.packFormats says the same, the major version is the newest of them, and the engine
//   refuses a pack of the next format with 'unsupported version' naming exactly those versions;
// - load() takes an AbortSignal: aborted before or during the load, it rejects with the signal's
//   reason; a signal never aborted changes nothing;
// - package.json: no install-time scripts, every file the exports map names is in "files".
// Needs web/dist (bash scripts/web-dist.sh) for the engine parts; skips them otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(web, 'package.json'), 'utf8'));
const A01 = join(web, '../models/sample/A01.item.pack');
const skip = !existsSync(join(web, 'dist/prefrec-engine.wasm')) && 'web/dist missing (bash scripts/web-dist.sh)';

test('package.json: publishable, no install scripts, the exports map names files the tarball holds', () => {
  assert.equal(pkg.name, 'prefrec');
  assert.ok(!pkg.private);
  for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(pkg.scripts[s], undefined, s);
  const targets = [];
  const walk = (v) => (typeof v == 'string' ? targets.push(v) : Object.values(v).forEach(walk));
  walk(pkg.exports);
  for (const t of targets) assert.ok(t === './package.json' || pkg.files.includes(t.slice(2)), `${t} is in "files"`);
  assert.deepEqual(Object.keys(pkg.exports), ['.', './widget', './engine.wasm', './package.json']);
  for (const f of ['README.md', 'LICENSE', 'dist/prefrec-engine.wasm', 'dist/prefrec-engine.js', 'widget/prefrec-widget.d.ts']) {
    assert.ok(pkg.files.includes(f), f);
  }
});

test('packFormats: exported, in package.json, the major version, and what the engine refuses names them', { skip }, async () => {
  const { PrefRec, packFormats } = await import('../prefrec.js');
  assert.deepEqual(packFormats, pkg.prefrec.packFormats);
  assert.ok(Object.isFrozen(packFormats));
  const newest = Math.max(...packFormats);
  assert.equal(Number(pkg.version.split('.')[0]), newest, `version ${pkg.version}: major = newest pack format`);
  const bytes = new Uint8Array(readFileSync(A01));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // the committed sample packs stay at format 1 (scripts/build-models.sh), which every engine reads
  assert.ok(packFormats.includes(dv.getUint32(8, true)), 'the sample pack is of a format read (u32 at byte 8)');
  (await PrefRec.load(bytes)).close();
  dv.setUint32(8, newest + 1, true); // a format from the future
  await assert.rejects(PrefRec.load(bytes), (e) => {
    assert.equal(e.status, 'unsupported version', e.message);
    assert.match(e.message, new RegExp(`format version ${newest + 1}\\b`));
    // the versions it reads, as the message names them: those of packFormats
    const reads = /reads versions? (\d+)(?: to (\d+))?/.exec(e.message);
    assert.ok(reads, e.message);
    const lo = Number(reads[1]), hi = Number(reads[2] ?? reads[1]);
    assert.deepEqual(Array.from({ length: hi - lo + 1 }, (_, i) => lo + i), [...packFormats]);
    return true;
  });
});

test('load({signal}): aborted before or during the load, it rejects with the reason; never aborted, it loads', { skip }, async () => {
  const { PrefRec } = await import('../prefrec.js');
  await assert.rejects(PrefRec.load(A01, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  // already aborted: no fetch starts (a fetch failing later would be an unhandled rejection here)
  await assert.rejects(PrefRec.load('http://127.0.0.1:9/never.pack', { signal: AbortSignal.abort() }), { name: 'AbortError' });
  const ac = new AbortController();
  const p = PrefRec.load({ packs: [A01, join(web, '../models/sample/A02.item.pack')] }, { signal: ac.signal });
  const why = new Error('the shopper left the page');
  ac.abort(why);
  await assert.rejects(p, (e) => e === why);
  const pr = await PrefRec.load(A01, { signal: new AbortController().signal });
  try {
    assert.equal(pr.recommend({ gender: 'F', k: 3 }).items.length, 3);
  } finally {
    pr.close();
  }
  // a load fetching a URL rejects as soon as it is aborted (the fetch is given the signal)
  const slow = new AbortController();
  const q = PrefRec.load('http://127.0.0.1:9/never.pack', { signal: slow.signal });
  slow.abort();
  await assert.rejects(q, { name: 'AbortError' });
});
