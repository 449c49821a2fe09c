/**
 * Detection metrics beside AUROC, as the out-of-distribution literature reports them (ODIN, energy,
 * deep nearest neighbors; OpenOOD): the area under the precision–recall curve with either class
 * positive (AUPR-in, AUPR-out) and the false-positive rate at 95 % true-positive rate (FPR@95).
 *
 * Conventions, one for all: a score is high for the positive class; in {@link oodMetrics} the
 * in-distribution inputs are the positives (higher score = more in-distribution).
 *
 * Ties: every metric takes one threshold per distinct score, so inputs with the same score are
 * accepted or rejected together (no interpolation between them, no random tie-breaking):
 * - AUPR is the average precision Σₙ (Rₙ − Rₙ₋₁)·Pₙ over those thresholds (scikit-learn's
 *   `average_precision_score`; a step function, not the trapezoid, which is optimistic);
 * - FPR@95 is the false-positive rate at the highest threshold whose true-positive rate is at least
 *   0.95 (the share of negatives scoring at or above it, tied ones included).
 */
import { rocAuc, rocCurve, type Flags } from './classification';

function countPositives(positives: Flags): number {
  let n = 0;
  for (let i = 0; i < positives.length; i++) if (positives[i] === true || positives[i] === 1) n++;
  return n;
}

/**
 * Average precision of `scores` for `positives` (high score = positive): Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the
 * distinct scores taken as thresholds from the highest down, Pₙ and Rₙ the precision and recall of
 * "score ≥ threshold n" (tied scores enter together). 1 for a perfect ranking; the share of
 * positives for a score that tells nothing. Same checks as `rocAuc`.
 */
export function averagePrecision(scores: ArrayLike<number>, positives: Flags): number {
  const curve = rocCurve(scores, positives); // checks lengths, flags, NaN, both classes present
  const nPos = countPositives(positives);
  const nNeg = scores.length - nPos;
  let ap = 0;
  for (let i = 1; i < curve.tpr.length; i++) {
    const tp = Math.round(curve.tpr[i] * nPos);
    const fp = Math.round(curve.fpr[i] * nNeg);
    const gained = tp - Math.round(curve.tpr[i - 1] * nPos);
    if (gained > 0) ap += (gained / nPos) * (tp / (tp + fp));
  }
  return ap;
}

/**
 * The false-positive rate at the highest threshold (a distinct score) whose true-positive rate is
 * at least `tpr` (default 0.95; high score = positive; negatives tied with the threshold count as accepted).
 * @throws RangeError when `tpr` is not in (0, 1]; as `rocAuc` on bad scores or flags.
 */
export function fprAtTpr(scores: ArrayLike<number>, positives: Flags, options: { tpr?: number } = {}): number {
  const tpr = options.tpr ?? 0.95;
  if (!(tpr > 0 && tpr <= 1)) throw new RangeError(`tpr: expected a rate in (0, 1], found ${tpr}`);
  const curve = rocCurve(scores, positives);
  // tpr[i] = tp/nPos is correctly rounded, so a rate of exactly 0.95 (57 of 60) equals the literal 0.95.
  for (let i = 0; i < curve.tpr.length; i++) if (curve.tpr[i] >= tpr) return curve.fpr[i];
  return 1;
}

/** The four numbers of an out-of-distribution benchmark's table for one detector and one shifted set. */
export interface OodMetrics {
  /** Area under the ROC curve (in-distribution positive; ties count ½). */
  auroc: number;
  /** Average precision with the in-distribution inputs positive. */
  auprIn: number;
  /** Average precision with the shifted inputs positive (scores negated). */
  auprOut: number;
  /** Share of shifted inputs accepted at the threshold that accepts 95 % of the in-distribution inputs. */
  fpr95: number;
}

/**
 * AUROC, AUPR-in, AUPR-out and FPR@95 of a detector whose scores are `inScores` on in-distribution
 * inputs and `outScores` on shifted ones, higher = more in-distribution (see the module comment for
 * ties). FPR@95 follows ODIN, energy and deep-nearest-neighbor papers: the in-distribution inputs
 * are the ones kept at 95 % (OpenOOD's code instead fixes 95 % of the shifted inputs detected).
 * @throws Error when either set is empty or holds NaN.
 */
export function oodMetrics(inScores: ArrayLike<number>, outScores: ArrayLike<number>): OodMetrics {
  if (inScores.length === 0) throw new Error('inScores: expected at least 1 in-distribution score, found 0');
  if (outScores.length === 0) throw new Error('outScores: expected at least 1 shifted score, found 0');
  const n = inScores.length + outScores.length;
  const scores = new Float64Array(n);
  const negated = new Float64Array(n);
  const isIn = new Uint8Array(n);
  const isOut = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const inside = i < inScores.length;
    const s = inside ? inScores[i] : outScores[i - inScores.length];
    if (Number.isNaN(s)) {
      throw new Error(
        `${inside ? 'inScores' : 'outScores'}[${inside ? i : i - inScores.length}]: expected a number, found NaN`,
      );
    }
    scores[i] = s;
    negated[i] = -s;
    isIn[i] = inside ? 1 : 0;
    isOut[i] = inside ? 0 : 1;
  }
  return {
    auroc: rocAuc(scores, isIn),
    auprIn: averagePrecision(scores, isIn),
    auprOut: averagePrecision(negated, isOut),
    fpr95: fprAtTpr(scores, isIn, { tpr: 0.95 }),
  };
}
