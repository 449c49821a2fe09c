/**
 * The DkNN-level effect of an approximate nearest-neighbor index: the same model, training images,
 * calibration and evaluation inputs, one DkNN per index, each compared with the first (the exact
 * index): fraction of identical predictions, credibility changes, recall of the neighbors per
 * layer, accuracy, missing neighbors, build and query seconds. Used by notebook 04 and
 * `npm run bench -- dknn-backends`.
 *
 * One DkNN lives at a time (each holds every layer's index); only predictions and `info()` are kept.
 */

import type * as tf from '@tensorflow/tfjs';
import { DkNN } from './dknn';
import { agreement, recallAtK, type Agreement } from '../knn/compare';
import { accuracy } from '../metrics/classification';
import type { ProgressCallback } from '../util/progress';
import type { LabeledImages } from '../data/types';
import type { DkNNPrediction, DkNNInfo, DkNNOptions } from './types';

/** One index to compare. */
export interface IndexConfig {
  /** Short key, e.g. 'exact', 'lsh-paper'. */
  key: string;
  /** Human description for tables. */
  label: string;
  index: NonNullable<DkNNOptions['index']>;
}

/** One DkNN run. */
export interface IndexRun {
  key: string;
  label: string;
  prediction: DkNNPrediction;
  info: DkNNInfo;
  /** Wall seconds of fit, calibrate and predict. */
  seconds: number;
}

/** One row of the comparison (against the first run). */
export interface IndexComparisonRow {
  key: string;
  label: string;
  accuracy: number;
  meanCredibility: number;
  agreement: Agreement;
  /** Recall@k of the evaluation inputs' neighbors against the first run's, per layer. */
  recall: number[];
  /** Missing neighbor slots, evaluation inputs, all layers. */
  missingNeighbors: number;
  /** Seconds building the indexes (all layers). */
  buildSeconds: number;
  /** Seconds querying the indexes (calibration + evaluation). */
  querySeconds: number;
  /** Wall seconds of the whole run. */
  seconds: number;
}

/** Options of {@link compareIndexes}. */
export interface CompareIndexesOptions extends Omit<DkNNOptions, 'index'> {
  /** The training, calibration and evaluation sets every DkNN runs on. */
  data: { train: LabeledImages; calib: LabeledImages; eval: LabeledImages };
  /** The indexes, the first the reference (normally exact). */
  configs: IndexConfig[];
  /** A progress callback per run and stage (e.g. a new notebook bar each), or none. */
  progress?: (key: string) => ProgressCallback | undefined;
  /** Called after each run (e.g. to print or record its timings). */
  onRun?: (run: IndexRun) => void;
}

/**
 * Runs one DkNN per config on the same data; the first config is the reference (normally exact).
 * @throws RangeError when no config is given or two share a key.
 */
export async function compareIndexes(
  model: tf.LayersModel,
  options: CompareIndexesOptions,
): Promise<{ runs: IndexRun[]; rows: IndexComparisonRow[] }> {
  const { progress, onRun, data, configs, ...dknnOptions } = options;
  if (configs.length === 0)
    throw new RangeError('compareIndexes: expected at least one index config (the first is the reference), found none');
  const keys = new Set<string>();
  for (const c of configs) {
    if (keys.has(c.key))
      throw new RangeError(`compareIndexes: index config keys must be unique, found ${JSON.stringify(c.key)} twice`);
    keys.add(c.key);
  }
  const runs: IndexRun[] = [];
  for (const c of configs) {
    const t0 = performance.now();
    const d = new DkNN(model, { ...dknnOptions, index: c.index });
    await d.fit(data.train, { onProgress: progress?.(c.key) });
    await d.calibrate(data.calib, { onProgress: progress?.(c.key) });
    const prediction = await d.predict(data.eval, { onProgress: progress?.(c.key) });
    const run: IndexRun = {
      key: c.key,
      label: c.label,
      prediction,
      info: d.info(),
      seconds: (performance.now() - t0) / 1000,
    };
    runs.push(run);
    onRun?.(run);
  }
  const ref = runs[0].prediction;
  const labels = data.eval.labels;
  const rows = runs.map((r): IndexComparisonRow => {
    const p = r.prediction;
    const t = r.info.timings;
    let cred = 0;
    for (let i = 0; i < p.n; i++) cred += p.credibility[i];
    return {
      key: r.key,
      label: r.label,
      accuracy: accuracy(p.predictions, labels),
      meanCredibility: p.n ? cred / p.n : 0,
      agreement: agreement(ref, p),
      recall: p.neighbors.map((nb, l) => recallAtK(nb, ref.neighbors[l])),
      missingNeighbors: p.missingNeighbors,
      buildSeconds: t.fit.index,
      querySeconds: t.calibrate.query + t.predict.query,
      seconds: r.seconds,
    };
  });
  return { runs, rows };
}
