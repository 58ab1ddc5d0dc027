// sizes.mjs - the bytes a shop's page loads from the package (engine wasm + glue + shim + widget +
// the one message catalogue the widget fetches), raw and gzipped, against package.json's
// prefrec.sizeBudget. The build prints the same (src/wasm/sizes.cmake); `npm pack` runs this
// first (prepack, --pack) and stops when the engine is not built or the budget is exceeded.
//   node scripts/sizes.mjs [--pack]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(web, 'package.json'), 'utf8'));
// [file, part]: the engine entry (import 'prefrec') and what the widget adds (import 'prefrec/widget')
const RUNTIME = [
  ['dist/prefrec-engine.wasm', 'engine'], ['dist/prefrec-engine.js', 'engine'], ['prefrec.js', 'engine'], ['shard.js', 'engine'],
  ['widget/prefrec-widget.js', 'widget'], ['widget/engine.js', 'widget'], ['i18n/i18n.js', 'widget'], ['i18n/ko.json', 'widget'],
];
const missing = RUNTIME.map(([f]) => f).filter((f) => !existsSync(join(web, f)));
if (missing.length) {
  console.error(`sizes: ${missing.join(', ')} missing: build the engine first (bash scripts/web-dist.sh)`);
  process.exit(1);
}
const sum = { engine: [0, 0], widget: [0, 0] };
for (const [f, part] of RUNTIME) {
  const b = readFileSync(join(web, f)), gz = gzipSync(b, { level: 9 }).length;
  console.log(`prefrec size: ${f.padEnd(26)} ${String(b.length).padStart(7)} bytes, gzip ${String(gz).padStart(6)}`);
  sum[part][0] += b.length;
  sum[part][1] += gz;
}
const raw = sum.engine[0] + sum.widget[0], gz = sum.engine[1] + sum.widget[1];
const { raw: maxRaw, gzip: maxGz } = pkg.prefrec.sizeBudget;
console.log(`prefrec size: engine + glue + shim ${sum.engine[0]} bytes, gzip ${sum.engine[1]}`);
console.log(`prefrec size: runtime (with the widget and a catalogue) ${raw} bytes, gzip ${gz} (budget ${maxRaw}, gzip ${maxGz})`);
if (raw > maxRaw || gz > maxGz) {
  console.error(`sizes: over budget (${raw} > ${maxRaw} raw or ${gz} > ${maxGz} gzip): package.json prefrec.sizeBudget`);
  process.exit(1);
}
if (process.argv.includes('--pack') && pkg.version.split('.')[0] !== String(Math.max(...pkg.prefrec.packFormats))) {
  console.error(`sizes: version ${pkg.version}: the major version is the newest pack format read (${pkg.prefrec.packFormats})`);
  process.exit(1);
}
