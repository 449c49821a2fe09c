/**
 * Summaries of a DkNN prediction against the true labels: the numbers every notebook, the CLI and
 * the tests report (accuracies, mean confidence and credibility, calibration errors, the share of
 * inputs below a credibility threshold), per-input columns for CSV files and data frames, and the
 * tables that show them.
 */
import type { DataFrame } from 'danfojs-node';
import type { PValueFormula } from '../conformal/calibrator';
import type { DkNNPrediction } from '../dknn/dknn';
import { accuracy, reliabilityBins } from '../metrics/classification';
import { tableHtml } from '../plots/table';
import { html, type Html } from '../plots/html';
import type { Columns } from '../report/results';

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
  /** Missing neighbours over all inputs and layers (approximate indexes only). */
  missingNeighbors: number;
}

/** Options of {@link summarizePrediction}. */
export interface SummaryOptions {
  /** Summarise only the first `rows` inputs (e.g. the clean results on an attack's subset). Default: all. */
  rows?: number;
  /** Credibility threshold of `lowCredibilityShare`. Default 0.1 (the paper's). */
  lowCredibility?: number;
}

function mean(values: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  return n > 0 ? s / n : NaN;
}

/**
 * The headline numbers of `pred` on inputs whose true labels are `labels`.
 * @throws when there are fewer labels than inputs summarised, or `rows` is out of range.
 */
export function summarizePrediction(pred: DkNNPrediction, labels: ArrayLike<number>, options: SummaryOptions = {}): PredictionSummary {
  const n = options.rows ?? pred.n;
  if (!Number.isSafeInteger(n) || n < 1 || n > pred.n) throw new RangeError(`summarizePrediction: rows must be an integer in 1…${pred.n}, found ${n}`);
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

/** Published numbers shown beside a summary row (any may be absent). */
export interface ReferenceNumbers {
  dnnAccuracy?: number;
  dknnAccuracy?: number;
  lowCredibilityShare?: number;
  meanCredibility?: number;
  meanDnnConfidence?: number;
  /** Where they come from, e.g. 'paper' or 'CleverHans run'. */
  source: string;
}

/** One row of {@link summaryTable}. */
export interface SummaryRow {
  /** The input set, e.g. 'clean' or 'FGSM ε 0.25'. */
  name: string;
  summary: PredictionSummary;
  /** Published numbers to show beside it (one source or several). */
  reference?: ReferenceNumbers | ReferenceNumbers[];
}

const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '' : `${(100 * x).toFixed(1)} %`);

/** The rows of {@link summaryTable} as plain objects (column → value), e.g. for a data frame. */
export function summaryRecords(rows: SummaryRow[]): Record<string, string | number>[] {
  const withRef = rows.some((r) => r.reference);
  return rows.map((r) => {
    const s = r.summary;
    const out: Record<string, string | number> = {
      inputs: r.name,
      images: s.n,
      'DNN accuracy': s.dnnAccuracy,
      'DkNN accuracy': s.dknnAccuracy,
      'DNN mean confidence': s.meanDnnConfidence,
      'DkNN mean credibility': s.meanCredibility,
      [`credibility < ${s.lowCredibility}`]: s.lowCredibilityShare,
      'ECE softmax': s.dnnEce,
      'ECE credibility': s.dknnEce,
    };
    if (withRef) {
      const refs = r.reference === undefined ? [] : Array.isArray(r.reference) ? r.reference : [r.reference];
      const each = (f: (x: ReferenceNumbers) => string) => refs.map(f).join('; ');
      out['published DNN / DkNN accuracy'] = each((x) => (x.dnnAccuracy !== undefined || x.dknnAccuracy !== undefined ? `${pct(x.dnnAccuracy) || '–'} / ${pct(x.dknnAccuracy) || '–'}` : '–'));
      out[`published credibility < ${s.lowCredibility}`] = each((x) => pct(x.lowCredibilityShare) || '–');
      out['published by'] = each((x) => x.source);
    }
    return out;
  });
}

/** DNN vs DkNN on each input set, with published numbers beside them where given. The caption names the p-value formula. */
export function summaryTable(rows: SummaryRow[], options: { caption?: string; digits?: number } = {}): Html {
  if (rows.length === 0) throw new Error('summaryTable: expected at least one row, found none');
  const formulas = [...new Set(rows.map((r) => r.summary.formula))].join(' / ');
  const caption = `${options.caption ?? 'DNN vs DkNN'} (DkNN: ${formulas} p-values; accuracy against the true labels)`;
  return html(tableHtml(summaryRecords(rows), { caption, digits: options.digits ?? 3 }));
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
export function perInputColumns(pred: DkNNPrediction, labels: ArrayLike<number>, options: PerInputOptions = {}): Columns {
  const n = pred.n;
  if (labels.length !== n) throw new Error(`perInputColumns: expected ${n} labels (one per input), found ${labels.length}`);
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

/** A danfo.js `DataFrame` of columns (e.g. {@link perInputColumns}), to sort, filter and group in a notebook. Needs danfojs-node. */
export function dataFrame(columns: Columns): DataFrame {
  let dfd: { DataFrame: new (data: Record<string, unknown[]>) => DataFrame };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    dfd = require('danfojs-node');
  } catch (err) {
    throw new Error(`dataFrame needs danfojs-node (npm install danfojs-node): ${(err as Error).message}`);
  }
  return new dfd.DataFrame(Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, Array.from(v as ArrayLike<number | string>)])));
}
