/**
 * Pure-TypeScript distance kernels and the canonical distance every exact path agrees on.
 *
 * Canonical squared distance between float32 rows q and x:
 *   max(0, (‖q‖² + ‖x‖²) − 2·q·x)
 * where every dot product (‖q‖², ‖x‖², q·x) is the sequential float64 sum over j = 0, 1, …, dim−1
 * of the exact products q[j]·x[j] (a product of two float32 values is exact in float64). JavaScript
 * never fuses or reorders floating-point operations, so the tiled kernel below, the scalar
 * {@link dot} and the re-ranking of the native path compute bit-identical values: ties are real
 * ties (duplicate rows), broken by the lower index.
 */

import { canonicalDots, canonicalSquares } from '../native/canonical-wasm';
import { throwNonFinite } from '../util/checks';
import type { TopK } from './topk';

/** Canonical dot product of `a[aOff … aOff+dim)` and `b[bOff … bOff+dim)`: sequential float64 sum. */
export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += a[aOff + j] * b[bOff + j];
  return s;
}

/**
 * Four canonical dot products of the query at `qOff` with the rows starting at `b0 … b3`, written
 * to `out[0 … 3]`; four independent accumulators, each equal to {@link dot}.
 */
export function dotFour(
  queries: Float32Array,
  qOff: number,
  data: Float32Array,
  b0: number,
  b1: number,
  b2: number,
  b3: number,
  dim: number,
  out: Float64Array,
): void {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  for (let j = 0; j < dim; j++) {
    const v = queries[qOff + j];
    s0 += v * data[b0 + j];
    s1 += v * data[b1 + j];
    s2 += v * data[b2 + j];
    s3 += v * data[b3 + j];
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

/**
 * Canonical dot products of the query at `queries[qOff …]` with rows `ids[0 … count)` into
 * `out[0 … count)`; row i starts at `values[base + i·stride]`. In WebAssembly SIMD when `values`
 * is in a row store (`canonical-wasm.ts`), else {@link dot}: the same values either way.
 */
export function canonicalDotsInto(
  values: Float32Array,
  base: number,
  stride: number,
  dim: number,
  queries: Float32Array,
  qOff: number,
  ids: Int32Array | number[],
  count: number,
  out: Float64Array,
): void {
  if (canonicalDots(values, base, stride, dim, queries, qOff, ids, count, (t, d) => (out[t] = d))) return;
  for (let t = 0; t < count; t++) out[t] = dot(queries, qOff, values, base + ids[t] * stride, dim);
}

/** Canonical squared distance from the two squared norms and the dot product (clamped at 0). */
export function combine(qNorm2: number, xNorm2: number, qx: number): number {
  const v = qNorm2 + xNorm2 - 2 * qx;
  return v > 0 ? v : 0;
}

/**
 * Canonical squared norms of the `rows` rows of `data` (float64).
 * @throws RangeError naming the first non-finite value (`what` names the argument, e.g. "data").
 */
export function rowSquaredNorms(data: Float32Array, rows: number, dim: number, what = 'data'): Float64Array {
  const out = new Float64Array(rows);
  const simd = canonicalSquares(data, rows, dim, out);
  for (let r = 0; r < rows; r++) {
    const s = simd ? out[r] : dot(data, r * dim, data, r * dim, dim);
    if (!Number.isFinite(s)) throwNonFinite(what, data, r, dim);
    if (s > MAX_SQUARED_NORM) {
      throw new RangeError(
        `${what} row ${r} has squared norm ${s.toPrecision(3)}: its distances would overflow float32 (expected a squared norm ≤ ${MAX_SQUARED_NORM.toPrecision(3)}); scale the values down`,
      );
    }
    out[r] = s;
  }
  return out;
}

/** Largest squared norm of a row whose distances to any other such row stay finite in float32: (2·|x|)² ≤ float32 max. */
export const MAX_SQUARED_NORM = 3.4e38 / 4;

/**
 * Offers every database row to the heaps of four queries: `heaps[t]` receives (canonical distance,
 * row) for the query at `queries[qOff[t] …]`. Inner loop: 4 queries × 2 database rows, eight float64
 * accumulators, each summing sequentially over j (so each value equals {@link dot}).
 */
export function scanFourQueries(
  data: Float32Array,
  norms: Float64Array,
  n: number,
  dim: number,
  queries: Float32Array,
  qOff: readonly [number, number, number, number],
  qNorm: readonly [number, number, number, number],
  heaps: readonly [TopK, TopK, TopK, TopK],
): void {
  const [o0, o1, o2, o3] = qOff;
  const [n0, n1, n2, n3] = qNorm;
  const [h0, h1, h2, h3] = heaps;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const b0 = i * dim;
    const b1 = b0 + dim;
    let s00 = 0,
      s10 = 0,
      s20 = 0,
      s30 = 0,
      s01 = 0,
      s11 = 0,
      s21 = 0,
      s31 = 0;
    for (let j = 0; j < dim; j++) {
      // One query value live at a time keeps everything in registers.
      const x0 = data[b0 + j];
      const x1 = data[b1 + j];
      let v = queries[o0 + j];
      s00 += v * x0;
      s01 += v * x1;
      v = queries[o1 + j];
      s10 += v * x0;
      s11 += v * x1;
      v = queries[o2 + j];
      s20 += v * x0;
      s21 += v * x1;
      v = queries[o3 + j];
      s30 += v * x0;
      s31 += v * x1;
    }
    // Same expression as combine(), inlined.
    const m0 = norms[i];
    const m1 = norms[i + 1];
    let d = n0 + m0 - 2 * s00;
    if (d <= h0.worst) h0.push(d > 0 ? d : 0, i);
    d = n1 + m0 - 2 * s10;
    if (d <= h1.worst) h1.push(d > 0 ? d : 0, i);
    d = n2 + m0 - 2 * s20;
    if (d <= h2.worst) h2.push(d > 0 ? d : 0, i);
    d = n3 + m0 - 2 * s30;
    if (d <= h3.worst) h3.push(d > 0 ? d : 0, i);
    d = n0 + m1 - 2 * s01;
    if (d <= h0.worst) h0.push(d > 0 ? d : 0, i + 1);
    d = n1 + m1 - 2 * s11;
    if (d <= h1.worst) h1.push(d > 0 ? d : 0, i + 1);
    d = n2 + m1 - 2 * s21;
    if (d <= h2.worst) h2.push(d > 0 ? d : 0, i + 1);
    d = n3 + m1 - 2 * s31;
    if (d <= h3.worst) h3.push(d > 0 ? d : 0, i + 1);
  }
  for (; i < n; i++) {
    const b = i * dim;
    for (let t = 0; t < 4; t++) {
      const d = combine(qNorm[t], norms[i], dot(queries, qOff[t], data, b, dim));
      if (d <= heaps[t].worst) heaps[t].push(d, i);
    }
  }
}

/** Offers every database row to `heap` for the single query at `queries[qOff …]` (4-row unrolled). */
export function scanOneQuery(
  data: Float32Array,
  norms: Float64Array,
  n: number,
  dim: number,
  queries: Float32Array,
  qOff: number,
  qNorm: number,
  heap: TopK,
): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const b0 = i * dim;
    const b1 = b0 + dim;
    const b2 = b1 + dim;
    const b3 = b2 + dim;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let j = 0; j < dim; j++) {
      const v = queries[qOff + j];
      s0 += v * data[b0 + j];
      s1 += v * data[b1 + j];
      s2 += v * data[b2 + j];
      s3 += v * data[b3 + j];
    }
    let d = qNorm + norms[i] - 2 * s0;
    if (d <= heap.worst) heap.push(d > 0 ? d : 0, i);
    d = qNorm + norms[i + 1] - 2 * s1;
    if (d <= heap.worst) heap.push(d > 0 ? d : 0, i + 1);
    d = qNorm + norms[i + 2] - 2 * s2;
    if (d <= heap.worst) heap.push(d > 0 ? d : 0, i + 2);
    d = qNorm + norms[i + 3] - 2 * s3;
    if (d <= heap.worst) heap.push(d > 0 ? d : 0, i + 3);
  }
  for (; i < n; i++) {
    const d = combine(qNorm, norms[i], dot(queries, qOff, data, i * dim, dim));
    if (d <= heap.worst) heap.push(d, i);
  }
}

