/**
 * Attacks on the DkNN itself (Sitawarin & Wagner 2019, "On the Robustness of Deep K-Nearest
 * Neighbors"), not on the DNN under it:
 *
 * - {@link dknnGuidedAttack}: for each input, the wrong class with the most neighbour votes is the
 *   target; its m training points nearest to the input in one DkNN layer (the first by default) are the guides.
 *   Projected Adam on the pixels, starting at x, each step followed by the projection onto the box
 *   [max(lo, x − ε), min(hi, x + ε)], minimises
 *   Σ_layers Σ_guides sigmoid(a · (‖r_l(x') − r_l(g)‖ − η_l) / η_l), where r_l is the DkNN's own
 *   representation (activations, L2-normalised, centred on the training mean: differentiable end
 *   to end), η_l the distance of the input's k-th neighbour in layer l and a the steepness: a
 *   guide inside the input's neighbourhood counts about 0, one outside about 1
 *   (`guided-optimise.ts`). The iterates at a few checkpoints go through the DkNN; an input keeps
 *   the latest iterate whose DkNN prediction has moved off its clean prediction, else the final
 *   one. Batches run on worker threads (`workers`, as the other attacks), identical for any
 *   count, and the result is cached under the model, the DkNN, the inputs and the options.
 * - {@link meanOfClassAttack}: their simpler baseline: one step of ε in the sign of
 *   (mean training image of the target class − x).
 *
 * Both need the fitted and calibrated DkNN and its training images. Tensor ownership: no tensor
 * outlives a call.
 */
import { checkPositiveInt } from '../util/checks';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { cachedActivations } from '../activations/cache';
import { ArtifactCache } from '../artifacts/cache';
import { sha256Of } from '../artifacts/keys';
import type { DkNN } from '../dknn/dknn';
import { engineKey, wasmKernelMode } from '../engine/kernels';
import { modelHash } from '../models/weights';
import type { ProgressCallback } from '../util/progress';
import { workerEntry } from '../workers/entry';
import { runWorkerJobs } from '../workers/jobs';
import { optimizeGuided, outputs, representations, type GuidedBatch, type GuidedSettings } from './guided-optimize';
import type { GuidedBatchMessage, GuidedWorkerData, GuidedWorkerReply } from './guided-worker';
import { checkClip, checkEps } from './utils';
import type { ImageBatch, LabeledImages } from '../data/types';
import type { DkNNPrediction } from '../dknn/types';
import { modelArtifacts } from '../workers/model';

/** Options of {@link dknnGuidedAttack}. */
export interface DkNNGuidedAttackOptions {
  /** L∞ radius. Required, ≥ 0. */
  eps: number;
  /** Guide training points per input (m). Default 75. */
  guides?: number;
  /** Adam steps. Default 300. */
  steps?: number;
  /** Adam learning rate, in pixel units. Default ε / 10. */
  learningRate?: number;
  /** The DkNN layer in which the guides are the input's nearest training points of the target class. Default: the first. */
  guideLayer?: string;
  /** Steepness a of the sigmoid (in units of η_l). Default 1. */
  steepness?: number;
  /** Shares of the steps after which the DkNN checks which inputs it already gets wrong (the last step always is one). Default [0.5, 0.75, 1]. */
  checkpoints?: number[];
  /** Inputs optimised together. Default 50, lowered so that a batch's guide representations stay within 512 MiB (m = 500 guides on MNIST: 16). */
  batchSize?: number;
  /** Worker threads: a count or 'auto' (all cores when there are several batches). Default 'auto'. Same images for any count. */
  workers?: number | 'auto';
  /** Box of the inputs. Default [0, 1]. */
  clipMin?: number;
  clipMax?: number;
  /** The clean inputs' DkNN prediction, when already computed. Default: predicted here. */
  clean?: DkNNPrediction;
  /** Artefact cache for the guide layer's training activations and the result: a folder or false. Default `<repo>/.cache`. */
  cache?: string | false;
  onProgress?: ProgressCallback;
}

/** What the attacks return: the adversarial images, the target class of each input and the seconds taken. */
export interface DkNNAttackResult extends ImageBatch {
  targets: Int32Array;
  seconds: number;
  /** True when read from the cache (then `seconds` is the crafting time recorded). */
  cached?: boolean;
}

/** The wrong class with the most neighbour votes (lowest class on ties) of each input. */
export function targetClasses(pred: DkNNPrediction): Int32Array {
  const C = pred.numClasses;
  const out = new Int32Array(pred.n);
  for (let i = 0; i < pred.n; i++) {
    let best = -1;
    for (let j = 0; j < C; j++)
      if (j !== pred.predictions[i] && (best < 0 || pred.knnCounts[i * C + j] > pred.knnCounts[i * C + best])) best = j;
    out[i] = best;
  }
  return out;
}

