// load-wasm.mjs - the wasm engine (Emscripten build, web/dist) serving a million requests in a
// loop under node, memory measured at every tenth: the wasm linear memory (grows only if the C
// side leaks or fragments), the JS heap in use after a GC (grows if the caller side leaks) and
// the process RSS. Two phases:
//   1. the plain C ABI the shim uses (typed top-k through prefrec_wasm_session_top: known
//      customer, history fold-in, gender and age; and JSON answers through
//      prefrec_wasm_session_handle), N requests;
//   2. the JS shim (web/prefrec.js: recommendTop and request), N/10 requests.
//   node --expose-gc bench/load-wasm.mjs [ITEM_PACK [CUSTOMER_SHARD [N]]]
//   default: models/A01.item.pack models/A01.cust.000.pack 1000000 (web/dist from scripts/web-dist.sh)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PrefRec } from '../web/prefrec.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const [item = root + 'models/A01.item.pack', cust = root + 'models/A01.cust.000.pack', nArg] = process.argv.slice(2);
const N = Number(nArg ?? 1000000);
const gc = globalThis.gc ?? (() => {});
const MB = (b) => (b / 1048576).toFixed(2);
const enc = new TextEncoder(), dec = new TextDecoder();

const { default: create } = await import(root + 'web/dist/prefrec-engine.js');
const mod = await WebAssembly.compile(readFileSync(root + 'web/dist/prefrec-engine.wasm'));
const m = await create({ instantiateWasm: (imports, done) => { WebAssembly.instantiate(mod, imports).then((i) => done(i, mod)); return {}; } });
const copy = (bytes) => { const p = m._prefrec_wasm_malloc(bytes.length); m.HEAPU8.set(bytes, p); return p; };
const str = (p) => dec.decode(m.HEAPU8.subarray(p, m.HEAPU8.indexOf(0, p)));
const ib = readFileSync(item), cb = readFileSync(cust);
const s = m._prefrec_wasm_session_new();
const st = m._prefrec_wasm_session_add(s, copy(ib), ib.length, copy(cb), cb.length);
if (st < 0) throw new Error(str(m._prefrec_wasm_session_error(s)));
const info = JSON.parse(str(m._prefrec_wasm_session_info(s)))[0];
const np = m._prefrec_wasm_session_n_products(s, 0);
// customer codes of the shard: from the pack's string table, read in JS (u32 offsets + blob)
const codes = shardCodes(cb);
console.log(`load-wasm: ${item} + ${cust}: ${np} products, ${codes.length} customers; ${N} requests (C ABI), ${N / 10 | 0} (shim)`);

function shardCodes(b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const toff = dv.getUint32(32, true), nt = dv.getUint32(36, true), t = {};
  for (let i = 0; i < nt; i++) {
    const e = toff + 64 * i, name = dec.decode(b.subarray(e, e + 32)).replace(/\0.*$/s, '');
    t[name] = { off: Number(dv.getBigUint64(e + 56, true)), n: dv.getUint32(e + 40, true) };
  }
  const o = t['customer.code.off'], st = t['customer.code.str'], out = [];
  for (let i = 0; i + 1 < o.n; i++) {
    const a = dv.getUint32(o.off + 4 * i, true), z = dv.getUint32(o.off + 4 * i + 4, true);
    out.push(dec.decode(b.subarray(st.off + a, st.off + z - 1)));
  }
  return out;
}

function memory() {
  gc();
  const u = process.memoryUsage();
  return { wasm: m.HEAPU8.length, heap: u.heapUsed, rss: u.rss };
}
function report(label, rows) {
  const [a, b, c] = [rows[0], rows[Math.floor(rows.length / 2)], rows[rows.length - 1]];
  console.log(`${label}: memory (wasm linear / JS heap / RSS, MB): start ${MB(a.wasm)} / ${MB(a.heap)} / ${MB(a.rss)}, ` +
    `middle ${MB(b.wasm)} / ${MB(b.heap)} / ${MB(b.rss)}, end ${MB(c.wasm)} / ${MB(c.heap)} / ${MB(c.rss)}`);
}

