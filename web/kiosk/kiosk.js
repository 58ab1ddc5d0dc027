// kiosk.js - the in-store app: a member proves who they are with their card (the QR payload
// PRM1:<code>:<32 hex token>, typed by the scanner) or, where the records are PIN records, their
// member number and PIN; or shops anonymously (gender and age band). Then the three plans and,
// for a member, their buy-again list beside them, all computed on the device by the prefrec
// engine (WebAssembly):
//   plan 1  the store picked in proportion to the member's purchases per affiliate, its picks
//   plan 2  the customer chooses a store to subscribe to (the <prefrec-recommendations> widget)
//   plan 3  this month's stamp board for the plan-1 store: 5 categories x 5 products, stamps on
//           the products already bought
//   다시 구매  the member's own products at the plan-1 store, most due first
// A member's state is their sealed record from the kiosk's records directory (prefrec export
// --records: export.json + <kid>.rec; the kiosk's own disk, served by its local server, never the
// public site): kid = HMAC(naming key, code) names the file, the card token opens it. A member
// number alone opens nothing. 5 failed sign-ins for one member lock that member out for 30 s,
// doubling with each further failure (kept in localStorage, so a reload does not reset it).
// The engine holds a member's state only while it answers (withMember); "Sign out", or 2 minutes
// without a touch, forgets the member's record and token.
// Works offline after one load with the network on (sw.js caches the app, engine, packs and the
// records listed in records.json).
// Language: Korean first, English on the 한국어 / English switch in the bar; the choice is kept in
// localStorage and the URL (&lang=ko|en) and is every text's: the page's (data-i18n keys), the
// notices, the widgets' (their lang attribute). The words are the catalogues' (web/i18n).
// Query: ?models=DIR (default ../../models/: manifest.json + item packs), &records=DIR (default
// /kiosk-records/), &month=YYYY-MM (default this month: the seed of the plan-1 pick and the
// board's title), and an anonymous session (&gender=여성&age=30대), kept in the URL so a reload
// resumes it (a member's session never is).
import { PrefRec } from '../prefrec.js';
import { affiliateName, engineFor, fetchManifest, prepareEngine, withMember } from '../widget/engine.js';
import { LANGS, loadCatalog, message } from '../i18n/i18n.js';

const q = new URLSearchParams(location.search);
const models = new URL(q.get('models') || '../../models/', location.href).href;
const records = new URL(q.get('records') || '/kiosk-records/', location.href).href;
const $ = (id) => document.getElementById(id);
const now = new Date();
const [year, month] = /^\d{4}-\d{2}$/.test(q.get('month') || '')
  ? q.get('month').split('-').map(Number) : [now.getFullYear(), now.getMonth() + 1];
const SEED = year * 100 + month; // the plan-1 pick is stable for the month
const K = 8;
const LOCK_AFTER = 5, LOCK_MS = 30000, LOCK_MAX_MS = 24 * 3600 * 1000, IDLE_MS = 120000;
const LOCKS = 'prefrec-kiosk-locks', LANG = 'prefrec-kiosk-lang';
const WIDGETS = ['ratio-widget', 'sub-widget', 'again-widget'];
let manifest = null;
let cat = null; // the message catalogue of the language shown
const shown = new Map(); // element id -> () => its text in the language shown (redrawn on a switch)
let current = null; // the session shown: {member, code} or {gender, age}
let idle = 0;

const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
};

/** The message `key` in the language shown. */
const t = (key, args) => message(cat, key, args);

/** Show text made by fn() in the element `id`, and again in the new language after a switch. */
function say(id, fn) {
  if (fn) shown.set(id, fn);
  else shown.delete(id);
  $(id).textContent = fn ? fn() : '';
}

function notice(fn) {
  $('notice').hidden = !fn;
  say('notice', fn || null);
}

/* ---- language ---- */
function storedLang() {
  try {
    return localStorage.getItem(LANG);
  } catch {
    return null;
  }
}

/** Show every text in `lang` (ko or en): the page's data-i18n keys, the texts shown (say), the
 * widgets; kept in localStorage and the URL. */
