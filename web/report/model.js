// Pure functions of the report page: check the shape of the JSON the CLI writes and format
// numbers. No DOM here, so node tests can import it directly. Every check throws a
// ShapeError naming the file and the JSON path of what is wrong.

export class ShapeError extends Error {
  constructor(file, path, what) {
    super(`${file}: ${path} ${what}`);
    this.name = 'ShapeError';
  }
}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

function need(cond, file, path, what) {
  if (!cond) throw new ShapeError(file, path, what);
}

function numArray(file, path, v, n, { nulls = false } = {}) {
  need(Array.isArray(v), file, path, 'must be an array');
  if (n !== undefined) need(v.length === n, file, path, `must have ${n} entries (has ${v.length})`);
  v.forEach((x, i) => need(isNum(x) || (nulls && x === null), file, `${path}[${i}]`,
    nulls ? 'must be a number or null' : 'must be a number'));
  return v;
}

function optNum(file, path, v) {
  if (v === undefined || v === null) return null;
  need(isNum(v), file, path, 'must be a number');
  return v;
}

function optStr(file, path, v) {
  if (v === undefined || v === null) return null;
  need(typeof v === 'string', file, path, 'must be a string');
  return v;
}

/* validate.json (written by `prefrec validate --json`):
 * {"cutoff","end","thresholds":[10 numbers],"affiliates":{"A01":{"rate":[10 numbers|null],
 *  "pairs":[10 counts],"bought"?:[10],"hist"?:[bins],"hist_bought"?:[bins]}},
 *  "hist_scores"?:[the score of each histogram bin]}
 * Returns {cutoff, end, thresholds, affiliates: [{code, rate, pairs, bought, hist, histBought}]}
 * in the file's key order. */
export function parseValidate(doc, file = 'validate.json') {
  need(isObj(doc), file, '(top level)', 'must be a JSON object');
  const thresholds = numArray(file, 'thresholds', doc.thresholds);
  const n = thresholds.length;
  need(n > 0, file, 'thresholds', 'must not be empty');
  need(isObj(doc.affiliates), file, 'affiliates', 'must be an object keyed by affiliate code');
  const affiliates = Object.entries(doc.affiliates).map(([code, a]) => {
    const p = `affiliates[${JSON.stringify(code)}]`;
    need(isObj(a), file, p, 'must be an object');
    const out = {
      code,
      rate: numArray(file, `${p}.rate`, a.rate, n, { nulls: true }),
      pairs: numArray(file, `${p}.pairs`, a.pairs, n),
      bought: a.bought === undefined ? null : numArray(file, `${p}.bought`, a.bought, n),
      hist: a.hist === undefined ? null : numArray(file, `${p}.hist`, a.hist),
      histBought: a.hist_bought === undefined ? null : numArray(file, `${p}.hist_bought`, a.hist_bought),
    };
    if (out.hist && out.histBought) {
      need(out.hist.length === out.histBought.length, file, `${p}.hist_bought`,
        `must have as many entries as hist (${out.hist.length})`);
    }
    return out;
  });
  need(affiliates.length > 0, file, 'affiliates', 'must not be empty');
  const histScores = doc.hist_scores === undefined ? null : numArray(file, 'hist_scores', doc.hist_scores);
  if (histScores) {
    affiliates.forEach((a) => need(!a.hist || a.hist.length === histScores.length, file,
      `affiliates[${JSON.stringify(a.code)}].hist`, `must have as many entries as hist_scores (${histScores.length})`));
  }
  return {
    cutoff: optStr(file, 'cutoff', doc.cutoff),
    end: optStr(file, 'end', doc.end),
    thresholds,
    histScores,
    affiliates,
  };
}

const METRICS = ['recall', 'ndcg', 'hit_rate', 'coverage', 'users',
  'recall_rep', 'hit_rate_rep', 'recall_expl', 'hit_rate_expl', 'repeat_ratio'];
const SPREAD = ['recall', 'ndcg', 'hit_rate'];

/** min, max and count of the finite values (a null entry is a window without users). */
function range(values) {
  const v = values.filter(isNum);
  return v.length ? { min: Math.min(...v), max: Math.max(...v), n: v.length } : null;
}

function parseRankers(file, path, v) {
  need(isObj(v), file, path, 'must be an object keyed by ranker name');
  return Object.entries(v).map(([name, m]) => {
    const p = `${path}[${JSON.stringify(name)}]`;
    need(isObj(m), file, p, 'must be an object of metrics');
    const out = { name };
    for (const k of METRICS) out[k] = optNum(file, `${p}.${k}`, m[k]);
    out.fit_seconds = optNum(file, `${p}.fit_seconds`, m.fit_seconds);
    // Over several windows: the per-window values (null: no users that window) and their range.
    out.spread = {};
    if (m.windows !== undefined) {
      need(isObj(m.windows), file, `${p}.windows`, 'must be an object of per-window arrays');
      for (const k of SPREAD) {
        if (m.windows[k] === undefined) continue;
        out.spread[k] = range(numArray(file, `${p}.windows.${k}`, m.windows[k], undefined, { nulls: true }));
      }
    }
    return out;
  });
}

