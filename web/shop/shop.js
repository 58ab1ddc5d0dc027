// shop.js - the demo storefront: wires <prefrec-recommendations> to the models folder.
// Query: ?models=DIR (default ../../models/, holding manifest.json and the exported packs),
// &customer=ID (default: the manifest's first example member), &affiliate=A0x (default A01),
// &guest=1 (no member: popular products). Everything shown is computed in the page.
import { affiliateName, fetchManifest } from '../widget/engine.js';

const q = new URLSearchParams(location.search);
const models = q.get('models') || '../../models/';
const $ = (id) => document.getElementById(id);
const main = $('main-widget'), sub = $('sub-widget');

function setMember(customer) {
  for (const w of [main, sub]) {
    if (customer) w.setAttribute('customer', customer);
    else w.removeAttribute('customer');
  }
  $('member').value = customer || '';
  $('who').textContent = customer ? `Signed in as ${customer}.` : 'Browsing as a guest.';
  const u = new URL(location.href);
  if (customer) { u.searchParams.set('customer', customer); u.searchParams.delete('guest'); }
  else { u.searchParams.delete('customer'); u.searchParams.set('guest', '1'); }
  history.replaceState(null, '', u);
}

function setAffiliate(aff) {
  main.setAttribute('affiliate', aff);
  for (const b of $('aff-tabs').querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.affiliate === aff));
}

async function start() {
  let m = null;
  try {
    m = await fetchManifest(models);
  } catch (e) {
    const p = $('shop-error');
    p.hidden = false;
    p.textContent = `The model packs are not available (${e.message}).`;
  }
  const base = m ? m.base : new URL(models, location.href).href;
  const affs = m ? m.affiliates.map((a) => a.affiliate) : ['A01'];
  const shards = m ? m.affiliates[0].shards : 0;
  for (const w of [main, sub]) {
    w.setAttribute('pack', `${base}{affiliate}.item.pack`);
    w.setAttribute('shards', String(shards));
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
  for (const c of m?.examples || []) $('examples').append(Object.assign(document.createElement('option'), { value: c }));
  setAffiliate(affs.includes(q.get('affiliate')) ? q.get('affiliate') : affs[0]);
  setMember(q.get('guest') ? null : q.get('customer') || m?.examples?.[0] || null);
}

$('member-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  setMember($('member').value.trim() || null);
});
$('guest').addEventListener('click', () => setMember(null));
document.addEventListener('prefrec-select', (ev) => {
  $('log').textContent = `Selected: ${ev.detail.name} (${ev.detail.code}, ${affiliateName(ev.detail.affiliate, 'en')})`;
});
document.addEventListener('prefrec-subscribe', (ev) => {
  $('log').textContent = `Subscribed to ${affiliateName(ev.detail.affiliate, 'en')} (${ev.detail.affiliate})`;
});
start();
