/**
 * Prediction sets of a DkNN (lib/conformal/sets.ts) at one or many significance levels, with the
 * marginal calibration or the class-conditional (Mondrian) one, and either p-value formula; and
 * the coverage-vs-ε figure. Statistical meaning: see the module comment of lib/conformal/sets.ts.
 */
import { mondrianPValues, predictionSets, setCoverage, type PredictionSets, type SetCoverage } from '../conformal/sets';
import type { PValueFormula } from '../conformal/calibrator';
import type { DkNN, DkNNPrediction } from './dknn';
import type { Figure } from '../plots/plotly';

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
  if ((options.calibration ?? 'marginal') === 'marginal') return formula === pred.formula ? pred.pValues : dknn.rescore(pred, { formula }).pValues;
  const c = dknn.calibrationData;
  return mondrianPValues(pred.nonconformity, pred.numClasses, c.scores, c.labels, formula);
}

/** The DkNN's prediction sets {j : p_j > ε}. */
export function dknnPredictionSets(dknn: DkNN, pred: DkNNPrediction, epsilon: number, options: SetOptions = {}): PredictionSets {
  return predictionSets(setPValues(dknn, pred, options), pred.numClasses, epsilon);
}

/** Coverage and set sizes at each ε (default 0.01, 0.05, 0.1, 0.2 and a grid), for the inputs' true labels. */
export function coverageCurve(dknn: DkNN, pred: DkNNPrediction, labels: ArrayLike<number>, options: SetOptions & { epsilons?: number[] } = {}): SetCoverage[] {
  const p = setPValues(dknn, pred, options);
  const eps = options.epsilons ?? [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5];
  return eps.map((e) => setCoverage(predictionSets(p, pred.numClasses, e), labels));
}

/** Coverage (and the 1 − ε line) and mean set size against ε, one curve per named run. */
export function coverageFigure(curves: { name: string; rows: SetCoverage[] }[], options: { title?: string } = {}): Figure {
  const colors = ['#4c78a8', '#e45756', '#f58518', '#54a24b', '#72b7b2', '#b279a2'];
  const eps = curves[0]?.rows.map((r) => r.epsilon) ?? [];
  return {
    data: [
      { type: 'scatter', mode: 'lines', name: 'target 1 − ε', x: eps, y: eps.map((e) => 1 - e), line: { color: '#999999', dash: 'dot' } },
      ...curves.flatMap((c, i) => [
        { type: 'scatter', mode: 'lines+markers', name: `${c.name}: coverage`, x: c.rows.map((r) => r.epsilon), y: c.rows.map((r) => r.coverage), line: { color: colors[i % colors.length] } },
        { type: 'scatter', mode: 'lines', name: `${c.name}: mean set size`, x: c.rows.map((r) => r.epsilon), y: c.rows.map((r) => r.meanSize), yaxis: 'y2', line: { color: colors[i % colors.length], dash: 'dash' } },
      ]),
    ],
    layout: {
      title: { text: options.title ?? 'Prediction sets: coverage and size against ε' }, height: 440,
      xaxis: { title: { text: 'significance ε' } }, yaxis: { title: { text: 'coverage' }, range: [0, 1.02] },
      yaxis2: { title: { text: 'mean set size (classes)' }, overlaying: 'y', side: 'right', rangemode: 'tozero' }, legend: { orientation: 'h', y: -0.25 },
    },
  }; // prettier-ignore
}
