/**
 * A low-rank lower bound on Euclidean distances: the first pass of the exact index's projection
 * mode (`ExactIndex` option `projection`).
 *
 * Build: a randomised range finder with power iterations on 4r database rows spread over the data
 * finds r directions close to their top principal ones; two rounds of Cholesky-QR (Gram matrices
 * by the native GEMM, Cholesky in float64, rows whose pivot vanishes — duplicates, zero rows —
 * dropped) give a basis Q (r' × dim, rows orthonormal up to a measured
 * ε = ‖QQᵀ − I‖_F, summed in float64). Every database row x gets its coordinates p_x = Qx and an interval for the
 * norm of its residual x − Qᵀp_x (from ‖x‖² − ‖p_x‖²/(1 ± ε)).
 *
 * Bound: with P the orthogonal projector onto the subspace,
 *   ‖q − x‖² = ‖P(q − x)‖² + ‖(I − P)(q − x)‖² ≥ ‖p_q − p_x‖² / (1 + ε) + (ρ_q − ρ_x)²,
 * the last term by the reverse triangle inequality on the residuals (taking the smallest gap the
 * residual intervals allow). `slack · (‖q‖² + ‖x‖²)` is subtracted for the float32 rounding of the
 * coordinates and of the GEMM (the same kind of assumed bound as the plain native path's
 * `gemmTolerance`, far above the measured errors; see test/knn/projection.test.ts).
 *
 * On MNIST ReLU1 (12,544 values, 60,000 rows), r = 512 keeps 93 % of each row's energy, and only
 * ~0.5 % of the rows have a bound below an input's k-th distance: those are the only rows whose
 * exact distance is computed.
 */
import { createRng } from '../../util/random';
import { BoundsWorkspace, boundValue, lowered } from '../../native/bounds-wasm';
import { pushCandidates } from '../kernel';
import { choleskyInverse, orthonormalityError } from './linalg';
import type { GemmRunner } from '../../native/onnx-gemm';
import { TopK } from '../topk';
import type { KnnResult } from '../types';

/** The basis, the database coordinates and their residual intervals. */
export interface Projection {
  /** Basis rows kept (≤ the asked rank). */
  rank: number;
  /** rank × dim, row-major. */
  basis: Float32Array;
  /** n × rank database coordinates. */
  coords: Float32Array;
  /** ‖p_x‖² per database row. */
  coordNorms: Float64Array;
  /** Lower and upper bound of the residual norm ρ_x per database row. */
  resLo: Float64Array;
  resHi: Float64Array;
  /** ε = ‖QQᵀ − I‖_F (measured in float64), ≥ the spectral norm the bound needs. */
  orthoError: number;
}

/** Largest ε accepted: a basis further from orthonormal is not used (the index falls back to the plain GEMM path). */
export const MAX_ORTHO_ERROR = 1e-3;

/** Sample rows per basis row, power iterations and seed of the range finder. */
const SAMPLE_PER_RANK = 4;
const POWER_ITERATIONS = 3;
const SEED = 20180313;

/**
 * Database rows per GEMM call, when bounding (the output block, queries × CHUNK float32, is reused)
 * and when computing the coordinates (onnxruntime-node returns a copy of each output: one of the
 * whole n × r coordinates would be 117 MiB on MNIST ReLU1).
 */
const CHUNK = 8192;

/** Columns of the product per GEMM call in {@link productWithRows} (bounds its transposed copy). */
const PRODUCT_COLUMNS = 1024;

/** Rows of S gathered per GEMM call in {@link gramOfRows}. */
const GRAM_ROWS = 256;

/**
 * Y·S (m × dim) for Y (m × s) and S (s × dim), row-major, where row i of S is row `at[i]` of
 * `rows`: by column blocks of S transposed one at a time, gathered straight from `rows` — never a
 * copy of S (the range finder's Y·sample, Cholesky-QR's L⁻¹·kept rows).
 */
async function productWithRows(
  gemm: GemmRunner,
  y: Float32Array,
  m: number,
  rows: Float32Array,
  at: Int32Array,
  dim: number,
): Promise<Float32Array> {
  const s = at.length;
  const out = new Float32Array(m * dim);
  const block = new Float32Array(Math.min(PRODUCT_COLUMNS, dim) * s);
  const product = new Float32Array(m * Math.min(PRODUCT_COLUMNS, dim)); // reused: no output array per call
  for (let j0 = 0; j0 < dim; j0 += PRODUCT_COLUMNS) {
    const c = Math.min(PRODUCT_COLUMNS, dim - j0);
    for (let i = 0; i < s; i++) {
      const base = at[i] * dim + j0;
      for (let j = 0; j < c; j++) block[j * s + i] = rows[base + j]; // columns j0 … j0+c of S as rows
    }
    const part = await gemm.abt(y, m, block.subarray(0, c * s), c, s, product); // m × c
    for (let i = 0; i < m; i++) out.set(part.subarray(i * c, (i + 1) * c), i * dim + j0);
  }
  return out;
}