function checkBox(options: { clipMin?: number; clipMax?: number }): [number, number] {
  const lo = options.clipMin ?? 0;
  const hi = options.clipMax ?? 1;
  checkClip(lo, hi);
  return [lo, hi];
}

/** Bytes of guide representations one optimised batch may hold (the wasm heap is 4 GiB at most). */
const GUIDE_BATCH_BYTES = 512 * 1024 * 1024;

/** The guided attack on the DkNN (see the module comment). */
export async function dknnGuidedAttack(
  dknn: DkNN,
  train: LabeledImages,
  data: ImageBatch,
  options: DkNNGuidedAttackOptions,
): Promise<DkNNAttackResult> {
  const { eps, guides = 75, steps = 300, steepness = 1, checkpoints = [0.5, 0.75, 1] } = options;
  checkEps(eps);
  checkPositiveInt('guides', guides);
  checkPositiveInt('steps', steps);
  checkPositiveInt('batchSize', options.batchSize ?? 50);
  if (!(Number.isFinite(steepness) && steepness > 0))
    throw new Error(`dknnGuidedAttack: steepness must be a positive number, got ${steepness}`);
  if (!checkpoints.every((c) => Number.isFinite(c) && c > 0 && c <= 1))
    throw new Error(
      `dknnGuidedAttack: checkpoints must be shares of the steps in (0, 1], got ${JSON.stringify(checkpoints)}`,
    );
  const settings: GuidedSettings = {
    steps,
    steepness,
    learningRate: options.learningRate ?? eps / 10,
    checkSteps: [...new Set([...checkpoints.map((c) => Math.max(1, Math.round(c * steps))), steps])].sort(
      (a, b) => a - b,
    ),
  };
  const [lo, hi] = checkBox(options);
  const t0 = performance.now();
  const clean = options.clean ?? (await dknn.predict(data));
  if (clean.n !== data.n)
    throw new Error(`dknnGuidedAttack: the clean prediction covers ${clean.n} inputs, the data ${data.n}`);
  const targets = targetClasses(clean);
  const layers = [...dknn.layers];
  const g = options.guideLayer === undefined ? 0 : layers.indexOf(options.guideLayer);
  if (g < 0)
    throw new Error(
      `dknnGuidedAttack: guideLayer must be one of the DkNN's layers ${JSON.stringify(layers)}, got ${JSON.stringify(options.guideLayer)}`,
    );
  const per = data.height * data.width * data.channels;
  const guideBytes = guides * dknn.layerCenters.reduce((a, c) => a + c.length, 0) * 4;
  const batch = Math.max(1, Math.min(options.batchSize ?? 50, Math.floor(GUIDE_BATCH_BYTES / guideBytes)));
  const batches = Math.ceil(data.n / batch);
  const workers =
    options.workers === undefined || options.workers === 'auto'
      ? tf.getBackend() === 'tensorflow'
        ? 1
        : Math.min(availableParallelism(), batches)
      : options.workers;
  checkPositiveInt('workers', workers);

  const cache = new ArtifactCache({ dir: options.cache });
  const parts = {
    artefact: 'dknn-guided-attack',
    version: 1,
    modelHash: modelHash(dknn.model),
    images: sha256Of(data.images),
    train: sha256Of(train.images),
    shape: [data.n, data.height, data.width, data.channels],
    dknn: { layers, k: dknn.k },
    clean: sha256Of(clean.knnCounts),
    box: [lo, hi],
    options: { eps, guides, guideLayer: layers[g], batch, ...settings },
    backend: engineKey(),
  };
  const hit = cache.read('adversarial', parts, data.n * per);
  if (hit) {
    options.onProgress?.({ stage: `DkNN attack ε ${eps} (cached)`, done: data.n, total: data.n, unit: 'img' });
    return {
      images: hit.values,
      n: data.n,
      height: data.height,
      width: data.width,
      channels: data.channels,
      targets,
      seconds: Number(hit.meta.seconds ?? NaN),
      cached: true,
    };
  }

  const plans = await planBatches(dknn, train, data, clean, targets, g, guides, batch, eps, lo, hi, options.cache);
  const stage = `DkNN attack ε ${eps}`;
  const progress = new Float64Array(plans.length);
  const report = (b: number, step: number) => {
    progress[b] = step / steps;
    const done = plans.reduce((s, p, i) => s + Math.round(progress[i] * p.B), 0);
    options.onProgress?.({ stage, done, total: data.n, unit: 'img' });
  };
  const iterates =
    workers > 1
      ? await optimizeOnWorkers(dknn, layers, settings, plans, workers, report)
      : await optimizeHere(dknn, layers, settings, plans, report);

  // Checkpoints: keep the latest iterate the DkNN gets wrong, else the final one.
  const out = new Float32Array(data.n * per);
  let s = 0;
  for (let b = 0; b < plans.length; b++) {
    const B = plans[b].B;
    const cleanPred = clean.predictions.subarray(s, s + B);
    const moved = new Uint8Array(B);
    for (let c = 0; c < settings.checkSteps.length; c++) {
      const pixels = iterates[b].subarray(c * B * per, (c + 1) * B * per);
      const p = await dknn.predict({
        images: pixels,
        n: B,
        height: data.height,
        width: data.width,
        channels: data.channels,
      });
      const last = c === settings.checkSteps.length - 1;
      for (let i = 0; i < B; i++) {
        const fooled = p.predictions[i] !== cleanPred[i];
        if (fooled) moved[i] = 1;
        if (fooled || (last && !moved[i])) out.set(pixels.subarray(i * per, (i + 1) * per), (s + i) * per);
      }
    }
    s += B;
  }
  const seconds = (performance.now() - t0) / 1000;
  cache.write('adversarial', parts, out, { seconds, label: stage, workers });
  return {
    images: out,
    n: data.n,
    height: data.height,
    width: data.width,
    channels: data.channels,
    targets,
    seconds,
    cached: false,
  };
}

