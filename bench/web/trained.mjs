// bench/web/trained.mjs - load time and first requests of a trained item pack (prefrec export),
// in node and in headless Chromium: the figure bench/web/scale.mjs gives for synthetic packs.
//   node bench/web/trained.mjs ITEM_PACK AFFILIATE [--cold 5]
// node: PrefRec.load of the file (module compiled once), median of --cold loads. Chromium: a
// new context per page (empty cache), from a server on 127.0.0.1: "cold" is the page's first
// PrefRec.load from the fetched bytes (the glue and the wasm fetched and compiled, the pack
// copied into the heap, checked, decoded, the engine built), "warm" a second one; then ms per
// top-30 request for a gender and age (a segment: an item pack holds no customer) by the
// default ranker and by the NeuMF over 300 candidates. Medians over the pages. Uses web/ and
// web/dist/ of this checkout (scripts/web-dist.sh). Prints the load average: the machine's
// other work moves the figures.
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadAvg as la, median as med, openPages, option } from './harness.mjs';

const args = process.argv.slice(2);
const cold = Number(option(args, '--cold', '5'));
const [packArg, aff] = args;
if (!packArg || !aff) {
  console.error('usage: node bench/web/trained.mjs ITEM_PACK AFFILIATE [--cold 5]');
  process.exit(2);
}
const web = resolve(dirname(fileURLToPath(import.meta.url)), '../../web');
const pack = resolve(packArg);
const { PrefRec } = await import(pathToFileURL(join(web, 'prefrec.js')).href);

(await PrefRec.load(pack)).close(); // compile once
const t = [];
for (let i = 0; i < cold; i++) {
  const t0 = performance.now();
  (await PrefRec.load(pack)).close();
  t.push(performance.now() - t0);
}
console.log(`node      ${basename(pack)}: load ${med(t).toFixed(1)} ms (median of ${cold}: ${t.map((x) => x.toFixed(0)).join(' ')}; load avg ${la()})`);

const pages = await openPages('prefrec-trained-', { web, 'item.pack': pack }, `window.bench = (async () => {
  const { PrefRec } = await import('/web/prefrec.js');
  const b = new Uint8Array(await (await fetch('/item.pack')).arrayBuffer());
  const t1 = performance.now();
  (await PrefRec.load(b)).close();
  const t2 = performance.now();
  const pr = await PrefRec.load(b);
  const t3 = performance.now();
  const per = (q, n) => {
    for (let i = 0; i < 5; i++) pr.recommendTop(q);
    const t = performance.now();
    for (let i = 0; i < n; i++) pr.recommendTop(q);
    return (performance.now() - t) / n;
  };
  const seg = { affiliate: ${JSON.stringify(aff)}, gender: 1, age: 35, k: 30 };
  return [t2 - t1, t3 - t2, per(seg, 50), per({ ...seg, ranker: 'neumf', candidates: 300 }, 20)];
})();`);
try {
  const r = [];
  for (let i = 0; i < cold; i++) {
    const { ctx, bench } = await pages.open();
    r.push(bench);
    await ctx.close();
  }
  const col = (k) => med(r.map((x) => x[k]));
  console.log(`chromium  ${basename(pack)}: cold ${col(0).toFixed(1)} ms, warm ${col(1).toFixed(1)} ms; ` +
    `default ranker ${col(2).toFixed(3)} ms, NeuMF over 300 candidates ${col(3).toFixed(3)} ms ` +
    `(typed, top 30, a segment; medians of ${cold} pages; load avg ${la()})`);
} finally {
  await pages.close();
}
