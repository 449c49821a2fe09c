/**
 * Conformal prediction sets from p-values: for a significance ε, the set of classes whose p-value
 * exceeds ε. With the textbook p-value ((#{A ≥ α} + 1)/(n + 1)) and exchangeable calibration and
 * test data, the set holds the true label with probability at least 1 − ε (marginal coverage);
 * calibrating each class on its own calibration examples (Mondrian / class-conditional) gives
 * that guarantee per class. The reference's p-value (zeros trimmed, no +1) carries no guarantee:
 * coverage is measured, not promised.
 */
import { ConformalCalibrator, type PValueFormula } from './calibrator';

/** Prediction sets of every input at one significance level. */
export interface PredictionSets {
  epsilon: number;
  n: number;
  numClasses: number;
  /** `n × numClasses`: 1 when class j is in the set of input i. */
  members: Uint8Array;
  /** Classes in each set. */
  sizes: Int32Array;
}

/** The sets {j : p_j > ε} of a p-value matrix `pValues[i · numClasses + j]`. @throws for ε outside [0, 1]. */
export function setsFromPValues(
  pValues: ArrayLike<number>,
  options: { numClasses: number; epsilon: number },
): PredictionSets {
  const { numClasses, epsilon } = options;
  if (!(epsilon >= 0 && epsilon <= 1))
    throw new RangeError(`setsFromPValues: epsilon must be in [0, 1], found ${epsilon}`);
  if (!Number.isInteger(numClasses) || numClasses < 1 || pValues.length % numClasses !== 0) {
    throw new RangeError(`setsFromPValues: ${pValues.length} p-values do not split into rows of ${numClasses} classes`);
  }
  const n = pValues.length / numClasses;
  const members = new Uint8Array(pValues.length);
  const sizes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < numClasses; j++) {
      if (pValues[i * numClasses + j] > epsilon) {
        members[i * numClasses + j] = 1;
        sizes[i]++;
      }
    }
  }
  return { epsilon, n, numClasses, members, sizes };
}

/** Mean size and the shares of empty and single-class sets (no labels needed, e.g. out of distribution). */
export function setSizeStats(sets: PredictionSets): { meanSize: number; emptyShare: number; singletonShare: number } {
  const n = Math.max(1, sets.n);
  let size = 0;
  let empty = 0;
  let single = 0;
  for (const s of sets.sizes) {
    size += s;
    if (s === 0) empty++;
    if (s === 1) single++;
  }
  return { meanSize: size / n, emptyShare: empty / n, singletonShare: single / n };
}

/** How prediction sets did against the true labels. */
export interface SetCoverage {
  epsilon: number;
  n: number;
  /** Share of inputs whose set holds the true label. */
  coverage: number;
  /** Coverage per class (NaN for a class without inputs). */
  classCoverage: number[];
  meanSize: number;
  /** Share of empty sets and of single-class sets. */
  emptyShare: number;
  singletonShare: number;
}

/** Coverage, per-class coverage, mean size, empty and singleton shares of `sets` for `labels`. */
export function setCoverage(sets: PredictionSets, labels: ArrayLike<number>): SetCoverage {
  if (labels.length !== sets.n) throw new Error(`setCoverage: expected ${sets.n} labels, found ${labels.length}`);
  const C = sets.numClasses;
  const hit = new Array<number>(C).fill(0);
  const count = new Array<number>(C).fill(0);
  let covered = 0;
  for (let i = 0; i < sets.n; i++) {
    const y = labels[i];
    count[y]++;
    if (sets.members[i * C + y]) {
      covered++;
      hit[y]++;
    }
  }
  const n = Math.max(1, sets.n);
  return {
    epsilon: sets.epsilon,
    n: sets.n,
    coverage: covered / n,
    classCoverage: hit.map((h, c) => (count[c] ? h / count[c] : NaN)),
    ...setSizeStats(sets),
  };
}

/**
 * Class-conditional (Mondrian) p-values: p_j(x) compares α(x, j) with the calibration scores of
 * the calibration examples labeled j only. `scores` are α(x, j) of the inputs (`n × numClasses`),
 * `calibScores` α(xᵢ, yᵢ) of the calibration examples and `calibLabels` their labels.
 * @throws when a class has no calibration example.
 */
export function mondrianPValues(
  scores: ArrayLike<number>,
  options: {
    numClasses: number;
    calibScores: ArrayLike<number>;
    calibLabels: ArrayLike<number>;
    formula: PValueFormula;
  },
): Float64Array {
  const { numClasses, calibScores, calibLabels, formula } = options;
  if (calibScores.length !== calibLabels.length)
    throw new Error(`mondrianPValues: ${calibScores.length} calibration scores but ${calibLabels.length} labels`);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < calibScores.length; i++) byClass[calibLabels[i]].push(calibScores[i]);
  const empty = byClass.findIndex((s) => s.length === 0);
  if (empty >= 0)
    throw new Error(
      `mondrianPValues: class ${empty} has no calibration example; class-conditional p-values need every class`,
    );
  const calibrators = byClass.map((s, c) => {
    const cal = new ConformalCalibrator({ formula }).fit(s);
    if (cal.calibrationSize() === 0)
      throw new Error(
        `mondrianPValues: every calibration score of class ${c} is 0, so the reference formula keeps none; use formula 'conformal'`,
      );
    return cal;
  });
  const n = scores.length / numClasses;
  const out = new Float64Array(scores.length);
  const col = new Float64Array(n);
  for (let j = 0; j < numClasses; j++) {
    for (let i = 0; i < n; i++) col[i] = scores[i * numClasses + j];
    const p = calibrators[j].pValues(col, 1);
    for (let i = 0; i < n; i++) out[i * numClasses + j] = p[i];
  }
  return out;
}
