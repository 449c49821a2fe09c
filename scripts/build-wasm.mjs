#!/usr/bin/env node
// Compiles each AssemblyScript kernel lib/native/assembly/<name>.ts to lib/native/wasm/<name>.wasm
// (read by lib/native/wasm-kernel.ts when the lib runs from its sources) with the options of
// lib/native/assembly/asconfig.json, then copies the binaries to lib/dist/native/wasm/ (the build's).
//   node scripts/build-wasm.mjs            all kernels
//   node scripts/build-wasm.mjs --stale    only those whose source or asconfig.json is newer than the binary
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'lib/native/assembly');
const out = join(root, 'lib/native/wasm');
const dist = join(root, 'lib/dist/native/wasm');
const config = join(src, 'asconfig.json');
const asc = join(root, 'node_modules/assemblyscript/bin/asc.js');
const staleOnly = process.argv.includes('--stale');

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -Infinity);
const names = readdirSync(src)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();
const todo = names.filter(
  (n) => !staleOnly || mtime(join(out, `${n}.wasm`)) < Math.max(mtime(join(src, `${n}.ts`)), mtime(config)),
);

function compile(name) {
  const args = [asc, join(src, `${name}.ts`), '--config', config, '-o', join(out, `${name}.wasm`)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`asc failed on ${name}.ts (exit ${code})`))));
  });
}

mkdirSync(out, { recursive: true });
const queue = [...todo];
const workers = Array.from({ length: Math.min(availableParallelism(), queue.length) }, async () => {
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) await compile(name);
});
try {
  await Promise.all(workers);
} catch (e) {
  console.error(`build-wasm: ${e.message}`);
  process.exit(1);
}
mkdirSync(dist, { recursive: true });
for (const n of names) copyFileSync(join(out, `${n}.wasm`), join(dist, `${n}.wasm`));
if (todo.length)
  console.log(
    `build-wasm: compiled ${todo.join(', ')}; ${names.length} kernels in lib/native/wasm and lib/dist/native/wasm`,
  );
