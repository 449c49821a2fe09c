/**
 * Summaries of a DkNN prediction against the true labels: the numbers every notebook, the CLI and
 * the tests report (accuracies, mean confidence and credibility, calibration errors, the share of
 * inputs below a credibility threshold) and per-input columns for CSV files and data frames
 * (`plots/summary-table.ts` shows them).
 */
import type { PValueFormula } from '../conformal/calibrator';
import { accuracy, reliabilityBins } from '../metrics/classification';
import { mean } from '../metrics/stats';
import type { Columns } from '../util/columns';
import type { DkNNPrediction } from '../dknn/types';

/** The headline numbers of one prediction (see {@link summarizePrediction}). */
export interface PredictionSummary {
  /** Inputs summarised. */
  n: number;
  formula: PValueFormula;
  dnnAccuracy: number;
  dknnAccuracy: number;
  /** Mean softmax probability of the DNN's prediction. */
  meanDnnConfidence: number;
  meanCredibility: number;
  /** Mean DkNN confidence (1 − second-largest p-value). */
  meanConfidence: number;
  /** Expected calibration error (10 bins) of the softmax probability, against the DNN's correctness. */
  dnnEce: number;
  /** Expected calibration error (10 bins) of the credibility, against the DkNN's correctness. */
  dknnEce: number;
  /** The threshold of {@link lowCredibilityShare}. */
  lowCredibility: number;
  /** Share of inputs whose credibility is below `lowCredibility`. */
  lowCredibilityShare: number;
  /** Mean credibility of the inputs the DkNN classifies correctly / wrongly (NaN when there are none). */
  meanCredibilityCorrect: number;
  meanCredibilityWrong: number;
  dnnCorrect: number;
  dknnCorrect: number;
  /** Missing neighbors over all inputs and layers (approximate indexes only). */
  missingNeighbors: number;
}

/** Options of {@link summarizePrediction}. */
export interface SummaryOptions {
  /** Summarize only the first `rows` inputs (e.g. the clean results on an attack's subset). Default: all. */
  rows?: number;
  /** Credibility threshold of `lowCredibilityShare`. Default 0.1 (the paper's). */
  lowCredibility?: number;
}

/**
 * The headline numbers of `pred` on inputs whose true labels are `labels`.
 * @throws when there are fewer labels than inputs summarised, or `rows` is out of range.
 */
export function summarizePrediction(
  pred: DkNNPrediction,
  labels: ArrayLike<number>,
  options: SummaryOptions = {},
): PredictionSummary {
  const n = options.rows ?? pred.n;
  if (!Number.isSafeInteger(n) || n < 1 || n > pred.n)
    throw new RangeError(`summarizePrediction: rows must be an integer in 1…${pred.n}, found ${n}`);
  if (labels.length < n) throw new Error(`summarizePrediction: expected at least ${n} labels, found ${labels.length}`);
  const low = options.lowCredibility ?? 0.1;
  const dnnOk = new Uint8Array(n);
  const dknnOk = new Uint8Array(n);
  let below = 0;
  let credOk = 0;
  let credBad = 0;
  for (let i = 0; i < n; i++) {
    dnnOk[i] = pred.dnnPredictions[i] === labels[i] ? 1 : 0;
    dknnOk[i] = pred.predictions[i] === labels[i] ? 1 : 0;
    if (pred.credibility[i] < low) below++;
    if (dknnOk[i]) credOk += pred.credibility[i];
    else credBad += pred.credibility[i];
  }
  const dnnCorrect = dnnOk.reduce((s, v) => s + v, 0);
  const dknnCorrect = dknnOk.reduce((s, v) => s + v, 0);
  const labelsHead = Array.from({ length: n }, (_, i) => labels[i]);
  return {
    n,
    formula: pred.formula,
    dnnAccuracy: accuracy(pred.dnnPredictions.subarray(0, n), labelsHead),
    dknnAccuracy: accuracy(pred.predictions.subarray(0, n), labelsHead),
    meanDnnConfidence: mean(pred.dnnConfidence, n),
    meanCredibility: mean(pred.credibility, n),
    meanConfidence: mean(pred.confidence, n),
    dnnEce: reliabilityBins(pred.dnnConfidence.subarray(0, n), dnnOk).expectedCalibrationError,
    dknnEce: reliabilityBins(pred.credibility.subarray(0, n), dknnOk).expectedCalibrationError,
    lowCredibility: low,
    lowCredibilityShare: below / n,
    meanCredibilityCorrect: dknnCorrect > 0 ? credOk / dknnCorrect : NaN,
    meanCredibilityWrong: n - dknnCorrect > 0 ? credBad / (n - dknnCorrect) : NaN,
    dnnCorrect,
    dknnCorrect,
    missingNeighbors: pred.missingNeighbors,
  };
}

/** Options of {@link perInputColumns}. */
export interface PerInputOptions {
  /** Index of each input in its source set, or the index of the first (then consecutive). Default 0. */
  index?: number | ArrayLike<number>;
  /** Class names, for readable label/prediction columns. Default: none. */
  classNames?: readonly string[];
}

/**
 * One row per input: its index in the source set (`inputIndex`; not `index`, which danfo.js reserves), label, DkNN prediction, credibility, confidence, DNN prediction and
 * softmax confidence, and whether each is correct — for CSV files and data frames.
 */
export function perInputColumns(
  pred: DkNNPrediction,
  labels: ArrayLike<number>,
  options: PerInputOptions = {},
): Columns {
  const n = pred.n;
  if (labels.length !== n)
    throw new Error(`perInputColumns: expected ${n} labels (one per input), found ${labels.length}`);
  const idx = options.index ?? 0;
  const index = typeof idx === 'number' ? Int32Array.from({ length: n }, (_, i) => idx + i) : Int32Array.from(idx);
  if (index.length !== n) throw new Error(`perInputColumns: expected ${n} indices, found ${index.length}`);
  const cols: Columns = {
    inputIndex: index,
    label: Int32Array.from(labels),
    prediction: pred.predictions,
    credibility: pred.credibility,
    confidence: pred.confidence,
    correct: Uint8Array.from(pred.predictions, (p, i) => (p === labels[i] ? 1 : 0)),
    dnnPrediction: pred.dnnPredictions,
    dnnConfidence: pred.dnnConfidence,
    dnnCorrect: Uint8Array.from(pred.dnnPredictions, (p, i) => (p === labels[i] ? 1 : 0)),
  };
  const names = options.classNames;
  if (names) {
    cols.labelName = Array.from(labels, (l) => names[l] ?? String(l));
    cols.predictionName = Array.from(pred.predictions, (p) => names[p] ?? String(p));
  }
  return cols;
}
