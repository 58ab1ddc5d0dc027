// The static file server the browser tests use (web/testkit/server.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../testkit/server.mjs';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');

/** GET a raw path (no URL normalisation), resolve {status, type, body}. */
function get(port, path) {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, type: res.headers['content-type'],
        location: res.headers.location, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('serves files under its root on 127.0.0.1 only, nothing outside', async () => {
  const srv = await startServer(join(web, 'test'));
  try {
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const ok = await get(srv.port, '/fixtures/full/validate.json');
    assert.equal(ok.status, 200);
    assert.equal(ok.type, 'application/json; charset=utf-8');
    assert.equal(ok.body, readFileSync(join(web, 'test/fixtures/full/validate.json'), 'utf8'));
    assert.equal((await get(srv.port, '/fixtures/full/nope.json')).status, 404);
    assert.equal((await get(srv.port, '/..%2Fpackage.json')).status, 403);
    assert.equal((await get(srv.port, '/fixtures/..%2F..%2Fpackage.json')).status, 403);
    const dir = await get(srv.port, '/fixtures');
    assert.equal(dir.status, 301);
    assert.equal(dir.location, '/fixtures/');
    assert.equal((await get(srv.port, '/%E0%A4%A')).status, 400);
  } finally {
    await srv.close();
  }
});
