// Browser tests of the report page (web/report/) on the fixture JSON under test/fixtures/:
// Debian's chromium through playwright-core, pages served by test/server.mjs on 127.0.0.1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../testkit/server.mjs';
import { launchBrowser, openPage } from '../testkit/browser.mjs';
import { vendor } from '../scripts/vendor.mjs';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixture = (name, file) => JSON.parse(readFileSync(join(web, 'test', 'fixtures', name, file), 'utf8'));
const EVIL = '<img src=x onerror=alert(1)>';
const EVIL2 = '<script>alert(2)</script>';
const DASH = '\u2013';

let srv;
let browser;
let shared; // one page for every test (a new renderer per test costs seconds on a busy machine)

before(async () => {
  vendor({ quiet: true });
  srv = await startServer(web);
  browser = await launchBrowser();
  shared = await openPage(browser);
});

after(async () => {
  await shared?.context.close().catch(() => {});
  await browser?.close();
  await srv?.close();
});

/** Load the report on a data folder (relative to web/report/) in the shared page; the
 * dialogs / errors lists returned hold only what happened during this load and after. */
let current = null; // data folder of the page as loaded and left untouched by the last test

async function openReport(data, { route, reuse = false } = {}) {
  const { page, dialogs, errors } = shared;
  if (reuse && current === data) return shared;
  current = reuse ? data : null;
  dialogs.length = 0;
  errors.length = 0;
  await page.unrouteAll();
  if (route) await route(page);
  await page.goto(`${srv.url}report/?data=${encodeURIComponent(data)}`);
  await page.waitForSelector('body[data-ready="1"]');
  return shared;
}

/** Text of every cell of a table: [[header cells], [row cells]...]. */
function tableText(page, id) {
  return page.$$eval(`#${id} tr`, (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
}

/** Per canvas: size, whether a Chart.js chart owns it, dataset count and painted pixels. */
function canvasInfo(page, id) {
  return page.$eval(`#${id}`, (c) => {
    const chart = window.Chart && window.Chart.getChart(c);
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
    const box = c.getBoundingClientRect();
    return { width: box.width, height: box.height, chart: !!chart,
      datasets: chart ? chart.data.datasets.length : 0, painted };
  });
}

test('validation table shows the fixture rates and pair counts', async () => {
  const { page, errors, dialogs } = await openReport('../test/fixtures/full/', { reuse: true });
  const v = fixture('full', 'validate.json');
  const rows = await tableText(page, 'validate-table');
  assert.deepEqual(rows[0], ['Affiliate', '≥0.0', '≥0.5', '≥1.0', '≥1.5', '≥2.0', '≥2.5', '≥3.0', '≥3.5', '≥4.0', '≥4.5']);
  assert.deepEqual(rows.slice(1).map((r) => r[0]), ['A01', 'A02', 'A03', 'A04', 'A05', 'A06']);
  const cells = await page.$$eval('#validate-table tbody tr', (trs) => trs.map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => [td.querySelector('.rate').textContent, td.querySelector('.pairs').textContent])));
  Object.values(v.affiliates).forEach((a, i) => {
    assert.deepEqual(cells[i].map((c) => c[0]), a.rate.map((r) => (r === null ? DASH : r.toFixed(3))));
    assert.deepEqual(cells[i].map((c) => c[1]), a.pairs.map((n) => n.toLocaleString('en-US')));
  });
  // A few cells by hand (the deck's table): A01 at >=3.0, A05 at >=4.0 and >=4.5.
  assert.deepEqual(cells[0][6], ['0.558', '12,799']);
  assert.deepEqual(cells[4][8], ['1.000', '1']);
  assert.deepEqual(cells[4][9], [DASH, '0']);
  assert.equal(await page.textContent('#validate .meta'),
    '6 affiliates; scores from purchases before 2021-10-01, repurchases up to 2022-01-01.');
  assert.deepEqual(errors, []);
  assert.deepEqual(dialogs, []);
});

