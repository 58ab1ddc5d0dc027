// Browser tests of the kiosk (web/kiosk/): a member signs in with their card (the QR payload
// PRM1:<code>:<token>) and gets the three plans and their buy-again list from their sealed record
// in the kiosk's records folder, each equal to the engine's own answer computed in node from the
// same record (plan ratio with the month's seed, its picks, the stamp board, buy again with repeat
// reasons); a wrong card and a member number alone show nothing of the member; 5 failures lock
// that member out (30 s, doubling; kept across a reload); an anonymous customer gets the segment's
// plans. The offline copy: after one load with the network on, the server is stopped and the
// context set offline, and a member who never signed in before signs in and sees their plans
// (the records come from the service worker's cache). A new models version replaces the cached
// packs. No page fetches a customer shard. Languages: Korean first; the 한국어 / English switch
// redraws the page, the notices and the widgets (reasons, due labels) in place, a signed-in member
// staying signed in, and the choice persists across a reload (localStorage and the URL).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../testkit/server.mjs';
import { launchBrowser, openPage } from '../testkit/browser.mjs';
import { CLI, ROOT, memberModels, remove, urlPath } from '../testkit/packs.mjs';
import { loadExport, memberKeys } from '../server/records.mjs';
import { cardPayload, demoApi } from '../server/demo.mjs';
import { writeRecordsManifest } from '../kiosk/records-manifest.mjs';
import { loadCatalog, reasonText } from '../i18n/i18n.js';

const ENGINE = join(ROOT, 'web/dist/prefrec-engine.wasm');
const skip = !existsSync(CLI) || !existsSync(ENGINE)
  ? 'needs build/native/prefrec and web/dist (bash scripts/test.sh, or cmake --build --preset native + bash scripts/web-dist.sh)'
  : false;
if (skip) console.log(`# kiosk.test.mjs skipped: ${skip}`);

const MONTH = '2021-12', SEED = 202112;

