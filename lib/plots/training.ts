import type { Figure } from './plotly';
import { PALETTE } from './palette';
import type { EpochRecord, StepRecord } from '../training/types';
import { legendBelow, rightAxis } from './layout';

/**
 * Loss and accuracy curves of a training run: per-step training loss (left axis) and accuracy
 * (right axis), plus the per-epoch evaluation accuracy when it was measured.
 */
export function trainingCurvesFigure(
  steps: StepRecord[],
  epochs: EpochRecord[],
  options: { title?: string; stepsPerEpoch?: number } = {},
): Figure {
  const perEpoch = options.stepsPerEpoch ?? (epochs.length ? steps.length / epochs.length : 1);
  const data: Record<string, unknown>[] = [
    {
      type: 'scatter',
      mode: 'lines',
      name: 'train loss (step)',
      x: steps.map((s) => s.step),
      y: steps.map((s) => s.loss),
      line: { color: PALETTE.red, width: 1 },
    },
    {
      type: 'scatter',
      mode: 'lines',
      name: 'train accuracy (step)',
      x: steps.map((s) => s.step),
      y: steps.map((s) => s.accuracy),
      yaxis: 'y2',
      line: { color: PALETTE.blue, width: 1 },
    },
  ];
  const withEval = epochs.filter((e) => Number.isFinite(e.evalAccuracy));
  if (withEval.length) {
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: 'test accuracy (epoch end)',
      x: withEval.map((e) => e.epoch * perEpoch),
      y: withEval.map((e) => e.evalAccuracy),
      yaxis: 'y2',
      line: { color: PALETTE.green },
    });
  }
  return {
    data,
    layout: {
      title: { text: options.title ?? 'Training curves' },
      height: 420,
      xaxis: { title: { text: 'Adam step' }, automargin: true },
      yaxis: { title: { text: 'cross-entropy loss' }, type: 'log' },
      yaxis2: rightAxis('y', { title: { text: 'accuracy' }, range: [0, 1], showgrid: false }),
      legend: legendBelow(),
    },
  };
}
