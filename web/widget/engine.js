// engine.js - shared loading for the widget and the kiosk, over the shim (../prefrec.js):
// one PrefRec per set of pack URLs per page (several widgets on a page share it), the models
// folder's manifest.json (web/kiosk/models-manifest.mjs writes it), affiliate display names,
// and "unknown customer -> popular for the segment" as one call.
//   const pr = await engineFor([{ item: 'models/A01.item.pack', shards: 16, customer: 'M1' }]);
//   const { res, fallback } = answer(pr, { plan: 'recommend', affiliate: 'A01', customer: 'M1', k: 8 });
import { PrefRec, shardPath } from '../prefrec.js';

export const AFFILIATES = {
  A01: { ko: '백화점', en: 'Department store' },
  A02: { ko: '대형마트', en: 'Hypermarket' },
  A03: { ko: '슈퍼마켓', en: 'Supermarket' },
  A04: { ko: '편의점', en: 'Convenience store' },
  A05: { ko: '전자제품', en: 'Electronics' },
  A06: { ko: '온라인몰', en: 'Online mall' },
};
export const affiliateName = (a, lang = 'ko') => AFFILIATES[a]?.[lang] || a;

const engines = new Map(); // key: the pack URLs -> Promise<PrefRec>

/** Resolve a pack source to absolute URLs: the item pack, and the customer's shard if any.
 * `version` (from manifest.json) is appended as ?v= so caches key on the pack version. */
export function packUrls({ item, shards = 0, customer = null, version = null }, base = document.baseURI) {
  const q = version ? `?v=${encodeURIComponent(version)}` : '';
  const itemUrl = new URL(item, base);
  const out = { item: itemUrl.href + q };
  if (shards > 0 && customer) {
    out.customers = new URL(shardPath(itemUrl.pathname, customer, shards), itemUrl).href + q;
  }
  return out;
}

/** A PrefRec over these packs, loaded once per page for the same URLs. A failed load is
 * forgotten so that a retry fetches again. */
export function engineFor(sources, base) {
  const urls = sources.map((s) => packUrls(s, base));
  const key = JSON.stringify(urls);
  let p = engines.get(key);
  if (!p) {
    p = PrefRec.load({ packs: urls.map((u) => (u.customers ? u : { item: u.item })) });
    engines.set(key, p);
    p.catch(() => engines.delete(key));
  }
  return p;
}

/** The engine's "unknown customer" error (not in the pack or its shard). */
export const isUnknownCustomer = (e) => e?.status === 'not found' && /unknown customer/.test(e.message);

/** Send a request; an unknown customer gets the popular products of their segment (gender and
 * age if given, everyone otherwise) and fallback = true, so the page can say so. */
export function answer(pr, req) {
  try {
    return { res: pr.request(req), fallback: false };
  } catch (e) {
    if (!req.customer || !isUnknownCustomer(e)) throw e;
    const { customer, history, ...rest } = req;
    return { res: pr.request(rest), fallback: true };
  }
}

/** The models folder's manifest.json (affiliates, shards, files, version, examples). */
export async function fetchManifest(models, base = document.baseURI) {
  const url = new URL('manifest.json', new URL(models, base));
  let r;
  try {
    r = await fetch(url, { cache: 'no-cache' });
  } catch (e) {
    throw Object.assign(new Error(`cannot fetch ${url}: ${e.message}`), { status: 'i/o error' });
  }
  if (!r.ok) {
    throw Object.assign(new Error(`cannot fetch ${url}: HTTP ${r.status} (run bash scripts/serve.sh, which writes it)`),
      { status: 'i/o error' });
  }
  const m = await r.json();
  if (m.format !== 'prefrec-models' || !Array.isArray(m.affiliates)) throw new Error(`${url}: not a prefrec models manifest`);
  m.url = url.href;
  m.base = new URL('.', url).href;
  return m;
}