async function setLang(lang) {
  const l = LANGS.includes(lang) ? lang : 'ko';
  cat = await loadCatalog(l);
  document.documentElement.lang = l;
  for (const e of document.querySelectorAll('[data-i18n]')) {
    e.textContent = t(e.dataset.i18n, { decade: Number(e.dataset.i18nDecade) });
  }
  for (const a of ['aria-label', 'title']) {
    for (const e of document.querySelectorAll(`[data-i18n-${a}]`)) e.setAttribute(a, t(e.getAttribute(`data-i18n-${a}`)));
  }
  for (const b of document.querySelectorAll('#lang button')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === l));
    b.textContent = (await loadCatalog(b.dataset.lang)).$name;
  }
  for (const id of WIDGETS) $(id).setAttribute('lang', l);
  for (const [id, fn] of shown) $(id).textContent = fn();
  try {
    localStorage.setItem(LANG, l);
  } catch { /* private mode: the URL keeps it */ }
  q.set('lang', l);
  history.replaceState(null, '', `${location.pathname}?${q}`);
  document.body.dataset.lang = l;
}
for (const b of document.querySelectorAll('#lang button')) b.addEventListener('click', () => setLang(b.dataset.lang));

function setState(state) {
  document.body.dataset.state = state;
}

/* ---- service worker: the offline copy ---- */
async function registerOffline() {
  if (!('serviceWorker' in navigator)) {
    say('net', () => t('kiosk.net.online_only'));
    return;
  }
  try {
    await navigator.serviceWorker.register(`sw.js?models=${encodeURIComponent(models)}&records=${encodeURIComponent(records)}`,
      { scope: './' });
  } catch (e) {
    say('net', () => t('kiosk.net.no_offline'));
    $('net').title = `Service worker: ${e.message}`;
    return;
  }
  const complete = async (name, mark) => (await caches.has(name)) && !!(await (await caches.open(name)).match(mark));
  const check = async () => {
    if (!manifest) return false;
    const packs = await complete(`prefrec-kiosk-packs-${manifest.version}`, new URL('__complete__', models).href);
    const ex = await recordsExport().catch(() => null);
    const recs = !ex || await complete(`prefrec-kiosk-records-${ex.export_id}`, new URL('__complete__', records).href);
    if (packs && recs) {
      document.body.dataset.offline = 'ready';
      say('net', () => t('kiosk.net.ready'));
      $('net').title = `Offline ready: packs version ${manifest.version}${ex ? `, member records of export ${ex.export_id}` : ''}`;
    }
    return packs && recs;
  };
  navigator.serviceWorker.addEventListener('message', (ev) => {
    if (/-cached$/.test(ev.data?.type || '')) check();
  });
  for (let i = 0; i < 120 && !(await check()); i++) await new Promise((r) => setTimeout(r, 500));
}

/* ---- member records and the lockout ---- */
let exportInfo = null;
/** The records directory's export.json: {export_id, naming_key, kind} (fetched once per page). */
async function recordsExport() {
  exportInfo ||= (async () => {
    const url = new URL('export.json', records);
    const r = await fetch(url, { cache: 'no-cache' });
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    const e = await r.json();
    if (e.format !== 'prefrec-records' || !/^[0-9a-f]{32}$/.test(e.export_id) || !/^[0-9a-f]{64}$/.test(e.naming_key)) {
      throw new Error(`${url}: not a prefrec records export`);
    }
    return e;
  })();
  exportInfo.catch(() => { exportInfo = null; });
  return exportInfo;
}

