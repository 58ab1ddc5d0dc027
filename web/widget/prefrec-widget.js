// prefrec-widget.js - <prefrec-recommendations>: product recommendations computed in the
// browser by the prefrec engine (WebAssembly), as a plain custom element (no framework needed).
//
//   <script type="module" src="/widget/prefrec-widget.js"></script>
//   <prefrec-recommendations pack="/models/A01.item.pack" k="8"></prefrec-recommendations>
//   <prefrec-recommendations pack="/models/A01.item.pack" list="buy_again"
//                            record-url="/api/prefrec/record"></prefrec-recommendations>
//
// Attributes (all observed; changing one re-renders):
//   pack        item pack URL; "{affiliate}" in it is replaced by the affiliate
//   list        discover (default: products the visitor has not bought), buy_again (the member's
//               own products, most due first: "다시 구매 · Buy again"), mixed (both in one list)
//   record-url  the shop's backend URL that answers the signed-in member's own record:
//               GET with the page's cookies -> 200 {export_id, record, key} (base64), 401 when
//               nobody is signed in, 404 when the member has no record (new, opted out). The
//               reference handler is web/server/records.mjs (docs/engine.md, "Signed-in members")
//   gender, age  the segment for anonymous visitors ("F", "30대", 35)
//   affiliate   the affiliate whose pack serves (needed with "{affiliate}" and for subscribe)
//   affiliates  "A01 A02 A03": the subscription variant, the customer picks one (radio group)
//   k           how many products, 1..100 (8)
//   day         the day served, YYYY-MM-DD ("last bought N days ago" counts to it; default: the
//               pack's as-of day)
//   heading     title above the cards (default: the catalogue's "Recommended for you", or "Buy
//               again" for buy_again, in the widget's language)
//   lang        the language of every text (ko or en); without it the closest ancestor's lang,
//               i.e. the page's <html lang>; another language falls back to English. The words
//               are the message catalogues' (web/i18n/<lang>.json, fetched beside i18n.js);
//               each card's reason is made from the answer's reason_kind and arguments
//               (reasonText), never the engine's English sentence
//   version     appended to pack URLs as ?v= (cache busting; the kiosk passes manifest.version)
// There is no "customer" attribute: a member number typed into a page must show nothing of that
// member (SECURITY.md, "Members' data"); setting it shows an error that says so. Customer shards
// are never fetched.
// JS API: widget.setMember({record, key}) gives the member's record and key directly (from
// the shop's own API call; a kiosk passes {record, token, kid}); setMember(null) forgets it
// (then record-url, if any, applies). refresh() fetches the record again and re-renders.
// Who is served: the member when their record opens (source="member"); otherwise the segment
// (source="segment") with a note and fallback="signed-out" (401), "no-record" (404),
// "unavailable" (backend unreachable) or "cannot-open" / "other-export" (the record does not
// open with these packs). buy_again without a member shows an empty state (empty="signed-out");
// a member with nothing to buy again gets empty="nothing".
// State for the host page and tests: attribute state="loading|ready|error", source, fallback,
// empty. Events (CustomEvents on the element, bubbling and composed, for the shop's analytics):
//   prefrec-ready     {detail: response} the answer is rendered (null detail: an empty state)
//   prefrec-shown     {detail: {affiliate, source, list, codes}} the cards came into view (an
//                     impression: once per rendered answer, when any card is on screen)
//   prefrec-select    {detail: item + {affiliate}} a card was clicked (or Enter/Space on it)
//   prefrec-subscribe {detail: {affiliate}} the subscription picker's choice
//   prefrec-error     {detail: Error}
// Importing this module defines the element and nothing else: no global but the element's
// name; every widget on a page shares one engine per set of packs (engine.js). Under node (server-
// side rendering) it defines nothing and touches no window or document.
// Styling: CSS custom properties on the element or any ancestor (see STYLE below), and parts
// root, heading, note, picker, cards, card, name, category, reason, due, empty, status.
// Every text from a pack (names, categories, reasons) is set with textContent, never as HTML.
// Long names and reasons wrap (a card grows) and stop at three lines, ellipsised (--prefrec-name-
// lines, --prefrec-reason-lines), the full name in the card's title, the full reason in its own.
import { affiliateName, engineFor, fetchMember, prepareEngine, withMember } from './engine.js';
import { LANGS, loadCatalog, message, reasonText } from '../i18n/i18n.js';