/** The rows `at` of `rows` (each `dim` long) copied into `into`, in order. */
function gatherRows(
  rows: Float32Array,
  at: Int32Array,
  from: number,
  to: number,
  dim: number,
  into: Float32Array,
): Float32Array {
  for (let t = from; t < to; t++) into.set(rows.subarray(at[t] * dim, (at[t] + 1) * dim), (t - from) * dim);
  return into.subarray(0, (to - from) * dim);
}

/**
 * The Gram matrix S·Sᵀ (s × s, float32) of the rows `at` of `rows`, by blocks of
 * {@link GRAM_ROWS} × {@link GRAM_ROWS} gathered a pair at a time (not a copy of S).
 */
async function gramOfRows(gemm: GemmRunner, rows: Float32Array, at: Int32Array, dim: number): Promise<Float32Array> {
  const s = at.length;
  const k = new Float32Array(s * s);
  const left = new Float32Array(Math.min(GRAM_ROWS, s) * dim);
  const right = new Float32Array(Math.min(GRAM_ROWS, s) * dim);
  const product = new Float32Array(Math.min(GRAM_ROWS, s) ** 2);
  for (let i0 = 0; i0 < s; i0 += GRAM_ROWS) {
    const i1 = Math.min(s, i0 + GRAM_ROWS);
    const a = gatherRows(rows, at, i0, i1, dim, left);
    for (let j0 = 0; j0 < s; j0 += GRAM_ROWS) {
      const j1 = Math.min(s, j0 + GRAM_ROWS);
      const part = await gemm.abt(a, i1 - i0, gatherRows(rows, at, j0, j1, dim, right), j1 - j0, dim, product);
      for (let i = i0; i < i1; i++) k.set(part.subarray((i - i0) * (j1 - j0), (i - i0 + 1) * (j1 - j0)), i * s + j0);
    }
  }
  return k;
}

/** One Cholesky-QR round: the rows of `a` (m × dim) → orthonormalised kept rows (L⁻¹·a). */
async function choleskyQr(
  gemm: GemmRunner,
  a: Float32Array,
  m: number,
  dim: number,
): Promise<{ rows: Float32Array; m: number }> {
  const g = Float64Array.from(await gemm.abt(a, m, a, m, dim));
  const { keep, inv } = choleskyInverse(g, m);
  const r = keep.length;
  const rows = await productWithRows(gemm, Float32Array.from(inv), r, a, Int32Array.from(keep), dim);
  return { rows, m: r };
}

/**
 * The rows (r' ≤ r0, orthonormalised by two Cholesky-QR rounds) of a basis close to the top r0
 * principal directions of s = 4·r0 rows spread over `data`: a randomised range finder on the
 * sample's Gram matrix K = S·Sᵀ (s × s), Y ← orth(Y·K) a few times from a seeded Gaussian Y
 * (r0 × s), then orth(Y·S). The sample S is read in place from `data` (on MNIST ReLU1 a copy
 * would be 2,048 × 12,544 float32, 98 MiB at the pipeline's peak).
 */
async function rangeBasis(
  gemm: GemmRunner,
  data: Float32Array,
  n: number,
  dim: number,
  r0: number,
): Promise<{ rows: Float32Array; m: number }> {
  const s = Math.min(n, SAMPLE_PER_RANK * r0);
  const at = Int32Array.from({ length: s }, (_, t) => Math.floor(((t + 0.5) * n) / s));
  const K = await gramOfRows(gemm, data, at, dim);
  const rng = createRng(SEED);
  let y = { rows: Float32Array.from({ length: r0 * s }, () => rng.normal()), m: r0 };
  for (let it = 0; it < POWER_ITERATIONS; it++) {
    y = await choleskyQr(gemm, await gemm.abt(y.rows, y.m, K, s, s), y.m, s);
  }
  const q = await choleskyQr(gemm, await productWithRows(gemm, y.rows, y.m, data, at, dim), y.m, dim);
  return choleskyQr(gemm, q.rows, q.m, dim);
}

/**
 * The projection of `data` (n × dim, squared row norms `norms`) on a basis of rank ≤ `rank`, or
 * null with the reason when no usable basis comes out (too few independent rows, or ε above
 * {@link MAX_ORTHO_ERROR}).
 */