const hex = (b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

function locks() {
  try {
    return JSON.parse(localStorage.getItem(LOCKS) || '{}') || {};
  } catch {
    return {};
  }
}

/** Seconds this member key id is still locked for (0: not locked). */
function lockedFor(kid) {
  const l = locks()[kid];
  return l?.until > Date.now() ? Math.ceil((l.until - Date.now()) / 1000) : 0;
}

/** Count a failed sign-in; returns {fails, lockedFor}. 5 failures lock for 30 s, each further
 * failure doubles it (at most a day). */
function failed(kid) {
  const all = locks();
  const l = all[kid] || { fails: 0, until: 0 };
  l.fails++;
  if (l.fails >= LOCK_AFTER) l.until = Date.now() + Math.min(LOCK_MS * 2 ** (l.fails - LOCK_AFTER), LOCK_MAX_MS);
  all[kid] = l;
  localStorage.setItem(LOCKS, JSON.stringify(all));
  return { fails: l.fails, lockedFor: lockedFor(kid) };
}

function succeeded(kid) {
  const all = locks();
  delete all[kid];
  localStorage.setItem(LOCKS, JSON.stringify(all));
}

const lockText = (s) => () => t('kiosk.lock', { n: s, fails: LOCK_AFTER });

/** Sign a member in: {code, token} (card) or {code, pin}. Shows their plans, or says why not. */
async function signIn(cred) {
  notice(null);
  setState('signing-in');
  try {
    if (!manifest) throw new Error(t('kiosk.error.manifest'));
    const ex = await recordsExport();
    const kid = hex(await PrefRec.memberKid(ex.naming_key, cred.code));
    const wait = lockedFor(kid);
    if (wait) {
      notice(lockText(wait));
      setState('locked');
      return;
    }
    const refuse = () => {
      const f = failed(kid);
      notice(f.lockedFor ? lockText(f.lockedFor)
        : () => `${t(cred.pin != null ? 'kiosk.refused.pin' : 'kiosk.refused.card')} ${t('kiosk.refused.left', { n: LOCK_AFTER - f.fails })}`);
      setState(f.lockedFor ? 'locked' : 'refused');
    };
    const r = await fetch(new URL(`${kid}.rec`, records));
    if (r.status === 404) return refuse(); // the same answer as a wrong secret: no membership oracle
    if (!r.ok) throw new Error(`${kid}.rec: HTTP ${r.status}`);
    const record = new Uint8Array(await r.arrayBuffer());
    const member = cred.pin != null ? { record, pin: cred.pin, kid } : { record, token: cred.token, kid };
    const pr = await engineFor(sources());
    try {
      withMember(pr, member, () => {}); // opens and wipes it again: the record is theirs
    } catch (e) {
      if (!e.member) throw e;
      if (e.status === 'cannot open') return refuse();
      if (e.status === 'other export') {
        notice(() => t('kiosk.error.other_export'));
      } else notice(() => t('kiosk.error.record', { why: e.message }));
      setState('refused');
      return;
    }
    succeeded(kid);
    await show({ member, code: cred.code });
  } catch (e) {
    notice(() => t('kiosk.error.sign_in', { why: e.message }));
    setState('error');
  }
}

/** Forget the member (the engine holds their state only while it answers a request). */
function signOut(why = null) {
  const s = current;
  current = null;
  clearTimeout(idle);
  for (const id of WIDGETS) $(id).setMember(null);
  s?.member?.record.fill(0);
  $('card').value = '';
  $('member').value = '';
  $('pin').value = '';
  go(null);
  notice(why);
}

function touch() {
  clearTimeout(idle);
  if (current?.member) idle = setTimeout(() => signOut(() => t('kiosk.idle', { n: IDLE_MS / 60000 })), IDLE_MS);
}
for (const t of ['pointerdown', 'keydown']) document.addEventListener(t, touch, { passive: true });

/* ---- start screen ---- */
function startScreen() {
  document.body.dataset.screen = 'start';
  $('start').hidden = false;
  $('results').hidden = true;
  $('home').hidden = true;
  $('sign-out').hidden = true;
  say('who', null);
  setState('start');
}

function session() {
  if (q.get('gender') || q.get('age')) return { gender: q.get('gender') || null, age: q.get('age') || null };
  return null;
}

function go(s) {
  for (const k of ['member', 'gender', 'age']) q.delete(k);
  if (s?.gender) q.set('gender', s.gender);
  if (s?.age) q.set('age', s.age);
  history.replaceState(null, '', `${location.pathname}?${q}`);
  return s ? show(s) : startScreen();
}

const CARD = /^PRM1:([^:\s]{1,64}):([0-9a-fA-F]{32})$/;
$('card-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const m = CARD.exec($('card').value.trim());
  $('card').value = '';
  if (!m) {
    notice(() => t('kiosk.card.bad'));
    return;
  }
  signIn({ code: m[1], token: m[2].toLowerCase() });
});
$('pin-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const code = $('member').value.trim(), pin = $('pin').value;
  $('pin').value = '';
  if (!code || !pin) {
    notice(() => t('kiosk.pin.missing'));
    return;
  }
  signIn({ code, pin });
});
$('anon-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  go({ gender: f.get('gender'), age: f.get('age') });
});
let keyTarget = $('member');
for (const id of ['member', 'pin']) $(id).addEventListener('focus', () => { keyTarget = $(id); });
for (const b of document.querySelectorAll('.keypad button')) {
  b.addEventListener('click', () => {
    const i = keyTarget;
    i.value = b.dataset.key === 'back' ? i.value.slice(0, -1) : i.value + b.dataset.key;
  });
}
$('home').addEventListener('click', () => {
  notice(null);
  go(null);
});
$('sign-out').addEventListener('click', () => signOut());

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
const sources = () => manifest.affiliates.map((a) => ({ item: new URL(a.item, manifest.base).href, version: manifest.version,
  integrity: a.integrity }));