test('training table shows validation RMSE and epochs per affiliate', async () => {
  const { page } = await openReport('../test/fixtures/full/', { reuse: true });
  const t = fixture('full', 'train.json');
  const rows = await tableText(page, 'train-table');
  assert.deepEqual(rows[0], ['Affiliate', 'Validation RMSE', 'Best epoch', 'Epochs', 'Train pairs',
    'Valid pairs', 'Seconds / epoch', 'Last train loss']);
  Object.entries(t.affiliates).forEach(([code, a], i) => {
    const r = rows[i + 1];
    assert.equal(r[0], code);
    assert.equal(r[1], a.rmse.toFixed(4));
    assert.equal(r[2], String(a.best_epoch));
    assert.equal(r[3], String(a.epochs.length));
    assert.equal(r[4], a.train_pairs.toLocaleString('en-US'));
    assert.equal(r[7], a.epochs.at(-1).train_loss.toFixed(4));
  });
  assert.deepEqual(rows[1].slice(0, 6), ['A01', '0.4176', '10', '12', '371,586', '41,287']);
});

test('charts are drawn: canvases sized, owned by Chart.js, painted', async () => {
  const { page } = await openReport('../test/fixtures/full/', { reuse: true });
  const expected = {
    'validate-rate-chart': 6, 'validate-hist-chart': 6, 'train-rmse-chart': 6, 'train-loss-chart': 6,
    'eval-new_items-chart': 3, 'eval-repurchase-chart': 2,
  };
  for (const [id, datasets] of Object.entries(expected)) {
    const c = await canvasInfo(page, id);
    assert.ok(c.width > 200 && c.height > 150, `${id} is ${c.width}x${c.height}`);
    assert.equal(c.chart, true, `${id} has no chart`);
    assert.equal(c.datasets, datasets, id);
    assert.ok(c.painted > 2000, `${id} painted only ${c.painted} pixels`);
  }
});

test('every ranker side by side, default marked, scope switches to one affiliate', async () => {
  const { page } = await openReport('../test/fixtures/full/', { reuse: true });
  const e = fixture('full', 'eval.json');
  let rows = await tableText(page, 'eval-new_items-table');
  assert.deepEqual(rows[0], ['Ranker', 'Recall@20', 'NDCG@20', 'Hit rate@20', 'Coverage', 'Users', 'Fit time', 'Rank time']);
  const names = Object.keys(e.new_items.overall);
  assert.deepEqual(rows.slice(1).map((r) => r[0].replace(/default$/, '')), names);
  names.forEach((n, i) => {
    const m = e.new_items.overall[n];
    assert.deepEqual(rows[i + 1].slice(1, 6), [m.recall.toFixed(4), m.ndcg.toFixed(4),
      m.hit_rate.toFixed(4), m.coverage.toFixed(4), m.users.toLocaleString('en-US')]);
  });
  assert.deepEqual(rows[names.indexOf('ease') + 1], ['ease', '0.1180', '0.0790', '0.6600', '0.3700', '21,873', '6.40 s', '0.520 s']);
  // The default ranker carries the badge; the best recall is bold (deep_rank), best coverage itemknn.
  assert.equal(await page.textContent('#eval-new_items-table tr.default .ranker'), 'deep_rank');
  assert.equal(await page.textContent('#eval-new_items-table tr.default .badge'), 'default');
  assert.deepEqual(await page.$$eval('#eval-new_items-table td.best', (tds) =>
    tds.map((td) => [td.dataset.key, td.parentElement.querySelector('.ranker').textContent]))
    .then((b) => b.sort()),
  [['coverage', 'itemknn'], ['hit_rate', 'deep_rank'], ['ndcg', 'deep_rank'], ['recall', 'deep_rank']]);
  // Repurchase has no hit rate / coverage: those columns are left out.
  rows = await tableText(page, 'eval-repurchase-table');
  assert.deepEqual(rows[0], ['Ranker', 'Recall@20', 'NDCG@20', 'Users', 'Fit time', 'Rank time']);
  // a file of the one-window shape: no customer groups, mixed list, intervals or tuning to show
  for (const id of ['eval-group', 'eval-mixed', 'eval-intervals', 'eval-tuning']) {
    assert.equal(await page.isVisible(`#${id}`), false, id);
  }
  assert.deepEqual(rows.at(-1), ['recency', '0.4900', '0.3700', '24,410', '0.040 s', '0.019 s']);

  current = null; // the page is changed from here on
  await page.selectOption('#eval-scope', 'A05');
  rows = await tableText(page, 'eval-new_items-table');
  const a05 = e.new_items.by_affiliate.A05;
  names.forEach((n, i) => {
    assert.equal(rows[i + 1][1], a05[n].recall.toFixed(4));
    assert.equal(rows[i + 1][5], a05[n].users.toLocaleString('en-US'));
  });
  assert.equal(rows[1][5], '612');
});

