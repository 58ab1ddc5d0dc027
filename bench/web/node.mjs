// bench/web under node: node bench/web/node.mjs PACK ONNX_DIR [OUT.json]
// (run.sh makes the pack and the ONNX files; see suite.mjs for what is measured).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { PrefRec } from '../../web/prefrec.js';
import { runSuite } from './suite.mjs';
import { sizes } from './sizes.mjs';

const [pack, dir, out] = process.argv.slice(2);
if (!pack || !dir) {
  console.error('usage: node bench/web/node.mjs PACK ONNX_DIR [OUT.json]');
  process.exit(2);
}
console.log(`== node ${process.version}`);
const res = await runSuite({
  PrefRec, ort, tf, pack: readFileSync(pack),
  onnx: { full: readFileSync(join(dir, 'neumf_full.onnx')), split: readFileSync(join(dir, 'neumf_split.onnx')) },
  log: (l) => console.log(l),
});
res.sizes = sizes();
for (const [k, v] of Object.entries(res.sizes))
  console.log(`${k.padEnd(40)} ${String(v.raw).padStart(9)} bytes  gzip ${String(v.gzip).padStart(8)}`);
if (out) writeFileSync(out, JSON.stringify(res, null, 2));
