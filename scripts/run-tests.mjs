#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's built-in test runner (TypeScript through tsx).
// --unit skips the slow suites (notebook execution, browser, the newcomer's path); a path filter narrows the run:
//   node scripts/run-tests.mjs [--unit] [substring ...]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));
const SLOW = ['test/notebooks/', 'test/browser/', 'test/newcomer/'];

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

let files = walk(join(root, 'test'));
if (unitOnly) files = files.filter((f) => !SLOW.some((s) => f.startsWith(s)));
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
// Slow end-to-end suites last, so a unit failure shows up early.
files.sort(
  (a, b) => Number(SLOW.some((s) => a.startsWith(s))) - Number(SLOW.some((s) => b.startsWith(s))) || a.localeCompare(b),
);
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
// The WebAssembly kernels the lib reads from lib/native/wasm: compiled when missing or older than their sources.
const built = spawnSync(process.execPath, [join(root, 'scripts/build-wasm.mjs'), '--stale'], {
  cwd: root,
  stdio: 'inherit',
});
if (built.status !== 0) process.exit(built.status ?? 1);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, DKNN_TEST: '1' },
});
process.exit(r.status ?? 1);
