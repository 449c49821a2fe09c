import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../lib/engine/backend';
import { DkNN } from '../../../lib/dknn/dknn';
import { ExactIndex } from '../../../lib/knn/exact/exact';
import { NOT_BUILT_MESSAGE } from '../../../lib/knn/checks';
import { lshIndexFactory, LshIndex, type LshIndexOptions } from '../../../lib/knn/lsh/lsh';
import { crossPolytopeWasmUnavailable } from '../../../lib/native/lsh-wasm';
import { AUTO_PRESET, defaultHashBits, PAPER_PRESET, type LshParameters } from '../../../lib/knn/lsh/params';
import { Preprocessor } from '../../../lib/knn/preprocess';
import type { KnnResult } from '../../../lib/knn/types';
import { clustered } from '../helpers';
import { blobs, tinyModel } from '../dknn-fixtures';

const N = 3000;
const DIM = 48;
const Q = 100;
const K = 10;
// Overlapping clusters (spread 0.6): one table of 10 bits finds ~30 % of the true neighbors.
const { x: DATA, centers: CENTRES } = clustered(N, DIM, 30, 1, 0.6);
const { x: QUERIES } = clustered(Q, DIM, 30, 2, 0.6, CENTRES);
// Preprocessed like the DkNN layers (normalized, centered).
const PRE = new Preprocessor();
PRE.fitTransform(DATA, { rows: N, dim: DIM });
PRE.transform(QUERIES, Q);

let truthPromise: Promise<KnnResult> | null = null;
function truth(): Promise<KnnResult> {
  truthPromise ??= (async () => {
    const ex = new ExactIndex({ backend: 'js' });
    await ex.build(DATA, { rows: N, dim: DIM });
    return ex.query(QUERIES, { rows: Q, k: K });
  })();
  return truthPromise;
}

/** Fraction of the exact k nearest neighbors (as sets) that `r` found. */
async function recall(r: KnnResult): Promise<number> {
  const t = await truth();
  let hits = 0;
  for (let q = 0; q < r.rows; q++) {
    const s = new Set(t.indices.subarray(q * K, q * K + K));
    for (let i = 0; i < K; i++) if (s.has(r.indices[q * K + i])) hits++;
  }
  return hits / (r.rows * K);
}

async function built(
  params: LshParameters,
  options: LshIndexOptions = {},
  data = DATA,
  n = N,
  dim = DIM,
): Promise<LshIndex> {
  const index = new LshIndex(params, options);
  await index.build(data, { rows: n, dim });
  return index;
}

const CP: LshParameters = {
  family: 'cross-polytope',
  distance: 'euclidean-squared',
  l: 16,
  hashBits: 10,
  numRotations: 2,
  seed: 5721840,
};
const HP: LshParameters = { family: 'hyperplane', distance: 'euclidean-squared', l: 16, hashBits: 10, seed: 5721840 };

test('cross-polytope LSH: recall@10 against the exact index is above 0.9 with 16 tables of 10 bits and 32 probes', async () => {
  const index = await built(CP);
  const r = await index.query(QUERIES, { rows: Q, k: K, numProbes: 32 });
  const rec = await recall(r);
  assert.ok(rec > 0.9, `recall ${rec}`);
  const weak = await (await built({ ...CP, l: 2 })).query(QUERIES, { rows: Q, k: K });
  assert.ok((await recall(weak)) < 0.5, 'and the data are not trivial: 2 tables find far fewer');
  await index.query(QUERIES, { rows: Q, k: K });
  assert.equal(index.lastQueryStats.queries, Q);
  assert.equal(index.lastQueryStats.probes, Q * 16, 'one bucket per table');
  assert.ok(index.lastQueryStats.uniqueCandidates <= index.lastQueryStats.candidates);
});

test('hyperplane LSH with multiprobe: recall@10 above 0.9', async () => {
  const index = await built(HP);
  const r = await index.query(QUERIES, { rows: Q, k: K, numProbes: 64 });
  const rec = await recall(r);
  assert.ok(rec > 0.9, `recall ${rec}`);
});

