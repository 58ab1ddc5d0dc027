// Screenshots of the demo shop (docs/shop.png), the kiosk (docs/kiosk.png in Korean, kiosk-en.png,
// kiosk-stamps.png) and the widget's buy-again and discover lists in the shop (docs/widget-ko.png,
// widget-en.png, 960 px wide) for a member signed in with their card, in headless Chromium; serves
// the repository root on 127.0.0.1 with the demo backend (web/server/demo.mjs) for the duration.
// The generated data's every third product gets a long Korean name (testkit LONG_NAME): the cards
// must wrap or clamp it, never clip it (the full name is the card's title).
//   node web/scripts/screenshot-demo.mjs [MODELS RECORDS TOKEN_KEY]
// MODELS: public item packs with manifest.json (scripts/site.sh's SITE/models), RECORDS and
// TOKEN_KEY: prefrec export --records DIR --token-key FILE of the same export. Without them, packs
// and records are built now from generated data (scale 0.03) into build/web-test/.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT, memberModels, publicManifest, remove, urlPath } from '../testkit/packs.mjs';
import { startServer } from '../testkit/server.mjs';
import { launchBrowser, openPage } from '../testkit/browser.mjs';
import { cardPayload, demoApi } from '../server/demo.mjs';
import { writeRecordsManifest } from '../kiosk/records-manifest.mjs';

let models, records, tokenKeyFile, codes = null, fx = null;
if (process.argv[2]) {
  [models, records, tokenKeyFile] = process.argv.slice(2, 5).map((p) => resolve(p));
  await publicManifest(models);
} else {
  fx = await memberModels('screenshot', { longNames: true });
  ({ site: models, records, tokenKeyFile, codes } = fx);
}
await writeRecordsManifest(records);
const tokenKey = Buffer.from(readFileSync(tokenKeyFile, 'utf8').trim(), 'hex');
// the member shown: the first code of the purchase log (generated data), or the one given
const member = process.env.PREFREC_MEMBER || codes?.[0];
if (!member) throw new Error('screenshot-demo: set PREFREC_MEMBER to a member code of the export');
const card = cardPayload(tokenKey, member);
// the shop's store tab: where the member has the most to buy again (the engine's answer in node)
const { PrefRec } = await import('../prefrec.js');
const { loadExport, memberKeys } = await import('../server/records.mjs');
const { readdirSync } = await import('node:fs');
const ex = await loadExport(records, tokenKeyFile);
const pr = await PrefRec.load({ packs: readdirSync(models).filter((f) => f.endsWith('.item.pack')).sort().map((f) => join(models, f)) });
const { kid, key } = memberKeys(ex.tokenKey, ex.namingKey, ex.exportId, member);
pr.openMember({ record: readFileSync(join(records, `${kid.toString('hex')}.rec`)), key });
const affiliate = pr.info.map((i) => i.affiliate)
  .map((a) => [a, pr.request({ affiliate: a, list: 'buy_again', k: 8 }).items.length]).sort((a, b) => b[1] - a[1])[0][0];
pr.close();
const q = `models=${encodeURIComponent(urlPath(models))}`;
const srv = await startServer(ROOT, { api: await demoApi({ records, tokenKeyFile, kioskRecords: true }) });
const browser = await launchBrowser();
try {
  const shot = async (path, out, { width, height, ready, before, clip }) => {
    const { page, errors, context } = await openPage(browser, { width, height });
    await page.goto(srv.url + path);
    if (before) await before(page);
    await page.waitForSelector(ready);
    await page.waitForTimeout(300);
    let area;
    if (clip) { // the union of these elements' boxes
      const boxes = await Promise.all(clip.map((sel) => page.locator(sel).boundingBox()));
      const x = Math.min(...boxes.map((b) => b.x)), y = Math.min(...boxes.map((b) => b.y));
      area = { x, y, width: Math.max(...boxes.map((b) => b.x + b.width)) - x, height: Math.max(...boxes.map((b) => b.y + b.height)) - y };
    }
    await page.screenshot({ path: join(ROOT, 'docs', out), fullPage: out === 'shop.png' || !!clip, clip: area });
    if (errors.length) console.error(`${out}: page errors: ${errors.join('; ')}`);
    console.error(`screenshot: ${path} -> docs/${out}`);
    await context.close();
  };
  const scan = async (page) => {
    await page.waitForSelector('body[data-state=start]');
    await page.fill('#card', card);
    await page.click('#card-form button[type=submit]');
  };
  const shopSignIn = async (page) => {
    await page.waitForSelector('body[data-ready]');
    await page.fill('#card-token', card);
    await page.click('#member-form button[type=submit]');
    await page.waitForSelector('#main-widget[source=member][state=ready]');
    await page.waitForSelector('#sub-widget[state=ready]');
  };
  const shopReady = '#again-widget[state=ready][source=member]';
  await shot(`web/shop/?${q}&affiliate=${affiliate}`, 'shop.png', { width: 1280, height: 900, ready: shopReady, before: shopSignIn });
  for (const lang of ['ko', 'en']) {
    await shot(`web/shop/?${q}&affiliate=${affiliate}&lang=${lang}`, `widget-${lang}.png`,
      { width: 960, height: 900, ready: shopReady, before: shopSignIn, clip: ['#again', '#recs'] });
  }
  await shot(`web/kiosk/?${q}&month=2021-12&lang=ko`, 'kiosk.png', { width: 1280, height: 800, ready: 'body[data-state=ready]', before: scan });
  await shot(`web/kiosk/?${q}&month=2021-12&lang=en`, 'kiosk-en.png', { width: 1280, height: 800, ready: 'body[data-state=ready]', before: scan });
  await shot(`web/kiosk/?${q}&month=2021-12&lang=ko`, 'kiosk-stamps.png', {
    width: 1280, height: 800, ready: 'body[data-state=ready]',
    before: async (page) => {
      await scan(page);
      await page.waitForSelector('body[data-state=ready]');
      await page.click('#tab-stamp');
    },
  });
} finally {
  await browser.close();
  await srv.close();
  remove(fx);
}
