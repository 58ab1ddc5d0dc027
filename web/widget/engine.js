// engine.js - shared loading for the widget and the kiosk, over the shim (../prefrec.js):
// one PrefRec per set of item pack URLs per page (several widgets on a page share it), the
// signed-in member's record from the shop's backend, opened for one request at a time, the
// models folder's manifest.json (web/kiosk/models-manifest.mjs writes it) and affiliate names
// (from the message catalogues, web/i18n).
//   const m = await fetchMember('/api/prefrec/record');   // {status: 200, member} | {status: 401|404}
//   const pr = await engineFor([{ item: 'models/A01.item.pack' }]);
//   withMember(pr, m.member, () => pr.recommend({ affiliate: 'A01', list: 'buy_again', k: 8 }));
// No customer shard is ever fetched: a member's state comes only as their sealed record, opened
// with the key the backend gives the signed-in member or the member's card token (SECURITY.md,
// "Members' data").
import { PrefRec } from '../prefrec.js';

/** An affiliate's name in a message catalogue (web/i18n/<lang>.json, key "affiliate.<code>"),
 * else its code. */
export const affiliateName = (a, cat) => cat?.[`affiliate.${a}`] ?? a;

const engines = new Map(); // key: the item pack URLs -> Promise<PrefRec>
const records = new Map(); // record URL -> Promise<{status, member?, error?}> (fetchMember)
const inflight = new Set(); // record URLs being fetched

/** The absolute URL of an item pack; `version` (from manifest.json) is appended as ?v= so
 * caches key on the pack version. */
export function packUrl({ item, version = null }, base = document.baseURI) {
  const q = version ? `?v=${encodeURIComponent(version)}` : '';
  return new URL(item, base).href + q;
}

/** Start compiling the engine while the page fetches what it needs before its packs (its
 * messages, the models' manifest): a failure is left for the load to report. */
export function prepareEngine() {
  PrefRec.prepare().catch(() => {});
}

/** A PrefRec over these item packs, loaded once per page for the same URLs (every widget and
 * every member share it: no member stays open in it, see withMember). A failed load is
 * forgotten so that a retry fetches again. */
export function engineFor(sources, base) {
  const urls = sources.map((s) => packUrl(s, base));
  const key = JSON.stringify(urls);
  let p = engines.get(key);
  if (!p) {
    p = PrefRec.load({ packs: urls.map((item, i) => (sources[i].integrity ? { item, integrity: sources[i].integrity } : item)) });
    engines.set(key, p);
    p.catch(() => engines.delete(key));
  }
  return p;
}

/** fn(pr) with the member's record open in pr, closed (wiped) again before it returns, in one
 * go: widgets sharing the engine never see each other's member, and no member's state stays in
 * the engine between requests. member: {record, key} from the shop's backend, or {record, token,
 * kid} / {record, pin, kid} at a kiosk; null: fn(pr) as is (anonymous). A record that does not
 * open throws the engine's error (.status 'cannot open', 'other export', 'bad format', ...)
 * with .member = true. The record must be of the loaded packs' export: the backend's export_id
 * is never given instead. */
export function withMember(pr, member, fn) {
  if (!member) return fn(pr);
  const { record, key, token, pin, kid } = member;
  try {
    pr.openMember({ record, key, token, pin, kid });
  } catch (e) {
    e.member = true;
    throw e;
  }
  try {
    return fn(pr);
  } finally {
    pr.closeMember();
  }
}

/** Forget the members' records fetched from the backend (after a sign-out or a sign-in: the
 * next fetchMember asks again). */
export function forgetMembers() {
  records.clear();
  inflight.clear();
}

/** The signed-in member's record from the shop's backend (web/server/records.mjs): GET `url`
 * with the page's cookies, JSON {export_id, record, key} (base64). Resolves {status: 200,
 * member: {record, key, exportId}}, {status: 401} (nobody signed in), {status: 404} (no record:
 * new member, opted out), or {status: 0|5xx, error} (backend unreachable). Fetched once per page
 * and URL; fresh = true fetches again unless a fetch is under way (several widgets asking at
 * once share one). */
export function fetchMember(url, { fresh = false, base = document.baseURI } = {}) {
  const abs = new URL(url, base).href;
  let p = records.get(abs);
  if (!p || (fresh && !inflight.has(abs))) {
    inflight.add(abs);
    p = (async () => {
      let r;
      try {
        r = await fetch(abs, { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } });
      } catch (e) {
        return { status: 0, error: `cannot fetch ${abs}: ${e.message}` };
      }
      if (r.status === 401 || r.status === 404) return { status: r.status };
      if (!r.ok) return { status: r.status, error: `${abs}: HTTP ${r.status}` };
      let j;
      try {
        j = await r.json();
      } catch {
        return { status: 502, error: `${abs}: not JSON` };
      }
      if (typeof j?.record !== 'string' || typeof j?.key !== 'string') {
        return { status: 502, error: `${abs}: expected {export_id, record, key}` };
      }
      return { status: 200, member: { record: j.record, key: j.key, exportId: j.export_id ?? null } };
    })();
    records.set(abs, p);
    p.finally(() => inflight.delete(abs));
  }
  return p;
}

/** The models folder's manifest.json (affiliates, files, version). */
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