export async function buildProjection(
  gemm: GemmRunner,
  data: Float32Array,
  n: number,
  dim: number,
  norms: Float64Array,
  rank: number,
): Promise<Projection | string> {
  const q = await rangeBasis(gemm, data, n, dim, Math.min(rank, n, dim));
  const r = q.m;
  if (r < 1) return 'the sampled rows span nothing (all zero)';
  const orthoError = orthonormalityError(q.rows, r, dim);
  if (!(orthoError <= MAX_ORTHO_ERROR))
    return `the basis is not orthonormal enough (ε = ${orthoError.toExponential(2)} > ${MAX_ORTHO_ERROR})`;
  const coords = new Float32Array(n * r);
  for (let c0 = 0; c0 < n; c0 += CHUNK) {
    const c1 = Math.min(n, c0 + CHUNK);
    await gemm.abt(data.subarray(c0 * dim, c1 * dim), c1 - c0, q.rows, r, dim, coords.subarray(c0 * r, c1 * r));
  }
  const coordNorms = new Float64Array(n);
  const resLo = new Float64Array(n);
  const resHi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = sumSquares(coords, i * r, r);
    coordNorms[i] = c;
    [resLo[i], resHi[i]] = residualInterval(norms[i], c, orthoError);
  }
  return { rank: r, basis: q.rows, coords, coordNorms, resLo, resHi, orthoError };
}

/** Σ v[off … off+len)² in float64. */
export function sumSquares(v: Float32Array, off: number, len: number): number {
  let s = 0;
  for (let j = 0; j < len; j++) s += v[off + j] * v[off + j];
  return s;
}

/** Interval of the residual norm ρ from ‖x‖² and ‖p_x‖² when ‖Px‖² ∈ [‖p_x‖²/(1+ε), ‖p_x‖²/(1−ε)]. */
export function residualInterval(norm2: number, coord2: number, eps: number): [number, number] {
  return [Math.sqrt(Math.max(0, norm2 - coord2 / (1 - eps))), Math.sqrt(Math.max(0, norm2 - coord2 / (1 + eps)))];
}

/**
 * Lower bound of ‖q − x‖² (see the module comment) from the GEMM value g ≈ p_q·p_x, the squared
 * coordinate norms, the residual intervals and the squared norms for the slack: the value the
 * search computes (up to the order of the float64 operations).
 */
export function lowerBound(
  g: number,
  pq2: number,
  px2: number,
  qLo: number,
  qHi: number,
  xLo: number,
  xHi: number,
  q2: number,
  x2: number,
  eps: number,
  slack: number,
): number {
  const gap = Math.max(0, qLo - xHi, xLo - qHi);
  return (pq2 + px2 - 2 * g) / (1 + eps) + gap * gap - slack * (q2 + x2);
}

