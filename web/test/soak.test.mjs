// Soak test of <prefrec-recommendations> (web/widget/) in Debian's chromium: 1,000 rapid
// customer switches (known members, an unknown code, no customer), the page never waiting for a
// render except every 100th switch. Measured through the DevTools protocol after a forced GC:
// the JS heap in use, the ArrayBuffer backing stores (the wasm heap lives there) and the DOM
// node and event-listener counts, after the first render, after 500 switches and after 1,000.
// Passes if the page stays error-free, the last switch wins (the widget shows the last
// customer's products, as the native CLI ranks them) and memory is flat (bounds below).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../testkit/server.mjs';
import { launchBrowser, openPage } from '../testkit/browser.mjs';
import { CLI, ROOT, cliJson, demoModels, remove, urlPath } from '../testkit/packs.mjs';

const ENGINE = join(ROOT, 'web/dist/prefrec-engine.wasm');
const skip = !existsSync(CLI) || !existsSync(ENGINE)
  ? 'needs build/native/prefrec and web/dist (bash scripts/test.sh)' : false;
const SWITCHES = 1000;
const MB = (b) => (b / 1048576).toFixed(2);

describe('widget soak: 1,000 customer switches', { skip }, () => {
  let srv, browser, demo;
  before(async () => {
    demo = await demoModels('soak');
    srv = await startServer(ROOT);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
    remove(demo);
  });

  test('memory stays flat and the last switch wins', { timeout: 300000 }, async () => {
    const { page, errors, context } = await openPage(browser);
    page.setDefaultTimeout(60000);
    const members = demo.manifest.examples.slice(0, 8);
    assert.ok(members.length >= 2, 'example members');
    const url = `${srv.url}web/shop/?models=${encodeURIComponent(urlPath(demo.models))}&customer=${members[0]}&affiliate=A01`;
    await page.goto(url);
    await page.waitForSelector('#main-widget[state=ready]');
    const cdp = await context.newCDPSession(page);
    await cdp.send('HeapProfiler.enable');
    const measure = async () => {
      for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
      const h = await cdp.send('Runtime.getHeapUsage');
      const d = await cdp.send('Memory.getDOMCounters');
      return { heap: h.usedSize, buffers: h.backingStorageSize ?? 0, nodes: d.nodes, listeners: d.jsEventListeners };
    };
    // the codes the page switches through: members, an unknown code, and no customer at all
    const codes = [...members, 'UNKNOWN-0001', ''];
    const run = (from, to) => page.evaluate(async ({ codes, from, to }) => {
      const w = document.querySelector('#main-widget');
      // wait for the widget to leave "loading"; the harness removes its own listeners so the
      // listener count measures the widget alone
      const settle = () => new Promise((resolve) => {
        const done = () => {
          if (w.getAttribute('state') === 'loading') return;
          w.removeEventListener('prefrec-ready', done);
          w.removeEventListener('prefrec-error', done);
          resolve();
        };
        w.addEventListener('prefrec-ready', done);
        w.addEventListener('prefrec-error', done);
        setTimeout(done, 0);
      });
      for (let i = from; i < to; i++) {
        const c = codes[i % codes.length];
        if (c) w.setAttribute('customer', c);
        else w.removeAttribute('customer');
        if ((i + 1) % 100 === 0) await settle(); else if (i % 7 === 0) await null;
      }
    }, { codes, from, to });
    const settled = async () => page.waitForFunction(() => {
      const w = document.querySelector('#main-widget');
      return w.getAttribute('state') === 'ready' || w.getAttribute('state') === 'error';
    });
    // warm-up: one pass over every code so caches (shards, product codes) are filled
    await run(0, codes.length);
    await settled();
    const start = await measure();
    await run(codes.length, codes.length + SWITCHES / 2);
    await settled();
    const middle = await measure();
    await run(codes.length + SWITCHES / 2, codes.length + SWITCHES);
    // the last switch: a known member, so the final answer can be checked against the CLI
    const last = members[1];
    await page.evaluate((c) => document.querySelector('#main-widget').setAttribute('customer', c), last);
    await page.waitForFunction((c) => {
      const w = document.querySelector('#main-widget');
      return w.getAttribute('state') === 'ready' && w.getAttribute('customer') === c && w.response;
    }, last);
    await new Promise((r) => setTimeout(r, 500)); // any stale answer would land by now
    const end = await measure();
    const shown = await page.$eval('#main-widget', (w) => [...w.shadowRoot.querySelectorAll('.card[data-code]')].map((c) => c.dataset.code));
    const k = shown.length;
    const cli = await cliJson(['recommend', '--pack', join(demo.packs, 'A01.pack'), '--customer', last, '--k', String(k)]);
    assert.deepEqual(shown, cli.items.map((i) => i.code), 'the widget shows the last customer\'s products');
    assert.deepEqual(errors, []);
    console.log(`# soak: ${SWITCHES} switches; JS heap ${MB(start.heap)} -> ${MB(middle.heap)} -> ${MB(end.heap)} MB; ` +
      `array buffers ${MB(start.buffers)} -> ${MB(middle.buffers)} -> ${MB(end.buffers)} MB; ` +
      `DOM nodes ${start.nodes} -> ${middle.nodes} -> ${end.nodes}; listeners ${start.listeners} -> ${middle.listeners} -> ${end.listeners}`);
    // flat: a retained response or card set per switch (a few KB each) would add megabytes
    assert.ok(end.heap - start.heap < 1.5 * 1048576, `JS heap grew ${MB(end.heap - start.heap)} MB`);
    assert.ok(end.heap - middle.heap < 1048576, `JS heap grew ${MB(end.heap - middle.heap)} MB in the second half`);
    assert.ok(end.buffers - start.buffers < 4 * 1048576, `array buffers grew ${MB(end.buffers - start.buffers)} MB`);
    assert.ok(end.nodes - start.nodes < 200, `DOM nodes ${start.nodes} -> ${end.nodes}`);
    assert.ok(end.listeners - start.listeners <= 2, `listeners ${start.listeners} -> ${end.listeners}`);
    await context.close();
  });
});
