/** Seeded weight initialization shared by the model-zoo architectures (`mnist-cnn.ts`, `vgg-cnn.ts`). */
import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '../util/random';

/**
 * Sets the weights of every layer of `model` from one seeded generator, layer by layer: its
 * kernel (first weight) filled by `fillKernel`, every other weight (biases) 0.
 */
export function reinitializeKernels(
  model: tf.LayersModel,
  seed: number,
  fillKernel: (values: Float32Array, shape: number[], rng: Rng) => void,
): void {
  const rng = createRng(seed);
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const fresh = weights.map((w, i) => {
      const values = new Float32Array(w.size);
      if (i === 0) fillKernel(values, w.shape, rng);
      return tf.tensor(values, w.shape, 'float32');
    });
    layer.setWeights(fresh);
    fresh.forEach((t) => t.dispose());
  }
}
