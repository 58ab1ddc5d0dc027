import { PrefRec } from 'prefrec';

const csp = []; // Content-Security-Policy violations seen in the worker
self.addEventListener('securitypolicyviolation', (e) => csp.push(`${e.violatedDirective} ${e.blockedURI}`));

self.onmessage = async (e) => {
  try {
    const { pack, gender, age } = e.data;
    const pr = await PrefRec.load(pack);
    const r = pr.recommend({ gender, age, k: 5 });
    const top = pr.recommendTop({ gender, age, k: 5 });
    self.postMessage({ inWorker: typeof document == 'undefined' && typeof WorkerGlobalScope == 'function',
      csp, source: r.source, codes: r.items.map((it) => it.code), topCodes: top.codes });
    pr.close();
  } catch (err) {
    self.postMessage({ error: String(err?.message ?? err) });
  }
};
