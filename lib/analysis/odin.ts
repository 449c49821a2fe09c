/**
 * ODIN (Liang et al. 2018): temperature scaling and a small input perturbation before the maximum
 * softmax probability. For an input x with DNN prediction ŷ,
 *   x̃ = x − ε · sign(∇ₓ L(x)),  L = −log softmax(z(x) / T)_ŷ,   score = max_j softmax(z(x̃) / T)_j,
 * a one-step move that raises the softmax of ŷ (the FGSM step of `attacks/`, towards ŷ; its gradient
 * taken with the `'exact'` semantics so that a confident input at T = 1 still gets a direction).
 * No clipping to the pixel range, as the paper. Higher = more in-distribution.
 *
 * **Tuning without the test sets.** The paper picks T and ε on 1,000 images of each
 * out-of-distribution test set, which leaks the test set into the detector. Here ({@link tuneOdin})
 * they are picked on a validation pair that no table column uses: in-distribution images the
 * evaluation never scores (the DkNN's calibration images) against the same images with their pixel
 * positions shuffled ({@link permutedPixels}: same pixel values and ink, no shape), a synthetic shift
 * that is neither a dataset, a rotation nor an attack, so no evaluated shift is seen during tuning.
 * (The in-distribution-only recipe of Hsu et al. 2020 would tune ε alone, at a fixed T: ODIN has
 * two parameters, so a shifted validation set is needed to choose T.) The criterion is the paper's:
 * the lowest FPR@95 on the pair, ties broken by the higher AUROC, then by the earlier grid point.
 */
import * as tf from '@tensorflow/tfjs';
import { computeGradient, exactCrossEntropy, exactSign, logitsFn, type ModelFn } from '../attacks/utils';
import { oodMetrics } from '../metrics/detection';
import { createRng } from '../util/random';
import { maxSoftmaxScore, type InDistributionScores } from './ood-scores';
import type { ImageBatch } from '../data/types';
import type { ProgressCallback } from '../util/progress';

/** ODIN's two parameters. */
export interface OdinParameters {
  /** Softmax temperature T > 0. */
  temperature: number;
  /** Perturbation size ε ≥ 0 (L∞, in pixel units). */
  epsilon: number;
}

/** The default grid: the paper's temperatures, and ε from 0 to 0.032 (the paper's 0–0.004 was on normalized CIFAR pixels). */
export const ODIN_GRID: Readonly<{ temperatures: readonly number[]; epsilons: readonly number[] }> = Object.freeze({
  temperatures: [1, 10, 100, 1000],
  epsilons: [0, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032],
});

function checkParameters(p: OdinParameters): void {
  if (!(p.temperature > 0 && Number.isFinite(p.temperature))) {
    throw new RangeError(`ODIN temperature: expected a finite number > 0, found ${p.temperature}`);
  }
  if (!(p.epsilon >= 0 && Number.isFinite(p.epsilon))) {
    throw new RangeError(`ODIN epsilon: expected a finite number ≥ 0, found ${p.epsilon}`);
  }
}

/**
 * ODIN scores of images [start, end) of `data` at temperature T for each ε of `epsilons`: one
 * gradient (when some ε > 0), then one forward pass per ε. Returns one array of `end − start` scores per ε.
 */
function odinBatch(
  modelFn: ModelFn,
  data: ImageBatch,
  at: { start: number; end: number; temperature: number; epsilons: readonly number[] },
): Float64Array[] {
  const { start, end, temperature, epsilons } = at;
  const pixels = data.height * data.width * data.channels;
  const tempered = (input: tf.Tensor) => tf.div(modelFn(input), temperature);
  const shape: [number, number, number, number] = [end - start, data.height, data.width, data.channels];
  const x = tf.tensor4d(data.images.subarray(start * pixels, end * pixels), shape);
  const direction = epsilons.some((e) => e > 0)
    ? tf.tidy(() => exactSign(computeGradient(tempered, exactCrossEntropy, x, 'predictions', false)))
    : null;
  try {
    return epsilons.map((epsilon) => {
      const logits = tf.tidy(() => modelFn(epsilon > 0 && direction ? tf.sub(x, tf.mul(direction, epsilon)) : x));
      const values = logits.dataSync();
      const dim = logits.shape[1] as number;
      logits.dispose();
      return maxSoftmaxScore({ values, dim }, { temperature });
    });
  } finally {
    direction?.dispose();
    x.dispose();
  }
}

/** ODIN scores for each ε at one temperature, over all of `data`, batch by batch. */
function odinScores(
  modelFn: ModelFn,
  data: ImageBatch,
  options: { temperature: number; epsilons: readonly number[]; batchSize: number; onBatch?: (done: number) => void },
): Float64Array[] {
  const out = options.epsilons.map(() => new Float64Array(data.n));
  for (let start = 0; start < data.n; start += options.batchSize) {
    const end = Math.min(data.n, start + options.batchSize);
    const scores = odinBatch(modelFn, data, {
      start,
      end,
      temperature: options.temperature,
      epsilons: options.epsilons,
    });
    scores.forEach((s, e) => out[e].set(s, start));
    options.onBatch?.(end);
  }
  return out;
}