function widgetSetup(w, s, affiliate, extra = {}) {
  w.setAttribute('pack', `${manifest.base}{affiliate}.item.pack`);
  w.setAttribute('version', manifest.version);
  w.setAttribute('affiliate', affiliate);
  for (const k of ['gender', 'age']) {
    if (!s.member && s[k]) w.setAttribute(k, s[k]);
    else w.removeAttribute(k);
  }
  for (const [k, v] of Object.entries(extra)) w.setAttribute(k, v);
  w.setMember(s.member || null);
}

function shares(weights, picked) {
  const total = Object.values(weights).reduce((a, b) => a + b, 0) || 1;
  $('shares').replaceChildren(...Object.entries(weights).map(([a, w]) => {
    const bar = el('span', { class: 'fill' });
    bar.style.width = `${(100 * w / total).toFixed(1)}%`;
    return el('div', { class: `share${a === picked ? ' picked' : ''}`, 'data-affiliate': a },
      el('span', { class: 'label', 'data-i18n': `affiliate.${a}`, text: affiliateName(a, cat) }),
      el('span', { class: 'track' }, bar),
      el('span', { class: 'pct', text: `${Math.round(100 * w / total)}%` }));
  }));
}

/** The month served, in the language shown ("12월", "December"). */
const monthName = () => new Intl.DateTimeFormat(cat.$lang, { month: 'long', timeZone: 'UTC' }).format(Date.UTC(year, month - 1, 1));

function board(res, member) {
  const cols = res.board.map((c) => el('section', { class: 'column', 'aria-label': c.category },
    el('h3', { text: c.category }),
    el('ol', {}, ...c.items.map((it) => {
      const li = el('li', { class: `tile${it.bought ? ' stamped' : ''}`, 'data-code': it.code, title: it.name },
        el('span', { class: 'name', text: it.name }),
        el('span', { class: 'sub', text: it.subcategory }));
      if (it.bought) li.append(el('span', { class: 'stamp', 'data-i18n-aria-label': 'kiosk.stamp.stamped', 'aria-label': t('kiosk.stamp.stamped'), text: '★' }));
      return li;
    }))));
  $('board').replaceChildren(...cols);
  const n = res.board.reduce((a, c) => a + c.items.filter((i) => i.bought).length, 0);
  const all = res.board.reduce((a, c) => a + c.items.length, 0);
  say('stamp-title', () => t('kiosk.stamp.title', { month: monthName(), store: affiliateName(res.affiliate, cat) }));
  say('stamp-lede', () => t('kiosk.stamp.lede', { n, all }) + (member ? '' : t('kiosk.stamp.popular')));
  $('board').dataset.stamps = String(n);
}

function widgetsDone(ids) {
  return Promise.all(ids.map((id) => new Promise((ok) => {
    const w = $(id);
    if (['ready', 'error'].includes(w.getAttribute('state'))) return ok();
    const done = () => { w.removeEventListener('prefrec-ready', done); w.removeEventListener('prefrec-error', done); ok(); };
    w.addEventListener('prefrec-ready', done);
    w.addEventListener('prefrec-error', done);
  })));
}

