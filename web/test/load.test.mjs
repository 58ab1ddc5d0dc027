// PrefRec.load reads a pack straight into the wasm heap (one copy, web/prefrec.js intoHeap): from
// a fetch body chunk by chunk, from a file under node, or from given bytes. Every route must
// give the engine the same bytes (the same answers as loading the bytes), and a body larger than
// its Content-Length (gzip on the wire), a body without a length, a truncated body, a pack that
// is not the one its integrity names, a missing file and an HTTP error must each load or fail
// with a message naming the pack, never trap. The engine still checks the pack (CRC, bounds).
// Needs the native CLI (to train a pack) and the Emscripten build (web/dist).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);
const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(web, '..');
const CLI = process.env.PREFREC_CLI || join(root, 'build/native/prefrec');
const needed = [CLI, join(web, 'dist/prefrec-engine.js'), join(web, 'dist/prefrec-engine.wasm')];
const missing = needed.filter((f) => !existsSync(f));
const skip = missing.length ? `build outputs missing (${missing.map((f) => relative(root, f)).join(', ')})` : false;
if (skip) console.log(`# load.test.mjs skipped: ${skip}`);

describe('one copy into the heap: every route loads the same pack', { skip }, () => {
  let dir, bytes, path, srv, base, PrefRec;
  const answers = (pr) => ['C', 'M'].map((_, i) => pr.recommendTop({ gender: i, age: 30 + 10 * i, k: 10 }).codes.join(' '));

  before(async () => {
    ({ PrefRec } = await import('../prefrec.js'));
    dir = mkdtempSync(join(tmpdir(), 'prefrec-load-'));
    const data = join(dir, 'data');
    await run(CLI, ['gen', '--out', data, '--scale', '0.02', '--seed', '5', '--quiet']);
    await run(CLI, ['train', '--data', data, '--affiliate', 'A04', '--epochs', '1', '--quiet', '--out', dir],
      { env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
    path = join(dir, 'A04.pack');
    bytes = readFileSync(path);
    // /plain: Content-Length; /gzip: gzip on the wire (Content-Length smaller than the body
    // fetch gives); /chunked: no length; /half: the first half only (a truncated pack);
    // /404: an HTTP error
    srv = createServer((req, res) => {
      if (req.url === '/plain') res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      else if (req.url === '/gzip') {
        const gz = gzipSync(bytes);
        res.writeHead(200, { 'content-length': gz.length, 'content-encoding': 'gzip' }).end(gz);
      } else if (req.url === '/chunked') {
        res.writeHead(200);
        for (let o = 0; o < bytes.length; o += 4096) res.write(bytes.subarray(o, o + 4096));
        res.end();
      } else if (req.url === '/half') {
        const h = bytes.subarray(0, bytes.length >> 1);
        res.writeHead(200, { 'content-length': h.length }).end(h);
      } else res.writeHead(404).end();
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${srv.address().port}`;
  });
  after(() => {
    srv?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('prepare(): the engine compiled before the load; a broken engine rejects there, by name', async () => {
    await assert.rejects(PrefRec.prepare({ wasm: join(dir, 'nope.wasm') }), /nope\.wasm/);
    await assert.rejects(PrefRec.prepare({ wasm: new Uint8Array([0, 97, 115, 109, 9, 9]) }), (e) => e instanceof Error);
    assert.equal(await PrefRec.prepare(), undefined);
    const pr = await PrefRec.load(bytes);
    assert.equal(pr.info[0].affiliate, 'A04');
    assert.equal(pr.recommendTop({ gender: 1, age: 40, k: 5 }).codes.length, 5);
    pr.close();
  });

  test('bytes, a file, a fetch with and without a length and gzip give the same answers', async () => {
    const ref = await PrefRec.load(bytes);
    const want = answers(ref);
    assert.equal(ref.info[0].affiliate, 'A04');
    ref.close();
    for (const src of [path, `${base}/plain`, `${base}/gzip`, `${base}/chunked`]) {
      const pr = await PrefRec.load(src);
      assert.deepEqual(answers(pr), want, String(src));
      pr.close();
    }
  });

  test('integrity is checked on the heap copy', async () => {
    const good = `sha256-${createHash('sha256').update(bytes).digest('base64')}`;
    const pr = await PrefRec.load({ packs: [{ item: `${base}/plain`, integrity: good }] });
    pr.close();
    const bad = `sha256-${createHash('sha256').update('other').digest('base64')}`;
    await assert.rejects(PrefRec.load({ packs: [{ item: `${base}/chunked`, integrity: bad }] }),
      (e) => e.status === 'checksum mismatch' && /SHA-256/.test(e.message));
  });

  test('a truncated body, an HTTP error and a missing file fail by name', async () => {
    await assert.rejects(PrefRec.load(`${base}/half`), (e) => e instanceof Error && e.code < 0 && /item pack/.test(e.message));
    await assert.rejects(PrefRec.load(`${base}/404`), (e) => e.status === 'i/o error' && /HTTP 404/.test(e.message));
    await assert.rejects(PrefRec.load(join(dir, 'nope.pack')), (e) => e.status === 'i/o error' && /nope\.pack.*ENOENT/.test(e.message));
  });
});
