import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkLshParameters,
  computeNumberOfHashFunctions,
  crossPolytopeHashBits,
  defaultLshParameters,
  log2Ceil,
  nextPowerOfTwo,
  PAPER_PRESET,
  resolveLshParameters,
  type LshParameters,
} from '../../../lib/knn/lsh/params';

const CP = { family: 'cross-polytope' } as const;

test('nextPowerOfTwo and log2Ceil match FALCONN find_next_power_of_two / log2ceil', () => {
  assert.deepEqual([1, 2, 3, 5, 10, 128, 3200, 12544].map(nextPowerOfTwo), [1, 2, 4, 8, 16, 128, 4096, 16384]);
  assert.deepEqual([1, 2, 3, 8, 9, 4096, 16384].map(log2Ceil), [0, 1, 2, 3, 4, 12, 14]);
});

test('computeNumberOfHashFunctions gives the hand-computed k and lastCpDim for 17 bits on the four DkNN layers', () => {
  // d' = 4096: a full cross-polytope gives log2(2·4096) = 13 bits; 17 = 13 + 4 → one more CP of dimension 2^(4−1) = 8.
  const r3 = computeNumberOfHashFunctions(17, 3200, CP);
  assert.equal(r3.k, 2);
  assert.equal(r3.lastCpDim, 8);
  assert.equal(r3.hashBits, 17);
  // d' = 16384: 15 bits per CP; 17 = 15 + 2 → lastCpDim 2.
  assert.deepEqual(
    [computeNumberOfHashFunctions(17, 12544, CP).k, computeNumberOfHashFunctions(17, 12544, CP).lastCpDim],
    [2, 2],
  );
  // d' = 128: 8 bits per CP; 17 = 8 + 8 + 1 → k 3, lastCpDim 2^0 = 1.
  assert.deepEqual(
    [computeNumberOfHashFunctions(17, 128, CP).k, computeNumberOfHashFunctions(17, 128, CP).lastCpDim],
    [3, 1],
  );
  // d' = 16: 5 bits per CP; 17 = 5·3 + 2 → k 4, lastCpDim 2.
  assert.deepEqual(
    [computeNumberOfHashFunctions(17, 10, CP).k, computeNumberOfHashFunctions(17, 10, CP).lastCpDim],
    [4, 2],
  );
});

test('computeNumberOfHashFunctions: exact multiples keep a full last cross-polytope; fewer bits than one CP give k = 1', () => {
  const full = computeNumberOfHashFunctions(26, 4096, CP);
  assert.deepEqual([full.k, full.lastCpDim], [2, 4096]);
  const small = computeNumberOfHashFunctions(5, 3200, CP);
  assert.deepEqual([small.k, small.lastCpDim], [1, 16]);
  const one = computeNumberOfHashFunctions(1, 3200, CP);
  assert.deepEqual([one.k, one.lastCpDim], [1, 1]);
});

test('computeNumberOfHashFunctions: hyperplane takes one hash function per bit, and keeps the other fields', () => {
  const r = computeNumberOfHashFunctions(17, 3200, { family: 'hyperplane' as const, l: 7 });
  assert.equal(r.k, 17);
  assert.equal(r.l, 7);
});

test('crossPolytopeHashBits inverts computeNumberOfHashFunctions (FALCONN compute_number_of_hash_bits)', () => {
  for (const dim of [1, 3, 10, 128, 3200, 12544]) {
    for (let bits = 1; bits <= 40; bits++) {
      const r = computeNumberOfHashFunctions(bits, dim, CP);
      assert.equal(crossPolytopeHashBits(nextPowerOfTwo(dim), r.k, r.lastCpDim), bits, `dim ${dim}, bits ${bits}`);
    }
  }
});

test('defaultLshParameters follows FALCONN get_default_parameters: l = 10, 2^(bits+2) ≤ n, 1 rotation for dense data', () => {
  const p = defaultLshParameters(60000, 3200);
  // 2^16 = 65536 > 60000 ≥ 2^15 → 14 bits; 14 = 13 + 1 → k 2, lastCpDim 1.
  assert.deepEqual(
    {
      family: p.family,
      distance: p.distance,
      l: p.l,
      hashBits: p.hashBits,
      k: p.k,
      lastCpDim: p.lastCpDim,
      numRotations: p.numRotations,
      seed: p.seed,
    },
    {
      family: 'cross-polytope',
      distance: 'euclidean-squared',
      l: 10,
      hashBits: 14,
      k: 2,
      lastCpDim: 1,
      numRotations: 1,
      seed: 409556018,
    },
  );
  assert.equal(defaultLshParameters(60000, 3200, { sufficientlyDense: false }).numRotations, 2);
  // bits starts at 1 and grows while 2^(bits + 2) ≤ n: n < 8 → 1, 8 … 15 → 2, 16 … 31 → 3.
  assert.deepEqual(
    [1, 7, 8, 15, 16, 31, 32].map((n) => defaultLshParameters(n, 5).hashBits),
    [1, 1, 2, 2, 3, 3, 4],
  );
  assert.equal(
    defaultLshParameters(60000, 3200, { distance: 'negative-inner-product', seed: 3 }).distance,
    'negative-inner-product',
  );
});

