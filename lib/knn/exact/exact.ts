/**
 * Exact (brute-force) k-nearest-neighbor search by squared Euclidean distance: the ground truth
 * that approximate indexes are measured against.
 *
 * Two backends return identical neighbor lists and distances:
 * - `js`: dependency-free; a tiled kernel (4 queries × 2 database rows per inner loop) computing
 *   the canonical float64 distance of `kernel.ts` for every pair, and a bounded heap per query.
 * - `native`: onnxruntime-node's multi-threaded float32 GEMM computes q·x for blocks of queries ×
 *   database rows; the `k + rerankMargin` best rows by that approximate distance are then
 *   re-ranked with the canonical float64 distance. The approximation error is bounded by
 *   `gemmTolerance · (‖q‖² + ‖x‖²)`; when the candidate list cannot be proved to contain the exact
 *   top k (many near-ties at the boundary, e.g. duplicate rows), that query is searched again
 *   keeping every row within the error bound, so the result is still exact.
 *
 * Ties (equal canonical distances, i.e. duplicate rows) are broken by the lower row index.
 */

import { availableParallelism } from 'node:os';
import { NotFittedError } from '../../util/errors';
import { checkMatrix } from '../../util/checks';
import { checkK, checkQueries } from '../checks';
import { rowSquaredNorms } from '../kernel';
import { gemmRunner, type GemmRunner } from '../../native/onnx-gemm';
import { buildProjection, searchProjected, type Projection } from './projection';
import type { KnnResult, MatrixShape, NeighborIndex, NeighborIndexFactory, QueryOptions } from '../types';
import {
  projectionRank,
  RETRY_PROJECTION_EVERY,
  type ExactBackend,
  type ExactIndexOptions,
  type ExactQueryStats,
} from './options';
import { searchJs, searchNative, searchRowsNative, type ExactDatabase, type NativeSearch } from './search';

/** Exact brute-force {@link NeighborIndex}. See the module comment for the two backends. */
export class ExactIndex implements NeighborIndex {
  private data: Float32Array | null = null;
  private norms: Float64Array = new Float64Array(0);
  private maxNorm = 0;
  private rowsN = 0;
  private dimN = 0;
  private gemm: GemmRunner | null = null;
  private chosen: ExactBackend | null = null;
  private projection: Projection | null = null;
  /** Why the projection first pass is not used although asked for (null when used or not asked). */
  projectionUnavailableReason: string | null = null;
  private readonly options: ExactIndexOptions;
  private readonly dots = new Float64Array(4);
  /** Why the native backend was not used (set when `auto` fell back to js). */
  nativeUnavailableReason: string | null = null;
  /** Statistics of the last `query` call. */
  lastQueryStats: ExactQueryStats = { researched: 0 };
  /** The plain native path's measured seconds per query on a full batch (projection mode; null until measured). */
  private plainSecondsPerQuery: number | null = null;
  /** Query calls since the projection last measured faster than the plain path (0: it won, or never measured). */
  private projectionLosses = 0;

