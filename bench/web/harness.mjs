// bench/web/harness.mjs - what bench/web/scale.mjs and bench/web/trained.mjs share: their
// options, medians, the load average, and the page harness: a temporary site (folders linked
// in, one page.html), served on 127.0.0.1 to headless Chromium, a new context (empty cache)
// per page opened.
//   const pages = await openPages('prefrec-x-', { web: '/path/web' }, 'window.bench = ...;');
//   try { const { ctx, page, bench } = await pages.open('?k=v'); ... await ctx.close(); }
//   finally { await pages.close(); }
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

// --name VALUE (removed from args), else def
export const option = (args, name, def) => {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
// --name (removed from args): present or not
export const flag = (args, name) => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
// the middle value (the mean of the two middle ones for an even count); NaN for none
export const median = (a) => {
  const s = [...a].sort((x, y) => x - y), n = s.length;
  return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN;
};
// the 1-minute load average, printed beside figures: the machine is shared
export const loadAvg = () => loadavg()[0].toFixed(2);

// A site in a new temporary folder (name prefix `prefix`): links { name: target } and page.html
// holding `script` as a module; served, and Chromium started. open(query) opens page.html?query
// in a new context and waits for the page's window.bench (a promise); close() ends the browser
// and the server and removes the folder.
export async function openPages(prefix, links, script) {
  const { startServer } = await import('../../web/testkit/server.mjs');
  const { launchBrowser } = await import('../../web/testkit/browser.mjs');
  const root = mkdtempSync(join(tmpdir(), prefix));
  let srv = null, browser = null;
  const close = async () => {
    if (browser) await browser.close();
    if (srv) await srv.close();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (const [name, target] of Object.entries(links)) symlinkSync(target, join(root, name));
    writeFileSync(join(root, 'page.html'),
      `<!doctype html><meta charset="utf-8"><script type="module">\n${script}\n</script>`);
    srv = await startServer(root);
    browser = await launchBrowser();
  } catch (e) {
    await close();
    throw e;
  }
  const open = async (query = '') => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.setDefaultTimeout(600000);
    await page.goto(`${srv.url}page.html${query}`);
    return { ctx, page, bench: await page.evaluate(() => window.bench) };
  };
  return { open, close };
}