const STYLE = `
:host { display: block; font-family: var(--prefrec-font, system-ui, "Noto Sans CJK KR", sans-serif);
  color: var(--prefrec-fg, #1d2330); --_accent: var(--prefrec-accent, #d6336c); }
:host([hidden]) { display: none; }
.root { background: var(--prefrec-bg, transparent); padding: var(--prefrec-padding, 0); }
h2 { font-size: var(--prefrec-heading-size, 1.25rem); margin: 0 0 .5rem; }
.note { margin: 0 0 .75rem; padding: .5rem .75rem; border-radius: var(--prefrec-radius, 10px);
  background: var(--prefrec-note-bg, #fff4d6); color: var(--prefrec-note-fg, #6b4e00); font-size: .9rem; }
.picker { border: 0; margin: 0 0 .75rem; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem; }
.picker legend { font-weight: 600; margin-bottom: .4rem; padding: 0; }
.picker label { display: inline-flex; align-items: center; gap: .4rem; min-height: var(--prefrec-target, 44px);
  padding: 0 .9rem; border-radius: 999px; cursor: pointer; border: 2px solid var(--prefrec-card-border, #d9dde5);
  background: var(--prefrec-card-bg, #fff); }
.picker input { accent-color: var(--_accent); width: 1.1rem; height: 1.1rem; margin: 0; }
.picker label:has(input:checked) { border-color: var(--_accent); font-weight: 600; }
.picker label:has(input:focus-visible) { outline: 3px solid var(--prefrec-focus, #1c7ed6); outline-offset: 2px; }
.cards { list-style: none; margin: 0; padding: 0; display: grid; gap: var(--prefrec-gap, .75rem);
  grid-template-columns: repeat(auto-fill, minmax(var(--prefrec-card-min, 11rem), 1fr)); }
.card { position: relative; display: flex; flex-direction: column; gap: .3rem; padding: .8rem .9rem;
  min-height: var(--prefrec-card-height, 7rem); background: var(--prefrec-card-bg, #fff);
  border: 1px solid var(--prefrec-card-border, #d9dde5); border-radius: var(--prefrec-radius, 10px);
  box-shadow: var(--prefrec-card-shadow, 0 1px 2px rgba(0,0,0,.06)); cursor: pointer; }
.card:hover { border-color: var(--_accent); }
.card:focus-visible { outline: 3px solid var(--prefrec-focus, #1c7ed6); outline-offset: 2px; }
.rank { position: absolute; top: .5rem; right: .6rem; font-size: .75rem; color: var(--prefrec-muted, #6b7280); }
.name { font-weight: 600; font-size: var(--prefrec-name-size, 1rem); margin: 0; padding-right: 1.6rem;
  overflow-wrap: anywhere; word-break: keep-all; line-height: 1.3; display: -webkit-box; -webkit-box-orient: vertical;
  -webkit-line-clamp: var(--prefrec-name-lines, 3); line-clamp: var(--prefrec-name-lines, 3); overflow: hidden; }
.category { font-size: .8rem; color: var(--prefrec-muted, #6b7280); margin: 0; }
.reason { font-size: .85rem; margin: auto 0 0; color: var(--_accent); overflow-wrap: anywhere; display: -webkit-box;
  -webkit-box-orient: vertical; -webkit-line-clamp: var(--prefrec-reason-lines, 3); line-clamp: var(--prefrec-reason-lines, 3); overflow: hidden; }
.due { align-self: flex-start; font-size: .75rem; font-weight: 600; margin: 0; padding: .1rem .5rem;
  border-radius: 999px; background: var(--prefrec-due-bg, #f1f3f5); color: var(--prefrec-muted, #495057); }
.due.now { background: var(--prefrec-due-now-bg, #fff0f6); color: var(--_accent); }
.empty { padding: 1rem; border-radius: var(--prefrec-radius, 10px); background: var(--prefrec-card-bg, #fff);
  border: 1px dashed var(--prefrec-card-border, #d9dde5); color: var(--prefrec-muted, #6b7280); margin: 0; }
.status { padding: 1rem; border-radius: var(--prefrec-radius, 10px); background: var(--prefrec-card-bg, #fff);
  border: 1px dashed var(--prefrec-card-border, #d9dde5); }
.status.error { border: 1px solid var(--prefrec-error, #c92a2a); color: var(--prefrec-error, #c92a2a); }
.status button { margin-left: .75rem; min-height: 36px; padding: 0 .9rem; border-radius: 8px; cursor: pointer;
  border: 1px solid currentColor; background: transparent; color: inherit; font: inherit; }
.skeleton { cursor: default; background: linear-gradient(90deg, #eef0f4 25%, #f7f8fa 50%, #eef0f4 75%);
  background-size: 200% 100%; animation: shimmer 1.2s infinite linear; border-color: transparent; }
@keyframes shimmer { from { background-position: 200% 0; } to { background-position: -200% 0; } }
@media (prefers-reduced-motion: reduce) { .skeleton { animation: none; } }
`;

