// eslint.config.js - the lint of the JS (npm run lint; npm run check = lint + typecheck).
// ESLint's recommended rules plus what the code already follows: strict equality except against
// null/undefined or between typeof and a string, no var, const where nothing is reassigned.
// Globals per place: the shim runs in browsers and node; the widget, kiosk, shop and report
// pages in browsers; sw.js in a service worker; tests, testkit, scripts, servers and the manifest
// writers in node (the browser tests also in the page they drive); bench/web in node and in the
// bench page. Run from the repository root so that bench/web is inside the base path:
//   cd web && npm run lint     (= cd .. && eslint -c web/eslint.config.js web bench/web)
import js from '@eslint/js';
import globals from 'globals';

const rules = {
  ...js.configs.recommended.rules,
  eqeqeq: ['error', 'smart'],
  'no-var': 'error',
  'object-shorthand': 'error',
  'no-else-return': 'error',
  'no-lonely-if': 'error',
  'no-useless-concat': 'error',
  'prefer-const': ['error', { destructuring: 'all' }],
  // the destructured names are dropped on purpose ({ customer, ...rest } = req)
  'no-unused-vars': ['error', { ignoreRestSiblings: true, caughtErrors: 'none' }],
  'no-implicit-globals': 'error',
  'no-shadow-restricted-names': 'error',
  'no-throw-literal': 'error',
  'no-self-compare': 'error',
  'no-template-curly-in-string': 'error',
  'no-unmodified-loop-condition': 'error',
  'no-unused-private-class-members': 'error',
  'no-new-wrappers': 'error',
  'no-eval': 'error',
  'no-implied-eval': 'error',
  'no-new-func': 'error',
  'array-callback-return': 'error',
};

export default [
  {
    ignores: ['**/node_modules/**', 'web/dist/**', 'web/vendor/**', 'build/**', 'bench/out/**'],
  },
  {
    files: ['web/**/*.js', 'web/**/*.mjs', 'bench/web/*.mjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules,
  },
  { // the shim: browsers and node
    files: ['web/prefrec.js', 'web/shard.js', 'web/i18n/i18n.js'],
    languageOptions: { globals: { ...globals.browser, process: 'readonly' } },
  },
  { // the pages
    files: ['web/widget/**', 'web/kiosk/kiosk.js', 'web/shop/**', 'web/report/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['web/kiosk/sw.js'],
    languageOptions: { globals: globals.serviceworker },
  },
  {
    files: ['web/eslint.config.js', 'web/kiosk/models-manifest.mjs', 'web/kiosk/records-manifest.mjs', 'web/test/**', 'web/testkit/**', 'web/scripts/**',
      'web/server/**'],
    languageOptions: { globals: globals.node },
  },
  { // browser tests: the functions given to page.evaluate run in the page
    files: ['web/test/kiosk.test.mjs', 'web/test/report.test.mjs', 'web/test/soak.test.mjs', 'web/test/widget.test.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  { // the package's consumer test: node, and its page.evaluate functions in the page
    files: ['web/test/consumers/consumers.test.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  { // the shop's pages built by Vite and webpack; worker.js in a dedicated worker
    files: ['web/test/consumers/app/main.js', 'web/test/consumers/app/worker-main.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['web/test/consumers/app/worker.js'],
    languageOptions: { globals: globals.worker },
  },
  { // node and the bench page (page.html imports suite.mjs)
    files: ['bench/web/*.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
];
