// shard.js - the customer shard rule of `prefrec export --shards N` (src/train/pack_export.c;
// test/shard.test.mjs holds the two together): customer c is in shard fnv1a32(c) % N, file
// <stem>.cust.NNN.pack beside <stem>.item.pack. No engine: node tools use it without the wasm
// build; prefrec.js re-exports it. Types: prefrec.d.ts.
const enc = new TextEncoder();
const fail = (m) => Object.assign(new Error(m), { code: -9, status: 'out of range' }); // as prefrec.js

export function fnv1a32(s) {
  let h = 0x811c9dc5;
  for (const b of enc.encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

export function shardCount(n) { // an integer 1..4096, as `prefrec export --shards`
  if (!(Number.isInteger(n) && n >= 1 && n <= 4096)) throw fail(`shards must be an integer 1..4096, got ${n}`);
  return n;
}

export const shardOf = (customer, n) => fnv1a32(customer) % shardCount(n);

export function shardFile(itemPath, shard) { // A01.item.pack (or A01.pack), 7 -> A01.cust.007.pack
  const p = String(itemPath);
  if (!(Number.isInteger(shard) && shard >= 0 && shard < 4096)) throw fail(`shard must be an integer 0..4095, got ${shard}`);
  if (!p.endsWith('.pack')) throw fail(`${p}: an item pack name ends in .item.pack or .pack`);
  return p.replace(/(\.item)?\.pack$/, `.cust.${String(shard).padStart(3, '0')}.pack`);
}

export const shardPath = (itemPath, customer, shards) => shardFile(itemPath, shardOf(customer, shards));
