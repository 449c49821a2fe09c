/** Tables the notebooks show: data sets, models, training epochs, DkNN configurations, adversarial sets. */
import type * as tf from '@tensorflow/tfjs';
import type { AdversarialSet } from '../attacks/craft';
import { adversarialSetRows } from '../analysis/adversarial';
import { classCounts } from '../data/datasets';
import type { DkNN } from '../dknn/dknn';
import { modelSummary } from '../models/zoo';
import { html, type Html } from './html';
import { tableHtml, type TableInput } from './table';
import type { ImageBatch, ImageDataset } from '../data/types';
import type { DkNNPrediction } from '../dknn/types';
import type { EpochRecord } from '../training/types';

/** Any rows (or a danfo.js DataFrame) as a displayable HTML table. */
export function table(rows: TableInput, options: { caption?: string; digits?: number } = {}): Html {
  return html(tableHtml(rows, options));
}

/** Images per class of each set, columns named by the sets' class names. */
export function classCountTable(
  sets: { name: string; data: ImageDataset }[],
  options: { caption?: string } = {},
): Html {
  return table(
    sets.map((s) => ({
      split: s.name,
      images: s.data.n,
      ...Object.fromEntries(classCounts(s.data).map((c, i) => [s.data.classNames[i] ?? String(i), c])),
    })),
    { caption: options.caption ?? 'Images per class' },
  );
}

/** The model's layers, output shapes and parameter counts. */
export function modelSummaryTable(model: tf.LayersModel, options: { caption?: string } = {}): Html {
  return table(modelSummary(model), { caption: options.caption ?? `${model.name}: ${model.countParams()} parameters` });
}

/** Loss, accuracies, time and throughput per training epoch. */
export function epochTable(epochs: EpochRecord[], options: { caption?: string } = {}): Html {
  return table(
    epochs.map((e) => ({
      epoch: e.epoch,
      'train loss': e.loss,
      'train accuracy': e.accuracy,
      'test accuracy': e.evalAccuracy,
      seconds: e.seconds,
      'img/s': Math.round(e.imagesPerSecond),
    })),
    { caption: options.caption ?? 'Per epoch' },
  );
}

/** A fitted and calibrated DkNN's configuration: layers, dims, k, index, p-value formula, calibration size. */
export function dknnConfigTable(dknn: DkNN, pred?: DkNNPrediction, options: { caption?: string } = {}): Html {
  const info = dknn.info();
  return table(
    [
      {
        layers: info.layers.join(', '),
        dims: info.dims.join(', '),
        k: info.k,
        index: `${info.index}${info.indexBackend ? ` (${info.indexBackend})` : ''}`,
        formula: info.formula,
        'calibration scores kept': `${info.calibrationSize} of ${info.calibrationN}`,
        'training points': info.trainN,
        ...(pred ? { 'missing neighbors': pred.missingNeighbors } : {}),
        'activation cache':
          info.cache.dir === false
            ? 'off'
            : `${info.cache.hits.length} layer(s) read, ${info.cache.written.length} written`,
      },
    ],
    { caption: options.caption ?? 'DkNN configuration' },
  );
}

/** For each adversarial set: its attack, size, crafting time and mean perturbation norms against its source images. */
export function adversarialSetTable(
  sets: { set: AdversarialSet; source: ImageBatch }[],
  options: { caption?: string } = {},
): Html {
  return table(
    adversarialSetRows(sets).map((r) => ({
      attack: r.attack,
      images: r.images,
      seconds: r.seconds,
      'images/s': r.imagesPerSecond,
      cached: r.cached ? 'yes' : 'no',
      'mean L2': r.meanL2,
      'mean L∞': r.meanLinf,
    })),
    {
      caption: options.caption ?? 'Adversarial sets (seconds = crafting time on this engine, as recorded when crafted)',
      digits: 3,
    },
  );
}