describe('kiosk', { skip }, () => {
  let srv, browser, fx, ex, pr, affs, api, members, ko, en;

  const open = (code) => {
    const { kid, key } = memberKeys(ex.tokenKey, ex.namingKey, ex.exportId, code);
    pr.openMember({ record: readFileSync(join(fx.records, `${kid.toString('hex')}.rec`)), key });
  };
  /** What the kiosk must show for member `code`, from the engine in node and the same record. */
  function expected(code) {
    open(code);
    try {
      const ratio = pr.planRatio({ seed: SEED, k: 8 });
      const picked = ratio.ratio.picked;
      return {
        picked, weights: Object.keys(ratio.ratio.weights), ratio: ratio.items.map((i) => i.code),
        board: pr.planStamp({ affiliate: picked }).board.map((c) => ({
          category: c.category, codes: c.items.map((i) => i.code), stamped: c.items.filter((i) => i.bought).map((i) => i.code),
        })),
        again: pr.request({ affiliate: picked, list: 'buy_again', k: 6 }).items,
      };
    } finally {
      pr.closeMember();
    }
  }

  before(async () => {
    fx = await memberModels('kiosk');
    await writeRecordsManifest(fx.records);
    ex = await loadExport(fx.records, fx.tokenKeyFile);
    affs = fx.manifest.affiliates.map((a) => a.affiliate);
    const { PrefRec } = await import('../prefrec.js');
    pr = await PrefRec.load({ packs: affs.map((a) => join(fx.site, `${a}.item.pack`)) });
    [ko, en] = await Promise.all([loadCatalog('ko'), loadCatalog('en')]);
    // members whose plan-1 store has repeat purchases with an interval to show
    members = fx.codes.filter((c) => expected(c).again.filter((i) => i.every_days > 0).length >= 2).slice(0, 3);
    assert.equal(members.length, 3);
    api = await demoApi({ records: fx.records, tokenKeyFile: fx.tokenKeyFile, kioskRecords: true });
    srv = await startServer(ROOT, { api });
    browser = await launchBrowser();
  });
  after(async () => {
    pr?.close();
    await browser?.close();
    await srv?.close();
    remove(fx);
  });

  const kioskUrl = (base, extra = '', models = fx.site) =>
    `${base}web/kiosk/?models=${encodeURIComponent(urlPath(models))}&month=${MONTH}${extra}`;
  const card = (code) => cardPayload(ex.tokenKey, code);
  const codesOf = (page, id) => page.$eval(`#${id}`, (w) => [...w.shadowRoot.querySelectorAll('.card[data-code]')].map((c) => c.dataset.code));

  async function kiosk(base = srv.url, extra = '') {
    const o = await openPage(browser);
    o.requests = [];
    o.page.on('request', (r) => o.requests.push(new URL(r.url()).pathname));
    await o.page.goto(kioskUrl(base, extra));
    await o.page.waitForSelector('body[data-state=start], body[data-state=ready], body[data-state=error]');
    return o;
  }

  async function scan(page, payload) {
    await page.fill('#card', payload);
    await page.click('#card-form button[type=submit]');
  }

  /** Every plan as the page shows it (panels are read whether or not their tab is open). */
  async function plans(page) {
    await page.waitForSelector('body[data-state=ready], body[data-state=error], body[data-state=refused], body[data-state=locked]');
    return page.evaluate(() => {
      const w = (id) => document.getElementById(id);
      return {
        state: document.body.dataset.state,
        notice: w('notice').hidden ? '' : w('notice').textContent,
        results: !w('results').hidden,
        who: w('who').textContent,
        picked: w('plan-ratio').dataset.affiliate,
        shares: [...document.querySelectorAll('#shares .share')].map((s) => s.dataset.affiliate),
        ratio: { source: w('ratio-widget').getAttribute('source'), affiliate: w('ratio-widget').response?.affiliate },
        sub: w('sub-widget').response?.affiliate,
        again: w('again').hidden ? null : {
          source: w('again-widget').getAttribute('source'),
          heading: w('again-widget').shadowRoot.querySelector('h2')?.textContent,
          codes: [...w('again-widget').shadowRoot.querySelectorAll('.card[data-code]')].map((c) => c.dataset.code),
          reasons: [...w('again-widget').shadowRoot.querySelectorAll('.card .reason')].map((c) => c.textContent),
          repeat: [...w('again-widget').shadowRoot.querySelectorAll('.card[data-every]')].map((c) => [Number(c.dataset.every), Number(c.dataset.since)]),
        },
        board: [...document.querySelectorAll('#board .column')].map((c) => ({
          category: c.querySelector('h3').textContent,
          codes: [...c.querySelectorAll('.tile')].map((t) => t.dataset.code),
          stamped: [...c.querySelectorAll('.tile.stamped')].map((t) => t.dataset.code),
        })),
      };
    });
  }

  /** The page's plans equal the engine's answer for the member. */
  async function assertMember(page, code, lang = 'ko') {
    const p = await plans(page);
    const want = expected(code);
    assert.equal(p.state, 'ready', p.notice);
    assert.equal(p.who, lang === 'ko' ? `회원 ${code} 님` : `Member ${code}`);
    assert.equal(p.picked, want.picked);
    assert.deepEqual(p.shares, want.weights);
    assert.equal(p.ratio.source, 'member');
    assert.deepEqual(await codesOf(page, 'ratio-widget'), want.ratio);
    assert.equal(p.board.length, 5);
    assert.deepEqual(p.board, want.board);
    // beside the plans: the member's buy-again list at the plan-1 store, with the repeat reasons
    assert.equal(p.again.source, 'member');
    assert.equal(p.again.heading, lang === 'ko' ? '다시 구매' : 'Buy again');
    assert.deepEqual(p.again.codes, want.again.map((i) => i.code));
    assert.deepEqual(p.again.reasons, want.again.map((i) => reasonText(lang === 'ko' ? ko : en, i)));
    assert.deepEqual(p.again.repeat, want.again.map((i) => [i.every_days, i.days_since]));
    assert.ok(p.again.repeat.filter(([every]) => every > 0).length >= 2);
    return p;
  }

  async function checkTabs(page) {
    for (const [tab, panel] of [['tab-subscribe', 'plan-subscribe'], ['tab-stamp', 'plan-stamp'], ['tab-ratio', 'plan-ratio']]) {
      await page.click(`#${tab}`);
      assert.equal(await page.isVisible(`#${panel}`), true, `${panel} shown by its tab`);
    }
  }

  test('a member with their card: plan 1 by their purchases, plan 2, plan 3 stamps, and their buy-again list', async () => {
    const { page, errors, context, requests } = await kiosk();
    assert.equal(await page.isVisible('#pin-form'), false, 'token records: no PIN form');
    const [member] = members;
    await scan(page, card(member));
    const p = await assertMember(page, member);
    assert.doesNotMatch(page.url(), new RegExp(member), 'the member is not in the URL');
    // plan 2: choose another store, served for the member
    await checkTabs(page);
    await page.click('#tab-subscribe');
    const other = p.picked === 'A03' ? 'A01' : 'A03';
    await page.locator(`#sub-widget label[data-affiliate=${other}]`).click();
    await page.waitForFunction((a) => document.getElementById('sub-widget').response?.affiliate === a, other);
    open(member);
    const sub = pr.request({ plan: 'subscribe', affiliate: other, list: 'discover', k: 8 });
    pr.closeMember();
    assert.deepEqual(await codesOf(page, 'sub-widget'), sub.items.map((i) => i.code));
    assert.match(page.url(), new RegExp(`subscribe=${other}`));
    // the record came from the records folder by its key id; no customer shard was fetched
    const kid = memberKeys(ex.tokenKey, ex.namingKey, ex.exportId, member).kid.toString('hex');
    assert.ok(requests.includes(`/kiosk-records/${kid}.rec`));
    assert.deepEqual(requests.filter((r) => /\.cust\.\d+\.pack$/.test(r)), []);
    // sign out: the start screen, nothing of the member left on screen
    await page.click('#sign-out');
    await page.waitForSelector('body[data-state=start]');
    assert.equal(await page.isVisible('#card-form'), true);
    assert.equal(await page.textContent('#who'), '');
    assert.equal(await page.isVisible('#results'), false);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a wrong card, a malformed card or a member number alone shows nothing of the member', async () => {
    const [member] = members;
    const { page, errors, context } = await kiosk(srv.url, `&member=${member}`);
    // an old link with &member=: the start screen, said why
    assert.equal(await page.isVisible('#results'), false);
    assert.equal(await page.textContent('#notice'), '회원번호만으로는 볼 수 없어요. 회원 카드를 스캔해 주세요.');
    assert.doesNotMatch(page.url(), /member=/);
    await scan(page, `PRM1:${member}`);
    assert.equal(await page.textContent('#notice'), '카드를 읽을 수 없어요. 다시 스캔해 주세요.');
    const bad = card(member).replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    await scan(page, bad);
    const p = await plans(page);
    assert.equal(p.state, 'refused');
    assert.equal(p.notice, '카드가 맞지 않아요. 4번 더 틀리면 잠겨요.');
    assert.equal(p.results, false);
    assert.equal(p.who, '');
    assert.deepEqual(await codesOf(page, 'again-widget'), []);
    // a member code with no record gets the same answer (no membership oracle)
    await scan(page, `PRM1:M000000001:${'ab'.repeat(16)}`);
    await page.waitForFunction(() => Object.keys(JSON.parse(localStorage.getItem('prefrec-kiosk-locks') || '{}')).length === 2);
    assert.deepEqual(await page.evaluate(() => Object.values(JSON.parse(localStorage.getItem('prefrec-kiosk-locks'))).map((l) => l.fails)), [1, 1]);
    assert.equal(await page.textContent('#notice'), '카드가 맞지 않아요. 4번 더 틀리면 잠겨요.');
    assert.equal(await page.isVisible('#results'), false);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('5 failed sign-ins lock the member out for 30 s, then 60 s; kept across a reload; the right card after it works', async () => {
    const member = members[1];
    const { page, errors, context } = await kiosk(srv.url, '&lang=en'); // in English
    const bad = card(member).replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    for (let i = 1; i <= 4; i++) {
      await scan(page, bad);
      await page.waitForFunction((n) => document.getElementById('notice').textContent ===
        `This card could not be verified. ${n} more failure${n === 1 ? '' : 's'} and it locks.`, 5 - i);
    }
    await scan(page, bad);
    await page.waitForFunction(() => document.body.dataset.state === 'locked');
    assert.equal(await page.textContent('#notice'), 'Locked for 30 s after 5 failed sign-ins. Please try again later.');
    // the right card is refused while locked, and a reload does not reset the lock
    await page.reload();
    await page.waitForSelector('body[data-state=start]');
    await scan(page, card(member));
    await page.waitForFunction(() => document.body.dataset.state === 'locked');
    assert.match(await page.textContent('#notice'), /Locked for \d+ s after 5 failed sign-ins/);
    assert.equal(await page.isVisible('#results'), false);
    // another member is not locked by it
    const other = members[2];
    const kid = memberKeys(ex.tokenKey, ex.namingKey, ex.exportId, member).kid.toString('hex');
    const lock = () => page.evaluate((k) => JSON.parse(localStorage.getItem('prefrec-kiosk-locks'))[k] ?? null, kid);
    assert.equal((await lock()).fails, 5);
    // the 30 s pass (the stored time moved back instead of waiting): one more failure locks 60 s
    const expire = () => page.evaluate((k) => {
      const all = JSON.parse(localStorage.getItem('prefrec-kiosk-locks'));
      all[k].until = Date.now() - 1;
      localStorage.setItem('prefrec-kiosk-locks', JSON.stringify(all));
    }, kid);
    await expire();
    await scan(page, bad);
    await page.waitForFunction(() => document.body.dataset.state === 'locked' && /Locked for 60 s/.test(document.getElementById('notice').textContent));
    assert.equal((await lock()).fails, 6);
    await expire();
    await scan(page, card(member));
    await assertMember(page, member, 'en');
    assert.equal(await lock(), null, 'a right card clears the count');
    await page.click('#sign-out');
    await scan(page, card(other));
    await assertMember(page, other, 'en');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('an anonymous customer (gender and age band): the three plans from the segment, no buy-again list', async () => {
    const { page, errors, context } = await kiosk();
    await page.click('label:has(input[name=gender][value=남성])');
    await page.click('label:has(input[name=age][value="40대"])');
    await page.click('#anon-form button[type=submit]');
    const p = await plans(page);
    assert.equal(p.state, 'ready', p.notice);
    assert.equal(p.who, '비회원 · 남성 40대');
    // the segment's reason on every card, in Korean
    assert.deepEqual(await page.$eval('#ratio-widget', (w) => [...new Set([...w.shadowRoot.querySelectorAll('.card .reason')].map((c) => c.textContent))]),
      ['비슷한 고객에게 인기 있어요']);
    // public packs count no members: every store alike, the month's seed picks
    const weights = Object.fromEntries(affs.map((a) => [a, 1]));
    const want = pr.planRatio({ weights, gender: '남성', age: '40대', seed: SEED, k: 8 });
    assert.equal(p.picked, want.ratio.picked);
    assert.equal(p.ratio.source, 'segment');
    assert.deepEqual(await codesOf(page, 'ratio-widget'), want.items.map((i) => i.code));
    const st = pr.planStamp({ affiliate: want.ratio.picked, gender: '남성', age: '40대' });
    assert.deepEqual(p.board.map((c) => c.codes), st.board.map((c) => c.items.map((i) => i.code)));
    assert.equal(p.board.flatMap((c) => c.stamped).length, 0, 'no history, no stamps');
    assert.equal(p.sub, want.ratio.picked);
    assert.equal(p.again, null);
    await checkTabs(page);
    // start over returns to the entry screen
    await page.click('#home');
    assert.equal(await page.isVisible('#card-form'), true);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('한국어 / English: the switch redraws every text in place (the member stays), and persists across a reload', async () => {
    const member = members[0];
    const { page, errors, context } = await kiosk();
    const texts = () => page.evaluate(() => ({
      lang: document.documentElement.lang,
      pressed: [...document.querySelectorAll('#lang button[aria-pressed=true]')].map((b) => b.textContent),
      start: document.querySelector('#card-form button[type=submit]').textContent,
      anon: document.querySelector('#anon-form h1').textContent,
      male: document.querySelector('label:has(input[value=남성]) span').textContent,
      age: document.querySelector('label:has(input[value="40대"]) span').textContent,
      tab: document.getElementById('tab-stamp').textContent,
      stored: localStorage.getItem('prefrec-kiosk-lang'),
    }));
    // Korean first, the switch's buttons in their own language
    assert.deepEqual(await texts(), { lang: 'ko', pressed: ['한국어'], start: '카드로 시작', anon: '비회원', male: '남성', age: '40대', tab: '③ 스탬프', stored: 'ko' });
    assert.deepEqual(await page.$$eval('#lang button', (b) => b.map((x) => x.textContent)), ['한국어', 'English']);
    await page.click('#lang button[data-lang=en]');
    await page.waitForSelector('html[lang=en]');
    const english = { lang: 'en', pressed: ['English'], start: 'Start with my card', anon: 'No membership', male: 'Male', age: '40s', tab: '③ Stamps', stored: 'en' };
    assert.deepEqual(await texts(), english);
    assert.match(page.url(), /[?&]lang=en/);
    // a reload keeps it: by the URL, and without it by localStorage
    await page.reload();
    await page.waitForSelector('body[data-state=start][data-lang=en]');
    assert.deepEqual(await texts(), english);
    await page.goto(kioskUrl(srv.url));
    await page.waitForSelector('body[data-state=start][data-lang=en]');
    assert.deepEqual(await texts(), english);
    // a notice shown is redrawn too
    await scan(page, 'PRM1:nope');
    assert.equal(await page.textContent('#notice'), 'Not a member card: scan it again.');
    await page.click('#lang button[data-lang=ko]');
    await page.waitForSelector('html[lang=ko]');
    assert.equal(await page.textContent('#notice'), '카드를 읽을 수 없어요. 다시 스캔해 주세요.');
    await page.click('#lang button[data-lang=en]');
    await page.waitForSelector('html[lang=en]');
    // a member in English: the buy-again list's repeat reasons and due labels, the plan's title
    await scan(page, card(member));
    const p = await assertMember(page, member, 'en');
    const want = expected(member);
    const storeEn = en[`affiliate.${want.picked}`], storeKo = ko[`affiliate.${want.picked}`];
    assert.equal(await page.textContent('#ratio-title'), `Picks at ${storeEn}`);
    assert.equal(await page.textContent('#ratio-lede'), 'December\'s store, picked by your share of purchases at each store.');
    const s = (n) => (n === 1 ? '' : 's');
    const periodic = want.again.filter((i) => i.every_days > 0);
    assert.ok(periodic.length >= 2);
    for (const i of periodic) {
      assert.ok(p.again.reasons.includes(`You buy this about every ${i.every_days} day${s(i.every_days)}; last bought ${i.days_since} day${s(i.days_since)} ago`));
    }
    const dues = () => page.$eval('#again-widget', (w) => [...w.shadowRoot.querySelectorAll('.card .due')].map((d) => d.textContent));
    const left = (i) => i.every_days - i.days_since;
    assert.deepEqual(await dues(), want.again.map((i) => (!i.every_days ? `Bought ${i.days_since} day${s(i.days_since)} ago`
      : left(i) <= 0 ? 'Due now' : `Due in ${left(i)} day${s(left(i))}`)));
    // switched in place: still signed in, every text in Korean
    await page.click('#lang button[data-lang=ko]');
    await page.waitForFunction(() => document.getElementById('again-widget').shadowRoot.querySelector('.root')?.lang === 'ko' &&
      document.getElementById('again-widget').getAttribute('state') === 'ready');
    await assertMember(page, member, 'ko');
    assert.equal(await page.textContent('#ratio-title'), `${storeKo} 추천`);
    assert.equal(await page.textContent('#ratio-lede'), '12월의 매장: 회원님의 매장별 구매 비중에 따라 골랐어요.');
    assert.match(await page.textContent('#stamp-title'), new RegExp(`^12월 스탬프 미션 · ${storeKo}$`));
    for (const i of periodic) assert.ok((await plans(page)).again.reasons.includes(`보통 ${i.every_days}일마다 구매 · 마지막 구매 ${i.days_since}일 전`));
    assert.deepEqual(await dues(), want.again.map((i) => (!i.every_days ? `${i.days_since}일 전 구매` : left(i) <= 0 ? '지금 살 때' : `${left(i)}일 후`)));
    assert.equal(await page.evaluate(() => localStorage.getItem('prefrec-kiosk-lang')), 'ko');
    assert.match(page.url(), /[?&]lang=ko/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('after one load with the network on, a member signs in offline (records from the cache)', async () => {
    const own = await startServer(ROOT, { api }); // stopped mid-test: nothing can come from the network
    const { page, context, errors } = await kiosk(own.url);
    try {
      await scan(page, card(members[0]));
      assert.equal((await plans(page)).state, 'ready');
      await page.waitForSelector('body[data-offline=ready]', { timeout: 60000 });
      await page.click('#sign-out');
      await own.close();
      await context.setOffline(true);
      assert.equal(await page.evaluate(() => fetch('/web/kiosk/manifest-probe', { cache: 'no-store' }).then(() => 'online', () => 'offline')), 'offline');
      await page.reload();
      await page.waitForSelector('body[data-state=start]');
      // a member who never signed in while online: their record was cached from records.json
      await scan(page, card(members[2]));
      await assertMember(page, members[2]);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await own.close().catch(() => {});
    }
  });

  test('a new models version replaces the cached packs (versioned caches); records cached by export', async () => {
    // a copy of the site the test may change: its manifest announces a new version
    const dir = join(fx.dir, 'site-v');
    rmSync(dir, { recursive: true, force: true });
    cpSync(fx.site, dir, { recursive: true });
    const v1 = fx.manifest.version;
    const { page, context } = await openPage(browser);
    try {
      await page.goto(kioskUrl(srv.url, '', dir));
      await page.waitForSelector('body[data-offline=ready]', { timeout: 60000 });
      const keys = (p) => page.evaluate(async (x) => (await caches.keys()).filter((k) => k.startsWith(x)).sort(), p);
      assert.deepEqual(await keys('prefrec-kiosk-packs-'), [`prefrec-kiosk-packs-${v1}`]);
      assert.deepEqual(await keys('prefrec-kiosk-records-'), [`prefrec-kiosk-records-${ex.exportId.toString('hex')}`]);
      const n = await page.evaluate(async (e) => (await (await caches.open(`prefrec-kiosk-records-${e}`)).keys())
        .filter((r) => r.url.endsWith('.rec')).length, ex.exportId.toString('hex'));
      assert.equal(n, JSON.parse(readFileSync(join(fx.records, 'records.json'), 'utf8')).files.length);
      const v2 = 'a5a5a5a5';
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...fx.manifest, version: v2 }));
      await page.reload();
      // the new version's packs get cached, then the old cache is deleted
      for (let i = 0; i < 120 && (await keys('prefrec-kiosk-packs-')).join() !== `prefrec-kiosk-packs-${v2}`; i++) await page.waitForTimeout(500);
      assert.deepEqual(await keys('prefrec-kiosk-packs-'), [`prefrec-kiosk-packs-${v2}`]);
      const cached = await page.evaluate(async (v) => (await (await caches.open(`prefrec-kiosk-packs-${v}`)).keys())
        .map((r) => new URL(r.url)).filter((u) => u.pathname.endsWith('.pack')).map((u) => u.pathname.split('/').pop() + u.search).sort(), v2);
      assert.deepEqual(cached, affs.map((a) => `${a}.item.pack?v=${v2}`));
    } finally {
      await context.close();
    }
  });
});
