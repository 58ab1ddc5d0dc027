// The report page's pure functions (web/report/model.js): shape checks and number formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_DATA, ShapeError, argmax, fmtCount, fmtFixed, fmtSeconds, mean,
  parseEval, parseTrain, parseValidate, sourceUrls,
} from '../report/model.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const load = (dir, file) => JSON.parse(readFileSync(join(fixtures, dir, file), 'utf8'));
const clone = (x) => JSON.parse(JSON.stringify(x));

test('parseValidate keeps the file order and the values', () => {
  const v = parseValidate(load('full', 'validate.json'));
  assert.equal(v.cutoff, '2021-10-01');
  assert.deepEqual(v.thresholds, [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]);
  assert.deepEqual(v.affiliates.map((a) => a.code), ['A01', 'A02', 'A03', 'A04', 'A05', 'A06']);
  assert.equal(v.affiliates[0].rate[6], 0.558);
  assert.equal(v.affiliates[4].rate[9], null);
  assert.equal(v.affiliates[0].hist.length, 21);
  assert.equal(v.histScores[5], 1.25);
});

test('parseValidate names the file and path of what is wrong', () => {
  const doc = load('full', 'validate.json');
  const bad = (mutate, message) => {
    const d = clone(doc);
    mutate(d);
    assert.throws(() => parseValidate(d), (e) => e instanceof ShapeError && e.message === message);
  };
  bad((d) => d.hist_scores.pop(), 'validate.json: affiliates["A01"].hist must have as many entries as hist_scores (20)');
  bad((d) => d.affiliates.A01.rate.pop(), 'validate.json: affiliates["A01"].rate must have 10 entries (has 9)');
  bad((d) => { d.affiliates.A02.rate[3] = '0.18'; }, 'validate.json: affiliates["A02"].rate[3] must be a number or null');
  bad((d) => { d.affiliates.A02.pairs[0] = null; }, 'validate.json: affiliates["A02"].pairs[0] must be a number');
  bad((d) => { delete d.thresholds; }, 'validate.json: thresholds must be an array');
  bad((d) => { d.affiliates = {}; }, 'validate.json: affiliates must not be empty');
  bad((d) => { d.affiliates.A03.hist_bought.pop(); }, 'validate.json: affiliates["A03"].hist_bought must have as many entries as hist (21)');
  assert.throws(() => parseValidate([1, 2]), /validate\.json: \(top level\) must be a JSON object/);
  // Optional parts may be absent.
  const d = clone(doc);
  for (const a of Object.values(d.affiliates)) { delete a.hist; delete a.hist_bought; delete a.bought; }
  delete d.cutoff;
  const v = parseValidate(d);
  assert.equal(v.cutoff, null);
  assert.equal(v.affiliates[0].hist, null);
});

test('parseEval reads both tasks, by affiliate, fit times and the default', () => {
  const e = parseEval(load('full', 'eval.json'));
  assert.equal(e.k, 20);
  assert.equal(e.defaultRanker, 'deep_rank');
  assert.deepEqual(e.newItems.overall.map((r) => r.name),
    ['popularity', 'popularity_segment', 'itemknn', 'ease', 'als', 'deep_score', 'deep_rank']);
  assert.deepEqual(e.newItems.overall[3], { name: 'ease', recall: 0.118, ndcg: 0.079, hit_rate: 0.66,
    coverage: 0.37, users: 21873, recall_rep: null, hit_rate_rep: null, recall_expl: null,
    hit_rate_expl: null, repeat_ratio: null, fit_seconds: null, spread: {} });
  assert.equal(e.mixed, null);
  assert.equal(e.newItems.known, null);
  assert.deepEqual(e.intervals, []);
  assert.deepEqual(e.windows, []);
  assert.equal(e.repurchase.overall.at(-1).hit_rate, null);
  assert.deepEqual(e.newItems.byAffiliate.map((a) => a.code), ['A01', 'A02', 'A03', 'A04', 'A05', 'A06']);
  assert.equal(e.fitSeconds.als, 12.7);
  assert.equal(e.rankSeconds.ease, 0.52);
  assert.throws(() => parseEval({ k: 20 }), /eval\.json: new_items is missing \(and so is repurchase\)/);
  assert.throws(() => parseEval(load('broken', 'eval.json')),
    /^ShapeError: eval\.json: new_items\.overall\["popularity"\]\.ndcg must be a number$/);
  assert.throws(() => parseEval({ repurchase: { overall: [] } }), /repurchase\.overall must be an object keyed by ranker name/);
});

