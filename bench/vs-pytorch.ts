/**
 * `npm run bench -- vs-pytorch`: the clean DkNN pipeline (fit on 60,000, calibrate on 750, predict
 * 9,250; four layers, k = 75, exact search, no cache) side by side with the PyTorch + faiss
 * re-implementation of the reference (`bench/pytorch/dknn_reference.py`, 2 threads), one process
 * after the other in the same run, each alone on the machine: dknn-ts as shipped, dknn-ts as it
 * was before the speed work (XNNPACK convolutions, one extraction thread, no projection first
 * pass: the in-run baseline), and PyTorch. Per stage seconds, ratios, peak RSS (`/usr/bin/time -v`), and whether
 * the per-input results agree. Skipped, with the reason, where /usr/bin/python3 cannot import
 * torch and faiss.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/artifacts/repo';
import { compareRuns } from './pytorch/compare';
import type { DkNNTimings } from '../lib/dknn/types';

type Row = Record<string, string | number | boolean | null>;
const PY = '/usr/bin/python3';

/** Runs a command under /usr/bin/time -v; returns wall seconds and peak RSS (GB). */
function timed(cmd: string[], cwd: string, env: Record<string, string> = {}): { wall: number; peakGB: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', ...cmd], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'inherit', 'pipe'],
    env: { ...process.env, ...env },
  });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status}):\n${(r.stderr ?? '').slice(-2000)}`);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  return { wall, peakGB: m ? Number(m[1]) / 1024 ** 2 : NaN };
}

export async function benchVsPytorch(): Promise<{
  section: string;
  description: string;
  rows: Row[];
  notes: string[];
  extra: Record<string, unknown>;
} | null> {
  const probe = spawnSync(PY, ['-c', 'import torch, faiss'], { encoding: 'utf8' });
  if (probe.status !== 0 || !existsSync('/usr/bin/time')) {
    process.stderr.write(
      `bench vs-pytorch: skipped: ${PY} cannot import torch and faiss, or /usr/bin/time is missing (apt-get install python3-torch python3-faiss libopenblas0-pthread time)\n`,
    );
    return null;
  }
  const root = repoRoot();
  const dir = join(root, '.cache', 'vs-pytorch');
  mkdirSync(dir, { recursive: true });
  const cli = join(root, 'lib', 'dist', 'cli', 'dknn.js');
  const runs: { name: string; cmd: string[]; env?: Record<string, string> }[] = [
    { name: 'dknn-ts', cmd: ['node', cli, '--no-cache', '--out', join(dir, 'ts.json')] },
    {
      name: 'dknn-ts before (XNNPACK convolutions, 1 extraction thread, no projection)',
      env: { DKNN_CONV: 'xnnpack' },
      cmd: [
        'node',
        cli,
        '--no-cache',
        '--workers',
        '1',
        '--exact-projection',
        'off',
        '--out',
        join(dir, 'ts-before.json'),
      ],
    },
    {
      name: 'PyTorch + faiss',
      cmd: [
        PY,
        join(root, 'bench', 'pytorch', 'dknn_reference.py'),
        '--attack',
        'none',
        '--threads',
        '2',
        '--out',
        join(dir, 'pt.json'),
      ],
    },
  ];
  const proc = runs.map((r) => {
    const env = r.env ?? {};
    process.stderr.write(
      `== ${r.name}: ${Object.entries(env)
        .map(([k, v]) => `${k}=${v} `)
        .join('')}${r.cmd.join(' ')}\n`,
    );
    return timed(r.cmd, root, env);
  });
  const [ts, before, pt] = ['ts.json', 'ts-before.json', 'pt.json'].map((f) =>
    JSON.parse(readFileSync(join(dir, f), 'utf8')),
  );
  const stagesTs = (t: DkNNTimings) => ({
    'fit: extract': t.fit.extract,
    'fit: preprocess + index': t.fit.preprocess + t.fit.index,
    fit: t.fit.total,
    calibrate: t.calibrate.total,
    predict: t.predict.total,
    'kNN queries (calibrate + predict)': t.calibrate.query + t.predict.query,
    total: t.fit.total + t.calibrate.total + t.predict.total,
  });
  const s = [stagesTs(ts.timings), stagesTs(before.timings)];
  const p = pt.seconds as Record<string, number>;
  const fitPt = p['fit (extract + preprocess + index)'];
  const stagesPt: Record<string, number | null> = {
    'fit: extract': null,
    'fit: preprocess + index': null,
    fit: fitPt,
    calibrate: p.calibrate,
    predict: p.predict,
    'kNN queries (calibrate + predict)': null,
    total: fitPt + p.calibrate + p.predict,
  };
  const rows: Row[] = Object.keys(s[0]).map((stage) => {
    const a = s[0][stage as keyof (typeof s)[0]];
    const b = s[1][stage as keyof (typeof s)[0]];
    const c = stagesPt[stage];
    return {
      stage,
      'dknn-ts s': a,
      'before s': b,
      'PyTorch s': c,
      'dknn-ts / PyTorch': c ? a / c : null,
      'dknn-ts / before': a / b,
    };
  });
  rows.push({
    stage: 'process wall clock (incl. start-up, data loading)',
    'dknn-ts s': proc[0].wall,
    'before s': proc[1].wall,
    'PyTorch s': proc[2].wall,
    'dknn-ts / PyTorch': proc[0].wall / proc[2].wall,
    'dknn-ts / before': proc[0].wall / proc[1].wall,
  });
  rows.push({
    stage: 'peak RSS, GB',
    'dknn-ts s': proc[0].peakGB,
    'before s': proc[1].peakGB,
    'PyTorch s': proc[2].peakGB,
    'dknn-ts / PyTorch': proc[0].peakGB / proc[2].peakGB,
    'dknn-ts / before': proc[0].peakGB / proc[1].peakGB,
  });
  const vsPt = compareRuns('clean', ts, pt);
  const vsBefore = compareRuns('clean', ts, before);
  const notes = [
    `Identical DkNN predictions: dknn-ts vs PyTorch ${vsPt.identicalDkNNPredictions} / ${vsPt.n}, identical credibility ${vsPt.identicalCredibility} / ${vsPt.n}; dknn-ts vs before ${vsBefore.identicalDkNNPredictions} / ${vsBefore.n} (credibility ${vsBefore.identicalCredibility} / ${vsBefore.n}).`,
    `DkNN accuracy ${ts.summary.dknnAccuracy.toFixed(4)} (PyTorch ${pt.summary.dknnAccuracy.toFixed(4)}), mean credibility ${ts.summary.meanCredibility.toFixed(4)}.`,
    `Exact index per layer: ${JSON.stringify(ts.info.indexLayers)}.`,
    'PyTorch times its fit as one stage (extract + normalize + faiss IndexFlatL2.add) and its kNN searches inside calibrate and predict.',
  ];
  return {
    section: 'vs-pytorch',
    description:
      'Clean DkNN pipeline, dknn-ts vs its pre-speed-work configuration vs PyTorch + faiss (OpenBLAS), same model and inputs, each process alone on the 2 cores.',
    rows,
    notes,
    extra: {
      runs: runs.map(
        (r) =>
          `${Object.entries(r.env ?? {})
            .map(([k, v]) => `${k}=${v} `)
            .join('')}${r.cmd.join(' ')}`,
      ),
    },
  };
}