test("neighbors found carry the exact index's distances, ascending, ties by lower index", async () => {
  const index = await built(CP);
  const r = await index.query(QUERIES, { rows: Q, k: K });
  const ex = new ExactIndex({ backend: 'js' });
  await ex.build(DATA, { rows: N, dim: DIM });
  const all = await ex.query(QUERIES, { rows: Q, k: N });
  for (let q = 0; q < Q; q++) {
    const dist = new Map<number, number>();
    for (let i = 0; i < N; i++) dist.set(all.indices[q * N + i], all.distances[q * N + i]);
    for (let i = 0; i < K; i++) {
      const id = r.indices[q * K + i];
      if (id < 0) continue;
      assert.equal(r.distances[q * K + i], dist.get(id), `query ${q}, neighbor ${i}`);
      if (i > 0) {
        const prev = r.distances[q * K + i - 1];
        assert.ok(prev < r.distances[q * K + i] || (prev === r.distances[q * K + i] && r.indices[q * K + i - 1] < id));
      }
    }
  }
});

test('the same input always lands in the same bucket: every database point finds itself at distance 0', async () => {
  const index = await built(CP);
  const h1 = index.hash(DATA.subarray(5 * DIM, 6 * DIM));
  const h2 = index.hash(Float32Array.from(DATA.subarray(5 * DIM, 6 * DIM)));
  assert.equal(h1.length, 16);
  assert.deepEqual(h1, h2);
  const r = await index.query(DATA.subarray(0, 200 * DIM), { rows: 200, k: 1 });
  for (let i = 0; i < 200; i++) {
    assert.equal(r.indices[i], i);
    assert.equal(r.distances[i], 0);
  }
});

test('hashes are deterministic for a seed and change with it', async () => {
  const p = DATA.subarray(0, DIM);
  const a = await built(CP);
  const b = await built(CP);
  assert.deepEqual(a.hash(p), b.hash(p));
  assert.deepEqual(
    (await a.query(QUERIES, { rows: Q, k: K })).indices,
    (await b.query(QUERIES, { rows: Q, k: K })).indices,
  );
  const c = await built({ ...CP, seed: 1 });
  assert.notDeepEqual(c.hash(p), a.hash(p));
  const h = await built(HP);
  assert.deepEqual(h.hash(p), (await built(HP)).hash(p));
  assert.notDeepEqual(h.hash(p), (await built({ ...HP, seed: 2 })).hash(p));
});

test('bucket keys have the resolved number of bits: cross-polytope values index + sign, hyperplane bits', async () => {
  const index = await built({
    family: 'cross-polytope',
    distance: 'euclidean-squared',
    l: 40,
    k: 2,
    lastCpDim: 4,
    seed: 3,
  });
  // d' = 64: 7 bits for the first CP, 3 for the last (lastCpDim 4) → keys < 2^10.
  assert.equal(index.resolved!.hashBits, 10);
  for (let i = 0; i < 20; i++)
    for (const key of index.hash(DATA.subarray(i * DIM, (i + 1) * DIM)))
      assert.ok(Number.isInteger(key) && key >= 0 && key < 1024);
  const h = await built({ ...HP, hashBits: 5 });
  for (const key of h.hash(QUERIES.subarray(0, DIM))) assert.ok(Number.isInteger(key) && key >= 0 && key < 32);
});

test('the JavaScript and WebAssembly kernels give identical hashes and results', async (t) => {
  const why = crossPolytopeWasmUnavailable();
  if (why) {
    t.skip(why);
    return;
  }
  for (const params of [
    CP,
    { ...CP, numRotations: 1, hashBits: 9 },
    { ...CP, k: 3, lastCpDim: 64, hashBits: undefined },
  ]) {
    const js = await built(params, { kernel: 'js' });
    const wasm = await built(params, { kernel: 'wasm' });
    assert.equal(js.kernel, 'js');
    assert.equal(wasm.kernel, 'wasm');
    for (let i = 0; i < 7; i++)
      assert.deepEqual(
        wasm.hash(QUERIES.subarray(i * DIM, (i + 1) * DIM)),
        js.hash(QUERIES.subarray(i * DIM, (i + 1) * DIM)),
      );
    const a = await js.query(QUERIES, { rows: Q, k: K, numProbes: 40 });
    const b = await wasm.query(QUERIES, { rows: Q, k: K, numProbes: 40 });
    assert.deepEqual(b.indices, a.indices);
    assert.deepEqual(b.distances, a.distances);
  }
});

