/** Tiny fixtures shared by the DkNN, experiment, summary and gallery tests. */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../lib/util/random';
import type { ImageDataset } from '../../lib/data/types';
import type { DkNNPrediction } from '../../lib/dknn/types';

/** A tiny dense network on 4×4×1 images with three named layers ('flat', 'hidden', 'logits') and seeded weights. */
export function tinyModel(seed: number): tf.LayersModel {
  const m = tf.sequential({ name: `tiny_${seed}` });
  m.add(tf.layers.flatten({ name: 'flat', inputShape: [4, 4, 1] }));
  m.add(
    tf.layers.dense({
      name: 'hidden',
      units: 8,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotNormal({ seed }),
    }),
  );
  m.add(
    tf.layers.dense({ name: 'logits', units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }),
  );
  return m;
}

/** Three classes of 4×4 images: class c lights the pixels p with p % 3 === c, plus Gaussian noise. */
export function blobs(n: number, seed: number, noise = 0.45): ImageDataset {
  const rng = createRng(seed);
  const images = new Float32Array(n * 16);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = (i * 7 + seed) % 3;
    for (let p = 0; p < 16; p++) images[i * 16 + p] = (p % 3 === labels[i] ? 1 : 0) + noise * rng.normal();
  }
  return {
    images,
    labels,
    n,
    height: 4,
    width: 4,
    channels: 1,
    numClasses: 3,
    classNames: ['left', 'middle', 'right'],
    name: `blobs-${seed}`,
    checksums: {},
  };
}

/**
 * A hand-made prediction of `n` inputs over 3 classes and one layer of k neighbors: `rows` gives
 * per input [label-independent] prediction, credibility, DNN prediction, DNN confidence.
 */
export function fakePrediction(
  rows: { pred: number; cred: number; dnn: number; dnnConf: number; conf?: number; neighbors?: number[] }[],
  k = 3,
): DkNNPrediction {
  const n = rows.length;
  const indices = new Int32Array(n * k).fill(-1);
  const distances = new Float32Array(n * k).fill(Infinity);
  rows.forEach((r, i) =>
    (r.neighbors ?? []).forEach((t, j) => {
      indices[i * k + j] = t;
      distances[i * k + j] = t < 0 ? Infinity : 0.1 * (j + 1);
    }),
  );
  return {
    predictions: Int32Array.from(rows, (r) => r.pred),
    credibility: Float64Array.from(rows, (r) => r.cred),
    confidence: Float64Array.from(rows, (r) => r.conf ?? 1),
    pValues: new Float64Array(n * 3),
    nonconformity: new Int32Array(n * 3),
    knnCounts: new Int32Array(n * 3),
    neighbors: [{ layer: 'hidden', indices, distances, rows: n, k }],
    missingNeighbors: 0,
    dnnPredictions: Int32Array.from(rows, (r) => r.dnn),
    dnnConfidence: Float32Array.from(rows, (r) => r.dnnConf),
    n,
    numClasses: 3,
    formula: 'reference',
  };
}
