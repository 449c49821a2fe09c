/**
 * Evaluation metrics on plain arrays: accuracy, reliability bins and calibration error, ROC/AUC, histograms.
 * Numbers only; figure builders turn them into plots.
 */

/** Boolean-like per-point flags: booleans, or numbers that must be 0 or 1. */
export type Flags = ArrayLike<boolean | number>;

function checkSameLength(aName: string, a: ArrayLike<unknown>, bName: string, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) {
    throw new Error(`${bName}: expected ${a.length} values (as many as ${aName}), found ${b.length}`);
  }
}

function checkBins(bins: number): void {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`bins: expected a positive integer, found ${bins}`);
}

function flag(name: string, flags: Flags, i: number): boolean {
  const v = flags[i];
  if (v === true || v === 1) return true;
  if (v === false || v === 0) return false;
  throw new Error(`${name}[${i}]: expected a boolean or 0/1, found ${String(v)}`);
}

/** Index of the bin holding x: the last i with edges[i] ≤ x, the last bin closed at edges[bins]. Assumes edges[0] ≤ x ≤ edges[bins]. */
function binOf(x: number, edges: Float64Array): number {
  const bins = edges.length - 1;
  let lo = 0;
  let hi = bins; // search the first edge > x among edges[1..bins]
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (edges[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return Math.min(lo, bins - 1);
}

/** Evenly spaced edges min + (max − min)·i/bins, i = 0…bins (exactly i/bins for [0, 1], as the reference's b / 10.). */
function evenEdges(min: number, max: number, bins: number): Float64Array {
  const edges = new Float64Array(bins + 1);
  for (let i = 0; i <= bins; i++) edges[i] = min + ((max - min) * i) / bins;
  edges[bins] = max;
  return edges;
}

/**
 * Fraction of predictions equal to their labels. Throws when the lengths differ or there are no predictions.
 */
export function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkSameLength('predictions', predictions, 'labels', labels);
  if (predictions.length === 0) throw new Error('predictions: expected at least 1 prediction, found 0');
  let hits = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) hits++;
  return hits / predictions.length;
}

/** Options of {@link reliabilityBins} and {@link expectedCalibrationError}. */
export interface ReliabilityOptions {
  /** Number of equal-width bins over [0, 1]. Default 10 (width 0.1, as the reference). */
  bins?: number;
}

/** One bin of a reliability diagram: points whose score s satisfies lo ≤ s < hi (≤ hi for the last bin). */
export interface ReliabilityBin {
  /** Lower edge (inclusive). */
  lo: number;
  /** Upper edge (exclusive, inclusive for the last bin). */
  hi: number;
  /** Number of points in the bin. */
  count: number;
  /** Fraction of correct points in the bin; null when the bin is empty (the reference plots 0 there). */
  accuracy: number | null;
  /** Mean score of the points in the bin; null when the bin is empty. */
  meanScore: number | null;
}

/** A reliability diagram's numbers. */
export interface ReliabilityDiagram {
  /** Bins in increasing order of score. */
  bins: ReliabilityBin[];
  /** Number of points. */
  n: number;
  /** Σ_b (count_b / n)·|accuracy_b − meanScore_b| over non-empty bins. */
  expectedCalibrationError: number;
  /** max_b |accuracy_b − meanScore_b| over non-empty bins. */
  maxCalibrationError: number;
}

/**
 * Reliability diagram numbers (DkNN credibility or softmax confidence vs accuracy): equal-width bins over
 * [0, 1], bin i = [i/bins, (i+1)/bins), the last bin closed at 1.0, as CleverHans `plot_reliability_diagram`.
 * `correct[i]` says whether point i was classified correctly. Throws on a score that is NaN or outside
 * [0, 1], mismatched lengths, no points, or a flag that is not boolean/0/1. Default `bins: 10`.
 */
export function reliabilityBins(
  scores: ArrayLike<number>,
  correct: Flags,
  options: ReliabilityOptions = {},
): ReliabilityDiagram {
  const nBins = options.bins ?? 10;
  checkBins(nBins);
  checkSameLength('scores', scores, 'correct', correct);
  const n = scores.length;
  if (n === 0) throw new Error('scores: expected at least 1 score, found 0');
  const edges = evenEdges(0, 1, nBins);
  const counts = new Float64Array(nBins);
  const hits = new Float64Array(nBins);
  const sums = new Float64Array(nBins);
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (!(s >= 0 && s <= 1)) throw new Error(`scores[${i}]: expected a score in [0, 1], found ${s}`);
    const b = binOf(s, edges);
    counts[b]++;
    sums[b] += s;
    if (flag('correct', correct, i)) hits[b]++;
  }
  const bins: ReliabilityBin[] = [];
  let ece = 0;
  let mce = 0;
  for (let b = 0; b < nBins; b++) {
    const count = counts[b];
    if (count === 0) {
      bins.push({ lo: edges[b], hi: edges[b + 1], count: 0, accuracy: null, meanScore: null });
      continue;
    }
    const acc = hits[b] / count;
    const mean = sums[b] / count;
    const gap = Math.abs(acc - mean);
    ece += (count / n) * gap;
    mce = Math.max(mce, gap);
    bins.push({ lo: edges[b], hi: edges[b + 1], count, accuracy: acc, meanScore: mean });
  }
  return { bins, n, expectedCalibrationError: ece, maxCalibrationError: mce };
}

