// shop.js - the demo storefront: wires <prefrec-recommendations> to the models folder and to the
// demo backend (web/server/demo.mjs), as a shop wires it to its own login:
//   signed in   the widgets get record-url = the backend's record URL (the member's own sealed
//               record and its key, for this session only): "buy again" and "discover" lists
//   anonymous   no record-url: the popular products (segment), and no buy-again panel
// The demo's sign-in is the member's card (code + card token, or the card's QR payload
// PRM1:<code>:<token>): a member number alone signs nobody in.
// Language: ?lang=ko|en (default the page's <html lang>, ko), switched by the 한국어 / English links;
// every text is the catalogues' (web/i18n), the widgets follow the page's lang.
// Query: ?models=DIR (default ../../models/: manifest.json and the item packs), &affiliate=A0x
// (default A01), &subscribe=A0x, &api=URL (default /api/: demo/login, demo/logout, demo/me,
// prefrec/record).
import { affiliateName, fetchManifest, forgetMembers } from '../widget/engine.js';
import { LANGS, loadCatalog, message } from '../i18n/i18n.js';

const q = new URLSearchParams(location.search);
const models = q.get('models') || '../../models/';
const api = new URL(q.get('api') || '/api/', location.href);
const $ = (id) => document.getElementById(id);
const main = $('main-widget'), again = $('again-widget'), sub = $('sub-widget');
const widgets = [main, again, sub];
const lang = LANGS.includes(q.get('lang')) ? q.get('lang') : LANGS.includes(document.documentElement.lang) ? document.documentElement.lang : 'ko';
document.documentElement.lang = lang;
const cat = await loadCatalog(lang);
const t = (key, args) => message(cat, key, args);
for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
for (const a of ['aria-label', 'title', 'placeholder']) {
  for (const e of document.querySelectorAll(`[data-i18n-${a}]`)) e.setAttribute(a, t(e.getAttribute(`data-i18n-${a}`)));
}
for (const a of document.querySelectorAll('#lang a')) {
  const u = new URLSearchParams(q);
  u.set('lang', a.dataset.lang);
  a.href = `?${u}`;
  if (a.dataset.lang === lang) a.setAttribute('aria-current', 'true');
}
sub.setAttribute('heading', t('shop.subscribe.heading'));

function shopError(text) {
  $('shop-error').hidden = !text;
  $('shop-error').textContent = text || '';
}

/** Show the page for a signed-in member (code) or an anonymous visitor (null). */
function setSignedIn(code) {
  for (const w of widgets) {
    if (code) w.setAttribute('record-url', new URL('prefrec/record', api).href);
    else w.removeAttribute('record-url');
  }
  $('again').hidden = !code;
  $('member-form').hidden = !!code;
  $('signed-in').hidden = !code;
  $('member-code').textContent = code ? t('shop.member_code', { code }) : '';
  $('who').textContent = code ? t('shop.who.member', { code }) : t('shop.who.guest');
}

function setAffiliate(aff) {
  main.setAttribute('affiliate', aff);
  again.setAttribute('affiliate', aff);
  for (const b of $('aff-tabs').querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.affiliate === aff));
}

async function apiCall(path, init) {
  try {
    return await fetch(new URL(path, api), { credentials: 'same-origin', cache: 'no-store', ...init });
  } catch {
    return null;
  }
}

async function signIn(ev) {
  ev.preventDefault();
  const code = $('member').value.trim(), token = $('card-token').value.trim();
  const body = token.startsWith('PRM1:') ? { card: token } : code.startsWith('PRM1:') ? { card: code } : { code, token };
  if (!body.card && (!code || !token)) {
    shopError(t('shop.error.missing'));
    return;
  }
  const r = await apiCall('demo/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  $('card-token').value = '';
  if (!r || r.status === 404 || r.status === 405) {
    shopError(t('shop.error.backend'));
    return;
  }
  if (!r.ok) {
    shopError(t(r.status === 401 ? 'shop.error.mismatch' : 'shop.error.format'));
    return;
  }
  shopError('');
  forgetMembers(); // the widgets ask the backend again, for this session
  setSignedIn((await r.json()).code);
}

async function signOut() {
  await apiCall('demo/logout', { method: 'POST' });
  forgetMembers(); // the page keeps nothing of the member
  setSignedIn(null);
}

async function start() {
  let m = null;
  const [man, me] = await Promise.all([fetchManifest(models).catch((e) => e), apiCall('demo/me')]);
  if (man instanceof Error) shopError(t('shop.error.packs', { why: man.message }));
  else m = man;
  // who is signed in first, so that each widget renders once, for the right person
  setSignedIn(me?.ok ? (await me.json()).code : null);
  const base = m ? m.base : new URL(models, location.href).href;
  const affs = m ? m.affiliates.map((a) => a.affiliate) : ['A01'];
  for (const w of widgets) {
    w.setAttribute('pack', `${base}{affiliate}.item.pack`);
    if (m) w.setAttribute('version', m.version);
  }
  sub.setAttribute('affiliates', affs.join(' '));
  sub.setAttribute('affiliate', affs.includes(q.get('subscribe')) ? q.get('subscribe') : affs[Math.min(1, affs.length - 1)]);
  for (const a of affs) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.affiliate = a;
    b.textContent = affiliateName(a, cat);
    b.title = a;
    b.addEventListener('click', () => setAffiliate(a));
    $('aff-tabs').append(b);
  }
  setAffiliate(affs.includes(q.get('affiliate')) ? q.get('affiliate') : affs[0]);
  document.body.dataset.ready = '1';
}

$('member-form').addEventListener('submit', signIn);
$('sign-out').addEventListener('click', signOut);
document.addEventListener('prefrec-select', (ev) => {
  $('log').textContent = t('shop.log.selected', { name: ev.detail.name, code: ev.detail.code, store: affiliateName(ev.detail.affiliate, cat) });
});
document.addEventListener('prefrec-subscribe', (ev) => {
  $('log').textContent = t('shop.log.subscribed', { store: affiliateName(ev.detail.affiliate, cat), code: ev.detail.affiliate });
});
start();
