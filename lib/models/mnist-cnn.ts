import * as tf from '@tensorflow/tfjs';
import { reinitializeKernels } from './initialize';
import { PerImageStandardization } from './standardize';

/** Options of {@link createMnistCnn}. */
export interface MnistCnnArgs {
  /** Seed of the weight initialization (Gaussian, unit-norm filters). Default 1234. */
  seed?: number;
  /** Input height. Default 28. */
  height?: number;
  /** Input width. Default 28. */
  width?: number;
  /** Input channels. Default 1. */
  channels?: number;
  /** Number of classes (units of the `logits` layer). Default 10. */
  numClasses?: number;
  /** Filters of the first conv layer (CleverHans `nb_filters`). Default 64. */
  filters?: number;
  /**
   * Put a {@link PerImageStandardization} layer (`Standardize`) before the first conv, so each
   * image reaches it with zero mean and unit variance (robust to the lighting of photographs).
   * Default false (the reference's network).
   */
  standardize?: boolean;
}

/** The layers the DkNN reads in the reference: the three ReLUs and the logits. */
export const MNIST_CNN_DKNN_LAYERS = ['ReLU1', 'ReLU3', 'ReLU5', 'logits'] as const;

/**
 * The CleverHans `make_basic_picklable_cnn` MNIST network, layer for layer:
 * Conv2D 64 8×8 /2 SAME → ReLU1 → Conv2D 128 6×6 /2 VALID → ReLU3 → Conv2D 128 5×5 /1 VALID →
 * ReLU5 → Flatten → Dense 10 (`logits`). Convs have no bias; every conv filter and every dense
 * column starts as a Gaussian normalized to unit L2 norm (as CleverHans `Conv2D`/`Linear`); the
 * dense bias starts at 0. The model outputs **logits**: apply `tf.softmax` for probabilities
 * (the reference's final Softmax layer has no weights).
 *
 * Ownership: the caller owns the returned model (dispose it with `model.dispose()`).
 */
export function createMnistCnn(args: MnistCnnArgs = {}): tf.LayersModel {
  const {
    seed = 1234,
    height = 28,
    width = 28,
    channels = 1,
    numClasses = 10,
    filters = 64,
    standardize = false,
  } = args;
  const model = tf.sequential({ name: 'mnist_cnn' });
  const inputShape = [height, width, channels];
  if (standardize) model.add(new PerImageStandardization({ name: 'Standardize', inputShape }));
  model.add(
    tf.layers.conv2d({
      name: 'Conv2D0',
      ...(standardize ? {} : { inputShape }),
      filters,
      kernelSize: 8,
      strides: 2,
      padding: 'same',
      useBias: false,
    }),
  );
  model.add(tf.layers.reLU({ name: 'ReLU1' }));
  model.add(
    tf.layers.conv2d({
      name: 'Conv2D2',
      filters: 2 * filters,
      kernelSize: 6,
      strides: 2,
      padding: 'valid',
      useBias: false,
    }),
  );
  model.add(tf.layers.reLU({ name: 'ReLU3' }));
  model.add(
    tf.layers.conv2d({
      name: 'Conv2D4',
      filters: 2 * filters,
      kernelSize: 5,
      strides: 1,
      padding: 'valid',
      useBias: false,
    }),
  );
  model.add(tf.layers.reLU({ name: 'ReLU5' }));
  model.add(tf.layers.flatten({ name: 'Flatten6' }));
  model.add(tf.layers.dense({ name: 'logits', units: numClasses, useBias: true }));
  initializeUnitNorm(model, seed);
  return model;
}

/**
 * Re-initialises every kernel of `model` CleverHans-style from a seeded Gaussian: each output unit's
 * weights (a conv filter over [kh, kw, cin], a dense column over its inputs) divided by
 * sqrt(1e-7 + its squared L2 norm). Biases are set to 0. Deterministic for a seed on every backend.
 */
export function initializeUnitNorm(model: tf.LayersModel, seed: number): void {
  reinitializeKernels(model, seed, (values, shape, rng) => {
    const outUnits = shape[shape.length - 1];
    for (let j = 0; j < values.length; j++) values[j] = rng.normal();
    // Last axis = output unit; normalize over all other axes.
    const norms = new Float64Array(outUnits);
    for (let j = 0; j < values.length; j++) norms[j % outUnits] += values[j] * values[j];
    for (let j = 0; j < values.length; j++) values[j] /= Math.sqrt(1e-7 + norms[j % outUnits]);
  });
}
