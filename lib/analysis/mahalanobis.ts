/**
 * The Mahalanobis detector (Lee et al. 2018) on one layer: class means and one covariance shared by
 * the classes, fitted on the training activations; an input scores −min_c (f − μ_c)ᵀ Σ⁺ (f − μ_c).
 * Higher = more in-distribution (the convention of `ood-scores.ts`).
 *
 * As the authors' code (scikit-learn's `EmpiricalCovariance` on the class-centered features): Σ is
 * the maximum-likelihood estimate Σ_i (f_i − μ_{y_i})(f_i − μ_{y_i})ᵀ / N, and its inverse the
 * pseudo-inverse (scipy's `pinvh`: eigenvalues at or below max λ · dim · 2⁻⁵² are dropped), so a unit
 * that never fires on the training images (a dead ReLU, variance 0) is ignored rather than making
 * every distance infinite. The paper's input preprocessing and its ensemble over layers (tuned with
 * out-of-distribution data) are left out: this is the single-layer, tuning-free variant.
 *
 * Σ⁺ = W Wᵀ with W = V Λ^{-1/2} (eigenvectors of Σ over the kept eigenvalues), so a distance is
 * ‖Wᵀf − Wᵀμ_c‖²: one projection per input, then one short difference per class.
 */
import type { InDistributionScores, Rows } from './ood-scores';

/** What {@link fitMahalanobis} learns. */
export interface MahalanobisModel {
  /** Feature length. */
  dim: number;
  /** Eigen-directions kept in the pseudo-inverse (≤ dim). */
  rank: number;
  /** The classes that had training rows, in increasing order. */
  classes: number[];
  /** Training rows per class, aligned with {@link classes}. */
  counts: number[];
  /** `dim × rank`, row-major: W = V Λ^{-1/2}. */
  whitening: Float64Array;
  /** `classes.length × rank`: Wᵀ μ_c per class. */
  projectedMeans: Float64Array;
}

/**
 * Eigenvalues and eigenvectors of the symmetric `n × n` matrix `a` (row-major; only read) by
 * cyclic Jacobi rotations in float64. `vectors` is `n × n` row-major with eigenvector j in column j;
 * `values[j]` its eigenvalue (in no particular order).
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  if (a.length !== n * n) throw new Error(`symmetricEigen: expected ${n}×${n} = ${n * n} values, found ${a.length}`);
  const A = Float64Array.from(a);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += A[p * n + p] ** 2;
      for (let q = p + 1; q < n; q++) off += A[p * n + q] ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n - 1; p++) for (let q = p + 1; q < n; q++) rotate(A, V, { n, p, q });
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = A[i * n + i];
  return { values, vectors: V };
}

/** One Jacobi rotation zeroing A[p][q] (Numerical Recipes' formulas), applied to A and accumulated in V. */
function rotate(A: Float64Array, V: Float64Array, at: { n: number; p: number; q: number }): void {
  const { n, p, q } = at;
  const apq = A[p * n + q];
  if (apq === 0) return;
  const app = A[p * n + p];
  const aqq = A[q * n + q];
  const theta = (aqq - app) / (2 * apq);
  const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  for (let k = 0; k < n; k++) {
    if (k === p || k === q) continue;
    const akp = A[k * n + p];
    const akq = A[k * n + q];
    A[k * n + p] = A[p * n + k] = c * akp - s * akq;
    A[k * n + q] = A[q * n + k] = s * akp + c * akq;
  }
  A[p * n + p] = app - t * apq;
  A[q * n + q] = aqq + t * apq;
  A[p * n + q] = A[q * n + p] = 0;
  for (let k = 0; k < n; k++) {
    const vkp = V[k * n + p];
    const vkq = V[k * n + q];
    V[k * n + p] = c * vkp - s * vkq;
    V[k * n + q] = s * vkp + c * vkq;
  }
}

function classMeans(
  features: Rows,
  labels: ArrayLike<number>,
): { classes: number[]; counts: number[]; means: Map<number, Float64Array> } {
  const { dim } = features;
  const rows = features.values.length / dim;
  const means = new Map<number, Float64Array>();
  const counts = new Map<number, number>();
  for (let r = 0; r < rows; r++) {
    const y = labels[r];
    if (!Number.isInteger(y) || y < 0) throw new Error(`labels[${r}]: expected a class index ≥ 0, found ${y}`);
    let m = means.get(y);
    if (!m) means.set(y, (m = new Float64Array(dim)));
    counts.set(y, (counts.get(y) ?? 0) + 1);
    for (let j = 0; j < dim; j++) {
      const v = features.values[r * dim + j];
      if (!Number.isFinite(v)) throw new Error(`features[${r}][${j}]: expected a finite number, found ${v}`);
      m[j] += v;
    }
  }
  const classes = [...means.keys()].sort((a, b) => a - b);
  for (const c of classes) {
    const m = means.get(c)!;
    for (let j = 0; j < dim; j++) m[j] /= counts.get(c)!;
  }
  return { classes, counts: classes.map((c) => counts.get(c)!), means };
}

