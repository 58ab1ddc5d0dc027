// A shop page: the API (one list rendered by hand, an aborted load) and two widgets sharing one
// engine. What happened is written into the page (data-* attributes, #events) for the test.
import { PrefRec, packFormats } from 'prefrec';
import 'prefrec/widget';

const events = [];
for (const type of ['prefrec-ready', 'prefrec-shown', 'prefrec-select', 'prefrec-error']) {
  document.addEventListener(type, (e) => {
    const d = e.detail;
    events.push({ type, id: e.target.id, code: d?.code, codes: d?.codes, message: d?.message,
      bubbles: e.bubbles, composed: e.composed, custom: e instanceof CustomEvent });
    document.getElementById('events').textContent = JSON.stringify(events);
  });
}

async function api() {
  const pr = await PrefRec.load('/models/A02.item.pack');
  const r = pr.recommend({ gender: 'F', age: '30대', k: 5 });
  const ul = document.getElementById('api');
  for (const it of r.items) ul.append(Object.assign(document.createElement('li'), { textContent: `${it.code} ${it.name}` }));
  ul.dataset.affiliate = r.affiliate;
  ul.dataset.source = r.source;
  pr.close();

  const ac = new AbortController();
  const p = PrefRec.load('/models/A03.item.pack', { signal: ac.signal });
  ac.abort();
  document.body.dataset.abort = await p.then(() => 'loaded', (e) => e.name);
  document.body.dataset.packFormats = packFormats.join(',');
}
api().catch((e) => {
  document.body.dataset.error = e.message;
});
