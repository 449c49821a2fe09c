/**
 * The exact index's searches without the projection: the js backend's full scan and the native
 * backend's GEMM blocks re-ranked by canonical distance (see `exact.ts`). Hot loops live in plain
 * functions: V8 optimizes them better than loops inside async methods.
 */
import { BoundsWorkspace } from '../../native/bounds-wasm';
import type { GemmRunner } from '../../native/onnx-gemm';
import { pushCandidates, scanFourQueries, scanOneQuery } from '../kernel';
import { TopK } from '../topk';
import type { KnnResult, QueryOptions } from '../types';
import type { ExactIndexOptions, ExactQueryStats } from './options';

/** A built exact index's database: the rows, their squared norms and the largest, and a scratch for four dots. */
export interface ExactDatabase {
  readonly data: Float32Array;
  readonly norms: Float64Array;
  readonly maxNorm: number;
  readonly n: number;
  readonly dim: number;
  readonly dots: Float64Array;
}

/** What a native search needs: the database, the GEMM, the options and the statistics it updates. */
export interface NativeSearch {
  db: ExactDatabase;
  gemm: GemmRunner;
  options: ExactIndexOptions;
  stats: ExactQueryStats;
}

/** The js backend's search: every pair's canonical distance, four queries at a time. */
export async function searchJs(
  db: ExactDatabase,
  queries: Float32Array,
  qNorms: Float64Array,
  out: KnnResult,
  options: Pick<QueryOptions, 'onProgress'>,
): Promise<void> {
  const { data, n, dim } = db;
  const { rows, k } = out;
  const heaps = [new TopK(k), new TopK(k), new TopK(k), new TopK(k)] as const;
  let lastYield = Date.now();
  let r = 0;
  for (; r + 3 < rows; r += 4) {
    scanFourQueries(
      data,
      db.norms,
      n,
      dim,
      queries,
      [r * dim, (r + 1) * dim, (r + 2) * dim, (r + 3) * dim],
      [qNorms[r], qNorms[r + 1], qNorms[r + 2], qNorms[r + 3]],
      heaps,
    );
    for (let t = 0; t < 4; t++) heaps[t].drainSorted(out.indices, out.distances, (r + t) * k);
    lastYield = await pace(r + 4, rows, lastYield, options);
  }
  for (; r < rows; r++) {
    scanOneQuery(data, db.norms, n, dim, queries, r * dim, qNorms[r], heaps[0]);
    heaps[0].drainSorted(out.indices, out.distances, r * k);
    lastYield = await pace(r + 1, rows, lastYield, options);
  }
}

/** Reports progress and lets the event loop run (at most every 50 ms). */
async function pace(
  done: number,
  total: number,
  lastYield: number,
  options: Pick<QueryOptions, 'onProgress'>,
): Promise<number> {
  const now = Date.now();
  if (now - lastYield < 50) return lastYield;
  if (done < total) options.onProgress?.(done, total);
  await new Promise<void>((resolve) => setImmediate(resolve));
  return Date.now();
}

/**
 * The native backend's plain search: float32 GEMM blocks give approximate distances, each query's
 * `k + margin` best are re-ranked by canonical distance; a query whose candidate list cannot be
 * proved complete is searched again ({@link researchNative}).
 */
export async function searchNative(
  s: NativeSearch,
  queries: Float32Array,
  qNorms: Float64Array,
  out: KnnResult,
  options: Pick<QueryOptions, 'onProgress'>,
): Promise<void> {
  const { db, gemm } = s;
  const { data, norms, n, dim } = db;
  const { rows, k } = out;
  const batch = s.options.batchRows ?? 256;
  const chunk = s.options.chunkRows ?? 8192;
  const margin = s.options.rerankMargin ?? Math.max(16, Math.ceil(k / 4));
  const kc = Math.min(n, k + margin);
  const eps = s.options.gemmTolerance ?? Math.max(1e-5, 4 * Math.sqrt(dim) * 2 ** -24);
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
      const tol = eps * (qNorms[row] + db.maxNorm);
      const bound = approx[k - 1] + 2 * tol;
      if (count < n && approx[count - 1] <= bound) {
        redo.push({ row, bound });
        continue;
      }
      // Only candidates within the bound can reach the top k: re-rank just those (≥ k of them).
      let keep = k;
      while (keep < count && approx[keep] <= bound) keep++;
      rerank(db, queries, row, qNorms[row], candidates, keep, final, out);
    }
    if (b0 + m < rows) options.onProgress?.(b0 + m, rows);
  }
  simd?.release();
  if (redo.length > 0) await researchNative(s, queries, qNorms, redo, final, out);
}

/** The plain native search for the query rows `rowsToDo` of `queries`, written into those rows of `out`. */
export async function searchRowsNative(
  s: NativeSearch,
  queries: Float32Array,
  qNorms: Float64Array,
  rowsToDo: number[],
  out: KnnResult,
): Promise<void> {
  const dim = s.db.dim;
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
  const before = s.stats.researched;
  s.stats.researched = 0;
  await searchNative(s, q, qn, sub, {});
  s.stats.researched += before;
  rowsToDo.forEach((r, i) => {
    out.indices.set(sub.indices.subarray(i * out.k, (i + 1) * out.k), r * out.k);
    out.distances.set(sub.distances.subarray(i * out.k, (i + 1) * out.k), r * out.k);
  });
}

/** Writes the top k of `candidates[0 … count)` by canonical distance into row `row` of `out`. */
function rerank(
  db: ExactDatabase,
  queries: Float32Array,
  row: number,
  qNorm: number,
  candidates: Int32Array | number[],
  count: number,
  final: TopK,
  out: KnnResult,
): void {
  const dim = db.dim;
  pushCandidates(final, queries, row * dim, qNorm, db.data, 0, dim, dim, db.norms, candidates, count, db.dots);
  final.drainSorted(out.indices, out.distances, row * out.k);
}

/** Searches `redo` queries again, keeping every row whose approximate distance is within its bound. */
async function researchNative(
  s: NativeSearch,
  queries: Float32Array,
  qNorms: Float64Array,
  redo: { row: number; bound: number }[],
  final: TopK,
  out: KnnResult,
): Promise<void> {
  const { db, gemm } = s;
  const { data, norms, n, dim } = db;
  const batch = s.options.batchRows ?? 256;
  const chunk = s.options.chunkRows ?? 8192;
  s.stats.researched += redo.length;
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
        rerank(db, queries, e.row, qNorms[e.row], kept[a], kept[a].length, final, out);
      }
    }
  }
}

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
