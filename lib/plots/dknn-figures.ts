/** Figures of DkNN predictions: reliability diagrams (DNN vs DkNN), credibility histograms, sample images. */
import { samplePerClass } from '../data/split';
import { reliabilityBins } from '../metrics/classification';
import type { Png } from './html';
import type { Figure } from './plotly';
import { encodePng, imageGrid } from './png';
import { histogramFigure, reliabilityFigure } from './reliability';
import type { ImageDataset } from '../data/types';
import type { DkNNPrediction } from '../dknn/types';
import { PALETTE, seriesColor } from './palette';

function correct(pred: ArrayLike<number>, labels: ArrayLike<number>, n: number): Uint8Array {
  if (labels.length < n) throw new Error(`expected at least ${n} labels, found ${labels.length}`);
  return Uint8Array.from({ length: n }, (_, i) => (pred[i] === labels[i] ? 1 : 0));
}

/**
 * The paper's reliability diagrams side by side: the DNN's softmax probability ("Prediction
 * Confidence") and the DkNN's credibility ("Prediction Credibility"), 10 bins, bars = accuracy,
 * line = number of inputs; the p-value formula in the DkNN panel's title.
 */
export function reliabilityComparison(
  pred: DkNNPrediction,
  labels: ArrayLike<number>,
  options: { title?: string; rows?: number } = {},
): Figure {
  const n = options.rows ?? pred.n;
  return reliabilityFigure(
    [
      {
        title: 'DNN softmax',
        diagram: reliabilityBins(pred.dnnConfidence.subarray(0, n), correct(pred.dnnPredictions, labels, n)),
        xLabel: 'Prediction Confidence',
      },
      {
        title: `DkNN (${pred.formula} p-values)`,
        diagram: reliabilityBins(pred.credibility.subarray(0, n), correct(pred.predictions, labels, n)),
        xLabel: 'Prediction Credibility',
      },
    ],
    { title: options.title ?? `Reliability on ${n} inputs` },
  );
}

/** Histogram of the DkNN's credibility for correct vs wrong predictions. */
export function correctWrongHistogram(
  pred: DkNNPrediction,
  labels: ArrayLike<number>,
  options: { title?: string } = {},
): Figure {
  const ok = correct(pred.predictions, labels, pred.n);
  const cred = Array.from(pred.credibility);
  return histogramFigure(
    [
      { name: 'correct', values: cred.filter((_, i) => ok[i] === 1), color: PALETTE.blue },
      { name: 'wrong', values: cred.filter((_, i) => ok[i] === 0), color: PALETTE.red },
    ],
    {
      title: options.title ?? `DkNN credibility (${pred.formula} p-values), correct vs wrong predictions`,
      xLabel: 'Prediction Credibility',
    },
  );
}

/** Overlaid histograms of the DkNN's credibility on several input sets (e.g. clean vs adversarial). */
export function credibilityHistogram(
  sets: { name: string; prediction: DkNNPrediction }[],
  options: { title?: string } = {},
): Figure {
  const formulas = [...new Set(sets.map((s) => s.prediction.formula))].join(' / ');
  return histogramFigure(
    sets.map((s, i) => ({ name: s.name, values: s.prediction.credibility, color: seriesColor(i) })),
    { title: options.title ?? `DkNN credibility (${formulas} p-values)`, xLabel: 'Prediction Credibility' },
  );
}

/** A grid of the first `perClass` images of each class, in class order (`cols` per row; default one row per class), as a PNG. */
export function sampleGrid(
  data: ImageDataset,
  options: { perClass?: number; scale?: number; cols?: number } = {},
): Png {
  const per = options.perClass ?? 10;
  if (data.channels !== 1 && data.channels !== 3)
    throw new Error(`sampleGrid: images must have 1 or 3 channels, found ${data.channels}`);
  const g = imageGrid(
    { images: data.images, height: data.height, width: data.width, channels: data.channels },
    {
      indices: samplePerClass(data.labels, { numClasses: data.numClasses, perClass: per }),
      cols: options.cols ?? per,
      scale: options.scale ?? 2,
    },
  );
  return {
    kind: 'png',
    bytes: encodePng({ pixels: g.pixels, width: g.width, height: g.height, channels: g.channels }),
  };
}
