// Browser tests of <prefrec-recommendations> (web/widget/) in the demo shop page (web/shop/)
// with the demo backend (web/server/demo.mjs: card sign-in, records.mjs): Debian's chromium
// through playwright-core, the repository root served on 127.0.0.1, packs trained and exported
// here with member records from generated data (web/testkit/packs.mjs). Every list is compared
// with the engine's own answer computed in node (the shim over the same wasm engine, whose lists
// equal the native CLI's: member.test.mjs) from the same record: same products in the same order,
// same reasons. A member who signs in with their card sees their buy-again list (repeat reasons
// with interval and days since) and their discover list; a wrong card, a member number alone or
// a customer attribute shows nothing of theirs; a member with no record (404) and guests get the
// segment list, marked; no page fetches a customer shard. Also: the subscription switch (click and
// keyboard), an HTML product name shown as text and run never, a missing pack -> the error state.
// Languages: every reason kind (bought_with, category, segment, repeat) and the due labels in
// Korean and English, by the widget's lang attribute, an ancestor's lang and the shop's switch.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../testkit/server.mjs';
import { launchBrowser, openPage } from '../testkit/browser.mjs';
import { CLI, EVIL, ROOT, memberModels, remove, urlPath, xssModels } from '../testkit/packs.mjs';
import { loadExport, memberKeys } from '../server/records.mjs';
import { cardToken, demoApi } from '../server/demo.mjs';
import { loadCatalog, reasonText } from '../i18n/i18n.js';

const ENGINE = join(ROOT, 'web/dist/prefrec-engine.wasm');
const skip = !existsSync(CLI) || !existsSync(ENGINE)
  ? 'needs build/native/prefrec and web/dist (bash scripts/test.sh, or cmake --build --preset native + bash scripts/web-dist.sh)'
  : false;
if (skip) console.log(`# widget.test.mjs skipped: ${skip}`);