/** Per batch: the inputs, their guides (the m training points of the target class nearest in layer g), η and the box. */
async function planBatches(
  dknn: DkNN,
  train: LabeledImages,
  data: ImageBatch,
  clean: DkNNPrediction,
  targets: Int32Array,
  g: number,
  guides: number,
  batch: number,
  eps: number,
  lo: number,
  hi: number,
  cacheDir: string | false | undefined,
): Promise<GuidedBatch[]> {
  const layers = dknn.layers;
  const guideActs = (
    await cachedActivations(dknn.model, train, [layers[g]], { cache: new ArtifactCache({ dir: cacheDir }) })
  ).values[0];
  const centerG = dknn.layerCenters[g];
  const dG = centerG.length;
  // Inverse L2 norm of each training row (0 for a zero row, which stays zero: the DkNN's preprocessing).
  const invNorm = new Float64Array(train.n);
  for (let i = 0; i < train.n; i++) {
    let q = 0;
    for (let j = 0; j < dG; j++) q += guideActs[i * dG + j] * guideActs[i * dG + j];
    invNorm[i] = q > 0 ? 1 / Math.sqrt(q) : 0;
  }
  const byClass = new Map<number, number[]>();
  dknn.trainLabels.forEach((y, i) => (byClass.get(y) ?? byClass.set(y, []).get(y)!).push(i));
  const per = data.height * data.width * data.channels;
  const shape: [number, number, number] = [data.height, data.width, data.channels];
  const sub = tf.model({
    inputs: dknn.model.inputs,
    outputs: [dknn.model.getLayer(layers[g]).output as tf.SymbolicTensor],
  });
  const centerT = tf.tensor1d(centerG);
  const plans: GuidedBatch[] = [];
  try {
    for (let s = 0; s < data.n; s += batch) {
      const e = Math.min(data.n, s + batch);
      const B = e - s;
      const x = data.images.slice(s * per, e * per);
      const xRep = tf.tidy(
        () =>
          representations(outputs(sub.predict(tf.tensor4d(x, [B, ...shape]))), [centerT])[0].dataSync() as Float32Array,
      );
      const guideIdx: number[][] = [];
      for (let b = 0; b < B; b++) {
        const dist = (byClass.get(targets[s + b]) ?? []).map((t) => {
          let d = 0;
          for (let j = 0; j < dG; j++) d += (xRep[b * dG + j] - (guideActs[t * dG + j] * invNorm[t] - centerG[j])) ** 2;
          return [d, t] as const;
        });
        dist.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
        guideIdx.push(dist.slice(0, guides).map((p) => p[1]));
      }
      const m = Math.min(...guideIdx.map((gi) => gi.length));
      if (m === 0) throw new Error('dknnGuidedAttack: a target class has no training point');
      const guideImgs = new Float32Array(B * m * per);
      guideIdx.forEach((gi, b) =>
        gi
          .slice(0, m)
          .forEach((t, j) => guideImgs.set(train.images.subarray(t * per, (t + 1) * per), (b * m + j) * per)),
      );
      // η_l: distance of the k-th neighbour of each input in each layer (the lists hold squared distances).
      const eta = new Float32Array(layers.length * B);
      layers.forEach((l, li) => {
        const nb = clean.neighbors.find((q) => q.layer === l)!;
        for (let b = 0; b < B; b++)
          eta[li * B + b] = Math.max(1e-6, Math.sqrt(nb.distances[(s + b) * nb.k + nb.k - 1]));
      });
      const boxLo = new Float32Array(x.length);
      const boxHi = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        boxLo[i] = Math.max(lo, x[i] - eps);
        boxHi[i] = Math.min(hi, x[i] + eps);
      }
      plans.push({ B, shape, x, guides: guideImgs, m, eta, boxLo, boxHi });
    }
  } finally {
    centerT.dispose();
  }
  return plans;
}

