import type { LabeledImages } from '../../lib/data/types';
import { createRng } from '../../lib/util/random';

/** Two separable blobs drawn as images: class 0 bright top half, class 1 bright bottom half. */
export function toyImages(n: number, seed: number): LabeledImages {
  const rng = createRng(seed);
  const images = new Float32Array(n * 28 * 28);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    for (let p = 0; p < 784; p++) {
      const top = p < 392;
      images[i * 784 + p] = Math.min(1, Math.max(0, (top === (labels[i] === 0) ? 0.7 : 0.1) + 0.2 * rng.normal()));
    }
  }
  return { images, labels, n, height: 28, width: 28, channels: 1, numClasses: 10 };
}
