// Scoring off the main thread: a dedicated module worker loads the engine and answers.
const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
w.onmessage = (e) => {
  document.body.dataset.worker = JSON.stringify(e.data);
};
w.onerror = (e) => {
  document.body.dataset.worker = JSON.stringify({ error: e.message || 'worker error' });
};
w.postMessage({ pack: new URL('/models/A01.item.pack', location.href).href, gender: 'M', age: 45 });
