// bench/web/scale.mjs - pack load and request time by catalogue size, two shims side by side
// (say main's and a branch's), in node and in headless Chromium, alternating, medians.
//   node bench/web/scale.mjs PACK_DIR BEFORE_WEB AFTER_WEB [--sizes 2000,10000,100000]
//        [--cold 5] [--rounds 5] [--no-browser] [--after-packs DIR] [--out OUT.json]
// PACK_DIR holds syn<P>.pack (build/native/bench_engine --write PACK_DIR: synthetic NeuMF +
// blend packs, 1,000 customers with 30 purchases); --after-packs DIR: the after shim loads
// DIR/syn<P>.pack instead (bench_engine --v2 --write DIR: the same model in format 2, stored
// as prefrec export stores it, which a shim before format 2 cannot read). BEFORE_WEB / AFTER_WEB: folders with
// prefrec.js, shard.js and dist/ (the Emscripten engine: scripts/web-dist.sh). Measures:
//   load ms   node: PrefRec.load of the pack file, median of --cold loads, the engine module
//             compiled once per process (each load instantiates it, reads the pack into the
//             heap and builds the engine); from-bytes: the same from bytes already in memory.
//   Chromium, a cold page each time (new context, empty cache), from a server on 127.0.0.1:
//     page    the shim's import, the pack's fetch and the first PrefRec.load
//     cold    that first load alone, from the fetched bytes: the glue and the wasm fetched and
//             compiled, instantiated, the pack copied into the heap, CRC, decoding, the engine
//             built (bench/web/suite.mjs's "cold load")
//     warm    a second load in the page from the same bytes
//   request   ms per top-30 request for a known customer: the default ranker (the blend) and
//             the NeuMF, typed (recommendTop) and JSON (recommend); rounds alternate between
//             the shims, the median round per shim is reported.
// Prints the load average beside each size: the machine is shared, figures move with it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { flag as flagOf, loadAvg as la, median, openPages, option } from './harness.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => option(args, name, def);
const flag = (name) => flagOf(args, name);
const sizes = opt('--sizes', '2000,10000,100000').split(',').map(Number);
const cold = Number(opt('--cold', '5')), rounds = Number(opt('--rounds', '5'));
const out = opt('--out', null), noBrowser = flag('--no-browser');
const afterPacks = opt('--after-packs', null);
const [packDir, beforeWeb, afterWeb] = args;
if (!packDir || !beforeWeb || !afterWeb) {
  console.error('usage: node bench/web/scale.mjs PACK_DIR BEFORE_WEB AFTER_WEB [--sizes 2000,10000,100000] [--cold 5] [--rounds 5] [--no-browser] [--out OUT.json]');
  process.exit(2);
}
const SHIMS = { before: resolve(beforeWeb), after: resolve(afterWeb) };
const PACKS = { before: resolve(packDir), after: resolve(afterPacks || packDir) };
const KINDS = [['blend', 'typed'], ['blend', 'json'], ['neumf', 'typed'], ['neumf', 'json'],
  ['neumf300', 'typed'], ['neumf300', 'json']]; // neumf300: the NeuMF on the blend's top 300 (after only)
// requests per round: the NeuMF scores the whole catalogue (tens of ms at 100,000 products)
const per = (P, ranker) => (ranker === 'neumf' ? Math.max(4, Math.round(200000 / P)) : 50);

// One round of `n` requests of a kind against a loaded PrefRec; ms per request. (Also sent to
// the page as text: self-contained.)
function roundOf(pr, ranker, api, n, start) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const q = { affiliate: 'SYN', customer: 'C' + String(((start + i) * 7) % 1000).padStart(6, '0'), k: 30 };
    if (ranker !== 'blend') q.ranker = 'neumf';
    if (ranker === 'neumf300') q.candidates = 300;
    let r;
    try {
      r = api === 'typed' ? pr.recommendTop(q) : pr.recommend(q);
    } catch (e) {
      if (ranker === 'neumf300' && /candidates/.test(e.message)) return NaN; // a shim without them
      throw e;
    }
    if (!(api === 'typed' ? r.indices.length : r.items.length)) throw new Error('empty answer');
  }
  return (performance.now() - t0) / n;
}

async function nodeBench() {
  const mods = {};
  for (const [k, dir] of Object.entries(SHIMS)) mods[k] = (await import(pathToFileURL(join(dir, 'prefrec.js')).href)).PrefRec;
  const res = [];
  for (const P of sizes) {
    const pack = (k) => join(PACKS[k], `syn${P}.pack`);
    const load = { before: [], after: [] }, engine = { before: [], after: [] }, prs = {};
    const bytes = { before: readFileSync(pack('before')), after: readFileSync(pack('after')) };
    for (const k of Object.keys(mods)) (await mods[k].load(pack(k))).close(); // compile once
    for (let r = 0; r < cold; r++) {
      for (const k of Object.keys(mods)) {
        const t1 = performance.now();
        (await mods[k].load(bytes[k])).close();
        engine[k].push(performance.now() - t1);
        const t0 = performance.now();
        const pr = await mods[k].load(pack(k));
        load[k].push(performance.now() - t0);
        if (r === cold - 1) prs[k] = pr;
        else pr.close();
      }
    }
    const req = {};
    for (const [ranker, api] of KINDS) {
      const t = { before: [], after: [] }, n = per(P, ranker);
      for (const k of Object.keys(prs)) roundOf(prs[k], ranker, api, Math.min(n, 5), 0); // warm
      for (let r = 0; r < rounds; r++) for (const k of Object.keys(prs)) t[k].push(roundOf(prs[k], ranker, api, n, r * n));
      req[`${ranker}.${api}`] = { before: median(t.before), after: median(t.after) };
    }
    for (const pr of Object.values(prs)) pr.close();
    res.push({ products: P, load: { before: median(load.before), after: median(load.after) },
      engine: { before: median(engine.before), after: median(engine.after) }, req, loadavg: la() });
    print('node', res.at(-1));
  }
  return res;
}

