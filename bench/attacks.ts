/**
 * Attack throughput on the committed pretrained MNIST CNN (test images 750…, untargeted, labels =
 * the DNN's predictions), each attack timed on one thread and on all cores (data-parallel worker
 * threads, `craftAdversarial({ workers })`), after a warm-up on a few images:
 * - FGSM ε 0.25 with the reference and the exact gradient; BIM ε 0.25, 10 × 0.05 (CleverHans) and
 *   100 × 0.01 (the paper's); CW-L2 5 × 100 iterations, learning rate 0.1 (notebook 03's fast
 *   settings);
 * - baselines measured in the same run: one training step (forward, both backward passes, Adam) on
 *   the same 250-image batch, one thread — FGSM must not be slower than it; and FGSM through
 *   `model.apply` (tfjs' fused convolutions, whose gradient also computes the unused filter
 *   gradient), the way the attacks ran before; BIM 10 × 0.05 and CW-L2 (50 images) on all cores
 *   with XNNPACK convolutions, as they ran before the native ones.
 *
 *   import { benchAttacks } from './attacks';
 *   const r = await benchAttacks();            // { section: 'attacks', rows: [{ attack, threads, imagesPerSecond, … }], notes, extra }
 *
 * Environment: DKNN_BENCH_ATTACK_IMAGES (default 1,000: FGSM, BIM), DKNN_BENCH_CW_IMAGES (default 200).
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/engine/backend';
import { setWasmKernelMode, wasmKernelMode } from '../lib/engine/kernels';
import { dataDir, loadMnist } from '../lib/data/datasets';
import { subset } from '../lib/data/split';
import { loadModel } from '../lib/models/format';
import { pretrainedPath } from '../lib/models/zoo';
import { bimAttack, cwL2Attack, fgsmAttack, type Attack } from '../lib/attacks/attack';
import { craftAdversarial, craftBatches } from '../lib/attacks/craft';
import { fgsm } from '../lib/attacks/fgsm';
import { perturbationNorms } from '../lib/attacks/norms';
import type { ProgressCallback } from '../lib/util/progress';
import { argmaxRows, predictLogits } from '../lib/models/predict';

/** One timed attack. */
export interface BenchAttacksRow {
  [key: string]: string | number | boolean | null;
  attack: string;
  threads: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** Fraction of the images whose DNN prediction the attack changed (null for the training-step row). */
  successRate: number | null;
  /** Mean L2 norm of the perturbation (null for the training-step row). */
  meanL2: number | null;
}

/** What {@link benchAttacks} returns (the shape of a `bench/run.ts` section). */
export interface BenchAttacksResult {
  section: 'attacks';
  description: string;
  rows: BenchAttacksRow[];
  notes: string[];
  extra: Record<string, unknown>;
}

