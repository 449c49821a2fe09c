/** A model's weights as named float32 arrays: copy out, copy in, and hash them. */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';

/** One named float32 weight array (a model variable, or an optimizer slot in a checkpoint). */
export interface StoredTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** A saved model or weights file that is not one, is damaged, or does not fit the model. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

/** Copies every weight of `model` out of the engine (names are the variables' original names). */
export function modelTensors(model: tf.LayersModel): StoredTensor[] {
  return model.weights.map((w) => {
    const value = w.read();
    return { name: w.originalName, shape: value.shape.slice(), values: new Float32Array(value.dataSync()) };
  });
}

/** Sets `model`'s weights from stored tensors, matched by name; every weight must be present with its shape. */
export function loadModelTensors(model: tf.LayersModel, tensors: StoredTensor[], source = 'weights'): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const w of model.weights) {
    const stored = byName.get(w.originalName);
    if (!stored) {
      throw new ModelFormatError(
        `${source}: no tensor named ${w.originalName}; found ${[...byName.keys()].join(', ')}`,
      );
    }
    if (stored.shape.join('x') !== w.shape.join('x')) {
      throw new ModelFormatError(`${source}: ${w.originalName} expected shape [${w.shape}], found [${stored.shape}]`);
    }
  }
  tf.tidy(() => {
    for (const w of model.weights) {
      const stored = byName.get(w.originalName)!;
      w.write(tf.tensor(stored.values, stored.shape, 'float32'));
    }
  });
}

/** sha256 (hex) of a model's weights, in declaration order: the key of every cache derived from the model. */
export function modelHash(model: tf.LayersModel): string {
  const h = createHash('sha256');
  for (const t of modelTensors(model)) {
    h.update(`${t.name}:${t.shape.join('x')};`);
    h.update(new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength));
  }
  return h.digest('hex');
}
