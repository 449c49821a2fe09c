import type { DkNNPrediction } from '../dknn/types';
/** Choosing inputs to look at: the least credible, the misclassified, the correct ones. */

function take(order: number[], count: number): number[] {
  if (!Number.isSafeInteger(count) || count < 0)
    throw new RangeError(`count must be a non-negative integer, found ${count}`);
  return order.slice(0, count);
}

/** Rows of the `count` inputs with the lowest credibility, lowest first (ties by row). */
export function leastCredible(pred: DkNNPrediction, count: number): number[] {
  const order = Array.from({ length: pred.n }, (_, i) => i).sort(
    (a, b) => pred.credibility[a] - pred.credibility[b] || a - b,
  );
  return take(order, count);
}

/** Rows of the first `count` inputs the DkNN (or, with `by: 'dnn'`, the DNN) classifies wrongly, in row order. */
export function misclassified(
  pred: DkNNPrediction,
  labels: ArrayLike<number>,
  options: { count?: number; by?: 'dknn' | 'dnn' } = {},
): number[] {
  const { count = Infinity, by = 'dknn' } = options;
  const p = by === 'dnn' ? pred.dnnPredictions : pred.predictions;
  const rows: number[] = [];
  for (let i = 0; i < pred.n && rows.length < count; i++) if (p[i] !== labels[i]) rows.push(i);
  return rows;
}

/** Rows of the first `count` inputs the DkNN classifies correctly (in row order). */
export function correctlyClassified(
  pred: DkNNPrediction,
  labels: ArrayLike<number>,
  options: { count?: number } = {},
): number[] {
  const { count = Infinity } = options;
  const rows: number[] = [];
  for (let i = 0; i < pred.n && rows.length < count; i++) if (pred.predictions[i] === labels[i]) rows.push(i);
  return rows;
}
