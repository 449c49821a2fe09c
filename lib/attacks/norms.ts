/** Size of perturbations: per-example L2, L∞ and L1 distances between two flat image sets. */
import type { ImageBatch } from '../data/types';

/** Per-example distances of {@link perturbationNorms}. */
export interface PerturbationNorms {
  l2: Float64Array;
  linf: Float64Array;
  l1: Float64Array;
  n: number;
}

/**
 * ‖adversarial_i − original_i‖ in L2, L∞ and L1 for each of the `n` examples of two flat arrays of
 * equal length (`n` × values per example).
 * @throws when the lengths differ or are not a multiple of n.
 */
export function perturbationNorms(
  originalSet: Pick<ImageBatch, 'images' | 'n'>,
  adversarialSet: Pick<ImageBatch, 'images' | 'n'>,
): PerturbationNorms {
  const { images: original, n } = originalSet;
  const adversarial = adversarialSet.images;
  if (adversarialSet.n !== n)
    throw new Error(`perturbationNorms: ${adversarialSet.n} adversarial images for ${n} originals`);
  if (original.length !== adversarial.length)
    throw new Error(
      `perturbationNorms: expected arrays of equal length, found ${original.length} and ${adversarial.length}`,
    );
  if (!Number.isSafeInteger(n) || n < 0 || (n === 0 ? original.length !== 0 : original.length % n !== 0)) {
    throw new Error(`perturbationNorms: ${original.length} values do not split into n = ${n} examples`);
  }
  const per = n === 0 ? 0 : original.length / n;
  const l2 = new Float64Array(n);
  const linf = new Float64Array(n);
  const l1 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s2 = 0;
    let mx = 0;
    let s1 = 0;
    for (let j = i * per; j < (i + 1) * per; j++) {
      const d = Math.abs(adversarial[j] - original[j]);
      s2 += d * d;
      s1 += d;
      if (d > mx) mx = d;
    }
    l2[i] = Math.sqrt(s2);
    linf[i] = mx;
    l1[i] = s1;
  }
  return { l2, linf, l1, n };
}
