// bench/web suite, shared by node (node.mjs) and headless Chromium (page.html): the prefrec shim
// against ONNX Runtime Web and TensorFlow.js (wasm backend) running the same trained NeuMF model
// (read from the same pack) on the same 200 requests: top 30 never-bought products for a known
// customer (vector, bias and demographics from the pack, bought products masked) or for a cold
// start (gender and age only). Measures load time (cold: first in the process, compile
// included; warm: again) and per-request latency (rounds alternating between the engines: best
// and median round), and checks the peers' top 30 against the engine's.
import { demo, neumf } from './pack.mjs';

const K = 30;

function makeRequests(model, n) {
  const C = model.customers.codes.length, out = [];
  for (let i = 0; i < n; i++) {
    const u = new Float32Array(model.d), mask = new Float32Array(model.P);
    let shim, x, cb = 0;
    if (i % 2 === 0) { // a known customer
      const c = (i * 7919) % C, cs = model.customers;
      u.set(cs.emb.subarray(c * model.d, (c + 1) * model.d));
      cb = cs.bias[c];
      x = demo(cs.gender[c], cs.age[c]);
      for (const p of cs.bought(c)) mask[p] = -1e9;
      shim = { customer: cs.codes[c] };
    } else { // cold start
      const gender = i % 3 === 0 ? 0 : 1, age = 20 + ((i * 13) % 55);
      x = demo(gender, age);
      shim = { gender, age };
    }
    out.push({ u, x: Float32Array.from(x), cb: Float32Array.of(cb), mask, shim: { ...shim, k: K, ranker: 'neumf' } });
  }
  return out;
}

/** Per-request ms of each runner, timed in rounds that alternate between the runners (so a
 * burst of load on a shared machine hits them all alike): every round times each runner once
 * over the same `per` requests, after a warm-up; the result per runner is the best round and
 * the median round. */
async function timeAll(runners, reqs, { rounds = 5, per = 50, warm = 20 } = {}) {
  const sample = reqs.slice(0, per), times = Object.fromEntries(Object.keys(runners).map((k) => [k, []]));
  for (const fn of Object.values(runners)) for (let i = 0; i < warm; i++) await fn(reqs[i % reqs.length]);
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(runners)) {
      const t0 = performance.now();
      for (const q of sample) await fn(q);
      times[name].push((performance.now() - t0) / sample.length);
    }
  }
  const best = {}, median = {};
  for (const [k, v] of Object.entries(times)) {
    v.sort((a, b) => a - b);
    best[k] = v[0];
    median[k] = v[v.length >> 1];
  }
  return { best, median };
}

/** Same top 30 as the engine: the same products in the same order, except that products with
 * equal scores (e.g. clamped at 0 or 5) may come in another order; scores within 1e-5. */
function compare(ref, idx, val) {
  let same = true, maxDiff = 0;
  for (let j = 0; j < K; j++) {
    maxDiff = Math.max(maxDiff, Math.abs(val[j] - ref.scores[j]));
    if (Number(idx[j]) !== ref.indices[j]) {
      const tie = (i) => Math.abs(ref.scores[i] - ref.scores[j]) <= 1e-6;
      if (!ref.indices.some((p, i) => p === Number(idx[j]) && tie(i))) same = false;
    }
  }
  return { same: same && maxDiff <= 1e-5, maxDiff };
}

/**
 * opts: PrefRec (the shim class), ort, tf (with the wasm backend registered), pack (bytes of a
 * full pack), onnx {full, split} (bytes), n (requests), log (line printer).
 */
