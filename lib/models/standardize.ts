/**
 * `PerImageStandardization`: a weightless Keras-style layer that maps every image to zero mean and
 * unit variance over all its values (height × width × channels), as TensorFlow's
 * `tf.image.per_image_standardization`: y = (x − mean) / max(std, 1/√N), N values per image.
 *
 * Inside the model (not a data transform) so that inputs, the attacks' [0, 1] box and the DkNN all
 * stay in pixel space, and gradients flow through it. Registered with tfjs' serialization on
 * import of this module, so `tf.loadLayersModel` reads a model holding it once dknn-ts is loaded.
 */
import * as tf from '@tensorflow/tfjs';

export class PerImageStandardization extends tf.layers.Layer {
  static className = 'PerImageStandardization';

  constructor(args: { name?: string; inputShape?: number[] } = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => standardizeImages(Array.isArray(inputs) ? inputs[0] : inputs));
  }
}
tf.serialization.registerClass(PerImageStandardization);

/** `(x − mean) / max(std, 1/√N)` per image of an NHWC (or any rank ≥ 2, batch first) tensor. */
export function standardizeImages(x: tf.Tensor): tf.Tensor {
  if (x.rank < 2) throw new Error(`standardizeImages: expected a batch of images (rank ≥ 2), found rank ${x.rank}`);
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
  const n = x.size / x.shape[0];
  const { mean, variance } = tf.moments(x, axes, true);
  const scale = tf.maximum(tf.sqrt(variance), 1 / Math.sqrt(n));
  return tf.div(tf.sub(x, mean), scale);
}
