// Issue 21: a 10 MB item pack with a valid CRC - 300,000 products, dim 1, one layer of width
// 4,096, every field inside the loader's limits - made the WASI kiosk die with SIGSEGV and
// PrefRec.load() throw "memory access out of bounds" after 28 s ((size_t)P * h1 * 4 wrapped in
// the 32-bit builds). Now both refuse it before allocating, with the budget's message: a JS
// Error (not a WebAssembly.RuntimeError) from the shim, a JSON error and exit 1 from the kiosk.
// A pack of the same shape within the budget still loads in both and gets the same answer.
// The packs are generated here (web/testkit/bigpack.mjs); nothing large is committed.
// Needs web/dist (Emscripten) and build/wasi/prefrec-kiosk.wasm; skips saying so otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { neumfPack } from '../testkit/bigpack.mjs';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(web, '..');
const KIOSK = join(root, 'build/wasi/prefrec-kiosk.wasm');
const WASI_RUN = join(root, 'scripts/wasi-run.mjs');
const needed = [KIOSK, join(web, 'dist/prefrec-engine.js'), join(web, 'dist/prefrec-engine.wasm')];
const missing = needed.filter((f) => !existsSync(f));
const skip = missing.length
  ? `build outputs missing (${missing.map((f) => relative(root, f)).join(', ')}): cmake --build --preset emscripten|wasi`
  : false;
if (skip) console.log(`# bigpack.test.mjs skipped: ${skip}`);

/** Run the WASI kiosk; resolves {code, stdout, stderr}; killed after `ms` (a hang fails). */
function kiosk(args, input = '', ms = 60000) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--no-warnings', WASI_RUN, KIOSK, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`kiosk hung (> ${ms} ms): ${args.join(' ')}`));
    }, ms);
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: out, stderr: err });
    });
    p.stdin.end(input);
  });
}

const BUDGET = /^pack: the engine would need (\d+\.\d) MiB of working memory for 300000 products x layer-1 width 4096, over the budget of (\d+\.\d) MiB \(16 x the pack's (\d+\.\d) MiB \+ 16\.0 MiB\)$/;

describe('a 10 MB pack of 300,000 products x width 4,096: refused with the budget message', { skip }, () => {
  let dir, big, bigFile, PrefRec;

  before(async () => {
    ({ PrefRec } = await import('../prefrec.js'));
    dir = mkdtempSync(join(tmpdir(), 'prefrec-bigpack-'));
    big = neumfPack({ products: 300000, dim: 1, mlp: [4096] });
    bigFile = join(dir, 'review.pack');
    writeFileSync(bigFile, big);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the pack is the review\'s: about 10 MB, valid CRC', () => {
    assert.ok(big.length > 9e6 && big.length < 12e6, `${big.length} bytes`);
  });

  test('browser shim: PrefRec.load() throws an Error with the message', { timeout: 60000 }, async () => {
    await assert.rejects(PrefRec.load(big), (e) => {
      assert.ok(e instanceof Error && !(e instanceof WebAssembly.RuntimeError), `not a plain Error: ${e}`);
      assert.equal(e.code, -9);
      assert.equal(e.status, 'out of range');
      const m = /^engine: (.*)$/.exec(e.message);
      assert.ok(m, e.message);
      const [, need, budget, size] = BUDGET.exec(m[1]) || assert.fail(e.message);
      assert.ok(+need > 4600, `needs ${need} MiB`); // 300,000 x 4,096 floats alone: 4,687.5 MiB
      assert.equal(size, (big.length / 1048576).toFixed(1));
      assert.equal(budget, ((16 * big.length) / 1048576 + 16).toFixed(1)); // 16 x the pack + 16 MiB
      return true;
    });
  });

  test('WASI kiosk: a JSON error naming the file, exit 1, no signal', { timeout: 60000 }, async () => {
    const w = await kiosk(['--pack', bigFile], '{"gender":"F"}');
    assert.equal(w.signal, null, `killed by ${w.signal}: ${w.stderr}`);
    assert.equal(w.code, 1, `exit ${w.code}: ${w.stderr}`);
    const j = JSON.parse(w.stdout);
    assert.equal(j.ok, false);
    assert.equal(j.error.code, -9);
    assert.equal(j.error.status, 'out of range');
    assert.ok(j.error.message.startsWith(`${bigFile}: `), j.error.message);
    assert.match(j.error.message.slice(bigFile.length + 2), BUDGET);
  });

  test('the same shape within the budget (1,000 products) loads and answers alike in both', { timeout: 60000 }, async () => {
    const small = neumfPack({ products: 1000, dim: 1, mlp: [4096] });
    const f = join(dir, 'small.pack');
    writeFileSync(f, small);
    const pr = await PrefRec.load(small);
    try {
      const req = { gender: 'F', age: 30, k: 5 };
      const a = pr.recommend(req);
      assert.equal(a.items.length, 5);
      const w = await kiosk(['--pack', f], JSON.stringify(req));
      assert.equal(w.code, 0, w.stdout + w.stderr);
      const b = JSON.parse(w.stdout);
      assert.deepEqual(b.items.map((i) => i.code), a.items.map((i) => i.code));
      b.items.forEach((it, i) => assert.ok(Math.abs(it.score - a.items[i].score) <= 1e-5, `${it.score} vs ${a.items[i].score}`));
    } finally {
      pr.close();
    }
  });
});
