// A member's own lists in the browser engine: the shim (web/prefrec.js) opens a member's sealed
// record with the key the shop's backend hands out (web/server/records.mjs) or with the member's
// card token, and serves discover, buy_again and mixed exactly as the native CLI does from the
// same record (same products in the same order, scores within 1e-5; the native lists are the
// evaluated ones: tests/test_served.c). Wrong keys, another member's record, another export's
// record and requests without a member are refused with the engine's message. The WASI kiosk
// module, given the records directory and a member's card token or a wrong one, answers alike.
// Needs the native, emscripten and wasi builds; skips with a message otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { loadExport, memberKeys } from '../server/records.mjs';
import { loadCatalog, reasonText } from '../i18n/i18n.js';

const run = promisify(execFile);
const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(web, '..');
const CLI = process.env.PREFREC_CLI || join(root, 'build/native/prefrec');
const KIOSK = join(root, 'build/wasi/prefrec-kiosk.wasm');
const needed = [CLI, KIOSK, join(web, 'dist/prefrec-engine.js'), join(web, 'dist/prefrec-engine.wasm')];
const missing = needed.filter((f) => !existsSync(f));
const skip = missing.length
  ? `build outputs missing (${missing.map((f) => relative(root, f)).join(', ')}): run bash scripts/test.sh`
  : false;
if (skip) console.log(`# member.test.mjs skipped: ${skip}`);

const ENV = { ...process.env, OPENBLAS_NUM_THREADS: '1' };
const LISTS = ['discover', 'buy_again', 'mixed'];
let tmp, ex, codes, pr, PrefRec;

async function cli(...args) {
  const { stdout } = await run(CLI, args, { env: ENV, maxBuffer: 1 << 24 });
  return stdout;
}

const recordOf = (code) => readFileSync(join(tmp, 'rec', `${memberKeys(ex.tokenKey, ex.namingKey, ex.exportId, code).kid.toString('hex')}.rec`));

