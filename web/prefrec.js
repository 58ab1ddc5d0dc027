// prefrec.js - the recommender in the browser, over the wasm engine (dist/, scripts/web-dist.sh).
// Docs: prefrec.d.ts, docs/engine.md.   const pr = await PrefRec.load('models/A01.pack');
// pr.recommend({ affiliate: 'A01', gender: 'F', age: '30대', k: 8 }).items;  pr.close();
// Packs are copied into the wasm heap once; engine errors throw Error (.code, .status).

// The glue is a static import, so it downloads with this module (the module graph) instead of
// after the wasm at the first load: one round trip less before the first recommendation.
import createEngine from './dist/prefrec-engine.js';
import { shardCount, shardFile, shardOf } from './shard.js';

// the customer shard rule (one definition, shared with the node tools)
export { fnv1a32, shardOf, shardFile, shardPath } from './shard.js';

/** The pack format versions this engine reads (include/prefrec/pack.h PREFREC_PACK_VERSION; the
 * engine refuses another with 'unsupported version' naming them). package.json's
 * prefrec.packFormats says the same (test/package.test.mjs); the package's major version changes
 * when a format is no longer read. */
export const packFormats = Object.freeze([1, 2, 3, 4]);

const WASM = new URL('./dist/prefrec-engine.wasm', import.meta.url);
const NODE = typeof process == 'object' && !!process.versions?.node;
// node's own modules, under node only: a computed specifier that bundlers leave alone (nothing to
// resolve or ship to a browser; Vite and webpack neither warn nor split a chunk for it)
const nodeImport = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`);
const enc = new TextEncoder();
const dec = new TextDecoder();
const SOURCES = ['known', 'history', 'segment', 'member'];
const STATUS = ['ok', 'invalid argument', 'out of memory', 'i/o error', 'parse error', 'bad format',
  'unsupported version', 'checksum mismatch', 'not found', 'out of range', 'empty',
  'cannot open', 'other export'];
let compiled; // the compiled engine (immutable): one compile per page

function fail(message, code = -1, status = STATUS[-code] || 'unknown status') {
  return Object.assign(new Error(message), { code, status });
}

// The JSON text of a request. Every number and string is checked by the engine (the same C code
// for request() and recommendTop()); JSON.stringify would send NaN and Infinity as null (the
// default) and throws a bare TypeError on a BigInt, so those are refused here, by name.
function requestText(req) {
  if (typeof req == 'string') return req;
  const at = new Map();
  return JSON.stringify(req, function (k, v) {
    const base = at.get(this), name = base ? (Array.isArray(this) ? `${base}[${k}]` : `${base}.${k}`) : k;
    if (v && typeof v == 'object') at.set(v, name);
    if (typeof v == 'bigint' || (typeof v == 'number' && !isFinite(v)))
      throw fail(`request: ${base ? name : `"${name}"`} is ${v}${typeof v == 'bigint' ? 'n' : ''}, which JSON cannot carry`);
    return v;
  });
}

async function bytesOf(src, what, signal) {
  if (src instanceof Uint8Array) return src;
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  const o = await openSource(src, what, signal); // a URL: fetched, or a node file
  if (o.res) return new Uint8Array(await o.res.arrayBuffer());
  const { readFile } = await nodeImport('fs/promises');
  try {
    return new Uint8Array(await readFile(o.file));
  } catch (e) {
    throw fail(`${what}: cannot read ${o.url}: ${e.code || e.message}`, -3);
  }
}

// p, or signal's reason as soon as it is aborted (the work under p goes on; its result, or its
// error, is dropped: p always has a handler).
function abortable(p, signal) {
  if (!signal) return p;
  return new Promise((resolve, reject) => {
    const stop = () => reject(signal.reason);
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

// Where a pack's bytes come from, opened but not read (the body is read straight into the wasm
// heap once the engine exists, by intoHeap): {bytes}, {file} (node) or {res} (a fetch Response).
async function openSource(src, what, signal) {
  if (src instanceof Uint8Array || src instanceof ArrayBuffer || ArrayBuffer.isView(src)) return { bytes: await bytesOf(src, what) };
  if (typeof src != 'string' && !(src instanceof URL)) throw fail(`${what}: expected a URL or bytes`);
  const url = String(src);
  if (NODE && !/^(https?|data|blob):/.test(url)) return { file: url.startsWith('file:') ? new URL(url) : url, url };
  let res;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw fail(`${what}: cannot fetch ${url}: ${e.message}`, -3);
  }
  if (!res.ok) throw fail(`${what}: cannot fetch ${url}: HTTP ${res.status}`, -3);
  return { res, url };
}

// One copy of a pack into the wasm heap: { p, n } (the caller hands p to the engine, which owns
// it). A fetch body is read chunk by chunk into a heap block sized from Content-Length (grown by
// doubling when the length is absent or is the compressed one: then one copy inside the heap);
// a node file is read into the heap block; given bytes are copied once.
async function intoHeap(m, src, what, signal) {
  const alloc = (n) => {
    const p = m._prefrec_wasm_malloc(n || 1);
    if (!p) throw fail(`${what}: out of memory copying into the wasm heap`, -2);
    return p;
  };
  if (src.bytes) {
    const p = alloc(src.bytes.length);
    m.HEAPU8.set(src.bytes, p); // the view is re-read: malloc may have grown memory
    return { p, n: src.bytes.length };
  }
  let p = 0, n = 0;
  try {
    if (src.file) {
      const { open } = await nodeImport('fs/promises');
      let fh;
      try {
        fh = await open(src.file);
        const size = (await fh.stat()).size;
        p = alloc(size);
        while (n < size) { // nothing else allocates in this engine meanwhile: the view stays valid
          const { bytesRead } = await fh.read(m.HEAPU8, p + n, size - n, n);
          if (!bytesRead) break;
          n += bytesRead;
        }
      } catch (e) {
        throw e.status ? e : fail(`${what}: cannot read ${src.url}: ${e.code || e.message}`, -3);
      } finally {
        await fh?.close();
      }
      return { p, n };
    }
    const res = src.res, len = Number(res.headers.get('content-length')) || 0;
    if (!res.body?.getReader) { // no stream: the whole body, then one copy
      const b = new Uint8Array(await res.arrayBuffer());
      p = alloc(b.length);
      m.HEAPU8.set(b, p);
      return { p, n: b.length };
    }
    let cap = len || 1 << 20;
    p = alloc(cap);
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (n + value.length > cap) {
        const ncap = Math.max(2 * cap, n + value.length), q = alloc(ncap);
        m.HEAPU8.copyWithin(q, p, p + n);
        m._prefrec_wasm_free(p);
        p = q;
        cap = ncap;
      }
      m.HEAPU8.set(value, p + n);
      n += value.length;
    }
    return { p, n };
  } catch (e) {
    if (p) m._prefrec_wasm_free(p);
    if (signal?.aborted) throw signal.reason;
    throw e.status ? e : fail(`${what}: cannot read ${src.url}: ${e.message}`, -3);
  }
}

// A pack's Subresource Integrity ("sha256-<base64>", as the site's manifest.json names it): a
// pack replaced on a CDN is refused before it is read (SECURITY.md, "Pack authenticity").
async function checkIntegrity(bytes, integrity, what) {
  const m = /^sha256-([A-Za-z0-9+/]+={0,2})$/.exec(integrity);
  if (!m) throw fail(`${what}: integrity must be "sha256-<base64>"`, -1);
  let digest;
  if (globalThis.crypto?.subtle) digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  else digest = (await nodeImport('crypto')).createHash('sha256').update(bytes).digest();
  if (btoa(String.fromCharCode(...digest)) !== m[1])
    throw fail(`${what}: its SHA-256 is not the one its manifest names (the file was replaced or altered)`, -7);
  return bytes;
}

function compile(wasm) {
  if (wasm instanceof WebAssembly.Module) return Promise.resolve(wasm);
  if (wasm) return bytesOf(wasm, 'wasm').then((b) => WebAssembly.compile(b));
  return compiled ||= (!NODE && WebAssembly.compileStreaming
    ? fetch(WASM).then((r) => {
      if (!r.ok) throw fail(`engine: cannot fetch ${WASM}: HTTP ${r.status}`, -3);
      return WebAssembly.compileStreaming(r);
    })
    : bytesOf(WASM, 'engine').then((b) => WebAssembly.compile(b))).catch((e) => {
    compiled = null; // let a later load try again
    throw e;
  });
}

/** Shard URL of an item pack URL: A01.item.pack -> A01.cust.007.pack, or from p.shardUrl. */
function shardUrl(p, n) {
  if (p.shardUrl) return p.shardUrl.replace('{shard}', String(n).padStart(3, '0'));
  if (typeof p.item != 'string' && !(p.item instanceof URL)) throw fail('pack: shards need an item URL or shardUrl');
  const url = p.item instanceof URL ? p.item : /^(https?|file):/.test(p.item) ? new URL(p.item) : null;
  return url ? new URL(shardFile(url.pathname, n), url).href : shardFile(p.item, n);
}

// Bytes from a Uint8Array, an ArrayBuffer (view), a base64 string or (hex: true) hex digits.
function bytesFrom(v, what, { hex = false, size = 0 } = {}) {
  let b;
  if (v instanceof Uint8Array) b = v;
  else if (v instanceof ArrayBuffer) b = new Uint8Array(v);
  else if (ArrayBuffer.isView(v)) b = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  else if (typeof v == 'string' && hex && /^([0-9a-fA-F]{2})+$/.test(v)) b = Uint8Array.from(v.match(/../g), (h) => parseInt(h, 16));
  else if (typeof v == 'string' && !hex && /^[A-Za-z0-9+/]*={0,2}$/.test(v)) b = Uint8Array.from(atob(v), (c) => c.charCodeAt(0));
  else throw fail(`${what}: expected bytes or ${hex ? 'hex digits' : 'base64'}`, -1);
  if (size && b.length !== size) throw fail(`${what}: ${b.length} bytes, expected ${size}`, -1);
  return b;
}

const KINDS = { key: 0, token: 1, pin: 2 };

export class PrefRec {
  #m; #s; #scratch; #codes = [];

  constructor(m, s) {
    this.#m = m;
    this.#s = s;
    this.info = [];
    /** The signed-in member's own summary ({gender, age, affiliates}) or null. */
    this.member = null;
  }

  /** The loaded packs' export id (32 hex digits), or null when they have none (SECURITY.md). */
  get exportId() {
    return this.info.find((i) => i.export_id)?.export_id ?? null;
  }

  /** A member's record file name: hex(kid) + '.rec', kid = HMAC-SHA-256(naming key,
   * "prefrec kid v1\0" + code) cut to 16 bytes (WebCrypto; a kiosk's records directory). */
  static async memberKid(namingKey, code) {
    const k = await crypto.subtle.importKey('raw', bytesFrom(namingKey, 'naming key', { hex: true, size: 32 }),
      { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const msg = enc.encode(`prefrec kid v1\0${code}`);
    return new Uint8Array(await crypto.subtle.sign('HMAC', k, msg)).subarray(0, 16);
  }

  /** Open the signed-in member's sealed record with the key the shop's backend gave for it
   * ({record, key}), or with the member's card token ({record, token}) or PIN ({record, pin}).
   * Every later request is for this member (no customer, gender or age in it). Throws with
   * .status 'cannot open' (wrong secret or altered record), 'other export', 'bad format'... */
  openMember({ record, key, token, pin, kid, exportId } = {}) {
    const m = this.#live();
    const kind = key !== undefined && key !== null ? 'key' : token !== undefined && token !== null ? 'token'
      : pin !== undefined && pin !== null ? 'pin' : null;
    if (!kind) throw fail('openMember: give the record with its key, a card token or a PIN', -1);
    const eidHex = exportId ?? this.exportId;
    if (!eidHex) throw fail('openMember: the packs name no export id (prefrec export --records)', -12);
    const rec = bytesFrom(record, 'record'), eid = bytesFrom(eidHex, 'export id', { hex: true, size: 16 });
    const secret = kind === 'key' ? bytesFrom(key, 'key', { size: 32 })
      : kind === 'token' ? bytesFrom(token, 'token', { hex: true }) : enc.encode(String(pin));
    const kidB = kid !== undefined && kid !== null ? bytesFrom(kid, 'kid', { hex: true, size: 16 }) : null;
    const bufs = [rec, eid, secret, kidB].map((b) => (b ? this.#copy(b) : 0));
    let st;
    try {
      st = m._prefrec_wasm_member_open(this.#s, bufs[0], rec.length, bufs[1], bufs[3], KINDS[kind], bufs[2], secret.length);
    } finally {
      m.HEAPU8.fill(0, bufs[2], bufs[2] + secret.length); // the secret does not stay in the heap
      for (const b of bufs) if (b) m._prefrec_wasm_free(b);
      if (kind !== 'key') secret.fill(0);
    }
    if (st < 0) throw this.#error(st);
    this.member = JSON.parse(this.#take(m._prefrec_wasm_member_info(this.#s)));
    return this.member;
  }

  /** Forget the member (their state is wiped from the engine's memory). */
  closeMember() {
    if (this.#s) this.#m._prefrec_wasm_member_close(this.#s);
    this.member = null;
  }

  /** Start fetching and compiling the engine now, so that a later load() finds it compiled:
   * a page calls it as soon as it knows it will recommend, before it knows its packs (the
   * widget and the kiosk do while they fetch their messages or manifest). Resolves once the
   * engine is compiled; a failure rejects here and a later load() tries again. */
  static prepare(options = {}) {
    return compile(options.wasm).then(() => undefined);
  }

  /** Load packs (URLs, paths under node, or bytes). See prefrec.d.ts for the forms.
   * options.signal (an AbortSignal) stops it: fetches are aborted, the promise rejects with the
   * signal's reason, and nothing stays allocated. */
  static async load(source, options = {}) {
    const list = source?.packs || [source];
    if (!list.length) throw fail('load: no packs given', -10);
    const signal = options.signal ?? null;
    signal?.throwIfAborted(); // before any fetch starts
    // the fetches start with the compile; their bodies are read into the heap (one copy) once
    // the engine is instantiated, and each pack is checked (CRC, bounds) by the engine as before
    const [mod, packs] = await abortable(Promise.all([
      compile(options.wasm || source?.wasm),
      Promise.all(list.map(async (p) => {
        const o = p?.item ? p : { item: p };
        const ns = (o.shards ?? 0) === 0 ? 0 : shardCount(o.shards); // 0 or absent: not sharded
        const customers = o.customers ?? (ns && o.customer != null ? shardUrl(o, shardOf(o.customer, ns)) : null);
        const [item, cust] = await Promise.all([openSource(o.item, 'item pack', signal),
          customers && openSource(customers, 'customer pack', signal)]);
        return { item, cust, integrity: o.integrity, name: o.item };
      })),
    ]), signal);
    const m = await new Promise((resolve, reject) => createEngine({
      instantiateWasm: (imports, done) => {
        WebAssembly.instantiate(mod, imports).then((i) => done(i, mod), reject);
        return {};
      },
    }).then(resolve, reject));
    signal?.throwIfAborted();
    const s = m._prefrec_wasm_session_new();
    const pr = new PrefRec(m, s);
    try {
      for (const { item, cust, integrity, name } of packs) {
        signal?.throwIfAborted();
        const a = await intoHeap(m, item, 'item pack', signal);
        let b = { p: 0, n: 0 };
        try {
          if (integrity) await checkIntegrity(m.HEAPU8.subarray(a.p, a.p + a.n), integrity, `item pack ${name}`);
          if (cust) b = await intoHeap(m, cust, 'customer pack', signal);
        } catch (e) {
          m._prefrec_wasm_free(a.p);
          throw e;
        }
        const st = m._prefrec_wasm_session_add(s, a.p, a.n, b.p, b.n); // owns both from here
        if (st < 0) throw pr.#error(st);
      }
    } catch (e) {
      pr.close();
      throw e;
    }
    pr.info = JSON.parse(pr.#take(m._prefrec_wasm_session_info(s)));
    return pr;
  }

  #live() {
    if (!this.#s) throw fail('PrefRec: closed');
    return this.#m;
  }
  #copy(bytes) {
    const m = this.#m, p = m._prefrec_wasm_malloc(bytes.length);
    if (!p) throw fail('out of memory copying into the wasm heap', -2);
    m.HEAPU8.set(bytes, p); // the view is re-read: malloc may have grown memory
    return p;
  }
  #str(p) {
    const h = this.#m.HEAPU8;
    return dec.decode(h.subarray(p, h.indexOf(0, p)));
  }
  #take(p) {
    if (!p) throw fail('out of memory', -2);
    try {
      return this.#str(p);
    } finally {
      this.#m._prefrec_wasm_free(p);
    }
  }
  #error(st) {
    return fail(this.#str(this.#m._prefrec_wasm_session_error(this.#s)), st);
  }

  /** Any request of the JSON API (docs/engine.md); the response object, or throws. */
  request(req) {
    const m = this.#live();
    const text = enc.encode(requestText(req));
    const p = this.#copy(text);
    let out;
    try {
      out = JSON.parse(this.#take(m._prefrec_wasm_session_handle(this.#s, p, text.length)));
    } finally {
      m._prefrec_wasm_free(p);
    }
    if (!out.ok) throw fail(out.error.message, out.error.code, out.error.status);
    return out;
  }
  recommend(q = {}) { return this.request({ ...q, plan: 'recommend' }); }
  planSubscribe(q = {}) { return this.request({ ...q, plan: 'subscribe' }); }
  planRatio(q = {}) { return this.request({ ...q, plan: 'ratio' }); }
  planStamp(q = {}) { return this.request({ ...q, plan: 'stamp' }); }

  /** The typed fast path: top-k product codes and scores, no names or reasons. The request is
   * read and checked by the same C code as recommend() (same errors). */
  recommendTop(q = {}) {
    const m = this.#live(), s = this.#s;
    const text = enc.encode(requestText({ ...q, plan: 'recommend' })), p = this.#copy(text);
    if (!this.#scratch) this.#scratch = m._prefrec_wasm_malloc(8 * 130 + 20);
    const idx = this.#scratch, sc = idx + 4 * 130, meta = sc + 4 * 130;
    let n;
    try {
      n = m._prefrec_wasm_session_top(s, p, text.length, idx, sc, meta);
    } finally {
      m._prefrec_wasm_free(p);
    }
    if (n < 0) throw this.#error(n);
    const h32 = m.HEAP32, mt = h32.subarray(meta >> 2, (meta >> 2) + 5), e = mt[4];
    const ids = Int32Array.from(h32.subarray(idx >> 2, (idx >> 2) + n + mt[3]));
    const scores = Float32Array.from(m.HEAPF32.subarray(sc >> 2, (sc >> 2) + n + mt[3]));
    const code = (i) => (this.#codes[e] ||= [])[i] ??= this.#str(m._prefrec_wasm_session_product(s, e, i, 0));
    const res = {
      affiliate: this.info[e].affiliate, source: SOURCES[mt[0]], ranker: mt[1] === 1 ? 'blend' : 'neumf',
      indices: ids.subarray(0, n), scores: scores.subarray(0, n), codes: [...ids.subarray(0, n)].map(code),
    };
    if (q.sample > 0) res.sampled = [...ids.subarray(n)].map((i, j) => ({ code: code(i), score: scores[n + j] }));
    return res;
  }

  /** Free the engine's memory; the object is unusable afterwards. Safe to call twice. */
  close() {
    if (!this.#s) return;
    this.#m._prefrec_wasm_free(this.#scratch);
    this.#m._prefrec_wasm_session_free(this.#s); // wipes the member's state too
    this.#s = 0;
    this.member = null;
  }
}

export default PrefRec;
