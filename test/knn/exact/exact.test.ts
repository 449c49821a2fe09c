import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ExactIndex } from '../../../lib/knn/exact/exact';
import { NOT_BUILT_MESSAGE } from '../../../lib/knn/checks';
import type { KnnResult } from '../../../lib/knn/types';
import { bruteForce, randomMatrix, rowOf, tightClusters, uniform } from '../helpers';
import type { ExactIndexOptions } from '../../../lib/knn/exact/options';

let nativeProbe: Promise<string | null> | null = null;
/** null when the native backend works here, else the reason it does not. */
function nativeUnavailable(): Promise<string | null> {
  nativeProbe ??= new ExactIndex({ backend: 'native' }).build(new Float32Array(2), { rows: 1, dim: 2 }).then(
    () => null,
    (e: Error) => e.message,
  );
  return nativeProbe;
}

/** Builds an index on the given backend, or skips the test when that backend cannot run here. */
async function indexOn(
  t: TestContext,
  backend: 'js' | 'native',
  data: Float32Array,
  n: number,
  dim: number,
  options: ExactIndexOptions = {},
): Promise<ExactIndex | null> {
  if (backend === 'native') {
    const why = await nativeUnavailable();
    if (why) {
      t.skip(`native backend unavailable: ${why}`);
      return null;
    }
  }
  const index = new ExactIndex({ ...options, backend });
  await index.build(data, { rows: n, dim });
  return index;
}

function assertMatchesBruteForce(
  res: KnnResult,
  data: Float32Array,
  n: number,
  dim: number,
  queries: Float32Array,
): void {
  const ref = bruteForce(data, n, dim, queries, res.rows, res.k);
  for (let r = 0; r < res.rows; r++) {
    assert.deepEqual(rowOf(res.indices, r, res.k), ref.indices[r], `query ${r}: neighbor indices`);
    const got = rowOf(res.distances, r, res.k);
    for (let t = 0; t < res.k; t++) {
      const want = ref.distances[r][t];
      assert.ok(
        Math.abs(got[t] - want) <= 1e-5 * (1 + want),
        `query ${r}, neighbor ${t}: distance ${got[t]} ≠ ${want}`,
      );
      if (t > 0) assert.ok(got[t] >= got[t - 1], `query ${r}: distances not ascending at ${t}`);
    }
  }
}

function assertIdentical(a: KnnResult, b: KnnResult): void {
  assert.equal(a.rows, b.rows);
  assert.equal(a.k, b.k);
  for (let i = 0; i < a.indices.length; i++) {
    const r = Math.floor(i / a.k);
    assert.equal(a.indices[i], b.indices[i], `query ${r}, neighbor ${i % a.k}: index`);
    assert.equal(a.distances[i], b.distances[i], `query ${r}, neighbor ${i % a.k}: distance`);
  }
}

// Sizes chosen to hit every kernel tail: odd n (2-row tile), query counts not a multiple of 4, k = n.
const CASES: { n: number; dim: number; rows: number; k: number }[] = [
  { n: 1, dim: 3, rows: 2, k: 1 },
  { n: 7, dim: 5, rows: 5, k: 7 },
  { n: 50, dim: 1, rows: 9, k: 4 },
  { n: 101, dim: 17, rows: 6, k: 10 },
  { n: 64, dim: 33, rows: 4, k: 64 },
  { n: 300, dim: 40, rows: 13, k: 75 },
];

