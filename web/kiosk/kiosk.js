// kiosk.js - the in-store app: a member number (or anonymous: gender and age band), then the
// three plans, all computed on the device by the prefrec engine (WebAssembly):
//   plan 1  the store picked in proportion to the member's purchases per affiliate, its picks
//   plan 2  the customer chooses a store to subscribe to (the <prefrec-recommendations> widget)
//   plan 3  this month's stamp board for the plan-1 store: 5 categories x 5 products, stamps on
//           the products already bought
// Works offline after one load with the network on (sw.js caches the app, engine and packs).
// Query: ?models=DIR (default ../../models/: manifest.json + exported packs), &month=YYYY-MM
// (default this month: the seed of the plan-1 pick and the board's title), and the session
// (&member=ID or &gender=여성&age=30대), kept in the URL so a reload resumes it.
import { affiliateName, answer, engineFor, fetchManifest, isUnknownCustomer } from '../widget/engine.js';

const q = new URLSearchParams(location.search);
const models = new URL(q.get('models') || '../../models/', location.href).href;
const $ = (id) => document.getElementById(id);
const now = new Date();
const [year, month] = /^\d{4}-\d{2}$/.test(q.get('month') || '')
  ? q.get('month').split('-').map(Number) : [now.getFullYear(), now.getMonth() + 1];
const SEED = year * 100 + month; // the plan-1 pick is stable for the month
const K = 8;
let manifest = null;

const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
};

function notice(text) {
  $('notice').hidden = !text;
  $('notice').textContent = text || '';
}

function setState(state) {
  document.body.dataset.state = state;
}

/* ---- service worker: the offline copy ---- */
async function registerOffline() {
  if (!('serviceWorker' in navigator)) {
    $('net').textContent = '온라인 전용';
    return;
  }
  try {
    await navigator.serviceWorker.register(`sw.js?models=${encodeURIComponent(models)}`, { scope: './' });
  } catch (e) {
    $('net').textContent = '오프라인 불가';
    $('net').title = `Service worker: ${e.message}`;
    return;
  }
  const check = async () => {
    if (!manifest) return false;
    const name = `prefrec-kiosk-packs-${manifest.version}`;
    if (!(await caches.has(name))) return false; // caches.open would create it empty
    const c = await caches.open(name);
    const done = await c.match(new URL('__complete__', models).href);
    if (done) {
      document.body.dataset.offline = 'ready';
      $('net').textContent = '오프라인 준비됨';
      $('net').title = `Offline ready: packs version ${manifest.version}`;
    }
    return !!done;
  };
  navigator.serviceWorker.addEventListener('message', (ev) => {
    if (ev.data?.type === 'packs-cached') check();
  });
  for (let i = 0; i < 120 && !(await check()); i++) await new Promise((r) => setTimeout(r, 500));
}

/* ---- start screen ---- */
function startScreen() {
  document.body.dataset.screen = 'start';
  $('start').hidden = false;
  $('results').hidden = true;
  $('home').hidden = true;
  $('who').textContent = '';
  setState('start');
}

function session() {
  if (q.get('member')) return { customer: q.get('member') };
  if (q.get('gender') || q.get('age')) return { gender: q.get('gender') || null, age: q.get('age') || null };
  return null;
}

function go(s) {
  for (const k of ['member', 'gender', 'age']) q.delete(k);
  if (s?.customer) q.set('member', s.customer);
  if (s?.gender) q.set('gender', s.gender);
  if (s?.age) q.set('age', s.age);
  history.replaceState(null, '', `${location.pathname}?${q}`);
  return s ? show(s) : startScreen();
}

$('member-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const v = $('member').value.trim();
  if (!v) {
    notice('회원번호를 입력하세요. (Enter a member number.)');
    return;
  }
  go({ customer: v });
});
$('anon-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  go({ gender: f.get('gender'), age: f.get('age') });
});
for (const b of document.querySelectorAll('.keypad button')) {
  b.addEventListener('click', () => {
    const i = $('member');
    i.value = b.dataset.key === 'back' ? i.value.slice(0, -1) : i.value + b.dataset.key;
  });
}
$('home').addEventListener('click', () => {
  notice('');
  $('member').value = '';
  go(null);
});

/* ---- tabs ---- */
const tabs = [...document.querySelectorAll('[role=tab]')];
function selectTab(t) {
  for (const x of tabs) {
    const on = x === t;
    x.setAttribute('aria-selected', String(on));
    x.tabIndex = on ? 0 : -1;
    $(x.getAttribute('aria-controls')).hidden = !on;
  }
}
tabs.forEach((t, i) => {
  t.addEventListener('click', () => selectTab(t));
  t.addEventListener('keydown', (ev) => {
    const d = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
    if (!d) return;
    const n = tabs[(i + d + tabs.length) % tabs.length];
    selectTab(n);
    n.focus();
  });
});

/* ---- results ---- */
function widgetSetup(w, s, affiliate, extra = {}) {
  w.setAttribute('pack', `${manifest.base}{affiliate}.item.pack`);
  w.setAttribute('shards', String(manifest.affiliates[0].shards));
  w.setAttribute('version', manifest.version);
  w.setAttribute('affiliate', affiliate);
  for (const k of ['customer', 'gender', 'age']) {
    if (s[k]) w.setAttribute(k, s[k]);
    else w.removeAttribute(k);
  }
  for (const [k, v] of Object.entries(extra)) w.setAttribute(k, v);
}

