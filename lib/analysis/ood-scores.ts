/**
 * Out-of-distribution scores computed from what a DkNN run already has: the DNN's logits, a layer's
 * activations, the neighbors' distances, the credibility. Every score here follows one convention,
 * {@link InDistributionScores}: **higher = more in-distribution** (detectors whose paper states a
 * distance or an energy are negated accordingly), so that a threshold keeps the inputs at or above
 * it, and `metrics.oodMetrics(inScores, outScores)` reads them all the same way.
 *
 * Mahalanobis is in `mahalanobis.ts` (it is fitted) and ODIN in `odin.ts` (it runs the model).
 */
import type { DkNNPrediction } from '../dknn/types';

/**
 * Per-input scores of a detector, one per input, oriented so that **higher = more
 * in-distribution**: the convention of every detector in `dk.analysis`.
 */
export type InDistributionScores = Float64Array;

/** Row-major `rows × dim` values with their row length: a layer's activations, or logits. */
export interface Rows {
  values: ArrayLike<number>;
  /** Values per row (for logits: the number of classes). */
  dim: number;
}

function rowCount(what: string, x: Rows): number {
  if (!Number.isInteger(x.dim) || x.dim < 1)
    throw new Error(`${what}.dim: expected a positive integer, found ${x.dim}`);
  if (x.values.length % x.dim !== 0) {
    throw new Error(`${what}: expected a whole number of rows of ${x.dim} values, found ${x.values.length} values`);
  }
  return x.values.length / x.dim;
}

function checkTemperature(temperature: number): void {
  if (!(temperature > 0 && Number.isFinite(temperature))) {
    throw new RangeError(`temperature: expected a finite number > 0, found ${temperature}`);
  }
}

/**
 * log Σⱼ exp(zⱼ / T) of row `r`, and max_j zⱼ/T, in float64 (the largest term factored out, so no
 * overflow). Throws on a non-finite logit.
 */
function logSumExpRow(logits: Rows, r: number, temperature: number): { lse: number; max: number } {
  const o = r * logits.dim;
  let max = -Infinity;
  for (let j = 0; j < logits.dim; j++) {
    const z = logits.values[o + j];
    if (!Number.isFinite(z)) throw new Error(`logits[${r}][${j}]: expected a finite number, found ${z}`);
    if (z / temperature > max) max = z / temperature;
  }
  let sum = 0;
  for (let j = 0; j < logits.dim; j++) sum += Math.exp(logits.values[o + j] / temperature - max);
  return { lse: max + Math.log(sum), max };
}

/**
 * Maximum softmax probability (Hendrycks & Gimpel 2017), max_j softmax(z / T)_j, computed in
 * float64 from the logits; T = `temperature` (default 1, the baseline; ODIN uses it with T > 1).
 * In [1/classes, 1]; higher = more in-distribution.
 */
export function maxSoftmaxScore(logits: Rows, options: { temperature?: number } = {}): InDistributionScores {
  const temperature = options.temperature ?? 1;
  checkTemperature(temperature);
  const rows = rowCount('logits', logits);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const { lse, max } = logSumExpRow(logits, r, temperature);
    out[r] = Math.exp(max - lse);
  }
  return out;
}

/**
 * The negative free energy (Liu et al. 2020): −E(x) = T · log Σⱼ exp(zⱼ / T), T = `temperature`
 * (default 1, the paper's). Higher = more in-distribution.
 */
export function energyScore(logits: Rows, options: { temperature?: number } = {}): InDistributionScores {
  const temperature = options.temperature ?? 1;
  checkTemperature(temperature);
  const rows = rowCount('logits', logits);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = temperature * logSumExpRow(logits, r, temperature).lse;
  return out;
}

/**
 * The k-th nearest-neighbor distance on L2-normalized features (Sun et al. 2022, "deep nearest
 * neighbors"), negated: −‖z/‖z‖ − z₍ₖ₎/‖z₍ₖ₎‖‖ with z₍ₖ₎ the k-th nearest training feature.
 *
 * Read from the DkNN's own search of `layer`: the DkNN L2-normalizes every row and centers them on
 * the training mean (a translation, which changes no distance), so its squared neighbor distances
 * are those of Sun et al.'s normalized features, over the same training images. `k` must not exceed
 * the DkNN's k. A missing neighbor (approximate indexes) scores −Infinity; a squared distance that
 * rounding made slightly negative counts as 0. Higher = more in-distribution.
 * @throws naming the DkNN's layers when `layer` is not one of them, or its k when `k` exceeds it.
 */
export function knnDistanceScore(
  prediction: Pick<DkNNPrediction, 'neighbors' | 'n'>,
  options: { layer: string; k: number },
): InDistributionScores {
  const { layer, k } = options;
  const found = prediction.neighbors.find((l) => l.layer === layer);
  if (!found) {
    throw new Error(
      `knnDistanceScore: the DkNN searched no layer ${JSON.stringify(layer)}; its layers are ${prediction.neighbors.map((l) => l.layer).join(', ')}`,
    );
  }
  if (!Number.isInteger(k) || k < 1 || k > found.k) {
    throw new RangeError(`knnDistanceScore: k must be an integer in 1…${found.k} (the DkNN's k), found ${k}`);
  }
  const out = new Float64Array(prediction.n);
  for (let r = 0; r < prediction.n; r++) out[r] = -Math.sqrt(Math.max(0, found.distances[r * found.k + k - 1]));
  return out;
}

/** The DkNN's credibility (max over classes of the p-value), as a float64 copy. Higher = more in-distribution. */
export function credibilityScore(prediction: Pick<DkNNPrediction, 'credibility'>): InDistributionScores {
  return Float64Array.from(prediction.credibility);
}
