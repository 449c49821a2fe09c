import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fht, isPowerOfTwo } from '../../../lib/knn/lsh/fht';
import { crossPolytopeWasmUnavailable, instantiateCrossPolytopeWasm } from '../../../lib/native/lsh-wasm';
import { uniform } from '../helpers';

/** Naive Hadamard product in float64: out[i] = Σ_j (−1)^popcount(i & j) x[j]. */
function naiveHadamard(x: ArrayLike<number>): number[] {
  const n = x.length;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      let b = i & j;
      let parity = 0;
      while (b) {
        parity ^= b & 1;
        b >>= 1;
      }
      s += parity ? -x[j] : x[j];
    }
    out.push(s);
  }
  return out;
}

function randomVector(n: number, seed: number): Float32Array {
  const u = uniform(seed);
  return Float32Array.from({ length: n }, () => 2 * u() - 1);
}

test('fht of [1, 2, 3, 4] is [10, −2, −4, 0] (hand-computed H4·x)', () => {
  assert.deepEqual(Array.from(fht(Float32Array.of(1, 2, 3, 4))), [10, -2, -4, 0]);
  assert.deepEqual(Array.from(fht(Float32Array.of(1, 0, 0, 0, 0, 0, 0, 0))), [1, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(fht(Float32Array.of(7))), [7]);
});

test('fht equals the naive Hadamard product for every length 1 … 256 (odd and even stage counts)', () => {
  for (let n = 1; n <= 256; n *= 2) {
    // Small integers: every intermediate is exact in float32, so equality is exact.
    const u = uniform(n);
    const x = Float32Array.from({ length: n }, () => Math.floor(u() * 17) - 8);
    assert.deepEqual(Array.from(fht(x.slice())), naiveHadamard(x), `n = ${n}`);
  }
});

test('fht/√n is orthogonal: norms are preserved after normalization', () => {
  for (const n of [2, 32, 1024, 4096]) {
    const x = randomVector(n, n + 1);
    const y = fht(x.slice());
    let nx = 0;
    let ny = 0;
    for (let i = 0; i < n; i++) {
      nx += x[i] * x[i];
      ny += (y[i] / Math.sqrt(n)) ** 2;
    }
    assert.ok(Math.abs(ny - nx) <= 1e-5 * nx, `n = ${n}: ${ny} vs ${nx}`);
  }
});

test('applying fht twice multiplies by n (H·H = n·I)', () => {
  const ints = Float32Array.from({ length: 64 }, (_, i) => ((i * 7) % 13) - 6);
  assert.deepEqual(
    Array.from(fht(fht(ints.slice()))),
    Array.from(ints, (v) => v * 64),
    'exact on small integers',
  );
  const x = randomVector(2048, 9);
  const y = fht(fht(x.slice()));
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(y[i] / 2048 - x[i]) < 1e-5, `coordinate ${i}`);
});

test('fht works in place on a sub-range and leaves the rest alone', () => {
  const a = Float32Array.of(9, 1, 2, 3, 4, 9);
  fht(a, 1, 4);
  assert.deepEqual(Array.from(a), [9, 10, -2, -4, 0, 9]);
});

test('fht refuses lengths that are not powers of two and ranges outside the array', () => {
  assert.throws(() => fht(new Float32Array(6)), /power of two, found 6/);
  assert.throws(() => fht(new Float32Array(0)), /power of two, found 0/);
  assert.throws(() => fht(new Float32Array(4), 2, 4), /range 2 … 6 does not fit in an array of 4 values/);
  assert.ok(isPowerOfTwo(1) && isPowerOfTwo(4096) && !isPowerOfTwo(3200) && !isPowerOfTwo(0));
});

test('the WebAssembly SIMD kernel computes bit-identical FHTs, 4 interleaved vectors at a time', (t) => {
  const why = crossPolytopeWasmUnavailable();
  if (why) {
    t.skip(why);
    return;
  }
  for (let n = 1; n <= 4096; n *= 2) {
    const w = instantiateCrossPolytopeWasm(16 * n);
    const f32 = new Float32Array(w.memory.buffer);
    const vecs = [0, 1, 2, 3].map((lane) => randomVector(n, 100 * n + lane));
    for (let j = 0; j < n; j++) for (let lane = 0; lane < 4; lane++) f32[4 * j + lane] = vecs[lane][j];
    w.fn.fht(0, n);
    for (let lane = 0; lane < 4; lane++) {
      const want = fht(vecs[lane].slice());
      for (let j = 0; j < n; j++) assert.equal(f32[4 * j + lane], want[j], `n = ${n}, lane ${lane}, coordinate ${j}`);
    }
  }
});

test('the SIMD kernel: signFold gives the first m coordinates of signFht; decode finds the first largest |x| and its sign', (t) => {
  const why = crossPolytopeWasmUnavailable();
  if (why) {
    t.skip(why);
    return;
  }
  const n = 256;
  const m = 8;
  const SRC = 0,
    DST = 16 * n,
    FOLD = 32 * n,
    SIGNS = 48 * n,
    OUT = 52 * n;
  const w = instantiateCrossPolytopeWasm(OUT + 64);
  const f32 = new Float32Array(w.memory.buffer);
  const i32 = new Int32Array(w.memory.buffer);
  const u = uniform(5);
  for (let j = 0; j < 4 * n; j++) f32[SRC / 4 + j] = 2 * u() - 1;
  for (let j = 0; j < n; j++) f32[SIGNS / 4 + j] = u() < 0.5 ? -1 : 1;
  w.fn.signFht(SRC, DST, SIGNS, n);
  w.fn.signFold(SRC, FOLD, SIGNS, m, n);
  for (let i = 0; i < m; i++) {
    for (let lane = 0; lane < 4; lane++) {
      assert.ok(
        Math.abs(f32[FOLD / 4 + 4 * i + lane] - f32[DST / 4 + 4 * i + lane]) < 1e-4,
        `coordinate ${i}, lane ${lane}`,
      );
    }
  }
  // decode: lane 0 max +3 at 2; lane 1 max −3 at 1 (index 1 + dim); lane 2 ties |−2| at 0 and 2 at 3 → first (0, negative);
  // lane 3 all zeros → 0.
  const rows = [
    [1, -2, 3, 0],
    [0, -3, 2, 1],
    [-2, 1, 0, 2],
    [0, 0, 0, 0],
  ];
  for (let lane = 0; lane < 4; lane++) for (let j = 0; j < 4; j++) f32[SRC / 4 + 4 * j + lane] = rows[lane][j];
  w.fn.decode(SRC, 4, OUT);
  assert.deepEqual(Array.from(i32.subarray(OUT / 4, OUT / 4 + 4)), [2, 5, 4, 0]);
});
