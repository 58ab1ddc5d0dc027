// The engine in three builds answers alike: the Emscripten shim (web/prefrec.js), the WASI kiosk
// module (build/wasi/prefrec-kiosk.wasm) and the native CLI (build/native/prefrec) get the same
// 200 JSON requests (every plan; known customers, fold-in from a history, cold start from gender
// and age; sampling; errors) over packs trained here on generated data, and must return the same
// products in the same order with scores within 1e-5. Also: customer shards chosen in JS match
// the C export, and bad packs and bad requests give an Error in JS and a JSON error from WASI,
// never a trap or a hang.
// Needs the native, emscripten and wasi builds (scripts/test.sh builds them first); skips with
// a message saying what is missing otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(web, '..');
const CLI = process.env.PREFREC_CLI || join(root, 'build/native/prefrec');
const KIOSK = join(root, 'build/wasi/prefrec-kiosk.wasm');
const WASI_RUN = join(root, 'scripts/wasi-run.mjs');
const needed = [CLI, KIOSK, join(web, 'dist/prefrec-engine.js'), join(web, 'dist/prefrec-engine.wasm')];
const missing = needed.filter((f) => !existsSync(f));
const skip = missing.length
  ? `build outputs missing (${missing.map((f) => relative(root, f)).join(', ')}): run bash scripts/test.sh, ` +
    'or cmake --build --preset native|emscripten|wasi'
  : false;
if (skip) console.log(`# engine.test.mjs skipped: ${skip}`);

const TOL = 1e-5;
const ENV = { ...process.env, OPENBLAS_NUM_THREADS: '1' }; // the CLI links OpenBLAS: no thread pool per run
let tmp, packDir, PrefRec, fnv1a32, shardOf, shardFile, shardPath;

/** Deterministic PRNG for the request mix (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: out, stderr: err });
    });
    p.stdin.end(input);
  });
}

/** Native CLI on one request file; the JSON it prints (ok or error). */
async function nativeAnswer(file, extra = ['--pack', packDir]) {
  try {
    const { stdout } = await run(CLI, ['recommend', ...extra, '--request', file, '--json'], { timeout: 60000, env: ENV });
    return JSON.parse(stdout);
  } catch (e) {
    if (e.stdout) return JSON.parse(e.stdout); // exit 1 with the error response on stdout
    throw e;
  }
}

/** The shim's answer in the API's shape: the response, or {ok:false,error} from the Error. */
function shimAnswer(pr, text) {
  try {
    return pr.request(text);
  } catch (e) {
    assert.ok(e instanceof Error && !(e instanceof WebAssembly.RuntimeError), `not a plain Error: ${e}`);
    return { ok: false, error: { code: e.code, status: e.status, message: e.message } };
  }
}

