// consumers.test.mjs - the package as a shop gets it: `npm pack` in web/ (after the engine is
// built: bash scripts/web-dist.sh), then the tarball installed into fresh projects outside the
// repository (a temporary folder): app/ (the shop's pages) plus vite/ or webpack/ (package.json,
// package-lock.json, the bundler's config), `npm ci` from the npm registry, `npm install` of the
// tarball, the bundler's production build, and the built app in Chromium (playwright-core,
// Debian's /usr/bin/chromium) served with
//   Content-Security-Policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval'
// Pages: index.html (the API, an aborted load, two widgets sharing one engine, their events),
// worker.html (scoring in a dedicated Web Worker), react.html (React 19 creates the widget; Vite
// only). Also in the Vite project: ssr.js (the entry points imported in node: no window, no
// document, nothing runs before load()) and types.ts (tsc --strict over every export).
// Needs the npm registry (or a filled npm cache). Run: cd web && node --test test/consumers/consumers.test.mjs
// (scripts/test.sh's "npm package" step; about 2-3 minutes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openPage } from '../../testkit/browser.mjs';
import { startServer } from '../../testkit/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const web = join(here, '../..');
const packs = join(web, '../models/sample');
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";
const built = existsSync(join(web, 'dist/prefrec-engine.wasm'));
const skip = !built && 'web/dist missing: build the engine first (bash scripts/web-dist.sh)';

let tmp, tarball, browser;
const apps = {}; // bundler -> the built app's folder

/** Runs a command; its output, or a failure naming the command with its last output lines. */
function run(cmd, args, cwd, { timeout = 300000 } = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false' } });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) assert.fail(`${cmd} ${args.join(' ')} (in ${cwd}): exit ${r.status ?? r.signal}\n${out.split('\n').slice(-40).join('\n')}`);
  return r.stdout;
}

const files = (dir) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())
  .map((d) => relative(dir, join(d.parentPath ?? d.path, d.name)));

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(join(tmpdir(), 'prefrec-consumers-'));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('npm pack: the tarball holds the engine, the shim, the widget, their types, README and LICENSE', { skip, timeout: 120000 }, () => {
  const out = run('npm', ['pack', '--json', '--pack-destination', tmp], web);
  const [info] = JSON.parse(out.slice(out.indexOf('[\n')));
  tarball = join(tmp, info.filename);
  const list = info.files.map((f) => `${f.path} ${f.size}`).join('\n  ');
  console.log(`npm pack: ${info.filename}, ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${info.entryCount} files:\n  ${list}`);
  assert.deepEqual(info.files.map((f) => f.path).sort(), ['LICENSE', 'README.md', 'dist/prefrec-engine.js', 'dist/prefrec-engine.wasm',
    'i18n/en.json', 'i18n/i18n.js', 'i18n/ko.json', 'package.json', 'prefrec.d.ts', 'prefrec.js', 'shard.js',
    'widget/engine.js', 'widget/prefrec-widget.d.ts', 'widget/prefrec-widget.js']);
  const pkg = JSON.parse(readFileSync(join(web, 'package.json'), 'utf8'));
  assert.equal(info.name, 'prefrec');
  assert.equal(info.version, pkg.version);
  assert.ok(!pkg.private && !pkg.scripts.prepare && !pkg.scripts.install && !pkg.scripts.postinstall, 'no install-time scripts');
});

/** A fresh project: app/ + <bundler>/ copied into a temporary folder, npm ci (the pinned
 * versions), the tarball installed, built; the sample packs put where the pages fetch them. */