// ---- phase 1: the C ABI ------------------------------------------------------------------------
const idx = m._prefrec_wasm_malloc(4 * 140), sc = m._prefrec_wasm_malloc(4 * 140), meta = m._prefrec_wasm_malloc(20);
const pcodes = Array.from({ length: np }, (_, p) => str(m._prefrec_wasm_session_product(s, 0, p, 0)));
let errors = 0, sum = 0;
const rows = [memory()];
console.log(`${'requests'.padStart(10)} ${'req/s'.padStart(8)} ${'wasm_MB'.padStart(8)} ${'jsheap_MB'.padStart(9)} ${'rss_MB'.padStart(8)}`);
console.log(`${'0'.padStart(10)} ${'-'.padStart(8)} ${MB(rows[0].wasm).padStart(8)} ${MB(rows[0].heap).padStart(9)} ${MB(rows[0].rss).padStart(8)}`);
const step = Math.max(1, N / 10 | 0);
let t0 = performance.now(), tl = t0;
for (let i = 0; i < N; i++) {
  const kind = i % 4;
  if (kind == 3) {
    const req = i % 8 == 3
      ? `{"affiliate":"${info.affiliate}","customer":"${codes[i % codes.length]}","k":10,"seed":${i}}`
      : `{"plan":"stamp","affiliate":"${info.affiliate}","customer":"${codes[i % codes.length]}","seed":${i}}`;
    const b = enc.encode(req), p = copy(b);
    const out = m._prefrec_wasm_session_handle(s, p, b.length);
    m._prefrec_wasm_free(p);
    if (!out) errors++;
    else {
      if (m.HEAPU8[out + 6] != 116 /* {"ok":t */) errors++;
      m._prefrec_wasm_free(out);
    }
  } else {
    const q = { k: 30, seed: i };
    if (kind == 0) Object.assign(q, { customer: codes[i % codes.length], sample: 3 });
    if (kind == 1) {
      q.history = [i % np, (i * 7 + 3) % np, (i * 13 + 5) % np].map((p) => pcodes[p]);
      q.gender = (i >> 2) % 2;
    }
    if (kind == 2) {
      const g = ((i >> 2) % 3) - 1;
      if (g >= 0) q.gender = g;
      q.age = 20 + (i % 50);
    }
    const b = enc.encode(JSON.stringify(q)), p = copy(b);
    const n = m._prefrec_wasm_session_top(s, p, b.length, idx, sc, meta);
    m._prefrec_wasm_free(p);
    if (n < 0) errors++;
    else sum += m.HEAPF32[sc >> 2];
  }
  if ((i + 1) % step == 0) {
    const t = performance.now(), r = memory();
    rows.push(r);
    console.log(`${String(i + 1).padStart(10)} ${(step / ((t - tl) / 1000)).toFixed(0).padStart(8)} ${MB(r.wasm).padStart(8)} ${MB(r.heap).padStart(9)} ${MB(r.rss).padStart(8)}`);
    tl = performance.now();
  }
}
const dt = (performance.now() - t0) / 1000;
console.log(`wasm (C ABI): ${N} requests in ${dt.toFixed(1)} s = ${(N / dt).toFixed(0)} requests/s (incl. GC pauses at the checkpoints), ${errors} errors (checksum ${sum.toPrecision(4)})`);
report('wasm (C ABI)', rows);
m._prefrec_wasm_session_free(s);

// ---- phase 2: the JS shim -------------------------------------------------------------------
const pr = await PrefRec.load({ packs: [{ item: ib, customers: cb }] });
const N2 = N / 10 | 0, step2 = Math.max(1, N2 / 10 | 0), rows2 = [memory()];
let errors2 = 0;
t0 = performance.now();
for (let i = 0; i < N2; i++) {
  try {
    const c = codes[i % codes.length];
    if (i % 2) pr.request({ plan: i % 4 == 1 ? 'recommend' : 'stamp', customer: c, seed: i });
    else pr.recommendTop({ customer: c, k: 30, sample: 3, seed: i });
  } catch (e) {
    errors2++;
  }
  if ((i + 1) % step2 == 0) rows2.push(memory());
}
const dt2 = (performance.now() - t0) / 1000;
pr.close();
console.log(`wasm (JS shim): ${N2} requests in ${dt2.toFixed(1)} s = ${(N2 / dt2).toFixed(0)} requests/s, ${errors2} errors`);
report('wasm (JS shim)', rows2);
console.log(`(machine shared with other work; timings are indicative)`);
process.exitCode = errors || errors2 ? 1 : 0;
