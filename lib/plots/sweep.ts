/** Figures of the re-scoring sweeps (`analysis/sweep.ts`). */
import type { SweepRow } from '../analysis/sweep';
import { legendBelow } from './layout';
import { PALETTE } from './palette';
import type { Figure } from './plotly';

/** The three measures of a sweep row, with their names and colors. */
const MEASURES = [
  { name: 'DkNN accuracy', value: (r: SweepRow) => r.dknnAccuracy, color: PALETTE.green },
  { name: 'mean credibility', value: (r: SweepRow) => r.meanCredibility, color: PALETTE.blue },
  { name: 'ECE of the credibility', value: (r: SweepRow) => r.ece, color: PALETTE.red },
] as const;

/** The vertical line, its label and the markers of the chosen `k` on the k-sweep figure. */
function chosenK(rows: SweepRow[], k: number): { traces: Record<string, unknown>[]; layout: Record<string, unknown> } {
  if (rows.length === 0) return { traces: [], layout: {} };
  const at = rows.find((r) => r.k === k);
  const traces = at
    ? MEASURES.map((m) => ({
        type: 'scatter',
        mode: 'markers',
        name: `${m.name} at k = ${k}`,
        x: [k],
        y: [m.value(at)],
        marker: { color: m.color, size: 10, symbol: 'diamond', line: { color: 'white', width: 1 } },
        showlegend: false,
        hovertemplate: `k = ${k}: ${m.name} %{y:.4f}<extra></extra>`,
      }))
    : [];
  const layout = {
    shapes: [
      {
        type: 'line',
        xref: 'x',
        yref: 'paper',
        x0: k,
        x1: k,
        y0: 0,
        y1: 1,
        line: { color: PALETTE.grey, dash: 'dash', width: 1 },
      },
    ],
    annotations: [
      {
        text: `chosen k = ${k}`,
        x: k,
        y: 1,
        xref: 'x',
        yref: 'paper',
        xanchor: k > (rows[0].k + rows[rows.length - 1].k) / 2 ? 'right' : 'left',
        yanchor: 'bottom',
        showarrow: false,
      },
    ],
  };
  return { traces, layout };
}

/**
 * Accuracy, mean credibility and ECE against k; with `k`, the chosen k is marked by a dashed
 * vertical line, its label and a marker on each curve.
 */
export function sweepKFigure(rows: SweepRow[], options: { title?: string; k?: number } = {}): Figure {
  const x = rows.map((r) => r.k);
  const chosen = options.k === undefined ? null : chosenK(rows, options.k);
  return {
    data: [
      ...MEASURES.map((m) => ({
        type: 'scatter',
        mode: 'lines',
        name: m.name,
        x,
        y: rows.map(m.value),
        line: { color: m.color },
      })),
      ...(chosen?.traces ?? []),
    ],
    layout: {
      title: { text: options.title ?? 'The DkNN against k (re-scored from one search)' },
      height: 420,
      xaxis: { title: { text: 'k (neighbors per layer)' }, automargin: true },
      yaxis: { title: { text: 'value' }, range: [0, 1.02] },
      legend: legendBelow(),
      ...(chosen?.layout ?? {}),
    },
  };
}

/** Accuracy, mean credibility and ECE per layer subset, as grouped bars. */
export function sweepLayersFigure(rows: SweepRow[], options: { title?: string } = {}): Figure {
  const x = rows.map((r) => r.layers.join(' + '));
  return {
    data: MEASURES.map((m) => ({ type: 'bar', name: m.name, x, y: rows.map(m.value), marker: { color: m.color } })),
    layout: {
      title: { text: options.title ?? 'The DkNN on subsets of its layers (re-scored)' },
      height: 460,
      barmode: 'group',
      xaxis: { tickangle: -25, automargin: true },
      yaxis: { title: { text: 'value' }, range: [0, 1.02] },
      legend: legendBelow(),
    },
  };
}
