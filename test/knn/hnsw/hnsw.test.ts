import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ExactIndex } from '../../../lib/knn/exact/exact';
import { NOT_BUILT_MESSAGE } from '../../../lib/knn/checks';
import { HNSW_DEFAULTS, HnswIndex, hnswIndexFactory, hnswUnavailable } from '../../../lib/knn/hnsw/hnsw';
import { Preprocessor } from '../../../lib/knn/preprocess';
import { clustered } from '../helpers';

const N = 3000;
const DIM = 48;
const Q = 100;
const K = 10;
const { x: DATA, centers } = clustered(N, DIM, 30, 1, 0.6);
const { x: QUERIES } = clustered(Q, DIM, 30, 2, 0.6, centers);
const pre = new Preprocessor();
pre.fitTransform(DATA, { rows: N, dim: DIM });
pre.transform(QUERIES, Q);

function skipWithout(t: TestContext): boolean {
  const why = hnswUnavailable();
  if (why) t.skip(`hnswlib-node unavailable: ${why}`);
  return why !== null;
}

test('HNSW: recall@10 against the exact index is above 0.95 (hnswlib defaults, efSearch 128)', async (t) => {
  if (skipWithout(t)) return;
  const index = new HnswIndex();
  await index.build(DATA, { rows: N, dim: DIM });
  assert.equal(index.backend, 'hnswlib');
  const r = await index.query(QUERIES, { rows: Q, k: K });
  const ex = new ExactIndex({ backend: 'js' });
  await ex.build(DATA, { rows: N, dim: DIM });
  const truth = await ex.query(QUERIES, { rows: Q, k: K });
  let hits = 0;
  for (let q = 0; q < Q; q++) {
    const s = new Set(truth.indices.subarray(q * K, q * K + K));
    for (let i = 0; i < K; i++) if (s.has(r.indices[q * K + i])) hits++;
  }
  assert.ok(hits / (Q * K) > 0.95, `recall ${hits / (Q * K)}`);
  // Found neighbors carry the exact index's distances, ascending.
  const all = await ex.query(QUERIES.subarray(0, 5 * DIM), { rows: 5, k: N });
  for (let q = 0; q < 5; q++) {
    for (let i = 0; i < K; i++) {
      const id = r.indices[q * K + i];
      const pos = all.indices.subarray(q * N, (q + 1) * N).indexOf(id);
      assert.equal(r.distances[q * K + i], all.distances[q * N + pos]);
      if (i > 0) assert.ok(r.distances[q * K + i] >= r.distances[q * K + i - 1]);
    }
  }
  assert.equal(index.lastQueryStats.queriesShortOfK, 0);
});

test('HNSW is deterministic for a seed', async (t) => {
  if (skipWithout(t)) return;
  const run = async () => {
    const index = new HnswIndex({ m: 8, efConstruction: 50, efSearch: 20, seed: 7 });
    await index.build(DATA.subarray(0, 1000 * DIM), { rows: 1000, dim: DIM });
    return (await index.query(QUERIES, { rows: Q, k: K })).indices;
  };
  assert.deepEqual(await run(), await run());
});

test('HNSW parameters, factory description and errors', async (t) => {
  assert.deepEqual({ ...new HnswIndex().parameters }, { m: 16, efConstruction: 200, efSearch: 128, seed: 100 });
  assert.deepEqual({ ...HNSW_DEFAULTS }, { m: 16, efConstruction: 200, efSearch: 128, seed: 100 });
  assert.throws(() => new HnswIndex({ m: 1 }), /m must be at least 2, found 1/);
  assert.throws(() => new HnswIndex({ efSearch: 0 }), /efSearch must be a positive integer, found 0/);
  assert.throws(
    () => hnswIndexFactory({ parameters: { efConstruction: 2.5 } }),
    /efConstruction must be a positive integer, found 2.5/,
  );
  const f = hnswIndexFactory({ parameters: { m: 12 } });
  assert.equal(f.name, 'hnsw');
  assert.deepEqual(f.describe!(), {
    name: 'hnsw',
    library: 'hnswlib-node',
    parameters: { m: 12, efConstruction: 200, efSearch: 128, seed: 100 },
  });
  const fresh = new HnswIndex();
  await assert.rejects(fresh.query(QUERIES, { rows: Q, k: K }), new RegExp(NOT_BUILT_MESSAGE));
  if (skipWithout(t)) return;
  const index = f.create();
  await index.build(DATA.subarray(0, 200 * DIM), { rows: 200, dim: DIM });
  await assert.rejects(index.query(QUERIES.subarray(0, DIM + 1), { rows: 1, k: K }), /dimension mismatch/);
  await assert.rejects(index.query(QUERIES, { rows: Q, k: 0 }), /k must be a positive integer, found 0/);
});
