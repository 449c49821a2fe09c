/**
 * Exact (brute-force) k-nearest-neighbour search by squared Euclidean distance: the ground truth
 * that approximate indexes are measured against.
 *
 * Two backends return identical neighbour lists and distances:
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
import { BoundsWorkspace } from '../../native/bounds-wasm';
import { pushCandidates, rowSquaredNorms, scanFourQueries, scanOneQuery } from '../kernel';
import { gemmRunner, type GemmRunner } from '../../native/onnx-gemm';
import { buildProjection, searchProjected, type Projection } from './projection';
import { TopK } from '../topk';
import type { KnnResult, NeighborIndex, NeighborIndexFactory, QueryOptions } from '../types';

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
   * an exact distance; the neighbours are the same.
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
   * neighbours and distances are the same either way; only the time differs.
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

  async build(data: Float32Array, rows: number, dim: number): Promise<void> {
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

  async query(queries: Float32Array, rows: number, k: number, options: QueryOptions = {}): Promise<KnnResult> {
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
    else if (this.gemm) await this.queryNative(this.gemm, queries, qNorms, result, options);
    else await this.queryJs(queries, qNorms, result, options);
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
    options: QueryOptions,
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
      if (fallback.length > 0) await this.queryRowsNative(gemm, p.q, p.qn, fallback, p.out);
      stats.reranked += reranked;
      stats.fallback += fallback.length;
      stats.projected += b - a - fallback.length;
      return (performance.now() - t0) / 1000 / (b - a);
    };
    const plain = async (a: number, b: number): Promise<number> => {
      const t0 = performance.now();
      const p = part(a, b);
      await this.queryNative(gemm, p.q, p.qn, p.out, { onProgress: p.onProgress });
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

  private async queryJs(
    queries: Float32Array,
    qNorms: Float64Array,
    out: KnnResult,
    options: QueryOptions,
  ): Promise<void> {
    const data = this.data!;
    const { rows, k } = out;
    const n = this.rowsN;
    const dim = this.dimN;
    const heaps = [new TopK(k), new TopK(k), new TopK(k), new TopK(k)] as const;
    let lastYield = Date.now();
    let r = 0;
    for (; r + 3 < rows; r += 4) {
      scanFourQueries(
        data,
        this.norms,
        n,
        dim,
        queries,
        [r * dim, (r + 1) * dim, (r + 2) * dim, (r + 3) * dim],
        [qNorms[r], qNorms[r + 1], qNorms[r + 2], qNorms[r + 3]],
        heaps,
      );
      for (let t = 0; t < 4; t++) heaps[t].drainSorted(out.indices, out.distances, (r + t) * k);
      lastYield = await this.pace(r + 4, rows, lastYield, options);
    }
    for (; r < rows; r++) {
      scanOneQuery(data, this.norms, n, dim, queries, r * dim, qNorms[r], heaps[0]);
      heaps[0].drainSorted(out.indices, out.distances, r * k);
      lastYield = await this.pace(r + 1, rows, lastYield, options);
    }
  }

  /** Reports progress and lets the event loop run (at most every 50 ms). */
  private async pace(done: number, total: number, lastYield: number, options: QueryOptions): Promise<number> {
    const now = Date.now();
    if (now - lastYield < 50) return lastYield;
    if (done < total) options.onProgress?.(done, total);
    await new Promise<void>((resolve) => setImmediate(resolve));
    return Date.now();
  }

  private async queryNative(
    gemm: GemmRunner,
    queries: Float32Array,
    qNorms: Float64Array,
    out: KnnResult,
    options: QueryOptions,
  ): Promise<void> {
    const data = this.data!;
    const norms = this.norms;
    const { rows, k } = out;
    const n = this.rowsN;
    const dim = this.dimN;
    const batch = this.options.batchRows ?? 256;
    const chunk = this.options.chunkRows ?? 8192;
    const margin = this.options.rerankMargin ?? Math.max(16, Math.ceil(k / 4));
    const kc = Math.min(n, k + margin);
    const eps = this.options.gemmTolerance ?? Math.max(1e-5, 4 * Math.sqrt(dim) * 2 ** -24);
    const candidates = new Int32Array(kc);
    const approx = new Float64Array(kc);
    const final = new TopK(k);
    const heaps: TopK[] = [];
    const redo: { row: number; bound: number }[] = [];
    // The approximate distances in WebAssembly SIMD where it runs (same values, same heaps).
    const simd = BoundsWorkspace.create(n, Math.min(batch, rows), Math.min(chunk, n), false);
    simd?.rowTerm.set(norms);
    const block = simd?.block ?? new Float32Array(Math.min(batch, rows) * Math.min(chunk, n)); // GEMM output, reused

    for (let b0 = 0; b0 < rows; b0 += batch) {
      const m = Math.min(batch, rows - b0);
      for (let a = heaps.length; a < m; a++) heaps.push(new TopK(kc));
      for (let c0 = 0; c0 < n; c0 += chunk) {
        const w = Math.min(chunk, n - c0);
        const g = await gemm.abt(
          queries.subarray(b0 * dim, (b0 + m) * dim),
          m,
          data.subarray(c0 * dim, (c0 + w) * dim),
          w,
          dim,
          block,
        );
        if (simd) simd.offer(m, w, c0, qNorms, b0, heaps);
        else offerBlock(g, m, w, c0, qNorms, b0, norms, heaps);
      }
      for (let a = 0; a < m; a++) {
        const row = b0 + a;
        const h = heaps[a];
        const count = h.drainSorted(candidates, approx, 0);
        // Every approximate distance is within tol of its canonical value, so a row outside the
        // candidates (approximate ≥ approx[count-1]) can only rank in the top k if
        // approx[count-1] ≤ approx[k-1] + 2·tol.
        const tol = eps * (qNorms[row] + this.maxNorm);
        const bound = approx[k - 1] + 2 * tol;
        if (count < n && approx[count - 1] <= bound) {
          redo.push({ row, bound });
          continue;
        }
        // Only candidates within the bound can reach the top k: re-rank just those (≥ k of them).
        let keep = k;
        while (keep < count && approx[keep] <= bound) keep++;
        this.rerank(queries, row, qNorms[row], candidates, keep, final, out);
      }
      if (b0 + m < rows) options.onProgress?.(b0 + m, rows);
    }
    simd?.release();
    if (redo.length > 0) await this.researchNative(gemm, queries, qNorms, redo, final, out);
  }

  /** The plain native search for the query rows `rowsToDo` of `queries`, written into those rows of `out`. */
  private async queryRowsNative(
    gemm: GemmRunner,
    queries: Float32Array,
    qNorms: Float64Array,
    rowsToDo: number[],
    out: KnnResult,
  ): Promise<void> {
    const dim = this.dimN;
    const m = rowsToDo.length;
    const q = new Float32Array(m * dim);
    const qn = new Float64Array(m);
    rowsToDo.forEach((r, i) => {
      q.set(queries.subarray(r * dim, (r + 1) * dim), i * dim);
      qn[i] = qNorms[r];
    });
    const sub: KnnResult = {
      indices: new Int32Array(m * out.k),
      distances: new Float32Array(m * out.k),
      rows: m,
      k: out.k,
    };
    const before = this.lastQueryStats.researched;
    this.lastQueryStats.researched = 0;
    await this.queryNative(gemm, q, qn, sub, {});
    this.lastQueryStats.researched += before;
    rowsToDo.forEach((r, i) => {
      out.indices.set(sub.indices.subarray(i * out.k, (i + 1) * out.k), r * out.k);
      out.distances.set(sub.distances.subarray(i * out.k, (i + 1) * out.k), r * out.k);
    });
  }

  /** Writes the top k of `candidates[0 … count)` by canonical distance into row `row` of `out`. */
  private rerank(
    queries: Float32Array,
    row: number,
    qNorm: number,
    candidates: Int32Array | number[],
    count: number,
    final: TopK,
    out: KnnResult,
  ): void {
    const dim = this.dimN;
    pushCandidates(final, queries, row * dim, qNorm, this.data!, 0, dim, dim, this.norms, candidates, count, this.dots);
    final.drainSorted(out.indices, out.distances, row * out.k);
  }

  /** Searches `redo` queries again, keeping every row whose approximate distance is within its bound. */
  private async researchNative(
    gemm: GemmRunner,
    queries: Float32Array,
    qNorms: Float64Array,
    redo: { row: number; bound: number }[],
    final: TopK,
    out: KnnResult,
  ): Promise<void> {
    const data = this.data!;
    const norms = this.norms;
    const n = this.rowsN;
    const dim = this.dimN;
    const batch = this.options.batchRows ?? 256;
    const chunk = this.options.chunkRows ?? 8192;
    this.lastQueryStats.researched += redo.length;
    const block = new Float32Array(Math.min(batch, redo.length) * Math.min(chunk, n)); // GEMM output, reused
    for (let b0 = 0; b0 < redo.length; b0 += batch) {
      const group = redo.slice(b0, b0 + batch);
      const m = group.length;
      const q = new Float32Array(m * dim);
      group.forEach((e, a) => q.set(queries.subarray(e.row * dim, (e.row + 1) * dim), a * dim));
      const kept: number[][] = group.map(() => []);
      for (let c0 = 0; c0 < n; c0 += chunk) {
        const w = Math.min(chunk, n - c0);
        const g = await gemm.abt(q, m, data.subarray(c0 * dim, (c0 + w) * dim), w, dim, block);
        for (let a = 0; a < m; a++) keepWithin(g, a, w, c0, qNorms[group[a].row], norms, group[a].bound, kept[a]);
      }
      for (let a = 0; a < m; a++) {
        const e = group[a];
        // The bound guarantees ≥ k rows unless the error assumption failed; then scan exactly.
        if (kept[a].length < out.k) {
          scanOneQuery(data, norms, n, dim, queries, e.row * dim, qNorms[e.row], final);
          final.drainSorted(out.indices, out.distances, e.row * out.k);
        } else {
          this.rerank(queries, e.row, qNorms[e.row], kept[a], kept[a].length, final, out);
        }
      }
    }
  }
}

// Hot loops live in plain functions: V8 optimises them better than loops inside async methods.

/** Offers the approximate distances of a GEMM block (m queries × w rows from c0) to the queries' heaps. */
export function offerBlock(
  g: Float32Array,
  m: number,
  w: number,
  c0: number,
  qNorms: Float64Array,
  q0: number,
  norms: Float64Array,
  heaps: TopK[],
): void {
  for (let a = 0; a < m; a++) {
    const h = heaps[a];
    const qn = qNorms[q0 + a];
    const base = a * w;
    let worst = h.worst;
    for (let i = 0; i < w; i++) {
      const v = qn + norms[c0 + i] - 2 * g[base + i];
      if (v <= worst) {
        h.push(v, c0 + i);
        worst = h.worst;
      }
    }
  }
}

/** Appends to `list` the rows of GEMM block row `a` whose approximate distance is ≤ `bound`. */
function keepWithin(
  g: Float32Array,
  a: number,
  w: number,
  c0: number,
  qn: number,
  norms: Float64Array,
  bound: number,
  list: number[],
): void {
  const base = a * w;
  for (let i = 0; i < w; i++) {
    if (qn + norms[c0 + i] - 2 * g[base + i] <= bound) list.push(c0 + i);
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
