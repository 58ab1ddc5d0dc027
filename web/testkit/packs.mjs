// Model packs for the widget and kiosk browser tests and the first-recs bench, built from the
// repository with the native CLI into build/web-test/<name>-<pid>/ (git-ignored; built each
// run, never read from /tmp leftovers; remove(d) deletes it). Kept out of test/ because node --test runs every .mjs there.
//   const d = await demoModels('widget');  // d.models (exported packs + manifest.json), d.packs (full)
//   const x = await xssModels('widget-xss'); // one affiliate whose catalog has an HTML product name
//   const r = await memberModels('shop');   // r.site (public item packs + manifest.json), r.records
//                                           // (sealed member records), r.tokenKey, r.codes
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeManifest } from '../kiosk/models-manifest.mjs';

const run = promisify(execFile);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = process.env.PREFREC_CLI || join(ROOT, 'build/native/prefrec');
export const EVIL = '<img src=x onerror=alert(1)>';
/** What memberModels' longNames appends to a product's name. */
export const LONG_NAME = ' 국내산 원료 100% 대용량 가족 기획 세트 1+1 증정 특별 한정판';

/** build/web-test/<name>-<pid>: per process, so that two test runs at once never share it. */
function fresh(name) {
  const dir = join(ROOT, 'build', 'web-test', `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function trainExport(dir, data, { epochs, shards, affiliate = 'all' }) {
  const packs = join(dir, 'packs'), models = join(dir, 'models');
  await run(CLI, ['train', '--data', data, '--affiliate', affiliate, '--epochs', String(epochs), '--seed', '1',
    '--quiet', '--out', packs], { timeout: 300000 });
  const { readdirSync } = await import('node:fs');
  for (const f of readdirSync(packs).filter((f) => f.endsWith('.pack')).sort()) {
    await run(CLI, ['export', '--pack', join(packs, f), '--out', models, '--shards', String(shards)], { timeout: 60000 });
  }
  const manifest = await writeManifest(models);
  return { dir, data, packs, models, manifest };
}

/** Generated demo data (scale 0.03, seed 1), every affiliate trained 3 epochs, exported with 4 shards. */
export async function demoModels(name, { scale = 0.03, shards = 4 } = {}) {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: cmake --preset native && cmake --build --preset native`);
  const dir = fresh(name), data = join(dir, 'data');
  await run(CLI, ['gen', '--out', data, '--scale', String(scale), '--seed', '1', '--quiet'], { timeout: 300000 });
  return trainExport(dir, data, { epochs: 3, shards });
}

/** Generated demo data (scale 0.03, seed 1), every affiliate trained 3 epochs and exported in one
 * export with member records: d.site holds the public item packs and manifest.json (no shard),
 * d.records the sealed records and export.json, d.tokenKeyFile the token master key (d.tokenKey
 * its bytes), d.codes the members with purchases (purchase log order). longNames: every third
 * product's name gets LONG_NAME appended (the screenshots' check that long Korean names fit). */