/** Deep equality, numbers within TOL. */
function same(a, b, path = '$') {
  if (typeof a === 'number' && typeof b === 'number') {
    assert.ok(Math.abs(a - b) <= TOL, `${path}: ${a} vs ${b}`);
  } else if (Array.isArray(a)) {
    assert.ok(Array.isArray(b), `${path}: array vs ${typeof b}`);
    assert.equal(a.length, b.length, `${path}: length`);
    a.forEach((x, i) => same(x, b[i], `${path}[${i}]`));
  } else if (a && typeof a === 'object') {
    assert.ok(b && typeof b === 'object', `${path}: object vs ${b}`);
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${path}: members`);
    for (const k of Object.keys(a)) same(a[k], b[k], `${path}.${k}`);
  } else {
    assert.equal(a, b, path);
  }
}

/** Customers per affiliate and their products, from the generated purchase file. */
function purchases(dataDir) {
  const text = readFileSync(join(dataDir, 'LPOINT_BIG_COMP_02_PDDE.csv'), 'utf8');
  const by = new Map(); // affiliate -> Map(customer -> Set(product))
  let start = text.indexOf('\n') + 1;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const f = text.slice(start, end).split(',');
    start = end + 1;
    if (f.length < 6) continue;
    if (!by.has(f[3])) by.set(f[3], new Map());
    const m = by.get(f[3]);
    if (!m.has(f[0])) m.set(f[0], new Set());
    m.get(f[0]).add(f[5]);
  }
  return by;
}

/** The 200 parity requests: every plan x known / history / segment, sampling, varied k. */
function makeRequests(info, catalog, buyers) {
  const r = rng(20240607);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const affs = info.map((i) => i.affiliate);
  const genders = ['M', 'F', '남성', '여성', 0, 1];
  const ages = [25, 38, 47, 61, '20대', '30대', '50대', '70대'];
  const who = (aff, kind) => {
    if (kind === 'known') return { customer: pick(buyers.get(aff)) };
    if (kind === 'history') {
      const n = 1 + Math.floor(r() * 12);
      const h = Array.from({ length: n }, () => pick(catalog.get(aff)));
      return r() < 0.5 ? { customer: `NEW${Math.floor(r() * 1e6)}`, history: h, gender: pick(genders) } : { history: h, age: pick(ages) };
    }
    return r() < 0.3 ? { gender: pick(genders) } : r() < 0.5 ? { age: pick(ages) } : { gender: pick(genders), age: pick(ages) };
  };
  const reqs = [];
  const kinds = ['known', 'known', 'history', 'segment'];
  const mix = [['recommend', 70], ['subscribe', 40], ['stamp', 45], ['ratio', 41]]; // + 4 errors = 200
  for (const [plan, n] of mix) {
    for (let i = 0; i < n; i++) {
      const aff = pick(affs), kind = kinds[i % 4];
      const q = { plan, ...who(aff, kind) };
      if (plan !== 'ratio') q.affiliate = aff;
      if (plan === 'ratio') {
        q.seed = Math.floor(r() * 1e9);
        if (kind === 'history') q.weights = { [aff]: 1 + Math.floor(r() * 20) }; // the history's affiliate
        else if (kind === 'segment' || r() < 0.3)
          q.weights = Object.fromEntries(affs.map((a) => [a, r() < 0.6 ? Math.floor(r() * 50) : 0]));
      }
      if (plan === 'stamp') {
        if (r() < 0.5) q.categories = 1 + Math.floor(r() * 6);
        if (r() < 0.5) q.per_category = 1 + Math.floor(r() * 6);
      } else {
        q.k = 1 + Math.floor(r() * 40);
        if (r() < 0.4) {
          q.sample = 1 + Math.floor(r() * 5);
          q.seed = Math.floor(r() * 1e9);
        }
      }
      if (r() < 0.25) q.ranker = 'neumf';
      reqs.push(q);
    }
  }
  // a few errors that must be reported alike by all three
  reqs.splice(10, 0, { affiliate: affs[0], customer: 'M_NOBODY' });
  reqs.splice(60, 0, { affiliate: affs[0], history: ['PD_NOPE'] });
  reqs.splice(120, 0, { affiliate: 'A99', gender: 'F' });
  reqs.splice(180, 0, { affiliate: affs[0], gender: 'F', k: 0 });
  return reqs.slice(0, 200);
}

describe('prefrec engine: shim, WASI and native agree', { skip }, () => {
  let pr, requests, info, data;

  before(async () => {
    ({ PrefRec, fnv1a32, shardOf, shardFile, shardPath } = await import('../prefrec.js'));
    tmp = mkdtempSync(join(tmpdir(), 'prefrec-wasm-'));
    data = join(tmp, 'data');
    packDir = join(tmp, 'packs');
    await run(CLI, ['gen', '--out', data, '--scale', '0.05', '--seed', '3', '--quiet']);
    // three affiliates (the smaller ones: quick to train, blend and NeuMF both in each pack)
    await Promise.all(['A04', 'A05', 'A06'].map((a) =>
      run(CLI, ['train', '--data', data, '--affiliate', a, '--epochs', '2', '--seed', '5', '--quiet', '--out', packDir], { env: ENV })));
    // format 1: the trained floats as they are, so a shard serves exactly the full pack's scores
    // (format 2's rounded tensors: tests/test_served.c, and every pack testkit exports)
    await run(CLI, ['export', '--pack', join(packDir, 'A06.pack'), '--out', join(tmp, 'export'), '--shards', '4',
      '--pack-version', '1']);
    const files = readdirSync(packDir).filter((f) => f.endsWith('.pack')).sort();
    pr = await PrefRec.load({ packs: files.map((f) => join(packDir, f)) });
    info = pr.info;
    // every pack's catalogue codes (a big segment request returns k distinct codes of it)
    const catalog = new Map(info.map((i) => [i.affiliate, pr.recommendTop({ affiliate: i.affiliate, gender: 'F', k: Math.min(100, i.products) }).codes]));
    const buys = purchases(data);
    const buyers = new Map(info.map((i) => [i.affiliate, [...(buys.get(i.affiliate)?.keys() || [])].sort().slice(0, 400)]));
    requests = makeRequests(info, catalog, buyers);
  });

  after(() => {
    pr?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('200 requests: same products, order and scores (1e-5) in all three builds', { timeout: 240000 }, async () => {
    assert.equal(requests.length, 200);
    const texts = requests.map((q) => JSON.stringify(q));
    const t0 = performance.now();
    // WASI: one kiosk process, one request per line
    const w = await kiosk(['--pack', packDir, '--lines'], texts.join('\n') + '\n');
    const wasi = w.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(wasi.length, 200, `kiosk answered ${wasi.length} of 200 (stderr: ${w.stderr})`);
    const t1 = performance.now();
    // native: one CLI run per request
    const native = new Array(200);
    const files = texts.map((t, i) => {
      const f = join(tmp, `req${i}.json`);
      writeFileSync(f, t);
      return f;
    });
    // (only the pack that serves, unless the plan picks the affiliate: a quicker start)
    const packOf = (q) => (q.plan === 'ratio' || !info.some((i) => i.affiliate === q.affiliate) ? packDir : join(packDir, `${q.affiliate}.pack`));
    for (let i = 0; i < 200; i += 4)
      await Promise.all([i, i + 1, i + 2, i + 3].map(async (j) => (native[j] = await nativeAnswer(files[j], ['--pack', packOf(requests[j])]))));
    const t2 = performance.now();
    const count = { known: 0, history: 0, segment: 0, error: 0, sampled: 0 };
    const plans = {}, errors = [];
    for (let i = 0; i < 200; i++) {
      const shim = shimAnswer(pr, texts[i]);
      const where = `request ${i} ${texts[i]}`;
      assert.equal(shim.ok, native[i].ok, `${where}: shim ok=${shim.ok} native ok=${native[i].ok} ${JSON.stringify(native[i].error || shim.error)}`);
      if (!shim.ok) {
        assert.equal(shim.error.message, native[i].error.message, where);
        same(wasi[i], native[i], 'wasi');
        count.error++;
        errors.push(shim.error.message);
        continue;
      }
      same(shim, native[i], `shim vs native, ${where}`);
      same(wasi[i], native[i], `wasi vs native, ${where}`);
      plans[shim.plan] = (plans[shim.plan] || 0) + 1;
      if (shim.source) count[shim.source]++;
      else count[requests[i].customer && !requests[i].history ? 'known' : requests[i].history ? 'history' : 'segment']++;
      if (shim.sampled) count.sampled++;
      const items = shim.items || shim.board.flatMap((c) => c.items);
      assert.ok(items.length > 0, where);
      // the typed fast path gives the same ranking
      if (shim.plan === 'recommend' && !requests[i].sample) {
        const top = pr.recommendTop(requests[i]);
        assert.deepEqual(top.codes, shim.items.map((it) => it.code), where);
        top.scores.forEach((s, j) => assert.ok(Math.abs(s - shim.items[j].score) <= TOL, where));
      }
    }
    console.log(`# parity: ${JSON.stringify(plans)} sources ${JSON.stringify(count)} errors ${JSON.stringify(errors)}`);
    console.log(`# wall ms: wasi ${(t1 - t0).toFixed(0)}, native ${(t2 - t1).toFixed(0)}, shim+checks ${(performance.now() - t2).toFixed(0)}`);
    for (const p of ['recommend', 'subscribe', 'ratio', 'stamp']) assert.ok(plans[p] >= 20, `plan ${p}: ${plans[p]}`);
    assert.ok(count.known >= 30 && count.history >= 20 && count.segment >= 20 && count.sampled >= 10, JSON.stringify(count));
    assert.ok(count.error >= 4, 'the error requests answered alike');
  });

  test('a customer shard picked in JS (fnv1a32 % n) serves like the full pack', async () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c); // FNV-1a test vector
    const exp = join(tmp, 'export');
    // the files prefrec export wrote are those the JS rule names (pack_export.c is the reference)
    assert.deepEqual(readdirSync(exp).filter((f) => f.startsWith('A06.')).sort(),
      ['A06.item.pack', ...[0, 1, 2, 3].map((s) => shardFile('A06.item.pack', s))].sort());
    const full = info.findIndex((i) => i.affiliate === 'A06');
    assert.ok(full >= 0);
    const buys = purchases(data).get('A06');
    let checked = 0;
    for (const customer of [...buys.keys()].sort().slice(0, 40)) {
      const ref = shimAnswer(pr, JSON.stringify({ affiliate: 'A06', customer, k: 10 }));
      if (!ref.ok) continue; // not in the pack (no scored pair)
      const sh = await PrefRec.load({ packs: [{ item: join(exp, 'A06.item.pack'), shards: 4, customer }] });
      try {
        const got = sh.recommend({ customer, k: 10 });
        assert.equal(got.source, 'known', customer);
        same(got.items, ref.items, customer);
        const q = join(tmp, 'shard.json');
        writeFileSync(q, JSON.stringify({ customer, k: 10 }));
        const nat = await nativeAnswer(q, ['--pack', join(exp, 'A06.item.pack'), '--customers',
          shardPath(join(exp, 'A06.item.pack'), customer, 4)]);
        same(nat.items, got.items, `native shard ${customer}`);
      } finally {
        sh.close();
      }
      if (++checked === 5) break;
    }
    assert.equal(checked, 5);
  });
});