test('two-pass WebAssembly re-ranking equals the one-pass JavaScript re-ranking, ties and padding included', async (t) => {
  const why = crossPolytopeWasmUnavailable();
  if (why) {
    t.skip(why);
    return;
  }
  // 10 values per row (padded to 16 in the store); many exact duplicates and near-duplicates
  // (1 ulp apart) so the k-th distance is often tied or within float32 rounding of others.
  const dim = 10;
  const n = 1200;
  const { x: base } = clustered(200, dim, 5, 7, 0.3);
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const src = (i % 200) * dim;
    for (let j = 0; j < dim; j++)
      data[i * dim + j] = i % 3 === 2 ? Math.fround(base[src + j] * (1 + 2 ** -23)) : base[src + j];
  }
  const queries = data.slice(0, 20 * dim);
  for (const distance of ['euclidean-squared', 'negative-inner-product'] as const) {
    const params: LshParameters = { ...CP, distance, l: 8, hashBits: 6 };
    const js = await built(params, { kernel: 'js' }, data, n, dim);
    const wasm = await built(params, { kernel: 'wasm' }, data, n, dim);
    assert.equal(js.rerankKernel, 'js');
    assert.equal(wasm.rerankKernel, 'wasm');
    for (const k of [1, 7, 25]) {
      const a = await js.query(queries, { rows: 20, k, numProbes: 24 });
      const b = await wasm.query(queries, { rows: 20, k, numProbes: 24 });
      assert.deepEqual(b.indices, a.indices, `${distance}, k ${k}`);
      assert.deepEqual(b.distances, a.distances, `${distance}, k ${k}`);
      const s = wasm.lastQueryStats;
      assert.ok(s.refined >= 20 * Math.min(k, s.uniqueCandidates / 20), `${distance}, k ${k}: refined ${s.refined}`);
      assert.equal(js.lastQueryStats.refined, 0);
    }
  }
  // The first pass prunes: on spread-out data most candidates never need their canonical distance.
  const index = await built(CP, { kernel: 'wasm' });
  await index.query(QUERIES, { rows: Q, k: K, numProbes: 64 });
  const s = index.lastQueryStats;
  assert.ok(s.refined < 0.5 * s.uniqueCandidates, `refined ${s.refined} of ${s.uniqueCandidates} unique candidates`);
  assert.ok(s.refined >= Q * K);
});

test('a build on worker threads gives the same hashes and results as one thread', async () => {
  for (const params of [CP, HP]) {
    const one = await built(params, { buildThreads: 1 });
    const progress: number[] = [];
    const two = await built(params, { buildThreads: 2, onBuildProgress: (d) => progress.push(d) });
    assert.equal(one.buildThreadsUsed, 1);
    assert.equal(two.buildThreadsUsed, 2);
    assert.equal(progress.at(-1), N);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i] >= progress[i - 1]);
    // Same tables: every database point finds the same buckets (same candidate counts), and the
    // same neighbors, with and without multiprobe.
    for (const numProbes of [params.l, 40]) {
      const a = await one.query(DATA, { rows: N, k: K, numProbes });
      const b = await two.query(DATA, { rows: N, k: K, numProbes });
      assert.deepEqual(b.indices, a.indices);
      assert.deepEqual(b.distances, a.distances);
      assert.equal(two.lastQueryStats.candidates, one.lastQueryStats.candidates);
      assert.equal(two.lastQueryStats.uniqueCandidates, one.lastQueryStats.uniqueCandidates);
    }
  }
  // 'auto' keeps small builds on this thread (starting workers would cost more than it saves).
  assert.equal((await built(CP)).buildThreadsUsed, 1);
  assert.throws(
    () => new LshIndex(CP, { buildThreads: 0 }),
    /buildThreads must be a positive integer or 'auto', found 0/,
  );
});

