// Browser tests of the kiosk (web/kiosk/): the three plans for a member and for an anonymous
// customer, checked against the native CLI on the same packs (plan ratio with the month's seed,
// plan stamp), and the offline copy: after one load with the network on, the server is stopped
// and the context set offline, and a reload still shows the recommendations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer } from '../testkit/server.mjs';
import { launchBrowser, openPage } from '../testkit/browser.mjs';
import { CLI, ROOT, cliJson, demoModels, remove, urlPath } from '../testkit/packs.mjs';
import { writeManifest } from '../kiosk/models-manifest.mjs';

const ENGINE = join(ROOT, 'web/dist/prefrec-engine.wasm');
const skip = !existsSync(CLI) || !existsSync(ENGINE)
  ? 'needs build/native/prefrec and web/dist (bash scripts/test.sh, or cmake --build --preset native + bash scripts/web-dist.sh)'
  : false;
if (skip) console.log(`# kiosk.test.mjs skipped: ${skip}`);

const MONTH = '2021-12', SEED = 202112;

describe('kiosk', { skip }, () => {
  let srv, browser, demo, member;

  before(async () => {
    demo = await demoModels('kiosk');
    member = demo.manifest.examples[0];
    srv = await startServer(ROOT);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
    remove(demo);
  });

  const kioskUrl = (base, extra = '') => `${base}web/kiosk/?models=${encodeURIComponent(urlPath(demo.models))}&month=${MONTH}${extra}`;
  const codesOf = (page, id) => page.$eval(`#${id}`, (w) => [...w.shadowRoot.querySelectorAll('.card[data-code]')].map((c) => c.dataset.code));

  /** Every plan as the page shows it (panels are read whether or not their tab is open). */
  async function plans(page) {
    await page.waitForSelector('body[data-state=ready], body[data-state=error]');
    return page.evaluate(() => {
      const w = (id) => document.getElementById(id);
      return {
        state: document.body.dataset.state,
        notice: w('notice').hidden ? '' : w('notice').textContent,
        picked: w('plan-ratio').dataset.affiliate,
        shares: [...document.querySelectorAll('#shares .share')].map((s) => s.dataset.affiliate),
        ratio: { source: w('ratio-widget').getAttribute('source'), affiliate: w('ratio-widget').response?.affiliate },
        sub: w('sub-widget').response?.affiliate,
        board: [...document.querySelectorAll('#board .column')].map((c) => ({
          category: c.querySelector('h3').textContent,
          codes: [...c.querySelectorAll('.tile')].map((t) => t.dataset.code),
          stamped: [...c.querySelectorAll('.tile.stamped')].map((t) => t.dataset.code),
        })),
      };
    });
  }

  async function checkTabs(page) {
    for (const [tab, panel] of [['tab-subscribe', 'plan-subscribe'], ['tab-stamp', 'plan-stamp'], ['tab-ratio', 'plan-ratio']]) {
      await page.click(`#${tab}`);
      assert.equal(await page.isVisible(`#${panel}`), true, `${panel} shown by its tab`);
    }
  }

  test('a member: plan 1 store by purchase share, plan 2 subscription, plan 3 stamp board', async () => {
    const { page, errors, context } = await openPage(browser);
    await page.goto(kioskUrl(srv.url));
    await page.fill('#member', member);
    await page.click('#member-form button[type=submit]');
    const p = await plans(page);
    assert.equal(p.state, 'ready', p.notice);
    const cli = await cliJson(['plan', 'ratio', '--pack', demo.packs, '--customer', member, '--seed', String(SEED), '--k', '8']);
    assert.equal(p.picked, cli.ratio.picked);
    assert.deepEqual(p.shares, Object.keys(cli.ratio.weights));
    assert.equal(p.ratio.source, 'known');
    assert.deepEqual(await codesOf(page, 'ratio-widget'), cli.items.map((i) => i.code));
    // plan 3: the month's store, 5 categories x 5 products, stamps where the CLI says bought
    const st = await cliJson(['plan', 'stamp', '--pack', demo.packs, '--affiliate', cli.ratio.picked, '--customer', member]);
    assert.equal(p.board.length, 5);
    assert.deepEqual(p.board, st.board.map((c) => ({
      category: c.category, codes: c.items.map((i) => i.code), stamped: c.items.filter((i) => i.bought).map((i) => i.code),
    })));
    for (const c of p.board) assert.equal(c.codes.length, 5);
    // plan 2: choose another store
    await checkTabs(page);
    await page.click('#tab-subscribe');
    const other = p.picked === 'A03' ? 'A01' : 'A03';
    await page.locator(`#sub-widget label[data-affiliate=${other}]`).click();
    await page.waitForFunction((a) => document.getElementById('sub-widget').response?.affiliate === a, other);
    const sub = await cliJson(['plan', 'subscribe', '--pack', demo.packs, '--affiliate', other, '--customer', member, '--k', '8']);
    if (sub.ok) assert.deepEqual(await codesOf(page, 'sub-widget'), sub.items.map((i) => i.code));
    assert.match(page.url(), new RegExp(`subscribe=${other}`));
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('an anonymous customer (gender and age band): the three plans from the segment', async () => {
    const { page, errors, context } = await openPage(browser);
    await page.goto(kioskUrl(srv.url));
    await page.click('label:has(input[name=gender][value=남성])');
    await page.click('label:has(input[name=age][value="40대"])');
    await page.click('#anon-form button[type=submit]');
    const p = await plans(page);
    assert.equal(p.state, 'ready', p.notice);
    assert.match(await page.textContent('#who'), /비회원 · 남성 40대/);
    const weights = Object.fromEntries(demo.manifest.affiliates.map((a) => [a.affiliate, a.customers]));
    const req = join(demo.dir, 'anon.json');
    writeFileSync(req, JSON.stringify({ plan: 'ratio', weights, gender: '남성', age: '40대', seed: SEED, k: 8 }));
    const cli = await cliJson(['plan', 'ratio', '--pack', demo.packs, '--request', req]);
    assert.equal(p.picked, cli.ratio.picked);
    assert.equal(p.ratio.source, 'segment');
    assert.deepEqual(await codesOf(page, 'ratio-widget'), cli.items.map((i) => i.code));
    const sreq = join(demo.dir, 'anon-stamp.json');
    writeFileSync(sreq, JSON.stringify({ plan: 'stamp', affiliate: cli.ratio.picked, gender: '남성', age: '40대' }));
    const st = await cliJson(['plan', 'stamp', '--pack', demo.packs, '--request', sreq]);
    assert.deepEqual(p.board.map((c) => c.codes), st.board.map((c) => c.items.map((i) => i.code)));
    assert.equal(p.board.flatMap((c) => c.stamped).length, 0, 'no history, no stamps');
    assert.equal(p.sub, cli.ratio.picked);
    await checkTabs(page);
    // start over returns to the entry screen
    await page.click('#home');
    assert.equal(await page.isVisible('#member-form'), true);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('an unknown member number is said so, and popular products are shown', async () => {
    const { page, context } = await openPage(browser);
    await page.goto(kioskUrl(srv.url, '&member=M000000001'));
    const p = await plans(page);
    assert.equal(p.state, 'ready');
    assert.match(p.notice, /회원번호 M000000001를 찾을 수 없어요/);
    assert.equal(p.ratio.source, 'segment');
    assert.equal(p.board.length, 5);
    await context.close();
  });

  test('after one load with the network on, a reload offline still shows recommendations', async () => {
    const own = await startServer(ROOT); // stopped mid-test: nothing can come from the network
    const { page, context, errors } = await openPage(browser);
    try {
      await page.goto(kioskUrl(own.url, `&member=${member}`));
      const first = await plans(page);
      assert.equal(first.state, 'ready');
      const codes = await codesOf(page, 'ratio-widget');
      await page.waitForSelector('body[data-offline=ready]', { timeout: 60000 });
      await own.close();
      await context.setOffline(true);
      assert.equal(await page.evaluate(() => fetch('/web/kiosk/manifest-probe', { cache: 'no-store' }).then(() => 'online', () => 'offline')), 'offline');
      await page.reload();
      const again = await plans(page);
      assert.equal(again.state, 'ready', again.notice);
      assert.deepEqual(await codesOf(page, 'ratio-widget'), codes);
      assert.deepEqual(again.board, first.board);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await own.close().catch(() => {});
    }
  });

  test('a new export replaces the cached packs (versioned caches)', async () => {
    // a copy of the models the test may change: A05 re-exported with 2 shards instead of 4
    const dir = join(demo.dir, 'models-v');
    rmSync(dir, { recursive: true, force: true });
    cpSync(demo.models, dir, { recursive: true });
    const v1 = (await writeManifest(dir)).version;
    const url = `${srv.url}web/kiosk/?models=${encodeURIComponent(urlPath(dir))}&month=${MONTH}&member=${member}`;
    const { page, context } = await openPage(browser);
    try {
      await page.goto(url);
      await page.waitForSelector('body[data-offline=ready]', { timeout: 60000 });
      const keys = () => page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('prefrec-kiosk-packs-')));
      assert.deepEqual(await keys(), [`prefrec-kiosk-packs-${v1}`]);
      for (const f of readdirSync(dir).filter((f) => f.startsWith('A05.'))) rmSync(join(dir, f));
      execFileSync(CLI, ['export', '--pack', join(demo.packs, 'A05.pack'), '--out', dir, '--shards', '2']);
      const v2 = (await writeManifest(dir)).version;
      assert.notEqual(v2, v1);
      await page.reload();
      // the new version's packs get cached, then the old cache is deleted
      for (let i = 0; i < 120 && (await keys()).join() !== `prefrec-kiosk-packs-${v2}`; i++) await page.waitForTimeout(500);
      assert.deepEqual(await keys(), [`prefrec-kiosk-packs-${v2}`]);
      const cached = await page.evaluate(async (v) => (await (await caches.open(`prefrec-kiosk-packs-${v}`)).keys())
        .map((r) => new URL(r.url).pathname.split('/').pop()).filter((f) => f.startsWith('A05.')).sort(), v2);
      assert.deepEqual(cached, ['A05.cust.000.pack', 'A05.cust.001.pack', 'A05.item.pack']);
      assert.equal((await plans(page)).state, 'ready');
    } finally {
      await context.close();
    }
  });
});
