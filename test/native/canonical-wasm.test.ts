import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateActivations, ROW_STORE_MIN_BYTES } from '../../lib/activations/extract';
import {
  allocateRowStore,
  canonicalDots,
  isRowStore,
  MAX_CANONICAL_DIM,
  rowStoreUnavailable,
} from '../../lib/native/canonical-wasm';
import { ExactIndex } from '../../lib/knn/exact/exact';
import { dot } from '../../lib/knn/kernel';
import type { KnnResult } from '../../lib/knn/types';
import { randomMatrix, tightClusters, uniform } from '../knn/helpers';

const why = rowStoreUnavailable();

/** Values that stress float64 summation: mixed signs and magnitudes, exact zeros, subnormal float32. */
function awkward(length: number, seed: number): Float32Array {
  const u = uniform(seed);
  return Float32Array.from({ length }, (_, i) => {
    const k = i % 11;
    if (k === 3) return 0;
    if (k === 7) return (u() - 0.5) * 1e-40; // subnormal in float32
    return (2 * u() - 1) * 10 ** Math.floor(6 * u() - 3);
  });
}

function dotsOf(
  values: Float32Array,
  base: number,
  stride: number,
  dim: number,
  query: Float32Array,
  qOff: number,
  ids: Int32Array | number[],
  count: number,
): number[] | null {
  const got: number[] = new Array<number>(count).fill(NaN);
  let next = 0;
  const ok = canonicalDots(values, base, stride, dim, query, qOff, ids, count, (t, d) => {
    assert.equal(t, next++, 'candidates are offered in order');
    got[t] = d;
  });
  return ok ? got : null;
}

test('row-store dot products equal the JavaScript canonical ones bit for bit', { skip: why ?? false }, () => {
  // dims around the 8-value unrolled step and its tail; counts around groups of 4, pairs, a last
  // row, and beyond one 1,024-candidate chunk; rows padded (stride > dim) and at an offset.
  for (const dim of [1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 100, 513]) {
    for (const pad of [0, 5]) {
      const stride = dim + pad;
      const rows = 60;
      const base = 3;
      const store = allocateRowStore(base + rows * stride + 7);
      store.set(awkward(store.length, dim * 10 + pad));
      // A view starting inside the store: byte offsets are honoured.
      const view = store.subarray(2);
      const queries = awkward(2 * dim + 1, 99 + dim);
      const u = uniform(dim + 1);
      const ids = Int32Array.from({ length: 1100 }, () => Math.floor(u() * rows));
      for (const count of [0, 1, 2, 3, 4, 5, 7, 8, 9, 59, 1100]) {
        for (const qOff of [0, dim + 1]) {
          const got = dotsOf(view, base - 2, stride, dim, queries, qOff, ids, count);
          assert.ok(got, 'a view of a row store is a row store');
          for (let c = 0; c < count; c++) {
            const want = dot(queries, qOff, view, base - 2 + ids[c] * stride, dim);
            assert.ok(
              Object.is(got[c], want),
              `dim ${dim}, stride ${stride}, count ${count}, candidate ${c}: ${got[c]} ≠ ${want}`,
            );
          }
        }
      }
    }
  }
});

test('canonicalDots leaves plain arrays and over-long queries to JavaScript', { skip: why ?? false }, () => {
  const plain = randomMatrix(4, 8, 1);
  assert.equal(dotsOf(plain, 0, 8, 8, plain, 0, [0, 1], 2), null);
  assert.equal(isRowStore(plain), false);
  const dim = MAX_CANONICAL_DIM + 1;
  const store = allocateRowStore(dim);
  assert.equal(isRowStore(store), true);
  assert.equal(dotsOf(store, 0, dim, dim, new Float32Array(dim), 0, [0], 1), null);
});

test('allocateRowStore: zero-filled, exactly the length asked, a checked length', { skip: why ?? false }, () => {
  const a = allocateRowStore(1000);
  assert.equal(a.length, 1000);
  assert.equal(a.byteOffset, 0);
  assert.ok(a.every((v) => v === 0));
  assert.ok(a.buffer.byteLength > a.byteLength, 'scratch space follows the rows');
  assert.throws(() => allocateRowStore(-1), /non-negative integer, found -1/);
  assert.throws(() => allocateRowStore(1.5), /found 1.5/);
});

test(
  'allocateActivations: a row store from ROW_STORE_MIN_BYTES on, a plain array below',
  { skip: why ?? false },
  () => {
    const small = allocateActivations(ROW_STORE_MIN_BYTES / 4 - 1);
    const large = allocateActivations(ROW_STORE_MIN_BYTES / 4);
    assert.equal(isRowStore(small), false);
    assert.equal(isRowStore(large), true);
    assert.equal(large.length, ROW_STORE_MIN_BYTES / 4);
  },
);

function assertSame(a: KnnResult, b: KnnResult, what: string): void {
  for (let i = 0; i < a.indices.length; i++) {
    assert.equal(a.indices[i], b.indices[i], `${what}: query ${Math.floor(i / a.k)}, neighbor ${i % a.k}: index`);
    assert.ok(
      Object.is(a.distances[i], b.distances[i]),
      `${what}: query ${Math.floor(i / a.k)}, neighbor ${i % a.k}: distance`,
    );
  }
}

test(
  'ExactIndex on a row store: the neighbors and distances of the same rows in a plain array',
  { skip: why ?? false },
  async () => {
    // Clustered rows with duplicates straddling the k-th neighbor, on every search path.
    const n = 1500;
    const dim = 37;
    const u = uniform(5);
    const plain = tightClusters(n, dim, randomMatrix(20, dim, 6), u);
    for (let i = 1; i < 40; i++) plain.copyWithin(i * 31 * dim, 0, dim); // 39 copies of row 0
    const store = allocateRowStore(n * dim);
    store.set(plain);
    const queries = plain.slice(0, 23 * dim).map((v) => v + 0.01 * (u() - 0.5));
    const configs = [
      { backend: 'js' as const },
      { backend: 'native' as const, projection: false as const, batchRows: 8, chunkRows: 256 },
      { backend: 'native' as const, projection: 8, projectionChoice: 'always' as const, batchRows: 8 },
    ];
    for (const options of configs) {
      const a = new ExactIndex(options);
      const b = new ExactIndex(options);
      try {
        await a.build(plain, { rows: n, dim });
      } catch (e) {
        if (options.backend === 'native') continue; // onnxruntime-node unavailable: exact.test.ts says so
        throw e;
      }
      await b.build(store, { rows: n, dim });
      if (options.projection) assert.ok(b.projectionRank > 0, 'the projection path ran');
      for (const k of [1, 40, 75])
        assertSame(
          await a.query(queries, { rows: 23, k }),
          await b.query(queries, { rows: 23, k }),
          `${JSON.stringify(options)}, k ${k}`,
        );
    }
  },
);