/**
 * Offers candidates `cands[0 … count)` to `heap` for the query at `queries[qOff …]`, each with its
 * canonical squared distance (or, with `negate`, −q·x). Row i of the database starts at
 * `values[base + i·stride]` (stride ≥ dim: rows may be padded). `four` is scratch of 4 values.
 */
export function pushCandidates(
  heap: TopK,
  queries: Float32Array,
  qOff: number,
  qNorm: number,
  values: Float32Array,
  base: number,
  stride: number,
  dim: number,
  norms: Float64Array,
  cands: Int32Array | number[],
  count: number,
  four: Float64Array,
  negate = false,
): void {
  // Rows in a row store: the same values from the SIMD kernel.
  const simd = canonicalDots(values, base, stride, dim, queries, qOff, cands, count, (t, d) => {
    const i = cands[t];
    heap.push(negate ? -d : combine(qNorm, norms[i], d), i);
  });
  if (simd) return;
  let c = 0;
  for (; c + 3 < count; c += 4) {
    const i0 = cands[c];
    const i1 = cands[c + 1];
    const i2 = cands[c + 2];
    const i3 = cands[c + 3];
    dotFour(
      queries,
      qOff,
      values,
      base + i0 * stride,
      base + i1 * stride,
      base + i2 * stride,
      base + i3 * stride,
      dim,
      four,
    );
    if (negate) {
      heap.push(-four[0], i0);
      heap.push(-four[1], i1);
      heap.push(-four[2], i2);
      heap.push(-four[3], i3);
    } else {
      heap.push(combine(qNorm, norms[i0], four[0]), i0);
      heap.push(combine(qNorm, norms[i1], four[1]), i1);
      heap.push(combine(qNorm, norms[i2], four[2]), i2);
      heap.push(combine(qNorm, norms[i3], four[3]), i3);
    }
  }
  for (; c < count; c++) {
    const i = cands[c];
    const d = dot(queries, qOff, values, base + i * stride, dim);
    heap.push(negate ? -d : combine(qNorm, norms[i], d), i);
  }
}
