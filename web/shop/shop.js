// shop.js - the demo storefront: wires <prefrec-recommendations> to the models folder and to the
// demo backend (web/server/demo.mjs), as a shop wires it to its own login:
//   signed in   the widgets get record-url = the backend's record URL (the member's own sealed
//               record and its key, for this session only): "buy again" and "discover" lists
//   anonymous   no record-url: the popular products (segment), and no buy-again panel
// The demo's sign-in is the member's card (code + card token, or the card's QR payload
// PRM1:<code>:<token>): a member number alone signs nobody in.
// Query: ?models=DIR (default ../../models/: manifest.json and the item packs), &affiliate=A0x
// (default A01), &subscribe=A0x, &api=URL (default /api/: demo/login, demo/logout, demo/me,
// prefrec/record).
import { affiliateName, fetchManifest, forgetMembers } from '../widget/engine.js';

const q = new URLSearchParams(location.search);
const models = q.get('models') || '../../models/';
const api = new URL(q.get('api') || '/api/', location.href);
const $ = (id) => document.getElementById(id);
const main = $('main-widget'), again = $('again-widget'), sub = $('sub-widget');
const widgets = [main, again, sub];

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
  $('member-code').textContent = code ? `회원 ${code}` : '';
  $('who').textContent = code ? `Signed in as ${code}.` : 'Browsing as a guest.';
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
    shopError('회원번호와 카드를 입력하세요. Enter your member number and your card\'s token (or scan the card).');
    return;
  }
  const r = await apiCall('demo/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  $('card-token').value = '';
  if (!r || r.status === 404 || r.status === 405) {
    shopError('Sign-in needs the demo backend (node web/server/demo.mjs): this server serves files only.');
    return;
  }
  if (!r.ok) {
    shopError(r.status === 401 ? '회원번호와 카드가 맞지 않아요. The member number and the card do not match.'
      : 'That is not a member number and card token (32 hex digits), nor a card\'s PRM1: code.');
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
  if (man instanceof Error) shopError(`The model packs are not available (${man.message}).`);
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
    b.textContent = affiliateName(a);
    b.title = affiliateName(a, 'en');
    b.addEventListener('click', () => setAffiliate(a));
    $('aff-tabs').append(b);
  }
  setAffiliate(affs.includes(q.get('affiliate')) ? q.get('affiliate') : affs[0]);
  document.body.dataset.ready = '1';
}

$('member-form').addEventListener('submit', signIn);
$('sign-out').addEventListener('click', signOut);
document.addEventListener('prefrec-select', (ev) => {
  $('log').textContent = `Selected: ${ev.detail.name} (${ev.detail.code}, ${affiliateName(ev.detail.affiliate, 'en')})`;
});
document.addEventListener('prefrec-subscribe', (ev) => {
  $('log').textContent = `Subscribed to ${affiliateName(ev.detail.affiliate, 'en')} (${ev.detail.affiliate})`;
});
start();
