// shard.js - the customer shard rule of `prefrec export --shards N` (src/train/pack_export.c is
// the reference; test/shard.test.mjs holds the two together): customer c lives in shard
// fnv1a32(c) % N, in the file <stem>.cust.NNN.pack next to <stem>.item.pack (NNN: 3 digits).
// No engine here, so node tools (kiosk/models-manifest.mjs) use it without the wasm build;
// prefrec.js re-exports all of it.
//   shardPath('models/A01.item.pack', 'M000034966', 4)   // 'models/A01.cust.002.pack'

const enc = new TextEncoder();
const MAX_SHARDS = 4096;

function fail(message) { // as prefrec.js's errors: code -9 = PREFREC_E_RANGE
  return Object.assign(new Error(message), { code: -9, status: 'out of range' });
}

/** FNV-1a 32 over the UTF-8 bytes of s: the customer shard key (shard = hash % n). */
export function fnv1a32(s) {
  let h = 0x811c9dc5;
  for (const b of enc.encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** n if it is a shard count `prefrec export --shards` accepts (an integer 1..4096), else throws. */
export function shardCount(n) {
  if (!(Number.isInteger(n) && n >= 1 && n <= MAX_SHARDS)) throw fail(`shards must be an integer 1..${MAX_SHARDS}, got ${n}`);
  return n;
}

/** The shard holding customer among n shards. */
export const shardOf = (customer, n) => fnv1a32(customer) % shardCount(n);

/** The file of shard number `shard` (0..4095) of an item pack path or URL path:
 * A01.item.pack (or A01.pack) -> A01.cust.007.pack. */
export function shardFile(itemPath, shard) {
  if (!(Number.isInteger(shard) && shard >= 0 && shard < MAX_SHARDS)) throw fail(`shard must be an integer 0..${MAX_SHARDS - 1}, got ${shard}`);
  const p = String(itemPath);
  if (!/\.pack$/.test(p)) throw fail(`${p}: an item pack name ends in .item.pack or .pack`);
  return p.replace(/\.item\.pack$|\.pack$/, `.cust.${String(shard).padStart(3, '0')}.pack`);
}

/** The file of customer's shard among `shards` next to the item pack itemPath. */
export const shardPath = (itemPath, customer, shards) => shardFile(itemPath, shardOf(customer, shards));
