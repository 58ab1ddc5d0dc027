// bench/web/trained.mjs - load time and first requests of a trained item pack (prefrec export),
// in node and in headless Chromium: the figure bench/web/scale.mjs gives for synthetic packs.
//   node bench/web/trained.mjs ITEM_PACK AFFILIATE [--cold 5] [--before WEB_DIR [--before-pack PACK]]
// node: PrefRec.load of the file (module compiled once), median of --cold loads. Chromium: a
// new context per page (empty cache), from a server on 127.0.0.1: "cold" is the page's first
// PrefRec.load from the fetched bytes (the glue and the wasm fetched and compiled, the pack
// copied into the heap, checked, decoded, the engine built), "warm" a second one; "page" is the
// shim's import, the pack's fetch and that first load; then ms per top-30 request for a gender
// and age (a segment: an item pack holds no customer) by the default ranker, by the NeuMF over
// the whole catalogue and by the NeuMF over 300 candidates ("-" from an engine that refuses
// `candidates`), typed (recommendTop) and JSON (recommend). Medians over the pages. Uses web/
// and web/dist/ of this checkout (scripts/web-dist.sh); --before DIR: another such folder
// (prefrec.js, shard.js, dist/: say main's), measured alternately with it in the same run, a
// page or load of one then of the other; --before-pack PACK: the pack that shim loads (say the
// same model exported as format 1, `prefrec export --pack-version 1`, for an engine older than
// format 2; default ITEM_PACK). Prints the bytes of each pack, raw and gzip -9, and the load
// average: the machine's other work moves the figures.
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadAvg as la, median as med, openPages, option } from './harness.mjs';

const args = process.argv.slice(2);
const cold = Number(option(args, '--cold', '5'));
const beforeArg = option(args, '--before', null);
const beforePackArg = option(args, '--before-pack', null);
const [packArg, aff] = args;
if (!packArg || !aff) {
  console.error('usage: node bench/web/trained.mjs ITEM_PACK AFFILIATE [--cold 5]');
  process.exit(2);
}
const web = resolve(dirname(fileURLToPath(import.meta.url)), '../../web');
const pack = resolve(packArg);
const SHIMS = beforeArg ? { before: resolve(beforeArg), after: web } : { after: web };
const PACKS = { before: beforePackArg ? resolve(beforePackArg) : pack, after: pack };
for (const k of Object.keys(SHIMS)) {
  const b = readFileSync(PACKS[k]);
  console.log(`pack      ${k.padEnd(6)} ${basename(PACKS[k])}: ${b.length} bytes, gzip -9 ${gzipSync(b, { level: 9 }).length}`);
}
const mods = {};
for (const [k, dir] of Object.entries(SHIMS)) mods[k] = (await import(pathToFileURL(join(dir, 'prefrec.js')).href)).PrefRec;

const t = {};
for (const k of Object.keys(mods)) {
  (await mods[k].load(PACKS[k])).close(); // compile once
  t[k] = [];
}
for (let i = 0; i < cold; i++) {
  for (const k of Object.keys(mods)) {
    const t0 = performance.now();
    const pr = await mods[k].load(PACKS[k]);
    t[k].push(performance.now() - t0); // the load, not the close after it
    pr.close();
  }
}
for (const k of Object.keys(mods))
  console.log(`node      ${k.padEnd(6)} ${basename(PACKS[k])}: load ${med(t[k]).toFixed(1)} ms (median of ${cold}: ${t[k].map((x) => x.toFixed(0)).join(' ')}; load avg ${la()})`);

const links = {};
for (const [k, dir] of Object.entries(SHIMS)) {
  links[k] = dir;
  links[`${k}.pack`] = PACKS[k];
}
const pages = await openPages('prefrec-trained-', links, `const q = new URLSearchParams(location.search);
window.bench = (async () => {
  const t0 = performance.now();
  const { PrefRec } = await import('/' + q.get('shim') + '/prefrec.js');
  const b = new Uint8Array(await (await fetch('/' + q.get('shim') + '.pack')).arrayBuffer());
  const t1 = performance.now();
  const p1 = await PrefRec.load(b);
  const t2 = performance.now(); // the load, not the close after it
  p1.close();
  const pr = await PrefRec.load(b);
  const t3 = performance.now();
  const per = (q, n, json) => {
    try {
      for (let i = 0; i < 5; i++) json ? pr.recommend(q) : pr.recommendTop(q);
    } catch (e) {
      if (q.candidates) return null; // an engine before the candidates option refuses it
      throw e;
    }
    const t = performance.now();
    for (let i = 0; i < n; i++) json ? pr.recommend(q) : pr.recommendTop(q);
    return (performance.now() - t) / n;
  };
  const seg = { affiliate: ${JSON.stringify(aff)}, gender: 1, age: 35, k: 30 };
  const all = { ...seg, ranker: 'neumf' }, nm = { ...all, candidates: 300 };
  return [t2 - t1, t3 - t2, per(seg, 50), per(nm, 20), t2 - t0, per(seg, 50, true), per(nm, 20, true),
    per(all, 10), per(all, 10, true)];
})();`);
try {
  const r = {};
  for (const k of Object.keys(SHIMS)) r[k] = [];
  for (let i = 0; i < cold; i++) {
    for (const k of Object.keys(SHIMS)) {
      const { ctx, bench } = await pages.open(`?shim=${k}`);
      r[k].push(bench);
      await ctx.close();
    }
  }
  for (const k of Object.keys(SHIMS)) {
    const col = (j) => med(r[k].map((x) => x[j]));
    const ms = (j) => (r[k].some((x) => x[j] === null) ? '-' : col(j).toFixed(3));
    console.log(`chromium  ${k.padEnd(6)} ${basename(PACKS[k])}: cold ${col(0).toFixed(1)} ms, warm ${col(1).toFixed(1)} ms, ` +
      `page ${col(4).toFixed(1)} ms; default ranker ${ms(2)} / ${ms(5)} ms, NeuMF ${ms(7)} / ${ms(8)} ms, ` +
      `NeuMF over 300 candidates ${ms(3)} / ${ms(6)} ms ` +
      `(typed / JSON, top 30, a segment; medians of ${cold} pages; load avg ${la()})`);
  }
} finally {
  await pages.close();
}
