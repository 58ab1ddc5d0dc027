// prefrec.d.ts against the code it describes (npm run typecheck runs this after tsc):
// - the names prefrec.js exports, its class's methods, static methods and the constructor, read
//   from the source with TypeScript's parser, are those prefrec.d.ts declares (no build needed);
// - with the engine built (web/dist), the same against the loaded module, and every gender and
//   age of consumer.ts's lists (which tsc checks against the Gender and Age types) is accepted
//   by the engine while the misuse consumer.ts expects tsc to refuse is refused by the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const web = join(dirname(fileURLToPath(import.meta.url)), '../..');
const parse = (f) => ts.createSourceFile(f, readFileSync(join(web, f), 'utf8'), ts.ScriptTarget.ES2022, true,
  f.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
const has = (n, k) => !!n.modifiers?.some((m) => m.kind === k);
const sorted = (a) => [...new Set(a)].sort();

/** Exported value names, and members of the exported class: {exports, statics, methods, props, ctor}. */
function surface(file) {
  const sf = parse(file);
  const out = { exports: [], statics: [], methods: [], props: [], ctorParams: null };
  for (const st of sf.statements) {
    if (ts.isExportAssignment(st)) out.exports.push('default');
    if (ts.isExportDeclaration(st) && st.exportClause) for (const e of st.exportClause.elements) out.exports.push(e.name.text);
    if (!has(st, ts.SyntaxKind.ExportKeyword)) continue;
    if (ts.isFunctionDeclaration(st)) out.exports.push(st.name.text);
    if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) out.exports.push(d.name.text);
    if (ts.isClassDeclaration(st)) {
      out.exports.push(st.name.text);
      for (const m of st.members) {
        const name = m.name && ts.isIdentifier(m.name) ? m.name.text : null; // #private names are not API
        if (ts.isConstructorDeclaration(m)) {
          out.ctorParams = m.parameters.length;
          // the shim's constructor sets the public fields
          m.body?.statements.forEach((s) => {
            const e = s.expression;
            if (e && ts.isBinaryExpression(e) && ts.isPropertyAccessExpression(e.left) && e.left.expression.kind === ts.SyntaxKind.ThisKeyword &&
              ts.isIdentifier(e.left.name)) out.props.push(e.left.name.text);
          });
        } else if (name && ts.isMethodDeclaration(m)) (has(m, ts.SyntaxKind.StaticKeyword) ? out.statics : out.methods).push(name);
        else if (name && ts.isPropertyDeclaration(m)) out.props.push(name);
      }
    }
  }
  for (const k of Object.keys(out)) if (Array.isArray(out[k])) out[k] = sorted(out[k]);
  return out;
}

test('prefrec.d.ts declares what prefrec.js exports: names, methods, constructor', () => {
  const js = surface('prefrec.js'), dts = surface('prefrec.d.ts');
  assert.deepEqual(dts.exports, js.exports, 'exported names');
  assert.deepEqual(dts.statics, js.statics, 'static methods of PrefRec');
  assert.deepEqual(dts.methods, js.methods, 'methods of PrefRec');
  assert.deepEqual(dts.props, js.props, 'public fields of PrefRec');
  assert.equal(dts.ctorParams, js.ctorParams, 'constructor parameters');
  assert.deepEqual(js.statics, ['load', 'memberKid', 'prepare']);
  assert.ok(js.exports.includes('shardPath') && js.methods.includes('recommendTop'));
  // the constructor is internal: declared private, so `new PrefRec()` does not compile
  const ctor = parse('prefrec.d.ts').statements.find(ts.isClassDeclaration).members.find(ts.isConstructorDeclaration);
  assert.ok(ctor && has(ctor, ts.SyntaxKind.PrivateKeyword), 'a private constructor');
});

/** The array literal assigned to `const name` in consumer.ts, as JS values. */
function consumerList(name) {
  let found;
  const visit = (n) => {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === name) found = n.initializer;
    ts.forEachChild(n, visit);
  };
  visit(parse('test/types/consumer.ts'));
  assert.ok(found && ts.isArrayLiteralExpression(found), `consumer.ts: const ${name} = [...]`);
  return found.elements.map((e) => {
    if (ts.isStringLiteral(e)) return e.text;
    if (ts.isNumericLiteral(e)) return Number(e.text);
    if (e.kind === ts.SyntaxKind.NullKeyword) return null;
    throw new Error(`consumer.ts: ${name}: ${e.getText()} is not a literal`);
  });
}

const dist = existsSync(join(web, 'dist/prefrec-engine.wasm'));
test('the loaded module and engine match the types', { skip: !dist && 'web/dist missing (bash scripts/web-dist.sh)' }, async () => {
  const mod = await import('../../prefrec.js');
  assert.deepEqual(sorted(Object.keys(mod)), surface('prefrec.d.ts').exports);
  const { PrefRec } = mod;
  assert.equal(mod.default, PrefRec);
  const dts = surface('prefrec.d.ts');
  const own = Object.getOwnPropertyNames(PrefRec.prototype).filter((k) => k !== 'constructor');
  const isGetter = (k) => !!Object.getOwnPropertyDescriptor(PrefRec.prototype, k).get;
  assert.deepEqual(sorted(own.filter((k) => !isGetter(k))), dts.methods);
  assert.deepEqual(sorted(own.filter(isGetter)), ['exportId']); // declared as an accessor
  const pr = await PrefRec.load({ packs: [{ item: join(web, '../models/sample/A01.item.pack') }] });
  try {
    assert.deepEqual(sorted(Object.keys(pr)), dts.props);
    for (const p of pr.info) {
      assert.ok(p.rankers.length > 0 && p.rankers.every((r) => r === 'blend' || r === 'neumf'), JSON.stringify(p.rankers));
      assert.ok(p.rankers.includes(p.default_ranker));
    }
    const genders = consumerList('genders'), ages = consumerList('ages');
    assert.ok(genders.length >= 20 && ages.length >= 11);
    for (const gender of genders) assert.equal(pr.recommend({ gender, k: 3 }).source, 'segment', `gender ${JSON.stringify(gender)}`);
    for (const age of ages) assert.equal(pr.recommend({ age, k: 3 }).source, 'segment', `age ${JSON.stringify(age)}`);
    // what consumer.ts's misuse() expects tsc to refuse, the engine refuses too
    for (const gender of ['X', 2]) assert.throws(() => pr.recommend({ gender }), /"gender" must be/);
    for (const age of ['thirty', true]) assert.throws(() => pr.recommend({ age }), /"age" must be/);
    assert.throws(() => pr.recommend({ ranker: 'ease' }), /"ranker" must be/);
  } finally {
    pr.close();
  }
});
