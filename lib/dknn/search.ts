/**
 * The DkNN's search of calibration and prediction inputs: chunk by chunk (`queryChunk` inputs,
 * bounded memory), every layer's activations (and the model's output, for the DNN's own
 * prediction) are extracted, preprocessed with the training center and queried in each layer's
 * index.
 */
import { extractActivations, outputLayerName } from '../activations/extract';
import type { LayerNeighborLabels } from '../conformal/nonconformity';
import type { ImageBatch } from '../data/types';
import type { Preprocessor } from '../knn/preprocess';
import type { NeighborIndex } from '../knn/types';
import type { ProgressCallback } from '../util/progress';
import type { ClassifierModel } from '../models/classifier';
import { dnnFromLogits } from './checks';
import type { LayerNeighbors } from './types';

/** One fitted layer: its preprocessing and its index over the training rows. */
export interface FittedLayer {
  name: string;
  dim: number;
  pre: Preprocessor;
  index: NeighborIndex;
}

/** What a search needs of a fitted DkNN. */
export interface SearchSetup {
  model: ClassifierModel;
  fitted: readonly FittedLayer[];
  trainLabels: Int32Array;
  k: number;
  batchSize: number;
  /** Inputs per chunk. */
  queryChunk: number;
  /** Extraction threads of one chunk. */
  workers: number;
}

/** The neighbors found, their labels, the DNN's predictions and the seconds each part took. */
export interface NeighborRun {
  neighbors: LayerNeighbors[];
  labels: LayerNeighborLabels[];
  dnnPredictions: Int32Array;
  dnnConfidence: Float32Array;
  seconds: { extract: number; preprocess: number; query: number };
}

/** Neighbors of every input in every layer, and the DNN's predictions, chunk by chunk. */
export async function searchNeighbors(
  setup: SearchSetup,
  x: ImageBatch,
  stage: 'calibrate' | 'predict',
  onProgress: ProgressCallback | undefined,
): Promise<NeighborRun> {
  const { model, fitted, k, queryChunk } = setup;
  const n = x.n;
  const L = fitted.length;
  const layers = fitted.map((f) => f.name);
  const outName = outputLayerName(model);
  const names = layers.includes(outName) ? [...layers] : [...layers, outName];
  const outSlot = names.indexOf(outName);
  const neighbors: LayerNeighbors[] = fitted.map((f) => ({
    layer: f.name,
    indices: new Int32Array(n * k),
    distances: new Float32Array(n * k),
    rows: n,
    k,
  }));
  const dnnPredictions = new Int32Array(n);
  const dnnConfidence = new Float32Array(n);
  let buffers: Float32Array[] = [];
  const workers = setup.workers;
  let tExtract = 0;
  let tPre = 0;
  let tQuery = 0;
  for (let s = 0; s < n; s += queryChunk) {
    const e = Math.min(n, s + queryChunk);
    const m = e - s;
    let t = performance.now();
    const acts = await extractActivations(model, x, {
      layers: names,
      start: s,
      end: e,
      batchSize: setup.batchSize,
      into: buffers,
      workers,
    });
    if (buffers.length === 0) buffers = acts.layers.map((a) => a.values);
    tExtract += performance.now() - t;
    const out = acts.layers[outSlot];
    dnnFromLogits(out.values, m, out.dim, dnnPredictions, dnnConfidence, s);
    for (let l = 0; l < L; l++) {
      const f = fitted[l];
      const values = acts.layers[l].values;
      t = performance.now();
      f.pre.transform(values, m);
      tPre += performance.now() - t;
      t = performance.now();
      const r = await f.index.query(values, {
        rows: m,
        k,
        // In images: the chunk's start plus this layer's share of the chunk.
        onProgress:
          onProgress &&
          ((d) => d < m && onProgress({ stage, done: s + Math.floor((l * m + d) / L), total: n, unit: 'img' })),
      });
      tQuery += performance.now() - t;
      neighbors[l].indices.set(r.indices, s * k);
      neighbors[l].distances.set(r.distances, s * k);
    }
    onProgress?.({ stage, done: e, total: n, unit: 'img' });
  }
  const labels = neighbors.map((nb) => {
    const lab = new Int32Array(nb.indices.length);
    for (let i = 0; i < lab.length; i++) {
      const j = nb.indices[i];
      lab[i] = j < 0 ? -1 : setup.trainLabels[j];
    }
    return { labels: lab, rows: n, k };
  });
  const seconds = { extract: tExtract / 1000, preprocess: tPre / 1000, query: tQuery / 1000 };
  return { neighbors, labels, dnnPredictions, dnnConfidence, seconds };
}
