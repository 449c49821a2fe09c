/**
 * Comparing an approximate search with the exact one: neighbor recall, and agreement of two
 * DkNN predictions (e.g. with an LSH or HNSW index against the exact index).
 */
import type { KnnResult } from './types';

/** Per-input DkNN outputs that {@link agreement} compares (a `DkNNPrediction` fits). */
export interface PredictionLike {
  predictions: ArrayLike<number>;
  credibility: ArrayLike<number>;
}

/** What {@link agreement} returns. */
export interface Agreement {
  /** Inputs compared. */
  n: number;
  /** Inputs with the same predicted class. */
  identical: number;
  /** `identical / n` (1 for n = 0). */
  identicalFraction: number;
  /** Largest |credibility(b) − credibility(a)| over the inputs (0 for n = 0). */
  maxCredibilityChange: number;
  /** Mean |credibility(b) − credibility(a)| (0 for n = 0). */
  meanCredibilityChange: number;
}

/**
 * How far prediction `b` is from `a` (the reference, e.g. exact search) on the same inputs.
 * @throws RangeError when the two cover different numbers of inputs.
 */
export function agreement(a: PredictionLike, b: PredictionLike): Agreement {
  const n = a.predictions.length;
  if (b.predictions.length !== n || a.credibility.length !== n || b.credibility.length !== n) {
    throw new RangeError(
      `agreement: expected two predictions of the same inputs, found ${n} and ${b.predictions.length} predictions, ${a.credibility.length} and ${b.credibility.length} credibilities`,
    );
  }
  let identical = 0;
  let maxDelta = 0;
  let sumDelta = 0;
  for (let i = 0; i < n; i++) {
    if (a.predictions[i] === b.predictions[i]) identical++;
    const d = Math.abs(b.credibility[i] - a.credibility[i]);
    if (d > maxDelta) maxDelta = d;
    sumDelta += d;
  }
  return {
    n,
    identical,
    identicalFraction: n === 0 ? 1 : identical / n,
    maxCredibilityChange: maxDelta,
    meanCredibilityChange: n === 0 ? 0 : sumDelta / n,
  };
}

/**
 * Recall@k of `result` against `truth` (the exact neighbors of the same queries): the fraction of
 * the true neighbors (index ≥ 0) that `result` also returned, over all rows. Missing neighbors
 * (−1) in `result` count as not found. Order within a row does not matter. 1 when `truth` holds no
 * neighbor at all.
 * @throws RangeError when the row counts or k differ, or the array lengths are not rows × k.
 */
export function recallAtK(
  result: Pick<KnnResult, 'indices' | 'rows' | 'k'>,
  truth: Pick<KnnResult, 'indices' | 'rows' | 'k'>,
): number {
  const { rows, k } = truth;
  if (result.rows !== rows || result.k !== k) {
    throw new RangeError(
      `recallAtK: expected the same queries and k, found ${result.rows} × ${result.k} against ${rows} × ${k}`,
    );
  }
  if (result.indices.length !== rows * k || truth.indices.length !== rows * k) {
    throw new RangeError(
      `recallAtK: expected ${rows} × ${k} = ${rows * k} indices, found ${result.indices.length} and ${truth.indices.length}`,
    );
  }
  let found = 0;
  let total = 0;
  const seen = new Set<number>();
  for (let r = 0; r < rows; r++) {
    seen.clear();
    const o = r * k;
    for (let j = 0; j < k; j++) {
      const v = result.indices[o + j];
      if (v >= 0) seen.add(v);
    }
    for (let j = 0; j < k; j++) {
      const t = truth.indices[o + j];
      if (t < 0) continue;
      total++;
      if (seen.has(t)) found++;
    }
  }
  return total === 0 ? 1 : found / total;
}
