/**
 * `npm run bench -- seeds`: the reference recipe (MNIST CNN, Adam 1e-3, batch 500, 6 epochs) trained
 * from scratch with several seeds, data-parallel on `workers` threads, each seed used for both the
 * weight initialization and the shuffling. Reports the test accuracy (10,000 images) after every
 * epoch and at the end, per seed, and the mean ± sample standard deviation over seeds — where the
 * recipe lands, beside the committed weights' accuracy.
 *
 * Environment: DKNN_SEEDS (comma-separated, default 1,2,3,4,5 — chosen before any run, never
 * tuned), DKNN_SEED_WORKERS (default 2), DKNN_SEED_SUBSET (training images, default all 60,000; a
 * smaller value is only for trying the script).
 */
import { initBackend } from '../lib/engine/backend';
import { dataDir, loadMnist } from '../lib/data/datasets';
import { subset } from '../lib/data/split';
import { createModel, pretrainedPath } from '../lib/models/zoo';
import { trainModel } from '../lib/training/train';
import { loadModel } from '../lib/models/format';
import { terminalProgress } from '../lib/util/progress';
import { evaluateAccuracy } from '../lib/models/predict';

type Row = Record<string, string | number | boolean | null>;

/** Mean and sample standard deviation (n − 1) of `xs`. */
export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  if (xs.length === 0) throw new Error('meanSd: expected at least one value, found none');
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

export async function benchSeeds(): Promise<{
  section: string;
  description: string;
  rows: Row[];
  notes: string[];
  extra: Record<string, unknown>;
}> {
  const backend = await initBackend();
  const seeds = (process.env.DKNN_SEEDS ?? '1,2,3,4,5').split(',').map((s) => {
    const v = Number(s.trim());
    if (!Number.isInteger(v) || v < 0)
      throw new Error(`DKNN_SEEDS: expected comma-separated non-negative integers, found ${JSON.stringify(s)}`);
    return v;
  });
  const workers = Number(process.env.DKNN_SEED_WORKERS ?? 2);
  const mnist = await loadMnist();
  const train = process.env.DKNN_SEED_SUBSET
    ? subset(mnist.train, { end: Number(process.env.DKNN_SEED_SUBSET) })
    : mnist.train;
  const rows: Row[] = [];
  const finals: number[] = [];
  const bests: number[] = [];
  for (const seed of seeds) {
    const architecture = { name: 'mnist-cnn', args: { seed } };
    const model = createModel(architecture);
    const t0 = performance.now();
    const r = await trainModel(model, train, {
      epochs: 6,
      batchSize: 500,
      learningRate: 0.001,
      seed,
      workers,
      architecture,
      evalData: mnist.test,
      resume: false,
      onProgress: terminalProgress(),
    });
    const seconds = (performance.now() - t0) / 1000;
    const final = evaluateAccuracy(model, mnist.test);
    model.dispose();
    const perEpoch = r.epochs.map((e) => e.evalAccuracy ?? NaN);
    finals.push(final);
    bests.push(Math.max(...perEpoch));
    rows.push({
      seed,
      workers,
      trainImages: train.n,
      testAccuracy: Number((100 * final).toFixed(2)),
      perEpochTestAccuracy: perEpoch.map((a) => (100 * a).toFixed(2)).join(' / '),
      seconds: Math.round(seconds),
      imagesPerSecond: Math.round(r.imagesPerSecond),
    });
  }
  const committed = (await loadModel(pretrainedPath('mnist-cnn', dataDir()))).model;
  const committedAccuracy = evaluateAccuracy(committed, mnist.test);
  committed.dispose();
  const f = meanSd(finals);
  const b = meanSd(bests);
  const above99 = finals.filter((a) => a >= 0.99).length;
  rows.push({
    seed: 'mean ± sd',
    workers,
    trainImages: train.n,
    testAccuracy: `${(100 * f.mean).toFixed(2)} ± ${(100 * f.sd).toFixed(2)}`,
    perEpochTestAccuracy: null,
    seconds: null,
    imagesPerSecond: null,
  });
  return {
    section: 'seeds',
    description: `Reference recipe (MNIST CNN, Adam 1e-3, batch 500, 6 epochs, ${backend.name}), ${seeds.length} seeds (init = shuffle seed), data-parallel on ${workers} threads: test accuracy on the 10,000 test images`,
    rows,
    notes: [
      `final test accuracy over seeds ${seeds.join(', ')}: ${(100 * f.mean).toFixed(2)} ± ${(100 * f.sd).toFixed(2)} % (mean ± sample sd); ${above99} of ${seeds.length} runs ≥ 99 %; range ${(100 * Math.min(...finals)).toFixed(2)}–${(100 * Math.max(...finals)).toFixed(2)} %`,
      `best epoch's test accuracy (not a model selection, for reading the curve): ${(100 * b.mean).toFixed(2)} ± ${(100 * b.sd).toFixed(2)} %`,
      `committed weights (seed 1234, one thread): ${(100 * committedAccuracy).toFixed(2)} %`,
    ],
    extra: { seeds, finals, committedAccuracy },
  };
}
