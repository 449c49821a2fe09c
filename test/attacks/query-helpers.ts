/** Fixtures of the tests of the attacks that need no gradients: models as plain score functions with known answers. */
import * as tf from '@tensorflow/tfjs';
import type { ImageBatch, LabeledImages } from '../../lib/data/types';
import type { QueryFn, Scores } from '../../lib/attacks/query';
import { createRng } from '../../lib/util/random';
import { blobs, tinyModel } from '../helpers/tiny';

/**
 * A 2-class linear model on 4×4×1 images: f(x) = Σ sᵢ (xᵢ − 0.5) with signs sᵢ = ±1, scores
 * [f, −f] (class 0 when f ≥ 0). Its smallest L∞ change of class from x is f(x) / ‖s‖₁ = f(x) / 16.
 */
export const LINEAR_SIGNS = Int8Array.from({ length: 16 }, (_, i) => ((i * 5) % 3 === 0 ? -1 : 1));

export function linearScores(batch: ImageBatch): Float32Array {
  const out = new Float32Array(batch.n * 2);
  for (let r = 0; r < batch.n; r++) {
    let f = 0;
    for (let i = 0; i < 16; i++) f += LINEAR_SIGNS[i] * (batch.images[r * 16 + i] - 0.5);
    out[2 * r] = f;
    out[2 * r + 1] = -f;
  }
  return out;
}

/**
 * n 4×4×1 images of class 0 whose smallest L∞ distance to the linear model's boundary is `u`
 * (x = 0.5 + u·s + r with r ⟂ s, |rᵢ| ≤ 0.1: the box [0, 1] is far for u ≤ 0.2).
 */
export function linearImages(n: number, u: number, seed: number): ImageBatch {
  const rng = createRng(seed);
  const images = new Float32Array(n * 16);
  for (let k = 0; k < n; k++) {
    const r = Array.from({ length: 16 }, () => 0.1 * (2 * rng.next() - 1));
    const along = r.reduce((s, v, i) => s + v * LINEAR_SIGNS[i], 0) / 16;
    for (let i = 0; i < 16; i++)
      images[k * 16 + i] = 0.5 + u * LINEAR_SIGNS[i] + 0.5 * (r[i] - along * LINEAR_SIGNS[i]);
  }
  return { images, n, height: 4, width: 4, channels: 1 };
}

/** `model` wrapped to count the images it scores and the calls. */
export function counting(model: QueryFn): { fn: QueryFn; images: number; calls: number } {
  const c = {
    images: 0,
    calls: 0,
    fn: (b: ImageBatch) => {
      c.images += b.n;
      c.calls++;
      return model(b);
    },
  };
  return c;
}

/** The tiny dense model of test/helpers trained briefly on 3-class blobs (clean accuracy well above chance). */
export async function trainedTiny(): Promise<{ model: tf.LayersModel; train: LabeledImages; test: LabeledImages }> {
  const train = blobs(240, 11, 0.3);
  const test = blobs(60, 12, 0.3);
  const model = tinyModel(3);
  const xs = tf.tensor4d(train.images, [train.n, 4, 4, 1]);
  const ys = tf.oneHot(tf.tensor1d(Int32Array.from(train.labels), 'int32'), 3);
  const optimizer = tf.train.adam(0.05);
  for (let step = 0; step < 60; step++)
    optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs) as tf.Tensor) as tf.Scalar);
  tf.dispose([xs, ys]);
  optimizer.dispose();
  return { model, train, test };
}

/** The labels a scores array gives (argmax, lowest class on ties). */
export function argmaxOf(scores: Scores, classes: number): number[] {
  return Array.from({ length: scores.length / classes }, (_, r) => {
    let b = 0;
    for (let j = 1; j < classes; j++) if (scores[r * classes + j] > scores[r * classes + b]) b = j;
    return b;
  });
}

/** Fraction of `pred` equal to `labels`. */
export function agreement(pred: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += Number(pred[i] === labels[i]);
  return s / pred.length;
}

/** Largest |a − b| and the smallest and largest value of `a`. */
export function spread(a: Float32Array, b: Float32Array): { linf: number; min: number; max: number } {
  let linf = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < a.length; i++) {
    linf = Math.max(linf, Math.abs(a[i] - b[i]));
    min = Math.min(min, a[i]);
    max = Math.max(max, a[i]);
  }
  return { linf, min, max };
}
