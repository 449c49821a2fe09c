/**
 * Seeded synthetic data for tests, benchmarks and demonstrations of the kNN indexes: points around
 * Gaussian cluster centres, optionally ReLU-clipped like hidden-layer activations.
 */

import { createRng } from '../util/random';

/** Options of {@link gaussianClusters}. */
export interface GaussianClustersOptions {
  /** Standard deviation around a centre. Default 0.5. */
  spread?: number;
  /** Centres to reuse (`clusters × dim`, e.g. queries from the database's clusters); default: drawn N(0, 1). */
  centres?: Float32Array;
  /** Clip values at 0 (like ReLU activations). Default false. */
  relu?: boolean;
}

/**
 * `rows × dim` points, each around one of `clusters` centres chosen uniformly: centre + spread·N(0, 1)
 * per coordinate. Same arguments → same values.
 * @returns the points and the centres (pass them back to draw queries from the same clusters)
 * @throws RangeError for sizes that are not positive integers or centres of the wrong length.
 */
export function gaussianClusters(rows: number, dim: number, clusters: number, seed: number, options: GaussianClustersOptions = {}): { x: Float32Array; centres: Float32Array } {
  for (const [name, v] of [['rows', rows], ['dim', dim], ['clusters', clusters]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`gaussianClusters: ${name} must be a positive integer, found ${v}`);
  }
  const { spread = 0.5, centres, relu = false } = options;
  if (centres && centres.length !== clusters * dim) throw new RangeError(`gaussianClusters: centres must hold clusters × dim = ${clusters * dim} values, found ${centres.length}`);
  const rng = createRng(seed);
  const c = centres ?? Float32Array.from({ length: clusters * dim }, () => rng.normal());
  const x = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const o = rng.int(clusters) * dim;
    for (let j = 0; j < dim; j++) {
      const v = c[o + j] + spread * rng.normal();
      x[r * dim + j] = relu && v < 0 ? 0 : v;
    }
  }
  return { x, centres: c };
}