describe('storefront widget', { skip }, () => {
  let srv, browser, fx, xss, ex, pr, xpr, affs, ko, en;
  let member, aff, emptyAff; // a member with repeat purchases (every_days > 0) at aff, none at emptyAff

  const recordOf = (code) => {
    const { kid, key } = memberKeys(ex.tokenKey, ex.namingKey, ex.exportId, code);
    return { record: readFileSync(join(fx.records, `${kid.toString('hex')}.rec`)), key };
  };
  /** The engine's answer in node for `code` (their record opened with the backend's key), or for
   * an anonymous visitor (code null). */
  const expected = (code, req) => {
    if (code) pr.openMember(recordOf(code));
    try {
      return pr.request(req);
    } finally {
      pr.closeMember();
    }
  };

  before(async () => {
    [fx, xss] = await Promise.all([memberModels('widget'), xssModels('widget-xss')]);
    ex = await loadExport(fx.records, fx.tokenKeyFile);
    affs = fx.manifest.affiliates.map((a) => a.affiliate);
    const { PrefRec } = await import('../prefrec.js');
    pr = await PrefRec.load({ packs: affs.map((a) => join(fx.site, `${a}.item.pack`)) });
    xpr = await PrefRec.load({ packs: [join(xss.models, 'A01.item.pack')] });
    [ko, en] = await Promise.all([loadCatalog('ko'), loadCatalog('en')]);
    for (const code of fx.codes) {
      const lists = affs.map((a) => expected(code, { affiliate: a, list: 'buy_again', k: 8 }).items);
      const at = lists.findIndex((l) => l.length === 8 && l.filter((i) => i.every_days > 0).length >= 3);
      const none = lists.findIndex((l) => l.length === 0);
      if (at >= 0 && none >= 0) {
        [member, aff, emptyAff] = [code, affs[at], affs[none]];
        break;
      }
    }
    assert.ok(member, 'a member with repeat purchases in one store and none in another');
    srv = await startServer(ROOT, { api: await demoApi({ records: fx.records, tokenKeyFile: fx.tokenKeyFile }) });
    browser = await launchBrowser();
  });
  after(async () => {
    pr?.close();
    xpr?.close();
    await browser?.close();
    await srv?.close();
    remove(fx);
    remove(xss);
  });

  const shopUrl = (models, extra = '') => `${srv.url}web/shop/?models=${encodeURIComponent(urlPath(models))}${extra}`;
  const token = (code) => cardToken(ex.tokenKey, code).toString('hex');

  /** A page of the shop with every request it makes recorded. */
  async function shop(extra = '', models = fx.site) {
    const o = await openPage(browser);
    o.requests = [];
    o.page.on('request', (r) => o.requests.push(new URL(r.url()).pathname));
    await o.page.goto(shopUrl(models, extra));
    await o.page.waitForSelector('body[data-ready]');
    return o;
  }

  /** State, items and note of a widget, once it is ready or failed (and not loading again). */
  async function widget(page, id, { source = null, empty = null } = {}) {
    await page.waitForFunction(([i, s, e]) => {
      const w = document.getElementById(i);
      const st = w?.getAttribute('state');
      return st === 'error' || (st === 'ready' && (!s || w.getAttribute('source') === s) && (!e || w.getAttribute('empty') === e));
    }, [id, source, empty]);
    return page.$eval(`#${id}`, (w) => ({
      state: w.getAttribute('state'), source: w.getAttribute('source'), fallback: w.getAttribute('fallback'),
      empty: w.getAttribute('empty'), affiliate: w.response?.affiliate ?? null,
      heading: w.shadowRoot.querySelector('h2')?.textContent ?? null,
      codes: [...w.shadowRoot.querySelectorAll('.card[data-code]')].map((c) => c.dataset.code),
      names: [...w.shadowRoot.querySelectorAll('.card .name')].map((c) => c.textContent),
      reasons: [...w.shadowRoot.querySelectorAll('.card .reason')].map((c) => c.textContent),
      repeat: [...w.shadowRoot.querySelectorAll('.card[data-every]')].map((c) => ({
        every: Number(c.dataset.every), since: Number(c.dataset.since), due: c.querySelector('.due').textContent })),
      note: w.shadowRoot.querySelector('.note')?.textContent ?? null,
      emptyText: w.shadowRoot.querySelector('.empty')?.textContent ?? null,
      alert: w.shadowRoot.querySelector('[role=alert]')?.textContent ?? null,
    }));
  }

  async function signIn(page, code, secret) {
    await page.fill('#member', code);
    await page.fill('#card-token', secret);
    await page.click('#member-form button[type=submit]');
  }

  const recordStatus = (page) => page.evaluate(() => fetch('/api/prefrec/record', { credentials: 'same-origin' }).then((r) => r.status));

  test('a member who signs in with their card sees their buy-again list with repeat reasons, and their own discover list', async () => {
    const { page, errors, context, requests } = await shop(`&affiliate=${aff}&lang=en`);
    // a guest first: the segment list, no buy-again panel
    assert.equal((await widget(page, 'main-widget')).source, 'segment');
    assert.equal(await page.isVisible('#again'), false);
    await signIn(page, member, token(member));
    await page.waitForSelector('#again:not([hidden])');
    const again = await widget(page, 'again-widget', { source: 'member' });
    const want = expected(member, { affiliate: aff, list: 'buy_again', k: 8 });
    assert.equal(again.state, 'ready');
    assert.equal(again.source, 'member');
    assert.equal(again.heading, 'Buy again');
    assert.equal(again.codes.length, 8);
    assert.deepEqual(again.codes, want.items.map((i) => i.code));
    assert.deepEqual(again.reasons, want.items.map((i) => reasonText(en, i)));
    // the catalogue's English says what the engine's English fallback says
    assert.deepEqual(again.reasons, want.items.map((i) => i.reason));
    // every card is a repeat: the interval and days since as the engine says, and whether it is due
    assert.deepEqual(again.repeat.map(({ every, since }) => ({ every, since })),
      want.items.map((i) => ({ every: i.every_days, since: i.days_since })));
    const periodic = want.items.filter((i) => i.every_days > 0);
    assert.ok(periodic.length >= 3);
    for (const [n, it] of want.items.entries()) {
      assert.equal(it.reason_kind, 'repeat');
      if (it.every_days > 0) assert.match(it.reason, new RegExp(`every ${it.every_days} days?; last bought ${it.days_since} days? ago`));
      const due = again.repeat[n].due;
      if (!it.every_days) assert.equal(due, `Bought ${it.days_since} day${it.days_since === 1 ? '' : 's'} ago`);
      else if (it.days_since >= it.every_days) assert.equal(due, 'Due now');
      else assert.match(due, new RegExp(`Due in ${it.every_days - it.days_since} days?$`));
    }
    // the discover list is the member's too, from the same record
    const main = await widget(page, 'main-widget', { source: 'member' });
    const disc = expected(member, { affiliate: aff, list: 'discover', k: 8 });
    assert.equal(main.source, 'member');
    assert.equal(main.fallback, null);
    assert.deepEqual(main.codes, disc.items.map((i) => i.code));
    assert.deepEqual(main.reasons, disc.items.map((i) => reasonText(en, i)));
    assert.equal(await page.textContent('#who'), `Signed in as ${member}.`);
    // a store where the member bought nothing that comes back: the empty state, no cards
    await page.click(`#aff-tabs button[data-affiliate=${emptyAff}]`);
    const none = await widget(page, 'again-widget', { empty: 'nothing' });
    assert.deepEqual(none.codes, []);
    assert.match(none.emptyText, /^Nothing to buy again at .+ yet/);
    // the record came from the backend for this session; no customer shard was fetched
    assert.ok(requests.includes('/api/prefrec/record'));
    assert.deepEqual(requests.filter((p) => /\.cust\.\d+\.pack$/.test(p)), []);
    // sign out: the segment list again, and the backend no longer answers the record
    await page.click('#sign-out');
    await page.waitForSelector('#again[hidden]', { state: 'attached' });
    const out = await widget(page, 'main-widget', { source: 'segment' });
    assert.deepEqual(out.codes, expected(null, { affiliate: emptyAff, k: 8 }).items.map((i) => i.code));
    assert.equal(await recordStatus(page), 401);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the card\'s QR payload signs in too; the subscription switch serves the member (mouse and keyboard)', async () => {
    const { page, errors, context } = await shop('&subscribe=A02&lang=en');
    await page.fill('#card-token', `PRM1:${member}:${token(member)}`);
    await page.click('#member-form button[type=submit]');
    let w = await widget(page, 'sub-widget', { source: 'member' });
    assert.equal(w.affiliate, 'A02');
    const sub = (a) => expected(member, { plan: 'subscribe', affiliate: a, list: 'discover', k: 4 }).items.map((i) => i.code);
    assert.deepEqual(w.codes, sub('A02'));
    await page.locator('#sub-widget label[data-affiliate=A04]').click();
    await page.waitForFunction(() => document.querySelector('#sub-widget').response?.affiliate === 'A04');
    w = await widget(page, 'sub-widget');
    assert.equal(await page.$eval('#sub-widget', (x) => x.getAttribute('affiliate')), 'A04');
    assert.equal(await page.textContent('#log'), 'Subscribed to Convenience store (A04)');
    assert.deepEqual(w.codes, sub('A04'));
    // keyboard: the checked radio has focus after the click; ArrowRight moves to A05
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.querySelector('#sub-widget').response?.affiliate === 'A05');
    // cards are focusable; Enter selects one
    await page.$eval('#sub-widget', (x) => x.shadowRoot.querySelector('.card').focus());
    await page.keyboard.press('Enter');
    assert.match(await page.textContent('#log'), /^Selected: .+ \(PD\d+, Electronics\)$/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a wrong card or a member number alone shows nothing of the member', async () => {
    const { page, errors, context, requests } = await shop(`&affiliate=${aff}&customer=${member}&lang=en`);
    const guest = expected(null, { affiliate: aff, k: 8 }).items.map((i) => i.code);
    const mine = expected(member, { affiliate: aff, list: 'buy_again', k: 8 }).items.map((i) => i.code);
    // ?customer= in the URL is not a sign-in
    let w = await widget(page, 'main-widget');
    assert.equal(w.source, 'segment');
    assert.deepEqual(w.codes, guest);
    // the member number with a wrong card token: refused by the backend, said so
    const bad = token(member).replace(/^./, (c) => (c === '0' ? '1' : '0'));
    await signIn(page, member, bad);
    await page.waitForSelector('#shop-error:not([hidden])');
    assert.match(await page.textContent('#shop-error'), /The member number and the card do not match/);
    // the member number alone: not even sent
    await signIn(page, member, '');
    assert.match(await page.textContent('#shop-error'), /Enter your member number and your card's token/);
    assert.equal(await page.isVisible('#again'), false);
    w = await widget(page, 'main-widget');
    assert.equal(w.source, 'segment');
    assert.deepEqual(w.codes, guest);
    assert.equal(await page.textContent('#who'), 'Browsing as a guest.');
    for (const id of ['main-widget', 'again-widget', 'sub-widget']) {
      const codes = await page.$eval(`#${id}`, (x) => [...x.shadowRoot.querySelectorAll('.card[data-code]')].map((c) => c.dataset.code));
      assert.equal(codes.filter((c) => mine.includes(c) && !guest.includes(c)).length, 0, `${id} shows none of the member's own products`);
    }
    assert.equal(await recordStatus(page), 401);
    assert.equal(requests.filter((p) => p === '/api/prefrec/record').length, 1, 'only the probe above asked for a record');
    // a widget given a customer attribute refuses it, saying why
    await page.setContent(`<prefrec-recommendations id="w" pack="${srv.url}${urlPath(fx.site).slice(1)}A01.item.pack" customer="${member}"></prefrec-recommendations>`);
    await page.addScriptTag({ type: 'module', url: `${srv.url}web/widget/prefrec-widget.js` });
    const refused = await widget(page, 'w');
    assert.equal(refused.state, 'error');
    assert.deepEqual(refused.codes, []);
    assert.match(refused.alert, /the "customer" attribute is gone: a member number alone must not show anyone's recommendations/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a guest gets the popular products (segment), marked, and no buy-again list', async () => {
    const { page, errors, context } = await shop('&affiliate=A01&lang=en');
    const w = await widget(page, 'main-widget');
    assert.equal(w.state, 'ready');
    assert.equal(w.source, 'segment');
    assert.equal(w.fallback, null);
    assert.match(w.note, /^popular products for everyone at Department store\.$/);
    assert.deepEqual(w.codes, expected(null, { plan: 'recommend', affiliate: 'A01', k: 8 }).items.map((i) => i.code));
    assert.equal(await page.isVisible('#again'), false);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the JS API: setMember({record, key}) shows the member\'s list; a wrong key or no session falls back, marked', async () => {
    const { page, errors, context } = await shop(); // a page of the shop's origin, as a guest
    const pack = `${srv.url}${urlPath(fx.site).slice(1)}${aff}.item.pack`;
    await page.setContent(`<prefrec-recommendations id="a" list="buy_again" k="5" pack="${pack}"></prefrec-recommendations>
      <prefrec-recommendations id="m" list="mixed" k="5" pack="${pack}"></prefrec-recommendations>
      <prefrec-recommendations id="r" k="5" pack="${pack}" record-url="/api/prefrec/record"></prefrec-recommendations>`);
    await page.addScriptTag({ type: 'module', url: `${srv.url}web/widget/prefrec-widget.js` });
    // no member: buy_again is an empty "sign in" state, mixed the segment list
    let a = await widget(page, 'a');
    assert.equal(a.empty, 'signed-out');
    assert.match(a.emptyText, /^Sign in to see the products you buy again at /);
    const r = await widget(page, 'r', { source: 'segment' });
    assert.equal(r.fallback, 'signed-out'); // the backend said 401: nobody is signed in
    assert.match(r.note, /^Sign in to see your own picks: popular products for everyone/);
    assert.deepEqual(r.codes, expected(null, { affiliate: aff, k: 5 }).items.map((i) => i.code));
    const { record, key } = recordOf(member);
    await page.$eval('#a', (w, m) => w.setMember(m), { record: record.toString('base64'), key: key.toString('base64') });
    a = await widget(page, 'a', { source: 'member' });
    assert.deepEqual(a.codes, expected(member, { affiliate: aff, list: 'buy_again', k: 5 }).items.map((i) => i.code));
    // a key that does not open the record: refused, the segment list with a note
    const wrong = Buffer.from(key);
    wrong[0] ^= 1;
    await page.$eval('#m', (w, m) => w.setMember(m), { record: record.toString('base64'), key: wrong.toString('base64') });
    await page.waitForFunction(() => document.getElementById('m').getAttribute('fallback') === 'cannot-open');
    const m = await widget(page, 'm');
    assert.equal(m.source, 'segment');
    assert.match(m.note, /^Your saved picks could not be opened: popular products/);
    assert.deepEqual(m.codes, expected(null, { affiliate: aff, k: 5 }).items.map((i) => i.code));
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a signed-in member with no record (new, or opted out) gets the popular products, said so', async () => {
    const code = fx.codes.find((c) => c !== member);
    const rec = join(fx.records, `${memberKeys(ex.tokenKey, ex.namingKey, ex.exportId, code).kid.toString('hex')}.rec`);
    renameSync(rec, `${rec}.away`);
    try {
      const { page, errors, context } = await shop('&affiliate=A01&lang=en');
      await signIn(page, code, token(code));
      await page.waitForFunction(() => document.getElementById('main-widget').getAttribute('fallback') === 'no-record');
      const w = await widget(page, 'main-widget');
      assert.equal(w.source, 'segment');
      assert.match(w.note, /^We don't know your purchases yet: popular products for everyone at Department store\.$/);
      assert.deepEqual(w.codes, expected(null, { affiliate: 'A01', k: 8 }).items.map((i) => i.code));
      const again = await widget(page, 'again-widget', { empty: 'signed-out' });
      assert.equal(again.fallback, 'no-record');
      assert.equal(again.emptyText, 'We don\'t know your purchases yet: nothing to buy again at Department store.');
      assert.equal(await recordStatus(page), 404);
      assert.deepEqual(errors, []);
      await context.close();
    } finally {
      renameSync(`${rec}.away`, rec);
    }
  });

  test('every reason kind in Korean and English: an ancestor\'s lang, then the widget\'s lang attribute', async () => {
    // where each kind shows for the member (the engine's answers in node): a list and a store
    const at = {};
    for (const a of affs) {
      for (const list of ['discover', 'buy_again']) {
        for (const it of expected(member, { affiliate: a, list, k: 8 }).items) at[it.reason_kind] ??= { a, list };
      }
    }
    at.segment = { a: aff, list: 'discover', guest: true };
    assert.ok(at.bought_with && at.category && at.repeat, `kinds found: ${Object.keys(at)}`);
    const { page, errors, context } = await shop();
    const packOf = (a) => `${srv.url}${urlPath(fx.site).slice(1)}${a}.item.pack`;
    const kinds = ['bought_with', 'category', 'segment', 'repeat'];
    await page.setContent(`<div lang="ko-KR">${kinds.map((kd) =>
      `<prefrec-recommendations id="w-${kd}" k="8" list="${at[kd].list}" pack="${packOf(at[kd].a)}"></prefrec-recommendations>`).join('')}</div>`);
    const { record, key } = recordOf(member);
    await page.addScriptTag({ type: 'module', url: `${srv.url}web/widget/prefrec-widget.js` });
    await page.evaluate((m) => {
      for (const w of document.querySelectorAll('prefrec-recommendations')) if (w.id !== 'w-segment') w.setMember(m);
    }, { record: record.toString('base64'), key: key.toString('base64') });
    const cards = (id, lang) => page.waitForFunction(([i, l]) => {
      const w = document.getElementById(i);
      return w.getAttribute('state') === 'ready' && w.shadowRoot.querySelector('.root').lang === l &&
        (i === 'w-segment' || w.getAttribute('source') === 'member');
    }, [id, lang]).then(() => page.$eval(`#${id}`, (w) => ({
      heading: w.shadowRoot.querySelector('h2')?.textContent,
      note: w.shadowRoot.querySelector('.note')?.textContent ?? null,
      cards: [...w.shadowRoot.querySelectorAll('.card')].map((c) => ({
        code: c.dataset.code, kind: c.dataset.reasonKind, title: c.title, reason: c.querySelector('.reason').textContent,
        due: c.querySelector('.due')?.textContent ?? null })),
    })));
    const s = (n) => (n === 1 ? '' : 's');
    // hand-written sentences per kind (web/i18n/ko.json, en.json), filled from the engine's arguments
    const want = {
      ko: {
        bought_with: (i) => `${i.reason_product_name}와(과) 함께 자주 구매해요`,
        category: (i) => `${i.reason_category} 상품을 자주 구매하셨어요`,
        segment: () => '비슷한 고객에게 인기 있어요',
        repeat: (i) => (i.every_days ? `보통 ${i.every_days}일마다 구매 · 마지막 구매 ${i.days_since}일 전` : `${i.days_since}일 전에 구매했어요`),
        due: (i) => (!i.every_days ? `${i.days_since}일 전 구매` : i.days_since >= i.every_days ? '지금 살 때' : `${i.every_days - i.days_since}일 후`),
        heading: { discover: '회원님을 위한 추천', buy_again: '다시 구매' },
      },
      en: {
        bought_with: (i) => `Often bought with ${i.reason_product_name}`,
        category: (i) => `You often buy ${i.reason_category}`,
        segment: () => 'Popular with customers like you',
        repeat: (i) => (i.every_days ? `You buy this about every ${i.every_days} day${s(i.every_days)}; last bought ${i.days_since} day${s(i.days_since)} ago`
          : `You bought this ${i.days_since} day${s(i.days_since)} ago`),
        due: (i) => (!i.every_days ? `Bought ${i.days_since} day${s(i.days_since)} ago` : i.days_since >= i.every_days ? 'Due now'
          : `Due in ${i.every_days - i.days_since} day${s(i.every_days - i.days_since)}`),
        heading: { discover: 'Recommended for you', buy_again: 'Buy again' },
      },
    };
    for (const lang of ['ko', 'en']) {
      for (const kd of kinds) {
        if (lang === 'en') await page.$eval(`#w-${kd}`, (w) => w.setAttribute('lang', 'en'));
        const got = await cards(`w-${kd}`, lang);
        const ans = expected(at[kd].guest ? null : member, { affiliate: at[kd].a, list: at[kd].list, k: 8 });
        const cat = lang === 'ko' ? ko : en;
        assert.deepEqual(got.cards.map((c) => c.code), ans.items.map((i) => i.code), `${kd} ${lang}`);
        assert.deepEqual(got.cards.map((c) => c.reason), ans.items.map((i) => reasonText(cat, i)), `${kd} ${lang}`);
        assert.equal(got.heading, want[lang].heading[at[kd].list]);
        const some = ans.items.filter((i) => i.reason_kind === kd);
        assert.ok(some.length, `${kd}: a card of the kind`);
        for (const i of some) {
          const c = got.cards.find((x) => x.code === i.code);
          assert.equal(c.kind, kd);
          assert.equal(c.reason, want[lang][kd](i), `${kd} ${lang}`);
          assert.equal(c.title, i.name, 'the full name in the title');
          if (kd === 'repeat') assert.equal(c.due, want[lang].due(i));
        }
        if (kd === 'segment') {
          assert.equal(got.note, lang === 'ko' ? `${ko[`affiliate.${aff}`]}에서 인기 있는 상품이에요.`
            : `popular products for everyone at ${en[`affiliate.${aff}`]}.`);
        }
      }
    }
    assert.notEqual(ko[`affiliate.${aff}`], en[`affiliate.${aff}`]);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the shop in Korean by default, in English by its switch: the page\'s texts and the widgets\'', async () => {
    const { page, errors, context } = await shop('&affiliate=A01');
    assert.equal(await page.getAttribute('html', 'lang'), 'ko');
    let w = await widget(page, 'main-widget');
    assert.equal(w.heading, '회원님을 위한 추천');
    assert.equal(w.note, '백화점에서 인기 있는 상품이에요.');
    assert.ok(w.reasons.length && w.reasons.every((r) => r === '비슷한 고객에게 인기 있어요'), w.reasons.join());
    assert.equal(await page.textContent('#who'), '비회원으로 둘러보는 중이에요.');
    assert.equal(await page.textContent('#member-form button[type=submit]'), '로그인');
    assert.equal(await page.textContent('#aff-tabs button[data-affiliate=A01]'), '백화점');
    assert.equal((await widget(page, 'sub-widget')).heading, '구독 매장');
    await page.click('#lang a[data-lang=en]');
    await page.waitForSelector('html[lang=en] body[data-ready]');
    assert.match(page.url(), /[?&]lang=en/);
    assert.match(page.url(), /[?&]affiliate=A01/);
    w = await widget(page, 'main-widget');
    assert.equal(w.heading, 'Recommended for you');
    assert.equal(w.note, 'popular products for everyone at Department store.');
    assert.ok(w.reasons.every((r) => r === 'Popular with customers like you'));
    assert.equal(await page.textContent('#who'), 'Browsing as a guest.');
    assert.equal(await page.textContent('#member-form button[type=submit]'), 'Sign in');
    assert.equal(await page.textContent('#aff-tabs button[data-affiliate=A01]'), 'Department store');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a product name holding HTML is shown as text and runs nothing', async () => {
    const { page, errors, dialogs, context } = await shop('', xss.models);
    const w = await widget(page, 'main-widget');
    const want = xpr.request({ affiliate: 'A01', k: 8 });
    assert.equal(want.items[0].name, EVIL);
    assert.deepEqual(w.codes, want.items.map((i) => i.code));
    assert.equal(w.names[0], EVIL);
    const dom = await page.$eval('#main-widget', (x) => ({
      imgs: x.shadowRoot.querySelectorAll('img').length + document.querySelectorAll('img').length,
      bold: x.shadowRoot.querySelectorAll('.card b').length,
      cat: x.shadowRoot.querySelector('.card .category').textContent,
    }));
    assert.deepEqual(dom, { imgs: 0, bold: 0, cat: '<b>채소</b> › 잎채소' });
    await page.waitForTimeout(300); // an onerror would have fired by now
    assert.deepEqual(dialogs, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a missing pack shows the error state, not a blank page', async () => {
    const { page, context } = await shop('&lang=en', join(ROOT, 'build/web-test/no-such-models'));
    const w = await widget(page, 'main-widget');
    assert.equal(w.state, 'error');
    assert.match(w.alert, /Recommendations are unavailable: .*A01\.item\.pack.*HTTP 404/);
    assert.equal(await page.isVisible('#shop-error'), true);
    assert.match(await page.textContent('#shop-error'), /model packs are not available/);
    // the retry button is there and reachable by keyboard
    const retry = await page.$eval('#main-widget', (x) => x.shadowRoot.querySelector('[role=alert] button').textContent);
    assert.equal(retry, 'Try again');
    // a bare widget on a blank page, no pack attribute at all
    await page.setContent('<prefrec-recommendations id="w"></prefrec-recommendations>');
    await page.addScriptTag({ type: 'module', url: `${srv.url}web/widget/prefrec-widget.js` });
    const bare = await widget(page, 'w');
    assert.equal(bare.state, 'error');
    assert.match(bare.alert, /no pack/);
    await context.close();
  });
});
