import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExactIndex } from '../../../lib/knn/exact/exact';
import { combine, dot, rowSquaredNorms } from '../../../lib/knn/kernel';
import { gemmRunner } from '../../../lib/native/onnx-gemm';
import {
  buildProjection,
  lowerBound,
  sumSquares,
  residualInterval,
  type Projection,
} from '../../../lib/knn/exact/projection';
import { gaussianClusters } from '../../../lib/data/synthetic';
import { bruteForce, rowOf } from '../helpers';
import { projectionRank, RETRY_PROJECTION_EVERY } from '../../../lib/knn/exact/options';
import { choleskyInverse } from '../../../lib/knn/exact/linalg';

/** Non-negative clustered rows (ReLU-like), L2-normalized then centered as the DkNN does, with duplicates and a zero row. */
function reluLike(n: number, dim: number, seed: number): Float32Array {
  const { x } = gaussianClusters({ rows: n, dim, clusters: 12, seed, spread: 0.8, relu: true });
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[r * dim + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) x[r * dim + j] *= inv;
  }
  x.copyWithin(5 * dim, 3 * dim, 4 * dim); // row 5 = row 3
  x.copyWithin(9 * dim, 3 * dim, 4 * dim); // row 9 = row 3: a three-way tie
  x.fill(0, 7 * dim, 8 * dim); // a zero row
  const c = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) c[j] += x[r * dim + j] / n;
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) x[r * dim + j] -= c[j];
  return x;
}

async function native(): Promise<boolean> {
  try {
    await gemmRunner(2);
    return true;
  } catch {
    return false;
  }
}

test('the projection first pass returns exactly the plain index neighbors and distances, duplicates and ties included', async (t) => {
  if (!(await native())) return t.skip('onnxruntime-node unavailable');
  const n = 3000;
  const dim = 600;
  const data = reluLike(n + 40, dim, 11);
  const queries = data.slice(n * dim); // 40 held-out rows
  queries.set(data.subarray(3 * dim, 4 * dim), 0); // query 0 sits on the tied duplicates
  const db = data.subarray(0, n * dim);
  for (const rank of [8, 64]) {
    const proj = new ExactIndex({ backend: 'native', projection: rank });
    await proj.build(db, { rows: n, dim });
    assert.equal(proj.projectionRank, rank);
    const got = await proj.query(queries, { rows: 40, k: 20 });
    const ref = bruteForce(db, n, dim, queries, 40, 20);
    for (let r = 0; r < 40; r++)
      assert.deepEqual(rowOf(got.indices, r, 20), ref.indices[r], `rank ${rank}, query ${r}`);
    assert.deepEqual(rowOf(got.indices, 0, 20).slice(0, 3), [3, 5, 9], 'ties by the lower index');
    const plain = new ExactIndex({ backend: 'native', projection: false });
    await plain.build(db, { rows: n, dim });
    const p = await plain.query(queries, { rows: 40, k: 20 });
    assert.deepEqual(got.indices, p.indices);
    assert.deepEqual(got.distances, p.distances);
    assert.ok(proj.lastQueryStats.rerankedPerQuery! < n, 'it re-ranks fewer rows than the database holds');
  }
});

test('the bound never exceeds the canonical distance; the slack covers the worst float32 rounding 10 times over', async (t) => {
  if (!(await native())) return t.skip('onnxruntime-node unavailable');
  const n = 1500;
  const dim = 800;
  const data = reluLike(n + 30, dim, 5);
  const db = data.subarray(0, n * dim);
  const norms = rowSquaredNorms(db, n, dim);
  const gemm = await gemmRunner(2);
  const p = (await buildProjection(gemm, db, n, dim, norms, 48)) as Projection;
  assert.equal(typeof p, 'object');
  assert.ok(p.orthoError < 1e-4, `basis orthonormal to ${p.orthoError}`);
  let worst = 0; // most negative (canonical − bound) with no slack, relative to ‖q‖² + ‖x‖²
  let tight = Infinity;
  for (let a = 0; a < 30; a++) {
    const qOff = (n + a) * dim;
    const q2 = dot(data, qOff, data, qOff, dim);
    const pq = await gemm.abt(data.subarray(qOff, qOff + dim), 1, p.basis, p.rank, dim);
    const pq2 = sumSquares(pq, 0, p.rank);
    const [lo, hi] = residualInterval(q2, pq2, p.orthoError);
    const g = await gemm.abt(pq, 1, p.coords, n, p.rank);
    for (let x = 0; x < n; x++) {
      const exact = combine(q2, norms[x], dot(data, qOff, db, x * dim, dim));
      const b = lowerBound(g[x], pq2, p.coordNorms[x], lo, hi, p.resLo[x], p.resHi[x], q2, norms[x], p.orthoError, 0);
      worst = Math.min(worst, (exact - b) / (q2 + norms[x]));
      tight = Math.min(tight, exact - b);
    }
  }
  assert.ok(worst > -5e-4, `worst violation without slack ${worst} (default slack 5e-3)`);
  assert.ok(tight < 0.5, 'the bound is not vacuous');
});

