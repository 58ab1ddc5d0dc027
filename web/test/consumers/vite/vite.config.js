// The shop's Vite config: three pages; JSX by esbuild's automatic runtime (React 19, no plugin).
// Nothing for prefrec: the wasm and the message catalogues are assets found by Vite itself.
export default {
  esbuild: { jsx: 'automatic' },
  build: { rollupOptions: { input: { index: 'index.html', worker: 'worker.html', react: 'react.html' } } },
};
