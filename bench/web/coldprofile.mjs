// bench/web/coldprofile.mjs - a CPU profile of cold loads in headless Chromium (the Chrome
// DevTools Protocol's sampling profiler): per function, the milliseconds of samples that fell in
// it, summed over --cold pages, then divided by the page count. Each page is a new context on a
// server on 127.0.0.1 whose only work is the shim's import and PrefRec.load of the pack's bytes
// (bench/web/harness.mjs).
//   node bench/web/coldprofile.mjs ITEM_PACK [--cold 5] [--web DIR] [--top 25]
// Wasm functions have names when the engine is linked with --profiling-funcs (a bench copy of
// web/ with such a dist/: pass it as --web); else they show as $func123. "(program)" is the
// browser's own work outside JS and wasm (fetch, compile threads are not sampled). Prints the
// load average: the machine is shared.
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAvg as la, option } from './harness.mjs';

const args = process.argv.slice(2);
const cold = Number(option(args, '--cold', '5'));
const top = Number(option(args, '--top', '25'));
const web = resolve(option(args, '--web', resolve(dirname(fileURLToPath(import.meta.url)), '../../web')));
const [packArg] = args;
if (!packArg) {
  console.error('usage: node bench/web/coldprofile.mjs ITEM_PACK [--cold 5] [--web DIR] [--top 25]');
  process.exit(2);
}
const pack = resolve(packArg);
const { mkdtempSync, rmSync, symlinkSync, writeFileSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const { startServer } = await import('../../web/testkit/server.mjs');
const { launchBrowser } = await import('../../web/testkit/browser.mjs');

const root = mkdtempSync(join(tmpdir(), 'prefrec-coldprofile-'));
symlinkSync(web, join(root, 'web'));
symlinkSync(pack, join(root, 'item.pack'));
// the page waits for window.go(): the profiler starts after the navigation, before the load
writeFileSync(join(root, 'page.html'), `<!doctype html><meta charset="utf-8"><script type="module">
window.go = async () => {
  const b = new Uint8Array(await (await fetch('/item.pack')).arrayBuffer());
  const t0 = performance.now();
  const { PrefRec } = await import('/web/prefrec.js');
  const t1 = performance.now();
  (await PrefRec.load(b)).close();
  return [t1 - t0, performance.now() - t1];
};
</script>`);
const srv = await startServer(root);
const browser = await launchBrowser();
const self = new Map();
let total = 0, imp = 0, load = 0;
try {
  for (let i = 0; i < cold; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${srv.url}page.html`);
    await page.waitForFunction(() => typeof window.go == 'function');
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
    const [ti, tl] = await page.evaluate(() => window.go());
    const { profile } = await cdp.send('Profiler.stop');
    imp += ti;
    load += tl;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const dt = profile.timeDeltas;
    for (let k = 0; k < profile.samples.length; k++) {
      const n = byId.get(profile.samples[k]), f = n.callFrame;
      const name = `${f.functionName || '(anonymous)'} ${f.url ? basename(f.url) : ''}`.trim();
      const ms = (dt[k + 1] ?? 0) / 1000;
      self.set(name, (self.get(name) || 0) + ms);
      total += ms;
    }
    await ctx.close();
  }
} finally {
  await browser.close();
  await srv.close();
  rmSync(root, { recursive: true, force: true });
}
console.log(`chromium  ${basename(pack)}: import ${(imp / cold).toFixed(1)} ms, load ${(load / cold).toFixed(1)} ms, ` +
  `${(total / cold).toFixed(1)} ms sampled per page (means of ${cold} cold pages; load avg ${la()})`);
for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${(ms / cold).toFixed(2).padStart(8)} ms  ${name}`);