export async function memberModels(name, { scale = 0.03, longNames = false } = {}) {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: cmake --preset native && cmake --build --preset native`);
  const dir = fresh(name), data = join(dir, 'data'), packs = join(dir, 'packs');
  await run(CLI, ['gen', '--out', data, '--scale', String(scale), '--seed', '1', '--quiet'], { timeout: 300000 });
  if (longNames) {
    const f = join(data, 'LPOINT_BIG_COMP_04_PD_CLAC.csv');
    const [head, ...rows] = readFileSync(f, 'utf8').trim().split('\n');
    const out = rows.map((r, i) => (i % 3 ? r : r.replace(/^([^,]*),([^,]*),/, (_, pd, nm) => `${pd},${nm}${LONG_NAME},`)));
    writeFileSync(f, [head, ...out].join('\n') + '\n');
  }
  await run(CLI, ['train', '--data', data, '--affiliate', 'all', '--epochs', '3', '--seed', '1', '--quiet', '--out', packs],
    { timeout: 300000 });
  const { readdirSync } = await import('node:fs');
  const site = join(dir, 'site'), records = join(dir, 'records'), tokenKeyFile = join(dir, 'token.key');
  const args = ['export', '--out', join(dir, 'models'), '--shards', '1', '--records', records, '--data', data,
    '--token-key', tokenKeyFile, '--site', site];
  for (const f of readdirSync(packs).filter((f) => f.endsWith('.pack')).sort()) args.push('--pack', join(packs, f));
  await run(CLI, args, { timeout: 120000 });
  const manifest = await publicManifest(site);
  const tokenKey = Buffer.from(readFileSync(tokenKeyFile, 'utf8').trim(), 'hex');
  const log = readFileSync(join(data, 'LPOINT_BIG_COMP_02_PDDE.csv'), 'utf8').trim().split('\n').slice(1);
  const codes = [...new Set(log.map((l) => l.split(',')[0]))];
  return { dir, data, packs, site, records, tokenKeyFile, tokenKey, manifest, codes };
}

/** dir/manifest.json for a folder of public item packs: models-manifest.mjs's public mode
 * ({ public: true }) where it exists; until then the same fields from the packs' headers (item
 * packs only, no member count or example member, version from the packs' CRC32s). */
export async function publicManifest(dir) {
  try {
    return await writeManifest(dir, { public: true });
  } catch (e) {
    if (!/says \d+ shards|missing/.test(e.message)) throw e;
  }
  const { readdirSync, readFileSync, statSync } = await import('node:fs');
  const { readPack } = await import('../kiosk/models-manifest.mjs');
  const items = readdirSync(dir).filter((f) => /^[^.]+\.item\.pack$/.test(f)).sort();
  let h = 0x811c9dc5, exportId = null;
  const affiliates = items.map((item) => {
    const p = readPack(readFileSync(join(dir, item)), item);
    for (let k = 0; k < 4; k++) h = Math.imul(h ^ ((p.crc >>> (8 * k)) & 255), 0x01000193) >>> 0;
    exportId = p.manifest.export_id;
    return { affiliate: p.manifest.affiliate, item, shards: 0, bytes: statSync(join(dir, item)).size, products: p.manifest.n_products ?? null };
  });
  const m = { format: 'prefrec-models', version: h.toString(16).padStart(8, '0'), export_id: exportId, affiliates, files: items, examples: [] };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 1) + '\n');
  return m;
}

/** A tiny hand-written L.POINT data set (40 customers, 12 products, A01 only) whose catalog
 * names product PD0000 `<img src=x onerror=alert(1)>` and one top category `<b>채소</b>`.
 * Every customer but C000 bought PD0000, so it is C000's first recommendation. */
export async function xssModels(name) {
  const dir = fresh(name), data = join(dir, 'data');
  mkdirSync(data);
  const cats = [['<b>채소</b>', '잎채소'], ['과일', '사과'], ['과자', '스낵']];
  const pd = (i) => `PD${String(i).padStart(4, '0')}`;
  const catalog = ['pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm'];
  for (let i = 0; i < 12; i++) {
    const [top, mid] = cats[i % 3];
    catalog.push(`${pd(i)},${i === 0 ? EVIL : `상품 ${i}`},${top},${mid}`);
  }
  const demo = ['cust,ma_fem_dv,ages,zon_hlv'];
  const lines = ['cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct'];
  let r = 0;
  for (let c = 0; c < 40; c++) {
    const cust = `C${String(c).padStart(3, '0')}`;
    demo.push(`${cust},${c % 2 ? '남성' : '여성'},${20 + 10 * (c % 5)}대,Z01`);
    for (let k = 0; k < 6; k++) {
      const p = c > 0 && k === 0 ? 0 : 1 + ((c * 7 + k * 5) % 11);
      const day = String(10 + (c % 15)).padStart(2, '0');
      lines.push(`${cust},R${++r},1,A01,A010001,${pd(p)},2021${String(k + 1).padStart(2, '0')}${day},10,1000,1`);
    }
  }
  writeFileSync(join(data, 'LPOINT_BIG_COMP_04_PD_CLAC.csv'), catalog.join('\n') + '\n');
  writeFileSync(join(data, 'LPOINT_BIG_COMP_01_DEMO.csv'), demo.join('\n') + '\n');
  writeFileSync(join(data, 'LPOINT_BIG_COMP_02_PDDE.csv'), lines.join('\n') + '\n');
  return trainExport(dir, data, { epochs: 3, shards: 2, affiliate: 'A01' });
}

/** The native CLI's JSON answer (`prefrec recommend|plan ... --json`). */
export async function cliJson(args) {
  try {
    const { stdout } = await run(CLI, [...args, '--json'], { timeout: 60000 });
    return JSON.parse(stdout);
  } catch (e) {
    if (e.stdout) return JSON.parse(e.stdout);
    throw e;
  }
}

/** URL path (from the repository root) of a folder inside the repository, ending in '/'. */
export const urlPath = (abs) => '/' + abs.slice(ROOT.length + 1).split('\\').join('/') + '/';

/** Delete a folder made by demoModels / xssModels. */
export const remove = (d) => d && rmSync(d.dir, { recursive: true, force: true });
