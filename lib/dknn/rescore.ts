/**
 * Instant re-scoring: a DkNN keeps the neighbor lists it found (at its k, nearest first, ties by
 * the lower training index) for its calibration and prediction inputs, so the calibration scores,
 * p-values and predictions for any smaller k, any subset of its layers and either p-value formula
 * follow without searching again — the prefix of length k' of an exact k-list is the exact
 * k'-list. Used by `DkNN.rescore`.
 */
import { ConformalCalibrator, type PValueFormula } from '../conformal/calibrator';
import {
  knnCounts,
  nonconformity,
  scoresAtLabels,
  type LayerNeighborLabels,
  type MissingNeighborRule,
} from '../conformal/nonconformity';
import { conformalPredict } from '../conformal/predict';
import type { DkNNPrediction, LayerNeighbors } from './types';

/** What to re-score with; every field defaults to the DkNN's own setting. */
export interface RescoreOptions {
  /** Neighbors per layer, 1 … the DkNN's k. */
  k?: number;
  /** A non-empty subset of the DkNN's layers (any order; the DkNN's order is used). */
  layers?: readonly string[];
  formula?: PValueFormula;
}

/** What re-scoring needs from a fitted and calibrated DkNN. */
export interface RescoreBasis {
  layers: readonly string[];
  k: number;
  numClasses: number;
  formula: PValueFormula;
  missing: MissingNeighborRule;
  trainLabels: Int32Array;
  calibNeighbors: LayerNeighbors[];
  calibLabels: Int32Array;
}

/** Labels of the first `k` neighbors of every row of `nb` (-1 for a missing neighbor). */
export function prefixLabels(nb: LayerNeighbors, k: number, trainLabels: Int32Array): LayerNeighborLabels {
  const labels = new Int32Array(nb.rows * k);
  for (let r = 0; r < nb.rows; r++) {
    for (let j = 0; j < k; j++) {
      const t = nb.indices[r * nb.k + j];
      labels[r * k + j] = t < 0 ? -1 : trainLabels[t];
    }
  }
  return { labels, rows: nb.rows, k };
}

/** The neighbors of the chosen layers, truncated to k (views of the DkNN's lists are not kept: copies). */
function pick(neighbors: LayerNeighbors[], layers: readonly string[], k: number): LayerNeighbors[] {
  return layers.map((name) => {
    const nb = neighbors.find((x) => x.layer === name)!;
    if (k === nb.k) return nb;
    const indices = new Int32Array(nb.rows * k);
    const distances = new Float32Array(nb.rows * k);
    for (let r = 0; r < nb.rows; r++) {
      indices.set(nb.indices.subarray(r * nb.k, r * nb.k + k), r * k);
      distances.set(nb.distances.subarray(r * nb.k, r * nb.k + k), r * k);
    }
    return { layer: name, indices, distances, rows: nb.rows, k };
  });
}

/**
 * `pred` (made by the DkNN of `basis`) re-scored with other settings (see the module comment).
 * @throws RangeError for k outside 1…basis.k, an unknown or empty layer list, an unknown formula,
 *   or a prediction that does not carry the DkNN's neighbor lists.
 */
export function rescorePrediction(
  basis: RescoreBasis,
  pred: DkNNPrediction,
  options: RescoreOptions = {},
): DkNNPrediction {
  const k = options.k ?? basis.k;
  if (!Number.isSafeInteger(k) || k < 1 || k > basis.k)
    throw new RangeError(
      `rescore: k must be an integer in 1…${basis.k} (the k the neighbors were found with), found ${k}`,
    );
  const wanted = options.layers ?? basis.layers;
  if (!Array.isArray(wanted) || wanted.length === 0)
    throw new RangeError(
      `rescore: layers must be a non-empty list of the DkNN's layers (${basis.layers.join(', ')}), found ${JSON.stringify(wanted)}`,
    );
  for (const l of wanted)
    if (!basis.layers.includes(l))
      throw new RangeError(
        `rescore: unknown layer ${JSON.stringify(l)}; the DkNN's layers are ${basis.layers.join(', ')}`,
      );
  const layers = basis.layers.filter((l) => wanted.includes(l));
  const formula = options.formula ?? basis.formula;
  if (formula !== 'reference' && formula !== 'conformal')
    throw new RangeError(`rescore: formula must be 'reference' or 'conformal', found ${String(formula)}`);
  for (const l of layers) {
    const nb = pred.neighbors.find((x) => x.layer === l);
    if (!nb || nb.k !== basis.k || nb.rows !== pred.n)
      throw new RangeError(
        `rescore: the prediction has no ${basis.k}-neighbor list of layer ${l}: was it made by this DkNN?`,
      );
  }
  const C = basis.numClasses;
  const calibNc = nonconformity(
    pick(basis.calibNeighbors, layers, k).map((nb) => prefixLabels(nb, k, basis.trainLabels)),
    C,
    { missing: basis.missing },
  );
  const calibrator = new ConformalCalibrator({ formula }).fit(scoresAtLabels(calibNc, basis.calibLabels));
  if (formula === 'reference' && calibrator.calibrationSize('reference') === 0) {
    throw new RangeError(
      `rescore: with k = ${k} and layers ${layers.join(', ')} every calibration score is 0, so the reference formula's trimming leaves none; use formula 'conformal'`,
    );
  }
  const neighbors = pick(pred.neighbors, layers, k);
  const labels = neighbors.map((nb) => prefixLabels(nb, k, basis.trainLabels));
  const nc = nonconformity(labels, C, { missing: basis.missing });
  const cp = conformalPredict(calibrator.pValues(nc.scores, C), C);
  return {
    ...pred,
    predictions: cp.predictions,
    credibility: cp.credibility,
    confidence: cp.confidence,
    pValues: cp.pValues,
    nonconformity: nc.scores,
    knnCounts: knnCounts(labels, C).counts,
    neighbors,
    missingNeighbors: nc.missing,
    formula,
  };
}
