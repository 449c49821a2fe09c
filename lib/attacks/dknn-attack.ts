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
 *   guide inside the input's neighbourhood counts about 0, one outside about 1. At a few
 *   checkpoints the DkNN predicts the current batch; an input whose DkNN prediction has moved off
 *   its clean prediction keeps that image (the latest such), the others the final iterate.
 * - {@link meanOfClassAttack}: their simpler baseline: one step of ε in the sign of
 *   (mean training image of the target class − x).
 *
 * Both need the fitted and calibrated DkNN and its training images. Tensor ownership: no tensor
 * outlives a call.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageBatch } from '../activations';
import { cachedActivations } from '../activation-cache';
import { ArtefactCache } from '../artefacts/cache';
import type { DkNN, DkNNPrediction, LabelledImageBatch } from '../dknn';
import type { ProgressCallback } from '../progress';
import { checkClip, checkEps, checkPositiveInt } from './utils';

/** Options of {@link dknnGuidedAttack}. */
export interface DknnGuidedAttackOptions {
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
  /** Box of the inputs. Default [0, 1]. */
  clipMin?: number;
  clipMax?: number;
  /** The clean inputs' DkNN prediction, when already computed. Default: predicted here. */
  clean?: DkNNPrediction;
  /** Artefact cache for the training activations of the guide layer. Default `<repo>/.cache`. */
  cache?: string | false;
  onProgress?: ProgressCallback;
}

/** What the attacks return: the adversarial images, the target class of each input and the seconds taken. */
export interface DknnAttackResult extends ImageBatch {
  targets: Int32Array;
  seconds: number;
}

/** The wrong class with the most neighbour votes (lowest class on ties) of each input. */
export function targetClasses(pred: DkNNPrediction): Int32Array {
  const C = pred.numClasses;
  const out = new Int32Array(pred.n);
  for (let i = 0; i < pred.n; i++) {
    let best = -1;
    for (let j = 0; j < C; j++) if (j !== pred.predictions[i] && (best < 0 || pred.knnCounts[i * C + j] > pred.knnCounts[i * C + best])) best = j;
    out[i] = best;
  }
  return out;
}

/** The DkNN representation of every layer: flatten, L2-normalise (zero rows stay zero), subtract the centre. */
function representations(acts: tf.Tensor[], centres: tf.Tensor[]): tf.Tensor2D[] {
  return acts.map((a, l) => {
    const flat = tf.reshape(a, [a.shape[0], -1]) as tf.Tensor2D;
    const norm = tf.sqrt(tf.sum(tf.square(flat), 1, true));
    return tf.sub(tf.div(flat, tf.maximum(norm, 1e-30)), centres[l]) as tf.Tensor2D;
  });
}

/** A model's outputs as a list (a single-output model returns one tensor). */
function outputs(o: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(o) ? o : [o];
}

function checkBox(options: { clipMin?: number; clipMax?: number }): [number, number] {
  const lo = options.clipMin ?? 0;
  const hi = options.clipMax ?? 1;
  checkClip(lo, hi);
  return [lo, hi];
}

