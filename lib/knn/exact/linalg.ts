/** The small linear algebra of the projection's basis: an inverse Cholesky factor and the orthonormality error. */
import { allocateRowStore } from '../../native/canonical-wasm';
import { canonicalDotsInto } from '../kernel';

/**
 * Lower-triangular Cholesky factor of the r × r Gram matrix `g`, dropping each row whose pivot is
 * ≤ 1e-6 of its diagonal (linearly dependent rows); returns the kept rows and L⁻¹ (r' × r', float64).
 */
export function choleskyInverse(g: Float64Array, r: number): { keep: number[]; inv: Float64Array } {
  const keep: number[] = [];
  const L: Float64Array[] = [];
  for (let i = 0; i < r; i++) {
    const gi = g[i * r + i];
    if (!(gi > 0)) continue;
    const row = new Float64Array(keep.length + 1);
    let pivot = gi;
    for (let t = 0; t < keep.length; t++) {
      const lt = L[t];
      let s = g[i * r + keep[t]];
      for (let u = 0; u < t; u++) s -= row[u] * lt[u];
      row[t] = s / lt[t];
      pivot -= row[t] * row[t];
    }
    if (!(pivot > 1e-6 * gi)) continue;
    row[keep.length] = Math.sqrt(pivot);
    keep.push(i);
    L.push(row);
  }
  const m = keep.length;
  const inv = new Float64Array(m * m);
  for (let c = 0; c < m; c++) {
    // Column c of L⁻¹ by forward substitution on e_c.
    inv[c * m + c] = 1 / L[c][c];
    for (let i = c + 1; i < m; i++) {
      let s = 0;
      for (let u = c; u < i; u++) s -= L[i][u] * inv[u * m + c];
      inv[i * m + c] = s / L[i][i];
    }
  }
  return { keep, inv };
}

/** ‖QQᵀ − I‖_F of the rows of `q` (r × dim), with every product summed in float64 (exact to ~1e-13). */
export function orthonormalityError(q: Float32Array, r: number, dim: number): number {
  // The canonical dot products, in SIMD on a row-store copy of the basis where available.
  const rows = allocateRowStore(r * dim);
  rows.set(q.subarray(0, r * dim));
  const ids = Int32Array.from({ length: r }, (_, j) => j);
  const s = new Float64Array(r);
  let e2 = 0;
  for (let i = 0; i < r; i++) {
    canonicalDotsInto(rows, 0, dim, dim, rows, i * dim, ids, i + 1, s);
    for (let j = 0; j <= i; j++) {
      const e = s[j] - (i === j ? 1 : 0);
      e2 += i === j ? e * e : 2 * e * e;
    }
  }
  return Math.sqrt(e2);
}
