// The shop's webpack config: two entries, no loaders or plugins; prefrec's wasm and message
// catalogues are assets webpack finds itself (new URL(..., import.meta.url)). The HTML pages
// (html/) are copied next to the bundles by the test.
import { fileURLToPath } from 'node:url';

export default {
  entry: { main: './main.js', 'worker-main': './worker-main.js' },
  output: { path: fileURLToPath(new URL('./dist', import.meta.url)), clean: true },
  performance: { hints: false },
};
