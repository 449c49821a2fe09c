/**
 * Figure layout warts: counts on integer ticks, right-hand axes with their own ticks, legends that
 * leave the x-axis title alone, the chosen k marked on the k sweep, and more than two histograms as
 * small multiples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countAxis, integerStep } from '../../lib/plots/layout';
import { histogramFigure, reliabilityFigure } from '../../lib/plots/reliability';
import { sweepKFigure, sweepLayersFigure } from '../../lib/plots/sweep';
import { trainingCurvesFigure } from '../../lib/plots/training';
import { coverageFigure } from '../../lib/plots/sets';
import { oodCurveFigure } from '../../lib/plots/ood';
import { credibilityHistogram } from '../../lib/plots/dknn-figures';
import { reliabilityBins } from '../../lib/metrics/classification';
import type { SweepRow } from '../../lib/analysis/sweep';
import type { Figure } from '../../lib/plots/plotly';
import { fakePrediction } from '../helpers/tiny';

type Axis = Record<string, unknown>;

/** The values plotly puts ticks at on a linear axis from 0 to `max`. */
function ticks(axis: Axis, max: number): number[] {
  assert.equal(axis.tickmode, 'linear', 'ticks placed from tick0 by dtick, not synchronized with another axis');
  const out: number[] = [];
  for (let t = axis.tick0 as number; t <= max; t += axis.dtick as number) out.push(t);
  return out;
}

test('integerStep: whole 1, 2, 2.5 or 5 × 10ⁿ steps, at least 1', () => {
  assert.deepEqual(
    [0, 3, 5, 7, 16, 40, 239, 1030, 9250].map((m) => integerStep(m)),
    [1, 1, 1, 2, 5, 10, 50, 250, 2000],
  );
  assert.equal(integerStep(NaN), 1);
});

test('reliability diagrams count points on integer ticks from 0, on both small and large sets', () => {
  for (const n of [3, 40, 1030]) {
    const scores = Array.from({ length: n }, (_, i) => (i + 0.5) / n);
    const d = reliabilityBins(
      scores,
      scores.map(() => 1),
    );
    const fig = reliabilityFigure([{ title: 'DkNN', diagram: d, xLabel: 'Prediction Credibility' }]);
    const axis = fig.layout.yaxis2 as Axis;
    assert.equal(axis.rangemode, 'tozero');
    assert.equal(axis.tickformat, 'd', 'counts printed as integers');
    const largest = Math.max(...d.bins.map((b) => b.count));
    const t = ticks(axis, largest);
    assert.ok(t.length >= 2 && t.every((v) => Number.isInteger(v)), `${n} points: ticks ${t}`);
    assert.ok(t.length <= 7, `${n} points: at most a handful of ticks (${t})`);
    assert.equal(axis.overlaying, 'y');
    assert.equal(
      (axis.title as { font: { color: string } }).font.color !== undefined,
      true,
      'title colored like its line',
    );
  }
  assert.equal(countAxis([]).dtick, 1);
});

test('right-hand axes get their own ticks instead of the left axis positions', () => {
  const training = trainingCurvesFigure(
    [
      { epoch: 1, step: 1, loss: 2, accuracy: 0.1 },
      { epoch: 1, step: 2, loss: 1, accuracy: 0.5 },
    ],
    [],
  );
  const coverage = coverageFigure([
    {
      name: 'a',
      rows: [
        { epsilon: 0.1, n: 10, coverage: 0.9, meanSize: 1.2, emptyShare: 0, singletonShare: 0.8, classCoverage: [] },
      ],
    },
  ]);
  for (const axis of [training.layout.yaxis2, coverage.layout.yaxis2] as Axis[]) {
    assert.equal(axis.overlaying, 'y');
    assert.equal(axis.tickmode, 'auto');
  }
});

function row(k: number, layers = ['a', 'b']): SweepRow {
  return { k, layers, formula: 'reference', dknnAccuracy: 0.9, meanCredibility: 1 - k / 200, ece: k / 400, seconds: 0 };
}

/** The legend is placed in the figure's coordinates at its bottom and the x axis reserves room for its title. */
function legendClearsAxisTitle(fig: Figure, name: string): void {
  const legend = fig.layout.legend as Axis;
  assert.equal(
    legend.yref,
    'container',
    `${name}: legend placed in the figure, not at a fraction of the plot below it`,
  );
  assert.equal(legend.yanchor, 'bottom');
  assert.equal(legend.y, 0);
  assert.equal((fig.layout.xaxis as Axis).automargin, true, `${name}: the x axis keeps room for its title`);
}

