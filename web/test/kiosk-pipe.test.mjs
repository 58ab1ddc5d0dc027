// kiosk-pipe.test.mjs - the WASI kiosk answers every request line whole when its stdout is a
// pipe that the reader drains slowly. (node's WASI hands the module a non-blocking pipe; writes
// then fail with EAGAIN, and the kiosk must retry instead of dropping the rest of a line.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KIOSK = join(root, 'build/wasi/prefrec-kiosk.wasm');
const MODELS = join(root, 'models/sample');

test('200 large responses through a slowly read pipe arrive whole', {
  skip: existsSync(KIOSK) ? false : `needs ${KIOSK} (cmake --build --preset wasi)`,
  timeout: 120000,
}, async () => {
  const req = JSON.stringify({ affiliate: 'A02', gender: 'F', age: 35, k: 100 });
  const p = spawn(process.execPath, ['--no-warnings', join(root, 'scripts/wasi-run.mjs'), KIOSK,
    '--pack', MODELS, '--lines'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  p.stdout.setEncoding('utf8');
  p.stderr.setEncoding('utf8');
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  p.stdout.pause(); // let the pipe fill up before reading anything
  p.stdin.end(`${req}\n`.repeat(200));
  await new Promise((r) => setTimeout(r, 1500));
  p.stdout.resume();
  const code = await new Promise((r) => p.on('close', r));
  assert.equal(code, 0, err);
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 200);
  const first = lines[0];
  for (const l of lines) {
    const r = JSON.parse(l);
    assert.equal(r.ok, true);
    assert.equal(r.items.length, 100);
    assert.equal(l, first); // same request, same answer
  }
});