let sheet = null; // one stylesheet shared by every instance

const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') e.textContent = v;
    else if (k in e && typeof v != 'string') e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
};

// Under node (SSR) there is no HTMLElement: the class is defined over a stand-in, never used.
const Base = globalThis.HTMLElement ?? class {};

export class PrefRecRecommendations extends Base {
  static observedAttributes = ['pack', 'customer', 'gender', 'age', 'affiliate', 'affiliates', 'k', 'heading', 'version',
    'integrity', 'list', 'record-url', 'day', 'lang'];
  #root; #body; #frameKey = null; #gen = 0; #queued = false; #response = null; #member = null; #fresh = false;
  #seen = null; // the IntersectionObserver waiting for the shown cards to come into view

  constructor() {
    super();
    const sh = this.attachShadow({ mode: 'open' });
    // A constructed sheet: allowed under a strict CSP (style-src 'self'), unlike a <style>.
    if ('adoptedStyleSheets' in sh) {
      sheet ||= new CSSStyleSheet();
      if (!sheet.cssRules.length) sheet.replaceSync(STYLE);
      sh.adoptedStyleSheets = [sheet];
    } else sh.append(el('style', { text: STYLE }));
    this.#root = el('section', { class: 'root', part: 'root' });
    sh.append(this.#root);
  }

  connectedCallback() { this.#schedule(); }
  disconnectedCallback() { this.#unwatch(); }
  attributeChangedCallback(n, a, b) {
    if (a === b) return;
    if (n === 'record-url') this.#fresh = true; // a sign-in or sign-out: ask the backend again
    if (this.isConnected) this.#schedule();
  }

  /** The last response shown (null while loading, after an error, or for an empty state). */
  get response() { return this.#response; }
  /** Fetch the member's record again (record-url) and re-render; resolves when shown. */
  refresh() {
    this.#fresh = true;
    return this.#render();
  }
  /** The signed-in member's record and its key ({record, key}, base64 or bytes, as the shop's
   * backend answers), or at a kiosk {record, token, kid}; null forgets it. Re-renders. */
  setMember(member) {
    if (member != null && (typeof member !== 'object' || member.record == null)) {
      throw new TypeError('setMember: expected {record, key} (or {record, token, kid}) or null');
    }
    this.#member = member ?? null;
    this.#schedule();
  }

  #schedule() {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      this.#render();
    });
  }

  #attrs() {
    const list = (this.getAttribute('affiliates') || '').split(/[\s,]+/).filter(Boolean);
    const k = parseInt(this.getAttribute('k') || '8', 10);
    const kind = this.getAttribute('list') || 'discover';
    return {
      pack: this.getAttribute('pack'),
      customer: this.getAttribute('customer'),
      list: kind,
      recordUrl: this.getAttribute('record-url') || null,
      day: this.getAttribute('day') || null,
      gender: this.getAttribute('gender') || null,
      age: this.getAttribute('age') || null,
      affiliates: list,
      affiliate: this.getAttribute('affiliate') || list[0] || null,
      k: Number.isFinite(k) ? k : 8,
      heading: this.getAttribute('heading'),
      version: this.getAttribute('version') || null,
      integrity: this.getAttribute('integrity') || null,
    };
  }