test('legends below a plot leave its x-axis title alone', () => {
  const rows = [1, 2, 3].map((k) => row(k));
  legendClearsAxisTitle(sweepKFigure(rows), 'k sweep');
  legendClearsAxisTitle(sweepLayersFigure([row(3, ['a']), row(3)]), 'layer sweep');
  legendClearsAxisTitle(trainingCurvesFigure([{ epoch: 1, step: 1, loss: 1, accuracy: 0.5 }], []), 'training curves');
  legendClearsAxisTitle(coverageFigure([{ name: 'a', rows: [] }]), 'coverage');
  legendClearsAxisTitle(oodCurveFigure([]), 'out-of-distribution curve');
});

test('the k sweep marks the chosen k with a dashed line, a label and a marker on each curve', () => {
  const rows = Array.from({ length: 100 }, (_, i) => row(i + 1));
  const fig = sweepKFigure(rows, { k: 75 });
  const shapes = fig.layout.shapes as Axis[];
  assert.equal(shapes.length, 1);
  assert.deepEqual([shapes[0].x0, shapes[0].x1, shapes[0].yref], [75, 75, 'paper']);
  const label = (fig.layout.annotations as Axis[])[0];
  assert.match(label.text as string, /k = 75/);
  assert.equal(label.xanchor, 'right', 'a label right of the middle reads leftwards, inside the plot');
  const markers = fig.data.filter((t) => t.mode === 'markers') as { x: number[]; y: number[] }[];
  assert.deepEqual(
    markers.map((m) => [m.x[0], m.y[0]]),
    [
      [75, 0.9],
      [75, 1 - 75 / 200],
      [75, 75 / 400],
    ],
  );
  assert.equal(fig.data.filter((t) => t.showlegend !== false).length, 3, 'the legend lists the three curves only');
  const plain = sweepKFigure(rows);
  assert.equal(plain.layout.shapes, undefined, 'no k given, nothing marked');
  assert.equal((sweepKFigure(rows, { k: 5 }).layout.annotations as Axis[])[0].xanchor, 'left');
});

test('more than two histograms are small multiples: one panel each, shared x axis and y scale', () => {
  const groups = [
    { name: 'clean', values: [0.9, 0.95, 0.7, 0.8] },
    { name: 'letters', values: [0.01, 0.02, 0.03, 0.5] },
    { name: 'rotated', values: [0.01, 0.6] },
  ];
  const fig = histogramFigure(groups, { bins: 10 });
  assert.deepEqual(
    fig.data.map((t) => [t.xaxis, t.yaxis]),
    [
      ['x', 'y'],
      ['x2', 'y2'],
      ['x3', 'y3'],
    ],
  );
  const ys = ['yaxis', 'yaxis2', 'yaxis3'].map((a) => fig.layout[a] as { domain: number[]; range: number[] });
  for (let i = 1; i < ys.length; i++) {
    assert.ok(ys[i].domain[1] < ys[i - 1].domain[0], `panel ${i + 1} lies below panel ${i}, apart`);
    assert.deepEqual(ys[i].range, ys[0].range, 'one y scale for every panel');
  }
  assert.ok(ys[0].range[1] >= 75, 'the y scale holds the largest bin (3 of 4 letters in the first bin: 75 %)');
  assert.equal((fig.layout.xaxis2 as Axis).matches, 'x');
  assert.equal((fig.layout.xaxis3 as Axis).matches, 'x');
  assert.equal((fig.layout.xaxis3 as Axis).showticklabels, true, 'tick labels on the bottom panel');
  assert.equal((fig.layout.xaxis as Axis).showticklabels, false);
  const titles = (fig.layout.annotations as { text: string }[]).map((a) => a.text);
  assert.deepEqual(titles, ['<b>clean</b> (n = 4)', '<b>letters</b> (n = 4)', '<b>rotated</b> (n = 2)']);
  assert.equal(histogramFigure(groups.slice(0, 2)).layout.barmode, 'overlay', 'two groups stay overlaid');
  assert.equal(histogramFigure(groups, { panels: false }).layout.barmode, 'overlay');
  const p = fakePrediction([{ pred: 0, cred: 0.5, dnn: 0, dnnConf: 0.9 }]);
  const sets = ['a', 'b', 'c'].map((name) => ({ name, prediction: p }));
  assert.equal(credibilityHistogram(sets).data.length, 3);
  assert.equal(credibilityHistogram(sets).layout.yaxis3 !== undefined, true, 'credibility of three sets in panels');
});
