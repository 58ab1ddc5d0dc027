// Time from page load to the first recommendations on screen, in headless Chromium (Debian's,
// through playwright-core from web/node_modules):
//   shop   web/shop/ for a signed-in member (demo backend session cookie): navigation start ->
//          the first widget's prefrec-ready event (item pack + the member's record from the backend)
//   kiosk  web/kiosk/ for an anonymous session in the URL: navigation start -> all three plans
//          rendered; and a member's card scan -> their plans and buy-again list rendered
// Cold = a fresh browser context (empty HTTP cache, no service worker); warm = a reload in the
// same context (kiosk: served by its service worker). Times are performance.now() in the page
// (ms since navigation start, or since the scan), median and range over the runs.
//   node bench/web/first-recs.mjs [RUNS]
// Packs and records are built from generated data at scale 0.03 into build/web-test/bench-*.
import { startServer } from '../../web/testkit/server.mjs';
import { launchBrowser } from '../../web/testkit/browser.mjs';
import { ROOT, memberModels, remove, urlPath } from '../../web/testkit/packs.mjs';
import { cardPayload, demoApi } from '../../web/server/demo.mjs';
import { writeRecordsManifest } from '../../web/kiosk/records-manifest.mjs';

const runs = Number(process.argv[2] || 5);
const fx = await memberModels('bench');
await writeRecordsManifest(fx.records);
const { manifest } = fx;
const member = fx.codes[0];
const card = cardPayload(fx.tokenKey, member);
const q = `models=${encodeURIComponent(urlPath(fx.site))}`;
const srv = await startServer(ROOT, { api: await demoApi({ records: fx.records, tokenKeyFile: fx.tokenKeyFile, kioskRecords: true }) });
const browser = await launchBrowser();

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(0)} ms (min ${s[0].toFixed(0)}, max ${s.at(-1).toFixed(0)}, n=${s.length})`;
};

async function measure(url, ready, signIn = null) {
  const cold = [], warm = [], dcl = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    if (signIn) await signIn(context);
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
  const shop = await measure(`${srv.url}web/shop/?${q}&affiliate=A01`, () => new Promise((ok) => {
    const w = document.getElementById('main-widget');
    const done = () => (w.getAttribute('source') === 'member' ? ok(performance.now()) : null);
    if (w.getAttribute('state') === 'ready') done();
    w.addEventListener('prefrec-ready', done);
  }), async (context) => {
    const r = await context.request.post(`${srv.url}api/demo/login`, { data: { card } });
    if (!r.ok()) throw new Error(`demo login: HTTP ${r.status()}`);
  });
  console.log(`shop  (A01 item pack + record, 8 cards)   cold ${stats(shop.cold)}`);
  console.log(`                                            warm ${stats(shop.warm)}`);
  console.log(`      (page alone: DOMContentLoaded, cold    ${stats(shop.dcl)})`);
  const kiosk = await measure(`${srv.url}web/kiosk/?${q}&gender=여성&age=30대`, () => new Promise((ok) => {
    const check = () => (document.body.dataset.state === 'ready' ? ok(performance.now()) : setTimeout(check, 5));
    check();
  }));
  console.log(`kiosk (every item pack, 3 plans, anon)    cold ${stats(kiosk.cold)}`);
  console.log(`                                            warm ${stats(kiosk.warm)} (service worker)`);
  console.log(`      (page alone: DOMContentLoaded, cold    ${stats(kiosk.dcl)})`);
  const scans = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${srv.url}web/kiosk/?${q}`);
    await page.waitForSelector('body[data-state=start]');
    scans.push(await page.evaluate((c) => new Promise((ok) => {
      const t0 = performance.now();
      document.getElementById('card').value = c;
      document.getElementById('card-form').requestSubmit();
      const check = () => (document.body.dataset.state === 'ready' && !document.getElementById('again').hidden
        ? ok(performance.now() - t0) : setTimeout(check, 5));
      check();
    }), card));
    await context.close();
  }
  console.log(`kiosk card scan -> member's plans + buy again  ${stats(scans)}`);
} finally {
  await browser.close();
  await srv.close();
  remove(fx);
}
