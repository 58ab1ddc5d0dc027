// Large model packs with a valid CRC and extreme dimensions, written here byte by byte from
// docs/model.md (the JS twin of tests/big_pack.h), for the budget tests of the shim and the WASI
// kiosk (test/bigpack.test.mjs). Nothing is committed: the review's 10 MB pack is made in ~0.2 s.
//   const bytes = neumfPack({ products: 300000, dim: 1, mlp: [4096] });  // Uint8Array
// Kept out of test/ because node --test runs every .mjs there.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32 (zlib) of bytes, continuing from crc. */
export function crc32(bytes, crc = 0) {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 255] ^ (c >>> 8);
  return ~c >>> 0;
}

const DT = { f32: [0, 4], u8: [3, 1], i32: [4, 4], u32: [5, 4] };
const up64 = (x) => Math.ceil(x / 64) * 64;
const enc = new TextEncoder();

/** A pack of manifest (object) and tensors [{name, dtype, shape, fill(view)}], CRC set. */
export function buildPack(manifest, tensors) {
  const man = enc.encode(JSON.stringify(manifest));
  const toff = 64 + man.length, doff = up64(toff + 64 * tensors.length);
  let end = doff;
  const offs = tensors.map((t) => {
    end = up64(end);
    const at = end;
    end += t.shape.reduce((a, b) => a * b, 1) * DT[t.dtype][1];
    return at;
  });
  const b = new Uint8Array(end), v = new DataView(b.buffer);
  b.set(enc.encode('PRFPACK\0'), 0);
  v.setUint32(8, 1, true);
  v.setUint32(12, 64, true);
  v.setBigUint64(16, BigInt(end), true);
  v.setUint32(24, 64, true);
  v.setUint32(28, man.length, true);
  v.setUint32(32, toff, true);
  v.setUint32(36, tensors.length, true);
  v.setBigUint64(40, BigInt(doff), true);
  v.setBigUint64(48, BigInt(end - doff), true);
  b.set(man, 64);
  tensors.forEach((t, i) => {
    const e = toff + 64 * i;
    b.set(enc.encode(t.name), e);
    v.setUint32(e + 32, DT[t.dtype][0], true);
    v.setUint32(e + 36, t.shape.length, true);
    for (let k = 0; k < 4; k++) v.setUint32(e + 40 + 4 * k, k < t.shape.length ? t.shape[k] : 1, true);
    v.setBigUint64(e + 56, BigInt(offs[i]), true);
    const n = t.shape.reduce((a, x) => a * x, 1);
    const Arr = { f32: Float32Array, u8: Uint8Array, i32: Int32Array, u32: Uint32Array }[t.dtype];
    t.fill(new Arr(b.buffer, offs[i], n));
  });
  v.setUint32(60, crc32(b.subarray(64), crc32(b.subarray(0, 60))), true);
  return b;
}

/** The two tensors of a string table of n strings, string i = str(i). */
function strings(base, n, str) {
  const parts = Array.from({ length: n }, (_, i) => enc.encode(str(i)));
  const size = parts.reduce((a, p) => a + p.length + 1, 0);
  return [
    { name: `${base}.off`, dtype: 'u32', shape: [n + 1], fill: (o) => { let at = 0; parts.forEach((p, i) => { o[i] = at; at += p.length + 1; }); o[n] = at; } },
    { name: `${base}.str`, dtype: 'u8', shape: [size], fill: (s) => { let at = 0; for (const p of parts) { s.set(p, at); at += p.length + 1; } } },
  ];
}

/** A NeuMF item pack (no blend, no customers): products "P0".., categories c0..c2. */
export function neumfPack({ products: P, dim: d, mlp, affiliate = 'BIG' }) {
  const w = (i, scale) => (((i * 2654435761) % 17 + 17) % 17 - 8) / (8 * scale);
  const t = [
    { name: 'product.emb', dtype: 'f32', shape: [P, d], fill: (a) => a.forEach((_, i) => (a[i] = w(i, 1))) },
    { name: 'product.bias', dtype: 'f32', shape: [P], fill: (a) => a.forEach((_, i) => (a[i] = ((i % 7) - 3) * 0.05)) },
  ];
  mlp.forEach((width, l) => {
    const inp = l ? mlp[l - 1] : 2 * d + 4;
    t.push({ name: `mlp.${l}.w`, dtype: 'f32', shape: [width, inp], fill: (a) => a.forEach((_, i) => (a[i] = w(i + l, inp))) });
    t.push({ name: `mlp.${l}.b`, dtype: 'f32', shape: [width], fill: (a) => a.forEach((_, j) => (a[j] = 0.01 * (j % 3))) });
  });
  t.push({ name: 'out.gmf', dtype: 'f32', shape: [d], fill: (a) => a.fill(0.1) });
  t.push({ name: 'out.mlp', dtype: 'f32', shape: [mlp.at(-1)], fill: (a) => a.forEach((_, j) => (a[j] = j % 2 ? -0.1 : 0.2)) });
  t.push({ name: 'out.bias', dtype: 'f32', shape: [1], fill: (a) => (a[0] = 2.5) });
  t.push(...strings('product.code', P, (i) => `P${i}`), ...strings('product.name', P, () => 'n'));
  t.push({ name: 'product.cat', dtype: 'i32', shape: [P], fill: (a) => a.forEach((_, i) => (a[i] = i % 3)) });
  t.push({ name: 'product.sub', dtype: 'i32', shape: [P], fill: (a) => a.forEach((_, i) => (a[i] = i % 5)) });
  t.push(...strings('category', 3, (i) => `c${i}`), ...strings('subcategory', 5, (i) => `s${i}`));
  return buildPack({ kind: 'neumf', dim: d, mlp, affiliate, target_mean: 3 }, t);
}