/** The segment's values are the data's ("여성", "30대"); shown in the language shown. */
const genderName = (g) => ({ 여성: t('kiosk.gender.F'), 남성: t('kiosk.gender.M') }[g] ?? g ?? '');
const ageName = (a) => (/^\d+대$/.test(a || '') ? t('kiosk.age', { decade: parseInt(a, 10) }) : a ?? '');

async function show(s) {
  current = s;
  document.body.dataset.screen = 'results';
  $('start').hidden = true;
  $('results').hidden = false;
  $('home').hidden = !!s.member;
  $('sign-out').hidden = !s.member;
  $('again').hidden = !s.member;
  setState('loading');
  notice(null);
  selectTab(tabs[0]);
  touch();
  say('who', () => (s.member ? t('kiosk.who.member', { code: s.code })
    : t('kiosk.who.guest', { gender: genderName(s.gender), age: ageName(s.age) })));
  try {
    if (!manifest) throw new Error(t('kiosk.error.manifest'));
    const affs = manifest.affiliates.map((a) => a.affiliate);
    const pr = await engineFor(sources());
    // plan 1: a member by their purchases per affiliate; anyone else by each store's customers
    // where the manifest counts them, else every store alike (public packs count no members)
    const counts = Object.fromEntries(manifest.affiliates.map((a) => [a.affiliate, a.customers || 0]));
    const alike = Object.values(counts).some((c) => c > 0) ? counts : Object.fromEntries(affs.map((a) => [a, 1]));
    let r = withMember(pr, s.member, () => pr.planRatio(s.member ? { seed: SEED, k: K }
      : { gender: s.gender, age: s.age, seed: SEED, k: K, weights: alike })).ratio;
    let byMember = !!s.member;
    if (s.member && r.fallback) { // a member with no purchases in any loaded store
      byMember = false;
      r = pr.planRatio({ seed: SEED, k: K, weights: alike }).ratio;
    }
    const picked = r.picked;
    say('ratio-title', () => t('kiosk.ratio.title', { store: affiliateName(picked, cat) }));
    const lede = byMember ? 'kiosk.ratio.member' : alike === counts ? 'kiosk.ratio.customers' : 'kiosk.ratio.alike';
    say('ratio-lede', () => t(lede, { month: monthName() }));
    shares(r.weights, picked);
    $('plan-ratio').dataset.affiliate = picked;
    widgetSetup($('ratio-widget'), s, picked);
    widgetSetup($('sub-widget'), s, q.get('subscribe') && affs.includes(q.get('subscribe')) ? q.get('subscribe') : picked,
      { affiliates: affs.join(' ') });
    const ids = ['ratio-widget', 'sub-widget'];
    if (s.member) {
      widgetSetup($('again-widget'), s, picked);
      ids.push('again-widget');
    }
    board(withMember(pr, s.member, () => pr.planStamp(s.member ? { affiliate: picked }
      : { affiliate: picked, gender: s.gender, age: s.age })), !!s.member);
    await Promise.resolve(); // the widgets re-render in a microtask queued by setAttribute
    await widgetsDone(ids);
    if (current === s) setState('ready');
  } catch (e) {
    notice(() => t('kiosk.error.recs', { why: e.message }));
    setState('error');
  }
}

$('sub-widget').addEventListener('prefrec-subscribe', (ev) => {
  q.set('subscribe', ev.detail.affiliate);
  history.replaceState(null, '', `${location.pathname}?${q}`);
});

async function start() {
  prepareEngine(); // the engine compiles while the messages and the manifest arrive
  await setLang(q.get('lang') || storedLang() || 'ko');
  try {
    manifest = await fetchManifest(models, location.href);
  } catch (e) {
    notice(() => t('kiosk.error.packs', { why: e.message }));
    setState('error');
  }
  registerOffline();
  recordsExport().then((ex) => { $('pin-form').hidden = ex.kind !== 'pin'; }, () => {});
  const s = session();
  if (manifest && s) await show(s);
  else if (manifest) {
    startScreen();
    if (q.get('member')) {
      // an old link or a typed URL: a member number alone shows nothing of that member
      notice(() => t('kiosk.member_only'));
      q.delete('member');
      history.replaceState(null, '', `${location.pathname}?${q}`);
    }
  }
}
start();