function project(bundler) {
  const dir = join(tmp, bundler);
  mkdirSync(dir);
  cpSync(join(here, 'app'), dir, { recursive: true });
  cpSync(join(here, bundler), dir, { recursive: true });
  const t0 = Date.now();
  run('npm', ['ci', '--no-audit', '--no-fund'], dir);
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', tarball], dir);
  const t1 = Date.now();
  run('npm', ['run', 'build'], dir);
  const dist = join(dir, 'dist');
  if (bundler === 'webpack') cpSync(join(dir, 'html'), dist, { recursive: true });
  writeFileSync(join(dist, 'favicon.ico'), ''); // the browser asks for it: no 404 in the console
  mkdirSync(join(dist, 'models'));
  for (const a of ['A01', 'A02', 'A03']) cpSync(join(packs, `${a}.item.pack`), join(dist, 'models', `${a}.item.pack`));
  console.log(`${bundler}: npm ci + install ${((t1 - t0) / 1000).toFixed(1)} s, build ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  return dist;
}

/** Opens url with CSP violation and request recording; {page, csp, errors, consoleErrors, requests}. */
async function open(url) {
  const o = await openPage(browser);
  const requests = [];
  o.page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  // the page's own listener (an init script is the browser's, not subject to the page's CSP)
  await o.page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await o.page.goto(url);
  const csp = async () => [...await o.page.evaluate(() => window.__csp),
    ...o.consoleErrors.filter((m) => /Content Security Policy|Content-Security-Policy/i.test(m))];
  return { ...o, requests, csp };
}

async function served(dist, fn, headers = { 'content-security-policy': CSP }) {
  const srv = await startServer(dist, { headers });
  try {
    return await fn(srv.url);
  } finally {
    await srv.close();
  }
}

/** index.html, worker.html (and react.html) of a built app, under the strict CSP. */
async function shopPages(bundler, dist, { react = false } = {}) {
  // one wasm file, the engine's bytes, found and shipped by the bundler (no copying by hand)
  const wasm = files(dist).filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one .wasm in the build: ${wasm}`);
  assert.deepEqual(readFileSync(join(dist, wasm[0])), readFileSync(join(web, 'dist/prefrec-engine.wasm')));
  await served(dist, async (url) => {
    const { page, csp, errors, consoleErrors, requests, context } = await open(`${url}index.html`);
    try {
      await page.locator('#api li').nth(4).waitFor();
      assert.equal(await page.locator('#api li').count(), 5);
      assert.equal(await page.locator('#api').getAttribute('data-source'), 'segment');
      await page.locator('body[data-abort]').waitFor({ state: 'attached' });
      assert.equal(await page.locator('body').getAttribute('data-abort'), 'AbortError', 'load() with an aborted signal');
      assert.equal(await page.locator('body').getAttribute('data-pack-formats'), '1,2,3,4');
      await page.locator('#w1[state=ready]').waitFor();
      await page.locator('#w2[state=ready]').waitFor();
      assert.equal(await page.locator('#w1 .card').count(), 4);
      assert.equal(await page.locator('#w2 .card').count(), 3);
      await page.waitForFunction(() => (document.getElementById('events').textContent.match(/prefrec-shown/g) || []).length === 2);
      const before = JSON.parse(await page.locator('#events').textContent());
      const shown = Object.fromEntries(before.filter((e) => e.type === 'prefrec-shown').map((e) => [e.id, e.codes]));
      assert.equal(shown.w1.length, 4);
      assert.equal(shown.w2.length, 3);
      assert.ok(before.every((e) => e.custom && e.bubbles && e.composed), 'CustomEvents, bubbling and composed');
      await page.locator('#w1 .card').nth(1).click();
      await page.waitForFunction(() => document.getElementById('events').textContent.includes('prefrec-select'));
      const sel = JSON.parse(await page.locator('#events').textContent()).find((e) => e.type === 'prefrec-select');
      assert.deepEqual([sel.id, sel.code], ['w1', shown.w1[1]], 'the clicked card is the second shown');
      // one engine for the page: each file fetched once, though two widgets use the pack
      assert.equal(requests.filter((p) => p === '/models/A01.item.pack').length, 1, requests.join(' '));
      assert.equal(requests.filter((p) => p.endsWith('.wasm')).length, 1, requests.join(' '));
      assert.deepEqual(await csp(), [], 'no CSP violation');
      assert.deepEqual([...errors, ...consoleErrors], []);
      console.log(`${bundler} index.html under "${CSP}": ${before.length} events, widgets ${shown.w1.join(',')} / ${shown.w2.join(',')}, ` +
        'CSP violations: none');
    } finally {
      await context.close();
    }

    const w = await open(`${url}worker.html`);
    try {
      await w.page.locator('body[data-worker]').waitFor({ state: 'attached' });
      const res = JSON.parse(await w.page.locator('body').getAttribute('data-worker'));
      assert.equal(res.error, undefined, res.error);
      assert.equal(res.inWorker, true);
      assert.equal(res.source, 'segment');
      assert.equal(res.codes.length, 5);
      assert.deepEqual(res.topCodes, res.codes, 'recommendTop and recommend agree');
      assert.deepEqual(res.csp, [], 'no CSP violation in the worker');
      assert.deepEqual(await w.csp(), [], 'no CSP violation');
      assert.deepEqual([...w.errors, ...w.consoleErrors], []);
      console.log(`${bundler} worker.html: scored in a Web Worker: ${res.codes.join(',')}, CSP violations: none`);
      apps[bundler] = { ...apps[bundler], workerCodes: res.codes };
    } finally {
      await w.context.close();
    }

    if (!react) return;
    const r = await open(`${url}react.html`);
    try {
      await r.page.locator('#rw[state=ready]').waitFor();
      await r.page.waitForFunction(() => document.getElementById('shown').textContent.split(' ').length === 3);
      await r.page.click('#more'); // React sets k="5": the widget re-renders
      await r.page.waitForFunction(() => document.getElementById('shown').textContent.split(' ').length === 5);
      const shown = (await r.page.locator('#shown').textContent()).split(' ');
      await r.page.locator('#rw .card').first().click();
      await r.page.waitForFunction(() => document.getElementById('clicked').textContent !== '');
      assert.equal(await r.page.locator('#clicked').textContent(), shown[0]);
      assert.deepEqual(await r.csp(), [], 'no CSP violation');
      assert.deepEqual([...r.errors, ...r.consoleErrors], []);
      console.log(`${bundler} react.html (React 19): widget shown ${shown.join(',')}, clicked ${shown[0]} via onprefrec-select, CSP violations: none`);
    } finally {
      await r.context.close();
    }

  });
}

