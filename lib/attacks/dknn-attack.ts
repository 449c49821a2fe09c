/**
 * Attacks on the DkNN itself (Sitawarin & Wagner 2019, "On the Robustness of Deep K-Nearest
 * Neighbors"), not on the DNN under it:
 *
 * - {@link dknnGuidedAttack}: for each input, the wrong class with the most neighbor votes is the
 *   target; its m training points nearest to the input in one DkNN layer (the first by default) are the guides.
 *   Projected Adam on the pixels, starting at x, each step followed by the projection onto the box
 *   [max(lo, x − ε), min(hi, x + ε)], minimises
 *   Σ_layers Σ_guides sigmoid(a · (‖r_l(x') − r_l(g)‖ − η_l) / η_l), where r_l is the DkNN's own
 *   representation (activations, L2-normalized, centered on the training mean: differentiable end
 *   to end), η_l the distance of the input's k-th neighbor in layer l and a the steepness: a
 *   guide inside the input's neighborhood counts about 0, one outside about 1
 *   (`guided-optimize.ts`). The iterates at a few checkpoints go through the DkNN; an input keeps
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
import { ArtifactCache } from '../artifacts/cache';
import { sha256Of } from '../artifacts/keys';
import type { DkNN } from '../dknn/dknn';
import { engineKey } from '../engine/kernels';
import { modelHash } from '../models/weights';
import type { ProgressCallback } from '../util/progress';
import { workerEntry } from '../workers/entry';
import { runWorkerJobs } from '../workers/pool';
import { planBatches, type GuidedRun } from './guided-batches';
import { optimizeGuided, type GuidedBatch, type GuidedSettings } from './guided-optimize';
import type { GuidedBatchMessage, GuidedWorkerData, GuidedWorkerReply } from './guided-worker';
import { checkClip, checkEps } from './utils';
import type { ImageBatch, LabeledImages } from '../data/types';
import type { DkNNPrediction } from '../dknn/types';
import { modelWorkerData } from '../workers/model';

/** Options of {@link dknnGuidedAttack}. */
export interface DkNNGuidedAttackOptions {
  /** The DkNN's training images (the guides are among them). */
  train: LabeledImages;
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
  /** Inputs optimized together. Default 50, lowered so that a batch's guide representations stay within 512 MiB (m = 500 guides on MNIST: 16). */
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

/** The wrong class with the most neighbor votes (lowest class on ties) of each input. */
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

/** Bytes of guide representations one optimized batch may hold (the wasm heap is 4 GiB at most). */
const GUIDE_BATCH_BYTES = 512 * 1024 * 1024;

function resolveGuided(dknn: DkNN, data: ImageBatch, options: DkNNGuidedAttackOptions): GuidedRun {
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
  const box = checkBox(options);
  const layers = [...dknn.layers];
  const g = options.guideLayer === undefined ? 0 : layers.indexOf(options.guideLayer);
  if (g < 0)
    throw new Error(
      `dknnGuidedAttack: guideLayer must be one of the DkNN's layers ${JSON.stringify(layers)}, got ${JSON.stringify(options.guideLayer)}`,
    );
  const guideBytes = guides * dknn.layerCenters.reduce((a, c) => a + c.length, 0) * 4;
  const batch = Math.max(1, Math.min(options.batchSize ?? 50, Math.floor(GUIDE_BATCH_BYTES / guideBytes)));
  const batches = Math.ceil(data.n / batch);
  const auto = options.workers === undefined || options.workers === 'auto';
  const workers = auto
    ? tf.getBackend() === 'tensorflow'
      ? 1
      : Math.min(availableParallelism(), batches)
    : options.workers!;
  checkPositiveInt('workers', workers as number);
  return { eps, guides, settings, box, layers, g, batch, workers: workers as number };
}

/** What the result is cached under: the model, the DkNN, the inputs, the training images and the options. */
function guidedCacheParts(dknn: DkNN, train: LabeledImages, data: ImageBatch, clean: DkNNPrediction, run: GuidedRun) {
  const { eps, guides, layers, g, batch, settings } = run;
  return {
    artefact: 'dknn-guided-attack',
    version: 1,
    modelHash: modelHash(dknn.model),
    images: sha256Of(data.images),
    train: sha256Of(train.images),
    shape: [data.n, data.height, data.width, data.channels],
    dknn: { layers, k: dknn.k },
    clean: sha256Of(clean.knnCounts),
    box: run.box,
    options: { eps, guides, guideLayer: layers[g], batch, ...settings },
    backend: engineKey(),
  };
}

/** Per input, the latest checkpoint iterate the DkNN gets wrong (moved off its clean prediction), else the final one. */
async function pickIterates(
  dknn: DkNN,
  data: ImageBatch,
  plans: GuidedBatch[],
  iterates: Float32Array[],
  clean: DkNNPrediction,
  checkSteps: number[],
): Promise<Float32Array> {
  const per = data.height * data.width * data.channels;
  const out = new Float32Array(data.n * per);
  let s = 0;
  for (let b = 0; b < plans.length; b++) {
    const B = plans[b].B;
    const cleanPred = clean.predictions.subarray(s, s + B);
    const moved = new Uint8Array(B);
    for (let c = 0; c < checkSteps.length; c++) {
      const pixels = iterates[b].subarray(c * B * per, (c + 1) * B * per);
      const p = await dknn.predict({
        images: pixels,
        n: B,
        height: data.height,
        width: data.width,
        channels: data.channels,
      });
      const last = c === checkSteps.length - 1;
      for (let i = 0; i < B; i++) {
        const fooled = p.predictions[i] !== cleanPred[i];
        if (fooled) moved[i] = 1;
        if (fooled || (last && !moved[i])) out.set(pixels.subarray(i * per, (i + 1) * per), (s + i) * per);
      }
    }
    s += B;
  }
  return out;
}

/** The guided attack on the DkNN (see the module comment). */
export async function dknnGuidedAttack(
  dknn: DkNN,
  data: ImageBatch,
  options: DkNNGuidedAttackOptions,
): Promise<DkNNAttackResult> {
  const { train } = options;
  const run = resolveGuided(dknn, data, options);
  const { eps, settings } = run;
  const t0 = performance.now();
  const clean = options.clean ?? (await dknn.predict(data));
  if (clean.n !== data.n)
    throw new Error(`dknnGuidedAttack: the clean prediction covers ${clean.n} inputs, the data ${data.n}`);
  const targets = targetClasses(clean);
  const shape = { n: data.n, height: data.height, width: data.width, channels: data.channels };
  const cache = new ArtifactCache({ dir: options.cache });
  const parts = guidedCacheParts(dknn, train, data, clean, run);
  const hit = cache.read({ kind: 'adversarial', parts }, { length: data.n * data.height * data.width * data.channels });
  if (hit) {
    options.onProgress?.({ stage: `DkNN attack ε ${eps} (cached)`, done: data.n, total: data.n, unit: 'img' });
    return { images: hit.values, ...shape, targets, seconds: Number(hit.meta.seconds ?? NaN), cached: true };
  }
  const plans = await planBatches(dknn, train, data, clean, targets, run, options.cache);
  const stage = `DkNN attack ε ${eps}`;
  const progress = new Float64Array(plans.length);
  const report = (b: number, step: number) => {
    progress[b] = step / settings.steps;
    const done = plans.reduce((s, p, i) => s + Math.round(progress[i] * p.B), 0);
    options.onProgress?.({ stage, done, total: data.n, unit: 'img' });
  };
  const iterates =
    run.workers > 1
      ? await optimizeOnWorkers(dknn, run.layers, settings, plans, run.workers, report)
      : await optimizeHere(dknn, run.layers, settings, plans, report);
  const out = await pickIterates(dknn, data, plans, iterates, clean, settings.checkSteps);
  const seconds = (performance.now() - t0) / 1000;
  cache.write({ kind: 'adversarial', parts }, { values: out, meta: { seconds, label: stage, workers: run.workers } });
  return { images: out, ...shape, targets, seconds, cached: false };
}

/** Every batch optimized on this thread. */
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
    ...(await modelWorkerData(dknn.model)),
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
    send: (pool, w, id) => pool.post(w, { id, batch: plans[id] } satisfies GuidedBatchMessage),
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
  data: ImageBatch,
  options: { train: LabeledImages; eps: number; clean?: DkNNPrediction; clipMin?: number; clipMax?: number },
): Promise<DkNNAttackResult> {
  const { train } = options;
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
