/**
 * What a re-run notebook cell reuses: the last DkNN fitted in this process, and the predictions
 * it made, keyed by everything they depend on (the model's weights, the training and calibration
 * images and labels, the options that change results). Re-running a notebook after changing `k`
 * (up to the k searched), the layers (a subset of those fitted) or the p-value formula then only
 * re-scores (`DkNN.rescore`): no new fit, no new search. One fit is kept, since its indexes hold
 * the training activations; a different fit replaces it.
 */
import { cacheKey, sha256Of } from '../artifacts/keys';
import type { DkNN } from '../dknn/dknn';
import type { DkNNOptions, DkNNPrediction } from '../dknn/types';
import type { ImageBatch } from '../data/types';

interface Kept {
  key: string;
  dknn: DkNN;
  predictions: Map<string, DkNNPrediction>;
}

let kept: Kept | null = null;

/**
 * The key of a set of images (and labels, when it has them): their bytes' sha256 and shape.
 * Hashed on every call, so images changed in place are seen.
 */
export function imagesKey(data: ImageBatch & { labels?: ArrayBufferView }): string {
  const { n, height, width, channels } = data;
  const labels = data.labels ? sha256Of(data.labels) : null;
  return cacheKey({ images: sha256Of(data.images), labels, n, height, width, channels });
}

/**
 * The key of a fit, or null when an option cannot be keyed (an index factory without `describe`):
 * then nothing is reused. Options that change no result (threads, batch sizes, the cache folder,
 * the warning callback) are left out.
 */
export function fitKey(parts: {
  modelHash: string;
  train: ImageBatch;
  calib: ImageBatch;
  options: DkNNOptions;
}): string | null {
  const { index, onWarning: _w, cacheDir: _c, workers: _k, batchSize: _b, queryChunk: _q, ...rest } = parts.options;
  const indexKey = index === undefined || index === 'exact' ? 'exact' : (index.describe?.() ?? null);
  if (indexKey === null) return null;
  try {
    return cacheKey({
      modelHash: parts.modelHash,
      train: imagesKey(parts.train),
      calib: imagesKey(parts.calib),
      index: indexKey,
      options: rest,
    });
  } catch {
    return null; // an option that is not plain data
  }
}

/** The DkNN fitted under `key` earlier in this process, or null. */
export function reusedFit(key: string | null): DkNN | null {
  return key !== null && kept?.key === key ? kept.dknn : null;
}

/** Keeps `dknn` (fitted and calibrated) under `key`, replacing the one kept before. */
export function keepFit(key: string | null, dknn: DkNN): void {
  kept = key === null ? null : { key, dknn, predictions: new Map() };
}

/** The kept DkNN's predictions on `data`, when it made them; else null. */
export function reusedPrediction(dknn: DkNN, data: ImageBatch): DkNNPrediction | null {
  return kept?.dknn === dknn ? (kept.predictions.get(imagesKey(data)) ?? null) : null;
}

/** Keeps `prediction` when `dknn` is the kept DkNN. */
export function keepPrediction(dknn: DkNN, data: ImageBatch, prediction: DkNNPrediction): void {
  if (kept?.dknn === dknn) kept.predictions.set(imagesKey(data), prediction);
}

/** Forgets what was kept (e.g. to free the indexes' memory). */
export function forgetFits(): void {
  kept = null;
}
