// demo.mjs - the demo shop's backend: a stand-in for a shop's own login, in front of the
// reference records handler (records.mjs), so the demo pages show how a shop wires prefrec.
// The demo's "login" is the member's card: member code + card token (the QR on the loyalty
// card: HMAC-SHA-256(token master key, "prefrec token v1\0" + code), first 16 bytes); a real
// shop uses its own login and session instead and mounts only recordsHandler. A member number
// alone signs nobody in.
//   POST /api/demo/login   {"code": "M...", "token": "<32 hex>"} or {"card": "PRM1:<code>:<32 hex>"}
//                          -> 200 {"code"} + session cookie (HttpOnly, SameSite=Strict), or 401
//   POST /api/demo/logout  -> 204, the session forgotten
//   GET  /api/demo/me      -> 200 {"code"} | 401
//   GET  /api/prefrec/record  -> records.mjs: the signed-in member's {export_id, record, key}
//   GET  /kiosk-records/<file>  with kioskRecords: the records directory (export.json, records.json,
//                          <kid>.rec) as a kiosk's local server would serve it from the kiosk's
//                          disk; never on a shop's public site
//
//   import { demoApi } from './demo.mjs';
//   const api = await demoApi({ records: DIR, tokenKeyFile: FILE });
//   startServer(siteDir, { api });         // web/testkit/server.mjs: api(req, res) -> handled?
// Command line (serves SITE with the API on 127.0.0.1; prints card payloads for --code):
//   node web/server/demo.mjs --site SITE --records DIR --token-key FILE [--port N] [--kiosk] [--code C ...]
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadExport, recordsHandler } from './records.mjs';

const COOKIE = 'prefrec_demo';
const CARD = /^PRM1:([^:\s]{1,64}):([0-9a-fA-F]{32})$/;

/** The member's card token (16 bytes) from the shop's token master key. */
export function cardToken(tokenKey, code) {
  return createHmac('sha256', tokenKey).update('prefrec token v1\0').update(code, 'utf8').digest().subarray(0, 16);
}

/** The QR payload printed on a member's card: PRM1:<code>:<token hex>. */
export const cardPayload = (tokenKey, code) => `PRM1:${code}:${cardToken(tokenKey, code).toString('hex')}`;

/** {code, token} of a login body ({code, token} or {card}); null when malformed. */
export function parseLogin(body) {
  if (typeof body?.card === 'string') {
    const m = CARD.exec(body.card.trim());
    return m ? { code: m[1], token: m[2].toLowerCase() } : null;
  }
  if (typeof body?.code !== 'string' || typeof body?.token !== 'string') return null;
  const code = body.code.trim(), token = body.token.trim().toLowerCase();
  return /^[^:\s]{1,64}$/.test(code) && /^[0-9a-f]{32}$/.test(token) ? { code, token } : null;
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

async function readJson(req, limit = 4096) {
  let size = 0;
  const chunks = [];
  for await (const c of req) {
    size += c.length;
    if (size > limit) return null;
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}

/** The demo API as one function (req, res) -> Promise<boolean> (false: not an API path). */
export async function demoApi({ records, tokenKeyFile, kioskRecords = false }) {
  const { tokenKey } = await loadExport(records, tokenKeyFile);
  const sessions = new Map(); // session id -> member code
  const sessionOf = (req) => {
    const m = new RegExp(`(?:^|;\\s*)${COOKIE}=([0-9a-f]{64})`).exec(req.headers.cookie || '');
    return m ? m[1] : null;
  };
  const member = (req) => sessions.get(sessionOf(req)) ?? null;
  const record = await recordsHandler({ records, tokenKeyFile, member });
  return async (req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    if (path === '/api/prefrec/record' && req.method === 'GET') {
      await record(req, res);
    } else if (path === '/api/demo/login' && req.method === 'POST') {
      const login = parseLogin(await readJson(req));
      if (!login) return send(res, 400, { error: 'expected {"code", "token": 32 hex digits} or {"card": "PRM1:<code>:<token>"}' }), true;
      const ok = timingSafeEqual(cardToken(tokenKey, login.code), Buffer.from(login.token, 'hex'));
      if (!ok) return send(res, 401, { error: 'member code and card do not match' }), true;
      const id = randomBytes(32).toString('hex');
      sessions.set(id, login.code);
      send(res, 200, { code: login.code }, { 'Set-Cookie': `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict` });
    } else if (path === '/api/demo/logout' && req.method === 'POST') {
      sessions.delete(sessionOf(req));
      send(res, 204, undefined, { 'Set-Cookie': `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0` });
    } else if (path === '/api/demo/me' && req.method === 'GET') {
      const code = member(req);
      send(res, code ? 200 : 401, code ? { code } : { error: 'not signed in' });
    } else if (kioskRecords && path.startsWith('/kiosk-records/') && req.method === 'GET') {
      const name = path.slice('/kiosk-records/'.length);
      if (!/^([0-9a-f]{32}\.rec|export\.json|records\.json)$/.test(name)) return send(res, 404, { error: 'not found' }), true;
      try {
        const body = await readFile(join(records, name));
        res.writeHead(200, { 'Content-Type': name.endsWith('.rec') ? 'application/octet-stream' : 'application/json',
          'Content-Length': body.length, 'Cache-Control': 'no-cache' });
        res.end(body);
      } catch {
        send(res, 404, { error: 'not found' });
      }
    } else if (path.startsWith('/api/')) {
      send(res, 404, { error: 'no such API' });
    } else {
      return false;
    }
    return true;
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const arg = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const site = arg('--site'), records = arg('--records'), tokenKeyFile = arg('--token-key');
  if (!site || !records || !tokenKeyFile) {
    process.stderr.write('usage: node web/server/demo.mjs --site SITE --records DIR --token-key FILE [--port N] [--kiosk] [--code C ...]\n');
    process.exit(2);
  }
  const { startServer } = await import('../testkit/server.mjs');
  const api = await demoApi({ records, tokenKeyFile, kioskRecords: args.includes('--kiosk') });
  const srv = await startServer(site, { port: Number(arg('--port') || 0), api });
  console.log(`demo shop at ${srv.url}shop/ (kiosk: ${srv.url}kiosk/${args.includes('--kiosk') ? '?records=/kiosk-records/' : ''})`);
  const key = Buffer.from((await readFile(tokenKeyFile, 'utf8')).trim(), 'hex');
  args.forEach((a, i) => {
    if (a === '--code') console.log(`card of ${args[i + 1]}: ${cardPayload(key, args[i + 1])}`);
  });
}
