/** A model's logits, predictions and accuracy on a set of images, batch by batch. */
import * as tf from '@tensorflow/tfjs';
import type { ImageBatch, LabeledImages } from '../data/types';
import { logitsModel } from './logits';

/**
 * Predicts logits for `n` images in batches (the input of a softmax or sigmoid head, see {@link logitsModel}). Returns a fresh Float32Array [n × classes]; no
 * tensor outlives the call.
 */
export function predictLogits(
  given: tf.LayersModel,
  data: ImageBatch,
  options: { batchSize?: number } = {},
): Float32Array {
  const model = logitsModel(given);
  const batchSize = options.batchSize ?? 500;
  const pixels = data.height * data.width * data.channels;
  const classes = (model.outputs[0].shape[1] as number) ?? 0;
  const out = new Float32Array(data.n * classes);
  for (let start = 0; start < data.n; start += batchSize) {
    const end = Math.min(data.n, start + batchSize);
    const logits = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(start * pixels, end * pixels), [
        end - start,
        data.height,
        data.width,
        data.channels,
      ]);
      return model.predict(x) as tf.Tensor;
    });
    out.set(logits.dataSync(), start * classes);
    logits.dispose();
  }
  return out;
}

/** Index of the largest value in each row of a row-major [rows × cols] array (lowest index on ties). */
export function argmaxRows(values: Float32Array, cols: number): Int32Array {
  const rows = values.length / cols;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** Fraction of `data` the model classifies correctly. */
export function evaluateAccuracy(
  model: tf.LayersModel,
  data: LabeledImages,
  options: { batchSize?: number } = {},
): number {
  const logits = predictLogits(model, data, options);
  const pred = argmaxRows(logits, data.n > 0 ? logits.length / data.n : 1);
  let correct = 0;
  for (let i = 0; i < data.n; i++) if (pred[i] === data.labels[i]) correct++;
  return correct / data.n;
}

/** The size of the model's (single) output: its number of classes. @throws when it is not known. */
export function outputUnits(model: tf.LayersModel): number {
  const shape = model.outputs[0].shape;
  const units = shape[shape.length - 1];
  if (typeof units !== 'number')
    throw new Error(
      `the model's output shape [${shape.join(', ')}] has no known class count; give the data's numClasses`,
    );
  return units;
}
