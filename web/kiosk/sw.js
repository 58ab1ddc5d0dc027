// sw.js - the kiosk's offline copy. Registered by kiosk.js as sw.js?models=<absolute URL of the
// models folder>&records=<absolute URL of the member records folder>. Caches:
//   prefrec-kiosk-app-v<N>          the app, the widget, the shim and the engine (bump N with app changes)
//   prefrec-kiosk-packs-<version>   manifest.json and every item pack as <file>?v=<version> (the
//                                   page asks for exactly these URLs); when manifest.json announces
//                                   a new version, its packs are cached and then the old cache is
//                                   deleted, so a new pack replaces the old one. Customer shards
//                                   (*.cust.NNN.pack) are never fetched.
//   prefrec-kiosk-records-<export>  the records folder's export.json and the sealed member records
//                                   (<kid>.rec): every file records.json lists (web/kiosk/records-
//                                   manifest.mjs writes it), else each record when first opened;
//                                   a new export's records replace the old export's the same way.
// Fetches: the app, manifest.json and export.json network first (fresh when online), falling back
// to the cache; packs, records and the engine cache first.
const APP = 'prefrec-kiosk-app-v4';
const PACKS = 'prefrec-kiosk-packs-';
const RECS = 'prefrec-kiosk-records-';
const params = new URL(self.location.href).searchParams;
const MODELS = new URL(params.get('models') || '../../models/', self.location.href).href;
const RECORDS = new URL(params.get('records') || '/kiosk-records/', self.location.href).href;
const MANIFEST = new URL('manifest.json', MODELS).href;
const MARK = new URL('__complete__', MODELS).href;
const EXPORT = new URL('export.json', RECORDS).href;
const LIST = new URL('records.json', RECORDS).href;
const RMARK = new URL('__complete__', RECORDS).href;
const SHARD = /\.cust\.\d{3}\.pack$/;
const SHELL = ['./', './index.html', './kiosk.js', './kiosk.css', '../widget/engine.js', '../widget/prefrec-widget.js',
  '../i18n/i18n.js', '../i18n/ko.json', '../i18n/en.json',
  '../prefrec.js', '../shard.js', '../dist/prefrec-engine.js', '../dist/prefrec-engine.wasm'].map((u) => new URL(u, self.location.href).href);

let caching = null; // the version being cached, so parallel manifest fetches cache once

async function cachePacks(m) {
  if (!m || m.format !== 'prefrec-models' || !/^[0-9a-f]+$/.test(m.version)) return;
  const name = PACKS + m.version;
  const c = await caches.open(name);
  if (!(await c.match(MARK)) && caching !== m.version) {
    caching = m.version;
    try {
      await c.put(MANIFEST, new Response(JSON.stringify(m), { headers: { 'content-type': 'application/json' } }));
      for (const f of m.files.filter((x) => !SHARD.test(x))) {
        const url = new URL(`${f}?v=${m.version}`, MODELS).href;
        if (!(await c.match(url))) await c.add(url);
      }
      await c.put(MARK, new Response(m.version));
    } finally {
      caching = null;
    }
  }
  if (!(await c.match(MARK))) return;
  for (const k of await caches.keys()) if (k.startsWith(PACKS) && k !== name) await caches.delete(k);
  for (const client of await self.clients.matchAll()) client.postMessage({ type: 'packs-cached', version: m.version });
}

let cachingRecords = null; // the export being cached

/** Cache the records of export e (export.json's content): every file records.json lists, when
 * there is one; then the mark, and the older exports' caches are deleted. */