/** The guided attack on the DkNN (see the module comment). */
export async function dknnGuidedAttack(dknn: DkNN, train: LabelledImageBatch, data: ImageBatch, options: DknnGuidedAttackOptions): Promise<DknnAttackResult> {
  const { eps, guides = 75, steps = 300, learningRate, batchSize = 50, steepness = 1, checkpoints = [0.5, 0.75, 1] } = options;
  checkEps(eps);
  checkPositiveInt(guides, 'guides');
  checkPositiveInt(steps, 'steps');
  checkPositiveInt(batchSize, 'batchSize');
  if (!(Number.isFinite(steepness) && steepness > 0)) throw new Error(`dknnGuidedAttack: steepness must be a positive number, got ${steepness}`);
  if (!checkpoints.every((c) => Number.isFinite(c) && c > 0 && c <= 1)) throw new Error(`dknnGuidedAttack: checkpoints must be shares of the steps in (0, 1], got ${JSON.stringify(checkpoints)}`);
  const checkSteps = new Set([...checkpoints.map((c) => Math.max(1, Math.round(c * steps))), steps]);
  const [lo, hi] = checkBox(options);
  const t0 = performance.now();
  const clean = options.clean ?? (await dknn.predict(data));
  if (clean.n !== data.n) throw new Error(`dknnGuidedAttack: the clean prediction covers ${clean.n} inputs, the data ${data.n}`);
  const targets = targetClasses(clean);
  const layers = [...dknn.layers];
  const trainLabels = dknn.trainLabels;
  const centres = dknn.layerCentres;
  // Guides: the m training points of the target class nearest to the input in the guide layer.
  const g = options.guideLayer === undefined ? 0 : layers.indexOf(options.guideLayer);
  if (g < 0) throw new Error(`dknnGuidedAttack: guideLayer must be one of the DkNN's layers ${JSON.stringify(layers)}, got ${JSON.stringify(options.guideLayer)}`);
  const guideActs = (await cachedActivations(dknn.model, train, [layers[g]], { cache: new ArtefactCache({ dir: options.cache }) })).values[0];
  const dG = centres[g].length;
  const centreG = centres[g];
  // Inverse L2 norm of each training row (0 for a zero row, which stays zero: the DkNN's preprocessing).
  const invNorm = new Float64Array(train.n);
  for (let i = 0; i < train.n; i++) {
    let q = 0;
    for (let j = 0; j < dG; j++) q += guideActs[i * dG + j] * guideActs[i * dG + j];
    invNorm[i] = q > 0 ? 1 / Math.sqrt(q) : 0;
  }
  const byClass = new Map<number, number[]>();
  trainLabels.forEach((y, i) => (byClass.get(y) ?? byClass.set(y, []).get(y)!).push(i));
  const per = data.height * data.width * data.channels;
  const out = new Float32Array(data.n * per);
  const subModel = tf.model({ inputs: dknn.model.inputs, outputs: layers.map((l) => dknn.model.getLayer(l).output as tf.SymbolicTensor) });
  const centreT = centres.map((c) => tf.tensor1d(c));
  try {
    const guideBytes = guides * centres.reduce((a, c) => a + c.length, 0) * 4;
    const batch = Math.max(1, Math.min(batchSize, Math.floor(GUIDE_BATCH_BYTES / guideBytes)));
    for (let s = 0; s < data.n; s += batch) {
      const e = Math.min(data.n, s + batch);
      const B = e - s;
      const x = tf.tensor4d(data.images.subarray(s * per, e * per), [B, data.height, data.width, data.channels]);
      // Guide indices per input, from the guide-layer representation of the clean input.
      const xRep = tf.tidy(() => representations([outputs(subModel.predict(x))[g]], [centreT[g]])[0].dataSync() as Float32Array);
      const guideIdx: number[][] = [];
      for (let b = 0; b < B; b++) {
        const cand = byClass.get(targets[s + b]) ?? [];
        const dist = cand.map((t) => {
          let d = 0;
          for (let j = 0; j < dG; j++) d += (xRep[b * dG + j] - (guideActs[t * dG + j] * invNorm[t] - centreG[j])) ** 2;
          return [d, t] as const;
        });
        dist.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
        guideIdx.push(dist.slice(0, guides).map((p) => p[1]));
      }
      const m = Math.min(...guideIdx.map((g) => g.length));
      if (m === 0) throw new Error('dknnGuidedAttack: a target class has no training point');
      // Guide representations, B × m × d per layer, and their squared norms (B × m): the loss takes
      // ‖r − g‖² = ‖r‖² − 2 r·g + ‖g‖² as one batched product, never a B × m × d difference.
      const guideReps = guideRepresentations(subModel, centreT, train, guideIdx, m, data);
      const guideSq = guideReps.map((r) => tf.tidy(() => tf.sum(tf.square(r), 2)));
      // η_l: distance of the k-th neighbour of each input in each layer (the lists hold squared distances).
      const eta = layers.map((l) => {
        const nb = clean.neighbors.find((q) => q.layer === l)!;
        return tf.tensor2d(Float32Array.from({ length: B }, (_, b) => Math.max(1e-6, Math.sqrt(nb.distances[(s + b) * nb.k + nb.k - 1]))), [B, 1]);
      });
      // The box of each pixel: the ε-ball intersected with [lo, hi].
      const xs = data.images.subarray(s * per, e * per);
      const boxLo = new Float32Array(xs.length);
      const boxHi = new Float32Array(xs.length);
      for (let i = 0; i < xs.length; i++) {
        boxLo[i] = Math.max(lo, xs[i] - eps);
        boxHi[i] = Math.min(hi, xs[i] + eps);
      }
      const shape: [number, number, number, number] = [B, data.height, data.width, data.channels];
      const loT = tf.tensor4d(boxLo, shape);
      const hiT = tf.tensor4d(boxHi, shape);
      const xv = tf.tidy(() => tf.variable(x.clone()));
      const opt = tf.train.adam(learningRate ?? eps / 10);
      const cleanPred = clean.predictions.subarray(s, e);
      const kept = new Float32Array(B * per);
      const moved = new Uint8Array(B);
      try {
        for (let step = 1; step <= steps; step++) {
          opt.minimize(() => {
            const reps = representations(outputs(subModel.apply(xv) as tf.Tensor | tf.Tensor[]), centreT);
            let loss: tf.Tensor = tf.scalar(0);
            reps.forEach((r, l) => {
              const rg = tf.reshape(tf.matMul(tf.expandDims(r, 1), guideReps[l], false, true), [r.shape[0], -1]); // B × m
              const sq = tf.add(tf.sub(tf.sum(tf.square(r), 1, true), tf.mul(rg, 2)), guideSq[l]);
              const d = tf.sqrt(tf.add(tf.relu(sq), 1e-12)); // B × m
              loss = tf.add(loss, tf.sum(tf.sigmoid(tf.mul(tf.div(tf.sub(d, eta[l]), eta[l]), steepness))));
            });
            return loss as tf.Scalar;
          }, false, [xv]);
          tf.tidy(() => xv.assign(tf.minimum(tf.maximum(xv, loT), hiT)));
          if (checkSteps.has(step)) {
            const pixels = xv.dataSync().slice() as Float32Array;
            const p = await dknn.predict({ images: pixels, n: B, height: data.height, width: data.width, channels: data.channels });
            for (let b = 0; b < B; b++) {
              const fooled = p.predictions[b] !== cleanPred[b];
              if (fooled) moved[b] = 1;
              if (fooled || (step === steps && !moved[b])) kept.set(pixels.subarray(b * per, (b + 1) * per), b * per);
            }
          }
          if (step % 25 === 0) options.onProgress?.({ stage: `DkNN attack ε ${eps}`, done: s + Math.round((B * step) / steps), total: data.n, unit: 'img' });
          if (step % 25 === 0) await new Promise((r) => setImmediate(r));
        }
        out.set(kept, s * per);
      } finally {
        opt.dispose();
        xv.dispose();
        tf.dispose([x, loT, hiT, ...guideReps, ...guideSq, ...eta]);
      }
      options.onProgress?.({ stage: `DkNN attack ε ${eps}`, done: e, total: data.n, unit: 'img' });
    }
  } finally {
    tf.dispose(centreT);
  }
  return { images: out, n: data.n, height: data.height, width: data.width, channels: data.channels, targets, seconds: (performance.now() - t0) / 1000 };
}