/** Options of {@link searchProjected}. */
export interface ProjectedSearchOptions {
  /** Queries per GEMM call. */
  batchRows: number;
  /** Rows with the smallest bounds whose exact distance is computed first, beyond k. */
  margin: number;
  /** Relative slack of the bound (see the module comment). */
  slack: number;
  /**
   * Most rows re-ranked for one query: a query whose bound leaves more open (an input far from
   * every training point, where the bound prunes little) is left to the plain GEMM path.
   */
  maxReranked: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Exact k nearest rows of `data` for every query, through the projection's bound: per query, the
 * k + margin rows with the smallest bounds get their canonical distance first; the k-th of those,
 * T, bounds the true k-th distance, so every row whose bound is ≤ T is re-ranked too and no other
 * row can enter. A query that would re-rank more than `maxReranked` rows is not finished here:
 * its row index is returned in `fallback` (its output row is left unwritten). Returns the rows
 * re-ranked (all queries) and the fallback rows.
 */
export async function searchProjected(
  gemm: GemmRunner,
  proj: Projection,
  data: Float32Array,
  norms: Float64Array,
  n: number,
  dim: number,
  queries: Float32Array,
  qNorms: Float64Array,
  out: KnnResult,
  options: ProjectedSearchOptions,
): Promise<{ reranked: number; fallback: number[] }> {
  const { rows, k } = out;
  const fallback: number[] = [];
  const r = proj.rank;
  const batch = options.batchRows;
  const kc = Math.min(n, k + options.margin);
  const heaps: TopK[] = [];
  const final = new TopK(k);
  const cand = new Int32Array(kc);
  const candLb = new Float64Array(kc);
  const seen = new Int32Array(n).fill(-1);
  const extra: number[] = [];
  const four = new Float64Array(4);
  const q = {
    pq2: new Float64Array(batch),
    lo: new Float64Array(batch),
    hi: new Float64Array(batch),
    n2: new Float64Array(batch),
  };
  const need = Math.min(batch, rows) * n;
  // The bounds in WebAssembly SIMD where it runs (same values); their arrays live in its memory.
  const simd = BoundsWorkspace.create(n, Math.min(batch, rows), Math.min(CHUNK, n));
  const lb = simd?.lb ?? new Float32Array(need); // the bounds of one query batch; not kept between calls (memory)
  const block = simd?.block ?? new Float32Array(Math.min(batch, rows) * Math.min(CHUNK, n)); // GEMM output, reused
  const scale = 1 / (1 + proj.orthoError);
  const rowTerm = simd?.rowTerm ?? new Float64Array(n);
  for (let x = 0; x < n; x++) rowTerm[x] = scale * proj.coordNorms[x] - options.slack * norms[x];
  simd?.resLo.set(proj.resLo);
  simd?.resHi.set(proj.resHi);
  let reranked = 0;
  for (let b0 = 0; b0 < rows; b0 += batch) {
    const m = Math.min(batch, rows - b0);
    for (let a = heaps.length; a < m; a++) heaps.push(new TopK(kc));
    const pq = await gemm.abt(queries.subarray(b0 * dim, (b0 + m) * dim), m, proj.basis, r, dim);
    for (let a = 0; a < m; a++) {
      q.pq2[a] = sumSquares(pq, a * r, r);
      q.n2[a] = qNorms[b0 + a];
      [q.lo[a], q.hi[a]] = residualInterval(q.n2[a], q.pq2[a], proj.orthoError);
    }
    for (let c0 = 0; c0 < n; c0 += CHUNK) {
      const w = Math.min(CHUNK, n - c0);
      const g = await gemm.abt(pq, m, proj.coords.subarray(c0 * r, (c0 + w) * r), w, r, block);
      if (simd) simd.fill(m, w, c0, q, scale, options.slack, heaps);
      else fillBounds(g, m, w, c0, n, q, rowTerm, proj.resLo, proj.resHi, scale, options.slack, lb, heaps);
    }
    for (let a = 0; a < m; a++) {
      const row = b0 + a;
      const count = heaps[a].drainSorted(cand, candLb, 0);
      pushCandidates(final, queries, row * dim, qNorms[row], data, 0, dim, dim, norms, cand, count, four);
      for (let t = 0; t < count; t++) seen[cand[t]] = row;
      const T = final.worst;
      extra.length = 0;
      collectWithin(lb, a * n, n, T, seen, row, extra);
      if (count + extra.length > options.maxReranked) {
        final.reset();
        fallback.push(row);
        continue;
      }
      pushCandidates(final, queries, row * dim, qNorms[row], data, 0, dim, dim, norms, extra, extra.length, four);
      reranked += count + extra.length;
      final.drainSorted(out.indices, out.distances, row * k);
    }
    if (b0 + m < rows) options.onProgress?.(b0 + m, rows);
  }
  simd?.release();
  return { reranked, fallback };
}

/**
 * Bounds of a GEMM block (m queries × w rows from c0) into `lb`, each offered to its query's heap.
 * Written as v = scale·p_q² − slack·‖q‖² + rowTerm[x] − 2·scale·g + gap² with the per-row part
 * rowTerm = scale·p_x² − slack·‖x‖² precomputed (an unclamped negative projection term only lowers
 * the bound).
 */
export function fillBounds(
  g: Float32Array,
  m: number,
  w: number,
  c0: number,
  n: number,
  q: { pq2: Float64Array; lo: Float64Array; hi: Float64Array; n2: Float64Array },
  rowTerm: Float64Array,
  resLo: Float64Array,
  resHi: Float64Array,
  scale: number,
  slack: number,
  lb: Float32Array,
  heaps: TopK[],
): void {
  const s2 = 2 * scale;
  for (let a = 0; a < m; a++) {
    const h = heaps[a];
    let worst = h.worst;
    const qTerm = scale * q.pq2[a] - slack * q.n2[a];
    const lo = q.lo[a];
    const hi = q.hi[a];
    const gb = a * w;
    const lbBase = a * n + c0;
    for (let i = 0; i < w; i++) {
      const x = c0 + i;
      const v = boundValue(qTerm, rowTerm[x], s2, g[gb + i], lo, hi, resLo[x], resHi[x]);
      // Stored as float32, first lowered by more than its rounding (2⁻²⁴ relative): still a lower bound.
      lb[lbBase + i] = lowered(v);
      if (v <= worst) {
        h.push(v, x);
        worst = h.worst;
      }
    }
  }
}

/** Appends the rows whose bound is ≤ t and that were not re-ranked yet for this query. */
function collectWithin(
  lb: Float32Array,
  base: number,
  n: number,
  t: number,
  seen: Int32Array,
  row: number,
  out: number[],
): void {
  for (let i = 0; i < n; i++) if (lb[base + i] <= t && seen[i] !== row) out.push(i);
}
