/** Figures of conformal prediction sets (`dknn/prediction-sets.ts`). */
import type { SetCoverage } from '../conformal/sets';
import { PALETTE, seriesColor } from './palette';
import type { Figure } from './plotly';
import { legendBelow, rightAxis } from './layout';

/** Coverage (and the 1 − ε line) and mean set size against ε, one curve per named run. */
export function coverageFigure(
  curves: { name: string; rows: SetCoverage[] }[],
  options: { title?: string } = {},
): Figure {
  const eps = curves[0]?.rows.map((r) => r.epsilon) ?? [];
  return {
    data: [
      {
        type: 'scatter',
        mode: 'lines',
        name: 'target 1 − ε',
        x: eps,
        y: eps.map((e) => 1 - e),
        line: { color: PALETTE.grey, dash: 'dot' },
      },
      ...curves.flatMap((c, i) => [
        {
          type: 'scatter',
          mode: 'lines+markers',
          name: `${c.name}: coverage`,
          x: c.rows.map((r) => r.epsilon),
          y: c.rows.map((r) => r.coverage),
          line: { color: seriesColor(i) },
        },
        {
          type: 'scatter',
          mode: 'lines',
          name: `${c.name}: mean set size`,
          x: c.rows.map((r) => r.epsilon),
          y: c.rows.map((r) => r.meanSize),
          yaxis: 'y2',
          line: { color: seriesColor(i), dash: 'dash' },
        },
      ]),
    ],
    layout: {
      title: { text: options.title ?? 'Prediction sets: coverage and size against ε' },
      height: 440,
      xaxis: { title: { text: 'significance ε' }, automargin: true },
      yaxis: { title: { text: 'coverage' }, range: [0, 1.02] },
      yaxis2: rightAxis('y', { title: { text: 'mean set size (classes)' }, rangemode: 'tozero' }),
      legend: legendBelow(),
    },
  };
}
