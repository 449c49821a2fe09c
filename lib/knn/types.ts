/**
 * The contract every nearest-neighbor index in `lib/knn/` follows (exact, LSH, HNSW): a tiny
 * hnswlib-like API over flat row-major Float32Arrays, with one result shape.
 */

/**
 * Neighbors of a batch of queries, row-major: the neighbors of query `r` are
 * `indices[r * k … r * k + k - 1]`, nearest first.
 */
export interface KnnResult {
  /** `rows × k` database row indices; -1 marks a missing neighbor (an approximate index found fewer than k). */
  indices: Int32Array;
  /** `rows × k` squared Euclidean distances, ascending within a row; `Infinity` where the index is -1. */
  distances: Float32Array;
  /** Number of queries. */
  rows: number;
  /** Neighbors per query. */
  k: number;
}

/** The shape of a row-major matrix of float32 values: `rows` rows of `dim` values. */
export interface MatrixShape {
  rows: number;
  dim: number;
}

/** Options of {@link NeighborIndex.query}: how many queries, how many neighbors, progress. */
export interface QueryOptions {
  /** Queries in the array (`queries.length === rows × dim`). */
  rows: number;
  /** Neighbors per query, 1 … size. */
  k: number;
  /**
   * Called with the number of queries finished so far and the total, after each block of queries
   * (and once at the end with `done === total`). Default: none.
   */
  onProgress?: (done: number, total: number) => void;
}

/**
 * A nearest-neighbor index over `size` database rows of `dim` float32 values, searched by squared
 * Euclidean distance. Rows are ranked by distance, ties broken by the lower row index.
 *
 * Ownership: `build` keeps a reference to `data` (no copy); do not modify it while the index is used.
 * `query` only reads `queries` and returns freshly allocated arrays.
 */
export interface NeighborIndex {
  /** Database rows (0 before `build`). */
  readonly size: number;
  /** Values per row (0 before `build`). */
  readonly dim: number;
  /**
   * Indexes `rows` rows of `dim` values stored row-major in `data` (`data.length === rows * dim`).
   * Building again replaces the previous database.
   * @throws RangeError on a length mismatch, non-positive sizes or non-finite values.
   */
  build(data: Float32Array, shape: MatrixShape): Promise<void>;
  /**
   * The `k` nearest database rows of each of the `rows` queries (row-major, `queries.length === rows * dim`).
   * @throws Error if called before `build`; RangeError if the length does not match `rows × dim`,
   *   `k` is not an integer in 1…size, or a query holds a non-finite value.
   */
  query(queries: Float32Array, options: QueryOptions): Promise<KnnResult>;
  /**
   * Optional: what this index is, with its parameters as resolved for the built data (e.g. the
   * LSH k per table for this dimension), as plain JSON-able data. Reported by `DkNN.info()`.
   */
  describe?(): Record<string, unknown>;
}

/**
 * Makes one fresh {@link NeighborIndex} per DkNN layer. `name` is reported by `DkNN.info()`, and so
 * is `describe()` (the index kind with its parameters), when given.
 */
export interface NeighborIndexFactory {
  readonly name: string;
  create(): NeighborIndex;
  /** The index kind and its parameters as plain JSON-able data, e.g. `{ name: 'lsh', parameters: … }`. */
  describe?(): Record<string, unknown>;
}
