/**
 * Attack throughput on the committed pretrained MNIST CNN, with the settings of notebook 03:
 * FGSM ε 0.25 (L∞, clip [0,1]); BIM ε 0.25, 10 steps of 0.05; Carlini-Wagner L2 with 5 binary-search
 * steps × 100 Adam iterations, learning rate 0.1, batch 100 — all untargeted on the DNN's
 * predictions, on test images 750… (the notebook's evaluation images). Each attack is warmed up on
 * a few images first (kernel set-up), then timed. Baseline, measured the same way: FGSM with the
 * stock wasm conv-gradient kernels (the input gradient goes through `Conv2DBackpropInput`).
 *
 *   import { benchAttacks } from './attacks';
 *   const r = await benchAttacks();            // { section: 'attacks', rows: [{ attack, imagesPerSecond, … }], notes, extra }
 *
 * Environment: DKNN_BENCH_ATTACK_IMAGES (default 200, FGSM and BIM), DKNN_BENCH_CW_IMAGES (default
 * 200; each image costs up to 500 gradient steps, ≈ 1.5 s on one wasm thread), DKNN_BENCH_STOCK_IMAGES (default 50).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { dataDir, loadMnist, subset } from '../lib/data';
import { useStockWasmKernels } from '../lib/kernels';
import { loadModel } from '../lib/models/format';
import { pretrainedPath } from '../lib/models/zoo';
import { argmaxRows, predictLogits } from '../lib/models/train';
import { bim } from '../lib/attacks/bim';
import { craftBatches, type BatchAttack } from '../lib/attacks/craft';
import { carliniWagnerL2 } from '../lib/attacks/cw';
import { fgsm } from '../lib/attacks/fgsm';
import { perturbationNorms } from '../lib/attacks/norms';
import { logitsFn } from '../lib/attacks/utils';
import type { ProgressCallback } from '../lib/progress';

/** One timed attack. */
export interface BenchAttacksRow {
  [key: string]: string | number | boolean | null;
  attack: string;
  settings: string;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** Fraction of the images whose DNN prediction the attack changed. */
  successRate: number;
  /** Mean L2 norm of the perturbation. */
  meanL2: number;
  /** FGSM row only: imagesPerSecond / the baseline's (the same FGSM on the stock kernels); else null. */
  ratioVsBaseline: number | null;
}

/** What {@link benchAttacks} returns (the shape of a `bench/run.ts` section). */
export interface BenchAttacksResult {
  section: 'attacks';
  description: string;
  rows: BenchAttacksRow[];
  notes: string[];
  extra: Record<string, unknown>;
}

/** Options of {@link benchAttacks}. */
export interface BenchAttacksOptions {
  /** Images for FGSM and BIM. Default $DKNN_BENCH_ATTACK_IMAGES or 200. */
  images?: number;
  /** Images for CW-L2. Default $DKNN_BENCH_CW_IMAGES or 200. */
  cwImages?: number;
  /** Images for the stock-kernel FGSM baseline (wasm only). Default $DKNN_BENCH_STOCK_IMAGES or 50. */
  stockImages?: number;
  onProgress?: ProgressCallback;
}