for (const backend of ['js', 'native'] as const) {
  describe(`ExactIndex, ${backend} backend`, () => {
    for (const c of CASES) {
      test(`matches a naive brute force for n = ${c.n}, dim = ${c.dim}, ${c.rows} queries, k = ${c.k}`, async (t) => {
        const data = randomMatrix(c.n, c.dim, 10 + c.n);
        const queries = randomMatrix(c.rows, c.dim, 20 + c.n);
        const index = await indexOn(t, backend, data, c.n, c.dim);
        if (!index) return;
        assert.equal(index.backend, backend);
        assert.equal(index.size, c.n);
        assert.equal(index.dim, c.dim);
        assertMatchesBruteForce(await index.query(queries, { rows: c.rows, k: c.k }), data, c.n, c.dim, queries);
      });
    }

    test('puts duplicate points in index order (lower index first)', async (t) => {
      // Rows 0, 2, 3 are the same point a; row 1 is b; row 4 is c.
      const a = [1, 2, 3];
      const data = Float32Array.from([...a, 5, 5, 5, ...a, ...a, -1, 0, 0]);
      const index = await indexOn(t, backend, data, 5, 3);
      if (!index) return;
      const res = await index.query(Float32Array.from(a), { rows: 1, k: 5 });
      // |a − c|² = 4 + 4 + 9 = 17 (c = (-1,0,0)); |a − b|² = 16 + 9 + 4 = 29 (b = (5,5,5)).
      assert.deepEqual(rowOf(res.indices, 0, 5), [0, 2, 3, 4, 1]);
      assert.deepEqual(rowOf(res.distances, 0, 5), [0, 0, 0, 17, 29]);
    });

    test('returns each database row as its own nearest neighbor at distance 0', async (t) => {
      const n = 60;
      const dim = 12;
      const data = randomMatrix(n, dim, 3);
      const index = await indexOn(t, backend, data, n, dim);
      if (!index) return;
      const res = await index.query(data, { rows: n, k: 3 });
      for (let r = 0; r < n; r++) {
        assert.equal(res.indices[r * 3], r, `row ${r}`);
        assert.equal(res.distances[r * 3], 0, `row ${r}`);
      }
    });

    test('answers zero queries with empty arrays', async (t) => {
      const index = await indexOn(t, backend, randomMatrix(4, 2, 1), 4, 2);
      if (!index) return;
      const res = await index.query(new Float32Array(0), { rows: 0, k: 2 });
      assert.equal(res.rows, 0);
      assert.equal(res.indices.length, 0);
      assert.equal(res.distances.length, 0);
    });

    test('reports progress up to (rows, rows), never decreasing', async (t) => {
      const index = await indexOn(t, backend, randomMatrix(40, 6, 5), 40, 6, { batchRows: 3 });
      if (!index) return;
      const seen: [number, number][] = [];
      await index.query(randomMatrix(10, 6, 6), {
        rows: 10,
        k: 5,
        onProgress: (done, total) => seen.push([done, total]),
      });
      assert.deepEqual(seen[seen.length - 1], [10, 10]);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] >= seen[i - 1][0]);
    });
  });
}

describe('ExactIndex, js and native backends', () => {
  test('give identical lists and distances on clustered data', async (t) => {
    // 40 tight clusters: many near neighbors at similar distances.
    const n = 2000;
    const dim = 48;
    const u = uniform(7);
    const data = tightClusters(n, dim, randomMatrix(40, dim, 8), u);
    const queries = data.slice(0, 37 * dim).map((v) => v + 0.01 * (u() - 0.5));
    const native = await indexOn(t, 'native', data, n, dim, { batchRows: 8, chunkRows: 300 });
    if (!native) return;
    const js = await indexOn(t, 'js', data, n, dim);
    for (const k of [1, 10, 75, 200]) {
      assertIdentical(await js!.query(queries, { rows: 37, k }), await native.query(queries, { rows: 37, k }));
    }
  });

  test('stay identical when duplicates straddle the k-th neighbor (native re-search path)', async (t) => {
    // 30 copies of one point among random points; queries next to it: the k-th neighbor falls
    // inside the block of copies, so no candidate margin can separate them.
    const n = 500;
    const dim = 16;
    const data = randomMatrix(n, dim, 11);
    const dup = data.slice(0, dim);
    const u = uniform(12);
    const copies = Array.from({ length: 30 }, () => Math.floor(u() * n));
    for (const i of copies) data.set(dup, i * dim);
    const queries = Float32Array.from({ length: 5 * dim }, (_, j) => dup[j % dim] + 1e-3 * (u() - 0.5));
    const native = await indexOn(t, 'native', data, n, dim, { rerankMargin: 2, chunkRows: 128 });
    if (!native) return;
    const js = await indexOn(t, 'js', data, n, dim);
    const nat = await native.query(queries, { rows: 5, k: 12 });
    assert.ok(native.lastQueryStats.researched > 0, 'expected the re-search path to run');
    assertIdentical(await js!.query(queries, { rows: 5, k: 12 }), nat);
    assertMatchesBruteForce(nat, data, n, dim, queries);
  });

  test('auto picks native when onnxruntime-node loads, and says why not otherwise', async () => {
    const index = new ExactIndex();
    assert.equal(index.backend, null);
    await index.build(randomMatrix(3, 2, 1), { rows: 3, dim: 2 });
    const why = await nativeUnavailable();
    assert.equal(index.backend, why ? 'js' : 'native');
    assert.equal(index.nativeUnavailableReason, why);
  });
});

