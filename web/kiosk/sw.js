// sw.js - the kiosk's offline copy. Registered by kiosk.js as sw.js?models=<absolute URL of the
// models folder>. Caches:
//   prefrec-kiosk-app-v<N>          the app, the widget, the shim and the engine (bump N with app changes)
//   prefrec-kiosk-packs-<version>   manifest.json and every pack as <file>?v=<version> (the page
//                                   asks for exactly these URLs); when manifest.json announces a
//                                   new version, its packs are cached and then the old cache is
//                                   deleted, so a new pack replaces the old one.
// Fetches: the app and manifest.json network first (fresh when online), falling back to the
// cache; packs and the engine cache first.
const APP = 'prefrec-kiosk-app-v2';
const PACKS = 'prefrec-kiosk-packs-';
const MODELS = new URL(new URL(self.location.href).searchParams.get('models') || '../../models/', self.location.href).href;
const MANIFEST = new URL('manifest.json', MODELS).href;
const MARK = new URL('__complete__', MODELS).href;
const SHELL = ['./', './index.html', './kiosk.js', './kiosk.css', '../widget/engine.js', '../widget/prefrec-widget.js',
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
      for (const f of m.files) {
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
  } else if (url.pathname.endsWith('.pack') || url.pathname.includes('/dist/')) {
    ev.respondWith(cacheFirst(req));
  } else {
    ev.respondWith(networkFirst(req, { ignoreSearch: req.mode === 'navigate' }));
  }
});