test('windows: customer groups, the mixed list, spread over windows, intervals and tuned params', async () => {
  const { page } = await openReport('../test/fixtures/windows/');
  const e = fixture('windows', 'eval.json');
  const k4 = (x) => x.toFixed(4);
  // the mixed list has its repeat / explore columns; the spread column shows min-max (windows)
  let rows = await tableText(page, 'eval-mixed-table');
  assert.deepEqual(rows[0], ['Ranker', 'Recall@20', 'Recall over windows', 'NDCG@20', 'Hit rate@20',
    'Recall (repeat)', 'Hit rate (repeat)', 'Recall (explore)', 'Hit rate (explore)',
    'Repeat share', 'Coverage', 'Users', 'Fit time', 'Rank time']);
  const names = Object.keys(e.mixed.overall);
  assert.deepEqual(rows.slice(1).map((r) => r[0].replace(/default$/, '')), names);
  const m = e.mixed.overall.ease, r = rows[names.indexOf('ease') + 1];
  assert.deepEqual(r.slice(1, 11), [k4(m.recall),
    `${k4(Math.min(...m.windows.recall))}${DASH}${k4(Math.max(...m.windows.recall))} (3)`,
    k4(m.ndcg), k4(m.hit_rate), k4(m.recall_rep), k4(m.hit_rate_rep), k4(m.recall_expl),
    k4(m.hit_rate_expl), `${(100 * m.repeat_ratio).toFixed(1)}%`, k4(m.coverage)]);
  // new items has no repeat / explore columns
  rows = await tableText(page, 'eval-new_items-table');
  assert.deepEqual(rows[0], ['Ranker', 'Recall@20', 'Recall over windows', 'NDCG@20', 'Hit rate@20',
    'Coverage', 'Users', 'Fit time', 'Rank time']);
  const mixedChart = await canvasInfo(page, 'eval-mixed-chart');
  assert.equal(mixedChart.datasets, 5); // recall, ndcg, hit rate, recall repeat, recall explore
  assert.ok(mixedChart.painted > 2000);
  // intervals: one row per task and group that has one
  rows = await tableText(page, 'eval-intervals-table');
  assert.deepEqual(rows[0], ['Task', 'Customers', 'Default', 'Best other ranker', 'Difference',
    '95% interval', 'Verdict', 'Customers resampled']);
  const iv = e.intervals.new_items.overall;
  const sign = (x) => (x >= 0 ? `+${k4(x)}` : k4(x));
  assert.deepEqual(rows[1], ['new items', 'overall', `blend_served ${k4(iv.default_value)}`,
    `${iv.baseline} ${k4(iv.baseline_value)}`, sign(iv.diff), `[${sign(iv.lo)}, ${sign(iv.hi)}]`,
    iv.lo > 0 ? 'better' : iv.hi < 0 ? 'worse' : 'no difference', String(iv.customers)]);
  const n = Object.values(e.intervals).flatMap((g) => Object.values(g)).filter((x) => x !== null).length;
  assert.equal(rows.length, n + 1);
  rows = await tableText(page, 'eval-tuning-table');
  assert.deepEqual(rows[1], ['ease', 'new items', '1', 'A01', e.tuning[0].params, '0.1712']);
  assert.match(await page.textContent('#eval .meta'), /3 test windows of 30 days from 2021-10-03/);

  current = null; // the page is changed from here on
  // known customers: the group's figures; the affiliate choice is off meanwhile
  await page.selectOption('#eval-group', 'known');
  assert.equal(await page.isDisabled('#eval-scope'), true);
  rows = await tableText(page, 'eval-new_items-table');
  assert.equal(rows[names.indexOf('ease') + 1][1], k4(e.new_items.known.ease.recall));
  // cold customers have no repurchase figures: the table says so
  await page.selectOption('#eval-group', 'cold');
  rows = await tableText(page, 'eval-mixed-table');
  assert.equal(rows[1][1], k4(e.mixed.cold.pop.recall));
  assert.match(await page.textContent('#eval-repurchase-table caption'), /no cold customers/);
  await page.selectOption('#eval-group', '');
  assert.equal(await page.isDisabled('#eval-scope'), false);
  rows = await tableText(page, 'eval-new_items-table');
  assert.equal(rows[1][1], k4(e.new_items.overall.pop.recall));
});