describe('ExactIndex errors', () => {
  test('query before build', async () => {
    await assert.rejects(new ExactIndex({ backend: 'js' }).query(new Float32Array(2), { rows: 1, k: 1 }), {
      message: NOT_BUILT_MESSAGE,
    });
  });

  test('dimension mismatch names expected and found', async () => {
    const index = new ExactIndex({ backend: 'js' });
    await index.build(randomMatrix(10, 4, 1), { rows: 10, dim: 4 });
    await assert.rejects(index.query(new Float32Array(6), { rows: 2, k: 1 }), {
      name: 'RangeError',
      message: 'dimension mismatch: queries have 6 values (3 per row), expected rows × dim = 2 × 4 = 8',
    });
  });

  test('k must be an integer in 1…n', async () => {
    const index = new ExactIndex({ backend: 'js' });
    await index.build(randomMatrix(10, 4, 1), { rows: 10, dim: 4 });
    const q = new Float32Array(4);
    await assert.rejects(index.query(q, { rows: 1, k: 0 }), { message: 'k must be a positive integer, found 0' });
    await assert.rejects(index.query(q, { rows: 1, k: -3 }), /k must be a positive integer, found -3/);
    await assert.rejects(index.query(q, { rows: 1, k: 2.5 }), /found 2.5/);
    await assert.rejects(index.query(q, { rows: 1, k: 11 }), {
      message: 'k = 11 exceeds the 10 rows in the index: expected k ≤ 10',
    });
  });

  test('build checks sizes and values', async () => {
    const index = new ExactIndex({ backend: 'js' });
    await assert.rejects(index.build(new Float32Array(7), { rows: 2, dim: 4 }), {
      message: 'data has 7 values, expected rows × dim = 2 × 4 = 8',
    });
    await assert.rejects(index.build(new Float32Array(0), { rows: 0, dim: 4 }), /rows must be an integer ≥ 1, found 0/);
    await assert.rejects(index.build(new Float32Array(4), { rows: 1, dim: 0 }), /dim must be an integer ≥ 1, found 0/);
    await assert.rejects(
      index.build(new Float64Array(4) as unknown as Float32Array, { rows: 1, dim: 4 }),
      /must be a Float32Array, found Float64Array/,
    );
    await assert.rejects(index.build(Float32Array.from([1, 2, 3, NaN]), { rows: 2, dim: 2 }), {
      message: 'data row 1, column 1 is NaN: expected finite values',
    });
    assert.equal(index.size, 0, 'a failed build leaves the index empty');
  });

  test('queries with a non-finite value are refused', async () => {
    const index = new ExactIndex({ backend: 'js' });
    await index.build(randomMatrix(3, 2, 1), { rows: 3, dim: 2 });
    await assert.rejects(index.query(Float32Array.from([0, Infinity]), { rows: 1, k: 1 }), {
      message: 'queries row 0, column 1 is Infinity: expected finite values',
    });
  });

  test('options are checked', () => {
    assert.throws(
      () => new ExactIndex({ backend: 'gpu' as 'js' }),
      /backend must be 'auto', 'js' or 'native', found gpu/,
    );
    assert.throws(() => new ExactIndex({ chunkRows: 0 }), /chunkRows must be a positive integer, found 0/);
    assert.throws(() => new ExactIndex({ rerankMargin: -1 }), /rerankMargin must be an integer ≥ 0/);
  });
});
