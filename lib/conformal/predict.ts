/**
 * Conformal prediction from p-values: prediction, credibility and confidence (Papernot & McDaniel 2018).
 */

/** Per-point conformal prediction, as flat typed arrays. */
export interface ConformalPrediction {
  /** argmax_j p_j(x); the lowest class index wins ties (as `np.argmax`). */
  predictions: Int32Array;
  /** max_j p_j(x): how well the point conforms to the calibration data under its predicted label. */
  credibility: Float64Array;
  /** 1 − (second-largest p_j(x)); with tied maxima the second-largest equals the largest. 1 when numClasses = 1. */
  confidence: Float64Array;
  /** The p-values, `pValues[row * numClasses + j]` (a copy of the input). */
  pValues: Float64Array;
  /** Number of points. */
  n: number;
  /** Number of classes. */
  numClasses: number;
}

/**
 * Turns a p-value matrix `pValues[row * numClasses + j]` into predictions, credibility and confidence.
 * Throws when numClasses is not a positive integer, the length is not a multiple of it, or a p-value
 * is NaN or outside [0, 1]. Arrays are Float64 so that a p-value such as 525/750 = 0.7 keeps its bin.
 */
export function conformalPredict(pValues: ArrayLike<number>, numClasses: number): ConformalPrediction {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new Error(`numClasses: expected a positive integer, found ${numClasses}`);
  }
  if (pValues.length % numClasses !== 0) {
    throw new Error(
      `pValues: expected a length that is a multiple of numClasses = ${numClasses} (n × numClasses), found ${pValues.length}`,
    );
  }
  const n = pValues.length / numClasses;
  const p = Float64Array.from(pValues);
  const predictions = new Int32Array(n);
  const credibility = new Float64Array(n);
  const confidence = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const o = r * numClasses;
    let best = -1;
    let first = -Infinity;
    let second = -Infinity;
    for (let j = 0; j < numClasses; j++) {
      const v = p[o + j];
      if (!(v >= 0 && v <= 1)) throw new Error(`pValues[${o + j}]: expected a p-value in [0, 1], found ${v}`);
      if (v > first) {
        second = first;
        first = v;
        best = j;
      } else if (v > second) {
        second = v;
      }
    }
    predictions[r] = best;
    credibility[r] = first;
    confidence[r] = 1 - (numClasses > 1 ? second : 0);
  }
  return { predictions, credibility, confidence, pValues: p, n, numClasses };
}
