// Checks, whatever node runs it, that every package web/package-lock.json installs admits the
// Node.js and npm versions the README supports: Debian bookworm's nodejs 18.20.4 with its npm
// 9.2.0 (what scripts/setup.sh installs where no node exists), Node 20 and Node 22. A pin that
// needs a newer Node (playwright-core 1.62 and later declare node >=20) fails here on any
// machine, not only on a fresh bookworm where `npm ci --engine-strict` would stop setup.
//   node scripts/node-support.mjs     prints one line per checked version; exit 1 on a mismatch
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SUPPORTED = [
  { node: '18.20.4', npm: '9.2.0', what: "Debian bookworm's nodejs and npm" },
  { node: '20.9.0', npm: '10.1.0', what: 'Node 20.9, the oldest 20 ESLint 9 runs on' },
  { node: '22.0.0', npm: '10.5.1', what: 'Node 22.0 with its npm' },
];

function parse(v) {
  const m = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-[0-9A-Za-z.-]+)?$/.exec(v);
  if (!m) return null;
  const num = (s) => (s === undefined || /[xX*]/.test(s) ? null : Number(s));
  return [num(m[1]), num(m[2]), num(m[3])];
}

function cmp(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

// One comparator ("^18.0.0", ">=20", "18.x", "*") -> list of [op, version] with full versions.
function comparators(tok) {
  if (tok === '' || tok === '*' || /^[xX]$/.test(tok)) return [];
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.*)$/.exec(tok);
  const op = m[1] || '=';
  const p = parse(m[2]);
  if (!p) throw new Error(`cannot read version range part "${tok}"`);
  const [M, n, f] = p;
  const lo = [M ?? 0, n ?? 0, f ?? 0];
  if (M === null) return [];
  const next = n === null ? [M + 1, 0, 0] : f === null ? [M, n + 1, 0] : null;
  switch (op) {
    case '>=': return [['>=', lo]];
    case '>': return next ? [['>=', next]] : [['>', lo]];
    case '<': return [['<', lo]];
    case '<=': return next ? [['<', next]] : [['<=', lo]];
    case '~': return [['>=', lo], ['<', n === null ? [M + 1, 0, 0] : [M, n + 1, 0]]];
    case '^': return [['>=', lo], ['<', M > 0 ? [M + 1, 0, 0] : n > 0 || n === null ? [0, (n ?? 0) + 1, 0] : [0, 0, (f ?? 0) + 1]]];
    default: return next ? [['>=', lo], ['<', next]] : [['=', lo]];
  }
}

export function satisfies(version, range) {
  const v = parse(version);
  return range.split('||').some((alt) => {
    let s = alt.trim();
    const hy = /^(\S+)\s+-\s+(\S+)$/.exec(s);
    if (hy) s = `>=${hy[1]} <=${hy[2]}`;
    const toks = s.replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean);
    const all = toks.flatMap(comparators);
    return all.every(([op, w]) => {
      const c = cmp(v, w);
      return op === '>=' ? c >= 0 : op === '>' ? c > 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : c === 0;
    });
  });
}

const web = join(dirname(fileURLToPath(import.meta.url)), '..', 'web');
const pkg = JSON.parse(readFileSync(join(web, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(web, 'package-lock.json'), 'utf8'));
let bad = 0;
const rootNode = pkg.engines?.node;
if (!rootNode || !satisfies(SUPPORTED[0].node, rootNode)) {
  console.log(`node-support: web/package.json engines.node is ${JSON.stringify(rootNode)}, ` +
              `which does not admit ${SUPPORTED[0].node} (${SUPPORTED[0].what})`);
  bad++;
}
for (const want of SUPPORTED) {
  const refused = [];
  for (const [path, p] of Object.entries(lock.packages ?? {})) {
    const name = path === '' ? '(web/package.json)' : `${path.replace(/^.*node_modules\//, '')}@${p.version}`;
    for (const tool of ['node', 'npm']) {
      const range = p.engines?.[tool];
      if (range && !satisfies(want[tool], range)) refused.push(`${name} needs ${tool} ${range}`);
    }
  }
  console.log(`node-support: node ${want.node} / npm ${want.npm} (${want.what}): ` +
              (refused.length ? `REFUSED by ${refused.join('; ')}` : 'every package admits it'));
  bad += refused.length;
}
process.exit(bad ? 1 : 0);