/** Expected calibration error over equal-width bins of [0, 1]; see {@link reliabilityBins}. Default `bins: 10`. */
export function expectedCalibrationError(
  scores: ArrayLike<number>,
  correct: Flags,
  options: ReliabilityOptions = {},
): number {
  return reliabilityBins(scores, correct, options).expectedCalibrationError;
}

/** Ascending comparator that stays valid for ±Infinity. */
function compare(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkRocInput(scores: ArrayLike<number>, positives: Flags): { pos: Uint8Array; nPos: number; nNeg: number } {
  checkSameLength('scores', scores, 'positives', positives);
  const pos = new Uint8Array(scores.length);
  let nPos = 0;
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`scores[${i}]: expected a number, found NaN`);
    if (flag('positives', positives, i)) {
      pos[i] = 1;
      nPos++;
    }
  }
  const nNeg = scores.length - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new Error(
      `positives: expected at least 1 positive and 1 negative, found ${nPos} positive and ${nNeg} negative`,
    );
  }
  return { pos, nPos, nNeg };
}

/**
 * Area under the ROC curve of `scores` separating positives (high score = positive), by the Mann–Whitney
 * statistic with tied scores given their average rank (a tied positive/negative pair counts ½).
 * Throws on NaN scores, mismatched lengths, or when either class is absent.
 */
export function rocAuc(scores: ArrayLike<number>, positives: Flags): number {
  const { pos, nPos, nNeg } = checkRocInput(scores, positives);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => compare(scores[a], scores[b]));
  let rankSumPos = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let t = i; t <= j; t++) if (pos[order[t]]) rankSumPos += avgRank;
    i = j + 1;
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** ROC curve points, one per distinct threshold, from (0, 0) to (1, 1). */
export interface RocCurve {
  /** False-positive rate at each threshold. */
  fpr: Float64Array;
  /** True-positive rate at each threshold. */
  tpr: Float64Array;
  /** Threshold t: points with score ≥ t are called positive; the first is +Infinity (nothing positive). */
  thresholds: Float64Array;
}

/**
 * ROC curve of `scores` for `positives` (high score = positive), one point per distinct score, so tied
 * scores make one diagonal step; its trapezoidal area equals {@link rocAuc}. Same checks as rocAuc.
 */
export function rocCurve(scores: ArrayLike<number>, positives: Flags): RocCurve {
  const { pos, nPos, nNeg } = checkRocInput(scores, positives);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => compare(scores[b], scores[a]));
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Infinity];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length;) {
    const t = scores[order[i]];
    while (i < order.length && scores[order[i]] === t) {
      if (pos[order[i]]) tp++;
      else fp++;
      i++;
    }
    fpr.push(fp / nNeg);
    tpr.push(tp / nPos);
    thresholds.push(t);
  }
  return { fpr: Float64Array.from(fpr), tpr: Float64Array.from(tpr), thresholds: Float64Array.from(thresholds) };
}

/** Options of {@link histogram}. */
export interface HistogramOptions {
  /** Number of equal-width bins. Default 10. */
  bins?: number;
  /** Lower edge of the first bin. Default: the smallest value (0 when there are no values). */
  min?: number;
  /** Upper edge of the last bin (inclusive). Default: the largest value (1 when there are no values). */
  max?: number;
}

/** Counts of values in equal-width bins. */
export interface Histogram {
  /** bins + 1 edges; bin i = [edges[i], edges[i+1]), the last bin closed. */
  edges: Float64Array;
  /** Number of values in each bin. */
  counts: Int32Array;
  /** Values < min, left out of the bins. */
  below: number;
  /** Values > max, left out of the bins. */
  above: number;
}

/**
 * Histogram with equal-width bins over [min, max], the last bin closed (like `numpy.histogram`; when
 * min = max the range widens to [min − 0.5, max + 0.5], as numpy does). Values outside the range are
 * counted in `below` / `above`. Throws on NaN values, infinite or inverted bounds. Default `bins: 10`.
 */
export function histogram(values: ArrayLike<number>, options: HistogramOptions = {}): Histogram {
  const nBins = options.bins ?? 10;
  checkBins(nBins);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) throw new Error(`values[${i}]: expected a number, found NaN`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let min = options.min ?? (values.length ? lo : 0);
  let max = options.max ?? (values.length ? hi : 1);
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new Error(`histogram range: expected finite min ≤ max, found min = ${min}, max = ${max}`);
  }
  if (min === max) {
    min -= 0.5;
    max += 0.5;
  }
  const edges = evenEdges(min, max, nBins);
  const counts = new Int32Array(nBins);
  let below = 0;
  let above = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) below++;
    else if (v > max) above++;
    else counts[binOf(v, edges)]++;
  }
  return { edges, counts, below, above };
}
