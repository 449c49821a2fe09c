import * as tf from '@tensorflow/tfjs';
import { reinitializeKernels } from './initialize';
import { PerImageStandardization } from './standardize';

/** Options of {@link createVggCnn}. */
export interface VggCnnArgs {
  /** Seed of the weight initialization (He normal). Default 1234. */
  seed?: number;
  /** Input height, width and channels. Default 32 × 32 × 3. */
  height?: number;
  width?: number;
  channels?: number;
  /** Number of classes (units of the `logits` layer). Default 10. */
  numClasses?: number;
  /** Filters of the three blocks' convolutions. Default [32, 64, 128]. */
  filters?: [number, number, number];
  /** Units of the hidden dense layer. Default 256. */
  hidden?: number;
  /** Put a {@link PerImageStandardization} layer first. Default true. */
  standardize?: boolean;
}

/** The layers the DkNN reads: each block's pooled output, the hidden dense layer and the logits. */
export const VGG_CNN_DKNN_LAYERS = ['Block1', 'Block2', 'Block3', 'Dense', 'logits'] as const;

/**
 * A small VGG-style network for color images (three blocks of two 3×3 SAME convolutions with
 * bias and ReLU, each block closed by a 2×2 max-pool named `Block1`…`Block3`; Flatten; `Dense`
 * (ReLU); `logits`), optionally behind a per-image standardisation. On 32×32 inputs the DkNN
 * layers are 16×16×32, 8×8×64, 4×4×128, 256 and the classes. Weights start He-normal
 * (N(0, 2 / fan-in), seeded, deterministic on every backend); biases at 0. Outputs logits.
 *
 * Ownership: the caller owns the returned model.
 */
export function createVggCnn(args: VggCnnArgs = {}): tf.LayersModel {
  const {
    seed = 1234,
    height = 32,
    width = 32,
    channels = 3,
    numClasses = 10,
    filters = [32, 64, 128],
    hidden = 256,
    standardize = true,
  } = args;
  const inputShape = [height, width, channels];
  const model = tf.sequential({ name: 'vgg_cnn' });
  if (standardize) model.add(new PerImageStandardization({ name: 'Standardize', inputShape }));
  filters.forEach((f, b) => {
    for (const part of ['a', 'b']) {
      const first = b === 0 && part === 'a' && !standardize;
      model.add(
        tf.layers.conv2d({
          name: `Conv${b + 1}${part}`,
          ...(first ? { inputShape } : {}),
          filters: f,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
        }),
      );
    }
    model.add(tf.layers.maxPooling2d({ name: `Block${b + 1}`, poolSize: 2, strides: 2 }));
  });
  model.add(tf.layers.flatten({ name: 'Flatten' }));
  model.add(tf.layers.dense({ name: 'Dense', units: hidden, activation: 'relu' }));
  model.add(tf.layers.dense({ name: 'logits', units: numClasses }));
  initializeHeNormal(model, seed);
  return model;
}

/** Sets every kernel of `model` to N(0, 2 / fan-in) from a seeded generator and every bias to 0. */
export function initializeHeNormal(model: tf.LayersModel, seed: number): void {
  reinitializeKernels(model, seed, (values, shape, rng) => {
    const sd = Math.sqrt(2 / (values.length / shape[shape.length - 1]!));
    for (let j = 0; j < values.length; j++) values[j] = sd * rng.normal();
  });
}
