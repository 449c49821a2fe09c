/** Figures of the re-scoring sweeps (`analysis/sweep.ts`). */
import type { SweepRow } from '../analysis/sweep';
import { PALETTE } from './palette';
import type { Figure } from './plotly';

/** Accuracy, mean credibility and ECE against k. */
export function sweepKFigure(rows: SweepRow[], options: { title?: string } = {}): Figure {
  const x = rows.map((r) => r.k);
  const line = (name: string, y: number[], color: string) => ({
    type: 'scatter',
    mode: 'lines',
    name,
    x,
    y,
    line: { color },
  });
  return {
    data: [
      line(
        'DkNN accuracy',
        rows.map((r) => r.dknnAccuracy),
        PALETTE.green,
      ),
      line(
        'mean credibility',
        rows.map((r) => r.meanCredibility),
        PALETTE.blue,
      ),
      line(
        'ECE of the credibility',
        rows.map((r) => r.ece),
        PALETTE.red,
      ),
    ],
    layout: {
      title: { text: options.title ?? 'The DkNN against k (re-scored from one search)' },
      height: 400,
      xaxis: { title: { text: 'k (neighbors per layer)' } },
      yaxis: { title: { text: 'value' }, range: [0, 1.02] },
      legend: { orientation: 'h', y: -0.2 },
    },
  };
}

/** Accuracy, mean credibility and ECE per layer subset, as grouped bars. */
export function sweepLayersFigure(rows: SweepRow[], options: { title?: string } = {}): Figure {
  const x = rows.map((r) => r.layers.join(' + '));
  const bar = (name: string, y: number[], color: string) => ({ type: 'bar', name, x, y, marker: { color } });
  return {
    data: [
      bar(
        'DkNN accuracy',
        rows.map((r) => r.dknnAccuracy),
        PALETTE.green,
      ),
      bar(
        'mean credibility',
        rows.map((r) => r.meanCredibility),
        PALETTE.blue,
      ),
      bar(
        'ECE of the credibility',
        rows.map((r) => r.ece),
        PALETTE.red,
      ),
    ],
    layout: {
      title: { text: options.title ?? 'The DkNN on subsets of its layers (re-scored)' },
      height: 420,
      barmode: 'group',
      yaxis: { title: { text: 'value' }, range: [0, 1.02] },
      legend: { orientation: 'h', y: -0.3 },
    },
  };
}
