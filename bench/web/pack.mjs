// Read a prefrec model pack (docs/model.md, "Pack format") in JS: the NeuMF weights and the
// customer side, so the peers (ONNX Runtime Web, TensorFlow.js) run the very model the engine
// serves. Only for the bench: no validation beyond what the bench needs (the engine validates).
const DT = { 0: Float32Array, 2: Int8Array, 3: Uint8Array, 4: Int32Array, 5: Uint32Array };

export function readPack(bytes) {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const dv = new DataView(buf);
  const man = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, dv.getUint32(24, true), dv.getUint32(28, true))));
  const tOff = dv.getUint32(32, true), n = dv.getUint32(36, true);
  const t = new Map();
  for (let i = 0; i < n; i++) {
    const e = tOff + 64 * i;
    const name = new TextDecoder().decode(new Uint8Array(buf, e, 32)).replace(/\0.*$/s, '');
    const dtype = dv.getUint32(e + 32, true), ndim = dv.getUint32(e + 36, true);
    const shape = [0, 1, 2, 3].slice(0, ndim).map((k) => dv.getUint32(e + 40 + 4 * k, true));
    const off = Number(dv.getBigUint64(e + 56, true));
    const count = shape.reduce((a, b) => a * b, 1);
    t.set(name, { shape, data: new DT[dtype](buf, off, count) });
  }
  return { manifest: man, tensors: t };
}

function strings(t, base) {
  const off = t.get(`${base}.off`).data, blob = t.get(`${base}.str`).data, dec = new TextDecoder();
  return Array.from({ length: off.length - 1 }, (_, i) => dec.decode(blob.subarray(off[i], off[i + 1] - 1)));
}

/** The model and customers of a full pack. */
export function neumf(bytes) {
  const { manifest: m, tensors: t } = readPack(bytes);
  const get = (k) => t.get(k).data;
  const layers = m.mlp.map((w, l) => ({ w: get(`mlp.${l}.w`), b: get(`mlp.${l}.b`), out: w, in: t.get(`mlp.${l}.w`).shape[1] }));
  const boff = get('customer.bought.off'), bidx = get('customer.bought.idx');
  return {
    affiliate: m.affiliate, d: m.dim, P: t.get('product.emb').shape[0], layers,
    pemb: get('product.emb'), pbias: get('product.bias'), wg: get('out.gmf'), wm: get('out.mlp'), b0: get('out.bias')[0],
    productCodes: strings(t, 'product.code'),
    customers: {
      codes: strings(t, 'customer.code'), emb: get('customer.emb'), bias: get('customer.bias'),
      gender: get('customer.gender'), age: get('customer.age'),
      bought: (c) => bidx.subarray(boff[c], boff[c + 1]),
    },
  };
}

/** The model's demographic input (src/core/model.c, prefrec_model_demo). */
export function demo(gender, age) {
  const unknownAge = age == null || Number.isNaN(age);
  return [gender === 0 ? 1 : 0, gender === 1 ? 1 : 0, unknownAge ? 0 : (age - 45) / 15, unknownAge ? 1 : 0];
}
