/**
 * The DkNN-level effect of the approximate indexes (issue 6): one DkNN per index on the same model
 * and data, compared with the exact-index DkNN (`compareIndexes`, lib/dknn-compare.ts).
 *
 *   npm run bench -- dknn-backends
 *   DKNN_BENCH_TRAIN=10000 DKNN_BENCH_EVAL_END=1750 npm run bench -- dknn-backends   # quick
 *
 * Data: the first DKNN_BENCH_TRAIN (60,000) training images; calibration test[0:750]; evaluation
 * test[750:DKNN_BENCH_EVAL_END] (default 10,000: the paper's 9,250 inputs). k = 75, the four
 * reference layers, reference p-values. Indexes (DKNN_BENCH_DKNN_METHODS, default all):
 * exact, lsh-paper (PAPER_PRESET, one bucket per table), lsh-auto (AUTO_PRESET with numProbes
 * tuned at build to recall 0.99), hnsw (M 16, efConstruction 40, efSearch 128).
 */
import { loadavg } from 'node:os';
import { initBackend } from '../lib/engine/backend';
import { dataDir, loadMnist } from '../lib/data/datasets';
import { subset } from '../lib/data/split';
import { compareIndexes, type IndexConfig } from '../lib/dknn/compare';
import { hnswIndexFactory, hnswUnavailable } from '../lib/knn/hnsw/hnsw';
import { lshIndexFactory } from '../lib/knn/lsh/lsh';
import { AUTO_PRESET, PAPER_PRESET } from '../lib/knn/lsh/params';
import { loadModel } from '../lib/models/format';
import { pretrainedPath } from '../lib/models/zoo';
import { terminalProgress } from '../lib/util/progress';

type Row = Record<string, string | number | boolean | null>;

export async function benchDknnBackends(): Promise<{
  section: string;
  description: string;
  rows: Row[];
  notes: string[];
  extra: Record<string, unknown>;
}> {
  const backend = await initBackend();
  const trainN = Number(process.env.DKNN_BENCH_TRAIN ?? 60000);
  const evalEnd = Number(process.env.DKNN_BENCH_EVAL_END ?? 10000);
  const all = ['exact', 'lsh-paper', 'lsh-auto', 'hnsw'];
  const methods = (process.env.DKNN_BENCH_DKNN_METHODS ?? all.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const m of methods)
    if (!all.includes(m))
      throw new Error(`DKNN_BENCH_DKNN_METHODS: unknown method ${JSON.stringify(m)}; expected ${all.join(', ')}`);
  if (methods[0] !== 'exact')
    throw new Error(
      `DKNN_BENCH_DKNN_METHODS must start with exact (the reference), found ${JSON.stringify(methods[0])}`,
    );
  const mnist = await loadMnist();
  const data = {
    train: subset(mnist.train, { end: trainN }),
    calib: subset(mnist.test, { end: 750 }),
    eval: subset(mnist.test, { start: 750, end: evalEnd }),
  };
  const { model } = await loadModel(pretrainedPath('mnist-cnn', dataDir()));
  const hnswParams = { m: 16, efConstruction: 40, efSearch: 128 };
  const configs: IndexConfig[] = [];
  const notes: string[] = [];
  for (const m of methods) {
    if (m === 'exact') configs.push({ key: m, label: 'exact', index: 'exact' });
    if (m === 'lsh-paper')
      configs.push({
        key: m,
        label: 'LSH, paper preset (l 200, 17 bits, 2 rotations, one bucket per table)',
        index: lshIndexFactory({ parameters: PAPER_PRESET }),
      });
    if (m === 'lsh-auto')
      configs.push({
        key: m,
        label: "LSH, AUTO_PRESET (l 10, FALCONN's bits, 1 rotation), probes tuned to recall 0.99",
        index: lshIndexFactory({ parameters: AUTO_PRESET, numProbes: 'auto' }),
      });
    if (m === 'hnsw') {
      const why = hnswUnavailable();
      if (why) notes.push(`hnsw skipped: ${why}`);
      else
        configs.push({
          key: m,
          label: `HNSW M ${hnswParams.m}, efConstruction ${hnswParams.efConstruction}, efSearch ${hnswParams.efSearch}`,
          index: hnswIndexFactory({ parameters: hnswParams }),
        });
    }
  }
  const progress = terminalProgress();
  const { runs, rows } = await compareIndexes(model, {
    data,
    configs,
    k: 75,
    progress: (key) => (e) => progress({ ...e, stage: `${key}: ${e.stage}` }),
    onRun: (r) => process.stdout.write(`${r.key}: ${r.seconds.toFixed(0)} s\n`),
  });
  model.dispose();
  const layers = runs[0].info.layers;
  const out: Row[] = rows.map((r) => ({
    index: r.key,
    configuration: r.label,
    accuracy: Number(r.accuracy.toFixed(4)),
    meanCredibility: Number(r.meanCredibility.toFixed(4)),
    identicalToExact: Number(r.agreement.identicalFraction.toFixed(4)),
    differentPredictions: r.agreement.n - r.agreement.identical,
    maxCredibilityChange: Number(r.agreement.maxCredibilityChange.toFixed(4)),
    meanCredibilityChange: Number(r.agreement.meanCredibilityChange.toFixed(5)),
    ...Object.fromEntries(layers.map((name, l) => [`recall ${name}`, Number(r.recall[l].toFixed(4))])),
    missingNeighbors: r.missingNeighbors,
    buildSeconds: Number(r.buildSeconds.toFixed(1)),
    querySeconds: Number(r.querySeconds.toFixed(1)),
    totalSeconds: Number(r.seconds.toFixed(1)),
  }));
  const approx = rows.slice(1);
  const best = approx.length
    ? approx.reduce((a, b) => (b.agreement.identicalFraction > a.agreement.identicalFraction ? b : a))
    : null;
  if (best)
    notes.push(
      `target: the best approximate index (${best.key}) gives the exact DkNN's prediction on ${(100 * best.agreement.identicalFraction).toFixed(2)} % of the ${best.agreement.n} inputs (target ≥ 99.5 %: ${best.agreement.identicalFraction >= 0.995 ? 'met' : 'NOT met'})`,
    );
  for (const r of runs) {
    const tuned = r.info.indexLayers.map((d) => (d as { numProbes?: number })?.numProbes);
    if (r.key === 'lsh-auto')
      notes.push(`lsh-auto: tuned numProbes per layer (${layers.join(', ')}): ${tuned.join(', ')}`);
  }
  notes.push(`engine backend: ${backend.description}; load average at the end ${loadavg()[0].toFixed(2)}`);
  notes.push(
    "recall: of the evaluation inputs' 75 neighbors per layer against the exact DkNN's; missingNeighbors: empty neighbor slots (evaluation inputs, all layers), which never vote",
  );
  return {
    section: 'dknn-backends',
    description: `DkNN with each index vs the exact-index DkNN: ${data.train.n} training images, calibration test[0:750], evaluation test[750:${evalEnd}] (${data.eval.n} inputs), k = 75, layers ${layers.join('/')}`,
    rows: out,
    notes,
    extra: {
      trainN,
      evalEnd,
      methods,
      indexes: Object.fromEntries(
        runs.map((r) => [
          r.key,
          { index: r.info.indexParameters, layers: r.info.indexLayers, timings: r.info.timings },
        ]),
      ),
    },
  };
}