export async function runSuite({ PrefRec, ort, tf, pack, onnx, n = 200, log = console.log, rounds = 5 }) {
  const model = neumf(pack);
  const reqs = makeRequests(model, n);
  const res = { products: model.P, customers: model.customers.codes.length, dim: model.d,
    mlp: model.layers.map((l) => l.out), requests: n, load: {}, check: {} };
  const runners = {}, cleanup = [];

  // ---- prefrec shim ---------------------------------------------------------------------------
  let t0 = performance.now();
  let pr = await PrefRec.load(pack);
  res.load.prefrec_cold = performance.now() - t0;
  pr.close();
  t0 = performance.now();
  pr = await PrefRec.load(pack);
  res.load.prefrec_warm = performance.now() - t0;
  const ref = reqs.map((r) => pr.recommendTop(r.shim));
  runners.prefrec_top = (r) => pr.recommendTop(r.shim);
  runners.prefrec_json = (r) => pr.recommend(r.shim);
  if (pr.info[0].rankers.includes('blend')) runners.prefrec_blend_json = (r) => pr.recommend({ ...r.shim, ranker: 'default' });
  log(`prefrec: load cold ${res.load.prefrec_cold.toFixed(1)} ms, warm ${res.load.prefrec_warm.toFixed(1)} ms`);

  // ---- ONNX Runtime Web (wasm, one thread) -----------------------------------------------------
  ort.env.wasm.numThreads = 1;
  for (const variant of ['full', 'split']) {
    t0 = performance.now();
    const s = await ort.InferenceSession.create(onnx[variant], { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    res.load[`ort_${variant}`] = performance.now() - t0;
    const run = async (r) => {
      const o = await s.run({
        u: new ort.Tensor('float32', r.u, [1, model.d]), x: new ort.Tensor('float32', r.x, [1, 4]),
        cb: new ort.Tensor('float32', r.cb, [1]), mask: new ort.Tensor('float32', r.mask, [model.P]),
      });
      return [o.indices.data, o.values.data];
    };
    let same = 0, maxDiff = 0;
    for (let i = 0; i < n; i++) {
      const [idx, val] = await run(reqs[i]);
      const c = compare(ref[i], idx, val);
      same += c.same;
      maxDiff = Math.max(maxDiff, c.maxDiff);
    }
    res.check[`ort_${variant}`] = { same_top30: same, max_score_diff: maxDiff };
    runners[`ort_${variant}`] = run;
    cleanup.push(() => s.release?.());
    log(`onnxruntime-web ${variant}: load ${res.load[`ort_${variant}`].toFixed(1)} ms; ` +
        `same top 30 as prefrec ${same}/${n}, max score diff ${maxDiff.toExponential(1)}`);
  }

  // ---- TensorFlow.js, wasm backend ---------------------------------------------------------------
  t0 = performance.now();
  await tf.setBackend('wasm');
  await tf.ready();
  res.load.tfjs_backend = performance.now() - t0;
  for (const variant of ['full', 'split']) {
    t0 = performance.now();
    const d = model.d, P = model.P, L = model.layers;
    const V = tf.tensor2d(model.pemb, [P, d]), pb = tf.tensor1d(model.pbias);
    const wg = tf.tensor2d(model.wg, [d, 1]), wm = tf.tensor2d(model.wm, [model.wm.length, 1]);
    const W = L.map((l) => tf.tensor2d(l.w, [l.out, l.in])), B = L.map((l) => tf.tensor1d(l.b));
    let P1, W1u, W1x;
    if (variant === 'split') { // the engine's split: product half of layer 1 once, at load
      P1 = tf.tidy(() => tf.add(tf.matMul(V, tf.slice(W[0], [0, d], [L[0].out, d]), false, true), B[0]));
      W1u = tf.slice(W[0], [0, 0], [L[0].out, d]);
      W1x = tf.slice(W[0], [0, 2 * d], [L[0].out, 4]);
    }
    await (P1 || V).data();
    res.load[`tfjs_${variant}`] = performance.now() - t0;
    const run = async (r) => {
      const [vals, idx] = tf.tidy(() => {
        const u = tf.tensor2d(r.u, [1, d]), x = tf.tensor2d(r.x, [1, 4]);
        let a, gmf;
        if (variant === 'split') {
          const c1 = tf.add(tf.matMul(u, W1u, false, true), tf.matMul(x, W1x, false, true));
          a = tf.relu(tf.add(P1, c1));
          gmf = tf.matMul(V, tf.transpose(tf.mul(u, tf.transpose(wg))));
        } else {
          const U = tf.tile(u, [P, 1]);
          const h0 = tf.concat([U, V, tf.tile(x, [P, 1])], 1);
          a = tf.relu(tf.add(tf.matMul(h0, W[0], false, true), B[0]));
          gmf = tf.matMul(tf.mul(U, V), wg);
        }
        for (let l = 1; l < L.length; l++) a = tf.relu(tf.add(tf.matMul(a, W[l], false, true), B[l]));
        const y = tf.add(tf.add(tf.reshape(tf.add(tf.matMul(a, wm), gmf), [P]), pb), r.cb[0] + model.b0);
        const s = tf.add(tf.clipByValue(y, 0, 5), tf.tensor1d(r.mask));
        const { values, indices } = tf.topk(s, K);
        return [values, indices];
      });
      const out = [await idx.data(), await vals.data()];
      vals.dispose();
      idx.dispose();
      return out;
    };
    let same = 0, maxDiff = 0;
    for (let i = 0; i < n; i++) {
      const [idx, val] = await run(reqs[i]);
      const c = compare(ref[i], idx, val);
      same += c.same;
      maxDiff = Math.max(maxDiff, c.maxDiff);
    }
    res.check[`tfjs_${variant}`] = { same_top30: same, max_score_diff: maxDiff };
    runners[`tfjs_${variant}`] = run;
    cleanup.push(() => tf.dispose([V, pb, wg, wm, ...W, ...B, P1, W1u, W1x].filter(Boolean)));
    log(`tfjs-backend-wasm ${variant}: load ${res.load[`tfjs_${variant}`].toFixed(1)} ms (+ backend ${res.load.tfjs_backend.toFixed(1)} ms); ` +
        `same top 30 as prefrec ${same}/${n}, max score diff ${maxDiff.toExponential(1)}`);
  }

  // ---- per-request latency, all runners in alternating rounds -------------------------------------
  const { best, median } = await timeAll(runners, reqs, { rounds });
  res.request = best;
  res.request_median = median;
  for (const k of Object.keys(best))
    log(`per request ${k.padEnd(20)} best round ${(best[k] * 1000).toFixed(0).padStart(6)} us, median ${(median[k] * 1000).toFixed(0).padStart(6)} us`);
  for (const f of cleanup) await f();
  pr.close();
  const peers = ['ort_full', 'ort_split', 'tfjs_full', 'tfjs_split'];
  res.speedup = {};
  for (const p of peers) res.speedup[p] = { typed: best[p] / best.prefrec_top, json: best[p] / best.prefrec_json };
  log('prefrec speed-up per request (best rounds): ' +
      peers.map((p) => `vs ${p} ${res.speedup[p].typed.toFixed(1)}x typed / ${res.speedup[p].json.toFixed(1)}x JSON`).join(', '));
  return res;
}
