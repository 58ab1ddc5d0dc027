// records.mjs - the reference backend handler for member records (SECURITY.md, "Members' data"):
// after the shop's own login, it answers with the signed-in member's sealed record and the key
// that opens that record, which the page hands to the engine. No dependencies (node:http,
// node:crypto, node:fs); a backend in any language does the same with its standard HMAC:
//   kid   = HMAC-SHA-256(naming_key, "prefrec kid v1\0" + code), first 16 bytes
//           -> the file RECORDS/<kid as hex>.rec
//   token = HMAC-SHA-256(token_key, "prefrec token v1\0" + code), first 16 bytes (the card's)
//   key   = HMAC-SHA-256(token, "prefrec record v1\0" + u32 little-endian 1 + export_id + kid)
// naming_key and export_id are in RECORDS/export.json (written by prefrec export --records);
// token_key is the shop's token master key file (64 hex digits). The answer (JSON, never cached):
//   200 {"export_id": "<32 hex>", "record": "<base64>", "key": "<base64 of 32 bytes>"}
//   401 {"error": "not signed in"}          404 {"error": "no record"} (new member, opted out)
// The key opens this record of this export only; the token itself never leaves the backend.
//
//   import { recordsHandler } from './records.mjs';
//   const handle = await recordsHandler({ records: '/srv/prefrec/rec', tokenKeyFile: '/etc/prefrec/token.key',
//                                         member: (req) => sessions.get(cookie(req))?.memberCode });
//   http.createServer((req, res) => req.url === '/api/prefrec/record' ? handle(req, res) : ...);
// Command line (what the handler would answer for a member; for checks and ops):
//   node web/server/records.mjs --records DIR --token-key FILE --code CODE
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const hmac = (key, ...parts) => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The member key id (16 bytes) and record key (32 bytes) of `code` for one export. */
export function memberKeys(tokenKey, namingKey, exportId, code) {
  const c = Buffer.from(code, 'utf8');
  const kid = hmac(namingKey, 'prefrec kid v1\0', c).subarray(0, 16);
  const token = hmac(tokenKey, 'prefrec token v1\0', c).subarray(0, 16);
  const kind = Buffer.from([1, 0, 0, 0]);
  const key = hmac(token, 'prefrec record v1\0', kind, exportId, kid);
  token.fill(0);
  return { kid, key };
}

const hex = (s, n, what) => {
  if (typeof s !== 'string' || !new RegExp(`^[0-9a-fA-F]{${2 * n}}$`).test(s)) {
    throw new Error(`${what}: expected ${2 * n} hex digits`);
  }
  return Buffer.from(s, 'hex');
};

/** Read RECORDS/export.json and the token key file. */
export async function loadExport(records, tokenKeyFile) {
  const path = join(records, 'export.json');
  const e = JSON.parse(await readFile(path, 'utf8'));
  if (e.format !== 'prefrec-records' || e.version !== 1) throw new Error(`${path}: not a prefrec records export`);
  return {
    exportId: hex(e.export_id, 16, `${path}: export_id`),
    namingKey: hex(e.naming_key, 32, `${path}: naming_key`),
    tokenKey: hex((await readFile(tokenKeyFile, 'utf8')).trim(), 32, tokenKeyFile),
  };
}

/** The answer for member `code` (null: nobody signed in): {status, body}. */
export async function recordAnswer(records, ex, code) {
  if (!code) return { status: 401, body: { error: 'not signed in' } };
  const { kid, key } = memberKeys(ex.tokenKey, ex.namingKey, ex.exportId, code);
  let record;
  try {
    record = await readFile(join(records, `${kid.toString('hex')}.rec`));
  } catch (err) {
    if (err.code === 'ENOENT') return { status: 404, body: { error: 'no record' } };
    throw err;
  }
  return { status: 200, body: { export_id: ex.exportId.toString('hex'), record: record.toString('base64'),
    key: key.toString('base64') } };
}

/** A node:http handler. member(req) returns the signed-in member's code (the shop's session), or
 * null. The export is read once; call again after a new export. */
export async function recordsHandler({ records, tokenKeyFile, member }) {
  const ex = await loadExport(records, tokenKeyFile);
  return async (req, res) => {
    let a;
    try {
      a = await recordAnswer(records, ex, await member(req));
    } catch {
      a = { status: 500, body: { error: 'internal error' } };
    }
    res.writeHead(a.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(a.body));
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const records = arg('--records'), keyFile = arg('--token-key'), code = arg('--code');
  if (!records || !keyFile || !code) {
    process.stderr.write('usage: node records.mjs --records DIR --token-key FILE --code CODE\n');
    process.exit(2);
  }
  const a = await recordAnswer(records, await loadExport(records, keyFile), code);
  process.stdout.write(`${a.status} ${JSON.stringify(a.body)}\n`);
  process.exit(a.status === 200 ? 0 : 1);
}