/** Every batch optimised on this thread. */
async function optimizeHere(
  dknn: DkNN,
  layers: string[],
  settings: GuidedSettings,
  plans: GuidedBatch[],
  report: (b: number, step: number) => void,
): Promise<Float32Array[]> {
  const sub = tf.model({
    inputs: dknn.model.inputs,
    outputs: layers.map((l) => dknn.model.getLayer(l).output as tf.SymbolicTensor),
  });
  const centers = dknn.layerCenters.map((c) => tf.tensor1d(c));
  try {
    const out: Float32Array[] = [];
    for (let b = 0; b < plans.length; b++) {
      out.push(optimizeGuided(sub, centers, plans[b], settings, (step) => report(b, step)));
      report(b, settings.steps);
      await new Promise((r) => setImmediate(r));
    }
    return out;
  } finally {
    tf.dispose(centers);
  }
}

/** The batches spread over `workers` threads, fed as they finish. */
async function optimizeOnWorkers(
  dknn: DkNN,
  layers: string[],
  settings: GuidedSettings,
  plans: GuidedBatch[],
  workers: number,
  report: (b: number, step: number) => void,
): Promise<Float32Array[]> {
  const workerData: GuidedWorkerData = {
    artifacts: await modelArtifacts(dknn.model),
    backend: tf.getBackend(),
    kernelMode: wasmKernelMode(),
    layers,
    centers: dknn.layerCenters.map((c) => Float32Array.from(c)),
    settings,
  };
  const { script, evalCode } = workerEntry(__dirname, __filename, 'guided-worker', 'dknnGuidedAttack with workers > 1');
  const out: Float32Array[] = new Array(plans.length);
  await runWorkerJobs<GuidedWorkerReply>({
    script,
    evalCode,
    workerData,
    threads: workers,
    jobs: plans.length,
    name: 'dknn-guided',
    what: 'guided-attack worker',
    unfinished: 'its batches were done',
    send: (w, id) => w.postMessage({ id, batch: plans[id] } satisfies GuidedBatchMessage),
    receive: (m) => {
      if (m.type === 'progress') {
        report(m.id!, m.step!);
        return false;
      }
      out[m.id!] = m.iterates!;
      report(m.id!, settings.steps);
      return true;
    },
  });
  return out;
}

/** Sitawarin & Wagner's baseline: one L∞ step of ε towards the mean training image of the target class. */
export async function meanOfClassAttack(
  dknn: DkNN,
  train: LabeledImages,
  data: ImageBatch,
  options: { eps: number; clean?: DkNNPrediction; clipMin?: number; clipMax?: number },
): Promise<DkNNAttackResult> {
  checkEps(options.eps);
  const [lo, hi] = checkBox(options);
  const t0 = performance.now();
  const clean = options.clean ?? (await dknn.predict(data));
  const targets = targetClasses(clean);
  const per = data.height * data.width * data.channels;
  const C = clean.numClasses;
  const means = new Float64Array(C * per);
  const counts = new Float64Array(C);
  for (let i = 0; i < train.n; i++) {
    const y = train.labels[i];
    counts[y]++;
    for (let p = 0; p < per; p++) means[y * per + p] += train.images[i * per + p];
  }
  const out = new Float32Array(data.n * per);
  for (let i = 0; i < data.n; i++) {
    const t = targets[i];
    for (let p = 0; p < per; p++) {
      const x = data.images[i * per + p];
      const dir = means[t * per + p] / Math.max(1, counts[t]) - x;
      out[i * per + p] = Math.min(hi, Math.max(lo, x + options.eps * (dir > 0 ? 1 : dir < 0 ? -1 : 0)));
    }
  }
  return {
    images: out,
    n: data.n,
    height: data.height,
    width: data.width,
    channels: data.channels,
    targets,
    seconds: (performance.now() - t0) / 1000,
  };
}
