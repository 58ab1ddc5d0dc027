// The report page: fetches validate.json, train.json and eval.json (see README.md here for the
// shapes and the query parameters), renders tables and Chart.js charts. Data only ever reaches
// the DOM through textContent / property setters, never as markup. Each section fails on its
// own with a visible message; the page sets <body data-ready="1"> when every section is done.
import {
  DASH, ShapeError, argmax, fmtCount, fmtFixed, fmtSeconds, mean,
  parseEval, parseTrain, parseValidate, sourceUrls,
} from './model.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b',
  '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const METRIC_COLORS = { recall: '#1f77b4', ndcg: '#ff7f0e', hit_rate: '#2ca02c', coverage: '#9467bd',
  recall_rep: '#8c564b', recall_expl: '#17becf' };
const FONT = 'system-ui, "Noto Sans CJK KR", "Noto Sans", "DejaVu Sans", sans-serif';

const colorOf = new Map();
function affiliateColor(code) {
  if (!colorOf.has(code)) colorOf.set(code, PALETTE[colorOf.size % PALETTE.length]);
  return colorOf.get(code);
}

/** createElement with text (never parsed as markup), a class and attributes. */
function el(tag, { text, cls, attrs } = {}, ...children) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) if (c) e.append(c);
  return e;
}

async function loadJson(url, name) {
  let res;
  try {
    res = await fetch(url, { cache: 'no-cache' });
  } catch (e) {
    throw new Error(`${name} could not be fetched from ${url} (${e.message}).`);
  }
  if (!res.ok) {
    throw new Error(`${name} was not found at ${url} (HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}).`);
  }
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${name} at ${url} is not valid JSON: ${e.message}`);
  }
}

const HINTS = {
  validate: 'Write it with: prefrec validate --data DATA --cutoff 2021-10-01 --json validate.json',
  train: 'Write it with prefrec train (per-affiliate RMSE and epochs; shape in web/report/README.md)',
  eval: 'Write it with: prefrec eval --data DATA --json eval.json',
};

function sectionParts(id) {
  const s = document.getElementById(id);
  return { section: s, status: s.querySelector('.status'), body: s.querySelector('.body') };
}

function showError(id, err) {
  const { section, status, body } = sectionParts(id);
  section.classList.add('failed');
  status.classList.add('error');
  status.setAttribute('role', 'alert');
  status.replaceChildren(
    el('strong', { text: err instanceof ShapeError ? 'Unexpected content. ' : 'Not available. ' }),
    el('span', { cls: 'message', text: err.message }),
    el('span', { cls: 'hint', text: HINTS[id] }),
  );
  body.hidden = true;
}

function showBody(id, meta) {
  const { status, body } = sectionParts(id);
  status.hidden = true;
  body.hidden = false;
  body.querySelector('.meta').textContent = meta;
}

// ---- charts ------------------------------------------------------------------------------

const charts = new Map();

function drawChart(canvasId, config) {
  const canvas = document.getElementById(canvasId);
  charts.get(canvasId)?.destroy();
  charts.delete(canvasId);
  if (typeof window.Chart !== 'function') {
    const box = canvas.parentElement;
    box.classList.add('chart-missing');
    box.replaceChildren(el('p', {
      cls: 'error',
      text: 'Chart library not loaded (web/vendor/chart.umd.min.js is missing): run `npm ci` in web/ or `node web/scripts/vendor.mjs`.',
    }), canvas);
    canvas.hidden = true;
    return;
  }
  charts.set(canvasId, new window.Chart(canvas, config));
}

function baseOptions({ xTitle, yTitle, yMin, yMax, yTick, xLinear }) {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', intersect: false },
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 14 } } },
    scales: {
      x: { type: xLinear ? 'linear' : 'category', title: { display: !!xTitle, text: xTitle },
        ticks: xLinear ? { precision: 0 } : {} },
      y: { min: yMin, max: yMax, grace: yMax === undefined ? '4%' : 0, title: { display: !!yTitle, text: yTitle },
        ticks: yTick ? { callback: yTick } : {} },
    },
  };
}

// ---- validate.json -------------------------------------------------------------------------

function renderValidate(v) {
  const range = [v.cutoff && `scores from purchases before ${v.cutoff}`,
    v.end && `repurchases up to ${v.end}`].filter(Boolean).join(', ');
  showBody('validate', `${v.affiliates.length} affiliates${range ? '; ' + range : ''}.`);

  const table = document.getElementById('validate-table');
  const head = el('tr', {}, el('th', { text: 'Affiliate', attrs: { scope: 'col' } }));
  for (const t of v.thresholds) head.append(el('th', { text: `\u2265${t.toFixed(1)}`, attrs: { scope: 'col' } }));
  const tbody = el('tbody');
  for (const a of v.affiliates) {
    const tr = el('tr', {}, el('th', { text: a.code, attrs: { scope: 'row' } }));
    a.rate.forEach((r, i) => {
      const td = el('td', {},
        el('span', { cls: 'rate', text: fmtFixed(r, 3) }),
        el('span', { cls: 'pairs', text: fmtCount(a.pairs[i]) }));
      td.title = a.bought ? `${fmtCount(a.bought[i])} of ${fmtCount(a.pairs[i])} pairs bought again`
                          : `${fmtCount(a.pairs[i])} pairs`;
      if (r === null) td.classList.add('empty');
      tr.append(td);
    });
    tbody.append(tr);
  }
  table.replaceChildren(el('thead', {}, head), tbody);

  drawChart('validate-rate-chart', {
    type: 'line',
    data: {
      labels: v.thresholds.map((t) => t.toFixed(1)),
      datasets: v.affiliates.map((a) => ({
        label: a.code, data: a.rate, borderColor: affiliateColor(a.code),
        backgroundColor: affiliateColor(a.code), spanGaps: false, tension: 0, pointRadius: 3,
        clip: 6, // a rate of exactly 1.0 keeps its whole point
      })),
    },
    options: baseOptions({ xTitle: 'score threshold t', yTitle: 'bought again (share)', yMin: 0, yMax: 1 }),
  });

  const withHist = v.affiliates.filter((a) => a.hist && a.hist.length);
  const fig = document.getElementById('validate-hist-figure');
  if (!withHist.length) {
    fig.hidden = true;
    return;
  }
  fig.hidden = false;
  const bins = Math.max(...withHist.map((a) => a.hist.length));
  // Bin scores from hist_scores; without it, bins spread evenly over 0..5 (the CLI's bins are
  // the nearest quarter point: 0, 0.25, ..., 5).
  const step = bins > 1 ? 5 / (bins - 1) : 1;
  const labels = v.histScores ? v.histScores.map((x) => x.toFixed(2))
                              : Array.from({ length: bins }, (_, k) => (k * step).toFixed(2));
  drawChart('validate-hist-chart', {
    type: 'line',
    data: {
      labels,
      datasets: withHist.map((a) => {
        const total = a.hist.reduce((s, x) => s + x, 0) || 1;
        return {
          label: a.code, data: a.hist.map((x) => x / total), borderColor: affiliateColor(a.code),
          backgroundColor: affiliateColor(a.code), tension: 0, pointRadius: 2,
        };
      }),
    },
    options: baseOptions({ xTitle: 'score', yTitle: 'share of pairs', yMin: 0,
      yTick: (x) => `${Math.round(x * 100)}%` }),
  });
}

// ---- train.json ----------------------------------------------------------------------------

function renderTrain(t) {
  const bits = [t.asof && `as of ${t.asof}`, t.dim !== null && `embedding dim ${t.dim}`,
    t.seed !== null && `seed ${t.seed}`, t.threads !== null && `${t.threads} threads`].filter(Boolean);
  showBody('train', `${t.affiliates.length} affiliates${bits.length ? '; ' + bits.join(', ') : ''}.`);

  const cols = ['Affiliate', 'Validation RMSE', 'Best epoch', 'Epochs', 'Train pairs', 'Valid pairs',
    'Seconds / epoch', 'Last train loss'];
  const table = document.getElementById('train-table');
  const head = el('tr', {}, ...cols.map((c) => el('th', { text: c, attrs: { scope: 'col' } })));
  const tbody = el('tbody');
  for (const a of t.affiliates) {
    const last = a.epochs[a.epochs.length - 1];
    const cells = [fmtFixed(a.rmse, 4), a.bestEpoch ?? DASH, a.epochs.length, fmtCount(a.trainPairs),
      fmtCount(a.validPairs), fmtSeconds(mean(a.epochs.map((e) => e.seconds))),
      fmtFixed(last ? last.trainLoss : null, 4)];
    tbody.append(el('tr', {}, el('th', { text: a.code, attrs: { scope: 'row' } }),
      ...cells.map((c) => el('td', { text: c }))));
  }
  table.replaceChildren(el('thead', {}, head), tbody);

  const curve = (key) => t.affiliates.map((a) => ({
    label: a.code, borderColor: affiliateColor(a.code), backgroundColor: affiliateColor(a.code),
    data: a.epochs.filter((e) => e[key] !== null).map((e) => ({ x: e.epoch, y: e[key] })),
    tension: 0, pointRadius: 2,
  }));
  drawChart('train-rmse-chart', { type: 'line', data: { datasets: curve('validRmse') },
    options: baseOptions({ xTitle: 'epoch', yTitle: 'validation RMSE', xLinear: true }) });
  drawChart('train-loss-chart', { type: 'line', data: { datasets: curve('trainLoss') },
    options: baseOptions({ xTitle: 'epoch', yTitle: 'train loss (MSE)', xLinear: true }) });
}

// ---- eval.json -----------------------------------------------------------------------------

const fmt4 = (x) => fmtFixed(x, 4);
const EVAL_COLS = [
  { key: 'recall', label: (k) => `Recall@${k}`, fmt: fmt4, best: true, chart: true },
  { key: 'recall_spread', label: () => 'Recall over windows', fmt: (s) => (s ? `${fmt4(s.min)}${DASH}${fmt4(s.max)} (${s.n})` : DASH) },
  { key: 'ndcg', label: (k) => `NDCG@${k}`, fmt: fmt4, best: true, chart: true },
  { key: 'hit_rate', label: (k) => `Hit rate@${k}`, fmt: fmt4, best: true, chart: true },
  { key: 'recall_rep', label: () => 'Recall (repeat)', fmt: fmt4, best: true, chart: true },
  { key: 'hit_rate_rep', label: () => 'Hit rate (repeat)', fmt: fmt4, best: true },
  { key: 'recall_expl', label: () => 'Recall (explore)', fmt: fmt4, best: true, chart: true },
  { key: 'hit_rate_expl', label: () => 'Hit rate (explore)', fmt: fmt4, best: true },
  { key: 'repeat_ratio', label: () => 'Repeat share', fmt: (x) => (x === null ? DASH : `${(100 * x).toFixed(1)}%`) },
  { key: 'coverage', label: () => 'Coverage', fmt: fmt4, best: true },
  { key: 'users', label: () => 'Users', fmt: fmtCount },
  { key: 'fit', label: () => 'Fit time', fmt: fmtSeconds },
  { key: 'rank', label: () => 'Rank time', fmt: fmtSeconds },
];
const TASK_KEYS = [['new_items', 'newItems'], ['repurchase', 'repurchase'], ['mixed', 'mixed']];
const TASK_LABEL = { new_items: 'new items', repurchase: 'repurchase', mixed: 'mixed' };

// Chart.js plugin: an error bar (the windows' min to max) over each bar of the datasets that
// carry `spread` (one {min, max} or null per bar).
const errorBars = {
  id: 'errorBars',
  afterDatasetsDraw(chart) {
    const { ctx, scales: { y } } = chart;
    chart.data.datasets.forEach((ds, i) => {
      if (!ds.spread || !chart.isDatasetVisible(i)) return;
      chart.getDatasetMeta(i).data.forEach((bar, j) => {
        const s = ds.spread[j];
        if (!s || s.n < 2) return;
        const top = y.getPixelForValue(s.max), bottom = y.getPixelForValue(s.min), w = Math.min(8, bar.width / 3);
        ctx.save();
        ctx.strokeStyle = '#1d2330';
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(bar.x, top); ctx.lineTo(bar.x, bottom);
        ctx.moveTo(bar.x - w, top); ctx.lineTo(bar.x + w, top);
        ctx.moveTo(bar.x - w, bottom); ctx.lineTo(bar.x + w, bottom);
        ctx.stroke();
        ctx.restore();
      });
    });
  },
};

function renderEvalTask(e, task, rankers, why) {
  const box = document.getElementById(`eval-${task}`);
  const table = document.getElementById(`eval-${task}-table`);
  const k = e.k ?? 'K';
  if (!rankers) {
    table.replaceChildren(el('caption', { cls: 'error', text: why ?? `eval.json has no "${task}" figures for this scope.` }));
    charts.get(`eval-${task}-chart`)?.destroy();
    charts.delete(`eval-${task}-chart`);
    box.querySelector('figure').hidden = true;
    return;
  }
  box.querySelector('figure').hidden = false;
  const rows = rankers.map((r) => ({ ...r, fit: r.fit_seconds ?? e.fitSeconds[r.name] ?? null,
    rank: e.rankSeconds[r.name] ?? null, recall_spread: r.spread?.recall ?? null }));
  // Show a column only when some ranker has a value for it (repurchase has no coverage).
  const cols = EVAL_COLS.filter((c) => rows.some((r) => r[c.key] !== null && r[c.key] !== undefined));
  const head = el('tr', {}, el('th', { text: 'Ranker', attrs: { scope: 'col' } }),
    ...cols.map((c) => el('th', { text: c.label(k), attrs: { scope: 'col', 'data-key': c.key } })));
  const bestRow = Object.fromEntries(cols.filter((c) => c.best).map((c) => [c.key, argmax(rows.map((r) => r[c.key]))]));
  const tbody = el('tbody');
  rows.forEach((r, i) => {
    const name = el('th', { attrs: { scope: 'row' } }, el('span', { cls: 'ranker', text: r.name }));
    const tr = el('tr', {}, name);
    if (r.name === e.defaultRanker) {
      tr.classList.add('default');
      name.append(el('span', { cls: 'badge', text: 'default' }));
    }
    for (const c of cols) {
      const td = el('td', { text: c.fmt(r[c.key]), attrs: { 'data-key': c.key } });
      if (bestRow[c.key] === i) td.classList.add('best');
      tr.append(td);
    }
    tbody.append(tr);
  });
  table.replaceChildren(el('thead', {}, head), tbody);

  const metricCols = cols.filter((c) => c.chart);
  drawChart(`eval-${task}-chart`, {
    type: 'bar',
    data: {
      labels: rows.map((r) => (r.name === e.defaultRanker ? `${r.name} (default)` : r.name)),
      datasets: metricCols.map((c) => ({
        label: c.label(k), data: rows.map((r) => r[c.key]),
        backgroundColor: METRIC_COLORS[c.key], borderColor: METRIC_COLORS[c.key],
        spread: rows.map((r) => r.spread?.[c.key] ?? null),
      })),
    },
    options: baseOptions({ yTitle: 'score (higher is better)', yMin: 0 }),
    plugins: [errorBars],
  });
}

function renderIntervals(e) {
  const box = document.getElementById('eval-intervals');
  const table = document.getElementById('eval-intervals-table');
  box.hidden = e.intervals.length === 0;
  if (box.hidden) return;
  const cols = ['Task', 'Customers', 'Default', 'Best other ranker', 'Difference', '95% interval', 'Verdict', 'Customers resampled'];
  const tbody = el('tbody');
  for (const iv of e.intervals) {
    const verdict = iv.lo > 0 ? 'better' : iv.hi < 0 ? 'worse' : 'no difference';
    const sign = (x) => (x >= 0 ? `+${x.toFixed(4)}` : x.toFixed(4));
    const who = (n, v) => (v === null ? n ?? DASH : `${n} ${fmt4(v)}`);
    const tr = el('tr', { cls: verdict.replace(' ', '-') },
      el('th', { text: TASK_LABEL[iv.task] ?? iv.task, attrs: { scope: 'row' } }),
      ...[iv.group, who(iv.reference, iv.referenceValue), who(iv.baseline, iv.baselineValue), sign(iv.diff),
        `[${sign(iv.lo)}, ${sign(iv.hi)}]`, verdict, fmtCount(iv.customers)].map((t) => el('td', { text: t })));
    tbody.append(tr);
  }
  table.replaceChildren(el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', { text: c, attrs: { scope: 'col' } })))), tbody);
}

function renderTuning(e) {
  const box = document.getElementById('eval-tuning');
  const table = document.getElementById('eval-tuning-table');
  box.hidden = e.tuning.length === 0;
  if (box.hidden) return;
  const cols = ['Ranker', 'Task', 'Window', 'Affiliate', 'Params', 'Validation recall'];
  const tbody = el('tbody');
  for (const t of e.tuning) {
    tbody.append(el('tr', {}, el('th', { text: t.ranker ?? DASH, attrs: { scope: 'row' } }),
      ...[TASK_LABEL[t.task] ?? t.task ?? DASH, t.window ?? DASH, t.affiliate ?? DASH, t.params || DASH,
        fmt4(t.valRecall)].map((x) => el('td', { text: x }))));
  }
  table.replaceChildren(el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', { text: c, attrs: { scope: 'col' } })))), tbody);
}

function renderEval(e) {
  const windows = e.windows.length > 1
    ? `${e.windows.length} test windows${e.stepDays !== null ? ` of ${e.stepDays} days` : ''} from ${e.windows[0].cutoff} (mean over windows)`
    : null;
  const bits = [e.k !== null && `K = ${e.k}`, windows || (e.cutoff && `trained before ${e.cutoff}`),
    e.end && `tested up to ${e.end}`, e.valDays !== null && `tuned on ${e.valDays} validation days`,
    e.defaultRanker && `default ranker: ${e.defaultRanker}`].filter(Boolean);
  showBody('eval', bits.join('; ') + '.' + (e.note ? ` Note: ${e.note}.` : ''));

  const tasks = TASK_KEYS.map(([task, key]) => [task, e[key]]);
  const codes = [];
  for (const [, t] of tasks) {
    for (const a of t ? t.byAffiliate : []) if (!codes.includes(a.code)) codes.push(a.code);
  }
  const select = document.getElementById('eval-scope');
  select.replaceChildren(el('option', { text: 'All affiliates (overall)', attrs: { value: '' } }));
  for (const c of codes) {
    const o = el('option', { text: c });
    o.value = c;
    select.append(o);
  }
  select.parentElement.hidden = codes.length === 0;
  // Customer groups, when the file has them: by_affiliate figures are for every customer.
  const group = document.getElementById('eval-group');
  const hasGroups = tasks.some(([, t]) => t && (t.known || t.cold));
  group.value = '';
  group.parentElement.hidden = !hasGroups;
  for (const [task, t] of tasks) document.getElementById(`eval-${task}`).hidden = !t;

  const draw = () => {
    const scope = select.value, g = group.value;
    select.disabled = g !== '';
    for (const [task, t] of tasks) {
      if (!t) continue;
      let rankers = null, why;
      if (g !== '') rankers = t[g];
      else rankers = scope === '' ? t.overall : (t.byAffiliate.find((a) => a.code === scope)?.rankers ?? null);
      if (rankers && rankers.length && rankers.every((r) => r.users === 0)) {
        why = `There are no ${g || 'such'} customers in this task.`;
        rankers = null;
      }
      renderEvalTask(e, task, rankers, why);
    }
  };
  select.onchange = draw;
  group.onchange = () => {
    if (group.value !== '') select.value = '';
    draw();
  };
  draw();
  renderIntervals(e);
  renderTuning(e);
}

// ---- main ----------------------------------------------------------------------------------

async function main() {
  if (typeof window.Chart === 'function') {
    window.Chart.defaults.font.family = FONT;
    window.Chart.defaults.animation = false;
  }
  const urls = sourceUrls(location.href);
  document.getElementById('source').textContent = urls.base;
  const sections = [
    ['validate', 'validate.json', parseValidate, renderValidate],
    ['train', 'train.json', parseTrain, renderTrain],
    ['eval', 'eval.json', parseEval, renderEval],
  ];
  // Fetch in parallel, render in a fixed order (so affiliate colours are the same every time).
  const docs = await Promise.allSettled(sections.map(([id, name]) => loadJson(urls[id], name)));
  sections.forEach(([id, name, parse, render], i) => {
    try {
      if (docs[i].status === 'rejected') throw docs[i].reason;
      render(parse(docs[i].value, name));
    } catch (err) {
      console.error(err);
      showError(id, err);
    }
  });
  document.body.dataset.ready = '1';
}

main();
