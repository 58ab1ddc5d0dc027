// Soak test of <prefrec-recommendations> (web/widget/) in Debian's chromium: 1,000 rapid
// member switches through widget.setMember (8 members' sealed records with their keys, a record
// with a wrong key, no member), the page never waiting for a render except every 100th switch. Measured through the DevTools protocol after a forced GC:
// the JS heap in use, the ArrayBuffer backing stores (the wasm heap lives there) and the DOM
// node and event-listener counts, after the first render, after 500 switches and after 1,000.
// Passes if the page stays error-free, the last switch wins (the widget shows the last
// member's products, as the engine ranks them in node from the same record) and memory is flat
// (bounds below).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../testkit/server.mjs';
import { launchBrowser, openPage } from '../testkit/browser.mjs';
import { CLI, ROOT, memberModels, remove, urlPath } from '../testkit/packs.mjs';
import { loadExport, memberKeys } from '../server/records.mjs';

const ENGINE = join(ROOT, 'web/dist/prefrec-engine.wasm');
const skip = !existsSync(CLI) || !existsSync(ENGINE)
  ? 'needs build/native/prefrec and web/dist (bash scripts/test.sh)' : false;
const SWITCHES = 1000;
const MB = (b) => (b / 1048576).toFixed(2);

describe('widget soak: 1,000 member switches', { skip }, () => {
  let srv, browser, demo, ex;
  const recordOf = (code) => {
    const { kid, key } = memberKeys(ex.tokenKey, ex.namingKey, ex.exportId, code);
    return { record: readFileSync(join(demo.records, `${kid.toString('hex')}.rec`)), key };
  };
  before(async () => {
    demo = await memberModels('soak');
    ex = await loadExport(demo.records, demo.tokenKeyFile);
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
    const codes = demo.codes.slice(0, 8);
    const b64 = ({ record, key }) => ({ record: record.toString('base64'), key: key.toString('base64') });
    const members = codes.map((c) => b64(recordOf(c)));
    const wrong = b64(recordOf(codes[0]));
    wrong.key = b64(recordOf(codes[1])).key; // another member's key: does not open it
    const url = `${srv.url}web/shop/?models=${encodeURIComponent(urlPath(demo.site))}&affiliate=A01`;
    await page.goto(url);
    await page.waitForSelector('#main-widget[state=ready]');
    await page.evaluate((m) => document.querySelector('#main-widget').setMember(m), members[0]);
    await page.waitForSelector('#main-widget[state=ready][source=member]');
    const cdp = await context.newCDPSession(page);
    await cdp.send('HeapProfiler.enable');
    const measure = async () => {
      for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
      const h = await cdp.send('Runtime.getHeapUsage');
      const d = await cdp.send('Memory.getDOMCounters');
      return { heap: h.usedSize, buffers: h.backingStorageSize ?? 0, nodes: d.nodes, listeners: d.jsEventListeners };
    };
    // whom the page switches through: members, a record with a wrong key, and no member at all
    const whom = [...members, wrong, null];
    const run = (from, to) => page.evaluate(async ({ whom, from, to }) => {
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
        w.setMember(whom[i % whom.length]);
        if ((i + 1) % 100 === 0) await settle(); else if (i % 7 === 0) await null;
      }
    }, { whom, from, to });
    const settled = async () => page.waitForFunction(() => {
      const w = document.querySelector('#main-widget');
      return w.getAttribute('state') === 'ready' || w.getAttribute('state') === 'error';
    });
    // warm-up: one pass over everyone so caches (product codes) are filled
    await run(0, whom.length);
    await settled();
    const start = await measure();
    await run(whom.length, whom.length + SWITCHES / 2);
    await settled();
    const middle = await measure();
    await run(whom.length + SWITCHES / 2, whom.length + SWITCHES);
    // the last switch: a member, so the final answer can be checked against the engine's
    await page.evaluate((m) => document.querySelector('#main-widget').setMember(m), members[1]);
    await page.waitForFunction(() => {
      const w = document.querySelector('#main-widget');
      return w.getAttribute('state') === 'ready' && w.getAttribute('source') === 'member' && w.response;
    });
    await new Promise((r) => setTimeout(r, 500)); // any stale answer would land by now
    const end = await measure();
    const shown = await page.$eval('#main-widget', (w) => [...w.shadowRoot.querySelectorAll('.card[data-code]')].map((c) => c.dataset.code));
    const k = shown.length;
    const { PrefRec } = await import('../prefrec.js');
    const pr = await PrefRec.load({ packs: [join(demo.site, 'A01.item.pack')] });
    pr.openMember(recordOf(codes[1]));
    const want = pr.request({ affiliate: 'A01', list: 'discover', k });
    pr.close();
    assert.equal(k, 8);
    assert.deepEqual(shown, want.items.map((i) => i.code), 'the widget shows the last member\'s products');
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