async function cacheRecords(e) {
  if (!e || e.format !== 'prefrec-records' || !/^[0-9a-f]{32}$/.test(e.export_id)) return;
  const c = await caches.open(RECS + e.export_id);
  if (!(await c.match(RMARK)) && cachingRecords !== e.export_id) {
    cachingRecords = e.export_id;
    try {
      await c.put(EXPORT, new Response(JSON.stringify(e), { headers: { 'content-type': 'application/json' } }));
      const r = await fetch(LIST, { cache: 'no-cache' });
      const list = r.ok ? await r.json() : null;
      if (list?.format === 'prefrec-kiosk-records' && list.export_id === e.export_id) {
        for (const f of list.files.filter((x) => /^[0-9a-f]{32}\.rec$/.test(x))) {
          const url = new URL(f, RECORDS).href;
          if (!(await c.match(url))) await c.add(url);
        }
        await c.put(RMARK, new Response('all'));
      } else {
        await c.put(RMARK, new Response('on demand')); // no list: each record as it is first opened
      }
    } finally {
      cachingRecords = null;
    }
  }
  if (!(await c.match(RMARK))) return;
  for (const k of await caches.keys()) if (k.startsWith(RECS) && k !== RECS + e.export_id) await caches.delete(k);
  for (const client of await self.clients.matchAll()) client.postMessage({ type: 'records-cached', export_id: e.export_id });
}

/** A member record: from the cache, else from the network, kept in the current export's cache. */
async function record(req) {
  const hit = await caches.match(req, { ignoreSearch: true });
  if (hit) return hit;
  const r = await fetch(req);
  if (r.ok) {
    const e = await (await caches.match(EXPORT))?.json().catch(() => null);
    if (e?.export_id) await (await caches.open(RECS + e.export_id)).put(req.url, r.clone());
  }
  return r;
}

async function fetchManifest() {
  const r = await fetch(MANIFEST, { cache: 'no-cache' });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r;
}

self.addEventListener('install', (ev) => {
  ev.waitUntil((async () => {
    await (await caches.open(APP)).addAll(SHELL);
    try {
      await cachePacks(await (await fetchManifest()).json());
    } catch {
      /* no packs yet: the app is cached, the packs follow with the next manifest fetch */
    }
    try {
      const r = await fetch(EXPORT, { cache: 'no-cache' });
      if (r.ok) await cacheRecords(await r.json());
    } catch {
      /* no records yet: they follow with the next export.json fetch */
    }
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil((async () => {
    for (const k of await caches.keys()) if (k.startsWith('prefrec-kiosk-app-') && k !== APP) await caches.delete(k);
    await self.clients.claim();
  })());
});

async function networkFirst(req, opts) {
  try {
    const r = await fetch(req);
    if (r.ok) return r;
    return (await caches.match(req, opts)) || r;
  } catch (e) {
    const hit = await caches.match(req, opts);
    if (hit) return hit;
    throw e;
  }
}

async function cacheFirst(req) {
  return (await caches.match(req)) || fetch(req);
}

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  const url = new URL(req.url);
  const bare = url.origin + url.pathname;
  if (bare === MANIFEST) {
    ev.respondWith((async () => {
      try {
        const r = await fetchManifest();
        ev.waitUntil(r.clone().json().then(cachePacks).catch(() => {}));
        return r;
      } catch {
        const hit = await caches.match(MANIFEST);
        return hit || new Response('offline and no cached manifest', { status: 503 });
      }
    })());
  } else if (bare === EXPORT) {
    ev.respondWith((async () => {
      try {
        const r = await fetch(EXPORT, { cache: 'no-cache' });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        ev.waitUntil(r.clone().json().then(cacheRecords).catch(() => {}));
        return r;
      } catch {
        const hit = await caches.match(EXPORT);
        return hit || new Response('offline and no cached member records', { status: 503 });
      }
    })());
  } else if (bare.startsWith(RECORDS) && bare.endsWith('.rec')) {
    ev.respondWith(record(req));
  } else if (url.pathname.endsWith('.pack') || url.pathname.includes('/dist/')) {
    ev.respondWith(cacheFirst(req));
  } else {
    ev.respondWith(networkFirst(req, { ignoreSearch: req.mode === 'navigate' }));
  }
});