function shares(weights, picked) {
  const total = Object.values(weights).reduce((a, b) => a + b, 0) || 1;
  $('shares').replaceChildren(...Object.entries(weights).map(([a, w]) => {
    const bar = el('span', { class: 'fill' });
    bar.style.width = `${(100 * w / total).toFixed(1)}%`;
    return el('div', { class: `share${a === picked ? ' picked' : ''}`, 'data-affiliate': a },
      el('span', { class: 'label', text: affiliateName(a) }),
      el('span', { class: 'track' }, bar),
      el('span', { class: 'pct', text: `${Math.round(100 * w / total)}%` }));
  }));
}

function board(res, fallback) {
  const cols = res.board.map((c) => el('section', { class: 'column', 'aria-label': c.category },
    el('h3', { text: c.category }),
    el('ol', {}, ...c.items.map((it) => {
      const li = el('li', { class: `tile${it.bought ? ' stamped' : ''}`, 'data-code': it.code },
        el('span', { class: 'name', text: it.name }),
        el('span', { class: 'sub', text: it.subcategory }));
      if (it.bought) li.append(el('span', { class: 'stamp', 'aria-label': '스탬프 Stamped', text: '★' }));
      return li;
    }))));
  $('board').replaceChildren(...cols);
  const n = res.board.reduce((a, c) => a + c.items.filter((i) => i.bought).length, 0);
  const all = res.board.reduce((a, c) => a + c.items.length, 0);
  $('stamp-title').textContent = `${month}월 스탬프 미션 · ${affiliateName(res.affiliate)}`;
  $('stamp-lede').textContent = `스탬프 ${n} / ${all}: 카테고리마다 다섯 상품 중 구매한 상품에 스탬프가 찍혀요.` +
    (fallback ? ' (회원 정보가 없어 인기 상품으로 만든 보드예요.)' : '');
  $('board').dataset.stamps = String(n);
}

async function show(s) {
  document.body.dataset.screen = 'results';
  $('start').hidden = true;
  $('results').hidden = false;
  $('home').hidden = false;
  setState('loading');
  notice('');
  selectTab(tabs[0]);
  $('who').textContent = s.customer ? `회원 ${s.customer} 님` : `비회원 · ${s.gender || ''} ${s.age || ''}`;
  try {
    if (!manifest) throw new Error('모델 팩 목록(manifest.json)을 읽지 못했어요.');
    const affs = manifest.affiliates.map((a) => a.affiliate);
    const pr = await engineFor(manifest.affiliates.map((a) => ({
      item: new URL(a.item, manifest.base).href, shards: s.customer ? a.shards : 0, customer: s.customer, version: manifest.version,
    })));
    const who = s.customer ? { customer: s.customer } : { gender: s.gender, age: s.age };
    // plan 1: members by their purchases per affiliate; everyone else by each store's customers
    const byCustomers = Object.fromEntries(manifest.affiliates.map((a) => [a.affiliate, a.customers || 0]));
    let r = null, seg = s;
    try {
      r = pr.planRatio({ ...who, seed: SEED, k: K, ...(s.customer ? {} : { weights: byCustomers }) }).ratio;
    } catch (e) {
      if (!s.customer || !isUnknownCustomer(e)) throw e; // a member no pack knows
    }
    if (s.customer && (!r || r.fallback)) {
      notice(`회원번호 ${s.customer}를 찾을 수 없어요: 모든 고객에게 인기 있는 상품을 보여 드려요. (Unknown member: popular products.)`);
      seg = {};
      r = pr.planRatio({ seed: SEED, weights: byCustomers }).ratio;
    }
    const picked = r.picked;
    $('ratio-title').textContent = `${affiliateName(picked)} 추천 · ${affiliateName(picked, 'en')}`;
    $('ratio-lede').textContent = s.customer && seg === s
      ? `${month}월의 매장: 회원님의 매장별 구매 비중에 따라 골랐어요.`
      : `${month}월의 매장: 매장별 고객 수에 따라 골랐어요 (구매 기록 없음).`;
    shares(r.weights, picked);
    $('plan-ratio').dataset.affiliate = picked;
    widgetSetup($('ratio-widget'), seg, picked);
    widgetSetup($('sub-widget'), seg, q.get('subscribe') && affs.includes(q.get('subscribe')) ? q.get('subscribe') : picked,
      { affiliates: affs.join(' ') });
    const st = answer(pr, { plan: 'stamp', affiliate: picked, ...(seg.customer ? { customer: seg.customer } : { gender: seg.gender, age: seg.age }) });
    board(st.res, st.fallback);
    await Promise.resolve(); // the widgets re-render in a microtask queued by setAttribute
    await Promise.all(['ratio-widget', 'sub-widget'].map((id) => new Promise((ok) => {
      const w = $(id);
      if (['ready', 'error'].includes(w.getAttribute('state'))) return ok();
      const done = () => { w.removeEventListener('prefrec-ready', done); w.removeEventListener('prefrec-error', done); ok(); };
      w.addEventListener('prefrec-ready', done);
      w.addEventListener('prefrec-error', done);
    })));
    setState('ready');
  } catch (e) {
    notice(`추천을 불러오지 못했어요 (${e.message}).`);
    setState('error');
  }
}

$('sub-widget').addEventListener('prefrec-subscribe', (ev) => {
  q.set('subscribe', ev.detail.affiliate);
  history.replaceState(null, '', `${location.pathname}?${q}`);
});

async function start() {
  try {
    manifest = await fetchManifest(models, location.href);
    for (const c of manifest.examples.slice(0, 4)) {
      const b = el('button', { type: 'button', class: 'chip', text: c });
      b.addEventListener('click', () => { $('member').value = c; });
      $('examples').append(b);
    }
  } catch (e) {
    notice(`모델 팩을 찾을 수 없어요: ${e.message}`);
    setState('error');
  }
  registerOffline();
  const s = session();
  if (manifest && s) await show(s);
  else if (manifest) startScreen();
}
start();
