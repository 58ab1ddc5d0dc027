// Run a WASI command module under node's WASI (preview1): node scripts/wasi-run.mjs mod.wasm [args]
// The current directory is preopened as "." (and "/" maps to the real root) so modules can
// read packs and requests by path, as a kiosk's runtime would allow.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import process from 'node:process';
import v8 from 'node:v8';

// node's WASI calls through V8 "fast API calls", which can start a GC in the middle of the call
// (nodejs/node#46777, #53087): once the module's memory has grown past ~16 MB (a 9 MB pack read
// whole, a 10 MB request) node itself died with SIGSEGV at the next WASI call or at exit, after
// the module had answered (exit 139 instead of its status). Off before anything is compiled.
v8.setFlagsFromString('--no-turbo-fast-api-calls');

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