test("numProbes 'auto' tunes the probes to the recall target on the index's own points, and no fewer suffice", async () => {
  const index = await built({ ...AUTO_PRESET }, { numProbes: 'auto', tune: { recall: 0.95, k: K, sample: 150 } });
  const tuning = index.tuning!;
  assert.equal(index.resolved!.hashBits, defaultHashBits(N));
  assert.equal(tuning.reached, true);
  assert.ok(tuning.lowerBound >= 0.95 && tuning.recall > tuning.lowerBound);
  assert.equal(tuning.sample, 150);
  assert.equal(index.numProbes, tuning.numProbes);
  assert.ok(
    tuning.numProbes > index.resolved!.l,
    `tuned ${tuning.numProbes} probes: the target needs multiprobe on these data`,
  );
  // The largest failing probe count tried is within 5 % below the choice.
  const fails = tuning.curve.filter((c) => c.lowerBound < 0.95).map((c) => c.numProbes);
  assert.ok(Math.max(...fails) >= tuning.numProbes - Math.max(1, Math.ceil(0.05 * tuning.numProbes)));
  // The tuned index generalises to held-out queries.
  const held = await recall(await index.query(QUERIES, { rows: Q, k: K }));
  assert.ok(held >= 0.9, `held-out recall ${held}`);
  assert.equal(index.lastQueryStats.probes, Q * tuning.numProbes);
  assert.deepEqual((index.describe() as { tuning: unknown }).tuning, {
    targetRecall: 0.95,
    recall: tuning.recall,
    lowerBound: tuning.lowerBound,
    reached: true,
    k: K,
    sample: 150,
  });
  // Deterministic.
  const again = await built({ ...AUTO_PRESET }, { numProbes: 'auto', tune: { recall: 0.95, k: K, sample: 150 } });
  assert.deepEqual(
    again.tuning!.curve.map((c) => [c.numProbes, c.recall]),
    tuning.curve.map((c) => [c.numProbes, c.recall]),
  );
  assert.throws(
    () => new LshIndex(CP, { tune: { recall: 0.9 } }),
    /tune applies to numProbes 'auto' only, found numProbes default \(l\)/,
  );
  assert.throws(
    () => new LshIndex({ ...CP, hashBits: 'auto', k: 2 }),
    /hashBits 'auto' computes k; give one of them, found k = 2/,
  );
});

test('flat and sorted-keys storage give identical results', async () => {
  const a = await built(CP);
  const b = await built({ ...CP, storageHashTable: 'flat' });
  assert.deepEqual(
    (await b.query(QUERIES, { rows: Q, k: K, numProbes: 30 })).indices,
    (await a.query(QUERIES, { rows: Q, k: K, numProbes: 30 })).indices,
  );
});

test('multiprobe never finds fewer unique candidates than one bucket per table, and recall does not drop', async () => {
  for (const params of [CP, HP]) {
    const index = await built({ ...params, l: 4 });
    const single = index.createQuery();
    const multi = index.createQuery({ numProbes: 20 });
    assert.equal(single.numProbes, 4);
    for (let q = 0; q < Q; q++) {
      const query = QUERIES.subarray(q * DIM, (q + 1) * DIM);
      await single.query(query, { rows: 1, k: K });
      await multi.query(query, { rows: 1, k: K });
      assert.ok(
        multi.lastQueryStats.uniqueCandidates >= single.lastQueryStats.uniqueCandidates,
        `${params.family} query ${q}`,
      );
      assert.equal(multi.lastQueryStats.probes, 20);
    }
    assert.ok(
      (await recall(await multi.query(QUERIES, { rows: Q, k: K }))) >=
        (await recall(await single.query(QUERIES, { rows: Q, k: K }))),
    );
  }
});

test("the probing sequence starts with each table's own bucket, then follows FALCONN's scores", async () => {
  const point = QUERIES.subarray(0, DIM);
  const cp = await built({ ...CP, l: 5 });
  const main = cp.hash(point);
  const seq = cp.probingSequence(point, 30);
  assert.equal(seq.keys.length, 30);
  // The l main buckets (score 0) come first, in table order.
  assert.deepEqual(Array.from(seq.tables.subarray(0, 5)), [0, 1, 2, 3, 4]);
  assert.deepEqual(seq.keys.subarray(0, 5), main);
  const distinct = new Set(Array.from(seq.keys, (k, i) => `${seq.tables[i]}:${k}`));
  assert.equal(distinct.size, 30, 'no bucket is probed twice');
  assert.deepEqual(cp.probingSequence(point, 5).keys, main);

  // Hyperplane: probe l + 1 flips, in the table with the smallest |margin| overall, that one bit.
  const hp = await built({ ...HP, l: 3, hashBits: 6 });
  const hmain = hp.hash(point);
  const hseq = hp.probingSequence(point, 4);
  assert.deepEqual(hseq.keys.subarray(0, 3), hmain);
  const t = hseq.tables[3];
  const flipped = hseq.keys[3] ^ hmain[t];
  assert.equal(flipped & (flipped - 1), 0, 'exactly one bit flipped');
});

