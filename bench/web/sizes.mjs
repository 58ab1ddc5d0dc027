// Bytes a browser downloads for each engine (wasm + JS), raw and gzip -9.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nm = join(here, 'node_modules');
export const FILES = {
  prefrec: [join(here, '../../web/dist/prefrec-engine.wasm'), join(here, '../../web/dist/prefrec-engine.js'), join(here, '../../web/prefrec.js'), join(here, '../../web/shard.js')],
  'onnxruntime-web (wasm build)': ['onnxruntime-web/dist/ort-wasm-simd-threaded.wasm', 'onnxruntime-web/dist/ort-wasm-simd-threaded.mjs',
    'onnxruntime-web/dist/ort.wasm.min.mjs'].map((f) => join(nm, f)),
  'tfjs-core + tfjs-backend-wasm': ['@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm', '@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js',
    '@tensorflow/tfjs-core/dist/tf-core.min.js'].map((f) => join(nm, f)),
};

export function sizes() {
  const out = {};
  for (const [name, files] of Object.entries(FILES)) {
    let raw = 0, gzip = 0;
    for (const f of files) {
      const b = readFileSync(f);
      raw += b.length;
      gzip += gzipSync(b, { level: 9 }).length;
    }
    out[name] = { raw, gzip };
  }
  return out;
}
