/**
 * What the neighbors say, layer by layer (the paper's interpretability claim): how many different
 * labels the k neighbors of an input carry in each layer ("candidate labels"), how many of them
 * agree with the DNN's prediction, each layer's nonconformity, and test inputs whose label
 * disagrees with a highly credible DkNN prediction (candidates for mislabelled data).
 */
import { mean } from '../metrics/stats';
import type { DkNNPrediction } from '../dknn/types';

/** Per layer, per input: the labels of its k neighbors, summarised. */
export interface LayerEvidence {
  layer: string;
  rows: number;
  k: number;
  numClasses: number;
  /** `rows × numClasses`: neighbors of each input carrying each label (missing neighbors carry none). */
  counts: Int32Array;
  /** Distinct labels among each input's neighbors. */
  candidates: Int32Array;
  /** Neighbors whose label is the DNN's prediction for the input. */
  agreeWithDnn: Int32Array;
}

/** The neighbors' labels per layer and input (see {@link LayerEvidence}); `trainLabels` are the DkNN's training labels. */
export function layerEvidence(pred: DkNNPrediction, trainLabels: ArrayLike<number>): LayerEvidence[] {
  const C = pred.numClasses;
  return pred.neighbors.map((nb) => {
    const counts = new Int32Array(nb.rows * C);
    const candidates = new Int32Array(nb.rows);
    const agree = new Int32Array(nb.rows);
    for (let r = 0; r < nb.rows; r++) {
      for (let j = 0; j < nb.k; j++) {
        const t = nb.indices[r * nb.k + j];
        if (t < 0) continue;
        const y = trainLabels[t];
        if (!(y >= 0 && y < C)) throw new RangeError(`layerEvidence: training label ${t} is ${y}, expected 0…${C - 1}`);
        counts[r * C + y]++;
      }
      for (let c = 0; c < C; c++) if (counts[r * C + c] > 0) candidates[r]++;
      agree[r] = counts[r * C + pred.dnnPredictions[r]];
    }
    return { layer: nb.layer, rows: nb.rows, k: nb.k, numClasses: C, counts, candidates, agreeWithDnn: agree };
  });
}

/** α(x, j) of input `row` in each layer: the neighbors whose label is not j. Rows: one per layer, then the sum. */
export function layerNonconformity(
  evidence: LayerEvidence[],
  options: { row: number; classNames?: readonly string[] },
): Record<string, string | number>[] {
  const { row, classNames } = options;
  const C = evidence[0]?.numClasses ?? 0;
  const name = (c: number) => classNames?.[c] ?? String(c);
  const rows = evidence.map((e): Record<string, string | number> => {
    if (row < 0 || row >= e.rows)
      throw new RangeError(`layerNonconformity: row ${row} is outside the ${e.rows} inputs`);
    const present = Array.from({ length: C }, (_, c) => e.counts[row * C + c]).reduce((s, v) => s + v, 0);
    return {
      layer: e.layer,
      ...Object.fromEntries(
        Array.from({ length: C }, (_, c) => [`α(${name(c)})`, present - e.counts[row * C + c] + (e.k - present)]),
      ),
    };
  });
  const total: Record<string, string | number> = { layer: 'all layers' };
  for (const key of Object.keys(rows[0] ?? {}))
    if (key !== 'layer') total[key] = rows.reduce((s, r) => s + (r[key] as number), 0);
  return [...rows, total];
}

/** One layer's evidence averaged over the inputs. */
export interface LayerEvidenceMean {
  layer: string;
  k: number;
  /** Mean number of distinct labels among an input's neighbors. */
  candidates: number;
  /** Mean number of neighbors whose label is the DNN's prediction. */
  agreeWithDnn: number;
}

/** Per layer, the candidate labels and the agreement with the DNN averaged over the inputs. */
export function evidenceByLayer(evidence: LayerEvidence[]): LayerEvidenceMean[] {
  return evidence.map((e) => ({
    layer: e.layer,
    k: e.k,
    candidates: mean(e.candidates),
    agreeWithDnn: mean(e.agreeWithDnn),
  }));
}

/** What {@link suspiciousLabels} finds. */
export interface SuspiciousLabels {
  /** Rows whose label differs from a DkNN prediction of credibility ≥ minCredibility, most credible first. */
  rows: number[];
  minCredibility: number;
  /** Inputs examined. */
  n: number;
}

/**
 * Inputs whose given label disagrees with a highly credible DkNN prediction (credibility ≥
 * `minCredibility`, default 0.9): where the neighbors in every layer agree with each other but
 * not with the label, the label itself may be wrong.
 */
export function suspiciousLabels(
  pred: DkNNPrediction,
  labels: ArrayLike<number>,
  options: { minCredibility?: number } = {},
): SuspiciousLabels {
  const min = options.minCredibility ?? 0.9;
  if (!(min >= 0 && min <= 1)) throw new RangeError(`minCredibility must be in [0, 1], found ${min}`);
  if (labels.length !== pred.n) throw new Error(`suspiciousLabels: expected ${pred.n} labels, found ${labels.length}`);
  const rows: number[] = [];
  for (let i = 0; i < pred.n; i++) if (pred.predictions[i] !== labels[i] && pred.credibility[i] >= min) rows.push(i);
  rows.sort((a, b) => pred.credibility[b] - pred.credibility[a] || a - b);
  return { rows, minCredibility: min, n: pred.n };
}
