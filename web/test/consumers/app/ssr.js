// Server-side rendering: the package's entry points imported in node, where there is no window
// or document; nothing may run (no fetch, no new globals) until load() is called, which then
// works under node (packs read from files). Prints one JSON line.
//   node ssr.js <item pack>
const before = new Set(Object.getOwnPropertyNames(globalThis));
let fetches = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = (...a) => {
  fetches++;
  return realFetch(...a);
};
const api = await import('prefrec');
const widget = await import('prefrec/widget');
await new Promise((r) => setTimeout(r, 50));
const out = {
  window: typeof window, document: typeof document, exports: Object.keys(api).sort(), widget: Object.keys(widget).sort(),
  added: Object.getOwnPropertyNames(globalThis).filter((k) => !before.has(k)), fetches, packFormats: api.packFormats,
};
const pr = await api.PrefRec.load(process.argv[2]);
const r = pr.recommend({ gender: 'M', age: 45, k: 5 });
out.source = r.source;
out.codes = r.items.map((it) => it.code);
pr.close();
console.log(JSON.stringify(out));