const GROUPS = ['known', 'cold'];

function parseTask(file, path, v) {
  need(isObj(v), file, path, 'must be an object with "overall" and "by_affiliate"');
  const overall = parseRankers(file, `${path}.overall`, v.overall);
  const groups = {};
  for (const g of GROUPS) groups[g] = v[g] === undefined ? null : parseRankers(file, `${path}.${g}`, v[g]);
  const byAffiliate = [];
  if (v.by_affiliate !== undefined) {
    need(isObj(v.by_affiliate), file, `${path}.by_affiliate`, 'must be an object keyed by affiliate code');
    for (const [code, r] of Object.entries(v.by_affiliate)) {
      byAffiliate.push({ code, rankers: parseRankers(file, `${path}.by_affiliate[${JSON.stringify(code)}]`, r) });
    }
  }
  return { overall, known: groups.known, cold: groups.cold, byAffiliate };
}

export const EVAL_TASKS = ['new_items', 'repurchase', 'mixed'];

function parseIntervals(file, v) {
  const out = [];
  if (v === undefined) return out;
  need(isObj(v), file, 'intervals', 'must be an object keyed by task');
  for (const [task, groups] of Object.entries(v)) {
    need(isObj(groups), file, `intervals.${task}`, 'must be an object keyed by customer group');
    for (const [group, iv] of Object.entries(groups)) {
      const p = `intervals.${task}.${group}`;
      if (iv === null) continue;
      need(isObj(iv), file, p, 'must be an object or null');
      for (const k of ['diff', 'lo', 'hi']) need(isNum(iv[k]), file, `${p}.${k}`, 'must be a number');
      out.push({
        task, group,
        reference: optStr(file, `${p}.default`, iv.default),
        baseline: optStr(file, `${p}.baseline`, iv.baseline),
        referenceValue: optNum(file, `${p}.default_value`, iv.default_value),
        baselineValue: optNum(file, `${p}.baseline_value`, iv.baseline_value),
        diff: iv.diff, lo: iv.lo, hi: iv.hi,
        customers: optNum(file, `${p}.customers`, iv.customers),
      });
    }
  }
  return out;
}

function parseTuning(file, v) {
  if (v === undefined) return [];
  need(Array.isArray(v), file, 'tuning', 'must be an array');
  return v.map((t, i) => {
    const p = `tuning[${i}]`;
    need(isObj(t), file, p, 'must be an object');
    return {
      ranker: optStr(file, `${p}.ranker`, t.ranker), task: optStr(file, `${p}.task`, t.task),
      window: optNum(file, `${p}.window`, t.window), affiliate: optStr(file, `${p}.affiliate`, t.affiliate),
      params: optStr(file, `${p}.params`, t.params), valRecall: optNum(file, `${p}.val_recall`, t.val_recall),
    };
  });
}

function parseWindows(file, v) {
  if (v === undefined) return [];
  need(Array.isArray(v), file, 'windows', 'must be an array');
  return v.map((w, i) => {
    need(isObj(w), file, `windows[${i}]`, 'must be an object');
    return { cutoff: optStr(file, `windows[${i}].cutoff`, w.cutoff), end: optStr(file, `windows[${i}].end`, w.end) };
  });
}

/* eval.json (written by `prefrec eval --json`; docs/eval.md):
 * {"k","cutoff","end","default","new_items":{"overall":{ranker:{recall,ndcg,hit_rate,coverage,
 *  users, windows?:{recall:[per window],...}}},"known"?:{...},"cold"?:{...},
 *  "by_affiliate":{code:{...}}},"repurchase":{same},"mixed"?:{same, plus recall_rep,
 *  hit_rate_rep, recall_expl, hit_rate_expl, repeat_ratio},"fit_seconds"?:{ranker: seconds},
 *  "rank_seconds"?:{ranker: seconds},"windows"?:[{cutoff,end}],"step_days"?,"val_days"?,
 *  "intervals"?:{task:{group:{default,baseline,diff,lo,hi,...}|null}},"tuning"?:[...]}
 * (times summed over affiliates and windows). A task may be absent (it is then null); new_items
 * or repurchase must be there. */
