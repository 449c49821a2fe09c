/**
 * Seeded synthetic data for tests, benchmarks and demonstrations of the kNN indexes: points around
 * Gaussian cluster centers, optionally ReLU-clipped like hidden-layer activations.
 */

import { createRng } from '../util/random';

/** Options of {@link gaussianClusters}. */
export interface GaussianClustersOptions {
  /** Points. */
  rows: number;
  /** Values per point. */
  dim: number;
  /** Clusters (the points are spread over them in turn). */
  clusters: number;
  /** Seed of the generator. */
  seed: number;
  /** Standard deviation around a center. Default 0.5. */
  spread?: number;
  /** Centers to reuse (`clusters × dim`, e.g. queries from the database's clusters); default: drawn N(0, 1). */
  centers?: Float32Array;
  /** Clip values at 0 (like ReLU activations). Default false. */
  relu?: boolean;
}

/**
 * `rows × dim` points, each around one of `clusters` centers chosen uniformly: center + spread·N(0, 1)
 * per coordinate. Same arguments → same values.
 * @returns the points and the centers (pass them back to draw queries from the same clusters)
 * @throws RangeError for sizes that are not positive integers or centers of the wrong length.
 */
export function gaussianClusters(options: GaussianClustersOptions): { x: Float32Array; centers: Float32Array } {
  const { rows, dim, clusters, seed } = options;
  for (const [name, v] of [['rows', rows], ['dim', dim], ['clusters', clusters]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`gaussianClusters: ${name} must be a positive integer, found ${v}`);
  }
  const { spread = 0.5, centers, relu = false } = options;
  if (centers && centers.length !== clusters * dim) throw new RangeError(`gaussianClusters: centers must hold clusters × dim = ${clusters * dim} values, found ${centers.length}`);
  const rng = createRng(seed);
  const c = centers ?? Float32Array.from({ length: clusters * dim }, () => rng.normal());
  const x = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const o = rng.int(clusters) * dim;
    for (let j = 0; j < dim; j++) {
      const v = c[o + j] + spread * rng.normal();
      x[r * dim + j] = relu && v < 0 ? 0 : v;
    }
  }
  return { x, centers: c };
}