test('maxCandidates bounds the candidates taken per query', async () => {
  const index = await built(CP);
  const q = index.createQuery({ maxCandidates: 25 });
  assert.equal(q.maxCandidates, 25);
  await q.query(QUERIES, { rows: Q, k: K });
  assert.ok(q.lastQueryStats.candidates <= 25 * Q);
  assert.ok(q.lastQueryStats.uniqueCandidates <= 25 * Q);
});

test('fewer than k candidates: missing slots are −1 with distance Infinity, and are counted', async () => {
  // 1 table of 13 bits over 60 points: most buckets hold one point or none.
  const n = 60;
  const index = await built(
    { family: 'cross-polytope', distance: 'euclidean-squared', l: 1, hashBits: 13, seed: 7 },
    {},
    DATA.subarray(0, n * DIM),
    n,
    DIM,
  );
  const r = await index.query(QUERIES, { rows: Q, k: 5 });
  let missing = 0;
  let short = 0;
  for (let q = 0; q < Q; q++) {
    let rowMissing = 0;
    for (let i = 0; i < 5; i++) {
      if (r.indices[q * 5 + i] === -1) {
        rowMissing++;
        assert.equal(r.distances[q * 5 + i], Infinity);
      } else {
        assert.equal(rowMissing, 0, 'missing slots come last');
      }
    }
    missing += rowMissing;
    if (rowMissing > 0) short++;
  }
  assert.ok(missing > 0, 'the configuration leaves slots empty');
  assert.equal(index.lastQueryStats.missingNeighbors, missing);
  assert.equal(index.lastQueryStats.queriesShortOfK, short);
});

test('negative-inner-product re-ranks by −q·x', async () => {
  const index = await built({ ...CP, distance: 'negative-inner-product' });
  const r = await index.query(QUERIES.subarray(0, 5 * DIM), { rows: 5, k: 3 });
  for (let q = 0; q < 5; q++) {
    for (let i = 0; i < 3; i++) {
      const id = r.indices[q * 3 + i];
      let d = 0;
      for (let j = 0; j < DIM; j++) d += QUERIES[q * DIM + j] * DATA[id * DIM + j];
      assert.ok(Math.abs(r.distances[q * 3 + i] + d) < 1e-5);
      if (i > 0) assert.ok(r.distances[q * 3 + i] >= r.distances[q * 3 + i - 1]);
    }
  }
});

test('progress is reported while building and querying, ending at the totals', async () => {
  const built: [number, number][] = [];
  const index = new LshIndex(CP, { onBuildProgress: (d, t) => built.push([d, t]) });
  await index.build(DATA, { rows: N, dim: DIM });
  assert.deepEqual(built.at(-1), [N, N]);
  const seen: [number, number][] = [];
  await index.query(QUERIES, { rows: Q, k: K, onProgress: (d, t) => seen.push([d, t]) });
  assert.deepEqual(seen.at(-1), [Q, Q]);
  assert.ok(index.buildSeconds.total >= 0 && index.tableBytes >= 16 * N * 4);
});

test('bad arguments are refused with what was expected and what was found', async () => {
  assert.throws(() => new LshIndex({ ...CP, l: 0 }), /l must be a positive integer, found 0/);
  assert.throws(
    () => new LshIndex(CP, { numProbes: 8 }),
    /numProbes must be at least the number of tables l = 16 .*found 8/,
  );
  assert.throws(() => new LshIndex(CP, { maxCandidates: 0 }), /maxCandidates must be a positive integer .*found 0/);
  assert.throws(
    () => new LshIndex(CP, { kernel: 'gpu' as never }),
    /kernel must be 'auto', 'js' or 'wasm', found "gpu"/,
  );
  const fresh = new LshIndex(CP);
  await assert.rejects(fresh.query(QUERIES, { rows: Q, k: K }), new RegExp(NOT_BUILT_MESSAGE));
  assert.throws(() => fresh.createQuery(), new RegExp(NOT_BUILT_MESSAGE));
  await assert.rejects(fresh.build(DATA, { rows: N, dim: DIM + 1 }), /data has \d+ values, expected rows × dim/);
  const bad = DATA.slice(0, 10 * DIM);
  bad[3 * DIM + 2] = NaN;
  await assert.rejects(fresh.build(bad, { rows: 10, dim: DIM }), /data row 3, column 2 is NaN/);
  const index = await built(CP);
  await assert.rejects(index.query(QUERIES.subarray(0, 2 * DIM - 1), { rows: 2, k: K }), /dimension mismatch/);
  await assert.rejects(index.query(QUERIES, { rows: Q, k: 0 }), /k must be a positive integer, found 0/);
  await assert.rejects(index.query(QUERIES, { rows: Q, k: N + 1 }), /exceeds the 3000 rows/);
  await assert.rejects(
    index.query(QUERIES, { rows: Q, k: K, numProbes: 3 }),
    /numProbes must be at least the number of tables l = 16/,
  );
  assert.throws(() => index.hash(new Float32Array(DIM + 1)), /dimension mismatch/);
  const q = index.createQuery();
  assert.throws(() => (q.numProbes = 2), /found 2/);
  assert.throws(() => lshIndexFactory({ parameters: { ...CP, family: 'x' as never } }), /family must be/);
  await assert.rejects(
    new LshIndex({ ...CP, hashBits: undefined, k: 2, lastCpDim: 128 }).build(DATA, { rows: N, dim: DIM }),
    /lastCpDim must be at most the rotation dimension 64 .*found 128/,
  );
});

