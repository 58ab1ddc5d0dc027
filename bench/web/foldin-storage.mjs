// bench/web/foldin-storage.mjs - does a storage choice change what a folded-in member is shown?
// Two item packs of one model (say exported with product.target=f32 and with the default plan)
// answer the same fold-in requests: histories of members of the full pack, sent as histories of
// a member the packs do not know. Prints, per ranker, how many top-k lists are identical and the
// mean overlap.
//   node bench/web/foldin-storage.mjs FULL.pack A.item.pack B.item.pack [--n 400] [--k 30]
// FULL.pack: the full pack prefrec train wrote (its customers' bought sets give the histories,
// at most 60 products each, members drawn with a fixed seed).
import { readFileSync } from 'node:fs';
import { PrefRec } from '../../web/prefrec.js';
import { readPack } from '../../web/kiosk/models-manifest.mjs';
import { option } from './harness.mjs';

const args = process.argv.slice(2);
const n = Number(option(args, '--n', '400')), k = Number(option(args, '--k', '30'));
const [full, packA, packB] = args;
if (!full || !packA || !packB) {
  console.error('usage: node bench/web/foldin-storage.mjs FULL.pack A.item.pack B.item.pack [--n 400] [--k 30]');
  process.exit(2);
}

// the histories: product codes of members' bought sets
const buf = readFileSync(full), pk = readPack(buf, full), t = pk.tensors;
for (const need of ['product.code.off', 'product.code.str', 'customer.bought.off', 'customer.bought.idx']) {
  if (!t[need] || t[need].dtype === 11) throw new Error(`${full}: no ${need} in f32 layout (give the full pack prefrec train wrote)`);
}
const u32 = (tt, i) => pk.dv.getUint32(tt.offset + 4 * i, true);
const codeOf = (p) => buf.toString('utf8', t['product.code.str'].offset + u32(t['product.code.off'], p),
  t['product.code.str'].offset + u32(t['product.code.off'], p + 1) - 1);
const members = t['customer.bought.off'].shape[0] - 1;
let seed = 1; // a fixed linear congruential draw: the same members every run
const draw = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % members;
const histories = [];
for (let i = 0; i < Math.min(n, members); i++) {
  const c = draw(), a = u32(t['customer.bought.off'], c), b = Math.min(u32(t['customer.bought.off'], c + 1), a + 60);
  const h = [];
  for (let j = a; j < b; j++) h.push(codeOf(pk.dv.getInt32(t['customer.bought.idx'].offset + 4 * j, true)));
  if (h.length) histories.push(h);
}

const [A, B] = await Promise.all([packA, packB].map((f) => PrefRec.load(new Uint8Array(readFileSync(f)))));
for (const ranker of ['neumf', 'blend']) {
  let same = 0, overlap = 0;
  for (const history of histories) {
    const req = { customer: 'NOT-A-MEMBER', history, gender: 'F', age: 40, k, ranker };
    const a = A.recommend(req).items.map((x) => x.product), b = B.recommend(req).items.map((x) => x.product);
    same += a.length === b.length && a.every((p, i) => p === b[i]);
    overlap += a.filter((p) => b.includes(p)).length / Math.max(a.length, 1);
  }
  console.log(`${ranker}: ${histories.length} fold-ins (top ${k}): identical lists ${same} of ${histories.length}, mean overlap ${(overlap / histories.length).toFixed(4)}`);
}
A.close();
B.close();