test('missing files show a clear message in their section, the rest still renders', async () => {
  const { page, errors } = await openReport('../test/fixtures/partial/');
  assert.equal(await page.isVisible('#validate-table'), true);
  assert.equal((await tableText(page, 'validate-table')).length, 7);
  for (const id of ['train', 'eval']) {
    const status = page.locator(`#${id} .status`);
    assert.equal(await status.isVisible(), true);
    assert.equal(await status.getAttribute('role'), 'alert');
    const text = await status.textContent();
    assert.match(text, new RegExp(`^Not available\\. ${id}\\.json was not found at http://127\\.0\\.0\\.1:\\d+/test/fixtures/partial/${id}\\.json \\(HTTP 404 Not Found\\)\\.`));
    assert.match(text, new RegExp(`prefrec ${id}`));
    assert.equal(await page.isVisible(`#${id} .body`), false);
  }
  assert.deepEqual(errors, []);
});

test('bad JSON and wrong shapes are named, with the path of the bad value', async () => {
  const { page } = await openReport('../test/fixtures/broken/');
  assert.match(await page.textContent('#validate .status'), /validate\.json at http:\/\/127\.0\.0\.1:\d+\/test\/fixtures\/broken\/validate\.json is not valid JSON/);
  assert.equal(await page.textContent('#eval .status .message'),
    'eval.json: new_items.overall["popularity"].ndcg must be a number');
  assert.match(await page.textContent('#train .status'), /train\.json was not found/);
});

test('no data folder at all: three messages, not a blank page', async () => {
  const { page } = await openReport('no/such/folder/');
  assert.equal(await page.locator('.status.error').count(), 3);
  assert.equal(await page.textContent('h1'), 'prefrec report');
  assert.match(await page.textContent('#source'), /\/report\/no\/such\/folder\/$/);
});

test('markup in affiliate and ranker names is shown as text and runs nothing', async () => {
  const { page, dialogs, errors } = await openReport('../test/fixtures/xss/');
  await page.waitForTimeout(300); // give any injected handler a chance to fire
  assert.deepEqual(dialogs, []);
  assert.deepEqual(errors, []);
  assert.equal(await page.locator('img').count(), 0);
  assert.equal(await page.locator('script').count(), 2); // chart.umd.min.js and report.js only
  const v = await tableText(page, 'validate-table');
  assert.deepEqual(v.slice(1).map((r) => r[0]), ['A01', EVIL]);
  assert.match(await page.textContent('#validate .meta'), /before <script>alert\(2\)<\/script>,/);
  const t = await tableText(page, 'train-table');
  assert.deepEqual(t.slice(1).map((r) => r[0]), [EVIL2, 'A03']);
  assert.match(await page.textContent('#train .meta'), /as of <img src=x onerror=alert\(1\)>/);
  assert.equal(await page.textContent('#eval-new_items-table tr.default .ranker'), EVIL);
  assert.deepEqual(await page.$$eval('#eval-scope option', (os) => os.map((o) => o.textContent)),
    ['All affiliates (overall)', EVIL2]);
  await page.selectOption('#eval-scope', EVIL2);
  const rows = await tableText(page, 'eval-new_items-table');
  assert.equal(rows[2][0], `${EVIL}default`);
  assert.equal((await canvasInfo(page, 'eval-new_items-chart')).datasets, 3);
  await page.waitForTimeout(100);
  assert.deepEqual(dialogs, []);
});

test('without the chart library the tables still render and the chart slots say why', async () => {
  const { page } = await openReport('../test/fixtures/full/', {
    route: (p) => p.route('**/vendor/chart.umd.min.js', (r) => r.fulfill({ status: 404, body: 'gone' })),
  });
  assert.equal((await tableText(page, 'validate-table')).length, 7);
  assert.equal(await page.locator('.chart-missing').count(), 6);
  assert.match(await page.textContent('#validate .chart-missing'), /Chart library not loaded/);
});
