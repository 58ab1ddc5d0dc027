// engine.js - shared loading for the widget and the kiosk, over the shim (../prefrec.js):
// one PrefRec per set of item pack URLs and member per page (several widgets on a page share
// it), the signed-in member's record from the shop's backend, the models folder's
// manifest.json (web/kiosk/models-manifest.mjs writes it) and affiliate display names.
//   const m = await fetchMember('/api/prefrec/record');   // {status: 200, member} | {status: 401|404}
//   const pr = await engineFor([{ item: 'models/A01.item.pack' }], m.member);
//   pr.recommend({ affiliate: 'A01', list: 'buy_again', k: 8 });   // the member's own list
// No customer shard is ever fetched: a member's state comes only as their sealed record, opened
// with the key the backend gives the signed-in member or the member's card token (SECURITY.md,
// "Members' data").
import { PrefRec } from '../prefrec.js';

export const AFFILIATES = {
  A01: { ko: '백화점', en: 'Department store' },
  A02: { ko: '대형마트', en: 'Hypermarket' },
  A03: { ko: '슈퍼마켓', en: 'Supermarket' },
  A04: { ko: '편의점', en: 'Convenience store' },
  A05: { ko: '전자제품', en: 'Electronics' },
  A06: { ko: '온라인몰', en: 'Online mall' },
};
export const affiliateName = (a, lang = 'ko') => AFFILIATES[a]?.[lang] || a;

const engines = new Map(); // key: pack URLs + member id -> Promise<PrefRec>
const memberIds = new WeakMap(); // member object -> its id (engines of one member share a key)
let nextMember = 1;
const records = new Map(); // record URL -> Promise<{status, member?, error?}> (fetchMember)

/** A member object's id for the engine cache: 'm1', 'm2', ... (null: anonymous). */
export function memberId(member) {
  if (!member) return null;
  let id = memberIds.get(member);
  if (!id) memberIds.set(member, (id = `m${nextMember++}`));
  return id;
}

/** The absolute URL of an item pack; `version` (from manifest.json) is appended as ?v= so
 * caches key on the pack version. */
export function packUrl({ item, version = null }, base = document.baseURI) {
  const q = version ? `?v=${encodeURIComponent(version)}` : '';
  return new URL(item, base).href + q;
}

/** A PrefRec over these item packs, loaded once per page for the same URLs and member. With a
 * member ({record, key} from the backend, or {record, token, kid} / {record, pin, kid} at a
 * kiosk) the record is opened in it, and every request is then that member's. A failed load or
 * open is forgotten so that a retry tries again. A record that does not open throws the
 * engine's error (.status 'cannot open', 'other export', 'bad format', ...) with .member = true. */
export function engineFor(sources, member = null, base) {
  const urls = sources.map((s) => packUrl(s, base));
  const id = memberId(member);
  const key = JSON.stringify([urls, id]);
  let p = engines.get(key);
  if (!p) {
    p = PrefRec.load({ packs: urls }).then((pr) => {
      if (!member) return pr;
      try {
        // the record must be of the loaded packs' export: never the backend's export_id instead
        const { record, key, token, pin, kid } = member;
        pr.openMember({ record, key, token, pin, kid });
      } catch (e) {
        pr.close();
        e.member = true; // the packs loaded; the record did not open
        throw e;
      }
      return pr;
    });
    engines.set(key, p);
    p.catch(() => { if (engines.get(key) === p) engines.delete(key); });
  }
  return p;
}

/** Sign a member out of this page's engines: every engine that has this member open is closed
 * (the engine wipes the member's state) and forgotten. member null: every member's, and the
 * records fetched from the backend are forgotten too. */
export async function closeMember(member = null) {
  const id = member ? memberIds.get(member) : null;
  if (!member) records.clear();
  if (member && !id) return;
  const gone = [];
  for (const [key, p] of engines) {
    const mid = JSON.parse(key)[1];
    if (mid && (!id || mid === id)) {
      engines.delete(key);
      gone.push(p);
    }
  }
  for (const r of await Promise.allSettled(gone)) {
    if (r.status === 'fulfilled') {
      r.value.closeMember();
      r.value.close();
    }
  }
}

/** The signed-in member's record from the shop's backend (web/server/records.mjs): GET `url`
 * with the page's cookies, JSON {export_id, record, key} (base64). Resolves {status: 200,
 * member: {record, key, exportId}}, {status: 401} (nobody signed in), {status: 404} (no record:
 * new member, opted out), or {status: 0|5xx, error} (backend unreachable). Fetched once per page
 * and URL; fresh = true fetches again (after a sign-in or sign-out). */
export function fetchMember(url, { fresh = false, base = document.baseURI } = {}) {
  const abs = new URL(url, base).href;
  let p = records.get(abs);
  if (!p || fresh) {
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
  }
  return p;
}

/** The engine's request for an open member: no customer, gender or age (the record has them). */
export const memberRequest = ({ customer, gender, age, history, ...rest }) => rest;

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