  constructor(options: ExactIndexOptions = {}) {
    const b = options.backend ?? 'auto';
    if (b !== 'auto' && b !== 'js' && b !== 'native') {
      throw new RangeError(`backend must be 'auto', 'js' or 'native', found ${String(b)}`);
    }
    for (const key of ['threads', 'batchRows', 'chunkRows'] as const) {
      const v = options[key];
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) {
        throw new RangeError(`${key} must be a positive integer, found ${v}`);
      }
    }
    if (
      options.rerankMargin !== undefined &&
      (!Number.isSafeInteger(options.rerankMargin) || options.rerankMargin < 0)
    ) {
      throw new RangeError(`rerankMargin must be an integer ≥ 0, found ${options.rerankMargin}`);
    }
    projectionRank(options.projection, 1, 1); // validates
    if (options.projectionSlack !== undefined && !(options.projectionSlack >= 0)) {
      throw new RangeError(`projectionSlack must be ≥ 0, found ${options.projectionSlack}`);
    }
    const choice = options.projectionChoice;
    if (choice !== undefined && choice !== 'measure' && choice !== 'always') {
      throw new RangeError(`projectionChoice must be 'measure' or 'always', found ${String(choice)}`);
    }
    if (options.gemmTolerance !== undefined && !(options.gemmTolerance >= 0)) {
      throw new RangeError(`gemmTolerance must be ≥ 0, found ${options.gemmTolerance}`);
    }
    this.options = { ...options, backend: b };
  }

  /** Database rows (0 before build). */
  get size(): number {
    return this.rowsN;
  }

  /** Values per row (0 before build). */
  get dim(): number {
    return this.dimN;
  }

  /** The backend in use; null before `build`. */
  get backend(): ExactBackend | null {
    return this.chosen;
  }

  /** `{ name: 'exact', backend }` (the backend in use, or the one asked for before build). */
  describe(): Record<string, unknown> {
    return {
      name: 'exact',
      backend: this.chosen ?? this.options.backend ?? 'auto',
      ...(this.projection ? { projectionRank: this.projection.rank } : {}),
    };
  }

  async build(data: Float32Array, shape: MatrixShape): Promise<void> {
    const { rows, dim } = shape;
    checkMatrix('data', data, rows, dim);
    const norms = rowSquaredNorms(data, rows, dim, 'data');
    const want = this.options.backend ?? 'auto';
    let gemm: GemmRunner | null = null;
    this.nativeUnavailableReason = null;
    if (want !== 'js') {
      try {
        gemm = await gemmRunner(this.options.threads ?? availableParallelism());
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        if (want === 'native')
          throw new Error(`backend 'native' needs onnxruntime-node, which failed to load: ${reason}`, { cause: e });
        this.nativeUnavailableReason = reason;
      }
    }
    let maxNorm = 0;
    for (let i = 0; i < rows; i++) if (norms[i] > maxNorm) maxNorm = norms[i];
    this.data = data;
    this.norms = norms;
    this.maxNorm = maxNorm;
    this.rowsN = rows;
    this.dimN = dim;
    this.gemm = gemm;
    this.chosen = gemm ? 'native' : 'js';
    this.projection = null;
    this.projectionUnavailableReason = null;
    this.plainSecondsPerQuery = null;
    this.projectionLosses = 0;
    const rank = projectionRank(this.options.projection, rows, dim);
    if (gemm && rank > 0) {
      const p = await buildProjection(gemm, data, rows, dim, norms, rank);
      if (typeof p === 'string') this.projectionUnavailableReason = p;
      else this.projection = p;
    }
  }

  /** The projection first pass's rank (0 when not used). */
  get projectionRank(): number {
    return this.projection?.rank ?? 0;
  }

  async query(queries: Float32Array, options: QueryOptions): Promise<KnnResult> {
    const { rows, k } = options;
    if (!this.data) throw new NotFittedError('query');
    checkQueries(queries, rows, this.dimN);
    checkK(k, this.rowsN);
    const qNorms = rowSquaredNorms(queries, rows, this.dimN, 'queries');
    const result: KnnResult = {
      indices: new Int32Array(rows * k),
      distances: new Float32Array(rows * k),
      rows,
      k,
    };
    this.lastQueryStats = { researched: 0 };
    if (this.gemm && this.projection)
      await this.queryProjected(this.gemm, this.projection, queries, qNorms, result, options);
    else if (this.gemm) await searchNative(this.nativeSearch(this.gemm), queries, qNorms, result, options);
    else await searchJs(this.database(), queries, qNorms, result, options);
    options.onProgress?.(rows, rows);
    return result;
  }

  /**
   * The projection mode's search: the first batch through the projection, timed; the rest through
   * the faster of the projection and the plain path (see `projectionChoice`).
   */
  private async queryProjected(
    gemm: GemmRunner,
    proj: Projection,
    queries: Float32Array,
    qNorms: Float64Array,
    out: KnnResult,
    options: Pick<QueryOptions, 'onProgress'>,
  ): Promise<void> {
    const { rows, k } = out;
    const dim = this.dimN;
    const batch = this.options.batchRows ?? 64;
    const stats = { reranked: 0, fallback: 0, projected: 0 };
    const part = (a: number, b: number) => ({
      q: queries.subarray(a * dim, b * dim),
      qn: qNorms.subarray(a, b),
      out: {
        indices: out.indices.subarray(a * k, b * k),
        distances: out.distances.subarray(a * k, b * k),
        rows: b - a,
        k,
      },
      onProgress: options.onProgress && ((done: number) => options.onProgress!(a + done, rows)),
    });
    const projected = async (a: number, b: number): Promise<number> => {
      const t0 = performance.now();
      const p = part(a, b);
      const { reranked, fallback } = await searchProjected(
        gemm,
        proj,
        this.data!,
        this.norms,
        this.rowsN,
        dim,
        p.q,
        p.qn,
        p.out,
        {
          batchRows: batch,
          margin: this.options.rerankMargin ?? Math.max(16, Math.ceil(k / 4)),
          slack: this.options.projectionSlack ?? 5e-3,
          // Break-even: a canonical distance costs about dim float64 operations in JS, the plain path
          // about n·dim GEMM operations per query, ~64× cheaper each.
          maxReranked: Math.max(k + 16, Math.ceil(this.rowsN / 64)),
          onProgress: p.onProgress,
        },
      );
      if (fallback.length > 0) await searchRowsNative(this.nativeSearch(gemm), p.q, p.qn, fallback, p.out);
      stats.reranked += reranked;
      stats.fallback += fallback.length;
      stats.projected += b - a - fallback.length;
      return (performance.now() - t0) / 1000 / (b - a);
    };
    const plain = async (a: number, b: number): Promise<number> => {
      const t0 = performance.now();
      const p = part(a, b);
      await searchNative(this.nativeSearch(gemm), p.q, p.qn, p.out, { onProgress: p.onProgress });
      return (performance.now() - t0) / 1000 / (b - a);
    };
    let done = 0;
    let useProjection = true;
    const measure = (this.options.projectionChoice ?? 'measure') === 'measure';
    if (measure && this.projectionLosses > 0 && this.projectionLosses % RETRY_PROJECTION_EVERY !== 0) {
      // The projection lost the last measurement: plain, and measured again every few calls.
      this.projectionLosses++;
      useProjection = false;
    } else if (measure) {
      const plainBatch = this.options.batchRows ?? 256;
      const tp = await projected(0, (done = Math.min(rows, batch)));
      if (this.plainSecondsPerQuery === null && rows - done >= plainBatch) {
        this.plainSecondsPerQuery = await plain(done, done + plainBatch);
        done += plainBatch;
      }
      if (this.plainSecondsPerQuery !== null) {
        useProjection = tp <= this.plainSecondsPerQuery;
        this.projectionLosses = useProjection ? 0 : this.projectionLosses + 1;
        this.lastQueryStats.secondsPerQuery = { projected: tp, plain: this.plainSecondsPerQuery };
      }
    }
    if (done < rows) await (useProjection ? projected(done, rows) : plain(done, rows));
    this.lastQueryStats.rerankedPerQuery = stats.projected > 0 ? stats.reranked / stats.projected : 0;
    this.lastQueryStats.plainFallback = stats.fallback;
    this.lastQueryStats.projectedRows = stats.projected + stats.fallback;
  }

  /** The database of the built index. */
  private database(): ExactDatabase {
    return {
      data: this.data!,
      norms: this.norms,
      maxNorm: this.maxNorm,
      n: this.rowsN,
      dim: this.dimN,
      dots: this.dots,
    };
  }

  /** The native search context of the built index. */
  private nativeSearch(gemm: GemmRunner): NativeSearch {
    return { db: this.database(), gemm, options: this.options, stats: this.lastQueryStats };
  }
}

/**
 * A DkNN index factory for {@link ExactIndex} (`name` 'exact'; `describe()` gives the backend and
 * the projection asked for).
 */
export function exactIndexFactory(
  options: Pick<ExactIndexOptions, 'backend' | 'projection'> = {},
): NeighborIndexFactory {
  const backend = options.backend ?? 'auto';
  const projection = options.projection ?? 'auto';
  return {
    name: 'exact',
    create: () => new ExactIndex({ backend, projection }),
    describe: () => ({ name: 'exact', backend, projection }),
  };
}
