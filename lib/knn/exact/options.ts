/** The exact index's options, query statistics and the projection's rank rule. */

/** Which implementation computes the distances. */
export type ExactBackend = 'js' | 'native';

/** Options of {@link ExactIndex}. */
export interface ExactIndexOptions {
  /**
   * `'auto'` (default): `native` when onnxruntime-node loads, else `js`. `'native'` fails in `build`
   * when onnxruntime-node is unavailable. The choice made is `index.backend` after `build`.
   */
  backend?: 'auto' | ExactBackend;
  /** Native: GEMM threads. Default `os.availableParallelism()`. */
  threads?: number;
  /**
   * Native: queries per GEMM call. Default 256 (the projection pass: 64, whose bounds for every
   * database row are kept per query batch — 15 MB on MNIST; 128 took as long and twice that).
   */
  batchRows?: number;
  /** Native: database rows per GEMM call (the output block is batchRows × chunkRows float32). Default 8192. */
  chunkRows?: number;
  /** Native: candidates kept beyond k for exact re-ranking. Default `max(16, ceil(k / 4))`. */
  rerankMargin?: number;
  /**
   * Native: assumed bound on the float32 GEMM error |q·x − q·x̃| relative to ‖q‖·‖x‖. Default
   * `max(1e-5, 4·√dim·2⁻²⁴)`. Measured errors are far smaller (see bench/knn-exact.ts).
   */
  gemmTolerance?: number;
  /**
   * Native: the projection first pass (`projection.ts`): a rank, `false`, or `'auto'` (default:
   * rank 512 from 8,192 values per row, 256 from 2,048, none below or when the database has fewer
   * than 16 rows per basis row). Only rows whose projected lower bound does not exclude them get
   * an exact distance; the neighbors are the same.
   */
  projection?: 'auto' | false | number;
  /** Native projection: relative slack of the bound for float32 rounding. Default 5e-3. */
  projectionSlack?: number;
  /**
   * Native projection: which path searches a query call. `'measure'` (default): the call's first
   * batch goes through the projection, timed; the plain GEMM path's time per query (it does not
   * depend on the queries) is measured once on a full batch and kept; the rest of the call takes
   * the faster path. After the projection loses, the next calls take the plain path without
   * timing it, and every {@link RETRY_PROJECTION_EVERY}-th call times it again. The bound prunes
   * well near the training data and little far from it (out-of-distribution or adversarial
   * inputs, test images of tracks absent from training), so which path wins depends on the
   * queries. `'always'`: every batch through the projection. The
   * neighbors and distances are the same either way; only the time differs.
   */
  projectionChoice?: 'measure' | 'always';
}

/** Per-query statistics of the last `query` call (native backend; zeros for js). */
export interface ExactQueryStats {
  /** Queries whose candidate list was not provably complete and were searched again. */
  researched: number;
  /** Projection mode: database rows whose exact distance was computed, per query (mean, over the queries it finished). */
  rerankedPerQuery?: number;
  /** Projection mode: queries the bound pruned too little for, searched by the plain GEMM path. */
  plainFallback?: number;
  /** Projection mode: queries searched through the projection (the rest took the plain path). */
  projectedRows?: number;
  /** Projection mode, `'measure'`: seconds per query of the projection's timed batch and of the plain path. */
  secondsPerQuery?: { projected: number; plain: number };
}

/** While the projection measures slower than the plain path, it is timed again on every this-many-th query call. */
export const RETRY_PROJECTION_EVERY = 4;

/** The rank of the projection first pass for `option`, n rows and dim values per row (0: none). */
export function projectionRank(option: 'auto' | false | number | undefined, n: number, dim: number): number {
  if (option === false) return 0;
  if (option === undefined || option === 'auto') {
    const r = dim >= 8192 ? 512 : dim >= 2048 ? 256 : 0;
    return r > 0 && n >= 16 * r ? r : 0;
  }
  if (!Number.isSafeInteger(option) || option < 1)
    throw new RangeError(`projection must be 'auto', false or a positive integer rank, found ${String(option)}`);
  return Math.min(option, n, dim);
}
