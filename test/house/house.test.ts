/**
 * The rules of the house that neither dependency-cruiser nor eslint can state: every lib file in its
 * folder's README, the layer list of lib/README.md in step with the layer rules, few files at lib's
 * root, a root API a person can hold in their head, and an options object wherever a public function
 * takes more than two parameters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { publicApi } from './api';

const root = resolve(__dirname, '..', '..');
const lib = join(root, 'lib');
const skipped = new Set(['dist', 'wasm']);

function folders(dir: string): string[] {
  const out = [dir];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (!skipped.has(name) && statSync(p).isDirectory()) out.push(...folders(p));
  }
  return out;
}

test('every lib folder has a README that lists each of its source files', () => {
  const missing: string[] = [];
  for (const dir of folders(lib)) {
    if (dir === lib) continue;
    const readme = join(dir, 'README.md');
    const rel = relative(root, dir);
    if (!existsSync(readme)) {
      missing.push(`${rel}/README.md`);
      continue;
    }
    const text = readFileSync(readme, 'utf8');
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.ts') || f.endsWith('.json')))
      if (!text.includes(`\`${f}\``)) missing.push(`${rel}/${f} (not in its README)`);
  }
  assert.deepEqual(missing, [], 'folders or files missing from their README');
});

test('lib/README.md lists the layers in the order dependency-cruiser enforces, and every folder of lib is one', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require(join(root, '.dependency-cruiser.cjs')) as { forbidden: { name: string }[] };
  const enforced = config.forbidden
    .filter((r) => r.name.startsWith('layer-'))
    .map((r) => r.name.slice('layer-'.length));
  const table = readFileSync(join(lib, 'README.md'), 'utf8')
    .split('\n')
    .map((l) => /^\| `([a-z]+)\/` \|/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);
  assert.deepEqual(table.slice(0, -1), enforced, 'the README table (but its top layer) is the layer rules, in order');
  const dirs = readdirSync(lib).filter((n) => !skipped.has(n) && statSync(join(lib, n)).isDirectory());
  assert.deepEqual([...dirs].sort(), [...table].sort(), 'every lib folder is a layer of the table');
});

test("lib's root holds index.ts and at most two more source files", () => {
  const files = readdirSync(lib).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('index.ts'));
  assert.ok(files.length <= 3, `lib/ holds ${files.join(', ')}`);
});

test('the root API has at most 60 names, and every public function with more than two parameters takes an options object last', () => {
  const { rootNames, functions } = publicApi(root);
  assert.ok(rootNames.length <= 60, `${rootNames.length} root names: ${rootNames.join(', ')}`);
  assert.ok(functions.length > 100, `the public functions were read (${functions.length})`);
  const offenders: string[] = [];
  for (const f of functions)
    for (const sig of f.signatures) {
      const last = sig[sig.length - 1];
      if (sig.length > 3 || (sig.length === 3 && !last.objectType))
        offenders.push(`${f.name}(${sig.map((p) => `${p.name}: ${p.type}`).join(', ')})`);
    }
  assert.deepEqual(offenders, []);
});
