/**
 * Out-of-distribution detection with the DkNN (the paper's second claim): on inputs from another
 * distribution (notMNIST letters, rotated digits), the DkNN's credibility should be low where the
 * softmax stays confident. Numbers: mean credibility and softmax confidence per set, and the
 * AUROC of each score as a detector of "in distribution" (in-distribution inputs positive).
 */
import type { DkNNPrediction } from '../dknn/dknn';
import { rocAuc, rocCurve } from '../metrics/classification';
import type { Figure } from '../plots/plotly';
import { tableHtml } from '../plots/table';
import { html, type Html } from '../plots/html';

/** One out-of-distribution set against the in-distribution inputs. */
export interface OodRow {
  name: string;
  /** Inputs in the set. */
  n: number;
  /** E.g. the rotation angle in degrees, for curves; null when the set has none. */
  parameter: number | null;
  meanCredibility: number;
  meanDnnConfidence: number;
  /** Share of the set's inputs with credibility below 0.1. */
  lowCredibilityShare: number;
  /** AUROC of the credibility separating the in-distribution inputs (positive) from this set. */
  aurocCredibility: number;
  /** AUROC of the DNN's softmax confidence, the same way. */
  aurocDnnConfidence: number;
}

const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;

function joined(inDist: DkNNPrediction, out: DkNNPrediction, key: 'credibility' | 'dnnConfidence'): { scores: Float64Array; positives: Uint8Array } {
  const scores = new Float64Array(inDist.n + out.n);
  scores.set(inDist[key], 0);
  scores.set(out[key], inDist.n);
  const positives = new Uint8Array(inDist.n + out.n);
  positives.fill(1, 0, inDist.n);
  return { scores, positives };
}

/** The row of each set (see {@link OodRow}); the in-distribution set itself can be one of them (AUROC 0.5). */
export function outOfDistribution(inDist: DkNNPrediction, sets: { name: string; prediction: DkNNPrediction; parameter?: number }[]): OodRow[] {
  if (inDist.n === 0) throw new Error('outOfDistribution: expected in-distribution inputs, found none');
  return sets.map((s) => {
    const p = s.prediction;
    if (p.n === 0) throw new Error(`outOfDistribution: set ${s.name} holds no input`);
    const cred = joined(inDist, p, 'credibility');
    const conf = joined(inDist, p, 'dnnConfidence');
    return {
      name: s.name, n: p.n, parameter: s.parameter ?? null,
      meanCredibility: mean(p.credibility), meanDnnConfidence: mean(p.dnnConfidence),
      lowCredibilityShare: Array.from(p.credibility).filter((c) => c < 0.1).length / p.n,
      aurocCredibility: rocAuc(cred.scores, cred.positives), aurocDnnConfidence: rocAuc(conf.scores, conf.positives),
    }; // prettier-ignore
  });
}

/** Published means beside a row: credibility and softmax confidence. */
export interface OodReference {
  meanCredibility: number;
  meanDnnConfidence: number;
  source: string;
}

/** The rows as a table, with published numbers beside the sets that have them. */
export function oodTable(rows: OodRow[], references: Record<string, OodReference> = {}, options: { caption?: string } = {}): Html {
  const pct = (x: number | undefined) => (x === undefined ? '' : `${(100 * x).toFixed(1)} %`);
  return html(tableHtml(rows.map((r) => ({
    inputs: r.name, images: r.n, 'DkNN mean credibility': pct(r.meanCredibility), 'DNN mean softmax confidence': pct(r.meanDnnConfidence),
    'credibility < 0.1': pct(r.lowCredibilityShare), 'AUROC credibility': r.aurocCredibility, 'AUROC softmax': r.aurocDnnConfidence,
    'published credibility / softmax': references[r.name] ? `${pct(references[r.name].meanCredibility)} / ${pct(references[r.name].meanDnnConfidence)} (${references[r.name].source})` : '',
  })), { caption: options.caption ?? 'Out-of-distribution inputs: mean scores, and how well each score separates them from the in-distribution inputs (AUROC, in-distribution positive)', digits: 3 })); // prettier-ignore
}

/** ROC curves of the credibility and of the softmax confidence separating `inDist` (positive) from `out`. */
export function oodRocFigure(inDist: DkNNPrediction, out: DkNNPrediction, options: { title?: string } = {}): Figure {
  const traces = (['credibility', 'dnnConfidence'] as const).map((key) => {
    const j = joined(inDist, out, key);
    const c = rocCurve(j.scores, j.positives);
    const auc = rocAuc(j.scores, j.positives);
    return { type: 'scatter', mode: 'lines', name: `${key === 'credibility' ? 'DkNN credibility' : 'DNN softmax confidence'} (AUROC ${auc.toFixed(3)})`, x: Array.from(c.fpr), y: Array.from(c.tpr), line: { color: key === 'credibility' ? '#4c78a8' : '#e45756' } };
  });
  traces.push({ type: 'scatter', mode: 'lines', name: 'chance', x: [0, 1], y: [0, 1], line: { color: '#999999', dash: 'dot' } } as never);
  return {
    data: traces,
    layout: {
      title: { text: options.title ?? 'Detecting out-of-distribution inputs' }, height: 420,
      xaxis: { title: { text: 'out-of-distribution inputs accepted (false-positive rate)' }, range: [0, 1] },
      yaxis: { title: { text: 'in-distribution inputs accepted (true-positive rate)' }, range: [0, 1] },
    },
  }; // prettier-ignore
}

/** Mean credibility, mean softmax confidence and both AUROCs against the rows' parameter (e.g. the rotation angle). */
export function oodCurveFigure(rows: OodRow[], options: { title?: string; xLabel?: string } = {}): Figure {
  const r = rows.filter((x) => x.parameter !== null).sort((a, b) => a.parameter! - b.parameter!);
  const x = r.map((v) => v.parameter);
  const line = (name: string, y: number[], color: string, dash?: string) => ({ type: 'scatter', mode: 'lines+markers', name, x, y, line: { color, dash } });
  return {
    data: [
      line('DkNN mean credibility', r.map((v) => v.meanCredibility), '#4c78a8'),
      line('DNN mean softmax confidence', r.map((v) => v.meanDnnConfidence), '#e45756'),
      line('AUROC, credibility', r.map((v) => v.aurocCredibility), '#4c78a8', 'dot'),
      line('AUROC, softmax', r.map((v) => v.aurocDnnConfidence), '#e45756', 'dot'),
    ],
    layout: {
      title: { text: options.title ?? 'Scores against the shift' }, height: 420,
      xaxis: { title: { text: options.xLabel ?? 'parameter' } }, yaxis: { title: { text: 'score / AUROC' }, range: [0, 1.02] },
      legend: { orientation: 'h', y: -0.2 },
    },
  };
}
