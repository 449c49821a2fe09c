/**
 * Conformal calibration on nonconformity scores alone (no model): fit on the calibration scores
 * α(xᵢ, yᵢ), then turn any score matrix α(x, j) into p-values.
 */
import { NOT_FITTED_SENTENCES, NotFittedError } from '../util/errors';

/**
 * Which p-value formula to use. A = the calibration scores, α = the test score.
 * - `'reference'` (CleverHans `dknn.py`, used for the paper's figures): the sorted calibration scores
 *   lose every score equal to 0 (`np.trim_zeros`), n = the count left, p = #{A ≥ α} / n (no +1;
 *   ties count for the test point). When every calibration score is 0, n = 0 and p is 0/0: pValues throws.
 * - `'conformal'` (textbook inductive conformal prediction): no trimming, p = (#{A ≥ α} + 1) / (n + 1).
 */
export type PValueFormula = 'reference' | 'conformal';

/** Options of {@link ConformalCalibrator}. */
export interface ConformalCalibratorOptions {
  /** Default p-value formula for {@link ConformalCalibrator.pValues}. Default `'reference'`. */
  formula?: PValueFormula;
}

/** Options of {@link ConformalCalibrator.pValues}. */
export interface PValuesOptions {
  /** Overrides the calibrator's formula for this call. Default: the calibrator's `formula`. */
  formula?: PValueFormula;
}

/** The one error sentence for calling methods out of order. */
/** The fixed sentence of pValues before fit (a {@link NotFittedError}). */
export const NOT_FITTED_MESSAGE = NOT_FITTED_SENTENCES.pValues;

function checkFormula(formula: unknown): PValueFormula {
  if (formula !== 'reference' && formula !== 'conformal') {
    throw new Error(`formula: expected 'reference' or 'conformal', found ${String(formula)}`);
  }
  return formula;
}

function checkScore(where: string, i: number, v: number): void {
  if (!Number.isFinite(v) || v < 0) {
    throw new Error(`${where}[${i}]: expected a finite score ≥ 0, found ${v}`);
  }
}

/**
 * Conformal calibrator working on scores alone (MAPIE / crepes style: fit, then predict; order enforced).
 *
 * `fit` sorts one copy of the calibration scores; each p-value is then one binary search, so
 * 10⁴ calibration points × 10⁵ queries cost a few milliseconds. Both formulas are served from the
 * same fit, so one calibrator can compare them.
 */
export class ConformalCalibrator {
  /** Default formula of {@link pValues}. */
  readonly formula: PValueFormula;
  private sorted: Float64Array | null = null;
  private zeros = 0;

  /** @param options `formula` (default `'reference'`). */
  constructor(options: ConformalCalibratorOptions = {}) {
    this.formula = checkFormula(options.formula ?? 'reference');
  }

  /**
   * Stores the calibration scores α(xᵢ, yᵢ) (copied and sorted; the input is not modified).
   * Throws on an empty input or a score that is NaN, infinite or negative. Re-fitting replaces the previous fit.
   */
  fit(calibrationScores: ArrayLike<number>): this {
    const n = calibrationScores.length;
    if (n === 0) throw new Error('calibrationScores: expected at least 1 score, found 0');
    const sorted = new Float64Array(n);
    let zeros = 0;
    for (let i = 0; i < n; i++) {
      const v = calibrationScores[i];
      checkScore('calibrationScores', i, v);
      sorted[i] = v;
      if (v === 0) zeros++;
    }
    sorted.sort();
    this.sorted = sorted;
    this.zeros = zeros;
    return this;
  }

  /** Whether {@link fit} has been called. */
  get fitted(): boolean {
    return this.sorted !== null;
  }

  /**
   * Number of calibration scores the formula divides by: all of them for `'conformal'`, the non-zero
   * ones for `'reference'`. Default formula: the calibrator's. Throws before {@link fit}.
   */
  calibrationSize(formula: PValueFormula = this.formula): number {
    const sorted = this.requireFitted();
    return checkFormula(formula) === 'reference' ? sorted.length - this.zeros : sorted.length;
  }

  /** A sorted copy of the calibration scores (untrimmed). Throws before {@link fit}. */
  sortedScores(): Float64Array {
    return this.requireFitted().slice();
  }

  /** p-value of one score α (finite, ≥ 0). Default formula: the calibrator's. Throws before {@link fit}. */
  pValue(alpha: number, formula: PValueFormula = this.formula): number {
    const sorted = this.requireFitted();
    const f = checkFormula(formula);
    checkScore('alpha', 0, alpha);
    this.checkReferenceSize(f);
    return this.p(sorted, alpha, f);
  }

  /**
   * p-values of a score matrix `scores[row * numClasses + j]` = α(x_row, j), same layout out.
   * Default formula: the calibrator's (`options.formula` overrides it for this call).
   * Throws before {@link fit}, when `scores.length` is not a multiple of `numClasses`, on a NaN,
   * infinite or negative score, and with `'reference'` when every calibration score was 0 (n = 0).
   * Returned as Float64Array so that p = 525/750 stays ≥ 0.7 (float32 rounds it to 0.69999999,
   * which would move it down a reliability bin).
   */
  pValues(scores: ArrayLike<number>, numClasses: number, options: PValuesOptions = {}): Float64Array {
    const sorted = this.requireFitted();
    const f = checkFormula(options.formula ?? this.formula);
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new Error(`numClasses: expected a positive integer, found ${numClasses}`);
    }
    if (scores.length % numClasses !== 0) {
      throw new Error(
        `scores: expected a length that is a multiple of numClasses = ${numClasses} (n × numClasses), found ${scores.length}`,
      );
    }
    this.checkReferenceSize(f);
    const out = new Float64Array(scores.length);
    for (let i = 0; i < scores.length; i++) {
      const a = scores[i];
      checkScore('scores', i, a);
      out[i] = this.p(sorted, a, f);
    }
    return out;
  }

  private requireFitted(): Float64Array {
    if (this.sorted === null) throw new NotFittedError('pValues');
    return this.sorted;
  }

  private checkReferenceSize(f: PValueFormula): void {
    if (f === 'reference' && this.sorted !== null && this.sorted.length === this.zeros) {
      throw new Error(
        `reference formula: every one of the ${this.zeros} calibration scores is 0, so trimming zeros leaves n = 0 and p = #{A ≥ α} / 0 is undefined; use formula 'conformal'`,
      );
    }
  }

  /** #{A ≥ α} by binary search, then the formula. */
  private p(sorted: Float64Array, alpha: number, f: PValueFormula): number {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < alpha) lo = mid + 1;
      else hi = mid;
    }
    const atLeast = sorted.length - lo;
    if (f === 'conformal') return (atLeast + 1) / (sorted.length + 1);
    // Trimmed zeros sit at the front of the sorted array; they only count when α = 0.
    const n = sorted.length - this.zeros;
    return Math.min(atLeast, n) / n;
  }
}