/** Bytes of guide representations one optimised batch may hold (the wasm heap is 4 GiB at most). */
const GUIDE_BATCH_BYTES = 512 * 1024 * 1024;

/** Images per forward pass when computing guide representations. */
const GUIDE_CHUNK = 500;

/**
 * The representations of each input's m guides in every layer, as B × m × d tensors. The guide
 * images go through the model in chunks and land in one array per layer, so the wasm heap never
 * holds more than one chunk's activations besides the result.
 */
function guideRepresentations(subModel: tf.LayersModel, centreT: tf.Tensor[], train: LabelledImageBatch, guideIdx: number[][], m: number, data: ImageBatch): tf.Tensor3D[] {
  const per = data.height * data.width * data.channels;
  const flat = guideIdx.flatMap((g) => g.slice(0, m));
  const dims = centreT.map((c) => c.shape[0]);
  const host = dims.map((d) => new Float32Array(flat.length * d));
  for (let s = 0; s < flat.length; s += GUIDE_CHUNK) {
    const e = Math.min(flat.length, s + GUIDE_CHUNK);
    const imgs = new Float32Array((e - s) * per);
    for (let j = s; j < e; j++) imgs.set(train.images.subarray(flat[j] * per, (flat[j] + 1) * per), (j - s) * per);
    const reps = tf.tidy(() => representations(outputs(subModel.predict(tf.tensor4d(imgs, [e - s, data.height, data.width, data.channels]))), centreT));
    reps.forEach((r, l) => host[l].set(r.dataSync(), s * dims[l]));
    tf.dispose(reps);
  }
  return host.map((h, l) => tf.tensor3d(h, [guideIdx.length, m, dims[l]]));
}

/** Sitawarin & Wagner's baseline: one L∞ step of ε towards the mean training image of the target class. */
export async function meanOfClassAttack(dknn: DkNN, train: LabelledImageBatch, data: ImageBatch, options: { eps: number; clean?: DkNNPrediction; clipMin?: number; clipMax?: number }): Promise<DknnAttackResult> {
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
  return { images: out, n: data.n, height: data.height, width: data.width, channels: data.channels, targets, seconds: (performance.now() - t0) / 1000 };
}
