/**
 * Hyperparameter sweeps by re-scoring (lib/rescore.ts): accuracy, mean credibility and calibration
 * error of a DkNN for every k up to the one it searched with, and for subsets of its layers, in
 * seconds, from the neighbor lists of one prediction.
 */
import type { DkNN } from '../dknn/dknn';
import type { PValueFormula } from '../conformal/calibrator';
import { summarizePrediction } from './summary';
import type { DkNNPrediction } from '../dknn/types';

/** One re-scored setting. */
export interface SweepRow {
  k: number;
  layers: string[];
  formula: PValueFormula;
  dknnAccuracy: number;
  meanCredibility: number;
  /** Expected calibration error of the credibility (10 bins). */
  ece: number;
  /** Seconds the re-scoring took. */
  seconds: number;
}

function row(
  dknn: DkNN,
  pred: DkNNPrediction,
  labels: ArrayLike<number>,
  k: number,
  layers: readonly string[],
  formula: PValueFormula,
): SweepRow {
  const t0 = performance.now();
  const p = dknn.rescore(pred, { k, layers, formula });
  const seconds = (performance.now() - t0) / 1000;
  const s = summarizePrediction(p, labels);
  return {
    k,
    layers: [...layers],
    formula,
    dknnAccuracy: s.dknnAccuracy,
    meanCredibility: s.meanCredibility,
    ece: s.dknnEce,
    seconds,
  };
}

/** The DkNN at every k in `ks` (default 1 … its k), with `layers` (default: all its layers). */
export function sweepK(
  dknn: DkNN,
  pred: DkNNPrediction,
  options: { labels: ArrayLike<number>; ks?: number[]; layers?: readonly string[]; formula?: PValueFormula },
): SweepRow[] {
  const { labels } = options;
  const ks = options.ks ?? Array.from({ length: dknn.k }, (_, i) => i + 1);
  const layers = options.layers ? [...options.layers] : dknn.layers;
  return ks.map((k) => row(dknn, pred, labels, k, layers, options.formula ?? dknn.formula));
}

/** The DkNN on each layer subset (default: every single layer, the deepest 2, 3, … layers, and all of them). */
export function sweepLayers(
  dknn: DkNN,
  pred: DkNNPrediction,
  options: { labels: ArrayLike<number>; subsets?: string[][]; k?: number; formula?: PValueFormula },
): SweepRow[] {
  const { labels } = options;
  const L = dknn.layers;
  const subsets = options.subsets ?? [
    ...L.map((l) => [l]),
    ...L.slice(1)
      .map((_, i) => L.slice(i + 1))
      .filter((s) => s.length > 1),
    [...L],
  ];
  return subsets.map((s) => row(dknn, pred, labels, options.k ?? dknn.k, s, options.formula ?? dknn.formula));
}
