/** Out-of-distribution tables and figures: the rows of `analysis/ood.ts` shown. */
import { oodRocCurves, type OodRow } from '../analysis/ood';
import type { DkNNPrediction } from '../dknn/types';
import { html, type Html } from './html';
import type { Figure } from './plotly';
import { tableHtml } from './table';
import { PALETTE } from './palette';
import { legendBelow } from './layout';

/** Published means beside a row: credibility and softmax confidence. */
export interface OodReference {
  meanCredibility: number;
  meanDnnConfidence: number;
  source: string;
}

/** The rows as a table, with published numbers beside the sets that have them. */
export function oodTable(
  rows: OodRow[],
  references: Record<string, OodReference> = {},
  options: { caption?: string } = {},
): Html {
  const pct = (x: number | undefined) => (x === undefined ? '' : `${(100 * x).toFixed(1)} %`);
  return html(
    tableHtml(
      rows.map((r) => ({
        inputs: r.name,
        images: r.n,
        'DkNN mean credibility': pct(r.meanCredibility),
        'DNN mean softmax confidence': pct(r.meanDnnConfidence),
        'credibility < 0.1': pct(r.lowCredibilityShare),
        'AUROC credibility': r.aurocCredibility,
        'AUROC softmax': r.aurocDnnConfidence,
        'published credibility / softmax': references[r.name]
          ? `${pct(references[r.name].meanCredibility)} / ${pct(references[r.name].meanDnnConfidence)} (${references[r.name].source})`
          : '',
      })),
      {
        caption:
          options.caption ??
          'Out-of-distribution inputs: mean scores, and how well each score separates them from the in-distribution inputs (AUROC, in-distribution positive)',
        digits: 3,
      },
    ),
  );
}

/** ROC curves of the credibility and of the softmax confidence separating `inDist` (positive) from `out`. */
export function oodRocFigure(inDist: DkNNPrediction, out: DkNNPrediction, options: { title?: string } = {}): Figure {
  const traces: Record<string, unknown>[] = oodRocCurves(inDist, out).map((c) => ({
    type: 'scatter',
    mode: 'lines',
    name: `${c.score === 'credibility' ? 'DkNN credibility' : 'DNN softmax confidence'} (AUROC ${c.auroc.toFixed(3)})`,
    x: Array.from(c.fpr),
    y: Array.from(c.tpr),
    line: { color: c.score === 'credibility' ? PALETTE.blue : PALETTE.red },
  }));
  traces.push({
    type: 'scatter',
    mode: 'lines',
    name: 'chance',
    x: [0, 1],
    y: [0, 1],
    line: { color: PALETTE.grey, dash: 'dot' },
  });
  return {
    data: traces,
    layout: {
      title: { text: options.title ?? 'Detecting out-of-distribution inputs' },
      height: 420,
      xaxis: { title: { text: 'out-of-distribution inputs accepted (false-positive rate)' }, range: [0, 1] },
      yaxis: { title: { text: 'in-distribution inputs accepted (true-positive rate)' }, range: [0, 1] },
    },
  };
}

/** Mean credibility, mean softmax confidence and both AUROCs against the rows' parameter (e.g. the rotation angle). */
export function oodCurveFigure(rows: OodRow[], options: { title?: string; xLabel?: string } = {}): Figure {
  const r = rows.filter((x) => x.parameter !== null).sort((a, b) => a.parameter! - b.parameter!);
  const x = r.map((v) => v.parameter);
  const line = (name: string, y: number[], color: string, dash?: string) => ({
    type: 'scatter',
    mode: 'lines+markers',
    name,
    x,
    y,
    line: { color, dash },
  });
  return {
    data: [
      line(
        'DkNN mean credibility',
        r.map((v) => v.meanCredibility),
        PALETTE.blue,
      ),
      line(
        'DNN mean softmax confidence',
        r.map((v) => v.meanDnnConfidence),
        PALETTE.red,
      ),
      line(
        'AUROC, credibility',
        r.map((v) => v.aurocCredibility),
        PALETTE.blue,
        'dot',
      ),
      line(
        'AUROC, softmax',
        r.map((v) => v.aurocDnnConfidence),
        PALETTE.red,
        'dot',
      ),
    ],
    layout: {
      title: { text: options.title ?? 'Scores against the shift' },
      height: 420,
      xaxis: { title: { text: options.xLabel ?? 'parameter' }, automargin: true },
      yaxis: { title: { text: 'score / AUROC' }, range: [0, 1.02] },
      legend: legendBelow(),
    },
  };
}