// ---- DkNN integration ----

test('DkNN with an LSH factory: info() records the index and its per-layer parameters; missing neighbors never vote', async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
  const model = tinyModel(3);
  // Many bits, one table: buckets are small, so some of the k = 8 slots stay empty.
  const factory = lshIndexFactory({
    parameters: { family: 'cross-polytope', distance: 'euclidean-squared', l: 2, hashBits: 7, seed: 11 },
    numProbes: 2,
  });
  const dknn = new DkNN(model, {
    layers: ['flat', 'hidden', 'logits'],
    k: 8,
    index: factory,
    cacheDir: false,
    formula: 'conformal',
  });
  await dknn.fit(blobs(90, 1));
  await dknn.calibrate(blobs(30, 2));
  const out = await dknn.predict(blobs(40, 3));
  let minus = 0;
  for (const nb of out.neighbors) for (const i of nb.indices) if (i === -1) minus++;
  assert.ok(minus > 0, 'the configuration leaves slots empty');
  assert.equal(out.missingNeighbors, minus);
  for (let r = 0; r < out.n; r++) {
    let votes = 0;
    for (let j = 0; j < 3; j++) votes += out.knnCounts[r * 3 + j];
    let rowMissing = 0;
    for (const nb of out.neighbors) for (let i = 0; i < 8; i++) if (nb.indices[r * 8 + i] === -1) rowMissing++;
    assert.equal(votes, 3 * 8 - rowMissing, `row ${r}: a missing neighbor votes for no class`);
  }
  const info = dknn.info();
  assert.equal(info.index, 'lsh');
  assert.deepEqual(info.indexParameters, {
    name: 'lsh',
    parameters: { family: 'cross-polytope', distance: 'euclidean-squared', l: 2, hashBits: 7, seed: 11 },
    numProbes: 2,
    maxCandidates: null,
    kernel: 'auto',
  });
  const perLayer = info.indexLayers.map(
    (d) => (d as { parameters: { dim: number; k: number; lastCpDim: number } }).parameters,
  );
  // flat 16 → d' 16, 5 bits per CP: 7 = 5 + 2 → k 2, lastCpDim 2; hidden 8 → 4 bits: 7 = 4 + 3 → k 2, lastCpDim 4; logits 3 → d' 4, 3 bits: 7 = 3 + 3 + 1 → k 3, lastCpDim 1.
  assert.deepEqual(
    perLayer.map((p) => [p.dim, p.k, p.lastCpDim]),
    [
      [16, 2, 2],
      [8, 2, 4],
      [3, 3, 1],
    ],
  );
  assert.ok(info.indexBackend === 'wasm' || info.indexBackend === 'js');
  model.dispose();
});

test('PAPER_PRESET builds through the factory on a 3,200-dimensional layer shape', async () => {
  const n = 200;
  const dim = 3200;
  const { x } = clustered(n, dim, 5, 9);
  const index = lshIndexFactory({ parameters: PAPER_PRESET }).create() as LshIndex;
  await index.build(x, { rows: n, dim });
  assert.deepEqual([index.resolved!.k, index.resolved!.lastCpDim, index.resolved!.rotationDim], [2, 8, 4096]);
  const r = await index.query(x.subarray(0, 3 * dim), { rows: 3, k: 5 });
  assert.deepEqual([r.indices[0], r.indices[5], r.indices[10]], [0, 1, 2]);
});
