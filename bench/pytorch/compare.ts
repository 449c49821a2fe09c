/**
 * Compares per-input DkNN results of `npm run dknn` (dknn-ts) with those of the PyTorch + faiss
 * re-implementation (`bench/pytorch/dknn_reference.py`) on the same inputs, and writes
 * bench/results/pytorch-crosscheck.{json,md}:
 *
 *   npx tsx bench/pytorch/compare.ts NAME=OURS.json,THEIRS.json [NAME=…] [--out bench/results]
 *
 * Per pair: accuracies of both (DNN and DkNN), identical DkNN predictions, identical credibility,
 * identical DNN predictions, mean credibility, and the seconds of each stage as each recorded them.
 * `bench/pytorch/run.sh` makes the pairs (clean, FGSM with the reference and the exact gradient, BIM).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/artifacts/atomic';
import { gitCommit, repoRoot } from '../../lib/artifacts/repo';

interface Inputs {
  testIndex: number[];
  label: number[];
  prediction: number[];
  credibility: number[];
  dnnPrediction: number[];
}

interface Run {
  inputs: Inputs;
  summary: Record<string, number>;
  seconds?: Record<string, number>;
  timings?: Record<string, number>;
  attack?: { label: string; seconds: number; imagesPerSecond: number; cached: boolean } | null;
  settings?: Record<string, unknown>;
}

/** One row of the comparison. */
export interface CrosscheckRow {
  inputs: string;
  n: number;
  dnnAccuracy: { dknnTs: number; pytorch: number; difference: number };
  dknnAccuracy: { dknnTs: number; pytorch: number; difference: number };
  meanCredibility: { dknnTs: number; pytorch: number };
  identicalDkNNPredictions: number;
  identicalCredibility: number;
  identicalDnnPredictions: number;
  seconds: { dknnTs: Record<string, number>; pytorch: Record<string, number> };
}

const accuracy = (p: number[], y: number[]) => p.filter((v, i) => v === y[i]).length / p.length;
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

/** The comparison of two runs on the same inputs. @throws when they cover other inputs. */
export function compareRuns(name: string, ours: Run, theirs: Run): CrosscheckRow {
  const a = ours.inputs;
  const b = theirs.inputs;
  if (a.testIndex.length !== b.testIndex.length || a.testIndex.some((t, i) => t !== b.testIndex[i])) {
    throw new Error(`${name}: the two runs cover different inputs (${a.testIndex.length} vs ${b.testIndex.length})`);
  }
  const n = a.prediction.length;
  const same = (x: number[], y: number[]) => x.filter((v, i) => v === y[i]).length;
  const da = accuracy(a.dnnPrediction, a.label);
  const db = accuracy(b.dnnPrediction, b.label);
  const ka = accuracy(a.prediction, a.label);
  const kb = accuracy(b.prediction, b.label);
  const oursSeconds = {
    ...(ours.timings ?? {}),
    ...(ours.attack && !ours.attack.cached ? { craft: ours.attack.seconds } : {}),
  };
  return {
    inputs: name,
    n,
    dnnAccuracy: { dknnTs: da, pytorch: db, difference: da - db },
    dknnAccuracy: { dknnTs: ka, pytorch: kb, difference: ka - kb },
    meanCredibility: { dknnTs: mean(a.credibility), pytorch: mean(b.credibility) },
    identicalDkNNPredictions: same(a.prediction, b.prediction),
    identicalCredibility: same(a.credibility, b.credibility),
    identicalDnnPredictions: same(a.dnnPrediction, b.dnnPrediction),
    seconds: { dknnTs: oursSeconds, pytorch: theirs.seconds ?? {} },
  };
}

function markdown(rows: CrosscheckRow[], meta: Record<string, string>): string {
  const f = (x: number) => x.toFixed(4);
  const lines = [
    '# bench: pytorch-crosscheck',
    '',
    'dknn-ts (`npm run dknn`, wasm engine) against an independent PyTorch + faiss re-implementation of the reference protocol (`bench/pytorch/dknn_reference.py`), same committed model, same inputs (test[750:10000]); exact search, k = 75, reference p-values.',
    '',
    '| inputs | n | DNN accuracy dknn-ts / PyTorch (Δ) | DkNN accuracy dknn-ts / PyTorch (Δ) | mean credibility dknn-ts / PyTorch | identical DkNN predictions | identical credibility | identical DNN predictions |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.inputs} | ${r.n} | ${f(r.dnnAccuracy.dknnTs)} / ${f(r.dnnAccuracy.pytorch)} (${r.dnnAccuracy.difference >= 0 ? '+' : ''}${f(r.dnnAccuracy.difference)}) | ${f(r.dknnAccuracy.dknnTs)} / ${f(r.dknnAccuracy.pytorch)} (${r.dknnAccuracy.difference >= 0 ? '+' : ''}${f(r.dknnAccuracy.difference)}) | ${f(r.meanCredibility.dknnTs)} / ${f(r.meanCredibility.pytorch)} | ${r.identicalDkNNPredictions} (${((100 * r.identicalDkNNPredictions) / r.n).toFixed(2)} %) | ${r.identicalCredibility} | ${r.identicalDnnPredictions} |`,
    ),
    '',
    'Seconds per stage, as each run recorded them:',
    '',
    ...rows.map(
      (r) =>
        `- ${r.inputs}: dknn-ts ${Object.entries(r.seconds.dknnTs)
          .filter(([k]) => k.endsWith('.total') || k === 'craft')
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(', ')}; PyTorch ${Object.entries(r.seconds.pytorch)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(', ')}`,
    ),
    '',
    `Run: ${Object.entries(meta)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    '',
  ];
  return lines.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const outDir = outIdx >= 0 ? args[outIdx + 1] : join(repoRoot(), 'bench', 'results');
  const pairs = args.filter((a, i) => a.includes('=') && args[i - 1] !== '--out');
  if (pairs.length === 0) throw new Error('usage: compare.ts NAME=OURS.json,THEIRS.json [NAME=…] [--out DIR]');
  const rows = pairs.map((p) => {
    const [name, files] = p.split('=');
    const [ours, theirs] = files.split(',');
    return compareRuns(
      name,
      JSON.parse(readFileSync(ours, 'utf8')) as Run,
      JSON.parse(readFileSync(theirs, 'utf8')) as Run,
    );
  });
  const meta = { commit: gitCommit(), date: new Date().toISOString() };
  writeFileAtomic(
    join(outDir, 'pytorch-crosscheck.json'),
    `${JSON.stringify({ section: 'pytorch-crosscheck', rows, meta }, null, 2)}\n`,
  );
  const md = markdown(rows, meta);
  writeFileAtomic(join(outDir, 'pytorch-crosscheck.md'), md);
  process.stdout.write(md);
}

if (require.main === module) main();