test('Cholesky with dropping keeps independent rows and inverts the factor', () => {
  // Gram of rows a, 2a (dependent), b.
  const g = Float64Array.from([1, 2, 0.5, 2, 4, 1, 0.5, 1, 2]);
  const { keep, inv } = choleskyInverse(g, 3);
  assert.deepEqual(keep, [0, 2]);
  // L = [[1, 0], [0.5, √1.75]]: L⁻¹·L = I.
  const L = [1, 0, 0.5, Math.sqrt(1.75)];
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 2; j++) {
      const v = inv[i * 2] * L[j] + inv[i * 2 + 1] * L[2 + j];
      assert.ok(Math.abs(v - (i === j ? 1 : 0)) < 1e-12);
    }
});

test("projection ranks: 'auto' only for wide layers with enough rows, explicit ranks capped, bad ones refused", () => {
  assert.equal(projectionRank('auto', 60000, 12544), 512);
  assert.equal(projectionRank('auto', 60000, 3200), 256);
  assert.equal(projectionRank('auto', 60000, 1000), 0);
  assert.equal(projectionRank('auto', 5000, 12544), 0);
  assert.equal(projectionRank(false, 60000, 12544), 0);
  assert.equal(projectionRank(900, 500, 12544), 500);
  assert.throws(
    () => new ExactIndex({ projection: 0 }),
    /projection must be 'auto', false or a positive integer rank, found 0/,
  );
  assert.throws(() => new ExactIndex({ projectionSlack: -1 }), /projectionSlack must be ≥ 0, found -1/);
});

test('queries far from every row, where the bound prunes little, fall back to the plain path with the same results', async (t) => {
  if (!(await native())) return t.skip('onnxruntime-node unavailable');
  const n = 8000;
  const dim = 300;
  // Low-rank rows (as network activations are): ReLU of 12 clustered latent values mixed into 300.
  const { x: z } = gaussianClusters({ rows: n + 12, dim: 12, clusters: 8, seed: 21, spread: 0.3 });
  const { x: w } = gaussianClusters({ rows: 12, dim, clusters: 1, seed: 22, spread: 1 });
  const data = new Float32Array((n + 12) * dim);
  for (let r = 0; r < n + 12; r++)
    for (let j = 0; j < dim; j++) {
      let v = 0;
      for (let t = 0; t < 12; t++) v += z[r * 12 + t] * w[t * dim + j];
      data[r * dim + j] = Math.max(0, v);
    }
  const db = data.subarray(0, n * dim);
  const near = data.slice(n * dim); // held-out rows from the same clusters
  const { x: far } = gaussianClusters({ rows: 12, dim, clusters: 12, seed: 99, spread: 3 }); // random directions, near nothing
  const proj = new ExactIndex({ backend: 'native', projection: 48 });
  await proj.build(db, { rows: n, dim });
  const fellBack: number[] = [];
  for (const queries of [near, far]) {
    const got = await proj.query(queries, { rows: 12, k: 10 });
    const ref = bruteForce(db, n, dim, queries, 12, 10);
    for (let r = 0; r < 12; r++) assert.deepEqual(rowOf(got.indices, r, 10), ref.indices[r], `query ${r}`);
    fellBack.push(proj.lastQueryStats.plainFallback!);
  }
  assert.ok(
    fellBack[1] > fellBack[0],
    `queries searched by the plain path: near ${fellBack[0]}, far ${fellBack[1]} (of 12)`,
  );
});