function print(where, r) {
  const f = (x) => (x >= 10 ? x.toFixed(1) : x.toFixed(3));
  const cells = [`${r.cold ? 'page' : 'load'} ${f(r.load.before)} -> ${f(r.load.after)}`];
  if (r.cold) cells.push(`cold ${f(r.cold.before)} -> ${f(r.cold.after)}`);
  cells.push(`${r.cold ? 'warm' : 'from-bytes'} ${f(r.engine.before)} -> ${f(r.engine.after)}`);
  for (const [k, v] of Object.entries(r.req)) cells.push(`${k} ${f(v.before)} -> ${f(v.after)}`);
  console.log(`${where.padEnd(8)} ${String(r.products).padStart(6)}  ${cells.join('  ')}  (ms, before -> after; load avg ${r.loadavg})`);
}

async function browserBench() {
  const pages = await openPages('prefrec-scale-', {
    before: SHIMS.before, after: SHIMS.after, 'packs-before': PACKS.before, 'packs-after': PACKS.after,
  }, `const q = new URLSearchParams(location.search);
const roundOf = ${roundOf.toString()};
window.bench = (async () => {
  // page: the shim's import, the pack's fetch and the first load, as a shop page does them;
  // cold: that first load alone, from the fetched bytes (the glue and wasm fetched and compiled,
  // instantiated, the pack copied into the heap, CRC, decoding, engine build: what
  // bench/web/suite.mjs calls the cold load); warm: a second load from the same bytes
  const t0 = performance.now();
  const { PrefRec } = await import('/' + q.get('shim') + '/prefrec.js');
  const b = new Uint8Array(await (await fetch('/packs-' + q.get('shim') + '/' + q.get('pack'))).arrayBuffer());
  const t1 = performance.now();
  (await PrefRec.load(b)).close();
  const t2 = performance.now();
  const pr = await PrefRec.load(b);
  const t3 = performance.now();
  window.round = (ranker, api, n, start) => roundOf(pr, ranker, api, n, start);
  return [t2 - t0, t2 - t1, t3 - t2];
})();`);
  const res = [];
  try {
    const open = async (k, P) => {
      const { ctx, page, bench: [load, cold, engine] } = await pages.open(`?shim=${k}&pack=syn${P}.pack`);
      return { ctx, page, load, cold, engine };
    };
    for (const P of sizes) {
      const load = { before: [], after: [] }, engine = { before: [], after: [] }, pages = {};
      const coldL = { before: [], after: [] };
      for (let r = 0; r < cold; r++) {
        for (const k of Object.keys(SHIMS)) {
          const o = await open(k, P);
          load[k].push(o.load);
          coldL[k].push(o.cold);
          engine[k].push(o.engine);
          if (r === cold - 1) pages[k] = o;
          else await o.ctx.close();
        }
      }
      const req = {};
      for (const [ranker, api] of KINDS) {
        const t = { before: [], after: [] }, n = per(P, ranker);
        for (const k of Object.keys(pages)) await pages[k].page.evaluate(([a, b, c]) => window.round(a, b, c, 0), [ranker, api, Math.min(n, 5)]);
        for (let r = 0; r < rounds; r++) {
          for (const k of Object.keys(pages))
            t[k].push(await pages[k].page.evaluate(([a, b, c, d]) => window.round(a, b, c, d), [ranker, api, n, r * n]));
        }
        req[`${ranker}.${api}`] = { before: median(t.before), after: median(t.after) };
      }
      for (const o of Object.values(pages)) await o.ctx.close();
      res.push({ products: P, load: { before: median(load.before), after: median(load.after) },
        cold: { before: median(coldL.before), after: median(coldL.after) },
        engine: { before: median(engine.before), after: median(engine.after) }, req, loadavg: la() });
      print('chromium', res.at(-1));
    }
  } finally {
    await pages.close();
  }
  return res;
}

console.log(`== packs (bytes raw / gzip -6, before -> after), load average ${la()}`);
const packs = sizes.map((P) => {
  const r = { products: P };
  for (const k of ['before', 'after']) {
    const b = readFileSync(join(PACKS[k], `syn${P}.pack`));
    r[k] = { raw: b.length, gz: gzipSync(b, { level: 6 }).length };
  }
  console.log(`${String(P).padStart(8)} ${r.before.raw} / ${r.before.gz} -> ${r.after.raw} / ${r.after.gz}`);
  return r;
});
const result = { packs, node: await nodeBench() };
if (!noBrowser) result.chromium = await browserBench();
if (out) writeFileSync(out, JSON.stringify(result, null, 2));