describe('member records in the browser engine', { skip }, () => {
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'prefrec-member-'));
    await cli('gen', '--out', join(tmp, 'data'), '--scale', '0.02', '--seed', '5', '--quiet');
    for (const a of ['A01', 'A02'])
      await cli('train', '--data', join(tmp, 'data'), '--affiliate', a, '--epochs', '2', '--seed', '5',
        '--quiet', '--out', join(tmp, 'full'));
    await cli('export', '--pack', join(tmp, 'full/A01.pack'), '--pack', join(tmp, 'full/A02.pack'),
      '--out', join(tmp, 'web'), '--shards', '2', '--records', join(tmp, 'rec'), '--data', join(tmp, 'data'),
      '--token-key', join(tmp, 'tok.key'));
    ex = await loadExport(join(tmp, 'rec'), join(tmp, 'tok.key'));
    // members with purchases in A01: the first codes of the purchase log, in order
    const log = readFileSync(join(tmp, 'data/LPOINT_BIG_COMP_02_PDDE.csv'), 'utf8').split('\n').slice(1);
    codes = [...new Set(log.filter((l) => l.split(',')[3] === 'A01').map((l) => l.split(',')[0]))].slice(0, 8);
    ({ PrefRec } = await import('../prefrec.js'));
    pr = await PrefRec.load({ packs: [join(tmp, 'web/A01.item.pack'), join(tmp, 'web/A02.item.pack')] });
  });
  after(() => {
    pr?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('a pack whose bytes differ from its manifest integrity is refused', async () => {
    const item = join(tmp, 'web/A01.item.pack');
    const good = `sha256-${createHash('sha256').update(readFileSync(item)).digest('base64')}`;
    const ok = await PrefRec.load({ packs: [{ item, integrity: good }] });
    assert.equal(ok.info[0].affiliate, 'A01');
    ok.close();
    const other = `sha256-${createHash('sha256').update(readFileSync(join(tmp, 'web/A02.item.pack'))).digest('base64')}`;
    await assert.rejects(PrefRec.load({ packs: [{ item, integrity: other }] }),
      (e) => e.status === 'checksum mismatch' && /replaced or altered/.test(e.message));
    await assert.rejects(PrefRec.load({ packs: [{ item, integrity: 'md5-abc' }] }), /integrity must be/);
  });

  test('the packs name their export; no member is open at first', () => {
    assert.equal(pr.exportId, ex.exportId.toString('hex'));
    assert.equal(pr.member, null);
    assert.deepEqual(pr.info[0].lists, LISTS);
  });

  test('each list equals the native answer from the same record (key and card token)', async () => {
    assert.equal(codes.length, 8);
    let repeat = 0;
    for (const code of codes) {
      const { key } = memberKeys(ex.tokenKey, ex.namingKey, ex.exportId, code);
      const token = createToken(code);
      for (const how of ['key', 'token']) {
        const info = how === 'key' ? pr.openMember({ record: recordOf(code), key: key.toString('base64') })
          : pr.openMember({ record: recordOf(code), token });
        assert.ok(info.affiliates.some((a) => a.affiliate === 'A01' && a.products > 0), `${code}: A01 purchases`);
        for (const list of LISTS) {
          const got = pr.recommend({ affiliate: 'A01', list, k: 10, day: '2022-01-15' });
          const want = JSON.parse(await cli('recommend', '--pack', join(tmp, 'web'), '--records', join(tmp, 'rec'),
            '--member', code, '--key', key.toString('hex'), '--affiliate', 'A01', '--list', list, '--k', '10',
            '--day', '2022-01-15', '--json'));
          assert.equal(got.source, 'member');
          assert.equal(got.list, list);
          assert.deepEqual(got.items.map((i) => i.code), want.items.map((i) => i.code), `${code} ${list} (${how})`);
          got.items.forEach((it, i) => {
            assert.ok(Math.abs(it.score - want.items[i].score) <= 1e-5, `${code} ${list} score ${i}`);
            assert.equal(it.reason, want.items[i].reason);
          });
          if (list === 'buy_again') {
            assert.ok(got.items.length > 0, `${code}: something to buy again`);
            for (const it of got.items) {
              assert.equal(it.reason_kind, 'repeat');
              assert.ok(it.days_since >= 15, `${code}: ${it.code} bought before the export's end`);
              repeat++;
            }
          }
        }
      }
    }
    assert.ok(repeat >= 16);
  });

  test('the WASI kiosk serves the same lists from the records directory and the card token', async () => {
    const reqs = [], want = [];
    for (const code of codes)
      for (const list of LISTS) {
        reqs.push(JSON.stringify({ member: { code, token: createToken(code) }, affiliate: 'A01', list, k: 10,
          day: '2022-01-15' }));
        want.push(JSON.parse(await cli('recommend', '--pack', join(tmp, 'web'), '--records', join(tmp, 'rec'),
          '--member', code, '--token', createToken(code), '--affiliate', 'A01', '--list', list, '--k', '10',
          '--day', '2022-01-15', '--json')));
      }
    // U+0000 in another string of a member's request: refused by the engine, naming the string (the
    // kiosk once re-printed the request after cJSON had cut that string at the NUL, serving "A01")
    reqs.push(JSON.stringify({ member: { code: codes[0], token: createToken(codes[0]) }, affiliate: 'A01\u0000x',
      list: 'buy_again' }));
    reqs.push(JSON.stringify({ member: { code: codes[0], token: '00'.repeat(16) }, list: 'buy_again', affiliate: 'A01' }));
    const r = spawnSync(process.execPath, ['--no-warnings', join(root, 'scripts/wasi-run.mjs'), KIOSK, '--pack',
      join(tmp, 'web'), '--records', join(tmp, 'rec'), '--lines'], { input: reqs.join('\n') + '\n', encoding: 'utf8',
      timeout: 120000 });
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, reqs.length, r.stderr);
    want.forEach((w, i) => {
      assert.ok(lines[i].ok, JSON.stringify(lines[i]));
      assert.deepEqual(lines[i].items.map((it) => it.code), w.items.map((it) => it.code), reqs[i]);
      lines[i].items.forEach((it, j) => assert.ok(Math.abs(it.score - w.items[j].score) <= 1e-5));
    });
    assert.equal(lines.at(-2).ok, false, JSON.stringify(lines.at(-2)));
    assert.match(lines.at(-2).error.message, /"affiliate" contains U\+0000/);
    assert.equal(lines.at(-1).error.status, 'cannot open');
  });

  test('reasons in Korean and English: the CLI (web/i18n compiled in) and i18n.js say the same', async () => {
    writeFileSync(join(tmp, 'members.txt'), codes.join('\n') + '\n');
    const batch = (...extra) => cli('recommend', '--pack', join(tmp, 'web'), '--affiliate', 'A01', '--members',
      join(tmp, 'members.txt'), '--records', join(tmp, 'rec'), '--token-key', join(tmp, 'tok.key'), '--list', 'mixed',
      '--k', '12', '--day', '2022-01-15', '--out', join(tmp, extra.includes('jsonl') ? 'b.jsonl' : 'b.csv'), ...extra);
    await batch('--format', 'jsonl');
    const answers = readFileSync(join(tmp, 'b.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const kinds = new Set();
    for (const lang of ['ko', 'en']) {
      const cat = await loadCatalog(lang);
      await batch('--format', 'csv', '--lang', lang);
      const rows = readFileSync(join(tmp, 'b.csv'), 'utf8').trim().split('\n').slice(1);
      const want = answers.flatMap((a) => a.items.map((it) => reasonText(cat, it)));
      assert.equal(rows.length, want.length);
      // the reason column: the CSV's 16th field (names hold no commas here; quoted fields are unquoted)
      rows.forEach((r, i) => {
        const f = r.match(/("([^"]|"")*"|[^,]*)(,|$)/g).map((x) => x.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"'));
        assert.equal(f[15], want[i], `${lang} row ${i}`);
      });
      for (const a of answers) for (const it of a.items) kinds.add(it.reason_kind);
      if (lang === 'en') answers.forEach((a) => a.items.forEach((it) => assert.equal(reasonText(cat, it), it.reason)));
    }
    assert.ok(kinds.has('repeat') && kinds.size >= 2, [...kinds].join());
  });

  test('wrong secrets, another member, another export, no member: refused by name', () => {
    const [a, b] = codes;
    const ka = memberKeys(ex.tokenKey, ex.namingKey, ex.exportId, a).key;
    const bad = Buffer.from(ka);
    bad[0] ^= 1;
    pr.closeMember();
    assert.throws(() => pr.openMember({ record: recordOf(a), key: bad }), (e) => e.status === 'cannot open');
    assert.throws(() => pr.openMember({ record: recordOf(b), key: ka }), (e) => e.status === 'cannot open');
    assert.throws(() => pr.openMember({ record: recordOf(a), key: ka, exportId: '00'.repeat(16) }),
      (e) => e.status === 'other export');
    const cut = recordOf(a).subarray(0, 200);
    assert.throws(() => pr.openMember({ record: cut, key: ka }), (e) => e.status === 'bad format');
    assert.throws(() => pr.openMember({ record: recordOf(a), pin: '1234' }), /PIN records need the kiosk build/);
    assert.equal(pr.member, null);
    assert.throws(() => pr.recommend({ affiliate: 'A01', list: 'buy_again' }), /needs the member's own purchases/);
    // a member number alone, with no shard loaded, gives nothing of that member
    assert.throws(() => pr.recommend({ affiliate: 'A01', customer: a }), /unknown customer/);
    pr.openMember({ record: recordOf(a), key: ka });
    assert.throws(() => pr.recommend({ affiliate: 'A01', customer: b }), /cannot be given with a member record/);
    pr.closeMember();
    assert.equal(pr.member, null);
  });
});

// The member's card token (what the shop prints on the card's QR code): the first 16 bytes of
// HMAC-SHA-256(token master key, "prefrec token v1\0" + code), as hex.
function createToken(code) {
  return createHmac('sha256', ex.tokenKey).update('prefrec token v1\0').update(code).digest().subarray(0, 16)
    .toString('hex');
}