/** Σ = Σ_i (f_i − μ_{y_i})(f_i − μ_{y_i})ᵀ / N, float64, `dim × dim` row-major. */
function sharedCovariance(features: Rows, labels: ArrayLike<number>, means: Map<number, Float64Array>): Float64Array {
  const { dim } = features;
  const rows = features.values.length / dim;
  const cov = new Float64Array(dim * dim);
  const d = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const m = means.get(labels[r])!;
    for (let j = 0; j < dim; j++) d[j] = features.values[r * dim + j] - m[j];
    for (let i = 0; i < dim; i++) {
      const di = d[i];
      if (di === 0) continue;
      const o = i * dim;
      for (let j = i; j < dim; j++) cov[o + j] += di * d[j];
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      cov[i * dim + j] /= rows;
      cov[j * dim + i] = cov[i * dim + j];
    }
  }
  return cov;
}

/**
 * Class means and the shared covariance's pseudo-inverse from training `features` (`rows × dim`, e.g.
 * a layer's activations on the kNN database) and their `labels` (see the module comment).
 * @throws on no rows, a length mismatch, a label that is not a class index, or a non-finite value.
 */
export function fitMahalanobis(features: Rows, labels: ArrayLike<number>): MahalanobisModel {
  const { dim } = features;
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`features.dim: expected a positive integer, found ${dim}`);
  const rows = features.values.length / dim;
  if (!Number.isInteger(rows) || rows === 0) {
    throw new Error(
      `fitMahalanobis: expected at least one row of ${dim} features, found ${features.values.length} values`,
    );
  }
  if (labels.length !== rows) throw new Error(`labels: expected ${rows} labels (one per row), found ${labels.length}`);
  const { classes, counts, means } = classMeans(features, labels);
  const { values, vectors } = symmetricEigen(sharedCovariance(features, labels, means), dim);
  const largest = values.reduce((a, b) => Math.max(a, b), 0);
  const kept = [...values.keys()].filter((j) => values[j] > largest * dim * 2 ** -52);
  const rank = kept.length;
  const whitening = new Float64Array(dim * rank);
  kept.forEach((j, col) => {
    const scale = 1 / Math.sqrt(values[j]);
    for (let i = 0; i < dim; i++) whitening[i * rank + col] = vectors[i * dim + j] * scale;
  });
  const projectedMeans = new Float64Array(classes.length * rank);
  classes.forEach((c, ci) => project(means.get(c)!, whitening, projectedMeans.subarray(ci * rank, (ci + 1) * rank)));
  return { dim, rank, classes, counts, whitening, projectedMeans };
}

/** out = Wᵀ f (W: `f.length × out.length`). */
function project(f: ArrayLike<number>, whitening: Float64Array, out: Float64Array): void {
  const rank = out.length;
  out.fill(0);
  for (let i = 0; i < f.length; i++) {
    const v = f[i];
    if (v === 0) continue;
    const o = i * rank;
    for (let j = 0; j < rank; j++) out[j] += v * whitening[o + j];
  }
}

/**
 * −min_c (f − μ_c)ᵀ Σ⁺ (f − μ_c) for every row of `features` (`rows × model.dim`). Higher = more
 * in-distribution. @throws when the rows do not have the model's length.
 */
export function mahalanobisScore(model: MahalanobisModel, features: Rows): InDistributionScores {
  if (features.dim !== model.dim || features.values.length % model.dim !== 0) {
    throw new Error(
      `mahalanobisScore: expected rows of ${model.dim} features (as fitted), found dim ${features.dim} and ${features.values.length} values`,
    );
  }
  const rows = features.values.length / model.dim;
  const { rank, projectedMeans } = model;
  const g = new Float64Array(rank);
  const row = new Float64Array(model.dim);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < model.dim; j++) row[j] = features.values[r * model.dim + j];
    project(row, model.whitening, g);
    let best = Infinity;
    for (let c = 0; c < model.classes.length; c++) {
      let d = 0;
      for (let j = 0; j < rank; j++) d += (g[j] - projectedMeans[c * rank + j]) ** 2;
      if (d < best) best = d;
    }
    out[r] = -best;
  }
  return out;
}
