// The message catalogues (web/i18n/<lang>.json): every key in both languages, plural entries
// with an "other" form, placeholders the same in both; reasonText for each reason kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { LANGS, loadCatalog, message, reasonText } from '../i18n/i18n.js';

const holes = (m) => [...new Set([...JSON.stringify(m).matchAll(/\{(\w+)\}/g)].map((x) => x[1]))].sort().join();

test('every message key exists in both catalogues, with the same placeholders', async () => {
  const [ko, en] = await Promise.all(LANGS.map((l) => loadCatalog(l)));
  assert.equal(ko.$lang, 'ko');
  assert.equal(en.$lang, 'en');
  assert.deepEqual(Object.keys(ko).sort(), Object.keys(en).sort());
  for (const k of Object.keys(en).filter((x) => !x.startsWith('$'))) {
    assert.equal(holes(ko[k]), holes(en[k]), k);
    if (typeof en[k] == 'object') assert.ok(en[k].other && ko[k].other, `${k}: an "other" form`);
  }
});

test('each reason kind in Korean and English', async () => {
  const ko = await loadCatalog('ko-KR'), en = await loadCatalog('en-GB');
  const items = [
    { reason_kind: 'bought_with', reason_product: 'PD1', reason_product_name: '바나나' },
    { reason_kind: 'category', reason_category: '과일' },
    { reason_kind: 'segment' },
    { reason_kind: 'predicted' },
    { reason_kind: 'repeat', every_days: 9, days_since: 11, days_bought: 4 },
    { reason_kind: 'repeat', every_days: 0, days_since: 1, days_bought: 1 },
    { reason_kind: 'repeat', every_days: 1, days_since: 1234, days_bought: 2 },
  ];
  assert.deepEqual(items.map((it) => reasonText(ko, it)), [
    '바나나와(과) 함께 자주 구매해요', '과일 상품을 자주 구매하셨어요', '비슷한 고객에게 인기 있어요',
    '좋아하실 것으로 예상돼요', '보통 9일마다 구매 · 마지막 구매 11일 전', '1일 전에 구매했어요',
    '보통 1일마다 구매 · 마지막 구매 1,234일 전']);
  assert.deepEqual(items.map((it) => reasonText(en, it)), [
    'Often bought with 바나나', 'You often buy 과일', 'Popular with customers like you',
    'High predicted preference', 'You buy this about every 9 days; last bought 11 days ago',
    'You bought this 1 day ago', 'You buy this about every 1 day; last bought 1,234 days ago']);
  assert.equal((await loadCatalog('fr')).$lang, 'en'); // no catalogue: English
  assert.throws(() => message(en, 'no.such.key'), /no message "no.such.key" in en/);
});
