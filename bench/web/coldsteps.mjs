// bench/web/coldsteps.mjs - where a cold load's milliseconds go in headless Chromium: the steps
// of PrefRec.load done one after another by the page itself, over the same glue and wasm, with
// performance.now() between them; then PrefRec.load as a shop page calls it, for the total.
//   node bench/web/coldsteps.mjs ITEM_PACK [--cold 5] [--web DIR]
// Each page is a new context (empty cache) on a server on 127.0.0.1 (bench/web/harness.mjs).
// The steps, ms (medians over the pages):
//   import     the shim's module graph (prefrec.js, shard.js and the glue prefrec-engine.js)
//   fetch      the pack's bytes (arrayBuffer of a fetch)
//   compile    fetch of prefrec-engine.wasm + WebAssembly.compileStreaming
//   inst       the glue's factory with the compiled module (instantiate, the glue's startup)
//   copy       malloc + one copy of the pack into the heap (memory growth included)
//   add        prefrec_wasm_session_add: CRC, decoding of the stored tensors, the engine's build
//   add2       the same pack added again to a second session in the same instance: the engine's
//              part once the heap has its pages and the code is warm
//   load       then, in a new context: import + PrefRec.load(bytes) (the shim's cold load, what
//              bench/web/trained.mjs calls "cold"); page: import + fetch + PrefRec.load(URL)
//   prepared   in a new context: import, PrefRec.prepare(), the pack's fetch, then PrefRec.load
//              (bytes): the load once the engine was compiled during the fetch (pwait: what was
//              left of the compile when the fetch ended)
// WEB defaults to web/ of this checkout (with dist/: scripts/web-dist.sh). Prints the load
// average: the machine is shared.
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAvg as la, median as med, openPages, option } from './harness.mjs';

const args = process.argv.slice(2);
const cold = Number(option(args, '--cold', '5'));
const web = resolve(option(args, '--web', resolve(dirname(fileURLToPath(import.meta.url)), '../../web')));
const [packArg] = args;
if (!packArg) {
  console.error('usage: node bench/web/coldsteps.mjs ITEM_PACK [--cold 5] [--web DIR]');
  process.exit(2);
}
const pack = resolve(packArg);

const pages = await openPages('prefrec-coldsteps-', { web, 'item.pack': pack }, `const q = new URLSearchParams(location.search);
window.bench = (async () => {
  const t = [performance.now()];
  const mark = () => t.push(performance.now());
  if (q.get('mode') === 'shim') {
    const { PrefRec } = await import('/web/prefrec.js');
    mark();
    if (q.get('prepare')) { // the page prepares the engine at import, then fetches its pack
      const ready = PrefRec.prepare();
      const b = new Uint8Array(await (await fetch('/item.pack')).arrayBuffer());
      mark();
      await ready; // (its own time is the compile, overlapped with the fetch above)
      mark();
      const pr = await PrefRec.load(b);
      mark(); // the load, not the close after it
      pr.close();
      return { prepared: t[4] - t[3], pwait: t[3] - t[2] };
    }
    if (q.get('url')) {
      const pr = await PrefRec.load('/item.pack');
      mark();
      pr.close();
      return { import: t[1] - t[0], page: t[2] - t[0] };
    }
    const b = new Uint8Array(await (await fetch('/item.pack')).arrayBuffer());
    mark();
    const pr = await PrefRec.load(b);
    mark();
    pr.close();
    return { import: t[1] - t[0], fetch: t[2] - t[1], load: t[3] - t[2] };
  }
  const { default: createEngine } = await import('/web/dist/prefrec-engine.js');
  mark();
  const b = new Uint8Array(await (await fetch('/item.pack')).arrayBuffer());
  mark();
  const mod = await WebAssembly.compileStreaming(fetch('/web/dist/prefrec-engine.wasm'));
  mark();
  const m = await createEngine({ instantiateWasm: (imports, done) => {
    WebAssembly.instantiate(mod, imports).then((i) => done(i, mod));
    return {};
  } });
  mark();
  const s = m._prefrec_wasm_session_new();
  const p = m._prefrec_wasm_malloc(b.length);
  m.HEAPU8.set(b, p);
  mark();
  if (m._prefrec_wasm_session_add(s, p, b.length, 0, 0) < 0) throw new Error('session_add failed');
  mark();
  const s2 = m._prefrec_wasm_session_new(), p2 = m._prefrec_wasm_malloc(b.length);
  m.HEAPU8.set(b, p2);
  const t2 = performance.now();
  if (m._prefrec_wasm_session_add(s2, p2, b.length, 0, 0) < 0) throw new Error('session_add failed');
  mark();
  m._prefrec_wasm_session_free(s2);
  m._prefrec_wasm_session_free(s);
  const d = (i) => t[i] - t[i - 1];
  return { import: d(1), fetch: d(2), compile: d(3), inst: d(4), copy: d(5), add: d(6), add2: t[7] - t2 };
})();`);
try {
  const r = [];
  for (let i = 0; i < cold; i++) {
    // alternate the three kinds of page, each in a new context
    for (const query of ['?mode=steps', '?mode=shim', '?mode=shim&url=1', '?mode=shim&prepare=1']) {
      const { ctx, bench } = await pages.open(query);
      r.push(bench);
      await ctx.close();
    }
  }
  const col = (k) => med(r.map((x) => x[k]).filter((x) => x !== undefined));
  const keys = ['import', 'fetch', 'compile', 'inst', 'copy', 'add', 'add2', 'load', 'page', 'pwait', 'prepared'];
  console.log(`chromium  ${basename(pack)}: ${keys.map((k) => `${k} ${col(k).toFixed(1)}`).join(', ')} ` +
    `(ms, medians of ${cold} cold pages each; load avg ${la()})`);
} finally {
  await pages.close();
}
