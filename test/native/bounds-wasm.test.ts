import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundsWorkspace } from '../../lib/native/bounds-wasm';
import { ExactIndex } from '../../lib/knn/exact/exact';
import { fillBounds } from '../../lib/knn/exact/projection';
import { TopK } from '../../lib/knn/topk';
import { randomMatrix, uniform } from '../knn/helpers';
import { offerBlock } from '../../lib/knn/exact/search';

const probe = BoundsWorkspace.create(1, 1, 1);

test(
  'SIMD projection bounds: the JavaScript bounds and heaps, value for value',
  { skip: probe === null ? 'WebAssembly SIMD unavailable' : false },
  () => {
    // n rows, blocks of w (odd, more than one 1,024-row call), m queries; residual intervals that
    // overlap and that do not (gap 0 and gap > 0), negative bounds, ties.
    const n = 5003;
    const m = 3;
    const chunk = 2501;
    const u = uniform(77);
    const ws = BoundsWorkspace.create(n, m, chunk)!;
    const rowTerm = Float64Array.from({ length: n }, () => u() - 0.3);
    const resLo = Float64Array.from({ length: n }, () => u() * 0.5);
    const resHi = resLo.map((v) => v + u() * 0.1);
    for (let x = 0; x < n; x += 97) rowTerm[x] = rowTerm[0]; // ties
    ws.rowTerm.set(rowTerm);
    ws.resLo.set(resLo);
    ws.resHi.set(resHi);
    const q = {
      pq2: Float64Array.from([0.4, 0.9, 0.1]),
      lo: Float64Array.from([0.1, 0.45, 0.3]),
      hi: Float64Array.from([0.2, 0.5, 0.31]),
      n2: Float64Array.from([1, 1.2, 0.8]),
    };
    const lbJs = new Float32Array(m * n);
    const heapsJs = [new TopK(40), new TopK(40), new TopK(40)];
    const heapsSimd = [new TopK(40), new TopK(40), new TopK(40)];
    let blocks = 0;
    for (let c0 = 0; c0 < n; c0 += chunk) {
      const w = Math.min(chunk, n - c0);
      const g = ws.block.subarray(0, m * w);
      for (let i = 0; i < g.length; i++) g[i] = (u() - 0.5) * (i % 7 === 0 ? 1e-3 : 1);
      const gCopy = Float32Array.from(g);
      fillBounds(gCopy, m, w, c0, n, q, rowTerm, resLo, resHi, 0.999, 5e-3, lbJs, heapsJs);
      ws.fill(m, w, c0, q, 0.999, 5e-3, heapsSimd);
      blocks++;
    }
    assert.equal(blocks, 3);
    let positive = 0;
    for (let i = 0; i < lbJs.length; i++) {
      assert.ok(Object.is(ws.lb[i], lbJs[i]), `bound ${i}: ${ws.lb[i]} ≠ ${lbJs[i]}`);
      if (lbJs[i] > 0) positive++;
    }
    assert.ok(positive > 0 && positive < lbJs.length, 'bounds of both signs');
    for (let a = 0; a < m; a++) {
      const [ia, da, ib, db] = [new Int32Array(40), new Float64Array(40), new Int32Array(40), new Float64Array(40)];
      assert.equal(heapsSimd[a].drainSorted(ib, db, 0), heapsJs[a].drainSorted(ia, da, 0));
      assert.deepEqual(Array.from(ib), Array.from(ia), `query ${a}: heap rows`);
      assert.deepEqual(Array.from(db), Array.from(da), `query ${a}: heap bounds`);
    }
  },
);

test(
  'SIMD approximate distances of the plain GEMM path: the JavaScript heaps, value for value',
  { skip: probe === null ? 'WebAssembly SIMD unavailable' : false },
  () => {
    const n = 4099;
    const m = 2;
    const chunk = 2050;
    const u = uniform(78);
    const ws = BoundsWorkspace.create(n, m, chunk, false)!;
    assert.equal(ws.lb.length, 0, 'no bound array for the plain path');
    const norms = Float64Array.from({ length: n }, () => u() * 2);
    for (let x = 5; x < n; x += 61) norms[x] = norms[0]; // ties
    ws.rowTerm.set(norms);
    const qNorms = Float64Array.from([0.7, 1.1, 0.9]);
    const heapsJs = [new TopK(30), new TopK(30)];
    const heapsSimd = [new TopK(30), new TopK(30)];
    for (let c0 = 0; c0 < n; c0 += chunk) {
      const w = Math.min(chunk, n - c0);
      const g = ws.block.subarray(0, m * w);
      for (let i = 0; i < g.length; i++) g[i] = u() - 0.2;
      offerBlock(Float32Array.from(g), m, w, c0, qNorms, 1, norms, heapsJs);
      ws.offer(m, w, c0, qNorms, 1, heapsSimd);
    }
    for (let a = 0; a < m; a++) {
      const [ia, da, ib, db] = [new Int32Array(30), new Float64Array(30), new Int32Array(30), new Float64Array(30)];
      assert.equal(heapsSimd[a].drainSorted(ib, db, 0), heapsJs[a].drainSorted(ia, da, 0));
      assert.deepEqual(Array.from(ib), Array.from(ia), `query ${a}: heap rows`);
      assert.deepEqual(Array.from(db), Array.from(da), `query ${a}: heap distances`);
    }
  },
);

test(
  'a released workspace serves the next search of the same sizes, and what it held before changes no result',
  { skip: probe === null ? 'WebAssembly SIMD unavailable' : false },
  async () => {
    const a = BoundsWorkspace.create(700, 8, 300)!;
    a.release();
    const b = BoundsWorkspace.create(700, 8, 300)!;
    assert.equal(b, a, 'reused');
    assert.notEqual(BoundsWorkspace.create(700, 8, 300), a, 'handed out once at a time');
    assert.notEqual(BoundsWorkspace.create(701, 8, 300), a, 'other sizes get their own');
    b.release();
    // Two indexes of the same sizes on different data share one workspace, query after query; each
    // gives the JavaScript backend's neighbors and distances.
    const n = 900;
    const dim = 24;
    const data = [randomMatrix(n, dim, 31), randomMatrix(n, dim, 32).map((v) => 3 * v)];
    const queries = randomMatrix(11, dim, 33);
    for (const options of [{ projection: 6, projectionChoice: 'always' as const }, { projection: false as const }]) {
      const native = data.map(() => new ExactIndex({ backend: 'native', batchRows: 4, chunkRows: 256, ...options }));
      try {
        for (const [i, index] of native.entries()) await index.build(data[i], { rows: n, dim });
      } catch {
        continue; // onnxruntime-node unavailable: exact.test.ts says so
      }
      const js = data.map(() => new ExactIndex({ backend: 'js' }));
      for (const [i, index] of js.entries()) await index.build(data[i], { rows: n, dim });
      for (let round = 0; round < 2; round++) {
        for (const i of [0, 1]) {
          const got = await native[i].query(queries, { rows: 11, k: 7 });
          const want = await js[i].query(queries, { rows: 11, k: 7 });
          assert.deepEqual(got.indices, want.indices, `${JSON.stringify(options)}: index ${i}, round ${round}`);
          assert.deepEqual(got.distances, want.distances, `${JSON.stringify(options)}: index ${i}, round ${round}`);
        }
      }
    }
  },
);
