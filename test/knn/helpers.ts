/** Shared fixtures of the kNN tests: seeded data and a naive brute-force twin. */

import { gaussianClusters } from '../../lib/data/synthetic';

/** mulberry32: deterministic uniform numbers in [0, 1). */
export function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `rows × dim` uniform values in [-1, 1). */
export function randomMatrix(rows: number, dim: number, seed: number): Float32Array {
  const u = uniform(seed);
  return Float32Array.from({ length: rows * dim }, () => 2 * u() - 1);
}

/** Naive exact kNN: Σ(q − x)² in float64 for every pair, full sort by (distance, index). */
export function bruteForce(
  data: Float32Array,
  n: number,
  dim: number,
  queries: Float32Array,
  rows: number,
  k: number,
): { indices: number[][]; distances: number[][] } {
  const indices: number[][] = [];
  const distances: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const d: number[] = [];
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const t = queries[r * dim + j] - data[i * dim + j];
        s += t * t;
      }
      d.push(s);
    }
    const order = d.map((_, i) => i).sort((a, b) => d[a] - d[b] || a - b);
    indices.push(order.slice(0, k));
    distances.push(order.slice(0, k).map((i) => d[i]));
  }
  return { indices, distances };
}

/** Row `r` of a flat `rows × k` array as a plain array. */
export function rowOf<T extends Int32Array | Float32Array>(a: T, r: number, k: number): number[] {
  return Array.from(a.subarray(r * k, (r + 1) * k));
}

/** Seeded points around `clusters` N(0, 1) centers, spread `spread` (pass the centers back to draw queries from the same clusters). */
export function clustered(
  rows: number,
  dim: number,
  clusters: number,
  seed: number,
  spread = 0.3,
  centers?: Float32Array,
): { x: Float32Array; centers: Float32Array } {
  return gaussianClusters({ rows, dim, clusters, seed, spread, centers });
}

/**
 * `rows × dim` points each at a center drawn uniformly from `centers` (clusters × dim) plus uniform
 * noise of width `width`, all from the stream `u` (which the caller may keep drawing from).
 */
export function tightClusters(
  rows: number,
  dim: number,
  centers: Float32Array,
  u: () => number,
  width = 0.05,
): Float32Array {
  const clusters = centers.length / dim;
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    const c = Math.floor(u() * clusters);
    for (let j = 0; j < dim; j++) data[i * dim + j] = centers[c * dim + j] + width * (u() - 0.5);
  }
  return data;
}