test("PAPER_PRESET is the reference DkNN's FALCONN configuration and resolves per layer", () => {
  assert.deepEqual(
    { ...PAPER_PRESET },
    { family: 'cross-polytope', distance: 'euclidean-squared', l: 200, hashBits: 17, numRotations: 2, seed: 5721840 },
  );
  assert.ok(Object.isFrozen(PAPER_PRESET));
  const r = resolveLshParameters(PAPER_PRESET, 3200);
  assert.deepEqual(
    {
      k: r.k,
      lastCpDim: r.lastCpDim,
      rotationDim: r.rotationDim,
      hashBits: r.hashBits,
      l: r.l,
      numRotations: r.numRotations,
      storage: r.storageHashTable,
    },
    { k: 2, lastCpDim: 8, rotationDim: 4096, hashBits: 17, l: 200, numRotations: 2, storage: 'sorted-keys' },
  );
});

test("resolveLshParameters fills defaults: a full last cross-polytope, 1 rotation, FALCONN's seed", () => {
  const r = resolveLshParameters({ family: 'cross-polytope', distance: 'euclidean-squared', l: 3, k: 2 }, 100);
  assert.deepEqual([r.lastCpDim, r.numRotations, r.seed, r.hashBits], [128, 1, 409556018, 16]);
  const h = resolveLshParameters({ family: 'hyperplane', distance: 'euclidean-squared', l: 3, hashBits: 12 }, 100);
  assert.deepEqual([h.k, h.lastCpDim, h.numRotations, h.rotationDim], [12, 0, 0, 100]);
});

test('invalid parameters are refused with what was expected and what was found', () => {
  const base: LshParameters = { family: 'cross-polytope', distance: 'euclidean-squared', l: 10, k: 2 };
  const bad = (p: Partial<LshParameters> & Record<string, unknown>, dim: number, re: RegExp) =>
    assert.throws(() => resolveLshParameters({ ...base, ...p } as LshParameters, dim), re);
  bad({ l: 0 }, 8, /l must be a positive integer, found 0/);
  bad({ family: 'polytope' as never }, 8, /family must be 'cross-polytope' or 'hyperplane', found "polytope"/);
  bad({ distance: 'cosine' as never }, 8, /distance must be .*found "cosine"/);
  bad({ k: 0 }, 8, /k must be a positive integer, found 0/);
  bad({ k: undefined }, 8, /expected k .* or hashBits .*found neither/);
  bad({ lastCpDim: 16 }, 8, /lastCpDim must be at most the rotation dimension 8 .*found 16/);
  bad({ numRotations: 0 }, 8, /numRotations must be a positive integer, found 0/);
  bad({ hashBits: 9 }, 8, /give 8 bits per table, but hashBits = 9/);
  bad({ k: undefined, lastCpDim: 4, hashBits: 6 }, 8, /give k with it, found lastCpDim = 4 without k/);
  bad({ family: 'hyperplane', numRotations: 2 }, 8, /numRotations applies to the cross-polytope family only/);
  bad({ k: 5 }, 4096, /at most 52 bits per table .*found 65/);
  bad({ storageHashTable: 'flat', k: 2 }, 4096, /'flat' holds at most 24 bits per table, found 26/);
  bad({ storageHashTable: 'hash' as never }, 8, /storageHashTable must be 'sorted-keys' or 'flat', found "hash"/);
  bad({ seed: 1.5 }, 8, /seed must be a safe integer, found 1.5/);
  assert.throws(() => resolveLshParameters(base, 0), /dim must be a positive integer, found 0/);
  assert.throws(() => computeNumberOfHashFunctions(0, 10, CP), /bits must be a positive integer, found 0/);
  assert.throws(() => computeNumberOfHashFunctions(53, 10, CP), /bits must be at most 52 .*found 53/);
  assert.throws(() => checkLshParameters(null as never), /must be an object, found null/);
});
