/**
 * The reference DkNN's preprocessing of each layer's activations before the kNN search:
 *   1. L2-normalize every row (training rows and queries alike);
 *   2. subtract the center = the mean of the normalized TRAINING rows (queries use that same center).
 * Squared-Euclidean ranking of the result equals cosine ranking of the raw activations.
 *
 * Zero-row rule (the reference divides 0 by 0 and gets NaN): a row whose L2 norm is 0 stays all
 * zeros after normalization; it still counts in the mean (as a zero vector) and is centered like any
 * other row, so it ends up equal to −center.
 *
 * Everything works in place on row-major Float32Arrays (60,000 × 12,544 float32 is 3 GB: never
 * two copies). Norms and the mean are accumulated in float64, results stored as float32.
 */
import { NOT_FITTED_SENTENCES, NotFittedError } from '../util/errors';

import { checkMatrix, throwNonFinite } from '../util/checks';
import { applyCenterSimd, fitCenterSimd, normalizeRowsSimd } from '../native/preprocess-wasm';
import type { MatrixShape } from './types';

/**
 * L2-normalizes each of the `rows` rows of `data` in place and returns `data`. A zero row stays zero.
 * @throws RangeError on a length mismatch or a non-finite value (named by row and column).
 */
export function normalizeRows(data: Float32Array, rows: number, dim: number): Float32Array {
  checkMatrix('data', data, rows, dim, true);
  if (normalizeRowsSimd(data, rows, dim)) return data;
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) s += data[o + j] * data[o + j];
    if (!Number.isFinite(s)) throwNonFinite('data', data, r, dim);
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < dim; j++) data[o + j] *= inv;
  }
  return data;
}

/**
 * Column means of the `rows` rows of `data` (float64 sums, float32 result of length `dim`). Call it
 * on the normalized training rows to get the reference's center.
 * @throws RangeError on a length mismatch or when `rows` is 0.
 */
export function fitCenter(data: Float32Array, rows: number, dim: number): Float32Array {
  checkMatrix('data', data, rows, dim);
  const simd = fitCenterSimd(data, rows, dim);
  if (simd) return simd;
  const sum = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) sum[j] += data[o + j];
  }
  const center = new Float32Array(dim);
  for (let j = 0; j < dim; j++) center[j] = sum[j] / rows;
  return center;
}

/**
 * Subtracts `center` (length `dim`) from every row of `data` in place and returns `data`.
 * @throws RangeError when `center.length !== dim` or on a length mismatch.
 */
export function applyCenter(data: Float32Array, rows: number, dim: number, center: Float32Array): Float32Array {
  checkMatrix('data', data, rows, dim, true);
  if (center.length !== dim) {
    throw new RangeError(`dimension mismatch: center has ${center.length} values, expected dim = ${dim}`);
  }
  if (applyCenterSimd(data, rows, dim, center)) return data;
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) data[o + j] -= center[j];
  }
  return data;
}

/** Message thrown by {@link Preprocessor.transform} before `fit`. */
export const PREPROCESSOR_NOT_FITTED = NOT_FITTED_SENTENCES.transform;

/**
 * The reference preprocessing of one layer, fitted on training rows and applied to queries:
 * ```ts
 * const pre = new Preprocessor();
 * pre.fitTransform(train, { rows: 60000, dim });   // train normalized and centered in place
 * pre.transform(queries, 1000);          // same normalization, training center
 * // or: pre.fit(train, { rows: 60000, dim }) learns the center and leaves `train` untouched
 * ```
 * The center can be saved (`pre.center`) and restored with `Preprocessor.fromCenter`.
 */
export class Preprocessor {
  private centerValues: Float32Array | null = null;

  /** A fitted preprocessor with a known center (e.g. loaded from a cache); the array is kept, not copied. */
  static fromCenter(center: Float32Array): Preprocessor {
    if (!(center instanceof Float32Array) || center.length === 0) {
      throw new RangeError('center must be a non-empty Float32Array');
    }
    const p = new Preprocessor();
    p.centerValues = center;
    return p;
  }

  /** Whether the center is known. */
  get fitted(): boolean {
    return this.centerValues !== null;
  }

  /** The mean of the normalized training rows (length `dim`). @throws before `fit`. */
  get center(): Float32Array {
    if (!this.centerValues) throw new NotFittedError('transform');
    return this.centerValues;
  }

  /** Row length the center was fitted on (0 before `fit`). */
  get dim(): number {
    return this.centerValues ? this.centerValues.length : 0;
  }

  /**
   * Learns the center from the training rows without modifying them (each row is normalized on the
   * fly, rounded to float32 exactly as {@link normalizeRows} stores it). Returns this.
   */
  fit(train: Float32Array, shape: MatrixShape): this {
    const { rows, dim } = shape;
    checkMatrix('train', train, rows, dim);
    const sum = new Float64Array(dim);
    for (let r = 0; r < rows; r++) {
      const o = r * dim;
      let s = 0;
      for (let j = 0; j < dim; j++) s += train[o + j] * train[o + j];
      if (!Number.isFinite(s)) throwNonFinite('train', train, r, dim);
      if (s === 0) continue;
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < dim; j++) sum[j] += Math.fround(train[o + j] * inv);
    }
    const center = new Float32Array(dim);
    for (let j = 0; j < dim; j++) center[j] = sum[j] / rows;
    this.centerValues = center;
    return this;
  }

  /** Normalizes and centers the training rows in place (learning the center) and returns them. */
  fitTransform(train: Float32Array, shape: MatrixShape): Float32Array {
    const { rows, dim } = shape;
    normalizeRows(train, rows, dim);
    this.centerValues = fitCenter(train, rows, dim);
    return applyCenter(train, rows, dim, this.centerValues);
  }

  /**
   * Normalizes `rows` rows in place and subtracts the training center; returns `data`.
   * @throws Error before `fit`; RangeError on a length mismatch with `rows × dim`.
   */
  transform(data: Float32Array, rows: number): Float32Array {
    const center = this.center;
    normalizeRows(data, rows, center.length);
    return applyCenter(data, rows, center.length, center);
  }
}
