/** Adversarial sets against their sources: how big the perturbations are and what crafting them cost. */
import type { AdversarialSet } from '../attacks/craft';
import { perturbationNorms } from '../attacks/norms';
import type { ImageBatch } from '../data/types';
import { mean } from '../metrics/stats';

/** One adversarial set, summarized. */
export interface AdversarialSetRow {
  /** The attack's label. */
  attack: string;
  images: number;
  /** Crafting time on this engine (as recorded when crafted, for a cached set). */
  seconds: number;
  imagesPerSecond: number;
  cached: boolean;
  /** Mean L2 and L∞ norms of the perturbations against the source images. */
  meanL2: number;
  meanLinf: number;
}

/**
 * A row per adversarial set (see {@link AdversarialSetRow}).
 * @throws when a set does not hold as many images as its source.
 */
export function adversarialSetRows(sets: { set: AdversarialSet; source: ImageBatch }[]): AdversarialSetRow[] {
  return sets.map(({ set, source }) => {
    if (source.n !== set.n)
      throw new Error(`adversarialSetRows: ${set.attack.label} has ${set.n} images, its source ${source.n}`);
    const norms = perturbationNorms(source, set);
    return {
      attack: set.attack.label,
      images: set.n,
      seconds: set.seconds,
      imagesPerSecond: set.n / set.seconds,
      cached: set.cached,
      meanL2: mean(norms.l2),
      meanLinf: mean(norms.linf),
    };
  });
}
