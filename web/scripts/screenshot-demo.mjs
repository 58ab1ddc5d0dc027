// Screenshots of the demo shop (docs/shop.png) and the kiosk (docs/kiosk.png) on the exported
// packs in models/ (bash scripts/demo.sh makes them), in headless Chromium; serves the
// repository root on 127.0.0.1 for the duration.
//   node web/scripts/screenshot-demo.mjs [MODELS_DIR]
import { join, resolve } from 'node:path';
import { ROOT, urlPath } from '../testkit/packs.mjs';
import { startServer } from '../testkit/server.mjs';
import { launchBrowser, openPage } from '../testkit/browser.mjs';
import { writeManifest } from '../kiosk/models-manifest.mjs';

const models = resolve(process.argv[2] || join(ROOT, 'models'));
const m = await writeManifest(models);
const q = `models=${encodeURIComponent(urlPath(models))}`;
const srv = await startServer(ROOT);
const browser = await launchBrowser();
try {
  const shot = async (path, out, { width, height, ready, before }) => {
    const { page, errors, context } = await openPage(browser, { width, height });
    await page.goto(srv.url + path);
    if (before) await before(page);
    await page.waitForSelector(ready);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ROOT, 'docs', out), fullPage: out === 'shop.png' });
    if (errors.length) console.error(`${out}: page errors: ${errors.join('; ')}`);
    console.error(`screenshot: ${path} -> docs/${out}`);
    await context.close();
  };
  await shot(`web/shop/?${q}&customer=${m.examples[0]}&affiliate=A01`, 'shop.png', {
    width: 1280, height: 900, ready: '#main-widget[state=ready] >> xpath=//ancestor::body//*[@id="sub-widget"][@state="ready"]',
  });
  await shot(`web/kiosk/?${q}&member=${m.examples[0]}&month=2021-12`, 'kiosk.png', {
    width: 1280, height: 800, ready: 'body[data-state=ready]',
  });
  await shot(`web/kiosk/?${q}&member=${m.examples[0]}&month=2021-12`, 'kiosk-stamps.png', {
    width: 1280, height: 800, ready: 'body[data-state=ready]',
    before: async (page) => {
      await page.waitForSelector('body[data-state=ready]');
      await page.click('#tab-stamp');
    },
  });
} finally {
  await browser.close();
  await srv.close();
}