/** Images per second of the attacks (see the module comment). */
export async function benchAttacks(
  options: { images?: number; cwImages?: number; onProgress?: ProgressCallback } = {},
): Promise<BenchAttacksResult> {
  const backend = await initBackend();
  const mnist = await loadMnist();
  const { model } = await loadModel(pretrainedPath('mnist-cnn', dataDir()));
  const nImages = options.images ?? Number(process.env.DKNN_BENCH_ATTACK_IMAGES ?? 1000);
  const nCw = options.cwImages ?? Number(process.env.DKNN_BENCH_CW_IMAGES ?? 200);
  const cores = availableParallelism();
  const attacks: { attack: Attack; n: number }[] = [
    { attack: fgsmAttack({ eps: 0.25 }), n: nImages },
    { attack: fgsmAttack({ eps: 0.25, gradient: 'exact' }), n: nImages },
    { attack: bimAttack({ eps: 0.25, epsIter: 0.05, nbIter: 10 }), n: nImages },
    { attack: bimAttack({ eps: 0.25, epsIter: 0.01, nbIter: 100 }), n: Math.min(nImages, 500) },
    { attack: cwL2Attack({ maxIterations: 100, binarySearchSteps: 5, learningRate: 0.1 }), n: nCw },
  ];
  const rows: BenchAttacksRow[] = [];
  const describe = (data: ReturnType<typeof subset>, images: Float32Array) => {
    const clean = argmaxRows(predictLogits(model, data), 10);
    const adv = argmaxRows(predictLogits(model, { ...data, images }), 10);
    const norms = perturbationNorms({ images: data.images, n: data.n }, { images: images, n: data.n });
    return {
      successRate: Number((adv.filter((c, i) => c !== clean[i]).length / data.n).toFixed(3)),
      meanL2: Number((norms.l2.reduce((s, v) => s + v, 0) / data.n).toFixed(3)),
    };
  };
  try {
    // Baseline 1: a training step on a 250-image batch, one thread.
    const batch = subset(mnist.test, { start: 750, end: 1000 });
    const x = tf.tensor4d(batch.images, [batch.n, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(Int32Array.from(batch.labels), 'int32'), 10);
    const optimizer = tf.train.adam(0);
    const step = () =>
      tf.tidy(() => {
        optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          false,
        );
      });
    step();
    let t0 = performance.now();
    for (let i = 0; i < 4; i++) step();
    const trainSeconds = (performance.now() - t0) / 4000;
    rows.push({
      attack: 'baseline: one training step (forward, backward, Adam; learning rate 0)',
      threads: 1,
      images: batch.n,
      seconds: Number(trainSeconds.toFixed(3)),
      imagesPerSecond: Number((batch.n / trainSeconds).toFixed(1)),
      successRate: null,
      meanL2: null,
    });
    tf.dispose([x, y]);
    optimizer.dispose();
    // Baseline 2: FGSM through model.apply (fused convolutions), one thread.
    const data0 = subset(mnist.test, { start: 750, end: 750 + nImages });
    const viaApply = (t: tf.Tensor4D) =>
      fgsm((z) => model.apply(z) as tf.Tensor, t, { eps: 0.25, clipMin: 0, clipMax: 1 });
    await craftBatches(subset(data0, { end: 4 }), viaApply);
    t0 = performance.now();
    const fused = await craftBatches(data0, viaApply, { batchSize: 250 });
    const fusedSeconds = (performance.now() - t0) / 1000;
    rows.push({
      attack: 'baseline: FGSM ε 0.25, reference gradient, through model.apply (fused convolutions)',
      threads: 1,
      images: data0.n,
      seconds: Number(fusedSeconds.toFixed(2)),
      imagesPerSecond: Number((data0.n / fusedSeconds).toFixed(1)),
      ...describe(data0, fused),
    });
    // Baseline 3: the attacks as they ran before the native convolutions (XNNPACK, all cores).
    if (wasmKernelMode() === 'native') {
      setWasmKernelMode('fast');
      try {
        for (const a of [attacks[2]!, { ...attacks[4]!, n: Math.min(attacks[4]!.n, 50) }]) {
          const data = subset(mnist.test, { start: 750, end: 750 + a.n });
          await craftAdversarial(model, subset(data, { end: Math.min(4, a.n) }), {
            attack: a.attack,
            cache: false,
            workers: 1,
          });
          const set = await craftAdversarial(model, data, {
            attack: a.attack,
            cache: false,
            workers: cores,
            onProgress: options.onProgress,
          });
          rows.push({
            attack: `baseline: ${a.attack.label}, XNNPACK convolutions`,
            threads: set.workers,
            images: data.n,
            seconds: Number(set.seconds.toFixed(2)),
            imagesPerSecond: Number((data.n / set.seconds).toFixed(2)),
            ...describe(data, set.images),
          });
        }
      } finally {
        setWasmKernelMode('native');
      }
    }
    for (const a of attacks) {
      const data = subset(mnist.test, { start: 750, end: 750 + a.n });
      for (const threads of [1, cores]) {
        if (threads > 1 && Math.ceil(a.n / a.attack.batchSize) < 2) continue;
        await craftAdversarial(model, subset(data, { end: Math.min(4, a.n) }), {
          attack: a.attack,
          cache: false,
          workers: 1,
        }); // warm-up
        const set = await craftAdversarial(model, data, {
          attack: a.attack,
          cache: false,
          workers: threads,
          onProgress: options.onProgress,
        });
        rows.push({
          attack: a.attack.label,
          threads: set.workers,
          images: data.n,
          seconds: Number(set.seconds.toFixed(2)),
          imagesPerSecond: Number((data.n / set.seconds).toFixed(2)),
          ...describe(data, set.images),
        });
      }
    }
  } finally {
    model.dispose();
  }
  const rate = (label: string, threads: number) =>
    rows.find((r) => r.attack.startsWith(label) && r.threads === threads)?.imagesPerSecond ?? NaN;
  const train = rows[0].imagesPerSecond;
  const xnn = (label: string) => rows.find((r) => r.attack.startsWith(`baseline: ${label}`))?.imagesPerSecond ?? 0;
  const fg1 = rate('FGSM ε 0.25, L∞, reference', 1);
  return {
    section: 'attacks',
    description:
      'adversarial attacks on the pretrained MNIST CNN (untargeted, labels = DNN predictions, test images 750…), one thread and all cores',
    rows,
    notes: [
      `engine backend: ${backend.description}; ${cores} cores`,
      `FGSM (reference gradient, one thread) vs one training step on the same batch: ${(fg1 / train).toFixed(2)}× the training step's images/s`,
      `FGSM unfused vs through model.apply (fused convolutions): ${(fg1 / rows[1].imagesPerSecond).toFixed(2)}×`,
      ...(xnn('BIM') > 0
        ? [
            `native vs XNNPACK convolutions, all cores: BIM 10 × 0.05 ${(rate('BIM ε 0.25, 10', cores) / xnn('BIM')).toFixed(2)}×, CW-L2 ${(rate('CW-L2', cores) / xnn('CW-L2')).toFixed(2)}×`,
          ]
        : []),
      `all cores vs one thread: FGSM ${(rate('FGSM ε 0.25, L∞, reference', cores) / fg1).toFixed(2)}×, BIM 10 × 0.05 ${(rate('BIM ε 0.25, 10', cores) / rate('BIM ε 0.25, 10', 1)).toFixed(2)}×, CW-L2 ${(rate('CW-L2', cores) / rate('CW-L2', 1)).toFixed(2)}×`,
    ],
    extra: { backend, images: nImages, cwImages: nCw, cores },
  };
}
