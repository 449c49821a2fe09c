#!/usr/bin/env node
// Makes the installable package dknn-ts-<version>.tgz: the built library (lib/dist, lib/package.json,
// lib/README.md) with, in datasets/, MNIST, the notMNIST sample and the pretrained models and a
// SHA256SUMS listing only those (GTSRB, 120 MB, stays in the repository; its loader says how to
// point at it). Staged in a temporary folder, so the working tree is never touched.
//   npm run package [-- --out DIR]      (default: the repository root)
// Install it anywhere with: npm install --onnxruntime-node-install=skip <path>/dknn-ts-<version>.tgz
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('npm run package [-- --out DIR]: writes DIR/dknn-ts-<version>.tgz (DIR default: the repository root)');
  process.exit(0);
}
const outIdx = args.indexOf('--out');
const out = resolve(outIdx >= 0 ? (args[outIdx + 1] ?? '') : root);
if (!existsSync(out)) {
  console.error(`npm run package: the folder ${out} does not exist`);
  process.exit(2);
}
if (!existsSync(join(root, 'lib', 'dist', 'index.js'))) {
  console.error('npm run package: lib/dist/index.js is missing; run npm run build first');
  process.exit(1);
}
const FOLDERS = ['mnist', 'notmnist', 'pretrained'];
const stage = mkdtempSync(join(tmpdir(), 'dknn-package-'));
try {
  for (const f of ['package.json', 'README.md']) cpSync(join(root, 'lib', f), join(stage, f));
  cpSync(join(root, 'lib', 'dist'), join(stage, 'dist'), { recursive: true });
  for (const f of FOLDERS) cpSync(join(root, 'data', f), join(stage, 'datasets', f), { recursive: true });
  const sums = readFileSync(join(root, 'data', 'SHA256SUMS'), 'utf8')
    .split('\n')
    .filter((line) => FOLDERS.some((f) => line.split(/\s+/)[1]?.startsWith(`${f}/`)));
  writeFileSync(join(stage, 'datasets', 'SHA256SUMS'), `${sums.join('\n')}\n`);
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: stage, encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1);
  console.log(join(out, name));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
