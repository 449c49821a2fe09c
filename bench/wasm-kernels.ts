/**
 * `wasm-kernels` section: each WebAssembly SIMD kernel of lib/native in its AssemblyScript build
 * (`lib/native/assembly`, the "new" arm) against the hand-assembled kernel it replaced (the "old"
 * arm: the lib/native modules of commit {@link OLD_COMMIT}, read from git into
 * `.cache/wasm-kernels-old/` and loaded beside the current ones), through the same module API, on
 * representative sizes. Repetitions alternate old/new (old first on even repetitions, new first on
 * odd ones) after two warm-up repetitions each (the engine's optimising tier), and each arm's median
 * is reported, so machine load hits both alike. Both arms start from the same data and their
 * outputs are compared bit for bit at the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/artifacts/repo';
import * as canonicalNew from '../lib/native/canonical-wasm';
import * as boundsNew from '../lib/native/bounds-wasm';
import * as dotNew from '../lib/native/dot-wasm';
import * as lshNew from '../lib/native/lsh-wasm';
import * as preprocessNew from '../lib/native/preprocess-wasm';
import * as heapNew from '../lib/native/heap-simd';
import {
  biasActCase,
  boundsCase,
  canonicalCase,
  crossPolytopeCase,
  heapAddCase,
  lshDotsCase,
  preprocessCases,
  squaresCase,
  type Case,
  type Modules,
  type Row,
} from './wasm-kernel-cases';

/** The last commit with the hand-assembled kernels (lib/native/wasm-asm.ts). */
const OLD_COMMIT = '8824a18';
const OLD_FILES = ['wasm-asm', 'canonical-wasm', 'bounds-wasm', 'dot-wasm', 'lsh-wasm', 'preprocess-wasm', 'heap-simd'];

/** The old modules, written from git beside the repository's node_modules; or why they cannot be. */
async function oldModules(): Promise<Modules | string> {
  const root = repoRoot();
  const dir = join(root, '.cache', 'wasm-kernels-old');
  mkdirSync(dir, { recursive: true });
  for (const f of OLD_FILES) {
    const r = spawnSync('git', ['show', `${OLD_COMMIT}:lib/native/${f}.ts`], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) return `git show ${OLD_COMMIT}:lib/native/${f}.ts failed: ${r.stderr.trim()}`;
    const source = r.stdout
      .replaceAll("from '../util/checks'", "from '../../lib/util/checks'")
      .replaceAll("from './tfjs-wasm'", "from '../../lib/native/tfjs-wasm'");
    writeFileSync(join(dir, `${f}.ts`), source);
  }
  const load = (f: string) => import(join(dir, `${f}.ts`));
  return {
    canonical: await load('canonical-wasm'),
    bounds: await load('bounds-wasm'),
    dot: await load('dot-wasm'),
    lsh: await load('lsh-wasm'),
    preprocess: await load('preprocess-wasm'),
    heap: await load('heap-simd'),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

function same(a: Uint8Array[], b: Uint8Array[]): boolean {
  return a.length === b.length && a.every((x, i) => Buffer.from(x).equals(Buffer.from(b[i])));
}

/** One case: both arms made, 2 warm-up repetitions each, then `reps` interleaved timed repetitions each. */
function runCase(c: Case, old: Modules, now: Modules): Row {
  const arms = [c.make(old), c.make(now)];
  for (let w = 0; w < 2; w++) for (const a of arms) a.run();
  const ms: number[][] = [[], []];
  for (let r = 0; r < c.reps; r++)
    for (const i of r % 2 ? [1, 0] : [0, 1]) {
      const t0 = performance.now();
      arms[i].run();
      ms[i].push(performance.now() - t0);
    }
  const [oldMs, newMs] = ms.map(median);
  const row: Row = {
    kernel: c.kernel,
    size: c.size,
    oldMs: Number(oldMs.toFixed(2)),
    newMs: Number(newMs.toFixed(2)),
    ratio: Number((newMs / oldMs).toFixed(3)),
    pairedRatio: Number(median(ms[1].map((t, r) => t / ms[0][r])).toFixed(3)),
    ratioOfMinima: Number((Math.min(...ms[1]) / Math.min(...ms[0])).toFixed(3)),
    identical: same(arms[0].output(), arms[1].output()),
    reps: c.reps,
  };
  process.stderr.write(`wasm-kernels: ${JSON.stringify(row)}\n`);
  return row;
}

export async function benchWasmKernels(): Promise<{
  section: string;
  description: string;
  rows: Row[];
  notes: string[];
} | null> {
  const old = await oldModules();
  if (typeof old === 'string') {
    process.stderr.write(`bench wasm-kernels skipped: ${old}\n`);
    return null;
  }
  const now: Modules = {
    canonical: canonicalNew,
    bounds: boundsNew,
    dot: dotNew,
    lsh: lshNew,
    preprocess: preprocessNew,
    heap: heapNew,
  };
  const why = now.canonical.rowStoreUnavailable() ?? old.canonical.rowStoreUnavailable();
  if (why) {
    process.stderr.write(`bench wasm-kernels skipped: ${why}\n`);
    return null;
  }
  const full = process.env.DKNN_BENCH_SMALL === undefined;
  const only = process.env.DKNN_BENCH_WASM_ONLY; // a substring of the kernel names: those cases only
  const rows = [
    canonicalCase(full ? 2048 : 64, 12544, 32, 256),
    canonicalCase(full ? 8192 : 256, 3200, 128, 256),
    squaresCase(full ? 8192 : 256, 3200, 4),
    boundsCase('fill', full ? 60000 : 3000, 64, 8192),
    boundsCase('offer', full ? 60000 : 3000, 64, 8192),
    lshDotsCase(full ? 4096 : 256, 3200, 128, 256),
    crossPolytopeCase(4096, 10, 2, 3, 512, full ? 64 : 2),
    ...preprocessCases(full ? 60000 : 600, 3200),
    heapAddCase(full ? 40000 : 400, 384, 1 << 20, 4),
    biasActCase(full ? 98000 : 980, 64, 16),
  ]
    .filter((c) => only === undefined || c.kernel.includes(only))
    .map((c) => runCase(c, old, now));
  return {
    section: 'wasm-kernels',
    description: `WebAssembly SIMD kernels of lib/native: AssemblyScript build (new) vs the hand-assembled kernels of commit ${OLD_COMMIT} (old), milliseconds per repetition (median), ratio = new / old`,
    rows,
    notes: [
      'repetitions interleaved old/new (alternating which goes first) after 2 warm-ups each; oldMs, newMs: medians per arm, ratio = newMs / oldMs; pairedRatio: the median of new / old over the pairs of back-to-back repetitions (load that changes slowly cancels); ratioOfMinima: the ratio of the fastest repetitions',
      'identical: both arms ran on the same data the same number of times and their outputs (results, bounds, heap pushes, rows, memory) are equal byte for byte',
      `old arm: lib/native/{${OLD_FILES.join(',')}}.ts of ${OLD_COMMIT} (git show) in .cache/wasm-kernels-old/`,
      ...(full ? [] : ['DKNN_BENCH_SMALL: reduced sizes (a smoke run, not the benchmark)']),
      ...(only === undefined ? [] : [`DKNN_BENCH_WASM_ONLY=${only}: only the kernels whose name contains it`]),
    ],
  };
}