test('parseEval reads windows, customer groups, the mixed list, intervals and tuning', () => {
  const doc = load('windows', 'eval.json');
  const e = parseEval(doc);
  assert.equal(e.windows.length, 3);
  assert.deepEqual(e.windows[0], { cutoff: '2021-10-03', end: '2021-11-02' });
  assert.equal(e.stepDays, 30);
  assert.equal(e.valDays, 30);
  const ease = e.mixed.overall.find((r) => r.name === 'ease');
  const m = doc.mixed.overall.ease;
  for (const k of ['recall', 'recall_rep', 'hit_rate_rep', 'recall_expl', 'hit_rate_expl', 'repeat_ratio']) {
    assert.equal(ease[k], m[k], k);
  }
  // the spread is the min and max of the per-window values
  assert.deepEqual(ease.spread.recall, { min: Math.min(...m.windows.recall), max: Math.max(...m.windows.recall), n: 3 });
  // a window without users (null) does not count
  const cold = e.newItems.cold.find((r) => r.name === 'pop');
  assert.equal(cold.spread.recall.n, doc.new_items.cold.pop.windows.recall.filter((x) => x !== null).length);
  assert.ok(e.repurchase.cold.every((r) => r.users === 0 && r.recall === null));
  // intervals: null entries (nothing to compare) are left out
  const n = Object.values(doc.intervals).flatMap((g) => Object.values(g)).filter((x) => x !== null).length;
  assert.equal(e.intervals.length, n);
  const iv = e.intervals.find((x) => x.task === 'new_items' && x.group === 'overall');
  assert.deepEqual([iv.reference, iv.baseline, iv.diff, iv.lo, iv.hi],
    ['blend_served', 'ease', doc.intervals.new_items.overall.diff, doc.intervals.new_items.overall.lo,
      doc.intervals.new_items.overall.hi]);
  assert.equal(e.tuning.length, 1);
  assert.equal(e.tuning[0].params.startsWith('lambda=500'), true);
  const bad = clone(doc);
  bad.intervals.mixed.known.lo = 'x';
  assert.throws(() => parseEval(bad), /eval\.json: intervals\.mixed\.known\.lo must be a number/);
  const bad2 = clone(doc);
  bad2.mixed.overall.ease.windows.recall[1] = 'x';
  assert.throws(() => parseEval(bad2), /eval\.json: mixed\.overall\["ease"\]\.windows\.recall\[1\] must be a number or null/);
});

test('parseTrain reads per-affiliate RMSE and epochs', () => {
  const t = parseTrain(load('full', 'train.json'));
  assert.equal(t.dim, 32);
  assert.deepEqual(t.affiliates.map((a) => a.code), ['A01', 'A02', 'A03', 'A04', 'A05', 'A06']);
  assert.equal(t.affiliates[0].rmse, 0.4176);
  assert.equal(t.affiliates[0].epochs.length, 12);
  assert.deepEqual(Object.keys(t.affiliates[0].epochs[0]), ['epoch', 'trainLoss', 'validRmse', 'seconds']);
  assert.throws(() => parseTrain({ affiliates: { A01: { rmse: 0.4 } } }), /train\.json: affiliates\["A01"\]\.epochs must be an array/);
  assert.throws(() => parseTrain({ affiliates: { A01: { epochs: [{ train_loss: 1 }] } } }),
    /train\.json: affiliates\["A01"\]\.epochs\[0\]\.epoch must be a number/);
});

test('number formats', () => {
  assert.equal(fmtFixed(0.7, 3), '0.700');
  assert.equal(fmtFixed(null, 3), '\u2013');
  assert.equal(fmtFixed(Number.NaN, 3), '\u2013');
  assert.equal(fmtCount(1187342), '1,187,342');
  assert.equal(fmtCount(0), '0');
  assert.equal(fmtSeconds(0.08), '0.080 s');
  assert.equal(fmtSeconds(6.4), '6.40 s');
  assert.equal(fmtSeconds(61.94), '61.9 s');
  assert.equal(fmtSeconds(1234.4), '1234 s');
  assert.equal(argmax([0.1, null, 0.3, 0.3, 0.2]), 2);
  assert.equal(argmax([null, undefined]), -1);
  assert.equal(mean([1, 2, null, 6]), 3);
  assert.equal(mean([]), null);
});

test('where the data comes from: data parameter, default, per-file overrides', () => {
  const page = 'http://127.0.0.1:8000/report/index.html'; // the site layout (scripts/site.sh)
  assert.equal(DEFAULT_DATA, 'data/');
  assert.deepEqual(sourceUrls(page), {
    base: 'http://127.0.0.1:8000/report/data/',
    validate: 'http://127.0.0.1:8000/report/data/validate.json',
    eval: 'http://127.0.0.1:8000/report/data/eval.json',
    train: 'http://127.0.0.1:8000/report/data/train.json',
  });
  const u = sourceUrls(`${page}?data=../out/run1&train=../models/train.json`);
  assert.equal(u.base, 'http://127.0.0.1:8000/out/run1/');
  assert.equal(u.validate, 'http://127.0.0.1:8000/out/run1/validate.json');
  assert.equal(u.train, 'http://127.0.0.1:8000/out/models/train.json');
});
