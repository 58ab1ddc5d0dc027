// Browser tests of <prefrec-recommendations> (web/widget/) in the demo shop page (web/shop/):
// Debian's chromium through playwright-core, the repository root served on 127.0.0.1, packs
// trained and exported here from generated data (web/testkit/packs.mjs) and compared with the
// native CLI: same products in the same order; the subscription switch (click and keyboard);
// unknown customer -> the segment's popular products, marked; an HTML product name shown as
// text and run never; a missing pack -> the error state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../testkit/server.mjs';
import { launchBrowser, openPage } from '../testkit/browser.mjs';
import { CLI, EVIL, ROOT, cliJson, demoModels, remove, urlPath, xssModels } from '../testkit/packs.mjs';

const ENGINE = join(ROOT, 'web/dist/prefrec-engine.wasm');
const skip = !existsSync(CLI) || !existsSync(ENGINE)
  ? 'needs build/native/prefrec and web/dist (bash scripts/test.sh, or cmake --build --preset native + bash scripts/web-dist.sh)'
  : false;
if (skip) console.log(`# widget.test.mjs skipped: ${skip}`);

describe('storefront widget', { skip }, () => {
  let srv, browser, demo, xss, member;

  before(async () => {
    [demo, xss] = await Promise.all([demoModels('widget'), xssModels('widget-xss')]);
    // a member the A01 pack knows (CLI answers source "known")
    for (const c of demo.manifest.examples) {
      const r = await cliJson(['recommend', '--pack', join(demo.packs, 'A01.pack'), '--customer', c, '--k', '8']);
      if (r.ok && r.source === 'known') { member = c; break; }
    }
    assert.ok(member, 'an example member known to A01');
    srv = await startServer(ROOT);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
    remove(demo);
    remove(xss);
  });

  const shopUrl = (models, extra = '') => `${srv.url}web/shop/?models=${encodeURIComponent(urlPath(models))}${extra}`;
  /** State, items and note of a widget in the shop, once it is ready or failed. */
  async function widget(page, id) {
    await page.waitForSelector(`#${id}[state=ready], #${id}[state=error]`);
    return page.$eval(`#${id}`, (w) => ({
      state: w.getAttribute('state'), source: w.getAttribute('source'), fallback: w.hasAttribute('fallback'),
      affiliate: w.response?.affiliate ?? null,
      codes: [...w.shadowRoot.querySelectorAll('.card[data-code]')].map((c) => c.dataset.code),
      names: [...w.shadowRoot.querySelectorAll('.card .name')].map((c) => c.textContent),
      note: w.shadowRoot.querySelector('.note')?.textContent ?? null,
      alert: w.shadowRoot.querySelector('[role=alert]')?.textContent ?? null,
    }));
  }

  test('a known customer sees the native CLI\'s products in the same order', async () => {
    const { page, errors, context } = await openPage(browser);
    await page.goto(shopUrl(demo.models, `&customer=${member}&affiliate=A01`));
    const w = await widget(page, 'main-widget');
    const cli = await cliJson(['recommend', '--pack', join(demo.packs, 'A01.pack'), '--customer', member, '--k', '8']);
    assert.equal(w.state, 'ready');
    assert.equal(w.source, 'known');
    assert.equal(w.codes.length, 8);
    assert.deepEqual(w.codes, cli.items.map((i) => i.code));
    assert.deepEqual(w.names, cli.items.map((i) => i.name));
    // each card carries the category and the engine's reason text
    const card = await page.$eval('#main-widget', (x) => {
      const c = x.shadowRoot.querySelector('.card');
      return { cat: c.querySelector('.category').textContent, reason: c.querySelector('.reason').textContent };
    });
    assert.ok(card.cat.startsWith(cli.items[0].category));
    assert.equal(card.reason, cli.items[0].reason);
    // another store tab: the same widget re-renders for A03, again as the CLI says
    await page.click('#aff-tabs button[data-affiliate=A03]');
    await page.waitForFunction(() => document.querySelector('#main-widget').response?.affiliate === 'A03');
    const w3 = await widget(page, 'main-widget');
    const cli3 = await cliJson(['recommend', '--pack', join(demo.packs, 'A03.pack'), '--customer', member, '--k', '8']);
    assert.deepEqual(w3.codes, cli3.items.map((i) => i.code));
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the subscription switch changes the affiliate (mouse and keyboard)', async () => {
    const { page, errors, context } = await openPage(browser);
    await page.goto(shopUrl(demo.models, `&customer=${member}&subscribe=A02`));
    let w = await widget(page, 'sub-widget');
    assert.equal(w.affiliate, 'A02');
    const sub = async (aff) => (await cliJson(['plan', 'subscribe', '--pack', demo.packs, '--affiliate', aff,
      '--customer', member, '--k', '4'])).items?.map((i) => i.code);
    assert.deepEqual(w.codes, await sub('A02'));
    await page.locator('#sub-widget label[data-affiliate=A04]').click();
    await page.waitForFunction(() => document.querySelector('#sub-widget').response?.affiliate === 'A04');
    w = await widget(page, 'sub-widget');
    assert.equal(await page.$eval('#sub-widget', (x) => x.getAttribute('affiliate')), 'A04');
    assert.equal(await page.textContent('#log'), 'Subscribed to Convenience store (A04)');
    const cli4 = await cliJson(['plan', 'subscribe', '--pack', demo.packs, '--affiliate', 'A04', '--customer', member, '--k', '4']);
    if (cli4.ok) assert.deepEqual(w.codes, cli4.items.map((i) => i.code));
    else assert.ok(w.fallback, 'a member unknown to A04 gets the popular products, marked');
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

  test('an unknown customer gets the segment\'s popular products, clearly marked', async () => {
    const { page, errors, context } = await openPage(browser);
    await page.goto(shopUrl(demo.models, '&customer=M999999999&affiliate=A01'));
    const w = await widget(page, 'main-widget');
    assert.equal(w.state, 'ready');
    assert.ok(w.fallback);
    assert.equal(w.source, 'segment');
    assert.match(w.note, /We don't know member M999999999 yet: popular products/);
    const req = join(demo.dir, 'segment.json');
    writeFileSync(req, JSON.stringify({ plan: 'recommend', affiliate: 'A01', k: 8 }));
    const cli = await cliJson(['recommend', '--pack', join(demo.packs, 'A01.pack'), '--request', req]);
    assert.deepEqual(w.codes, cli.items.map((i) => i.code));
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a product name holding HTML is shown as text and runs nothing', async () => {
    const { page, errors, dialogs, context } = await openPage(browser);
    await page.goto(shopUrl(xss.models, '&customer=C000'));
    const w = await widget(page, 'main-widget');
    const cli = await cliJson(['recommend', '--pack', join(xss.packs, 'A01.pack'), '--customer', 'C000', '--k', '8']);
    assert.equal(cli.items[0].name, EVIL);
    assert.deepEqual(w.codes, cli.items.map((i) => i.code));
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
    const { page, context } = await openPage(browser);
    await page.goto(shopUrl(join(ROOT, 'build/web-test/no-such-models')));
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
