// Screenshot of the report page, drawn from a folder of CLI output (validate.json, train.json,
// eval.json), in headless Chromium. Serves the repository root on 127.0.0.1 for the duration.
//   node scripts/screenshot.mjs [DATA_DIR] [OUT_PNG]
//   defaults: DATA_DIR = ../demo/report if it has a validate.json, else test/fixtures/full;
//             OUT_PNG = ../docs/report.png (paths relative to web/)
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../testkit/server.mjs';
import { launchBrowser, openPage } from '../testkit/browser.mjs';
import { vendor } from './vendor.mjs';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(web, '..');
const demo = join(repo, 'demo', 'report');
const data = resolve(web, process.argv[2] || (existsSync(join(demo, 'validate.json')) ? demo : 'test/fixtures/full'));
const out = resolve(web, process.argv[3] || '../docs/report.png');
if (!(data + sep).startsWith(repo + sep)) {
  console.error(`screenshot: ${data} must be inside the repository (${repo}), which is what gets served`);
  process.exit(2);
}

vendor({ quiet: true });
const srv = await startServer(repo);
const browser = await launchBrowser();
try {
  const { page, errors } = await openPage(browser, { width: 1280, height: 900 });
  const rel = relative(join(web, 'report'), data).split(sep).join('/') + '/';
  const url = `${srv.url}${relative(repo, web).split(sep).join('/')}/report/?data=${encodeURIComponent(rel)}`;
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]');
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out, fullPage: true });
  if (errors.length) console.error(`screenshot: page errors: ${errors.join('; ')}`);
  console.error(`screenshot: ${url} -> ${out}`);
} finally {
  await browser.close();
  await srv.close();
}
