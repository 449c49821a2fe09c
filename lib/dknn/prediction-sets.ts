/**
 * Prediction sets of a DkNN (lib/conformal/sets.ts) at one or many significance levels, with the
 * marginal calibration or the class-conditional (Mondrian) one, and either p-value formula; and
 * the coverage-vs-ε figure. Statistical meaning: see the module comment of lib/conformal/sets.ts.
 */
import {
  mondrianPValues,
  setsFromPValues,
  setCoverage,
  type PredictionSets,
  type SetCoverage,
} from '../conformal/sets';
import type { PValueFormula } from '../conformal/calibrator';
import type { DkNN } from './dknn';
import type { DkNNPrediction } from './types';

/** How the p-values of the sets are calibrated. */
export interface SetOptions {
  /** 'marginal' (all calibration examples; default) or 'mondrian' (each class on its own examples). */
  calibration?: 'marginal' | 'mondrian';
  /** The p-value formula. Default: the DkNN's. */
  formula?: PValueFormula;
}

/** The p-values the sets are cut from (see {@link SetOptions}). */
export function setPValues(dknn: DkNN, pred: DkNNPrediction, options: SetOptions = {}): Float64Array {
  const formula = options.formula ?? pred.formula;
  if ((options.calibration ?? 'marginal') === 'marginal')
    return formula === pred.formula ? pred.pValues : dknn.rescore(pred, { formula }).pValues;
  const c = dknn.calibrationData;
  return mondrianPValues(pred.nonconformity, {
    numClasses: pred.numClasses,
    calibScores: c.scores,
    calibLabels: c.labels,
    formula,
  });
}

/** The DkNN's prediction sets {j : p_j > ε}. */
export function predictionSets(
  dknn: DkNN,
  pred: DkNNPrediction,
  options: SetOptions & { epsilon: number },
): PredictionSets {
  return setsFromPValues(setPValues(dknn, pred, options), { numClasses: pred.numClasses, epsilon: options.epsilon });
}

/** Coverage and set sizes at each ε (default 0.01, 0.05, 0.1, 0.2 and a grid), for the inputs' true labels. */
export function coverageCurve(
  dknn: DkNN,
  pred: DkNNPrediction,
  options: SetOptions & { labels: ArrayLike<number>; epsilons?: number[] },
): SetCoverage[] {
  const { labels } = options;
  const p = setPValues(dknn, pred, options);
  const eps = options.epsilons ?? [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5];
  return eps.map((e) => setCoverage(setsFromPValues(p, { numClasses: pred.numClasses, epsilon: e }), labels));
}