/** CRC32 (zlib) for rewriting a pack's checksum after an edit. */
function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

describe('bad packs and bad requests: an Error in JS, a JSON error from WASI', { skip }, () => {
  let dir, good, pr;

  before(async () => {
    ({ PrefRec, shardOf } = await import('../prefrec.js'));
    dir = mkdtempSync(join(tmpdir(), 'prefrec-bad-'));
    const data = join(dir, 'data');
    await run(CLI, ['gen', '--out', data, '--scale', '0.02', '--seed', '9', '--quiet']);
    await run(CLI, ['train', '--data', data, '--affiliate', 'A04', '--epochs', '1', '--quiet', '--out', dir], { env: ENV });
    good = readFileSync(join(dir, 'A04.pack'));
    pr = await PrefRec.load(good);
  });
  after(() => {
    pr?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const variants = () => {
    const v = {};
    v.truncated = good.subarray(0, Math.floor(good.length / 2));
    v.header_only = good.subarray(0, 64);
    v.empty = new Uint8Array(0);
    const flipped = Uint8Array.from(good);
    flipped[flipped.length - 100] ^= 0x40;
    v.flipped_byte = flipped;
    const ver = Uint8Array.from(good);
    new DataView(ver.buffer).setUint32(8, 5, true); // a format from the future (the engine reads 1 to 4)
    v.wrong_version = ver;
    const ver2 = Uint8Array.from(ver); // wrong version with a valid checksum
    const body = new Uint8Array(ver2.length - 4);
    body.set(ver2.subarray(0, 60));
    body.set(ver2.subarray(64), 60);
    new DataView(ver2.buffer).setUint32(60, crc32(body), true);
    v.wrong_version_crc_ok = ver2;
    v.garbage = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) & 255);
    return v;
  };
  const expect = {
    truncated: /truncated|bytes/, header_only: /truncated|bytes/, empty: /bytes|small|short|truncated/,
    flipped_byte: /checksum|CRC/i, wrong_version: /version/, wrong_version_crc_ok: /version/, garbage: /magic|PRFPACK|not a/i,
  };

  test('bad packs', { timeout: 120000 }, async () => {
    for (const [name, bytes] of Object.entries(variants())) {
      await assert.rejects(PrefRec.load(bytes), (e) => {
        assert.ok(e instanceof Error && !(e instanceof WebAssembly.RuntimeError), `${name}: ${e}`);
        assert.match(e.message, expect[name], `${name}: ${e.message}`);
        assert.ok(e.code < 0 && typeof e.status === 'string', name);
        return true;
      }, name);
      const f = join(dir, `${name}.pack`);
      writeFileSync(f, bytes);
      const w = await kiosk(['--pack', f], '{"gender":"F"}');
      assert.equal(w.code, 1, `${name}: exit ${w.code} ${w.stderr}`);
      const j = JSON.parse(w.stdout);
      assert.equal(j.ok, false, name);
      assert.match(j.error.message, expect[name], name);
      assert.ok(j.error.message.includes(f), `${name}: message names the file: ${j.error.message}`);
      assert.equal(typeof j.error.status, 'string');
    }
    // a customer shard where an item pack belongs, a missing file
    const w = await kiosk(['--pack', join(dir, 'nope.pack')]);
    assert.equal(w.code, 1);
    assert.match(JSON.parse(w.stdout).error.message, /nope\.pack: no such file/);
    await assert.rejects(PrefRec.load(join(dir, 'nope.pack')), /nope\.pack/);
    await assert.rejects(PrefRec.load({ packs: [] }), /no packs/);
    await assert.rejects(PrefRec.load({ packs: [good, good] }), /already loaded/);
    // a missing or broken engine binary rejects too (no hang)
    await assert.rejects(PrefRec.load(good, { wasm: join(dir, 'nope.wasm') }), /nope\.wasm/);
    await assert.rejects(PrefRec.load(good, { wasm: new Uint8Array([0, 97, 115, 109, 9, 9]) }), (e) => e instanceof Error);
  });

  const badRequests = [
    ['{"gender":', /invalid JSON/],
    ['[1,2]', /not a JSON object/],
    ['{"colour":"red"}', /unknown member "colour"/],
    ['{"gender":"F","k":0}', /k/],
    ['{"gender":"F","k":101}', /k/],
    ['{"gender":"F","k":2.5}', /k/],
    ['{"gender":"F","sample":31}', /sample/],
    ['{"gender":"F","seed":-1}', /seed/],
    ['{"gender":"X"}', /gender/],
    ['{"age":200}', /age/],
    ['{"age":"old"}', /age/],
    ['{"plan":"lottery"}', /plan/],
    ['{"plan":"subscribe","gender":"F"}', /affiliate/],
    ['{"affiliate":"A99","gender":"F"}', /unknown affiliate 'A99'/],
    ['{"customer":"M_NOBODY"}', /unknown customer 'M_NOBODY'/],
    ['{"history":"PD0001"}', /history/],
    ['{"history":[1]}', /history\[0\]/],
    ['{"history":["PD_NOPE"]}', /unknown product 'PD_NOPE'/],
    ['{"plan":"ratio","weights":{"A04":-1}}', /weights/],
    ['{"plan":"ratio","weights":{"Z01":3}}', /unknown affiliate 'Z01'/],
    ['{"plan":"stamp","gender":"F","categories":0}', /categories/],
    ['{"ranker":"magic","gender":"F"}', /ranker/],
    // issue 21: strings with U+0000, duplicate members, numbers past 2^32, deep nesting
    ['{"gender":"F","customer":"M1\\u0000zz"}', /^request: "customer" contains U\+0000$/],
    ['{"gender":"F","history":["PD0001","x\\u0000"]}', /^request: history\[1\] contains U\+0000$/],
    ['{"plan":"ratio","weights":{"A04\\u0000":1}}', /^request: a member name in weights contains U\+0000$/],
    ['{"gender":"F","k":5,"k":1000}', /^request: duplicate member "k"$/],
    ['{"plan":"ratio","weights":{"A04":1,"A04":2}}', /^request: weights: duplicate member "A04"$/],
    ['{"gender":"F","k":4294967297}', /^request: "k" must be an integer 1\.\.100$/],
    [`{"history":${'['.repeat(20)}${']'.repeat(20)}}`, /^request: nested 21 levels deep, at most 16$/],
  ];

  test('bad requests', { timeout: 60000 }, async () => {
    const w = await kiosk(['--pack', join(dir, 'A04.pack'), '--lines'], badRequests.map(([t]) => t).join('\n') + '\n');
    assert.equal(w.code, 1);
    const lines = w.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, badRequests.length);
    badRequests.forEach(([text, re], i) => {
      assert.throws(() => pr.request(text), (e) => {
        assert.ok(e instanceof Error && !(e instanceof WebAssembly.RuntimeError), text);
        assert.match(e.message, re, text);
        assert.equal(e.message, lines[i].error.message, `${text}: shim and WASI say the same`);
        assert.equal(e.code, lines[i].error.code, text);
        return true;
      });
      assert.equal(lines[i].ok, false, text);
    });
    // the typed path checks the same things
    assert.throws(() => pr.recommendTop({ gender: 'F', k: 0 }), /"k" must be an integer 1\.\.100/);
    assert.throws(() => pr.recommendTop({ gender: 'X' }), /gender/);
    assert.throws(() => pr.recommendTop({ affiliate: 'A99' }), /unknown affiliate/);
    assert.throws(() => pr.recommendTop({ history: ['PD_NOPE'] }), /unknown product 'PD_NOPE'/);
    assert.throws(() => pr.recommendTop({ customer: 'M_NOBODY' }), /unknown customer/);
    assert.throws(() => pr.recommendTop({ gender: 'F', seed: -3 }), /seed/);
    // still serving after all the errors, and the same answer as before
    const a = pr.recommend({ gender: 'F', age: 33, k: 5 });
    assert.equal(a.items.length, 5);
    const w2 = await kiosk(['--pack', join(dir, 'A04.pack'), '--request', '-'], JSON.stringify({ gender: 'F', age: 33, k: 5 }));
    assert.equal(w2.code, 0);
    same(JSON.parse(w2.stdout), a);
    // kiosk usage errors are JSON too, valid UTF-8 when a long option is cut (it was cut mid-character)
    const u = await kiosk(['--bogus']);
    assert.equal(u.code, 2);
    assert.match(JSON.parse(u.stdout).error.message, /unknown option/);
    const long = await kiosk([`---${'가'.repeat(300)}`]);
    assert.equal(long.code, 2);
    assert.ok(!long.stdout.includes('\uFFFD'), `not valid UTF-8: ${long.stdout}`);
    assert.match(JSON.parse(long.stdout).error.message, /^usage: unknown option or missing value: ---가가/);
    const x = await PrefRec.load(good);
    x.close();
    x.close();
    assert.throws(() => x.recommend({ gender: 'F' }), /closed/);
  });

  // issue 21 item 2: "customer": "M…\u0000zz" was served as customer M… by every path
  test('a string with U+0000 or invalid UTF-8 is refused by the shim, the typed path and WASI', { timeout: 60000 }, async () => {
    const buyers = [...purchases(join(dir, 'data')).get('A04').keys()].sort();
    const served = (c) => {
      try {
        return pr.recommend({ customer: c, k: 1 }).source === 'known';
      } catch {
        return false; // a buyer the pack has no scores for
      }
    };
    const known = buyers.find(served);
    assert.ok(known, 'a customer the pack knows');
    const cut = { customer: `${known}\u0000zz`, k: 3 };
    const want = /request: "customer" contains U\+0000$/;
    assert.throws(() => pr.recommend(cut), want);
    assert.throws(() => pr.recommendTop(cut), want);
    assert.throws(() => pr.recommendTop({ history: ['PD\u0000x'], gender: 'F' }), /request: history\[0\] contains U\+0000$/);
    const pack = join(dir, 'A04.pack');
    const asJson = await kiosk(['--pack', pack, '--request', '-'], JSON.stringify(cut));
    assert.equal(asJson.code, 1);
    assert.match(JSON.parse(asJson.stdout).error.message, want);
    // raw bytes to the kiosk: a NUL byte, and bytes that are not UTF-8 (the answer stays UTF-8)
    const raw = await kiosk(['--pack', pack, '--request', '-'], Buffer.from(`{"customer":"${known}\0zz","k":3}`));
    assert.equal(raw.code, 1);
    assert.match(JSON.parse(raw.stdout).error.message, want);
    const bad8 = Buffer.concat([Buffer.from(`{"customer":"${known}`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const w8 = await kiosk(['--pack', pack, '--request', '-'], bad8);
    assert.equal(w8.code, 1);
    assert.equal(JSON.parse(w8.stdout).error.message, 'request: "customer" is not valid UTF-8');
    assert.equal(JSON.parse(w8.stdout).error.status, 'parse error');
    // the customer itself is still served
    assert.equal(pr.recommendTop({ customer: known, k: 3 }).source, 'known');
  });

  // issue 21 item 5: recommendTop wrapped k and sample modulo 2^32 (k 2^32 + 1 served one item)
  test('the typed path refuses what the JSON path refuses, with the same message', () => {
    assert.throws(() => pr.recommendTop({ gender: 'F', k: 2 ** 32 + 1 }), /request: "k" must be an integer 1\.\.100$/);
    assert.throws(() => pr.recommendTop({ gender: 'F', sample: 2 ** 32 + 1 }), /request: "sample" must be an integer 0\.\.30$/);
    const cases = [
      { k: 2 ** 32 + 1 }, { k: 2 ** 31 }, { k: 2 ** 32 }, { k: -1 }, { k: 0 }, { k: 1.5 }, { k: '5' }, { k: NaN },
      { k: Infinity }, { k: -Infinity }, { k: 5n }, { sample: 2 ** 32 }, { sample: -1 }, { sample: 0.5 }, { sample: 31 },
      { sample: NaN }, { seed: 2 ** 53 + 2 }, { seed: -1 }, { seed: 0.5 }, { seed: NaN }, { seed: 2n ** 64n },
      { gender: 2 }, { gender: -1 }, { gender: 0.5 }, { gender: NaN }, { gender: 'X' }, { age: 131 }, { age: -1 },
      { age: NaN }, { age: 'old' }, { customer: 5 }, { customer: 'M\u0000zz' }, { history: 'PD0001' },
      { history: [1] }, { history: [NaN] }, { history: ['PD_NOPE'] }, { ranker: 'magic' }, { ranker: 1 },
      { affiliate: 5 }, { affiliate: 'A99' }, { weights: { A04: NaN } }, { weights: { A04: -1 } }, { kk: 1 },
    ];
    for (const c of cases) {
      const q = { gender: 'F', ...c }, what = `${Object.keys(c)[0]}: ${String(Object.values(c)[0])}`;
      let json, typed;
      assert.throws(() => pr.recommend(q), (e) => (json = e) instanceof Error, what);
      assert.throws(() => pr.recommendTop(q), (e) => (typed = e) instanceof Error, what);
      assert.equal(typed.message, json.message, what);
      assert.equal(typed.code, json.code, what);
      assert.match(json.message, /request|unknown affiliate/, what);
    }
    // numbers JSON cannot carry are named (JSON.stringify would have sent null: the default)
    assert.throws(() => pr.recommend({ gender: 'F', k: NaN }), /request: "k" is NaN, which JSON cannot carry$/);
    assert.throws(() => pr.planRatio({ weights: { A04: Infinity } }), /request: weights\.A04 is Infinity, which JSON cannot carry$/);
    assert.throws(() => pr.recommendTop({ history: ['PD0001', -Infinity] }), /request: history\[1\] is -Infinity/);
    assert.throws(() => pr.recommendTop({ gender: 'F', seed: 7n }), /request: "seed" is 7n, which JSON cannot carry$/);
    // good requests still agree
    const a = pr.recommend({ gender: 'F', age: '30대', k: 7, sample: 3, seed: 11 });
    const b = pr.recommendTop({ gender: 'F', age: '30대', k: 7, sample: 3, seed: 11 });
    assert.deepEqual(b.codes, a.items.map((it) => it.code));
    assert.deepEqual(b.sampled.map((x) => x.code), a.sampled.map((it) => it.code));
    assert.equal(b.affiliate, 'A04');
    assert.equal(pr.recommendTop({ gender: 'F', k: 100 }).codes.length, Math.min(100, pr.info[0].products));
    // shard counts: 0 or absent means none; anything else an integer 1..4096
    assert.throws(() => shardOf('M1', 0), /shards must be an integer 1\.\.4096, got 0/);
    assert.throws(() => shardOf('M1', 2 ** 32 + 1), /shards must be an integer/);
    assert.throws(() => shardOf('M1', 2.5), /shards must be an integer/);
    assert.equal(shardOf('M1', 4), shardOf('M1', 4.0));
  });

  test('a shard count that is not an integer 1..4096 rejects the load', async () => {
    const item = join(dir, 'A04.pack');
    for (const shards of [2 ** 32 + 1, -1, 2.5, NaN, 4097])
      await assert.rejects(PrefRec.load({ packs: [{ item, shards, customer: 'M1' }] }), /shards must be an integer 1\.\.4096/, String(shards));
    const x = await PrefRec.load({ packs: [{ item, shards: 0, customer: 'M1' }] }); // 0: not sharded
    assert.equal(x.info[0].affiliate, 'A04');
    x.close();
  });
});
