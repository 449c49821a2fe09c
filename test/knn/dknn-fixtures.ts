/** A tiny model and data for DkNN tests with approximate indexes. */

import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../lib/util/random';
import type { LabeledImages } from '../../lib/data/types';

/** A tiny dense network on 4×4×1 images with layers 'flat' (16), 'hidden' (8), 'logits' (3). */
export function tinyModel(seed: number): tf.LayersModel {
  const m = tf.sequential({ name: `tiny_lsh_${seed}` });
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

/** n images of 3 classes: class c lights up pixels p ≡ c (mod 3), plus N(0, 0.45²) noise. */
export function blobs(n: number, seed: number): LabeledImages {
  const rng = createRng(seed);
  const images = new Float32Array(n * 16);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < 16; p++) images[i * 16 + p] = (p % 3 === labels[i] ? 1 : 0) + 0.45 * rng.normal();
  }
  return { images, labels, n, height: 4, width: 4, channels: 1, numClasses: 3 };
}