  /** The language of the texts: the lang attribute, else the closest ancestor's (the page's
   * <html lang>); ko or en by its primary subtag, else en. */
  get language() {
    const tag = (this.closest('[lang]')?.getAttribute('lang') || document.documentElement.lang || 'en').toLowerCase().split('-')[0];
    return LANGS.includes(tag) ? tag : 'en';
  }

  #frame(a, cat) {
    // The heading and the picker stay across re-renders (the focused radio keeps its focus);
    // only the body is rebuilt.
    const heading = a.heading ?? message(cat, a.list === 'buy_again' ? 'widget.heading.buy_again' : 'widget.heading');
    const key = JSON.stringify([heading, a.affiliates, cat.$lang]);
    if (this.#frameKey !== key) {
      this.#frameKey = key;
      this.#root.replaceChildren();
      this.#root.setAttribute('lang', cat.$lang);
      if (heading) this.#root.append(el('h2', { part: 'heading', text: heading }));
      if (a.affiliates.length) this.#root.append(this.#picker(a, cat));
      this.#body = el('div', { class: 'body' });
      this.#root.append(this.#body);
    }
    for (const r of this.#root.querySelectorAll('.picker input')) r.checked = r.value === a.affiliate;
    this.#body.replaceChildren();
  }

  #picker(a, cat) {
    const fs = el('fieldset', { class: 'picker', part: 'picker' }, el('legend', { text: message(cat, 'widget.subscribe_to') }));
    const name = `aff-${Math.random().toString(36).slice(2)}`;
    for (const aff of a.affiliates) {
      const input = el('input', { type: 'radio', name, value: aff });
      input.checked = aff === a.affiliate;
      input.addEventListener('change', () => {
        if (!input.checked) return;
        this.dispatchEvent(new CustomEvent('prefrec-subscribe', { bubbles: true, composed: true, detail: { affiliate: aff } }));
        this.setAttribute('affiliate', aff);
      });
      fs.append(el('label', { 'data-affiliate': aff }, input, el('span', { text: message(cat, 'widget.store', { store: affiliateName(aff, cat), code: aff }) })));
    }
    return fs;
  }

  #state(state, extra = {}) {
    this.setAttribute('state', state);
    for (const k of ['source', 'fallback', 'empty']) {
      if (extra[k] == null || extra[k] === false) this.removeAttribute(k);
      else this.setAttribute(k, extra[k] === true ? '' : extra[k]);
    }
    this.#root.setAttribute('aria-busy', String(state === 'loading'));
  }

  /** The member to serve: setMember's, else the backend's (record-url); or why there is none. */
  async #whom(a) {
    if (this.#member) return { member: this.#member };
    if (!a.recordUrl) return { member: null };
    const fresh = this.#fresh;
    this.#fresh = false;
    const m = await fetchMember(a.recordUrl, { fresh });
    if (m.status === 200) return { member: m.member };
    return { member: null, fallback: m.status === 401 ? 'signed-out' : m.status === 404 ? 'no-record' : 'unavailable', why: m.error };
  }

  async #render() {
    const gen = ++this.#gen;
    this.#unwatch();
    const a = this.#attrs();
    this.#response = null;
    this.#state('loading'); // at once: a host waiting for ready/error never sees the last render's
    prepareEngine(); // the engine compiles while the messages arrive
    let cat;
    try {
      cat = await loadCatalog(this.language);
    } catch (e) {
      if (gen === this.#gen) this.#error(e, null);
      return;
    }
    if (gen !== this.#gen) return;
    this.#frame(a, cat);
    const k = Math.max(1, Math.min(a.k, 12));
    this.#body.append(el('p', { class: 'status', role: 'status', part: 'status', text: message(cat, 'widget.loading') }),
      el('ol', { class: 'cards', part: 'cards', 'aria-hidden': 'true' },
        ...Array.from({ length: k }, () => el('li', { class: 'card skeleton' }))));
    try {
      if (a.customer != null) {
        throw new Error('the "customer" attribute is gone: a member number alone must not show anyone\'s recommendations ' +
          '(SECURITY.md). Give the signed-in member\'s record instead: record-url (the shop\'s backend, web/server/records.mjs) ' +
          'or widget.setMember({record, key})');
      }
      if (!['discover', 'buy_again', 'mixed'].includes(a.list)) {
        throw new Error(`list="${a.list}": expected discover, buy_again or mixed`);
      }
      if (!a.pack) throw new Error('no pack: set the "pack" attribute to an item pack URL');
      if (a.pack.includes('{affiliate}') && !a.affiliate) throw new Error('the pack URL has {affiliate}: set "affiliate"');
      const item = a.pack.replaceAll('{affiliate}', a.affiliate ?? '');
      const sources = [{ item, version: a.version, integrity: a.integrity }];
      const [who, pr] = await Promise.all([this.#whom(a), engineFor(sources)]);
      if (gen !== this.#gen) return;
      let { member, fallback = null } = who;
      const affiliate = a.affiliate && pr.info.some((i) => i.affiliate === a.affiliate) ? a.affiliate : pr.info[0].affiliate;
      if (a.affiliate && affiliate !== a.affiliate) throw new Error(`the pack ${item} serves ${affiliate}, not ${a.affiliate}`);
      const req = { plan: a.affiliates.length ? 'subscribe' : 'recommend', affiliate, k: a.k };
      let res = null;
      if (member) {
        req.list = a.list;
        if (a.day) req.day = a.day;
        try {
          res = withMember(pr, member, () => pr.request(req));
        } catch (e) {
          if (!e.member) throw e; // the request itself failed: the error state
          fallback = e.status === 'other export' ? 'other-export' : 'cannot-open';
          member = null;
          delete req.list;
          delete req.day;
        }
      }
      if (!member) {
        if (a.list === 'buy_again') return this.#empty(cat, affiliate, 'signed-out', fallback);
        if (a.gender) req.gender = a.gender;
        if (a.age) req.age = /^\d+$/.test(a.age) ? Number(a.age) : a.age;
        res = pr.request(req);
      }
      if (a.list === 'buy_again' && !res.items.length) return this.#empty(cat, affiliate, 'nothing', null, res);
      this.#show(a, cat, res, fallback);
    } catch (e) {
      if (gen !== this.#gen) return;
      this.#error(e, cat);
    }
  }

  #note(a, cat, res, fallback) {
    const store = affiliateName(res.affiliate, cat);
    const lead = fallback ? message(cat, `widget.lead.${fallback}`) : '';
    return lead + message(cat, a.gender || a.age ? 'widget.popular.like_you' : 'widget.popular.everyone', { store });
  }

  #show(a, cat, res, fallback) {
    this.#body.replaceChildren();
    if (fallback || res.source === 'segment') {
      this.#body.append(el('p', { class: 'note', part: 'note', role: 'note', text: this.#note(a, cat, res, fallback) }));
    }
    const list = el('ol', { class: 'cards', part: 'cards',
      'aria-label': message(cat, 'widget.list_label', { store: affiliateName(res.affiliate, cat) }) });
    res.items.forEach((it, i) => list.append(this.#card(cat, it, i + 1, res.affiliate)));
    this.#body.append(list);
    this.#response = res;
    this.#state('ready', { source: res.source, fallback });
    this.dispatchEvent(new CustomEvent('prefrec-ready', { bubbles: true, composed: true, detail: res }));
    if (res.items.length) this.#watch(list, res);
  }

  /** prefrec-shown once any card of this answer is on screen (at once without IntersectionObserver). */
  #watch(list, res) {
    const shown = () => this.dispatchEvent(new CustomEvent('prefrec-shown', { bubbles: true, composed: true,
      detail: { affiliate: res.affiliate, source: res.source, list: res.list, codes: res.items.map((it) => it.code) } }));
    if (typeof IntersectionObserver != 'function') return shown();
    const seen = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      this.#unwatch();
      shown();
    });
    this.#seen = seen;
    seen.observe(list);
  }
  #unwatch() {
    this.#seen?.disconnect();
    this.#seen = null;
  }

  /** buy_again with nothing to show: no member (why = 'signed-out', fallback says why), or a
   * member who has bought nothing here yet that comes back (why = 'nothing'). */
  #empty(cat, affiliate, why, fallback, res = null) {
    const store = affiliateName(affiliate, cat);
    const text = why === 'nothing' ? message(cat, 'widget.empty.nothing', { store })
      : fallback === 'no-record' ? message(cat, 'widget.empty.no-record', { store })
        : fallback && fallback !== 'signed-out' ? message(cat, 'widget.empty.unavailable', { why: fallback })
          : message(cat, 'widget.empty.signed-out', { store });
    this.#body.replaceChildren(el('p', { class: 'empty', part: 'empty', role: 'note', text }));
    this.#response = res;
    this.#state('ready', { source: res?.source ?? null, fallback, empty: why });
    this.dispatchEvent(new CustomEvent('prefrec-ready', { bubbles: true, composed: true, detail: res }));
  }

  #card(cat, it, rank, affiliate) {
    const category = it.subcategory && it.subcategory !== it.category ? `${it.category} › ${it.subcategory}` : it.category;
    const reason = reasonText(cat, it);
    const li = el('li', { class: 'card', part: 'card', tabindex: '0', 'data-code': it.code, 'data-reason-kind': it.reason_kind ?? '',
      title: it.name },
    el('span', { class: 'rank', 'aria-hidden': 'true', text: `#${rank}` }),
    el('h3', { class: 'name', part: 'name', text: it.name }),
    el('p', { class: 'category', part: 'category', text: category }));
    let label = `${it.name}, ${category}. ${reason}`;
    if (it.reason_kind === 'repeat') {
      // the interval and the days since the last purchase, as the engine computed them
      li.dataset.every = String(it.every_days ?? 0);
      li.dataset.since = String(it.days_since ?? 0);
      const every = it.every_days ?? 0, since = it.days_since ?? 0;
      const left = every - since;
      const due = !every ? message(cat, 'widget.due.bought', { n: since })
        : left <= 0 ? message(cat, 'widget.due.now') : message(cat, 'widget.due.in', { n: left });
      li.append(el('p', { class: `due${every && left <= 0 ? ' now' : ''}`, part: 'due', text: due }));
      label += ` ${due}.`;
    }
    li.append(el('p', { class: 'reason', part: 'reason', text: reason, title: reason }));
    li.setAttribute('aria-label', label);
    const select = () => this.dispatchEvent(new CustomEvent('prefrec-select', { bubbles: true, composed: true, detail: { ...it, affiliate } }));
    li.addEventListener('click', select);
    li.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        select();
      }
    });
    return li;
  }

  /** The error state; cat null when the catalogue itself could not be fetched (then the error's
   * own text and a ↻ retry button). */
  #error(e, cat) {
    const retry = el('button', { type: 'button', text: cat ? message(cat, 'widget.retry') : '↻' });
    retry.addEventListener('click', () => this.refresh());
    const msg = el('span', { text: cat ? message(cat, 'widget.error', { why: e.message }) : e.message });
    if (!this.#body) {
      this.#body = el('div', { class: 'body' });
      this.#root.append(this.#body);
    }
    this.#body.replaceChildren(el('div', { class: 'status error', role: 'alert', part: 'status' }, msg, retry));
    this.#state('error');
    this.dispatchEvent(new CustomEvent('prefrec-error', { bubbles: true, composed: true, detail: e }));
  }
}

if (globalThis.customElements && !customElements.get('prefrec-recommendations')) customElements.define('prefrec-recommendations', PrefRecRecommendations);
