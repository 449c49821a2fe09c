import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dotErrorBound, dotWasmUnavailable, paddedStride, WasmRowStore } from '../../lib/native/dot-wasm';
import { dot, rowSquaredNorms } from '../../lib/knn/kernel';
import { randomMatrix, uniform } from '../knn/helpers';

const why = dotWasmUnavailable();

test(
  'dot-product kernel: float32 dots of gathered rows stay within the proven bound of the canonical ones',
  { skip: why ?? false },
  () => {
    for (const dim of [1, 10, 16, 17, 100, 513]) {
      const rows = 300;
      const data = randomMatrix(rows, dim, dim);
      const queries = randomMatrix(3, dim, 1000 + dim);
      const store = new WasmRowStore(data, rows, dim);
      assert.equal(store.stride, paddedStride(dim));
      assert.equal(store.stride % 16, 0);
      const norms = rowSquaredNorms(data, rows, dim);
      const qNorms = rowSquaredNorms(queries, 3, dim);
      const u = uniform(dim);
      // Ids in any order, with repeats.
      const ids = Int32Array.from({ length: rows }, () => Math.floor(u() * rows));
      // Counts that fill whole groups of 4 rows and counts that leave 1–3 rows over.
      for (const [q, count] of [
        [0, ids.length],
        [1, 299],
        [2, 3],
        [0, 1],
        [1, 6],
      ] as const) {
        const got = Array.from(store.dots(queries, q * dim, ids, count).subarray(0, count));
        assert.equal(got.length, count);
        let worst = 0;
        for (let c = 0; c < count; c++) {
          const exact = dot(queries, q * dim, data, ids[c] * dim, dim);
          const bound = dotErrorBound(store.stride, dim, qNorms[q], norms[ids[c]]);
          assert.ok(
            Math.abs(got[c] - exact) <= bound,
            `dim ${dim}, query ${q}, id ${ids[c]}: |${got[c]} − ${exact}| > ${bound}`,
          );
          // The bound is useful: far below the scale of the values.
          assert.ok(bound < 1e-4 * Math.sqrt(qNorms[q] * norms[ids[c]]) + 1e-300);
          worst = Math.max(worst, Math.abs(got[c] - exact));
        }
        // float32 arithmetic really happened (not a float64 copy of the canonical value) for longer rows.
        if (dim >= 100) assert.ok(worst > 0, `dim ${dim}: float32 dots equal the float64 ones exactly`);
      }
      // Stored rows equal the input; padding is zero.
      for (const i of [0, rows - 1]) {
        assert.deepEqual(
          Array.from(store.values.subarray(store.offset(i), store.offset(i) + dim)),
          Array.from(data.subarray(i * dim, (i + 1) * dim)),
        );
        for (let j = dim; j < store.stride; j++) assert.equal(store.values[store.offset(i) + j], 0);
      }
    }
  },
);

test('dot-product kernel: more ids than rows is refused', { skip: why ?? false }, () => {
  const store = new WasmRowStore(randomMatrix(4, 3, 1), 4, 3);
  assert.throws(
    () => store.dots(new Float32Array(3), 0, new Int32Array(5), 5),
    /at most 4 ids per call \(the rows stored\), found 5/,
  );
});

test('dot-product kernel: a store over 4 GiB is refused before anything is copied', { skip: why ?? false }, () => {
  assert.throws(
    () => new WasmRowStore(new Float32Array(16), 70000, 16384),
    /70000 rows × 16384 values need \d+ bytes, more than a WebAssembly memory's 4 GiB/,
  );
});

/**
 * The kernel's float32 sum in JavaScript (Math.fround after every product and addition: float64
 * holds a product of two float32 exactly and rounds a sum of two float32 to the same float32):
 * `accs` accumulators of 4 lanes, value j + 4a + l of each step of 4·accs values in lane l of
 * accumulator a; then the accumulators pairwise ((a0 + a2) + (a1 + a3), or a0 + a1), then the
 * lanes as (l0 + l1) + (l2 + l3).
 */
function emulatedDot(q: Float32Array, x: Float32Array, x0: number, stride: number, accs: number): number {
  const f = Math.fround;
  const acc = Array.from({ length: accs }, () => [0, 0, 0, 0]);
  for (let j = 0; j < stride; j += 4 * accs)
    for (let a = 0; a < accs; a++)
      for (let l = 0; l < 4; l++) acc[a][l] = f(acc[a][l] + f(q[j + 4 * a + l] * x[x0 + j + 4 * a + l]));
  const lanes =
    accs === 4
      ? [0, 1, 2, 3].map((l) => f(f(acc[0][l] + acc[2][l]) + f(acc[1][l] + acc[3][l])))
      : [0, 1, 2, 3].map((l) => f(acc[0][l] + acc[1][l]));
  return f(f(lanes[0] + lanes[1]) + f(lanes[2] + lanes[3]));
}

test(
  'dot-product kernel: the float32 sums follow the documented order bit for bit (groups of 4 rows, then single rows)',
  { skip: why ?? false },
  () => {
    for (const dim of [16, 45, 700]) {
      const rows = 40;
      const store = new WasmRowStore(randomMatrix(rows, dim, 7 + dim), rows, dim);
      const query = randomMatrix(1, dim, 8 + dim);
      const q = new Float32Array(store.stride);
      q.set(query);
      const u = uniform(9 + dim);
      const ids = Int32Array.from({ length: 23 }, () => Math.floor(u() * rows));
      const got = store.dots(query, 0, ids, ids.length);
      for (let c = 0; c < ids.length; c++) {
        const want = emulatedDot(q, store.values, store.offset(ids[c]), store.stride, c < 20 ? 2 : 4);
        assert.ok(Object.is(got[c], want), `dim ${dim}, candidate ${c}: ${got[c]} vs ${want}`);
      }
    }
  },
);
