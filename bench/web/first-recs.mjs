// Time from page load to the first recommendations on screen, in headless Chromium (Debian's,
// through playwright-core from web/node_modules):
//   shop   web/shop/ for a member: navigation start -> the first widget's prefrec-ready event
//   kiosk  web/kiosk/ for a member: navigation start -> all three plans rendered
// Cold = a fresh browser context (empty HTTP cache, no service worker); warm = a reload in the
// same context (kiosk: served by its service worker). Times are performance.now() in the page
// (ms since navigation start), median and range over the runs.
//   node bench/web/first-recs.mjs [MODELS_DIR] [RUNS]
// MODELS_DIR: exported packs inside the repository (default models/ when it has packs, else
// packs built now from generated data at scale 0.03 into build/web-test/bench).
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startServer } from '../../web/testkit/server.mjs';
import { launchBrowser } from '../../web/testkit/browser.mjs';
import { ROOT, demoModels, urlPath } from '../../web/testkit/packs.mjs';
import { writeManifest } from '../../web/kiosk/models-manifest.mjs';

const runs = Number(process.argv[3] || 5);
let models = process.argv[2] ? resolve(process.argv[2]) : join(ROOT, 'models');
if (!process.argv[2] && !(existsSync(models) && readdirSync(models).some((f) => f.endsWith('.item.pack')))) {
  console.error('first-recs: no packs in models/: building small ones (scale 0.03) into build/web-test/bench');
  models = (await demoModels('bench')).models;
}
const manifest = await writeManifest(models);
const member = manifest.examples[0];
const q = `models=${encodeURIComponent(urlPath(models))}`;
const srv = await startServer(ROOT);
const browser = await launchBrowser();

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(0)} ms (min ${s[0].toFixed(0)}, max ${s.at(-1).toFixed(0)}, n=${s.length})`;
};

async function measure(url, ready) {
  const cold = [], warm = [], dcl = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    for (const list of [cold, warm]) {
      if (list === cold) await page.goto(url);
      else await page.reload();
      list.push(await page.evaluate(ready));
      if (list === cold) dcl.push(await page.evaluate(() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd));
    }
    await context.close();
  }
  return { cold, warm, dcl };
}

try {
  const bytes = manifest.affiliates.reduce((a, x) => a + x.bytes, 0);
  console.log(`first recommendations in Chromium: ${manifest.affiliates.length} affiliates, item packs ${(bytes / 1e6).toFixed(2)} MB, ` +
    `member ${member}, ${runs} runs; machine shared with other jobs (2 cores)`);
  const shop = await measure(`${srv.url}web/shop/?${q}&customer=${member}&affiliate=A01`, () => new Promise((ok) => {
    const w = document.getElementById('main-widget');
    const done = () => ok(performance.now());
    if (w.getAttribute('state') === 'ready') done();
    else w.addEventListener('prefrec-ready', done, { once: true });
  }));
  console.log(`shop  (A01 item pack + 1 shard, 8 cards)   cold ${stats(shop.cold)}`);
  console.log(`                                            warm ${stats(shop.warm)}`);
  console.log(`      (page alone: DOMContentLoaded, cold    ${stats(shop.dcl)})`);
  const kiosk = await measure(`${srv.url}web/kiosk/?${q}&member=${member}`, () => new Promise((ok) => {
    const check = () => (document.body.dataset.state === 'ready' ? ok(performance.now()) : setTimeout(check, 5));
    check();
  }));
  console.log(`kiosk (every item pack + shard, 3 plans)  cold ${stats(kiosk.cold)}`);
  console.log(`                                            warm ${stats(kiosk.warm)} (service worker)`);
  console.log(`      (page alone: DOMContentLoaded, cold    ${stats(kiosk.dcl)})`);
} finally {
  await browser.close();
  await srv.close();
}
