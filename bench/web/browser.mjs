// bench/web in headless Chromium (Debian's, driven by playwright-core from web/node_modules):
//   node bench/web/browser.mjs PACK ONNX_DIR [OUT.json]     (paths inside the repository)
// Serves the repository on 127.0.0.1 and opens bench/web/page.html, which runs suite.mjs.
import { writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../web/testkit/server.mjs';
import { launchBrowser } from '../../web/testkit/browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const [pack, dir, out] = process.argv.slice(2);
if (!pack || !dir) {
  console.error('usage: node bench/web/browser.mjs PACK ONNX_DIR [OUT.json]   (inside the repository)');
  process.exit(2);
}
const rel = (p) => '/' + relative(root, resolve(p)).split('\\').join('/');
const srv = await startServer(root);
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(m.text()));
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${srv.url}bench/web/page.html?pack=${encodeURIComponent(rel(pack))}&onnx=${encodeURIComponent(rel(dir))}`);
  await page.waitForFunction(() => window.benchResult || window.benchError, null, { timeout: 600000, polling: 500 });
  const res = await page.evaluate(() => window.benchResult || { error: window.benchError });
  if (res.error) process.exitCode = 1;
  if (out) writeFileSync(out, JSON.stringify(res, null, 2));
} finally {
  await browser.close();
  await srv.close();
}