/** Images per second of FGSM, BIM and CW-L2 with the notebook's settings (see the module comment). */
export async function benchAttacks(options: BenchAttacksOptions = {}): Promise<BenchAttacksResult> {
  const backend = await initBackend();
  const mnist = await loadMnist();
  const { model } = await loadModel(pretrainedPath('mnist-cnn', dataDir()));
  const fn = logitsFn(model);
  const nImages = options.images ?? Number(process.env.DKNN_BENCH_ATTACK_IMAGES ?? 200);
  const nCw = options.cwImages ?? Number(process.env.DKNN_BENCH_CW_IMAGES ?? 200);
  const nStock = options.stockImages ?? Number(process.env.DKNN_BENCH_STOCK_IMAGES ?? 50);
  const clip = { clipMin: 0, clipMax: 1 };
  const attacks: { attack: string; settings: string; batch: number; n: number; run: BatchAttack; stock?: boolean }[] = [
    { attack: 'FGSM', settings: 'ε 0.25, L∞, batch 250', batch: 250, n: nImages, run: (x) => fgsm(fn, x, { eps: 0.25, ...clip }) },
    { attack: 'BIM', settings: 'ε 0.25, 10 × 0.05, L∞, batch 250', batch: 250, n: nImages, run: (x) => bim(fn, x, { eps: 0.25, epsIter: 0.05, nbIter: 10, ...clip }) },
    {
      attack: 'CW-L2', settings: '5 binary steps × 100 iterations, lr 0.1, abort early, batch 100', batch: 100, n: nCw,
      run: (x) => carliniWagnerL2(fn, x, { maxIterations: 100, binarySearchSteps: 5, learningRate: 0.1, batchSize: 100, ...clip }),
    }, // prettier-ignore
  ];
  if (backend.name === 'wasm') {
    attacks.push({ attack: 'FGSM, stock wasm conv-gradient kernels (baseline)', settings: 'ε 0.25, L∞, batch 250', batch: 250, n: nStock, run: (x) => fgsm(fn, x, { eps: 0.25, ...clip }), stock: true });
  }
  const rows: BenchAttacksRow[] = [];
  const before = tf.memory().numTensors;
  let left = 0;
  try {
    for (const a of attacks) {
      const data = subset(mnist.test, 750, 750 + a.n);
      useStockWasmKernels(a.stock === true);
      try {
        await craftBatches(subset(data, 0, Math.min(4, a.n)), a.run); // warm-up
        const t0 = performance.now();
        const images = await craftBatches(data, a.run, { batchSize: a.batch, stage: a.attack, onProgress: options.onProgress });
        const set = { ...data, images, seconds: (performance.now() - t0) / 1000 };
        const clean = argmaxRows(predictLogits(model, data), 10);
        const adv = argmaxRows(predictLogits(model, set), 10);
        const norms = perturbationNorms(data.images, set.images, data.n);
        rows.push({
          attack: a.attack, settings: a.settings, images: data.n, seconds: Number(set.seconds.toFixed(2)),
          imagesPerSecond: Number((data.n / set.seconds).toFixed(2)),
          successRate: Number((adv.filter((c, i) => c !== clean[i]).length / data.n).toFixed(3)),
          meanL2: Number((norms.l2.reduce((s, v) => s + v, 0) / data.n).toFixed(3)), ratioVsBaseline: null,
        }); // prettier-ignore
      } finally {
        useStockWasmKernels(false);
      }
    }
    left = tf.memory().numTensors - before;
  } finally {
    model.dispose();
  }
  const baseline = rows.find((r) => r.attack.includes('baseline'));
  for (const r of rows) if (baseline && r.attack === 'FGSM') r.ratioVsBaseline = Number((r.imagesPerSecond / baseline.imagesPerSecond).toFixed(1));
  const fg = rows.find((r) => r.attack === 'FGSM')!;
  const cw = rows.find((r) => r.attack === 'CW-L2')!;
  return {
    section: 'attacks',
    description: 'adversarial attacks on the pretrained MNIST CNN with the settings of notebook 03 (untargeted, labels = DNN predictions, test images 750…)',
    rows,
    notes: [
      `engine backend: ${backend.description}`,
      `full-size notebook estimate at these rates: FGSM on 9,250 images ${(9250 / fg.imagesPerSecond / 60).toFixed(1)} min, ` +
        `BIM ${(9250 / rows[1].imagesPerSecond / 60).toFixed(1)} min, CW-L2 on 400 images ${(400 / cw.imagesPerSecond / 60).toFixed(1)} min`,
      ...(baseline ? [`fast conv-gradient kernels vs stock, FGSM: ${(fg.imagesPerSecond / baseline.imagesPerSecond).toFixed(1)}×`] : []),
      `tensors left after the run: ${left}`,
    ],
    extra: { backend, images: nImages, cwImages: nCw, stockImages: nStock },
  };
}
