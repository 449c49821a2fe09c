/**
 * What the neighbours say, layer by layer (the paper's interpretability claim): how many different
 * labels the k neighbours of an input carry in each layer ("candidate labels"), how many of them
 * agree with the DNN's prediction, each layer's nonconformity, and test inputs whose label
 * disagrees with a highly credible DkNN prediction (candidates for mislabelled data).
 */
import type { DkNNPrediction } from '../dknn/dknn';
import type { Figure } from '../plots/plotly';

/** Per layer, per input: the labels of its k neighbours, summarised. */
export interface LayerEvidence {
  layer: string;
  rows: number;
  k: number;
  numClasses: number;
  /** `rows × numClasses`: neighbours of each input carrying each label (missing neighbours carry none). */
  counts: Int32Array;
  /** Distinct labels among each input's neighbours. */
  candidates: Int32Array;
  /** Neighbours whose label is the DNN's prediction for the input. */
  agreeWithDnn: Int32Array;
}

/** The neighbours' labels per layer and input (see {@link LayerEvidence}); `trainLabels` are the DkNN's training labels. */
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

/** α(x, j) of input `row` in each layer: the neighbours whose label is not j. Rows: one per layer, then the sum. */
export function layerNonconformity(evidence: LayerEvidence[], row: number, classNames?: readonly string[]): Record<string, string | number>[] {
  const C = evidence[0]?.numClasses ?? 0;
  const name = (c: number) => classNames?.[c] ?? String(c);
  const rows = evidence.map((e): Record<string, string | number> => {
    if (row < 0 || row >= e.rows) throw new RangeError(`layerNonconformity: row ${row} is outside the ${e.rows} inputs`);
    const present = Array.from({ length: C }, (_, c) => e.counts[row * C + c]).reduce((s, v) => s + v, 0);
    return { layer: e.layer, ...Object.fromEntries(Array.from({ length: C }, (_, c) => [`α(${name(c)})`, present - e.counts[row * C + c] + (e.k - present)])) };
  });
  const total: Record<string, string | number> = { layer: 'all layers' };
  for (const key of Object.keys(rows[0] ?? {})) if (key !== 'layer') total[key] = rows.reduce((s, r) => s + (r[key] as number), 0);
  return [...rows, total];
}

/** Mean candidate labels and mean agreement with the DNN per layer, for several input sets (e.g. clean, FGSM, BIM). */
export function candidateLabelsFigure(sets: { name: string; evidence: LayerEvidence[] }[], options: { title?: string } = {}): Figure {
  const colors = ['#4c78a8', '#e45756', '#f58518', '#54a24b', '#72b7b2'];
  const mean = (a: Int32Array) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
  const data = sets.map((s, i) => {
    const agree = s.evidence.map((e) => mean(e.agreeWithDnn));
    return {
      type: 'scatter', mode: 'lines+markers', name: s.name,
      x: s.evidence.map((e) => e.layer), y: s.evidence.map((e) => mean(e.candidates)),
      marker: { size: agree.map((a, l) => 8 + 30 * (a / s.evidence[l].k)), color: colors[i % colors.length], opacity: 0.8 },
      line: { color: colors[i % colors.length] },
      customdata: agree, hovertemplate: '%{x}: %{y:.2f} candidate labels, %{customdata:.1f} neighbours agree with the DNN<extra>' + s.name + '</extra>',
    }; // prettier-ignore
  });
  const k = sets[0]?.evidence[0]?.k ?? 0;
  return {
    data,
    layout: {
      title: { text: options.title ?? `Candidate labels among the ${k} neighbours, per layer (marker area: neighbours agreeing with the DNN)` }, height: 420,
      xaxis: { title: { text: 'layer' } }, yaxis: { title: { text: 'mean number of distinct labels' }, rangemode: 'tozero' },
    },
  };
}

/** For one input: each layer's neighbour labels as points (area = neighbours with that label), the DNN's label highlighted. */
export function neighborLabelsFigure(evidence: LayerEvidence[], row: number, dnnPrediction: number, options: { classNames?: readonly string[]; title?: string } = {}): Figure {
  const C = evidence[0]?.numClasses ?? 0;
  const name = (c: number) => options.classNames?.[c] ?? String(c);
  const pts: { layer: string; label: string; count: number; agree: boolean }[] = [];
  for (const e of evidence) for (let c = 0; c < C; c++) if (e.counts[row * C + c] > 0) pts.push({ layer: e.layer, label: name(c), count: e.counts[row * C + c], agree: c === dnnPrediction });
  const trace = (agree: boolean) => {
    const p = pts.filter((x) => x.agree === agree);
    return {
      type: 'scatter', mode: 'markers', name: agree ? `the DNN's label (${name(dnnPrediction)})` : 'other labels',
      x: p.map((v) => v.layer), y: p.map((v) => v.label), text: p.map((v) => `${v.count} neighbours`),
      marker: { size: p.map((v) => 6 + 40 * Math.sqrt(v.count / (evidence[0]?.k || 1))), color: agree ? '#54a24b' : '#e45756', opacity: 0.75 },
    }; // prettier-ignore
  };
  return {
    data: [trace(true), trace(false)],
    layout: {
      title: { text: options.title ?? `Neighbour labels per layer (marker area: neighbours with the label)` }, height: 380,
      xaxis: { title: { text: 'layer' } }, yaxis: { title: { text: 'label' }, type: 'category', categoryorder: 'array', categoryarray: Array.from({ length: C }, (_, c) => name(c)) },
    },
  };
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
 * `minCredibility`, default 0.9): where the neighbours in every layer agree with each other but
 * not with the label, the label itself may be wrong.
 */
export function suspiciousLabels(pred: DkNNPrediction, labels: ArrayLike<number>, options: { minCredibility?: number } = {}): SuspiciousLabels {
  const min = options.minCredibility ?? 0.9;
  if (!(min >= 0 && min <= 1)) throw new RangeError(`minCredibility must be in [0, 1], found ${min}`);
  if (labels.length !== pred.n) throw new Error(`suspiciousLabels: expected ${pred.n} labels, found ${labels.length}`);
  const rows: number[] = [];
  for (let i = 0; i < pred.n; i++) if (pred.predictions[i] !== labels[i] && pred.credibility[i] >= min) rows.push(i);
  rows.sort((a, b) => pred.credibility[b] - pred.credibility[a] || a - b);
  return { rows, minCredibility: min, n: pred.n };
}