/** Options of {@link odinScore}. */
export interface OdinScoreOptions extends OdinParameters {
  /** Images per gradient pass. Default 250. */
  batchSize?: number;
}

/** ODIN scores of every image of `data` with the given parameters (see the module comment). Higher = more in-distribution. */
export function odinScore(model: tf.LayersModel, data: ImageBatch, options: OdinScoreOptions): InDistributionScores {
  checkParameters(options);
  const batchSize = options.batchSize ?? 250;
  return odinScores(logitsFn(model), data, {
    temperature: options.temperature,
    epsilons: [options.epsilon],
    batchSize,
  })[0];
}

/** One grid point of {@link tuneOdin}, measured on the validation pair. */
export interface OdinGridPoint extends OdinParameters {
  fpr95: number;
  auroc: number;
}

/** What {@link tuneOdin} chose, and every point it measured. */
export interface OdinTuning {
  best: OdinParameters;
  grid: OdinGridPoint[];
  /** Images on each side of the validation pair. */
  validation: { inDist: number; outDist: number };
}

/** Options of {@link tuneOdin}. */
export interface TuneOdinOptions {
  /** In-distribution validation images (never scored by the evaluation). */
  inDist: ImageBatch;
  /** Shifted validation images: a shift none of the evaluated sets uses (e.g. {@link permutedPixels} of `inDist`). */
  outDist: ImageBatch;
  /** Temperatures tried. Default {@link ODIN_GRID}'s. */
  temperatures?: readonly number[];
  /** Perturbation sizes tried. Default {@link ODIN_GRID}'s. */
  epsilons?: readonly number[];
  /** Images per gradient pass. Default 250. */
  batchSize?: number;
  /** Progress (stage `tune ODIN`, unit `img`). */
  onProgress?: ProgressCallback;
}

/** Picks ODIN's T and ε on a validation pair (see the module comment for the criterion and why). */
export function tuneOdin(model: tf.LayersModel, options: TuneOdinOptions): OdinTuning {
  const { inDist, outDist } = options;
  const temperatures = options.temperatures ?? ODIN_GRID.temperatures;
  const epsilons = options.epsilons ?? ODIN_GRID.epsilons;
  if (temperatures.length === 0 || epsilons.length === 0) {
    throw new Error(
      `tuneOdin: expected at least one temperature and one ε, found ${temperatures.length} and ${epsilons.length}`,
    );
  }
  for (const temperature of temperatures) for (const epsilon of epsilons) checkParameters({ temperature, epsilon });
  if (inDist.n === 0 || outDist.n === 0) {
    throw new Error(`tuneOdin: expected validation images on both sides, found ${inDist.n} and ${outDist.n}`);
  }
  const batchSize = options.batchSize ?? 250;
  const modelFn = logitsFn(model);
  const total = temperatures.length * (inDist.n + outDist.n);
  let done = 0;
  const report = (n: number) => options.onProgress?.({ stage: 'tune ODIN', done: done + n, total, unit: 'img' });
  const grid: OdinGridPoint[] = [];
  for (const temperature of temperatures) {
    const ins = odinScores(modelFn, inDist, { temperature, epsilons, batchSize, onBatch: report });
    done += inDist.n;
    const outs = odinScores(modelFn, outDist, { temperature, epsilons, batchSize, onBatch: report });
    done += outDist.n;
    epsilons.forEach((epsilon, e) => {
      const m = oodMetrics(ins[e], outs[e]);
      grid.push({ temperature, epsilon, fpr95: m.fpr95, auroc: m.auroc });
    });
  }
  const best = grid.reduce((a, b) => (b.fpr95 < a.fpr95 || (b.fpr95 === a.fpr95 && b.auroc > a.auroc) ? b : a));
  return {
    best: { temperature: best.temperature, epsilon: best.epsilon },
    grid,
    validation: { inDist: inDist.n, outDist: outDist.n },
  };
}

/**
 * `data` with the pixel positions of every image shuffled, each image by its own permutation drawn
 * from `seed` (the channels of a pixel move together): the same pixel values, no shape. A synthetic
 * shift for tuning detectors on something no evaluated set contains. Same seed, same images.
 */
export function permutedPixels<T extends ImageBatch>(data: T, options: { seed: number }): T {
  const rng = createRng(options.seed);
  const { height, width, channels } = data;
  const positions = height * width;
  const per = positions * channels;
  const images = new Float32Array(data.images.length);
  const order = new Int32Array(positions);
  for (let i = 0; i < data.n; i++) {
    for (let p = 0; p < positions; p++) order[p] = p;
    for (let p = positions - 1; p > 0; p--) {
      const q = rng.int(p + 1);
      const t = order[p];
      order[p] = order[q];
      order[q] = t;
    }
    for (let p = 0; p < positions; p++) {
      for (let c = 0; c < channels; c++)
        images[i * per + p * channels + c] = data.images[i * per + order[p] * channels + c];
    }
  }
  return { ...data, images, name: `${(data as { name?: string }).name ?? 'images'} (pixels permuted)` };
}