export function parseEval(doc, file = 'eval.json') {
  need(isObj(doc), file, '(top level)', 'must be a JSON object');
  const k = optNum(file, 'k', doc.k);
  const tasks = {};
  for (const t of EVAL_TASKS) {
    tasks[t] = doc[t] === undefined ? null : parseTask(file, t, doc[t]);
  }
  need(tasks.new_items || tasks.repurchase, file, 'new_items', 'is missing (and so is repurchase)');
  const seconds = (key) => {
    const out = {};
    if (doc[key] === undefined) return out;
    need(isObj(doc[key]), file, key, 'must be an object keyed by ranker name');
    for (const [name, s] of Object.entries(doc[key])) out[name] = optNum(file, `${key}[${JSON.stringify(name)}]`, s);
    return out;
  };
  return {
    k,
    cutoff: optStr(file, 'cutoff', doc.cutoff),
    end: optStr(file, 'end', doc.end),
    defaultRanker: optStr(file, 'default', doc.default),
    stepDays: optNum(file, 'step_days', doc.step_days),
    valDays: optNum(file, 'val_days', doc.val_days),
    note: optStr(file, 'note', doc.note),
    windows: parseWindows(file, doc.windows),
    newItems: tasks.new_items,
    repurchase: tasks.repurchase,
    mixed: tasks.mixed,
    fitSeconds: seconds('fit_seconds'),
    rankSeconds: seconds('rank_seconds'),
    intervals: parseIntervals(file, doc.intervals),
    tuning: parseTuning(file, doc.tuning),
  };
}

/* train.json (written by `prefrec train`; the shape is documented in web/report/README.md):
 * {"asof"?,"dim"?,"seed"?,"threads"?,"affiliates":{"A01":{"rmse","best_epoch"?,"train_pairs"?,
 *  "valid_pairs"?,"epochs":[{"epoch","train_loss","valid_rmse","seconds"?}]}}} */
export function parseTrain(doc, file = 'train.json') {
  need(isObj(doc), file, '(top level)', 'must be a JSON object');
  need(isObj(doc.affiliates), file, 'affiliates', 'must be an object keyed by affiliate code');
  const affiliates = Object.entries(doc.affiliates).map(([code, a]) => {
    const p = `affiliates[${JSON.stringify(code)}]`;
    need(isObj(a), file, p, 'must be an object');
    need(Array.isArray(a.epochs), file, `${p}.epochs`, 'must be an array');
    const epochs = a.epochs.map((e, i) => {
      const q = `${p}.epochs[${i}]`;
      need(isObj(e), file, q, 'must be an object');
      need(isNum(e.epoch), file, `${q}.epoch`, 'must be a number');
      return {
        epoch: e.epoch,
        trainLoss: optNum(file, `${q}.train_loss`, e.train_loss),
        validRmse: optNum(file, `${q}.valid_rmse`, e.valid_rmse),
        seconds: optNum(file, `${q}.seconds`, e.seconds),
      };
    });
    return {
      code,
      rmse: optNum(file, `${p}.rmse`, a.rmse),
      bestEpoch: optNum(file, `${p}.best_epoch`, a.best_epoch),
      trainPairs: optNum(file, `${p}.train_pairs`, a.train_pairs),
      validPairs: optNum(file, `${p}.valid_pairs`, a.valid_pairs),
      epochs,
    };
  });
  need(affiliates.length > 0, file, 'affiliates', 'must not be empty');
  return {
    asof: optStr(file, 'asof', doc.asof),
    dim: optNum(file, 'dim', doc.dim),
    seed: optNum(file, 'seed', doc.seed),
    threads: optNum(file, 'threads', doc.threads),
    affiliates,
  };
}

export const DASH = '\u2013';

/** A number with a fixed count of decimals; null/undefined/NaN as an en dash. */
export function fmtFixed(x, digits) {
  return isNum(x) ? x.toFixed(digits) : DASH;
}

/** An integer count with thousands separators (always en-US style, so tests are stable). */
export function fmtCount(x) {
  return isNum(x) ? Math.round(x).toLocaleString('en-US') : DASH;
}

/** Seconds: 3 significant-ish digits (0.080 s, 6.40 s, 61.9 s, 1234 s). */
export function fmtSeconds(x) {
  if (!isNum(x)) return DASH;
  if (x < 1) return `${x.toFixed(3)} s`;
  if (x < 10) return `${x.toFixed(2)} s`;
  if (x < 100) return `${x.toFixed(1)} s`;
  return `${x.toFixed(0)} s`;
}

/** Index of the largest finite value (first on ties), or -1. */
export function argmax(values) {
  let best = -1;
  values.forEach((v, i) => {
    if (isNum(v) && (best < 0 || v > values[best])) best = i;
  });
  return best;
}

/** Mean of the finite values, or null. */
export function mean(values) {
  const v = values.filter(isNum);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/** Where the report's files are: the `data` query parameter (a folder, relative to the page)
 * or the default, data/ beside the page (where scripts/site.sh --report puts them);
 * `validate`, `eval` and `train` parameters override single files. */
export const DEFAULT_DATA = 'data/';

export function sourceUrls(pageHref) {
  const page = new URL(pageHref);
  let data = page.searchParams.get('data') || DEFAULT_DATA;
  if (!data.endsWith('/')) data += '/';
  const base = new URL(data, page);
  const pick = (name) => new URL(page.searchParams.get(name) || `${name}.json`, base).href;
  return { base: base.href, validate: pick('validate'), eval: pick('eval'), train: pick('train') };
}