test('the native GEMM writes into a given buffer (a view of it, no new array) and refuses one too small', async (t) => {
  if (!(await native())) return t.skip('onnxruntime-node unavailable');
  const gemm = await gemmRunner(2);
  const a = Float32Array.from({ length: 2 * 3 }, (_, i) => i - 2);
  const b = Float32Array.from({ length: 4 * 3 }, (_, i) => (i % 5) - 1);
  const fresh = await gemm.abt(a, 2, b, 4, 3);
  const buffer = new Float32Array(20).fill(7);
  const view = await gemm.abt(a, 2, b, 4, 3, buffer);
  assert.equal(view.buffer, buffer.buffer);
  assert.deepEqual(Array.from(view), Array.from(fresh));
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let d = 0; d < 3; d++) s += a[i * 3 + d] * b[j * 3 + d];
      assert.equal(buffer[i * 4 + j], s);
    }
  assert.ok(
    buffer.subarray(8).every((v) => v === 7),
    'values past m·n untouched',
  );
  await assert.rejects(gemm.abt(a, 2, b, 4, 3, new Float32Array(7)), /out holds 7 values, expected at least 2 × 4 = 8/);
});

test("projectionChoice 'measure' times the projection on the first batch, the plain path once, and continues with the faster; same neighbors as 'always'", async (t) => {
  if (!(await native())) return t.skip('onnxruntime-node unavailable');
  const n = 2000;
  const dim = 200;
  const data = reluLike(n + 24, dim, 31);
  const db = data.subarray(0, n * dim);
  const { x: far } = gaussianClusters({ rows: 16, dim, clusters: 16, seed: 7, spread: 3 });
  const queries = new Float32Array(40 * dim);
  queries.set(far, 0); // the timed batch and the plain batch: far from every row
  queries.set(data.subarray(n * dim), 16 * dim); // then 24 held-out rows
  const ref = bruteForce(db, n, dim, queries, 40, 10);
  const always = new ExactIndex({ backend: 'native', projection: 32, batchRows: 8, projectionChoice: 'always' });
  await always.build(db, { rows: n, dim });
  const a = await always.query(queries, { rows: 40, k: 10 });
  assert.equal(always.lastQueryStats.projectedRows, 40);
  assert.equal(always.lastQueryStats.secondsPerQuery, undefined, "'always' measures nothing");
  const measure = new ExactIndex({ backend: 'native', projection: 32, batchRows: 8 });
  await measure.build(db, { rows: n, dim });
  let plainSeconds = 0;
  let losses = 0; // the policy: after a loss, plain without timing, timed again every RETRY_PROJECTION_EVERY-th call
  for (let call = 1; call <= 6; call++) {
    const got = await measure.query(queries, { rows: 40, k: 10 });
    for (let r = 0; r < 40; r++)
      assert.deepEqual(rowOf(got.indices, r, 10), ref.indices[r], `call ${call}, query ${r}`);
    assert.deepEqual(got.distances, a.distances);
    const stats = measure.lastQueryStats;
    if (losses > 0 && losses % RETRY_PROJECTION_EVERY !== 0) {
      assert.equal(stats.secondsPerQuery, undefined, `call ${call}: not timed after a loss`);
      assert.equal(stats.projectedRows, 0, `call ${call}: all plain after a loss`);
      losses++;
      continue;
    }
    const s = stats.secondsPerQuery!;
    assert.ok(s.projected > 0 && s.plain > 0, `both paths timed: ${JSON.stringify(s)}`);
    if (call === 1) plainSeconds = s.plain;
    else assert.equal(s.plain, plainSeconds, 'the plain time per query is measured once per build');
    // Call 1: 8 timed through the projection, 8 timed through the plain path, 24 by the faster.
    // Later calls: 8 timed through the projection, 32 by the faster.
    const rest = call === 1 ? 24 : 32;
    assert.equal(stats.projectedRows, 8 + (s.projected <= s.plain ? rest : 0), JSON.stringify(s));
    losses = s.projected <= s.plain ? 0 : losses + 1;
  }
  assert.throws(
    () => new ExactIndex({ projectionChoice: 'sometimes' as 'always' }),
    /projectionChoice must be 'measure' or 'always', found sometimes/,
  );
});
