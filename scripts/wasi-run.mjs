// Run a WASI command module under node's WASI (preview1): node scripts/wasi-run.mjs mod.wasm [args]
// The current directory is preopened as "." (and "/" maps to the real root) so modules can
// read packs and requests by path, as a kiosk's runtime would allow.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import process from 'node:process';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node wasi-run.mjs module.wasm [args...]');
  process.exit(2);
}
const wasi = new WASI({
  version: 'preview1',
  args: [file, ...args],
  env: {},
  preopens: { '.': process.cwd(), '/': '/' },
  returnOnExit: true,
});
const mod = await WebAssembly.compile(await readFile(file));
// getImportObject() exists from Node 19.8/20; Node 18 (Debian bookworm's nodejs) has only
// wasiImport, the same preview1 functions under the module name the import object would give.
const imports = typeof wasi.getImportObject === 'function'
  ? wasi.getImportObject()
  : { wasi_snapshot_preview1: wasi.wasiImport };
const instance = await WebAssembly.instantiate(mod, imports);
process.exitCode = wasi.start(instance);
