import type { KnnResult, MatrixShape, NeighborIndex, QueryOptions } from '../lib/knn/types';
import { naiveKnn } from './knn-exact';

/**
 * The plain-JS brute force as a `NeighborIndex` (Σ(q − x)² for every pair, then a full sort): the
 * in-run baseline of the DkNN's kNN stage. Same neighbors as the exact index (ties aside), only slow.
 */
export class NaiveIndex implements NeighborIndex {
  private data: Float32Array | null = null;
  size = 0;
  dim = 0;

  async build(data: Float32Array, { rows, dim }: MatrixShape): Promise<void> {
    this.data = data;
    this.size = rows;
    this.dim = dim;
  }

  async query(queries: Float32Array, { rows, k }: QueryOptions): Promise<KnnResult> {
    if (!this.data) throw new Error('NaiveIndex: call build before query');
    const indices = naiveKnn(this.data, this.size, this.dim, queries, rows, k);
    const distances = new Float32Array(rows * k);
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < k; t++) {
        const i = indices[r * k + t];
        let s = 0;
        for (let j = 0; j < this.dim; j++) {
          const d = queries[r * this.dim + j] - this.data[i * this.dim + j];
          s += d * d;
        }
        distances[r * k + t] = s;
      }
    }
    return { indices, distances, rows, k };
  }
}