test('Vite: built app with the API, two widgets, a worker and React under a strict CSP', { skip, timeout: 600000 }, async () => {
  const dist = project('vite');
  apps.vite = { dir: join(tmp, 'vite') };
  await shopPages('vite', dist, { react: true });
  // a control: the same page without 'wasm-unsafe-eval' reports its violation (the check sees them)
  await served(dist, async (url) => {
    const { page, csp, context } = await open(`${url}index.html`);
    try {
      await page.locator('#w1[state=error]').waitFor();
      const seen = await csp();
      assert.ok(seen.some((v) => /wasm-eval|script-src/.test(v)), `the control's violations: ${seen}`);
    } finally {
      await context.close();
    }
  }, { 'content-security-policy': "default-src 'self'; script-src 'self'" });
});

test('webpack: built app with the API, two widgets and a worker under a strict CSP', { skip, timeout: 600000 }, async () => {
  const dist = project('webpack');
  await shopPages('webpack', dist);
});

test('SSR: the entry points import in node with no window or document; nothing runs before load()', { skip, timeout: 60000 }, () => {
  assert.ok(apps.vite?.dir, 'the Vite project is installed');
  const out = JSON.parse(run('node', ['ssr.js', join(packs, 'A01.item.pack')], apps.vite.dir));
  console.log(`ssr: ${JSON.stringify(out)}`);
  assert.equal(out.window, 'undefined');
  assert.equal(out.document, 'undefined');
  assert.deepEqual(out.added, [], 'no new globals');
  assert.equal(out.fetches, 0, 'nothing fetched before load()');
  assert.deepEqual(out.exports, ['PrefRec', 'default', 'fnv1a32', 'packFormats', 'shardFile', 'shardOf', 'shardPath']);
  assert.deepEqual(out.widget, ['PrefRecRecommendations']);
  assert.deepEqual(out.packFormats, [1, 2, 3, 4]);
  assert.equal(out.source, 'segment');
  // the same request as the worker's (gender M, age 45, k 5): the same products in node
  assert.deepEqual(out.codes, apps.vite.workerCodes);
});

test('types: tsc --strict --noEmit over every export of prefrec and prefrec/widget, from the installed package', { skip, timeout: 120000 }, () => {
  assert.ok(apps.vite?.dir, 'the Vite project is installed');
  run('npx', ['tsc', '-p', 'tsconfig.json'], apps.vite.dir);
});
