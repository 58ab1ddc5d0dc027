// i18n.js - shopper-facing text in the shopper's language. The message catalogues are the JSON
// files beside this module (en.json, ko.json: one per language, the only place the words live;
// the CLI embeds the same files at build time, src/cli/i18n.c). The engine's answers carry each
// reason's kind and arguments (reason_kind, reason_product, reason_category, every_days,
// days_since); the text is made here, where the language is known.
//   const cat = await loadCatalog('ko');            // or the page's <html lang>
//   card.textContent = reasonText(cat, item);       // item: an answer's item
// Plurals by Intl.PluralRules, numbers by Intl.NumberFormat, in the catalogue's language.
const NODE = typeof process == 'object' && !!process.versions?.node;
// node's own modules, under node only: a computed specifier that bundlers leave alone (nothing to
// resolve or ship to a browser; Vite and webpack neither warn nor split a chunk for it)
const nodeImport = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`);
export const LANGS = ['ko', 'en'];
const cache = new Map();

/** The catalogue of lang ('ko' or 'en'; another tag falls back by its primary subtag, then 'en'). */
export async function loadCatalog(lang = 'en') {
  const base = String(lang).toLowerCase().split('-')[0];
  const l = LANGS.includes(base) ? base : 'en';
  if (!cache.has(l)) {
    // literal URLs: a bundler (Vite, webpack) sees both catalogues and ships them as assets
    const url = l === 'ko' ? new URL('./ko.json', import.meta.url) : new URL('./en.json', import.meta.url);
    cache.set(l, (async () => {
      if (NODE) {
        const { readFile } = await nodeImport('fs/promises');
        return JSON.parse(await readFile(url, 'utf8'));
      }
      const r = await fetch(url);
      if (!r.ok) throw new Error(`i18n: cannot fetch ${url}: HTTP ${r.status}`);
      return r.json();
    })());
  }
  return cache.get(l);
}

/** Message key with {name} placeholders filled from args; a plural entry picks by args.n. */
export function message(cat, key, args = {}) {
  let m = cat[key];
  if (m == null) throw new Error(`i18n: no message "${key}" in ${cat.$lang}`);
  if (typeof m == 'object') m = m[new Intl.PluralRules(cat.$lang).select(args.n)] ?? m.other;
  return m.replace(/\{(\w+)\}/g, (_, k) => (typeof args[k] == 'number'
    ? new Intl.NumberFormat(cat.$lang).format(args[k]) : String(args[k] ?? '')));
}

const days = (cat, n) => message(cat, 'unit.days', { n });

/** The sentence for an answer's item (its reason_kind and arguments). */
export function reasonText(cat, item) {
  switch (item.reason_kind) {
    case 'bought_with': return message(cat, 'reason.bought_with', { product: item.reason_product_name ?? item.reason_product });
    case 'category': return message(cat, 'reason.category', { category: item.reason_category });
    case 'segment': return message(cat, 'reason.segment');
    case 'repeat': return item.every_days > 0
      ? message(cat, 'reason.repeat', { every: days(cat, item.every_days), since: days(cat, item.days_since) })
      : message(cat, 'reason.repeat_once', { since: days(cat, item.days_since) });
    default: return message(cat, 'reason.predicted');
  }
}
